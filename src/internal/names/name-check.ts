/**
 * The machinery behind hostname.ts: reading certificate names and options, reading the host, matching,
 * describing names and writing error messages. Shared with mail-identity.ts and coverage.ts; not public.
 *
 * @module internal/names/name-check
 */

import { HostnameError } from '../errors.js';
import {
  asciiLower,
  canonicalDNSName,
  classifyPresented,
  equalsIgnoreAsciiCase,
  isWildcardOnPublicSuffix,
  MAX_INPUT_LENGTH,
  type NameFault,
  PROBLEM_TEXT,
  quoteName,
} from './dns-name.js';
import type {
  CertificateNames,
  HostnameCheck,
  HostnameMatchOptions,
  HostnameMatchVia,
  IgnoredName,
} from './hostname-types.js';
import { formatIPAddress, parseIPAddress } from './ip-address.js';

export interface Names {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  readonly cn: string | undefined;
  /** The certificate has a subjectAltName extension that could not be read: never fall back to the CN. */
  readonly sanUnreadable: boolean;
}

export interface Options {
  readonly legacyCommonName: boolean;
  readonly wildcards: boolean;
  readonly privateSuffixWildcards: boolean;
}

export type Reference =
  | { readonly type: 'dns'; readonly name: string }
  | { readonly type: 'ip'; readonly bytes: Uint8Array; readonly text: string }
  | ({ readonly type: 'invalid' } & NameFault);

const EMPTY: readonly string[] = Object.freeze([]);

function readList(value: unknown, what: string): readonly string[] {
  if (value === undefined || value === null) return EMPTY;
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array of strings`);
  return value as readonly string[];
}

/** Reads the structural certificate input; TypeError for anything that is not of that shape. */
export function readCertificateNames(certOrNames: CertificateNames): Names {
  if (typeof certOrNames !== 'object' || certOrNames === null) {
    throw new TypeError('certOrNames must be a certificate view or an object with dnsNames/ipAddresses');
  }
  const dns = readList(certOrNames.dnsNames, 'dnsNames');
  const ips = readList(certOrNames.ipAddresses, 'ipAddresses');
  let cn: unknown = certOrNames.commonName;
  if (cn === undefined || cn === null) {
    const subject: unknown = certOrNames.subject;
    if (subject !== undefined && subject !== null) {
      if (typeof subject !== 'object') throw new TypeError('subject must be an object');
      cn = (subject as { commonName?: unknown }).commonName;
    }
  }
  if (cn === null) cn = undefined;
  if (cn !== undefined && typeof cn !== 'string') throw new TypeError('commonName must be a string');
  const sanUnreadable = certOrNames.hasSubjectAltName === true && certOrNames.subjectAltNames === undefined;
  return { dns, ips, cn: cn as string | undefined, sanUnreadable };
}

export function readOptions(options: HostnameMatchOptions | undefined): Options {
  if (options === undefined) return DEFAULT_OPTIONS;
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return {
    legacyCommonName: flag(options.legacyCommonName, false, 'legacyCommonName'),
    wildcards: flag(options.wildcards, true, 'wildcards'),
    privateSuffixWildcards: flag(options.privateSuffixWildcards, true, 'privateSuffixWildcards'),
  };
}

const DEFAULT_OPTIONS: Options = Object.freeze({
  legacyCommonName: false,
  wildcards: true,
  privateSuffixWildcards: true,
});

function flag(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`);
  return value;
}

/** Digits and dots only, with at least one digit: text that can only be meant as an IPv4 address. */
function isDigitsAndDots(text: string): boolean {
  let digit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) continue;
    if (c < 48 || c > 57) return false;
    digit = true;
  }
  return digit;
}

/** Text meant as an IP address: digits and dots, a bracket, or hex digits and colons before any zone. */
function looksLikeIP(text: string): boolean {
  if (isDigitsAndDots(text) || text.charCodeAt(0) === 91) return true;
  const zone = text.indexOf('%');
  const address = zone < 0 ? text : text.slice(0, zone);
  return /^[0-9a-fA-F:.]+$/.test(address) && address.indexOf(':') !== address.lastIndexOf(':');
}

export function readReference(host: string): Reference {
  if (typeof host !== 'string') throw new TypeError('host must be a string');
  if (host.length > MAX_INPUT_LENGTH) return { type: 'invalid', problem: 'too-long' };
  if (host.length > 0 && (host.charCodeAt(0) === 91 || host.indexOf(':') >= 0 || isDigitsAndDots(host))) {
    const bytes = parseIPAddress(host);
    if (bytes === undefined) {
      // "foo:bar" is no IP address either, but its colon is what makes it unusable as a name.
      const dns = canonicalDNSName(host);
      if (!dns.ok && dns.problem !== 'ip-address' && !looksLikeIP(host)) {
        return {
          type: 'invalid',
          problem: dns.problem,
          ...(dns.position === undefined ? {} : { position: dns.position }),
        };
      }
      return { type: 'invalid', problem: 'invalid-ip' };
    }
    return { type: 'ip', bytes, text: formatIPAddress(bytes) };
  }
  const dns = canonicalDNSName(host);
  if (dns.ok) return { type: 'dns', name: dns.name };
  return {
    type: 'invalid',
    problem: dns.problem,
    ...(dns.position === undefined ? {} : { position: dns.position }),
  };
}

/**
 * Matches one presented DNS name (dNSName or Common Name) against a canonical DNS host; fast path.
 * `parent` is the host without its first label (`''` for a one-label host).
 */
export function matchesPresented(presented: string, host: string, parent: string, options: Options): boolean {
  if (typeof presented !== 'string') throw new TypeError('dnsNames entries must be strings');
  // An exact match with a valid canonical host makes the presented name valid too: same LDH characters.
  if (equalsIgnoreAsciiCase(presented, 0, host)) return true;
  if (
    options.wildcards &&
    parent.length > 0 &&
    presented.length === parent.length + 2 &&
    presented.charCodeAt(0) === 42 &&
    presented.charCodeAt(1) === 46 &&
    equalsIgnoreAsciiCase(presented, 2, parent)
  ) {
    // "*." + the host's parent. The parent is valid (it is part of the host); it needs two labels and
    // must not be a public suffix.
    if (parent.indexOf('.') < 0) return false;
    return !isWildcardOnPublicSuffix(parent, !options.privateSuffixWildcards);
  }
  return false;
}

export interface Match {
  readonly via: HostnameMatchVia;
  readonly presented: string;
}

export function findMatch(names: Names, ref: Reference, options: Options): Match | null {
  if (ref.type === 'invalid') return null;
  if (ref.type === 'ip') {
    for (const entry of names.ips) {
      if (typeof entry !== 'string') throw new TypeError('ipAddresses entries must be strings');
      if (entry === ref.text) return { via: 'ip-san', presented: entry };
      const bytes = parseIPAddress(entry);
      if (bytes !== undefined && bytes.length === ref.bytes.length && sameBytes(bytes, ref.bytes)) {
        return { via: 'ip-san', presented: entry };
      }
    }
    return null;
  }
  const host = ref.name;
  const dot = host.indexOf('.');
  const parent = dot > 0 ? host.slice(dot + 1) : '';
  for (const entry of names.dns) {
    if (matchesPresented(entry, host, parent, options)) return { via: 'dns-san', presented: entry };
  }
  const cn = legacyCommonName(names, options);
  if (cn !== undefined && matchesPresented(cn, host, parent, options)) {
    return { via: 'common-name', presented: cn };
  }
  return null;
}

/**
 * The Common Name when it stands in for DNS names: only with `legacyCommonName`, only when the certificate
 * has no dNSName entry and no unreadable subjectAltName extension.
 */
export function legacyCommonName(names: Names, options: Options): string | undefined {
  return options.legacyCommonName && names.dns.length === 0 && !names.sanUnreadable ? names.cn : undefined;
}

/** The canonical text of the certificate name that matched: lower case, or RFC 5952 for an IP address. */
export function matchedNameOf(match: Match): string {
  if (match.via !== 'ip-san') return asciiLower(match.presented);
  const bytes = parseIPAddress(match.presented);
  return bytes === undefined ? match.presented : formatIPAddress(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lists valid and ignored names of a certificate under the options. Shared with coverage and mail. */
export function describeNames(
  names: Names,
  options: Options,
): { validNames: string[]; ignoredNames: IgnoredName[] } {
  const valid: string[] = [];
  const seen = new Set<string>();
  const ignored: IgnoredName[] = [];
  const add = (name: string): void => {
    if (!seen.has(name)) {
      seen.add(name);
      valid.push(name);
    }
  };
  const presented = (raw: string, source: HostnameMatchVia): void => {
    const p = classifyPresented(raw);
    if (p.kind === 'invalid') ignored.push({ name: raw, source, reason: p.problem });
    else if (p.kind === 'exact') add(p.name);
    else if (!options.wildcards) ignored.push({ name: raw, source, reason: 'wildcards-disabled' });
    else if (isWildcardOnPublicSuffix(p.parent, !options.privateSuffixWildcards)) {
      ignored.push({ name: raw, source, reason: 'wildcard-public-suffix' });
    } else add(p.name);
  };
  for (const entry of names.dns) {
    if (typeof entry !== 'string') throw new TypeError('dnsNames entries must be strings');
    presented(entry, 'dns-san');
  }
  for (const entry of names.ips) {
    if (typeof entry !== 'string') throw new TypeError('ipAddresses entries must be strings');
    const bytes = parseIPAddress(entry);
    if (bytes === undefined) ignored.push({ name: entry, source: 'ip-san', reason: 'invalid-ip' });
    else add(formatIPAddress(bytes));
  }
  if (names.cn !== undefined) {
    if (names.dns.length > 0)
      ignored.push({ name: names.cn, source: 'common-name', reason: 'common-name-with-dns-san' });
    else if (names.sanUnreadable)
      ignored.push({ name: names.cn, source: 'common-name', reason: 'common-name-with-unreadable-san' });
    else if (!options.legacyCommonName) {
      ignored.push({ name: names.cn, source: 'common-name', reason: 'common-name-disabled' });
    } else presented(names.cn, 'common-name');
  }
  return { validNames: valid, ignoredNames: ignored };
}

function faultMessage(input: string, fault: NameFault): string {
  const at = fault.position === undefined ? '' : ` (at position ${fault.position})`;
  return `${quoteName(input)} is not a valid host name: ${PROBLEM_TEXT[fault.problem]}${at}.`;
}

export function invalidError(input: string, fault: NameFault, advice: string): HostnameError {
  return new HostnameError('ERR_HOSTNAME_INVALID', `${faultMessage(input, fault)} ${advice}`, {
    details: {
      name: input.length > 256 ? input.slice(0, 256) : input,
      reason: fault.problem,
      ...(fault.position === undefined ? {} : { position: fault.position }),
    },
  });
}

export const NAME_ADVICE =
  'Use a DNS name made of letters, digits and hyphens in dot-separated labels, such as mail.example.com ' +
  '(internationalized names are converted to xn-- A-labels).';

const MAX_LISTED = 20;

/** The mismatch message, shared with mail-identity. */
export function mismatchMessage(hostText: string, check: HostnameCheck, cn: string | undefined): string {
  const valid = check.validNames;
  if (check.commonNameWouldMatch) {
    return (
      `The certificate names ${hostText} only in its subject Common Name, which is not used to identify hosts ` +
      `(RFC 9525). Reissue the certificate with ${hostText} as a subjectAltName DNS name, or pass ` +
      `{ legacyCommonName: true } to accept this old-style certificate.`
    );
  }
  if (valid.length === 0) {
    const cnNote =
      cn === undefined ? '' : ` (its Common Name ${quoteName(cn)} is not used to identify hosts)`;
    return (
      `The certificate is not valid for ${hostText}: it has no usable subjectAltName entries${cnNote}. ` +
      `Reissue it with ${hostText} as a subjectAltName entry.`
    );
  }
  const listed = valid.slice(0, MAX_LISTED).join(', ');
  const more = valid.length > MAX_LISTED ? ` and ${valid.length - MAX_LISTED} more` : '';
  return (
    `The certificate is not valid for ${hostText}: it is valid for ${listed}${more}. ` +
    `Connect to one of those names, or use a certificate whose subjectAltName includes ${hostText}.`
  );
}
