/**
 * X.501 distinguished names: a typed view of a DER `Name`, its RFC 4514 string, parsing of RFC 4514 strings
 * into DER, and the RFC 5280 §7.1 comparison that chain building needs.
 *
 * @module internal/x509/name
 */

import { equalBytes, fromHex, toHex } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeOID,
  decodeString,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeString,
  encodeTLV,
  parseDer,
  rawOf,
  Tag,
} from '../encoding/der.js';
import { AttributeOID, oidInfo, oidOf } from '../encoding/oids.js';
import { CertificateError, DERError, MailTlsError } from '../errors.js';

/** One attribute of a relative distinguished name, e.g. `CN=mail.example.com`. */
export interface NameAttribute {
  /** The attribute type as a dotted OID, e.g. `2.5.4.3`. */
  readonly type: string;
  /** The OpenSSL short name of the type (`CN`, `O`, `emailAddress`, ...), when known. */
  readonly shortName?: string;
  /**
   * The value as text. Values that are not a character string (or not valid text in their string type) are
   * given as `#` followed by the hex of their DER encoding, as RFC 4514 writes them.
   */
  readonly value: string;
  /** The ASN.1 identifier octet of the value (0x0c UTF8String, 0x13 PrintableString, 0x16 IA5String, ...). */
  readonly tag: number;
}

/** A relative distinguished name: one or more attributes (usually one). */
export type RelativeDistinguishedName = readonly NameAttribute[];

/**
 * A read-only view of an X.501 distinguished name (a certificate's subject or issuer, a CSR's subject).
 *
 * `rdns` is in DER order (most general first, e.g. `C`, then `O`, then `CN`); {@link DistinguishedName.toString}
 * gives the RFC 4514 string, which lists them in reverse (`CN=...,O=...,C=...`).
 */
export interface DistinguishedName {
  /** The DER encoding of the `Name`. */
  readonly der: Uint8Array;
  /** The RDNs in DER order. */
  readonly rdns: readonly RelativeDistinguishedName[];
  /** The most specific (last) common name, if any. */
  readonly commonName?: string | undefined;
  /** Every value of one attribute type (short name such as `OU`, long name, or dotted OID), in DER order. */
  getAll(type: string): string[];
  /** The RFC 4514 string, e.g. `CN=mail.example.com,O=Example\, Inc.,C=DE` (like OpenSSL `-nameopt RFC2253`). */
  toString(): string;
  /** The RFC 4514 string (so that `JSON.stringify` gives a readable name). */
  toJSON(): string;
}

/** Identifier octets of the ASN.1 character string types. */
const STRING_TAGS = new Set<number>([
  Tag.UTF8_STRING,
  Tag.PRINTABLE_STRING,
  Tag.T61_STRING,
  Tag.IA5_STRING,
  Tag.NUMERIC_STRING,
  Tag.VISIBLE_STRING,
  Tag.UNIVERSAL_STRING,
  Tag.BMP_STRING,
]);

/** Attribute objects whose `value` is the `#hex` dump of a non-text value. */
const hexValues = new WeakSet<NameAttribute>();
/** The `#hex` DER of attributes of unknown type (RFC 4514 §2.4 writes those as hex). */
const unknownTypeHex = new WeakMap<NameAttribute, string>();

class Name implements DistinguishedName {
  readonly der: Uint8Array;
  readonly rdns: readonly RelativeDistinguishedName[];
  #string: string | undefined;
  #key: string | undefined;

  constructor(der: Uint8Array, rdns: readonly RelativeDistinguishedName[]) {
    this.der = der;
    this.rdns = rdns;
  }

  get commonName(): string | undefined {
    for (let i = this.rdns.length - 1; i >= 0; i--) {
      const rdn = this.rdns[i]!;
      for (let j = rdn.length - 1; j >= 0; j--) {
        const a = rdn[j]!;
        if (a.type === AttributeOID.commonName && !hexValues.has(a)) return a.value;
      }
    }
    return undefined;
  }

  getAll(type: string): string[] {
    const oid = oidOf(type);
    const out: string[] = [];
    if (oid === undefined) return out;
    for (const rdn of this.rdns) for (const a of rdn) if (a.type === oid) out.push(a.value);
    return out;
  }

  toString(): string {
    if (this.#string === undefined) this.#string = formatRFC4514(this);
    return this.#string;
  }

  toJSON(): string {
    return this.toString();
  }

  /** @internal */
  get canonicalKey(): string {
    if (this.#key === undefined) this.#key = computeKey(this);
    return this.#key;
  }
}

function fail(message: string, offset?: number, cause?: unknown): never {
  throw new CertificateError('ERR_CERT_NAME', message, {
    details: offset === undefined ? {} : { offset },
    ...(cause === undefined ? {} : { cause }),
  });
}

function makeAttribute(oid: string, valueNode: DerNode): NameAttribute {
  const info = oidInfo(oid);
  let value: string | undefined;
  if (STRING_TAGS.has(valueNode.tag)) {
    try {
      value = decodeString(valueNode);
    } catch {
      value = undefined;
    }
  }
  const hex = value === undefined;
  if (hex) value = `#${toHex(rawOf(valueNode))}`;
  const attr: NameAttribute =
    info === undefined
      ? { type: oid, value: value!, tag: valueNode.tag }
      : { type: oid, shortName: info.short, value: value!, tag: valueNode.tag };
  if (hex) hexValues.add(attr);
  else if (info === undefined) unknownTypeHex.set(attr, `#${toHex(rawOf(valueNode))}`);
  return attr;
}

/**
 * Reads a DER `Name` node (internal entry point of the certificate and CSR parsers). String contents never
 * fail: undecodable values become `#hex`.
 *
 * @internal
 * @throws DERError `ERR_DER_INVALID` on malformed structure (not a SEQUENCE, an empty RDN, a bad attribute).
 * @example
 * ```ts
 * const subject = readName(reader.expect(Tag.SEQUENCE, 'subject'));
 * ```
 */
export function readName(node: DerNode): DistinguishedName {
  if (node.tag !== Tag.SEQUENCE)
    throw new DERError('ERR_DER_INVALID', `malformed DER at byte ${node.start}: a Name must be a SEQUENCE`, {
      details: { offset: node.start },
    });
  const rdns: NameAttribute[][] = [];
  const r = new DerReader(node.bytes, node.valueStart, node.end);
  while (!r.atEnd) {
    const set = r.expect(Tag.SET, 'RelativeDistinguishedName');
    const s = new DerReader(set.bytes, set.valueStart, set.end);
    const rdn: NameAttribute[] = [];
    while (!s.atEnd) {
      const atv = s.expect(Tag.SEQUENCE, 'AttributeTypeAndValue');
      const a = new DerReader(atv.bytes, atv.valueStart, atv.end);
      const oid = decodeOID(a.expect(Tag.OID, 'attribute type'));
      const v = a.next('attribute value');
      a.done('AttributeTypeAndValue');
      rdn.push(makeAttribute(oid, v));
    }
    if (rdn.length === 0)
      throw new DERError(
        'ERR_DER_INVALID',
        `malformed DER at byte ${set.start}: empty RelativeDistinguishedName`,
        {
          details: { offset: set.start },
        },
      );
    rdns.push(rdn);
  }
  return new Name(rawOf(node), rdns);
}

// ---- RFC 4514 output ----

const RFC4514_SPECIAL = new Set(['"', '+', ',', ';', '<', '>', '\\']);

function hex2(c: number): string {
  return c.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Escapes an attribute value as RFC 4514 §2.4 (and OpenSSL `esc_2253` + `esc_ctrl`) do: `"+,;<>\` with a
 * backslash, a leading `#` or space and a trailing space, control characters as `\XX`. UTF-8 text is kept.
 *
 * @throws Never.
 * @example
 * ```ts
 * `O=${escapeRFC4514Value('Example, Inc.')}`; // 'O=Example\, Inc.'
 * ```
 */
export function escapeRFC4514Value(value: string): string {
  let out = '';
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const ch = value[i]!;
    const c = ch.charCodeAt(0);
    if (RFC4514_SPECIAL.has(ch)) out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\${hex2(c)}`;
    else if ((i === 0 && (ch === ' ' || ch === '#')) || (i === last && ch === ' ')) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

function typeLabel(a: NameAttribute): string {
  return a.shortName ?? a.type;
}

function formatRFC4514(name: DistinguishedName): string {
  // Like OpenSSL's dn_rev, the attributes are listed in reverse order, including inside a multi-valued RDN.
  const parts: string[] = [];
  for (let i = name.rdns.length - 1; i >= 0; i--) {
    const rdn = name.rdns[i]!;
    let s = '';
    for (let j = rdn.length - 1; j >= 0; j--) {
      const a = rdn[j]!;
      if (s) s += '+';
      s += `${typeLabel(a)}=${hexValues.has(a) ? a.value : (unknownTypeHex.get(a) ?? escapeRFC4514Value(a.value))}`;
    }
    parts.push(s);
  }
  return parts.join(',');
}

/**
 * Formats a name the way `openssl x509 -text` prints subjects and issuers: DER order, `C = DE, O = "Example,
 * Inc.", CN = mail.example.com`, values with special characters in double quotes, `+` between the attributes of
 * a multi-valued RDN. Non-ASCII text is kept as is (OpenSSL would print `\C3\BC` escapes).
 *
 * @throws Never.
 * @example
 * ```ts
 * formatNameOneLine(cert.subject); // 'C = DE, O = Example, CN = mail.example.com'
 * ```
 */
export function formatNameOneLine(name: DistinguishedName): string {
  return name.rdns
    .map((rdn) =>
      rdn
        .map((a) => {
          let v = a.value;
          if (!hexValues.has(a)) {
            let quote = false;
            let s = '';
            for (let i = 0; i < v.length; i++) {
              const ch = v[i]!;
              const c = ch.charCodeAt(0);
              if (ch === '"' || ch === '\\') s += `\\${ch}`;
              else if (c < 0x20 || c === 0x7f) s += `\\${hex2(c)}`;
              else {
                if (
                  RFC4514_SPECIAL.has(ch) ||
                  ((i === 0 || i === v.length - 1) && ch === ' ') ||
                  (i === 0 && ch === '#')
                )
                  quote = true;
                s += ch;
              }
            }
            v = quote ? `"${s}"` : s;
          }
          return `${typeLabel(a)} = ${v}`;
        })
        .join(' + '),
    )
    .join(', ');
}

/**
 * Formats a name in OpenSSL's `X509_NAME_oneline` form, as `openssl x509 -text` prints directory names inside
 * subjectAltName and authorityKeyIdentifier: `/C=US/O=Example/CN=mail.example.com` (DER order, `+` between the
 * attributes of a multi-valued RDN, values unescaped).
 *
 * @throws Never.
 * @example
 * ```ts
 * formatNameSlashes(cert.issuer); // '/C=US/O=Example CA/CN=Example Root'
 * ```
 */
export function formatNameSlashes(name: DistinguishedName): string {
  let out = '';
  for (const rdn of name.rdns)
    for (let i = 0; i < rdn.length; i++)
      out += `${i === 0 ? '/' : '+'}${typeLabel(rdn[i]!)}=${rdn[i]!.value}`;
  return out;
}

// ---- comparison (RFC 5280 §7.1) ----

const ASCII_ONLY = /^[\x20-\x7e]*$/;

/** RFC 4518-style preparation: Unicode NFKC, case folding, insignificant whitespace removed. */
function prepare(value: string): string {
  let v = value;
  if (!ASCII_ONLY.test(v)) v = v.normalize('NFKC');
  v = v.toLowerCase();
  return v.trim().replace(/\s+/g, ' ');
}

function canonicalValue(a: NameAttribute): string {
  const v = hexValues.has(a) ? a.value : `'${prepare(a.value)}`;
  return v.replace(/[\\,+]/g, (c) => `\\${c}`);
}

function computeKey(name: DistinguishedName): string {
  let out = '';
  for (const rdn of name.rdns) {
    if (out) out += ',';
    if (rdn.length === 1) {
      const a = rdn[0]!;
      out += `${a.type}=${canonicalValue(a)}`;
    } else
      out += rdn
        .map((a) => `${a.type}=${canonicalValue(a)}`)
        .sort()
        .join('+');
  }
  return out;
}

/**
 * A canonical string of a name for hashing (maps, indexes): two names have the same key exactly when
 * {@link nameEquals} says they are equal. Computed once per name and cached.
 *
 * @throws TypeError when `name` is not a {@link DistinguishedName} made by this package.
 * @example
 * ```ts
 * const bySubject = new Map<string, Certificate[]>();
 * for (const c of certs) bySubject.set(nameKey(c.subject), [...(bySubject.get(nameKey(c.subject)) ?? []), c]);
 * const issuers = bySubject.get(nameKey(leaf.issuer)) ?? [];
 * ```
 */
export function nameKey(name: DistinguishedName): string {
  if (name instanceof Name) return name.canonicalKey;
  if (name === null || typeof name !== 'object' || !Array.isArray((name as DistinguishedName).rdns))
    throw new TypeError('nameKey expects a DistinguishedName');
  return computeKey(name);
}

/**
 * Compares two distinguished names as RFC 5280 §7.1 requires for chain building: same number of RDNs, each
 * RDN with the same set of attribute types, and values equal after string preparation (Unicode NFKC, case
 * folding, leading/trailing whitespace removed and inner runs of whitespace folded to one space), whatever
 * the string type (`PrintableString "Example"` equals `UTF8String "example "`). Values that are not text are
 * compared byte for byte.
 *
 * @throws TypeError when an argument is not a {@link DistinguishedName}.
 * @example
 * ```ts
 * if (nameEquals(child.issuer, candidate.subject)) tryIssuer(candidate);
 * ```
 */
export function nameEquals(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a === b) return true;
  if (a?.der instanceof Uint8Array && b?.der instanceof Uint8Array && equalBytes(a.der, b.der)) return true;
  return nameKey(a) === nameKey(b);
}

// ---- parsing (DER or RFC 4514 string) ----

/** Attribute types that X.520/RFC 5280 encode as PrintableString. */
const PRINTABLE_TYPES = new Set<string>([
  AttributeOID.countryName,
  AttributeOID.serialNumber,
  AttributeOID.dnQualifier,
  AttributeOID.jurisdictionCountryName,
]);
/** Attribute types encoded as IA5String. */
const IA5_TYPES = new Set<string>([AttributeOID.emailAddress, AttributeOID.domainComponent]);
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function encodeAttributeValue(oid: string, value: string, at: number): Uint8Array {
  if (PRINTABLE_TYPES.has(oid)) {
    if (!PRINTABLE.test(value))
      fail(`the value of ${oidInfo(oid)?.short ?? oid} must use only letters, digits and ' ()+,-./:=?`, at);
    if (oid === AttributeOID.countryName && !/^[A-Z]{2}$/.test(value))
      fail(`C (country) must be a two-letter upper-case ISO 3166 code such as DE or US, not "${value}"`, at);
    return encodeString(Tag.PRINTABLE_STRING, value);
  }
  if (IA5_TYPES.has(oid)) {
    if (!/^[\x00-\x7f]*$/.test(value)) fail(`the value of ${oidInfo(oid)?.short ?? oid} must be ASCII`, at);
    return encodeString(Tag.IA5_STRING, value);
  }
  return encodeString(Tag.UTF8_STRING, value);
}

interface ParsedAttr {
  oid: string;
  der: Uint8Array;
}

function parseRFC4514(text: string): ParsedAttr[][] {
  const rdns: ParsedAttr[][] = [];
  let i = 0;
  const n = text.length;
  const skipSpaces = () => {
    while (i < n && text[i] === ' ') i++;
  };
  skipSpaces();
  if (i === n) return rdns;
  let rdn: ParsedAttr[] = [];
  for (;;) {
    skipSpaces();
    const typeStart = i;
    while (i < n && /[A-Za-z0-9.\-_]/.test(text[i]!)) i++;
    const typeText = text.slice(typeStart, i);
    if (!typeText)
      fail(`expected an attribute type such as CN at position ${typeStart} of "${text}"`, typeStart);
    const oid = oidOf(typeText.replace(/^oid\./i, ''));
    if (oid === undefined)
      fail(
        `unknown attribute type "${typeText}" in "${text}": use CN, O, OU, C, L, ST, emailAddress, DC, ... or a dotted OID`,
        typeStart,
      );
    skipSpaces();
    if (text[i] !== '=') fail(`expected "=" after ${typeText} at position ${i} of "${text}"`, i);
    i++;
    skipSpaces();
    let der: Uint8Array;
    if (text[i] === '#') {
      const start = ++i;
      while (i < n && /[0-9A-Fa-f]/.test(text[i]!)) i++;
      const hex = text.slice(start, i);
      if (hex.length === 0 || hex.length % 2) fail(`bad hex value after "#" at position ${start}`, start);
      der = fromHex(hex);
      try {
        parseDer(der);
      } catch (e) {
        fail(`the "#" value at position ${start} is not one DER element`, start, e);
      }
      skipSpaces();
    } else {
      let value = '';
      let pendingSpaces = '';
      const bytes: number[] = [];
      const flushBytes = () => {
        if (bytes.length === 0) return;
        try {
          value += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
        } catch (e) {
          fail(`the \\XX escapes before position ${i} are not valid UTF-8`, i, e);
        }
        bytes.length = 0;
      };
      while (i < n) {
        const ch = text[i]!;
        if (ch === ',' || ch === '+' || ch === ';') break;
        if (ch === '\\') {
          const next = text[i + 1];
          if (next === undefined) fail(`dangling "\\" at the end of "${text}"`, i);
          if (/[0-9A-Fa-f]/.test(next) && /[0-9A-Fa-f]/.test(text[i + 2] ?? '')) {
            value += pendingSpaces;
            pendingSpaces = '';
            bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
            i += 3;
            continue;
          }
          flushBytes();
          value += pendingSpaces + next;
          pendingSpaces = '';
          i += 2;
          continue;
        }
        flushBytes();
        if (ch === ' ') pendingSpaces += ' ';
        else {
          if (ch === '"' || ch === '<' || ch === '>')
            fail(`"${ch}" at position ${i} must be escaped as "\\${ch}"`, i);
          value += pendingSpaces + ch;
          pendingSpaces = '';
        }
        i++;
      }
      flushBytes();
      der = encodeAttributeValue(oid, value, i);
    }
    rdn.push({ oid, der });
    if (i >= n) break;
    const sep = text[i];
    i++;
    if (sep === ',' || sep === ';') {
      rdns.push(rdn);
      rdn = [];
    } else if (sep !== '+') fail(`unexpected "${sep}" at position ${i - 1}`, i - 1);
  }
  rdns.push(rdn);
  return rdns;
}

/**
 * Parses a distinguished name from DER bytes (a `Name`) or from an RFC 4514 string such as
 * `CN=mail.example.com,O=Example\, Inc.,C=DE` (most specific first, as `openssl -nameopt RFC2253` prints).
 *
 * Strings accept OpenSSL short names (`CN`, `O`, `OU`, `C`, `L`, `ST`, `street`, `DC`, `UID`, `emailAddress`,
 * `serialNumber`, ...), long names and dotted OIDs; `\,`-style and `\C3\BC`-style escapes; `#hex` DER values;
 * and `+` for multi-valued RDNs. They are encoded as UTF8String, except `C`, `serialNumber` and `dnQualifier`
 * (PrintableString) and `emailAddress` and `DC` (IA5String).
 *
 * @throws CertificateError `ERR_CERT_NAME` when the DER or the string is malformed, an attribute type is
 *   unknown, or a value does not fit its type (e.g. `C=Germany`).
 * @throws TypeError when `input` is neither a string nor a Uint8Array.
 * @example
 * ```ts
 * const dn = parseDistinguishedName('CN=mail.example.com,O=Example\\, Inc.,C=DE');
 * dn.commonName; // 'mail.example.com'
 * dn.rdns[0][0].shortName; // 'C'
 * ```
 */
export function parseDistinguishedName(input: string | Uint8Array): DistinguishedName {
  if (typeof input === 'string') {
    const rdns = parseRFC4514(input).reverse();
    const der = encodeSequence(
      ...rdns.map((rdn) => encodeSet(...rdn.map((a) => encodeTLV(Tag.SEQUENCE, encodeOID(a.oid), a.der)))),
    );
    return readName(parseDer(der));
  }
  if (!(input instanceof Uint8Array))
    throw new TypeError('parseDistinguishedName expects a string or a Uint8Array');
  try {
    return readName(parseDer(input));
  } catch (e) {
    if (e instanceof MailTlsError && e.code === 'ERR_CERT_NAME') throw e;
    if (e instanceof DERError) {
      const offset = e.details.offset;
      return fail(
        `the distinguished name is not valid DER: ${e.message}`,
        typeof offset === 'number' ? offset : 0,
        e,
      );
    }
    throw e;
  }
}
