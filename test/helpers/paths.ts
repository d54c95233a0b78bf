/** Paths the tests share: the repository root and the outside conformance data beside it. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** The repository root (the folder with package.json). */
export const repoRoot = findRoot();

/** The folder a local clone was made from (`git clone /work/main /tmp/x`), if any. */
function cloneSource(): string | undefined {
  const r = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: repoRoot, encoding: 'utf8' });
  const url = r.status === 0 ? r.stdout.trim() : '';
  return url.startsWith('/') ? url : undefined;
}

/**
 * `shared/conformance` beside the repository: data nobody on this project wrote. Looked up in
 * `MAILTLS_CONFORMANCE`, then beside this checkout, then beside the folder a local clone was made from (a fresh
 * clone in a temporary folder still finds it).
 */
function findConformance(): string {
  const beside = resolve(repoRoot, '..', 'shared', 'conformance');
  const source = cloneSource();
  const candidates = [
    process.env.MAILTLS_CONFORMANCE,
    beside,
    source === undefined ? undefined : resolve(source, '..', 'shared', 'conformance'),
  ];
  return candidates.find((c): c is string => c !== undefined && existsSync(c)) ?? beside;
}

export const conformanceDir = findConformance();
