/**
 * Certificate bundles: every certificate of a PEM file (full chains, CA bundles), of DER files (one
 * certificate or several concatenated), and of PKCS#7 / `.p7b` SignedData "certs-only" bundles as resellers
 * send them (PEM `PKCS7` or DER).
 *
 * @module internal/x509/bundle
 */
import { integerAtLeast } from '../assert.js';
import { type DerNode, decodeOID, derErrorParts, derFail, rawOf, Tag } from '../encoding/der.js';
import { ContentTypeOID } from '../encoding/oids.js';
import { decodePEMAll, type PEMBlock, parsePEM } from '../encoding/pem.js';
import { CertificateError, DERError } from '../errors.js';
import { type Certificate, certificateFromDER, type ParseCertificateOptions } from './certificate.js';

/** Where the certificates of a bundle came from. */
export type BundleFormat = 'pem' | 'der' | 'pkcs7-pem' | 'pkcs7-der';

/** Something in a bundle that is not a certificate and was left out. */
export interface SkippedItem {
  /** The PEM label (`PRIVATE KEY`, `X509 CRL`, ...), or `CRL` / `attribute certificate` inside PKCS#7. */
  readonly label: string;
  /** Position: the PEM block index (0-based), or the index inside the PKCS#7 structure. */
  readonly index: number;
  /** Why it was left out, for an administrator. */
  readonly reason: string;
}

/** The certificates of a bundle, in file order, and what was skipped. */
export interface CertificateBundle {
  /** The certificates, in file order. */
  readonly certificates: readonly Certificate[];
  /** Blocks and items that are not certificates (keys, CSRs, CRLs...). */
  readonly skipped: readonly SkippedItem[];
  /** The outermost format; a PEM file with a `PKCS7` block is `pkcs7-pem`. */
  readonly format: BundleFormat;
}

/** Options of {@link parseCertificateBundle}. */
export interface ParseBundleOptions extends ParseCertificateOptions {
  /** Most certificates accepted; default 1,000. More gives ERR_CERT_TOO_MANY. */
  maxCertificates?: number;
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'PKCS #7 SIGNED DATA', 'CMS']);
const DEFAULT_MAX = 1000;

function tooMany(max: number): never {
  throw new CertificateError(
    'ERR_CERT_TOO_MANY',
    `The bundle holds more than ${max} certificates; this is not an ordinary chain or CA bundle. ` +
      'Raise maxCertificates if it really is.',
    { details: { maxCertificates: max } },
  );
}

function invalidBundle(e: DERError, what: string): CertificateError {
  const { offset, detail } = derErrorParts(e);
  return new CertificateError(
    'ERR_CERT_INVALID',
    `The ${what} is malformed${offset === undefined ? '' : ` at byte ${offset}`}: ${detail}. ` +
      'Check that the file is complete and really is a certificate bundle.',
    { cause: e, details: { path: what, ...(offset === undefined ? {} : { offset }) } },
  );
}

function withIndex(e: unknown, index: number, where: string): unknown {
  if (e instanceof CertificateError && e.code === 'ERR_CERT_INVALID')
    return new CertificateError('ERR_CERT_INVALID', `Certificate #${index + 1} ${where}: ${e.message}`, {
      cause: e,
      details: { ...e.details, index },
    });
  return e;
}

// ---- a small BER reader for the PKCS#7 envelope ----
// Windows and some CAs write .p7b files with BER indefinite lengths (0x80 ... 00 00). The envelope is read
// with this lenient reader; the certificates inside must still be strict DER (they are signed).

interface BerNode extends DerNode {
  /** End of the contents (before the end-of-contents octets of an indefinite length). */
  readonly contentEnd: number;
}

const MAX_BER_DEPTH = 32;

/** BER envelope errors read like the strict reader's (`malformed DER at byte N: ...`). */
const berFail: (message: string, offset: number) => never = derFail;

function berNode(bytes: Uint8Array, offset: number, limit: number, depth = 0): BerNode {
  if (depth > MAX_BER_DEPTH)
    throw new DERError('ERR_DER_TOO_DEEP', `PKCS#7 nesting deeper than ${MAX_BER_DEPTH} levels`, {
      details: { offset },
    });
  if (offset >= limit) berFail('unexpected end of data', offset);
  const start = offset;
  const id = bytes[offset++]!;
  let number = id & 0x1f;
  if (number === 0x1f) {
    number = 0;
    for (let n = 0; ; n++) {
      if (offset >= limit || n > 3) berFail('bad tag', start);
      const b = bytes[offset++]!;
      number = number * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (offset >= limit) berFail('truncated length', offset);
  const constructed = (id & 0x20) !== 0;
  let length = bytes[offset++]!;
  const base = { tag: id, number, cls: id >> 6, constructed, start, bytes };
  if (length === 0x80) {
    if (!constructed) berFail('indefinite length on a primitive element', start);
    const valueStart = offset;
    let pos = offset;
    for (;;) {
      if (pos + 2 > limit) berFail('missing end-of-contents octets', pos);
      if (bytes[pos] === 0 && bytes[pos + 1] === 0)
        return { ...base, valueStart, contentEnd: pos, end: pos + 2 };
      pos = berNode(bytes, pos, limit, depth + 1).end;
    }
  }
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n > 4 || offset + n > limit) berFail('bad length', offset - 1);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[offset++]!;
  }
  const end = offset + length;
  if (end > limit)
    berFail(`element of ${length} bytes runs past the end (${limit - offset} available)`, start);
  return { ...base, valueStart: offset, contentEnd: end, end };
}

function berChildren(node: BerNode, depth: number): BerNode[] {
  if (!node.constructed) berFail('expected a constructed element', node.start);
  const out: BerNode[] = [];
  for (let pos = node.valueStart; pos < node.contentEnd; ) {
    const child = berNode(node.bytes, pos, node.contentEnd, depth + 1);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function berExpect(list: BerNode[], i: number, tag: number, what: string, parent: BerNode): BerNode {
  const n = list[i];
  if (n === undefined) berFail(`missing ${what}`, parent.contentEnd);
  if (n.tag !== tag) berFail(`expected ${what}`, n.start);
  return n;
}

/** The certificates (SEQUENCE elements) of a PKCS#7 ContentInfo; other items go to `skipped`. */
function readPKCS7(node: BerNode, skipped: SkippedItem[]): BerNode[] {
  const ci = berChildren(node, 0);
  const type = decodeOID(berExpect(ci, 0, Tag.OID, 'contentType', node));
  if (type !== ContentTypeOID.signedData)
    throw new CertificateError(
      'ERR_CERT_UNSUPPORTED',
      `This PKCS#7/CMS file holds content of type ${type}, not SignedData; only certificate bundles (.p7b) are read.`,
      { details: { contentType: type } },
    );
  const wrapped = berExpect(ci, 1, 0xa0, 'content', node);
  if (ci.length > 2) berFail('unexpected data after the content', ci[2]!.start);
  const w = berChildren(wrapped, 1);
  const sdNode = berExpect(w, 0, Tag.SEQUENCE, 'SignedData', wrapped);
  if (w.length > 1) berFail('unexpected data after SignedData', w[1]!.start);
  const sd = berChildren(sdNode, 2);
  berExpect(sd, 0, Tag.INTEGER, 'version', sdNode);
  berExpect(sd, 1, Tag.SET, 'digestAlgorithms', sdNode);
  berExpect(sd, 2, Tag.SEQUENCE, 'encapContentInfo', sdNode);
  let i = 3;
  const certs = sd[i]?.tag === 0xa0 ? sd[i++] : undefined;
  const crls = sd[i]?.tag === 0xa1 ? sd[i++] : undefined;
  berExpect(sd, i, Tag.SET, 'signerInfos', sdNode);
  if (sd.length > i + 1) berFail('unexpected data after signerInfos', sd[i + 1]!.start);
  const out: BerNode[] = [];
  if (certs !== undefined) {
    berChildren(certs, 3).forEach((item, index) => {
      if (item.tag === Tag.SEQUENCE) out.push(item);
      else
        skipped.push({
          label:
            item.tag === 0xa0
              ? 'extended certificate'
              : item.tag === 0xa3
                ? 'other certificate'
                : 'attribute certificate',
          index,
          reason: 'not an X.509 certificate',
        });
    });
  }
  if (crls !== undefined)
    berChildren(crls, 3).forEach((_, index) => {
      skipped.push({ label: 'CRL', index, reason: 'a revocation list, not a certificate' });
    });
  return out;
}

function isPKCS7(node: BerNode): boolean {
  if (node.tag !== Tag.SEQUENCE) return false;
  try {
    const first = berNode(node.bytes, node.valueStart, node.contentEnd, 1);
    return first.tag === Tag.OID && decodeOID(first).startsWith('1.2.840.113549.1.7.');
  } catch {
    return false;
  }
}

function looksLikeText(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++;
  return bytes[i] !== 0x30 && i < bytes.length;
}

/**
 * Parses every certificate of a bundle: PEM text (all `CERTIFICATE` blocks, plus the certificates of any
 * `PKCS7` block; other blocks such as keys or CRLs are skipped and reported), DER bytes (one certificate,
 * several concatenated, or a PKCS#7 SignedData `.p7b`), or bytes holding PEM text.
 *
 * @param input - PEM text, or the bytes of a DER/PEM/.p7b file.
 * @param options - `maxCertificates` (default 1,000) and the per-certificate `maxBytes`.
 * @throws CertificateError `ERR_CERT_TOO_MANY` above `maxCertificates`; `ERR_CERT_INVALID` when a certificate or
 *   the PKCS#7 envelope is malformed (the message names the certificate number, field path and byte offset);
 *   `ERR_CERT_UNSUPPORTED` for PKCS#7 content other than SignedData.
 * @throws PEMError `ERR_PEM_UNEXPECTED_LABEL` when the PEM text has no certificate at all (e.g. only a key),
 *   `ERR_PEM_NO_BLOCK` when text holds no PEM, and the other PEM codes for broken armour.
 * @throws TypeError for a wrong input type; RangeError for bad limits.
 * @example
 * ```ts
 * import { parseCertificateBundle } from 'mailtls';
 * const { certificates, skipped } = parseCertificateBundle(await readFile('fullchain.pem', 'utf8'));
 * for (const c of certificates) console.log(c.subject.toString());
 * for (const s of skipped) console.warn(`ignored ${s.label}: ${s.reason}`);
 * ```
 */
export function parseCertificateBundle(
  input: string | Uint8Array,
  options: ParseBundleOptions = {},
): CertificateBundle {
  const max = integerAtLeast(options.maxCertificates ?? DEFAULT_MAX, 'maxCertificates');
  const certOptions: ParseCertificateOptions =
    options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  const skipped: SkippedItem[] = [];
  const certificates: Certificate[] = [];
  let format: BundleFormat;

  const addAll = (ders: readonly Uint8Array[], where: (i: number) => string) => {
    if (certificates.length + ders.length > max) tooMany(max);
    ders.forEach((der, i) => {
      try {
        certificates.push(certificateFromDER(der, certOptions));
      } catch (e) {
        throw withIndex(e, certificates.length, where(i));
      }
    });
  };

  if (typeof input === 'string' || (input instanceof Uint8Array && looksLikeText(input))) {
    const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
    const blocks: PEMBlock[] = parsePEM(text);
    format = 'pem';
    let certBlocks = 0;
    for (const b of blocks) if (CERT_LABELS.has(b.label)) certBlocks++;
    if (certBlocks > max) tooMany(max);
    blocks.forEach((b, index) => {
      if (CERT_LABELS.has(b.label)) addAll([b.bytes], () => `(PEM block ${index + 1})`);
      else if (PKCS7_LABELS.has(b.label)) {
        format = 'pkcs7-pem';
        let nodes: BerNode[];
        try {
          const root = berNode(b.bytes, 0, b.bytes.length);
          if (root.end !== b.bytes.length) berFail('trailing data after the PKCS#7 structure', root.end);
          nodes = readPKCS7(root, skipped);
        } catch (e) {
          if (e instanceof DERError) throw invalidBundle(e, `PKCS#7 block (PEM block ${index + 1})`);
          throw e;
        }
        addAll(nodes.map(rawOf), (i) => `(certificate ${i + 1} of the PKCS#7 block ${index + 1})`);
      } else
        skipped.push({
          label: b.label,
          index,
          reason: /PRIVATE KEY$/.test(b.label)
            ? 'a private key, not a certificate (keep keys in their own file)'
            : 'not a certificate',
        });
    });
    if (certificates.length === 0 && !blocks.some((b) => PKCS7_LABELS.has(b.label)))
      decodePEMAll(text, [...CERT_LABELS]); // throws ERR_PEM_UNEXPECTED_LABEL naming what was found
  } else {
    if (!(input instanceof Uint8Array))
      throw new TypeError('parseCertificateBundle expects PEM text or the bytes of a DER/PEM/.p7b file');
    format = 'der';
    let offset = 0;
    const ders: Uint8Array[] = [];
    try {
      if (input.length === 0)
        throw new DERError('ERR_DER_INVALID', 'the file is empty', { details: { offset: 0 } });
      while (offset < input.length) {
        const node = berNode(input, offset, input.length);
        if (isPKCS7(node)) {
          format = 'pkcs7-der';
          for (const c of readPKCS7(node, skipped)) {
            ders.push(rawOf(c));
            if (ders.length > max) tooMany(max);
          }
        } else {
          ders.push(rawOf(node));
          if (ders.length > max) tooMany(max);
        }
        offset = node.end;
      }
    } catch (e) {
      if (e instanceof DERError)
        throw invalidBundle(e, format === 'pkcs7-der' ? 'PKCS#7 bundle' : 'DER bundle');
      throw e;
    }
    addAll(ders, (i) => `(DER element ${i + 1})`);
  }
  if (certificates.length === 0 && format !== 'pem')
    throw new CertificateError('ERR_CERT_INVALID', 'The bundle holds no certificate.', {
      details: { format },
    });
  return Object.freeze({
    certificates: Object.freeze(certificates),
    skipped: Object.freeze(skipped.map((s) => Object.freeze(s))),
    format,
  });
}
