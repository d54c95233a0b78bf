/**
 * A lean, strict DER reader and writer (ITU-T X.690). Internal: used by every parser of the package so that
 * the hot paths (certificate fields, key formats) avoid a general ASN.1 object model.
 *
 * Reading is lazy: a {@link DerNode} only records where an element is; nothing is decoded until asked. Every
 * read is bounds-checked against the enclosing element, lengths must be definite and minimally encoded, and
 * errors are {@link DERError}s that say at which byte offset the input broke.
 */
import { DERError } from '../errors.js';

/** Universal tags (identifier octets) used across the package. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One element: where its header and value are in `bytes`. */
export interface DerNode {
  /** Identifier octet (class, constructed bit and tag number; 0x1f-form for high tag numbers). */
  readonly tag: number;
  /** Tag number (the low five bits, or the decoded high tag number). */
  readonly number: number;
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first value byte. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
  /** The buffer the offsets refer to. */
  readonly bytes: Uint8Array;
}

/** Maximum nesting depth that {@link checkDepth} accepts. */
export const MAX_DER_DEPTH = 64;

function fail(message: string, offset: number): never {
  throw new DERError('ERR_DER_INVALID', `malformed DER at byte ${offset}: ${message}`, {
    details: { offset },
  });
}

/** Throws ERR_DER_INVALID `malformed DER at byte <offset>: <message>`, for readers built on this module. */
export { fail as derFail };

/**
 * The byte offset and the bare reason of a DER (or PKCS#12 BER) error, for parsers that re-throw it as their
 * own error code with the field path.
 */
export function derErrorParts(e: DERError): { offset: number | undefined; detail: string } {
  return {
    offset: typeof e.details.offset === 'number' ? e.details.offset : undefined,
    detail: e.message.replace(/^malformed (DER|BER) at byte \d+: /, ''),
  };
}

/** Reads one element header at `offset`, bounded by `limit` (exclusive). */
export function readNode(bytes: Uint8Array, offset: number, limit: number = bytes.length): DerNode {
  if (offset >= limit) fail('unexpected end of data', offset);
  const start = offset;
  const id = bytes[offset++]!;
  let number = id & 0x1f;
  if (number === 0x1f) {
    number = 0;
    let count = 0;
    for (;;) {
      if (offset >= limit) fail('truncated tag', offset);
      const b = bytes[offset++]!;
      if (count === 0 && b === 0x80) fail('non-minimal tag number', offset - 1);
      number = number * 128 + (b & 0x7f);
      if (++count > 4) fail('tag number too large', start);
      if ((b & 0x80) === 0) break;
    }
    if (number < 31) fail('non-minimal tag number', start);
  }
  if (offset >= limit) fail('truncated length', offset);
  let length = bytes[offset++]!;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) fail('indefinite length is not DER', offset - 1);
    if (n > 4) fail('length too large', offset - 1);
    if (offset + n > limit) fail('truncated length', offset);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[offset++]!;
    if (length < 128 || (n > 1 && bytes[offset - n] === 0))
      fail('non-minimal length encoding', offset - n - 1);
  }
  const end = offset + length;
  if (end > limit) fail(`element of ${length} bytes runs past the end (${limit - offset} available)`, start);
  const constructed = (id & 0x20) !== 0;
  return { tag: id, number, cls: id >> 6, constructed, start, valueStart: offset, end, bytes };
}

/** Parses exactly one element spanning all of `bytes` (no trailing data). */
export function parseDer(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0, bytes.length);
  if (node.end !== bytes.length)
    fail(`${bytes.length - node.end} trailing bytes after the element`, node.end);
  return node;
}

/** The value bytes of a node (a view, not a copy). */
export function valueBytes(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.valueStart, node.end);
}

/** The whole encoding (header and value) of a node (a view, not a copy). */
export function rawOf(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.start, node.end);
}

/** Human name of an identifier octet, for messages. */
export function tagName(tag: number): string {
  for (const [k, v] of Object.entries(Tag)) if (v === tag) return k.replace(/_/g, ' ');
  if (tag >> 6 === 2) return `[${tag & 0x1f}]`;
  return `tag 0x${tag.toString(16).padStart(2, '0')}`;
}

/** Sequential reader over the children of a constructed node (or a byte range). */
export class DerReader {
  private pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    private readonly limit: number = bytes.length,
  ) {
    this.pos = start;
  }

  /** A reader over the children of `node`; `node` must be constructed. */
  static of(node: DerNode, what = 'element'): DerReader {
    if (!node.constructed) fail(`${what} must be constructed`, node.start);
    return new DerReader(node.bytes, node.valueStart, node.end);
  }

  get atEnd(): boolean {
    return this.pos >= this.limit;
  }

  get offset(): number {
    return this.pos;
  }

  /** The next element without consuming it, or undefined at the end. */
  peek(): DerNode | undefined {
    return this.atEnd ? undefined : readNode(this.bytes, this.pos, this.limit);
  }

  /** Consumes and returns the next element; fails at the end. */
  next(what = 'element'): DerNode {
    if (this.atEnd) fail(`missing ${what}`, this.pos);
    const node = readNode(this.bytes, this.pos, this.limit);
    this.pos = node.end;
    return node;
  }

  /** Consumes the next element, which must have identifier `tag`. */
  expect(tag: number, what: string): DerNode {
    const node = this.next(what);
    if (node.tag !== tag) fail(`expected ${what} (${tagName(tag)}), found ${tagName(node.tag)}`, node.start);
    return node;
  }

  /** Consumes the next element only if it has identifier `tag`. */
  optional(tag: number): DerNode | undefined {
    const node = this.peek();
    if (node === undefined || node.tag !== tag) return undefined;
    this.pos = node.end;
    return node;
  }

  /** Fails if elements remain. */
  done(what: string): void {
    if (!this.atEnd) fail(`unexpected data after the last field of ${what}`, this.pos);
  }

  /** All remaining elements. */
  rest(): DerNode[] {
    const out: DerNode[] = [];
    while (!this.atEnd) out.push(this.next());
    return out;
  }
}

/** The children of a constructed node. */
export function childrenOf(node: DerNode, what = 'element'): DerNode[] {
  return DerReader.of(node, what).rest();
}

/** Checks that an element nests no deeper than `max` constructed levels (guards recursive walkers). */
export function checkDepth(node: DerNode, max: number = MAX_DER_DEPTH): void {
  const stack: Array<[DerNode, number]> = [[node, 1]];
  while (stack.length > 0) {
    const [n, d] = stack.pop()!;
    if (d > max)
      throw new DERError('ERR_DER_TOO_DEEP', `DER nesting deeper than ${max} levels`, { details: { max } });
    if (n.constructed) for (const c of childrenOf(n)) stack.push([c, d + 1]);
  }
}

// ---- value decoders ----

/** Decodes an OBJECT IDENTIFIER node to dotted form. */
export function decodeOID(node: DerNode): string {
  if (node.tag !== Tag.OID) fail(`expected OBJECT IDENTIFIER, found ${tagName(node.tag)}`, node.start);
  return decodeOIDBytes(valueBytes(node), node.valueStart);
}

/** Decodes the value bytes of an OBJECT IDENTIFIER to dotted form. */
export function decodeOIDBytes(v: Uint8Array, offset = 0): string {
  if (v.length === 0) fail('empty OBJECT IDENTIFIER', offset);
  const arcs: string[] = [];
  let value = 0n;
  let small = 0;
  let big = false;
  let first = true;
  let fresh = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (fresh && b === 0x80) fail('non-minimal OBJECT IDENTIFIER arc', offset + i);
    fresh = false;
    if (!big && small > 0x00ffffffffffff) {
      big = true;
      value = BigInt(small);
    }
    if (big) value = (value << 7n) | BigInt(b & 0x7f);
    else small = small * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      const arc = big ? value : BigInt(small);
      if (first) {
        if (arc < 40n) arcs.push('0', arc.toString());
        else if (arc < 80n) arcs.push('1', (arc - 40n).toString());
        else arcs.push('2', (arc - 80n).toString());
        first = false;
      } else arcs.push(arc.toString());
      small = 0;
      value = 0n;
      big = false;
      fresh = true;
    }
  }
  if (!fresh) fail('truncated OBJECT IDENTIFIER', offset + v.length - 1);
  return arcs.join('.');
}

/** Decodes an INTEGER node to a bigint (two's complement, minimal encoding required). */
export function decodeInteger(node: DerNode): bigint {
  if (node.tag !== Tag.INTEGER && node.tag !== Tag.ENUMERATED)
    fail(`expected INTEGER, found ${tagName(node.tag)}`, node.start);
  const v = valueBytes(node);
  if (v.length === 0) fail('empty INTEGER', node.start);
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0)))
    fail('non-minimal INTEGER', node.start);
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** Decodes a small non-negative INTEGER to a number; fails above `max`. */
export function decodeSmallInt(node: DerNode, max = Number.MAX_SAFE_INTEGER): number {
  const n = decodeInteger(node);
  if (n < 0n || n > BigInt(max)) fail(`INTEGER out of range (0..${max})`, node.start);
  return Number(n);
}

/** The magnitude bytes of a non-negative INTEGER, without a leading zero byte (e.g. RSA modulus). */
export function decodeUnsignedBytes(node: DerNode): Uint8Array {
  const n = decodeInteger(node);
  if (n < 0n) fail('negative INTEGER where a positive one is required', node.start);
  const v = valueBytes(node);
  return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
}

/** Decodes a BOOLEAN node (DER: 0x00 or 0xff). */
export function decodeBoolean(node: DerNode): boolean {
  if (node.tag !== Tag.BOOLEAN) fail(`expected BOOLEAN, found ${tagName(node.tag)}`, node.start);
  const v = valueBytes(node);
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff))
    fail('BOOLEAN must be one byte 0x00 or 0xff', node.start);
  return v[0] === 0xff;
}

/** Decodes a BIT STRING node: its bytes and the number of unused bits in the last byte. */
export function decodeBitString(node: DerNode): { bytes: Uint8Array; unusedBits: number } {
  if (node.tag !== Tag.BIT_STRING) fail(`expected BIT STRING, found ${tagName(node.tag)}`, node.start);
  const v = valueBytes(node);
  if (v.length === 0) fail('empty BIT STRING', node.start);
  const unusedBits = v[0]!;
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) fail('bad BIT STRING padding', node.start);
  return { bytes: v.subarray(1), unusedBits };
}

/** Decodes a named-bit BIT STRING to a list of set bit positions (bit 0 = most significant). */
export function decodeBitFlags(node: DerNode): number[] {
  const { bytes, unusedBits } = decodeBitString(node);
  const out: number[] = [];
  const total = bytes.length * 8 - unusedBits;
  for (let i = 0; i < total; i++) if (bytes[i >> 3]! & (0x80 >> (i & 7))) out.push(i);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes any ASN.1 character string type to a JS string. */
export function decodeString(node: DerNode): string {
  const v = valueBytes(node);
  try {
    switch (node.tag) {
      case Tag.UTF8_STRING:
        return utf8.decode(v);
      case Tag.PRINTABLE_STRING:
      case Tag.IA5_STRING:
      case Tag.NUMERIC_STRING:
      case Tag.VISIBLE_STRING: {
        let s = '';
        for (const b of v) {
          if (b > 0x7f) fail(`non-ASCII byte in ${tagName(node.tag)}`, node.valueStart);
          s += String.fromCharCode(b);
        }
        return s;
      }
      case Tag.T61_STRING: {
        let s = '';
        for (const b of v) s += String.fromCharCode(b);
        return s;
      }
      case Tag.BMP_STRING: {
        if (v.length % 2) fail('odd-length BMPString', node.start);
        let s = '';
        for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
        return s;
      }
      case Tag.UNIVERSAL_STRING: {
        if (v.length % 4) fail('UniversalString length not a multiple of 4', node.start);
        let s = '';
        for (let i = 0; i < v.length; i += 4) {
          const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
          if (cp > 0x10ffff) fail('invalid code point in UniversalString', node.valueStart + i);
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        return fail(`expected a string type, found ${tagName(node.tag)}`, node.start);
    }
  } catch (e) {
    if (e instanceof DERError) throw e;
    return fail(`invalid ${tagName(node.tag)} text`, node.start);
  }
}

function digits(s: string, from: number, n: number, offset: number): number {
  let x = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) fail('bad digit in time', offset);
    x = x * 10 + c;
  }
  return x;
}

/** Decodes UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) as DER requires. */
export function decodeTime(node: DerNode): Date {
  const v = valueBytes(node);
  let s = '';
  for (const b of v) s += String.fromCharCode(b);
  let year: number;
  let i: number;
  if (node.tag === Tag.UTC_TIME) {
    if (s.length !== 13 || s[12] !== 'Z') fail('UTCTime must be YYMMDDHHMMSSZ', node.start);
    const yy = digits(s, 0, 2, node.start);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    i = 2;
  } else if (node.tag === Tag.GENERALIZED_TIME) {
    if (s.length !== 15 || s[14] !== 'Z') fail('GeneralizedTime must be YYYYMMDDHHMMSSZ', node.start);
    year = digits(s, 0, 4, node.start);
    i = 4;
  } else return fail(`expected a time, found ${tagName(node.tag)}`, node.start);
  const month = digits(s, i, 2, node.start);
  const day = digits(s, i + 2, 2, node.start);
  const hour = digits(s, i + 4, 2, node.start);
  const minute = digits(s, i + 6, 2, node.start);
  const second = digits(s, i + 8, 2, node.start);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  if (
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    d.getUTCDate() !== day ||
    d.getUTCMonth() !== month - 1
  )
    fail('time out of range', node.start);
  if (year < 100) d.setUTCFullYear(year);
  return d;
}

// ---- encoders ----

/** Encodes a definite DER length. */
export function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | out.length, ...out);
}

/** Encodes one element from an identifier octet and its content parts. */
export function encodeTLV(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of content) n += c.length;
  const len = encodeLength(n);
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  let o = 1 + len.length;
  for (const c of content) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** SEQUENCE of already-encoded elements. */
export function encodeSequence(...items: readonly Uint8Array[]): Uint8Array {
  return encodeTLV(Tag.SEQUENCE, ...items);
}

/** SET OF already-encoded elements, sorted as DER requires. */
export function encodeSet(...items: readonly Uint8Array[]): Uint8Array {
  const sorted = [...items].sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  return encodeTLV(Tag.SET, ...sorted);
}

/** OBJECT IDENTIFIER from dotted form. */
export function encodeOID(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new TypeError(`invalid OID ${oid}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! >= 40n))
    throw new TypeError(`invalid OID ${oid}`);
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const chunk: number[] = [Number(v & 0x7fn)];
    let rest = v >> 7n;
    while (rest > 0n) {
      chunk.unshift(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    out.push(...chunk);
  }
  return encodeTLV(Tag.OID, Uint8Array.from(out));
}

/** INTEGER from a non-negative bigint/number, or from unsigned magnitude bytes. */
export function encodeInteger(value: bigint | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    const mag = value.subarray(i);
    if (mag.length === 0) return encodeTLV(Tag.INTEGER, Uint8Array.of(0));
    return mag[0]! & 0x80 ? encodeTLV(Tag.INTEGER, Uint8Array.of(0), mag) : encodeTLV(Tag.INTEGER, mag);
  }
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('encodeInteger takes non-negative values only');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return encodeTLV(Tag.INTEGER, Uint8Array.from(bytes));
}

/** OCTET STRING. */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  return encodeTLV(Tag.OCTET_STRING, bytes);
}

/** BIT STRING with no unused bits. */
export function encodeBitString(bytes: Uint8Array): Uint8Array {
  return encodeTLV(Tag.BIT_STRING, Uint8Array.of(0), bytes);
}

/** NULL. */
export function encodeNull(): Uint8Array {
  return Uint8Array.of(Tag.NULL, 0);
}

/** BOOLEAN. */
export function encodeBoolean(value: boolean): Uint8Array {
  return Uint8Array.of(Tag.BOOLEAN, 1, value ? 0xff : 0);
}

/** A character string of the given string tag (UTF8String, PrintableString, IA5String, BMPString). */
export function encodeString(tag: number, text: string): Uint8Array {
  if (tag === Tag.UTF8_STRING) return encodeTLV(tag, new TextEncoder().encode(text));
  if (tag === Tag.BMP_STRING) {
    const out = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[i * 2] = c >> 8;
      out[i * 2 + 1] = c & 0xff;
    }
    return encodeTLV(tag, out);
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new TypeError(`${tagName(tag)} takes ASCII only`);
    out[i] = c;
  }
  return encodeTLV(tag, out);
}

/** Context-specific constructed (EXPLICIT) tag [n] around encoded content. */
export function encodeExplicit(n: number, ...content: readonly Uint8Array[]): Uint8Array {
  return encodeTLV(0xa0 | n, ...content);
}

/** Context-specific primitive (IMPLICIT) tag [n] with raw value bytes. */
export function encodeImplicit(n: number, value: Uint8Array): Uint8Array {
  return encodeTLV(0x80 | n, value);
}

/** UTCTime for years 1950-2049, GeneralizedTime otherwise (as RFC 5280 requires). */
export function encodeTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const rest = `${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return encodeString(Tag.UTC_TIME, p(y % 100) + rest);
  return encodeString(Tag.GENERALIZED_TIME, p(y, 4) + rest);
}
