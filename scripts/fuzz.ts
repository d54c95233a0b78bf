/**
 * `npm run fuzz`: a long mutation-fuzzing run over every parser (default 100,000 inputs each).
 *
 *   npm run fuzz                       # every target, 100,000 inputs each
 *   npm run fuzz -- --runs 5000 pem    # fewer inputs, only targets whose name contains "pem"
 *
 * Seeds are made at start with the openssl CLI. Each input is a seed mutated by fast-check (bit flips, byte
 * overwrites, truncation, insertion, duplicated ranges) or random bytes. An input fails when the parser throws
 * anything but a MailTlsError or TypeError, or takes over 100 ms (a second timing confirms a slow one). Every
 * failing input is saved under test/fuzz-regressions/<target>/ and replayed by test/fuzz-regressions.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  FUZZ_TARGETS,
  type FuzzTarget,
  isAcceptedError,
  makeSeeds,
  mutated,
} from '../test/helpers/fuzz-targets.js';
import { repoRoot } from '../test/helpers/paths.js';

const args = process.argv.slice(2);
let runs = 100_000;
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else filters.push(args[i]!);
}
if (!Number.isInteger(runs) || runs < 1) throw new RangeError('--runs takes a positive whole number');

const seeds = makeSeeds();

async function fuzz(target: FuzzTarget): Promise<{ failures: number; slow: number; maxMs: number }> {
  let failures = 0;
  let slow = 0;
  let maxMs = 0;
  const saveDir = join(repoRoot, 'test', 'fuzz-regressions', target.name);
  const save = (input: Uint8Array, why: string) => {
    mkdirSync(saveDir, { recursive: true });
    const name = createHash('sha256').update(input).digest('hex').slice(0, 16);
    writeFileSync(join(saveDir, `${name}.bin`), input);
    console.log(`  FAIL ${target.name} ${name}.bin: ${why}`);
    failures++;
  };
  await fc.assert(
    fc.asyncProperty(mutated(seeds[target.seeds]), async (input) => {
      const t0 = performance.now();
      try {
        await target.run(input);
      } catch (e) {
        if (!isAcceptedError(e))
          save(input, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      const ms = performance.now() - t0;
      if (ms > 100) {
        const t1 = performance.now();
        try {
          await target.run(input);
        } catch {
          // the outcome was judged above; this run only times it again
        }
        const again = performance.now() - t1;
        if (again > 100) {
          slow++;
          save(input, `took ${ms.toFixed(0)} ms and ${again.toFixed(0)} ms`);
        }
      }
      maxMs = Math.max(maxMs, ms);
    }),
    { numRuns: runs, endOnFailure: false },
  );
  return { failures, slow, maxMs };
}

const rss0 = process.memoryUsage().rss;
let total = 0;
for (const target of FUZZ_TARGETS.filter(
  (t) => filters.length === 0 || filters.some((f) => t.name.includes(f)),
)) {
  const t0 = performance.now();
  const r = await fuzz(target);
  total += r.failures;
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(
    `${target.name.padEnd(16)} ${runs} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.failures} failing, ${r.slow} over 100 ms, slowest ${r.maxMs.toFixed(1)} ms, RSS ${rss.toFixed(0)} MiB`,
  );
}
console.log(`RSS grew ${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB over the run`);
console.log(
  `${total === 0 ? 'no failing inputs' : `${total} failing inputs saved under test/fuzz-regressions/`}`,
);
process.exit(total === 0 ? 0 : 1);
