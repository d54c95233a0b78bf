// `mailtls key`: key files that openssl accepts, mode 0600, atomic writes, no silent overwrite, exit codes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { skipWithout } from '../helpers/peers.js';
import { mailtls, mailtlsJSON, mailtlsOnTTY, openssl, opensslSPKISha256, scratch } from './helpers.js';

describe('mailtls key', () => {
  const rows = [
    {
      name: 'EC P-256',
      args: ['--type', 'ec'],
      want: { type: 'ec', curve: 'P-256', text: 'ASN1 OID: prime256v1' },
    },
    {
      name: 'EC P-384',
      args: ['--type', 'ec', '--curve', 'P-384'],
      want: { type: 'ec', curve: 'P-384', text: 'ASN1 OID: secp384r1' },
    },
    { name: 'Ed25519', args: ['--type', 'ed25519'], want: { type: 'ed25519', text: 'ED25519 Private-Key' } },
    {
      name: 'RSA 2048',
      args: ['--type', 'rsa', '--bits', '2048'],
      want: { type: 'rsa', bits: 2048, text: 'Private-Key: (2048 bit, 2 primes)' },
    },
  ];
  for (const row of rows) {
    it(`writes an ${row.name} key that openssl reads, mode 0600`, () => {
      const dir = scratch();
      const file = join(dir, 'mail.key');
      const r = mailtlsJSON(['key', ...row.args, '--out', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const pem = readFileSync(file, 'utf8');
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.ok(openssl(['pkey', '-in', file, '-noout', '-text']).includes(row.want.text));
      if (row.want.type !== 'ed25519') openssl(['pkey', '-in', file, '-noout', '-check']);
      const key = r.json.key as Record<string, unknown>;
      assert.equal(key.type, row.want.type);
      if (row.want.curve !== undefined) assert.equal(key.curve, row.want.curve);
      if (row.want.bits !== undefined) assert.equal(key.bits, row.want.bits);
      assert.equal(key.spkiSha256, opensslSPKISha256(file, 'key'));
      assert.equal(r.json.file, file);
      // Never any key material on stdout/stderr.
      const body = pem.split('\n')[1]!;
      assert.ok(!r.stdout.includes(body.slice(0, 20)) && !r.stderr.includes(body.slice(0, 20)));
      assert.deepEqual(readdirSync(dir), ['mail.key'], 'no temporary file is left behind');
    });
  }

  it('prints what it wrote in text mode, without colour when stdout is not a TTY', () => {
    const file = join(scratch(), 'k.pem');
    const r = mailtls(['key', '--type', 'ec', '--out', file]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^wrote .*k\.pem \(EC P-256, mode 0600\)\npublic key SHA-256: [0-9a-f]{64}\n$/);
    assert.equal(r.stdout, r.stdout.replace(/\x1b\[/g, ''), 'no ANSI escapes');
  });

  it('refuses to overwrite an existing file (exit 2, file unchanged) unless --force', () => {
    const dir = scratch();
    const file = join(dir, 'mail.key');
    writeFileSync(file, 'precious\n');
    const r = mailtls(['key', '--type', 'ec', '--out', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error \[ERR_CLI_EXISTS\]: .*mail\.key exists; .*--force/);
    assert.equal(readFileSync(file, 'utf8'), 'precious\n');
    const forced = mailtls(['key', '--type', 'ec', '--out', file, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(file, 'utf8'), /BEGIN PRIVATE KEY/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['mail.key']);
  });

  const usage = [
    { name: '--bits with an EC key', args: ['--type', 'ec', '--bits', '2048'], wantCode: 'ERR_CLI_USAGE' },
    {
      name: '--curve with an RSA key',
      args: ['--type', 'rsa', '--curve', 'P-256'],
      wantCode: 'ERR_CLI_USAGE',
    },
    { name: 'an unknown type', args: ['--type', 'dsa'], wantCode: 'ERR_CLI_USAGE' },
    { name: 'an unsupported size', args: ['--type', 'rsa', '--bits', '1024'], wantCode: 'ERR_CLI_USAGE' },
  ];
  for (const row of usage) {
    it(`exits 2 for ${row.name}, writing nothing`, () => {
      const dir = scratch();
      const r = mailtlsJSON(['key', ...row.args, '--out', join(dir, 'k.pem')]);
      assert.equal(r.status, 2);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
      assert.equal(r.stdout, '');
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('exits 2 with ERR_CLI_WRITE when the directory does not exist', () => {
    const dir = join(scratch(), 'missing');
    const r = mailtls(['key', '--type', 'ec', '--out', join(dir, 'k.pem')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error \[ERR_CLI_WRITE\]: Cannot write .*k\.pem: no such file\.\n$/);
  });

  it('shows a spinner on a terminal while an RSA key is generated, and wipes it', (t) => {
    if (skipWithout(t, 'script')) return;
    const file = join(scratch(), 'rsa.key');
    // The spinner appears after MAILTLS_PROGRESS_DELAY_MS (default 300 ms); 0 shows it for any RSA-2048 run.
    const r = mailtlsOnTTY(['key', '--type', 'rsa', '--bits', '2048', '--out', file], '', {
      MAILTLS_PROGRESS_DELAY_MS: '0',
    });
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] generating an RSA 2048 key/);
    assert.match(r.output, /\r\x1b\[2K/, 'the spinner line is cleared');
    assert.ok(
      openssl(['pkey', '-in', file, '-noout', '-text']).includes('Private-Key: (2048 bit, 2 primes)'),
    );
    openssl(['pkey', '-in', file, '-noout', '-check']);
    assert.match(r.output, /wrote .*rsa\.key \(RSA 2048, mode 0600\)/);
  });
});
