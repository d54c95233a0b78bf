/**
 * The certificate profile a path validator enforces on each certificate, by its role in the path (leaf,
 * intermediate, trust anchor): structure, extensions, keys, CA flags, validity and extended key usage. The
 * checks that need two certificates (signatures, path length, name constraints) live in verify-chain.ts.
 * Internal; the policy is documented on src/chain/verify-chain.ts, which re-exports the vocabulary defined here
 * ({@link ChainPurpose}, {@link ChainFailureReason}) so that this layer imports nothing from it.
 *
 * @module internal/chain/policy
 */

import { equalBytes } from '../encoding/bytes.js';
import { DerReader, parseDer, rawOf, Tag, valueBytes } from '../encoding/der.js';
import { ExtensionOID } from '../encoding/oids.js';
import type { ChainErrorCode } from '../errors.js';
import { quoteName } from '../names/dns-name.js';
import type { Certificate } from '../x509/certificate.js';
import { nameEquals } from '../x509/name.js';

/** What the leaf must be good for: a TLS server (default), a TLS client, or anything. */
export type ChainPurpose = 'serverAuth' | 'clientAuth' | 'any';

/** Why a validation failed: `details.reason` of a `ChainError` from `verifyChain`. */
export type ChainFailureReason =
  /** No certificate with the issuer's name (and key identifier) was given. */
  | 'unknown-issuer'
  /** The path ends at a self-signed certificate that is not a trust anchor. */
  | 'untrusted-root'
  | 'expired'
  | 'not-yet-valid'
  /** A signature does not verify with the issuer's key. */
  | 'bad-signature'
  /** A signature uses an algorithm or key mailtls cannot verify. */
  | 'unsupported-signature'
  /** A signature uses MD5 or SHA-1. */
  | 'weak-signature'
  /** An issuer is not a CA certificate. */
  | 'not-ca'
  | 'path-length'
  | 'key-usage'
  | 'extended-key-usage'
  | 'name-constraints'
  | 'critical-extension'
  | 'hostname-mismatch'
  | 'ip-mismatch'
  | 'email-mismatch'
  /** The leaf's Common Name is not one of its subjectAltName entries. */
  | 'common-name'
  | 'revoked'
  | 'crl-invalid'
  /** Every path needs more intermediates than `maxDepth`. */
  | 'too-deep'
  /** More signature checks than `maxSignatureChecks`, or more path steps than the step budget. */
  | 'budget'
  | 'version'
  | 'malformed-certificate'
  | 'malformed-extension'
  | 'extension-criticality'
  | 'unsupported-key'
  | 'weak-key'
  | 'signature-algorithm-mismatch'
  | 'basic-constraints'
  | 'name-constraints-in-leaf'
  | 'subject-alt-name'
  | 'serial-number'
  | 'empty-name'
  | 'key-identifier';

/** A reason why a path (or one step of it) is not valid. */
export interface Failure {
  readonly code: ChainErrorCode;
  readonly reason: ChainFailureReason;
  /** What is wrong and what to do, for an administrator. */
  readonly message: string;
  /** The certificate at fault. */
  readonly certificate?: Certificate | undefined;
  /** JSON-safe facts. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The role of a certificate in a path. */
export type Role = 'leaf' | 'intermediate' | 'anchor';

/** `"CN=mail.example.com,O=Example"` (or the serial number for an empty subject), quoted for messages. */
export function describe(cert: Certificate): string {
  const s = cert.subject.toString();
  return s === '' ? `with serial number ${cert.serialNumber} (empty subject)` : quoteName(s);
}

/** `the certificate "CN=..."`, `the intermediate certificate "..."`, `the trusted root "..."`. */
export function label(cert: Certificate, role: Role): string {
  const what =
    role === 'leaf'
      ? 'the certificate'
      : role === 'intermediate'
        ? 'the intermediate CA certificate'
        : 'the trusted root';
  return `${what} ${describe(cert)}`;
}

function fail(
  code: ChainErrorCode,
  reason: ChainFailureReason,
  cert: Certificate,
  message: string,
  details: Record<string, unknown> = {},
): Failure {
  return {
    code,
    reason,
    message,
    certificate: cert,
    details: { subject: cert.subject.toString(), ...details },
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Critical extensions the validator processes (others, when critical, make a certificate unusable). */
const PROCESSED_CRITICAL = new Set<string>([
  ExtensionOID.basicConstraints,
  ExtensionOID.keyUsage,
  ExtensionOID.extendedKeyUsage,
  ExtensionOID.subjectAltName,
  ExtensionOID.nameConstraints,
  ExtensionOID.certificatePolicies,
  ExtensionOID.policyConstraints,
  ExtensionOID.policyMappings,
  ExtensionOID.inhibitAnyPolicy,
  ExtensionOID.crlDistributionPoints,
]);

/** Extensions RFC 5280 says conforming CAs MUST mark non-critical. */
const MUST_BE_NON_CRITICAL = new Set<string>([
  ExtensionOID.authorityKeyIdentifier,
  ExtensionOID.subjectKeyIdentifier,
  ExtensionOID.authorityInfoAccess,
  ExtensionOID.subjectInfoAccess,
]);

/** Extensions RFC 5280 says conforming CAs MUST mark critical. */
const MUST_BE_CRITICAL = new Set<string>([ExtensionOID.policyConstraints]);

interface Raw {
  readonly serial: Uint8Array;
  readonly innerAlgorithm: Uint8Array;
  readonly outerAlgorithm: Uint8Array;
  /** The signature BIT STRING claims unused bits (not DER for a signature). */
  readonly padded: boolean;
}

function rawFields(cert: Certificate): Raw {
  const outer = DerReader.of(parseDer(cert.der), 'Certificate');
  const tbs = DerReader.of(outer.expect(Tag.SEQUENCE, 'tbsCertificate'), 'tbsCertificate');
  const outerAlgorithm = rawOf(outer.expect(Tag.SEQUENCE, 'signatureAlgorithm'));
  const signature = outer.expect(Tag.BIT_STRING, 'signatureValue');
  const padded = signature.end === signature.valueStart || cert.der[signature.valueStart] !== 0;
  tbs.optional(0xa0);
  const serial = valueBytes(tbs.expect(Tag.INTEGER, 'serialNumber'));
  const innerAlgorithm = rawOf(tbs.expect(Tag.SEQUENCE, 'signature'));
  return { serial, innerAlgorithm, outerAlgorithm, padded };
}

/** Why the key cannot be trusted under the key policy, or undefined. */
function keyProblem(cert: Certificate): string | undefined {
  const k = cert.publicKeyInfo;
  switch (k.type) {
    case 'rsa':
      if (k.bits === undefined) return 'its RSA key is malformed';
      if (k.bits < 2048) return `its RSA key has ${k.bits} bits; at least 2048 are required`;
      if (k.bits % 8 !== 0) return `its RSA key has ${k.bits} bits, not a multiple of 8`;
      return undefined;
    case 'ec':
      return k.curve === 'P-256' || k.curve === 'P-384' || k.curve === 'P-521'
        ? undefined
        : `its EC key uses ${k.curve ?? 'an unknown curve'}; only the named curves P-256, P-384 and P-521 are accepted`;
    case 'ed25519':
      return undefined;
    default:
      return `its ${k.algorithm} key is not supported (RSA, ECDSA P-256/P-384/P-521 and Ed25519 are)`;
  }
}

const profileCache = new WeakMap<Certificate, Map<Role, Failure | null>>();

/**
 * The first way `cert` breaks the profile for `role`, or undefined. Time- and purpose-independent, so
 * cached per certificate and role.
 */
export function profileFailure(cert: Certificate, role: Role): Failure | undefined {
  let m = profileCache.get(cert);
  if (m === undefined) {
    m = new Map();
    profileCache.set(cert, m);
  }
  let f = m.get(role);
  if (f === undefined) {
    f = computeProfileFailure(cert, role) ?? null;
    m.set(role, f);
  }
  return f ?? undefined;
}

function computeProfileFailure(cert: Certificate, role: Role): Failure | undefined {
  const who = label(cert, role);
  const Who = capital(who);
  const reissue =
    role === 'anchor'
      ? 'Remove it from the trusted roots, or get a corrected root from its CA.'
      : 'The CA must issue a corrected certificate.';
  if (cert.version !== 3)
    return fail(
      'ERR_CHAIN_INVALID',
      'version',
      cert,
      `${Who} is an X.509 version ${cert.version} certificate; only version 3 certificates are accepted. ${reissue}`,
      { version: cert.version },
    );
  for (const e of cert.extensions) {
    if (e.error !== undefined)
      return fail(
        'ERR_CHAIN_INVALID',
        'malformed-extension',
        cert,
        `${Who} has a malformed ${e.name} extension (${e.error}). ${reissue}`,
        { extension: e.oid, error: e.error },
      );
    if (e.critical && (!e.known || !PROCESSED_CRITICAL.has(e.oid)) && !MUST_BE_NON_CRITICAL.has(e.oid))
      return fail(
        'ERR_CHAIN_CRITICAL_EXTENSION',
        'critical-extension',
        cert,
        `${Who} has a critical ${e.name} extension that mailtls does not process; RFC 5280 requires rejecting it. ${reissue}`,
        { extension: e.oid },
      );
    if (e.critical && MUST_BE_NON_CRITICAL.has(e.oid))
      return fail(
        'ERR_CHAIN_INVALID',
        'extension-criticality',
        cert,
        `${Who} marks its ${e.name} extension critical, which RFC 5280 forbids. ${reissue}`,
        { extension: e.oid },
      );
    if (!e.critical && MUST_BE_CRITICAL.has(e.oid))
      return fail(
        'ERR_CHAIN_INVALID',
        'extension-criticality',
        cert,
        `${Who} has a non-critical ${e.name} extension, which RFC 5280 requires to be critical. ${reissue}`,
        { extension: e.oid },
      );
  }
  const key = keyProblem(cert);
  if (key !== undefined)
    return fail(
      'ERR_CHAIN_INVALID',
      cert.publicKeyInfo.type === 'other' || cert.publicKeyInfo.type === 'ec'
        ? 'unsupported-key'
        : 'weak-key',
      cert,
      `${Who} cannot be accepted: ${key}. ${reissue}`,
      {
        key: cert.publicKeyInfo.algorithm,
        ...(cert.publicKeyInfo.bits === undefined ? {} : { bits: cert.publicKeyInfo.bits }),
      },
    );
  let raw: Raw;
  try {
    raw = rawFields(cert);
  } catch {
    return fail('ERR_CHAIN_INVALID', 'malformed-certificate', cert, `${Who} is malformed. ${reissue}`);
  }
  if (raw.padded)
    return fail(
      'ERR_CHAIN_INVALID',
      'malformed-certificate',
      cert,
      `${Who} has a signature BIT STRING with unused bits, which no signature algorithm produces; it has been altered. ${reissue}`,
    );
  if (!equalBytes(raw.innerAlgorithm, raw.outerAlgorithm))
    return fail(
      'ERR_CHAIN_INVALID',
      'signature-algorithm-mismatch',
      cert,
      `${Who} names a different signature algorithm inside the signed part than outside it (RFC 5280 §4.1.1.2); it has been altered or badly made. ${reissue}`,
    );
  const bc = cert.basicConstraints;
  const ku = cert.keyUsage;
  const certSign = ku?.includes('keyCertSign') ?? false;
  if (certSign && bc?.ca !== true)
    return fail(
      'ERR_CHAIN_KEY_USAGE',
      'key-usage',
      cert,
      `${Who} allows keyCertSign in keyUsage but is not a CA (basicConstraints CA:TRUE is missing), which RFC 5280 §4.2.1.3 forbids. ${reissue}`,
    );
  if (bc?.ca === true && ku !== undefined && !certSign)
    return fail(
      'ERR_CHAIN_KEY_USAGE',
      'key-usage',
      cert,
      `${Who} is marked as a CA (basicConstraints CA:TRUE) but its keyUsage does not allow keyCertSign, an inconsistent combination. ${reissue}`,
    );
  if (bc?.pathLength !== undefined && bc.ca !== true)
    return fail(
      'ERR_CHAIN_INVALID',
      'basic-constraints',
      cert,
      `${Who} has a path length constraint without being a CA (RFC 5280 §4.2.1.9). ${reissue}`,
    );
  if (cert.nameConstraints !== undefined && bc?.ca !== true)
    return fail(
      'ERR_CHAIN_INVALID',
      'name-constraints-in-leaf',
      cert,
      `${Who} has a nameConstraints extension but is not a CA; RFC 5280 §4.2.1.10 allows it only in CA certificates. ${reissue}`,
    );
  const emptySubject = cert.subject.rdns.length === 0;
  const san = cert.getExtension(ExtensionOID.subjectAltName);
  if (emptySubject && (san === undefined || !san.critical) && role === 'leaf')
    return fail(
      'ERR_CHAIN_INVALID',
      'subject-alt-name',
      cert,
      `${Who} has an empty subject and no critical subjectAltName extension; RFC 5280 §4.2.1.6 requires one. ${reissue}`,
    );
  if (!emptySubject && san?.critical === true && role === 'leaf')
    return fail(
      'ERR_CHAIN_INVALID',
      'subject-alt-name',
      cert,
      `${Who} marks its subjectAltName critical although its subject is not empty (CA/Browser Forum BR §7.1.2.7.12). ${reissue}`,
    );
  if (role !== 'anchor') {
    const serialFault = serialProblem(raw.serial);
    if (serialFault !== undefined)
      return fail(
        'ERR_CHAIN_INVALID',
        'serial-number',
        cert,
        `${Who} has ${serialFault}; RFC 5280 §4.1.2.2 requires a positive serial number of at most 20 octets. ${reissue}`,
        { serialNumber: cert.serialNumber },
      );
    if (cert.issuer.rdns.length === 0)
      return fail(
        'ERR_CHAIN_INVALID',
        'empty-name',
        cert,
        `${Who} has an empty issuer name, which RFC 5280 §4.1.2.4 forbids. ${reissue}`,
      );
    if (!cert.selfIssued && cert.authorityKeyIdentifier?.keyIdentifier === undefined)
      return fail(
        'ERR_CHAIN_INVALID',
        'key-identifier',
        cert,
        `${Who} has no authority key identifier, which RFC 5280 §4.2.1.1 requires in every certificate that is not self-signed. ${reissue}`,
      );
  }
  if (role === 'leaf') return undefined;

  // Certificates that issue others.
  if (bc?.ca !== true)
    return fail(
      'ERR_CHAIN_NOT_CA',
      'not-ca',
      cert,
      `${Who} is used as an issuer but is not a CA certificate (${bc === undefined ? 'it has no basicConstraints extension' : 'basicConstraints says CA:FALSE'}). ${role === 'anchor' ? 'Trust the real root CA instead.' : 'The server must send the correct intermediate certificate.'}`,
    );
  if (ku !== undefined && !certSign)
    return fail(
      'ERR_CHAIN_KEY_USAGE',
      'key-usage',
      cert,
      `${Who} may not sign certificates: its keyUsage lacks keyCertSign. ${reissue}`,
    );
  if (emptySubject)
    return fail(
      'ERR_CHAIN_INVALID',
      'empty-name',
      cert,
      `${Who} is a CA with an empty subject, which RFC 5280 §4.1.2.6 forbids. ${reissue}`,
    );
  if (role === 'intermediate' && cert.subjectKeyIdentifier === undefined)
    return fail(
      'ERR_CHAIN_INVALID',
      'key-identifier',
      cert,
      `${Who} has no subject key identifier, which RFC 5280 §4.2.1.2 requires in every CA certificate. ${reissue}`,
    );
  if (role === 'anchor' && cert.selfIssued) {
    const aki = cert.authorityKeyIdentifier;
    if (aki !== undefined) {
      const ski = cert.subjectKeyIdentifier;
      if (aki.keyIdentifier === undefined)
        return fail(
          'ERR_CHAIN_INVALID',
          'key-identifier',
          cert,
          `${Who} has an authority key identifier without a keyIdentifier (CA/Browser Forum BR §7.1.2.1.3). ${reissue}`,
        );
      if (ski !== undefined && aki.keyIdentifier !== ski)
        return fail(
          'ERR_CHAIN_INVALID',
          'key-identifier',
          cert,
          `${Who} is self-signed but its authority key identifier differs from its subject key identifier. ${reissue}`,
        );
      const names = aki.issuer;
      if (
        (aki.serialNumber !== undefined && aki.serialNumber !== cert.serialNumber) ||
        (names !== undefined &&
          !names.some((n) => n.type === 'directoryName' && nameEquals(n.name, cert.issuer)))
      )
        return fail(
          'ERR_CHAIN_INVALID',
          'key-identifier',
          cert,
          `${Who} is self-signed but its authority key identifier names another issuer or serial number. ${reissue}`,
        );
    }
  }
  return undefined;
}

function serialProblem(v: Uint8Array): string | undefined {
  if (v.length === 0) return 'an empty serial number';
  if ((v[0]! & 0x80) !== 0) return 'a negative serial number';
  let zero = true;
  for (const b of v) if (b !== 0) zero = false;
  if (zero) return 'the serial number 0';
  const magnitude = v.length > 1 && v[0] === 0 ? v.length - 1 : v.length;
  if (magnitude > 20) return `a serial number of ${magnitude} octets`;
  return undefined;
}

/** Whether `at` (whole seconds, as X.509 times are) is outside the validity period. */
export function validityFailure(cert: Certificate, atSeconds: number, role: Role): Failure | undefined {
  const who = capital(label(cert, role));
  const renew =
    role === 'leaf'
      ? 'Renew the certificate.'
      : role === 'intermediate'
        ? `Install the current intermediate certificate from the CA${aiaHint(cert)}.`
        : 'Update the trusted roots.';
  if (atSeconds < cert.notBefore.getTime())
    return fail(
      'ERR_CHAIN_NOT_YET_VALID',
      'not-yet-valid',
      cert,
      `${who} is not valid before ${cert.notBefore.toISOString()} (checked at ${new Date(atSeconds).toISOString()}). Check the system clock, or wait.`,
      { notBefore: cert.notBefore.toISOString(), at: new Date(atSeconds).toISOString() },
    );
  if (atSeconds > cert.notAfter.getTime())
    return fail(
      'ERR_CHAIN_EXPIRED',
      'expired',
      cert,
      `${who} expired on ${cert.notAfter.toISOString()} (checked at ${new Date(atSeconds).toISOString()}). ${renew}`,
      { notAfter: cert.notAfter.toISOString(), at: new Date(atSeconds).toISOString() },
    );
  return undefined;
}

/** ` (it is published at http://...)` when the certificate's issuer says where. */
export function aiaHint(cert: Certificate): string {
  const url = cert.authorityInfoAccess.caIssuers[0];
  return url === undefined ? '' : ` (its issuer is published at ${url})`;
}

const EKU_PURPOSE: Readonly<Record<Exclude<ChainPurpose, 'any'>, string>> = {
  serverAuth: 'serverAuth',
  clientAuth: 'clientAuth',
};

/** Whether the extended key usage of `cert` allows `purpose` (absent EKU allows everything). */
export function ekuFailure(cert: Certificate, purpose: ChainPurpose, role: Role): Failure | undefined {
  if (purpose === 'any') return undefined;
  const eku = cert.extendedKeyUsage;
  if (eku === undefined) return undefined;
  const want = EKU_PURPOSE[purpose];
  if (eku.includes(want) || eku.includes('anyExtendedKeyUsage')) return undefined;
  return fail(
    'ERR_CHAIN_EXTENDED_KEY_USAGE',
    'extended-key-usage',
    cert,
    `${capital(label(cert, role))} is not valid for ${purpose === 'serverAuth' ? 'TLS servers' : 'TLS clients'}: its extendedKeyUsage allows only ${eku.join(', ')}. ${
      role === 'leaf'
        ? `Get a certificate with extendedKeyUsage ${want}.`
        : `The CA certificate restricts what it may certify; use a chain whose CAs allow ${want}.`
    }`,
    { purpose: want, extendedKeyUsage: [...eku] },
  );
}
