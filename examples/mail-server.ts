/**
 * One process serving SMTP (STARTTLS on 25 and 587, implicit TLS on 465), POP3 (STLS on 110, 995), IMAP
 * (STARTTLS on 143, 993) and HTTPS (443), with the certificate for each name chosen by SNI from a mailtls
 * store, and hot reload: installing a new certificate into the store is served to the next connection.
 *
 * It answers just enough of each protocol for real clients (curl, openssl s_client, nodemailer, imapflow)
 * to greet, start TLS, log in and quit. Any login is accepted: it is a TLS demonstration, not a mail server.
 *
 *   node build/examples/mail-server.js --store DIR [--host 127.0.0.1] [--base-port 20000] [--default DOMAIN]
 *
 * listens on base+25, base+465, base+587, base+110, base+995, base+143, base+993 and base+443 (`--base-port 0`
 * picks free ports), prints one line `ready {...}` with the ports as JSON, a line `reloaded {...}` after each
 * hot reload, and stops cleanly on SIGTERM or SIGINT (SIGHUP reloads at once).
 *
 * It listens at once, whatever the size of the store: only the default domain is loaded before (`--default`,
 * else the store's first domain by name). Any other name is looked up in the store when a ClientHello first
 * asks for it, served from then on, and checked for a new version every `--poll-ms` (a line `loaded {...}`
 * per domain loaded, with the number loaded on demand so far). `--eager` loads and watches every domain
 * before it listens instead, which takes minutes with thousands of domains. `--max-contexts N` keeps at most
 * N TLS contexts built (default 1000; the least recently used are dropped and rebuilt when asked for again; 0
 * keeps every one): a context holds about 26 KiB of OpenSSL memory, so 10,000 domains served would hold about
 * 260 MB without a bound.
 *
 * The store's TLS settings (`settings/tls.json`, edited by `mailtls admin` or `saveTLSSettings`) say which
 * services run, whether STARTTLS is offered or required, and each service's TLS profile, per domain: the
 * profile of the domain a client names in SNI is applied to its handshake (two domains on one port can have
 * different minimum versions), and a domain that turns a service off is refused on that port. A new revision
 * is applied without a restart: a service turned on starts listening (`listening {...}`), one turned off stops
 * (`closed {...}`), and a line `settings {...}` gives the revision and the ports in service.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { parseArgs } from 'node:util';
import {
  CertificateStore,
  type Credential,
  type CredentialWatcher,
  createPeekingHTTPSServer,
  createPeekingTLSServer,
  createSettingsContextSource,
  createSNIRegistry,
  formatStartTLSReply,
  loadTLSSettings,
  PORTS,
  type SNIRegistry,
  type StartTLSProtocol,
  type TLSContextSource,
  upgradeToTLS,
  watchCredentials,
  watchTLSSettings,
} from 'mailtls/node';
import { getTLSProfile, type TLSProfileName } from 'mailtls/profile';
import {
  enabledServices,
  type MailService,
  resolveDomainTLSSettings,
  type TLSSettings,
} from 'mailtls/settings';

type Port = keyof typeof PORTS;
const PORT_NAMES: Record<Port, string> = {
  25: 'smtp',
  587: 'submission',
  465: 'smtps',
  110: 'pop3',
  995: 'pop3s',
  143: 'imap',
  993: 'imaps',
  443: 'https',
};
const MAX_LINE = 8192;
const IDLE_MS = 60_000;

// ---------------------------------------------------------------------------------------------------------
// Arguments

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'base-port': { type: 'string', default: '0' },
    default: { type: 'string' },
    'poll-ms': { type: 'string', default: '2000' },
    eager: { type: 'boolean', default: false },
    'max-contexts': { type: 'string' },
  },
});
if (values.store === undefined) {
  console.error(
    'usage: mail-server --store DIR [--host 127.0.0.1] [--base-port N] [--default DOMAIN] [--poll-ms N] ' +
      '[--eager] [--max-contexts N]',
  );
  process.exit(2);
}
const storeDir = values.store;
const host = values.host;
const basePort = Number(values['base-port']);
if (!Number.isInteger(basePort) || basePort < 0 || basePort + 993 > 65535) {
  console.error('--base-port must be 0 (free ports) or an integer from 1 to 64542');
  process.exit(2);
}
const pollMs = Number(values['poll-ms']);
const maxContexts = Number(values['max-contexts'] ?? 1000);
if (!(Number.isInteger(maxContexts) && maxContexts >= 0)) {
  console.error('--max-contexts must be an integer: 0 (no bound) or the most TLS contexts kept');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------
// Certificates. The default domain is loaded and watched (fs.watch and a poll) before the ports open; every
// other domain is loaded when a client first asks for one of its names (the watcher's 'on-demand' mode), or
// with --eager all of them are loaded and watched before the ports open.

const store = new CertificateStore(storeDir);
const eager = values.eager === true;
// The store's first domain by name: found without checking every domain of a large store.
const foundDefault = values.default ?? (await store.list({ limit: 1 }))[0];
if (foundDefault === undefined) {
  console.error(`the store ${storeDir} holds no certificate: install one first (mailtls store install)`);
  process.exit(1);
}
const defaultDomain: string = foundDefault;
let first: Credential;
try {
  first = await store.load(defaultDomain);
} catch (e) {
  console.error(`cannot load the default domain ${defaultDomain}: ${(e as Error).message}`);
  process.exit(1);
}
let settings: TLSSettings = await loadTLSSettings(storeDir);
const pollEvery = pollMs > 0 ? pollMs : 2000;

// One SNI registry per TLS profile in use (a profile is fixed per registry), each kept current by the
// library's watcher: on demand, a name no registry serves yet is looked up in the store when a ClientHello
// first asks for it (the name, its wildcard, its parents), checked and registered before the handshake goes on;
// with --eager every domain is loaded first. The default domain is watched with fs.watch and a version poll,
// the others with the poll; a new pair is checked in full before it is swapped in, and a refused one keeps the
// old pair serving. A certificate is registered under each DNS name it covers.
const namesOf = new Map<string, readonly string[]>();
/** The domains whose certificates carry each name, earliest first: a handshake's lookup is one map read. */
const domainsOfName = new Map<string, string[]>();
/** Records the names a domain's certificate serves now (a reload may add and drop names; none: removed). */
function recordNames(domain: string, names: readonly string[]): void {
  for (const n of namesOf.get(domain) ?? []) {
    if (names.includes(n)) continue; // still served: the domain keeps its place
    const left = domainsOfName.get(n)?.filter((d) => d !== domain) ?? [];
    if (left.length === 0) domainsOfName.delete(n);
    else domainsOfName.set(n, left);
  }
  if (names.length === 0) namesOf.delete(domain);
  else namesOf.set(domain, names);
  for (const n of names) {
    const claimants = domainsOfName.get(n) ?? [];
    if (!claimants.includes(domain)) domainsOfName.set(n, [...claimants, domain]);
  }
}
/** The domains loaded on demand so far (the default domain is loaded before the ports open). */
const loadedOnDemand = new Set<string>();
const registries = new Map<TLSProfileName, { registry: SNIRegistry; watcher: CredentialWatcher }>();
async function registryFor(profile: TLSProfileName): Promise<SNIRegistry> {
  const known = registries.get(profile);
  if (known !== undefined) return known.registry;
  // --max-contexts bounds the TLS contexts kept built (least recently used dropped, rebuilt on demand).
  const options = { profile: getTLSProfile(profile), ...(maxContexts === 0 ? {} : { maxContexts }) };
  // Made from the default domain's credential as loaded above: the watcher does not read it again.
  const registry = createSNIRegistry(first, options);
  const watcher = watchCredentials(store, registry, {
    domains: eager ? 'all' : 'on-demand',
    defaultDomain,
    pollIntervalMs: pollEvery,
  });
  const reports = registries.size === 0; // one registry reports, so each load or reload is one line
  watcher.on('reload', (e) => {
    recordNames(e.domain, e.names);
    if (!reports) return;
    const fields = { domain: e.domain, fingerprint: e.fingerprint, notAfter: e.notAfter };
    if (e.oldVersion !== undefined) console.log(`reloaded ${JSON.stringify(fields)}`);
    else if (!eager && e.domain !== defaultDomain) {
      loadedOnDemand.add(e.domain);
      console.log(`loaded ${JSON.stringify({ ...fields, names: e.names, loaded: loadedOnDemand.size })}`);
    }
  });
  watcher.on('remove', (e) => {
    recordNames(e.domain, []);
    loadedOnDemand.delete(e.domain);
    if (reports) console.log(`removed ${JSON.stringify({ domain: e.domain })}`);
  });
  watcher.on('error', (e) =>
    console.error(
      `${e.details.domain ?? 'store'}: reload refused, still serving the previous certificate: ${e.message}`,
    ),
  );
  registries.set(profile, { registry, watcher });
  await watcher.ready;
  return registry;
}
/** The server-wide setting of a service (one port serves every domain). */
const serviceSettings = (service: MailService) => settings.defaults.services[service];
await registryFor('intermediate');
process.on('SIGHUP', () => {
  for (const r of registries.values()) void r.watcher.refresh({ force: true });
});

// ---------------------------------------------------------------------------------------------------------
// A line reader that leaves the bytes after a STARTTLS line to upgradeToTLS (which discards them). The socket
// is never paused: the session calls upgradeToTLS in the same tick as it reads the STARTTLS line (the promise
// chain runs as microtasks, before the next 'data' event); the reader detaches itself first.

class LineReader {
  #buffer = Buffer.alloc(0);
  #waiting: ((line: string | null) => void) | undefined;
  #ended = false;

  readonly #socket: net.Socket;
  readonly #onEnd = (): void => this.#end();
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    // A line longer than MAX_LINE, or a client that floods commands without reading the replies.
    if (
      this.#buffer.length > 8 * MAX_LINE ||
      (this.#buffer.length > MAX_LINE && !this.#buffer.includes(10))
    ) {
      this.#socket.end('500 line too long\r\n');
      this.#end();
      return;
    }
    this.#wake();
  };

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
  }

  /** Stops reading (before STARTTLS: upgradeToTLS needs the socket to itself). */
  detach(): void {
    this.#socket.removeListener('data', this.#onData);
    this.#socket.removeListener('end', this.#onEnd);
    this.#socket.removeListener('close', this.#onEnd);
  }

  #end(): void {
    this.#ended = true;
    this.#wake();
  }

  #take(): string | null | undefined {
    const i = this.#buffer.indexOf(10);
    if (i >= 0) {
      const line = this.#buffer.subarray(0, i).toString('latin1').replace(/\r$/, '');
      this.#buffer = this.#buffer.subarray(i + 1);
      return line;
    }
    return this.#ended ? null : undefined;
  }

  #wake(): void {
    if (this.#waiting === undefined) return;
    const line = this.#take();
    if (line === undefined) return;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting(line);
  }

  /** The next line without its CRLF, or null at the end of the connection. */
  next(): Promise<string | null> {
    const line = this.#take();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** Bytes received after the last line read (plaintext pipelined after STARTTLS). */
  rest(): Uint8Array {
    return this.#buffer;
  }
}

type Session = (socket: net.Socket, secure: boolean, greet: boolean) => Promise<void>;

async function startTLS(
  socket: net.Socket,
  reader: LineReader,
  protocol: StartTLSProtocol,
  reply: string,
  session: Session,
): Promise<void> {
  // Detach our own 'data' listener first: upgradeToTLS must be the only reader of the socket.
  reader.detach();
  const service = serviceOf.get(socket) ?? 'smtp';
  try {
    // The context follows the settings of the domain the client names in SNI (its profile, or a refusal
    // when that domain turned the service off), read from the ClientHello before the TLS socket is made.
    const secure = await upgradeToTLS(socket, contextSource(service), {
      reply,
      pipelined: reader.rest(),
      timeoutMs: 15_000,
    });
    if (secure.mailtls.discardedPlaintextBytes > 0)
      console.error(
        `${protocol}: discarded ${secure.mailtls.discardedPlaintextBytes} bytes of plaintext sent after STARTTLS`,
      );
    // RFC 3207 4.2: everything learnt before TLS is forgotten; the session restarts without a greeting.
    await session(secure, true, false);
  } catch (e) {
    const { code, cause } = e as { code?: string; cause?: unknown };
    console.error(
      `${protocol}: STARTTLS failed: ${code ?? String(e)}${cause instanceof Error ? `: ${cause.message}` : ''}`,
    );
  }
}

function serverName(socket: net.Socket): string {
  const name = (socket as tls.TLSSocket).servername;
  return typeof name === 'string' && name !== '' ? name : defaultDomain;
}

// ---------------------------------------------------------------------------------------------------------
// SMTP (RFC 5321, 3207, 4954)

const smtpSession: Session = async (socket, secure, greet) => {
  const reader = new LineReader(socket);
  const me = serverName(socket);
  if (greet) socket.write(`220 ${me} ESMTP mailtls example\r\n`);
  for (let line = await reader.next(); line !== null; line = await reader.next()) {
    const [verb = '', ...args] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'EHLO': {
        const lines = [
          me,
          'PIPELINING',
          'SIZE 10485760',
          '8BITMIME',
          secure ? 'AUTH PLAIN LOGIN' : 'STARTTLS',
        ];
        socket.write(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
        break;
      }
      case 'HELO':
        socket.write(`250 ${me}\r\n`);
        break;
      case 'STARTTLS':
        if (secure) socket.write('503 5.5.1 TLS already active\r\n');
        else return startTLS(socket, reader, 'smtp', formatStartTLSReply('smtp'), smtpSession);
        break;
      case 'AUTH':
        if (!secure) socket.write('530 5.7.0 Must issue a STARTTLS command first\r\n');
        else if (args[0]?.toUpperCase() === 'PLAIN' && args[1] !== undefined)
          socket.write('235 2.7.0 OK\r\n');
        else if (args[0]?.toUpperCase() === 'PLAIN') {
          socket.write('334 \r\n');
          await reader.next();
          socket.write('235 2.7.0 OK\r\n');
        } else if (args[0]?.toUpperCase() === 'LOGIN') {
          if (args[1] === undefined) {
            socket.write('334 VXNlcm5hbWU6\r\n');
            await reader.next();
          }
          socket.write('334 UGFzc3dvcmQ6\r\n');
          await reader.next();
          socket.write('235 2.7.0 OK\r\n');
        } else socket.write('504 5.5.4 Unrecognized authentication type\r\n');
        break;
      case 'MAIL':
      case 'RCPT': {
        // TLS required by the store's settings (RFC 3207 §4): MAIL by the server's defaults, RCPT by the
        // recipient domain's own settings (the first point where the domain is known in plaintext).
        const service = serviceOf.get(socket) ?? 'smtp';
        const recipient = /@([^>\s]+)>?/.exec(args.join(' '))?.[1];
        const policy =
          verb.toUpperCase() === 'RCPT' && recipient !== undefined
            ? resolveDomainTLSSettings(settings, recipient).services[service].starttls
            : serviceSettings(service).starttls;
        if (!secure && policy === 'required') {
          socket.write('530 5.7.0 Must issue a STARTTLS command first\r\n');
          break;
        }
        socket.write('250 2.0.0 OK\r\n');
        break;
      }
      case 'RSET':
      case 'NOOP':
        socket.write('250 2.0.0 OK\r\n');
        break;
      case 'DATA': {
        socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        let size = 0;
        for (let l = await reader.next(); l !== null && l !== '.'; l = await reader.next())
          size += l.length + 2;
        socket.write(`250 2.0.0 OK: ${size} bytes accepted and dropped (example server)\r\n`);
        break;
      }
      case 'QUIT':
        socket.end('221 2.0.0 Bye\r\n');
        return;
      default:
        socket.write('502 5.5.2 Command not recognized\r\n');
    }
  }
};

// ---------------------------------------------------------------------------------------------------------
// POP3 (RFC 1939, 2449, 2595)

const pop3Session: Session = async (socket, secure, greet) => {
  const reader = new LineReader(socket);
  if (greet) socket.write('+OK POP3 mailtls example ready\r\n');
  for (let line = await reader.next(); line !== null; line = await reader.next()) {
    const [verb = ''] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'CAPA':
        socket.write(['+OK', 'USER', 'UIDL', 'TOP', ...(secure ? [] : ['STLS']), '.', ''].join('\r\n'));
        break;
      case 'STLS':
        if (secure) socket.write('-ERR TLS already active\r\n');
        else return startTLS(socket, reader, 'pop3', formatStartTLSReply('pop3'), pop3Session);
        break;
      case 'USER':
        socket.write(secure ? '+OK\r\n' : '-ERR use STLS first\r\n');
        break;
      case 'PASS':
        socket.write(secure ? '+OK logged in, 0 messages\r\n' : '-ERR use STLS first\r\n');
        break;
      case 'STAT':
        socket.write('+OK 0 0\r\n');
        break;
      case 'LIST':
      case 'UIDL':
        socket.write('+OK 0 messages\r\n.\r\n');
        break;
      case 'NOOP':
      case 'RSET':
        socket.write('+OK\r\n');
        break;
      case 'QUIT':
        socket.end('+OK bye\r\n');
        return;
      default:
        socket.write('-ERR unknown command\r\n');
    }
  }
};

// ---------------------------------------------------------------------------------------------------------
// IMAP (RFC 9051, 3501)

const imapSession: Session = async (socket, secure, greet) => {
  const reader = new LineReader(socket);
  const caps = (): string => (secure ? 'IMAP4rev1 AUTH=PLAIN' : 'IMAP4rev1 STARTTLS LOGINDISABLED');
  if (greet) socket.write(`* OK [CAPABILITY ${caps()}] IMAP mailtls example ready\r\n`);
  for (let line = await reader.next(); line !== null; line = await reader.next()) {
    const [tag = '*', command = ''] = line.split(' ');
    switch (command.toUpperCase()) {
      case 'CAPABILITY':
        socket.write(`* CAPABILITY ${caps()}\r\n${tag} OK CAPABILITY completed\r\n`);
        break;
      case 'STARTTLS':
        if (secure) socket.write(`${tag} BAD TLS already active\r\n`);
        else return startTLS(socket, reader, 'imap', formatStartTLSReply('imap', tag), imapSession);
        break;
      case 'LOGIN':
        socket.write(secure ? `${tag} OK LOGIN completed\r\n` : `${tag} NO use STARTTLS first\r\n`);
        break;
      case 'AUTHENTICATE':
        if (!secure) socket.write(`${tag} NO use STARTTLS first\r\n`);
        else {
          if (line.split(' ').length < 4) {
            socket.write('+ \r\n');
            await reader.next();
          }
          socket.write(`${tag} OK AUTHENTICATE completed\r\n`);
        }
        break;
      case 'LIST':
      case 'LSUB':
        socket.write(`* ${command.toUpperCase()} (\\HasNoChildren) "/" INBOX\r\n${tag} OK completed\r\n`);
        break;
      case 'SELECT':
      case 'EXAMINE':
        socket.write(
          '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n' +
            `* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 1] predicted next UID\r\n` +
            `${tag} OK [READ-${command.toUpperCase() === 'SELECT' ? 'WRITE' : 'ONLY'}] completed\r\n`,
        );
        break;
      case 'NOOP':
      case 'CHECK':
      case 'CLOSE':
        socket.write(`${tag} OK completed\r\n`);
        break;
      case 'LOGOUT':
        socket.end(`* BYE logging out\r\n${tag} OK LOGOUT completed\r\n`);
        return;
      default:
        socket.write(`${tag} BAD unknown command\r\n`);
    }
  }
};

// ---------------------------------------------------------------------------------------------------------
// Listeners

const sockets = new Set<net.Socket>();
/** The service each plaintext connection came in on (for its STARTTLS policy and profile). */
const serviceOf = new WeakMap<net.Socket, MailService>();
function track(socket: net.Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.setTimeout(IDLE_MS, () => socket.destroy());
}

function run(session: Session, socket: net.Socket, secure: boolean, service: MailService): void {
  track(socket);
  serviceOf.set(socket, service);
  session(socket, secure, true).catch((e: unknown) => {
    console.error(`session error: ${String(e)}`);
    socket.destroy();
  });
}

const SESSIONS: Record<'smtp' | 'pop3' | 'imap', Session> = {
  smtp: smtpSession,
  pop3: pop3Session,
  imap: imapSession,
};

const PORT_OF = Object.fromEntries(
  (Object.keys(PORT_NAMES).map(Number) as Port[]).map((p) => [PORT_NAMES[p], p]),
) as Record<MailService, Port>;

/** The profiles the settings use for services that are on (one registry each). */
function profilesInUse(s: TLSSettings): Set<TLSProfileName> {
  const out = new Set<TLSProfileName>();
  for (const d of [s.defaults, ...Object.values(s.domains)])
    for (const v of Object.values(d.services)) if (v.enabled) out.add(v.profile);
  return out;
}

/** The store domain whose certificate carries a served name (its settings apply to the name). */
function domainOfName(name: string): string | undefined {
  const wildcard = name.includes('.') ? `*${name.slice(name.indexOf('.'))}` : undefined;
  return (
    domainsOfName.get(name)?.[0] ?? (wildcard === undefined ? undefined : domainsOfName.get(wildcard)?.[0])
  );
}

/**
 * The TLS settings applied per domain on one service's listener: each handshake reads the current settings
 * and takes the profile of the SNI name's domain (so a new revision applies to the next connection without
 * re-making the listener, and two domains on one port can have different profiles).
 */
const sources = new Map<MailService, TLSContextSource>();
function contextSource(service: MailService): TLSContextSource {
  let source = sources.get(service);
  if (source === undefined) {
    source = createSettingsContextSource({
      service,
      settings: () => settings,
      registries: (profile) => registries.get(profile)?.registry,
      domainOf: domainOfName,
      defaultDomain,
    });
    sources.set(service, source);
  }
  return source;
}

async function makeServer(service: MailService): Promise<net.Server> {
  const port = PORT_OF[service];
  const info = PORTS[port];
  const registry = contextSource(service);
  let server: net.Server;
  if (info.protocol === 'https') {
    server = createPeekingHTTPSServer(registry, { timeoutMs: 15_000 }, (req, res) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(
        `mailtls example: ${serverName(req.socket)} over ${(req.socket as tls.TLSSocket).getProtocol()}\n`,
      );
    });
  } else if (info.tls === 'implicit') {
    const session = SESSIONS[info.protocol];
    server = createPeekingTLSServer(registry, { timeoutMs: 15_000 }, (socket) =>
      run(session, socket, true, service),
    );
  } else {
    const session = SESSIONS[info.protocol];
    server = net.createServer((socket) => run(session, socket, false, service));
  }
  server.on('connection', (socket: net.Socket) => track(socket));
  server.on('tlsClientError', (e: { code?: string }) => {
    console.error(`${service}: TLS failed: ${e.code ?? String(e)}`);
  });
  return server;
}

/** The services listening: their server and port. */
const running = new Map<MailService, { server: net.Server; port: number }>();
/** The port each service had, so that a service turned off and on again (or re-made) keeps its port. */
const portOf = new Map<MailService, number>();

async function open(service: MailService): Promise<void> {
  const server = await makeServer(service);
  const wanted = portOf.get(service) ?? (basePort === 0 ? 0 : basePort + PORT_OF[service]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  portOf.set(service, port);
  running.set(service, { server, port });
}

function close(service: MailService): void {
  const r = running.get(service);
  if (r === undefined) return;
  running.delete(service);
  r.server.close();
}

function boundPorts(): Record<string, number> {
  return Object.fromEntries([...running].map(([service, r]) => [service, r.port]));
}

try {
  for (const p of profilesInUse(settings)) await registryFor(p);
  for (const service of enabledServices(settings)) await open(service);
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  console.error(`cannot listen: ${code ?? String(e)}: ${(e as Error).message}`);
  for (const r of running.values()) r.server.close();
  process.exit(code === 'EADDRINUSE' ? 98 : 1);
}

console.log(
  `ready ${JSON.stringify({ host, ports: boundPorts(), default: defaultDomain, names: [...namesOf.values()].flat(), settingsRevision: settings.revision })}`,
);

// Hot reload of the TLS settings: services turned on start listening, services turned off stop; profiles
// and per-domain refusals are read per handshake and the STARTTLS policy per command, so they apply to the
// next connection or command at once (a registry is made first for a profile not in use before).
let applying = Promise.resolve();
const settingsWatch = watchTLSSettings(
  storeDir,
  (next) => {
    applying = applying.then(async () => {
      for (const p of profilesInUse(next)) await registryFor(p);
      settings = next;
      const wanted = new Set(enabledServices(next));
      for (const service of [...running.keys()])
        if (!wanted.has(service)) {
          close(service);
          console.log(`closed ${JSON.stringify({ service })}`);
        }
      for (const service of wanted) {
        if (running.has(service)) continue;
        try {
          await open(service);
          console.log(`listening ${JSON.stringify({ service, port: running.get(service)?.port })}`);
        } catch (e) {
          console.error(`${service}: cannot listen: ${(e as Error).message}`);
        }
      }
      console.log(`settings ${JSON.stringify({ revision: next.revision, ports: boundPorts() })}`);
    });
    return applying;
  },
  (e) => console.error(`TLS settings refused, the previous ones stay in force: ${e.message}`),
  { pollIntervalMs: pollMs > 0 ? pollMs : 2000, since: settings.revision },
);

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  settingsWatch.close();
  for (const r of registries.values()) r.watcher.close();
  for (const r of running.values()) r.server.close();
  for (const s of sockets) s.destroy();
  console.log(`stopped (${signal})`);
  process.exitCode = 0;
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
