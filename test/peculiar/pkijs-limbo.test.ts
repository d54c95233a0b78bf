// pkijs's CertificateChainValidationEngine against verifyChain on the x509-limbo cases pkijs can evaluate
// (SERVER cases without a depth limit; BetterTLS is left to `npm run conformance:pkijs`). Every disagreement
// must be explained: by a check pkijs does not make (peer name, extendedKeyUsage), or as a case where mailtls
// matches limbo's expected result and pkijs does not; each case is listed in docs/pkijs-differential.md.
// The comparison runs in a child process (scripts/pkijs-limbo.ts), which exits by itself: a pkijs path search
// that ran past its time limit would otherwise keep this process alive.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PkijsComparison } from '../../scripts/pkijs-limbo.js';
import { conformanceDir, repoRoot } from '../helpers/paths.js';

const limbo = join(conformanceDir, 'limbo.json.gz');

function runScript(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'build/scripts/pkijs-limbo.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

describe('pkijs chain validation against verifyChain on x509-limbo', {
  skip: existsSync(limbo) ? false : `${limbo} is absent`,
}, () => {
  it('every disagreement is a check pkijs lacks or a case mailtls gets right, and is listed in the docs', async (t) => {
    const disagreements = JSON.parse(
      await runScript(['--limbo', limbo, '--not-family', 'bettertls', '--json']),
    ) as PkijsComparison[];
    t.diagnostic(`${disagreements.length} disagreements outside BetterTLS`);
    // Not vacuous: pkijs lacks the name and EKU checks, so some disagreements must be there.
    assert.ok(disagreements.some((r) => r.disagreement === 'peer-name'));
    assert.ok(disagreements.length < 150, `${disagreements.length} disagreements`);
    const unexplained = disagreements.filter(
      (r) => r.disagreement === 'mailtls-wrong' || r.disagreement === 'both-wrong',
    );
    assert.deepEqual(
      unexplained.map((r) => `${r.id}: ${r.detail}`),
      [],
    );
    const doc = readFileSync(join(repoRoot, 'docs/pkijs-differential.md'), 'utf8');
    const unlisted = disagreements
      .filter((r) => !doc.includes(`\`${r.id}\``))
      .map((r) => `${r.disagreement} ${r.id}`);
    assert.deepEqual(unlisted, [], 'add these cases to docs/pkijs-differential.md with the reason');
  });
});
