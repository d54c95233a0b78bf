// Certificate and CSR objects of other libraries as inputs: node:crypto's X509Certificate and @peculiar/x509's
// X509Certificate, X509Certificates and Pkcs10CertificateRequest are accepted by every function that takes a
// certificate, a list of certificates or a CSR, read for their DER as it is.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Pkcs10CertificateRequest, X509Certificate, X509Certificates } from '@peculiar/x509';
import {
  assembleChain,
  createCSR,
  createPKCS12,
  createTrustStore,
  describeCertificate,
  describeCSR,
  isMailTlsError,
  issueCertificate,
  keyMatchesCertificate,
  parseCertificate,
  parseCSR,
  parsePKCS12,
  verifyChain,
  verifyCSRSignature,
} from '../../src/index.js';
import { getTestPKI, TEST_TIME, type TestPKI } from '../helpers/pki.js';

let pki: TestPKI;
before(async () => {
  pki = await getTestPKI({ hostnames: ['mail.example.com', 'imap.example.com'] });
});

const kinds = [
  { name: "node:crypto's X509Certificate", make: (pem: string) => new NodeX509Certificate(pem) },
  { name: "@peculiar/x509's X509Certificate", make: (pem: string) => new X509Certificate(pem) },
] as const;

for (const kind of kinds) {
  describe(`${kind.name} as a certificate input`, () => {
    it('parseCertificate reads its DER unchanged', () => {
      const cert = parseCertificate(kind.make(pki.leaf.certPEM));
      assert.deepEqual(cert.der, pki.leaf.certDER);
      assert.deepEqual(cert.dnsNames, ['mail.example.com', 'imap.example.com']);
    });

    it('assembleChain and verifyChain take it as leaf, pool, intermediates and roots', async () => {
      const leaf = kind.make(pki.leaf.certPEM);
      const intermediate = kind.make(pki.intermediate.certPEM);
      const root = kind.make(pki.rootPEM);
      const chain = await assembleChain(leaf, [root, intermediate], { at: TEST_TIME, roots: [root] });
      assert.equal(chain.complete, true);
      assert.equal(chain.trusted, true);
      assert.deepEqual(
        chain.certificates.map((c) => c.der),
        [pki.leaf.certDER, pki.intermediate.certDER],
      );
      const verified = await verifyChain(leaf, {
        roots: createTrustStore([root]),
        intermediates: [intermediate],
        at: TEST_TIME,
      });
      assert.deepEqual(verified.trustAnchor.der, pki.root.certDER);
    });

    it('keyMatchesCertificate, describeCertificate and createPKCS12 take it', async () => {
      const leaf = kind.make(pki.leaf.certPEM);
      assert.equal(keyMatchesCertificate(pki.leaf.key, leaf), true);
      assert.equal(keyMatchesCertificate(pki.intermediate.key, leaf), false);
      assert.equal(describeCertificate(leaf), describeCertificate(pki.leaf.certPEM));
      const pfx = await createPKCS12({
        key: pki.leaf.key,
        certificates: [leaf, kind.make(pki.intermediate.certPEM)],
        password: 'pw',
      });
      const back = await parsePKCS12(pfx, { password: 'pw' });
      assert.deepEqual(back.leaf?.der, pki.leaf.certDER);
      assert.equal(back.certificates.length, 2);
    });

    it('issueCertificate takes it as the CA certificate', async () => {
      const csr = await createCSR({ subject: { commonName: 'smtp.example.com' } });
      const issued = await issueCertificate(
        csr.csrPEM,
        { cert: kind.make(pki.intermediate.certPEM), key: pki.intermediate.key },
        { notBefore: new Date('2026-02-01T00:00:00Z'), days: 90 },
      );
      const chain = await assembleChain(issued.certPEM, [pki.intermediate.certPEM], {
        at: new Date('2026-03-01T00:00:00Z'),
        roots: [pki.rootPEM],
      });
      assert.equal(chain.trusted, true);
    });
  });
}

describe('@peculiar/x509 lists and requests', () => {
  it('an X509Certificates list is a pool and a trust store', async () => {
    const pool = new X509Certificates([new X509Certificate(pki.intermediate.certPEM)]);
    const roots = new X509Certificates(new X509Certificate(pki.rootPEM));
    const chain = await assembleChain(new X509Certificate(pki.leaf.certPEM), pool, { at: TEST_TIME, roots });
    assert.equal(chain.trusted, true);
    assert.equal(chain.certificates.length, 2);
    const verified = await verifyChain(pki.leaf.certPEM, { roots, intermediates: pool, at: TEST_TIME });
    assert.equal(verified.certificates.length, 3);
  });

  it('a Pkcs10CertificateRequest is read by parseCSR, verifyCSRSignature, describeCSR and issueCertificate', async () => {
    const made = await createCSR({ subject: { commonName: 'example.com' }, hostnames: ['mail.example.com'] });
    const request = new Pkcs10CertificateRequest(made.csrPEM);
    assert.deepEqual(parseCSR(request).der, made.csrDER);
    await verifyCSRSignature(request);
    assert.equal(describeCSR(request), describeCSR(made.csrPEM));
    const issued = await issueCertificate(request, pki.intermediate, { notBefore: TEST_TIME, days: 30 });
    assert.deepEqual(issued.dnsNames, ['example.com', 'mail.example.com']);
  });

  it('a request is not a certificate, nor a certificate a request', () => {
    const request = new Pkcs10CertificateRequest(requestPEM);
    assert.throws(() => parseCertificate(request as never), TypeError);
    assert.throws(() => parseCSR(new X509Certificate(pki.leaf.certPEM) as never), TypeError);
  });
});

let requestPEM = '';
before(async () => {
  requestPEM = (await createCSR({ subject: { commonName: 'example.net' } })).csrPEM;
});

describe('objects that only look like certificates', () => {
  it('an object with raw bytes alone is refused with a TypeError naming the accepted inputs', async () => {
    const fake = { raw: pki.leaf.certDER };
    assert.throws(
      () => parseCertificate(fake as never),
      /X509Certificate \(node:crypto or @peculiar\/x509\)/,
    );
    await assert.rejects(assembleChain(fake as never, []), TypeError);
  });

  it("an object shaped like node:crypto's with bytes that are no certificate fails as malformed DER", () => {
    const fake = {
      raw: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
      fingerprint256: '',
      checkHost: () => undefined,
      toLegacyObject: () => ({}),
    };
    assert.throws(
      () => parseCertificate(fake),
      (e: unknown) => isMailTlsError(e, 'ERR_CERT_INVALID'),
    );
  });
});
