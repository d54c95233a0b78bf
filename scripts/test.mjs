#!/usr/bin/env node
// The one test command (npm test): typecheck and compile, lint and format check, then every test file with
// node's test runner. Arguments filter test files by substring: `npm test -- pem hostname`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

console.log('> API docs (typedoc, warnings are errors)');
run(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none']);

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
