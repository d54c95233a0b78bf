// Parsers keep their own copy of DER input: a Node Buffer's slice() is a view, so a caller that reuses or
// wipes its Buffer after parsing must not change a parsed key or certificate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair } from '../src/keys/keys.js';
import { parsePrivateKeyDER } from '../src/keys/private-key.js';
import { parsePublicKeyDER } from '../src/keys/public-key.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { createCSR } from '../src/x509/csr.js';
import { parseCSR } from '../src/x509/csr-parse.js';
import { createSelfSignedCertificate } from '../src/x509/issue.js';

describe('parsers copy Buffer input', () => {
  it('parsePrivateKeyDER and parsePublicKeyDER', async () => {
    const key = await generateKeyPair({ type: 'ec' });
    const buf = Buffer.from(key.exportPKCS8());
    const parsed = await parsePrivateKeyDER(buf);
    const spki = Buffer.from(key.publicKey.spki);
    const pub = parsePublicKeyDER(spki);
    buf.fill(0);
    spki.fill(0);
    assert.deepEqual(parsed.exportPKCS8(), key.exportPKCS8());
    assert.ok(pub.equals(key.publicKey));
  });

  it('parseCertificate and parseCSR', async () => {
    const key = await generateKeyPair({ type: 'ec' });
    const cert = await createSelfSignedCertificate({
      key,
      commonName: 'example.com',
      hostnames: ['mail.example.com'],
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
    });
    const certBuf = Buffer.from(cert.certDER);
    const view = parseCertificate(certBuf);
    const csr = await createCSR({ subject: { commonName: 'example.com' }, key });
    const csrBuf = Buffer.from(csr.csrDER);
    const csrView = parseCSR(csrBuf);
    certBuf.fill(0);
    csrBuf.fill(0);
    assert.deepEqual(view.der, cert.certDER);
    assert.deepEqual(view.dnsNames, ['example.com', 'mail.example.com']);
    assert.equal(csrView.subject.commonName, 'example.com');
    assert.ok(csrView.publicKey?.equals(key.publicKey));
  });
});
