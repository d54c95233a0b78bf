/** Paths the tests share: the repository root and the outside conformance data beside it. */
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

/** `../shared/conformance` beside the repository: data nobody on this project wrote. */
export const conformanceDir = resolve(repoRoot, '..', 'shared', 'conformance');
