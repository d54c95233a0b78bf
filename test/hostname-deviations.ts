/**
 * Every conformance case (../shared/conformance/hostname-cases.json) where mailtls answers differently from
 * the source the case comes from, with the reason. test/hostname.conformance.test.ts asserts this list
 * exactly: a case listed here that stops differing fails, a difference not listed here fails, and the rule
 * named for each case must be what checkHostname reports as the cause.
 *
 * In every listed case the source accepts and mailtls refuses: mailtls accepts nothing that a source
 * refuses (asserted). The differences come from nine policy choices, each explained once in REASONS.
 */

/** The policy choice behind a deviation. */
export type DeviationRule =
  | 'common-name-ignored'
  | 'reference-wildcard'
  | 'reference-leading-dot'
  | 'empty-label'
  | 'hyphen'
  | 'a-label'
  | 'control-character'
  | 'invalid-character'
  | 'trailing-dot'
  | 'partial-wildcard'
  | 'wildcard-single-label'
  | 'wildcard-public-suffix'
  | 'ip-host-dns-name';

/** One listed deviation. */
export interface HostnameDeviation {
  /** The conformance case id. */
  readonly id: string;
  /** The policy choice, checked against checkHostname's own explanation. */
  readonly rule: DeviationRule;
  /** Why mailtls differs, with the RFC or requirement behind it. */
  readonly reason: string;
}

/** The reason text of each rule. */
export const REASONS: Readonly<Record<DeviationRule, string>> = {
  'common-name-ignored':
    'The source falls back to the subject Common Name when there is no dNSName; mailtls does not by default ' +
    '(RFC 9525 §1.3: do not check strings that look like domain names in the Common Name; Go dropped it in ' +
    '1.15). With legacyCommonName: true mailtls agrees with the source (asserted).',
  'reference-wildcard':
    'The host itself contains "*" (OpenSSL compares the two strings literally). RFC 9525 §6.3 defines wildcards ' +
    'in presented identifiers only, not in reference identifiers, and "*" is not an LDH character ' +
    '(RFC 1123 §2.1), so mailtls refuses such a host.',
  'reference-leading-dot':
    'OpenSSL extension: a host starting with "." means "any subdomain of". RFC 9525 has no such reference ' +
    'identifier; the name has an empty first label (RFC 1034 §3.5) and mailtls refuses it.',
  'empty-label':
    'The name has an empty label (".", "..", "a..b", ".a"): not a domain name in preferred name syntax ' +
    '(RFC 1034 §3.5, which RFC 9525 §6.3 and RFC 5280 §4.2.1.6 require); mailtls refuses it.',
  hyphen:
    'A label starts or ends with a hyphen: not an LDH label (RFC 1123 §2.1, RFC 5890 §2.3.1; RFC 9525 §2 ' +
    'traditional domain names are LDH labels); mailtls refuses it.',
  'a-label':
    'An "xn--" label that is not a valid A-label (its Punycode does not decode to a valid U-label, RFC 5890 ' +
    '§2.3.2.1, RFC 5891 §5.4); mailtls refuses the host instead of comparing unvalidated A-labels.',
  'control-character':
    'NUL inside the name (CVE-2013-4073 shape): mailtls refuses any name with a control character, host or ' +
    'certificate name, rather than comparing through it.',
  'invalid-character': '"foo:bar" is neither an LDH domain name nor an IP address; mailtls refuses it.',
  'trailing-dot':
    'The certificate name ends with a dot. RFC 5280 §4.2.1.6 requires the preferred name syntax, which has ' +
    'no trailing dot, so mailtls ignores the entry (as rustls-webpki does); a trailing dot on the host is ' +
    'removed before matching.',
  'partial-wildcard':
    'Partial wildcard ("f*.example.com", "*b.a.com", "a*b.com"): RFC 9525 §6.3 honours "*" only as the ' +
    'complete left-most label and says any other presented identifier with "*" MUST be ignored (RFC 6125 ' +
    'had made partial wildcards a MAY).',
  'wildcard-single-label':
    'The wildcard covers a whole top-level domain ("*.com"): mailtls requires two labels after "*." as ' +
    'rustls-webpki, Chromium and CA/Browser Forum BR §3.2.2.6 do; RFC 9525 §7.1 leaves public-suffix ' +
    'protection to the application.',
  'wildcard-public-suffix':
    'The wildcard sits directly on an ICANN public suffix ("*.co.uk", "*.com.br", Public Suffix List via ' +
    'tldts); CA/Browser Forum BR §3.2.2.6 forbids such certificates and Chromium ignores them; RFC 9525 §7.1 ' +
    'leaves this to the application.',
  'ip-host-dns-name':
    'The host is an IP address and the certificate lists it as a dNSName. RFC 9525 §6.2 and §6.4: an IP-ID ' +
    'matches only iPAddress entries, octet for octet; a dNSName never matches an IP address.',
};

function deviation(id: string, rule: DeviationRule): HostnameDeviation {
  return { id, rule, reason: REASONS[rule] };
}

/** The checked-in list, in conformance-file order. */
export const HOSTNAME_DEVIATIONS: readonly HostnameDeviation[] = [
  deviation('go-013', 'empty-label'),
  deviation('go-024', 'trailing-dot'),
  deviation('go-027', 'wildcard-single-label'),
  deviation('go-028', 'wildcard-single-label'),
  deviation('go-029', 'invalid-character'),
  deviation('cpython-3.11-001', 'common-name-ignored'),
  deviation('cpython-3.11-002', 'common-name-ignored'),
  deviation('cpython-3.11-007', 'common-name-ignored'),
  deviation('cpython-3.11-017', 'control-character'),
  deviation('cpython-3.11-027', 'common-name-ignored'),
  deviation('cpython-3.11-038', 'common-name-ignored'),
  deviation('cpython-3.11-055', 'common-name-ignored'),
  deviation('cpython-2.7-001', 'common-name-ignored'),
  deviation('cpython-2.7-002', 'common-name-ignored'),
  deviation('cpython-2.7-007', 'common-name-ignored'),
  deviation('cpython-2.7-012', 'partial-wildcard'),
  deviation('cpython-2.7-013', 'partial-wildcard'),
  deviation('cpython-2.7-017', 'control-character'),
  deviation('cpython-2.7-027', 'common-name-ignored'),
  deviation('cpython-2.7-030', 'partial-wildcard'),
  deviation('cpython-2.7-031', 'partial-wildcard'),
  deviation('cpython-2.7-038', 'common-name-ignored'),
  deviation('cpython-2.7-042', 'common-name-ignored'),
  deviation('cpython-2.7-044', 'partial-wildcard'),
  deviation('node-002', 'common-name-ignored'),
  deviation('node-003', 'common-name-ignored'),
  deviation('node-005', 'trailing-dot'),
  deviation('node-012', 'common-name-ignored'),
  deviation('node-020', 'common-name-ignored'),
  deviation('node-023', 'wildcard-public-suffix'),
  deviation('node-031', 'partial-wildcard'),
  deviation('node-032', 'partial-wildcard'),
  deviation('node-042', 'common-name-ignored'),
  deviation('rustls-webpki-083', 'wildcard-public-suffix'),
  deviation('rustls-webpki-089', 'wildcard-public-suffix'),
  deviation('curl-003', 'partial-wildcard'),
  deviation('curl-004', 'partial-wildcard'),
  deviation('curl-005', 'ip-host-dns-name'),
  deviation('curl-020', 'ip-host-dns-name'),
  deviation('openssl-003', 'empty-label'),
  deviation('openssl-004', 'reference-wildcard'),
  deviation('openssl-031', 'empty-label'),
  deviation('openssl-032', 'trailing-dot'),
  deviation('openssl-033', 'empty-label'),
  deviation('openssl-034', 'trailing-dot'),
  deviation('openssl-037', 'reference-wildcard'),
  deviation('openssl-064', 'reference-wildcard'),
  deviation('openssl-088', 'empty-label'),
  deviation('openssl-089', 'hyphen'),
  deviation('openssl-090', 'hyphen'),
  deviation('openssl-096', 'reference-wildcard'),
  deviation('openssl-118', 'reference-wildcard'),
  deviation('openssl-119', 'reference-wildcard'),
  deviation('openssl-120', 'reference-wildcard'),
  deviation('openssl-121', 'reference-wildcard'),
  deviation('openssl-123', 'reference-wildcard'),
  deviation('openssl-142', 'reference-leading-dot'),
  deviation('openssl-146', 'reference-wildcard'),
  deviation('openssl-158', 'reference-wildcard'),
  deviation('openssl-159', 'reference-leading-dot'),
  deviation('openssl-165', 'reference-wildcard'),
  deviation('openssl-173', 'reference-wildcard'),
  deviation('openssl-174', 'reference-leading-dot'),
  deviation('openssl-175', 'partial-wildcard'),
  deviation('openssl-179', 'reference-wildcard'),
  deviation('openssl-183', 'reference-wildcard'),
  deviation('openssl-186', 'reference-wildcard'),
  deviation('openssl-189', 'reference-wildcard'),
  deviation('openssl-190', 'a-label'),
  deviation('openssl-191', 'a-label'),
  deviation('openssl-194', 'common-name-ignored'),
  deviation('openssl-195', 'common-name-ignored'),
  deviation('openssl-196', 'empty-label'),
  deviation('openssl-197', 'reference-wildcard'),
  deviation('openssl-224', 'empty-label'),
  deviation('openssl-225', 'trailing-dot'),
  deviation('openssl-226', 'empty-label'),
  deviation('openssl-227', 'trailing-dot'),
  deviation('openssl-230', 'reference-wildcard'),
  deviation('openssl-257', 'reference-wildcard'),
  deviation('openssl-281', 'empty-label'),
  deviation('openssl-282', 'hyphen'),
  deviation('openssl-283', 'hyphen'),
  deviation('openssl-289', 'reference-wildcard'),
  deviation('openssl-311', 'reference-wildcard'),
  deviation('openssl-312', 'reference-wildcard'),
  deviation('openssl-313', 'reference-wildcard'),
  deviation('openssl-314', 'reference-wildcard'),
  deviation('openssl-316', 'reference-wildcard'),
  deviation('openssl-332', 'common-name-ignored'),
  deviation('openssl-333', 'common-name-ignored'),
  deviation('openssl-334', 'common-name-ignored'),
  deviation('openssl-335', 'reference-leading-dot'),
  deviation('openssl-337', 'common-name-ignored'),
  deviation('openssl-339', 'reference-wildcard'),
  deviation('openssl-344', 'common-name-ignored'),
  deviation('openssl-347', 'common-name-ignored'),
  deviation('openssl-348', 'common-name-ignored'),
  deviation('openssl-350', 'common-name-ignored'),
  deviation('openssl-351', 'reference-wildcard'),
  deviation('openssl-352', 'reference-leading-dot'),
  deviation('openssl-358', 'reference-wildcard'),
  deviation('openssl-366', 'reference-wildcard'),
  deviation('openssl-367', 'reference-leading-dot'),
  deviation('openssl-368', 'partial-wildcard'),
  deviation('openssl-372', 'reference-wildcard'),
  deviation('openssl-373', 'common-name-ignored'),
  deviation('openssl-374', 'common-name-ignored'),
  deviation('openssl-376', 'reference-wildcard'),
  deviation('openssl-377', 'common-name-ignored'),
  deviation('openssl-378', 'common-name-ignored'),
  deviation('openssl-379', 'reference-wildcard'),
  deviation('openssl-380', 'common-name-ignored'),
  deviation('openssl-381', 'common-name-ignored'),
  deviation('openssl-382', 'reference-wildcard'),
  deviation('openssl-383', 'a-label'),
  deviation('openssl-384', 'a-label'),
  deviation('openssl-385', 'common-name-ignored'),
  deviation('openssl-386', 'common-name-ignored'),
];
