// What the command reads and writes when an input or an output is not an ordinary file: devices, pipes and
// FIFOs are read only up to the size limit (ERR_CLI_READ), `--force` replaces regular files and links only
// (never a device, FIFO, socket or directory, never through a link), every command applies one PEM rule and
// one certificate-count limit, and text output escapes control characters from a certificate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  mainJs,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  scratch,
} from './helpers.js';

function errorOf(r: { json: Record<string, unknown> }): {
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  return r.json.error as { code: string; message: string; details: Record<string, unknown> };
}

const hasTime = existsSync('/usr/bin/time');

/**
 * Runs a shell command line (which runs the command) under /usr/bin/time when present: the exit status, stderr
 * and the largest resident set size in KiB (undefined without /usr/bin/time).
 */
function measured(command: string): { status: number | null; stderr: string; maxRSSKiB: number | undefined } {
  const marker = 'MAXRSS=';
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', `${marker}%M`, 'sh', '-c', command], { encoding: 'utf8' })
    : spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  const m = new RegExp(`${marker}(\\d+)`).exec(r.stderr);
  return {
    status: hasTime ? Number(/non-zero status (\d+)/.exec(r.stderr)?.[1] ?? r.status) : r.status,
    stderr: r.stderr,
    maxRSSKiB: m === null ? undefined : Number(m[1]),
  };
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const node = q(process.execPath);
const cli = q(mainJs);

describe('mailtls: reads are bounded while they read', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  const devices = [
    { name: 'show /dev/zero', args: () => ['show', '/dev/zero'] },
    { name: 'verify --cert /dev/urandom', args: () => ['verify', '--cert', '/dev/urandom'] },
    {
      name: 'pfx import --pfx /dev/zero',
      args: () => ['pfx', 'import', '--pfx', '/dev/zero', '--out-dir', scratch()],
    },
    {
      name: 'install --key /dev/zero',
      args: () => ['install', '--store', scratch(), '--cert', inputs.leafCert, '--key', '/dev/zero'],
    },
    {
      name: 'tlsa --cert /dev/zero',
      args: () => ['tlsa', '--cert', '/dev/zero', '--mx', 'mail.example.com'],
    },
    { name: 'probe --trust /dev/zero', args: () => ['probe', 'smtp://127.0.0.1:1', '--trust', '/dev/zero'] },
  ];
  for (const d of devices)
    it(`${d.name}: ERR_CLI_READ at 64 MiB, not gigabytes`, () => {
      const r = measured(`${node} ${cli} ${d.args().map(q).join(' ')} --json`);
      assert.equal(r.status, 2, r.stderr);
      const error = JSON.parse(r.stderr.slice(0, r.stderr.lastIndexOf('}') + 1)).error as Record<
        string,
        unknown
      >;
      assert.equal(error.code, 'ERR_CLI_READ');
      assert.match(error.message as string, /larger than 64 MiB/);
      assert.equal((error.details as Record<string, unknown>).maxBytes, 64 * 1024 * 1024);
      if (r.maxRSSKiB !== undefined) assert.ok(r.maxRSSKiB < 400 * 1024, `max RSS ${r.maxRSSKiB} KiB`);
    });

  it('--password-file reads only its first line, and at most 64 KiB of it', () => {
    const dir = scratch();
    const pass = join(dir, 'pass.txt');
    writeFileSync(pass, 'secret\r\nnot the password\n');
    const ok = mailtlsJSON(['show', inputs.encryptedKey, '--password-file', pass]);
    assert.equal(ok.status, 0, ok.stderr);
    const r = measured(`${node} ${cli} show ${q(inputs.encryptedKey)} --password-file /dev/zero`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /error \[ERR_CLI_READ\]: The first line of the password file \/dev\/zero is longer than 64 KiB/,
    );
    if (r.maxRSSKiB !== undefined) assert.ok(r.maxRSSKiB < 200 * 1024, `max RSS ${r.maxRSSKiB} KiB`);
    // A stream that never ends but has a line end early is fine: only the first line is read.
    const yes = measured(
      `yes secret | ${node} ${cli} show ${q(inputs.encryptedKey)} --password-file /dev/stdin`,
    );
    assert.equal(yes.status, 0, yes.stderr);
  });

  it('a pipe that never ends on standard input (-) stops at 64 MiB', () => {
    const r = measured(`cat /dev/zero | ${node} ${cli} show -`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /error \[ERR_CLI_READ\]: The file standard input is larger than 64 MiB/);
    const ok = spawnSync('sh', ['-c', `${node} ${cli} show - --json < ${q(inputs.leafCert)}`], {
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { items: unknown[] }).items.length, 1);
  });
});

describe('mailtls: --force replaces regular files and links only', () => {
  let dir: string;
  let server: Server | undefined;
  before(() => {
    dir = scratch();
  });
  after(() => server?.close());

  function refused(target: string, args: (out: string) => string[]): void {
    const r = mailtlsJSON(args(target));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(errorOf(r).code, 'ERR_CLI_WRITE');
    assert.match(errorOf(r).message, /not a regular file; it is never replaced, not even with --force/);
  }
  const keyOut = (out: string) => ['key', '--type', 'ec', '--out', out, '--force'];

  it('refuses a FIFO, a directory and a socket (key and pfx export)', async () => {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    refused(fifo, keyOut);
    assert.ok(lstatSync(fifo).isFIFO());
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    refused(sub, keyOut);
    const sock = join(dir, 'sock');
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(sock, resolve));
    refused(sock, keyOut);
    assert.ok(lstatSync(sock).isSocket());
    const inputs = makeOpenSSLInputs();
    refused(fifo, (out) => [
      'pfx',
      'export',
      '--key',
      inputs.leafKey,
      '--cert',
      inputs.leafCert,
      '--out',
      out,
      '--password',
      'x',
      '--force',
    ]);
    assert.ok(lstatSync(fifo).isFIFO());
  });

  it('a character device stays a device (mknod, as root)', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root for mknod');
    const null_ = statSync('/dev/null');
    const dev = join(dir, 'null-copy');
    const major = Math.floor(null_.rdev / 256);
    const minor = null_.rdev % 256;
    assert.equal(spawnSync('mknod', [dev, 'c', String(major), String(minor)]).status, 0);
    refused(dev, keyOut);
    const st = lstatSync(dev);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, null_.rdev);
    // Through a link to it, --force replaces the link, never the device.
    const link = join(dir, 'link-to-device');
    symlinkSync(dev, link);
    const r = mailtls(keyOut(link));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(dev).isCharacterDevice());
    assert.ok(lstatSync(link).isFile());
  });

  it('a symbolic link to a file elsewhere: the link is replaced, the file it pointed to is left alone', () => {
    const outside = join(scratch(), 'precious.txt');
    writeFileSync(outside, 'keep me\n');
    const link = join(dir, 'key-link');
    symlinkSync(outside, link);
    const refusedRun = mailtlsJSON(['key', '--type', 'ec', '--out', link]);
    assert.equal(refusedRun.status, 2);
    assert.equal(errorOf(refusedRun).code, 'ERR_CLI_EXISTS');
    const r = mailtls(keyOut(link));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(outside, 'utf8'), 'keep me\n');
    assert.ok(lstatSync(link).isFile());
    assert.equal(lstatSync(link).mode & 0o777, 0o600);
    assert.match(readFileSync(link, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    // A dangling link without --force is "exists", not a write error.
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), dangling);
    const d = mailtlsJSON(['key', '--type', 'ec', '--out', dangling]);
    assert.equal(errorOf(d).code, 'ERR_CLI_EXISTS');
  });
});

describe('mailtls: one rule for every command', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('a PEM with a NUL byte at the end of its last base64 line is read alike by show, verify and tlsa (as openssl does)', () => {
    const pem = readFileSync(inputs.leafCert, 'latin1');
    const at = pem.indexOf('\n-----END');
    const file = join(scratch(), 'nul.pem');
    writeFileSync(file, Buffer.from(`${pem.slice(0, at)}\0${pem.slice(at)}`, 'latin1'));
    openssl(['x509', '-in', file, '-noout']);
    for (const args of [
      ['show', file],
      ['verify', '--cert', file, '--chain', inputs.intermediateCert, '--trust', inputs.rootCert],
      ['tlsa', '--cert', file, '--mx', 'mail.example.com'],
    ]) {
      const r = mailtls(args);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    }
    // A NUL that breaks the END line breaks the file for every command.
    const broken = join(scratch(), 'nul-end.pem');
    writeFileSync(broken, Buffer.from(`${pem.slice(0, at + 1)}\0${pem.slice(at + 1)}`, 'latin1'));
    for (const args of [
      ['show', broken],
      ['verify', '--cert', broken],
      ['tlsa', '--cert', broken, '--mx', 'mail.example.com'],
    ]) {
      const r = mailtlsJSON(args);
      assert.equal(r.status, 2);
      assert.equal(errorOf(r).code, 'ERR_PEM_TRUNCATED', `${args[0]}`);
    }
  });

  it('show stops at 1,000 certificates like install and verify; --max-certificates raises it', () => {
    const pem = readFileSync(inputs.intermediateCert, 'utf8');
    const file = join(scratch(), 'many.pem');
    writeFileSync(file, pem.repeat(1001));
    for (const args of [
      ['show', file],
      ['verify', '--cert', inputs.leafCert, '--chain', file],
    ]) {
      const r = mailtlsJSON(args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(errorOf(r).code, 'ERR_CERT_TOO_MANY');
      assert.equal(errorOf(r).details.maxCertificates, 1000);
      assert.match((r.json.error as { hint: string }).hint, /--max-certificates/);
    }
    const three = join(scratch(), 'three.pem');
    writeFileSync(three, pem.repeat(3));
    const lowered = mailtlsJSON(['show', three, '--max-certificates', '2']);
    assert.equal(errorOf(lowered).code, 'ERR_CERT_TOO_MANY');
    assert.equal(errorOf(lowered).details.maxCertificates, 2);
    const raised = mailtlsJSON(['show', three, '--max-certificates', '3']);
    assert.equal(raised.status, 0, raised.stderr);
    assert.equal((raised.json.items as unknown[]).length, 3);
    const bad = mailtlsJSON(['show', file, '--max-certificates', '0']);
    assert.equal(bad.status, 2);
  });

  it('show escapes control characters of a hostile subjectAltName (no terminal escapes, no forged lines)', () => {
    const dir = scratch();
    writeFileSync(
      join(dir, 'evil.cnf'),
      '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=@alt\n[alt]\nDNS.1=a.example\x1b[2J\rFAKE: line\n',
    );
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-subj',
      '/CN=evil',
      '-config',
      join(dir, 'evil.cnf'),
      '-extensions',
      'ext',
      '-out',
      join(dir, 'evil.pem'),
    ]);
    const r = mailtls(['show', join(dir, 'evil.pem')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout), 'a control character in the output');
    assert.match(r.stdout, /DNS:a\.example\\1B\[2J\\0DFAKE: line/);
  });

  it('show escapes control characters of a .pfx friendly name', () => {
    const dir = scratch();
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
      ].concat(['-subj', '/CN=pfx.example', '-out', cert]),
    );
    const pfx = join(dir, 'evil.pfx');
    const name = 'mail\x1b[31m\r\nFAKE: line';
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      cert,
      '-name',
      name,
      '-passout',
      'pass:',
      '-out',
      pfx,
    ]);
    const r = mailtls(['show', pfx, '--password', '']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout), 'a control character in the output');
    assert.match(r.stdout, /Friendly Name: mail\\1B\[31m\\0D\\0AFAKE: line/);
  });
});

describe('mailtls probe --servername', () => {
  for (const name of ['192.0.2.1', 'a..b', 'x'.repeat(300)])
    it(`refuses ${name.slice(0, 20)} as bad usage with the host-name error (exit 2)`, () => {
      const r = mailtlsJSON(['probe', 'smtp://127.0.0.1:1', '--servername', name]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(errorOf(r).code, 'ERR_HOSTNAME_INVALID');
      assert.match((r.json.error as { hint: string }).hint, /--servername takes a DNS host name/);
    });
});
