/**
 * Signing the `SIGNED{...}` structures of X.509 (certificates, CSRs) with WebCrypto. Internal: shared by
 * createCSR and the certificate issuers. (Verification lives in ./signature.ts.)
 *
 * WebCrypto signs ECDSA as the raw concatenation r||s (IEEE P1363); X.509 wants
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279), so the signature is converted here
 * (./signature.ts converts back for verification).
 */

import { toArrayBuffer } from '../encoding/bytes.js';
import { encodeBitString, encodeInteger, encodeNull, encodeOID, encodeSequence } from '../encoding/der.js';
import { type CryptoOptions, subtleOf } from './crypto.js';
import type { PrivateKey } from './keys.js';

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
