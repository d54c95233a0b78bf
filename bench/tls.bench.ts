/**
 * TLS serving benchmark (a script, not a test), on 127.0.0.1, for RSA-2048 and P-256 leaves:
 *
 * 1. Start-up and memory: registering 10,000 names in an SNI registry (PEM strings only), then building every
 *    context; then, in another fresh process, building 3,000 of them under an LRU bound of 1,000 (RSS stays at
 *    about 1,000 contexts); then 10,000 names registered four per credential object (one certificate's SANs),
 *    which share 2,500 contexts.
 * 2. Full handshakes per second (TLS 1.3, no session resumption, a new connection each time) through the
 *    registry with 1, 1,000 and 10,000 names, for the SNICallback `tls.Server` and the ClientHello-peeking
 *    server, against a plain `tls.Server` with one static context (goal: ratio >= 0.95), and against what a
 *    user would pick instead: node's own SNI table (`server.addContext` for every name). Clients run in a
 *    separate process and pick a random registered name per connection. Measured in steady state: every
 *    context is built and every name has been served once before the rounds (an RSA key's first signature
 *    pays a one-time set-up in OpenSSL; a row with 10,000 never-used keys shows that cost separately).
 *    Two rows show where the cost of many names lies: node's floor (the least an `SNICallback` can do, an array
 *    index handing over the very contexts the registry built) and a diagnostic (the same callback with only 16
 *    distinct contexts); a note gives the registry's own lookup time per handshake, measured alone.
 * 3. First-handshake latency of a name whose context is built lazily, next to a warm name.
 *
 * Credentials: 16 leaves made with the openssl CLI, each name holding its own copy of one of them (distinct
 * strings parsed into distinct key objects, as a store would hand over), so memory and build costs are real
 * while set-up stays fast.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc build/bench/tls.bench.js [--key rsa,ec] [--seconds 1] [--rounds 7]
 *     [--names 1,1000,10000] [--phases memory,handshakes,lazy]
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { profileContextOptions } from '../src/node/tls/secure-context.js';
import { createPeekingTLSServer, createTLSServer } from '../src/node/tls/servers.js';
import { createSNIRegistry, type SNIRegistry } from '../src/node/tls/sni-registry.js';
import { INTERMEDIATE_PROFILE } from '../src/tls/profile.js';
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

/** Registers d0..d(n-1); `perCredential` consecutive names share one credential object (one certificate's SANs). */
function fill(registry: SNIRegistry, n: number, leaves: Credential[], perCredential = 1): void {
  let credential: Credential | undefined;
  for (let i = 0; i < n; i++) {
    if (i % perCredential === 0) {
      const c = leaves[(i / perCredential) % leaves.length]!;
      credential = { key: copy(c.key), cert: copy(c.cert) };
    }
    registry.add(`d${i}.bench.test`, credential!);
  }
}

const MiB = 2 ** 20;
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
  perCredential: number,
): Promise<void> {
  const { def, leaves } = pool(keyType);
  const registry = createSNIRegistry(def, maxContexts === undefined ? {} : { maxContexts });
  const base = rss();
  const t0 = performance.now();
  fill(registry, n, leaves, perCredential);
  const registerMs = performance.now() - t0;
  const registered = rss();
  const t1 = performance.now();
  for (let i = 0; i < build; i++) registry.resolveIfReady(`d${i}.bench.test`)!;
  const buildMs = performance.now() - t1;
  const built = rss();
  const contexts = registry.stats().contexts - 1; // the default not counted
  process.stdout.write(
    `${JSON.stringify({
      n,
      build,
      maxContexts: maxContexts ?? null,
      registerMs,
      buildMs,
      registeredPerName: (registered - base) / n,
      contexts,
      builtPerContext: (built - registered) / contexts,
      rssMiB: built / MiB,
      stats: registry.stats(),
    })}\n`,
  );
}

// ---- child: load generator ------------------------------------------------------------------------------
/**
 * Random names for `seconds`; with `seconds` 0, every name d0..d(names-1) once (the sweep that warms keys). With a
 * warm-up, the connections run `warmUp` seconds first, then a `{"ready":true}` line marks the start of the count.
 */
async function clientPhase(
  port: number,
  names: number,
  seconds: number,
  concurrency: number,
  warmUp: number,
): Promise<void> {
  let done = 0;
  let failed = 0;
  let next = 0;
  const sweep = seconds === 0;
  let end = performance.now() + (warmUp > 0 ? warmUp : seconds) * 1000;
  let t0 = performance.now();
  const more = (): boolean => {
    if (sweep) return next < names;
    const now = performance.now();
    if (now < end) return true;
    if (warmUp <= 0) return false;
    // The warm-up is over: from here on every handshake counts.
    warmUp = 0;
    done = 0;
    failed = 0;
    t0 = now;
    end = now + seconds * 1000;
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
    return true;
  };
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const servername = `d${sweep ? next++ : Math.floor(Math.random() * names)}.bench.test`;
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
    while (more()) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ done, failed, perSecond: done / secs })}\n`);
}

/** Runs this script as a child; answers its last JSON line. `onReady` runs when it prints `{"ready":true}`. */
function runChild(
  args: string[],
  execArgv: string[] = [],
  onReady?: () => void,
): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, self, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (onReady && out.includes('{"ready":true}')) {
        onReady();
        onReady = undefined;
      }
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

/** One client run (after a short warm-up in the same client process): handshakes per second, server CPU each. */
async function measure(
  port: number,
  names: number,
  seconds: number,
  warmUp = 0.3,
): Promise<{ rate: number; cpu: number }> {
  let before = process.cpuUsage();
  const r = await runChild(
    ['--client', String(port), String(names), String(seconds), '16', String(warmUp)],
    [],
    () => {
      before = process.cpuUsage();
    },
  );
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

/** The floor of reading the ClientHello in JavaScript: one read, put back, a TLSSocket with one static context. */
function readFirstServer(context: tls.SecureContext): net.Server {
  const server: net.Server = net.createServer((raw) => {
    raw.once('data', (chunk: Buffer) => {
      raw.pause();
      raw.unshift(chunk);
      const s = new tls.TLSSocket(raw, { isServer: true, secureContext: context, server });
      s.once('secure', () => server.emit('secureConnection', s));
      s.on('error', () => s.destroy());
    });
  });
  return server;
}

/** Node's own SNI table: `addContext` for every name (node matches them in order, one regular expression each). */
function addContextServer(options: tls.TlsOptions, registry: SNIRegistry, n: number): tls.Server {
  const server = tls.createServer(options);
  for (let i = 0; i < n; i++) {
    const name = `d${i}.bench.test`;
    server.addContext(name, registry.resolveIfReady(name)!.context);
  }
  return server;
}

/**
 * One table row. The capacity ratio is static CPU per handshake / this server's: from the least of each server's
 * rounds, and as the median (and range) of the ratios within each round (static and this server measured in the
 * same round, a few seconds apart), which cancels slow drift of the machine.
 */
function row(
  name: string,
  n: number,
  results: { rate: number; cpu: number }[],
  base: { rate: number; cpu: number }[],
): string {
  const rates = results.map((x) => x.rate);
  const cpu = Math.min(...results.map((x) => x.cpu));
  const baseCpu = Math.min(...base.map((x) => x.cpu));
  const paired = results.map((x, r) => base[Math.min(r, base.length - 1)]!.cpu / x.cpu);
  return (
    `| ${name} | ${n.toLocaleString('en')} | ${median(rates).toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}) | ` +
    `${(cpu / 1000).toFixed(3)} ms | ${(baseCpu / cpu).toFixed(2)} | ` +
    `${median(paired).toFixed(2)} (${Math.min(...paired).toFixed(2)}-${Math.max(...paired).toFixed(2)}) |`
  );
}

/**
 * The registry's own JavaScript per handshake, measured alone: nanoseconds per `registry.SNICallback` call over
 * random registered names (contexts built), next to the least a callback can do (an array index).
 */
function callbackCost(registry: SNIRegistry, n: number): { registryNs: number; floorNs: number } {
  const names = Array.from({ length: 4096 }, () => `d${Math.floor(Math.random() * n)}.bench.test`);
  const built = Array.from({ length: n }, (_, i) => registry.resolveIfReady(`d${i}.bench.test`)!.context);
  let sink: unknown;
  const cb = (_e: Error | null, ctx?: tls.SecureContext): void => {
    sink = ctx;
  };
  const floor = (name: string, done: typeof cb): void =>
    done(null, built[Number(name.slice(1, name.indexOf('.')))]);
  const time = (f: (name: string, done: typeof cb) => void): number => {
    const runs: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 200_000; i++) f(names[i & 4095]!, cb);
      runs.push(((performance.now() - t0) * 1e6) / 200_000);
    }
    return median(runs);
  };
  const registryNs = time(registry.SNICallback);
  const floorNs = time(floor);
  if (sink === undefined) throw new Error('no context answered');
  return { registryNs, floorNs };
}

async function handshakes(
  keyType: TestKeyType,
  counts: readonly number[],
  seconds: number,
  rounds: number,
): Promise<void> {
  const { def, leaves } = pool(keyType);
  console.log(
    `\n### Full TLS 1.3 handshakes per second (${keyType === 'rsa' ? 'RSA-2048' : 'P-256'} leaves)\n`,
  );
  const staticOptions = { ...def, ...profileContextOptions(INTERMEDIATE_PROFILE) };
  const lines: string[] = [];
  const notes: string[] = [];
  for (const n of counts) {
    const registry = createSNIRegistry(def);
    fill(registry, n, leaves);
    const tb = performance.now();
    for (let i = 0; i < n; i++) registry.resolveIfReady(`d${i}.bench.test`)!;
    const buildMs = performance.now() - tb;
    const servers: [string, net.Server][] = [
      ['tls.Server, one static context', tls.createServer(staticOptions)],
      ['createTLSServer (registry through SNICallback)', createTLSServer(registry)],
      ['createPeekingTLSServer (ClientHello read first)', createPeekingTLSServer(registry)],
      ["tls.Server + addContext per name (node's SNI table)", addContextServer(staticOptions, registry, n)],
    ];
    if (n > 1) {
      // Node's floor for these names: the least an SNICallback can do (an array index, no registry) handing over the
      // very contexts the registry serves. What separates createTLSServer from it is the registry's own work; what
      // separates it from the static server is node's and OpenSSL's.
      const built = Array.from({ length: n }, (_, i) => registry.resolveIfReady(`d${i}.bench.test`)!.context);
      servers.push([
        "floor: node's SNICallback, an array of the same contexts (no registry)",
        tls.createServer({
          ...staticOptions,
          SNICallback: (name, cb) => cb(null, built[Number(name.slice(1, name.indexOf('.')))]),
        }),
      ]);
    }
    if (n === 10_000) {
      // Where the cost of many names comes from: the same callback over the same 10,000 names, but only 16
      // distinct contexts (keys, certificates) in play instead of 10,000.
      const shared = leaves.map((c) => tls.createSecureContext({ ...staticOptions, ...c }));
      servers.push([
        'diagnostic: the same callback, the 10,000 names on 16 contexts',
        tls.createServer({
          ...staticOptions,
          SNICallback: (name, cb) =>
            cb(null, shared[Number(name.slice(1, name.indexOf('.'))) % shared.length]),
        }),
      ]);
    }
    if (n === 1) {
      servers.push([
        'floor of reading first: one read put back, one static context',
        readFirstServer(tls.createSecureContext(staticOptions)),
      ]);
    }
    const ports: number[] = [];
    for (const [, server] of servers) {
      serve(server);
      ports.push(await listen(server));
    }
    const registryPort = ports[1]!;
    let cold: { rate: number; cpu: number } | undefined;
    if (n === 10_000) {
      // Keys never used: most handshakes of this run are a key's first signature.
      cold = await measure(registryPort, n, seconds, 0);
    }
    // Steady state: every name served once (contexts are shared by the registry servers and the addContext server).
    const ts = performance.now();
    const sweep = await runChild(['--client', String(registryPort), String(n), '0', '16', '0']);
    notes.push(
      `${n.toLocaleString('en')} names: contexts built in ${(buildMs / 1000).toFixed(1)} s, every name served once in ${((performance.now() - ts) / 1000).toFixed(1)} s (${sweep.failed} failed)`,
    );
    const cost = callbackCost(registry, n);
    const results: { rate: number; cpu: number }[][] = servers.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // Each round starts with another server, so none is always measured right after the same neighbour.
      for (let k = 0; k < servers.length; k++) {
        const i = (k + round) % servers.length;
        results[i]!.push(await measure(ports[i]!, n, seconds));
      }
    }
    for (const [i, [name]] of servers.entries()) lines.push(row(name, n, results[i]!, results[0]!));
    const staticCpuNs = Math.min(...results[0]!.map((x) => x.cpu)) * 1000;
    notes.push(
      `${n.toLocaleString('en')} names: registry.SNICallback alone ${cost.registryNs.toFixed(0)} ns per call, an array index ` +
        `${cost.floorNs.toFixed(0)} ns: the registry's lookup is ${((100 * cost.registryNs) / staticCpuNs).toFixed(2)}% of a static handshake's CPU`,
    );
    if (cold)
      lines.push(row('createTLSServer, every key used for the first time (cold)', n, [cold], results[0]!));
    for (const [, server] of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  console.log(
    `Each server is measured ${rounds} times, ${seconds} s each, in alternation with the others (each round starting with`,
  );
  console.log(
    'another), after every name was served once. Handshakes per second depend on what else runs on the machine (the',
  );
  console.log(
    'clients share its cores); server CPU time per handshake (this process, all threads) much less, so the capacity',
  );
  console.log(
    'ratio (static / this, CPU per handshake) is the figure to compare: from the least of the rounds (the least',
  );
  console.log(
    'disturbed), and as the median of the ratios within each round; their range shows how noisy the machine was.\n',
  );
  console.log(
    '| server | names | handshakes/s (median, range) | server CPU per handshake (least) | capacity ratio to static (least / least) | capacity ratio within rounds (median, range) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const line of lines) console.log(line);
  console.log('');
  for (const note of notes) console.log(`- ${note}`);
}

/** Start-up and memory, each case in a fresh process. */
async function memoryTable(keyType: TestKeyType): Promise<void> {
  console.log('### Start-up and memory (fresh process each)\n');
  console.log(
    '| key | names registered | names per credential | names served | LRU bound (names) | contexts at end | register | RSS per registered name | build time (per context) | RSS per cached context | RSS at end |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [n, build, bound, perCredential] of [
    [10_000, 10_000, undefined, 1],
    [10_000, 3000, 1000, 1],
    [10_000, 10_000, undefined, 4],
  ] as const) {
    const m = await runChild(
      ['--memory', keyType, String(n), String(build), String(bound ?? ''), String(perCredential)],
      ['--expose-gc'],
    );
    const made = Math.ceil(build / perCredential); // contexts built while serving `build` names in order
    console.log(
      `| ${keyType} | ${n.toLocaleString('en')} | ${perCredential} | ${build.toLocaleString('en')} | ${bound?.toLocaleString('en') ?? 'none'} | ` +
        `${m.contexts!.toLocaleString('en')} | ${m.registerMs!.toFixed(0)} ms | ${(m.registeredPerName! / 1024).toFixed(1)} KiB | ` +
        `${(m.buildMs! / 1000).toFixed(1)} s (${(m.buildMs! / made).toFixed(2)} ms) | ` +
        `${(m.builtPerContext! / 1024).toFixed(1)} KiB | ${m.rssMiB!.toFixed(0)} MiB |`,
    );
  }
}

/** First-handshake latency of a name whose context is built on demand, next to a warm one. */
async function lazyFirstHandshake(keyType: TestKeyType): Promise<void> {
  const { def, leaves } = pool(keyType);
  console.log(
    `\n### First handshake of a lazily built name (10,000 names registered, createPeekingTLSServer, ${keyType})\n`,
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
}

async function main(): Promise<void> {
  const keyTypes = arg('key', 'rsa,ec').split(',') as TestKeyType[];
  const seconds = Number(arg('seconds', '1'));
  const rounds = Number(arg('rounds', '7'));
  const counts = arg('names', '1,1000,10000').split(',').map(Number);
  const phases = new Set(arg('phases', 'memory,handshakes,lazy').split(','));
  const started = performance.now();
  console.log(`key types ${keyTypes.join(', ')}; 16 concurrent client connections in a separate process\n`);

  if (phases.has('memory')) await memoryTable(keyTypes[0]!);
  if (phases.has('handshakes')) {
    for (const keyType of keyTypes) await handshakes(keyType, counts, seconds, rounds);
    console.log(
      "\nAn RSA key object's first signature pays OpenSSL's one-time set-up of its Montgomery and blinding values",
    );
    console.log(
      '(about 0.5 ms for RSA-2048): every server pays it once per key, so it is measured apart (the cold row) and the',
    );
    console.log(
      "rounds run in steady state. Node's SNI table tries its names one by one, so it slows down as names are added.",
    );
    console.log(
      "The floor row is node's own SNI path with nothing of the registry's in it (an array index): what separates it",
    );
    console.log(
      "from the static server is the cost of switching to the name's context inside node and OpenSSL; what separates",
    );
    console.log(
      "createTLSServer from it is the registry's work (its lookup is timed alone in the notes). The diagnostic row serves",
    );
    console.log(
      'the same names from 16 contexts: the share of 10,000 distinct keys and chains, cold in the CPU caches.',
    );
  }
  if (phases.has('lazy')) await lazyFirstHandshake(keyTypes[0]!);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

if (argv[0] === '--client') {
  await clientPhase(
    Number(argv[1]),
    Number(argv[2]),
    Number(argv[3]),
    Number(argv[4]),
    Number(argv[5] ?? '0'),
  );
} else if (argv[0] === '--memory') {
  await memoryPhase(
    argv[1] as TestKeyType,
    Number(argv[2]),
    Number(argv[3]),
    argv[4] ? Number(argv[4]) : undefined,
    Number(argv[5] ?? '1'),
  );
} else {
  await main();
}
