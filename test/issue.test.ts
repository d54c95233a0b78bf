import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { CertificateError, CSRError, KeyError, MailTlsError, PEMError } from '../src/errors.js';
import { generateKeyPair, type PrivateKey } from '../src/keys/keys.js';
import { parsePrivateKey } from '../src/keys/private-key.js';
import { createCSR } from '../src/x509/csr.js';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  createSelfSignedCertificate,
  type IssueCertificateOptions,
  issueCertificate,
} from '../src/x509/issue.js';
import { conformanceDir } from './helpers/paths.js';
import { getTestPKI, TEST_NOT_AFTER, TEST_NOT_BEFORE, TEST_TIME } from './helpers/pki.js';
import { cpuStopwatch } from './helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'mailtls-issue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const validity = { notBefore: TEST_NOT_BEFORE, notAfter: TEST_NOT_AFTER };
/** -attime for openssl: a fixed moment inside the validity period. */
const ATTIME = String(Math.floor(TEST_TIME.getTime() / 1000));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function openssl(args: string[]): string {
  const r = run(args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

let fileNo = 0;
function save(text: string | Uint8Array, ext = 'pem'): string {
  const file = join(dir, `f${fileNo++}.${ext}`);
  writeFileSync(file, text);
  return file;
}

function x509Text(pem: string): string {
  return openssl(['x509', '-in', save(pem), '-noout', '-text']);
}

/** The value lines after an extension header in `openssl x509 -text` output. */
function extension(text: string, name: string): string | undefined {
  const m = new RegExp(`X509v3 ${name}:( critical)?\\s*\\n\\s*(.*)\\n`).exec(text);
  return m === null ? undefined : `${m[1] ? 'critical ' : ''}${m[2]!.trim()}`;
}

function verifyChain(root: string, intermediates: string[], leaf: string, extra: string[] = []) {
  const args = ['verify', '-x509_strict', '-attime', ATTIME, '-CAfile', save(root)];
  for (const i of intermediates) args.push('-untrusted', save(i));
  return run([...args, ...extra, save(leaf)]);
}

async function expectCode(p: Promise<unknown>, cls: new (...a: never[]) => MailTlsError, code: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `want ${cls.name}, got ${inspect(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.length > 30);
    return true;
  });
}

/** An openssl-made CSR, for checking that issueCertificate reads requests it did not make. */
function opensslCSR(keyArgs: string[], subj: string, extra: string[] = []): { pem: string; keyFile: string } {
  const keyFile = join(dir, `k${fileNo++}.pem`);
  openssl(['genpkey', ...keyArgs, '-out', keyFile]);
  const conf = save('[req]\ndistinguished_name = dn\nstring_mask = utf8only\nutf8 = yes\n[dn]\n', 'cnf');
  const out = join(dir, `r${fileNo++}.pem`);
  openssl(['req', '-new', '-config', conf, '-key', keyFile, '-subj', subj, ...extra, '-out', out]);
  return { pem: readFileSync(out, 'utf8'), keyFile };
}

describe('issue: a private CA with an intermediate, and leaves from CSRs', () => {
  let ca: CertificateAuthorityHierarchy;
  let rsaLeaf: Awaited<ReturnType<typeof issueCertificate>>;
  let ecLeaf: Awaited<ReturnType<typeof issueCertificate>>;
  let rsaKey: PrivateKey;
  const hostnames = ['mail.example.com', 'smtp.example.com', 'imap.example.com'];

  before(async () => {
    ca = await createCertificateAuthority({
      name: { country: 'US', organization: 'Example Inc', commonName: 'Example Mail Root CA' },
      intermediate: true,
      keyType: 'ec',
      ...validity,
    });
    const rsaCSR = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames,
      ipAddresses: ['192.0.2.25'],
    });
    rsaKey = rsaCSR.key;
    rsaLeaf = await issueCertificate(rsaCSR.csrPEM, ca.issuer, validity);
    const ecCSR = await createCSR({ subject: { commonName: 'example.com' }, hostnames, keyType: 'ec' });
    ecLeaf = await issueCertificate(ecCSR.csrDER, ca.issuer, validity);
  });

  it('openssl verify -x509_strict -purpose sslserver accepts root → intermediate → leaf', () => {
    for (const leaf of [rsaLeaf, ecLeaf]) {
      const r = verifyChain(ca.root.certPEM, [ca.intermediate!.certPEM], leaf.certPEM, [
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'imap.example.com',
      ]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /: OK\n/);
    }
  });

  it('openssl rejects the leaf without the intermediate, and for a host name it does not cover', () => {
    assert.notEqual(verifyChain(ca.root.certPEM, [], rsaLeaf.certPEM).status, 0);
    assert.notEqual(
      verifyChain(ca.root.certPEM, [ca.intermediate!.certPEM], rsaLeaf.certPEM, [
        '-verify_hostname',
        'pop.example.com',
      ]).status,
      0,
    );
  });

  it('leaf extensions: CA:FALSE critical, keyUsage by key type, serverAuth, SAN, SKI, AKI', () => {
    const rsa = x509Text(rsaLeaf.certPEM);
    const ec = x509Text(ecLeaf.certPEM);
    assert.equal(extension(rsa, 'Basic Constraints'), 'critical CA:FALSE');
    assert.equal(extension(rsa, 'Key Usage'), 'critical Digital Signature, Key Encipherment');
    assert.equal(extension(ec, 'Key Usage'), 'critical Digital Signature');
    assert.equal(extension(rsa, 'Extended Key Usage'), 'TLS Web Server Authentication');
    assert.equal(
      extension(rsa, 'Subject Alternative Name'),
      'DNS:example.com, DNS:mail.example.com, DNS:smtp.example.com, DNS:imap.example.com, IP Address:192.0.2.25',
    );
    const interText = x509Text(ca.intermediate!.certPEM);
    assert.equal(extension(rsa, 'Authority Key Identifier'), extension(interText, 'Subject Key Identifier'));
    assert.match(rsa, /Version: 3 \(0x2\)/);
    assert.match(rsa, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(rsa, /Issuer: C = US, O = Example Inc, CN = Example Mail Root CA Intermediate/);
    assert.match(rsa, /Subject: CN = example.com\n/);
  });

  it('CA extensions: root CA:TRUE, intermediate pathlen:0, keyCertSign + cRLSign, all critical', () => {
    const root = x509Text(ca.root.certPEM);
    const inter = x509Text(ca.intermediate!.certPEM);
    assert.equal(extension(root, 'Basic Constraints'), 'critical CA:TRUE');
    assert.equal(extension(inter, 'Basic Constraints'), 'critical CA:TRUE, pathlen:0');
    assert.equal(extension(root, 'Key Usage'), 'critical Certificate Sign, CRL Sign');
    assert.equal(extension(inter, 'Key Usage'), 'critical Certificate Sign, CRL Sign');
    assert.equal(extension(root, 'Authority Key Identifier'), extension(root, 'Subject Key Identifier'));
    assert.equal(extension(inter, 'Authority Key Identifier'), extension(root, 'Subject Key Identifier'));
    assert.match(root, /Issuer: C = US, O = Example Inc, CN = Example Mail Root CA\n/);
    assert.match(root, /Subject: C = US, O = Example Inc, CN = Example Mail Root CA\n/);
    assert.equal(ca.issuer, ca.intermediate);
    assert.equal(ca.root.chainPEM, '');
    assert.equal(ca.intermediate!.chainPEM, ca.intermediate!.certPEM);
  });

  it('the SKI is what openssl computes for the same key (SHA-1 of the subjectPublicKey, RFC 5280 method 1)', () => {
    const keyFile = save(ca.intermediate!.key.exportPKCS8(), 'der');
    const conf = save('[req]\ndistinguished_name = dn\n[dn]\n', 'cnf');
    const theirs = openssl([
      'req',
      '-new',
      '-x509',
      '-config',
      conf,
      '-keyform',
      'DER',
      '-key',
      keyFile,
      '-subj',
      '/CN=x',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-days',
      '1',
    ]);
    assert.equal(
      extension(x509Text(theirs), 'Subject Key Identifier'),
      extension(x509Text(ca.intermediate!.certPEM), 'Subject Key Identifier'),
    );
    assert.equal(extension(x509Text(rsaLeaf.certPEM), 'Subject Key Identifier')!.length, 59);
  });

  it('validity is exactly what was given', () => {
    assert.equal(
      openssl(['x509', '-in', save(rsaLeaf.certPEM), '-noout', '-startdate', '-enddate']),
      'notBefore=Jan  1 00:00:00 2026 GMT\nnotAfter=Jan  1 00:00:00 2036 GMT\n',
    );
    assert.deepEqual([rsaLeaf.notBefore, rsaLeaf.notAfter], [TEST_NOT_BEFORE, TEST_NOT_AFTER]);
  });

  it('serials are 16 random bytes, positive, as openssl reads them', async () => {
    const csr = await createCSR({ subject: { commonName: 'example.com' }, key: rsaKey });
    const serials = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const leaf = await issueCertificate(csr.csrPEM, ca.issuer, validity);
      assert.match(leaf.serialNumber, /^[0-7][0-9a-f]{31}$/);
      assert.notEqual(leaf.serialNumber.slice(0, 2), '00');
      serials.add(leaf.serialNumber);
      if (i === 0)
        assert.equal(
          openssl(['x509', '-in', save(leaf.certPEM), '-noout', '-serial']).trim(),
          `serial=${leaf.serialNumber.toUpperCase()}`,
        );
    }
    assert.equal(serials.size, 12);
  });

  it('node:crypto X509Certificate agrees: checkIssued, verify, ca flags, host and IP checks', () => {
    const root = new X509Certificate(ca.root.certPEM);
    const inter = new X509Certificate(ca.intermediate!.certPEM);
    for (const pem of [rsaLeaf.certPEM, ecLeaf.certPEM]) {
      const leaf = new X509Certificate(pem);
      assert.ok(leaf.checkIssued(inter));
      assert.ok(!leaf.checkIssued(root));
      assert.ok(leaf.verify(inter.publicKey));
      assert.ok(!leaf.verify(root.publicKey));
      assert.equal(leaf.ca, false);
      assert.equal(leaf.checkHost('smtp.example.com'), 'smtp.example.com');
      assert.equal(leaf.checkHost('pop.example.com'), undefined);
      assert.equal(leaf.serialNumber.length, 32);
    }
    assert.equal(new X509Certificate(rsaLeaf.certPEM).checkIP('192.0.2.25'), '192.0.2.25');
    assert.ok(inter.checkIssued(root));
    assert.ok(inter.verify(root.publicKey));
    assert.ok(root.checkIssued(root));
    assert.ok(root.verify(root.publicKey));
    assert.equal(root.ca, true);
    assert.equal(inter.ca, true);
  });

  it('chainPEM is leaf then intermediate (what the server sends)', () => {
    assert.equal(rsaLeaf.chainPEM, rsaLeaf.certPEM + ca.intermediate!.certPEM);
    const blocks = rsaLeaf.chainPEM.match(/-----BEGIN CERTIFICATE-----/g);
    assert.equal(blocks?.length, 2);
  });

  it('clientAuth on request, and extra extensions as given', async () => {
    const csr = await createCSR({ subject: { commonName: 'example.com' }, key: rsaKey });
    const leaf = await issueCertificate(csr.csrPEM, ca.issuer, {
      ...validity,
      clientAuth: true,
      // TLS Feature status_request (OCSP must-staple), RFC 7633
      extraExtensions: [{ oid: '1.3.6.1.5.5.7.1.24', value: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05) }],
    });
    const text = x509Text(leaf.certPEM);
    assert.equal(
      extension(text, 'Extended Key Usage'),
      'TLS Web Server Authentication, TLS Web Client Authentication',
    );
    assert.match(text, /TLS Feature: \n\s+status_request/);
  });

  it('hostnames and ipAddresses options replace the CSR names (the CN stays)', async () => {
    const csr = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames: ['old.example.com'],
      key: rsaKey,
    });
    const leaf = await issueCertificate(csr.csrPEM, ca.issuer, {
      ...validity,
      hostnames: ['MX.example.com'],
      ipAddresses: ['2001:db8::1'],
    });
    assert.deepEqual(leaf.dnsNames, ['example.com', 'mx.example.com']);
    assert.equal(
      extension(x509Text(leaf.certPEM), 'Subject Alternative Name'),
      'DNS:example.com, DNS:mx.example.com, IP Address:2001:DB8:0:0:0:0:0:1',
    );
  });

  it('issues from a CA loaded as { cert, key } (PEM and DER), with the right chain', async () => {
    const csr = await createCSR({ subject: { commonName: 'example.com' }, key: rsaKey });
    const interKey = await parsePrivateKey(
      `-----BEGIN PRIVATE KEY-----\n${Buffer.from(ca.intermediate!.key.exportPKCS8()).toString('base64')}\n-----END PRIVATE KEY-----\n`,
    );
    const viaInter = await issueCertificate(
      csr.csrPEM,
      { cert: ca.intermediate!.certPEM, key: interKey },
      validity,
    );
    assert.equal(viaInter.chainPEM, viaInter.certPEM + ca.intermediate!.certPEM);
    const viaRoot = await issueCertificate(csr.csrPEM, { cert: ca.root.certDER, key: ca.root.key }, validity);
    assert.equal(viaRoot.chainPEM, viaRoot.certPEM);
    assert.equal(verifyChain(ca.root.certPEM, [], viaRoot.certPEM).status, 0);
    assert.equal(verifyChain(ca.root.certPEM, [ca.intermediate!.certPEM], viaInter.certPEM).status, 0);
  });
});

describe('issue: requests made by other tools', () => {
  let ca: CertificateAuthorityHierarchy;
  before(async () => {
    ca = await createCertificateAuthority({ name: 'Other Tools CA', keyType: 'ec', ...validity });
  });

  it('the RustCrypto RSA-2048 CSR (conformance data): subject copied as is, CN in the SAN', async () => {
    const csr = readFileSync(join(conformanceDir, 'csr/rustcrypto-x509-cert/rsa2048-csr.pem'), 'utf8');
    const der = readFileSync(join(conformanceDir, 'csr/rustcrypto-x509-cert/rsa2048-csr.der'));
    for (const input of [csr, new Uint8Array(der)]) {
      const leaf = await issueCertificate(input, ca.issuer, validity);
      const csrSubject = openssl(['req', '-in', save(csr), '-noout', '-subject', '-nameopt', 'RFC2253']);
      const certSubject = openssl([
        'x509',
        '-in',
        save(leaf.certPEM),
        '-noout',
        '-subject',
        '-nameopt',
        'RFC2253',
      ]);
      assert.equal(certSubject, csrSubject);
      assert.equal(
        certSubject.trim(),
        'subject=C=US,O=Example Inc,ST=California,L=Los Angeles,CN=example.com',
      );
      const text = x509Text(leaf.certPEM);
      assert.equal(extension(text, 'Subject Alternative Name'), 'DNS:example.com');
      // The CSR asks for clientAuth too; the CA decides: serverAuth only unless clientAuth is set.
      assert.equal(extension(text, 'Extended Key Usage'), 'TLS Web Server Authentication');
      assert.equal(verifyChain(ca.root.certPEM, [], leaf.certPEM).status, 0);
    }
  });

  const rows = [
    {
      name: 'openssl EC P-384 CSR',
      key: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      md: ['-sha384'],
    },
    { name: 'openssl Ed25519 CSR', key: ['-algorithm', 'ED25519'], md: [] },
    {
      name: 'openssl RSA CSR signed with SHA-512',
      key: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      md: ['-sha512'],
    },
  ];
  for (const row of rows)
    it(`${row.name}: SAN copied, chain verifies`, async () => {
      const { pem } = opensslCSR(row.key, '/O=Example/CN=example.net', [
        ...row.md,
        '-addext',
        'subjectAltName=DNS:mail.example.net,IP:10.0.0.25',
      ]);
      const leaf = await issueCertificate(pem, ca.issuer, validity);
      assert.deepEqual(leaf.dnsNames, ['example.net', 'mail.example.net']);
      assert.deepEqual(leaf.ipAddresses, ['10.0.0.25']);
      const r = verifyChain(ca.root.certPEM, [], leaf.certPEM, ['-verify_hostname', 'mail.example.net']);
      assert.equal(r.status, 0, r.stderr);
    });

  it('an openssl CSR with an empty subject gets a critical SAN (RFC 5280 §4.2.1.6)', async () => {
    const { pem } = opensslCSR(['-algorithm', 'ED25519'], '/', [
      '-addext',
      'subjectAltName=DNS:mail.example.net',
    ]);
    const leaf = await issueCertificate(pem, ca.issuer, validity);
    const text = x509Text(leaf.certPEM);
    assert.equal(extension(text, 'Subject Alternative Name'), 'critical DNS:mail.example.net');
    assert.match(text, /Subject: \n/);
    assert.equal(
      verifyChain(ca.root.certPEM, [], leaf.certPEM, ['-verify_hostname', 'mail.example.net']).status,
      0,
    );
  });

  it('rejects an openssl CSR signed with SHA-1', async () => {
    const { pem } = opensslCSR(
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      '/CN=example.net',
      ['-sha1'],
    );
    await expectCode(issueCertificate(pem, ca.issuer, validity), CSRError, 'ERR_CSR_SIGNATURE');
  });

  it('rejects an openssl CSR with an invalid DNS name in its SAN', async () => {
    const { pem } = opensslCSR(['-algorithm', 'ED25519'], '/CN=example.net', [
      '-addext',
      'subjectAltName=DNS:mail_server.example.net',
    ]);
    await expectCode(issueCertificate(pem, ca.issuer, validity), CSRError, 'ERR_CSR_DNS_NAME');
  });

  it('rejects an openssl CSR asking for an e-mail SAN', async () => {
    const { pem } = opensslCSR(['-algorithm', 'ED25519'], '/CN=example.net', [
      '-addext',
      'subjectAltName=email:postmaster@example.net',
    ]);
    await expectCode(issueCertificate(pem, ca.issuer, validity), CSRError, 'ERR_CSR_SUBJECT');
  });

  it('quotes what an e-mail SAN of the CSR says: no raw control characters reach the message', async () => {
    const { pem } = opensslCSR(['-algorithm', 'ED25519'], '/CN=example.net', [
      '-addext',
      'subjectAltName=email:post\u001b[2Jmaster@example.net',
    ]);
    await assert.rejects(issueCertificate(pem, ca.issuer, validity), (e: unknown) => {
      assert.ok(e instanceof CSRError && e.code === 'ERR_CSR_SUBJECT', inspect(e));
      assert.ok(!e.message.includes('\u001b'), e.message);
      assert.match(e.message, /"post\\u001b\[2Jmaster@example\.net"/);
      return true;
    });
  });

  it('rejects an openssl CSR whose CN is not a host name', async () => {
    const { pem } = opensslCSR(['-algorithm', 'ED25519'], '/CN=My Mail Server');
    await expectCode(issueCertificate(pem, ca.issuer, validity), CSRError, 'ERR_CSR_DNS_NAME');
  });

  it('accepts an openssl CSR self-signed with RSA-PSS (an ordinary RSA key; the CA signs as usual)', async () => {
    const { pem } = opensslCSR(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], '/CN=example.net', [
      '-sigopt',
      'rsa_padding_mode:pss',
    ]);
    assert.match(openssl(['req', '-in', save(pem), '-noout', '-text']), /Signature Algorithm: rsassaPss/);
    const leaf = await issueCertificate(pem, ca.issuer, validity);
    const text = x509Text(leaf.certPEM);
    assert.equal(extension(text, 'Key Usage'), 'critical Digital Signature, Key Encipherment');
    assert.equal(verifyChain(ca.root.certPEM, [], leaf.certPEM).status, 0);
  });
});

describe('issue: refusals', () => {
  let ca: CertificateAuthorityHierarchy;
  let csrPEM: string;
  let csrDER: Uint8Array;
  before(async () => {
    ca = await createCertificateAuthority({ name: 'Refusals CA', keyType: 'ec', ...validity });
    const csr = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames: ['mail.example.com'],
      keyType: 'ec',
    });
    csrPEM = csr.csrPEM;
    csrDER = csr.csrDER;
  });

  it('a CSR altered after signing → ERR_CSR_SIGNATURE', async () => {
    const tampered = csrDER.slice();
    const at = Buffer.from(tampered).indexOf('mail.example.com');
    tampered[at] = 'n'.charCodeAt(0); // now asks for nail.example.com
    await expectCode(issueCertificate(tampered, ca.issuer, validity), CSRError, 'ERR_CSR_SIGNATURE');
  });

  it('bytes that are not a CSR → ERR_CSR_INVALID; a certificate PEM given as CSR → PEMError', async () => {
    await expectCode(
      issueCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), ca.issuer, validity),
      CSRError,
      'ERR_CSR_INVALID',
    );
    await expectCode(
      issueCertificate(csrDER.subarray(0, 50), ca.issuer, validity),
      CSRError,
      'ERR_CSR_INVALID',
    );
    await expectCode(
      issueCertificate(ca.root.certPEM, ca.issuer, validity),
      PEMError,
      'ERR_PEM_UNEXPECTED_LABEL',
    );
  });

  it('a leaf certificate as CA → ERR_CERT_ISSUE', async () => {
    const leaf = await issueCertificate(csrPEM, ca.issuer, validity);
    const key = await generateKeyPair({ type: 'ec' });
    await expectCode(
      issueCertificate(csrPEM, { cert: leaf.certPEM, key }, validity),
      CertificateError,
      'ERR_CERT_ISSUE',
    );
    const self = await createSelfSignedCertificate({ commonName: 'mail.lan', keyType: 'ec', ...validity });
    await expectCode(
      issueCertificate(csrPEM, { cert: self.certPEM, key: self.key }, validity),
      CertificateError,
      'ERR_CERT_ISSUE',
    );
  });

  it('a CA key that does not belong to the CA certificate → ERR_KEY_MISMATCH', async () => {
    const other = await generateKeyPair({ type: 'ec' });
    await expectCode(
      issueCertificate(csrPEM, { cert: ca.root.certPEM, key: other }, validity),
      KeyError,
      'ERR_KEY_MISMATCH',
    );
  });

  it('a CA certificate that is not DER → ERR_CERT_INVALID', async () => {
    await expectCode(
      issueCertificate(csrPEM, { cert: Uint8Array.of(1, 2, 3), key: ca.root.key }, validity),
      CertificateError,
      'ERR_CERT_INVALID',
    );
  });

  it('a leaf that would outlive its CA → ERR_CERT_ISSUE', async () => {
    await expectCode(
      issueCertificate(csrPEM, ca.issuer, {
        notBefore: TEST_NOT_BEFORE,
        notAfter: new Date('2040-01-01T00:00:00Z'),
      }),
      CertificateError,
      'ERR_CERT_ISSUE',
    );
  });

  const validityRows: Array<{
    name: string;
    input: IssueCertificateOptions;
    want: typeof TypeError | typeof RangeError;
  }> = [
    { name: 'no validity at all', input: {}, want: TypeError },
    { name: 'notBefore only', input: { notBefore: TEST_NOT_BEFORE }, want: TypeError },
    { name: 'days without a start', input: { days: 90 }, want: TypeError },
    { name: 'days and notAfter', input: { ...validity, days: 90 }, want: TypeError },
    { name: 'reversed', input: { notBefore: TEST_NOT_AFTER, notAfter: TEST_NOT_BEFORE }, want: RangeError },
    {
      name: 'zero length',
      input: { notBefore: TEST_NOT_BEFORE, notAfter: TEST_NOT_BEFORE },
      want: RangeError,
    },
    { name: 'fractional days', input: { at: TEST_NOT_BEFORE, days: 1.5 }, want: RangeError },
    {
      name: 'invalid date',
      input: { notBefore: new Date('nope'), notAfter: TEST_NOT_AFTER },
      want: TypeError,
    },
    {
      name: 'string date',
      input: { notBefore: '2026-01-01' as unknown as Date, notAfter: TEST_NOT_AFTER },
      want: TypeError,
    },
  ];
  for (const row of validityRows)
    it(`validity: ${row.name} → ${row.want.name}`, async () => {
      await assert.rejects(issueCertificate(csrPEM, ca.issuer, row.input), row.want);
    });

  it('days count from at or notBefore', async () => {
    const a = await issueCertificate(csrPEM, ca.issuer, {
      at: new Date('2026-03-01T10:20:30.999Z'),
      days: 90,
    });
    assert.equal(a.notBefore.toISOString(), '2026-03-01T10:20:30.000Z');
    assert.equal(a.notAfter.toISOString(), '2026-05-30T10:20:30.000Z');
    const b = await issueCertificate(csrPEM, ca.issuer, {
      notBefore: new Date('2026-03-01T00:00:00Z'),
      days: 1,
    });
    assert.equal(b.notAfter.toISOString(), '2026-03-02T00:00:00.000Z');
  });

  it('extra extensions may not replace the ones mailtls sets', async () => {
    await assert.rejects(
      issueCertificate(csrPEM, ca.issuer, {
        ...validity,
        extraExtensions: [{ oid: '2.5.29.19', value: Uint8Array.of(0x30, 0) }],
      }),
      TypeError,
    );
  });

  it('mutated CSRs are refused with a MailTlsError, each within 100 ms', async () => {
    const mutated = fc
      .tuple(fc.nat(csrDER.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(csrDER.length))
      .map(([at, xor, cut]) => {
        const b = csrDER.slice(0, Math.max(cut, at + 1));
        b[at]! ^= xor;
        return b;
      });
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
        try {
          await issueCertificate(bytes, ca.issuer, validity);
          assert.fail('a changed CSR must not verify');
        } catch (e) {
          assert.ok(e instanceof MailTlsError, `unexpected ${inspect(e)}`);
        }
        assert.ok(elapsed() < 100);
      }),
      { numRuns: runs },
    );
  });
});

describe('issue: key types of the CA', () => {
  const rows = [
    { name: 'RSA-2048 CA', options: { keyType: 'rsa' as const }, want: 'sha256WithRSAEncryption' },
    {
      name: 'P-384 CA',
      options: { keyType: 'ec' as const, curve: 'P-384' as const },
      want: 'ecdsa-with-SHA384',
    },
    { name: 'Ed25519 CA', options: { keyType: 'ed25519' as const }, want: 'ED25519' },
  ];
  for (const row of rows)
    it(`${row.name} signs with ${row.want} and openssl verifies the chain`, async () => {
      const ca = await createCertificateAuthority({
        name: row.name,
        intermediate: true,
        ...row.options,
        ...validity,
      });
      const csr = await createCSR({ subject: { commonName: 'example.com' }, keyType: 'ec' });
      const leaf = await issueCertificate(csr.csrPEM, ca.issuer, validity);
      assert.match(x509Text(leaf.certPEM), new RegExp(`Signature Algorithm: ${row.want}\\n`));
      const r = verifyChain(ca.root.certPEM, [ca.intermediate!.certPEM], leaf.certPEM);
      assert.equal(r.status, 0, r.stderr);
    });
});

describe('issue: createSelfSignedCertificate', () => {
  it('makes a CA:FALSE server certificate that openssl and Node accept as its own trust anchor', async () => {
    const self = await createSelfSignedCertificate({
      commonName: 'mail.lan',
      hostnames: ['imap.lan'],
      ipAddresses: ['192.168.1.10'],
      keyType: 'ec',
      ...validity,
    });
    const text = x509Text(self.certPEM);
    assert.equal(extension(text, 'Basic Constraints'), 'critical CA:FALSE');
    assert.equal(
      extension(text, 'Subject Alternative Name'),
      'DNS:mail.lan, DNS:imap.lan, IP Address:192.168.1.10',
    );
    assert.equal(extension(text, 'Authority Key Identifier'), extension(text, 'Subject Key Identifier'));
    const r = verifyChain(self.certPEM, [], self.certPEM, [
      '-purpose',
      'sslserver',
      '-verify_ip',
      '192.168.1.10',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const x = new X509Certificate(self.certPEM);
    assert.ok(x.verify(x.publicKey));
    // OpenSSL's X509_check_issued wants keyCertSign in the issuer's keyUsage, which a server certificate
    // must not have; trust as an anchor does not depend on it (openssl verify above, the TLS test below).
    assert.equal(x.checkIssued(x), false);
    assert.equal(self.chainPEM, self.certPEM);
    assert.deepEqual(self.warnings, []);
    openssl(['pkey', '-in', save(self.keyPEM), '-noout']);
    assert.ok(!JSON.stringify(self).includes('PRIVATE KEY'));
  });

  it('takes full subject fields, days from at, and a given key', async () => {
    const key = await generateKeyPair({ type: 'ed25519' });
    const self = await createSelfSignedCertificate({
      key,
      subject: { country: 'de', organization: 'Home', commonName: 'nas.home.arpa' },
      at: new Date('2026-02-01T00:00:00Z'),
      days: 825,
    });
    assert.equal(self.key, key);
    assert.match(x509Text(self.certPEM), /Subject: C = DE, O = Home, CN = nas.home.arpa\n/);
    assert.equal(self.notAfter.toISOString(), '2028-05-06T00:00:00.000Z');
    assert.deepEqual(
      self.warnings.map((w) => w.code),
      ['WARN_CN_ONLY'],
    );
  });

  it('refuses bad names and options like createCSR', async () => {
    await expectCode(
      createSelfSignedCertificate({ commonName: 'not a host', keyType: 'ec', ...validity }),
      CSRError,
      'ERR_CSR_DNS_NAME',
    );
    await expectCode(
      createSelfSignedCertificate({
        subject: { country: 'UK', commonName: 'mail.lan' },
        keyType: 'ec',
        ...validity,
      }),
      CSRError,
      'ERR_CSR_COUNTRY',
    );
    await expectCode(
      createSelfSignedCertificate({ keyType: 'ec', ...validity }),
      CSRError,
      'ERR_CSR_SUBJECT',
    );
    await assert.rejects(
      createSelfSignedCertificate({ commonName: 'a.lan', subject: { commonName: 'b.lan' }, ...validity }),
      TypeError,
    );
    await assert.rejects(createSelfSignedCertificate({ commonName: 'a.lan', keyType: 'ec' }), TypeError);
  });

  it('GeneralizedTime for dates from 2050 on, read back by openssl', async () => {
    const self = await createSelfSignedCertificate({
      commonName: 'mail.lan',
      keyType: 'ec',
      notBefore: new Date('2049-12-31T00:00:00Z'),
      notAfter: new Date('2050-01-02T00:00:00Z'),
    });
    assert.equal(
      openssl(['x509', '-in', save(self.certPEM), '-noout', '-enddate']),
      'notAfter=Jan  2 00:00:00 2050 GMT\n',
    );
    assert.match(
      openssl(['asn1parse', '-in', save(self.certPEM)]),
      /UTCTIME\s+:491231000000Z[\s\S]*GENERALIZEDTIME\s+:20500102000000Z/,
    );
  });
});

describe('issue: a real TLS handshake on 127.0.0.1', () => {
  async function handshake(key: string, cert: string, ca: string, servername: string) {
    const server = tls.createServer({ key, cert }, (socket) => socket.end('220 ok\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      return await new Promise<{ authorized: boolean; error?: Error; peer?: tls.PeerCertificate }>(
        (resolve) => {
          const socket = tls.connect({ host: '127.0.0.1', port, servername, ca });
          socket.once('secureConnect', () => {
            const peer = socket.getPeerCertificate();
            socket.destroy();
            resolve({ authorized: socket.authorized, peer });
          });
          socket.once('error', (error) => {
            socket.destroy();
            resolve({ authorized: false, error });
          });
        },
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('a client trusting only the root verifies the leaf + intermediate the server sends (test PKI helper)', async () => {
    const pki = await getTestPKI({ hostnames: ['mail.example.com', 'imap.example.com'] });
    assert.equal(
      await getTestPKI({ hostnames: ['mail.example.com', 'imap.example.com'] }),
      pki,
      'cached per process',
    );
    const ok = await handshake(pki.leaf.keyPEM, pki.leaf.chainPEM, pki.rootPEM, 'imap.example.com');
    assert.equal(ok.error, undefined);
    assert.equal(ok.authorized, true);
    assert.equal(ok.peer?.subject.CN, 'mail.example.com');
    const wrong = await handshake(pki.leaf.keyPEM, pki.leaf.chainPEM, pki.rootPEM, 'pop.example.com');
    assert.equal((wrong.error as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    const noIntermediate = await handshake(
      pki.leaf.keyPEM,
      pki.leaf.certPEM,
      pki.rootPEM,
      'imap.example.com',
    );
    assert.equal(
      (noIntermediate.error as NodeJS.ErrnoException | undefined)?.code,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('a self-signed certificate works when the client trusts it', async () => {
    const self = await createSelfSignedCertificate({
      commonName: 'mail.lan',
      keyType: 'ec',
      at: new Date(),
      days: 2,
    });
    const ok = await handshake(self.keyPEM, self.certPEM, self.certPEM, 'mail.lan');
    assert.equal(ok.error, undefined);
    assert.equal(ok.authorized, true);
  });

  it('the RSA test PKI (RSA leaf, RSA CAs) verifies too', async () => {
    const pki = await getTestPKI({ hostnames: ['mx.example.org'], keyType: 'rsa' });
    const ok = await handshake(pki.leaf.keyPEM, pki.leaf.chainPEM, pki.rootPEM, 'mx.example.org');
    assert.equal(ok.error, undefined);
    assert.equal(ok.authorized, true);
    assert.match(x509Text(pki.leaf.certPEM), /Signature Algorithm: sha256WithRSAEncryption/);
  });
});
