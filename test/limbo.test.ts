/**
 * x509-limbo through the conformance harness (scripts/limbo.ts), on a fast subset: every case that is not
 * from BetterTLS, all BetterTLS path-building cases and every 10th BetterTLS name-constraint case
 * (deterministic); the FULL suite when CI is set (CI runs it every time: 9,780 cases in well under a minute)
 * or MAILTLS_FULL_LIMBO=1. Exact expectations: each case agrees with the suite, or is listed in
 * test/limbo-deviations.ts with the result given there; the skipped cases are exactly those with a skipped
 * feature. `npm run conformance` runs the full suite.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type LimboCase,
  type LimboResult,
  loadLimbo,
  passed,
  runCase,
  SKIPPED_FEATURES,
} from '../scripts/limbo.js';
import { verifyChainWithNodeRoots } from '../src/node/tls/roots.js';
import { conformanceDir } from './helpers/paths.js';
import { LIMBO_DEVIATIONS } from './limbo-deviations.js';

const all = loadLimbo(join(conformanceDir, 'limbo.json.gz'));
const full = Boolean(process.env.CI) || process.env.MAILTLS_FULL_LIMBO === '1';
let nameConstraintIndex = 0;
const subset = all.filter((t) => {
  if (full) return true;
  if (!t.id.startsWith('bettertls::')) return true;
  if (t.id.startsWith('bettertls::pathbuilding::')) return true;
  return nameConstraintIndex++ % 10 === 0;
});
const deviations = new Map(LIMBO_DEVIATIONS.map((d) => [d.id, d]));

describe(`x509-limbo (${full ? 'full suite' : 'fast subset'})`, () => {
  const results = new Map<string, [LimboCase, LimboResult]>();

  it(`runs ${subset.length} of ${all.length} cases with the expected results`, async () => {
    assert.ok(full ? subset.length === all.length : subset.length > 1000 && subset.length < 2000);
    const unexpected: string[] = [];
    for (const t of subset) {
      const r = await runCase(t);
      results.set(t.id, [t, r]);
      if (r.actual_result === 'SKIPPED') continue;
      const d = deviations.get(t.id);
      if (d === undefined ? !passed(t, r) : r.actual_result !== d.actual)
        unexpected.push(
          `${t.id}: expected ${d?.actual ?? t.expected_result}, got ${r.actual_result} (${r.context})`,
        );
    }
    assert.deepEqual(unexpected, []);
  });

  it('skips exactly the cases with a skipped feature', () => {
    const skipped = [...results.values()].filter(([, r]) => r.actual_result === 'SKIPPED').map(([t]) => t.id);
    const want = all
      .filter((t) => t.features.some((f) => SKIPPED_FEATURES[f] !== undefined))
      .map((t) => t.id);
    assert.deepEqual(skipped.sort(), want.sort());
    assert.equal(skipped.length, 6);
  });

  it('every listed deviation still deviates, and passes with the options given', async () => {
    for (const d of LIMBO_DEVIATIONS) {
      const entry = results.get(d.id);
      assert.ok(entry !== undefined, `${d.id} is a limbo case in the subset`);
      const [t, r] = entry;
      assert.notEqual(t.expected_result, d.actual, `${d.id} is a deviation`);
      assert.equal(r.actual_result, d.actual, d.id);
      if (d.passesWith !== undefined) {
        const again = await runCase(t, { hostname: d.passesWith });
        assert.equal(again.actual_result, t.expected_result, `${d.id} with ${JSON.stringify(d.passesWith)}`);
      }
    }
  });

  it('the hostname families (webpki::san, webpki::cn, rfc5280::san) pass except the listed deviations', () => {
    const families = ['webpki::san::', 'webpki::cn::', 'rfc5280::san::'];
    const counts = families.map((f) => {
      const cases = [...results.values()].filter(([t]) => t.id.startsWith(f));
      return [f, cases.filter(([t, r]) => passed(t, r)).length, cases.length];
    });
    assert.deepEqual(counts, [
      ['webpki::san::', 18, 19],
      ['webpki::cn::', 7, 9],
      ['rfc5280::san::', 4, 4],
    ]);
  });

  it('the real-world chains (online::*) also validate against Node’s own root store', async () => {
    const online = all.filter((t) => t.id.startsWith('online::'));
    assert.equal(online.length, 14);
    for (const t of online) {
      const chain = await verifyChainWithNodeRoots(t.peer_certificate, {
        intermediates: t.untrusted_intermediates,
        at: new Date(t.validation_time!),
        host: t.expected_peer_name!.value,
      });
      assert.ok(chain.certificates.length >= 3, t.id);
    }
  });
});
