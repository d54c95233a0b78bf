// docs/cli.md: every `mailtls` command of the task table runs, in table order, in a directory of
// openssl-made files, and exits 0; no example there or in any command's --help puts a secret on the
// command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { mailtls, mainJs, makeOpenSSLInputs, type OpenSSLInputs, scratch } from './helpers.js';

/** The rows of the task table: [task, mailtls, openssl, step] cells, without the backticks of the mailtls one. */
function taskRows(): { task: string; command: string }[] {
  const text = readFileSync(join(repoRoot, 'docs', 'cli.md'), 'utf8');
  const table = text.slice(text.indexOf('## Tasks'));
  const rows: { task: string; command: string }[] = [];
  for (const line of table.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| task') || line.startsWith('| ---')) continue;
    const cells = line.split(' | ');
    const m = /^`(mailtls [^`]+)`$/.exec(cells[1] ?? '');
    assert.ok(m, `the mailtls cell of "${line.slice(0, 60)}" is one command in backticks`);
    rows.push({ task: (cells[0] ?? '').replace(/^\| /, ''), command: m[1]! });
  }
  return rows;
}

/** A value given right after a secret's own option (`--password x`), i.e. a secret on the command line. */
const SECRET_IN_ARGV = /--(?:key-)?password(?:=|\s+)(?!-)\S/;

describe('docs/cli.md', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('every mailtls row of the task table runs and exits 0', () => {
    const rows = taskRows();
    assert.ok(rows.length >= 20, `only ${rows.length} rows`);
    const dir = scratch();
    const files: Record<string, string> = {
      'mail.key': inputs.leafKey,
      'mail.crt': inputs.leafCert,
      'ca-bundle.crt': inputs.resellerBundle,
      'root.crt': inputs.rootCert,
      'intermediate.crt': inputs.intermediateCert,
      'rsa.key': inputs.pkcs1Key,
      'mail.der': inputs.leafDER,
      'mail.pfx': inputs.pfx,
    };
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(dir, name));
    writeFileSync(join(dir, 'pass.txt'), 'secret\n', { mode: 0o600 });
    const commands = new Set<string>();
    for (const row of rows) {
      assert.doesNotMatch(row.command, SECRET_IN_ARGV, `${row.task}: a secret on the command line`);
      // The shell runs the row as written, with `mailtls` being the built command.
      const line = row.command.replace(/^mailtls /, `'${process.execPath}' '${mainJs}' `);
      const r = spawnSync('sh', ['-c', line], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PFX_PASS: 'secret' },
        timeout: 120_000,
      });
      assert.equal(r.status, 0, `${row.task}: ${row.command}\n${r.stdout}\n${r.stderr}`);
      commands.add(row.command.split(' ').slice(1, 3).join(' '));
    }
    // The rows cover every new command of the manual control.
    for (const c of [
      'ca init',
      'store list',
      'store versions',
      'store export',
      'store remove',
      'store rollback',
    ])
      assert.ok(commands.has(c), `no row runs mailtls ${c}`);
    for (const c of ['sign', 'selfsigned', 'renew-check', 'bundle', 'convert'])
      assert.ok(
        [...commands].some((x) => x.startsWith(`${c} `)),
        `no row runs mailtls ${c}`,
      );
    // What the rows made is what they say: the signed certificate chains to the lab CA's root.
    const verify = spawnSync(
      'openssl',
      ['verify', '-CAfile', 'lab-ca/root.crt', '-untrusted', 'lab-mail.crt', 'lab-mail.crt'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.match(verify.stdout, /lab-mail\.crt: OK/);
  });

  it('no --help example puts a secret on the command line', () => {
    const top = mailtls(['--help']);
    const names = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]+)(?: \[options\]| <| \[|\s{2,})/gm)].map(
      (m) => m[1]!,
    );
    assert.ok(
      names.includes('sign') && names.includes('store') && names.includes('convert'),
      names.join(','),
    );
    const helps = [top.stdout];
    for (const name of names.filter((n) => n !== 'help')) {
      helps.push(mailtls([name, '--help']).stdout);
      if (name === 'store' || name === 'pfx' || name === 'ca') {
        const subs = [...mailtls([name, '--help']).stdout.matchAll(/^ {2}([a-z]+)(?: \[options\]| <)/gm)].map(
          (m) => m[1]!,
        );
        for (const sub of subs) helps.push(mailtls([name, sub, '--help']).stdout);
      }
    }
    for (const h of helps) {
      const examplesPart = h.slice(h.indexOf('Examples:'));
      if (!h.includes('Examples:')) continue;
      for (const l of examplesPart.split('\n').filter((x) => x.includes('$ mailtls')))
        assert.doesNotMatch(l, SECRET_IN_ARGV, l);
    }
  });
});
