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
 * @module internal/names/ip-address
 */
import { HostnameError } from '../errors.js';

/** The longest IP text worth reading: a bracketed IPv6 with an IPv4 tail and every leading zero is 47. */
const MAX_IP_TEXT = 64;

function parseIPv4Into(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let octets = 0;
  let i = start;
  while (octets < 4) {
    let value = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      digits++;
      i++;
      if (digits > 3) return false;
    }
    if (digits === 0 || value > 255) return false;
    // A leading zero would be octal to inet_aton and to many URL parsers: refuse the ambiguity.
    if (digits > 1 && text.charCodeAt(first) === 48) return false;
    out[at + octets] = value;
    octets++;
    if (octets < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === end;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIPv6(text: string, start: number, end: number): Uint8Array | undefined {
  const out = new Uint8Array(16);
  let group = 0; // groups written so far (each 2 bytes)
  let compressAt = -1; // group index where "::" stands
  let i = start;
  if (i < end && text.charCodeAt(i) === 58) {
    // Leading "::" is the only way a text may start with a colon.
    if (i + 1 >= end || text.charCodeAt(i + 1) !== 58) return undefined;
    compressAt = 0;
    i += 2;
    if (i === end) return out; // "::"
  }
  while (i < end) {
    if (group === 8) return undefined;
    // Is this group an IPv4 tail? Look ahead for a dot before the next colon.
    let j = i;
    let sawDot = false;
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c === 58) break;
      if (c === 46) sawDot = true;
      j++;
    }
    if (sawDot) {
      if (j !== end || group > 6) return undefined;
      if (!parseIPv4Into(text, i, end, out, group * 2)) return undefined;
      group += 2;
      i = end;
      break;
    }
    let value = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
      i++;
      if (digits > 4) return undefined;
    }
    if (digits === 0) return undefined;
    out[group * 2] = value >> 8;
    out[group * 2 + 1] = value & 0xff;
    group++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (compressAt >= 0) return undefined; // a second "::"
      compressAt = group;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return undefined; // a single trailing colon
    }
  }
  if (compressAt < 0) return group === 8 ? out : undefined;
  if (group === 8) return undefined; // "::" must stand for at least one group
  // Move the groups written after "::" to the end.
  const tail = (group - compressAt) * 2;
  const from = compressAt * 2;
  out.copyWithin(16 - tail, from, from + tail);
  out.fill(0, from, 16 - tail);
  return out;
}

/**
 * Reads an IPv4 or IPv6 address in text form into its bytes (4 or 16), or `undefined` when the text is not
 * an IP address in the strict form described in the module notes.
 *
 * @param text - `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, `::ffff:192.0.2.1`.
 * @returns 4 bytes for IPv4, 16 bytes for IPv6, or `undefined`.
 * @throws TypeError when `text` is not a string.
 *
 * @example
 * ```ts
 * parseIPAddress('192.0.2.1');   // Uint8Array [192, 0, 2, 1]
 * parseIPAddress('[::1]');       // 16 bytes, the last one 1
 * parseIPAddress('127.1');       // undefined: short forms are refused
 * parseIPAddress('fe80::1%eth0'); // undefined: zone identifiers are refused
 * ```
 */
export function parseIPAddress(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') throw new TypeError('parseIPAddress: text must be a string');
  const n = text.length;
  if (n === 0 || n > MAX_IP_TEXT) return undefined;
  if (text.charCodeAt(0) === 91) {
    // "[...]" is the URL form of an IPv6 literal; IPv4 never takes brackets.
    if (n < 3 || text.charCodeAt(n - 1) !== 93) return undefined;
    if (text.indexOf(':') < 0) return undefined;
    return parseIPv6(text, 1, n - 1);
  }
  if (text.indexOf(':') >= 0) return parseIPv6(text, 0, n);
  const out = new Uint8Array(4);
  return parseIPv4Into(text, 0, n, out, 0) ? out : undefined;
}

/**
 * Tells whether a text is an IP address in the strict form {@link parseIPAddress} accepts.
 *
 * @throws TypeError when `text` is not a string.
 * @example
 * ```ts
 * isIPAddress('10.0.0.1'); // true
 * isIPAddress('10.1');     // false
 * ```
 */
export function isIPAddress(text: string): boolean {
  return parseIPAddress(text) !== undefined;
}

/**
 * Writes the canonical text of an IP address: a dotted quad for 4 bytes; for 16 bytes the RFC 5952 form
 * (lower-case hex, no leading zeros, the longest run of two or more zero groups shortened to `::`, the
 * first such run on a tie) and, as RFC 5952 §5 recommends, `::ffff:a.b.c.d` for IPv4-mapped addresses.
 *
 * @param bytes - exactly 4 or 16 bytes, as in a certificate's iPAddress subjectAltName.
 * @returns the canonical text, without brackets.
 * @throws TypeError when `bytes` is not a Uint8Array; RangeError when its length is not 4 or 16 (a
 *   certificate parser must check the length of an iPAddress entry before formatting it).
 *
 * @example
 * ```ts
 * formatIPAddress(new Uint8Array([192, 0, 2, 1])); // '192.0.2.1'
 * formatIPAddress(parseIPAddress('2001:0DB8:0:0:1:0:0:1')!); // '2001:db8::1:0:0:1'
 * ```
 */
export function formatIPAddress(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('formatIPAddress: bytes must be a Uint8Array');
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new RangeError(`formatIPAddress: an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push((bytes[g * 2]! << 8) | bytes[g * 2 + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses (::ffff:0:0/96) keep the IPv4 tail in dotted form.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    if (groups[5] === 0xffff) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never shortened (RFC 5952 §4.2.2)
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let end = g;
    while (end < 8 && groups[end] === 0) end++;
    if (end - g > bestLength) {
      bestStart = g;
      bestLength = end - g;
    }
    g = end;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((v) => v.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * Gives the canonical text of an IP address text: the composition of {@link parseIPAddress} and
 * {@link formatIPAddress}. Throws for text that is not an IP address, as `canonicalizeHostname` does for a
 * name that is not a host name; {@link tryCanonicalizeIPAddress} answers `undefined` instead.
 *
 * @throws {HostnameError} `ERR_HOSTNAME_INVALID` when `text` is not an IP address in the strict form (no
 *   short, octal or hex IPv4 forms, no zone identifier). TypeError when `text` is not a string.
 * @example
 * ```ts
 * canonicalizeIPAddress('[2001:DB8:0:0:0:0:0:1]'); // '2001:db8::1'
 * canonicalizeIPAddress('127.1'); // throws ERR_HOSTNAME_INVALID
 * ```
 */
export function canonicalizeIPAddress(text: string): string {
  const canonical = tryCanonicalizeIPAddress(text);
  if (canonical === undefined)
    throw new HostnameError(
      'ERR_HOSTNAME_INVALID',
      `${JSON.stringify(text.slice(0, 100))} is not an IP address: write IPv4 as four decimal numbers (192.0.2.1) and IPv6 as RFC 4291 text (2001:db8::1), without a zone.`,
      { details: { name: text.slice(0, 100), reason: 'not-ip-address' } },
    );
  return canonical;
}

/**
 * Gives the canonical text of an IP address text, or `undefined` when it is not one (the non-throwing
 * {@link canonicalizeIPAddress}).
 *
 * @throws TypeError when `text` is not a string.
 * @example
 * ```ts
 * tryCanonicalizeIPAddress('[2001:DB8:0:0:0:0:0:1]'); // '2001:db8::1'
 * tryCanonicalizeIPAddress('127.1'); // undefined
 * ```
 */
export function tryCanonicalizeIPAddress(text: string): string | undefined {
  const bytes = parseIPAddress(text);
  return bytes === undefined ? undefined : formatIPAddress(bytes);
}
