/**
 * Certificate and CSR objects of other libraries, read for their DER alone: node:crypto's `X509Certificate`
 * (its `raw` bytes) and @peculiar/x509's `X509Certificate` and `Pkcs10CertificateRequest` (their `rawData`,
 * the bytes they were parsed from). Nothing is re-encoded and neither library is imported: the objects are
 * recognised by their shape, and the DER is then parsed as strictly as any other input, so an object that
 * only looks like one fails like malformed DER would.
 *
 * @module internal/foreign
 */

/**
 * node:crypto's `X509Certificate` as mailtls reads it: only its DER (`raw`) is used.
 *
 * @example
 * ```ts
 * import { X509Certificate } from 'node:crypto';
 * const cert = parseCertificate(new X509Certificate(pem)); // same as parseCertificate(x.raw)
 * ```
 */
export interface NodeX509CertificateObject {
  /** The certificate's DER bytes. */
  readonly raw: Uint8Array;
  /** The SHA-256 fingerprint (part of the shape that tells it from other objects). */
  readonly fingerprint256: string;
  /** Part of the shape that tells it from other objects. */
  toLegacyObject(): object;
}

/**
 * @peculiar/x509's `X509Certificate` as mailtls reads it: only its DER (`rawData`) is used.
 *
 * @example
 * ```ts
 * import { X509Certificate } from '@peculiar/x509';
 * const cert = parseCertificate(new X509Certificate(pem));
 * ```
 */
export interface PeculiarX509CertificateObject {
  /** The certificate's DER bytes. */
  readonly rawData: ArrayBuffer;
  /** Part of the shape that tells a certificate from a CSR. */
  readonly issuerName: object;
  /** Part of the shape that tells a certificate from a CSR. */
  readonly serialNumber: string;
}

/**
 * @peculiar/x509's `Pkcs10CertificateRequest` as mailtls reads it: only its DER (`rawData`) is used.
 *
 * @example
 * ```ts
 * import { Pkcs10CertificateRequest } from '@peculiar/x509';
 * const csr = parseCSR(new Pkcs10CertificateRequest(pem));
 * ```
 */
export interface PeculiarCSRObject {
  /** The request's DER bytes. */
  readonly rawData: ArrayBuffer;
  /** Part of the shape that tells a CSR from a certificate. */
  readonly subjectName: object;
  /** Part of the shape that tells a CSR from a certificate. */
  readonly attributes: readonly object[];
}

/** A certificate object of another library: node:crypto's or @peculiar/x509's `X509Certificate`. */
export type ForeignCertificate = NodeX509CertificateObject | PeculiarX509CertificateObject;

/** The words for error messages that list what a certificate input may be. */
export const CERTIFICATE_INPUT_KINDS =
  'PEM text, DER bytes (Uint8Array), a Certificate or an X509Certificate (node:crypto or @peculiar/x509)';

function isArrayBuffer(value: unknown): value is ArrayBuffer {
  return value instanceof ArrayBuffer || Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** The PEM label @peculiar/x509 keeps in `tag` (a runtime property on its PEM-capable objects). */
function peculiarDER(value: unknown, tag: string): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { tag?: unknown; rawData?: unknown };
  if (v.tag !== tag) return undefined;
  const raw = v.rawData;
  return isArrayBuffer(raw) ? new Uint8Array(raw) : undefined;
}

/**
 * The DER of a certificate object of another library, or `undefined` when `value` is not one. node:crypto's
 * `X509Certificate` is told by its `raw` bytes together with its `fingerprint256` string and `checkHost` and
 * `toLegacyObject` methods (no node:crypto import is needed); @peculiar/x509's by its `CERTIFICATE` tag and
 * its `rawData` buffer.
 *
 * @throws Never.
 * @example
 * ```ts
 * const der = foreignCertificateDER(input);
 * if (der !== undefined) return certificateFromDER(der);
 * ```
 */
export function foreignCertificateDER(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (value instanceof Uint8Array) return undefined;
  const v = value as Partial<Record<'raw' | 'fingerprint256' | 'checkHost' | 'toLegacyObject', unknown>>;
  if (
    v.raw instanceof Uint8Array &&
    typeof v.fingerprint256 === 'string' &&
    typeof v.checkHost === 'function' &&
    typeof v.toLegacyObject === 'function'
  )
    return v.raw;
  return peculiarDER(value, 'CERTIFICATE');
}

/**
 * The DER of @peculiar/x509's `Pkcs10CertificateRequest`, or `undefined` when `value` is not one.
 *
 * @throws Never.
 * @example
 * ```ts
 * const der = foreignCSRDER(input);
 * ```
 */
export function foreignCSRDER(value: unknown): Uint8Array | undefined {
  return peculiarDER(value, 'CERTIFICATE REQUEST');
}
