/**
 * IP address text: a strict parser and the RFC 5952 formatter.
 *
 * Certificates carry IP addresses as raw bytes (the subjectAltName `iPAddress`: 4 bytes for IPv4, 16 for
 * IPv6), and a host name check compares those bytes, never text. {@link parseIPAddress} turns the text an
 * administrator or a URL gives into those bytes; {@link formatIPAddress} turns bytes back into the one
 * canonical text (dotted quad, RFC 5952 for IPv6), which the certificate parser uses for
 * `ipAddresses`.
 *
 * The parser is deliberately strict, because a lenient IP parser is how `http://0x7f.1/` style confusions
 * happen:
 * - IPv4 is exactly four decimal numbers 0-255 separated by dots. No octal (`010.0.0.1`), hex (`0x7f.0.0.1`),
 *   short (`127.1`) or integer (`2130706433`) forms, no leading zeros, no trailing dot.
 * - IPv6 follows RFC 4291 §2.2: eight groups of 1-4 hex digits, at most one `::`, an optional dotted-quad
 *   IPv4 tail (itself strict). Case is ignored. Square brackets (`[::1]`, the URL form of RFC 3986) are
 *   accepted around IPv6 only. A zone identifier (`fe80::1%eth0`) is rejected: zones are local to one host
 *   and never appear in certificates.
 * - No whitespace anywhere.
 *
 * @module ip-address
 */
export * from '../internal/names/ip-address.js';
