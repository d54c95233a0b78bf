/**
 * keyMatchesCertificate against certificates made by the openssl CLI, including the pair that Node's
 * tls.createSecureContext accepts although the handshake would fail (an RSA key with an EC certificate).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import { CertificateError, MailTlsError } from '../src/errors.js';
import { certificateSPKI, keyMatchesCertificate } from '../src/keys/key-match.js';
import type { PrivateKey } from '../src/keys/keys.js';
import { parsePrivateKey } from '../src/keys/private-key.js';
import { parsePublicKey } from '../src/keys/public-key.js';
import { TempDir } from './helpers/key-fixtures.js';

let dir: TempDir;
const NAMES = ['rsa', 'rsa2', 'ec256', 'ec384', 'ed'] as const;
const keys = new Map<string, PrivateKey>();

before(async () => {
  dir = new TempDir();
  dir.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key']);
  dir.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa2.key']);
  dir.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec256.key']);
  dir.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'ec384.key']);
  dir.openssl(['genpkey', '-algorithm', 'ED25519', '-out', 'ed.key']);
  dir.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', 'k1.key']);
  for (const n of [...NAMES, 'k1']) {
    dir.openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      `${n}.key`,
      '-subj',
      '/CN=mail.example.com',
      '-days',
      '2',
      '-out',
      `${n}.crt`,
    ]);
    dir.openssl(['x509', '-in', `${n}.crt`, '-outform', 'DER', '-out', `${n}.crt.der`]);
  }
  // a version 1 certificate (no extensions, no version field)
  dir.openssl(['req', '-new', '-key', 'ec256.key', '-subj', '/CN=v1', '-out', 'v1.csr']);
  dir.openssl(['x509', '-req', '-in', 'v1.csr', '-key', 'ec256.key', '-days', '2', '-out', 'v1.crt']);
  for (const n of NAMES) keys.set(n, await parsePrivateKey(dir.text(`${n}.key`)));
});
after(() => dir.cleanup());

describe('keyMatchesCertificate', () => {
  it('matches exactly the diagonal of keys x certificates (PEM, DER and {publicKey})', () => {
    for (const k of NAMES)
      for (const c of NAMES) {
        const key = keys.get(k)!;
        const want = k === c;
        const pem = dir.text(`${c}.crt`);
        const der = new Uint8Array(dir.read(`${c}.crt.der`));
        assert.equal(keyMatchesCertificate(key, pem), want, `${k} key vs ${c} cert (PEM)`);
        assert.equal(keyMatchesCertificate(key, der), want, `${k} key vs ${c} cert (DER)`);
        assert.equal(keyMatchesCertificate(key.publicKey, pem), want, `${k} public key vs ${c} cert`);
        assert.equal(keyMatchesCertificate(key, { publicKey: keys.get(c)!.publicKey }), want);
      }
  });

  it('extracts the SPKI openssl prints for the certificate', () => {
    for (const n of NAMES) {
      const spki = certificateSPKI(new Uint8Array(dir.read(`${n}.crt.der`)));
      const want = dir.openssl(['x509', '-in', `${n}.crt`, '-pubkey', '-noout']);
      assert.deepEqual(Buffer.from(parsePublicKey(want.toString()).spki), Buffer.from(spki));
    }
  });

  it('reads version 1 certificates (no version field)', () => {
    assert.match(dir.openssl(['x509', '-in', 'v1.crt', '-noout', '-text']).toString(), /Version: 1 \(0x0\)/);
    assert.equal(keyMatchesCertificate(keys.get('ec256')!, dir.text('v1.crt')), true);
    assert.equal(keyMatchesCertificate(keys.get('ec384')!, dir.text('v1.crt')), false);
  });

  it('catches the RSA key + EC certificate pair that tls.createSecureContext accepts', () => {
    const rsaKey = dir.text('rsa.key');
    const ecCert = dir.text('ec256.crt');
    // Node (OpenSSL) files the RSA key and the EC certificate in different slots and does not complain...
    assert.doesNotThrow(() => createSecureContext({ key: rsaKey, cert: ecCert }));
    // ...so only the handshake would fail; mailtls says so up front
    assert.equal(keyMatchesCertificate(keys.get('rsa')!, ecCert), false);
    // for comparison: a same-type mismatch is caught by Node too
    assert.throws(
      () => createSecureContext({ key: dir.text('rsa2.key'), cert: dir.text('rsa.crt') }),
      /key values mismatch/,
    );
    assert.equal(keyMatchesCertificate(keys.get('rsa2')!, dir.text('rsa.crt')), false);
  });

  it('a certificate with an unsupported key (secp256k1) matches nothing', () => {
    for (const n of NAMES) assert.equal(keyMatchesCertificate(keys.get(n)!, dir.text('k1.crt')), false);
  });

  const bad: Array<{ name: string; input: () => string | Uint8Array; wantCode: string }> = [
    { name: 'no certificate block', input: () => dir.text('rsa.key'), wantCode: 'ERR_CERT_INVALID' },
    {
      name: 'DER garbage',
      input: () => Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'truncated DER',
      input: () => new Uint8Array(dir.read('ec256.crt.der')).subarray(0, 100),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'an off-curve point in the certificate',
      input: () => {
        const d = new Uint8Array(dir.read('ec256.crt.der'));
        const spki = certificateSPKI(d);
        d[spki.byteOffset + spki.length - 1]! ^= 1;
        return d;
      },
      wantCode: 'ERR_CERT_INVALID',
    },
  ];
  for (const row of bad)
    it(`${row.name} is ${row.wantCode}`, () => {
      assert.throws(
        () => keyMatchesCertificate(keys.get('ec256')!, row.input()),
        (e: unknown) => e instanceof CertificateError && e.code === row.wantCode,
      );
    });

  it('PEM damage is a PEM error; wrong argument types are TypeError', () => {
    assert.throws(
      () =>
        keyMatchesCertificate(
          keys.get('ed')!,
          '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
        ),
      (e: unknown) => e instanceof MailTlsError && e.code.startsWith('ERR_PEM_'),
    );
    assert.throws(() => keyMatchesCertificate({} as PrivateKey, dir.text('ed.crt')), TypeError);
    assert.throws(() => keyMatchesCertificate(keys.get('ed')!, 42 as unknown as string), TypeError);
  });
});
