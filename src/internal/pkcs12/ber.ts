/**
 * BER to DER normalisation for PKCS#12. PKCS#12 is specified in BER, and real writers use it: Firefox/NSS
 * and Java write indefinite lengths and chunked (constructed) OCTET STRINGs. This turns one BER element
 * into the definite, minimal-length form that the strict reader in der.ts accepts:
 *
 * - indefinite lengths (constructed only) become definite;
 * - non-minimal definite lengths become minimal;
 * - a constructed OCTET STRING becomes one primitive OCTET STRING with the concatenated segments.
 *
 * Primitive contents are copied unchanged: the octets inside an OCTET STRING (for instance the
 * AuthenticatedSafe that the PKCS#12 MAC covers) are not parsed here; the caller normalises each layer it
 * opens. Context-specific constructed elements stay constructed (an `[0] IMPLICIT OCTET STRING` in chunks
 * is reassembled by the caller, who knows its type). SET order is not changed. Internal.
 */

import { encodeLength } from '../encoding/der.js';
import { DERError } from '../errors.js';

/** Nesting levels accepted (PKCS#12 files nest about 10 deep). */
export const MAX_BER_DEPTH = 32;

function fail(message: string, offset: number): never {
  throw new DERError('ERR_DER_INVALID', `malformed BER at byte ${offset}: ${message}`, {
    details: { offset },
  });
}

interface Header {
  /** Identifier octets (one or more). */
  readonly id: Uint8Array;
  readonly constructed: boolean;
  /** Universal class and tag number (for the OCTET STRING check). */
  readonly universal: number | undefined;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Content length, or -1 for indefinite. */
  readonly length: number;
}

function readHeader(b: Uint8Array, offset: number, limit: number): Header {
  const begin = offset;
  if (offset >= limit) fail('unexpected end of data', offset);
  const first = b[offset++]!;
  if ((first & 0x1f) === 0x1f) {
    let count = 0;
    for (;;) {
      if (offset >= limit) fail('truncated tag', offset);
      const x = b[offset++]!;
      if (++count > 4) fail('tag number too large', begin);
      if ((x & 0x80) === 0) break;
    }
  }
  const id = b.subarray(begin, offset);
  if (offset >= limit) fail('truncated length', offset);
  const l0 = b[offset++]!;
  let length: number;
  if (l0 === 0x80) length = -1;
  else if (l0 & 0x80) {
    const n = l0 & 0x7f;
    if (n > 4) fail('length too large', offset - 1);
    if (offset + n > limit) fail('truncated length', offset);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[offset++]!;
  } else length = l0;
  const constructed = (first & 0x20) !== 0;
  if (length === -1 && !constructed) fail('indefinite length on a primitive element', begin);
  if (length !== -1 && offset + length > limit)
    fail(`element of ${length} bytes runs past the end (${limit - offset} available)`, begin);
  const universal = first >> 6 === 0 && (first & 0x1f) !== 0x1f ? first & 0x1f : undefined;
  return { id, constructed, universal, start: offset, length };
}

function isEOC(b: Uint8Array, offset: number, limit: number): boolean {
  return offset + 1 < limit && b[offset] === 0 && b[offset + 1] === 0;
}

/** Normalises the element at `offset`; returns its DER encoding and the offset after it. */
function element(
  b: Uint8Array,
  offset: number,
  limit: number,
  depth: number,
): { der: Uint8Array; end: number } {
  if (depth > MAX_BER_DEPTH)
    throw new DERError('ERR_DER_TOO_DEEP', `BER nesting deeper than ${MAX_BER_DEPTH} levels`, {
      details: { max: MAX_BER_DEPTH, offset },
    });
  if (b[offset] === 0 && offset + 1 < limit && b[offset + 1] === 0)
    fail('end-of-contents marker outside an indefinite-length element', offset);
  const h = readHeader(b, offset, limit);
  if (!h.constructed) {
    const end = h.start + h.length;
    return { der: tlv(h.id, [b.subarray(h.start, end)]), end };
  }
  const parts: Uint8Array[] = [];
  let pos = h.start;
  const innerLimit = h.length === -1 ? limit : h.start + h.length;
  for (;;) {
    if (h.length === -1) {
      if (pos >= innerLimit) fail('missing end-of-contents marker', pos);
      if (isEOC(b, pos, innerLimit)) {
        pos += 2;
        break;
      }
    } else if (pos >= innerLimit) break;
    const child = element(b, pos, innerLimit, depth + 1);
    parts.push(child.der);
    pos = child.end;
  }
  if (h.universal === 0x04) {
    // constructed OCTET STRING: concatenate the segments (each itself an OCTET STRING)
    const segments: Uint8Array[] = [];
    for (const p of parts) {
      if (p[0] !== 0x04) fail('a segment of a constructed OCTET STRING is not an OCTET STRING', offset);
      segments.push(contentOf(p));
    }
    return { der: tlv(Uint8Array.of(0x04), segments), end: pos };
  }
  if (h.universal !== undefined && h.universal !== 0x10 && h.universal !== 0x11)
    fail(`constructed encoding of universal type ${h.universal} is not supported`, offset);
  return { der: tlv(h.id, parts), end: pos };
}

function contentOf(der: Uint8Array): Uint8Array {
  const l0 = der[1]!;
  const skip = l0 & 0x80 ? 2 + (l0 & 0x7f) : 2;
  return der.subarray(skip);
}

function tlv(id: Uint8Array, content: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of content) n += c.length;
  const len = encodeLength(n);
  const out = new Uint8Array(id.length + len.length + n);
  out.set(id);
  out.set(len, id.length);
  let o = id.length + len.length;
  for (const c of content) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Re-encodes one BER element (spanning all of `bytes`) as DER-shaped bytes (see the module notes).
 * Returns `bytes` itself when nothing needed changing.
 * @throws DERError ERR_DER_INVALID (malformed, trailing data), ERR_DER_TOO_DEEP
 */
export function normalizeBER(bytes: Uint8Array): Uint8Array {
  const { der, end } = element(bytes, 0, bytes.length, 1);
  if (end !== bytes.length) fail(`${bytes.length - end} trailing bytes after the element`, end);
  if (der.length === bytes.length) {
    let same = true;
    for (let i = 0; i < der.length; i++)
      if (der[i] !== bytes[i]) {
        same = false;
        break;
      }
    if (same) return bytes;
  }
  return der;
}
