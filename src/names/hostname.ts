/**
 * Host names: one canonical form, and the check that a certificate is valid for a host (RFC 9525).
 *
 * ## Policy
 *
 * The full policy, with the reasoning and every difference from Go, CPython, Node, rustls-webpki, curl and
 * OpenSSL, is in `docs/hostname-policy.md`. In short:
 *
 * **Reference identifiers** (the host a client wants, {@link canonicalizeHostname}):
 * - Non-ASCII input is converted with UTS #46 non-transitional processing through the WHATWG URL host
 *   parser built into the runtime (`new URL()`, no import, so it also works outside Node): the mapping
 *   browsers use, IDNA2008-compatible for valid names (`faß.de` → `xn--fa-hia.de`, not `fass.de`). The
 *   `tr46`/`punycode` packages were not taken: one more dependency for the same tables the runtime has.
 *   ASCII input never goes through URL parsing, so its IPv4 number rules and percent-decoding never apply.
 * - The result is lower-case ASCII, with one trailing dot removed. Every label is an LDH label of 1-63
 *   characters (letters, digits, inner hyphens: no `_`, no `*`, no empty label), at most 253 in all,
 *   and the last label is not all digits. Every `xn--` label must be a valid A-label.
 * - IP addresses are IP-IDs, not names: `192.0.2.1`, `2001:db8::1` and `[2001:db8::1]` are read by the
 *   strict parser of {@link ip-address!parseIPAddress} (no `127.1`, no octal, no zone identifiers).
 * - Control characters (NUL included) and white space are refused.
 *
 * **Presented identifiers** (the certificate's names):
 * - DNS-IDs come from subjectAltName dNSName entries only. The subject Common Name is ignored
 *   (RFC 9525 §1.3: "Do not include or check strings that look like domain names in the subject's Common
 *   Name"). `legacyCommonName: true` lets the Common Name stand in when the certificate has no dNSName
 *   entry at all (old mail-server certificates); {@link checkHostname} reports `via: 'common-name'`.
 * - A dNSName must be ASCII (A-labels, RFC 5280 §7.2), in preferred name syntax (no trailing dot, no empty
 *   label), LDH labels. Names that are not are ignored, never "repaired".
 * - A wildcard is honoured only as the whole left-most label (`*.example.com`), one per name (RFC 9525
 *   §6.3). It matches exactly one label, which may be an A-label (`xn--bcher-kva.example.com`), never the
 *   bare parent (`example.com`) and never two labels. Partial wildcards (`f*.example.com`, `xn--*`) are
 *   ignored: RFC 9525 dropped them, and a `*` inside an A-label is meaningless.
 * - A wildcard needs at least two labels after it (`*.com` is ignored) and must not sit directly on an
 *   ICANN public suffix of the Public Suffix List (`*.co.uk`, `*.com.br` are ignored), as the CA/Browser
 *   Forum Baseline Requirements §3.2.2.6 and Chromium require; RFC 9525 §7.1 leaves this to the
 *   application. The list is the maintained `tldts` package. Private-section suffixes (`*.appspot.com`)
 *   are allowed by default because their operators hold such certificates; set
 *   `privateSuffixWildcards: false` to refuse them too.
 * - iPAddress entries are compared with IP hosts as bytes (RFC 9525 §6.4), never with dNSName entries:
 *   a dNSName `192.0.2.1` never matches the host `192.0.2.1`, and a wildcard never matches an IP address.
 *
 * @module hostname
 */
import { HostnameError } from '../errors.js';
import { canonicalDNSName, quoteName } from '../internal/names/dns-name.js';
import type {
  CertificateNames,
  HostnameCheck,
  HostnameMatchOptions,
} from '../internal/names/hostname-types.js';
import {
  describeNames,
  findMatch,
  invalidError,
  matchedNameOf,
  mismatchMessage,
  NAME_ADVICE,
  readCertificateNames,
  readOptions,
  readReference,
} from '../internal/names/name-check.js';

export type {
  CertificateNames,
  HostnameCheck,
  HostnameMatchOptions,
  HostnameMatchVia,
  HostnameProblem,
  IgnoredName,
} from '../internal/names/hostname-types.js';

/**
 * Gives the canonical form of a DNS host name: UTS #46 mapping of non-ASCII input, lower-case ASCII
 * A-labels, one trailing dot removed, LDH labels, no empty label. See the module notes for the full rules.
 *
 * @param name - a host name such as `Mail.Example.COM.` or `bücher.example`.
 * @returns the canonical name, e.g. `mail.example.com` or `xn--bcher-kva.example`.
 * @throws HostnameError `ERR_HOSTNAME_INVALID` with `details.reason` (a {@link HostnameProblem}) when the
 *   name is not a valid DNS host name; IP addresses are refused with reason `ip-address` (use
 *   `canonicalizeIPAddress` for those). TypeError when `name` is not a string.
 *
 * @example
 * ```ts
 * canonicalizeHostname('Mail.Example.COM.'); // 'mail.example.com'
 * canonicalizeHostname('bücher.example');    // 'xn--bcher-kva.example'
 * canonicalizeHostname('a..example');        // throws ERR_HOSTNAME_INVALID, reason 'empty-label'
 * ```
 */
export function canonicalizeHostname(name: string): string {
  if (typeof name !== 'string') throw new TypeError('canonicalizeHostname: name must be a string');
  const result = canonicalDNSName(name);
  if (result.ok) return result.name;
  const advice =
    result.problem === 'ip-address'
      ? 'IP addresses are not host names; use canonicalizeIPAddress.'
      : NAME_ADVICE;
  throw invalidError(name, result, advice);
}

/**
 * The non-throwing {@link canonicalizeHostname}: the canonical name, or `undefined` when the name is not a
 * valid DNS host name.
 *
 * @throws TypeError when `name` is not a string.
 * @example
 * ```ts
 * tryCanonicalizeHostname('IMAP.example.org'); // 'imap.example.org'
 * tryCanonicalizeHostname('exa mple.org');     // undefined
 * ```
 */
export function tryCanonicalizeHostname(name: string): string | undefined {
  if (typeof name !== 'string') throw new TypeError('tryCanonicalizeHostname: name must be a string');
  const result = canonicalDNSName(name);
  return result.ok ? result.name : undefined;
}

/**
 * Tells whether a certificate is valid for a host (a DNS name or an IP address), under the policy in the
 * module notes. An invalid host never matches.
 *
 * @param certOrNames - a certificate view, or any object with `dnsNames`, `ipAddresses`, `commonName`.
 * @param host - `mail.example.com`, `bücher.example`, `192.0.2.25`, `[2001:db8::25]`.
 * @throws TypeError when the arguments are not of the documented types.
 *
 * @example
 * ```ts
 * matchHostname({ dnsNames: ['*.example.com'] }, 'mail.example.com'); // true
 * matchHostname({ dnsNames: ['*.example.com'] }, 'example.com');      // false
 * matchHostname({ ipAddresses: ['2001:db8::25'] }, '[2001:DB8:0::25]'); // true
 * ```
 */
export function matchHostname(
  certOrNames: CertificateNames,
  host: string,
  options?: HostnameMatchOptions,
): boolean {
  const names = readCertificateNames(certOrNames);
  const opts = readOptions(options);
  return findMatch(names, readReference(host), opts) !== null;
}

/**
 * Checks a certificate against a host and says how: which kind of name matched (`via`, `common-name` only
 * with `legacyCommonName`), the canonical host, every valid and every ignored certificate name. Input
 * errors do not throw here; an invalid host gives `hostProblem`.
 *
 * @throws TypeError when the arguments are not of the documented types.
 * @example
 * ```ts
 * const r = checkHostname({ commonName: 'mail.example.com' }, 'mail.example.com', { legacyCommonName: true });
 * r.matched; // true
 * r.via;     // 'common-name': the certificate should be reissued with a subjectAltName
 * ```
 */
export function checkHostname(
  certOrNames: CertificateNames,
  host: string,
  options?: HostnameMatchOptions,
): HostnameCheck {
  const names = readCertificateNames(certOrNames);
  const opts = readOptions(options);
  const ref = readReference(host);
  const match = findMatch(names, ref, opts);
  const { validNames, ignoredNames } = describeNames(names, opts);
  let commonNameWouldMatch = false;
  if (match === null && !opts.legacyCommonName && ref.type === 'dns' && names.dns.length === 0) {
    commonNameWouldMatch = findMatch(names, ref, { ...opts, legacyCommonName: true }) !== null;
  }
  return {
    matched: match !== null,
    via: match === null ? null : match.via,
    matchedName: match === null ? null : matchedNameOf(match),
    host: ref.type === 'dns' ? ref.name : ref.type === 'ip' ? ref.text : null,
    hostType: ref.type === 'invalid' ? null : ref.type,
    hostProblem: ref.type === 'invalid' ? ref.problem : null,
    validNames,
    ignoredNames,
    commonNameWouldMatch,
  };
}

/**
 * Throws unless a certificate is valid for a host. The error for a mismatch lists the names the
 * certificate is valid for, like Go's `x509.HostnameError`.
 *
 * @throws HostnameError `ERR_HOSTNAME_INVALID` when the host is not a valid DNS name or IP address
 *   (`details.reason`); `ERR_HOSTNAME_MISMATCH` when the certificate is not valid for it, with
 *   `details.validNames` (canonical names the certificate is valid for), `details.ignoredNames` and
 *   `details.commonNameWouldMatch`. TypeError when the arguments are not of the documented types.
 *
 * @example
 * ```ts
 * try {
 *   verifyHostname({ dnsNames: ['mail.example.com'] }, 'smtp.example.com');
 * } catch (e) {
 *   // the code narrows the details: validNames is typed, no cast
 *   if (isMailTlsError(e, 'ERR_HOSTNAME_MISMATCH')) console.error(e.details.validNames); // ['mail.example.com']
 * }
 * ```
 */
export function verifyHostname(
  certOrNames: CertificateNames,
  host: string,
  options?: HostnameMatchOptions,
): void {
  const names = readCertificateNames(certOrNames);
  const opts = readOptions(options);
  const ref = readReference(host);
  if (ref.type === 'invalid') {
    const advice =
      ref.problem === 'invalid-ip'
        ? 'Give an IPv4 address as four decimal numbers (192.0.2.1) or an IPv6 address without a zone (2001:db8::1).'
        : NAME_ADVICE;
    throw invalidError(host, ref, advice);
  }
  if (findMatch(names, ref, opts) !== null) return;
  const check = checkHostname(certOrNames, host, options);
  throw new HostnameError(
    'ERR_HOSTNAME_MISMATCH',
    mismatchMessage(check.host ?? quoteName(host), check, names.cn),
    {
      details: {
        host: check.host,
        validNames: check.validNames,
        ignoredNames: check.ignoredNames,
        commonNameWouldMatch: check.commonNameWouldMatch,
      },
    },
  );
}
