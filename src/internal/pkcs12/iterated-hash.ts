/**
 * Iterated hashing for the PKCS#12 KDF: `H^n(x)` where every round hashes the previous digest. After the
 * first round the input is always one digest long, so each round is a single compression of a block with
 * fixed padding. These loops run that compression on local 32-bit words without allocating, about ten
 * times faster than calling a general-purpose hash per round (which matters at the 600,000 rounds that
 * Firefox/NSS writes). Internal.
 */

const SHA256_K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

function readWords(bytes: Uint8Array, count: number): Int32Array {
  const w = new Int32Array(count);
  for (let i = 0; i < count; i++)
    w[i] = (bytes[i * 4]! << 24) | (bytes[i * 4 + 1]! << 16) | (bytes[i * 4 + 2]! << 8) | bytes[i * 4 + 3]!;
  return w;
}

function writeWords(words: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
}

/** SHA-1 applied `rounds` times to a 20-byte digest, in place. */
export function iterateSHA1(digest: Uint8Array, rounds: number): void {
  if (digest.length !== 20) throw new RangeError('iterateSHA1 needs a 20-byte digest');
  const s = readWords(digest, 5);
  const W = new Int32Array(80);
  let h0 = s[0]!;
  let h1 = s[1]!;
  let h2 = s[2]!;
  let h3 = s[3]!;
  let h4 = s[4]!;
  for (let r = 0; r < rounds; r++) {
    W[0] = h0;
    W[1] = h1;
    W[2] = h2;
    W[3] = h3;
    W[4] = h4;
    W[5] = 0x80000000 | 0;
    W[6] = W[7] = W[8] = W[9] = W[10] = W[11] = W[12] = W[13] = W[14] = 0;
    W[15] = 160;
    for (let t = 16; t < 80; t++) {
      const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
      W[t] = (x << 1) | (x >>> 31);
    }
    let a = 0x67452301 | 0;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476 | 0;
    let e = 0xc3d2e1f0 | 0;
    const a0 = a;
    const b0 = b;
    const c0 = c;
    const d0 = d;
    const e0 = e;
    let t = 0;
    for (; t < 20; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    for (; t < 40; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    for (; t < 60; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e - 0x70e44324 + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    for (; t < 80; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    h0 = (a0 + a) | 0;
    h1 = (b0 + b) | 0;
    h2 = (c0 + c) | 0;
    h3 = (d0 + d) | 0;
    h4 = (e0 + e) | 0;
  }
  s[0] = h0;
  s[1] = h1;
  s[2] = h2;
  s[3] = h3;
  s[4] = h4;
  writeWords(s, digest);
}

const SHA256_IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** SHA-256 applied `rounds` times to a 32-byte digest, in place. */
export function iterateSHA256(digest: Uint8Array, rounds: number): void {
  if (digest.length !== 32) throw new RangeError('iterateSHA256 needs a 32-byte digest');
  const h = readWords(digest, 8);
  const W = new Int32Array(64);
  const K = SHA256_K;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 8; i++) W[i] = h[i]!;
    W[8] = 0x80000000 | 0;
    W[9] = W[10] = W[11] = W[12] = W[13] = W[14] = 0;
    W[15] = 256;
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15]!;
      const y = W[t - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
    }
    let a = SHA256_IV[0]!;
    let b = SHA256_IV[1]!;
    let c = SHA256_IV[2]!;
    let d = SHA256_IV[3]!;
    let e = SHA256_IV[4]!;
    let f = SHA256_IV[5]!;
    let g = SHA256_IV[6]!;
    let hh = SHA256_IV[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t]! + W[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (SHA256_IV[0]! + a) | 0;
    h[1] = (SHA256_IV[1]! + b) | 0;
    h[2] = (SHA256_IV[2]! + c) | 0;
    h[3] = (SHA256_IV[3]! + d) | 0;
    h[4] = (SHA256_IV[4]! + e) | 0;
    h[5] = (SHA256_IV[5]! + f) | 0;
    h[6] = (SHA256_IV[6]! + g) | 0;
    h[7] = (SHA256_IV[7]! + hh) | 0;
  }
  writeWords(h, digest);
}
