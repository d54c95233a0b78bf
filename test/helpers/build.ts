/**
 * The compiled package (dist/) and examples (build/examples/) that tests run as child processes. `npm test`
 * builds both once before any test starts (scripts/test.mjs); a test file run on its own builds what is missing
 * or older than its sources. Rebuilding while other test processes read the same files could hand them a
 * half-written file, so nothing here rebuilds what is already up to date.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const TSC = join(repoRoot, 'node_modules/typescript/bin/tsc');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

function stale(output: string, sources: string): boolean {
  return !existsSync(output) || statSync(output).mtimeMs < newest(sources);
}

/**
 * Builds the package into dist/ as `npm run build` does (scripts/build.mjs: declarations from tsc, the
 * JavaScript from esbuild); throws with the build's output when it fails.
 */
export function buildPackage(): void {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`npm run build failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** Makes sure dist/ exists and is newer than src/ (built when it is not). */
export function ensureDist(): void {
  if (stale(join(repoRoot, 'dist/index.js'), join(repoRoot, 'src'))) buildPackage();
}

/** Runs tsc on a project; returns the error lines that name files under `prefix` (empty when none). */
export function tsc(project: string, prefix = ''): string[] {
  const r = spawnSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return (r.stdout ?? '').split('\n').filter((l) => l.trim() !== '' && l.startsWith(prefix));
}

/**
 * Makes sure dist/ and build/examples/ exist and are newer than src/ and examples/; returns the type errors
 * in the examples (empty when they compiled cleanly or were already built).
 */
export function ensureBuilt(): string[] {
  ensureDist();
  const examplesOut = join(repoRoot, 'build/examples/mail-server.js');
  if (
    stale(examplesOut, join(repoRoot, 'examples')) ||
    statSync(examplesOut).mtimeMs < newest(join(repoRoot, 'src'))
  )
    return tsc('examples/tsconfig.json', 'examples/');
  return [];
}
