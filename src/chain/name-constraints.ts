/**
 * Name constraints (RFC 5280 §4.2.1.10): whether the names of a certificate lie inside the name space a CA
 * above it allows.
 *
 * ## Policy
 *
 * - **Name forms.** DNS names, IP addresses, e-mail addresses (rfc822Name), URIs (their host) and directory
 *   names are processed. A constraint on any other form (otherName, x400Address, ediPartyName,
 *   registeredID) is fatal only when the certificate has a name of that form (RFC 5280: "the application
 *   MUST either process the constraint or reject the certificate").
 * - **Which names.** subjectAltName entries of every processed form; the subject (when not empty) for
 *   directoryName constraints; subject `emailAddress` attributes for rfc822Name constraints. The subject
 *   Common Name is not a name for constraint purposes (RFC 9525: it is not a host-name source); a matcher
 *   that reads it (`legacyCommonName`) gets it checked with `commonName: true`.
 * - **DNS.** `example.com` allows `example.com` and every name below it (`a.b.example.com`), never
 *   `notexample.com`; comparison ignores ASCII case. A constraint with a leading dot or a wildcard is
 *   malformed (RFC 5280 allows neither for dNSName), as is a constraint with a minimum other than 0 or a
 *   maximum.
 * - **Wildcard names** (`*.example.com`) are treated as the set of names they match: permitted only when
 *   the whole set is (`example.com` permits `*.example.com`, `foo.example.com` does not), and excluded as
 *   soon as one name of the set is (`bar.example.com` excludes `*.example.com`; CVE-2025-61727).
 * - **E-mail.** `user@host` is one mailbox (local part compared exactly, host ignoring case), `host` every
 *   mailbox on that host, `.example.com` every mailbox on any host below it. An asterisk is an ordinary
 *   character. Addresses with more than one `@` are malformed.
 * - **IP.** Address and mask, same family; the mask must be a CIDR prefix.
 * - **Malformed names.** A name of a constrained form that cannot be read (a dNSName `.example.com`, an
 *   e-mail with two `@`) is a violation, since it cannot be shown to lie inside the permitted space.
 * - **Cost.** Every (name, subtree) comparison is counted; above `maxComparisons` (default 250,000, as Go)
 *   the check fails with `too-complex` instead of spending quadratic time on a hostile certificate.
 *
 * @module name-constraints
 */

import { ChainError } from '../errors.js';
import { integerAtLeast } from '../internal/assert.js';
import { DerReader, encodeSequence, parseDer, rawOf } from '../internal/encoding/der.js';
import { AttributeOID } from '../internal/encoding/oids.js';
import { asciiLower, classifyPresented, quoteName } from '../internal/names/dns-name.js';
import { formatIPAddress } from '../names/ip-address.js';
import type { Certificate } from '../x509/certificate.js';
import type { GeneralName, GeneralNameType, GeneralSubtree } from '../x509/extensions.js';
import { type DistinguishedName, nameKey, parseDistinguishedName } from '../x509/name.js';

/** Why a certificate fails the name constraints of a CA. */
export type NameConstraintViolationReason =
  /** A name lies inside an excluded subtree. */
  | 'excluded'
  /** A name lies outside every permitted subtree of its form. */
  | 'not-permitted'
  /** The CA constrains a name form mailtls does not process, and the certificate has a name of that form. */
  | 'unsupported'
  /** A name of a constrained form is malformed, so it cannot be shown to be inside the permitted space. */
  | 'malformed-name'
  /** The constraint itself is malformed (a DNS constraint with a leading dot, a non-CIDR IP mask...). */
  | 'malformed-constraint'
  /** The certificate and the constraints need more comparisons than `maxComparisons`. */
  | 'too-complex';

/** One violation of name constraints. */
export interface NameConstraintViolation {
  /** Why the name violates the constraints. */
  readonly reason: NameConstraintViolationReason;
  /** The form of the offending name or constraint. */
  readonly nameType: GeneralNameType;
  /** The offending name as text, when a name is at fault. */
  readonly name?: string;
  /** The constraint involved, as `openssl x509 -text` would print it (e.g. `DNS:example.com`). */
  readonly constraint?: string;
  /** What is wrong, in words (without the CA's name: the caller adds it). */
  readonly message: string;
}

/** Permitted and excluded subtrees, as {@link Certificate.nameConstraints} has them. */
export interface NameConstraintsInput {
  /** The permitted subtrees (a name must fall in one of each form present). */
  readonly permitted: readonly GeneralSubtree[];
  /** The excluded subtrees (a name in any of them is refused). */
  readonly excluded: readonly GeneralSubtree[];
}

/** Options of {@link checkNameConstraints} and {@link verifyNameConstraints}. */
export interface CheckNameConstraintsOptions {
  /**
   * Also treat the subject Common Name as a DNS name when the certificate has no DNS or IP subjectAltName
   * (for callers that match host names against the Common Name). Default false.
   */
  readonly commonName?: boolean | undefined;
  /** Most (name, subtree) comparisons before giving up with `too-complex`; default 250,000. */
  readonly maxComparisons?: number | undefined;
}

/** A comparison counter shared by several checks (one path validation). @internal */
export interface ComparisonBudget {
  remaining: number;
}

/** Default of {@link CheckNameConstraintsOptions.maxComparisons}. */
export const DEFAULT_MAX_NAME_COMPARISONS = 250_000;

// ---- names of a certificate ----

interface DNSName {
  readonly raw: string;
  /** `exact`: `name` is the name; `wildcard`: `name` is the parent of `*.`; `invalid`: unusable. */
  readonly kind: 'exact' | 'wildcard' | 'invalid';
  readonly name: string;
}

interface Names {
  readonly dns: readonly DNSName[];
  readonly cn: readonly DNSName[];
  readonly ip: readonly Uint8Array[];
  readonly email: readonly string[];
  readonly uri: readonly string[];
  readonly dn: readonly DistinguishedName[];
  readonly other: ReadonlySet<GeneralNameType>;
}

const namesCache = new WeakMap<Certificate, Names>();

function readDNS(raw: string): DNSName {
  const p = classifyPresented(raw);
  if (p.kind === 'exact') return { raw, kind: 'exact', name: p.name };
  if (p.kind === 'wildcard') return { raw, kind: 'wildcard', name: p.parent };
  return { raw, kind: 'invalid', name: raw };
}

function namesOf(cert: Certificate): Names {
  let n = namesCache.get(cert);
  if (n !== undefined) return n;
  const dns: DNSName[] = [];
  const ip: Uint8Array[] = [];
  const email: string[] = [];
  const uri: string[] = [];
  const dn: DistinguishedName[] = [];
  const other = new Set<GeneralNameType>();
  if (cert.subject.rdns.length > 0) dn.push(cert.subject);
  for (const rdn of cert.subject.rdns)
    for (const a of rdn) if (a.type === AttributeOID.emailAddress) email.push(a.value);
  for (const g of cert.subjectAltNames ?? []) {
    switch (g.type) {
      case 'dns':
        dns.push(readDNS(g.value));
        break;
      case 'ip':
        ip.push(g.bytes);
        break;
      case 'email':
        email.push(g.value);
        break;
      case 'uri':
        uri.push(g.value);
        break;
      case 'directoryName':
        dn.push(g.name);
        break;
      default:
        other.add(g.type);
    }
  }
  const cn: DNSName[] = [];
  if (dns.length === 0 && ip.length === 0) {
    const value = cert.subject.commonName;
    if (value !== undefined) cn.push(readDNS(value));
  }
  n = { dns, cn, ip, email, uri, dn, other };
  namesCache.set(cert, n);
  return n;
}

// ---- constraint forms ----

type Fault = string | undefined;
const faultCache = new WeakMap<GeneralSubtree, Fault>();

const DNS_CONSTRAINT = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** Why a DNS constraint or host is malformed, or undefined. */
function dnsConstraintFault(value: string): Fault {
  if (value === '') return undefined;
  if (value.length > 253) return 'it is longer than 253 characters';
  if (value.startsWith('.')) return 'it starts with a dot (RFC 5280 allows that only for URI and e-mail)';
  if (value.includes('*')) return 'it contains a wildcard, which constraints cannot have';
  if (!DNS_CONSTRAINT.test(asciiLower(value))) return 'it is not a DNS name in preferred syntax';
  return undefined;
}

function isPrefixMask(mask: Uint8Array): boolean {
  let zero = false;
  for (const b of mask) {
    if (zero) {
      if (b !== 0) return false;
      continue;
    }
    if (b === 0xff) continue;
    // 0b1110_0000 style: ones then zeros.
    if (((~b & 0xff) + 1) & ~b & 0xff) return false;
    zero = true;
  }
  return true;
}

function subtreeFault(st: GeneralSubtree): Fault {
  if (faultCache.has(st)) return faultCache.get(st);
  let fault: Fault;
  const base = st.base;
  if (st.minimum !== 0 || st.maximum !== undefined)
    fault = 'it has a minimum or maximum, which RFC 5280 forbids';
  else
    switch (base.type) {
      case 'dns':
        fault = dnsConstraintFault(base.value);
        break;
      case 'ip':
        fault =
          base.mask === undefined || !isPrefixMask(base.mask) ? 'its mask is not a CIDR prefix' : undefined;
        break;
      case 'email': {
        const v = base.value;
        const at = v.indexOf('@');
        if (at >= 0) {
          if (at !== v.lastIndexOf('@') || at === 0 || at === v.length - 1)
            fault = 'it is not a valid mailbox (one local part, one @, one host)';
          else fault = dnsConstraintFault(v.slice(at + 1));
        } else fault = dnsConstraintFault(v.startsWith('.') ? v.slice(1) : v);
        break;
      }
      case 'uri': {
        const v = base.value;
        fault = v === '' ? 'it is empty' : dnsConstraintFault(v.startsWith('.') ? v.slice(1) : v);
        break;
      }
      default:
        fault = undefined;
    }
  faultCache.set(st, fault);
  return fault;
}

// ---- matching ----

function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  const b = asciiLower(base);
  if (name.length === b.length) return name === b;
  return name.length > b.length && name.endsWith(b) && name.charCodeAt(name.length - b.length - 1) === 46;
}

/** Whether some name matched by `*.parent` lies below `base`. */
function wildcardMeets(parent: string, base: string): boolean {
  if (dnsWithin(parent, base)) return true;
  const b = asciiLower(base);
  const dot = b.indexOf('.');
  return dot > 0 && b.slice(dot + 1) === parent;
}

function splitMailbox(value: string): { local: string; host: string } | undefined {
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || at === value.length - 1) return undefined;
  const host = asciiLower(value.slice(at + 1));
  if (dnsConstraintFault(host) !== undefined || host === '') return undefined;
  return { local: value.slice(0, at), host };
}

function emailWithin(mailbox: { local: string; host: string }, base: string): boolean {
  if (base === '') return true;
  const at = base.indexOf('@');
  if (at >= 0) return mailbox.local === base.slice(0, at) && mailbox.host === asciiLower(base.slice(at + 1));
  const b = asciiLower(base);
  if (b.startsWith('.')) return mailbox.host.endsWith(b);
  return mailbox.host === b;
}

/** The host of a URI with an authority (`scheme://[userinfo@]host[:port]...`), lower case, or undefined. */
function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(uri);
  if (m === null || m[1] === undefined || m[1] === '') return undefined;
  return asciiLower(m[1]);
}

function uriWithin(host: string, base: string): boolean {
  const b = asciiLower(base);
  if (b.startsWith('.')) return host.endsWith(b);
  return host === b;
}

function ipWithin(address: Uint8Array, base: Uint8Array, mask: Uint8Array): boolean {
  if (address.length !== base.length) return false;
  for (let i = 0; i < address.length; i++)
    if ((address[i]! & mask[i]!) !== (base[i]! & mask[i]!)) return false;
  return true;
}

const prefixKeys = new WeakMap<DistinguishedName, Map<number, string>>();

/** The canonical key of the first `count` RDNs of `name`. */
function prefixKey(name: DistinguishedName, count: number): string {
  if (count === name.rdns.length) return nameKey(name);
  let m = prefixKeys.get(name);
  if (m === undefined) {
    m = new Map();
    prefixKeys.set(name, m);
  }
  let key = m.get(count);
  if (key === undefined) {
    const sets = DerReader.of(parseDer(name.der), 'Name').rest().slice(0, count).map(rawOf);
    key = nameKey(parseDistinguishedName(encodeSequence(...sets)));
    m.set(count, key);
  }
  return key;
}

function dnWithin(name: DistinguishedName, base: DistinguishedName): boolean {
  const k = base.rdns.length;
  if (k === 0) return true;
  if (name.rdns.length < k) return false;
  return prefixKey(name, k) === nameKey(base);
}

/**
 * Whether a name lies inside the subtree `base` of the same form (RFC 5280 §4.2.1.10 matching rules, as in
 * the module notes). A wildcard DNS name lies inside when every name it matches does. Names of different
 * forms, malformed names and forms mailtls does not process never match.
 *
 * @throws TypeError when an argument is not a GeneralName.
 * @example
 * ```ts
 * matchNameConstraint({ type: 'dns', value: 'mail.example.com' }, { type: 'dns', value: 'example.com' }); // true
 * matchNameConstraint({ type: 'email', value: 'postmaster@example.com' }, { type: 'email', value: '.example.com' }); // false
 * ```
 */
export function matchNameConstraint(name: GeneralName, base: GeneralName): boolean {
  if (typeof name !== 'object' || name === null || typeof base !== 'object' || base === null)
    throw new TypeError('matchNameConstraint expects two GeneralName objects');
  if (name.type !== base.type) return false;
  switch (name.type) {
    case 'dns': {
      const d = readDNS(name.value);
      return (
        d.kind !== 'invalid' && dnsConstraintFault(base.value) === undefined && dnsWithin(d.name, base.value)
      );
    }
    case 'ip':
      return base.type === 'ip' && base.mask !== undefined && ipWithin(name.bytes, base.bytes, base.mask);
    case 'email': {
      const mb = splitMailbox(name.value);
      return mb !== undefined && emailWithin(mb, base.value);
    }
    case 'uri': {
      const host = uriHost(name.value);
      return host !== undefined && uriWithin(host, base.value);
    }
    case 'directoryName':
      return base.type === 'directoryName' && dnWithin(name.name, base.name);
    default:
      return false;
  }
}

// ---- the check ----

const PROCESSED = new Set<GeneralNameType>(['dns', 'ip', 'email', 'uri', 'directoryName']);

function constraintText(base: GeneralName): string {
  switch (base.type) {
    case 'dns':
      return `DNS:${base.value}`;
    case 'ip':
      return `IP:${base.value}`;
    case 'email':
      return `email:${base.value}`;
    case 'uri':
      return `URI:${base.value}`;
    case 'directoryName':
      return `DirName:${base.value}`;
    default:
      return `${base.type}:${base.value}`;
  }
}

/** A violation, or undefined when every subtree of one form is satisfied by one name. */
type NameTest = (base: GeneralName) => boolean;

interface Group {
  readonly permitted: GeneralSubtree[];
  readonly excluded: GeneralSubtree[];
}

function groupOf(constraints: NameConstraintsInput): Map<GeneralNameType, Group> {
  const out = new Map<GeneralNameType, Group>();
  const add = (st: GeneralSubtree, kind: 'permitted' | 'excluded') => {
    let g = out.get(st.base.type);
    if (g === undefined) {
      g = { permitted: [], excluded: [] };
      out.set(st.base.type, g);
    }
    g[kind].push(st);
  };
  for (const st of constraints.permitted) add(st, 'permitted');
  for (const st of constraints.excluded) add(st, 'excluded');
  return out;
}

/**
 * The name-constraint check with a shared comparison budget (the path validator's entry point).
 *
 * @internal
 */
export function findNameConstraintViolation(
  cert: Certificate,
  constraints: NameConstraintsInput,
  budget: ComparisonBudget,
  commonName = false,
): NameConstraintViolation | undefined {
  const names = namesOf(cert);
  const groups = groupOf(constraints);
  for (const [type, group] of groups) {
    const all = [...group.permitted, ...group.excluded];
    for (const st of all) {
      const fault = subtreeFault(st);
      if (fault !== undefined)
        return {
          reason: 'malformed-constraint',
          nameType: type,
          constraint: constraintText(st.base),
          message: `its name constraint ${quoteName(constraintText(st.base))} is malformed: ${fault}`,
        };
    }
    if (!PROCESSED.has(type)) {
      if (names.other.has(type))
        return {
          reason: 'unsupported',
          nameType: type,
          constraint: constraintText(all[0]!.base),
          message: `it constrains ${type} names, which mailtls cannot evaluate, and the certificate has one`,
        };
      continue;
    }
    const items: { text: string; test: NameTest | undefined; excludedTest?: NameTest }[] = [];
    switch (type) {
      case 'dns':
        for (const d of commonName ? [...names.dns, ...names.cn] : names.dns)
          items.push(
            d.kind === 'invalid'
              ? { text: d.raw, test: undefined }
              : d.kind === 'exact'
                ? { text: d.raw, test: (b) => dnsWithin(d.name, b.value) }
                : {
                    text: d.raw,
                    test: (b) => dnsWithin(d.name, b.value),
                    excludedTest: (b) => wildcardMeets(d.name, b.value),
                  },
          );
        break;
      case 'ip':
        for (const a of names.ip)
          items.push({
            text: formatIPAddress(a),
            test: (b) => b.type === 'ip' && b.mask !== undefined && ipWithin(a, b.bytes, b.mask),
          });
        break;
      case 'email':
        for (const e of names.email) {
          const mb = splitMailbox(e);
          items.push({ text: e, test: mb === undefined ? undefined : (b) => emailWithin(mb, b.value) });
        }
        break;
      case 'uri':
        for (const u of names.uri) {
          const host = uriHost(u);
          items.push({ text: u, test: host === undefined ? undefined : (b) => uriWithin(host, b.value) });
        }
        break;
      case 'directoryName':
        for (const dn of names.dn)
          items.push({
            text: dn.toString(),
            test: (b) => b.type === 'directoryName' && dnWithin(dn, b.name),
          });
        break;
    }
    budget.remaining -= items.length * all.length;
    if (budget.remaining < 0)
      return {
        reason: 'too-complex',
        nameType: type,
        message: `checking its ${items.length} ${type} names against the name constraints needs too many comparisons; such a certificate is refused rather than checked for minutes`,
      };
    for (const item of items) {
      if (item.test === undefined)
        return {
          reason: 'malformed-name',
          nameType: type,
          name: item.text,
          message: `its ${type} name ${quoteName(item.text)} is malformed, so it cannot be checked against the name constraints`,
        };
      const excludedTest = item.excludedTest ?? item.test;
      for (const st of group.excluded)
        if (excludedTest(st.base))
          return {
            reason: 'excluded',
            nameType: type,
            name: item.text,
            constraint: constraintText(st.base),
            message: `its name ${quoteName(item.text)} is in the excluded subtree ${constraintText(st.base)}`,
          };
      if (group.permitted.length > 0 && !group.permitted.some((st) => item.test!(st.base)))
        return {
          reason: 'not-permitted',
          nameType: type,
          name: item.text,
          constraint: group.permitted.map((st) => constraintText(st.base)).join(', '),
          message: `its name ${quoteName(item.text)} is outside the permitted subtrees (${group.permitted
            .map((st) => constraintText(st.base))
            .join(', ')})`,
        };
    }
  }
  return undefined;
}

function readBudget(options: CheckNameConstraintsOptions | undefined): ComparisonBudget {
  const max = integerAtLeast(options?.maxComparisons ?? DEFAULT_MAX_NAME_COMPARISONS, 'maxComparisons', 0);
  return { remaining: max };
}

function checkArguments(cert: Certificate, constraints: NameConstraintsInput): void {
  if (typeof cert !== 'object' || cert === null || !Array.isArray(cert.subject?.rdns))
    throw new TypeError('the certificate must be a Certificate from parseCertificate');
  if (
    typeof constraints !== 'object' ||
    constraints === null ||
    !Array.isArray(constraints.permitted) ||
    !Array.isArray(constraints.excluded)
  )
    throw new TypeError('constraints must have permitted and excluded subtree arrays (cert.nameConstraints)');
}

/**
 * Checks the names of a certificate against name constraints (typically `ca.nameConstraints` of a CA above
 * it in a path) and returns the first violation, or undefined when every name is inside the allowed space.
 *
 * @param cert - The certificate whose names are checked.
 * @param constraints - Permitted and excluded subtrees, e.g. `issuer.nameConstraints`.
 * @throws TypeError for arguments of the wrong type; RangeError for a bad `maxComparisons`.
 * @example
 * ```ts
 * const v = checkNameConstraints(leaf, intermediate.nameConstraints!);
 * if (v) console.log(`${v.reason}: ${v.message}`); // excluded: its name "bad.example.com" is in ...
 * ```
 */
export function checkNameConstraints(
  cert: Certificate,
  constraints: NameConstraintsInput,
  options?: CheckNameConstraintsOptions,
): NameConstraintViolation | undefined {
  checkArguments(cert, constraints);
  return findNameConstraintViolation(cert, constraints, readBudget(options), options?.commonName === true);
}

/**
 * Throws unless the names of a certificate satisfy name constraints; see {@link checkNameConstraints}.
 *
 * @throws ChainError `ERR_CHAIN_NAME_CONSTRAINTS` with `details.reason` (a
 *   {@link NameConstraintViolationReason}), `details.name`, `details.constraint`.
 * @throws TypeError for arguments of the wrong type; RangeError for a bad `maxComparisons`.
 * @example
 * ```ts
 * verifyNameConstraints(leaf, intermediate.nameConstraints!); // throws ERR_CHAIN_NAME_CONSTRAINTS
 * ```
 */
export function verifyNameConstraints(
  cert: Certificate,
  constraints: NameConstraintsInput,
  options?: CheckNameConstraintsOptions,
): void {
  const v = checkNameConstraints(cert, constraints, options);
  if (v === undefined) return;
  throw new ChainError(
    'ERR_CHAIN_NAME_CONSTRAINTS',
    `The certificate ${quoteName(cert.subject.toString())} violates name constraints: ${v.message}. ` +
      'The CA may only issue certificates for names inside its constraints; ask it for a certificate with allowed names.',
    {
      details: {
        reason: v.reason,
        nameType: v.nameType,
        ...(v.name === undefined ? {} : { name: v.name }),
        ...(v.constraint === undefined ? {} : { constraint: v.constraint }),
      },
    },
  );
}
