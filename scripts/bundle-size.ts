/**
 * Bundles every pure entry point of the package for the browser with esbuild and prints its minified size
 * (and gzipped). The entry points are read from package.json "exports" (all but the Node adapters `./node`,
 * `./acme` and `./admin`, the `./peculiar` boundary and
 * `./package.json`); each is bundled from its TypeScript source with `platform: 'browser'` and nothing
 * external, so a pure module that picks up a Node-only import (`node:*`) fails the build here, by name.
 *
 * Usage: `npm run bundle-size` (or `node build/scripts/bundle-size.js [--json]`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

/** The size of one bundled entry point. */
export interface EntrySize {
  /** The import specifier (`mailtls`, `mailtls/pem`, ...). */
  readonly specifier: string;
  /** The source file bundled. */
  readonly source: string;
  /** Minified bytes. */
  readonly minified: number;
  /** Minified and gzipped bytes. */
  readonly gzipped: number;
  /** The input files of the bundle (paths relative to the package root), for checks on what was pulled in. */
  readonly inputs: readonly string[];
}

/** Subpaths that are Node adapters or need optional peers, not part of the pure core. */
// The Node adapters (mailtls/node, the ACME client, the web administrator) and the @peculiar/x509 boundary.
const NOT_PURE = new Set(['./node', './acme', './admin', './peculiar', './package.json']);

function findRoot(): string {
  let dir = resolve(fileURLToPath(new URL('.', import.meta.url)));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'mailtls') return dir;
    } catch {}
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
}

/** The package root (where package.json names mailtls). */
export const packageRoot = findRoot();

/** The pure entry points: import specifier and TypeScript source, from package.json "exports". */
export function pureEntryPoints(): { specifier: string; source: string }[] {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default?: string }>;
  };
  return Object.entries(pkg.exports)
    .filter(([k]) => !NOT_PURE.has(k))
    .map(([k, v]) => {
      const dist = typeof v === 'string' ? v : (v.default ?? '');
      const source = `src/${dist.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')}`;
      return { specifier: k === '.' ? 'mailtls' : `mailtls/${k.slice(2)}`, source };
    });
}

/**
 * Bundles one source file for the browser (ESM, minified, nothing external) and answers its size and
 * inputs. Throws esbuild's error (which names the file and the import) when something cannot be bundled for
 * a browser, such as a `node:*` import.
 */
export async function bundleForBrowser(source: string): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    absWorkingDir: packageRoot,
    entryPoints: [source],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error(`esbuild wrote nothing for ${source}`);
  return { code: out.text, inputs: Object.keys((result.metafile as Metafile).inputs) };
}

/** Every pure entry point bundled, with its sizes. */
export async function measureEntryPoints(): Promise<EntrySize[]> {
  const out: EntrySize[] = [];
  for (const { specifier, source } of pureEntryPoints()) {
    const { code, inputs } = await bundleForBrowser(source);
    const bytes = Buffer.from(code);
    out.push({ specifier, source, minified: bytes.length, gzipped: gzipSync(bytes).length, inputs });
  }
  return out;
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KB`;
}

async function main(): Promise<void> {
  const sizes = await measureEntryPoints();
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify(
        sizes.map(({ inputs: _, ...s }) => s),
        null,
        2,
      ),
    );
    return;
  }
  console.log('entry point'.padEnd(28), 'minified'.padStart(10), 'gzipped'.padStart(10));
  for (const s of sizes)
    console.log(s.specifier.padEnd(28), kb(s.minified).padStart(10), kb(s.gzipped).padStart(10));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
