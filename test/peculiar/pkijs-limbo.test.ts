// pkijs's CertificateChainValidationEngine against verifyChain on the x509-limbo cases pkijs can evaluate
// (SERVER cases without a depth limit, BetterTLS left to `npm run conformance:pkijs`). Every disagreement
// must be explained: by a check pkijs does not make (peer name, extendedKeyUsage), or as a case where mailtls
// matches limbo's expected result and pkijs does not; each such case is listed in docs/pkijs-differential.md.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadLimbo } from '../../scripts/limbo.js';
import {
  compareCase,
  PKIJS_HANGS,
  type PkijsComparison,
  pkijsCanEvaluate,
} from '../../scripts/pkijs-limbo.js';
import { conformanceDir, repoRoot } from '../helpers/paths.js';

const limbo = join(conformanceDir, 'limbo.json.gz');

describe('pkijs chain validation against verifyChain on x509-limbo', {
  skip: existsSync(limbo) ? false : `${limbo} is absent`,
}, () => {
  it('every disagreement is a check pkijs lacks or a case mailtls gets right, and is listed in the docs', async (t) => {
    const cases = loadLimbo(limbo).filter(
      (c) => pkijsCanEvaluate(c) && !c.id.startsWith('bettertls::') && PKIJS_HANGS[c.id] === undefined,
    );
    assert.ok(cases.length > 150, `only ${cases.length} cases`);
    const results: PkijsComparison[] = [];
    for (const c of cases) results.push(await compareCase(c));
    const disagreements = results.filter((r) => r.disagreement !== undefined);
    const doc = readFileSync(join(repoRoot, 'docs/pkijs-differential.md'), 'utf8');
    t.diagnostic(
      `${results.length} cases, ${disagreements.length} disagreements; limbo's answer: mailtls ${results.filter((r) => r.mailtls === r.expected).length}, pkijs ${results.filter((r) => r.pkijs === r.expected).length}`,
    );
    const unexplained = disagreements.filter(
      (r) => r.disagreement === 'mailtls-wrong' || r.disagreement === 'both-wrong',
    );
    assert.deepEqual(
      unexplained.map((r) => `${r.id}: ${r.detail}`),
      [],
    );
    const unlisted = disagreements
      .filter((r) => !doc.includes(`\`${r.id}\``))
      .map((r) => `${r.disagreement} ${r.id}`);
    assert.deepEqual(unlisted, [], 'add these cases to docs/pkijs-differential.md with the reason');
    // The comparison is not vacuous: pkijs does agree on many cases, and catches real breakage.
    assert.ok(results.length - disagreements.length > 80);
  });
});
