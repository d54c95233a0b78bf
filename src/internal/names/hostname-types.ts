/**
 * The host-name matching vocabulary: the certificate names a check reads, the options, the outcome and the
 * reasons a name is invalid or ignored. The checks in dns-name.ts and name-check.ts use these types, so they
 * live below both; `mailtls/hostname` re-exports them.
 *
 * @module internal/names/hostname-types
 */
/**
 * The names of a certificate, as the certificate parser's view has them (or any object of that shape).
 * `ipAddresses` may be in any text form `parseIPAddress` reads; the parser gives RFC 5952 text.
 */
export interface CertificateNames {
  /** subjectAltName dNSName entries, as stored (not canonicalised). */
  readonly dnsNames?: readonly string[] | undefined;
  /** subjectAltName iPAddress entries as text. */
  readonly ipAddresses?: readonly string[] | undefined;
  /** The subject Common Name (the most specific one), if the caller has it flat. */
  readonly commonName?: string | undefined;
  /**
   * Whether the certificate has a subjectAltName extension, readable or not (the certificate view sets it).
   * When it is `true` and {@link CertificateNames.subjectAltNames} is `undefined`, the extension was
   * malformed: the Common Name is then never used, even with `legacyCommonName`.
   */
  readonly hasSubjectAltName?: boolean | undefined;
  /** The decoded subjectAltName entries, `undefined` when absent or malformed (as in the certificate view). */
  readonly subjectAltNames?: readonly unknown[] | undefined;
  /** The subject, when the Common Name is nested as in the certificate view. */
  readonly subject?:
    | {
        /** The subject Common Name. */
        readonly commonName?: string | undefined;
      }
    | undefined;
}

/** Why a name is not a valid host name, or why a certificate name was ignored. */
export type HostnameProblem =
  | 'empty'
  | 'too-long'
  | 'control-character'
  | 'whitespace'
  | 'invalid-character'
  | 'empty-label'
  | 'label-too-long'
  | 'hyphen'
  | 'numeric-tld'
  | 'ip-address'
  | 'invalid-ip'
  | 'idna'
  | 'a-label'
  | 'non-ascii'
  | 'trailing-dot'
  | 'partial-wildcard'
  | 'wildcard-not-leftmost'
  | 'wildcard-single-label'
  | 'wildcard-public-suffix'
  | 'wildcard-ip'
  | 'wildcards-disabled'
  | 'common-name-disabled'
  | 'common-name-with-dns-san'
  | 'common-name-with-unreadable-san';

/** Options of `matchHostname`, `checkHostname` and `verifyHostname`. */
export interface HostnameMatchOptions {
  /**
   * Let the subject Common Name stand in for a DNS name when the certificate has no dNSName entry at all.
   * Off by default (RFC 9525 §1.3); turn it on only for old servers whose certificates predate
   * subjectAltName. Never used for IP hosts.
   */
  readonly legacyCommonName?: boolean | undefined;
  /** Honour wildcard names (`*.example.com`). Default true, as RFC 9525 §6.3 and RFC 7817 allow. */
  readonly wildcards?: boolean | undefined;
  /**
   * Honour a wildcard directly under a private-section public suffix (`*.appspot.com`). Default true;
   * wildcards directly under ICANN suffixes (`*.co.uk`) are never honoured.
   */
  readonly privateSuffixWildcards?: boolean | undefined;
}

/** Which kind of certificate name matched. */
export type HostnameMatchVia = 'dns-san' | 'ip-san' | 'common-name';

/** A certificate name that was not used, and why. */
export interface IgnoredName {
  /** The name as the certificate has it. */
  readonly name: string;
  /** Where it came from. */
  readonly source: HostnameMatchVia;
  /** Why it was ignored. */
  readonly reason: HostnameProblem;
}

/** The outcome of `checkHostname`. */
export interface HostnameCheck {
  /** Whether the certificate is valid for the host. */
  readonly matched: boolean;
  /** Which kind of name matched: `common-name` only with `legacyCommonName`. */
  readonly via: HostnameMatchVia | null;
  /** The certificate name that matched, canonical (lower case; IP addresses in RFC 5952 text). */
  readonly matchedName: string | null;
  /** The host in canonical form, or null when it is not a valid host. */
  readonly host: string | null;
  /** `dns` or `ip`, or null when the host is not valid. */
  readonly hostType: 'dns' | 'ip' | null;
  /** Why the host is not valid, or null. */
  readonly hostProblem: HostnameProblem | null;
  /** Every name the certificate is valid for under these options, canonical, without duplicates. */
  readonly validNames: readonly string[];
  /** Every certificate name that is not used, with the reason. */
  readonly ignoredNames: readonly IgnoredName[];
  /**
   * True when the host did not match, the certificate has no dNSName entry, and its Common Name would
   * have matched with `legacyCommonName: true`: the sign of an old CN-only certificate.
   */
  readonly commonNameWouldMatch: boolean;
}
