/**
 * Mail reference identities: which names a mail client checks a server certificate against.
 *
 * A web browser has one reference identity, the host in the URL. A mail client has several candidates,
 * and which ones are safe depends on how the server was found:
 *
 * - **Outgoing SMTP (MTA to MTA)** finds the server through an MX lookup. Without DNSSEC the MX host name
 *   is unauthenticated (RFC 9525 §6.1.1: intermediate names from DNS resolution are not reference
 *   identifiers unless the application says how to authenticate them). Postfix models the choice with
 *   match strategies, which {@link checkMailPeer} reproduces:
 *   - `hostname`: the MX host name (or the relay host). Postfix's `smtp_tls_verify_cert_match` default, for
 *     the `verify` level. Also the right check for MTA-STS (RFC 8461 §4.1, with the MX host first matched
 *     against the policy by {@link matchMTASTSPattern}) and for DANE-TA(2) records (RFC 7672 §3.2.3:
 *     the TLSA base domain, which is the MX host name or its DNSSEC-validated CNAME target).
 *   - `nexthop`: the next-hop domain, i.e. the recipient domain before the MX lookup (or the configured
 *     relay). Authenticated by the sender's own configuration, so it is safe without DNSSEC.
 *   - `dot-nexthop`: any certificate name that is a subdomain of the next-hop domain (`mx1.example.com` or
 *     `*.example.com` for mail to example.com).
 *   - Postfix's `smtp_tls_secure_cert_match` default, for the `secure` level, is `nexthop, dot-nexthop`.
 *   - Any other entry is a literal pattern, as in Postfix: `example.com` matches a certificate valid for
 *     that name; `.example.com` matches certificate names that are subdomains of it.
 * - **IMAP, POP3 and submission (MUA to server)**, RFC 7817 §3: the reference identity is the host name the
 *   user configured, or the domain of the email address when the server was found through SRV records
 *   (RFC 6186) and the lookup was DNSSEC-validated. Use `match: ['hostname']` with the configured host, or
 *   `['hostname', 'nexthop']` with the SRV target and the email domain.
 *
 * Every strategy uses the host-name rules of hostname.ts (subjectAltName only unless `legacyCommonName`,
 * wildcards only as the whole left-most label, no wildcard on a public suffix).
 *
 * @module mail-identity
 */
import { HostnameError } from '../errors.js';
import {
  canonicalDNSName,
  classifyPresented,
  isWildcardOnPublicSuffix,
  quoteName,
} from '../internal/names/dns-name.js';
import {
  describeNames,
  findMatch,
  invalidError,
  legacyCommonName,
  matchedNameOf,
  NAME_ADVICE,
  type Names,
  type Options,
  type Reference,
  readCertificateNames,
  readOptions,
  readReference,
} from '../internal/names/name-check.js';
import type {
  CertificateNames,
  HostnameMatchOptions,
  HostnameMatchVia,
  HostnameProblem,
  IgnoredName,
} from './hostname.js';

/**
 * A match strategy (`hostname`, `nexthop`, `dot-nexthop`) or a literal pattern (`example.com`,
 * `.example.com`), as in Postfix's `smtp_tls_verify_cert_match` and `smtp_tls_secure_cert_match`.
 */
export type MailPeerMatch = 'hostname' | 'nexthop' | 'dot-nexthop' | (string & {});

/** Postfix's `smtp_tls_verify_cert_match` default: the MX host name (the `verify` level). */
export const POSTFIX_VERIFY_MATCH: readonly MailPeerMatch[] = Object.freeze(['hostname']);
/** Postfix's `smtp_tls_secure_cert_match` default: the next-hop domain and its subdomains (`secure`). */
export const POSTFIX_SECURE_MATCH: readonly MailPeerMatch[] = Object.freeze(['nexthop', 'dot-nexthop']);

/** Options of {@link checkMailPeer}, {@link matchMailPeer} and {@link verifyMailPeer}. */
export interface MailPeerOptions extends HostnameMatchOptions {
  /**
   * The host connected to: the MX host name, the relay host, or the server an MUA is configured with. An
   * IP address (`192.0.2.25`, `[2001:db8::25]`) is matched against iPAddress entries. Used by `hostname`.
   */
  readonly mxHost: string;
  /**
   * The next-hop domain: the recipient domain before the MX lookup, or the configured relay. Required by
   * `nexthop` and `dot-nexthop`.
   */
  readonly nextHop?: string | undefined;
  /** Strategies and patterns, any of which may match. Default {@link POSTFIX_VERIFY_MATCH} (`hostname`). */
  readonly match?: readonly MailPeerMatch[] | undefined;
}

/** One reference identity tried by {@link checkMailPeer}. */
export interface MailPeerReference {
  /** The strategy or pattern it came from. */
  readonly strategy: MailPeerMatch;
  /** The canonical name (`.example.com` for a subdomain match), or the input when it is invalid. */
  readonly reference: string;
  /** Whether the certificate matched it. */
  readonly matched: boolean;
  /** Why the reference itself is unusable (an invalid host or domain), or null. */
  readonly problem: HostnameProblem | null;
}

/** The outcome of {@link checkMailPeer}. */
export interface MailPeerCheck {
  /** Whether any strategy or pattern matched. */
  readonly matched: boolean;
  /** The first strategy or pattern that matched, or null. */
  readonly strategy: MailPeerMatch | null;
  /** The certificate name that matched (canonical), or null. */
  readonly matchedName: string | null;
  /** Which kind of certificate name matched, or null. */
  readonly via: HostnameMatchVia | null;
  /** Every reference identity tried, in order. */
  readonly references: readonly MailPeerReference[];
  /** The names the certificate is valid for, canonical. */
  readonly validNames: readonly string[];
  /** Certificate names not used, with the reason. */
  readonly ignoredNames: readonly IgnoredName[];
}

type Plan =
  | {
      readonly kind: 'host';
      readonly strategy: MailPeerMatch;
      readonly ref: Reference;
      readonly input: string;
    }
  | {
      readonly kind: 'subdomain';
      readonly strategy: MailPeerMatch;
      readonly domain: string | null;
      readonly input: string;
      readonly problem: HostnameProblem | null;
    };

function readMailOptions(options: MailPeerOptions): { plans: Plan[]; opts: Options } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const opts = readOptions(options);
  const match = options.match ?? POSTFIX_VERIFY_MATCH;
  if (!Array.isArray(match) || match.length === 0) {
    throw new TypeError('options.match must be a non-empty array of strategies or patterns');
  }
  const plans: Plan[] = [];
  for (const entry of match as readonly unknown[]) {
    if (typeof entry !== 'string') throw new TypeError('options.match entries must be strings');
    const strategy = entry.toLowerCase();
    if (strategy === 'hostname') {
      if (typeof options.mxHost !== 'string') throw new TypeError('options.mxHost must be a string');
      plans.push({
        kind: 'host',
        strategy: entry,
        ref: readReference(options.mxHost),
        input: options.mxHost,
      });
    } else if (strategy === 'nexthop' || strategy === 'dot-nexthop') {
      if (typeof options.nextHop !== 'string') {
        throw new TypeError(
          `options.nextHop (the next-hop domain) is required by the "${strategy}" strategy`,
        );
      }
      if (strategy === 'nexthop') {
        plans.push({
          kind: 'host',
          strategy: entry,
          ref: readReference(options.nextHop),
          input: options.nextHop,
        });
      } else plans.push(subdomainPlan(entry, options.nextHop));
    } else if (entry.length > 1 && entry.charCodeAt(0) === 46) {
      plans.push(subdomainPlan(entry, entry.slice(1)));
    } else {
      plans.push({ kind: 'host', strategy: entry, ref: readReference(entry), input: entry });
    }
  }
  return { plans, opts };
}

function subdomainPlan(strategy: MailPeerMatch, domain: string): Plan {
  const c = canonicalDNSName(domain);
  return c.ok
    ? { kind: 'subdomain', strategy, domain: c.name, input: domain, problem: null }
    : { kind: 'subdomain', strategy, domain: null, input: domain, problem: c.problem };
}

/** A certificate DNS name that is a proper subdomain of `domain` (Postfix `dot-nexthop`), or null. */
function subdomainMatch(
  names: Names,
  domain: string,
  opts: Options,
): { name: string; via: HostnameMatchVia } | null {
  const suffix = `.${domain}`;
  const test = (raw: string): string | null => {
    const p = classifyPresented(raw);
    if (p.kind === 'invalid') return null;
    if (p.kind === 'wildcard') {
      if (!opts.wildcards || isWildcardOnPublicSuffix(p.parent, !opts.privateSuffixWildcards)) return null;
    }
    return p.name.length > suffix.length && p.name.endsWith(suffix) ? p.name : null;
  };
  for (const entry of names.dns) {
    if (typeof entry !== 'string') throw new TypeError('dnsNames entries must be strings');
    const hit = test(entry);
    if (hit !== null) return { name: hit, via: 'dns-san' };
  }
  const cn = legacyCommonName(names, opts);
  if (cn !== undefined) {
    const hit = test(cn);
    if (hit !== null) return { name: hit, via: 'common-name' };
  }
  return null;
}

function run(
  certOrNames: CertificateNames,
  options: MailPeerOptions,
): { check: MailPeerCheck; names: Names; plans: Plan[] } {
  const names = readCertificateNames(certOrNames);
  const { plans, opts } = readMailOptions(options);
  const references: MailPeerReference[] = [];
  let winner: { strategy: MailPeerMatch; name: string; via: HostnameMatchVia } | null = null;
  for (const plan of plans) {
    if (plan.kind === 'host') {
      const ref = plan.ref;
      if (ref.type === 'invalid') {
        references.push({
          strategy: plan.strategy,
          reference: plan.input,
          matched: false,
          problem: ref.problem,
        });
        continue;
      }
      const m = findMatch(names, ref, opts);
      references.push({
        strategy: plan.strategy,
        reference: ref.type === 'dns' ? ref.name : ref.text,
        matched: m !== null,
        problem: null,
      });
      if (m !== null && winner === null)
        winner = { strategy: plan.strategy, name: matchedNameOf(m), via: m.via };
    } else {
      if (plan.domain === null) {
        references.push({
          strategy: plan.strategy,
          reference: plan.input,
          matched: false,
          problem: plan.problem,
        });
        continue;
      }
      const m = subdomainMatch(names, plan.domain, opts);
      references.push({
        strategy: plan.strategy,
        reference: `.${plan.domain}`,
        matched: m !== null,
        problem: null,
      });
      if (m !== null && winner === null) winner = { strategy: plan.strategy, name: m.name, via: m.via };
    }
  }
  const { validNames, ignoredNames } = describeNames(names, opts);
  return {
    check: {
      matched: winner !== null,
      strategy: winner?.strategy ?? null,
      matchedName: winner?.name ?? null,
      via: winner?.via ?? null,
      references,
      validNames,
      ignoredNames,
    },
    names,
    plans,
  };
}

/**
 * Checks a mail server's certificate against the reference identities chosen by Postfix-style match
 * strategies and patterns, and reports which one matched and which were tried. Invalid host names in the
 * options are reported per reference (`problem`), not thrown.
 *
 * @throws TypeError when the arguments are not of the documented types, or when `nexthop`/`dot-nexthop`
 *   is asked for without `nextHop`.
 * @example
 * ```ts
 * const r = checkMailPeer(cert, { mxHost: 'mx1.mail.example.net', nextHop: 'example.com', match: POSTFIX_SECURE_MATCH });
 * r.matched;  // true when the certificate is valid for example.com or one of its subdomains
 * r.strategy; // 'nexthop' or 'dot-nexthop'
 * ```
 */
export function checkMailPeer(certOrNames: CertificateNames, options: MailPeerOptions): MailPeerCheck {
  return run(certOrNames, options).check;
}

/**
 * Tells whether a mail server's certificate matches any of the reference identities (see
 * {@link checkMailPeer}).
 *
 * @throws TypeError when the arguments are not of the documented types.
 * @example
 * ```ts
 * matchMailPeer({ dnsNames: ['mx1.example.com'] }, { mxHost: 'mx1.example.com' }); // true
 * matchMailPeer({ dnsNames: ['mx1.example.com'] }, { mxHost: 'mx1.example.com', nextHop: 'example.com', match: ['nexthop'] }); // false
 * ```
 */
export function matchMailPeer(certOrNames: CertificateNames, options: MailPeerOptions): boolean {
  return run(certOrNames, options).check.matched;
}

/**
 * Throws unless a mail server's certificate matches one of the reference identities (see
 * {@link checkMailPeer}); returns the check on success, for logging which strategy matched.
 *
 * @throws HostnameError `ERR_HOSTNAME_INVALID` when no reference identity is usable (the first invalid one
 *   is reported); `ERR_HOSTNAME_MISMATCH` with `details.validNames`, `details.references` and
 *   `details.ignoredNames` when none matched. TypeError as {@link checkMailPeer}.
 * @example
 * ```ts
 * verifyMailPeer(cert, { mxHost: 'mx.example.com', nextHop: 'example.com', match: ['hostname', 'nexthop', 'dot-nexthop'] });
 * ```
 */
export function verifyMailPeer(certOrNames: CertificateNames, options: MailPeerOptions): MailPeerCheck {
  const { check, names, plans } = run(certOrNames, options);
  if (check.matched) return check;
  const usable = check.references.filter((r) => r.problem === null);
  if (usable.length === 0) {
    const plan = plans[0]!;
    const problem = check.references[0]!.problem ?? 'empty';
    throw invalidError(plan.input, { problem }, NAME_ADVICE);
  }
  const tried = usable.map((r) => `${r.reference} (${r.strategy})`).join(', ');
  const valid = check.validNames;
  const cnNote =
    valid.length === 0 && names.cn !== undefined
      ? ` Its Common Name ${quoteName(names.cn)} is not used to identify hosts unless legacyCommonName is set.`
      : '';
  const validText =
    valid.length === 0 ? 'no usable subjectAltName entries' : `names ${valid.slice(0, 20).join(', ')}`;
  throw new HostnameError(
    'ERR_HOSTNAME_MISMATCH',
    `The mail server's certificate matches none of ${tried}: it has ${validText}.${cnNote} ` +
      'Check that the server presents the certificate for this host, or adjust the match strategies.',
    {
      details: {
        validNames: check.validNames,
        references: check.references,
        ignoredNames: check.ignoredNames,
      },
    },
  );
}

/**
 * Tells whether an MX host name fits an MTA-STS policy `mx:` pattern (RFC 8461 §4.1): a full name matches
 * itself; `*.example.com` matches exactly one more label (`mx1.example.com`, not `example.com` nor
 * `a.mx1.example.com`). Case and one trailing dot are ignored; U-labels are converted to A-labels. A
 * pattern or host that is not a valid name never matches.
 *
 * @throws TypeError when the arguments are not strings.
 * @example
 * ```ts
 * matchMTASTSPattern('*.mail.example.com', 'mx1.mail.example.com'); // true
 * matchMTASTSPattern('*.mail.example.com', 'mail.example.com');     // false
 * matchMTASTSPattern('mx.example.com', 'MX.example.com.');          // true
 * ```
 */
export function matchMTASTSPattern(pattern: string, mxHost: string): boolean {
  if (typeof pattern !== 'string' || typeof mxHost !== 'string') {
    throw new TypeError('matchMTASTSPattern: pattern and mxHost must be strings');
  }
  const host = canonicalDNSName(mxHost);
  if (!host.ok) return false;
  if (pattern.startsWith('*.')) {
    const parent = canonicalDNSName(pattern.slice(2));
    if (!parent.ok) return false;
    const dot = host.name.indexOf('.');
    return dot > 0 && host.name.slice(dot + 1) === parent.name;
  }
  const exact = canonicalDNSName(pattern);
  return exact.ok && exact.name === host.name;
}
