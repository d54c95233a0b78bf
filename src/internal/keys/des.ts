/**
 * DES and Triple-DES (EDE, three keys) in CBC mode with PKCS#7 padding, in pure TypeScript: WebCrypto has no
 * DES, yet old encrypted keys (`openssl rsa -des3`, `openssl pkcs8 -v1 PBE-SHA1-3DES`) and PKCS#12 files use
 * it. Internal. Used for decryption of legacy data and for writing 3DES PKCS#12 files that old Windows reads.
 *
 * Not constant-time (table look-ups), which is acceptable for decrypting files at rest with a pass phrase.
 */

// Standard tables (FIPS 46-3), 1-based bit numbers, bit 1 = most significant.
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40,
  32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5,
  63, 55, 47, 39, 31, 23, 15, 7,
];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3,
    8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6,
    13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11,
    5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5,
    14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15,
    1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2,
    12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14,
    9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2,
    14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8,
    6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4,
    5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3,
    8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8,
    13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8,
    6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3,
    12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9,
    2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6,
    11,
  ],
];

/** Bit `n` (1-based, MSB first) of a 64-bit value held as two 32-bit halves. */
function bit64(hi: number, lo: number, n: number): number {
  return n <= 32 ? (hi >>> (32 - n)) & 1 : (lo >>> (64 - n)) & 1;
}

/** Applies a 64->64 permutation table to (hi, lo). */
function permute64(hi: number, lo: number, table: readonly number[]): [number, number] {
  let h = 0;
  let l = 0;
  for (let i = 0; i < 32; i++) h = (h << 1) | bit64(hi, lo, table[i]!);
  for (let i = 32; i < 64; i++) l = (l << 1) | bit64(hi, lo, table[i]!);
  return [h >>> 0, l >>> 0];
}

const FP: number[] = new Array(64);
for (let i = 0; i < 64; i++) FP[IP[i]! - 1] = i + 1;

/**
 * SP[i][v]: the P-permuted output of S-box i for the 6-bit input v, placed at its nibble. Built on first use
 * (tens of thousands of steps): only legacy encrypted keys need DES, and loading this module must stay cheap.
 */
let spTables: Uint32Array[] | undefined;
function spTable(): Uint32Array[] {
  spTables ??= S.map((box, i) => {
    const t = new Uint32Array(64);
    for (let v = 0; v < 64; v++) {
      const row = ((v & 0x20) >> 4) | (v & 1);
      const col = (v >> 1) & 0xf;
      const out = box[row * 16 + col]! << (28 - 4 * i);
      let p = 0;
      for (let j = 0; j < 32; j++) p = (p << 1) | ((out >>> (32 - P[j]!)) & 1);
      t[v] = p >>> 0;
    }
    return t;
  });
  return spTables;
}

/** 16 round keys of 8 six-bit groups each. */
export type DESKeySchedule = Uint8Array;

/** Expands an 8-byte DES key (parity bits ignored) into its 16 round keys. */
export function desKeySchedule(key: Uint8Array): DESKeySchedule {
  if (key.length !== 8) throw new RangeError('a DES key has 8 bytes');
  const hi = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
  const lo = ((key[4]! << 24) | (key[5]! << 16) | (key[6]! << 8) | key[7]!) >>> 0;
  const bits = new Uint8Array(56);
  for (let i = 0; i < 56; i++) bits[i] = bit64(hi, lo, PC1[i]!);
  const out = new Uint8Array(16 * 8);
  let c = bits.slice(0, 28);
  let d = bits.slice(28);
  for (let round = 0; round < 16; round++) {
    const s = SHIFTS[round]!;
    c = Uint8Array.from([...c.subarray(s), ...c.subarray(0, s)]);
    d = Uint8Array.from([...d.subarray(s), ...d.subarray(0, s)]);
    for (let g = 0; g < 8; g++) {
      let v = 0;
      for (let j = 0; j < 6; j++) {
        const n = PC2[g * 6 + j]!;
        v = (v << 1) | (n <= 28 ? c[n - 1]! : d[n - 29]!);
      }
      out[round * 8 + g] = v;
    }
  }
  return out;
}

function rotl(x: number, n: number): number {
  return n === 0 ? x >>> 0 : ((x << n) | (x >>> (32 - n))) >>> 0;
}

function feistel(r: number, ks: DESKeySchedule, round: number, sp: readonly Uint32Array[]): number {
  let f = 0;
  for (let g = 0; g < 8; g++) {
    const six = rotl(r, (4 * g + 31) % 32) >>> 26;
    f ^= sp[g]![six ^ ks[round * 8 + g]!]!;
  }
  return f >>> 0;
}

/** Encrypts (or, with `decrypt`, decrypts) one block given as two 32-bit halves. */
function desBlock(hi: number, lo: number, ks: DESKeySchedule, decrypt: boolean): [number, number] {
  const sp = spTable();
  let [l, r] = permute64(hi, lo, IP);
  for (let i = 0; i < 16; i++) {
    const round = decrypt ? 15 - i : i;
    const t = r;
    r = (l ^ feistel(r, ks, round, sp)) >>> 0;
    l = t;
  }
  return permute64(r, l, FP);
}

/** Block cipher: DES (one schedule) or 3DES EDE (three schedules). */
type BlockCipher = (hi: number, lo: number, decrypt: boolean) => [number, number];

function cipherFor(key: Uint8Array): BlockCipher {
  if (key.length === 8) {
    const k = desKeySchedule(key);
    return (hi, lo, decrypt) => desBlock(hi, lo, k, decrypt);
  }
  if (key.length !== 24) throw new RangeError('a DES key has 8 bytes, a 3DES key 24');
  const k1 = desKeySchedule(key.subarray(0, 8));
  const k2 = desKeySchedule(key.subarray(8, 16));
  const k3 = desKeySchedule(key.subarray(16, 24));
  return (hi, lo, decrypt) => {
    if (!decrypt) {
      const a = desBlock(hi, lo, k1, false);
      const b = desBlock(a[0], a[1], k2, true);
      return desBlock(b[0], b[1], k3, false);
    }
    const a = desBlock(hi, lo, k3, true);
    const b = desBlock(a[0], a[1], k2, false);
    return desBlock(b[0], b[1], k1, true);
  };
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/**
 * CBC encryption with PKCS#7 padding. `key` has 8 bytes (DES) or 24 bytes (3DES EDE, K1||K2||K3); `iv` 8.
 */
export function desCBCEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (iv.length !== 8) throw new RangeError('the DES IV has 8 bytes');
  const cipher = cipherFor(key);
  const pad = 8 - (plaintext.length % 8);
  const out = new Uint8Array(plaintext.length + pad);
  out.set(plaintext);
  out.fill(pad, plaintext.length);
  let ph = readU32(iv, 0);
  let pl = readU32(iv, 4);
  for (let o = 0; o < out.length; o += 8) {
    const [h, l] = cipher((readU32(out, o) ^ ph) >>> 0, (readU32(out, o + 4) ^ pl) >>> 0, false);
    writeU32(out, o, h);
    writeU32(out, o + 4, l);
    ph = h;
    pl = l;
  }
  return out;
}

/**
 * CBC decryption and PKCS#7 unpadding. Returns `undefined` when the padding is wrong (the usual sign of a
 * wrong pass phrase); throws RangeError when the ciphertext is not a positive multiple of 8 bytes.
 */
export function desCBCDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  if (iv.length !== 8) throw new RangeError('the DES IV has 8 bytes');
  if (ciphertext.length === 0 || ciphertext.length % 8 !== 0)
    throw new RangeError('DES-CBC ciphertext must be a positive multiple of 8 bytes');
  const cipher = cipherFor(key);
  const out = new Uint8Array(ciphertext.length);
  let ph = readU32(iv, 0);
  let pl = readU32(iv, 4);
  for (let o = 0; o < ciphertext.length; o += 8) {
    const ch = readU32(ciphertext, o);
    const cl = readU32(ciphertext, o + 4);
    const [h, l] = cipher(ch, cl, true);
    writeU32(out, o, (h ^ ph) >>> 0);
    writeU32(out, o + 4, (l ^ pl) >>> 0);
    ph = ch;
    pl = cl;
  }
  const pad = out[out.length - 1]!;
  let ok = pad >= 1 && pad <= 8;
  for (let i = 1; ok && i <= pad; i++) if (out[out.length - i] !== pad) ok = false;
  if (!ok) {
    out.fill(0);
    return undefined;
  }
  const plain = out.slice(0, out.length - pad);
  out.fill(0);
  return plain;
}
