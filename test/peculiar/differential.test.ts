// Differential parsing: every CSR and certificate mailtls builds (each key type, every subject field of the
// manual, DNS and IP SANs, IDN names) is read by @peculiar/x509 and by pkijs, which must see the same subject,
// names, extensions, validity, serial number and key, and find the signatures valid.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Pkcs10CertificateRequest, SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  type CertificateAuthorityHierarchy,
  type CertificateSigningRequest,
  createCertificateAuthority,
  createCSR,
  type DistinguishedName,
  issueCertificate,
  type KeyType,
  parseCertificate,
  parseCSR,
} from '../../src/index.js';

const validity = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-12-31T23:59:59Z') };

/** The manual's subject: every field, with non-ASCII text where a field allows it. */
const subject = {
  country: 'DE',
  state: 'Baden-Württemberg',
  locality: 'Müllheim',
  organization: 'Bücher & Co. KG',
  organizationalUnit: 'Mail-Betrieb',
  commonName: 'bücher.example',
  emailAddress: 'hostmaster@example.com',
};
const hostnames = ['mail.bücher.example', 'smtp.example.com', 'imap.example.com'];
const ipAddresses = ['192.0.2.25', '2001:db8::25'];
const wantDNS = [
  'xn--bcher-kva.example',
  'mail.xn--bcher-kva.example',
  'smtp.example.com',
  'imap.example.com',
];

const keyTypes: { keyType: KeyType; curve?: 'P-384' }[] = [
  { keyType: 'rsa' },
  { keyType: 'ec' },
  { keyType: 'ec', curve: 'P-384' },
  { keyType: 'ed25519' },
];

/** Attributes of a mailtls name as [OID, text] in DER order. */
function mailtlsAttributes(name: DistinguishedName): [string, string][] {
  return name.rdns.flatMap((rdn) => rdn.map((a): [string, string] => [a.type, a.value]));
}

function peculiarAttributes(name: { toJSON(): Record<string, string[]>[] }): [string, string][] {
  // JSON names use short names; map them back to the OIDs mailtls reports.
  const oid: Record<string, string> = {
    C: '2.5.4.6',
    ST: '2.5.4.8',
    L: '2.5.4.7',
    O: '2.5.4.10',
    OU: '2.5.4.11',
    CN: '2.5.4.3',
    E: '1.2.840.113549.1.9.1',
  };
  return name
    .toJSON()
    .flatMap((rdn) =>
      Object.entries(rdn).flatMap(([k, vs]) => vs.map((v): [string, string] => [oid[k] ?? k, v])),
    );
}

function pkijsAttributes(name: pkijs.RelativeDistinguishedNames): [string, string][] {
  return name.typesAndValues.map((tv): [string, string] => [tv.type, String(tv.value.valueBlock.value)]);
}

function extensionList(exts: readonly { oid: string; critical: boolean }[]): [string, boolean][] {
  return exts.map((e) => [e.oid, e.critical]);
}

/** mailtls's bytes are on plain buffers; the libraries' types ask for that in the type. */
function ab(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

function hex(b: ArrayBuffer | Uint8Array): string {
  return Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
}

/** pkijs GeneralName → mailtls-like [type, value]. */
function pkijsNames(ext: pkijs.Extension | undefined): [string, string][] {
  const parsed = ext?.parsedValue as pkijs.AltName | undefined;
  return (parsed?.altNames ?? []).map((n): [string, string] => {
    if (n.type === 2) return ['dns', String(n.value)];
    if (n.type === 1) return ['email', String(n.value)];
    if (n.type === 7) return ['ip', hex((n.value as asn1js.OctetString).valueBlock.valueHexView)];
    return [`type${n.type}`, ''];
  });
}

function ipHex(ip: string): string {
  if (ip.includes('.')) return Buffer.from(ip.split('.').map(Number)).toString('hex');
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.map((g) => g.padStart(4, '0')).join('');
}

const wantNames: [string, string][] = [
  ...wantDNS.map((d): [string, string] => ['dns', d]),
  ...ipAddresses.map((ip): [string, string] => ['ip', ipHex(ip)]),
];

for (const { keyType, curve } of keyTypes) {
  const label = `${keyType}${curve ? ` ${curve}` : ''}`;
  describe(`differential parsing, ${label}`, () => {
    let csr: CertificateSigningRequest;
    let csrDER: Uint8Array;
    let ca: CertificateAuthorityHierarchy;
    let certDER: Uint8Array;

    before(async () => {
      const made = await createCSR({ subject, hostnames, ipAddresses, keyType, ...(curve ? { curve } : {}) });
      csrDER = made.csrDER;
      csr = parseCSR(made.csrDER);
      ca = await createCertificateAuthority({
        name: { country: 'DE', organization: 'Différentiel CA', commonName: `Differential CA ${label}` },
        intermediate: true,
        keyType,
        ...validity,
      });
      certDER = (await issueCertificate(made.csrPEM, ca.issuer, validity)).certDER;
    });

    it('the CSR: same subject, names, extensions and key in @peculiar/x509, and its signature is valid', async () => {
      const p = new Pkcs10CertificateRequest(ab(csrDER));
      assert.deepEqual(peculiarAttributes(p.subjectName), mailtlsAttributes(csr.subject));
      assert.equal(mailtlsAttributes(csr.subject).length, 7);
      const san = p.getExtension('2.5.29.17') as SubjectAlternativeNameExtension | null;
      assert.deepEqual(
        san?.names.items.map((n) => [n.type, n.type === 'ip' ? ipHex(n.value) : n.value]),
        wantNames,
      );
      assert.deepEqual(
        Array.from(p.extensions, (e) => [e.type, e.critical]),
        extensionList(csr.extensions),
      );
      assert.equal(hex(p.publicKey.rawData), hex(csr.spki));
      assert.equal(await p.verify(), true);
    });

    it('the CSR: same in pkijs, and its signature is valid', async () => {
      const p = pkijs.CertificationRequest.fromBER(ab(csrDER));
      assert.deepEqual(pkijsAttributes(p.subject), mailtlsAttributes(csr.subject));
      const extReq = p.attributes?.find((a) => a.type === '1.2.840.113549.1.9.14');
      const exts = new pkijs.Extensions({ schema: extReq?.values[0] });
      assert.deepEqual(
        exts.extensions.map((e) => [e.extnID, e.critical]),
        extensionList(csr.extensions),
      );
      assert.deepEqual(pkijsNames(exts.extensions.find((e) => e.extnID === '2.5.29.17')), wantNames);
      assert.equal(hex(p.subjectPublicKeyInfo.toSchema().toBER()), hex(csr.spki));
      // pkijs 3 knows no Ed25519 signature algorithm: it says so rather than answering.
      if (keyType === 'ed25519')
        await assert.rejects(p.verify(), /Unsupported signature algorithm: 1\.3\.101\.112/);
      else assert.equal(await p.verify(), true);
    });

    it('the certificate: same subject, issuer, serial, validity, names, extensions and key in @peculiar/x509', async () => {
      const cert = parseCertificate(certDER);
      const p = new X509Certificate(ab(certDER));
      assert.deepEqual(peculiarAttributes(p.subjectName), mailtlsAttributes(cert.subject));
      assert.deepEqual(peculiarAttributes(p.issuerName), mailtlsAttributes(cert.issuer));
      assert.equal(p.serialNumber.toLowerCase(), cert.serialNumber.replaceAll(':', '').toLowerCase());
      assert.equal(p.notBefore.getTime(), cert.notBefore.getTime());
      assert.equal(p.notAfter.getTime(), cert.notAfter.getTime());
      assert.deepEqual(
        p
          .getExtension(SubjectAlternativeNameExtension)
          ?.names.items.map((n) => [n.type, n.type === 'ip' ? ipHex(n.value) : n.value]),
        wantNames,
      );
      assert.deepEqual(
        Array.from(p.extensions, (e) => [e.type, e.critical]),
        extensionList(cert.extensions),
      );
      assert.equal(hex(p.publicKey.rawData), hex(cert.spki));
      const issuer = new X509Certificate(ab(ca.issuer.certDER));
      assert.equal(await p.verify({ publicKey: issuer.publicKey, signatureOnly: true }), true);
    });

    it('the certificate: same in pkijs, and its signature is valid', async () => {
      const cert = parseCertificate(certDER);
      const p = pkijs.Certificate.fromBER(ab(certDER));
      assert.deepEqual(pkijsAttributes(p.subject), mailtlsAttributes(cert.subject));
      assert.deepEqual(pkijsAttributes(p.issuer), mailtlsAttributes(cert.issuer));
      assert.equal(
        hex(p.serialNumber.valueBlock.valueHexView),
        cert.serialNumber.replaceAll(':', '').toLowerCase(),
      );
      assert.equal(p.notBefore.value.getTime(), cert.notBefore.getTime());
      assert.equal(p.notAfter.value.getTime(), cert.notAfter.getTime());
      assert.deepEqual(
        (p.extensions ?? []).map((e) => [e.extnID, e.critical]),
        extensionList(cert.extensions),
      );
      assert.deepEqual(pkijsNames(p.extensions?.find((e) => e.extnID === '2.5.29.17')), wantNames);
      assert.equal(hex(p.subjectPublicKeyInfo.toSchema().toBER()), hex(cert.spki));
      const issuer = pkijs.Certificate.fromBER(ab(ca.issuer.certDER));
      if (keyType === 'ed25519') await assert.rejects(p.verify(issuer), /Unsupported signature algorithm/);
      else assert.equal(await p.verify(issuer), true);
    });
  });
}
