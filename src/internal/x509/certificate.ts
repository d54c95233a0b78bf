/**
 * X.509 certificates: a fast, typed, read-only view of a DER or PEM certificate (RFC 5280).
 *
 * {@link parseCertificate} checks the whole structure eagerly (a malformed certificate fails at once, with the
 * field path and byte offset of the break) but decodes lazily what only some callers read: extension values
 * are decoded on first access, the public key object and fingerprints are computed on demand and cached.
 *
 * @module internal/x509/certificate
 */

import { sha1 } from '@noble/hashes/legacy';
import { sha256 } from '@noble/hashes/sha2';
import { integerAtLeast } from '../assert.js';
import { copyBytes, toHex } from '../encoding/bytes.js';
import {
  DerReader,
  decodeBitString,
  decodeSmallInt,
  decodeTime,
  derErrorParts,
  derFail,
  rawOf,
  readNode,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { AccessMethodOID, ExtensionOID } from '../encoding/oids.js';
import { decodePEM } from '../encoding/pem.js';
import { CertificateError, DERError, MailTlsError } from '../errors.js';
import { type ForeignCertificate, foreignCertificateDER } from '../foreign.js';
import { type KeyFingerprint, PublicKey } from '../keys/keys.js';
import { readSignatureAlgorithm, type SignatureAlgorithm } from '../keys/signature.js';
import { type PublicKeyInfo, spkiInfo } from '../keys/spki-info.js';
import {
  type BasicConstraintsJSON,
  type CertificateBasicConstraints,
  ExtensionView,
  type GeneralNameJSON,
  type PublicKeyJSON,
  type SignatureAlgorithmJSON,
} from './extension-view.js';
import {
  type AccessDescription,
  type AuthorityKeyIdentifier,
  type DistributionPoint,
  type Extension,
  type GeneralName,
  type GeneralSubtree,
  type KeyUsage,
  type NameConstraints,
  type PolicyInformation,
  readExtensions,
  serialHex,
  toJSONSafe,
} from './extensions.js';
import { type DistinguishedName, nameEquals, readName } from './name.js';

export type {
  ForeignCertificate,
  NodeX509CertificateObject,
  PeculiarCSRObject,
  PeculiarX509CertificateObject,
} from '../foreign.js';

export type { SignatureAlgorithm } from '../keys/signature.js';
export type { PublicKeyInfo } from '../keys/spki-info.js';
export type {
  BasicConstraintsJSON,
  CertificateBasicConstraints,
  GeneralNameJSON,
  PublicKeyJSON,
  SignatureAlgorithmJSON,
} from './extension-view.js';

/** Fingerprint algorithms of {@link Certificate.fingerprint}. */
export type FingerprintAlgorithm = 'sha256' | 'sha1';

/** Name constraints (RFC 5280 §4.2.1.10) with their criticality. */
export interface CertificateNameConstraints {
  /** Subtrees names below this CA must fall in. */
  readonly permitted: readonly GeneralSubtree[];
  /** Subtrees names below this CA must not fall in. */
  readonly excluded: readonly GeneralSubtree[];
  /** Whether the extension is marked critical (RFC 5280 requires it). */
  readonly critical: boolean;
}

/** The URIs of an authorityInfoAccess extension. */
export interface AuthorityInfoAccessURIs {
  /** Where the issuer's certificate can be downloaded (`caIssuers`). */
  readonly caIssuers: readonly string[];
  /** OCSP responder URLs. */
  readonly ocsp: readonly string[];
}

/**
 * A parsed X.509 certificate: an immutable, read-only view. Arrays are frozen; `Date` getters return fresh
 * objects; byte arrays are views of the certificate's own copy of the DER (do not modify them).
 *
 * Extension-derived fields come from well-formed extensions only: a malformed extension is listed in
 * {@link Certificate.extensions} with its `error` (and in {@link Certificate.problems}), and the fields it
 * would fill are absent/empty. In particular, when the subjectAltName extension is present but malformed,
 * {@link Certificate.subjectAltNames} is `undefined` and {@link Certificate.hasSubjectAltName} is still
 * `true`: a host-name matcher must then not fall back to the common name.
 */
export interface Certificate {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** The raw TBSCertificate bytes (what the issuer signed). */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: 1 | 2 | 3;
  /** Lower-case hex of the serial number's content octets, without a leading `00` byte. */
  readonly serialNumber: string;
  /** Whom the certificate is for. */
  readonly subject: DistinguishedName;
  /** Who issued (signed) the certificate. */
  readonly issuer: DistinguishedName;
  /** Start of the validity period. */
  readonly notBefore: Date;
  /** End of the validity period. */
  readonly notAfter: Date;
  /**
   * The public key, for RSA, EC P-256/P-384/P-521 and Ed25519 keys; `undefined` for other algorithms (DSA,
   * X25519, brainpool...) or a key that does not validate. {@link Certificate.publicKeyInfo} always says
   * what the key is.
   */
  readonly publicKey: PublicKey | undefined;
  /** Algorithm, size and curve of the key (also for algorithms mailtls does not support). */
  readonly publicKeyInfo: PublicKeyInfo;
  /** The DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The outer signatureAlgorithm. */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The signature bytes (BIT STRING contents). */
  readonly signatureValue: Uint8Array;
  /** Every SAN entry; `undefined` when there is no (well-formed) subjectAltName extension. */
  readonly subjectAltNames: readonly GeneralName[] | undefined;
  /** Whether the certificate has a subjectAltName extension (well-formed or not). */
  readonly hasSubjectAltName: boolean;
  /** SAN dNSName entries as written (e.g. `*.example.com`). */
  readonly dnsNames: readonly string[];
  /** SAN iPAddress entries in text form (`192.0.2.1`, `2001:db8::1`). */
  readonly ipAddresses: readonly string[];
  /** SAN rfc822Name entries. */
  readonly emailAddresses: readonly string[];
  /** SAN URI entries. */
  readonly uris: readonly string[];
  /** Basic constraints, when the extension is present and well formed. */
  readonly basicConstraints?: CertificateBasicConstraints | undefined;
  /** Key usage bits, when the extension is present and well formed. */
  readonly keyUsage?: readonly KeyUsage[] | undefined;
  /** Purposes by short name (`serverAuth`, `clientAuth`, `emailProtection`, ...) or dotted OID. */
  readonly extendedKeyUsage?: readonly string[] | undefined;
  /** Subject key identifier, lower-case hex. */
  readonly subjectKeyIdentifier?: string | undefined;
  /** Authority key identifier (hex key id, or issuer name and serial of the issuer's issuer). */
  readonly authorityKeyIdentifier?: AuthorityKeyIdentifier | undefined;
  /** URIs of the authorityInfoAccess extension (empty lists when absent). */
  readonly authorityInfoAccess: AuthorityInfoAccessURIs;
  /** URIs of the CRL distribution points' full names. */
  readonly crlDistributionPoints: readonly string[];
  /** Dotted OIDs of the certificate policies. */
  readonly certificatePolicies: readonly string[];
  /** Name constraints of a CA, when the extension is present and well formed. */
  readonly nameConstraints?: CertificateNameConstraints | undefined;
  /** Every extension in certificate order: unknown and malformed ones included. */
  readonly extensions: readonly Extension[];
  /** Subject equals issuer (RFC 5280 §7.1 name comparison). */
  readonly selfIssued: boolean;
  /**
   * Irregularities that did not stop parsing but that a validator should weigh: malformed or duplicate
   * extensions, unknown critical extensions, an inner signature algorithm that differs from the outer one,
   * extensions in a v1/v2 certificate, a serial number longer than 20 octets or not positive, a public key
   * that does not validate. Empty for a clean certificate.
   */
  readonly problems: readonly string[];
  /** The extension with this OID or short name (`subjectAltName`, `2.5.29.17`), if present. */
  getExtension(oidOrName: string): Extension | undefined;
  /**
   * Fingerprint of the DER certificate as upper-case hex bytes joined by colons, as
   * `openssl x509 -fingerprint -sha256` and Node's `X509Certificate.fingerprint256` print it. Cached.
   */
  fingerprint(algorithm: FingerprintAlgorithm): string;
  /**
   * SHA-256 of the SubjectPublicKeyInfo: lower-case hex (DANE TLSA `3 1 1` data) and base64 (HPKP-style pin).
   */
  spkiFingerprint(): Readonly<KeyFingerprint>;
  /** A JSON-safe plain object of every field (see `describeCertificate(cert, { format: 'json' })`). */
  toJSON(): CertificateJSON;
}

/** The JSON view of a certificate (all values JSON-safe). */
export interface CertificateJSON {
  /** 1, 2 or 3. */
  version: number;
  /** Lower-case hex. */
  serialNumber: string;
  /** RFC 4514 string. */
  subject: string;
  /** RFC 4514 string. */
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  /** ISO 8601. */
  notAfter: string;
  /** The key. */
  publicKey: PublicKeyJSON;
  /** The outer signature algorithm. */
  signatureAlgorithm: SignatureAlgorithmJSON;
  /** Every SAN entry. */
  subjectAltNames: GeneralNameJSON[];
  /** Basic constraints, when present. */
  basicConstraints?: BasicConstraintsJSON;
  /** Key usage bits, when present. */
  keyUsage?: string[];
  /** Extended key usages, when present. */
  extendedKeyUsage?: string[];
  /** Lower-case hex, when present. */
  subjectKeyIdentifier?: string;
  /** {@link AuthorityKeyIdentifier} with hex strings, when present. */
  authorityKeyIdentifier?: unknown;
  /** AIA URIs. */
  authorityInfoAccess: {
    /** Issuer certificate URLs. */
    caIssuers: string[];
    /** OCSP responder URLs. */
    ocsp: string[];
  };
  /** CRL distribution point URIs. */
  crlDistributionPoints: string[];
  /** Policy OIDs. */
  certificatePolicies: string[];
  /** {@link CertificateNameConstraints} with hex bytes, when present. */
  nameConstraints?: unknown;
  /** Every extension: `{ oid, name, critical, value (hex), parsed?, error? }`. */
  extensions: unknown[];
  /** Subject equals issuer. */
  selfIssued: boolean;
  /** Colon-separated upper-case hex fingerprints of the DER. */
  fingerprints: Record<FingerprintAlgorithm, string>;
  /** See {@link Certificate.problems}. */
  problems: string[];
}

/** Options of {@link parseCertificate}. */
export interface ParseCertificateOptions {
  /** Largest accepted DER size in bytes; default 1 MiB (real certificates are under 10 KiB). */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const CERT_LABELS = ['CERTIFICATE', 'X509 CERTIFICATE'];

function colonHex(bytes: Uint8Array): string {
  return toHex(bytes, ':').toUpperCase();
}

interface Parsed {
  der: Uint8Array;
  tbs: Uint8Array;
  version: 1 | 2 | 3;
  serialNumber: string;
  tbsSignatureAlgorithm: SignatureAlgorithm;
  issuer: DistinguishedName;
  notBefore: number;
  notAfter: number;
  subject: DistinguishedName;
  spki: Uint8Array;
  publicKeyInfo: PublicKeyInfo;
  extensions: readonly Extension[];
  signatureAlgorithm: SignatureAlgorithm;
  signatureValue: Uint8Array;
  problems: string[];
}

class CertificateView extends ExtensionView implements Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly version: 1 | 2 | 3;
  readonly serialNumber: string;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signatureValue: Uint8Array;
  readonly #notBefore: number;
  readonly #notAfter: number;
  readonly #structural: readonly string[];

  constructor(p: Parsed) {
    super(p.spki, p.publicKeyInfo, p.extensions);
    this.der = p.der;
    this.tbs = p.tbs;
    this.version = p.version;
    this.serialNumber = p.serialNumber;
    this.subject = p.subject;
    this.issuer = p.issuer;
    this.signatureAlgorithm = Object.freeze(p.signatureAlgorithm);
    this.signatureValue = p.signatureValue;
    this.#notBefore = p.notBefore;
    this.#notAfter = p.notAfter;
    this.#structural = p.problems;
    Object.freeze(this);
  }

  get notBefore(): Date {
    return new Date(this.#notBefore);
  }

  get notAfter(): Date {
    return new Date(this.#notAfter);
  }

  get subjectKeyIdentifier(): string | undefined {
    return this.parsedExtension<string>(ExtensionOID.subjectKeyIdentifier)?.value;
  }

  get authorityKeyIdentifier(): AuthorityKeyIdentifier | undefined {
    return this.memo('aki', () => {
      const p = this.parsedExtension<AuthorityKeyIdentifier>(ExtensionOID.authorityKeyIdentifier);
      return p === undefined ? undefined : Object.freeze(p.value);
    });
  }

  get authorityInfoAccess(): AuthorityInfoAccessURIs {
    return this.memo('aia', () => {
      const list = this.parsedExtension<AccessDescription[]>(ExtensionOID.authorityInfoAccess)?.value ?? [];
      const pick = (method: string) =>
        Object.freeze(
          list.filter((a) => a.method === method && a.location.type === 'uri').map((a) => a.location.value),
        );
      return Object.freeze({ caIssuers: pick(AccessMethodOID.caIssuers), ocsp: pick(AccessMethodOID.ocsp) });
    });
  }

  get crlDistributionPoints(): readonly string[] {
    return this.memo('crldp', () => {
      const list = this.parsedExtension<DistributionPoint[]>(ExtensionOID.crlDistributionPoints)?.value ?? [];
      const out: string[] = [];
      for (const dp of list) for (const n of dp.fullName ?? []) if (n.type === 'uri') out.push(n.value);
      return Object.freeze(out);
    });
  }

  get certificatePolicies(): readonly string[] {
    return this.memo('policies', () => {
      const list = this.parsedExtension<PolicyInformation[]>(ExtensionOID.certificatePolicies)?.value ?? [];
      return Object.freeze(list.map((p) => p.oid));
    });
  }

  get nameConstraints(): CertificateNameConstraints | undefined {
    return this.memo('nc', () => {
      const p = this.parsedExtension<NameConstraints>(ExtensionOID.nameConstraints);
      return p === undefined
        ? undefined
        : Object.freeze({
            permitted: Object.freeze([...p.value.permitted]),
            excluded: Object.freeze([...p.value.excluded]),
            critical: p.critical,
          });
    });
  }

  get selfIssued(): boolean {
    return this.memo('selfIssued', () => nameEquals(this.subject, this.issuer));
  }

  get problems(): readonly string[] {
    return this.memo('problems', () => {
      const out = [...this.#structural];
      for (const e of this.extensions) {
        if (e.error !== undefined) out.push(`extension ${e.name}: ${e.error}`);
        else if (e.critical && !e.known) out.push(`critical extension ${e.oid} is not understood by mailtls`);
      }
      if (this.publicKeyInfo.type !== 'other' && this.publicKey === undefined) {
        try {
          new PublicKey(this.spki);
        } catch (e) {
          if (e instanceof MailTlsError) out.push(`public key: ${e.message}`);
        }
      }
      return Object.freeze(out);
    });
  }

  fingerprint(algorithm: FingerprintAlgorithm): string {
    if (algorithm !== 'sha256' && algorithm !== 'sha1')
      throw new TypeError(`fingerprint algorithm must be 'sha256' or 'sha1', not ${String(algorithm)}`);
    return this.memo(`fp:${algorithm}`, () =>
      colonHex(algorithm === 'sha256' ? sha256(this.der) : sha1(this.der)),
    );
  }

  toJSON(): CertificateJSON {
    const ski = this.subjectKeyIdentifier;
    const aki = this.authorityKeyIdentifier;
    const nc = this.nameConstraints;
    const aia = this.authorityInfoAccess;
    return {
      version: this.version,
      serialNumber: this.serialNumber,
      subject: this.subject.toString(),
      issuer: this.issuer.toString(),
      notBefore: new Date(this.#notBefore).toISOString(),
      notAfter: new Date(this.#notAfter).toISOString(),
      ...this.keyAndExtensionsJSON(this.signatureAlgorithm),
      ...(ski === undefined ? {} : { subjectKeyIdentifier: ski }),
      ...(aki === undefined ? {} : { authorityKeyIdentifier: toJSONSafe(aki) }),
      authorityInfoAccess: { caIssuers: [...aia.caIssuers], ocsp: [...aia.ocsp] },
      crlDistributionPoints: [...this.crlDistributionPoints],
      certificatePolicies: [...this.certificatePolicies],
      ...(nc === undefined ? {} : { nameConstraints: toJSONSafe(nc) }),
      extensions: this.extensions.map((e) => e.toJSON()),
      selfIssued: this.selfIssued,
      fingerprints: { sha256: this.fingerprint('sha256'), sha1: this.fingerprint('sha1') },
      problems: [...this.problems],
    };
  }

  override toString(): string {
    return `Certificate(${this.subject.toString() || '<empty subject>'}, serial ${this.serialNumber})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Walks the certificate, recording in `at.path` which field is being read (for error messages). */
function readCertificate(der: Uint8Array, at: { path: string }): Parsed {
  const problems: string[] = [];
  at.path = 'Certificate';
  const root = readNode(der, 0);
  if (root.end !== der.length)
    throw new DERError(
      'ERR_DER_INVALID',
      `${der.length - root.end} bytes of trailing data after the certificate`,
      {
        details: { offset: root.end },
      },
    );
  if (root.tag !== Tag.SEQUENCE) derFail('a certificate must be a SEQUENCE', 0);
  const outer = new DerReader(der, root.valueStart, root.end);
  at.path = 'tbsCertificate';
  const tbsNode = outer.expect(Tag.SEQUENCE, 'tbsCertificate');
  at.path = 'signatureAlgorithm';
  const signatureAlgorithm = readSignatureAlgorithm(outer.expect(Tag.SEQUENCE, 'signatureAlgorithm'));
  at.path = 'signatureValue';
  const sigBits = decodeBitString(outer.expect(Tag.BIT_STRING, 'signatureValue'));
  if (sigBits.unusedBits !== 0) problems.push('the signature BIT STRING has unused bits');
  outer.done('Certificate');

  const t = new DerReader(der, tbsNode.valueStart, tbsNode.end);
  at.path = 'tbsCertificate.version';
  let version: 1 | 2 | 3 = 1;
  const v = t.optional(0xa0);
  if (v !== undefined) {
    const vr = new DerReader(der, v.valueStart, v.end);
    const n = decodeSmallInt(vr.expect(Tag.INTEGER, 'version'), 255);
    vr.done('version');
    if (n > 2) derFail(`unknown certificate version ${n + 1}`, v.start);
    version = (n + 1) as 1 | 2 | 3;
  }
  at.path = 'tbsCertificate.serialNumber';
  const serialNode = t.expect(Tag.INTEGER, 'serialNumber');
  const serialBytes = valueBytes(serialNode);
  if (serialBytes.length === 0) derFail('empty serial number', serialNode.start);
  if (
    serialBytes.length > 1 &&
    ((serialBytes[0] === 0 && (serialBytes[1]! & 0x80) === 0) ||
      (serialBytes[0] === 0xff && (serialBytes[1]! & 0x80) !== 0))
  )
    derFail('non-minimal serial number encoding', serialNode.start);
  if (serialBytes[0]! & 0x80)
    problems.push('the serial number is negative (RFC 5280 §4.1.2.2 requires a positive one)');
  const magnitude =
    serialBytes.length > 1 && serialBytes[0] === 0 ? serialBytes.length - 1 : serialBytes.length;
  if (magnitude > 20) problems.push(`the serial number has ${magnitude} octets (RFC 5280 allows at most 20)`);
  at.path = 'tbsCertificate.signature';
  const tbsSignatureAlgorithm = readSignatureAlgorithm(t.expect(Tag.SEQUENCE, 'signature'));
  if (!sameAlgorithm(tbsSignatureAlgorithm, signatureAlgorithm))
    problems.push(
      'the signature algorithm inside the certificate differs from the outer one (RFC 5280 §4.1.1.2)',
    );
  at.path = 'tbsCertificate.issuer';
  const issuer = readName(t.expect(Tag.SEQUENCE, 'issuer'));
  at.path = 'tbsCertificate.validity';
  const validity = t.expect(Tag.SEQUENCE, 'validity');
  const vr = new DerReader(der, validity.valueStart, validity.end);
  at.path = 'tbsCertificate.validity.notBefore';
  const notBefore = decodeTime(vr.next('notBefore')).getTime();
  at.path = 'tbsCertificate.validity.notAfter';
  const notAfter = decodeTime(vr.next('notAfter')).getTime();
  vr.done('validity');
  at.path = 'tbsCertificate.subject';
  const subject = readName(t.expect(Tag.SEQUENCE, 'subject'));
  at.path = 'tbsCertificate.subjectPublicKeyInfo';
  const spkiNode = t.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const spki = rawOf(spkiNode);
  const publicKeyInfo = spkiInfo(spki);
  at.path = 'tbsCertificate.issuerUniqueID';
  if (t.optional(0x81) !== undefined && version === 1) problems.push('issuerUniqueID in a v1 certificate');
  at.path = 'tbsCertificate.subjectUniqueID';
  if (t.optional(0x82) !== undefined && version === 1) problems.push('subjectUniqueID in a v1 certificate');
  at.path = 'tbsCertificate.extensions';
  let extensions: Extension[] = [];
  const ext = t.optional(0xa3);
  if (ext !== undefined) {
    const er = new DerReader(der, ext.valueStart, ext.end);
    const list = er.expect(Tag.SEQUENCE, 'extensions');
    er.done('extensions');
    extensions = readExtensions(list);
    if (version !== 3)
      problems.push(`extensions in a version ${version} certificate (only v3 may have them)`);
  }
  at.path = 'tbsCertificate';
  t.done('tbsCertificate');
  return {
    der,
    tbs: rawOf(tbsNode),
    version,
    serialNumber: serialHex(serialBytes),
    tbsSignatureAlgorithm,
    issuer,
    notBefore,
    notAfter,
    subject,
    spki,
    publicKeyInfo,
    extensions,
    signatureAlgorithm,
    signatureValue: sigBits.bytes,
    problems,
  };
}

function sameAlgorithm(a: SignatureAlgorithm, b: SignatureAlgorithm): boolean {
  if (a.oid !== b.oid) return false;
  const pa = a.params;
  const pb = b.params;
  if (pa === undefined || pb === undefined) return pa === pb;
  if (pa.length !== pb.length) return false;
  for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return false;
  return true;
}

/**
 * Turns a DER failure at `path` into `ERR_CERT_INVALID` (for parsers that embed certificates).
 *
 * @internal
 * @throws Never (returns the error).
 * @example
 * ```ts
 * throw invalidCertificate(derError, 'tbsCertificate.validity');
 * ```
 */
function invalidCertificate(e: DERError, path: string, what = 'certificate'): CertificateError {
  const { offset, detail } = derErrorParts(e);
  return new CertificateError(
    'ERR_CERT_INVALID',
    `The ${what} is malformed at ${path}${offset === undefined ? '' : ` (byte ${offset})`}: ${detail}. ` +
      'Check that the file holds a complete, unmodified X.509 certificate (PEM or DER).',
    { cause: e, details: { path, ...(offset === undefined ? {} : { offset }) } },
  );
}

/**
 * Parses DER bytes that are known to be one certificate (entry point of the bundle and PKCS#12 readers).
 *
 * @internal
 * @throws CertificateError `ERR_CERT_INVALID` as {@link parseCertificate}; RangeError for a bad `maxBytes`.
 * @example
 * ```ts
 * const cert = certificateFromDER(bagValue);
 * ```
 */
export function certificateFromDER(der: Uint8Array, options: ParseCertificateOptions = {}): Certificate {
  const max = integerAtLeast(options.maxBytes ?? DEFAULT_MAX_BYTES, 'maxBytes');
  if (der.length > max)
    throw new CertificateError(
      'ERR_CERT_INVALID',
      `The certificate is ${der.length} bytes, more than the limit of ${max}; this is not an ordinary certificate.`,
      { details: { size: der.length, maxBytes: max } },
    );
  const at = { path: 'Certificate' };
  try {
    return new CertificateView(readCertificate(copyBytes(der), at));
  } catch (e) {
    if (e instanceof DERError) throw invalidCertificate(e, at.path);
    throw e;
  }
}

/**
 * Parses one X.509 certificate, PEM (the first `CERTIFICATE` block of the text) or DER, into a read-only
 * {@link Certificate} view.
 *
 * @param input - PEM text, DER bytes, or node:crypto's or @peculiar/x509's `X509Certificate` (its DER is read
 *   as it is, not re-encoded).
 * @param options - Limits; see {@link ParseCertificateOptions}.
 * @throws CertificateError `ERR_CERT_INVALID` when the DER is malformed (the message and `details` give the
 *   field path, e.g. `tbsCertificate.validity.notAfter`, and the byte offset) or larger than `maxBytes`.
 * @throws PEMError `ERR_PEM_UNEXPECTED_LABEL` when the text holds PEM blocks but no certificate (e.g. a private
 *   key), `ERR_PEM_NO_BLOCK` when it holds no PEM at all, and the other PEM codes for broken armour.
 * @throws TypeError when `input` is none of those; RangeError for a bad `maxBytes`.
 * @example
 * ```ts
 * import { parseCertificate } from 'mailtls';
 * const cert = parseCertificate(await readFile('/etc/ssl/mail.pem', 'utf8'));
 * console.log(cert.subject.toString(), cert.dnsNames, cert.notAfter.toISOString());
 * console.log(cert.fingerprint('sha256')); // 'AB:CD:...'
 * ```
 */
export function parseCertificate(
  input: string | Uint8Array | ForeignCertificate,
  options: ParseCertificateOptions = {},
): Certificate {
  if (typeof input === 'string') return certificateFromDER(decodePEM(input, CERT_LABELS).bytes, options);
  if (input instanceof Uint8Array) return certificateFromDER(input, options);
  const foreign = foreignCertificateDER(input);
  if (foreign === undefined)
    throw new TypeError(
      'parseCertificate expects PEM text, DER bytes (Uint8Array) or an X509Certificate (node:crypto or @peculiar/x509)',
    );
  return certificateFromDER(foreign, options);
}

/**
 * Whether a value is a {@link Certificate} made by {@link parseCertificate} (or a bundle parser).
 *
 * @throws Never.
 * @example
 * ```ts
 * const cert = isCertificate(input) ? input : parseCertificate(input);
 * ```
 */
export function isCertificate(value: unknown): value is Certificate {
  return value instanceof CertificateView;
}
