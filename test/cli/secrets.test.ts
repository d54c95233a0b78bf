// Secrets the way scripts give them: --password-file / --password-env (and the --key-password-* trio)
// wherever a secret is read, `-` for standard input, and a password given by file never on the command
// line of the running process (/proc/<pid>/cmdline).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  mainJs,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  opensslSPKISha256,
  scratch,
} from './helpers.js';

/** Runs mailtls with extra environment variables. */
function mailtlsEnv(args: readonly string[], env: Record<string, string>, input = '') {
  const r = spawnSync(process.execPath, [mainJs, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return r;
}

/** The NUL-separated command line of a running process, as `ps` shows it to every user. */
function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

/**
 * Starts `mailtls ARGS` and waits until the process runs the command (its /proc cmdline names main.js: the
 * exec happened); resolves with the child, its cmdline, and a promise of its exit.
 */
async function startAndReadCmdline(args: readonly string[]) {
  const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const pid = child.pid;
  assert.ok(pid !== undefined, 'the command did not start');
  let line: string[] = [];
  // The child has exec'd once its cmdline names the command (before that it is a copy of this process).
  for (let i = 0; i < 2000 && !line.includes(mainJs); i++) {
    line = cmdline(pid);
    if (!line.includes(mainJs)) await new Promise((r) => setImmediate(r));
  }
  assert.ok(line.includes(mainJs), `never saw the command's cmdline: ${line.join(' ')}`);
  return { child, line, exited, stderr: () => stderr };
}

describe('secrets and standard input', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('a password given with --password-file never appears in /proc/<pid>/cmdline of the running command', async (t) => {
    if (process.platform !== 'linux') return t.skip('needs /proc');
    const dir = scratch();
    const fifo = join(dir, 'pass.fifo');
    const mk = spawnSync('mkfifo', ['-m', '600', fifo]);
    assert.equal(mk.status, 0, 'mkfifo failed');
    const password = 'Pr0c-S3cret-Value';
    const out = join(dir, 'mail.pfx');
    // The command blocks reading the FIFO until the password is written: it is running while we look.
    const run = await startAndReadCmdline([
      ...['pfx', 'export', '--key', inputs.leafKey, '--cert', inputs.leafCert],
      ...['--chain', inputs.intermediateCert, '--out', out, '--password-file', fifo],
    ]);
    assert.ok(run.line.includes('--password-file') && run.line.includes(fifo));
    assert.ok(!run.line.join(' ').includes(password));
    assert.equal(run.child.exitCode, null, 'the command is still running (waiting for the password)');
    await writeFile(fifo, `${password}\n`);
    assert.equal(await run.exited, 0, run.stderr());
    // The .pfx was made with the password from the file: openssl opens it with that password.
    const certs = openssl(['pkcs12', '-in', out, '-passin', `pass:${password}`, '-nokeys']);
    assert.match(certs, /subject=C = US, O = Example Inc, CN = mail\.example\.com/);

    // The control: the same look finds a password given with --password (so the check above can fail).
    const fifo2 = join(dir, 'key.fifo');
    assert.equal(spawnSync('mkfifo', ['-m', '600', fifo2]).status, 0);
    const shown = await startAndReadCmdline([
      ...['pfx', 'export', '--key', fifo2, '--cert', inputs.leafCert],
      ...['--out', join(dir, 'shown.pfx'), '--password', password],
    ]);
    assert.ok(shown.line.includes(password));
    await writeFile(fifo2, readFileSync(inputs.leafKey));
    assert.equal(await shown.exited, 0, shown.stderr());
  });

  it('--password-env and --password-file read the .pfx password; one way only; a missing variable is named', () => {
    const dir = scratch();
    const out = join(dir, 'env.pfx');
    const r = mailtlsEnv(
      [
        'pfx',
        'export',
        '--key',
        inputs.leafKey,
        '--cert',
        inputs.leafCert,
        '--out',
        out,
        '--password-env',
        'PFX_PW',
      ],
      { PFX_PW: 'from-env' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      openssl(['pkcs12', '-in', out, '-passin', 'pass:from-env', '-nokeys']),
      /CN = mail\.example\.com/,
    );
    // pfx import reads it back with the password from standard input (--password-file -).
    const outDir = join(dir, 'imported');
    spawnSync('mkdir', [outDir]);
    const imp = mailtls(['pfx', 'import', '--pfx', out, '--password-file', '-', '--out-dir', outDir], {
      input: 'from-env\n',
    });
    assert.equal(imp.status, 0, imp.stderr);
    assert.equal(statSync(join(outDir, 'privkey.pem')).mode & 0o777, 0o600);

    const missing = mailtlsEnv(['show', inputs.pfx, '--password-env', 'NOT_SET_ANYWHERE', '--json'], {});
    assert.equal(missing.status, 2);
    const err = JSON.parse(missing.stderr) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'ERR_CLI_USAGE');
    assert.match(err.error.message, /NOT_SET_ANYWHERE \(--password-env\) is not set/);

    const pass = join(dir, 'pass.txt');
    writeFileSync(pass, 'secret\n');
    const both = mailtlsEnv(['show', inputs.pfx, '--password-file', pass, '--password-env', 'X'], {
      X: 'secret',
    });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /Give only one of --password, --password-file and --password-env/);
    // A wrong password from the environment: the error names the options and never the value.
    const wrong = mailtlsEnv(['show', inputs.pfx, '--password-env', 'PW'], { PW: 'wrong-Value-42' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /ERR_PKCS12_PASSWORD/);
    assert.doesNotMatch(wrong.stderr, /wrong-Value-42/);
  });

  it('--key-password-file / --key-password-env open an encrypted key in csr, tlsa, pfx export and install', () => {
    const dir = scratch();
    const pass = join(dir, 'key-pass.txt');
    writeFileSync(pass, 'secret\n');
    const csr = mailtls([
      ...['csr', '--cn', 'example.com', '--san', 'mail.example.com'],
      ...['--key', inputs.encryptedKey, '--key-password-file', pass, '--out-dir', dir],
    ]);
    assert.equal(csr.status, 0, csr.stderr);
    assert.equal(
      openssl(['req', '-in', join(dir, 'req.pem'), '-noout', '-pubkey']),
      openssl(['pkey', '-in', inputs.leafKey, '-pubout']),
    );
    const tlsa = mailtlsEnv(['tlsa', '--cert', inputs.encryptedKey, '--key-password-env', 'KP'], {
      KP: 'secret',
    });
    assert.equal(tlsa.status, 0, tlsa.stderr);
    assert.match(tlsa.stdout, new RegExp(`3 1 1 ${opensslSPKISha256(inputs.leafKey, 'key')}`));
    const pfx = join(dir, 'k.pfx');
    const exp = mailtlsEnv(
      [
        ...['pfx', 'export', '--key', inputs.encryptedKey, '--key-password-env', 'KP'],
        ...['--cert', inputs.leafCert, '--out', pfx, '--password-file', pass],
      ],
      { KP: 'secret' },
    );
    assert.equal(exp.status, 0, exp.stderr);
    const store = join(dir, 'store');
    const inst = mailtls([
      ...['install', '--store', store, '--cert', inputs.leafCert, '--chain', inputs.resellerBundle],
      ...['--key', inputs.encryptedKey, '--key-password-file', pass, '--trust', inputs.rootCert],
    ]);
    assert.equal(inst.status, 0, inst.stderr);
    const locked = mailtls([
      'csr',
      '--cn',
      'example.com',
      '--key',
      inputs.encryptedKey,
      '--out-dir',
      scratch(),
    ]);
    assert.equal(locked.status, 2);
    assert.match(
      locked.stderr,
      /hint: The key is encrypted: give its pass phrase with --key-password-file FILE or --key-password-env VAR/,
    );
  });

  it('- reads standard input wherever a file is read, once per command', () => {
    const cert = readFileSync(inputs.leafCert, 'utf8');
    const show = mailtlsJSON(['show', '-', '--fingerprint']);
    // mailtlsJSON gives no input: an empty standard input is not a certificate.
    assert.equal(show.status, 2);
    const r = mailtls(['show', '-', '--fingerprint'], { input: cert });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      openssl(['x509', '-in', inputs.leafCert, '-noout', '-fingerprint', '-sha256'])
        .trim()
        .replace(/^sha256 Fingerprint=/i, 'SHA256 Fingerprint='),
    );
    const v = mailtls(
      ['verify', '--cert', '-', '--chain', inputs.resellerBundle, '--trust', inputs.rootCert],
      {
        input: cert,
      },
    );
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const der = readFileSync(inputs.leafDER);
    const conv = spawnSync(process.execPath, [mainJs, 'convert', '-', '--to', 'pem'], { input: der });
    assert.equal(conv.status, 0, conv.stderr.toString());
    assert.equal(conv.stdout.toString(), openssl(['x509', '-in', inputs.leafCert]));
    const twice = mailtls(['verify', '--cert', '-', '--chain', '-'], { input: cert });
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /ERR_CLI_USAGE.*Standard input \(-\) is already read as the certificate file/);
    assert.ok(!existsSync('-'));
  });
});
