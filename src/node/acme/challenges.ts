/**
 * The three ACME challenge responders, each a real server path:
 *
 * - {@link Http01Responder} (RFC 8555 section 8.3): a request handler for port 80 that answers
 *   `/.well-known/acme-challenge/<token>`, alone or mounted in an existing `http.Server`;
 * - {@link TlsAlpnResponder} (RFC 8737): self-signed challenge certificates served through an
 *   {@link SNIRegistry} to clients that offer only the `acme-tls/1` ALPN protocol, on the port that serves
 *   HTTPS (or SMTPS/IMAPS) with the server's own registry for every other client;
 * - {@link DnsProvider} (RFC 8555 section 8.4): the TXT record `_acme-challenge.<name>`, set by a provider;
 *   {@link createHookDnsProvider} runs an administrator's command (as certbot's manual hooks do) and waits
 *   until the record is visible.
 *
 * @module node/acme/challenges
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type http from 'node:http';
import net from 'node:net';
import acme from 'acme-client';
import { AcmeError } from '../../errors.js';
import { canonicalizeHostname } from '../../names/hostname.js';
import { readClientHello } from '../tls/client-hello.js';
import { type AcceptedTLSSocket, type AcceptTLSOptions, acceptTLS } from '../tls/servers.js';
import { createSNIRegistry, type SNIRegistry } from '../tls/sni-registry.js';

const WELL_KNOWN = '/.well-known/acme-challenge/';
/** A token is base64url (RFC 8555 section 8.1). */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Answers http-01 challenges. Use {@link Http01Responder.handle} inside your own request listener, or
 * {@link Http01Responder.listener} as the whole listener of a port-80 server (everything else gets 404).
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createHttp01Responder } from 'mailtls/acme';
 * const http01 = createHttp01Responder();
 * http.createServer((req, res) => {
 *   if (http01.handle(req, res)) return;
 *   res.writeHead(301, { location: `https://${req.headers.host}${req.url}` }).end();
 * }).listen(80);
 * ```
 */
export class Http01Responder {
  readonly #tokens = new Map<string, string>();

  /** Serves `keyAuthorization` at `/.well-known/acme-challenge/<token>` until {@link Http01Responder.delete}. */
  set(token: string, keyAuthorization: string): void {
    if (!TOKEN.test(token)) throw new TypeError('token must be base64url');
    this.#tokens.set(token, keyAuthorization);
  }

  /** Stops serving a token. */
  delete(token: string): void {
    this.#tokens.delete(token);
  }

  /** Number of tokens served. */
  get size(): number {
    return this.#tokens.size;
  }

  /**
   * Answers the request if it is an ACME http-01 request (any host, GET or HEAD); answers false, and writes
   * nothing, for every other request. A known path with an unknown token gets 404.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(WELL_KNOWN)) return false;
    const token = url.slice(WELL_KNOWN.length).split('?')[0] ?? '';
    const body = this.#tokens.get(token);
    if (body === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return true;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** A whole request listener: ACME answers, 404 for anything else. */
  readonly listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!this.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
}

/**
 * Creates an http-01 responder.
 * @example `const http01 = createHttp01Responder(); http.createServer(http01.listener).listen(80);`
 */
export function createHttp01Responder(): Http01Responder {
  return new Http01Responder();
}

/** The ALPN protocol of tls-alpn-01. */
export const ACME_TLS_ALPN = 'acme-tls/1';

/**
 * Answers tls-alpn-01 challenges through an {@link SNIRegistry} of challenge certificates (one per name
 * being validated). A connection whose ClientHello offers `acme-tls/1` gets the challenge certificate for
 * its SNI name with that protocol negotiated, and is closed after the handshake (RFC 8737 section 3); one
 * for a name with no challenge is closed without a certificate. Every other connection is secured with the
 * server's own registry by {@link acceptTLS}, so the responder can sit on a live HTTPS or SMTPS port.
 *
 * @example
 * ```ts
 * import net from 'node:net';
 * import { createTlsAlpnResponder } from 'mailtls/acme';
 * const alpn = createTlsAlpnResponder();
 * net.createServer(async (raw) => {
 *   const socket = await alpn.accept(raw, registry).catch(() => undefined);
 *   socket?.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
 * }).listen(443);
 * ```
 */
export class TlsAlpnResponder {
  #registry: SNIRegistry | undefined;
  #key: string | undefined;

  /** Challenges being served. */
  get size(): number {
    return this.#registry?.size ?? 0;
  }

  /** The registry of challenge certificates (created with the first challenge). */
  get registry(): SNIRegistry | undefined {
    return this.#registry;
  }

  /**
   * Serves the challenge certificate for `name` (self-signed, the name in its subjectAltName and the
   * SHA-256 of `keyAuthorization` in its critical acmeIdentifier extension).
   * @throws HostnameError `ERR_HOSTNAME_INVALID` for a name that is not a host name.
   */
  async set(name: string, keyAuthorization: string): Promise<void> {
    const canonical = canonicalizeHostname(name);
    // One EC key for every challenge certificate of this responder: the certificate, not the key, proves.
    this.#key ??= generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const authz = { identifier: { type: 'dns', value: canonical } } as unknown as acme.Authorization;
    const [, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, this.#key);
    const credential = { key: this.#key, cert: cert.toString() };
    if (this.#registry === undefined) this.#registry = createSNIRegistry(credential);
    this.#registry.add(canonical, credential);
  }

  /** Stops serving the challenge for a name. */
  delete(name: string): void {
    this.#registry?.delete(name);
  }

  /** Whether a ClientHello asks for a tls-alpn-01 validation (offers `acme-tls/1`). */
  static isChallenge(alpnProtocols: readonly string[]): boolean {
    return alpnProtocols.includes(ACME_TLS_ALPN);
  }

  /**
   * Secures a plain socket: a tls-alpn-01 validation gets its challenge certificate and is closed (resolves
   * undefined); any other client is handed to {@link acceptTLS} with `registry` (resolves its socket). With
   * no `registry`, other clients are closed (a port that only answers challenges).
   *
   * @throws TLSError (rejects) as {@link acceptTLS}.
   */
  async accept(
    socket: net.Socket,
    registry?: SNIRegistry,
    options: AcceptTLSOptions = {},
  ): Promise<AcceptedTLSSocket | undefined> {
    socket.on('error', ignore);
    let alpn: readonly string[];
    let servername: string | undefined;
    try {
      const { info } = await readClientHello(socket, { timeoutMs: options.timeoutMs ?? 10_000 });
      alpn = info.alpnProtocols;
      servername = info.serverName;
    } catch (e) {
      socket.destroy();
      throw e;
    }
    socket.off('error', ignore);
    if (TlsAlpnResponder.isChallenge(alpn)) {
      const challenges = this.#registry;
      if (challenges === undefined || servername === undefined || !challenges.has(servername)) {
        socket.destroy();
        return undefined;
      }
      const secured = await acceptTLS(socket, challenges, { ...options, ALPNProtocols: [ACME_TLS_ALPN] });
      secured.end();
      return undefined;
    }
    if (registry === undefined) {
      socket.destroy();
      return undefined;
    }
    return acceptTLS(socket, registry, options);
  }

  /**
   * A `net.Server` that answers tls-alpn-01 and secures every other connection with `registry` (emitted as
   * `secureConnection`; failures as `tlsClientError`), like `createPeekingTLSServer`.
   * @example `alpn.createServer(registry, {}, (s) => s.end('ok')).listen(443, '127.0.0.1')`
   */
  createServer(
    registry?: SNIRegistry,
    options: AcceptTLSOptions = {},
    secureConnectionListener?: (socket: AcceptedTLSSocket) => void,
  ): net.Server {
    const server = net.createServer((raw) => {
      this.accept(raw, registry, { ...options, server }).then(
        (s) => {
          if (s) server.emit('secureConnection', s);
        },
        (e: unknown) => server.emit('tlsClientError', e, raw),
      );
    });
    if (secureConnectionListener) server.on('secureConnection', secureConnectionListener);
    return server;
  }
}

function ignore(): void {}

/**
 * Creates a tls-alpn-01 responder.
 * @example `const alpn = createTlsAlpnResponder(); alpn.createServer(registry).listen(443);`
 */
export function createTlsAlpnResponder(): TlsAlpnResponder {
  return new TlsAlpnResponder();
}

/** Sets and removes the TXT records of dns-01. */
export interface DnsProvider {
  /**
   * Publishes `value` as a TXT record of `name` (`_acme-challenge.<domain>`, no trailing dot) and resolves
   * once the record can be seen (the provider waits for propagation).
   */
  set(name: string, value: string): Promise<void>;
  /** Removes the record again (after validation, or after a failure). */
  remove(name: string, value: string): Promise<void>;
}

/** Options of {@link createHookDnsProvider}. */
export interface HookDnsProviderOptions {
  /**
   * The command line, run by `/bin/sh` with three more arguments: `set` or `remove`, the record name
   * (`_acme-challenge.example.com`) and the value; also in `MAILTLS_ACME_ACTION`, `MAILTLS_ACME_NAME`,
   * `MAILTLS_ACME_VALUE` (and `CERTBOT_DOMAIN` / `CERTBOT_VALIDATION`, so certbot hook scripts work).
   */
  command: string;
  /** Longest run of the command, in milliseconds (default 60,000). */
  timeoutMs?: number | undefined;
  /**
   * DNS servers asked while waiting for the record (`['127.0.0.1:8053']`); default the system's. The wait
   * ends when every server answers the value.
   */
  resolvers?: readonly string[] | undefined;
  /** Longest wait for the record to be visible, in milliseconds (default 120,000; 0: do not wait). */
  propagationTimeoutMs?: number | undefined;
}

/**
 * A {@link DnsProvider} that runs a command to set and remove the record (a script that calls the DNS
 * host's API, or `nsupdate`), then waits until the record is visible to the given resolvers.
 *
 * @throws AcmeError (from `set`/`remove`) `ERR_ACME_DNS_HOOK` when the command fails or times out (its exit
 *   status and the last lines of its error output in `details`), or the record does not appear in time.
 * @example
 * ```ts
 * const dns = createHookDnsProvider({ command: '/etc/mail/acme-dns-hook', resolvers: ['192.0.2.53'] });
 * await obtainCertificate({ ..., challenge: 'dns-01', dns });
 * ```
 */
export function createHookDnsProvider(options: HookDnsProviderOptions): DnsProvider {
  if (
    options === null ||
    typeof options !== 'object' ||
    typeof options.command !== 'string' ||
    options.command === ''
  )
    throw new TypeError('options.command must be a command line');
  const timeout = options.timeoutMs ?? 60_000;
  const run = (action: 'set' | 'remove', name: string, value: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const domain = name.replace(/^_acme-challenge\./, '');
      execFile(
        '/bin/sh',
        ['-c', `${options.command} "$@"`, 'mailtls-acme-hook', action, name, value],
        {
          timeout,
          env: {
            ...process.env,
            MAILTLS_ACME_ACTION: action,
            MAILTLS_ACME_NAME: name,
            MAILTLS_ACME_VALUE: value,
            CERTBOT_DOMAIN: domain,
            CERTBOT_VALIDATION: value,
          },
          maxBuffer: 1 << 20,
        },
        (error, _stdout, stderr) => {
          if (!error) return resolve();
          const tail = String(stderr).trim().split('\n').slice(-5).join('\n').slice(0, 2000);
          reject(
            new AcmeError(
              'ERR_ACME_DNS_HOOK',
              `The DNS hook command failed to ${action} the TXT record ${name} (${
                (error as { killed?: boolean }).killed
                  ? `no answer within ${timeout} ms`
                  : `exit status ${String(error.code)}`
              })${tail === '' ? '' : `: ${tail}`}. Fix the command and run again.`,
              { cause: error, details: { action, name, status: error.code ?? null, stderr: tail } },
            ),
          );
        },
      );
    });
  return {
    async set(name, value) {
      await run('set', name, value);
      await waitForTXT(name, value, options.resolvers, options.propagationTimeoutMs ?? 120_000);
    },
    async remove(name, value) {
      await run('remove', name, value);
    },
  };
}

/** Polls the resolvers until each answers `value` among the TXT records of `name`. */
async function waitForTXT(
  name: string,
  value: string,
  servers: readonly string[] | undefined,
  timeoutMs: number,
): Promise<void> {
  if (timeoutMs <= 0) return;
  const resolvers = (servers === undefined || servers.length === 0 ? [undefined] : servers).map((s) => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    if (s !== undefined) r.setServers([s]);
    return r;
  });
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    let seen = 0;
    for (const r of resolvers) {
      try {
        const records = await r.resolveTxt(name);
        if (records.some((parts) => parts.join('') === value)) seen++;
      } catch {
        // not there yet (NXDOMAIN, no data, time-out)
      }
    }
    if (seen === resolvers.length) return;
    if (Date.now() + delay > deadline)
      throw new AcmeError(
        'ERR_ACME_DNS_HOOK',
        `The TXT record ${name} did not become visible within ${timeoutMs} ms after the DNS hook set it: ` +
          'check that the hook updates the zone the world sees, or raise the propagation time-out.',
        { details: { name, timeoutMs, resolvers: servers ?? [] } },
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}
