/**
 * Certificate sets for chain building: reading certificate inputs (PEM bundles, DER, parsed views), and an
 * index by subject name and subject key identifier so that finding the issuers of a certificate costs the
 * same with ten or ten thousand certificates in the pool. Internal to chain.ts and verify-chain.ts.
 *
 * @module internal/chain/certificate-index
 */

import { equalBytes, toBase64 } from '../encoding/bytes.js';
import { CERTIFICATE_INPUT_KINDS, type ForeignCertificate, foreignCertificateDER } from '../foreign.js';
import { parseCertificateBundle } from '../x509/bundle.js';
import {
  type Certificate,
  certificateFromDER,
  isCertificate,
  parseCertificate,
} from '../x509/certificate.js';
import { nameKey } from '../x509/name.js';

/**
 * One certificate as a caller may give it: PEM text, DER bytes, a parsed view, or node:crypto's or
 * @peculiar/x509's `X509Certificate` (read for its DER, not re-encoded).
 */
export type CertificateInput = string | Uint8Array | Certificate | ForeignCertificate;

/**
 * Several certificates: a PEM bundle, DER bytes (one or concatenated), a view, or a list of those (an
 * `X509Certificates` list of @peculiar/x509 is such a list).
 */
export type CertificateSource = CertificateInput | readonly CertificateInput[];

/** Whether two certificates have the same DER bytes. */
export function sameDER(a: Certificate, b: Certificate): boolean {
  return a === b || (a.der.length === b.der.length && equalBytes(a.der, b.der));
}

/**
 * A short map key for a certificate: its length and the tail of its DER (signature bytes, effectively
 * random). Not unique by itself: the index compares the full DER within a bucket.
 */
function shortKey(cert: Certificate): string {
  const der = cert.der;
  return `${der.length}:${toBase64(der.subarray(Math.max(0, der.length - 24)))}`;
}

/** The RFC 5280 comparison key of the subject (cached by name.ts). */
export function subjectKey(cert: Certificate): string {
  return nameKey(cert.subject);
}

/** The RFC 5280 comparison key of the issuer name. */
export function issuerKey(cert: Certificate): string {
  return nameKey(cert.issuer);
}

/** Same subject and same public key: the same logical CA (RFC 4158 loop detection). */
export function sameEntity(a: Certificate, b: Certificate): boolean {
  return a === b || (subjectKey(a) === subjectKey(b) && equalBytes(a.spki, b.spki));
}

/**
 * Reads certificates from any {@link CertificateSource}, in order. `maxCertificates` bounds PEM/DER bundles.
 * Throws the parse errors of the bundle and certificate parsers; TypeError for other value types.
 */
export function readCertificates(
  source: CertificateSource,
  what: string,
  maxCertificates = 100_000,
): Certificate[] {
  const out: Certificate[] = [];
  const one = (input: unknown, i: number | undefined) => {
    if (isCertificate(input)) out.push(input);
    else if (typeof input === 'string' && input.trim() === '') return;
    else if (typeof input === 'string' || input instanceof Uint8Array)
      out.push(...parseCertificateBundle(input, { maxCertificates }).certificates);
    else {
      const der = foreignCertificateDER(input);
      if (der === undefined)
        throw new TypeError(`${what}${i === undefined ? '' : `[${i}]`} must be ${CERTIFICATE_INPUT_KINDS}`);
      out.push(certificateFromDER(der));
    }
  };
  if (Array.isArray(source)) {
    for (let i = 0; i < source.length; i++) one(source[i], i);
  } else one(source, undefined);
  return out;
}

/**
 * Reads one certificate (the first of PEM text) plus whatever else the text holds (a `fullchain.pem` gives
 * the leaf and its intermediates).
 */
export function readLeaf(input: CertificateInput, what: string): { leaf: Certificate; rest: Certificate[] } {
  if (isCertificate(input)) return { leaf: input, rest: [] };
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    const der = foreignCertificateDER(input);
    if (der === undefined) throw new TypeError(`${what} must be ${CERTIFICATE_INPUT_KINDS}`);
    return { leaf: certificateFromDER(der), rest: [] };
  }
  const [leaf, ...rest] = readCertificates(input, what);
  return { leaf: leaf ?? parseCertificate(input), rest };
}

/** An index of certificates by DER, subject name and subject key identifier. */
export class CertificateIndex {
  readonly list: Certificate[] = [];
  readonly #byDER = new Map<string, Certificate[]>();
  readonly #bySubject = new Map<string, Certificate[]>();
  readonly #bySKI = new Map<string, Certificate[]>();

  constructor(certs: Iterable<Certificate> = []) {
    for (const c of certs) this.add(c);
  }

  get size(): number {
    return this.list.length;
  }

  /** Adds a certificate; false (and nothing added) when the same DER is already in. */
  add(cert: Certificate): boolean {
    const k = shortKey(cert);
    const bucket = this.#byDER.get(k);
    if (bucket === undefined) this.#byDER.set(k, [cert]);
    else if (bucket.some((c) => sameDER(c, cert))) return false;
    else bucket.push(cert);
    this.list.push(cert);
    push(this.#bySubject, subjectKey(cert), cert);
    const ski = cert.subjectKeyIdentifier;
    if (ski !== undefined) push(this.#bySKI, ski, cert);
    return true;
  }

  /** The indexed certificate with the same DER bytes, if any. */
  get(cert: Certificate): Certificate | undefined {
    return this.#byDER.get(shortKey(cert))?.find((c) => sameDER(c, cert));
  }

  has(cert: Certificate): boolean {
    return this.get(cert) !== undefined;
  }

  /** Certificates whose subject equals `key` (a {@link subjectKey}). */
  withSubject(key: string): readonly Certificate[] {
    return this.#bySubject.get(key) ?? EMPTY;
  }

  /**
   * The possible issuers of `child`: subject equal to the child's issuer name, and a subject key
   * identifier equal to the child's authority key identifier when both are present (a mismatch means a
   * different key, as OpenSSL also decides). Candidates whose key identifier matches come first.
   */
  issuersOf(child: Certificate): Certificate[] {
    const key = issuerKey(child);
    const aki = child.authorityKeyIdentifier;
    const kid = aki?.keyIdentifier;
    if (kid === undefined) return [...this.withSubject(key)];
    const matching: Certificate[] = [];
    for (const c of this.#bySKI.get(kid) ?? EMPTY) if (subjectKey(c) === key) matching.push(c);
    for (const c of this.withSubject(key)) if (c.subjectKeyIdentifier === undefined) matching.push(c);
    return matching;
  }
}

const EMPTY: readonly Certificate[] = Object.freeze([]);

function push(map: Map<string, Certificate[]>, key: string, cert: Certificate): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [cert]);
  else list.push(cert);
}
