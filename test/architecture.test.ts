// Layout shows the architecture: pure modules never touch files, sockets or node:tls; the CLI calls only the
// public API; src/internal is never exported.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers/paths.js';

const src = join(repoRoot, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

const files = walk(src).map((f) => relative(src, f));
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
});
