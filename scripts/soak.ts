/**
 * `npm run soak`: minutes of TLS handshakes on 127.0.0.1 while certificates rotate, with hot reload.
 *
 *   npm run soak                          # 3 minutes, 200 concurrent clients
 *   npm run soak -- --seconds 60 --clients 300 --rotate-ms 1500
 *
 * The main thread serves one mailtls store through an SNI registry kept up to date by `watchCredentials`:
 * an SMTP server with STARTTLS (`upgradeToTLS`), an implicit-TLS server through the peeking path
 * (`createPeekingTLSServer`) and one through node's SNI path (`createTLSServer`). Worker threads run the
 * clients, half SMTP STARTTLS sessions (EHLO, STARTTLS, EHLO, QUIT), half implicit TLS (greeting, QUIT), each
 * a full handshake that verifies the chain and the host name, in a loop until the end. Meanwhile the
 * certificate of `mail.example.test` (names mail. and smtp.) is replaced through `store.install` every
 * `--rotate-ms`, and every fifth time a bad file is dropped into the store by hand instead (a corrupt
 * certificate, a key that does not belong, a truncated certificate): the watcher must refuse it, report it
 * once, and keep the old certificate serving. `imap.example.test` stays put.
 *
 * Goals (exit 1 if any is missed): no failed handshake or session; every client got the certificate in
 * service while it connected (the old or the new one, never another); every bad drop reported exactly once
 * and no other reload error; no server-side TLS error; file descriptors back to the start figure at the end;
 * memory flat: the server thread's heap after GC within +25 % (or +16 MiB) of the figure after warm-up, and
 * the process RSS (servers and clients) in the last third of the run within +15 % (+16 MiB) of the first
 * third (median of the 10-second samples). Printed every 10 s: sessions, failures, rotations, open
 * descriptors and server sockets, RSS, the server's and the clients' heaps.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface Options {
  seconds: number;
  clients: number;
  rotateMs: number;
  workers: number;
}

/** Shared Int32Array slots. */
const SERVING = 0;
const STOP = 1;

/** What the main thread tells the workers. */
interface WorkerInput {
  readonly ports: { smtp: number; peeking: number; node: number };
  readonly ca: string;
  readonly clients: number;
  readonly first: number;
  readonly shared: SharedArrayBuffer;
  readonly fingerprints: string[];
  readonly imapFingerprint: string;
}

/** What a worker reports at the end. */
interface WorkerReport {
  handshakes: number;
  starttls: number;
  implicit: number;
  failures: number;
  wrong: number;
  reused: number;
  samples: string[];
  seen: number[];
}

type WorkerMessage =
  | { type: 'fingerprint'; index: number; fingerprint: string }
  | { type: 'progress' }
  | { type: 'report'; report: WorkerReport }
  | { type: 'ack'; index: number }
  | { type: 'progress-reply'; handshakes: number; failures: number; wrong: number; heap: number };

// ---------------------------------------------------------------------------------------------------------
// worker: the clients

/** Reads CRLF lines from a socket; `reply()` answers one SMTP reply (its last line). */
class LineReader {
  #buffer = '';
  #waiting: ((line: string) => void) | undefined;
  #lines: string[] = [];
  readonly #onData = (d: Buffer): void => {
    this.#buffer += d.toString('latin1');
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      this.#lines.push(this.#buffer.slice(0, nl).replace(/\r$/, ''));
      this.#buffer = this.#buffer.slice(nl + 1);
    }
    this.#drain();
  };
  #socket: net.Socket | undefined;

  attach(socket: net.Socket): void {
    this.#socket = socket;
    socket.on('data', this.#onData);
  }

  /** Stops reading (before handing the socket to TLS); answers whether bytes were left unread. */
  detach(): boolean {
    this.#socket?.removeListener('data', this.#onData);
    this.#socket = undefined;
    return this.#buffer.length > 0 || this.#lines.length > 0;
  }

  #drain(): void {
    if (this.#waiting && this.#lines.length > 0) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w(this.#lines.shift()!);
    }
  }

  line(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#drain();
    });
  }

  /** The last line of a (multi-line) SMTP reply. */
  async reply(): Promise<string> {
    for (;;) {
      const l = await this.line();
      if (!/^\d{3}-/.test(l)) return l;
    }
  }
}

function expect(line: string, code: string, step: string): void {
  if (!line.startsWith(code))
    throw new Error(`${step}: expected ${code}, got ${JSON.stringify(line.slice(0, 80))}`);
}

function secureConnect(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(options, () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function plainConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

const clientContexts = new Map<string, tls.SecureContext>();

/**
 * One client context per TLS version, shared by a worker's connections (as a real client would): without it,
 * every `tls.connect` builds a context and parses the CA again, and that garbage would blur the server's
 * memory figures. Sessions are never offered (no `session` option), so each handshake is a full one.
 */
function clientContext(input: WorkerInput, version: tls.SecureVersion): tls.SecureContext {
  let c = clientContexts.get(version);
  if (c === undefined) {
    c = tls.createSecureContext({ ca: input.ca, maxVersion: version });
    clientContexts.set(version, c);
  }
  return c;
}

/** One session; answers the leaf fingerprint and whether the session was resumed. */
async function session(
  kind: 'starttls' | 'peeking' | 'node',
  input: WorkerInput,
  servername: string,
  version: tls.SecureVersion,
): Promise<{ fingerprint: string; reused: boolean }> {
  const reader = new LineReader();
  let plain: net.Socket | undefined;
  let secure: tls.TLSSocket | undefined;
  const timer = setTimeout(() => {
    plain?.destroy(new Error('session timeout'));
    secure?.destroy(new Error('session timeout'));
  }, 30_000);
  try {
    if (kind === 'starttls') {
      plain = await plainConnect(input.ports.smtp);
      plain.on('error', () => {});
      reader.attach(plain);
      expect(await reader.reply(), '220', 'greeting');
      plain.write('EHLO soak.client.test\r\n');
      expect(await reader.reply(), '250', 'EHLO');
      plain.write('STARTTLS\r\n');
      expect(await reader.reply(), '220', 'STARTTLS');
      if (reader.detach()) throw new Error('plaintext after the STARTTLS reply');
      secure = await secureConnect({
        socket: plain,
        servername,
        secureContext: clientContext(input, version),
      });
    } else {
      const port = kind === 'peeking' ? input.ports.peeking : input.ports.node;
      secure = await secureConnect({
        host: '127.0.0.1',
        port,
        servername,
        ca: input.ca,
        maxVersion: version,
      });
    }
    secure.on('error', () => {});
    // getPeerCertificate (plain JS, Buffers) rather than getPeerX509Certificate: native X509 objects are small
    // to V8, collected rarely, and would make the clients' memory grow in the figures.
    const fingerprint = secure.getPeerCertificate().fingerprint256 ?? 'none';
    const reused = secure.isSessionReused();
    const r2 = new LineReader();
    r2.attach(secure);
    if (kind !== 'starttls') expect(await r2.reply(), '220', 'TLS greeting');
    secure.write('EHLO soak.client.test\r\n');
    expect(await r2.reply(), '250', 'EHLO over TLS');
    secure.write('QUIT\r\n');
    expect(await r2.reply(), '221', 'QUIT');
    secure.end();
    return { fingerprint, reused };
  } finally {
    clearTimeout(timer);
    secure?.destroy();
    plain?.destroy();
  }
}

async function workerMain(): Promise<void> {
  const input = workerData as WorkerInput;
  const shared = new Int32Array(input.shared);
  const fingerprints = new Map<string, number>(input.fingerprints.map((f, i) => [f, i]));
  const report: WorkerReport = {
    handshakes: 0,
    starttls: 0,
    implicit: 0,
    failures: 0,
    wrong: 0,
    reused: 0,
    samples: [],
    seen: [],
  };
  const seen = new Set<number>();
  const port = parentPort!;
  port.on('message', (m: WorkerMessage) => {
    if (m.type === 'fingerprint') {
      fingerprints.set(m.fingerprint, m.index);
      port.postMessage({ type: 'ack', index: m.index } satisfies WorkerMessage);
    } else if (m.type === 'progress') {
      port.postMessage({
        type: 'progress-reply',
        handshakes: report.handshakes,
        failures: report.failures,
        wrong: report.wrong,
        heap: process.memoryUsage().heapUsed,
      } satisfies WorkerMessage);
    }
  });
  const note = (text: string): void => {
    if (report.samples.length < 20) report.samples.push(text);
  };
  const client = async (c: number): Promise<void> => {
    const kind = (['starttls', 'peeking', 'starttls', 'node'] as const)[(input.first + c) % 4]!;
    const servername = ['mail.example.test', 'smtp.example.test', 'imap.example.test'][
      (input.first + c) % 3
    ]!;
    const version: tls.SecureVersion = (input.first + c) % 2 === 0 ? 'TLSv1.3' : 'TLSv1.2';
    while (Atomics.load(shared, STOP) === 0) {
      const from = Atomics.load(shared, SERVING);
      let result: { fingerprint: string; reused: boolean };
      try {
        result = await session(kind, input, servername, version);
      } catch (e) {
        report.handshakes++;
        report.failures++;
        note(`${kind} ${servername} ${version}: ${(e as Error).message}`);
        continue;
      }
      const to = Atomics.load(shared, SERVING);
      report.handshakes++;
      if (kind === 'starttls') report.starttls++;
      else report.implicit++;
      if (result.reused) report.reused++;
      if (servername === 'imap.example.test') {
        if (result.fingerprint !== input.imapFingerprint) {
          report.wrong++;
          note(`${servername}: got ${result.fingerprint.slice(0, 17)}, not the imap certificate`);
        }
        continue;
      }
      const index = fingerprints.get(result.fingerprint);
      if (index !== undefined) seen.add(index);
      if (index === undefined || index < from || index > to) {
        report.wrong++;
        note(`${kind} ${servername}: got #${index ?? '?'} while #${from}..#${to} were in service`);
      }
    }
  };
  await Promise.all(Array.from({ length: input.clients }, (_, c) => client(c)));
  report.seen = [...seen].sort((a, b) => a - b);
  port.postMessage({ type: 'report', report } satisfies WorkerMessage);
}

// ---------------------------------------------------------------------------------------------------------
// main: servers, rotation, figures

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { seconds: 180, clients: 200, rotateMs: 1000, workers: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Options;
    if (!a.startsWith('--') || !(key in o)) {
      console.error(`unknown argument ${a}; use --seconds N --clients N --rotate-ms N --workers N`);
      process.exit(2);
    }
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 1) {
      console.error(`${a} needs a positive whole number`);
      process.exit(2);
    }
    o[key] = v;
  }
  return o;
}

function openDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function openSockets(): number {
  try {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(join('/proc/self/fd', fd)).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  } catch {
    return -1;
  }
}

const MiB = 2 ** 20;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/** The median RSS of the last third of the samples is within +15 % (or +16 MiB) of the first third's. */
function rssFlat(series: readonly number[]): boolean {
  if (series.length < 3) return true;
  const third = Math.max(1, Math.floor(series.length / 3));
  const first = median(series.slice(0, third));
  const last = median(series.slice(-third));
  return last <= Math.max(first * 1.15, first + 16 * MiB);
}
const mib = (n: number): string => `${(n / MiB).toFixed(1)}`;

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { CertificateStore } = await import('../src/node/store/store.js');
  const { createSNIRegistry } = await import('../src/node/tls/sni-registry.js');
  const { watchCredentials } = await import('../src/node/tls/reload.js');
  const { createPeekingTLSServer, createTLSServer } = await import('../src/node/tls/servers.js');
  const { formatStartTLSReply, upgradeToTLS } = await import('../src/node/tls/starttls.js');
  const { issueLeaf, scratch, testCA } = await import('../test/node/helpers/store-fixtures.js');

  console.log(
    `soak: ${options.seconds} s, ${options.clients} clients in ${options.workers} workers, ` +
      `a rotation every ${options.rotateMs} ms (every 5th a bad file dropped in by hand)`,
  );
  const ca = await testCA();
  const dir = scratch('mailtls-soak-');
  try {
    const store = new CertificateStore(join(dir.path, 'store'), { trust: [ca.rootPEM] });
    const mailNames = ['mail.example.test', 'smtp.example.test'];
    const first = await issueLeaf(mailNames);
    const imap = await issueLeaf(['imap.example.test']);
    const fallback = await issueLeaf(['default.example.test']);
    await store.install({ cert: first.chainPEM, key: first.keyPEM });
    await store.install({ cert: imap.chainPEM, key: imap.keyPEM });
    const registry = createSNIRegistry({ key: fallback.keyPEM, cert: fallback.chainPEM });
    const watcher = watchCredentials(store, registry, { pollIntervalMs: 2000 });
    const fingerprints = [new X509Certificate(first.certPEM).fingerprint256];
    const shared = new Int32Array(new SharedArrayBuffer(8));
    let reloads = 0;
    const reloadErrors: { reason: string; message: string }[] = [];
    watcher.on('reload', (e) => {
      reloads++;
      if (e.domain !== 'mail.example.test') return;
      const index = fingerprints.indexOf(e.fingerprint);
      // written in the same synchronous step as the registry swap
      Atomics.store(shared, SERVING, index);
    });
    watcher.on('error', (e) => reloadErrors.push({ reason: String(e.details.reason), message: e.message }));
    const ready = await watcher.ready;
    if (ready.reloaded.length !== 2) throw new Error(`initial load: ${JSON.stringify(ready)}`);

    // servers
    const serverErrors: string[] = [];
    const serverError = (e: unknown): void => {
      if (serverErrors.length < 1000) serverErrors.push((e as Error).message ?? String(e));
    };
    const serveSecure = (s: tls.TLSSocket, greet: boolean): void => {
      s.on('error', () => {});
      if (greet) s.write('220 soak.example.test ESMTP\r\n');
      let buffer = '';
      s.on('data', (d: Buffer) => {
        buffer += d.toString('latin1');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const verb = buffer.slice(0, nl).trim().split(' ')[0]!.toUpperCase();
          buffer = buffer.slice(nl + 1);
          if (verb === 'EHLO') s.write('250-soak.example.test\r\n250 8BITMIME\r\n');
          else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
          else s.write('502 5.5.2 unknown\r\n');
        }
      });
    };
    const smtp = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write('220 soak.example.test ESMTP\r\n');
      let buffer = '';
      const onData = (d: Buffer): void => {
        buffer += d.toString('latin1');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const verb = buffer.slice(0, nl).trim().split(' ')[0]!.toUpperCase();
          buffer = buffer.slice(nl + 1);
          if (verb === 'EHLO') socket.write('250-soak.example.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n');
          else if (verb === 'STARTTLS') {
            socket.removeListener('data', onData);
            upgradeToTLS(socket, registry, {
              reply: formatStartTLSReply('smtp'),
              pipelined: Buffer.from(buffer, 'latin1'),
              timeoutMs: 30_000,
            }).then((secure) => serveSecure(secure, false), serverError);
            return;
          } else if (verb === 'QUIT') {
            socket.end('221 2.0.0 Bye\r\n');
            return;
          } else socket.write('502 5.5.2 unknown\r\n');
        }
      };
      socket.on('data', onData);
    });
    const peeking = createPeekingTLSServer(registry, { timeoutMs: 30_000 }, (s) => serveSecure(s, true));
    const nodeServer = createTLSServer(registry, {}, (s) => serveSecure(s, true));
    peeking.on('tlsClientError', serverError);
    nodeServer.on('tlsClientError', serverError);
    const servers = [smtp, peeking, nodeServer];
    const serverSockets = new Set<net.Socket>();
    for (const s of servers) {
      s.on('connection', (c: net.Socket) => {
        serverSockets.add(c);
        c.on('close', () => serverSockets.delete(c));
      });
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
    const ports = { smtp: portOf(smtp), peeking: portOf(peeking), node: portOf(nodeServer) };

    gc();
    const start = { fds: openDescriptors(), sockets: openSockets(), rss: process.memoryUsage().rss };
    console.log(`start: ${start.fds} descriptors (${start.sockets} sockets), RSS ${mib(start.rss)} MiB`);

    // clients
    const perWorker = Math.ceil(options.clients / options.workers);
    const workers: Worker[] = [];
    const reports: Promise<WorkerReport>[] = [];
    for (let w = 0; w < options.workers; w++) {
      const clients = Math.min(perWorker, options.clients - w * perWorker);
      if (clients <= 0) break;
      const input: WorkerInput = {
        ports,
        ca: ca.rootPEM,
        clients,
        first: w * perWorker,
        shared: shared.buffer as SharedArrayBuffer,
        fingerprints,
        imapFingerprint: new X509Certificate(imap.certPEM).fingerprint256,
      };
      const worker = new Worker(new URL(import.meta.url), { workerData: input });
      workers.push(worker);
      reports.push(
        new Promise((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'report') resolve(m.report);
          });
          worker.once('error', reject);
        }),
      );
    }
    const ask = async <T extends WorkerMessage['type']>(
      worker: Worker,
      message: WorkerMessage,
      reply: T,
    ): Promise<Extract<WorkerMessage, { type: T }>> =>
      new Promise((resolve) => {
        const on = (m: WorkerMessage): void => {
          if (m.type === reply) {
            worker.off('message', on);
            resolve(m as Extract<WorkerMessage, { type: T }>);
          }
        };
        worker.on('message', on);
        worker.postMessage(message);
      });

    // rotation and figures
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const warmupAt = started + Math.min(15_000, options.seconds * 100);
    let warm: { rss: number; heap: number } | undefined;
    let rotations = 0;
    let drops = 0;
    const dropKinds = ['corrupt certificate', 'key that does not belong', 'truncated certificate'] as const;
    const rssSeries: number[] = [];
    let nextReport = started + 10_000;
    const progress = async (): Promise<void> => {
      let handshakes = 0;
      let failures = 0;
      let wrong = 0;
      let workerHeap = 0;
      for (const w of workers) {
        const p = await ask(w, { type: 'progress' }, 'progress-reply');
        handshakes += p.handshakes;
        failures += p.failures;
        wrong += p.wrong;
        workerHeap += p.heap;
      }
      const m = process.memoryUsage();
      rssSeries.push(m.rss);
      console.log(
        `${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s: ${handshakes} handshakes, ` +
          `${failures} failures, ${wrong} wrong, ${rotations} rotations, ${drops} bad drops, ${reloads} reloads, ` +
          `${reloadErrors.length} reload errors; ${openDescriptors()} fds, ${serverSockets.size} server sockets, ` +
          `RSS ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB (clients ${mib(workerHeap)} MiB), ` +
          `external ${mib(m.external)} MiB`,
      );
    };
    const certFile = join(store.root, 'certs', 'mail.example.test.crt');
    const keyFile = join(store.root, 'private', 'mail.example.test.key');
    let nextRotation = started + options.rotateMs;
    while (Date.now() < deadline) {
      const wake = Math.min(nextRotation, nextReport, deadline);
      await new Promise((r) => setTimeout(r, Math.max(0, wake - Date.now())));
      if (Date.now() >= deadline) break;
      if (Date.now() < nextRotation) {
        // no rotation due: figures only
      } else if ((rotations + drops + 1) % 5 === 0) {
        // a bad file by hand, into the version directory in service
        const kind = dropKinds[drops % dropKinds.length]!;
        drops++;
        const expected = reloadErrors.length + 1;
        if (kind === 'corrupt certificate')
          writeFileSync(
            realpathSync(certFile),
            '-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----\n',
          );
        else if (kind === 'key that does not belong') writeFileSync(realpathSync(keyFile), fallback.keyPEM);
        else writeFileSync(realpathSync(certFile), first.chainPEM.slice(0, 200));
        for (let i = 0; i < 200 && reloadErrors.length < expected; i++)
          await new Promise((r) => setTimeout(r, 50));
        if (reloadErrors.length < expected) console.log(`  the ${kind} was not reported within 10 s`);
      } else {
        const pair = await issueLeaf(mailNames);
        const fingerprint = new X509Certificate(pair.certPEM).fingerprint256;
        const index = fingerprints.length;
        fingerprints.push(fingerprint);
        // every worker knows the new certificate before it can be served
        await Promise.all(workers.map((w) => ask(w, { type: 'fingerprint', index, fingerprint }, 'ack')));
        await store.install({ cert: pair.chainPEM, key: pair.keyPEM });
        rotations++;
      }
      if (Date.now() >= nextRotation) nextRotation = Date.now() + options.rotateMs;
      if (warm === undefined && Date.now() >= warmupAt) {
        gc();
        const m = process.memoryUsage();
        warm = { rss: m.rss, heap: m.heapUsed };
        console.log(`after warm-up: RSS ${mib(warm.rss)} MiB, heap ${mib(warm.heap)} MiB`);
      }
      if (Date.now() >= nextReport) {
        nextReport += 10_000;
        await progress();
      }
    }
    // let the last rotation reach the registry, then stop the clients (each finishes its session)
    await new Promise((r) => setTimeout(r, 500));
    Atomics.store(shared, STOP, 1);
    const all = await Promise.all(reports);
    await Promise.all(workers.map((w) => w.terminate()));
    watcher.close();
    await new Promise((r) => setTimeout(r, 500));
    gc();
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const endMemory = process.memoryUsage();
    const end = { fds: openDescriptors(), sockets: openSockets(), rss: endMemory.rss };
    for (const s of servers) s.close();
    const total = all.reduce(
      (t, r) => ({
        handshakes: t.handshakes + r.handshakes,
        starttls: t.starttls + r.starttls,
        implicit: t.implicit + r.implicit,
        failures: t.failures + r.failures,
        wrong: t.wrong + r.wrong,
        reused: t.reused + r.reused,
      }),
      { handshakes: 0, starttls: 0, implicit: 0, failures: 0, wrong: 0, reused: 0 },
    );
    const seen = new Set(all.flatMap((r) => r.seen));
    const seconds = (Date.now() - started) / 1000;
    const samples = all.flatMap((r) => r.samples).slice(0, 10);
    const unexpectedErrors = reloadErrors.filter(
      (e) =>
        !['ERR_PEM_INVALID_BASE64', 'ERR_KEY_MISMATCH'].includes(e.reason) &&
        !/^ERR_(PEM|DER|CERT)_/.test(e.reason),
    );
    const warmFigures = warm ?? { rss: start.rss, heap: endMemory.heapUsed };
    console.log('');
    console.log(`duration            ${seconds.toFixed(0)} s`);
    console.log(
      `sessions            ${total.handshakes} (${total.starttls} STARTTLS, ${total.implicit} implicit TLS; ` +
        `${Math.round(total.handshakes / seconds)}/s), ${total.reused} resumed`,
    );
    console.log(`failures            ${total.failures}`);
    console.log(`wrong certificate   ${total.wrong}`);
    console.log(
      `rotations           ${rotations} (${seen.size} of ${fingerprints.length} certificates seen by clients)`,
    );
    console.log(
      `bad drops           ${drops}, reported ${reloadErrors.length} (${[...new Set(reloadErrors.map((e) => e.reason))].join(', ')})`,
    );
    console.log(`reloads             ${reloads}`);
    console.log(`server TLS errors   ${serverErrors.length}`);
    console.log(
      `descriptors         ${start.fds} at start, ${end.fds} at end (sockets ${start.sockets} → ${end.sockets})`,
    );
    console.log(
      `memory              RSS ${mib(start.rss)} → ${mib(warmFigures.rss)} (warm) → ${mib(end.rss)} MiB; ` +
        `heap ${mib(warmFigures.heap)} (warm) → ${mib(endMemory.heapUsed)} MiB`,
    );
    console.log(`RSS every 10 s      ${rssSeries.map((r) => mib(r)).join(' ')} MiB`);
    for (const s of samples) console.log(`  sample: ${s}`);
    for (const e of serverErrors.slice(0, 5)) console.log(`  server error: ${e}`);
    for (const e of unexpectedErrors.slice(0, 5)) console.log(`  unexpected reload error: ${e.message}`);

    const goals: [string, boolean][] = [
      ['no failed session', total.failures === 0],
      ['only the old or the new certificate', total.wrong === 0],
      ['full handshakes only', total.reused === 0],
      ['sessions ran', total.handshakes > 0],
      ['every bad drop reported once', reloadErrors.length === drops && unexpectedErrors.length === 0],
      ['no server-side TLS error', serverErrors.length === 0],
      ['rotations reached the clients', seen.size >= Math.floor(rotations * 0.9)],
      ['descriptors back to the start figure', end.fds <= start.fds + 2],
      ['heap flat', endMemory.heapUsed <= Math.max(warmFigures.heap * 1.25, warmFigures.heap + 16 * MiB)],
      ['RSS flat', rssFlat(rssSeries)],
    ];
    console.log('');
    for (const [goal, ok] of goals) console.log(`${ok ? 'ok  ' : 'MISS'} ${goal}`);
    return goals.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    dir.cleanup();
  }
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  workerMain().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
