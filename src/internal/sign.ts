/**
 * Signing the `SIGNED{...}` structures of X.509 (certificates, CSRs) with WebCrypto. Internal: shared by
 * createCSR and the certificate issuers. (Verification lives in ./signature.ts.)
 *
 * WebCrypto signs ECDSA as the raw concatenation r||s (IEEE P1363); X.509 wants
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279), so signatures are converted here
 * in both directions.
 */
import type { CryptoOptions, PrivateKey } from '../keys.js';
import { subtleOf } from '../keys.js';
import { toArrayBuffer } from './bytes.js';
import {
  DerReader,
  encodeBitString,
  encodeInteger,
  encodeNull,
  encodeOID,
  encodeSequence,
  parseDer,
  Tag,
  valueBytes,
} from './der.js';

/** DER AlgorithmIdentifier of a signature OID: NULL parameters for RSA (as OpenSSL writes), none else. */
export function encodeSignatureAlgorithm(oid: string): Uint8Array {
  return oid.startsWith('1.2.840.113549.1.1.')
    ? encodeSequence(encodeOID(oid), encodeNull())
    : encodeSequence(encodeOID(oid));
}

/** The signature AlgorithmIdentifier `key` signs with (for the TBS `signature` field). */
export function signatureAlgorithmOf(key: PrivateKey): Uint8Array {
  return encodeSignatureAlgorithm(key.signingAlgorithm().oid);
}

/** Converts a raw r||s ECDSA signature to DER Ecdsa-Sig-Value. */
export function ecdsaRawToDER(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new TypeError('raw ECDSA signature must be r||s');
  const n = raw.length / 2;
  return encodeSequence(encodeInteger(raw.subarray(0, n)), encodeInteger(raw.subarray(n)));
}

/**
 * Converts a DER Ecdsa-Sig-Value to raw r||s of `size` bytes each (what WebCrypto verifies); undefined when
 * malformed (non-minimal or negative integers, trailing data) or when r or s does not fit.
 */
export function ecdsaDERToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const r = new DerReader(der, parseDer(der).valueStart);
    if (der[0] !== Tag.SEQUENCE) return undefined;
    const out = new Uint8Array(size * 2);
    for (let i = 0; i < 2; i++) {
      const node = r.expect(Tag.INTEGER, i === 0 ? 'r' : 's');
      let v = valueBytes(node);
      if (v.length === 0 || v[0]! & 0x80) return undefined;
      if (v.length > 1 && v[0] === 0) {
        if (!(v[1]! & 0x80)) return undefined;
        v = v.subarray(1);
      }
      if (v.length > size) return undefined;
      out.set(v, i * size + size - v.length);
    }
    r.done('ECDSA signature');
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Signs `tbs` with `key` and returns the outer `SIGNED` structure:
 * `SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }`.
 */
export async function signStructure(
  tbs: Uint8Array,
  key: PrivateKey,
  options: CryptoOptions,
): Promise<Uint8Array> {
  const alg = key.signingAlgorithm();
  const subtle = subtleOf(options);
  const cryptoKey = await key.importSigningKey(options);
  const params = alg.hash === undefined ? { name: alg.name } : { name: alg.name, hash: alg.hash };
  let sig: Uint8Array = new Uint8Array(await subtle.sign(params, cryptoKey, toArrayBuffer(tbs)));
  if (alg.name === 'ECDSA') sig = ecdsaRawToDER(sig);
  return encodeSequence(tbs, encodeSignatureAlgorithm(alg.oid), encodeBitString(sig));
}
