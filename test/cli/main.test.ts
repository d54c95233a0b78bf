// The `mailtls` program: --help with an example on every command, usage errors exit 2, --json errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mailtls, mailtlsJSON, mainJs, makeOpenSSLInputs, openssl, scratch } from './helpers.js';

const COMMANDS = [
  ['key'],
  ['csr'],
  ['show'],
  ['verify'],
  ['install'],
  ['tlsa'],
  ['pfx'],
  ['pfx', 'export'],
  ['pfx', 'import'],
];

describe('mailtls', () => {
  it('is an executable ES module with a node shebang', () => {
    assert.match(readFileSync(mainJs, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('lists every command in --help, with the exit codes', () => {
    const r = mailtls(['--help']);
    assert.equal(r.status, 0);
    for (const [name] of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name!} `, 'm'));
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}success\n {2}1 {2}the check found a problem/);
  });

  for (const cmd of COMMANDS) {
    it(`mailtls ${cmd.join(' ')} --help shows the options, an example and the exit codes`, () => {
      const r = mailtls([...cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: mailtls ${cmd.join(' ')} `));
      assert.match(r.stdout, new RegExp(`Examples:\\n {2}\\$ mailtls ${cmd[0]!} `));
      assert.match(r.stdout, /Exit codes:/);
    });
  }

  const usage = [
    { name: 'no command', args: [], wantStatus: 2 },
    { name: 'an unknown command', args: ['frobnicate'], wantStatus: 2 },
    { name: 'an unknown option', args: ['show', 'x.pem', '--frob'], wantStatus: 2 },
    { name: 'a missing required option', args: ['key', '--type', 'ec'], wantStatus: 2 },
    { name: 'a missing argument', args: ['show'], wantStatus: 2 },
  ];
  for (const row of usage) {
    it(`exits ${row.wantStatus} for ${row.name}`, () => {
      const r = mailtls(row.args);
      assert.equal(r.status, row.wantStatus);
      assert.equal(r.stdout, '');
      assert.notEqual(r.stderr, '');
    });
  }

  const commanderErrors = [
    { name: 'an unknown command', args: ['bogus'], want: "error [ERR_CLI_USAGE]: unknown command 'bogus'\n" },
    {
      name: 'an unknown sub-command',
      args: ['pfx', 'bogus'],
      want: "error [ERR_CLI_USAGE]: unknown command 'bogus'\n",
    },
    {
      name: 'an unknown option',
      args: ['show', 'x.pem', '--frob'],
      want: "error [ERR_CLI_USAGE]: unknown option '--frob'\n",
    },
    {
      name: 'a missing required option',
      args: ['key', '--type', 'ec'],
      want: "error [ERR_CLI_USAGE]: required option '--out <file>' not specified\n",
    },
  ];
  for (const row of commanderErrors)
    it(`reports ${row.name} as "error [ERR_CLI_USAGE]: ...", like every other error`, () => {
      const r = mailtls(row.args);
      assert.equal(r.status, 2);
      assert.equal(r.stderr, row.want);
    });

  it('words the .pfx password error with the flags of the command, not the API option', () => {
    const dir = scratch();
    const pfx = join(dir, 'p.pfx');
    const inputs = makeOpenSSLInputs();
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      inputs.leafKey,
      '-in',
      inputs.leafCert,
      '-passout',
      'pass:secret',
      '-out',
      pfx,
    ]);
    for (const args of [
      ['show', pfx],
      ['pfx', 'import', '--pfx', pfx, '--out-dir', dir],
    ]) {
      const r = mailtls(args);
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /^error \[ERR_PKCS12_PASSWORD\]: .*give it with --password-file FILE or --password-env VAR \(or --password P\)/,
      );
      assert.doesNotMatch(r.stderr, /\{ password \}/);
    }
  });

  it('reports usage errors as JSON with --json', () => {
    const r = mailtlsJSON(['key', '--type', 'ec']);
    assert.equal(r.status, 2);
    assert.deepEqual(r.json, {
      error: { code: 'ERR_CLI_USAGE', message: "required option '--out <file>' not specified", details: {} },
    });
  });

  it('prints its version', () => {
    const r = mailtls(['--version']);
    assert.equal(r.status, 0);
    assert.equal(
      r.stdout,
      `${JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version}\n`,
    );
  });
});
