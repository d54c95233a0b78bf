/**
 * The PKCS#12 key-derivation function (RFC 7292 appendix B.2), used by the PKCS#12 PBE schemes
 * (`pbeWithSHAAnd3-KeyTripleDES-CBC`, ...) in encrypted PKCS#8 keys and in .p12/.pfx files, and by the
 * PKCS#12 MAC. Internal; shared by the key and PKCS#12 modules.
 *
 * Pure JS hashing: callers must bound `iterations` (see {@link MAX_PKCS12_KDF_ITERATIONS}). The synchronous
 * {@link pkcs12KDF} blocks for the whole derivation; {@link pkcs12KDFAsync} yields to the event loop between
 * slices of rounds. SHA-1 and SHA-256 run an allocation-free iteration loop (pkcs12-iterated-hash.ts).
 */

import { blake2b } from '@noble/hashes/blake2b';
import { sha1 } from '@noble/hashes/legacy';
import { sha224, sha256, sha384, sha512, sha512_224, sha512_256 } from '@noble/hashes/sha2';
import type { CHash } from '@noble/hashes/utils';
import { iterateSHA1, iterateSHA256 } from './iterated-hash.js';

/** Hash functions the PKCS#12 KDF runs with. */
export type PKCS12Hash =
  | 'SHA-1'
  | 'SHA-224'
  | 'SHA-256'
  | 'SHA-384'
  | 'SHA-512'
  | 'SHA-512/224'
  | 'SHA-512/256'
  | 'BLAKE2b-512';

/** Purpose byte of the KDF (the RFC's ID): 1 key material, 2 IV, 3 MAC key. */
export const PKCS12KeyID = { key: 1, iv: 2, mac: 3 } as const;

/**
 * Largest iteration count callers should accept for this synchronous KDF. Deriving a 3DES key and IV at
 * 100,000 rounds blocks the event loop for about half a second (about 1.8 us per SHA-1 round on one core).
 * Files in the wild use 1 to 10,000 (OpenSSL and macOS write 2048, Windows 2000, Java 10,000).
 */
export const MAX_PKCS12_KDF_ITERATIONS = 100_000;

/** A synchronous hash function with its block and output sizes (the @noble/hashes shape). */
export interface HashFn {
  (data: Uint8Array): Uint8Array;
  blockLen: number;
  outputLen: number;
}

const HASHES: Record<PKCS12Hash, CHash> = {
  'SHA-1': sha1,
  'SHA-224': sha224,
  'SHA-256': sha256,
  'SHA-384': sha384,
  'SHA-512': sha512,
  'SHA-512/224': sha512_224,
  'SHA-512/256': sha512_256,
  'BLAKE2b-512': blake2b,
};

/**
 * @internal The hash function behind a {@link PKCS12Hash} name: the KDF's, and the PKCS#12 MAC's HMAC.
 * @throws RangeError for an unknown name
 */
export function pkcs12HashFunction(hash: PKCS12Hash): CHash {
  const H = Object.hasOwn(HASHES, hash) ? HASHES[hash] : undefined;
  if (H === undefined) throw new RangeError(`unsupported PKCS#12 KDF hash ${String(hash)}`);
  return H;
}

/**
 * The password encoding the PKCS#12 KDF takes: a BMPString (UTF-16 big-endian) with a two-byte zero
 * terminator, as RFC 7292 B.1 and OpenSSL do. `undefined` (no password at all) gives empty bytes.
 */
export function pkcs12PasswordBytes(password: string | undefined): Uint8Array {
  if (password === undefined) return new Uint8Array(0);
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    out[i * 2] = c >> 8;
    out[i * 2 + 1] = c & 0xff;
  }
  return out;
}

/**
 * Derives `length` bytes with the PKCS#12 KDF.
 *
 * @param password the password already encoded (see {@link pkcs12PasswordBytes})
 * @param id 1 for key material, 2 for an IV, 3 for a MAC key
 * @throws RangeError for a bad id, length or iteration count
 */
export function pkcs12KDF(
  hash: PKCS12Hash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  id: number,
  length: number,
): Uint8Array {
  const steps = deriveSteps(hash, password, salt, iterations, id, length, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link pkcs12KDF} that hands the event loop back (a macrotask) after every `slice` hash rounds, so that a
 * high iteration count (Firefox writes 600,000) delays other work by milliseconds instead of seconds.
 * Same result as the synchronous form.
 * @throws RangeError for a bad id, length or iteration count
 */
export async function pkcs12KDFAsync(
  hash: PKCS12Hash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  id: number,
  length: number,
  slice = 20_000,
): Promise<Uint8Array> {
  if (!Number.isInteger(slice) || slice < 1) throw new RangeError('slice must be a positive integer');
  const steps = deriveSteps(hash, password, salt, iterations, id, length, slice);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

/** Iterated hashing of a digest, with the allocation-free loops for SHA-1 and SHA-256. */
function iterate(hash: PKCS12Hash, H: HashFn, A: Uint8Array, rounds: number): Uint8Array {
  if (rounds <= 0) return A;
  if (hash === 'SHA-1') {
    iterateSHA1(A, rounds);
    return A;
  }
  if (hash === 'SHA-256') {
    iterateSHA256(A, rounds);
    return A;
  }
  let x = A;
  for (let r = 0; r < rounds; r++) x = H(x);
  return x;
}

/** The KDF as steps: yields after every `slice` hash rounds, returns the derived bytes. */
function* deriveSteps(
  hash: PKCS12Hash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  id: number,
  length: number,
  slice: number,
): Generator<void, Uint8Array> {
  const H: HashFn = pkcs12HashFunction(hash);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError('iterations must be a positive integer');
  if (!Number.isInteger(id) || id < 1 || id > 255) throw new RangeError('id must be 1, 2 or 3');
  if (!Number.isInteger(length) || length < 0) throw new RangeError('length must be a non-negative integer');
  const u = H.outputLen;
  const v = H.blockLen;
  const fill = (src: Uint8Array): Uint8Array => {
    if (src.length === 0) return new Uint8Array(0);
    const n = v * Math.ceil(src.length / v);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = new Uint8Array(v).fill(id);
  const S = fill(salt);
  const P = fill(password);
  const I = new Uint8Array(S.length + P.length);
  I.set(S);
  I.set(P, S.length);
  const out = new Uint8Array(length);
  const DI = new Uint8Array(v + I.length);
  const B = new Uint8Array(v);
  try {
    for (let produced = 0; produced < length; ) {
      DI.set(D);
      DI.set(I, v);
      let A = H(DI);
      for (let done = 1; done < iterations; ) {
        const n = Math.min(slice, iterations - done);
        A = iterate(hash, H, A, n);
        done += n;
        if (done < iterations) yield;
      }
      const take = Math.min(u, length - produced);
      out.set(A.subarray(0, take), produced);
      produced += take;
      if (produced >= length) break;
      for (let i = 0; i < v; i++) B[i] = A[i % u]!;
      // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I
      for (let j = 0; j < I.length; j += v) {
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const x = I[j + k]! + B[k]! + carry;
          I[j + k] = x & 0xff;
          carry = x >> 8;
        }
      }
    }
  } finally {
    DI.fill(0);
    I.fill(0);
    P.fill(0);
    B.fill(0);
  }
  return out;
}
