#!/usr/bin/env node
// The package build (npm run build): the declarations from tsc, the JavaScript from esbuild.
//
// tsc writes dist/**/*.d.ts and their maps (tsconfig.build.json: emitDeclarationOnly, stripInternal). esbuild
// bundles every entry point of package.json ("exports" and "bin") from its TypeScript source as ES modules
// with code splitting: each entry point keeps its dist/ path, and the code two entry points share sits once in
// a chunk (dist/chunk-HASH.js), so a class is defined once and `instanceof` holds across entry points
// (`mailtls`, `mailtls/errors`, `mailtls/node`, ...). A dynamic `import('./x.js')` with a fixed string (the
// CLI's sub-commands) becomes a chunk of its own, still loaded only when it runs. Dependencies stay external.
// Why: tsc's one file per module made `import('mailtls/node')` load 87 files (870 KiB with the TSDoc
// comments); README.md ("Development", the build) has the figures.
//
// Afterwards every file under the output directory that this build did not write (a module that was renamed
// or deleted, tsc's old per-module .js) is removed, so `npm pack` ships only what the build made. Each
// JavaScript file is written to a temporary name and renamed, so a test process that reads dist/ while
// another rebuilds it never sees half a file.
//
//   node scripts/build.mjs                 dist/
//   node scripts/build.mjs --outdir DIR    the same into DIR, new or empty (the API report test's own copy)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The entry points: for each `./dist/X.js` that package.json "exports" or "bin" names, its source
 * `src/X.ts` and its output name `X` (relative to the output directory).
 */
export function entryPoints() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const targets = [
    ...Object.values(pkg.exports).map((v) => (typeof v === 'string' ? v : v.default)),
    ...Object.values(pkg.bin ?? {}),
  ].filter((p) => typeof p === 'string' && p.startsWith('./dist/') && p.endsWith('.js'));
  return [...new Set(targets)].map((p) => {
    const out = p.slice('./dist/'.length, -'.js'.length);
    return { in: join(root, 'src', `${out}.ts`), out };
  });
}

/** Every file under `dir` (absolute paths); none when it does not exist. */
function filesUnder(dir) {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath ?? d.path, d.name));
  } catch {
    return [];
  }
}

/** Removes the empty directories under `dir` (not `dir` itself). */
function removeEmptyDirs(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const p = join(dir, d.name);
    removeEmptyDirs(p);
    if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
  }
}

/** Builds the package into `outdir`; answers the files written (absolute paths). */
export async function buildPackage(outdir = join(root, 'dist')) {
  outdir = resolve(outdir);
  // step 3 removes what this build did not write: only dist/ itself, or a directory that is new or empty
  if (outdir !== join(root, 'dist') && filesUnder(outdir).length > 0)
    throw new Error(`${outdir} is not empty: build into dist/ or into a new directory`);
  // 1. declarations (.d.ts and .d.ts.map), listed as tsc writes them
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      outdir,
      '--listEmittedFiles',
      '--pretty',
      'false',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0)
    throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal}):\n${tsc.stdout}${tsc.stderr}`);
  const written = new Set(
    tsc.stdout
      .split('\n')
      .filter((l) => l.startsWith('TSFILE: '))
      .map((l) => resolve(l.slice('TSFILE: '.length).trim())),
  );

  // 2. the JavaScript and its source maps
  const result = await build({
    absWorkingDir: root,
    entryPoints: entryPoints(),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    legalComments: 'none',
    // a class or function keeps its own name (`PublicKey.name`, an error's `name`), which bundling may
    // change (`var PublicKey = class _PublicKey`, or a suffix when two modules use one name)
    keepNames: true,
    sourcemap: 'linked',
    // src/ ships with the package: the maps point at it instead of copying it
    sourcesContent: false,
    chunkNames: 'chunk-[hash]',
    tsconfig: join(root, 'tsconfig.build.json'),
    write: false,
    logLevel: 'warning',
  });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
    written.add(resolve(file.path));
  }

  // 3. nothing else: what an earlier build left and this one did not write
  // (not the temporary files of another build writing here at the same time)
  for (const f of filesUnder(outdir)) if (!written.has(f) && !f.endsWith('.tmp')) rmSync(f, { force: true });
  removeEmptyDirs(outdir);
  return [...written];
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at === -1 ? undefined : process.argv[at + 1];
  if (at !== -1 && outdir === undefined) {
    console.error('usage: node scripts/build.mjs [--outdir DIR]');
    process.exit(2);
  }
  const files = await buildPackage(outdir);
  const js = files.filter((f) => f.endsWith('.js'));
  console.log(`built ${relative(root, outdir ?? join(root, 'dist')) || '.'}: ${js.length} JavaScript files`);
}
