/**
 * The name lookup of an SNI registry, as pure logic over canonical names: the exact name first, then a
 * wildcard for exactly one leftmost label (`*.example.org` covers `mail.example.org`, not `example.org` nor
 * `a.b.example.org`), then the default. Names are canonicalised at lookup, because servers hand over different
 * forms of the same name (smtp-server passes the Unicode form on implicit TLS and the raw form on STARTTLS;
 * clients may send upper case or a trailing dot).
 *
 * @module sni
 */
import { HostnameError } from '../errors.js';
import { quoteName } from '../internal/names/dns-name.js';
import { canonicalizeHostname, tryCanonicalizeHostname } from './hostname.js';

/** How a lookup was satisfied. */
export type SNIMatch = 'exact' | 'wildcard' | 'default';

/** The result of {@link lookupSNIName}. */
export interface SNILookup {
  /** The canonical form of the requested name, or undefined when none was sent or it was not a host name. */
  readonly name: string | undefined;
  /** The registered pattern that matched (`mail.example.org` or `*.example.org`), or undefined for the default. */
  readonly pattern: string | undefined;
  /** Whether the exact name, a wildcard or the default answered. */
  readonly match: SNIMatch;
}

/** Anything with `has(key)`: a Set or Map of registered patterns. */
export interface SNIPatternSet {
  /** Whether this canonical pattern is registered. */
  has(pattern: string): boolean;
}

/**
 * Canonicalises a name to register: a host name (`Mail.Example.ORG.` → `mail.example.org`, Unicode →
 * A-label) or a one-label wildcard (`*.Example.org` → `*.example.org`) whose base has at least two labels.
 *
 * @throws {HostnameError} `ERR_HOSTNAME_INVALID` for anything else (a `*` not alone in the leftmost label,
 *   `*.org`, an IP address, an invalid host name).
 * @example
 * ```ts
 * import { canonicalizeSNIPattern } from 'mailtls';
 * canonicalizeSNIPattern('*.Example.ORG.'); // '*.example.org'
 * ```
 */
export function canonicalizeSNIPattern(pattern: string): string {
  if (typeof pattern !== 'string') throw new TypeError('SNI pattern must be a string');
  if (pattern.startsWith('*.')) {
    const base = canonicalizeHostname(pattern.slice(2));
    if (!base.includes('.')) {
      throw new HostnameError(
        'ERR_HOSTNAME_INVALID',
        `wildcard ${quoteName(pattern)} covers a whole top-level domain: register "*.name.tld" or the exact names`,
        { details: { name: pattern } },
      );
    }
    return `*.${base}`;
  }
  if (pattern.includes('*')) throw invalidPattern(pattern);
  return canonicalizeHostname(pattern);
}

function invalidPattern(pattern: string): HostnameError {
  return new HostnameError(
    'ERR_HOSTNAME_INVALID',
    `${quoteName(pattern)} is not a host name or a "*.domain" wildcard (a "*" may only be the whole leftmost label; ` +
      'IP addresses are never sent in SNI)',
    { details: { name: pattern } },
  );
}

/**
 * The canonical form of a name received in SNI, or undefined when there is none or it is not a valid host
 * name (an IP address, an empty name, garbage): such clients get the default certificate. Never throws for
 * string input.
 *
 * @example
 * ```ts
 * import { canonicalizeServername } from 'mailtls';
 * canonicalizeServername('MAIL.Example.org.'); // 'mail.example.org'
 * canonicalizeServername('192.0.2.1'); // undefined
 * ```
 */
export function canonicalizeServername(servername: string | null | undefined): string | undefined {
  if (servername === undefined || servername === null || servername === '') return undefined;
  if (typeof servername !== 'string') throw new TypeError('servername must be a string');
  if (servername.length > 1024) return undefined;
  // Fast path for what clients nearly always send: an already canonical name (lower-case LDH labels, no
  // trailing dot, no label with "--" in positions 3-4 such as an A-label, a last label that is not all
  // digits). Everything else goes through the full canonicalisation.
  if (servername.length <= 253 && CANONICAL_LDH.test(servername) && !RESERVED_OR_NUMERIC.test(servername)) {
    return servername;
  }
  return tryCanonicalizeHostname(servername);
}

const CANONICAL_LDH = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// A label whose 3rd-4th characters are "--" (xn--, reserved R-LDH), or an all-digit last label.
const RESERVED_OR_NUMERIC = /(?:^|\.)[a-z0-9]{2}--|(?:^|\.)[0-9]+$/;

/**
 * Finds the registered pattern that serves a name received in SNI: the exact canonical name, else the
 * one-label wildcard of its parent (`*.example.org` for `mail.example.org`), else the default.
 *
 * @param patterns - registered canonical patterns (see {@link canonicalizeSNIPattern}).
 * @param servername - the name as a server received it (any case, Unicode or A-label, trailing dot), or none.
 * @example
 * ```ts
 * import { lookupSNIName } from 'mailtls';
 * const patterns = new Set(['mail.example.org', '*.example.org']);
 * lookupSNIName(patterns, 'IMAP.example.org.'); // { name: 'imap.example.org', pattern: '*.example.org', match: 'wildcard' }
 * lookupSNIName(patterns, undefined).match; // 'default'
 * ```
 */
export function lookupSNIName(patterns: SNIPatternSet, servername: string | null | undefined): SNILookup {
  const name = canonicalizeServername(servername);
  if (name === undefined) return { name, pattern: undefined, match: 'default' };
  if (patterns.has(name)) return { name, pattern: name, match: 'exact' };
  const dot = name.indexOf('.');
  if (dot > 0) {
    const wildcard = `*${name.slice(dot)}`;
    // A wildcard base needs two labels: `*.org` is never registered, so `a.org` falls through to the default.
    if (name.indexOf('.', dot + 1) > 0 && patterns.has(wildcard)) {
      return { name, pattern: wildcard, match: 'wildcard' };
    }
  }
  return { name, pattern: undefined, match: 'default' };
}
