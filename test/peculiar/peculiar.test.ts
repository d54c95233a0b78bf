// mailtls/peculiar: @peculiar/x509 objects in and back out, and mailtls keys signing through @peculiar/x509's
// generators (the certificates they make verify with mailtls and with openssl).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  X509Certificates,
} from '@peculiar/x509';
import {
  assembleChain,
  createCSR,
  generateKeyPair,
  isMailTlsError,
  type KeyType,
  keyMatchesCertificate,
  parseCertificate,
  parseCSR,
  verifyChain,
  verifyCSRSignature,
} from '../../src/index.js';
import {
  fromPeculiarCertificate,
  fromPeculiarCertificates,
  fromPeculiarCSR,
  toCryptoKeyPair,
  toPeculiarCertificate,
  toPeculiarCertificates,
  toPeculiarCSR,
  toPeculiarPublicKey,
} from '../../src/peculiar/index.js';
import { skipWithout } from '../helpers/peers.js';
import { getTestPKI, TEST_TIME, type TestPKI } from '../helpers/pki.js';

let pki: TestPKI;
let dir: string;
before(async () => {
  pki = await getTestPKI({ hostnames: ['mail.example.com'] });
  dir = mkdtempSync(join(tmpdir(), 'mailtls-peculiar-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('mailtls/peculiar conversions', () => {
  it('a certificate goes in and comes back with the same DER', () => {
    const p = new X509Certificate(pki.leaf.certPEM);
    const view = fromPeculiarCertificate(p);
    assert.deepEqual(view.der, pki.leaf.certDER);
    const back = toPeculiarCertificate(view);
    assert.ok(back instanceof X509Certificate);
    assert.ok(back.equal(p));
    assert.equal(back.subject, p.subject);
    assert.ok(toPeculiarCertificate(pki.leaf.certPEM).equal(p));
  });

  it('an assembled chain comes back as X509Certificates, leaf first', async () => {
    const pool = new X509Certificates([
      new X509Certificate(pki.rootPEM),
      new X509Certificate(pki.intermediate.certPEM),
    ]);
    const chain = await assembleChain(new X509Certificate(pki.leaf.certPEM), pool, {
      at: TEST_TIME,
      includeRoot: true,
    });
    const list = toPeculiarCertificates(chain);
    assert.ok(list instanceof X509Certificates);
    assert.deepEqual(
      Array.from(list, (c) => c.subject),
      [pki.leaf.certPEM, pki.intermediate.certPEM, pki.rootPEM].map(
        (pem) => new X509Certificate(pem).subject,
      ),
    );
    const verified = await verifyChain(list[0]!, { roots: [list[2]!], intermediates: list, at: TEST_TIME });
    assert.equal(toPeculiarCertificates(verified).length, 3);
    assert.equal(fromPeculiarCertificates(list).length, 3);
    assert.equal(toPeculiarCertificates(pki.leaf.chainPEM).length, 2);
  });

  it('a CSR goes in and comes back with the same DER, and verifies in both', async () => {
    const made = await createCSR({ subject: { commonName: 'example.com' }, hostnames: ['mail.example.com'] });
    const p = toPeculiarCSR(made.csrPEM);
    assert.equal(await p.verify(), true);
    assert.deepEqual(new Uint8Array(p.rawData), made.csrDER);
    const view = fromPeculiarCSR(p);
    assert.deepEqual(view.dnsNames, ['example.com', 'mail.example.com']);
    assert.deepEqual(new Uint8Array(toPeculiarCSR(view).rawData), made.csrDER);
  });

  it('wrong types are TypeErrors, broken DER a typed error', () => {
    assert.throws(() => fromPeculiarCertificate(pki.leaf.certPEM as never), TypeError);
    assert.throws(() => fromPeculiarCSR(new X509Certificate(pki.leaf.certPEM) as never), TypeError);
    assert.throws(() => toPeculiarCertificate(42 as never), TypeError);
    assert.throws(
      () => toPeculiarCertificate(new Uint8Array([0x30, 0x00])),
      (e: unknown) => isMailTlsError(e, 'ERR_CERT_INVALID'),
    );
  });
});

const keyTypes: { type: KeyType; curve?: 'P-384' }[] = [
  { type: 'ec' },
  { type: 'ec', curve: 'P-384' },
  { type: 'ed25519' },
  { type: 'rsa' },
];

describe("mailtls keys in @peculiar/x509's generators", () => {
  for (const { type, curve } of keyTypes) {
    const label = `${type}${curve ? ` ${curve}` : ''}`;
    it(`${label}: a CA key of mailtls signs a leaf with X509CertificateGenerator; mailtls and openssl verify it`, async (t) => {
      const caKey = await generateKeyPair({ type, ...(curve ? { curve } : {}) });
      const leafKey = await generateKeyPair({ type: 'ec' });
      const caKeys = await toCryptoKeyPair(caKey);
      assert.equal(caKeys.privateKey.type, 'private');
      const notBefore = new Date('2026-01-01T00:00:00Z');
      const notAfter = new Date('2028-01-01T00:00:00Z');
      const root = await X509CertificateGenerator.createSelfSigned(
        {
          serialNumber: '01',
          name: `CN=Peculiar Root ${label}`,
          notBefore,
          notAfter,
          keys: caKeys,
          signingAlgorithm: caKeys.signingAlgorithm,
          extensions: [
            new BasicConstraintsExtension(true, undefined, true),
            new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
            await SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
          ],
        },
        crypto,
      );
      const leaf = await X509CertificateGenerator.create(
        {
          serialNumber: '02',
          subject: 'CN=mail.example.com',
          issuer: root.subject,
          notBefore,
          notAfter,
          publicKey: toPeculiarPublicKey(leafKey),
          signingKey: caKeys.privateKey,
          signingAlgorithm: caKeys.signingAlgorithm,
          extensions: [
            new SubjectAlternativeNameExtension([{ type: 'dns', value: 'mail.example.com' }]),
            await AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
          ],
        },
        crypto,
      );
      assert.equal(keyMatchesCertificate(caKey, root), true);
      assert.equal(keyMatchesCertificate(leafKey, leaf), true);
      const verified = await verifyChain(leaf, { roots: [root], at: TEST_TIME });
      assert.deepEqual(verified.trustAnchor.der, new Uint8Array(root.rawData));
      assert.equal(parseCertificate(leaf).signatureAlgorithm.oid, caKey.signingAlgorithm().oid);

      if (skipWithout(t, 'openssl')) return;
      const rootFile = join(dir, `root-${label}.pem`);
      const leafFile = join(dir, `leaf-${label}.pem`);
      writeFileSync(rootFile, root.toString('pem'));
      writeFileSync(leafFile, leaf.toString('pem'));
      const r = spawnSync(
        'openssl',
        ['verify', '-attime', String(TEST_TIME.getTime() / 1000), '-CAfile', rootFile, leafFile],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    });
  }

  it('a mailtls key signs a CSR with Pkcs10CertificateRequestGenerator; mailtls verifies it', async () => {
    const key = await generateKeyPair({ type: 'ec' });
    const keys = await toCryptoKeyPair(key);
    const request = await Pkcs10CertificateRequestGenerator.create(
      { name: 'CN=example.com, O=Example', keys, signingAlgorithm: keys.signingAlgorithm },
      crypto,
    );
    await verifyCSRSignature(request);
    assert.equal(parseCSR(request).subject.commonName, 'example.com');
    assert.ok(parseCSR(request).publicKey?.equals(key.publicKey));
  });
});
