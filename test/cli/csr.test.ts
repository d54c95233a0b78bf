// `mailtls csr`: requests that openssl verifies, the manual's req.pem/req.key, keys made by openssl, the
// openssl-req-like prompts on a terminal, warnings and exit codes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { skipWithout } from '../helpers/peers.js';
import {
  mailtls,
  mailtlsJSON,
  mailtlsOnTTY,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  opensslSPKISha256,
  scratch,
} from './helpers.js';

const SUBJECT_ARGS = [
  '--cn',
  'example.com',
  '--country',
  'US',
  '--state',
  'California',
  '--locality',
  'Los Angeles',
  '--org',
  'Example Inc',
  '--email',
  'hostmaster@example.com',
];

/** `csr --cn example.com --san mail.example.com --key KEY EXTRA... --out-dir DIR`: a CSR for an existing key. */
function withKey(key: string, dir: string, ...extra: string[]): string[] {
  return [
    'csr',
    '--cn',
    'example.com',
    '--san',
    'mail.example.com',
    '--key',
    key,
    ...extra,
    '--out-dir',
    dir,
  ];
}

function opensslSAN(csrFile: string): string {
  const text = openssl(['req', '-in', csrFile, '-noout', '-text']);
  return /X509v3 Subject Alternative Name: *\n\s*(.*)\n/.exec(text)?.[1] ?? '';
}

describe('mailtls csr', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('writes req.pem and req.key (0600) that openssl verifies and pairs, with the subject as openssl prints it', () => {
    const dir = scratch();
    const r = mailtls([
      'csr',
      ...SUBJECT_ARGS,
      '--san',
      'mail.example.com',
      '--san',
      'imap.example.com',
      '--san',
      '192.0.2.25',
      '--type',
      'ec',
      '--out-dir',
      dir,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['req.key', 'req.pem']);
    const csr = join(dir, 'req.pem');
    const key = join(dir, 'req.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(openssl(['req', '-in', csr, '-noout', '-verify']) + '', /^$/);
    assert.equal(
      openssl(['req', '-in', csr, '-noout', '-subject']).trim(),
      'subject=C = US, ST = California, L = Los Angeles, O = Example Inc, CN = example.com, emailAddress = hostmaster@example.com',
    );
    assert.equal(
      opensslSAN(csr),
      'DNS:example.com, DNS:mail.example.com, DNS:imap.example.com, IP Address:192.0.2.25',
    );
    // The key and the CSR belong together.
    const csrPub = openssl(['req', '-in', csr, '-noout', '-pubkey']);
    assert.equal(csrPub, openssl(['pkey', '-in', key, '-pubout']));
    // The text view is on stdout, the note about the files on stderr; no key material anywhere.
    assert.match(r.stdout, /^Certificate Request:\n/);
    assert.match(
      r.stdout,
      /Subject: C = US, ST = California, L = Los Angeles, O = Example Inc, CN = example\.com/,
    );
    assert.match(r.stderr, /wrote .*req\.pem \(send it to the CA\) and .*req\.key \(EC P-256, mode 0600/);
    const keyBody = readFileSync(key, 'utf8').split('\n')[1]!;
    assert.ok(!r.stdout.includes(keyBody.slice(0, 24)) && !r.stderr.includes(keyBody.slice(0, 24)));
  });

  it('uses a PKCS#1 RSA key made by openssl (--key) and writes only req.pem', () => {
    const dir = scratch();
    const r = mailtlsJSON(withKey(inputs.pkcs1Key, dir));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir), ['req.pem']);
    const csr = join(dir, 'req.pem');
    openssl(['req', '-in', csr, '-noout', '-verify']);
    assert.equal(
      openssl(['req', '-in', csr, '-noout', '-pubkey']),
      openssl(['pkey', '-in', inputs.pkcs1Key, '-pubout']),
    );
    assert.deepEqual(r.json.files, { csr });
    const key = r.json.key as Record<string, unknown>;
    assert.equal(key.description, 'RSA 2048');
    assert.equal(key.spkiSha256, opensslSPKISha256(inputs.pkcs1Key, 'key'));
    const json = r.json.csr as { subject: string; signatureAlgorithm: { name: string } };
    assert.equal(json.subject, 'CN=example.com');
    assert.equal(json.signatureAlgorithm.name, 'sha256WithRSAEncryption');
  });

  it('reads an encrypted key with --key-password; a wrong pass phrase exits 2 with ERR_KEY_PASSPHRASE', () => {
    const dir = scratch();
    const ok = mailtls(withKey(inputs.encryptedKey, dir, '--key-password', 'secret'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(
      openssl(['req', '-in', join(dir, 'req.pem'), '-noout', '-pubkey']),
      openssl(['pkey', '-in', inputs.leafKey, '-pubout']),
    );
    const dir2 = scratch();
    const bad = mailtls([
      'csr',
      '--cn',
      'example.com',
      '--key',
      inputs.encryptedKey,
      '--key-password',
      'wrong',
      '--out-dir',
      dir2,
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error \[ERR_KEY_PASSPHRASE\]: /);
    const none = mailtls(['csr', '--cn', 'example.com', '--key', inputs.encryptedKey, '--out-dir', dir2]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^error \[ERR_KEY_ENCRYPTED\]: /);
    assert.deepEqual(readdirSync(dir2), []);
  });

  it('warns (stderr and JSON) when the Common Name is a host such as mail.example.com', () => {
    const dir = scratch();
    const r = mailtlsJSON(['csr', '--cn', 'mail.example.com', '--type', 'ec', '--out-dir', dir]);
    assert.equal(r.status, 0);
    const codes = (r.json.warnings as { code: string }[]).map((w) => w.code);
    assert.ok(codes.includes('WARN_CN_HOST_PREFIX'), codes.join());
    assert.match(r.stderr, /^warning \[WARN_CN_HOST_PREFIX\]: .*bare domain/m);
  });

  const invalid = [
    {
      name: 'a 3-letter country',
      args: ['--cn', 'example.com', '--country', 'USA', '--type', 'ec'],
      wantCode: 'ERR_CSR_COUNTRY',
    },
    {
      name: 'UK instead of GB',
      args: ['--cn', 'example.com', '--country', 'UK', '--type', 'ec'],
      wantCode: 'ERR_CSR_COUNTRY',
    },
    {
      name: 'a bad host name',
      args: ['--cn', 'example.com', '--san', 'bad..example', '--type', 'ec'],
      wantCode: 'ERR_CSR_DNS_NAME',
    },
    {
      name: 'no --cn without a terminal',
      args: ['--country', 'US', '--type', 'ec'],
      wantCode: 'ERR_CLI_USAGE',
    },
    {
      name: '--key with --type',
      args: ['--cn', 'example.com', '--key', 'mail.key', '--type', 'ec'],
      wantCode: 'ERR_CLI_USAGE',
    },
    {
      name: 'a missing key file',
      args: ['--cn', 'example.com', '--key', '/nonexistent/mail.key'],
      wantCode: 'ERR_CLI_READ',
    },
  ];
  for (const row of invalid) {
    it(`exits 2 for ${row.name} (${row.wantCode}) and writes nothing`, () => {
      const dir = scratch();
      const r = mailtlsJSON(['csr', ...row.args, '--out-dir', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
      assert.equal(r.stdout, '');
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('refuses to replace an existing req.pem without --force', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'req.pem'), 'old');
    const r = mailtls(['csr', '--cn', 'example.com', '--type', 'ec', '--out-dir', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ERR_CLI_EXISTS/);
    assert.deepEqual(readdirSync(dir), ['req.pem']);
    assert.equal(
      mailtls(['csr', '--cn', 'example.com', '--type', 'ec', '--out-dir', dir, '--force']).status,
      0,
    );
    openssl(['req', '-in', join(dir, 'req.pem'), '-noout', '-verify']);
  });

  it('asks for each field on a terminal, like openssl req, re-asking an invalid country', (t) => {
    if (skipWithout(t, 'script')) return;
    const dir = scratch();
    const answers = [
      'USA',
      'US',
      'California',
      'Los Angeles',
      'Example Inc',
      '.',
      'example.com',
      'hostmaster@example.com',
      '',
    ];
    const r = mailtlsOnTTY(['csr', '--type', 'ec', '--out-dir', dir], `${answers.join('\n')}\n`);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /Country Name \(2 letter code[^\n]*\[\]: /);
    assert.match(r.output, /Common Name \(your bare domain, e\.g\. example\.com: without mail\. or www\.\)/);
    assert.match(r.output, /No pass phrase is asked for/);
    assert.match(r.output, /not "USA"/, 'the invalid country is explained and asked again');
    const csr = join(dir, 'req.pem');
    assert.equal(
      openssl(['req', '-in', csr, '-noout', '-subject']).trim(),
      'subject=C = US, ST = California, L = Los Angeles, O = Example Inc, CN = example.com, emailAddress = hostmaster@example.com',
    );
    // Enter accepted the suggested mail host names.
    assert.equal(
      opensslSAN(csr),
      'DNS:example.com, DNS:mail.example.com, DNS:smtp.example.com, DNS:imap.example.com',
    );
    assert.equal(statSync(join(dir, 'req.key')).mode & 0o777, 0o600);
  });

  it('gives up with exit 2 when the terminal input ends before the Common Name', (t) => {
    if (skipWithout(t, 'script')) return;
    const dir = scratch();
    const r = mailtlsOnTTY(['csr', '--type', 'ec', '--out-dir', dir], 'US\n');
    assert.equal(r.status, 2, r.output);
    assert.match(r.output, /ERR_CLI_USAGE.*Input ended/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
