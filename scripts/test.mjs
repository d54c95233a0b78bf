#!/usr/bin/env node
// The one test command (npm test): typecheck and compile, lint and format check, the API docs built for real
// (HTML into a temporary directory, any warning fails), then every test file with node's test runner.
// Arguments filter test files by substring: `npm test -- pem hostname`.
// Tests that need an outside program that is not installed are skipped (test/helpers/peers.ts); the run ends
// with one line naming the missing programs and the command that installs them. MAILTLS_REQUIRE_PEERS=1 (CI)
// makes a missing program a failure instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
// dist/ and build/examples/ once, before any test runs them as child processes (tests never rebuild what is
// up to date: a rebuild while another test process reads the files could hand it a half-written one).
console.log('> build (dist/ and build/examples/)');
run(process.execPath, [join(root, 'scripts/build.mjs')]);
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'examples/tsconfig.json']);
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

// Outside programs, checked up front. openssl makes the test fixtures, so nothing runs without it; in CI
// (MAILTLS_REQUIRE_PEERS=1) any missing one fails the run at once.
const peers = await import(pathToFileURL(join(root, 'build/test/helpers/peers.js')).href);
const absent = peers.missingPeers();
const installHint = `install them all with: ${peers.INSTALL_ALL} (apt-get on Debian/Ubuntu; elsewhere it names the packages)`;
if (absent.includes('openssl')) {
  console.error(`\n${peers.peerReason('openssl')} (the test fixtures are made with it); ${installHint}`);
  process.exit(1);
}
if (absent.length > 0 && process.env[peers.REQUIRE_VARIABLE] === '1') {
  console.error(
    `\ntest peers missing: ${absent.join(', ')}; ${peers.REQUIRE_VARIABLE}=1 makes that a failure; ${installHint}`,
  );
  process.exit(1);
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
const skipLog = join(mkdtempSync(join(tmpdir(), 'mailtls-peers-')), 'skips.log');
// The time-out is a safety bound that turns a hang into a failure, not a speed claim: a file of long tests
// (store-crash, examples) takes a few minutes on a busy two-core machine. Spawned programs that fail to start
// fail their test at once (test/helpers/peers.ts), so nothing legitimately waits for this bound.
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=4', '--test-timeout=900000', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MAILTLS_TEST: '1', [peers.LOG_VARIABLE]: skipLog } },
);

// One line naming every missing peer a test asked for, and how many tests (or clients in a test) it left out.
const skips = existsSync(skipLog) ? readFileSync(skipLog, 'utf8').split('\n').filter(Boolean) : [];
rmSync(join(skipLog, '..'), { recursive: true, force: true });
if (skips.length > 0) {
  const named = [...new Set(skips.flatMap((l) => l.split(' ')))];
  const ordered = Object.keys(peers.PEERS).filter((p) => named.includes(p));
  console.log(
    `\nSkipped ${skips.length} tests (or clients) because these test peers are not installed: ${ordered.join(', ')}; ${installHint}`,
  );
}
process.exit(r.status ?? 1);
