/**
 * X.509 certificates: a fast, typed, read-only view of a DER or PEM certificate (RFC 5280).
 *
 * {@link parseCertificate} checks the whole structure eagerly (a malformed certificate fails at once, with the
 * field path and byte offset of the break) but decodes lazily what only some callers read: extension values
 * are decoded on first access, the public key object and fingerprints are computed on demand and cached.
 *
 * @module certificate
 */
export * from '../internal/x509/certificate.js';
