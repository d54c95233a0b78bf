/**
 * Password-based encryption of private keys:
 *
 * - PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958) with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA1/256/384/512 and
 *   AES-128/192/256-CBC or DES-EDE3-CBC; and PBES1 `pbeWithSHAAnd3-KeyTripleDES-CBC` with the PKCS#12 KDF
 *   (what `openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES` writes).
 * - Legacy OpenSSL PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`), key from EVP_BytesToKey with MD5,
 *   AES-128/192/256-CBC or DES-EDE3-CBC.
 *
 * A wrong pass phrase is detected by the CBC padding check and then by DER-parsing the plaintext, and is
 * always `ERR_KEY_PASSPHRASE`. RC2, RC4, single DES and scrypt are `ERR_KEY_UNSUPPORTED` with the OpenSSL
 * command that re-encrypts the key. KDF work is bounded ({@link MAX_PBKDF2_ITERATIONS},
 * {@link MAX_PKCS12_KDF_ITERATIONS}) so that a hostile file cannot stall the process.
 *
 * @module internal/keys/key-encryption
 */
import { md5 } from '@noble/hashes/legacy';
import { concatBytes, copyBytes, fromHex, toArrayBuffer, toHex } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeOID,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDer,
  rawOf,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { DERError, KeyError } from '../errors.js';
import { MAX_PKCS12_KDF_ITERATIONS, pkcs12KDF, pkcs12PasswordBytes } from '../pkcs12/kdf.js';
import { type CryptoOptions, subtleOf } from './crypto.js';
import { desCBCDecrypt } from './des.js';
import { invalidKey, unsignedMagnitude, withDER } from './key-der.js';
import { PBE_NAMES, PBEOID } from './key-oids.js';

/** Largest PKCS#12 KDF iteration count accepted when reading (the KDF is synchronous JS). */
export { MAX_PKCS12_KDF_ITERATIONS };

/**
 * PBKDF2 iterations used when mailtls encrypts a PKCS#8 key: 600,000 rounds of HMAC-SHA256, OWASP's 2023
 * recommendation for PBKDF2-HMAC-SHA256. Decrypting costs about 0.3 s in `openssl pkey` and about 0.2 s in
 * Node (off the event loop), a one-off price for a key file that is only decrypted when it is installed;
 * it multiplies the cost of guessing a pass phrase by 300 over OpenSSL's default of 2048.
 * @example `await encodePrivateKeyPEM(key, { passphrase, iterations: DEFAULT_PBKDF2_ITERATIONS * 2 })`
 */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

/**
 * Largest PBKDF2 iteration count accepted when reading (about 3.5 s of HMAC-SHA256, off the event loop).
 * Higher counts are `ERR_KEY_UNSUPPORTED`: they only appear in hostile or damaged files.
 * @example `if (iterations > MAX_PBKDF2_ITERATIONS) throw new RangeError('too many')`
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

/** Longest salt accepted (bytes). */
const MAX_SALT = 1024;

const ENCRYPTED_MESSAGE =
  'The private key is encrypted with a pass phrase. A mail server cannot start unattended with an encrypted key: ' +
  'remove the pass phrase once with `openssl pkey -in enc.key -out plain.key` and keep plain.key readable only by ' +
  'the server (chmod 600), or pass { passphrase } to decrypt it.';

const WRONG_PASSPHRASE = 'The pass phrase is wrong (or the encrypted key is damaged).';

const LEGACY_PROVIDER = '-provider legacy -provider default';

function unsupportedCipher(name: string, pkcs8: boolean): never {
  const fix = pkcs8
    ? `re-encrypt it with AES: \`openssl pkcs8 ${LEGACY_PROVIDER} -topk8 -v2 aes-256-cbc -in old.key -out new.key\``
    : `re-encrypt it with AES: \`openssl pkey ${LEGACY_PROVIDER} -aes-256-cbc -in old.key -out new.key\``;
  throw new KeyError(
    'ERR_KEY_UNSUPPORTED',
    `The key is encrypted with ${name}, which mailtls does not support: ${fix}, or remove the pass phrase with \`openssl pkey ${LEGACY_PROVIDER} -in old.key -out plain.key\`.`,
    { details: { encryption: name } },
  );
}

/** @internal Pass phrase bytes: a string as UTF-8, bytes copied. */
export function passphraseBytes(p: string | Uint8Array): Uint8Array {
  return typeof p === 'string' ? new TextEncoder().encode(p) : copyBytes(p);
}

function headerOf(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name.toLowerCase()) return v;
  return undefined;
}

/** @internal Whether PEM headers announce legacy encryption (`Proc-Type: 4,ENCRYPTED`). */
export function isLegacyEncrypted(headers: Readonly<Record<string, string>>): boolean {
  const p = headerOf(headers, 'Proc-Type');
  return p !== undefined && /^4\s*,\s*ENCRYPTED$/i.test(p.trim());
}

// ---- PBE algorithm identifiers ----

/**
 * A password-based encryption scheme read from an AlgorithmIdentifier by {@link parsePBEAlgorithm}.
 * @example `if (scheme.kind === 'pbes2') console.log(scheme.hash, scheme.cipher, scheme.iterations)`
 */
export type PBEScheme =
  | {
      readonly kind: 'pbes2';
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
      readonly cipher: 'AES-CBC' | 'DES-EDE3-CBC';
      readonly keyLength: number;
      readonly iv: Uint8Array;
    }
  | { readonly kind: 'pkcs12-3des'; readonly salt: Uint8Array; readonly iterations: number };

const PRF: Record<string, 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  [PBEOID.hmacWithSHA1]: 'SHA-1',
  [PBEOID.hmacWithSHA256]: 'SHA-256',
  [PBEOID.hmacWithSHA384]: 'SHA-384',
  [PBEOID.hmacWithSHA512]: 'SHA-512',
};

const AES_KEY_LENGTH: Record<string, number> = {
  [PBEOID.aes128CBC]: 16,
  [PBEOID.aes192CBC]: 24,
  [PBEOID.aes256CBC]: 32,
};

function algorithmParts(node: DerNode, what: string): { oid: string; params?: DerNode } {
  if (node.tag !== Tag.SEQUENCE) invalidKey(what, 'the algorithm identifier is not a SEQUENCE');
  const r = DerReader.of(node);
  const oid = decodeOID(r.expect(Tag.OID, 'algorithm'));
  const params = r.atEnd ? undefined : r.next('parameters');
  r.done('AlgorithmIdentifier');
  return params === undefined ? { oid } : { oid, params };
}

function smallInt(node: DerNode, what: string, field: string, max: number, tooBig: () => never): number {
  const mag = unsignedMagnitude(node, what, field);
  if (mag.length > 6) return tooBig();
  let n = 0;
  for (const b of mag) n = n * 256 + b;
  if (n > max) return tooBig();
  return n;
}

function iterationsTooHigh(max: number): never {
  throw new KeyError(
    'ERR_KEY_UNSUPPORTED',
    `The key's iteration count is above ${max.toLocaleString('en-US')}, the most mailtls accepts; re-encrypt it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.key -out new.key\`.`,
    { details: { maxIterations: max } },
  );
}

function readSalt(node: DerNode, what: string): Uint8Array {
  if (node.tag !== Tag.OCTET_STRING) {
    if (node.tag === Tag.SEQUENCE)
      throw new KeyError(
        'ERR_KEY_UNSUPPORTED',
        'PBKDF2 with a salt source other than a byte string is not supported.',
      );
    invalidKey(what, 'the salt is not an OCTET STRING');
  }
  const salt = valueBytes(node);
  if (salt.length > MAX_SALT) invalidKey(what, `the salt is longer than ${MAX_SALT} bytes`);
  return salt;
}

/**
 * Reads a PBE AlgorithmIdentifier (PBES2 or PKCS#12 3DES) as used in EncryptedPrivateKeyInfo and PKCS#12.
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED (RC2, RC4, single DES, scrypt, iteration counts
 * above {@link MAX_PBKDF2_ITERATIONS} / {@link MAX_PKCS12_KDF_ITERATIONS}; with the OpenSSL command to
 * re-encrypt)
 * @example `const scheme = parsePBEAlgorithm(algorithmIdentifierDer); // { kind: 'pbes2', hash: 'SHA-256', ... }`
 */
export function parsePBEAlgorithm(
  algorithm: Uint8Array | DerNode,
  what = 'encrypted private key',
): PBEScheme {
  return withDER(what, () => {
    const node = algorithm instanceof Uint8Array ? parseDer(algorithm) : algorithm;
    const alg = algorithmParts(node, what);
    if (alg.oid === PBEOID.pbeWithSHAAnd3KeyTripleDESCBC) {
      if (alg.params === undefined || alg.params.tag !== Tag.SEQUENCE)
        invalidKey(what, 'the PKCS#12 PBE parameters are missing');
      const r = DerReader.of(alg.params);
      const salt = readSalt(r.next('salt'), what);
      const iterations = smallInt(
        r.next('iterations'),
        what,
        'the iteration count',
        MAX_PKCS12_KDF_ITERATIONS,
        () => iterationsTooHigh(MAX_PKCS12_KDF_ITERATIONS),
      );
      r.done('PKCS#12 PBE parameters');
      if (iterations < 1) invalidKey(what, 'the iteration count is zero');
      return { kind: 'pkcs12-3des', salt, iterations };
    }
    if (alg.oid !== PBEOID.pbes2) {
      const name = PBE_NAMES[alg.oid];
      return unsupportedCipher(name ?? `the unknown scheme ${alg.oid}`, true);
    }
    if (alg.params === undefined || alg.params.tag !== Tag.SEQUENCE)
      invalidKey(what, 'the PBES2 parameters are missing');
    const r = DerReader.of(alg.params);
    const kdf = algorithmParts(r.expect(Tag.SEQUENCE, 'keyDerivationFunc'), what);
    const enc = algorithmParts(r.expect(Tag.SEQUENCE, 'encryptionScheme'), what);
    r.done('PBES2 parameters');
    if (kdf.oid === PBEOID.scrypt) return unsupportedCipher('scrypt', true);
    if (kdf.oid !== PBEOID.pbkdf2) return unsupportedCipher(`the key derivation function ${kdf.oid}`, true);
    if (kdf.params === undefined || kdf.params.tag !== Tag.SEQUENCE)
      invalidKey(what, 'the PBKDF2 parameters are missing');
    const k = DerReader.of(kdf.params);
    const salt = readSalt(k.next('salt'), what);
    const iterations = smallInt(
      k.expect(Tag.INTEGER, 'iterationCount'),
      what,
      'the iteration count',
      MAX_PBKDF2_ITERATIONS,
      () => iterationsTooHigh(MAX_PBKDF2_ITERATIONS),
    );
    if (iterations < 1) invalidKey(what, 'the iteration count is zero');
    const kl = k.optional(Tag.INTEGER);
    const keyLength =
      kl === undefined
        ? undefined
        : smallInt(kl, what, 'the key length', 64, () => invalidKey(what, 'the key length is out of range'));
    let hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' = 'SHA-1';
    const prfNode = k.optional(Tag.SEQUENCE);
    k.done('PBKDF2 parameters');
    if (prfNode !== undefined) {
      const prf = algorithmParts(prfNode, what);
      if (prf.params !== undefined && prf.params.tag !== Tag.NULL)
        invalidKey(what, 'the PRF parameters must be NULL');
      const h = PRF[prf.oid];
      if (h === undefined)
        return unsupportedCipher(PBE_NAMES[prf.oid] ?? `PBKDF2 with the PRF ${prf.oid}`, true);
      hash = h;
    }
    let cipher: 'AES-CBC' | 'DES-EDE3-CBC';
    let cipherKeyLength: number;
    let ivLength: number;
    const aes = AES_KEY_LENGTH[enc.oid];
    if (aes !== undefined) {
      cipher = 'AES-CBC';
      cipherKeyLength = aes;
      ivLength = 16;
    } else if (enc.oid === PBEOID.desEDE3CBC) {
      cipher = 'DES-EDE3-CBC';
      cipherKeyLength = 24;
      ivLength = 8;
    } else return unsupportedCipher(PBE_NAMES[enc.oid] ?? `the cipher ${enc.oid}`, true);
    if (enc.params === undefined || enc.params.tag !== Tag.OCTET_STRING)
      invalidKey(what, 'the cipher IV is missing');
    const iv = valueBytes(enc.params);
    if (iv.length !== ivLength) invalidKey(what, `the IV has ${iv.length} bytes, expected ${ivLength}`);
    if (keyLength !== undefined && keyLength !== cipherKeyLength)
      invalidKey(what, `the PBKDF2 key length ${keyLength} does not fit the cipher`);
    return { kind: 'pbes2', salt, iterations, hash, cipher, keyLength: cipherKeyLength, iv };
  });
}

async function pbkdf2(
  subtle: SubtleCrypto,
  passphrase: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  hash: string,
  length: number,
): Promise<Uint8Array> {
  const base = await subtle.importKey('raw', toArrayBuffer(passphrase), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(
    await subtle.deriveBits(
      { name: 'PBKDF2', salt: toArrayBuffer(salt), iterations, hash },
      base,
      length * 8,
    ),
  );
}

async function aesCBC(
  subtle: SubtleCrypto,
  mode: 'encrypt' | 'decrypt',
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array | undefined> {
  const k = await subtle.importKey('raw', toArrayBuffer(key), 'AES-CBC', false, [mode]);
  try {
    const alg = { name: 'AES-CBC', iv: toArrayBuffer(iv) };
    const out =
      mode === 'encrypt'
        ? await subtle.encrypt(alg, k, toArrayBuffer(data))
        : await subtle.decrypt(alg, k, toArrayBuffer(data));
    return new Uint8Array(out);
  } catch (e) {
    if (mode === 'decrypt') return undefined; // bad padding: wrong pass phrase
    throw e;
  }
}

function utf8ToString(b: Uint8Array): string {
  return new TextDecoder('utf-8').decode(b);
}

/**
 * Decrypts data encrypted with a PBE scheme (see {@link parsePBEAlgorithm}). Returns `undefined` when the
 * padding is wrong (a wrong pass phrase); the caller checks the plaintext structure.
 * @internal Shared with the PKCS#12 module.
 * @throws KeyError ERR_KEY_INVALID (ciphertext length), ERR_KEY_UNSUPPORTED
 * @example `const plain = await decryptPBE(parsePBEAlgorithm(alg), data, utf8(password)); if (!plain) wrong();`
 */
export async function decryptPBE(
  scheme: PBEScheme,
  ciphertext: Uint8Array,
  passphrase: Uint8Array,
  options: CryptoOptions = {},
  what = 'encrypted private key',
): Promise<Uint8Array | undefined> {
  const block = scheme.kind === 'pbes2' && scheme.cipher === 'AES-CBC' ? 16 : 8;
  if (ciphertext.length === 0 || ciphertext.length % block !== 0)
    invalidKey(
      what,
      `the encrypted data (${ciphertext.length} bytes) is not a whole number of ${block}-byte blocks`,
    );
  if (scheme.kind === 'pkcs12-3des') {
    const pw = pkcs12PasswordBytes(utf8ToString(passphrase));
    const key = pkcs12KDF('SHA-1', pw, scheme.salt, scheme.iterations, 1, 24);
    const iv = pkcs12KDF('SHA-1', pw, scheme.salt, scheme.iterations, 2, 8);
    pw.fill(0);
    try {
      return desCBCDecrypt(key, iv, ciphertext);
    } finally {
      key.fill(0);
    }
  }
  const subtle = subtleOf(options);
  const key = await pbkdf2(subtle, passphrase, scheme.salt, scheme.iterations, scheme.hash, scheme.keyLength);
  try {
    if (scheme.cipher === 'DES-EDE3-CBC') return desCBCDecrypt(key, scheme.iv, ciphertext);
    return await aesCBC(subtle, 'decrypt', key, scheme.iv, ciphertext);
  } finally {
    key.fill(0);
  }
}

/**
 * Encrypts with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC, 16-byte random salt and IV). Returns the DER
 * AlgorithmIdentifier and the ciphertext.
 * @internal Shared with the PKCS#12 module.
 * @throws RangeError for a bad iteration count
 * @example `const { algorithm, ciphertext } = await encryptPBES2(der, utf8(password), { iterations: 2048 });`
 */
export async function encryptPBES2(
  plaintext: Uint8Array,
  passphrase: Uint8Array,
  options: CryptoOptions & { iterations?: number } = {},
): Promise<{ algorithm: Uint8Array; ciphertext: Uint8Array }> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS)
    throw new RangeError(`iterations must be an integer from 1 to ${MAX_PBKDF2_ITERATIONS}`);
  const subtle = subtleOf(options);
  const rng = options.crypto ?? globalThis.crypto;
  const salt = rng.getRandomValues(new Uint8Array(16));
  const iv = rng.getRandomValues(new Uint8Array(16));
  const key = await pbkdf2(subtle, passphrase, salt, iterations, 'SHA-256', 32);
  let ciphertext: Uint8Array;
  try {
    ciphertext = (await aesCBC(subtle, 'encrypt', key, iv, plaintext))!;
  } finally {
    key.fill(0);
  }
  const algorithm = encodeSequence(
    encodeOID(PBEOID.pbes2),
    encodeSequence(
      encodeSequence(
        encodeOID(PBEOID.pbkdf2),
        encodeSequence(
          encodeOctetString(salt),
          encodeInteger(iterations),
          encodeSequence(encodeOID(PBEOID.hmacWithSHA256), encodeNull()),
        ),
      ),
      encodeSequence(encodeOID(PBEOID.aes256CBC), encodeOctetString(iv)),
    ),
  );
  return { algorithm, ciphertext };
}

/** Whether decrypted bytes look like the expected key structure (a DER SEQUENCE starting with INTEGER). */
function looksLikeKey(plain: Uint8Array): boolean {
  try {
    const root = parseDer(plain);
    if (root.tag !== Tag.SEQUENCE) return false;
    const first = DerReader.of(root).peek();
    return first !== undefined && first.tag === Tag.INTEGER;
  } catch (e) {
    if (e instanceof DERError) return false;
    throw e;
  }
}

function wrongPassphrase(): never {
  throw new KeyError('ERR_KEY_PASSPHRASE', WRONG_PASSPHRASE, { details: { reason: 'wrong-passphrase' } });
}

function needPassphrase(encryption: string): never {
  throw new KeyError('ERR_KEY_ENCRYPTED', ENCRYPTED_MESSAGE, { details: { encryption } });
}

function describeScheme(s: PBEScheme): string {
  if (s.kind === 'pkcs12-3des') return 'PBES1 pbeWithSHAAnd3-KeyTripleDES-CBC';
  return `PBES2 PBKDF2-HMAC-${s.hash} ${s.cipher === 'AES-CBC' ? `AES-${s.keyLength * 8}-CBC` : 'DES-EDE3-CBC'}`;
}

/**
 * @internal Decrypts a DER EncryptedPrivateKeyInfo to PKCS#8 DER.
 * @throws KeyError ERR_KEY_ENCRYPTED (no pass phrase), ERR_KEY_PASSPHRASE, ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export async function decryptPKCS8(
  der: Uint8Array,
  passphrase: string | Uint8Array | undefined,
  options: CryptoOptions = {},
): Promise<Uint8Array> {
  const what = 'encrypted PKCS#8 private key';
  const { scheme, data } = withDER(what, () => {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'it is not a DER SEQUENCE');
    const r = DerReader.of(root);
    const alg = r.expect(Tag.SEQUENCE, 'encryptionAlgorithm');
    const data = valueBytes(r.expect(Tag.OCTET_STRING, 'encryptedData'));
    r.done('EncryptedPrivateKeyInfo');
    return { scheme: parsePBEAlgorithm(rawOf(alg), what), data };
  });
  if (passphrase === undefined) return needPassphrase(describeScheme(scheme));
  const pass = passphraseBytes(passphrase);
  let plain: Uint8Array | undefined;
  try {
    plain = await decryptPBE(scheme, data, pass, options, what);
  } finally {
    pass.fill(0);
  }
  if (plain === undefined || !looksLikeKey(plain)) {
    plain?.fill(0);
    return wrongPassphrase();
  }
  return plain;
}

/**
 * @internal Encrypts PKCS#8 DER to a DER EncryptedPrivateKeyInfo (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256).
 * @throws RangeError for a bad iteration count
 */
export async function encryptPKCS8(
  pkcs8: Uint8Array,
  passphrase: Uint8Array,
  options: CryptoOptions & { iterations?: number } = {},
): Promise<Uint8Array> {
  try {
    const { algorithm, ciphertext } = await encryptPBES2(pkcs8, passphrase, options);
    return encodeSequence(algorithm, encodeOctetString(ciphertext));
  } finally {
    passphrase.fill(0);
  }
}

// ---- legacy PEM encryption ----

const LEGACY_CIPHERS: Record<
  string,
  { cipher: 'AES-CBC' | 'DES-EDE3-CBC'; keyLength: number; ivLength: number }
> = {
  'AES-128-CBC': { cipher: 'AES-CBC', keyLength: 16, ivLength: 16 },
  'AES-192-CBC': { cipher: 'AES-CBC', keyLength: 24, ivLength: 16 },
  'AES-256-CBC': { cipher: 'AES-CBC', keyLength: 32, ivLength: 16 },
  'DES-EDE3-CBC': { cipher: 'DES-EDE3-CBC', keyLength: 24, ivLength: 8 },
};

/**
 * OpenSSL's EVP_BytesToKey with MD5 and one round: D_i = MD5(D_(i-1) || pass || salt); the key of legacy
 * `Proc-Type: 4,ENCRYPTED` PEM, with the first 8 IV bytes as salt.
 * @example `const key = evpBytesToKey(utf8(pass), iv.subarray(0, 8), 32); // AES-256-CBC`
 */
export function evpBytesToKey(passphrase: Uint8Array, salt: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let prev: Uint8Array = new Uint8Array(0);
  for (let o = 0; o < length; ) {
    const input = concatBytes(prev, passphrase, salt);
    const d = md5(input);
    input.fill(0); // it holds the pass phrase
    out.set(d.subarray(0, Math.min(d.length, length - o)), o);
    o += d.length;
    prev.fill(0);
    prev = d;
  }
  prev.fill(0);
  return out;
}

/**
 * @internal Decrypts the body of a legacy-encrypted PEM block (`Proc-Type: 4,ENCRYPTED`).
 * @throws KeyError ERR_KEY_ENCRYPTED, ERR_KEY_PASSPHRASE, ERR_KEY_INVALID (bad DEK-Info), ERR_KEY_UNSUPPORTED
 */
export async function decryptLegacyPEM(
  bytes: Uint8Array,
  headers: Readonly<Record<string, string>>,
  passphrase: string | Uint8Array | undefined,
  options: CryptoOptions = {},
): Promise<Uint8Array> {
  const what = 'encrypted PEM private key';
  const dek = headerOf(headers, 'DEK-Info');
  if (dek === undefined)
    invalidKey(what, 'the Proc-Type header says ENCRYPTED but there is no DEK-Info header');
  const m = /^\s*([A-Za-z0-9-]+)\s*,\s*((?:[0-9A-Fa-f]{2})+)\s*$/.exec(dek);
  if (m === null) invalidKey(what, 'the DEK-Info header is not "CIPHER,HEXIV"');
  const name = m[1]!.toUpperCase();
  const spec = LEGACY_CIPHERS[name];
  if (spec === undefined) return unsupportedCipher(name === 'DES-CBC' ? 'DES-CBC (single DES)' : name, false);
  const iv = fromHex(m[2]!);
  if (iv.length !== spec.ivLength)
    invalidKey(what, `the DEK-Info IV has ${iv.length} bytes, expected ${spec.ivLength}`);
  const block = spec.cipher === 'AES-CBC' ? 16 : 8;
  if (bytes.length === 0 || bytes.length % block !== 0)
    invalidKey(
      what,
      `the encrypted data (${bytes.length} bytes) is not a whole number of ${block}-byte blocks`,
    );
  if (passphrase === undefined) return needPassphrase(`legacy PEM ${name}`);
  const pass = passphraseBytes(passphrase);
  const key = evpBytesToKey(pass, iv.subarray(0, 8), spec.keyLength);
  pass.fill(0);
  let plain: Uint8Array | undefined;
  try {
    plain =
      spec.cipher === 'AES-CBC'
        ? await aesCBC(subtleOf(options), 'decrypt', key, iv, bytes)
        : desCBCDecrypt(key, iv, bytes);
  } finally {
    key.fill(0);
  }
  if (plain === undefined || !looksLikeKey(plain)) {
    plain?.fill(0);
    return wrongPassphrase();
  }
  return plain;
}

/**
 * @internal Encrypts DER for a legacy PEM block: AES-256-CBC, random IV, EVP_BytesToKey(MD5).
 */
export async function encryptLegacyPEM(
  der: Uint8Array,
  passphrase: Uint8Array,
  options: CryptoOptions = {},
): Promise<{ bytes: Uint8Array; headers: Record<string, string> }> {
  const rng = options.crypto ?? globalThis.crypto;
  const iv = rng.getRandomValues(new Uint8Array(16));
  const key = evpBytesToKey(passphrase, iv.subarray(0, 8), 32);
  passphrase.fill(0);
  try {
    const bytes = (await aesCBC(subtleOf(options), 'encrypt', key, iv, der))!;
    return {
      bytes,
      headers: { 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': `AES-256-CBC,${toHex(iv).toUpperCase()}` },
    };
  } finally {
    key.fill(0);
  }
}
