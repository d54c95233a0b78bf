/**
 * PKCS#12 files (`.pfx`, `.p12`, RFC 7292): a private key with its certificate and chain, protected by a
 * password. This is how Windows/IIS/Exchange, macOS Keychain, Java and many control panels move a server
 * identity around.
 *
 * {@link parsePKCS12} reads:
 *
 * | what | algorithms | written by |
 * |---|---|---|
 * | integrity (MAC) | HMAC with the PKCS#12 KDF: SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, BLAKE2b-512; RFC 9579 PBMAC1 (PBKDF2 + HMAC) | everyone; PBMAC1: OpenSSL 3.4+ |
 * | encryption | PBES2: PBKDF2 (HMAC-SHA1/256/384/512) + AES-128/192/256-CBC or 3DES | OpenSSL 3, Windows 10 1709+ ("AES256-SHA256"), Java 18+ |
 * | encryption | PKCS#12 PBE SHA-1 + 3-key or 2-key 3DES | Windows "TripleDES-SHA1", OpenSSL 1.x (keys) |
 * | encoding | DER and BER (indefinite lengths, chunked strings) | Firefox/NSS, Java write BER |
 *
 * RC2 and RC4 (what OpenSSL 1.x, macOS Keychain and old Windows use for the certificates), single DES and
 * public-key (certificate-based) protection are refused with `ERR_PKCS12_UNSUPPORTED` and the OpenSSL
 * command that converts the file.
 *
 * {@link createPKCS12} writes what OpenSSL 3 writes by default (PBES2 AES-256-CBC with PBKDF2-HMAC-SHA256
 * for the key and the certificates, HMAC-SHA256 MAC) with the friendlyName and localKeyId attributes that
 * Windows uses to pair the key with its certificate; or, for Windows Server 2016 and older, 3DES with a
 * SHA-1 MAC.
 *
 * @module pkcs12
 */

import { sha1 } from '@noble/hashes/legacy';
import { decodePEMAll } from '../encoding/pem.js';
import { CertificateError, DERError, KeyError, PKCS12Error } from '../errors.js';
import { optionalIntegerAtLeast } from '../internal/assert.js';
import { assertBytes, equalBytes } from '../internal/encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeInteger,
  decodeOID,
  decodeString,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeString,
  parseDer,
  rawOf,
  Tag,
  valueBytes,
} from '../internal/encoding/der.js';
import { type ForeignCertificate, foreignCertificateDER } from '../internal/foreign.js';
import { normalizeBER } from '../internal/pkcs12/ber.js';
import {
  invalid,
  KDFBudget,
  type Passwords,
  passwordCandidates,
  unsupported,
  wipePasswords,
  withPath,
} from '../internal/pkcs12/context.js';
import { createMacData, parseMacData, verifyMac } from '../internal/pkcs12/mac.js';
import { BAG_NAMES, BagOID, CertTypeOID, P12AttributeOID, P12ContentOID } from '../internal/pkcs12/oids.js';
import {
  type BagCipher,
  cipherIterations,
  decryptBag,
  encryptBag,
  parseBagCipher,
} from '../internal/pkcs12/pbe.js';
import { type CryptoOptions, PrivateKey, privateKeyFromPKCS8 } from '../keys/keys.js';
import { type Certificate, certificateFromDER, isCertificate } from '../x509/certificate.js';
import { nameEquals } from '../x509/name.js';

/** Default largest input accepted by {@link parsePKCS12}: 1 MiB (a key with a long chain is under 20 KiB). */
export const PKCS12_DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * Default largest iteration count of one key derivation (MAC or encryption) accepted by
 * {@link parsePKCS12}: 1,000,000. Files in the wild use 1 to 600,000 (OpenSSL 2048, Windows 2000, Java
 * 10,000, Firefox 600,000). The whole file may use at most eight times this in total.
 */
export const PKCS12_DEFAULT_MAX_ITERATIONS = 1_000_000;

/** Default largest number of bags (keys, certificates, ...) accepted by {@link parsePKCS12}: 256. */
export const PKCS12_DEFAULT_MAX_BAGS = 256;

/**
 * Default iteration count of {@link createPKCS12}: 10,000, Java keytool's default. OpenSSL 3 writes 2048;
 * every reader (OpenSSL, Windows, macOS, Java, .NET with its 600,000 total limit) accepts 10,000.
 */
export const PKCS12_DEFAULT_ITERATIONS = 10_000;

/** Deepest nesting of safeContentsBag accepted. */
const MAX_NESTING = 4;

/** Options of {@link parsePKCS12}. */
export interface ParsePKCS12Options extends CryptoOptions {
  /**
   * The password. Leave it out (or pass `''`) for a file exported without one: both encodings of the empty
   * password (a BMPString NUL and empty bytes) are tried, as OpenSSL does.
   */
  password?: string;
  /**
   * Require a private key (`ERR_PKCS12_NO_KEY` otherwise), and, when the file holds certificates, one that
   * belongs to the key (`ERR_PKCS12_NO_CERT` otherwise). Use it when the file must be a server identity.
   * Default `false` (a certificate-only file, e.g. a trust store, is accepted).
   */
  requireKey?: boolean;
  /** Require at least one certificate (`ERR_PKCS12_NO_CERT` otherwise). Default `true`. */
  requireCertificate?: boolean;
  /** Largest input in bytes; default {@link PKCS12_DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
  /**
   * Largest iteration count of one key derivation; default {@link PKCS12_DEFAULT_MAX_ITERATIONS}. All
   * derivations of the file together may use eight times this.
   */
  maxIterations?: number;
  /** Largest number of bags; default {@link PKCS12_DEFAULT_MAX_BAGS}. */
  maxBags?: number;
}

/** What {@link parsePKCS12} found in a file. */
export interface PKCS12Contents {
  /** The private key (the first one when a file holds several; see `warnings`). */
  readonly key?: PrivateKey;
  /** Every certificate, in file order. */
  readonly certificates: readonly Certificate[];
  /** The certificate of `key`: paired by localKeyId and checked by public key, or found by public key. */
  readonly leaf?: Certificate;
  /**
   * The other certificates: first the issuers of `leaf` in order (intermediate, then root), then the rest in
   * file order. Without a leaf, every certificate in file order.
   */
  readonly chain: readonly Certificate[];
  /** The friendlyName of the key (or else of the leaf), e.g. what Windows shows as "Friendly Name". */
  readonly friendlyName?: string;
  /**
   * The integrity check as `openssl pkcs12 -info` names its digest (`sha256`, `sha1`, ...), a
   * `PBMAC1 (...)` description, or `none` for a file without a MAC.
   */
  readonly macAlgorithm: string;
  /** Iteration count of the MAC key derivation (absent without a MAC). */
  readonly macIterations?: number;
  /**
   * The encryption of each encrypted part in file order, worded as `openssl pkcs12 -info` prints it (e.g.
   * `PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256`); for diagnostics.
   */
  readonly encryption: readonly string[];
  /** Things worth knowing that did not stop the import (no MAC, unencrypted key, ignored bags, ...). */
  readonly warnings: readonly string[];
}

/**
 * How {@link createPKCS12} encrypts: `'aes-256-cbc'` (PBES2, PBKDF2-HMAC-SHA256, SHA-256 MAC) or
 * `'pbe-sha1-3des'` (PKCS#12 PBE SHA-1 3DES, SHA-1 MAC) for Windows Server 2016 and older.
 */
export type PKCS12Encryption = 'aes-256-cbc' | 'pbe-sha1-3des';

/** Options of {@link createPKCS12}. */
export interface CreatePKCS12Options extends CryptoOptions {
  /** The private key; it must belong to the first certificate. */
  key: PrivateKey;
  /**
   * The leaf certificate first, then its chain (intermediates; the root is optional). Parsed certificates,
   * DER bytes, PEM text (every CERTIFICATE block of the text is taken, so a fullchain.pem works), or
   * node:crypto's or @peculiar/x509's `X509Certificate`; a certificate given twice is written once.
   */
  certificates: readonly (Certificate | Uint8Array | string | ForeignCertificate)[];
  /**
   * The password. `''` writes a file that opens without a password (OpenSSL's `-passout pass:`), which gives
   * no protection to the key.
   */
  password: string;
  /** Name shown by Windows and macOS for the key and certificate (the friendlyName attribute). */
  friendlyName?: string;
  /** Iterations of the key derivations (encryption and MAC); default {@link PKCS12_DEFAULT_ITERATIONS}. */
  iterations?: number;
  /**
   * `'aes-256-cbc'` (default): PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC, as OpenSSL 3 writes;
   * Windows 10 1709+ / Server 2019+, macOS, Java 8u301+ and every OpenSSL 1.1+ read it.
   * `'pbe-sha1-3des'`: PKCS#12 PBE SHA-1 with 3DES for key and certificates, SHA-1 MAC (Windows'
   * "TripleDES-SHA1", `openssl pkcs12 -export -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1`),
   * for Windows Server 2016 and older. Weaker: use it only for those.
   */
  encryption?: PKCS12Encryption;
}

interface Attributes {
  friendlyName?: string;
  localKeyId?: Uint8Array;
}

interface FoundKey {
  pkcs8: Uint8Array;
  attributes: Attributes;
  path: string;
}

interface FoundCert {
  cert: Certificate;
  attributes: Attributes;
}

/** State of one parse. */
interface ReadState {
  readonly passwords: Passwords;
  readonly budget: KDFBudget;
  readonly options: CryptoOptions;
  readonly maxBags: number;
  /** The PKCS#12-KDF password encoding that verified the MAC, or undefined without a MAC. */
  verified: number | undefined;
  bags: number;
  readonly keys: FoundKey[];
  readonly certs: FoundCert[];
  readonly encryption: string[];
  readonly warnings: string[];
}

function checkLimit(value: unknown, name: string): number | undefined {
  return optionalIntegerAtLeast(value, name, 1, undefined);
}

function readAttributes(set: DerNode | undefined, path: string): Attributes {
  const out: Attributes = {};
  if (set === undefined) return out;
  for (const attr of DerReader.of(set).rest()) {
    const r = DerReader.of(attr, 'attribute');
    const oid = decodeOID(r.expect(Tag.OID, 'attribute type'));
    const values = DerReader.of(r.expect(Tag.SET, 'attribute values')).rest();
    r.done('attribute');
    const first = values[0];
    if (first === undefined) continue;
    if (oid === P12AttributeOID.friendlyName) {
      if (first.tag !== Tag.BMP_STRING)
        invalid(`${path}.friendlyName`, 'the friendlyName is not a BMPString');
      out.friendlyName = decodeString(first);
    } else if (oid === P12AttributeOID.localKeyId) {
      if (first.tag !== Tag.OCTET_STRING)
        invalid(`${path}.localKeyId`, 'the localKeyId is not an OCTET STRING');
      out.localKeyId = valueBytes(first).slice();
    }
  }
  return out;
}

function wrongPassword(p: Passwords, reason: 'mac' | 'decrypt', path?: string): never {
  const message = !p.given
    ? 'The file is protected by a password: pass { password }. (It does not open with the empty password.)'
    : p.utf8.length === 0
      ? 'The file does not open with the empty password: pass the password it was exported with.'
      : 'The password is wrong: the file does not open with it. Passwords are case-sensitive; check the ' +
        'keyboard layout. (A file modified after it was written gives the same answer.)';
  throw new PKCS12Error('ERR_PKCS12_PASSWORD', message, {
    details: { reason, ...(path === undefined ? {} : { path }) },
  });
}

function looksLikeSequence(plain: Uint8Array, firstTag?: number): boolean {
  try {
    const root = parseDer(normalizeBER(plain));
    if (root.tag !== Tag.SEQUENCE) return false;
    if (firstTag === undefined) return true;
    return DerReader.of(root).peek()?.tag === firstTag;
  } catch (e) {
    if (e instanceof DERError) return false;
    throw e;
  }
}

/** Decrypts with the password encodings worth trying; `undefined` when none gives well-formed plaintext. */
async function decryptWithPasswords(
  st: ReadState,
  cipher: BagCipher,
  data: Uint8Array,
  path: string,
  what: string,
  firstTag?: number,
): Promise<Uint8Array | undefined> {
  const all = st.passwords.pkcs12;
  const order = cipher.kind === 'pbes2' ? [all[0]!] : st.verified !== undefined ? [all[st.verified]!] : all;
  for (const pw of order) {
    const plain = await decryptBag(cipher, data, st.passwords, pw, st.budget, st.options, path, what);
    if (plain !== undefined && looksLikeSequence(plain, firstTag)) return plain;
    plain?.fill(0);
  }
  return undefined;
}

function decryptFailed(st: ReadState, path: string, what: string): never {
  if (st.verified === undefined) return wrongPassword(st.passwords, 'decrypt', path);
  throw new PKCS12Error(
    'ERR_PKCS12_PASSWORD',
    `The password passes the file's integrity check but does not decrypt its ${what}: the file was written ` +
      'with a separate encryption password (`openssl pkcs12 -twopass`), or it is damaged.',
    { details: { reason: 'decrypt', path } },
  );
}

async function readSafeContents(
  st: ReadState,
  bytes: Uint8Array,
  path: string,
  depth: number,
): Promise<void> {
  const bags = withPath(path, () => {
    const root = parseDer(normalizeBER(bytes));
    if (root.tag !== Tag.SEQUENCE) invalid(path, 'SafeContents is not a SEQUENCE');
    return DerReader.of(root).rest();
  });
  for (let j = 0; j < bags.length; j++) {
    const bagPath = `${path}.bag[${j}]`;
    if (++st.bags > st.maxBags)
      throw new PKCS12Error(
        'ERR_PKCS12_INVALID',
        `The file holds more than ${st.maxBags} bags (keys, certificates, ...), more than a server identity ` +
          `needs; if it is genuine, pass { maxBags }.`,
        { details: { maxBags: st.maxBags, path: bagPath } },
      );
    const bag = withPath(bagPath, () => {
      const node = bags[j]!;
      if (node.tag !== Tag.SEQUENCE) invalid(bagPath, 'the SafeBag is not a SEQUENCE');
      const r = DerReader.of(node);
      const id = decodeOID(r.expect(Tag.OID, 'bagId'));
      const wrapper = r.expect(0xa0, 'bagValue [0]');
      const attrs = r.optional(Tag.SET);
      r.done('SafeBag');
      const v = DerReader.of(wrapper);
      const value = v.next('bagValue');
      v.done('bagValue');
      return { id, value, attributes: readAttributes(attrs, bagPath) };
    });
    const name = BAG_NAMES[bag.id] ?? bag.id;
    const p = `${bagPath}(${name})`;
    switch (bag.id) {
      case BagOID.keyBag:
        withPath(p, () => {
          if (bag.value.tag !== Tag.SEQUENCE) invalid(p, 'the PrivateKeyInfo is not a SEQUENCE');
        });
        st.keys.push({ pkcs8: rawOf(bag.value).slice(), attributes: bag.attributes, path: p });
        st.warnings.push(
          'The private key is stored unencrypted inside the file (a keyBag): only the integrity check used the password.',
        );
        break;
      case BagOID.pkcs8ShroudedKeyBag: {
        const { alg, data } = withPath(p, () => {
          if (bag.value.tag !== Tag.SEQUENCE) invalid(p, 'the EncryptedPrivateKeyInfo is not a SEQUENCE');
          const r = DerReader.of(bag.value);
          const alg = r.expect(Tag.SEQUENCE, 'encryptionAlgorithm');
          const data = valueBytes(r.expect(Tag.OCTET_STRING, 'encryptedData'));
          r.done('EncryptedPrivateKeyInfo');
          return { alg, data };
        });
        const cipher = parseBagCipher(alg, p, 'private key');
        st.budget.check(cipherIterations(cipher), 'private key encryption');
        st.encryption.push(cipher.description);
        const plain = await decryptWithPasswords(st, cipher, data, p, 'private key', Tag.INTEGER);
        if (plain === undefined) decryptFailed(st, p, 'private key');
        st.keys.push({ pkcs8: plain, attributes: bag.attributes, path: p });
        break;
      }
      case BagOID.certBag: {
        const cert = withPath(p, () => {
          if (bag.value.tag !== Tag.SEQUENCE) invalid(p, 'the CertBag is not a SEQUENCE');
          const r = DerReader.of(bag.value);
          const type = decodeOID(r.expect(Tag.OID, 'certId'));
          const wrapper = r.expect(0xa0, 'certValue [0]');
          r.done('CertBag');
          if (type !== CertTypeOID.x509Certificate) return type;
          const v = DerReader.of(wrapper);
          const os = v.expect(Tag.OCTET_STRING, 'certValue');
          v.done('certValue');
          return valueBytes(os);
        });
        if (typeof cert === 'string') {
          st.warnings.push(
            `${p} holds a ${cert === CertTypeOID.sdsiCertificate ? 'SDSI' : `${cert}`} certificate, not X.509: ignored.`,
          );
          break;
        }
        try {
          st.certs.push({ cert: certificateFromDER(cert), attributes: bag.attributes });
        } catch (e) {
          if (e instanceof CertificateError) invalid(p, `the certificate is not valid: ${e.message}`, e);
          throw e;
        }
        break;
      }
      case BagOID.safeContentsBag:
        if (depth + 1 >= MAX_NESTING) invalid(p, `safeContentsBag nested more than ${MAX_NESTING} deep`);
        await readSafeContents(st, rawOf(bag.value), p, depth + 1);
        break;
      case BagOID.crlBag:
      case BagOID.secretBag:
        st.warnings.push(`${p}: a ${name} is not used by mailtls and was ignored.`);
        break;
      default:
        st.warnings.push(`${bagPath}: a bag of the unknown type ${bag.id} was ignored.`);
    }
  }
}

type SafeEntry =
  | { readonly kind: 'data'; readonly path: string; readonly bytes: Uint8Array }
  | {
      readonly kind: 'encrypted';
      readonly path: string;
      readonly cipher: BagCipher;
      readonly data: Uint8Array;
    };

/**
 * Finds unsupported encryption of shrouded keys in a plain SafeContents before any expensive decryption
 * (only ERR_PKCS12_UNSUPPORTED escapes; structural errors are reported by the full read, in order).
 */
function prescanSafeContents(bytes: Uint8Array, path: string): void {
  try {
    const root = parseDer(normalizeBER(bytes));
    for (const [j, bag] of DerReader.of(root).rest().entries()) {
      const r = DerReader.of(bag);
      if (decodeOID(r.expect(Tag.OID, 'bagId')) !== BagOID.pkcs8ShroudedKeyBag) continue;
      const value = DerReader.of(r.expect(0xa0, 'bagValue')).next();
      const alg = DerReader.of(value).expect(Tag.SEQUENCE, 'encryptionAlgorithm');
      parseBagCipher(alg, `${path}.bag[${j}](pkcs8ShroudedKeyBag)`, 'private key');
    }
  } catch (e) {
    if (e instanceof PKCS12Error && e.code === 'ERR_PKCS12_UNSUPPORTED') throw e;
  }
}

function readEncryptedData(inner: DerNode, p: string): { alg: DerNode; data: Uint8Array } {
  return withPath(p, () => {
    if (inner.tag !== Tag.SEQUENCE) invalid(p, 'EncryptedData is not a SEQUENCE');
    const r = DerReader.of(inner);
    const version = decodeInteger(r.expect(Tag.INTEGER, 'version'));
    if (version !== 0n && version !== 2n) invalid(p, `EncryptedData version ${version}, expected 0`);
    const eci = DerReader.of(r.expect(Tag.SEQUENCE, 'encryptedContentInfo'));
    r.optional(0xa1); // unprotectedAttrs
    r.done('EncryptedData');
    const ct = decodeOID(eci.expect(Tag.OID, 'contentType'));
    if (ct !== P12ContentOID.data) invalid(p, `the encrypted content type is ${ct}, expected data`);
    const alg = eci.expect(Tag.SEQUENCE, 'contentEncryptionAlgorithm');
    const enc = eci.next('encryptedContent [0]');
    eci.done('EncryptedContentInfo');
    if (enc.tag === 0x80) return { alg, data: valueBytes(enc) };
    if (enc.tag !== 0xa0) return invalid(p, 'the encrypted content is not [0] IMPLICIT OCTET STRING');
    // BER: the [0] IMPLICIT OCTET STRING in segments
    const parts = DerReader.of(enc).rest();
    const data = new Uint8Array(parts.reduce((n, x) => n + (x.end - x.valueStart), 0));
    let o = 0;
    for (const x of parts) {
      if (x.tag !== Tag.OCTET_STRING) invalid(p, 'a segment of the encrypted content is not an OCTET STRING');
      data.set(valueBytes(x), o);
      o += x.end - x.valueStart;
    }
    return { alg, data };
  });
}

async function readAuthenticatedSafe(st: ReadState, content: Uint8Array): Promise<void> {
  const infos = withPath('AuthenticatedSafe', () => {
    const root = parseDer(normalizeBER(content));
    if (root.tag !== Tag.SEQUENCE) invalid('AuthenticatedSafe', 'it is not a SEQUENCE');
    return DerReader.of(root).rest();
  });
  // First every part's structure and algorithms, so that an unsupported cipher is reported before any
  // (possibly slow) decryption; then the decryption and the bags, in file order.
  const entries: SafeEntry[] = [];
  for (let i = 0; i < infos.length; i++) {
    const path = `AuthenticatedSafe[${i}]`;
    const { type, content: inner } = withPath(path, () => {
      const node = infos[i]!;
      if (node.tag !== Tag.SEQUENCE) invalid(path, 'the ContentInfo is not a SEQUENCE');
      const r = DerReader.of(node);
      const type = decodeOID(r.expect(Tag.OID, 'contentType'));
      const wrapper = r.expect(0xa0, 'content [0]');
      r.done('ContentInfo');
      const v = DerReader.of(wrapper);
      const content = v.next('content');
      v.done('content');
      return { type, content };
    });
    if (type === P12ContentOID.data) {
      const p = `${path}(data)`;
      const bytes = withPath(p, () => {
        if (inner.tag !== Tag.OCTET_STRING) invalid(p, 'the data is not an OCTET STRING');
        return valueBytes(inner);
      });
      prescanSafeContents(bytes, p);
      entries.push({ kind: 'data', path: p, bytes });
    } else if (type === P12ContentOID.encryptedData) {
      const p = `${path}(encryptedData)`;
      const { alg, data } = readEncryptedData(inner, p);
      const cipher = parseBagCipher(alg, p, 'certificates');
      st.budget.check(cipherIterations(cipher), 'certificate encryption');
      entries.push({ kind: 'encrypted', path: p, cipher, data });
    } else if (type === P12ContentOID.envelopedData) {
      unsupported(
        'The file encrypts its contents for a recipient certificate (PKCS#12 public-key privacy mode) instead of a password',
        { path, contentType: type },
        'export it again with password protection (e.g. `openssl pkcs12 -export`).',
      );
    } else invalid(path, `the content type ${type} is not data, encryptedData or envelopedData`);
  }
  for (const e of entries) {
    if (e.kind === 'data') {
      await readSafeContents(st, e.bytes, e.path, 0);
      continue;
    }
    st.encryption.push(e.cipher.description);
    const plain = await decryptWithPasswords(st, e.cipher, e.data, e.path, 'certificates');
    if (plain === undefined) decryptFailed(st, e.path, 'certificates');
    try {
      await readSafeContents(st, plain, e.path, 0);
    } finally {
      plain.fill(0);
    }
  }
}

function hintForNonPFX(der: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(der.subarray(0, 64));
  if (head.includes('-----BEGIN'))
    return 'this is PEM text, not a .pfx/.p12 file: read it with parsePrivateKey/parseCertificate, or convert it with `openssl pkcs12 -export -inkey key.pem -in cert.pem -out file.pfx`';
  if (/^MI[I-M][A-Za-z0-9+/]{8}/.test(head))
    return 'this looks like a base64-encoded .pfx: decode the base64 first (e.g. `base64 -d file.txt > file.pfx`)';
  return undefined;
}

function issuerOrdered(leaf: Certificate, others: readonly Certificate[]): Certificate[] {
  const rest = [...others];
  const out: Certificate[] = [];
  let current = leaf;
  while (!current.selfIssued) {
    const i = rest.findIndex((c) => nameEquals(c.subject, current.issuer));
    if (i < 0) break;
    const next = rest.splice(i, 1)[0]!;
    out.push(next);
    current = next;
  }
  return [...out, ...rest];
}

function freeze<T>(list: T[]): readonly T[] {
  return Object.freeze(list);
}

/**
 * Reads a PKCS#12 (`.pfx`/`.p12`) file: the private key, its certificate (the leaf) and the other
 * certificates (the chain). The password is checked by the file's MAC, so a wrong password is always
 * `ERR_PKCS12_PASSWORD`, never a decryption error.
 *
 * @param input - The file's bytes (DER or BER); not modified.
 * @param options - The password, requirements and limits; see {@link ParsePKCS12Options}.
 * @throws PKCS12Error `ERR_PKCS12_PASSWORD` (wrong or missing password), `ERR_PKCS12_INVALID` (malformed:
 *   `details.path` says where, e.g. `AuthenticatedSafe[1](data).bag[0](pkcs8ShroudedKeyBag)`; also over
 *   `maxBytes` or `maxBags`), `ERR_PKCS12_UNSUPPORTED` (RC2/RC4/DES, public-key mode, an iteration count over
 *   `maxIterations`, an unsupported key type; the message gives the OpenSSL command that converts the file),
 *   `ERR_PKCS12_NO_KEY` (`requireKey` and no key), `ERR_PKCS12_NO_CERT` (no certificate, or `requireKey` and
 *   no certificate for the key).
 * @throws TypeError / RangeError for wrong argument types or limits.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parsePKCS12 } from 'mailtls';
 * const p12 = await parsePKCS12(await readFile('mail.pfx'), { password: 'secret', requireKey: true });
 * console.log(p12.key?.describe(), p12.leaf?.subject.toString(), p12.chain.length, p12.encryption);
 * ```
 */
export async function parsePKCS12(
  input: Uint8Array,
  options: ParsePKCS12Options = {},
): Promise<PKCS12Contents> {
  assertBytes(input, 'input');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.password !== undefined && typeof options.password !== 'string')
    throw new TypeError('password must be a string');
  const maxBytes = checkLimit(options.maxBytes, 'maxBytes') ?? PKCS12_DEFAULT_MAX_BYTES;
  const maxIterations = checkLimit(options.maxIterations, 'maxIterations') ?? PKCS12_DEFAULT_MAX_ITERATIONS;
  const maxBags = checkLimit(options.maxBags, 'maxBags') ?? PKCS12_DEFAULT_MAX_BAGS;
  if (input.length > maxBytes)
    throw new PKCS12Error(
      'ERR_PKCS12_INVALID',
      `The file is ${input.length} bytes, more than the limit of ${maxBytes}; a .pfx with a key and its chain is ` +
        'a few kilobytes. If it is genuine, pass { maxBytes }.',
      { details: { size: input.length, maxBytes } },
    );
  // A private copy: everything below is a plain Uint8Array (Buffer#slice would share memory with the
  // caller's buffer), and the caller's bytes are never wiped.
  const der = new Uint8Array(input);
  const hint = hintForNonPFX(der);
  if (hint !== undefined) invalid('PFX', hint);
  const { authSafe, macData } = withPath('PFX', () => {
    const root = parseDer(normalizeBER(der));
    if (root.tag !== Tag.SEQUENCE)
      invalid('PFX', 'the file does not start with a SEQUENCE: it is not a PKCS#12 file');
    const r = DerReader.of(root);
    const version = decodeInteger(r.expect(Tag.INTEGER, 'version'));
    if (version !== 3n) invalid('PFX.version', `the version is ${version}; PKCS#12 files have version 3`);
    const authSafe = r.expect(Tag.SEQUENCE, 'authSafe');
    const macData = r.optional(Tag.SEQUENCE);
    r.done('PFX');
    return { authSafe, macData };
  });
  const content = withPath('PFX.authSafe', () => {
    const r = DerReader.of(authSafe);
    const type = decodeOID(r.expect(Tag.OID, 'contentType'));
    if (type === P12ContentOID.signedData)
      unsupported(
        'The file is protected by a signature (PKCS#12 public-key integrity mode) instead of a password',
        { contentType: type },
        'export it again with password protection (e.g. `openssl pkcs12 -export`).',
      );
    if (type !== P12ContentOID.data) invalid('PFX.authSafe', `the content type is ${type}, expected data`);
    const wrapper = r.expect(0xa0, 'content [0]');
    r.done('ContentInfo');
    const v = DerReader.of(wrapper);
    const os = v.expect(Tag.OCTET_STRING, 'data');
    v.done('content');
    return valueBytes(os);
  });
  const passwords = passwordCandidates(options.password);
  const st: ReadState = {
    passwords,
    budget: new KDFBudget(maxIterations, maxIterations * 8),
    options: options.crypto === undefined ? {} : { crypto: options.crypto },
    maxBags,
    verified: undefined,
    bags: 0,
    keys: [],
    certs: [],
    encryption: [],
    warnings: [],
  };
  try {
    let macAlgorithm = 'none';
    let macIterations: number | undefined;
    if (macData !== undefined) {
      const spec = parseMacData(macData, 'PFX.macData');
      st.budget.check(spec.iterations, 'integrity check (MAC)');
      const idx = await verifyMac(spec, content, passwords, st.budget, st.options);
      if (idx < 0) wrongPassword(passwords, 'mac');
      st.verified = idx;
      macAlgorithm = spec.name;
      macIterations = spec.iterations;
    } else
      st.warnings.push(
        'The file has no integrity check (MAC): the password was checked only by decryption, and changes to ' +
          'unencrypted parts cannot be detected.',
      );
    await readAuthenticatedSafe(st, content);
    return await assemble(st, options, macAlgorithm, macIterations);
  } finally {
    for (const k of st.keys) k.pkcs8.fill(0);
    wipePasswords(passwords);
  }
}

async function assemble(
  st: ReadState,
  options: ParsePKCS12Options,
  macAlgorithm: string,
  macIterations: number | undefined,
): Promise<PKCS12Contents> {
  let key: PrivateKey | undefined;
  let keyAttrs: Attributes = {};
  const first = st.keys[0];
  if (first !== undefined) {
    try {
      key = await privateKeyFromPKCS8(first.pkcs8, st.options);
    } catch (e) {
      if (e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED')
        throw new PKCS12Error(
          'ERR_PKCS12_UNSUPPORTED',
          `The private key in the file cannot be used: ${e.message}`,
          {
            cause: e,
            details: { path: first.path },
          },
        );
      if (e instanceof KeyError) invalid(first.path, `the private key is not valid: ${e.message}`, e);
      throw e;
    }
    keyAttrs = first.attributes;
    if (st.keys.length > 1)
      st.warnings.push(`The file holds ${st.keys.length} private keys; the first was used.`);
  }
  const certs = st.certs.map((c) => c.cert);
  let leaf: Certificate | undefined;
  if (key !== undefined) {
    const k = key;
    const matches = (c: Certificate) => c.publicKey?.equals(k.publicKey) ?? false;
    const id = keyAttrs.localKeyId;
    const paired =
      id === undefined
        ? []
        : st.certs.filter(
            (c) => c.attributes.localKeyId !== undefined && equalBytes(c.attributes.localKeyId, id),
          );
    leaf = paired.find((c) => matches(c.cert))?.cert ?? certs.find(matches);
    if (paired.length > 0 && !paired.some((c) => matches(c.cert)))
      st.warnings.push(
        "The certificate paired with the key by localKeyId does not hold the key's public key" +
          (leaf === undefined ? '.' : '; the certificate that does was used.'),
      );
    if (leaf === undefined && certs.length > 0)
      st.warnings.push("None of the certificates holds the private key's public key.");
  }
  const leafAttrs = leaf === undefined ? undefined : st.certs.find((c) => c.cert === leaf)?.attributes;
  const friendlyName = keyAttrs.friendlyName ?? leafAttrs?.friendlyName;
  if ((options.requireCertificate ?? true) && certs.length === 0)
    throw new PKCS12Error(
      'ERR_PKCS12_NO_CERT',
      `The file holds no certificate${key === undefined ? '' : ', only a private key'}: export it again with the ` +
        'certificate (Windows: export the certificate "with the private key"; OpenSSL: `openssl pkcs12 -export ' +
        '-inkey key.pem -in cert.pem -certfile chain.pem -out file.pfx`), or pass { requireCertificate: false }.',
      { details: { keys: st.keys.length } },
    );
  if (options.requireKey === true) {
    if (key === undefined)
      throw new PKCS12Error(
        'ERR_PKCS12_NO_KEY',
        `The file holds no private key, only ${certs.length} certificate${certs.length === 1 ? '' : 's'}: export ` +
          'it again "with the private key" (Windows: "Yes, export the private key"; OpenSSL: `openssl pkcs12 -export ' +
          '-inkey key.pem -in cert.pem -out file.pfx`).',
        { details: { certificates: certs.length } },
      );
    if (leaf === undefined && certs.length > 0)
      throw new PKCS12Error(
        'ERR_PKCS12_NO_CERT',
        `None of the ${certs.length} certificates in the file belongs to its private key (${key.describe()}): the file ` +
          'pairs a key with the wrong certificate. Export it again from the machine that holds the matching pair.',
        { details: { certificates: certs.length, key: key.describe() } },
      );
  }
  const chain =
    leaf === undefined
      ? certs
      : issuerOrdered(
          leaf,
          certs.filter((c) => c !== leaf),
        );
  const result: {
    -readonly [K in keyof PKCS12Contents]: PKCS12Contents[K];
  } = {
    certificates: freeze(certs),
    chain: freeze(chain),
    macAlgorithm,
    encryption: freeze([...st.encryption]),
    warnings: freeze([...st.warnings]),
  };
  if (key !== undefined) result.key = key;
  if (leaf !== undefined) result.leaf = leaf;
  if (friendlyName !== undefined) result.friendlyName = friendlyName;
  if (macIterations !== undefined) result.macIterations = macIterations;
  return Object.freeze(result);
}

// ---- writing ----

/** The certificates of {@link CreatePKCS12Options.certificates}, in order, without repeats. */
function certificatesOf(
  list: readonly (Certificate | Uint8Array | string | ForeignCertificate)[],
): Certificate[] {
  const out: Certificate[] = [];
  for (const [i, c] of list.entries()) {
    if (isCertificate(c)) out.push(c);
    else if (c instanceof Uint8Array)
      out.push(certificateFromDER(c)); // it keeps its own copy
    else if (typeof c === 'string')
      for (const b of decodePEMAll(c, 'CERTIFICATE')) out.push(certificateFromDER(b.bytes));
    else {
      const der = foreignCertificateDER(c);
      if (der === undefined)
        throw new TypeError(
          `certificates[${i}] must be a Certificate, DER bytes, PEM text or an X509Certificate (node:crypto or @peculiar/x509)`,
        );
      out.push(certificateFromDER(der));
    }
  }
  return out;
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Uint8Array): Uint8Array {
  const attrs = [
    encodeSequence(encodeOID(P12AttributeOID.localKeyId), encodeSet(encodeOctetString(localKeyId))),
  ];
  if (friendlyName !== undefined)
    attrs.push(
      encodeSequence(
        encodeOID(P12AttributeOID.friendlyName),
        encodeSet(encodeString(Tag.BMP_STRING, friendlyName)),
      ),
    );
  return encodeSet(...attrs);
}

function contentInfoData(bytes: Uint8Array): Uint8Array {
  return encodeSequence(encodeOID(P12ContentOID.data), encodeExplicit(0, encodeOctetString(bytes)));
}

/**
 * Writes a PKCS#12 (`.pfx`/`.p12`) file with a private key, its certificate and the chain, protected by a
 * password. The default output is what OpenSSL 3 writes (`openssl pkcs12 -export`): the certificates in a
 * PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) EncryptedData, the key in a PBES2 pkcs8ShroudedKeyBag, an
 * HMAC-SHA256 MAC; the key and the leaf carry the same localKeyId (SHA-1 of the leaf certificate, as OpenSSL
 * sets it) and, when given, the friendlyName, so Windows and macOS pair them. OpenSSL, Windows, macOS, Java
 * and Node's `tls.createSecureContext({ pfx, passphrase })` read it.
 *
 * @throws KeyError `ERR_KEY_MISMATCH` when the key does not belong to the first certificate.
 * @throws CertificateError / PEMError when a certificate cannot be read.
 * @throws TypeError / RangeError for wrong arguments (no certificate, bad iteration count, unknown encryption).
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { createPKCS12 } from 'mailtls';
 * const pfx = await createPKCS12({ key, certificates: [leafPem, intermediatePem], password: 'secret',
 *   friendlyName: 'mail.example.com 2026' });
 * await writeFile('mail.pfx', pfx, { mode: 0o600 });
 * ```
 */
export async function createPKCS12(options: CreatePKCS12Options): Promise<Uint8Array> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { key, password, friendlyName } = options;
  if (!(key instanceof PrivateKey)) throw new TypeError('key must be a PrivateKey');
  if (typeof password !== 'string') throw new TypeError("password must be a string ('' for none)");
  if (friendlyName !== undefined && typeof friendlyName !== 'string')
    throw new TypeError('friendlyName must be a string');
  if (!Array.isArray(options.certificates)) throw new TypeError('certificates must be an array, leaf first');
  const iterations = options.iterations ?? PKCS12_DEFAULT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000)
    throw new RangeError('iterations must be an integer from 1 to 10,000,000');
  const encryption = options.encryption ?? 'aes-256-cbc';
  if (encryption !== 'aes-256-cbc' && encryption !== 'pbe-sha1-3des')
    throw new RangeError("encryption must be 'aes-256-cbc' or 'pbe-sha1-3des'");
  const certs = certificatesOf(options.certificates).filter(
    (c, i, all) => all.findIndex((d) => equalBytes(d.der, c.der)) === i,
  );
  const leaf = certs[0];
  if (leaf === undefined) throw new RangeError('certificates must hold at least the leaf certificate');
  if (!(leaf.publicKey?.equals(key.publicKey) ?? false)) {
    const at = certs.findIndex((c) => c.publicKey?.equals(key.publicKey) ?? false);
    throw new KeyError(
      'ERR_KEY_MISMATCH',
      `The private key (${key.describe()}) does not belong to the first certificate (${leaf.subject.toString()})` +
        (at > 0 ? `; it belongs to certificates[${at}]: put the leaf certificate first.` : '.'),
      { details: { key: key.describe(), ...(at > 0 ? { matchingIndex: at } : {}) } },
    );
  }
  const crypto = options.crypto === undefined ? {} : { crypto: options.crypto };
  const passwords = passwordCandidates(password);
  try {
    const localKeyId = sha1(leaf.der);
    const attrs = bagAttributes(friendlyName, localKeyId);
    const certBags = certs.map((c, i) =>
      encodeSequence(
        encodeOID(BagOID.certBag),
        encodeExplicit(
          0,
          encodeSequence(encodeOID(CertTypeOID.x509Certificate), encodeExplicit(0, encodeOctetString(c.der))),
        ),
        ...(i === 0 ? [attrs] : []),
      ),
    );
    const certEnc = await encryptBag(encodeSequence(...certBags), passwords, encryption, iterations, crypto);
    const certInfo = encodeSequence(
      encodeOID(P12ContentOID.encryptedData),
      encodeExplicit(
        0,
        encodeSequence(
          encodeInteger(0),
          encodeSequence(
            encodeOID(P12ContentOID.data),
            certEnc.algorithm,
            encodeImplicit(0, certEnc.ciphertext),
          ),
        ),
      ),
    );
    const pkcs8 = key.exportPKCS8();
    let keyEnc: { algorithm: Uint8Array; ciphertext: Uint8Array };
    try {
      keyEnc = await encryptBag(pkcs8, passwords, encryption, iterations, crypto);
    } finally {
      pkcs8.fill(0);
    }
    const keyBag = encodeSequence(
      encodeOID(BagOID.pkcs8ShroudedKeyBag),
      encodeExplicit(0, encodeSequence(keyEnc.algorithm, encodeOctetString(keyEnc.ciphertext))),
      attrs,
    );
    const authSafe = encodeSequence(certInfo, contentInfoData(encodeSequence(keyBag)));
    const macData = await createMacData(
      encryption === 'aes-256-cbc' ? 'SHA-256' : 'SHA-1',
      authSafe,
      passwords.pkcs12[0]!,
      iterations,
      crypto,
    );
    return encodeSequence(encodeInteger(3), contentInfoData(authSafe), macData);
  } finally {
    wipePasswords(passwords);
  }
}
