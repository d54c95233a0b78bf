// `mailtls bundle`, `mailtls convert` and `show --fingerprint/--short` against openssl-made inputs: a
// reseller bundle in the wrong order, a PKCS#1 key, a DER certificate, a .pfx, an encrypted key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  mainJs,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  opensslBytes,
  opensslSPKISha256,
  scratch,
} from './helpers.js';

/** The subjects of the certificates in a PEM file, in file order, as openssl prints them. */
function subjects(file: string): string[] {
  return [
    ...readFileSync(file, 'utf8').matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g),
  ].map((m) => openssl(['x509', '-noout', '-subject'], m[0]).trim());
}

describe('mailtls bundle, convert, show --fingerprint/--short', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('bundle: a reseller bundle in the wrong order becomes leaf then intermediate, root left out', () => {
    const out = join(scratch(), 'fullchain.pem');
    const r = mailtlsJSON([
      ...['bundle', '--cert', inputs.leafCert, '--chain', inputs.resellerBundle],
      ...['--trust', inputs.rootCert, '--out', out],
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(subjects(out), [
      'subject=C = US, O = Example Inc, CN = mail.example.com',
      'subject=C = US, O = Test Reseller, CN = Test Intermediate CA',
    ]);
    assert.equal(statSync(out).mode & 0o777, 0o644);
    assert.match(openssl(['verify', '-CAfile', inputs.rootCert, '-untrusted', out, out]), /: OK/);
    const codes = (r.json.problems as { code: string }[]).map((p) => p.code);
    assert.ok(codes.includes('root-included'), codes.join(','));
  });

  it('bundle --format postfix: key first, mode 0600; a key that does not belong and a missing issuer are refused', () => {
    const dir = scratch();
    const out = join(dir, 'postfix.pem');
    const r = mailtls([
      ...['bundle', '--cert', inputs.wrongOrderFullchain, '--key', inputs.leafKey],
      ...['--format', 'postfix', '--trust', inputs.rootCert, '--out', out],
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(readFileSync(out, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(opensslSPKISha256(out, 'key'), opensslSPKISha256(inputs.leafKey, 'key'));
    assert.match(openssl(['verify', '-CAfile', inputs.rootCert, '-untrusted', out, out]), /: OK/);
    const mismatch = mailtlsJSON([
      ...['bundle', '--cert', inputs.leafCert, '--chain', inputs.intermediateCert, '--key', inputs.pkcs1Key],
      ...['--trust', inputs.rootCert, '--out', join(dir, 'x.pem')],
    ]);
    assert.equal(mismatch.status, 1);
    assert.equal((mismatch.json.error as { code: string }).code, 'ERR_KEY_MISMATCH');
    const gap = mailtlsJSON([
      'bundle',
      '--cert',
      inputs.leafCert,
      '--trust',
      inputs.rootCert,
      '--out',
      join(dir, 'y.pem'),
    ]);
    assert.equal(gap.status, 1);
    assert.equal((gap.json.error as { code: string }).code, 'ERR_CHAIN_UNKNOWN_ISSUER');
    assert.ok(!existsSync(join(dir, 'x.pem')) && !existsSync(join(dir, 'y.pem')), 'nothing written');
  });

  it('convert: PKCS#1 to PKCS#8 (0600), DER to PEM and back, a CSR to DER, a .pfx to PEM, an encrypted key', () => {
    const dir = scratch();
    const p8 = join(dir, 'rsa8.key');
    const r = mailtls(['convert', inputs.pkcs1Key, '--to', 'pkcs8', '--out', p8]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(p8).mode & 0o777, 0o600);
    assert.match(readFileSync(p8, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(opensslSPKISha256(p8, 'key'), opensslSPKISha256(inputs.pkcs1Key, 'key'));

    const pem = join(dir, 'leaf.pem');
    assert.equal(mailtls(['convert', inputs.leafDER, '--to', 'pem', '--out', pem]).status, 0);
    assert.equal(readFileSync(pem, 'utf8'), openssl(['x509', '-in', inputs.leafDER, '-inform', 'DER']));
    const der = spawnSync(process.execPath, [mainJs, 'convert', inputs.leafCert, '--to', 'der']);
    assert.equal(der.status, 0, der.stderr.toString());
    assert.deepEqual(new Uint8Array(der.stdout), new Uint8Array(readFileSync(inputs.leafDER)));
    const many = mailtls(['convert', inputs.resellerBundle, '--to', 'der', '--out', join(dir, 'many.der')]);
    assert.equal(many.status, 2);
    assert.match(many.stderr, /DER holds one certificate and the input holds 2/);

    const csrDer = join(dir, 'req.der');
    assert.equal(mailtls(['convert', inputs.csr, '--to', 'der', '--out', csrDer]).status, 0);
    assert.deepEqual(
      new Uint8Array(readFileSync(csrDer)),
      opensslBytes(['req', '-in', inputs.csr, '-outform', 'DER']),
    );

    const all = join(dir, 'all.pem');
    const pfx = spawnSync(
      process.execPath,
      [mainJs, 'convert', inputs.pfx, '--to', 'pem', '--password-env', 'PW', '--out', all],
      {
        encoding: 'utf8',
        env: { ...process.env, PW: 'secret' },
      },
    );
    assert.equal(pfx.status, 0, pfx.stderr);
    assert.equal(statSync(all).mode & 0o777, 0o600);
    assert.equal(opensslSPKISha256(all, 'key'), opensslSPKISha256(inputs.leafKey, 'key'));
    assert.deepEqual(subjects(all), [
      'subject=C = US, O = Example Inc, CN = mail.example.com',
      'subject=C = US, O = Test Reseller, CN = Test Intermediate CA',
    ]);

    const plain = join(dir, 'plain.key');
    const enc = mailtls(
      ['convert', inputs.encryptedKey, '--to', 'pkcs8', '--password-file', '-', '--out', plain],
      {
        input: 'secret\n',
      },
    );
    assert.equal(enc.status, 0, enc.stderr);
    assert.equal(opensslSPKISha256(plain, 'key'), opensslSPKISha256(inputs.leafKey, 'key'));
    const locked = mailtls(['convert', inputs.encryptedKey, '--to', 'pkcs8']);
    assert.equal(locked.status, 2);
    assert.match(locked.stderr, /ERR_KEY_ENCRYPTED/);
    const wrongKind = mailtls(['convert', inputs.leafCert, '--to', 'pkcs8']);
    assert.equal(wrongKind.status, 2);
  });

  it('show --fingerprint is what openssl prints; --short gives one line per certificate', () => {
    const fp = mailtls(['show', inputs.leafDER, '--fingerprint']);
    assert.equal(fp.status, 0, fp.stderr);
    const ours = fp.stdout.trim().split('=')[1];
    const theirs = openssl(['x509', '-in', inputs.leafCert, '-noout', '-fingerprint', '-sha256'])
      .trim()
      .split('=')[1];
    assert.equal(ours, theirs);
    const key = mailtlsJSON(['show', inputs.pkcs1Key, '--fingerprint']);
    assert.deepEqual(key.json.fingerprints, [
      {
        kind: 'private-key',
        source: 'PEM block 1: RSA PRIVATE KEY',
        type: 'spki-sha256',
        value: opensslSPKISha256(inputs.pkcs1Key, 'key'),
      },
    ]);
    const short = mailtls(['show', inputs.wrongOrderFullchain, '--short']);
    assert.equal(short.status, 0, short.stderr);
    const lines = short.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]!,
      /^certificate mail\.example\.com \[mail\.example\.com, imap\.example\.com\] until \S+ \(\d+ days left\), issuer Test Intermediate CA, SHA-256 /,
    );
    assert.match(lines[1]!, /^certificate Test Root CA .*issuer Test Root CA \(self-signed\)/);
    const csr = mailtls(['show', inputs.csr, '--short']);
    assert.match(
      csr.stdout,
      /^csr example\.com \[example\.com, mail\.example\.com, imap\.example\.com\] EC P-256, self-signature valid\n$/,
    );
    assert.equal(mailtls(['show', inputs.csr, '--short', '--fingerprint']).status, 2);
  });
});
