/**
 * X.501 distinguished names: a typed view of a DER `Name`, its RFC 4514 string, parsing of RFC 4514 strings
 * into DER, and the RFC 5280 §7.1 comparison that chain building needs.
 *
 * @module name
 */
export * from '../internal/x509/name.js';
