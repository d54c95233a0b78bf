/**
 * Certificate bundles: every certificate of a PEM file (full chains, CA bundles), of DER files (one
 * certificate or several concatenated), and of PKCS#7 / `.p7b` SignedData "certs-only" bundles as resellers
 * send them (PEM `PKCS7` or DER).
 *
 * @module bundle
 */
export * from '../internal/x509/bundle.js';
