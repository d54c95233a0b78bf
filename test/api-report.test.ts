// The API report under version control: api/mailtls.api.md must list exactly what the built package offers.
// A change to the public surface then shows up in review as a diff of that file; this test fails until the
// report is regenerated (npm run api-report) and committed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers/paths.js';

interface Report {
  text: string;
  entries: { name: string; js: string; values: string[] }[];
}
interface ReportModule {
  renderReport(distDir: string): Report;
  firstDifference(a: string, b: string): string;
  REPORT: string;
  UPDATE_COMMAND: string;
}

describe('API report (api/mailtls.api.md)', () => {
  let out = '';
  let report: Report;
  let mod: ReportModule;
  before(async () => {
    // its own build directory inside the repository (so the built files resolve the dependencies), not dist/,
    // which the package test builds at the same time
    mkdirSync(join(repoRoot, 'build'), { recursive: true });
    out = mkdtempSync(join(repoRoot, 'build', 'api-dist-'));
    // as npm run build makes dist/: the declarations from tsc, the JavaScript that ships from esbuild
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--outdir', out], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    mod = (await import(pathToFileURL(join(repoRoot, 'scripts/api-report.mjs')).href)) as ReportModule;
    report = mod.renderReport(out);
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('every emitted declaration file type-checks (stripInternal removed nothing another declaration names)', () => {
    const files = readdirSync(out, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.d.ts'))
      .map((f) => join(out, f));
    assert.ok(files.length > 50, `${files.length} declaration files`);
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext'];
    args.push('--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', ...files);
    const r = spawnSync(process.execPath, [tsc, ...args], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('the committed report matches the built declarations', () => {
    const committed = readFileSync(mod.REPORT, 'utf8');
    assert.ok(
      committed === report.text,
      `api/mailtls.api.md does not match the public surface (first difference at ${mod.firstDifference(committed, report.text)}). ` +
        `If the change is intended, run: ${mod.UPDATE_COMMAND}, and commit api/mailtls.api.md`,
    );
  });

  it('each entry point exports at run time exactly the values its declarations list (nothing internal)', async () => {
    assert.ok(report.entries.length > 20);
    for (const entry of report.entries) {
      const runtime = Object.keys(await import(pathToFileURL(entry.js).href)).sort();
      assert.deepEqual(
        runtime,
        [...entry.values].sort(),
        `${entry.name}: run-time exports differ from its .d.ts`,
      );
    }
  });

  it('the root is the pure core: about 150 names, none of the Node adapters', () => {
    const root = report.entries.find((e) => e.name === 'mailtls');
    const node = report.entries.find((e) => e.name === 'mailtls/node');
    assert.ok(root && node);
    const section = report.text.slice(
      report.text.indexOf('## `mailtls`'),
      report.text.indexOf('## `mailtls/errors`'),
    );
    const names = [...section.matchAll(/^\/\/ \S+ (\w+)/gm)].map((m) => m[1]);
    assert.ok(names.length <= 150, `the root offers ${names.length} names`);
    for (const v of node.values)
      assert.ok(!root.values.includes(v), `${v} (mailtls/node) is exported from the root`);
  });
});
