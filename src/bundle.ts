/**
 * Certificate bundles: every certificate of a PEM file (full chains, CA bundles), of DER files (one
 * certificate or several concatenated), and of PKCS#7 / `.p7b` SignedData "certs-only" bundles as resellers
 * send them (PEM `PKCS7` or DER).
 *
 * @module bundle
 */
import { type Certificate, certificateFromDER, type ParseCertificateOptions } from './certificate.js';
import { CertificateError, DERError } from './errors.js';
import { type DerNode, DerReader, decodeOID, rawOf, readNode, Tag } from './internal/der.js';
import { ContentTypeOID } from './internal/oids.js';
import { decodePEMAll, type PEMBlock, parsePEM } from './pem.js';

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
  readonly certificates: readonly Certificate[];
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
  const offset = typeof e.details.offset === 'number' ? e.details.offset : undefined;
  const detail = e.message.replace(/^malformed DER at byte \d+: /, '');
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

/** The certificates (SEQUENCE elements) of a PKCS#7 ContentInfo; other items go to `skipped`. */
function readPKCS7(node: DerNode, skipped: SkippedItem[]): DerNode[] {
  const ci = DerReader.of(node, 'ContentInfo');
  const type = decodeOID(ci.expect(Tag.OID, 'contentType'));
  if (type !== ContentTypeOID.signedData)
    throw new CertificateError(
      'ERR_CERT_UNSUPPORTED',
      `This PKCS#7/CMS file holds content of type ${type}, not SignedData; only certificate bundles (.p7b) are read.`,
      { details: { contentType: type } },
    );
  const wrapped = ci.expect(0xa0, 'content');
  ci.done('ContentInfo');
  const w = DerReader.of(wrapped, 'content');
  const sd = DerReader.of(w.expect(Tag.SEQUENCE, 'SignedData'), 'SignedData');
  w.done('content');
  sd.expect(Tag.INTEGER, 'version');
  sd.expect(Tag.SET, 'digestAlgorithms');
  sd.expect(Tag.SEQUENCE, 'encapContentInfo');
  const certs = sd.optional(0xa0);
  const crls = sd.optional(0xa1);
  sd.expect(Tag.SET, 'signerInfos');
  sd.done('SignedData');
  const out: DerNode[] = [];
  if (certs !== undefined) {
    const items = DerReader.of(certs, 'certificates').rest();
    items.forEach((item, index) => {
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
    DerReader.of(crls, 'crls')
      .rest()
      .forEach((_, index) => {
        skipped.push({ label: 'CRL', index, reason: 'a revocation list, not a certificate' });
      });
  return out;
}

function isPKCS7(node: DerNode): boolean {
  if (node.tag !== Tag.SEQUENCE) return false;
  try {
    const first = readNode(node.bytes, node.valueStart, node.end);
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
  const max = options.maxCertificates ?? DEFAULT_MAX;
  if (!Number.isSafeInteger(max) || max < 1)
    throw new RangeError('maxCertificates must be a positive integer');
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
        let nodes: DerNode[];
        try {
          const root = readNode(b.bytes, 0);
          if (root.end !== b.bytes.length)
            throw new DERError('ERR_DER_INVALID', 'trailing data after PKCS#7', {
              details: { offset: root.end },
            });
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
        const node = readNode(input, offset);
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
