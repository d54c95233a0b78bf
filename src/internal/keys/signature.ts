/**
 * Signature algorithm identifiers of X.509 `SIGNED{...}` structures and their verification with WebCrypto:
 * RSA PKCS#1 v1.5, RSA-PSS (with its parameters), ECDSA (DER → raw r||s) and Ed25519. Internal: used by
 * `verifyCSRSignature` and meant for the chain validator, which turns a {@link SignatureCheck} into its own
 * error codes.
 */

import { fromHex, toArrayBuffer } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeBitString,
  decodeInteger,
  decodeOID,
  decodeSmallInt,
  encodeBitString,
  encodeNull,
  encodeOID,
  encodeSequence,
  parseDer,
  rawOf,
  Tag,
} from '../encoding/der.js';
import { HASH_NAMES, HashOID, oidLongName, SIGNATURE_ALGORITHMS } from '../encoding/oids.js';
import type { CryptoOptions } from './crypto.js';
import { spkiInfo, spkiParams } from './spki-info.js';

/** A signature AlgorithmIdentifier, decoded. */
export interface SignatureAlgorithm {
  /** Dotted OID, e.g. `1.2.840.113549.1.1.11`. */
  readonly oid: string;
  /** OpenSSL long name, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `rsassaPss`, `ED25519`. */
  readonly name: string;
  /** WebCrypto hash name (`SHA-256`, ...), when the algorithm has one (RSA-PSS: from its parameters). */
  readonly hash?: string;
  /** The DER of the parameters, when present (NULL for RSA PKCS#1 v1.5, the RSASSA-PSS-params for PSS). */
  readonly params?: Uint8Array;
  /** RSA-PSS salt length in bytes. */
  readonly saltLength?: number;
  /** RSA-PSS MGF1 hash (WebCrypto name). */
  readonly mgfHash?: string;
}

/** Outcome of {@link verifySignature}. */
export type SignatureCheck =
  | { readonly valid: true }
  | {
      readonly valid: false;
      /**
       * - `unsupported`: an algorithm WebCrypto/mailtls cannot verify (DSA, Ed448, unknown, explicit curves);
       * - `weak`: MD5 or SHA-1;
       * - `mismatch`: the algorithm does not fit the key, or its parameters are wrong;
       * - `malformed`: the signature or key bytes are not well formed;
       * - `invalid`: the signature does not verify.
       */
      readonly reason: 'unsupported' | 'weak' | 'mismatch' | 'malformed' | 'invalid';
      readonly message: string;
    };

function hashOfAlgId(node: DerNode): string | undefined {
  const r = DerReader.of(node, 'AlgorithmIdentifier');
  const oid = decodeOID(r.expect(Tag.OID, 'algorithm'));
  const p = r.peek();
  if (p !== undefined && p.tag !== Tag.NULL) return undefined;
  return HASH_NAMES[oid];
}

/** Decodes RSASSA-PSS-params (RFC 4055); throws DERError when malformed. */
function readPSSParams(node: DerNode): { hash?: string; mgfHash?: string; saltLength: number } {
  const r = DerReader.of(node, 'RSASSA-PSS-params');
  let hash: string | undefined = 'SHA-1';
  let mgfHash: string | undefined = 'SHA-1';
  let saltLength = 20;
  const h = r.optional(0xa0);
  if (h !== undefined) hash = hashOfAlgId(DerReader.of(h).expect(Tag.SEQUENCE, 'hashAlgorithm'));
  const m = r.optional(0xa1);
  if (m !== undefined) {
    const mr = DerReader.of(DerReader.of(m).expect(Tag.SEQUENCE, 'maskGenAlgorithm'));
    const mgf = decodeOID(mr.expect(Tag.OID, 'mgf'));
    mgfHash = mgf === HashOID.mgf1 ? hashOfAlgId(mr.expect(Tag.SEQUENCE, 'mgf1 hash')) : undefined;
  }
  const s = r.optional(0xa2);
  if (s !== undefined) saltLength = decodeSmallInt(DerReader.of(s).expect(Tag.INTEGER, 'saltLength'), 65535);
  const t = r.optional(0xa3);
  if (t !== undefined && decodeSmallInt(DerReader.of(t).expect(Tag.INTEGER, 'trailerField'), 255) !== 1)
    mgfHash = undefined;
  r.done('RSASSA-PSS-params');
  return {
    ...(hash === undefined ? {} : { hash }),
    ...(mgfHash === undefined ? {} : { mgfHash }),
    saltLength,
  };
}

/** Reads a signature AlgorithmIdentifier node. Throws DERError when the envelope is malformed. */
export function readSignatureAlgorithm(node: DerNode): SignatureAlgorithm {
  const r = DerReader.of(node, 'AlgorithmIdentifier');
  const oid = decodeOID(r.expect(Tag.OID, 'algorithm'));
  const p = r.peek();
  if (p !== undefined) r.next();
  r.done('AlgorithmIdentifier');
  const name = oidLongName(oid);
  const known = SIGNATURE_ALGORITHMS[oid];
  const params = p === undefined ? undefined : rawOf(p);
  if (known?.key === 'rsa-pss') {
    let pss: ReturnType<typeof readPSSParams> | undefined;
    try {
      pss = p !== undefined && p.tag === Tag.SEQUENCE ? readPSSParams(p) : undefined;
    } catch {
      pss = undefined;
    }
    return { oid, name, ...(params === undefined ? {} : { params }), ...(pss ?? {}) };
  }
  return {
    oid,
    name,
    ...(known?.hash === undefined ? {} : { hash: known.hash }),
    ...(params === undefined ? {} : { params }),
  };
}

const CURVES = new Set(['P-256', 'P-384', 'P-521']);
const SUPPORTED_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

function fail(reason: Exclude<SignatureCheck, { valid: true }>['reason'], message: string): SignatureCheck {
  return { valid: false, reason, message };
}

/**
 * Converts a DER Ecdsa-Sig-Value (RFC 3279) to the raw r||s WebCrypto verifies, `size` bytes each; undefined
 * when malformed (non-minimal or negative integers, trailing data) or when r or s does not fit.
 */
export function ecdsaDERToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) return undefined;
    const r = DerReader.of(root);
    const out = new Uint8Array(size * 2);
    for (let i = 0; i < 2; i++) {
      const n = decodeInteger(r.expect(Tag.INTEGER, i === 0 ? 'r' : 's'));
      if (n <= 0n) return undefined;
      const hex = n.toString(16);
      const bytes = fromHex(hex.length % 2 ? `0${hex}` : hex);
      if (bytes.length > size) return undefined;
      out.set(bytes, i * size + size - bytes.length);
    }
    r.done('Ecdsa-Sig-Value');
    return out;
  } catch {
    return undefined;
  }
}

/** An id-RSASSA-PSS SPKI re-labelled as rsaEncryption (WebCrypto imports only the latter). */
function asRSAEncryption(spki: Uint8Array): Uint8Array {
  const r = DerReader.of(parseDer(spki));
  r.expect(Tag.SEQUENCE, 'algorithm');
  const key = decodeBitString(r.expect(Tag.BIT_STRING, 'subjectPublicKey')).bytes;
  return encodeSequence(
    encodeSequence(encodeOID('1.2.840.113549.1.1.1'), encodeNull()),
    encodeBitString(key),
  );
}

/**
 * Verifies `signature` over `data` with the public key `spki` under `algorithm`. Never throws for bad input
 * (returns a {@link SignatureCheck}); a missing WebCrypto gives TypeError.
 */
export async function verifySignature(
  spki: Uint8Array,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
  options: CryptoOptions = {},
): Promise<SignatureCheck> {
  const c = options.crypto ?? globalThis.crypto;
  if (c === undefined || c === null || typeof c.subtle !== 'object')
    throw new TypeError('no WebCrypto implementation: pass { crypto } (e.g. globalThis.crypto)');
  const subtle = c.subtle;
  const family = SIGNATURE_ALGORITHMS[algorithm.oid];
  if (family === undefined || family.key === 'other')
    return fail(
      'unsupported',
      `the signature algorithm ${algorithm.name} (${algorithm.oid}) is not supported`,
    );
  if (algorithm.hash === 'MD5' || algorithm.hash === 'SHA-1')
    return fail(
      'weak',
      `the signature uses ${algorithm.name}, a hash that is no longer secure (${algorithm.hash})`,
    );
  let key: ReturnType<typeof spkiInfo>;
  try {
    key = spkiInfo(spki);
  } catch {
    return fail('malformed', 'the public key is not a valid SubjectPublicKeyInfo');
  }
  let importAlg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  let verifyAlg: RsaPssParams | EcdsaParams | Algorithm;
  let sig: Uint8Array | undefined = signature;
  let keyBytes = spki;
  switch (family.key) {
    case 'rsa':
      if (key.type !== 'rsa' || key.rsaPSS)
        return fail(
          'mismatch',
          `a ${algorithm.name} signature needs an rsaEncryption key, not ${key.algorithm}`,
        );
      if (
        algorithm.params !== undefined &&
        !(algorithm.params.length === 2 && algorithm.params[0] === Tag.NULL)
      )
        return fail('mismatch', `${algorithm.name} must have NULL or absent parameters`);
      if (!SUPPORTED_HASHES.has(algorithm.hash ?? ''))
        return fail('unsupported', `the hash of ${algorithm.name} is not supported`);
      importAlg = { name: 'RSASSA-PKCS1-v1_5', hash: algorithm.hash! };
      verifyAlg = { name: 'RSASSA-PKCS1-v1_5' };
      break;
    case 'rsa-pss': {
      if (key.type !== 'rsa')
        return fail('mismatch', `an RSA-PSS signature needs an RSA key, not ${key.algorithm}`);
      if (algorithm.hash === undefined || algorithm.saltLength === undefined)
        return fail('malformed', 'the RSA-PSS parameters are missing or malformed');
      if (algorithm.hash === 'SHA-1')
        return fail('weak', 'the RSA-PSS signature uses SHA-1, a hash that is no longer secure');
      if (!SUPPORTED_HASHES.has(algorithm.hash) || algorithm.mgfHash !== algorithm.hash)
        return fail(
          'unsupported',
          'RSA-PSS is supported with SHA-256/384/512 and MGF1 of the same hash only',
        );
      if (key.rsaPSS) {
        try {
          const p = spkiParams(spki);
          if (p !== undefined) {
            const restrict = readPSSParams(parseDer(p));
            if (restrict.hash !== algorithm.hash || algorithm.saltLength < restrict.saltLength)
              return fail('mismatch', 'the RSA-PSS signature parameters violate the key restrictions');
          }
          keyBytes = asRSAEncryption(spki);
        } catch {
          return fail('malformed', 'the RSA-PSS key parameters are malformed');
        }
      }
      importAlg = { name: 'RSA-PSS', hash: algorithm.hash };
      verifyAlg = { name: 'RSA-PSS', saltLength: algorithm.saltLength };
      break;
    }
    case 'ec': {
      if (key.type !== 'ec')
        return fail('mismatch', `an ECDSA signature needs an EC key, not ${key.algorithm}`);
      if (algorithm.params !== undefined) return fail('mismatch', `${algorithm.name} takes no parameters`);
      if (!CURVES.has(key.curve ?? '')) return fail('unsupported', `the curve ${key.curve} is not supported`);
      if (!SUPPORTED_HASHES.has(algorithm.hash ?? ''))
        return fail('unsupported', `the hash of ${algorithm.name} is not supported`);
      sig = ecdsaDERToRaw(signature, Math.ceil(key.bits! / 8));
      if (sig === undefined)
        return fail('malformed', 'the ECDSA signature is not a valid DER Ecdsa-Sig-Value');
      importAlg = { name: 'ECDSA', namedCurve: key.curve! };
      verifyAlg = { name: 'ECDSA', hash: algorithm.hash! };
      break;
    }
    default:
      if (key.type !== 'ed25519')
        return fail('mismatch', `an Ed25519 signature needs an Ed25519 key, not ${key.algorithm}`);
      if (algorithm.params !== undefined) return fail('mismatch', 'Ed25519 takes no parameters');
      importAlg = { name: 'Ed25519' };
      verifyAlg = { name: 'Ed25519' };
  }
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await subtle.importKey('spki', toArrayBuffer(keyBytes), importAlg, false, ['verify']);
  } catch (e) {
    return fail('malformed', `the public key cannot be imported (${e instanceof Error ? e.name : 'error'})`);
  }
  let ok: boolean;
  try {
    ok = await subtle.verify(verifyAlg, cryptoKey, toArrayBuffer(sig), toArrayBuffer(data));
  } catch (e) {
    return fail('malformed', `the signature cannot be checked (${e instanceof Error ? e.name : 'error'})`);
  }
  return ok ? { valid: true } : fail('invalid', 'the signature does not verify');
}
