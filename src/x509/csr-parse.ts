import { decodePEM } from '../encoding/pem.js';
import { CSRError, DERError, MailTlsError } from '../errors.js';
import { integerAtLeast } from '../internal/assert.js';
import { copyBytes } from '../internal/encoding/bytes.js';
import {
  DerReader,
  decodeBitString,
  decodeOID,
  decodeSmallInt,
  decodeString,
  derErrorParts,
  derFail,
  rawOf,
  readNode,
  Tag,
} from '../internal/encoding/der.js';
import { CSRAttributeOID, oidShortName } from '../internal/encoding/oids.js';
import { foreignCSRDER, type PeculiarCSRObject } from '../internal/foreign.js';
import {
  readSignatureAlgorithm,
  type SignatureAlgorithm,
  verifySignature,
} from '../internal/keys/signature.js';
import { type PublicKeyInfo, spkiInfo } from '../internal/keys/spki-info.js';
import { ExtensionView } from '../internal/x509/extension-view.js';
import { type CryptoOptions, type KeyFingerprint, PublicKey } from '../keys/keys.js';
import type {
  BasicConstraintsJSON,
  CertificateBasicConstraints,
  GeneralNameJSON,
  PublicKeyJSON,
  SignatureAlgorithmJSON,
} from './certificate.js';
import { type Extension, type GeneralName, type KeyUsage, readExtensions, toJSONSafe } from './extensions.js';
import { type DistinguishedName, readName } from './name.js';

/** One attribute of a CSR (RFC 2986 §4.1). */
export interface CSRAttribute {
  /** Dotted OID. */
  readonly oid: string;
  /** Short name (`extReq`, `challengePassword`, `unstructuredName`) or the OID. */
  readonly name: string;
  /** The DER of each value. Empty for challengePassword, whose value is never exposed. */
  readonly values: readonly Uint8Array[];
}

/**
 * A parsed PKCS#10 certificate signing request: an immutable, read-only view. The requested extensions
 * (from the extensionRequest attribute) are decoded like a certificate's; malformed ones carry `error`.
 */
export interface CertificateSigningRequest {
  /** The whole CSR, DER. */
  readonly der: Uint8Array;
  /** The raw CertificationRequestInfo bytes (what the requester signed). */
  readonly info: Uint8Array;
  /** 1 (encoded as 0) for every CSR in use. */
  readonly version: number;
  /** The requested subject. */
  readonly subject: DistinguishedName;
  /** The public key; `undefined` for algorithms mailtls does not support (see `publicKeyInfo`). */
  readonly publicKey: PublicKey | undefined;
  /** Algorithm, size and curve of the key (also for algorithms mailtls does not support). */
  readonly publicKeyInfo: PublicKeyInfo;
  /** The DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The algorithm of the self-signature. */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The self-signature bytes (BIT STRING contents). */
  readonly signatureValue: Uint8Array;
  /** Every attribute, in order. */
  readonly attributes: readonly CSRAttribute[];
  /** The requested extensions (empty when there is no extensionRequest). */
  readonly extensions: readonly Extension[];
  /** Requested SAN entries; `undefined` without a (well-formed) subjectAltName request. */
  readonly subjectAltNames: readonly GeneralName[] | undefined;
  /** Requested SAN dNSName entries. */
  readonly dnsNames: readonly string[];
  /** Requested SAN iPAddress entries in text form. */
  readonly ipAddresses: readonly string[];
  /** Requested SAN rfc822Name entries. */
  readonly emailAddresses: readonly string[];
  /** Requested SAN URI entries. */
  readonly uris: readonly string[];
  /** Requested basic constraints. */
  readonly basicConstraints?: CertificateBasicConstraints | undefined;
  /** Requested key usage bits. */
  readonly keyUsage?: readonly KeyUsage[] | undefined;
  /** Requested extended key usages (short names or dotted OIDs). */
  readonly extendedKeyUsage?: readonly string[] | undefined;
  /** Whether the CSR carries a challengePassword attribute (its value is never exposed). */
  readonly hasChallengePassword: boolean;
  /** The unstructuredName attribute, if present. */
  readonly unstructuredName?: string | undefined;
  /** Irregularities that did not stop parsing (malformed extensions, an unknown version, a bad key). */
  readonly problems: readonly string[];
  /** The requested extension with this OID or short name, if present. */
  getExtension(oidOrName: string): Extension | undefined;
  /** SHA-256 of the SubjectPublicKeyInfo, hex (DANE `3 1 1`) and base64. */
  spkiFingerprint(): Readonly<KeyFingerprint>;
  /** A JSON-safe plain object (see `describeCSR(csr, { format: 'json' })`). */
  toJSON(): CSRJSON;
}

/** The JSON view of a CSR. */
export interface CSRJSON {
  /** 1. */
  version: number;
  /** RFC 4514 string. */
  subject: string;
  /** The key. */
  publicKey: PublicKeyJSON;
  /** The algorithm of the self-signature. */
  signatureAlgorithm: SignatureAlgorithmJSON;
  /** Requested SAN entries. */
  subjectAltNames: GeneralNameJSON[];
  /** Requested basic constraints. */
  basicConstraints?: BasicConstraintsJSON;
  /** Requested key usage bits. */
  keyUsage?: string[];
  /** Requested extended key usages. */
  extendedKeyUsage?: string[];
  /** Whether a challenge password is present (its value is never included). */
  hasChallengePassword: boolean;
  /** The unstructuredName attribute, when present. */
  unstructuredName?: string;
  /** OID and short name of every attribute. */
  attributes: CSRAttributeJSON[];
  /** Every requested extension: `{ oid, name, critical, value (hex), parsed?, error? }`. */
  extensions: unknown[];
  /** See {@link CertificateSigningRequest.problems}. */
  problems: string[];
}

/** A CSR attribute in the JSON view (values left out). */
export interface CSRAttributeJSON {
  /** Dotted OID. */
  oid: string;
  /** Short name or OID. */
  name: string;
}

/** Options of {@link parseCSR}. */
export interface ParseCSROptions {
  /** Largest accepted DER size in bytes; default 256 KiB. */
  maxBytes?: number;
}

const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

interface ParsedCSR {
  der: Uint8Array;
  info: Uint8Array;
  version: number;
  subject: DistinguishedName;
  spki: Uint8Array;
  publicKeyInfo: PublicKeyInfo;
  attributes: CSRAttribute[];
  extensions: Extension[];
  signatureAlgorithm: SignatureAlgorithm;
  signatureValue: Uint8Array;
  hasChallengePassword: boolean;
  unstructuredName: string | undefined;
  problems: string[];
}

class CSRView extends ExtensionView implements CertificateSigningRequest {
  readonly der: Uint8Array;
  readonly info: Uint8Array;
  readonly version: number;
  readonly subject: DistinguishedName;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signatureValue: Uint8Array;
  readonly attributes: readonly CSRAttribute[];
  readonly hasChallengePassword: boolean;
  readonly unstructuredName: string | undefined;
  readonly #structural: readonly string[];

  constructor(p: ParsedCSR) {
    super(p.spki, p.publicKeyInfo, p.extensions);
    this.der = p.der;
    this.info = p.info;
    this.version = p.version;
    this.subject = p.subject;
    this.signatureAlgorithm = Object.freeze(p.signatureAlgorithm);
    this.signatureValue = p.signatureValue;
    this.attributes = Object.freeze(
      p.attributes.map((a) => Object.freeze({ ...a, values: Object.freeze(a.values) })),
    );
    this.hasChallengePassword = p.hasChallengePassword;
    this.unstructuredName = p.unstructuredName;
    this.#structural = p.problems;
    Object.freeze(this);
  }

  get problems(): readonly string[] {
    return this.memo('problems', () => {
      const out = [...this.#structural];
      for (const e of this.extensions) if (e.error !== undefined) out.push(`extension ${e.name}: ${e.error}`);
      if (this.publicKeyInfo.type !== 'other') {
        try {
          new PublicKey(this.spki);
        } catch (e) {
          if (e instanceof MailTlsError) out.push(`public key: ${e.message}`);
        }
      }
      return Object.freeze(out);
    });
  }

  toJSON(): CSRJSON {
    return {
      version: this.version,
      subject: this.subject.toString(),
      ...this.keyAndExtensionsJSON(this.signatureAlgorithm),
      hasChallengePassword: this.hasChallengePassword,
      ...(this.unstructuredName === undefined ? {} : { unstructuredName: this.unstructuredName }),
      attributes: this.attributes.map((a) => ({ oid: a.oid, name: a.name })),
      extensions: this.extensions.map((e) => toJSONSafe(e.toJSON())),
      problems: [...this.problems],
    };
  }

  override toString(): string {
    return `CertificateSigningRequest(${this.subject.toString() || '<empty subject>'})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function readCSR(der: Uint8Array, at: { path: string }): ParsedCSR {
  const problems: string[] = [];
  at.path = 'CertificationRequest';
  const root = readNode(der, 0);
  if (root.end !== der.length)
    derFail(`${der.length - root.end} bytes of trailing data after the CSR`, root.end);
  if (root.tag !== Tag.SEQUENCE) derFail('a CSR must be a SEQUENCE', 0);
  const outer = DerReader.of(root);
  at.path = 'certificationRequestInfo';
  const infoNode = outer.expect(Tag.SEQUENCE, 'certificationRequestInfo');
  at.path = 'signatureAlgorithm';
  const signatureAlgorithm = readSignatureAlgorithm(outer.expect(Tag.SEQUENCE, 'signatureAlgorithm'));
  at.path = 'signature';
  const sig = decodeBitString(outer.expect(Tag.BIT_STRING, 'signature'));
  if (sig.unusedBits !== 0) problems.push('the signature BIT STRING has unused bits');
  outer.done('CertificationRequest');

  const r = DerReader.of(infoNode);
  at.path = 'certificationRequestInfo.version';
  const version = decodeSmallInt(r.expect(Tag.INTEGER, 'version'), 255) + 1;
  if (version !== 1)
    problems.push(`unknown CSR version ${version} (PKCS#10 defines version 1, encoded as 0)`);
  at.path = 'certificationRequestInfo.subject';
  const subject = readName(r.expect(Tag.SEQUENCE, 'subject'));
  at.path = 'certificationRequestInfo.subjectPKInfo';
  const spki = rawOf(r.expect(Tag.SEQUENCE, 'subjectPKInfo'));
  const publicKeyInfo = spkiInfo(spki);
  at.path = 'certificationRequestInfo.attributes';
  const attrsNode = r.optional(0xa0);
  if (attrsNode === undefined)
    problems.push('the attributes field is missing (RFC 2986 requires it, even empty)');
  r.done('certificationRequestInfo');
  const attributes: CSRAttribute[] = [];
  let extensions: Extension[] = [];
  let hasChallengePassword = false;
  let unstructuredName: string | undefined;
  let sawExtReq = false;
  if (attrsNode !== undefined) {
    const ar = DerReader.of(attrsNode, 'attributes');
    while (!ar.atEnd) {
      const a = DerReader.of(ar.expect(Tag.SEQUENCE, 'Attribute'), 'Attribute');
      const oid = decodeOID(a.expect(Tag.OID, 'attribute type'));
      at.path = `certificationRequestInfo.attributes.${oidShortName(oid)}`;
      const values = DerReader.of(a.expect(Tag.SET, 'attribute values'), 'attribute values').rest();
      a.done('Attribute');
      if (oid === CSRAttributeOID.challengePassword) {
        hasChallengePassword = true;
        attributes.push({ oid, name: oidShortName(oid), values: [] });
        continue;
      }
      attributes.push({ oid, name: oidShortName(oid), values: values.map(rawOf) });
      if (oid === CSRAttributeOID.extensionRequest || oid === CSRAttributeOID.msExtensionRequest) {
        if (values.length !== 1) derFail('extensionRequest must have exactly one value', 0);
        if (sawExtReq) problems.push('more than one extensionRequest attribute; only the first is used');
        else extensions = readExtensions(values[0]!); // no push(...list): a long list overflows the stack
        sawExtReq = true;
      } else if (
        oid === CSRAttributeOID.unstructuredName &&
        values.length > 0 &&
        unstructuredName === undefined
      ) {
        try {
          unstructuredName = decodeString(values[0]!);
        } catch {
          problems.push('unstructuredName is not a text string');
        }
      }
    }
  }
  return {
    der,
    info: rawOf(infoNode),
    version,
    subject,
    spki,
    publicKeyInfo,
    attributes,
    extensions,
    signatureAlgorithm,
    signatureValue: sig.bytes,
    hasChallengePassword,
    unstructuredName,
    problems,
  };
}

/**
 * Parses a PKCS#10 certificate signing request, PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or
 * DER, into a read-only {@link CertificateSigningRequest}. The signature is not checked here: call
 * {@link verifyCSRSignature}.
 *
 * @throws CSRError `ERR_CSR_INVALID` when the DER is malformed (message and `details` give the field path and
 *   byte offset) or larger than `maxBytes`.
 * @throws PEMError `ERR_PEM_UNEXPECTED_LABEL` (e.g. a certificate or a key was given), `ERR_PEM_NO_BLOCK` and the
 *   other PEM codes.
 * @throws TypeError when `input` is neither a string, a Uint8Array nor a `Pkcs10CertificateRequest` of
 *   @peculiar/x509; RangeError for a bad `maxBytes`.
 * @example
 * ```ts
 * import { parseCSR, verifyCSRSignature } from 'mailtls';
 * const csr = parseCSR(await readFile('mail.csr', 'utf8'));
 * await verifyCSRSignature(csr);
 * console.log(csr.subject.toString(), csr.dnsNames, csr.publicKey?.describe());
 * ```
 */
export function parseCSR(
  input: string | Uint8Array | PeculiarCSRObject,
  options: ParseCSROptions = {},
): CertificateSigningRequest {
  let der: Uint8Array | undefined;
  if (typeof input === 'string') der = decodePEM(input, CSR_LABELS).bytes;
  else if (input instanceof Uint8Array) der = input;
  else der = foreignCSRDER(input);
  if (der === undefined)
    throw new TypeError(
      'parseCSR expects PEM text, DER bytes (Uint8Array) or a Pkcs10CertificateRequest of @peculiar/x509',
    );
  const max = integerAtLeast(options.maxBytes ?? 256 * 1024, 'maxBytes');
  if (der.length > max)
    throw new CSRError('ERR_CSR_INVALID', `The CSR is ${der.length} bytes, more than the limit of ${max}.`, {
      details: { size: der.length, maxBytes: max },
    });
  const at = { path: 'CertificationRequest' };
  try {
    return new CSRView(readCSR(copyBytes(der), at));
  } catch (e) {
    if (e instanceof DERError) {
      const { offset, detail } = derErrorParts(e);
      throw new CSRError(
        'ERR_CSR_INVALID',
        `The CSR is malformed at ${at.path}${offset === undefined ? '' : ` (byte ${offset})`}: ${detail}. ` +
          'Check that the file holds a complete PKCS#10 request (PEM "CERTIFICATE REQUEST" or DER).',
        { cause: e, details: { path: at.path, ...(offset === undefined ? {} : { offset }) } },
      );
    }
    throw e;
  }
}

/**
 * Checks the self-signature of a CSR with WebCrypto: RSA PKCS#1 v1.5 and RSA-PSS (SHA-256/384/512), ECDSA on
 * P-256/P-384/P-521, Ed25519. A valid signature proves that whoever made the CSR holds the private key of
 * the public key in it, and that the CSR was not altered.
 *
 * @param csr - A parsed CSR, or PEM/DER (or @peculiar/x509's `Pkcs10CertificateRequest`) to parse first.
 * @param options - `{ crypto }`: the WebCrypto implementation (default `globalThis.crypto`).
 * @throws CSRError `ERR_CSR_SIGNATURE` when the signature does not verify, uses MD5/SHA-1, uses an algorithm
 *   that does not fit the key, or uses an unsupported algorithm (DSA, Ed448, ...); `details.reason` is one of
 *   `invalid`, `weak`, `mismatch`, `malformed`, `unsupported`. Plus every code of {@link parseCSR}.
 * @throws TypeError when no WebCrypto implementation is available.
 * @example
 * ```ts
 * try {
 *   await verifyCSRSignature(csrPem);
 * } catch (e) {
 *   if (isMailTlsError(e, 'ERR_CSR_SIGNATURE')) console.error(e.message);
 * }
 * ```
 */
export async function verifyCSRSignature(
  csr: CertificateSigningRequest | string | Uint8Array | PeculiarCSRObject,
  options: CryptoOptions = {},
): Promise<void> {
  const view =
    typeof csr === 'string' || csr instanceof Uint8Array || foreignCSRDER(csr) !== undefined
      ? parseCSR(csr as string | Uint8Array | PeculiarCSRObject)
      : csr;
  if (!(view instanceof CSRView))
    throw new TypeError('verifyCSRSignature expects a CSR from parseCSR, PEM or DER');
  const check = await verifySignature(
    view.spki,
    view.signatureAlgorithm,
    view.info,
    view.signatureValue,
    options,
  );
  if (check.valid) return;
  const advice: Record<typeof check.reason, string> = {
    invalid: 'the request was altered or signed with another key; create the CSR again from the server key',
    weak: 'create the CSR again with SHA-256 (e.g. openssl req -new -sha256)',
    mismatch: 'the CSR is malformed; create it again',
    malformed: 'the CSR is malformed; create it again',
    unsupported: 'create the CSR again with an RSA, ECDSA (P-256/P-384) or Ed25519 key and SHA-256',
  };
  throw new CSRError(
    'ERR_CSR_SIGNATURE',
    `The CSR signature check failed: ${check.message}; ${advice[check.reason]}.`,
    {
      details: { reason: check.reason, algorithm: view.signatureAlgorithm.name },
    },
  );
}
