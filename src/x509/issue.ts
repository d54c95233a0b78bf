/**
 * Issuing certificates without a reseller: a self-signed certificate for a LAN-only server, a private
 * certificate authority (a root, optionally with an intermediate), and leaf certificates issued from a CSR.
 *
 * Everything is built with the package's DER encoders and signed with WebCrypto (see the `csr` module for
 * why), so that the output is exactly what RFC 5280 and OpenSSL expect:
 * - serial numbers are 16 random bytes with the first bit clear (positive, always 16 bytes long);
 * - validity is always given by the caller (`notBefore`/`notAfter`, or `days` from `at`): nothing depends on
 *   the clock;
 * - leaves: basicConstraints `CA:FALSE` (critical), keyUsage digitalSignature (+ keyEncipherment for RSA,
 *   critical), extendedKeyUsage serverAuth (+ clientAuth on request), subjectAltName, subject and authority
 *   key identifiers;
 * - CAs: basicConstraints `CA:TRUE` (critical; pathLen 0 for an intermediate), keyUsage keyCertSign and
 *   cRLSign (critical), key identifiers. The subject key identifier is the SHA-1 of the subjectPublicKey
 *   bit string (RFC 5280 §4.2.1.2, method 1).
 *
 * @module issue
 */

import { sha1 } from '@noble/hashes/legacy';
import { encodePEM } from '../encoding/pem.js';
import { CertificateError, CSRError, KeyError } from '../errors.js';
import { validDate } from '../internal/assert.js';
import { fromHex, toHex } from '../internal/encoding/bytes.js';
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
  encodeTime,
  encodeTLV,
  parseDer,
  Tag,
} from '../internal/encoding/der.js';
import {
  type ForeignCertificate,
  foreignCertificateDER,
  foreignCSRDER,
  type PeculiarCSRObject,
} from '../internal/foreign.js';
import { withHiddenKeyPEM } from '../internal/keys/secret.js';
import { signatureAlgorithmOf, signStructure } from '../internal/keys/sign.js';
import { quoteName } from '../internal/names/dns-name.js';
import type { CryptoOptions, KeyType, PrivateKey } from '../keys/keys.js';
import { generateKeyPair, PrivateKey as PrivateKeyClass, type PublicKey } from '../keys/keys.js';
import { encodePrivateKeyPEM } from '../keys/private-key.js';
import { parseCertificate } from './certificate.js';
import { parseCSR, verifyCSRSignature } from './csr-parse.js';
import type { DistinguishedName } from './name.js';
import {
  type CSRWarning,
  encodeSubject,
  encodeSubjectAltName,
  type NormalizedSubject,
  normalizeSubject,
  normalizeSubjectAltNames,
  type SubjectAltNames,
  type SubjectFields,
} from './subject.js';

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/** keyUsage bit positions (RFC 5280 §4.2.1.3). */
const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------------------
// Public types

/**
 * The validity period of a new certificate. Give `notBefore` and `notAfter`, or `days` counted from
 * `notBefore` (or from `at`, e.g. `new Date()`). Nothing defaults to the current time.
 */
export interface ValidityOptions {
  /** Start of validity. */
  notBefore?: Date | undefined;
  /** End of validity (inclusive, as RFC 5280 defines it). */
  notAfter?: Date | undefined;
  /** Length of validity in days (a positive integer), counted from `notBefore` or `at`. */
  days?: number | undefined;
  /** The moment `days` counts from when `notBefore` is not given (e.g. `new Date()`). */
  at?: Date | undefined;
}

/** Options that select a key to generate when none is given. */
export interface NewKeyOptions {
  /** Type of a generated key: `'rsa'` (default, 2048 bits), `'ec'` (P-256 default) or `'ed25519'`. */
  keyType?: KeyType | undefined;
  /** RSA modulus size of a generated key: 2048 (default), 3072 or 4096. */
  bits?: 2048 | 3072 | 4096 | undefined;
  /** Curve of a generated EC key: `'P-256'` (default) or `'P-384'`. */
  curve?: 'P-256' | 'P-384' | undefined;
}

/** An extension to add as is (DER `extnValue` contents). */
export interface ExtraExtension {
  /** Dotted OID of the extension. */
  oid: string;
  /** Whether the extension is critical; default false. */
  critical?: boolean | undefined;
  /** The DER bytes that go inside the `extnValue` OCTET STRING. */
  value: Uint8Array;
}

/**
 * A certificate authority that can issue certificates: its certificate and private key.
 * {@link createCertificateAuthority} makes them; a CA loaded from files can be passed to
 * {@link issueCertificate} as `{ cert, key }`.
 */
export interface CertificateAuthority {
  /** The CA certificate as PEM. */
  readonly certPEM: string;
  /** The CA certificate as DER. */
  readonly certDER: Uint8Array;
  /** The CA's private key. */
  readonly key: PrivateKey;
  /**
   * The CA certificates a server must send after a leaf issued by this CA, as PEM: this certificate when it
   * is an intermediate, followed by its own chain; empty for a root (clients already hold the root).
   */
  readonly chainPEM: string;
}

/** A CA given by its certificate (PEM or DER) and key, e.g. loaded from files. */
export interface CertificateAuthorityInput {
  /** The CA certificate: PEM text, DER bytes, or node:crypto's or @peculiar/x509's `X509Certificate`. */
  cert: string | Uint8Array | ForeignCertificate;
  /** The CA's private key. */
  key: PrivateKey;
  /**
   * Intermediate certificates (PEM) between this CA and the root that a server must send after the leaf,
   * excluding this CA's own certificate. Default: none.
   */
  chainPEM?: string | undefined;
}

/** What {@link createCertificateAuthority} returns. */
export interface CertificateAuthorityHierarchy {
  /** The self-signed root: give `root.certPEM` to clients as their trust anchor (`ca` / `-CAfile`). */
  readonly root: CertificateAuthority;
  /** The intermediate signed by the root (pathLen 0), when asked for. */
  readonly intermediate?: CertificateAuthority;
  /** The CA to issue leaves with: the intermediate when there is one, else the root. */
  readonly issuer: CertificateAuthority;
}

/** A certificate made by {@link issueCertificate}. */
export interface IssuedCertificate {
  /** The certificate as PEM. */
  readonly certPEM: string;
  /** The certificate as DER. */
  readonly certDER: Uint8Array;
  /** What a server sends (`cert` in Node, `fullchain.pem`): the certificate then the CA chain, as PEM. */
  readonly chainPEM: string;
  /** The serial number as lower-case hex (32 digits). */
  readonly serialNumber: string;
  /** Start of validity (whole seconds). */
  readonly notBefore: Date;
  /** End of validity (whole seconds). */
  readonly notAfter: Date;
  /** DNS names in the subjectAltName. */
  readonly dnsNames: readonly string[];
  /** IP addresses in the subjectAltName (canonical text). */
  readonly ipAddresses: readonly string[];
}

/** A self-signed certificate and its key, from {@link createSelfSignedCertificate}. */
export interface SelfSignedCertificate extends IssuedCertificate {
  /** The private key. */
  readonly key: PrivateKey;
  /**
   * The private key as PEM (PKCS#8, unencrypted unless a pass phrase was given). Not enumerable, so that
   * `JSON.stringify`, `console.log` and object spreads never copy it: read it by name.
   */
  readonly keyPEM: string;
  /** The subject as encoded. */
  readonly subject: NormalizedSubject;
  /** Advice about the names (see {@link CSRWarning}). */
  readonly warnings: readonly CSRWarning[];
}

/** Options of {@link createSelfSignedCertificate}. */
export interface CreateSelfSignedCertificateOptions extends ValidityOptions, NewKeyOptions, CryptoOptions {
  /** The key to certify; generated when absent. */
  key?: PrivateKey | undefined;
  /** Subject fields; `commonName` is required unless given as the `commonName` option. */
  subject?: SubjectFields | undefined;
  /** Shorthand for `subject: { commonName }`. */
  commonName?: string | undefined;
  /** Host names the server answers on (the Common Name is always included). */
  hostnames?: readonly string[] | undefined;
  /** IP addresses the server answers on (LAN servers). */
  ipAddresses?: readonly string[] | undefined;
  /** Also allow TLS client authentication (extendedKeyUsage clientAuth). */
  clientAuth?: boolean | undefined;
  /** Encrypt `keyPEM` with this pass phrase (leave out for a server that starts unattended). */
  passphrase?: string | Uint8Array | undefined;
}

/** Options of {@link createCertificateAuthority}. */
export interface CreateCertificateAuthorityOptions extends ValidityOptions, NewKeyOptions, CryptoOptions {
  /** The root's name: a Common Name such as `'Example Mail Root CA'`, or subject fields. */
  name: string | SubjectFields;
  /** The root's key; generated when absent. */
  key?: PrivateKey | undefined;
  /** Also create an intermediate CA (pathLen 0) signed by the root; leaves are then issued by it. */
  intermediate?: boolean | undefined;
  /** Common Name of the intermediate; default: the root's Common Name followed by ` Intermediate`. */
  intermediateName?: string | undefined;
  /** The intermediate's key; generated (like the root's) when absent. */
  intermediateKey?: PrivateKey | undefined;
}

/** Options of {@link issueCertificate}. */
export interface IssueCertificateOptions extends ValidityOptions, CryptoOptions {
  /** Replace the CSR's DNS names with these (the CSR's Common Name is still included). */
  hostnames?: readonly string[] | undefined;
  /** Replace the CSR's IP addresses with these. */
  ipAddresses?: readonly string[] | undefined;
  /** Also allow TLS client authentication (extendedKeyUsage clientAuth). */
  clientAuth?: boolean | undefined;
  /** Further extensions to add (their OIDs must differ from the ones mailtls sets). */
  extraExtensions?: readonly ExtraExtension[] | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Public functions

/**
 * Makes a self-signed server certificate, for a LAN-only mail server that no public CA can certify. Clients
 * must be given this certificate as a trust anchor (Node `ca`, `openssl -CAfile`, the OS trust store).
 *
 * The certificate is an end-entity certificate (basicConstraints CA:FALSE) for the Common Name plus
 * `hostnames` and `ipAddresses`, with extendedKeyUsage serverAuth.
 *
 * @throws {CSRError} `ERR_CSR_SUBJECT`, `ERR_CSR_COUNTRY`, `ERR_CSR_EMAIL`, `ERR_CSR_DNS_NAME`,
 *   `ERR_CSR_IP_ADDRESS` for bad names (see {@link csr!createCSR}).
 * @throws {KeyError} `ERR_KEY_GENERATION`, `ERR_KEY_UNSUPPORTED`.
 * @throws {TypeError | RangeError} for malformed options, a missing or reversed validity period.
 * @example
 * ```ts
 * import { createSelfSignedCertificate } from 'mailtls';
 * const self = await createSelfSignedCertificate({
 *   commonName: 'mail.lan',
 *   ipAddresses: ['192.168.1.10'],
 *   keyType: 'ec',
 *   days: 825,
 *   at: new Date(),
 * });
 * // self.certPEM, self.keyPEM
 * ```
 */
export async function createSelfSignedCertificate(
  options: CreateSelfSignedCertificateOptions,
): Promise<SelfSignedCertificate> {
  checkObject(options, 'options');
  checkKeyOptions(options.key, options);
  if (options.subject !== undefined && options.commonName !== undefined)
    throw new TypeError('give either subject or commonName, not both');
  const validity = resolveValidity(options);
  const subject = normalizeSubject(options.subject ?? { commonName: options.commonName });
  if (subject.commonName === undefined)
    throw new CSRError(
      'ERR_CSR_SUBJECT',
      'the Common Name is missing: give commonName, the name clients connect to (e.g. mail.lan)',
      { details: { field: 'commonName' } },
    );
  const san = normalizeSubjectAltNames({
    commonName: subject.commonName,
    hostnames: options.hostnames,
    ipAddresses: options.ipAddresses,
  });
  const finalSubject: NormalizedSubject = Object.freeze({
    ...subject,
    commonName: san.dnsNames[0] ?? san.ipAddresses[0]!,
  });
  const crypto = cryptoOf(options);
  const key = options.key ?? (await newKey(options, crypto));
  const subjectDER = encodeSubject(finalSubject);
  const spki = key.publicKey.spki;
  const ski = keyIdentifier(spki);
  const extensions = leafExtensions(key.publicKey.type, san, ski, ski, options.clientAuth === true, []);
  const built = await buildCertificate(subjectDER, subjectDER, spki, validity, extensions, key, crypto);
  const keyPEM = await encodePrivateKeyPEM(
    key,
    options.passphrase === undefined ? {} : { passphrase: options.passphrase },
  );
  return withHiddenKeyPEM(
    {
      ...built,
      chainPEM: built.certPEM,
      dnsNames: san.dnsNames,
      ipAddresses: san.ipAddresses,
      key,
      subject: finalSubject,
      warnings: san.warnings,
    },
    keyPEM,
  );
}

/**
 * Creates a private certificate authority: a self-signed root (basicConstraints CA:TRUE, keyUsage
 * keyCertSign and cRLSign, all critical) and, with `intermediate: true`, an intermediate CA signed by the
 * root with pathLen 0. Keep the root key offline; issue leaves with `issuer` ({@link issueCertificate}).
 *
 * @throws {CSRError} `ERR_CSR_SUBJECT`, `ERR_CSR_COUNTRY`, `ERR_CSR_EMAIL` for a bad name.
 * @throws {KeyError} `ERR_KEY_GENERATION`, `ERR_KEY_UNSUPPORTED`.
 * @throws {TypeError | RangeError} for malformed options, a missing or reversed validity period.
 * @example
 * ```ts
 * import { createCertificateAuthority } from 'mailtls';
 * const ca = await createCertificateAuthority({
 *   name: { organization: 'Example Inc', commonName: 'Example Mail Root CA' },
 *   intermediate: true,
 *   keyType: 'ec',
 *   notBefore: new Date('2026-01-01T00:00:00Z'),
 *   notAfter: new Date('2036-01-01T00:00:00Z'),
 * });
 * // clients trust ca.root.certPEM; leaves are issued with ca.issuer
 * ```
 */
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<CertificateAuthorityHierarchy> {
  checkObject(options, 'options');
  checkKeyOptions(options.key, options);
  if (options.intermediateKey !== undefined && !(options.intermediateKey instanceof PrivateKeyClass))
    throw new TypeError('intermediateKey must be a PrivateKey');
  if (
    (options.intermediateName !== undefined || options.intermediateKey !== undefined) &&
    !options.intermediate
  )
    throw new TypeError('intermediateName and intermediateKey need intermediate: true');
  if (typeof options.name !== 'string' && (typeof options.name !== 'object' || options.name === null))
    throw new TypeError('name must be a Common Name string or subject fields');
  const validity = resolveValidity(options);
  const rootSubject = normalizeSubject(
    typeof options.name === 'string' ? { commonName: options.name } : options.name,
  );
  if (rootSubject.commonName === undefined)
    throw new CSRError('ERR_CSR_SUBJECT', 'the CA needs a Common Name, e.g. "Example Mail Root CA"', {
      details: { field: 'commonName' },
    });
  const crypto = cryptoOf(options);
  const rootKey = options.key ?? (await newKey(options, crypto));
  const rootDER = encodeSubject(rootSubject);
  const rootSPKI = rootKey.publicKey.spki;
  const rootSKI = keyIdentifier(rootSPKI);
  const rootCert = await buildCertificate(
    rootDER,
    rootDER,
    rootSPKI,
    validity,
    caExtensions(rootSKI, rootSKI, undefined),
    rootKey,
    crypto,
  );
  const root: CertificateAuthority = Object.freeze({
    certPEM: rootCert.certPEM,
    certDER: rootCert.certDER,
    key: rootKey,
    chainPEM: '',
  });
  if (!options.intermediate) return Object.freeze({ root, issuer: root });

  const interSubject = normalizeSubject({
    ...rootSubject,
    commonName: options.intermediateName ?? `${rootSubject.commonName} Intermediate`,
  });
  const interKey = options.intermediateKey ?? (await newKey(options, crypto));
  const interSPKI = interKey.publicKey.spki;
  const interSKI = keyIdentifier(interSPKI);
  const interCert = await buildCertificate(
    encodeSubject(interSubject),
    rootDER,
    interSPKI,
    validity,
    caExtensions(interSKI, rootSKI, 0),
    rootKey,
    crypto,
  );
  const intermediate: CertificateAuthority = Object.freeze({
    certPEM: interCert.certPEM,
    certDER: interCert.certDER,
    key: interKey,
    chainPEM: interCert.certPEM,
  });
  return Object.freeze({ root, intermediate, issuer: intermediate });
}

/**
 * Issues a server certificate from a CSR with a private CA. The CSR's signature is verified first; its
 * subject is copied as is; its Common Name and subjectAltName DNS names and IP addresses are checked like
 * {@link "csr"!createCSR}'s (or replaced by `hostnames`/`ipAddresses`) and the Common Name is always in the SAN.
 * Any other extension the CSR requests is ignored: the CA decides (serverAuth, CA:FALSE, keyUsage for the
 * key type).
 *
 * @param csr - the request, PEM (`CERTIFICATE REQUEST`), DER, or @peculiar/x509's `Pkcs10CertificateRequest`.
 * @param ca - the issuing CA: a {@link CertificateAuthority} or `{ cert, key }`.
 * @throws {CSRError} `ERR_CSR_INVALID` (not a CSR), `ERR_CSR_SIGNATURE` (signature wrong or weak),
 *   `ERR_CSR_DNS_NAME`, `ERR_CSR_IP_ADDRESS`, `ERR_CSR_SUBJECT` (no name, or a SAN type other than DNS/IP).
 * @throws {CertificateError} `ERR_CERT_INVALID` (the CA certificate cannot be read), `ERR_CERT_ISSUE` (the CA
 *   certificate is not a CA, or the new certificate would outlive it).
 * @throws {KeyError} `ERR_KEY_MISMATCH` (the CA key does not belong to the CA certificate), `ERR_KEY_INVALID`
 *   / `ERR_KEY_UNSUPPORTED` (the CSR's key).
 * @throws {PEMError} when `csr` or `ca.cert` is PEM text without the expected block.
 * @throws {TypeError | RangeError} for malformed options, a missing or reversed validity period.
 * @example
 * ```ts
 * import { readFile, writeFile } from 'node:fs/promises';
 * import { issueCertificate } from 'mailtls';
 *
 * const cert = await issueCertificate(await readFile('req.pem', 'utf8'), ca.issuer, {
 *   notBefore: new Date('2026-01-01T00:00:00Z'),
 *   days: 397,
 * });
 * await writeFile('fullchain.pem', cert.chainPEM);
 * ```
 */
export async function issueCertificate(
  csr: string | Uint8Array | PeculiarCSRObject,
  ca: CertificateAuthority | CertificateAuthorityInput,
  options: IssueCertificateOptions,
): Promise<IssuedCertificate> {
  if (typeof csr !== 'string' && !(csr instanceof Uint8Array) && foreignCSRDER(csr) === undefined)
    throw new TypeError('csr must be PEM text, DER bytes or a Pkcs10CertificateRequest of @peculiar/x509');
  checkObject(ca, 'ca');
  checkObject(options, 'options');
  if (!(ca.key instanceof PrivateKeyClass)) throw new TypeError('ca.key must be a PrivateKey');
  const extra = checkExtraExtensions(options.extraExtensions);
  const validity = resolveValidity(options);
  const crypto = cryptoOf(options);

  const issuer = readIssuer(ca);
  if (!ca.key.publicKey.equals(issuer.publicKey))
    throw new KeyError(
      'ERR_KEY_MISMATCH',
      'the CA private key does not belong to the CA certificate; pass the key the CA certificate was made for',
      { details: { certificateKey: issuer.publicKey.describe(), key: ca.key.publicKey.describe() } },
    );
  if (validity.notAfter.getTime() > issuer.notAfter.getTime())
    throw new CertificateError(
      'ERR_CERT_ISSUE',
      `the certificate would be valid until ${validity.notAfter.toISOString()}, after its CA expires ` +
        `(${issuer.notAfter.toISOString()}); shorten the validity or renew the CA`,
      { details: { notAfter: validity.notAfter.toISOString(), caNotAfter: issuer.notAfter.toISOString() } },
    );

  const request = await readCSR(csr, crypto);
  const san = normalizeSubjectAltNames({
    commonName: request.subject.commonName,
    hostnames: options.hostnames ?? request.dnsNames,
    ipAddresses: options.ipAddresses ?? request.ipAddresses,
  });
  const spki = request.publicKey.spki;
  const extensions = leafExtensions(
    request.publicKey.type,
    san,
    keyIdentifier(spki),
    issuer.keyIdentifier,
    options.clientAuth === true,
    extra,
    request.subject.rdns.length === 0,
  );
  const built = await buildCertificate(
    request.subject.der,
    issuer.subject,
    spki,
    validity,
    extensions,
    ca.key,
    crypto,
  );
  return Object.freeze({
    ...built,
    chainPEM: built.certPEM + issuer.chainPEM,
    dnsNames: san.dnsNames,
    ipAddresses: san.ipAddresses,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Building

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

function checkObject(value: unknown, name: string): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`);
}

function checkKeyOptions(key: unknown, options: NewKeyOptions): void {
  if (key !== undefined && !(key instanceof PrivateKeyClass))
    throw new TypeError('key must be a PrivateKey (from generateKeyPair or parsePrivateKey)');
  if (
    key !== undefined &&
    (options.keyType !== undefined || options.bits !== undefined || options.curve !== undefined)
  )
    throw new TypeError('give either key or keyType/bits/curve, not both');
}

function cryptoOf(options: CryptoOptions): CryptoOptions {
  return options.crypto === undefined ? {} : { crypto: options.crypto };
}

function newKey(options: NewKeyOptions, crypto: CryptoOptions): Promise<PrivateKey> {
  return generateKeyPair({
    type: options.keyType ?? 'rsa',
    ...(options.bits === undefined ? {} : { bits: options.bits }),
    ...(options.curve === undefined ? {} : { curve: options.curve }),
    ...crypto,
  });
}

function checkDate(value: unknown, name: string): Date {
  // X.509 times have whole seconds.
  return new Date(Math.floor(validDate(value, name).getTime() / 1000) * 1000);
}

/** Turns validity options into two dates; never reads the clock. */
function resolveValidity(options: ValidityOptions): Validity {
  const hasBefore = options.notBefore !== undefined;
  const hasAfter = options.notAfter !== undefined;
  const hasDays = options.days !== undefined;
  if (hasAfter && hasDays) throw new TypeError('give notAfter or days, not both');
  if (hasBefore && options.at !== undefined && hasDays)
    throw new TypeError('days counts from notBefore or from at: give one of them');
  let notBefore: Date;
  let notAfter: Date;
  if (hasDays) {
    const days = options.days!;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 36_525)
      throw new RangeError('days must be a whole number of days from 1 to 36525');
    const start = hasBefore ? options.notBefore : options.at;
    if (start === undefined)
      throw new TypeError('days needs a start: give notBefore or at (e.g. at: new Date())');
    notBefore = checkDate(start, hasBefore ? 'notBefore' : 'at');
    notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  } else {
    if (!hasBefore || !hasAfter)
      throw new TypeError('give the validity: notBefore and notAfter, or days with notBefore or at');
    notBefore = checkDate(options.notBefore, 'notBefore');
    notAfter = checkDate(options.notAfter, 'notAfter');
  }
  if (notAfter.getTime() <= notBefore.getTime())
    throw new RangeError('notAfter must be later than notBefore');
  if (
    notBefore.getUTCFullYear() > 9999 ||
    notAfter.getUTCFullYear() > 9999 ||
    notBefore.getUTCFullYear() < 1950
  )
    throw new RangeError('validity must lie between the years 1950 and 9999');
  return { notBefore, notAfter };
}

function checkExtraExtensions(list: readonly ExtraExtension[] | undefined): Uint8Array[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError('extraExtensions must be an array');
  const own = new Set<string>([
    OID.subjectKeyIdentifier,
    OID.keyUsage,
    OID.subjectAltName,
    OID.basicConstraints,
    OID.authorityKeyIdentifier,
    OID.extendedKeyUsage,
  ]);
  const seen = new Set<string>();
  return list.map((e: ExtraExtension) => {
    if (typeof e !== 'object' || e === null || typeof e.oid !== 'string' || !(e.value instanceof Uint8Array))
      throw new TypeError(
        'each extra extension needs { oid: string, value: Uint8Array, critical?: boolean }',
      );
    if (own.has(e.oid)) throw new TypeError(`extension ${e.oid} is set by mailtls and cannot be added again`);
    if (seen.has(e.oid)) throw new TypeError(`extension ${e.oid} is listed twice`);
    seen.add(e.oid);
    return extension(e.oid, e.critical === true, e.value);
  });
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? encodeSequence(encodeOID(oid), encodeBoolean(true), encodeOctetString(value))
    : encodeSequence(encodeOID(oid), encodeOctetString(value));
}

/** A named-bit BIT STRING in DER form: trailing zero bits removed (X.690 §11.2.2). */
function encodeKeyUsage(bits: readonly number[]): Uint8Array {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return encodeTLV(Tag.BIT_STRING, Uint8Array.of(unused), bytes);
}

/** SHA-1 of the subjectPublicKey BIT STRING value (RFC 5280 §4.2.1.2 method 1). */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const r = DerReader.of(parseDer(spki), 'SubjectPublicKeyInfo');
  r.next('algorithm');
  return sha1(decodeBitString(r.expect(Tag.BIT_STRING, 'subjectPublicKey')).bytes);
}

function keyIdentifierExtensions(ski: Uint8Array, aki: Uint8Array): Uint8Array[] {
  return [
    extension(OID.subjectKeyIdentifier, false, encodeOctetString(ski)),
    extension(OID.authorityKeyIdentifier, false, encodeSequence(encodeImplicit(0, aki))),
  ];
}

function leafExtensions(
  keyType: KeyType,
  san: SubjectAltNames,
  ski: Uint8Array,
  aki: Uint8Array,
  clientAuth: boolean,
  extra: readonly Uint8Array[],
  emptySubject = false,
): Uint8Array[] {
  const usage: number[] = [KU.digitalSignature];
  if (keyType === 'rsa') usage.push(KU.keyEncipherment);
  const eku = [encodeOID(OID.serverAuth)];
  if (clientAuth) eku.push(encodeOID(OID.clientAuth));
  return [
    extension(OID.basicConstraints, true, encodeSequence()),
    extension(OID.keyUsage, true, encodeKeyUsage(usage)),
    extension(OID.extendedKeyUsage, false, encodeSequence(...eku)),
    ...keyIdentifierExtensions(ski, aki),
    // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical.
    extension(OID.subjectAltName, emptySubject, encodeSubjectAltName(san)),
    ...extra,
  ];
}

function caExtensions(ski: Uint8Array, aki: Uint8Array, pathLength: number | undefined): Uint8Array[] {
  const bc =
    pathLength === undefined
      ? encodeSequence(encodeBoolean(true))
      : encodeSequence(encodeBoolean(true), encodeInteger(pathLength));
  return [
    extension(OID.basicConstraints, true, bc),
    extension(OID.keyUsage, true, encodeKeyUsage([KU.keyCertSign, KU.cRLSign])),
    ...keyIdentifierExtensions(ski, aki),
  ];
}

/** 16 random bytes with the first bit clear and a non-zero first byte: positive, always 16 bytes. */
function randomSerial(crypto: CryptoOptions): Uint8Array {
  const c = crypto.crypto ?? globalThis.crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function')
    throw new TypeError('no WebCrypto implementation: pass { crypto } (e.g. globalThis.crypto)');
  const serial = new Uint8Array(16);
  do {
    c.getRandomValues(serial);
    serial[0]! &= 0x7f;
  } while (serial[0] === 0);
  return serial;
}

async function buildCertificate(
  subject: Uint8Array,
  issuer: Uint8Array,
  spki: Uint8Array,
  validity: Validity,
  extensions: readonly Uint8Array[],
  signer: PrivateKey,
  crypto: CryptoOptions,
): Promise<Pick<IssuedCertificate, 'certPEM' | 'certDER' | 'serialNumber' | 'notBefore' | 'notAfter'>> {
  const serial = randomSerial(crypto);
  const tbs = encodeSequence(
    encodeExplicit(0, encodeInteger(2)),
    encodeInteger(serial),
    signatureAlgorithmOf(signer),
    issuer,
    encodeSequence(encodeTime(validity.notBefore), encodeTime(validity.notAfter)),
    subject,
    spki,
    encodeExplicit(3, encodeSequence(...extensions)),
  );
  const certDER = await signStructure(tbs, signer, crypto);
  return {
    certPEM: encodePEM('CERTIFICATE', certDER),
    certDER,
    serialNumber: toHex(serial),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading the CA certificate and the CSR (with the certificate and CSR views of the package)

interface IssuerInfo {
  subject: Uint8Array;
  publicKey: PublicKey;
  keyIdentifier: Uint8Array;
  notAfter: Date;
  chainPEM: string;
}

function readIssuer(ca: CertificateAuthority | CertificateAuthorityInput): IssuerInfo {
  const isAuthority = 'certDER' in ca && ca.certDER instanceof Uint8Array;
  const input = isAuthority ? (ca as CertificateAuthority).certDER : (ca as CertificateAuthorityInput).cert;
  const chainPEM = ca.chainPEM;
  if (chainPEM !== undefined && typeof chainPEM !== 'string')
    throw new TypeError('ca.chainPEM must be PEM text');
  if (
    typeof input !== 'string' &&
    !(input instanceof Uint8Array) &&
    foreignCertificateDER(input) === undefined
  )
    throw new TypeError(
      'ca.cert must be PEM text, DER bytes or an X509Certificate (node:crypto or @peculiar/x509)',
    );
  const cert = parseCertificate(input);
  const notCA = (why: string): never => {
    throw new CertificateError(
      'ERR_CERT_ISSUE',
      `the certificate given as CA cannot issue certificates: ${why}`,
      {
        details: { reason: why, subject: cert.subject.toString() },
      },
    );
  };
  if (cert.publicKey === undefined) notCA(`its ${cert.publicKeyInfo.algorithm} key is not supported`);
  if (cert.basicConstraints?.ca !== true)
    notCA('it is not a CA certificate (basicConstraints CA:TRUE is missing)');
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes('keyCertSign'))
    notCA('its keyUsage does not allow keyCertSign');
  // A CertificateAuthority carries its own chain; for { cert, key } an intermediate's own certificate is
  // sent after the leaf (a root's is not: clients hold it).
  const chain =
    isAuthority || cert.selfIssued ? (chainPEM ?? '') : encodePEM('CERTIFICATE', cert.der) + (chainPEM ?? '');
  return {
    subject: cert.subject.der,
    publicKey: cert.publicKey!,
    keyIdentifier:
      cert.subjectKeyIdentifier === undefined ? keyIdentifier(cert.spki) : fromHex(cert.subjectKeyIdentifier),
    notAfter: cert.notAfter,
    chainPEM: chain,
  };
}

interface RequestInfo {
  subject: DistinguishedName;
  publicKey: PublicKey;
  dnsNames: string[];
  ipAddresses: string[];
}

/** Parses the CSR, verifies its self-signature and checks that it asks only for DNS names and IPs. */
async function readCSR(
  input: string | Uint8Array | PeculiarCSRObject,
  crypto: CryptoOptions,
): Promise<RequestInfo> {
  const csr = parseCSR(input);
  await verifyCSRSignature(csr, crypto);
  if (csr.publicKey === undefined)
    throw new CSRError(
      'ERR_CSR_INVALID',
      `the CSR holds a ${csr.publicKeyInfo.algorithm} key, which mailtls does not certify; create the CSR with ` +
        'an RSA, ECDSA (P-256/P-384) or Ed25519 key',
      { details: { algorithm: csr.publicKeyInfo.algorithm } },
    );
  const sanRequest = csr.getExtension('subjectAltName');
  if (sanRequest?.error !== undefined)
    throw new CSRError(
      'ERR_CSR_INVALID',
      `the CSR's subjectAltName request is malformed (${sanRequest.error}); create the CSR again`,
      { details: { reason: sanRequest.error } },
    );
  for (const name of csr.subjectAltNames ?? []) {
    if (name.type === 'dns' && /[^\x21-\x7e]/.test(name.value))
      throw new CSRError(
        'ERR_CSR_DNS_NAME',
        'the CSR asks for a DNS name with non-ASCII, space or control characters; create the CSR again with ' +
          'the name in its ASCII (xn--) form',
        { details: { name: name.value } },
      );
    if (name.type !== 'dns' && name.type !== 'ip')
      throw new CSRError(
        'ERR_CSR_SUBJECT',
        `the CSR asks for a subjectAltName of type ${name.type} (${quoteName(name.value)}); a mail server certificate ` +
          'takes DNS names and IP addresses only: create the CSR again without it',
        { details: { type: name.type } },
      );
  }
  return {
    subject: csr.subject,
    publicKey: csr.publicKey,
    dnsNames: [...csr.dnsNames],
    ipAddresses: [...csr.ipAddresses],
  };
}
