/**
 * The built package (dist/, npm run build: esbuild bundles each entry point, code two of them share sits in a
 * chunk): a value two entry points export is one object, so an error a `mailtls/node` function throws is an
 * instance of the classes `mailtls` and `mailtls/errors` export; classes and functions keep their names; and
 * the `mailtls` command loads only the module of the sub-command it runs. dist/ is built first when it is
 * missing or older than src/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createCertificateAuthority } from '../src/index.js';
import { ensureDist } from './helpers/build.js';
import { repoRoot } from './helpers/paths.js';

interface Entry {
  /** `mailtls`, `mailtls/node`, ... */
  specifier: string;
  /** The built file (dist/X.js). */
  dist: string;
  /** The same module compiled one file per module by tsc (build/src/X.js, made with the tests). */
  compiled: string;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { default: string }>;
  bin: Record<string, string>;
};
const entries: Entry[] = Object.entries(pkg.exports)
  .filter((e): e is [string, { default: string }] => typeof e[1] === 'object')
  .map(([k, v]) => ({
    specifier: k === '.' ? 'mailtls' : `mailtls/${k.slice(2)}`,
    dist: join(repoRoot, v.default),
    compiled: join(repoRoot, 'build/src', v.default.slice('./dist/'.length)),
  }));
const load = (file: string) => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
const entry = (specifier: string) => load(entries.find((e) => e.specifier === specifier)!.dist);

before(() => ensureDist());

describe('dist/: one definition of each class across entry points', () => {
  it('every value two or more entry points export is the same object in each', async () => {
    const seen = new Map<string, { specifier: string; value: unknown }[]>();
    for (const e of entries)
      for (const [name, value] of Object.entries(await load(e.dist))) {
        const list = seen.get(name) ?? [];
        list.push({ specifier: e.specifier, value });
        seen.set(name, list);
      }
    const shared = [...seen].filter(([, list]) => list.length > 1);
    // MailTlsError and its subclasses alone are exported by mailtls and mailtls/errors
    const classes = shared.filter(([, [first]]) => /^class\b/.test(String(first!.value)));
    assert.ok(classes.length >= 16, `${classes.length} classes shared by entry points`);
    for (const [name, [first, ...rest]] of shared)
      for (const other of rest)
        assert.ok(
          other.value === first!.value,
          `${name} from ${other.specifier} is not the ${name} of ${first!.specifier}`,
        );
  });

  it('an error a mailtls/node or mailtls/settings function throws is an instance of the classes mailtls and mailtls/errors export', async () => {
    const root = await entry('mailtls');
    const errors = await entry('mailtls/errors');
    const node = await entry('mailtls/node');
    const settings = await entry('mailtls/settings');
    const probe = (() => {
      try {
        (node.parseProbeURL as (u: string) => unknown)('not a url');
      } catch (e) {
        return e;
      }
      assert.fail('parseProbeURL accepted "not a url"');
    })();
    const settingsError = (() => {
      try {
        (settings.parseTLSSettingsJSON as (t: string) => unknown)('{');
      } catch (e) {
        return e;
      }
      assert.fail('parseTLSSettingsJSON accepted "{"');
    })();
    for (const [e, cls] of [
      [probe, 'ProbeError'],
      [settingsError, 'SettingsError'],
    ] as const) {
      for (const m of [root, errors]) {
        assert.ok(e instanceof (m.MailTlsError as typeof Error), `${cls} is not a MailTlsError`);
        assert.ok(e instanceof (m[cls] as typeof Error), `not instanceof ${cls}`);
        assert.equal((m.isMailTlsError as (x: unknown) => boolean)(e), true);
      }
      assert.equal((e as Error).name, cls);
    }
  });

  it('every exported class and function has the name it has in the one-file-per-module build', async () => {
    let checked = 0;
    for (const e of entries) {
      const built = await load(e.dist);
      const compiled = await load(e.compiled);
      for (const [name, value] of Object.entries(built)) {
        if (typeof value !== 'function') continue;
        checked++;
        assert.equal(value.name, (compiled[name] as { name?: unknown }).name, `${e.specifier}: ${name}`);
      }
    }
    assert.ok(checked > 100, `${checked} functions and classes`);
  });
});

describe('dist/cli/main.js loads only the sub-command it runs', () => {
  let work = '';
  let cert = '';
  let hooks = '';
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'mailtls-dist-'));
    cert = join(work, 'root.pem');
    writeFileSync(
      cert,
      (await createCertificateAuthority({ name: 'Dist Test Root', at: new Date(), days: 2 })).root.certPEM,
    );
    // a module loader hook that writes every file: URL it loads to the file MAILTLS_LOAD_LOG names
    hooks = join(work, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.MAILTLS_LOAD_LOG, url + '\\n');
  return next(url, context);
}
`,
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Runs the built command; its output and the sub-commands (`registerShow`, ...) the files it loaded define. */
  function run(args: string[]): { status: number | null; out: string; registers: string[] } {
    const log = join(work, `loaded-${args.join('-').replace(/\W/g, '')}.txt`);
    writeFileSync(log, '');
    const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        join(repoRoot, pkg.bin.mailtls!),
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, MAILTLS_LOAD_LOG: log }, timeout: 120_000 },
    );
    const files = readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith(pathToFileURL(join(repoRoot, 'dist')).href))
      .map((u) => fileURLToPath(u));
    assert.ok(files.length > 0, 'the hook saw no file of dist/ load');
    const registers = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^(?:export )?(?:async )?function (register[A-Z]\w*)\(/gm)].map(
        (m) => m[1]!,
      ),
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}`, registers: registers.sort() };
  }

  it('--version loads no sub-command', () => {
    const r = run(['--version']);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    assert.deepEqual(r.registers, []);
  });

  it('show loads the show sub-command alone', () => {
    const r = run(['show', cert]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Dist Test Root/);
    assert.deepEqual(r.registers, ['registerShow']);
  });

  it('--help loads every sub-command (its list is complete)', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Usage: mailtls/);
    for (const name of ['registerAcme', 'registerAdmin', 'registerKey', 'registerShow', 'registerStore'])
      assert.ok(r.registers.includes(name), `${name} not loaded: ${r.registers.join(' ')}`);
  });
});
