/**
 * Coverage: which of the names a mail server answers on does a certificate cover?
 *
 * A mail domain is usually reached under several names: the bare domain (`example.com`, for submission
 * clients that derive the server from the address), `mail.`, `smtp.` and `imap.` (what users type and what
 * MX records point at), sometimes `pop.`, `mta-sts.` (the HTTPS host of the MTA-STS policy, RFC 8461 §3.3)
 * and `autoconfig.`/`autodiscover.` (client set-up). {@link suggestMailHostnames} proposes those names;
 * {@link coverage} tells which of them a certificate covers, under the same rules as
 * `matchHostname`, and which certificate names cover none of them.
 *
 * @module coverage
 */
import { HostnameError } from '../errors.js';
import { asciiLower, canonicalDNSName, ldhFault, quoteName } from '../internal/names/dns-name.js';
import {
  describeNames,
  findMatch,
  matchedNameOf,
  type Names,
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
import { parseIPAddress } from './ip-address.js';

/** One requested name in a {@link Coverage}. */
export interface CoverageEntry {
  /** The name as given. */
  readonly name: string;
  /** Its canonical form (host name or IP text), or null when it is not a valid host. */
  readonly host: string | null;
  /** Whether the certificate covers it. */
  readonly covered: boolean;
  /** Which kind of certificate name covers it, or null. */
  readonly via: HostnameMatchVia | null;
  /** The certificate name that covers it (canonical), or null. */
  readonly matchedName: string | null;
  /** Why the name is not a valid host, or null. */
  readonly problem: HostnameProblem | null;
}

/** The outcome of {@link coverage}. */
export interface Coverage {
  /** Canonical names the certificate covers, in the order given, without duplicates. */
  readonly covered: readonly string[];
  /** Canonical names the certificate does not cover. */
  readonly uncovered: readonly string[];
  /** Names given that are not valid host names or IP addresses (as given). */
  readonly invalid: readonly string[];
  /** One entry per name given, in order. */
  readonly entries: readonly CoverageEntry[];
  /** Every name the certificate is valid for, canonical. */
  readonly validNames: readonly string[];
  /** Valid certificate names that cover none of the names given. */
  readonly unusedNames: readonly string[];
  /** Certificate names that are not used at all, with the reason. */
  readonly ignoredNames: readonly IgnoredName[];
}

/**
 * Tells which of a list of host names (and IP addresses) a certificate covers, and which it does not.
 *
 * @param certOrNames - a certificate view, or any object with `dnsNames`, `ipAddresses`, `commonName`.
 * @param hostnames - the names the server answers on, e.g. from {@link suggestMailHostnames}.
 * @throws TypeError when the arguments are not of the documented types (invalid names are reported in
 *   `invalid`, not thrown).
 * @example
 * ```ts
 * const c = coverage({ dnsNames: ['example.com', '*.example.com'] }, suggestMailHostnames('example.com'));
 * c.covered;   // ['example.com', 'mail.example.com', 'smtp.example.com', 'imap.example.com']
 * c.uncovered; // []
 * ```
 */
export function coverage(
  certOrNames: CertificateNames,
  hostnames: readonly string[],
  options?: HostnameMatchOptions,
): Coverage {
  const names = readCertificateNames(certOrNames);
  const opts = readOptions(options);
  if (!Array.isArray(hostnames)) throw new TypeError('hostnames must be an array of strings');
  const entries: CoverageEntry[] = [];
  const covered: string[] = [];
  const uncovered: string[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  const refs: Reference[] = [];
  for (const name of hostnames as readonly unknown[]) {
    if (typeof name !== 'string') throw new TypeError('hostnames entries must be strings');
    const ref = readReference(name);
    if (ref.type === 'invalid') {
      invalid.push(name);
      entries.push({ name, host: null, covered: false, via: null, matchedName: null, problem: ref.problem });
      continue;
    }
    refs.push(ref);
    const host = ref.type === 'dns' ? ref.name : ref.text;
    const m = findMatch(names, ref, opts);
    const matchedName = m === null ? null : matchedNameOf(m);
    entries.push({ name, host, covered: m !== null, via: m?.via ?? null, matchedName, problem: null });
    if (seen.has(host)) continue;
    seen.add(host);
    (m !== null ? covered : uncovered).push(host);
  }
  const { validNames, ignoredNames } = describeNames(names, opts);
  // A valid name is used when, alone, it covers one of the names given.
  const unusedNames = validNames.filter((valid) => {
    const single: Names =
      parseIPAddress(valid) === undefined
        ? { dns: [valid], ips: [], cn: undefined, sanUnreadable: false }
        : { dns: [], ips: [valid], cn: undefined, sanUnreadable: false };
    return !refs.some((ref) => findMatch(single, ref, opts) !== null);
  });
  return { covered, uncovered, invalid, entries, validNames, unusedNames, ignoredNames };
}

/** Options of {@link suggestMailHostnames}. */
export interface MailHostnameOptions {
  /** Add `pop.<domain>` (POP3). Default false. */
  readonly pop3?: boolean | undefined;
  /** Add `mta-sts.<domain>`, the HTTPS host of the MTA-STS policy (RFC 8461 §3.3). Default false. */
  readonly mtaSts?: boolean | undefined;
  /** Add `autoconfig.<domain>` and `autodiscover.<domain>` (mail client set-up). Default false. */
  readonly autoconfig?: boolean | undefined;
  /** More left-most labels to add, such as `['mx1', 'webmail']`. */
  readonly extraLabels?: readonly string[] | undefined;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`);
  return value;
}

/**
 * Proposes the host names a mail server for a domain usually answers on: the bare domain, `mail.`,
 * `smtp.` and `imap.`, plus `pop.`, `mta-sts.`, `autoconfig.`/`autodiscover.` and extra labels on request.
 * The domain is canonicalised (A-labels, lower case).
 *
 * @param domain - the mail domain, e.g. `example.com` or `bücher.example`.
 * @returns canonical names, the bare domain first, without duplicates.
 * @throws HostnameError `ERR_HOSTNAME_INVALID` when the domain or an extra label is not valid. TypeError
 *   when the arguments are not of the documented types.
 * @example
 * ```ts
 * suggestMailHostnames('Example.COM');
 * // ['example.com', 'mail.example.com', 'smtp.example.com', 'imap.example.com']
 * suggestMailHostnames('example.com', { mtaSts: true, extraLabels: ['mx1'] });
 * // [..., 'mta-sts.example.com', 'mx1.example.com']
 * ```
 */
export function suggestMailHostnames(domain: string, options: MailHostnameOptions = {}): string[] {
  if (typeof domain !== 'string') throw new TypeError('suggestMailHostnames: domain must be a string');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const c = canonicalDNSName(domain);
  if (!c.ok) {
    throw new HostnameError(
      'ERR_HOSTNAME_INVALID',
      `${quoteName(domain)} is not a valid mail domain. Give the domain of the addresses, such as example.com.`,
      { details: { name: domain.slice(0, 256), reason: c.problem } },
    );
  }
  const base = c.name;
  const labels = ['mail', 'smtp', 'imap'];
  if (flag(options.pop3, 'pop3')) labels.push('pop');
  if (flag(options.mtaSts, 'mtaSts')) labels.push('mta-sts');
  if (flag(options.autoconfig, 'autoconfig')) labels.push('autoconfig', 'autodiscover');
  const extra = options.extraLabels ?? [];
  if (!Array.isArray(extra)) throw new TypeError('options.extraLabels must be an array of strings');
  for (const label of extra as readonly unknown[]) {
    if (typeof label !== 'string') throw new TypeError('options.extraLabels entries must be strings');
    const lower = asciiLower(label);
    const fault =
      lower.indexOf('.') >= 0 ? { problem: 'invalid-character' as const } : ldhFault(`${lower}.x`);
    if (fault !== undefined || canonicalDNSName(`${lower}.${base}`).ok === false) {
      throw new HostnameError(
        'ERR_HOSTNAME_INVALID',
        `${quoteName(label)} is not a valid host label: use letters, digits and inner hyphens, without dots.`,
        { details: { name: label.slice(0, 256), reason: fault?.problem ?? 'too-long' } },
      );
    }
    labels.push(lower);
  }
  const out = [base];
  for (const label of labels) {
    const name = `${label}.${base}`;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}
