/**
 * X.509 v3 extensions (RFC 5280 §4.2 and friends): decoding of the extensions a mail server administrator
 * and a chain validator need, plus general names and their text forms.
 *
 * Decoding never throws for a malformed extension value: an {@link Extension} records `error` instead, so that
 * unknown and broken non-critical extensions are shown, not fatal. A chain validator must reject a
 * certificate whose critical extension is unknown or has an `error`.
 *
 * @module extensions
 */
export * from '../internal/x509/extensions.js';
