// `mailtls show`: files made by openssl (certificates, a reseller bundle in the wrong order, DER, PKCS#7,
// a CSR, a PKCS#1 key, an encrypted key, a .pfx), described readably and as JSON; never private material.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
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

type Item = Record<string, unknown> & { kind: string };

function items(json: Record<string, unknown>): Item[] {
  return json.items as Item[];
}

function opensslFingerprint(file: string, form = 'PEM'): string {
  return openssl(['x509', '-in', file, '-inform', form, '-noout', '-fingerprint', '-sha256'])
    .trim()
    .split('=')[1]!;
}

/** No line of the key file's base64 body appears in the output. */
function assertNoKeyMaterial(keyFile: string, output: string): void {
  const lines = readFileSync(keyFile, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  assert.ok(lines.length > 0);
  for (const l of lines) assert.ok(!output.includes(l.slice(0, 32)), 'private key material in the output');
}

describe('mailtls show', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('describes an openssl-made certificate like openssl x509 -text, with the same fingerprint', () => {
    const r = mailtls(['show', inputs.leafCert]);
    assert.equal(r.status, 0, r.stderr);
    const o = openssl(['x509', '-in', inputs.leafCert, '-noout', '-text']);
    for (const line of [
      'Subject: C = US, O = Example Inc, CN = mail.example.com',
      'Issuer: C = US, O = Test Reseller, CN = Test Intermediate CA',
      'DNS:mail.example.com, DNS:imap.example.com',
      'TLS Web Server Authentication',
    ]) {
      assert.ok(o.includes(line), `openssl shows ${line}`);
      assert.ok(r.stdout.includes(line), `mailtls shows ${line}`);
    }
    assert.ok(
      r.stdout.includes(opensslFingerprint(inputs.leafCert)),
      'SHA-256 fingerprint as openssl prints it',
    );
    const j = mailtlsJSON(['show', inputs.leafCert]);
    assert.equal(j.json.format, 'pem');
    const [item] = items(j.json);
    assert.equal(item?.kind, 'certificate');
    const cert = item?.certificate as { fingerprints: { sha256: string }; publicKey: { spkiSha256: string } };
    assert.equal(cert.fingerprints.sha256, opensslFingerprint(inputs.leafCert));
    assert.equal(cert.publicKey.spkiSha256, opensslSPKISha256(inputs.leafCert, 'cert'));
  });

  it('lists every certificate of a reseller bundle in the wrong order and says so', () => {
    const r = mailtlsJSON(['show', inputs.wrongOrderFullchain]);
    assert.equal(r.status, 0);
    const subjects = items(r.json).map((i) => (i.certificate as { subject: string }).subject);
    assert.deepEqual(subjects, [
      'CN=mail.example.com,O=Example Inc,C=US',
      'CN=Test Root CA,O=Test Reseller,C=US',
      'CN=Test Intermediate CA,O=Test Reseller,C=US',
    ]);
    assert.match((r.json.notes as string[])[0] ?? '', /not in chain order/);
    const text = mailtls(['show', inputs.resellerBundle]);
    assert.match(text.stdout, /# PEM block 1: CERTIFICATE\nCertificate:/);
    assert.match(text.stdout, /# PEM block 2: CERTIFICATE\nCertificate:/);
    assert.match(text.stdout, /Note: The 2 certificates are not in chain order/);
    // In order (leaf, intermediate): no note.
    const dir = scratch();
    const good = join(dir, 'fullchain.pem');
    writeFileSync(
      good,
      readFileSync(inputs.leafCert, 'utf8') + readFileSync(inputs.intermediateCert, 'utf8'),
    );
    assert.deepEqual(mailtlsJSON(['show', good]).json.notes, []);
  });

  it('reads binary files in the documented order: DER certificate, PKCS#7', () => {
    const der = mailtlsJSON(['show', inputs.leafDER]);
    assert.equal(der.status, 0);
    assert.equal(der.json.format, 'der-certificate');
    assert.equal(
      (items(der.json)[0]!.certificate as { fingerprints: { sha256: string } }).fingerprints.sha256,
      opensslFingerprint(inputs.leafDER, 'DER'),
    );
    const p7 = mailtlsJSON(['show', inputs.p7b]);
    assert.equal(p7.status, 0);
    assert.equal(p7.json.format, 'pkcs7-der');
    assert.equal(items(p7.json).length, 2);
  });

  it('reads DER keys in the documented order: PKCS#8, PKCS#1, SEC1, encrypted PKCS#8, then public keys', () => {
    const dir = scratch();
    const rows = [
      {
        file: 'k8.der',
        args: ['pkcs8', '-topk8', '-nocrypt', '-in', inputs.leafKey, '-outform', 'DER'],
        want: 'PKCS#8',
      },
      {
        file: 'k1.der',
        args: ['rsa', '-in', inputs.pkcs1Key, '-traditional', '-outform', 'DER'],
        want: 'PKCS#1 (traditional RSA)',
      },
      {
        file: 'sec1.der',
        args: ['ec', '-in', inputs.leafKey, '-outform', 'DER'],
        want: 'SEC1 (traditional EC)',
      },
      {
        file: 'enc.der',
        args: [
          'pkcs8',
          '-topk8',
          '-v2',
          'aes-256-cbc',
          '-passout',
          'pass:secret',
          '-in',
          inputs.leafKey,
          '-outform',
          'DER',
        ],
        want: 'PKCS#8, encrypted',
      },
      {
        file: 'pub.der',
        args: ['pkey', '-in', inputs.leafKey, '-pubout', '-outform', 'DER'],
        want: 'public',
      },
    ];
    for (const row of rows) {
      const file = join(dir, row.file);
      openssl([...row.args, '-out', file]);
      const r = mailtlsJSON(['show', file]);
      assert.equal(r.status, 0, r.stderr);
      const item = items(r.json)[0]!;
      if (row.want === 'public') {
        assert.equal(r.json.format, 'der-public-key');
        assert.equal(item.spkiSha256, opensslSPKISha256(inputs.leafKey, 'key'));
      } else {
        assert.equal(r.json.format, 'der-private-key');
        assert.equal(item.format, row.want);
      }
    }
  });

  it('shows a CSR made by openssl with its verified self-signature; a tampered CSR is reported', () => {
    const r = mailtls(['show', inputs.csr]);
    assert.equal(r.status, 0);
    assert.match(
      r.stdout,
      /Subject: C = US, ST = California, L = Los Angeles, O = Example Inc, CN = example\.com, emailAddress = hostmaster@example\.com/,
    );
    assert.match(r.stdout, /DNS:example\.com, DNS:mail\.example\.com, DNS:imap\.example\.com/);
    assert.match(r.stdout, /Self-signature: valid/);
    // Flip a byte inside the signature (the last bytes of the DER).
    const derFile = join(scratch(), 'req.der');
    openssl(['req', '-in', inputs.csr, '-outform', 'DER', '-out', derFile]);
    const bytes = readFileSync(derFile);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    writeFileSync(derFile, bytes);
    const bad = mailtlsJSON(['show', derFile]);
    assert.equal(bad.status, 0, 'show reports, it does not judge');
    assert.equal(bad.json.format, 'der-csr');
    const item = items(bad.json)[0]!;
    assert.equal(item.signatureValid, false);
    assert.match(String(item.signatureProblem), /signature/);
  });

  it('shows a PKCS#1 RSA key: format, type, size and the public key hash openssl computes; no key material', () => {
    const r = mailtls(['show', inputs.pkcs1Key]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Format: PKCS#1 \(traditional RSA\)\n {4}Encrypted: no\n {4}Type: RSA 2048/);
    assert.ok(r.stdout.includes(opensslSPKISha256(inputs.pkcs1Key, 'key')));
    assertNoKeyMaterial(inputs.pkcs1Key, r.stdout + r.stderr);
    const j = mailtlsJSON(['show', inputs.pkcs1Key]);
    const item = items(j.json)[0]!;
    assert.deepEqual(
      { kind: item.kind, format: item.format, encrypted: item.encrypted, description: item.description },
      { kind: 'private-key', format: 'PKCS#1 (traditional RSA)', encrypted: false, description: 'RSA 2048' },
    );
    assertNoKeyMaterial(inputs.pkcs1Key, j.stdout);
  });

  it('shows an encrypted key as encrypted without a password, and its type with the right one', () => {
    const locked = mailtlsJSON(['show', inputs.encryptedKey]);
    assert.equal(locked.status, 0);
    const item = items(locked.json)[0]!;
    assert.equal(item.encrypted, true);
    assert.equal(item.key, undefined);
    assert.match(String(item.encryption), /AES-256-CBC/);
    const text = mailtls(['show', inputs.encryptedKey]);
    assert.match(text.stdout, /Encrypted: yes .*\n.*give --password/);
    const open = mailtls(['show', inputs.encryptedKey, '--password', 'secret']);
    assert.equal(open.status, 0);
    assert.match(open.stdout, /Type: EC P-256/);
    assert.ok(open.stdout.includes(opensslSPKISha256(inputs.leafKey, 'key')));
    assertNoKeyMaterial(inputs.leafKey, open.stdout + open.stderr);
    const wrong = mailtlsJSON(['show', inputs.encryptedKey, '--password', 'wrong']);
    assert.equal(wrong.status, 2);
    assert.equal((wrong.json.error as { code: string }).code, 'ERR_KEY_PASSPHRASE');
  });

  it('opens an openssl .pfx with --password: key, leaf and chain; exits 2 without the password', () => {
    const r = mailtlsJSON(['show', inputs.pfx, '--password', 'secret']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.format, 'pkcs12');
    const [p12, leaf, chain] = items(r.json) as [Item, Item, Item];
    assert.equal(items(r.json).length, 3);
    assert.equal(p12.kind, 'pkcs12');
    assert.equal(p12.keyDescription, 'EC P-256');
    assert.equal(p12.friendlyName, 'mail.example.com');
    assert.equal((p12.key as { spkiSha256: string }).spkiSha256, opensslSPKISha256(inputs.leafKey, 'key'));
    assert.equal(
      (leaf.certificate as { fingerprints: { sha256: string } }).fingerprints.sha256,
      opensslFingerprint(inputs.leafCert),
    );
    assert.equal(
      (chain.certificate as { subject: string }).subject,
      'CN=Test Intermediate CA,O=Test Reseller,C=US',
    );
    assertNoKeyMaterial(inputs.leafKey, r.stdout);
    const locked = mailtls(['show', inputs.pfx]);
    assert.equal(locked.status, 2);
    assert.match(locked.stderr, /^error \[ERR_PKCS12_PASSWORD\]: /);
    assert.match(
      locked.stderr,
      /\nhint: Check the \.pfx password given with --password \/ --password-file \/ --password-env \(passwords are case-sensitive\)\.\n$/,
    );
    const dir = scratch();
    const pass = join(dir, 'pass.txt');
    writeFileSync(pass, 'secret\n');
    assert.equal(mailtls(['show', inputs.pfx, '--password-file', pass]).status, 0);
  });

  const unreadable = [
    { name: 'a missing file', file: () => '/nonexistent/cert.pem', wantCode: 'ERR_CLI_READ' },
    { name: 'a directory', file: () => scratch(), wantCode: 'ERR_CLI_READ' },
    {
      name: 'text without PEM',
      file: () => {
        const f = join(scratch(), 'notes.txt');
        writeFileSync(f, 'hello\n');
        return f;
      },
      wantCode: 'ERR_PEM_NO_BLOCK',
    },
    {
      name: 'base64 DER without PEM lines',
      file: () => {
        const f = join(scratch(), 'cert.b64');
        writeFileSync(f, `${readFileSync(inputs.leafDER).toString('base64')}\n`);
        return f;
      },
      wantCode: 'ERR_CLI_FORMAT',
    },
    {
      name: 'binary that is no known format',
      file: () => {
        const f = join(scratch(), 'junk.bin');
        writeFileSync(f, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05));
        return f;
      },
      wantCode: 'ERR_CLI_FORMAT',
    },
    {
      name: 'a truncated PEM certificate',
      file: () => {
        const f = join(scratch(), 'cut.pem');
        writeFileSync(f, readFileSync(inputs.leafCert, 'utf8').slice(0, 300));
        return f;
      },
      wantCode: 'ERR_PEM_TRUNCATED',
    },
  ];
  for (const row of unreadable) {
    it(`exits 2 for ${row.name} (${row.wantCode})`, () => {
      const r = mailtlsJSON(['show', row.file()]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
    });
  }

  it('prints the error in words without --json', () => {
    const r = mailtls(['show', '/nonexistent/cert.pem']);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      'error [ERR_CLI_READ]: Cannot read the file /nonexistent/cert.pem: no such file.\n',
    );
  });

  it('uses colour on a terminal only', (t) => {
    if (skipWithout(t, 'script')) return;
    const tty = mailtlsOnTTY(['show', inputs.csr]);
    assert.equal(tty.status, 0);
    assert.match(tty.output, /\x1b\[1m# PEM block 1: CERTIFICATE REQUEST\x1b\[0m/);
    assert.match(tty.output, /Self-signature: \x1b\[32mvalid\x1b\[0m/);
    const piped = mailtls(['show', inputs.csr]);
    assert.ok(!piped.stdout.includes('\x1b['));
  });
});
