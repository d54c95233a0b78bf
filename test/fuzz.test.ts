// The short fuzz run of npm test (the long one is `npm run fuzz`), and the replay of every input that a
// fuzz run ever saved under test/fuzz-regressions/<target>/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FUZZ_TARGETS, isAcceptedError, makeSeeds, mutated } from './helpers/fuzz-targets.js';
import { repoRoot } from './helpers/paths.js';
import { timeOrRetime } from './helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? '') || 300;
const seeds = makeSeeds();

async function check(run: (b: Uint8Array) => unknown, input: Uint8Array): Promise<void> {
  try {
    await run(input);
  } catch (e) {
    assert.ok(isAcceptedError(e), `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  const ms = await timeOrRetime(() => run(input), 100);
  assert.ok(ms < 100, `took ${ms.toFixed(0)} ms (timed twice)`);
}

describe('fuzz', () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: the seeds parse (or fail with a typed error where they are another kind of input)`, async () => {
      let parsed = 0;
      for (const seed of seeds[target.seeds]) {
        try {
          await target.run(seed);
          parsed++;
        } catch (e) {
          assert.ok(isAcceptedError(e), String(e));
        }
      }
      assert.ok(parsed > 0, 'no seed parses: the target would only fuzz its error paths');
    });

    it(`${target.name}: ${runs} mutated inputs only throw typed errors, each quickly`, async () => {
      await fc.assert(
        fc.asyncProperty(mutated(seeds[target.seeds]), (input) => check(target.run, input)),
        { numRuns: runs },
      );
    });

    const dir = join(repoRoot, 'test', 'fuzz-regressions', target.name);
    const saved = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bin')) : [];
    for (const file of saved) {
      it(`${target.name}: regression ${file}`, () =>
        check(target.run, new Uint8Array(readFileSync(join(dir, file)))));
    }
  }
});
