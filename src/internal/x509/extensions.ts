/**
 * X.509 v3 extensions (RFC 5280 §4.2 and friends): decoding of the extensions a mail server administrator
 * and a chain validator need, plus general names and their text forms.
 *
 * Decoding never throws for a malformed extension value: an {@link Extension} records `error` instead, so that
 * unknown and broken non-critical extensions are shown, not fatal. A chain validator must reject a
 * certificate whose critical extension is unknown or has an `error`.
 *
 * @module internal/x509/extensions
 */

import { toHex } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeBitFlags,
  decodeBoolean,
  decodeOID,
  decodeOIDBytes,
  decodeSmallInt,
  decodeString,
  decodeTime,
  derFail,
  encodeTLV,
  parseDer,
  rawOf,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { ExtensionOID, OtherNameOID, oidInfo, oidShortName } from '../encoding/oids.js';
import { MailTlsError } from '../errors.js';
import { formatIPAddress } from '../names/ip-address.js';
import { type DistinguishedName, formatNameSlashes, readName } from './name.js';

// ---- general names ----

/**
 * A GeneralName (RFC 5280 §4.2.1.6). Every variant has a `type` and a text `value`:
 * - `dns`, `email`, `uri`: the IA5String text;
 * - `ip`: the address in text (`192.0.2.1`, RFC 5952 `2001:db8::1`); in name constraints `value` is
 *   `address/mask` (e.g. `10.0.0.0/255.0.0.0`) and `mask` holds the mask bytes; `bytes` is the address;
 * - `directoryName`: the RFC 4514 string, with the parsed `name`;
 * - `otherName`: `oid` plus the text of the value for SmtpUTF8Mailbox (RFC 8398) and Microsoft UPN, `#hex`
 *   of the DER value otherwise;
 * - `registeredID`: the dotted OID;
 * - `x400Address`, `ediPartyName`: `#hex` of the DER.
 */
export type GeneralName =
  | TextGeneralName
  | IPGeneralName
  | DirectoryGeneralName
  | OtherGeneralName
  | RegisteredIDGeneralName
  | OpaqueGeneralName;

/** A dNSName, rfc822Name or uniformResourceIdentifier. */
export interface TextGeneralName {
  /** `dns`, `email` or `uri`. */
  readonly type: 'dns' | 'email' | 'uri';
  /** The IA5String text as written (e.g. `*.example.com`). */
  readonly value: string;
}

/** An iPAddress (SAN) or an address/mask range (name constraints). */
export interface IPGeneralName {
  /** `ip`. */
  readonly type: 'ip';
  /** `192.0.2.1`, `2001:db8::1`; in name constraints `10.0.0.0/255.0.0.0`. */
  readonly value: string;
  /** The address bytes (4 or 16). */
  readonly bytes: Uint8Array;
  /** The mask bytes, in name constraints only. */
  readonly mask?: Uint8Array;
}

/** A directoryName. */
export interface DirectoryGeneralName {
  /** `directoryName`. */
  readonly type: 'directoryName';
  /** The RFC 4514 string. */
  readonly value: string;
  /** The parsed name. */
  readonly name: DistinguishedName;
}

/** An otherName (SmtpUTF8Mailbox of RFC 8398, Microsoft UPN, ...). */
export interface OtherGeneralName {
  /** `otherName`. */
  readonly type: 'otherName';
  /** The text of SmtpUTF8Mailbox and UPN values; `#hex` of the DER value for other types. */
  readonly value: string;
  /** Dotted OID of the type-id. */
  readonly oid: string;
  /** DER of the value. */
  readonly der: Uint8Array;
}

/** A registeredID. */
export interface RegisteredIDGeneralName {
  /** `registeredID`. */
  readonly type: 'registeredID';
  /** The dotted OID. */
  readonly value: string;
}

/** An x400Address or ediPartyName, kept as DER. */
export interface OpaqueGeneralName {
  /** `x400Address` or `ediPartyName`. */
  readonly type: 'x400Address' | 'ediPartyName';
  /** `#hex` of the DER. */
  readonly value: string;
  /** The DER of the whole name. */
  readonly der: Uint8Array;
}

/** The type names of {@link GeneralName}. */
export type GeneralNameType = GeneralName['type'];

function ia5(node: DerNode, what: string): string {
  const v = valueBytes(node);
  let s = '';
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b > 0x7f) derFail(`${what} must be ASCII (IA5String)`, node.valueStart + i);
    s += String.fromCharCode(b);
  }
  return s;
}

/** IPv4/IPv6 text of 4 or 16 bytes (RFC 5952 for IPv6); `#hex` for other lengths. */
function formatIP(b: Uint8Array): string {
  return b.length === 4 || b.length === 16 ? formatIPAddress(b) : `#${toHex(b)}`;
}

/**
 * Reads one GeneralName node (RFC 5280 §4.2.1.6). `constraint` selects the address/mask form of iPAddress
 * used in name constraints.
 *
 * @internal
 * @throws DERError `ERR_DER_INVALID` for a malformed name (bad IP length, non-ASCII IA5String, unknown choice).
 * @example
 * ```ts
 * readGeneralName(parseDer(Uint8Array.of(0x82, 0x01, 0x61))); // { type: 'dns', value: 'a' }
 * ```
 */
function readGeneralName(node: DerNode, constraint = false): GeneralName {
  switch (node.tag) {
    case 0x81:
      return { type: 'email', value: ia5(node, 'rfc822Name') };
    case 0x82:
      return { type: 'dns', value: ia5(node, 'dNSName') };
    case 0x86:
      return { type: 'uri', value: ia5(node, 'uniformResourceIdentifier') };
    case 0x87: {
      const v = valueBytes(node);
      if (constraint) {
        if (v.length !== 8 && v.length !== 32)
          derFail('an iPAddress name constraint must be 8 (IPv4) or 32 (IPv6) bytes', node.start);
        const half = v.length / 2;
        const bytes = v.subarray(0, half);
        const mask = v.subarray(half);
        return { type: 'ip', value: `${formatIP(bytes)}/${formatIP(mask)}`, bytes, mask };
      }
      if (v.length !== 4 && v.length !== 16)
        derFail('an iPAddress must be 4 (IPv4) or 16 (IPv6) bytes', node.start);
      return { type: 'ip', value: formatIP(v), bytes: v };
    }
    case 0x88: {
      // registeredID [8] IMPLICIT OBJECT IDENTIFIER
      return { type: 'registeredID', value: decodeOIDBytes(valueBytes(node), node.valueStart) };
    }
    case 0xa0: {
      const r = DerReader.of(node, 'otherName');
      const oid = decodeOID(r.expect(Tag.OID, 'otherName type-id'));
      const wrapped = r.expect(0xa0, 'otherName value');
      r.done('otherName');
      const inner = DerReader.of(wrapped, 'otherName value');
      const valueNode = inner.next('otherName value');
      inner.done('otherName value');
      let value = `#${toHex(rawOf(valueNode))}`;
      if (
        (oid === OtherNameOID.smtpUTF8Mailbox && valueNode.tag === Tag.UTF8_STRING) ||
        (oid === OtherNameOID.userPrincipalName && valueNode.tag === Tag.UTF8_STRING)
      )
        value = decodeString(valueNode);
      return { type: 'otherName', oid, value, der: rawOf(valueNode) };
    }
    case 0xa4: {
      const r = DerReader.of(node, 'directoryName');
      const name = readName(r.expect(Tag.SEQUENCE, 'directoryName'));
      r.done('directoryName');
      return { type: 'directoryName', value: name.toString(), name };
    }
    case 0xa3:
      return { type: 'x400Address', value: `#${toHex(rawOf(node))}`, der: rawOf(node) };
    case 0xa5:
      return { type: 'ediPartyName', value: `#${toHex(rawOf(node))}`, der: rawOf(node) };
    default:
      return derFail(`unknown GeneralName choice 0x${node.tag.toString(16)}`, node.start);
  }
}

/**
 * Reads a `GeneralNames` SEQUENCE (at least one name, RFC 5280).
 *
 * @internal
 * @throws DERError `ERR_DER_INVALID` when the sequence or a name in it is malformed, or when it is empty.
 * @example
 * ```ts
 * readGeneralNames(parseDer(sanExtensionValue)); // [{ type: 'dns', value: 'mail.example.com' }, ...]
 * ```
 */
function readGeneralNames(node: DerNode, what = 'GeneralNames'): GeneralName[] {
  if (node.tag !== Tag.SEQUENCE) derFail(`${what} must be a SEQUENCE`, node.start);
  return readImplicitGeneralNames(node, what);
}

/** The names of a GeneralNames whose tag was already checked (or is an IMPLICIT context tag). */
function readImplicitGeneralNames(node: DerNode, what: string): GeneralName[] {
  const r = DerReader.of(node, what);
  const out: GeneralName[] = [];
  while (!r.atEnd) out.push(readGeneralName(r.next()));
  if (out.length === 0) derFail(`${what} must not be empty`, node.start);
  return out;
}

/**
 * Formats a general name as `openssl x509 -text` does: `DNS:mail.example.com`, `IP Address:192.0.2.1`,
 * `email:postmaster@example.com`, `URI:https://...`, `DirName:/C=US/O=Example`,
 * `othername: SmtpUTF8Mailbox:...`, `Registered ID:1.2.3.4`. Name-constraint addresses print as
 * `IP:10.0.0.0/255.0.0.0`.
 *
 * @throws Never (unknown variants print as their `type:value`).
 * @example
 * ```ts
 * cert.subjectAltNames?.map(formatGeneralName).join(', '); // 'DNS:mail.example.com, IP Address:192.0.2.1'
 * ```
 */
export function formatGeneralName(name: GeneralName): string {
  switch (name.type) {
    case 'dns':
      return `DNS:${name.value}`;
    case 'email':
      return `email:${name.value}`;
    case 'uri':
      return `URI:${name.value}`;
    case 'ip':
      return name.mask === undefined ? `IP Address:${name.value}` : `IP:${name.value}`;
    case 'directoryName':
      return `DirName:${formatNameSlashes(name.name)}`;
    case 'otherName':
      return `othername: ${oidShortName(name.oid)}:${name.value}`;
    case 'registeredID':
      return `Registered ID:${name.value}`;
    case 'x400Address':
      return `X400Name:${name.value}`;
    case 'ediPartyName':
      return `EdiPartyName:${name.value}`;
    default:
      return String((name as { value?: unknown }).value);
  }
}

// ---- decoded extension values ----

/** Names of the key usage bits, in bit order (RFC 5280 §4.2.1.3). */
export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** One key usage bit; `nonRepudiation` is also called `contentCommitment`. */
export type KeyUsage = (typeof KEY_USAGES)[number];

/** Basic constraints (RFC 5280 §4.2.1.9). */
export interface BasicConstraints {
  /** Whether the subject is a CA. */
  readonly ca: boolean;
  /** Most intermediate CAs allowed below this one (absent: no limit). */
  readonly pathLength?: number;
}

/** Authority key identifier (RFC 5280 §4.2.1.1); hex is lower case without separators. */
export interface AuthorityKeyIdentifier {
  /** The issuer's subject key identifier, hex. */
  readonly keyIdentifier?: string;
  /** The name of the issuer's issuer. */
  readonly issuer?: readonly GeneralName[];
  /** The issuer's serial number, hex. */
  readonly serialNumber?: string;
}

/** One AccessDescription of AIA/SIA. */
export interface AccessDescription {
  /** Dotted OID of the access method. */
  readonly method: string;
  /** `OCSP`, `caIssuers`, `caRepository`, ... or the OID. */
  readonly methodName: string;
  /** Where (usually a URI). */
  readonly location: GeneralName;
}

/** One CRL distribution point (RFC 5280 §4.2.1.13). */
export interface DistributionPoint {
  /** Where the CRL is (usually URIs). */
  readonly fullName?: readonly GeneralName[];
  /** RFC 4514 text of nameRelativeToCRLIssuer. */
  readonly relativeName?: string;
  /** The revocation reasons this CRL covers (`keyCompromise`, ...), when limited. */
  readonly reasons?: readonly string[];
  /** Who issues the CRL, when not the certificate issuer. */
  readonly crlIssuer?: readonly GeneralName[];
}

/** The user notice of a policy qualifier. */
export interface UserNotice {
  /** The organization of the notice reference. */
  readonly organization?: string;
  /** The notice numbers of the notice reference. */
  readonly noticeNumbers?: readonly number[];
  /** The text to show. */
  readonly explicitText?: string;
}

/** One policy qualifier (CPS pointer or user notice). */
export interface PolicyQualifier {
  /** Dotted OID of the qualifier type. */
  readonly oid: string;
  /** The CPS URI (id-qt-cps). */
  readonly cps?: string;
  /** The user notice (id-qt-unotice). */
  readonly userNotice?: UserNotice;
}

/** One PolicyInformation of certificatePolicies. */
export interface PolicyInformation {
  /** Dotted OID of the policy. */
  readonly oid: string;
  /** Its qualifiers (often none). */
  readonly qualifiers: readonly PolicyQualifier[];
}

/** One GeneralSubtree of name constraints. */
export interface GeneralSubtree {
  /** The name (DNS suffix, IP range, e-mail, URI host, directory name...). */
  readonly base: GeneralName;
  /** Always 0 in practice (RFC 5280). */
  readonly minimum: number;
  /** Unused in practice (RFC 5280 forbids it). */
  readonly maximum?: number;
}

/** Name constraints (RFC 5280 §4.2.1.10). */
export interface NameConstraints {
  /** Subtrees names must fall in. */
  readonly permitted: readonly GeneralSubtree[];
  /** Subtrees names must not fall in. */
  readonly excluded: readonly GeneralSubtree[];
}

/** Policy constraints (RFC 5280 §4.2.1.11). */
export interface PolicyConstraints {
  /** Certificates after which an explicit policy is required. */
  readonly requireExplicitPolicy?: number;
  /** Certificates after which policy mapping is no longer allowed. */
  readonly inhibitPolicyMapping?: number;
}

/** One signed certificate timestamp (RFC 6962) as embedded in a certificate. */
export interface SignedCertificateTimestamp {
  /** 0 for v1. */
  readonly version: number;
  /** Log ID, lower-case hex (SHA-256 of the log's key). */
  readonly logId: string;
  /** When the log promised to include the certificate. */
  readonly timestamp: Date;
  /** TLS hash algorithm code (4 = SHA-256). */
  readonly hashAlgorithm: number;
  /** TLS signature algorithm code (1 = RSA, 3 = ECDSA). */
  readonly signatureAlgorithm: number;
}

/** The result of {@link decodeExtensionValue}. */
export interface DecodedExtensionValue {
  /** The decoded value, for a known and well-formed extension. */
  parsed?: unknown;
  /** Why a known extension could not be decoded. */
  error?: string;
}

/** One certificate extension. */
export interface Extension {
  /** Dotted OID. */
  readonly oid: string;
  /** OpenSSL short name (`subjectAltName`, `keyUsage`, ...) or the OID when unknown. */
  readonly name: string;
  /** Whether the extension is marked critical. */
  readonly critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  readonly value: Uint8Array;
  /** The decoded value for known extensions (see the interfaces of this module); absent when unknown or broken. */
  readonly parsed?: unknown;
  /** Why decoding failed, for a known extension whose value is malformed (or a duplicate). */
  readonly error?: string | undefined;
  /** Whether this package knows how to decode this extension. */
  readonly known: boolean;
  /** JSON-safe view: oid, name, critical, value (hex), parsed, error. */
  toJSON(): Record<string, unknown>;
}

const REASONS = [
  'unused',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

const NETSCAPE_CERT_TYPES = [
  'SSL Client',
  'SSL Server',
  'S/MIME',
  'Object Signing',
  'Unused',
  'SSL CA',
  'S/MIME CA',
  'Object Signing CA',
];

function seq(value: Uint8Array, what: string): DerReader {
  const node = parseDer(value);
  if (node.tag !== Tag.SEQUENCE) derFail(`${what} must be a SEQUENCE`, node.start);
  return DerReader.of(node, what);
}

function decodeBasicConstraints(value: Uint8Array): BasicConstraints {
  const r = seq(value, 'basicConstraints');
  const caNode = r.optional(Tag.BOOLEAN);
  const ca = caNode === undefined ? false : decodeBoolean(caNode);
  const pl = r.optional(Tag.INTEGER);
  r.done('basicConstraints');
  return pl === undefined ? { ca } : { ca, pathLength: decodeSmallInt(pl, 0x7fffffff) };
}

function decodeKeyUsage(value: Uint8Array): KeyUsage[] {
  const node = parseDer(value);
  const bits = decodeBitFlags(node);
  const out: KeyUsage[] = [];
  for (const b of bits) {
    const name = KEY_USAGES[b];
    if (name !== undefined) out.push(name);
  }
  return out;
}

function decodeEKU(value: Uint8Array): string[] {
  const r = seq(value, 'extendedKeyUsage');
  const out: string[] = [];
  while (!r.atEnd) {
    const oid = decodeOID(r.expect(Tag.OID, 'KeyPurposeId'));
    out.push(oidInfo(oid)?.short ?? oid);
  }
  if (out.length === 0) derFail('extendedKeyUsage must not be empty', 0);
  return out;
}

function decodeOctetStringHex(value: Uint8Array, what: string): string {
  const node = parseDer(value);
  if (node.tag !== Tag.OCTET_STRING) derFail(`${what} must be an OCTET STRING`, node.start);
  return toHex(valueBytes(node));
}

function decodeAKI(value: Uint8Array): AuthorityKeyIdentifier {
  const r = seq(value, 'authorityKeyIdentifier');
  const out: { keyIdentifier?: string; issuer?: GeneralName[]; serialNumber?: string } = {};
  const kid = r.optional(0x80);
  if (kid !== undefined) out.keyIdentifier = toHex(valueBytes(kid));
  const iss = r.optional(0xa1);
  if (iss !== undefined) out.issuer = readImplicitGeneralNames(iss, 'authorityCertIssuer');
  const sn = r.optional(0x82);
  if (sn !== undefined) {
    const v = valueBytes(sn);
    if (v.length === 0) derFail('empty authorityCertSerialNumber', sn.start);
    out.serialNumber = serialHex(v);
  }
  r.done('authorityKeyIdentifier');
  if ((out.issuer === undefined) !== (out.serialNumber === undefined))
    derFail('authorityCertIssuer and authorityCertSerialNumber must be both present or both absent', 0);
  return out;
}

/**
 * Lower-case hex of an INTEGER's content octets without a leading zero byte (the serial-number form of
 * `Certificate.serialNumber`).
 *
 * @internal
 * @throws Never.
 * @example
 * ```ts
 * serialHex(Uint8Array.of(0x00, 0xff)); // 'ff'
 * ```
 */
export function serialHex(v: Uint8Array): string {
  return toHex(v.length > 1 && v[0] === 0 ? v.subarray(1) : v);
}

function decodeAccess(value: Uint8Array, what: string): AccessDescription[] {
  const r = seq(value, what);
  const out: AccessDescription[] = [];
  while (!r.atEnd) {
    const ad = DerReader.of(r.expect(Tag.SEQUENCE, 'AccessDescription'), 'AccessDescription');
    const method = decodeOID(ad.expect(Tag.OID, 'accessMethod'));
    const location = readGeneralName(ad.next('accessLocation'));
    ad.done('AccessDescription');
    out.push({ method, methodName: oidShortName(method), location });
  }
  if (out.length === 0) derFail(`${what} must not be empty`, 0);
  return out;
}

function decodeCRLDP(value: Uint8Array): DistributionPoint[] {
  const r = seq(value, 'cRLDistributionPoints');
  const out: DistributionPoint[] = [];
  while (!r.atEnd) {
    const dp = DerReader.of(r.expect(Tag.SEQUENCE, 'DistributionPoint'), 'DistributionPoint');
    const point: {
      fullName?: GeneralName[];
      relativeName?: string;
      reasons?: string[];
      crlIssuer?: GeneralName[];
    } = {};
    const name = dp.optional(0xa0);
    if (name !== undefined) {
      const nr = DerReader.of(name, 'distributionPoint');
      const choice = nr.next('DistributionPointName');
      nr.done('distributionPoint');
      if (choice.tag === 0xa0) point.fullName = readImplicitGeneralNames(choice, 'fullName');
      else if (choice.tag === 0xa1) {
        // nameRelativeToCRLIssuer [1] IMPLICIT RelativeDistinguishedName (a SET): re-wrap as a Name.
        const wrapped = encodeTLV(Tag.SEQUENCE, encodeTLV(Tag.SET, valueBytes(choice)));
        point.relativeName = readName(parseDer(wrapped)).toString();
      } else derFail('unknown DistributionPointName choice', choice.start);
    }
    const reasons = dp.optional(0x81);
    if (reasons !== undefined) {
      const bits = decodeBitFlags({ ...reasons, tag: Tag.BIT_STRING });
      point.reasons = bits.map((b) => REASONS[b] ?? `bit${b}`);
    }
    const issuer = dp.optional(0xa2);
    if (issuer !== undefined) point.crlIssuer = readImplicitGeneralNames(issuer, 'cRLIssuer');
    dp.done('DistributionPoint');
    if (point.fullName === undefined && point.relativeName === undefined && point.crlIssuer === undefined)
      derFail('a DistributionPoint needs a distributionPoint or a cRLIssuer', 0);
    out.push(point);
  }
  if (out.length === 0) derFail('cRLDistributionPoints must not be empty', 0);
  return out;
}

function decodeDisplayText(node: DerNode): string {
  if (
    node.tag !== Tag.UTF8_STRING &&
    node.tag !== Tag.IA5_STRING &&
    node.tag !== Tag.VISIBLE_STRING &&
    node.tag !== Tag.BMP_STRING
  )
    derFail('DisplayText must be a UTF8String, IA5String, VisibleString or BMPString', node.start);
  return decodeString(node);
}

function decodePolicies(value: Uint8Array): PolicyInformation[] {
  const r = seq(value, 'certificatePolicies');
  const out: PolicyInformation[] = [];
  while (!r.atEnd) {
    const pi = DerReader.of(r.expect(Tag.SEQUENCE, 'PolicyInformation'), 'PolicyInformation');
    const oid = decodeOID(pi.expect(Tag.OID, 'policyIdentifier'));
    const qualifiers: PolicyQualifier[] = [];
    const qs = pi.optional(Tag.SEQUENCE);
    if (qs !== undefined) {
      const qr = DerReader.of(qs, 'policyQualifiers');
      while (!qr.atEnd) {
        const q = DerReader.of(qr.expect(Tag.SEQUENCE, 'PolicyQualifierInfo'), 'PolicyQualifierInfo');
        const qid = decodeOID(q.expect(Tag.OID, 'policyQualifierId'));
        const qv = q.next('qualifier');
        q.done('PolicyQualifierInfo');
        if (qid === '1.3.6.1.5.5.7.2.1' && qv.tag === Tag.IA5_STRING)
          qualifiers.push({ oid: qid, cps: ia5(qv, 'CPS URI') });
        else if (qid === '1.3.6.1.5.5.7.2.2' && qv.tag === Tag.SEQUENCE) {
          const un = DerReader.of(qv, 'UserNotice');
          const notice: { organization?: string; noticeNumbers?: number[]; explicitText?: string } = {};
          const ref = un.optional(Tag.SEQUENCE);
          if (ref !== undefined) {
            const rr = DerReader.of(ref, 'NoticeReference');
            notice.organization = decodeDisplayText(rr.next('organization'));
            const nums = DerReader.of(rr.expect(Tag.SEQUENCE, 'noticeNumbers'), 'noticeNumbers');
            notice.noticeNumbers = nums.rest().map((n) => decodeSmallInt(n));
            rr.done('NoticeReference');
          }
          const text = un.peek();
          if (text !== undefined) notice.explicitText = decodeDisplayText(un.next());
          un.done('UserNotice');
          qualifiers.push({ oid: qid, userNotice: notice });
        } else qualifiers.push({ oid: qid });
      }
    }
    pi.done('PolicyInformation');
    out.push({ oid, qualifiers });
  }
  if (out.length === 0) derFail('certificatePolicies must not be empty', 0);
  return out;
}

function decodeSubtrees(node: DerNode, what: string): GeneralSubtree[] {
  const r = DerReader.of(node, what);
  const out: GeneralSubtree[] = [];
  while (!r.atEnd) {
    const st = DerReader.of(r.expect(Tag.SEQUENCE, 'GeneralSubtree'), 'GeneralSubtree');
    const base = readGeneralName(st.next('base'), true);
    const min = st.optional(0x80);
    const max = st.optional(0x81);
    st.done('GeneralSubtree');
    const minimum = min === undefined ? 0 : decodeSmallInt({ ...min, tag: Tag.INTEGER }, 0x7fffffff);
    out.push(
      max === undefined
        ? { base, minimum }
        : { base, minimum, maximum: decodeSmallInt({ ...max, tag: Tag.INTEGER }, 0x7fffffff) },
    );
  }
  if (out.length === 0) derFail(`${what} must not be empty`, node.start);
  return out;
}

function decodeNameConstraints(value: Uint8Array): NameConstraints {
  const r = seq(value, 'nameConstraints');
  const p = r.optional(0xa0);
  const e = r.optional(0xa1);
  r.done('nameConstraints');
  if (p === undefined && e === undefined)
    derFail('nameConstraints must have permitted or excluded subtrees', 0);
  return {
    permitted: p === undefined ? [] : decodeSubtrees(p, 'permittedSubtrees'),
    excluded: e === undefined ? [] : decodeSubtrees(e, 'excludedSubtrees'),
  };
}

function decodePolicyConstraints(value: Uint8Array): PolicyConstraints {
  const r = seq(value, 'policyConstraints');
  const out: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } = {};
  const a = r.optional(0x80);
  if (a !== undefined) out.requireExplicitPolicy = decodeSmallInt({ ...a, tag: Tag.INTEGER }, 0x7fffffff);
  const b = r.optional(0x81);
  if (b !== undefined) out.inhibitPolicyMapping = decodeSmallInt({ ...b, tag: Tag.INTEGER }, 0x7fffffff);
  r.done('policyConstraints');
  if (a === undefined && b === undefined) derFail('policyConstraints must not be empty', 0);
  return out;
}

function decodePolicyMappings(
  value: Uint8Array,
): { issuerDomainPolicy: string; subjectDomainPolicy: string }[] {
  const r = seq(value, 'policyMappings');
  const out: { issuerDomainPolicy: string; subjectDomainPolicy: string }[] = [];
  while (!r.atEnd) {
    const m = DerReader.of(r.expect(Tag.SEQUENCE, 'PolicyMapping'), 'PolicyMapping');
    const issuerDomainPolicy = decodeOID(m.expect(Tag.OID, 'issuerDomainPolicy'));
    const subjectDomainPolicy = decodeOID(m.expect(Tag.OID, 'subjectDomainPolicy'));
    m.done('PolicyMapping');
    out.push({ issuerDomainPolicy, subjectDomainPolicy });
  }
  if (out.length === 0) derFail('policyMappings must not be empty', 0);
  return out;
}

function decodeTLSFeature(value: Uint8Array): (string | number)[] {
  const r = seq(value, 'tlsfeature');
  return r.rest().map((n) => {
    const v = decodeSmallInt(n, 65535);
    return v === 5 ? 'status_request' : v === 17 ? 'status_request_v2' : v;
  });
}

function decodeSCTs(value: Uint8Array): SignedCertificateTimestamp[] {
  const node = parseDer(value);
  if (node.tag !== Tag.OCTET_STRING) derFail('the SCT list must be an OCTET STRING', node.start);
  const b = valueBytes(node);
  const u16 = (o: number) => {
    if (o + 2 > b.length) derFail('truncated SCT list', node.valueStart + o);
    return (b[o]! << 8) | b[o + 1]!;
  };
  const total = u16(0);
  if (total + 2 !== b.length) derFail('SCT list length does not match its contents', node.valueStart);
  const out: SignedCertificateTimestamp[] = [];
  let o = 2;
  while (o < b.length) {
    const len = u16(o);
    const start = o + 2;
    const end = start + len;
    if (end > b.length || len < 1 + 32 + 8 + 2 + 4) derFail('truncated SCT', node.valueStart + o);
    const version = b[start]!;
    const logId = toHex(b.subarray(start + 1, start + 33));
    let ms = 0;
    for (let i = 0; i < 8; i++) ms = ms * 256 + b[start + 33 + i]!;
    let p = start + 41;
    const extLen = (b[p]! << 8) | b[p + 1]!;
    p += 2 + extLen;
    if (p + 4 > end) derFail('truncated SCT', node.valueStart + o);
    const hashAlgorithm = b[p]!;
    const signatureAlgorithm = b[p + 1]!;
    const sigLen = (b[p + 2]! << 8) | b[p + 3]!;
    if (p + 4 + sigLen !== end) derFail('SCT signature length does not match', node.valueStart + o);
    out.push({ version, logId, timestamp: new Date(ms), hashAlgorithm, signatureAlgorithm });
    o = end;
  }
  return out;
}

function decodeIA5Value(value: Uint8Array, what: string): string {
  const node = parseDer(value);
  if (node.tag !== Tag.IA5_STRING && node.tag !== Tag.UTF8_STRING && node.tag !== Tag.VISIBLE_STRING)
    derFail(`${what} must be a string`, node.start);
  return decodeString(node);
}

function decodeMSTemplate(value: Uint8Array): {
  templateId: string;
  majorVersion?: number;
  minorVersion?: number;
} {
  const r = seq(value, 'msCertificateTemplate');
  const templateId = decodeOID(r.expect(Tag.OID, 'templateID'));
  const major = r.optional(Tag.INTEGER);
  const minor = r.optional(Tag.INTEGER);
  r.done('msCertificateTemplate');
  return {
    templateId,
    ...(major === undefined ? {} : { majorVersion: decodeSmallInt(major) }),
    ...(minor === undefined ? {} : { minorVersion: decodeSmallInt(minor) }),
  };
}

function decodePrivateKeyUsagePeriod(value: Uint8Array): { notBefore?: Date; notAfter?: Date } {
  const r = seq(value, 'privateKeyUsagePeriod');
  const out: { notBefore?: Date; notAfter?: Date } = {};
  const a = r.optional(0x80);
  if (a !== undefined) out.notBefore = decodeTime({ ...a, tag: Tag.GENERALIZED_TIME });
  const b = r.optional(0x81);
  if (b !== undefined) out.notAfter = decodeTime({ ...b, tag: Tag.GENERALIZED_TIME });
  r.done('privateKeyUsagePeriod');
  if (a === undefined && b === undefined) derFail('privateKeyUsagePeriod must not be empty', 0);
  return out;
}

function decodeNull(value: Uint8Array, what: string): true {
  const node = parseDer(value);
  if (node.tag !== Tag.NULL || node.end !== node.valueStart) derFail(`${what} must be NULL`, node.start);
  return true;
}

// A Map, not an object literal: an OID string such as 'constructor' must not find Object.prototype members.
const DECODERS: ReadonlyMap<string, (value: Uint8Array) => unknown> = new Map<
  string,
  (value: Uint8Array) => unknown
>([
  [ExtensionOID.basicConstraints, decodeBasicConstraints],
  [ExtensionOID.keyUsage, decodeKeyUsage],
  [ExtensionOID.extendedKeyUsage, decodeEKU],
  [ExtensionOID.subjectKeyIdentifier, (v) => decodeOctetStringHex(v, 'subjectKeyIdentifier')],
  [ExtensionOID.authorityKeyIdentifier, decodeAKI],
  [ExtensionOID.subjectAltName, (v) => readGeneralNames(parseDer(v), 'subjectAltName')],
  [ExtensionOID.issuerAltName, (v) => readGeneralNames(parseDer(v), 'issuerAltName')],
  [ExtensionOID.authorityInfoAccess, (v) => decodeAccess(v, 'authorityInfoAccess')],
  [ExtensionOID.subjectInfoAccess, (v) => decodeAccess(v, 'subjectInfoAccess')],
  [ExtensionOID.crlDistributionPoints, decodeCRLDP],
  [ExtensionOID.freshestCRL, decodeCRLDP],
  [ExtensionOID.certificatePolicies, decodePolicies],
  [ExtensionOID.nameConstraints, decodeNameConstraints],
  [ExtensionOID.policyConstraints, decodePolicyConstraints],
  [ExtensionOID.policyMappings, decodePolicyMappings],
  [ExtensionOID.privateKeyUsagePeriod, decodePrivateKeyUsagePeriod],
  [ExtensionOID.inhibitAnyPolicy, (v) => decodeSmallInt(parseDer(v), 0x7fffffff)],
  [ExtensionOID.tlsFeature, decodeTLSFeature],
  [ExtensionOID.ctPrecertificateSCTs, decodeSCTs],
  [ExtensionOID.ctPrecertificatePoison, (v) => decodeNull(v, 'ct_precert_poison')],
  [ExtensionOID.ocspNoCheck, (v) => decodeNull(v, 'noCheck')],
  [ExtensionOID.netscapeComment, (v) => decodeIA5Value(v, 'nsComment')],
  [
    ExtensionOID.netscapeCertType,
    (v) => decodeBitFlags(parseDer(v)).map((b) => NETSCAPE_CERT_TYPES[b] ?? `bit${b}`),
  ],
  [ExtensionOID.msCertificateTemplate, decodeMSTemplate],
  [ExtensionOID.msCertificateTemplateName, (v) => decodeString(parseDer(v))],
]);

/** Dotted OIDs of the extensions this module decodes. */
export const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set(DECODERS.keys());

/**
 * Decodes one extension value by OID.
 *
 * @returns `{ parsed }` for a known, well-formed value; `{ error }` for a known, malformed one; `{}` when the
 *   OID is unknown.
 * @throws Never for malformed values (they give `error`); TypeError when `value` is not a Uint8Array.
 * @example
 * ```ts
 * decodeExtensionValue('2.5.29.19', Uint8Array.of(0x30, 0x03, 0x01, 0x01, 0xff)); // { parsed: { ca: true } }
 * ```
 */
export function decodeExtensionValue(oid: string, value: Uint8Array): DecodedExtensionValue {
  if (!(value instanceof Uint8Array))
    throw new TypeError('decodeExtensionValue expects the value as a Uint8Array');
  const decoder = DECODERS.get(oid);
  if (decoder === undefined) return {};
  try {
    return { parsed: decoder(value) };
  } catch (e) {
    if (e instanceof MailTlsError) return { error: e.message };
    throw e;
  }
}

/** A lazily decoded {@link Extension}. */
class ExtensionView implements Extension {
  readonly oid: string;
  readonly name: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
  #decoded: DecodedExtensionValue | undefined;
  #extraError: string | undefined;

  constructor(oid: string, critical: boolean, value: Uint8Array, extraError?: string) {
    this.oid = oid;
    this.name = oidShortName(oid);
    this.critical = critical;
    this.value = value;
    this.#extraError = extraError;
  }

  get known(): boolean {
    return oid2decoder(this.oid);
  }

  #decode(): DecodedExtensionValue {
    if (this.#decoded === undefined) {
      this.#decoded =
        this.#extraError === undefined
          ? decodeExtensionValue(this.oid, this.value)
          : { error: this.#extraError };
      Object.freeze(this.#decoded);
    }
    return this.#decoded;
  }

  get parsed(): unknown {
    return this.#decode().parsed;
  }

  get error(): string | undefined {
    return this.#decode().error;
  }

  toJSON(): Record<string, unknown> {
    const d = this.#decode();
    return {
      oid: this.oid,
      name: this.name,
      critical: this.critical,
      value: toHex(this.value),
      ...(d.parsed === undefined ? {} : { parsed: toJSONSafe(d.parsed) }),
      ...(d.error === undefined ? {} : { error: d.error }),
    };
  }
}

function oid2decoder(oid: string): boolean {
  return DECODERS.has(oid);
}

/**
 * Reads an `Extensions` SEQUENCE (certificate `[3]` contents or a CSR extensionRequest). The envelope (OID,
 * critical flag, OCTET STRING) must be well formed; the values are decoded lazily and never throw. A repeated
 * OID is kept with `error: 'duplicate extension'` (RFC 5280 §4.2).
 *
 * @internal
 * @throws DERError `ERR_DER_INVALID` when the envelope is malformed.
 * @example
 * ```ts
 * const exts = readExtensions(extensionsNode);
 * exts.find((e) => e.name === 'subjectAltName')?.parsed;
 * ```
 */
export function readExtensions(node: DerNode): Extension[] {
  if (node.tag !== Tag.SEQUENCE) derFail('Extensions must be a SEQUENCE', node.start);
  const r = new DerReader(node.bytes, node.valueStart, node.end);
  const out: Extension[] = [];
  const seen = new Set<string>();
  while (!r.atEnd) {
    const ext = r.expect(Tag.SEQUENCE, 'Extension');
    const e = new DerReader(ext.bytes, ext.valueStart, ext.end);
    const oid = decodeOID(e.expect(Tag.OID, 'extnID'));
    const crit = e.optional(Tag.BOOLEAN);
    const critical = crit === undefined ? false : decodeBoolean(crit);
    const value = valueBytes(e.expect(Tag.OCTET_STRING, 'extnValue'));
    e.done('Extension');
    const duplicate = seen.has(oid);
    seen.add(oid);
    out.push(
      new ExtensionView(
        oid,
        critical,
        value,
        duplicate ? 'duplicate extension (RFC 5280 §4.2 allows one of each)' : undefined,
      ),
    );
  }
  return out;
}

/**
 * Makes decoded extension values JSON-safe: bytes → lower-case hex, dates → ISO strings, distinguished
 * names → RFC 4514 strings, bigints → decimal strings.
 *
 * @throws Never (nesting deeper than 32 levels becomes `null`).
 * @example
 * ```ts
 * JSON.stringify(toJSONSafe(cert.getExtension('subjectAltName')?.parsed));
 * ```
 */
export function toJSONSafe(value: unknown, depth = 0): unknown {
  if (depth > 32) return null;
  if (value === null || value === undefined) return value;
  if (value instanceof Uint8Array) return toHex(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJSONSafe(v, depth + 1));
  if (typeof value === 'object') {
    const o = value as { toJSON?: () => unknown; rdns?: unknown };
    if (o.rdns !== undefined && typeof o.toJSON === 'function') return o.toJSON();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJSONSafe(v, depth + 1);
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
