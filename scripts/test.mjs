#!/usr/bin/env node
// The one test command (npm test): typecheck and compile, lint and format check, the API docs built for real
// (HTML into a temporary directory, any warning fails), then every test file with node's test runner.
// Arguments filter test files by substring: `npm test -- pem hostname`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

console.log('> typecheck (tsc)');
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
console.log('> lint and format check (biome)');
run(process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '.']);

// The real HTML, not only the checks (`--emit none` passed while rendering failed): typedoc.json treats warnings
// as errors, and its output is read too, so a warning or error fails even if the exit status does not say so.
console.log('> API docs (typedoc HTML into a temporary directory, warnings are errors)');
const docsOut = mkdtempSync(join(tmpdir(), 'mailtls-docs-'));
const docs = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', docsOut], {
  cwd: root,
  encoding: 'utf8',
});
const docsText = `${docs.stdout}${docs.stderr}`;
process.stdout.write(docsText);
const docsBuilt = existsSync(join(docsOut, 'index.html'));
rmSync(docsOut, { recursive: true, force: true });
if (docs.status !== 0 || /\[(warning|error)\]/.test(docsText) || !docsBuilt) {
  console.error(`\ntypedoc did not build the API docs cleanly (exit ${docs.status ?? docs.signal})`);
  process.exit(docs.status || 1);
}

// compiled tests whose source is gone (renamed or deleted) are not run
const files = walk(join(root, 'build/test'))
  .map((f) => relative(root, f))
  .filter((f) => existsSync(join(root, f.replace(/^build\//, '').replace(/\.js$/, '.ts'))))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
console.log(`> ${files.length} test files (node --test)`);
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=4', '--test-timeout=300000', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MAILTLS_TEST: '1' } },
);
process.exit(r.status ?? 1);
