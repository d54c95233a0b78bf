// A smoke test of `npm run attack` (scripts/attack.ts): a few of its quick attacks through the command compiled
// under build/, checking what the script reports rather than what the attacks find (they find the store's
// defects until those are fixed): one line per attack with its tries and failures, the total line, and an exit
// status that says whether anything failed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

function runAttack(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'build/scripts/attack.js'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run attack', () => {
  it('prints tries and failures per attack and the total, and exits 1 exactly when a try failed', async () => {
    const cli = join(repoRoot, 'build/src/cli/main.js');
    const r = await runAttack(['--cli', cli, '--only', 'swapped-key,writable-dirs']);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    const lines = r.stdout.trimEnd().split('\n');
    const counts = new Map<string, { tries: number; failures: number; details: number }>();
    let last: string | undefined;
    for (const line of lines) {
      const head = /^([a-z0-9-]+) +tries +(\d+) +failures (\d+)/.exec(line);
      if (head !== null) {
        last = head[1]!;
        counts.set(last, { tries: Number(head[2]), failures: Number(head[3]), details: 0 });
      } else if (line.startsWith('    - ') && last !== undefined) counts.get(last)!.details++;
    }
    assert.deepEqual([...counts.keys()], ['swapped-key', 'expired-cert', 'writable-dirs'], r.stdout);
    for (const [name, c] of counts) {
      assert.ok(c.tries > 0, `${name}: no tries`);
      assert.equal(c.details, c.failures, `${name}: one line of detail per failure\n${r.stdout}`);
    }
    const total = /^(\d+) passed, (\d+) failed$/.exec(lines.at(-1) ?? '');
    assert.ok(total !== null, `no total line at the end:\n${r.stdout}`);
    const tries = [...counts.values()].reduce((n, c) => n + c.tries, 0);
    const failures = [...counts.values()].reduce((n, c) => n + c.failures, 0);
    assert.equal(Number(total[1]) + Number(total[2]), tries);
    assert.equal(Number(total[2]), failures);
    assert.equal(r.code, failures === 0 ? 0 : 1);
  });

  it('refuses an unknown attack name (exit 2)', async () => {
    const r = await runAttack(['--only', 'no-such-attack']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown attack no-such-attack/);
  });
});
