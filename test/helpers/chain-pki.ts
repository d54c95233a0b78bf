/**
 * Certificates and CRLs for the chain tests, built with the package's DER encoders and signed with WebCrypto
 * (EC P-256 by default): roots, intermediates, cross-signed CAs (the same subject and key under another
 * issuer), expired alternates, decoys (an issuer's name with another key), leaves with any extension, and
 * CRLs. src/x509/issue.ts makes only the ordinary shapes; these tests need the odd ones too. Dates are fixed.
 */
import { sha1 } from '@noble/hashes/legacy';
import { encodePEM } from '../../src/encoding/pem.js';
import {
  DerReader,
  decodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeString,
  encodeTime,
  encodeTLV,
  parseDer,
  Tag,
} from '../../src/internal/encoding/der.js';
import { signatureAlgorithmOf, signStructure } from '../../src/internal/keys/sign.js';
import { generateKeyPair, type PrivateKey } from '../../src/keys/keys.js';
import { type Certificate, parseCertificate } from '../../src/x509/certificate.js';
import { parseDistinguishedName } from '../../src/x509/name.js';

/** Start of validity of the test certificates. */
export const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
/** End of validity of the test certificates. */
export const NOT_AFTER = new Date('2036-01-01T00:00:00Z');
/** A validation time inside the validity period. */
export const AT = new Date('2027-06-01T12:00:00Z');
/** End of validity of "expired" certificates (before {@link AT}). */
export const EXPIRED = new Date('2027-01-01T00:00:00Z');

/** A made certificate with its key. */
export interface Made {
  readonly cert: Certificate;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly key: PrivateKey;
}

/** A GeneralName for SANs and name constraints. */
export type NameSpec =
  | { dns: string }
  | { ip: readonly number[]; mask?: readonly number[] }
  | { email: string }
  | { uri: string }
  | { dn: string };

/** How to make a certificate; everything but `subject` has a default. */
export interface CertSpec {
  /** RFC 4514 subject, e.g. `CN=Test Root,O=mailtls tests`; `''` for an empty subject. */
  subject: string;
  /** The issuer; absent for a self-signed certificate. */
  issuer?: Made | undefined;
  /** The subject's key (default: a new EC P-256 key). */
  key?: PrivateKey | undefined;
  /** Sign with this key instead of the issuer's (a forged signature). */
  signWith?: PrivateKey | undefined;
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
  /** basicConstraints: `true` for CA:TRUE, a number for CA:TRUE with that pathlen, false for CA:FALSE, null to omit. */
  ca?: boolean | number | null | undefined;
  /** keyUsage bits (default: keyCertSign+cRLSign for a CA, digitalSignature for a leaf); null to omit. */
  keyUsage?: readonly number[] | null | undefined;
  /** extendedKeyUsage OIDs (default serverAuth for a leaf, none for a CA); null to omit. */
  eku?: readonly string[] | null | undefined;
  /** subjectAltName entries (default none). */
  san?: readonly NameSpec[] | undefined;
  /** Mark the subjectAltName critical. */
  sanCritical?: boolean | undefined;
  /** caIssuers URL of an authorityInfoAccess extension. */
  aia?: string | undefined;
  /** Subject key identifier bytes; default SHA-1 of the key; null to omit. */
  ski?: Uint8Array | null | undefined;
  /** Authority key identifier bytes; default the issuer's SKI; null to omit. */
  aki?: Uint8Array | null | undefined;
  nameConstraints?: { permitted?: readonly NameSpec[]; excluded?: readonly NameSpec[] } | undefined;
  /** Extra extensions as is. */
  extra?: readonly { oid: string; critical?: boolean; value: Uint8Array }[] | undefined;
  /** Serial number (default: a counter). */
  serial?: number | Uint8Array | undefined;
}

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  eku: '2.5.29.37',
  san: '2.5.29.17',
  ski: '2.5.29.14',
  aki: '2.5.29.35',
  nc: '2.5.29.30',
  aia: '1.3.6.1.5.5.7.1.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  crlNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
};

/** extendedKeyUsage purposes. */
export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  any: '2.5.29.37.0',
};

/** keyUsage bit numbers. */
export const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 };

let serialCounter = 1000;

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? encodeSequence(encodeOID(oid), encodeBoolean(true), encodeOctetString(value))
    : encodeSequence(encodeOID(oid), encodeOctetString(value));
}

function bits(list: readonly number[]): Uint8Array {
  if (list.length === 0) return encodeTLV(Tag.BIT_STRING, Uint8Array.of(0));
  const highest = Math.max(...list);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const b of list) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return encodeTLV(Tag.BIT_STRING, Uint8Array.of(7 - (highest & 7)), bytes);
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function generalName(n: NameSpec): Uint8Array {
  if ('dns' in n) return encodeImplicit(2, ascii(n.dns));
  if ('email' in n) return encodeImplicit(1, ascii(n.email));
  if ('uri' in n) return encodeImplicit(6, ascii(n.uri));
  if ('dn' in n) return encodeExplicit(4, parseDistinguishedName(n.dn).der);
  return encodeImplicit(7, Uint8Array.from([...n.ip, ...(n.mask ?? [])]));
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
export function keyId(spki: Uint8Array): Uint8Array {
  const r = DerReader.of(parseDer(spki));
  r.next();
  return sha1(decodeBitString(r.expect(Tag.BIT_STRING, 'key')).bytes);
}

/** A new EC P-256 key. */
export function newKey(): Promise<PrivateKey> {
  return generateKeyPair({ type: 'ec' });
}

/** Makes one certificate as `spec` says. */
export async function makeCert(spec: CertSpec): Promise<Made> {
  const key = spec.key ?? (await newKey());
  const issuerKey = spec.signWith ?? spec.issuer?.key ?? key;
  const subjectDER = parseDistinguishedName(spec.subject).der;
  const issuerDER = spec.issuer === undefined ? subjectDER : spec.issuer.cert.subject.der;
  const isCA = spec.ca === true || typeof spec.ca === 'number';
  const exts: Uint8Array[] = [];
  if (spec.ca !== null) {
    const ca = spec.ca ?? false;
    const bc =
      ca === false
        ? encodeSequence()
        : ca === true
          ? encodeSequence(encodeBoolean(true))
          : encodeSequence(encodeBoolean(true), encodeInteger(ca));
    exts.push(ext(OID.basicConstraints, true, bc));
  }
  if (spec.keyUsage !== null) {
    const ku = spec.keyUsage ?? (isCA ? [KU.keyCertSign, KU.cRLSign] : [KU.digitalSignature]);
    exts.push(ext(OID.keyUsage, true, bits(ku)));
  }
  const eku = spec.eku === undefined ? (isCA ? null : [EKU.serverAuth]) : spec.eku;
  if (eku !== null) exts.push(ext(OID.eku, false, encodeSequence(...eku.map((o) => encodeOID(o)))));
  const ski = spec.ski === undefined ? keyId(key.publicKey.spki) : spec.ski;
  if (ski !== null) exts.push(ext(OID.ski, false, encodeOctetString(ski)));
  const aki =
    spec.aki === undefined
      ? spec.issuer === undefined
        ? ski
        : spec.issuer.cert.subjectKeyIdentifier === undefined
          ? keyId(spec.issuer.key.publicKey.spki)
          : Uint8Array.from(Buffer.from(spec.issuer.cert.subjectKeyIdentifier, 'hex'))
      : spec.aki;
  if (aki !== null) exts.push(ext(OID.aki, false, encodeSequence(encodeImplicit(0, aki))));
  if (spec.san !== undefined && spec.san.length > 0)
    exts.push(ext(OID.san, spec.sanCritical === true, encodeSequence(...spec.san.map(generalName))));
  if (spec.aia !== undefined)
    exts.push(
      ext(
        OID.aia,
        false,
        encodeSequence(encodeSequence(encodeOID(OID.caIssuers), encodeImplicit(6, ascii(spec.aia)))),
      ),
    );
  if (spec.nameConstraints !== undefined) {
    const subtrees = (list: readonly NameSpec[]) => list.map((n) => encodeSequence(generalName(n)));
    const parts: Uint8Array[] = [];
    if (spec.nameConstraints.permitted !== undefined)
      parts.push(encodeExplicit(0, ...subtrees(spec.nameConstraints.permitted)));
    if (spec.nameConstraints.excluded !== undefined)
      parts.push(encodeExplicit(1, ...subtrees(spec.nameConstraints.excluded)));
    exts.push(ext(OID.nc, true, encodeSequence(...parts)));
  }
  for (const e of spec.extra ?? []) exts.push(ext(e.oid, e.critical === true, e.value));
  const serial = spec.serial ?? ++serialCounter;
  const tbs = encodeSequence(
    encodeExplicit(0, encodeInteger(2)),
    encodeInteger(serial),
    signatureAlgorithmOf(issuerKey),
    issuerDER,
    encodeSequence(encodeTime(spec.notBefore ?? NOT_BEFORE), encodeTime(spec.notAfter ?? NOT_AFTER)),
    subjectDER,
    key.publicKey.spki,
    ...(exts.length === 0 ? [] : [encodeExplicit(3, encodeSequence(...exts))]),
  );
  const der = await signStructure(tbs, issuerKey, {});
  return { cert: parseCertificate(der), der, pem: encodePEM('CERTIFICATE', der), key };
}

/** A self-signed root CA. */
export function makeRoot(name: string, extra: Partial<CertSpec> = {}): Promise<Made> {
  return makeCert({ subject: `CN=${name},O=mailtls chain tests`, ca: true, ...extra });
}

/** An intermediate CA signed by `issuer`. */
export function makeIntermediate(name: string, issuer: Made, extra: Partial<CertSpec> = {}): Promise<Made> {
  return makeCert({ subject: `CN=${name},O=mailtls chain tests`, issuer, ca: true, ...extra });
}

/** A server leaf for `host` signed by `issuer`. */
export function makeLeaf(host: string, issuer: Made, extra: Partial<CertSpec> = {}): Promise<Made> {
  return makeCert({ subject: `CN=${host}`, issuer, san: [{ dns: host }], ...extra });
}

/** One revoked entry of {@link makeCRL}. */
export interface RevokedSpec {
  serial: string;
  date?: Date;
  reason?: number;
}

/** A CRL signed by `issuer` (CRLNumber 1, non-critical, unless told otherwise). */
export async function makeCRL(
  issuer: Made,
  revoked: readonly RevokedSpec[],
  options: {
    thisUpdate?: Date;
    nextUpdate?: Date;
    crlNumber?: 'normal' | 'critical' | 'missing';
    signWith?: PrivateKey;
  } = {},
): Promise<{ der: Uint8Array; pem: string }> {
  const signer = options.signWith ?? issuer.key;
  const entries = revoked.map((r) =>
    encodeSequence(
      encodeInteger(Uint8Array.from(Buffer.from(r.serial, 'hex'))),
      encodeTime(r.date ?? new Date('2027-02-01T00:00:00Z')),
      ...(r.reason === undefined
        ? []
        : [encodeSequence(ext(OID.reasonCode, false, encodeTLV(Tag.ENUMERATED, Uint8Array.of(r.reason))))]),
    ),
  );
  const exts: Uint8Array[] = [];
  const mode = options.crlNumber ?? 'normal';
  if (mode !== 'missing') exts.push(ext(OID.crlNumber, mode === 'critical', encodeInteger(1)));
  const tbs = encodeSequence(
    encodeInteger(1),
    signatureAlgorithmOf(signer),
    issuer.cert.subject.der,
    encodeTime(options.thisUpdate ?? new Date('2027-03-01T00:00:00Z')),
    encodeTime(options.nextUpdate ?? new Date('2027-09-01T00:00:00Z')),
    ...(entries.length === 0 ? [] : [encodeSequence(...entries)]),
    ...(exts.length === 0 ? [] : [encodeExplicit(0, encodeSequence(...exts))]),
  );
  const der = await signStructure(tbs, signer, {});
  return { der, pem: encodePEM('X509 CRL', der) };
}

/** An extension value helper: a UTF8String (for unknown extensions). */
export function utf8Value(text: string): Uint8Array {
  return encodeString(Tag.UTF8_STRING, text);
}
