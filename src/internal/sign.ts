/**
 * Signing and verifying the `SIGNED{...}` structures of X.509 (certificates, CSRs) with WebCrypto. Internal:
 * shared by createCSR and the certificate issuers.
 *
 * WebCrypto signs ECDSA as the raw concatenation r||s (IEEE P1363); X.509 wants
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279), so both directions are converted here.
 */
import { CSRError } from '../errors.js';
import type { CryptoOptions, PrivateKey, PublicKey } from '../keys.js';
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

const RSA_SHA256 = '1.2.840.113549.1.1.11';

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
 * Converts a DER Ecdsa-Sig-Value to raw r||s of `size` bytes each; undefined when malformed or when r or s
 * does not fit (such a signature cannot be valid).
 */
export function ecdsaDERToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const r = new DerReader(der, parseDer(der).valueStart);
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

const VERIFY: Readonly<Record<string, { name: string; hash?: 'SHA-256' | 'SHA-384' | 'SHA-512' }>> = {
  [RSA_SHA256]: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA', hash: 'SHA-512' },
  '1.3.101.112': { name: 'Ed25519' },
};

const CURVE_SIZE: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/**
 * Verifies the self-signature of a CSR. Throws CSRError ERR_CSR_SIGNATURE when the algorithm is not one
 * mailtls accepts (SHA-1, MD5, RSA-PSS, DSA...), does not fit the key, or the signature is wrong.
 */
export async function verifyCSRSignature(
  publicKey: PublicKey,
  algorithmOID: string,
  algorithmParams: Uint8Array | undefined,
  tbs: Uint8Array,
  signature: Uint8Array,
  options: CryptoOptions,
): Promise<void> {
  const alg = VERIFY[algorithmOID];
  const fail = (message: string): never => {
    throw new CSRError('ERR_CSR_SIGNATURE', message, { details: { algorithm: algorithmOID } });
  };
  if (alg === undefined)
    fail(
      `the CSR is signed with an algorithm mailtls does not accept (OID ${algorithmOID}); create it again ` +
        'with SHA-256 (e.g. openssl req -new -sha256) or with ECDSA/Ed25519',
    );
  const keyFamily = alg!.name === 'RSASSA-PKCS1-v1_5' ? 'rsa' : alg!.name === 'ECDSA' ? 'ec' : 'ed25519';
  if (publicKey.type !== keyFamily || (publicKey.type === 'rsa' && publicKey.note !== undefined))
    fail(`the CSR's signature algorithm does not fit its ${publicKey.describe()} key; the CSR is malformed`);
  const paramsOK =
    keyFamily === 'rsa'
      ? algorithmParams === undefined || (algorithmParams.length === 2 && algorithmParams[0] === Tag.NULL)
      : algorithmParams === undefined;
  if (!paramsOK) fail('the CSR signature algorithm has unexpected parameters; the CSR is malformed');
  let sig: Uint8Array | undefined = signature;
  if (keyFamily === 'ec') sig = ecdsaDERToRaw(signature, CURVE_SIZE[publicKey.curve!]!);
  if (sig === undefined) return fail('the CSR signature is malformed; create the CSR again');
  const subtle = subtleOf(options);
  const cryptoKey = await publicKey.importCryptoKey(
    keyFamily === 'rsa' && alg!.hash !== undefined ? { ...options, hash: alg!.hash } : options,
  );
  const params = alg!.hash === undefined ? { name: alg!.name } : { name: alg!.name, hash: alg!.hash };
  const ok = await subtle.verify(params, cryptoKey, toArrayBuffer(sig), toArrayBuffer(tbs));
  if (!ok)
    fail(
      'the CSR signature does not verify: the request was altered or signed with another key; create the ' +
        'CSR again from the server key',
    );
}
