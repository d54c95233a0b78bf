/**
 * The error model of mailtls.
 *
 * Every failure caused by input (a file, a certificate, a peer) is a {@link MailTlsError} with a stable
 * `code` of the form `ERR_<AREA>_<WHAT>`, a message that tells an administrator what to do, and structured
 * `details`. Programmer mistakes (a wrong argument type, an out-of-range option) are plain `TypeError` or
 * `RangeError`. Messages and details never contain private-key bytes.
 *
 * @module errors
 */
export * from './internal/errors.js';
