// Layout shows the architecture: pure modules never touch files, sockets or node:tls; the CLI calls only the
// public API; src/internal is never exported.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers/paths.js';

const src = join(repoRoot, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** One import of a module: its specifier and whether it is erased at compile time (`import type`). */
export interface ImportRef {
  readonly spec: string;
  readonly typeOnly: boolean;
}

/**
 * The imports and re-exports of a TypeScript source text: static `import`/`export ... from` (type-only ones
 * marked), side-effect `import 'x'` and dynamic `import('x')`.
 */
export function importsOf(text: string): ImportRef[] {
  const out: ImportRef[] = [];
  const clause = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(clause)) {
    const names = /^\{([^}]*)\}$/s.exec(m[3]!.trim());
    const allTypes =
      m[1] === 'import' &&
      names !== null &&
      names[1]!
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .every((s) => s.startsWith('type '));
    out.push({ spec: m[4]!, typeOnly: m[2] !== undefined || allTypes });
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g))
    out.push({ spec: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g))
    out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

function imports(file: string): string[] {
  return importsOf(readFileSync(file, 'utf8')).map((i) => i.spec);
}

/** The import graph over files named relative to src/ (`internal/der.ts`): each file's local imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Builds the graph of relative imports between the given sources (path relative to src/ -> text). */
export function importGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const targets = importsOf(text)
      .filter((i) => i.spec.startsWith('.'))
      .map((i) => posix.normalize(posix.join(posix.dirname(file), i.spec)).replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** A module the package exports or the CLI and Node layers build on: everything outside src/internal/. */
function isInternal(file: string): boolean {
  return file.startsWith('internal/');
}

/** Every import from src/internal/ to a module outside it, as `from -> to`. */
export function upwardImports(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph)
    if (isInternal(from)) for (const to of targets) if (!isInternal(to)) out.push(`${from} -> ${to}`);
  return out;
}

/**
 * The import cycles: every strongly connected component of more than one file (or a file importing
 * itself), each sorted, found with Tarjan's algorithm.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** The files longer than `limit` lines that `allowed` does not name, as `file (n lines)`. */
export function oversizeFiles(
  lines: ReadonlyMap<string, number>,
  limit: number,
  allowed: Readonly<Record<string, string>>,
): string[] {
  return [...lines]
    .filter(([file, n]) => n > limit && allowed[file] === undefined)
    .map(([file, n]) => `${file} (${n} lines)`);
}

/**
 * Known cycles, each with why it is still there. Type-only and dynamic imports count: they do not break
 * module initialisation, but a cycle through them still means neither file can be read, tested or moved
 * without the other, which is what the layering is for. An entry must match a cycle that exists.
 */
const KNOWN_CYCLES: Readonly<Record<string, string>> = {};

/** The size limit of a source file, in lines. */
const MAX_LINES = 600;

/** Files allowed over {@link MAX_LINES}, each with the reason; an entry must name a file still over it. */
const BIG_FILES: Readonly<Record<string, string>> = {
  'node/tls/probe.ts': 'one STARTTLS probe per protocol state machine; to split by protocol',
  'node/tls/starttls-client.ts': 'the client side of four STARTTLS dialogues; to split by protocol',
  'node/store/audit.ts': 'one finding per store rule; moves with the store split (issue 19)',
  'internal/x509/extensions.ts':
    'one reader per X.509 extension (RFC 5280 §4.2); to split by extension family',
  'internal/encoding/pem.ts':
    'RFC 7468 parser with the OpenSSL leniencies and RFC 1421 headers, mostly comments',
  'internal/x509/certificate.ts':
    'the Certificate view and its parser; the view moves out with the X.509 folder',
  'pkcs12/pkcs12.ts': 'PKCS#12 read and write (RFC 7292); to split into parse and build',
  'x509/issue.ts': 'certificate issuing with its option checks; to split by CA / self-signed / CSR signing',
  'chain/verify-chain.ts': 'the strict validation policy; shrinks when the path builders merge (issue 19)',
  'node/tls/reload.ts':
    'one watcher over private state (schedule, reads, swaps, loads on demand); its decisions are the pure reload-*.ts',
};

/**
 * The pure parts of Node adapters: they sit beside the adapter whose vocabulary they speak (the reload's
 * credential types, the registry's contexts), but do no I/O of their own, so their rules are tested without
 * a disk or a socket. They import no `node:*` module at all.
 */
const PURE_ADAPTER_PARTS: readonly string[] = [
  'node/tls/reload-names.ts',
  'node/tls/reload-on-demand.ts',
  'node/tls/reload-options.ts',
  'node/tls/reload-policy.ts',
  'node/tls/reload-results.ts',
  'node/tls/sni-policy.ts',
];

/**
 * The domain folders: the tree shows the architecture. Pure public modules sit in one folder per domain, the
 * lower layer mirrors them under internal/, Node adapters sit under node/ by what they serve, the package's
 * subpath facades in entry/. Only the root entry and the error model sit directly in src/.
 */
export const FOLDERS: Readonly<Record<string, string>> = {
  keys: 'private and public keys, key generation, key encryption, key matching',
  encoding: 'PEM armour',
  x509: 'certificates, extensions, names (X.501), bundles, CSRs, issuing, descriptions, renewal windows',
  names: 'host names, IP addresses, mail identities, SNI lookup, name coverage',
  chain: 'chain assembly, path validation, name constraints',
  pkcs12: 'PKCS#12 files',
  tls: 'TLS profiles and DANE TLSA records as data',
  settings: 'per-domain TLS settings as data',
  config: 'Postfix, Dovecot and Haraka configuration text',
  peculiar: 'the @peculiar/x509 boundary',
  admin: 'the web administrator',
  entry: "the package's subpath facades",
  'internal/encoding': 'DER, bytes, OIDs, PEM',
  'internal/keys': 'key formats, signing, the crypto provider',
  'internal/x509': 'the certificate, extension and name parsers',
  'internal/names': 'DNS names, IP addresses, name checks',
  'internal/chain': 'the one path builder, its policy, the certificate index, CRLs',
  'internal/pkcs12': 'PKCS#12 key derivation, MACs and encryption',
  internal: "shared by every domain: errors, option checks, other libraries' certificate objects as input",
  'node/tls': 'serving TLS: secure contexts, SNI, STARTTLS, servers, reload, probes',
  'node/store': "the certificate store, its lock and audit, other tools' layouts",
  'node/acme': 'ACME issuance and renewal',
  'node/config': 'writing server configuration from the store',
  'node/hooks': 'deploy hooks run after installs and rollbacks, and the store settings that keep them',
  'node/settings': 'TLS settings in the store',
  node: 'the mailtls/node entry',
  cli: 'the mailtls command',
  '': 'the root entry and the error model',
};

/** The files of `files` (relative to src/) whose folder is not listed in `folders`. */
export function filesOutsideFolders(
  files: readonly string[],
  folders: Readonly<Record<string, string>>,
): string[] {
  return files.filter((f) => folders[posix.dirname(f) === '.' ? '' : posix.dirname(f)] === undefined);
}

const files = walk(src).map((f) => relative(src, f).split(sep).join('/'));
// The public API: the files package.json "exports" points at (dist/X.js is built from src/X.ts), seen from
// src/cli/ as ../X.js. The root is the pure core; a detailed vocabulary (TLSA records, name comparison) is
// public only through its own subpath, so the CLI may import that subpath's file and nothing else.
const publicFiles = new Set(
  Object.values(
    (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> })
      .exports,
  )
    .map((v) => (typeof v === 'object' && v !== null ? (v as { default?: unknown }).default : undefined))
    .filter((p): p is string => typeof p === 'string' && p.startsWith('./dist/'))
    .map((p) => `../${p.slice('./dist/'.length)}`),
);
const sources = new Map(files.map((f) => [f, readFileSync(join(src, f), 'utf8')]));
const graph = importGraph(sources);
const forbiddenInPure =
  /^(node:)?(fs|fs\/promises|net|tls|https?|child_process|dgram|cluster|worker_threads)$/;

describe('architecture', () => {
  it('finds the source files', () => assert.ok(files.length > 0));

  for (const file of files.filter((f) => !f.startsWith('node/') && !f.startsWith('cli/'))) {
    it(`pure module ${file} imports no node:fs/net/tls`, () => {
      const bad = imports(join(src, file)).filter((i) => forbiddenInPure.test(i));
      assert.deepEqual(bad, [], `${file} imports ${bad.join(', ')}`);
    });
  }

  for (const file of PURE_ADAPTER_PARTS) {
    it(`pure part ${file} of a Node adapter imports no node:* module and no adapter's code`, () => {
      assert.ok(files.includes(file), `${file} is gone: delete it from PURE_ADAPTER_PARTS`);
      const bad = importsOf(sources.get(file)!)
        .filter((i) => {
          if (i.spec.startsWith('node:') || forbiddenInPure.test(i.spec)) return true;
          if (i.typeOnly || !i.spec.startsWith('.')) return false;
          // code from another Node adapter brings its I/O along; a type-only import is erased
          const to = posix.normalize(posix.join(posix.dirname(file), i.spec)).replace(/\.js$/, '.ts');
          return to.startsWith('node/') && !PURE_ADAPTER_PARTS.includes(to);
        })
        .map((i) => i.spec);
      assert.deepEqual(bad, [], `${file} imports ${bad.join(', ')}`);
    });
  }

  for (const file of files.filter((f) => f.startsWith('cli/'))) {
    it(`CLI module ${file} uses only the public API`, () => {
      const bad = imports(join(src, file)).filter((i) => i.startsWith('../') && !publicFiles.has(i));
      assert.deepEqual(bad, [], `${file} reaches past the public API: ${bad.join(', ')}`);
    });
  }

  it('src/index.ts exports nothing from src/internal', () => {
    const bad = imports(join(src, 'index.ts')).filter((i) => i.includes('/internal/'));
    assert.deepEqual(bad, []);
  });

  it('src/internal imports no public module', () => {
    assert.deepEqual(upwardImports(graph), [], 'move the shared type or helper down into src/internal');
  });

  it('src/ has no import cycles beyond the listed ones', () => {
    const cycles = importCycles(graph).map((c) => c.join(' '));
    assert.deepEqual(
      cycles.filter((c) => KNOWN_CYCLES[c] === undefined),
      [],
      'break the cycle by moving what both sides need into a lower module',
    );
    const stale = Object.keys(KNOWN_CYCLES).filter((c) => !cycles.includes(c));
    assert.deepEqual(stale, [], 'these cycles are gone: delete their entries from KNOWN_CYCLES');
  });

  it('every source file sits in a listed domain folder', () => {
    assert.deepEqual(
      filesOutsideFolders(files, FOLDERS),
      [],
      'put the file in its domain folder, or list the folder',
    );
    assert.deepEqual(
      files.filter((f) => !f.includes('/')).sort(),
      ['errors.ts', 'index.ts'],
      'only the root entry and the error model sit directly in src/',
    );
  });

  it(`no source file is over ${MAX_LINES} lines unless listed with a reason`, () => {
    const lines = new Map([...sources].map(([f, text]) => [f, text.split('\n').length - 1]));
    assert.deepEqual(
      oversizeFiles(lines, MAX_LINES, BIG_FILES),
      [],
      'split the file, or list it with a reason',
    );
    const stale = Object.keys(BIG_FILES).filter((f) => !((lines.get(f) ?? 0) > MAX_LINES));
    assert.deepEqual(
      stale,
      [],
      'these files are no longer over the limit: delete their entries from BIG_FILES',
    );
  });

  describe('the checkers catch a planted violation', () => {
    it('filesOutsideFolders names a file in an unlisted folder', () => {
      assert.deepEqual(filesOutsideFolders(['keys/a.ts', 'misc/b.ts', 'c.ts'], { keys: 'k', '': 'root' }), [
        'misc/b.ts',
      ]);
    });

    const planted = (files: Record<string, string>) => importGraph(new Map(Object.entries(files)));

    it('importsOf reads static, type-only, re-export, side-effect and dynamic imports', () => {
      const text = [
        "import { a } from './a.js';",
        "import type { B } from './b.js';",
        "import { type C, type D } from './c.js';",
        "import { type E, f } from './e.js';",
        "export { g } from './g.js';",
        "import './h.js';",
        "const i = await import('./i.js');",
      ].join('\n');
      assert.deepEqual(importsOf(text), [
        { spec: './a.js', typeOnly: false },
        { spec: './b.js', typeOnly: true },
        { spec: './c.js', typeOnly: true },
        { spec: './e.js', typeOnly: false },
        { spec: './g.js', typeOnly: false },
        { spec: './i.js', typeOnly: false },
        { spec: './h.js', typeOnly: false },
      ]);
    });

    it('an internal module importing a public one', () => {
      const g = planted({
        'internal/der.ts': "import { DERError } from '../errors.js';",
        'internal/bytes.ts': "import { x } from './der.js';",
        'errors.ts': "export * from './internal/bytes.js';",
      });
      assert.deepEqual(upwardImports(g), ['internal/der.ts -> errors.ts']);
      assert.deepEqual(
        upwardImports(planted({ 'internal/a.ts': "import type { T } from '../node/b.js';" })),
        ['internal/a.ts -> node/b.ts'],
      );
    });

    it('cycles, including type-only, dynamic and self imports', () => {
      const g = planted({
        'a.ts': "import { b } from './b.js';",
        'b.ts': "import type { C } from './internal/c.js';",
        'internal/c.ts': "const a = await import('../a.js');",
        'd.ts': "import { a } from './a.js';\nimport { d } from './d.js';",
        'e.ts': "import { d } from './d.js';",
      });
      assert.deepEqual(
        importCycles(g).map((c) => c.join(' ')),
        ['a.ts b.ts internal/c.ts', 'd.ts'],
      );
      assert.deepEqual(importCycles(planted({ 'a.ts': "import { b } from './b.js';", 'b.ts': '' })), []);
    });

    it('an unlisted big file', () => {
      const lines = new Map([
        ['big.ts', 601],
        ['listed.ts', 900],
        ['small.ts', 600],
      ]);
      assert.deepEqual(oversizeFiles(lines, 600, { 'listed.ts': 'reason' }), ['big.ts (601 lines)']);
    });
  });
});
