/**
 * `npm run attack`: the attacks of issue 20, replayed as a hostile local user and a careless administrator
 * would, through the built `mailtls` command (dist/cli/main.js, a child process per try) against fresh stores
 * in a temporary directory and a running `examples/mail-server.ts` (build/examples/mail-server.js).
 *
 *   npm run attack                                   # builds dist/, build/ and the examples, then attacks
 *   npm run attack -- --only swapped-key,long-domain # some attacks only (names as printed)
 *   node build/scripts/attack.js                     # without building (dist/, build/examples/ current)
 *   node build/scripts/attack.js --cli build/src/cli/main.js --only writable-dirs
 *
 * Attacks, and what counts as a failure of a try:
 * - planted-links: `private/`, `certs/`, `csr/` or `history/` of a store is a symbolic link to a directory
 *   elsewhere (in a fresh store, and in one with a pair installed whose directory was moved away), then
 *   `install`. Passes when it is refused with a typed error (not ERR_CLI_INTERNAL), or when it exits 0 and
 *   `private/<d>.key` and `certs/<d>.crt` then open and hold the new pair. Fails on exit 0 with a key or
 *   certificate a server cannot open or that is not the pair installed.
 * - swapped-key: another key renamed over `private/<d>.key` (`mv`), or another valid certificate over
 *   `certs/<d>.crt`: `check` must exit non-zero with a KEY_MISMATCH error.
 * - expired-cert: an expired certificate of another key renamed over `certs/<d>.crt`: `check` must report
 *   CERT_EXPIRED and KEY_MISMATCH (an error) and exit non-zero.
 * - writable-dirs: `private/` or `history/` at 0777: `check --errors-only` must exit 1 with an error finding.
 * - foreign-owner (root only, skipped otherwise): the key file, `private/`, `history/` or the store root owned
 *   by another non-root user (uid 65534): `check --errors-only` must exit 1 with an error finding.
 * - device-inputs: `show /dev/zero`, `verify --cert /dev/urandom`, `install --key /dev/zero`,
 *   `pfx import --pfx /dev/zero`, `--password-file /dev/zero`, a FIFO fed forever (as a file and as
 *   `--password-file`), `show -` on an endless standard input: each must exit 2 with ERR_CLI_READ within 10 s,
 *   its peak RSS under 256 MiB (VmHWM of /proc/<pid>/status, polled; the child is killed past either bound).
 * - force-targets: `key --out`, `pfx export --out`, `pfx import --out-dir` with `--force` onto a character
 *   device (mknod, root only), a FIFO, a Unix socket, a directory, a symbolic link to a file outside and one to
 *   a device: the device, FIFO, socket and directory must be left as they were (same type, device number,
 *   inode) and the command refused with a typed error; what a symbolic link points at must be unchanged, and
 *   the link either left alone (refused) or replaced by a regular file (exit 0), never written through.
 * - probe-servername: `probe --servername` with an IP address, `a..b` and a 305-character name: exit 2 with a
 *   typed error that is not ERR_CLI_INTERNAL.
 * - big-bundle: `show` and `install --cert` of a PEM of 9,999 certificates: refused (exit non-zero, a typed
 *   error) within 5 s and 256 MiB.
 * - long-domain: a 253-character domain and a wildcard of 253 characters, `install --domain`: either installed
 *   (exit 0, its key and certificate open and match) or refused with a typed error that is neither ERR_STORE_IO
 *   nor ERR_CLI_INTERNAL and does not mention ENAMETOOLONG; and the library's `store.remove()` of such a name
 *   throws a MailTlsError other than ERR_STORE_IO.
 * - kill-9-install: while the mail server serves the store, 10 installs are killed with SIGKILL at random
 *   points: 5 anywhere in the time a whole install takes, 5 within the span the writer holds the store's lock
 *   (timed from the moment the lock file appears); both spans are measured first. After each, every link in
 *   `certs/`, `private/` and `history/<name>/` resolves, the key and certificate files parse in full and belong
 *   together, the pair is the old or the new one, and the server comes to serve exactly that certificate
 *   (STARTTLS on SMTP, IMAPS) within 15 s; a last install must succeed (no lock left behind) and `check` must
 *   then pass.
 * - concurrent-installs: 10 installs at once: each exits 0 or with ERR_STORE_LOCKED; the store is then
 *   consistent as above, its pair one of those installed, served by the server, and `check` passes.
 * - handshakes: TLS handshakes (SMTP STARTTLS and IMAPS, chain and host name verified) run all through the
 *   two attacks above; every one must succeed with one of the certificates installed.
 *
 * Prints one line per attack (tries, failures) with the detail of each failure under it, then
 * `N passed, M failed` (tries); exit 1 when any try failed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  createCertificateAuthority,
  createCSR,
  createPKCS12,
  encodePrivateKeyPEM,
  generateKeyPair,
  issueCertificate,
  keyMatchesCertificate,
  MailTlsError,
  parseCertificateBundle,
  parsePrivateKey,
} from '../src/index.js';
import { CertificateStore } from '../src/node/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The command under attack: `--cli FILE`, default the built package's dist/cli/main.js. */
let CLI = join(ROOT, 'dist/cli/main.js');
const MAIL_SERVER = join(ROOT, 'build/examples/mail-server.js');
const DOMAIN = 'example.test';
const HOSTS = [`mail.${DOMAIN}`, `smtp.${DOMAIN}`, `imap.${DOMAIN}`];
/** Bounds of every device, pipe and bundle try. */
const LIMIT = { ms: 10_000, rssMiB: 256 };
const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------------------
// Running the command

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak RSS in MiB (VmHWM), as last polled. */
  peakMiB: number;
  /** Why the script killed it, if it did. */
  killed?: 'time' | 'memory';
}

interface RunOptions {
  timeoutMs?: number;
  maxRssMiB?: number;
  stdin?: 'ignore' | Readable;
}

function peakMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0;
  }
}

/** A child process: stdout and stderr kept (first 256 KiB each), peak RSS polled, killed past the bounds. */
function spawnRun(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Run> & { child: ChildProcess } {
  const started = performance.now();
  const child = spawn(process.execPath, [file, ...args], {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const keep = (chunks: Buffer[], size: { n: number }) => (d: Buffer) => {
    if (size.n < 256 * 1024) chunks.push(d);
    size.n += d.length;
  };
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', keep(out, { n: 0 }));
  child.stderr!.on('data', keep(err, { n: 0 }));
  let peak = 0;
  let killed: Run['killed'];
  const maxRss = options.maxRssMiB ?? Number.POSITIVE_INFINITY;
  const poll = setInterval(() => {
    if (child.pid === undefined) return;
    peak = Math.max(peak, peakMiB(child.pid));
    if (peak > maxRss && killed === undefined) {
      killed = 'memory';
      child.kill('SIGKILL');
    }
  }, 20);
  const timer = setTimeout(() => {
    if (killed === undefined) killed = 'time';
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const done = new Promise<Run>((resolve) => {
    child.once('error', (e) => {
      err.push(Buffer.from(String(e)));
    });
    child.once('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
        peakMiB: peak,
        ...(killed === undefined ? {} : { killed }),
      });
    });
  });
  return Object.assign(done, { child });
}

/** `mailtls ARGS`. */
function cli(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  return spawnRun(CLI, args, options);
}

/** The error the command printed: `error [CODE]: message`, or with --json `{"error": {"code", "message"}}`. */
function errorOf(r: Run): { code: string; message: string } | undefined {
  const m = /^error \[([A-Z0-9_]+)\]: (.*)$/m.exec(r.stderr);
  if (m !== null) return { code: m[1]!, message: m[2]! };
  try {
    const { error } = JSON.parse(r.stderr) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code === 'string') return { code: error.code, message: String(error.message) };
  } catch {
    // not JSON
  }
  return undefined;
}

function errorCode(r: Run): string | undefined {
  return errorOf(r)?.code;
}

/** How a run ended, for failure details: `exit 1: error [ERR_X]: message`. */
function ended(r: Run): string {
  const how =
    r.killed === 'memory'
      ? `killed past ${LIMIT.rssMiB} MiB after ${(r.ms / 1000).toFixed(1)} s`
      : r.killed === 'time'
        ? `still running after ${(r.ms / 1000).toFixed(1)} s (killed; peak ${r.peakMiB.toFixed(0)} MiB)`
        : r.signal !== null
          ? `signal ${r.signal}`
          : `exit ${r.code}`;
  const e = errorOf(r);
  const line = e === undefined ? (r.stderr.split('\n')[0] ?? '') : `error [${e.code}]: ${e.message}`;
  return `${how}${line === '' ? '' : `: ${line.slice(0, 200)}`}`;
}

/** A refusal with a typed error: non-zero exit, an `error [ERR_...]` that is not ERR_CLI_INTERNAL. */
function typedRefusal(r: Run): string | undefined {
  if (r.killed !== undefined || r.signal !== null) return ended(r);
  if (r.code === 0) return 'exit 0 (not refused)';
  const code = errorCode(r);
  if (code === undefined) return `no typed error (${ended(r)})`;
  if (code === 'ERR_CLI_INTERNAL') return `an internal error (${ended(r)})`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Results

class Attack {
  tries = 0;
  /** Failed tries. */
  failed = 0;
  /** What went wrong, one line per failure (or per kind of failure, with a count). */
  readonly failures: string[] = [];
  skipped: string | undefined;
  /** Figures worth showing on the attack's line. */
  note: string | undefined;

  constructor(readonly name: string) {}

  /** One try: `body` answers undefined (passed) or what went wrong. */
  async try(label: string, body: () => Promise<string | undefined> | string | undefined): Promise<void> {
    this.tries++;
    try {
      const failure = await body();
      if (failure !== undefined) this.fail(`${label}: ${failure}`);
    } catch (e) {
      this.fail(`${label}: the try itself failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  /** A try with no command behind it (the count of a checked thing), failed or not. */
  count(label: string, failure: string | undefined): void {
    this.tries++;
    if (failure !== undefined) this.fail(`${label}: ${failure}`);
  }

  fail(detail: string, times = 1): void {
    this.failed += times;
    this.failures.push(times === 1 ? detail : `${detail} (${times} times)`);
  }

  /** Seconds the attack (or the group it opens) took. */
  seconds: number | undefined;

  print(): void {
    const head = `${this.name.padEnd(22)} tries ${String(this.tries).padStart(4)}  failures ${this.failed}`;
    const extra = [
      this.seconds === undefined ? undefined : `${this.seconds.toFixed(1)} s`,
      this.note,
      this.skipped === undefined ? undefined : `skipped: ${this.skipped}`,
    ].filter((x) => x !== undefined);
    console.log(extra.length === 0 ? head : `${head}  (${extra.join('; ')})`);
    for (const f of this.failures) console.log(`    - ${f}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures: a CA and pairs made with the library, files in a scratch directory

interface Pair {
  readonly keyFile: string;
  readonly certFile: string;
  /** SHA-256 of the leaf's DER, hex. */
  readonly fp: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Fixtures {
  dir: string;
  rootFile: string;
  chainFile: string;
  pairs: Pair[];
  /** Expired, with its own key. */
  expired: Pair;
  rsaKeyFile: string;
  pfxFile: string;
  /** A 253-character domain and a 253-character wildcard, with a pair for each. */
  long: { domain: string; pair: Pair }[];
}

/** A name of exactly `length` characters: labels of up to 63 characters, then `.test`. */
function longName(length: number, first = 'a'): string {
  let left = length - '.test'.length;
  const labels: string[] = [];
  let c = first.charCodeAt(0);
  while (left > 0) {
    const dot = labels.length === 0 ? 0 : 1;
    let n = Math.min(63, left - dot);
    if (left - dot - n === 1) n--; // what is left must hold a dot and a character, or be nothing
    labels.push(String.fromCharCode(c++).repeat(n));
    left -= n + dot;
  }
  const name = `${labels.join('.')}.test`;
  if (name.length !== length) throw new Error(`longName: ${name.length} != ${length}`);
  return name;
}

async function makeFixtures(dir: string, pairs: number, longNames: boolean): Promise<Fixtures> {
  const now = Date.now();
  const ca = await createCertificateAuthority({
    name: 'mailtls attack root',
    intermediate: true,
    keyType: 'ec',
    notBefore: new Date(now - 86_400_000),
    days: 3650,
  });
  const rootFile = join(dir, 'root.pem');
  const chainFile = join(dir, 'intermediate.pem');
  writeFileSync(rootFile, ca.root.certPEM);
  writeFileSync(chainFile, ca.intermediate!.certPEM);
  let n = 0;
  const issue = async (
    commonName: string,
    hostnames: readonly string[],
    validity: { notBefore: Date; notAfter: Date },
  ): Promise<Pair> => {
    const csr = await createCSR({ subject: { commonName }, hostnames, keyType: 'ec' });
    const issued = await issueCertificate(csr.csrPEM, ca.issuer, validity);
    const i = n++;
    const keyFile = join(dir, `pair${i}.key`);
    const certFile = join(dir, `pair${i}.crt`);
    writeFileSync(keyFile, csr.keyPEM, { mode: 0o600 });
    writeFileSync(certFile, issued.certPEM);
    return { keyFile, certFile, fp: sha256(issued.certDER) };
  };
  const valid = { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000) };
  const list: Pair[] = [];
  for (let i = 0; i < pairs; i++) list.push(await issue(DOMAIN, HOSTS, valid));
  const expired = await issue(DOMAIN, HOSTS, {
    notBefore: new Date(now - 30 * 86_400_000),
    notAfter: new Date(now - 86_400_000),
  });
  const rsaKeyFile = join(dir, 'rsa.key');
  writeFileSync(rsaKeyFile, await encodePrivateKeyPEM(await generateKeyPair({ type: 'rsa' })), {
    mode: 0o600,
  });
  const first = list[0]!;
  const pfx = await createPKCS12({
    key: await parsePrivateKey(readFileSync(first.keyFile, 'utf8')),
    certificates: [readFileSync(first.certFile, 'utf8'), ca.intermediate!.certPEM],
    password: 'attack',
  });
  const pfxFile = join(dir, 'pair0.pfx');
  writeFileSync(pfxFile, pfx, { mode: 0o600 });
  const long: { domain: string; pair: Pair }[] = [];
  for (const domain of longNames ? [longName(253), `*.${longName(251, 'k')}`] : [])
    long.push({ domain, pair: await issue('long.test', [domain], valid) });
  return { dir, rootFile, chainFile, pairs: list, expired, rsaKeyFile, pfxFile, long };
}

// ---------------------------------------------------------------------------------------------------------
// Store helpers

const keyPath = (store: string, d = DOMAIN) =>
  join(store, 'private', `${d.replace(/^\*\./, '_wildcard.')}.key`);
const certPath = (store: string, d = DOMAIN) =>
  join(store, 'certs', `${d.replace(/^\*\./, '_wildcard.')}.crt`);

function installArgs(store: string, fx: Fixtures, pair: Pair, extra: readonly string[] = []): string[] {
  return [
    'install',
    '--store',
    store,
    '--cert',
    pair.certFile,
    '--chain',
    fx.chainFile,
    '--key',
    pair.keyFile,
    '--trust',
    fx.rootFile,
    ...extra,
  ];
}

/** `cp -a`: modes, owners and relative links as they are. */
function copyStore(from: string, to: string): string {
  const r = spawnSync('cp', ['-a', from, to]);
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
  return to;
}

/** The files a server is configured with: those `install --json` reported, else the store's usual paths. */
interface ServedFiles {
  key: string;
  cert: string;
}

function filesOf(store: string, install: Run | undefined, d = DOMAIN): ServedFiles {
  try {
    const files = (JSON.parse(install?.stdout ?? '') as { files?: Partial<ServedFiles> }).files;
    if (typeof files?.key === 'string' && typeof files.cert === 'string')
      return { key: files.key, cert: files.cert };
  } catch {
    // not JSON: the usual paths
  }
  return { key: keyPath(store, d), cert: certPath(store, d) };
}

/**
 * What a server configured with the key and certificate files would load, and whether the store is whole:
 * every link in certs/, private/ and each history/<name>/ resolves, both files parse in full (the chain is
 * the leaf and the intermediate), the key belongs to the certificate. Answers the leaf's fingerprint or a
 * problem.
 */
async function servedPair(
  store: string,
  files: ServedFiles = filesOf(store, undefined),
): Promise<{ fp: string } | { problem: string }> {
  const dirs = ['certs', 'private'];
  try {
    for (const name of readdirSync(join(store, 'history'))) dirs.push(join('history', name));
  } catch {
    // no history/ (or not a directory): the links below tell
  }
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(join(store, dir));
    } catch (e) {
      return { problem: `cannot list ${dir}/: ${(e as NodeJS.ErrnoException).code}` };
    }
    for (const name of names) {
      const p = join(store, dir, name);
      if (!lstatSync(p).isSymbolicLink()) continue;
      try {
        statSync(p);
      } catch {
        return { problem: `dangling link ${dir}/${name} -> ${readlinkSync(p)}` };
      }
    }
  }
  const rel = (p: string): string => (p.startsWith(`${store}/`) ? p.slice(store.length + 1) : p);
  let keyPEM: string;
  let certBytes: Uint8Array;
  try {
    keyPEM = readFileSync(files.key, 'utf8');
    certBytes = readFileSync(files.cert);
  } catch (e) {
    return { problem: `a server cannot open its files: ${(e as Error).message}` };
  }
  let key: Awaited<ReturnType<typeof parsePrivateKey>>;
  try {
    key = await parsePrivateKey(keyPEM);
  } catch (e) {
    return { problem: `${rel(files.key)} does not parse (partial?): ${(e as Error).message}` };
  }
  let certs: readonly { der: Uint8Array }[];
  try {
    certs = parseCertificateBundle(certBytes).certificates;
  } catch (e) {
    return { problem: `${rel(files.cert)} does not parse (partial?): ${(e as Error).message}` };
  }
  if (certs.length !== 2)
    return { problem: `${rel(files.cert)} holds ${certs.length} certificates, not leaf + intermediate` };
  if (!keyMatchesCertificate(key, certs[0]!.der))
    return { problem: `${rel(files.key)} does not belong to ${rel(files.cert)}` };
  return { fp: sha256(certs[0]!.der) };
}

interface Finding {
  severity: string;
  code: string;
  message: string;
}

async function check(
  store: string,
  fx: Fixtures,
  errorsOnly = false,
): Promise<{ run: Run; findings: Finding[] }> {
  const run = await cli([
    'check',
    '--store',
    store,
    '--trust',
    fx.rootFile,
    '--json',
    ...(errorsOnly ? ['--errors-only'] : []),
  ]);
  let findings: Finding[] = [];
  try {
    findings = (JSON.parse(run.stdout) as { findings: Finding[] }).findings;
  } catch {
    // no report (an error): findings stay empty
  }
  return { run, findings };
}

const listFindings = (fs: readonly Finding[]): string =>
  fs.length === 0 ? 'no findings' : fs.map((f) => `${f.severity} ${f.code}`).join(', ');

// ---------------------------------------------------------------------------------------------------------
// TLS clients against the mail server

interface Ports {
  smtp: number;
  imaps: number;
}

function readUntil(socket: net.Socket, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (re.test(text)) {
        cleanup();
        resolve(text);
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`connection closed after ${JSON.stringify(text.slice(0, 100))}`));
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}

/** One verified handshake (SMTP STARTTLS or IMAPS); answers the SHA-256 of the leaf served. */
async function handshake(kind: 'smtp' | 'imaps', ports: Ports, ca: string): Promise<string> {
  let plain: net.Socket | undefined;
  let secure: tls.TLSSocket | undefined;
  const timer = setTimeout(() => {
    plain?.destroy(new Error('timeout after 10 s'));
    secure?.destroy(new Error('timeout after 10 s'));
  }, 10_000);
  try {
    const options = { servername: `mail.${DOMAIN}`, ca, minVersion: 'TLSv1.2' as const };
    if (kind === 'smtp') {
      const p = net.connect({ host: '127.0.0.1', port: ports.smtp });
      plain = p;
      p.on('error', () => {});
      await readUntil(p, /^220 .*\r\n/m);
      p.write('EHLO attack.test\r\n');
      await readUntil(p, /^250 .*\r\n/m);
      p.write('STARTTLS\r\n');
      await readUntil(p, /^220 .*\r\n/m);
      secure = tls.connect({ ...options, socket: p });
    } else secure = tls.connect({ ...options, host: '127.0.0.1', port: ports.imaps });
    const s = secure;
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
    });
    return sha256(s.getPeerX509Certificate()!.raw);
  } finally {
    clearTimeout(timer);
    secure?.destroy();
    plain?.destroy();
  }
}

/** Handshakes in a loop (one SMTP STARTTLS and one IMAPS client) until stopped. */
function handshakeLoop(
  ports: Ports,
  ca: string,
  known: ReadonlySet<string>,
): { stop(): Promise<{ count: number; failures: string[] }> } {
  let running = true;
  let count = 0;
  const failures: string[] = [];
  const loop = async (kind: 'smtp' | 'imaps'): Promise<void> => {
    while (running) {
      count++;
      try {
        const fp = await handshake(kind, ports, ca);
        if (!known.has(fp))
          failures.push(`${kind}: served a certificate never installed (${fp.slice(0, 16)})`);
      } catch (e) {
        failures.push(`${kind}: ${(e as Error).message}`);
      }
    }
  };
  const loops = [loop('smtp'), loop('imaps')];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { count, failures };
    },
  };
}

/** Waits until both ports serve `fp` (the watcher polls every 200 ms); answers a problem after 15 s. */
async function waitServed(ports: Ports, ca: string, fp: string): Promise<string | undefined> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const [a, b] = await Promise.all([handshake('smtp', ports, ca), handshake('imaps', ports, ca)]);
      if (a === fp && b === fp) return undefined;
      last = `smtp ${a.slice(0, 12)}, imaps ${b.slice(0, 12)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return `the server does not serve the stored pair ${fp.slice(0, 12)} after 15 s (${last})`;
}

interface MailServer {
  ports: Ports & Record<string, number>;
  stop(): Promise<void>;
}

function startMailServer(store: string): Promise<MailServer> {
  const child = spawn(
    process.execPath,
    [MAIL_SERVER, '--store', store, '--base-port', '0', '--host', '127.0.0.1', '--poll-ms', '200'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 50) stderr.push(d.toString());
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the mail server printed no ready line in 30 s: ${out} ${stderr.join('')}`));
    }, 30_000);
    child.once('exit', (code) => reject(new Error(`the mail server exited (${code}): ${stderr.join('')}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\{.*\})$/m.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      const { ports } = JSON.parse(m[1]!) as { ports: Ports & Record<string, number> };
      child.stdout!.resume();
      resolve({
        ports,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The attacks

interface Context {
  fx: Fixtures;
  /** A store with pairs[0] installed that audits clean. */
  template: string;
  scratch: string;
  /** Next unused pair. */
  next(): Pair;
}

let serial = 0;
const fresh = (ctx: Context, what: string): string => {
  const p = join(ctx.scratch, `${what}-${serial++}`);
  mkdirSync(p);
  return p;
};

async function plantedLinks(ctx: Context): Promise<Attack> {
  const a = new Attack('planted-links');
  const { fx } = ctx;
  for (const dir of ['private', 'certs', 'csr', 'history'])
    for (const variant of ['fresh store', 'installed store'] as const)
      await a.try(`${dir}/ a symlink (${variant})`, async () => {
        const base = fresh(ctx, `planted-${dir}`);
        const elsewhere = join(base, 'elsewhere');
        const store = join(base, 'store');
        if (variant === 'fresh store') {
          mkdirSync(store);
          mkdirSync(elsewhere, { mode: 0o700 });
        } else {
          copyStore(ctx.template, store);
          mkdirSync(elsewhere);
          renameSync(join(store, dir), join(elsewhere, dir));
        }
        const target = variant === 'fresh store' ? elsewhere : join(elsewhere, dir);
        symlinkSync(target, join(store, dir));
        const pair = fx.pairs[1]!;
        const r = await cli(installArgs(store, fx, pair, ['--json']));
        if (r.code !== 0) return typedRefusal(r);
        const served = await servedPair(store, filesOf(store, r));
        if ('problem' in served) return `install exit 0, but ${served.problem}`;
        if (served.fp !== pair.fp) return 'install exit 0, but the store serves another pair';
        return undefined;
      });
  return a;
}

async function swappedFiles(ctx: Context): Promise<Attack[]> {
  const { fx } = ctx;
  const swapped = new Attack('swapped-key');
  const mvOver = (store: string, dir: string, from: string, to: string): void => {
    const t = join(store, dir, '.attack-tmp');
    writeFileSync(t, readFileSync(from), { mode: 0o600 });
    renameSync(t, to);
  };
  const mismatch = async (store: string): Promise<string | undefined> => {
    const { run, findings } = await check(store, fx);
    if (run.code === 0) return `check exit 0 (${listFindings(findings)})`;
    if (!findings.some((f) => f.code === 'KEY_MISMATCH' && f.severity === 'error'))
      return `check ${ended(run)}; no KEY_MISMATCH error (${listFindings(findings)})`;
    return undefined;
  };
  await swapped.try('another EC key mv-ed over private/<d>.key', async () => {
    const store = copyStore(ctx.template, join(fresh(ctx, 'swap'), 'store'));
    mvOver(store, 'private', fx.pairs[2]!.keyFile, keyPath(store));
    return mismatch(store);
  });
  await swapped.try('an RSA key mv-ed over private/<d>.key', async () => {
    const store = copyStore(ctx.template, join(fresh(ctx, 'swap'), 'store'));
    mvOver(store, 'private', fx.rsaKeyFile, keyPath(store));
    return mismatch(store);
  });
  await swapped.try('a valid certificate of another key mv-ed over certs/<d>.crt', async () => {
    const store = copyStore(ctx.template, join(fresh(ctx, 'swap'), 'store'));
    const t = join(store, 'certs', '.attack-tmp');
    writeFileSync(t, readFileSync(fx.pairs[2]!.certFile, 'utf8') + readFileSync(fx.chainFile, 'utf8'));
    renameSync(t, certPath(store));
    return mismatch(store);
  });

  const expired = new Attack('expired-cert');
  await expired.try('an expired certificate of another key mv-ed over certs/<d>.crt', async () => {
    const store = copyStore(ctx.template, join(fresh(ctx, 'expired'), 'store'));
    const t = join(store, 'certs', '.attack-tmp');
    writeFileSync(t, readFileSync(fx.expired.certFile, 'utf8') + readFileSync(fx.chainFile, 'utf8'));
    renameSync(t, certPath(store));
    const { run, findings } = await check(store, fx);
    const codes = new Set(findings.map((f) => f.code));
    const missing = ['CERT_EXPIRED', 'KEY_MISMATCH'].filter((c) => !codes.has(c));
    if (run.code === 0) return `check exit 0 (${listFindings(findings)})`;
    if (missing.length > 0) return `no ${missing.join(' nor ')} (${listFindings(findings)})`;
    if (!findings.some((f) => f.code === 'KEY_MISMATCH' && f.severity === 'error'))
      return `KEY_MISMATCH is not an error (${listFindings(findings)})`;
    return undefined;
  });
  return [swapped, expired];
}

/** `check --errors-only` must exit 1 with an error finding (the template audits clean). */
async function auditError(ctx: Context, store: string): Promise<string | undefined> {
  const { run, findings } = await check(store, ctx.fx, true);
  if (run.code === 1 && findings.some((f) => f.severity === 'error')) return undefined;
  return `check --errors-only ${ended(run)} (${listFindings(findings)})`;
}

async function writableDirs(ctx: Context): Promise<Attack> {
  const a = new Attack('writable-dirs');
  for (const dir of ['private', 'history'])
    await a.try(`${dir}/ chmod 0777`, async () => {
      const store = copyStore(ctx.template, join(fresh(ctx, 'chmod'), 'store'));
      chmodSync(join(store, dir), 0o777);
      return auditError(ctx, store);
    });
  return a;
}

async function foreignOwner(ctx: Context): Promise<Attack> {
  const a = new Attack('foreign-owner');
  if (!isRoot) {
    a.skipped = 'needs root to chown';
    return a;
  }
  const other = 65534;
  const targets: [string, (store: string) => string][] = [
    ['the key file', (s) => keyPath(s)],
    ['private/', (s) => join(s, 'private')],
    ['history/', (s) => join(s, 'history')],
    ['the store root', (s) => s],
  ];
  for (const [what, path] of targets)
    await a.try(`${what} owned by uid ${other}`, async () => {
      const store = copyStore(ctx.template, join(fresh(ctx, 'chown'), 'store'));
      chownSync(path(store), other, other);
      return auditError(ctx, store);
    });
  return a;
}

/** A child that writes zeros into a FIFO for ever (until killed or the reader goes). */
function feedForever(fifo: string): ChildProcess {
  const c = spawn('sh', ['-c', 'exec cat /dev/zero > "$0"', fifo], { stdio: 'ignore' });
  c.on('error', () => {});
  return c;
}

async function deviceInputs(ctx: Context): Promise<Attack> {
  const a = new Attack('device-inputs');
  const { fx } = ctx;
  const base = fresh(ctx, 'devices');
  const store = copyStore(ctx.template, join(base, 'store'));
  const out = join(base, 'out');
  mkdirSync(out);
  const bounded = (r: Run): string | undefined => {
    if (r.killed !== undefined || r.signal !== null) return ended(r);
    if (r.code !== 2 || errorCode(r) !== 'ERR_CLI_READ') return `not ERR_CLI_READ exit 2 (${ended(r)})`;
    if (r.peakMiB > LIMIT.rssMiB) return `peak RSS ${r.peakMiB.toFixed(0)} MiB`;
    return undefined;
  };
  const limits = { timeoutMs: LIMIT.ms, maxRssMiB: LIMIT.rssMiB };
  const p = fx.pairs[0]!;
  const tries: [string, string[]][] = [
    ['show /dev/zero', ['show', '/dev/zero']],
    ['verify --cert /dev/urandom', ['verify', '--cert', '/dev/urandom']],
    [
      'install --key /dev/zero',
      ['install', '--store', store, '--cert', p.certFile, '--key', '/dev/zero', '--trust', fx.rootFile],
    ],
    [
      'pfx import --pfx /dev/zero',
      ['pfx', 'import', '--pfx', '/dev/zero', '--password', 'x', '--out-dir', out],
    ],
    [
      'pfx import --password-file /dev/zero',
      ['pfx', 'import', '--pfx', fx.pfxFile, '--password-file', '/dev/zero', '--out-dir', out],
    ],
  ];
  for (const [label, args] of tries) await a.try(label, async () => bounded(await cli(args, limits)));
  const fifoTry = async (label: string, args: (fifo: string) => string[]): Promise<void> =>
    a.try(label, async () => {
      const fifo = join(fresh(ctx, 'fifo'), 'endless');
      const mk = spawnSync('mkfifo', [fifo]);
      if (mk.status !== 0) return `mkfifo failed: ${mk.stderr}`;
      const feeder = feedForever(fifo);
      try {
        return bounded(await cli(args(fifo), limits));
      } finally {
        feeder.kill('SIGKILL');
      }
    });
  await fifoTry('show <a FIFO fed for ever>', (f) => ['show', f]);
  await fifoTry('pfx import --password-file <a FIFO fed for ever, no newline>', (f) => [
    'pfx',
    'import',
    '--pfx',
    fx.pfxFile,
    '--password-file',
    f,
    '--out-dir',
    out,
  ]);
  await a.try('show - <an endless pipe on standard input>', async () => {
    const feeder = spawn('cat', ['/dev/zero'], { stdio: ['ignore', 'pipe', 'ignore'] });
    feeder.on('error', () => {});
    feeder.stdout!.on('error', () => {});
    try {
      return bounded(await cli(['show', '-'], { ...limits, stdin: feeder.stdout! }));
    } finally {
      feeder.kill('SIGKILL');
    }
  });
  return a;
}

interface Identity {
  type: string;
  ino: number;
  rdev: number;
  mode: number;
  content?: string;
  link?: string;
}

function identity(p: string): Identity | undefined {
  let s: Stats;
  try {
    s = lstatSync(p);
  } catch {
    return undefined;
  }
  const type = s.isSymbolicLink()
    ? 'symlink'
    : s.isCharacterDevice()
      ? 'char device'
      : s.isFIFO()
        ? 'FIFO'
        : s.isSocket()
          ? 'socket'
          : s.isDirectory()
            ? 'directory'
            : s.isFile()
              ? 'file'
              : 'other';
  return {
    type,
    ino: s.ino,
    rdev: s.rdev,
    mode: s.mode,
    ...(type === 'file' ? { content: sha256(readFileSync(p)) } : {}),
    ...(type === 'symlink' ? { link: readlinkSync(p) } : {}),
  };
}

const same = (a: Identity | undefined, b: Identity | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);
const shown = (i: Identity | undefined): string => (i === undefined ? 'gone' : `a ${i.type}`);

async function forceTargets(ctx: Context): Promise<Attack> {
  const a = new Attack('force-targets');
  const { fx } = ctx;
  const p = fx.pairs[0]!;
  // the command writing `target` with --force
  const commands: [string, (target: string) => string[]][] = [
    ['key --out', (t) => ['key', '--type', 'ec', '--out', t, '--force']],
    [
      'pfx export --out',
      (t) => [
        'pfx',
        'export',
        '--key',
        p.keyFile,
        '--cert',
        p.certFile,
        '--password',
        'x',
        '--out',
        t,
        '--force',
      ],
    ],
  ];
  let mknod: string | undefined;
  /** A character device like /dev/null (1,3) at `path`, or why not. */
  const charDevice = (path: string): boolean => {
    const r = spawnSync('mknod', ['-m', '0666', path, 'c', '1', '3']);
    if (r.status !== 0) mknod = `mknod: ${String(r.stderr).trim() || 'not permitted'}`;
    return r.status === 0;
  };
  /** A special file (device, FIFO, socket, directory) must stay exactly as it was. */
  const special = async (
    label: string,
    make: (path: string) => Promise<(() => void) | undefined> | boolean,
    args: (t: string) => string[],
  ): Promise<void> => {
    const dir = fresh(ctx, 'force');
    const target = join(dir, 'target');
    const made = await make(target);
    if (made === false) return;
    await a.try(label, async () => {
      try {
        const before = identity(target);
        const r = await cli(args(target), { timeoutMs: LIMIT.ms });
        const after = identity(target);
        if (!same(before, after)) return `${shown(before)} became ${shown(after)} (${ended(r)})`;
        return typedRefusal(r);
      } finally {
        if (typeof made === 'function') made();
      }
    });
  };
  for (const [name, args] of commands) {
    await special(`${name} <char device> --force`, (t) => charDevice(t), args);
    await special(`${name} <FIFO> --force`, (t) => spawnSync('mkfifo', [t]).status === 0, args);
    await special(
      `${name} <directory> --force`,
      (t) => {
        mkdirSync(t);
        return true;
      },
      args,
    );
  }
  await special(
    'key --out <Unix socket> --force',
    async (t) => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(t, resolve));
      return () => server.close();
    },
    commands[0]![1],
  );
  // pfx import --out-dir: privkey.pem is a character device
  {
    const dir = fresh(ctx, 'force-import');
    const dev = join(dir, 'privkey.pem');
    if (charDevice(dev))
      await a.try('pfx import --out-dir <privkey.pem a char device> --force', async () => {
        const before = identity(dev);
        const r = await cli(
          ['pfx', 'import', '--pfx', fx.pfxFile, '--password', 'attack', '--out-dir', dir, '--force'],
          { timeoutMs: LIMIT.ms },
        );
        const after = identity(dev);
        if (!same(before, after)) return `privkey.pem: ${shown(before)} became ${shown(after)} (${ended(r)})`;
        return typedRefusal(r);
      });
  }
  // symbolic links: what they point at never changes; the link stays (refused) or is replaced by a file
  const linked = async (
    label: string,
    args: (t: string) => string[],
    pointee: 'file' | 'device',
  ): Promise<void> => {
    const dir = fresh(ctx, 'force-link');
    const outside = fresh(ctx, 'outside');
    const victim = join(outside, 'victim');
    if (pointee === 'file') writeFileSync(victim, 'not to be overwritten\n', { mode: 0o644 });
    else if (!charDevice(victim)) return;
    const link = join(dir, 'link');
    symlinkSync(victim, link);
    await a.try(label, async () => {
      const before = identity(victim);
      const linkBefore = identity(link);
      const r = await cli(args(link), { timeoutMs: LIMIT.ms });
      const after = identity(victim);
      if (!same(before, after))
        return `written through the link: the ${pointee} outside changed (${ended(r)})`;
      const l = identity(link);
      if (r.code === 0) {
        if (l?.type !== 'file') return `exit 0 but ${link} is ${shown(l)}, not the new file`;
        return undefined;
      }
      if (!same(linkBefore, l)) return `refused, but the link became ${shown(l)}`;
      return typedRefusal(r);
    });
  };
  for (const [name, args] of commands) {
    await linked(`${name} <symlink to a file outside> --force`, args, 'file');
    await linked(`${name} <symlink to a char device> --force`, args, 'device');
  }
  if (mknod !== undefined) a.skipped = `character-device targets (${mknod})`;
  return a;
}

async function probeServername(_ctx: Context, server: MailServer): Promise<Attack> {
  const a = new Attack('probe-servername');
  const names: [string, string][] = [
    ['an IP address', '192.0.2.1'],
    ['a..b', 'a..b'],
    [
      'a 305-character name',
      Array.from({ length: 5 }, (_, i) => String.fromCharCode(97 + i).repeat(60)).join('.'),
    ],
  ];
  for (const [label, name] of names)
    await a.try(`--servername ${label}`, async () => {
      const r = await cli(
        ['probe', `smtp://127.0.0.1:${server.ports.smtp}`, '--servername', name, '--timeout', '5'],
        { timeoutMs: 20_000 },
      );
      if (r.code !== 2) return `not exit 2 (${ended(r)})`;
      return typedRefusal(r);
    });
  return a;
}

async function bigBundle(ctx: Context): Promise<Attack> {
  const a = new Attack('big-bundle');
  const { fx } = ctx;
  const dir = fresh(ctx, 'bundle');
  const file = join(dir, 'bundle-9999.pem');
  writeFileSync(file, readFileSync(fx.pairs[0]!.certFile, 'utf8').repeat(9999));
  const quick = (r: Run): string | undefined => {
    const refused = typedRefusal(r);
    if (refused !== undefined) return refused;
    if (r.ms > 5000) return `refused only after ${(r.ms / 1000).toFixed(1)} s`;
    return undefined;
  };
  const limits = { timeoutMs: LIMIT.ms, maxRssMiB: LIMIT.rssMiB };
  await a.try('show <9,999 certificates>', async () => quick(await cli(['show', file], limits)));
  await a.try('install --cert <9,999 certificates>', async () => {
    const store = copyStore(ctx.template, join(dir, 'store'));
    return quick(
      await cli(
        ['install', '--store', store, '--cert', file, '--key', fx.pairs[0]!.keyFile, '--trust', fx.rootFile],
        limits,
      ),
    );
  });
  return a;
}

async function longDomain(ctx: Context): Promise<Attack> {
  const a = new Attack('long-domain');
  const { fx } = ctx;
  /** A library call on a long name: fine when it works, or a typed refusal that is not a file-system error. */
  const typedLibrary = async (
    work: () => Promise<unknown>,
    installed: boolean,
  ): Promise<string | undefined> => {
    try {
      await work();
      return undefined;
    } catch (e) {
      if (!(e instanceof MailTlsError))
        return `a raw ${(e as Error).name}: ${(e as Error).message.slice(0, 160)}`;
      if (installed) return `${e.code} although install succeeded: ${e.message.slice(0, 160)}`;
      if (e.code === 'ERR_STORE_IO') return `ERR_STORE_IO (not refused up front): ${e.message.slice(0, 160)}`;
      return undefined;
    }
  };
  for (const { domain, pair } of fx.long) {
    const label = domain.startsWith('*.') ? 'a 253-character wildcard' : 'a 253-character domain';
    const store = copyStore(ctx.template, join(fresh(ctx, 'long'), 'store'));
    let installed = false;
    await a.try(`install --domain ${label}`, async () => {
      const r = await cli(installArgs(store, fx, pair, ['--domain', domain, '--json']));
      if (r.code === 0) {
        installed = true;
        const served = await servedPair(store, filesOf(store, r, domain));
        if ('problem' in served) return `install exit 0, but ${served.problem}`;
        return served.fp === pair.fp ? undefined : 'install exit 0, but the store serves another pair';
      }
      const refused = typedRefusal(r);
      if (refused !== undefined) return refused;
      const code = errorCode(r);
      if (code === 'ERR_STORE_IO' || /ENAMETOOLONG/.test(r.stderr))
        return `refused with a file-system error, not up front (${ended(r)})`;
      return undefined;
    });
    const library = new CertificateStore(store);
    await a.try(`library store.load(${label})`, () => typedLibrary(() => library.load(domain), installed));
    await a.try(`library store.remove(${label})`, () =>
      typedLibrary(() => library.remove(domain), installed),
    );
    // what a crashed or older writer may leave: history/<name>/ (when the name fits a file name at all)
    const leftover = join(store, 'history', domain.replace(/^\*\./, '_wildcard.'));
    let planted = false;
    try {
      mkdirSync(leftover, { recursive: true, mode: 0o700 });
      planted = true;
    } catch {
      // ENAMETOOLONG: nothing can be left over under that name
    }
    if (planted)
      await a.try(`library store.remove(${label}) with history/<name>/ left over`, () =>
        typedLibrary(() => library.remove(domain), false),
      );
  }
  return a;
}

async function killAndRace(ctx: Context, server: MailServer, store: string): Promise<Attack[]> {
  const { fx } = ctx;
  const kill = new Attack('kill-9-install');
  const race = new Attack('concurrent-installs');
  const shakes = new Attack('handshakes');
  const ca = readFileSync(fx.rootFile, 'utf8');
  const known = new Set(fx.pairs.map((p) => p.fp));
  const loop = handshakeLoop(server.ports, ca, known);
  let current = fx.pairs[0]!.fp;
  let killedMidway = 0;

  // Kills land at random points of an install: half anywhere in the time a whole install takes here (start-up,
  // reading, checking, writing), half in the span the writer holds the store's lock (where the files change),
  // timed from the moment the lock file appears. Both spans are measured first, on this machine, now.
  const lockName = `${DOMAIN}.lock`;
  let onLock: ((event: string) => void) | undefined;
  const lockWatcher = watch(join(store, 'locks'), (event, name) => {
    if (name === lockName) onLock?.(event);
  });
  let duration = 2000;
  let lockSpan = 50;
  await kill.try('an uncontested install (to time the kills)', async () => {
    const pair = ctx.next();
    const lockTimes: number[] = [];
    onLock = () => lockTimes.push(performance.now());
    const r = await cli(installArgs(store, fx, pair));
    onLock = undefined;
    if (r.code !== 0) return `install ${ended(r)}`;
    duration = r.ms;
    if (lockTimes.length >= 2) lockSpan = lockTimes[lockTimes.length - 1]! - lockTimes[0]!;
    current = pair.fp;
    return waitServed(server.ports, ca, current);
  });
  const tries = 10;
  let inLock = 0;
  for (let i = 0; i < tries; i++) {
    const pair = ctx.next();
    const afterLock = i % 2 === 1;
    const at = afterLock
      ? Math.round(lockSpan * 1.2 * (randomInt(0, 1000) / 1000))
      : Math.round(duration * (0.2 + (0.9 * randomInt(0, 1000)) / 1000));
    await kill.try(`kill -9 ${at} ms after ${afterLock ? 'the lock appeared' : 'the start'}`, async () => {
      const run = spawnRun(CLI, installArgs(store, fx, pair));
      let timer: NodeJS.Timeout | undefined;
      if (afterLock)
        onLock = () => {
          onLock = undefined;
          timer = setTimeout(() => run.child.kill('SIGKILL'), at);
        };
      else timer = setTimeout(() => run.child.kill('SIGKILL'), at);
      const r = await run;
      onLock = undefined;
      clearTimeout(timer);
      if (r.signal === 'SIGKILL') {
        killedMidway++;
        if (afterLock) inLock++;
      } else if (r.code !== 0) return `the install, not killed, ${ended(r)}`;
      const served = await servedPair(store);
      if ('problem' in served) return served.problem;
      if (served.fp !== current && served.fp !== pair.fp)
        return 'the store holds neither the old nor the new pair';
      current = served.fp;
      return waitServed(server.ports, ca, current);
    });
  }
  lockWatcher.close();
  await kill.try('an install after the kills (no lock left behind)', async () => {
    const pair = ctx.next();
    const r = await cli(installArgs(store, fx, pair));
    if (r.code !== 0) return `install ${ended(r)}`;
    current = pair.fp;
    return waitServed(server.ports, ca, current);
  });
  await kill.try('check after the kills', async () => {
    const { run, findings } = await check(store, fx);
    return run.code === 0 ? undefined : `check ${ended(run)} (${listFindings(findings)})`;
  });

  // 10 at once
  const racers = Array.from({ length: 10 }, () => ctx.next());
  const runs = await Promise.all(racers.map((pair) => cli(installArgs(store, fx, pair))));
  const succeeded = new Set<string>();
  runs.forEach((r, i) => {
    let failure: string | undefined;
    if (r.code === 0) succeeded.add(racers[i]!.fp);
    else if (!(r.code === 1 && errorCode(r) === 'ERR_STORE_LOCKED')) failure = ended(r);
    race.count(`install #${i + 1} of 10 at once`, failure);
  });
  await race.try('the store after the race', async () => {
    const served = await servedPair(store);
    if ('problem' in served) return served.problem;
    const allowed = succeeded.size === 0 ? new Set([current]) : succeeded;
    if (!allowed.has(served.fp)) return 'the store serves a pair whose install did not succeed';
    current = served.fp;
    return waitServed(server.ports, ca, current);
  });
  await race.try('check after the race', async () => {
    const { run, findings } = await check(store, fx);
    return run.code === 0 ? undefined : `check ${ended(run)} (${listFindings(findings)})`;
  });

  const result = await loop.stop();
  shakes.tries = result.count;
  const grouped = new Map<string, number>();
  for (const f of result.failures) grouped.set(f, (grouped.get(f) ?? 0) + 1);
  for (const [f, n] of grouped) shakes.fail(f, n);
  kill.note =
    `${killedMidway} of ${tries} installs killed before they ended, ${inLock} of them after taking the lock ` +
    `(install ${(duration / 1000).toFixed(1)} s, lock held ${lockSpan.toFixed(0)} ms)`;
  race.note = `${succeeded.size} installed, ${runs.length - succeeded.size} refused`;
  shakes.note = 'SMTP STARTTLS and IMAPS during the two attacks above';
  return [kill, race, shakes];
}

// ---------------------------------------------------------------------------------------------------------
// main

/** The attack groups, by the names `--only` takes (a group prints one line per attack in it). */
const GROUPS = [
  'planted-links',
  'swapped-key',
  'writable-dirs',
  'foreign-owner',
  'device-inputs',
  'force-targets',
  'probe-servername',
  'big-bundle',
  'long-domain',
  'kill-9-install',
] as const;
type Group = (typeof GROUPS)[number];

function parseOptions(argv: readonly string[]): { only: ReadonlySet<Group> } {
  let only: Set<Group> = new Set(GROUPS);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = argv[++i];
    if (a === '--cli' && value !== undefined) CLI = value;
    else if (a === '--only' && value !== undefined) {
      const names = value.split(',');
      const unknown = names.filter((n) => !(GROUPS as readonly string[]).includes(n));
      if (unknown.length > 0) {
        console.error(`unknown attack ${unknown.join(', ')}: give --only with some of ${GROUPS.join(', ')}`);
        process.exit(2);
      }
      only = new Set(names as Group[]);
    } else {
      console.error(`usage: attack [--only ${GROUPS[0]},...] [--cli dist/cli/main.js]`);
      process.exit(2);
    }
  }
  return { only };
}

async function main(): Promise<number> {
  const { only } = parseOptions(process.argv.slice(2));
  const needServer = only.has('probe-servername') || only.has('kill-9-install');
  for (const f of needServer ? [CLI, MAIL_SERVER] : [CLI])
    if (!existsSync(f)) {
      console.error(`${f} is missing: run "npm run attack" (it builds first)`);
      return 2;
    }
  const started = performance.now();
  const scratch = mkdtempSync(join(tmpdir(), 'mailtls-attack-'));
  let server: MailServer | undefined;
  try {
    // kill-9-install uses a new pair per install (12, and 10 racing); the others need 3
    const fx = await makeFixtures(scratch, only.has('kill-9-install') ? 26 : 3, only.has('long-domain'));
    let used = 3; // 0: the template, 1: planted links, 2: the swapped key
    const ctx: Context = {
      fx,
      template: join(scratch, 'template'),
      scratch,
      next: () => {
        const p = fx.pairs[used++];
        if (p === undefined) throw new Error('out of fixture pairs');
        return p;
      },
    };
    const setup = await cli(installArgs(ctx.template, fx, fx.pairs[0]!));
    if (setup.code !== 0) throw new Error(`setting up the template store: install ${ended(setup)}`);
    const baseline = await check(ctx.template, fx);
    if (baseline.run.code !== 0)
      throw new Error(`the template store does not audit clean: ${listFindings(baseline.findings)}`);

    const serving = copyStore(ctx.template, join(scratch, 'serving'));
    if (needServer) server = await startMailServer(serving);

    const attacks: Attack[] = [];
    /** Runs a group of attacks and prints each line as soon as the group is done (with its time). */
    const show = async (name: Group, group: () => Promise<Attack | Attack[]>): Promise<void> => {
      if (!only.has(name)) return;
      const t = performance.now();
      const done = await group();
      const list = Array.isArray(done) ? done : [done];
      list[0]!.seconds = (performance.now() - t) / 1000;
      for (const a of list) {
        a.print();
        attacks.push(a);
      }
    };
    await show('planted-links', () => plantedLinks(ctx));
    await show('swapped-key', () => swappedFiles(ctx));
    await show('writable-dirs', () => writableDirs(ctx));
    await show('foreign-owner', () => foreignOwner(ctx));
    await show('device-inputs', () => deviceInputs(ctx));
    await show('force-targets', () => forceTargets(ctx));
    await show('probe-servername', () => probeServername(ctx, server!));
    await show('big-bundle', () => bigBundle(ctx));
    await show('long-domain', () => longDomain(ctx));
    await show('kill-9-install', () => killAndRace(ctx, server!, serving));

    const tries = attacks.reduce((n, a) => n + a.tries, 0);
    const failed = attacks.reduce((n, a) => n + a.failed, 0);
    console.log(`(ran in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    console.log(`${tries - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
