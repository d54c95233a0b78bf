/**
 * TLS serving benchmark (a script, not a test), on 127.0.0.1:
 *
 * 1. Start-up and memory: registering 10,000 names in an SNI registry (PEM strings only), then building every
 *    context; then, in another fresh process, building 3,000 of them under an LRU bound of 1,000 (RSS stays at
 *    about 1,000 contexts).
 * 2. Full handshakes per second (TLS 1.3, no session resumption, a new connection each time) through the
 *    registry with 1, 1,000 and 10,000 names (contexts warmed), for the ClientHello-peeking server and the
 *    SNICallback `tls.Server`, against a plain `tls.Server` with one static context (goal: ratio >= 0.95).
 *    Clients run in a separate process and pick a random registered name per connection.
 * 3. First-handshake latency of a name whose context is built lazily, next to a warm name.
 *
 * Credentials: 16 leaves made with the openssl CLI, each name holding its own copy of one of them (distinct
 * strings, as a store would hand over), so memory and build costs are real while set-up stays fast.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc build/bench/tls.bench.js [--key rsa|ec] [--seconds 1]
 */
import { spawn } from 'node:child_process';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { profileContextOptions } from '../src/node/secure-context.js';
import { createPeekingTLSServer, createTLSServer } from '../src/node/servers.js';
import { createSNIRegistry, type SNIRegistry } from '../src/node/sni-registry.js';
import { INTERMEDIATE_PROFILE } from '../src/profile.js';
import { type TestKeyType, testPKI } from '../test/node/helpers/openssl-pki.js';

const self = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};

interface Credential {
  key: string;
  cert: string;
}

function copy(s: string): string {
  // A fresh string with the same content (a store reads each file into its own string).
  return Buffer.from(s, 'latin1').toString('latin1');
}

function pool(keyType: TestKeyType): { def: Credential; leaves: Credential[] } {
  const pki = testPKI();
  const leaves = Array.from(
    { length: 16 },
    (_, i) => pki.leaf([`pool${i}.bench.test`], { keyType }).credential,
  );
  return { def: pki.leaf(['default.bench.test'], { keyType }).credential, leaves };
}

function fill(registry: SNIRegistry, n: number, leaves: Credential[]): void {
  for (let i = 0; i < n; i++) {
    const c = leaves[i % leaves.length]!;
    registry.add(`d${i}.bench.test`, { key: copy(c.key), cert: copy(c.cert) });
  }
}

const MiB = 2 ** 20;
const ROUNDS = 5;
function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

// ---- child: memory phase --------------------------------------------------------------------------------
async function memoryPhase(
  keyType: TestKeyType,
  n: number,
  build: number,
  maxContexts: number | undefined,
): Promise<void> {
  const { def, leaves } = pool(keyType);
  const registry = createSNIRegistry(def, maxContexts === undefined ? {} : { maxContexts });
  const base = rss();
  const t0 = performance.now();
  fill(registry, n, leaves);
  const registerMs = performance.now() - t0;
  const registered = rss();
  const t1 = performance.now();
  for (let i = 0; i < build; i++) registry.resolveSync(`d${i}.bench.test`);
  const buildMs = performance.now() - t1;
  const built = rss();
  process.stdout.write(
    `${JSON.stringify({
      n,
      build,
      maxContexts: maxContexts ?? null,
      registerMs,
      buildMs,
      registeredPerName: (registered - base) / n,
      builtPerContext: (built - registered) / Math.min(build, maxContexts ?? build),
      rssMiB: built / MiB,
      stats: registry.stats(),
    })}\n`,
  );
}

// ---- child: load generator ------------------------------------------------------------------------------
async function clientPhase(port: number, names: number, seconds: number, concurrency: number): Promise<void> {
  let done = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const servername = `d${Math.floor(Math.random() * names)}.bench.test`;
      const s = tls.connect({
        host: '127.0.0.1',
        port,
        servername,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
      });
      s.on('secureConnect', () => {
        done++;
        s.end();
      });
      s.on('error', () => {
        failed++;
        resolve();
      });
      s.on('close', () => resolve());
      s.resume();
    });
  const loop = async (): Promise<void> => {
    while (performance.now() < end) await one();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ done, failed, perSecond: done / secs })}\n`);
}

function runChild(args: string[], execArgv: string[] = []): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, self, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child ${args.join(' ')} exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

function serve(server: net.Server): void {
  server.on('secureConnection', (s: tls.TLSSocket) => {
    s.on('error', () => {});
    s.resume();
    s.end();
  });
  server.on('tlsClientError', () => {});
}

/** One client run (after a short warm-up): handshakes per second, and server CPU time per handshake. */
async function measure(port: number, names: number, seconds: number): Promise<{ rate: number; cpu: number }> {
  await runChild(['--client', String(port), String(names), '0.3', '16']);
  const before = process.cpuUsage();
  const r = await runChild(['--client', String(port), String(names), String(seconds), '16']);
  const used = process.cpuUsage(before);
  if (r.failed) console.log(`  (${r.failed} failed handshakes)`);
  return { rate: r.perSecond!, cpu: (used.user + used.system) / r.done! };
}

function connectOnce(port: number, servername: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const ms = performance.now() - t0;
      s.end();
      resolve(ms);
    });
    s.on('error', reject);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const keyType = arg('key', 'rsa') as TestKeyType;
  const seconds = Number(arg('seconds', '1'));
  const started = performance.now();
  const { def, leaves } = pool(keyType);
  console.log(`key type ${keyType}, 16 concurrent client connections in a separate process\n`);

  console.log('### Start-up and memory (fresh process each)\n');
  console.log(
    '| names registered | contexts built | LRU bound | register | RSS per registered name | build time (per context) | RSS per cached context | RSS at end |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [n, build, bound] of [
    [10_000, 10_000, undefined],
    [10_000, 3000, 1000],
  ] as const) {
    const m = await runChild(
      ['--memory', keyType, String(n), String(build), String(bound ?? '')],
      ['--expose-gc'],
    );
    console.log(
      `| ${n.toLocaleString('en')} | ${build.toLocaleString('en')} | ${bound?.toLocaleString('en') ?? 'none'} | ` +
        `${m.registerMs!.toFixed(0)} ms | ${(m.registeredPerName! / 1024).toFixed(1)} KiB | ` +
        `${(m.buildMs! / 1000).toFixed(1)} s (${(m.buildMs! / build).toFixed(2)} ms) | ` +
        `${(m.builtPerContext! / 1024).toFixed(1)} KiB | ${m.rssMiB!.toFixed(0)} MiB |`,
    );
  }

  console.log('\n### Full TLS 1.3 handshakes per second\n');
  console.log(
    `Each server is measured ${ROUNDS} times, ${seconds} s each, in alternation with the others. Handshakes per second`,
  );
  console.log(
    'depend on what else runs on the machine; the server CPU time per handshake (this process, all threads; the least',
  );
  console.log(
    'of the rounds, the one least disturbed) much less, so the capacity ratio (static / this, CPU per handshake) is the figure to compare.\n',
  );
  console.log(
    '| server | names | handshakes/s (median, range) | server CPU per handshake (least) | capacity ratio to static |',
  );
  console.log('|---|---:|---:|---:|---:|');
  const staticOptions = { ...def, ...profileContextOptions(INTERMEDIATE_PROFILE) };
  for (const n of [1, 1000, 10_000]) {
    const registry = createSNIRegistry(def);
    fill(registry, n, leaves);
    for (let i = 0; i < n; i++) registry.resolveSync(`d${i}.bench.test`);
    const servers: [string, net.Server][] = [
      ['tls.Server, one static context', tls.createServer(staticOptions)],
      ['createPeekingTLSServer (ClientHello read first)', createPeekingTLSServer(registry)],
      ['createTLSServer (SNICallback)', createTLSServer(registry)],
    ];
    const ports: number[] = [];
    for (const [, server] of servers) {
      serve(server);
      ports.push(await listen(server));
    }
    const results: { rate: number; cpu: number }[][] = servers.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < servers.length; i++) results[i]!.push(await measure(ports[i]!, n, seconds));
    }
    const baseCpu = Math.min(...results[0]!.map((x) => x.cpu));
    servers.forEach(([name], i) => {
      const rates = results[i]!.map((x) => x.rate);
      const cpu = Math.min(...results[i]!.map((x) => x.cpu));
      console.log(
        `| ${name} | ${n.toLocaleString('en')} | ${median(rates).toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}) | ` +
          `${(cpu / 1000).toFixed(2)} ms | ${(baseCpu / cpu).toFixed(2)} |`,
      );
    });
    for (const [, server] of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (keyType === 'rsa') {
    console.log(
      "\nWith RSA keys every context holds its own key object, whose first signature pays OpenSSL's one-time" +
        ' Montgomery set-up (about 0.3 ms);\nwith 10,000 names nearly every measured handshake is such a first use,' +
        ' while the static server signs with one warm key.',
    );
  }

  console.log(
    '\n### First handshake of a lazily built name (10,000 names registered, createPeekingTLSServer)\n',
  );
  const registry = createSNIRegistry(def);
  fill(registry, 10_000, leaves);
  const server = createPeekingTLSServer(registry);
  serve(server);
  const port = await listen(server);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 50; i++) cold.push(await connectOnce(port, `d${i}.bench.test`));
  for (let i = 0; i < 50; i++) warm.push(await connectOnce(port, `d${i}.bench.test`));
  server.close();
  console.log('| name | median connect-to-secure | max |');
  console.log('|---|---:|---:|');
  console.log(
    `| first use (context built on demand) | ${median(cold).toFixed(2)} ms | ${Math.max(...cold).toFixed(2)} ms |`,
  );
  console.log(
    `| warm (context cached) | ${median(warm).toFixed(2)} ms | ${Math.max(...warm).toFixed(2)} ms |`,
  );
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

if (argv[0] === '--client') {
  await clientPhase(Number(argv[1]), Number(argv[2]), Number(argv[3]), Number(argv[4]));
} else if (argv[0] === '--memory') {
  await memoryPhase(
    argv[1] as TestKeyType,
    Number(argv[2]),
    Number(argv[3]),
    argv[4] ? Number(argv[4]) : undefined,
  );
} else {
  await main();
}
