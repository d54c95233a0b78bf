/**
 * The integrity check of a PKCS#12 file, which is also how a wrong password is told apart from a damaged
 * file:
 *
 * - the classic MAC (RFC 7292 appendix B): HMAC over the AuthenticatedSafe with a key from the PKCS#12 KDF
 *   (SHA-1, SHA-2 or BLAKE2b-512, as `openssl pkcs12 -macalg` writes);
 * - PBMAC1 (RFC 9579): HMAC with a key from PBKDF2 over the UTF-8 password. The PBKDF2 key length must be
 *   given (RFC 9579 section 5) and at least 20 bytes: a shorter key can be brute-forced, which lets anyone
 *   forge a file that "verifies" under any password (go-pkcs12 v0.7.2 refuses it for the same reason).
 *
 * Internal.
 */
import { hmac } from '@noble/hashes/hmac';
import { toArrayBuffer } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeOID,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { type CryptoOptions, subtleOf } from '../keys/crypto.js';
import { invalid, type KDFBudget, type Passwords, unsupported, withPath } from './context.js';
import { type PKCS12Hash, pkcs12HashFunction, pkcs12KDFAsync } from './kdf.js';
import { HMAC_ALGORITHMS, MAC_DIGEST_OID, MAC_DIGESTS, PBMAC1_OID, UNSUPPORTED_MAC_DIGESTS } from './oids.js';
import { readCount } from './pbe.js';

/** Smallest PBMAC1 key length accepted (bytes): shorter keys can be brute-forced. */
export const PBMAC1_MIN_KEY_LENGTH = 20;
/** Largest PBMAC1 key length accepted (bytes), as OpenSSL and go-pkcs12 bound it. */
export const PBMAC1_MAX_KEY_LENGTH = 64;

/** A parsed MacData. */
export type MacSpec =
  | {
      readonly kind: 'pkcs12';
      readonly hash: PKCS12Hash;
      /** OpenSSL's digest name (`sha256`). */
      readonly name: string;
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly digest: Uint8Array;
    }
  | {
      readonly kind: 'pbmac1';
      /** `PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA256)`. */
      readonly name: string;
      readonly prf: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
      readonly mac: PKCS12Hash;
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly keyLength: number;
      readonly digest: Uint8Array;
    };

function algorithm(node: DerNode, what: string): { oid: string; params: DerNode | undefined } {
  const r = DerReader.of(node, what);
  const oid = decodeOID(r.expect(Tag.OID, `${what} algorithm`));
  const params = r.atEnd ? undefined : r.next(`${what} parameters`);
  r.done(what);
  return { oid, params };
}

function readPBMAC1(params: DerNode | undefined, digest: Uint8Array, path: string): MacSpec {
  if (params === undefined || params.tag !== Tag.SEQUENCE) invalid(path, 'the PBMAC1 parameters are missing');
  const r = DerReader.of(params);
  const kdf = algorithm(r.expect(Tag.SEQUENCE, 'keyDerivationFunc'), 'keyDerivationFunc');
  const macAlg = algorithm(r.expect(Tag.SEQUENCE, 'messageAuthScheme'), 'messageAuthScheme');
  r.done('PBMAC1 parameters');
  if (kdf.oid !== '1.2.840.113549.1.5.12')
    unsupported(`The file's PBMAC1 integrity check derives its key with ${kdf.oid} instead of PBKDF2`, {
      algorithm: kdf.oid,
    });
  if (kdf.params === undefined || kdf.params.tag !== Tag.SEQUENCE)
    invalid(path, 'the PBKDF2 parameters are missing');
  const k = DerReader.of(kdf.params);
  const saltNode = k.next('salt');
  if (saltNode.tag !== Tag.OCTET_STRING) unsupported('The PBMAC1 salt is not a byte string', {});
  if (saltNode.end - saltNode.valueStart > 1024) invalid(path, 'the PBMAC1 salt is longer than 1024 bytes');
  const iterations = readCount(k.expect(Tag.INTEGER, 'iterationCount'), 'the PBMAC1 iteration count', path);
  const kl = k.optional(Tag.INTEGER);
  const prfNode = k.optional(Tag.SEQUENCE);
  k.done('PBKDF2 parameters');
  let prfName = 'hmacWithSHA1';
  let prf: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' = 'SHA-1';
  if (prfNode !== undefined) {
    const p = algorithm(prfNode, 'prf');
    const h = HMAC_ALGORITHMS[p.oid];
    if (h === undefined || h.hash === 'SHA-224')
      unsupported(`The file's PBMAC1 integrity check uses PBKDF2 with ${h?.name ?? p.oid}`, {
        algorithm: h?.name ?? p.oid,
      });
    prf = h.hash;
    prfName = h.name;
  }
  const mac = HMAC_ALGORITHMS[macAlg.oid];
  if (mac === undefined)
    unsupported(`The file's PBMAC1 integrity check uses the MAC ${macAlg.oid}`, { algorithm: macAlg.oid });
  if (kl === undefined)
    invalid(
      path,
      'the PBMAC1 key derivation has no key length, which RFC 9579 requires (PBMAC1 requires explicit KeyLength)',
    );
  const keyLength = readCount(kl, 'the PBMAC1 key length', path);
  if (keyLength < PBMAC1_MIN_KEY_LENGTH)
    unsupported(
      `The file's PBMAC1 integrity check uses a ${keyLength}-byte key, shorter than ${PBMAC1_MIN_KEY_LENGTH} bytes: ` +
        'such a MAC can be forged without the password, so the file cannot be trusted',
      { keyLength, minKeyLength: PBMAC1_MIN_KEY_LENGTH },
      'export the file again with a current tool (OpenSSL 3.4+: `openssl pkcs12 -export -pbmac1_pbkdf2`, or without PBMAC1).',
    );
  if (keyLength > PBMAC1_MAX_KEY_LENGTH)
    invalid(path, `the PBMAC1 key length ${keyLength} is larger than ${PBMAC1_MAX_KEY_LENGTH} bytes`);
  const outLen = pkcs12HashFunction(mac.hash).outputLen;
  if (digest.length !== outLen)
    invalid(path, `the MAC has ${digest.length} bytes, ${mac.name} gives ${outLen}`);
  return {
    kind: 'pbmac1',
    name: `PBMAC1 (${mac.name}, PBKDF2 ${prfName})`,
    prf,
    mac: mac.hash,
    salt: valueBytes(saltNode),
    iterations,
    keyLength,
    digest,
  };
}

/**
 * Reads a MacData SEQUENCE.
 * @throws PKCS12Error ERR_PKCS12_INVALID, ERR_PKCS12_UNSUPPORTED (unknown digest, short PBMAC1 key)
 */
export function parseMacData(node: DerNode, path: string): MacSpec {
  return withPath(path, () => {
    if (node.tag !== Tag.SEQUENCE) invalid(path, 'macData is not a SEQUENCE');
    const r = DerReader.of(node);
    const di = DerReader.of(r.expect(Tag.SEQUENCE, 'mac (DigestInfo)'));
    const alg = algorithm(di.expect(Tag.SEQUENCE, 'digestAlgorithm'), 'digestAlgorithm');
    const digest = valueBytes(di.expect(Tag.OCTET_STRING, 'digest'));
    di.done('DigestInfo');
    const salt = valueBytes(r.expect(Tag.OCTET_STRING, 'macSalt'));
    const itNode = r.optional(Tag.INTEGER);
    r.done('MacData');
    if (alg.oid === PBMAC1_OID) return readPBMAC1(alg.params, digest, path);
    const iterations = itNode === undefined ? 1 : readCount(itNode, 'the MAC iteration count', path);
    const d = MAC_DIGESTS[alg.oid];
    if (d === undefined) {
      const name = UNSUPPORTED_MAC_DIGESTS[alg.oid] ?? alg.oid;
      return unsupported(`The file's integrity check (MAC) uses the digest ${name}`, { algorithm: name });
    }
    if (alg.params !== undefined && alg.params.tag !== Tag.NULL)
      invalid(path, 'the MAC digest parameters must be NULL or absent');
    const outLen = pkcs12HashFunction(d.hash).outputLen;
    if (digest.length !== outLen)
      invalid(path, `the MAC has ${digest.length} bytes, ${d.name} gives ${outLen}`);
    if (salt.length > 1024) invalid(path, 'the MAC salt is longer than 1024 bytes');
    return { kind: 'pkcs12', hash: d.hash, name: d.name, salt, iterations, digest };
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function classicMac(
  hash: PKCS12Hash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  content: Uint8Array,
): Promise<Uint8Array> {
  const H = pkcs12HashFunction(hash);
  const key = await pkcs12KDFAsync(hash, password, salt, iterations, 3, H.outputLen);
  try {
    return hmac(H, key, content);
  } finally {
    key.fill(0);
  }
}

/**
 * Verifies the MAC over `content` (the AuthenticatedSafe octets). Returns the index into
 * `passwords.pkcs12` of the encoding that verified (0 for PBMAC1), or -1 when none does (a wrong password).
 * @throws PKCS12Error ERR_PKCS12_UNSUPPORTED (iteration limits)
 */
export async function verifyMac(
  spec: MacSpec,
  content: Uint8Array,
  passwords: Passwords,
  budget: KDFBudget,
  options: CryptoOptions,
): Promise<number> {
  if (spec.kind === 'pbmac1') {
    budget.charge(
      spec.iterations,
      spec.iterations * Math.ceil(spec.keyLength / pkcs12HashFunction(spec.prf).outputLen),
      'integrity check (PBMAC1)',
    );
    const subtle = subtleOf(options);
    const base = await subtle.importKey('raw', toArrayBuffer(passwords.utf8), 'PBKDF2', false, [
      'deriveBits',
    ]);
    const key = new Uint8Array(
      await subtle.deriveBits(
        { name: 'PBKDF2', salt: toArrayBuffer(spec.salt), iterations: spec.iterations, hash: spec.prf },
        base,
        spec.keyLength * 8,
      ),
    );
    try {
      return sameBytes(hmac(pkcs12HashFunction(spec.mac), key, content), spec.digest) ? 0 : -1;
    } finally {
      key.fill(0);
    }
  }
  for (let i = 0; i < passwords.pkcs12.length; i++) {
    budget.charge(spec.iterations, spec.iterations, 'integrity check (MAC)');
    const mac = await classicMac(spec.hash, passwords.pkcs12[i]!, spec.salt, spec.iterations, content);
    if (sameBytes(mac, spec.digest)) return i;
  }
  return -1;
}

/**
 * Computes a classic MacData (SHA-256 or SHA-1) over `content` with a random 16-byte salt.
 */
export async function createMacData(
  hash: 'SHA-256' | 'SHA-1',
  content: Uint8Array,
  password: Uint8Array,
  iterations: number,
  options: CryptoOptions,
): Promise<Uint8Array> {
  const rng = options.crypto ?? globalThis.crypto;
  const salt = rng.getRandomValues(new Uint8Array(16));
  const mac = await classicMac(hash, password, salt, iterations, content);
  return encodeSequence(
    encodeSequence(encodeSequence(encodeOID(MAC_DIGEST_OID[hash]!), encodeNull()), encodeOctetString(mac)),
    encodeOctetString(salt),
    encodeInteger(iterations),
  );
}
