/**
 * The rules behind host-name canonicalisation and matching, shared by hostname.ts, mail-identity.ts and
 * coverage.ts. Nothing here is public API; the policy is documented on src/names/hostname.ts and in
 * docs/hostname-policy.md.
 *
 * @module internal/names/dns-name
 */
import { getPublicSuffix } from 'tldts/dist/index.esm.min.js';
import type { HostnameProblem } from './hostname-types.js';
import { parseIPAddress } from './ip-address.js';

/** Why a name is not a valid host name or a valid presented identifier (defined on hostname.ts). */
export type NameProblem = HostnameProblem;

/** A problem with the position of the offending character when there is one. */
export interface NameFault {
  readonly problem: NameProblem;
  readonly position?: number;
}

/** The longest input read at all; anything longer is refused before any work (a DNS name has 253). */
export const MAX_INPUT_LENGTH = 1024;
/** RFC 1035 §2.3.4: 255 octets on the wire, which is 253 characters of text without the root dot. */
export const MAX_NAME_LENGTH = 253;
/** RFC 1035 §2.3.4. */
export const MAX_LABEL_LENGTH = 63;

/** Whether a UTF-16 code unit is a control character: C0, DEL or C1. */
export function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

function isLetterDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/**
 * Validates a lower-case ASCII name as LDH labels (RFC 1123 §2.1, RFC 5890 §2.3.1): letters, digits and
 * inner hyphens, 1-63 characters a label, at most 253 in all, and a last label that is not all digits
 * (RFC 3696 §2: no top-level domain is numeric; such a name is an IPv4 address in disguise).
 * Returns undefined when valid.
 */
export function ldhFault(name: string): NameFault | undefined {
  const n = name.length;
  if (n === 0) return { problem: 'empty' };
  if (n > MAX_NAME_LENGTH) return { problem: 'too-long' };
  let labelStart = 0;
  let allDigits = true;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 46;
    if (c === 46) {
      const len = i - labelStart;
      if (len === 0) return { problem: 'empty-label', position: i };
      if (len > MAX_LABEL_LENGTH) return { problem: 'label-too-long', position: labelStart };
      if (name.charCodeAt(labelStart) === 45) return { problem: 'hyphen', position: labelStart };
      if (name.charCodeAt(i - 1) === 45) return { problem: 'hyphen', position: i - 1 };
      if (i === n && allDigits) return { problem: 'numeric-tld', position: labelStart };
      labelStart = i + 1;
      allDigits = true;
      continue;
    }
    if (c === 45) {
      allDigits = false;
      continue;
    }
    if (!isLetterDigit(c)) return { problem: 'invalid-character', position: i };
    if (c > 57) allDigits = false;
  }
  return undefined;
}

/** Lower-cases ASCII letters only (never `toLowerCase`, which maps U+212A KELVIN SIGN to `k`). */
export function asciiLower(text: string): string {
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      upper = true;
      break;
    }
  }
  if (!upper) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : text[i];
  }
  return out;
}

/**
 * Whether `text.slice(from)` equals the lower-case ASCII `lower`, ignoring ASCII case only.
 */
export function equalsIgnoreAsciiCase(text: string, from: number, lower: string): boolean {
  if (text.length - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(from + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

const aLabelCache = new Map<string, boolean>();

/**
 * Whether an `xn--` label is a valid A-label: Punycode that decodes, and whose U-label passes the UTS #46
 * validity criteria, as the WHATWG URL host parser checks them.
 */
export function isValidALabel(label: string): boolean {
  const cached = aLabelCache.get(label);
  if (cached !== undefined) return cached;
  let ok = false;
  try {
    ok = new URL(`http://${label}/`).hostname === label;
  } catch {
    ok = false;
  }
  if (aLabelCache.size >= 512) aLabelCache.clear();
  aLabelCache.set(label, ok);
  return ok;
}

function aLabelFault(name: string): NameFault | undefined {
  let start = 0;
  while (start < name.length) {
    let end = name.indexOf('.', start);
    if (end < 0) end = name.length;
    if (
      end - start >= 4 &&
      name.charCodeAt(start) === 120 &&
      name.charCodeAt(start + 1) === 110 &&
      name.charCodeAt(start + 2) === 45 &&
      name.charCodeAt(start + 3) === 45 &&
      !isValidALabel(name.slice(start, end))
    ) {
      return { problem: 'a-label', position: start };
    }
    start = end + 1;
  }
  return undefined;
}

/** The result of reading a reference identifier (the host a client wants). */
export type Canonical = { readonly ok: true; readonly name: string } | ({ readonly ok: false } & NameFault);

function fail(fault: NameFault): Canonical {
  return { ok: false, ...fault };
}

/**
 * The canonical form of a DNS host name used as a reference identifier: UTS #46 mapping of any non-ASCII
 * input (through the WHATWG URL host parser), lower-case ASCII, one trailing dot removed, LDH labels,
 * valid A-labels. IP literals are refused with 'ip-address'.
 */
export function canonicalDNSName(input: string): Canonical {
  const n = input.length;
  if (n === 0) return fail({ problem: 'empty' });
  if (n > MAX_INPUT_LENGTH) return fail({ problem: 'too-long' });
  // Fast path for what is nearly always given: a name that is canonical already (lower-case LDH labels,
  // no trailing dot). Such a name is no IP address (its last label is not all digits, it has no colon).
  if (n <= MAX_NAME_LENGTH && ldhFault(input) === undefined) {
    const aFault = aLabelFault(input);
    return aFault === undefined ? { ok: true, name: input } : fail(aFault);
  }
  let nonAscii = false;
  for (let i = 0; i < n; i++) {
    const c = input.charCodeAt(i);
    if (isControl(c)) return fail({ problem: 'control-character', position: i });
    if (c < 0x80) {
      if (c === 32) return fail({ problem: 'whitespace', position: i });
      if (!(c === 45 || c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) {
        // An IPv6 literal's first character outside LDH is a colon or a bracket; an IPv4 literal is
        // all digits and dots, and is caught below as an all-digit last label.
        if ((c === 58 || c === 91) && parseIPAddress(input) !== undefined)
          return fail({ problem: 'ip-address' });
        return fail({ problem: 'invalid-character', position: i });
      }
    } else {
      // Unicode white space would become a space or vanish under UTS #46: refuse it outright.
      if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029) {
        return fail({ problem: 'whitespace', position: i });
      }
      if (c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff)
        return fail({ problem: 'whitespace', position: i });
      nonAscii = true;
    }
  }
  let ascii: string;
  if (nonAscii) {
    try {
      ascii = new URL(`http://${input}/`).hostname;
    } catch {
      return fail({ problem: 'idna' });
    }
    if (ascii.length === 0) return fail({ problem: 'idna' });
  } else {
    ascii = asciiLower(input);
  }
  if (ascii.length > 1 && ascii.charCodeAt(ascii.length - 1) === 46) ascii = ascii.slice(0, -1);
  const fault = ldhFault(ascii);
  if (fault !== undefined) {
    if (fault.problem === 'numeric-tld' && /^[0-9.]+$/.test(ascii)) return fail({ problem: 'ip-address' });
    // Positions refer to the input only when no mapping happened.
    if (nonAscii) return fail({ problem: fault.problem === 'invalid-character' ? 'idna' : fault.problem });
    return fail(fault);
  }
  if (!nonAscii) {
    const aFault = aLabelFault(ascii);
    if (aFault !== undefined) return fail(aFault);
  }
  return { ok: true, name: ascii };
}

/** A presented DNS identifier (a dNSName or, in legacy mode, a Common Name) after validation. */
export type Presented =
  | { readonly kind: 'exact'; readonly name: string }
  | { readonly kind: 'wildcard'; readonly name: string; readonly parent: string }
  | ({ readonly kind: 'invalid'; readonly name: string } & NameFault);

/**
 * Validates a presented DNS identifier as RFC 5280 §4.2.1.6 and RFC 9525 §6.3 want it: ASCII only
 * (IA5String with A-labels), the preferred name syntax (no trailing dot, no empty label), LDH labels, and
 * at most one wildcard, which must be the whole left-most label of a name with at least two more labels.
 * The public-suffix rule is separate ({@link isWildcardOnPublicSuffix}) because it needs a list lookup.
 */
export function classifyPresented(raw: string): Presented {
  const n = raw.length;
  if (n === 0) return { kind: 'invalid', name: raw, problem: 'empty' };
  if (n > MAX_NAME_LENGTH + 1) return { kind: 'invalid', name: raw, problem: 'too-long' };
  let stars = 0;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (isControl(c)) return { kind: 'invalid', name: raw, problem: 'control-character', position: i };
    if (c >= 0x80) return { kind: 'invalid', name: raw, problem: 'non-ascii', position: i };
    if (c === 32) return { kind: 'invalid', name: raw, problem: 'whitespace', position: i };
    if (c === 42) stars++;
  }
  const name = asciiLower(raw);
  if (name.charCodeAt(n - 1) === 46 && n > 1) return { kind: 'invalid', name, problem: 'trailing-dot' };
  if (stars > 0) {
    const firstDot = name.indexOf('.');
    const firstLabelEnd = firstDot < 0 ? n : firstDot;
    const star = name.indexOf('*');
    if (star >= firstLabelEnd || name.indexOf('*', firstLabelEnd) >= 0) {
      return {
        kind: 'invalid',
        name,
        problem: 'wildcard-not-leftmost',
        position: name.indexOf('*', firstLabelEnd),
      };
    }
    if (firstLabelEnd !== 1 || stars > 1)
      return { kind: 'invalid', name, problem: 'partial-wildcard', position: star };
    if (firstDot < 0) return { kind: 'invalid', name, problem: 'wildcard-single-label' };
    const parent = name.slice(2);
    const fault = ldhFault(parent);
    if (fault !== undefined) {
      const problem =
        fault.problem === 'numeric-tld' && /^[0-9.]+$/.test(parent) ? 'wildcard-ip' : fault.problem;
      return {
        kind: 'invalid',
        name,
        problem,
        ...(fault.position === undefined ? {} : { position: fault.position + 2 }),
      };
    }
    if (parent.indexOf('.') < 0) return { kind: 'invalid', name, problem: 'wildcard-single-label' };
    return { kind: 'wildcard', name, parent };
  }
  const fault = ldhFault(name);
  if (fault !== undefined) {
    if (fault.problem === 'numeric-tld' && /^[0-9.]+$/.test(name))
      return { kind: 'invalid', name, problem: 'ip-address' };
    return { kind: 'invalid', name, ...fault };
  }
  return { kind: 'exact', name };
}

/** Verdicts of {@link isWildcardOnPublicSuffix}, one map per `includePrivate` (no key built per call). */
const icannSuffixCache = new Map<string, boolean>();
const anySuffixCache = new Map<string, boolean>();

/**
 * Whether `*.parent` would be a wildcard directly under a public suffix (RFC 9525 §7.2, CA/Browser Forum
 * BR §3.2.2.6). The ICANN section of the Public Suffix List always counts; the private section counts
 * only when `includePrivate` is set. `parent` is a valid lower-case LDH name with at least two labels.
 */
export function isWildcardOnPublicSuffix(parent: string, includePrivate: boolean): boolean {
  const cache = includePrivate ? anySuffixCache : icannSuffixCache;
  const cached = cache.get(parent);
  if (cached !== undefined) return cached;
  const suffix = getPublicSuffix(parent, {
    allowIcannDomains: true,
    allowPrivateDomains: includePrivate,
    extractHostname: false,
    validateHostname: false,
    detectIp: false,
    mixedInputs: false,
  });
  const result = suffix === parent;
  if (cache.size >= 512) cache.clear();
  cache.set(parent, result);
  return result;
}

/** Plain-language explanations of each problem, completed by the caller with the name. */
export const PROBLEM_TEXT: Readonly<Record<NameProblem, string>> = {
  empty: 'it is empty',
  'too-long': `it is longer than ${MAX_NAME_LENGTH} characters`,
  'control-character': 'it contains a control character (such as NUL)',
  whitespace: 'it contains white space',
  'invalid-character': 'it contains a character other than letters, digits, hyphens and dots',
  'empty-label': 'it has an empty label (two dots in a row, or a leading dot)',
  'label-too-long': `a label is longer than ${MAX_LABEL_LENGTH} characters`,
  hyphen: 'a label starts or ends with a hyphen',
  'numeric-tld': 'its last label is all digits, which no top-level domain is',
  'ip-address': 'it is an IP address (or looks like one), not a DNS name',
  idna: 'it is not a valid internationalized domain name (UTS #46 processing failed)',
  'a-label': 'an xn-- label is not a valid A-label (bad Punycode or a disallowed character)',
  'non-ascii': 'it contains non-ASCII characters; certificates must carry A-labels (xn--...)',
  'trailing-dot':
    'it ends with a dot, which the preferred name syntax of RFC 5280 does not allow in certificates',
  'partial-wildcard':
    'its wildcard is not the whole left-most label (partial wildcards such as f*.example.com are not honoured)',
  'wildcard-not-leftmost': 'it has a wildcard outside the left-most label',
  'wildcard-single-label':
    'its wildcard would cover a top-level domain (it needs at least two labels after *.)',
  'wildcard-public-suffix': 'its wildcard sits directly on a public suffix (such as *.co.uk)',
  'wildcard-ip': 'it is a wildcard over an IP address, which never matches',
  'wildcards-disabled': 'wildcards are disabled by the options',
  'invalid-ip':
    'it is not an IP address in strict form (IPv4 as four decimal numbers 0-255, IPv6 as in RFC 4291, no zone identifier)',
  'common-name-disabled':
    'the Common Name is not a host name source unless legacyCommonName is set (RFC 9525 §1.3)',
  'common-name-with-dns-san':
    'the Common Name is never used when the certificate has DNS subjectAltName entries',
  'common-name-with-unreadable-san':
    'the Common Name is never used when the certificate has a subjectAltName extension that cannot be read',
};

/**
 * Quotes a name for an error message: JSON escaping, plus `\uXXXX` for DEL, C1 controls, line separators
 * and bidirectional controls, so that nothing invisible or reordering reaches a log; cut at 120 characters.
 */
export function quoteName(name: string): string {
  const cut = name.length > 120 ? `${name.slice(0, 120)}…` : name;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
