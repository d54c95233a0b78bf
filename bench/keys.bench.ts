/**
 * Key generation benchmark (a script, not a test): mailtls `generateKeyPair` vs node:crypto's
 * `generateKeyPair` vs `openssl genpkey` (its process start-up, measured with `openssl version`, is
 * subtracted), for RSA-2048, RSA-4096, P-256 and Ed25519; then the event-loop delay while mailtls generates
 * RSA-4096 (goal: under 50 ms), next to `@peculiar/webcrypto` generating RSA-2048 for comparison.
 *
 *   npx tsc -p tsconfig.json && node build/bench/keys.bench.js
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { type GenerateKeyPairOptions, generateKeyPair } from '../src/keys/keys.js';

const nodeGen = promisify(nodeGenerateKeyPair);

interface Case {
  readonly name: string;
  readonly rounds: number;
  readonly mailtls: GenerateKeyPairOptions;
  readonly node: () => Promise<unknown>;
  readonly openssl: readonly string[];
}

const cases: Case[] = [
  {
    name: 'RSA-2048',
    rounds: 7,
    mailtls: { type: 'rsa', bits: 2048 },
    node: () => nodeGen('rsa', { modulusLength: 2048 }),
    openssl: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  },
  {
    name: 'RSA-4096',
    rounds: 3,
    mailtls: { type: 'rsa', bits: 4096 },
    node: () => nodeGen('rsa', { modulusLength: 4096 }),
    openssl: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'],
  },
  {
    name: 'P-256',
    rounds: 31,
    mailtls: { type: 'ec', curve: 'P-256' },
    node: () => nodeGen('ec', { namedCurve: 'P-256' }),
    openssl: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  },
  {
    name: 'Ed25519',
    rounds: 31,
    mailtls: { type: 'ed25519' },
    node: () => nodeGen('ed25519'),
    openssl: ['genpkey', '-algorithm', 'ED25519'],
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeSync(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const baseline = median(
  Array.from({ length: 9 }, () => timeSync(() => spawnSync('openssl', ['version'], { stdio: 'ignore' }))),
);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; openssl start-up ${baseline.toFixed(1)} ms (subtracted)`,
);
console.log('key        mailtls ms   node:crypto ms   openssl ms   mailtls/node   mailtls/openssl');
for (const c of cases) {
  const m: number[] = [];
  const n: number[] = [];
  const o: number[] = [];
  for (let i = 0; i < c.rounds; i++) {
    m.push(await timeAsync(() => generateKeyPair(c.mailtls)));
    n.push(await timeAsync(c.node));
    o.push(Math.max(0, timeSync(() => spawnSync('openssl', [...c.openssl], { stdio: 'ignore' })) - baseline));
  }
  const [mm, nn, oo] = [median(m), median(n), median(o)];
  // openssl's own work can be smaller than the noise of its process start-up: then no ratio is printed
  const opensslText = oo < 0.5 ? '< 0.5' : oo.toFixed(1);
  const opensslRatio = oo < 0.5 ? 'n/a' : (mm / oo).toFixed(2);
  console.log(
    `${c.name.padEnd(10)} ${mm.toFixed(1).padStart(10)} ${nn.toFixed(1).padStart(16)} ${opensslText.padStart(12)} ${(mm / nn).toFixed(2).padStart(14)} ${opensslRatio.padStart(17)}`,
  );
}

/** Largest delay of a 1 ms timer while `work` runs: how long the event loop was blocked. */
async function maxLoopDelay(work: () => Promise<unknown>): Promise<{ maxMs: number; totalMs: number }> {
  let last = performance.now();
  let maxMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxMs = Math.max(maxMs, now - last - 1);
    last = now;
  }, 1);
  const t0 = performance.now();
  // a timer tick is guaranteed before work starts blocking
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  await work();
  const totalMs = performance.now() - t0;
  clearInterval(timer);
  return { maxMs, totalMs };
}

const delays: number[] = [];
for (let i = 0; i < 3; i++)
  delays.push((await maxLoopDelay(() => generateKeyPair({ type: 'rsa', bits: 4096 }))).maxMs);
console.log(
  `event-loop delay while mailtls generates RSA-4096: max ${Math.max(...delays).toFixed(1)} ms over 3 runs (goal < 50 ms) ${Math.max(...delays) < 50 ? 'OK' : 'MISSED'}`,
);
const { Crypto } = await import('@peculiar/webcrypto');
const peculiar = new Crypto() as unknown as globalThis.Crypto;
const p = await maxLoopDelay(() => generateKeyPair({ type: 'rsa', bits: 2048, crypto: peculiar }));
console.log(`for comparison, @peculiar/webcrypto RSA-2048: event loop blocked ${p.maxMs.toFixed(0)} ms`);
