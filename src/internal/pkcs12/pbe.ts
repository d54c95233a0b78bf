/**
 * Password-based encryption of PKCS#12 contents (EncryptedData and pkcs8ShroudedKeyBag):
 *
 * - PBES2 (RFC 8018): PBKDF2 with HMAC-SHA1/256/384/512 and AES-128/192/256-CBC or DES-EDE3-CBC, read with
 *   the key module's parser and WebCrypto. What OpenSSL 3, Windows 10 1709+ and Java 18+ write.
 * - PKCS#12 PBE (RFC 7292 appendix C) `pbeWithSHAAnd3-KeyTripleDES-CBC` and the 2-key variant: the PKCS#12
 *   KDF with SHA-1 and 3DES-CBC. What Windows' "TripleDES-SHA1" and OpenSSL before 3.0 write for keys.
 * - RC2 and RC4 (40 and 128 bit) and PKCS#5 v1.5 PBES1 (single DES, RC2) are recognised and refused with the
 *   OpenSSL command that converts the file.
 *
 * Descriptions follow `openssl pkcs12 -info` word for word, so that diagnostics can be compared. Internal.
 */

import {
  type DerNode,
  DerReader,
  decodeInteger,
  decodeOID,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  rawOf,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { KeyError, PKCS12Error } from '../errors.js';
import type { CryptoOptions } from '../keys/crypto.js';
import { desCBCDecrypt, desCBCEncrypt } from '../keys/des.js';
import { decryptPBE, encryptPBES2, type PBEScheme, parsePBEAlgorithm } from '../keys/key-encryption.js';
import { invalid, type KDFBudget, type Passwords, unsupported, withPath } from './context.js';
import { pkcs12HashFunction, pkcs12KDFAsync } from './kdf.js';
import { HMAC_ALGORITHMS, PBES1_NAMES, PBES2_CIPHER_NAMES, PKCS12_PBE } from './oids.js';

/** A parsed bag-encryption algorithm. */
export type BagCipher =
  | {
      readonly kind: 'pkcs12';
      /** As `openssl pkcs12 -info` prints it. */
      readonly description: string;
      readonly salt: Uint8Array;
      readonly iterations: number;
      /** 24 for 3-key 3DES, 16 for 2-key 3DES (K1 K2 K1). */
      readonly keyLength: 24 | 16;
    }
  | {
      readonly kind: 'pbes2';
      readonly description: string;
      readonly scheme: Extract<PBEScheme, { kind: 'pbes2' }>;
    };

/** Longest salt accepted (bytes). */
const MAX_SALT = 1024;

const WHO_WRITES_RC2 =
  'as older Windows versions, macOS Keychain Access, Firefox and OpenSSL before 3.0 write for certificates';

/** Reads a non-negative INTEGER as a number; larger than 2^53 counts as infinite (fails the limit check). */
export function readCount(node: DerNode, what: string, path: string): number {
  if (node.tag !== Tag.INTEGER) invalid(path, `${what} is not an INTEGER`);
  const n = withPath(path, () => decodeInteger(node));
  if (n < 1n) invalid(path, `${what} is ${n}; it must be at least 1`);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(n);
}

function pbes2Description(s: Extract<PBEScheme, { kind: 'pbes2' }>): string {
  const cipher = s.cipher === 'AES-CBC' ? `AES-${s.keyLength * 8}-CBC` : 'DES-EDE3-CBC';
  const prf = `hmacWith${s.hash.replace('-', '')}`;
  return `PBES2, PBKDF2, ${cipher}, Iteration ${s.iterations}, PRF ${prf}`;
}

/** Best-effort name of an unsupported PBES2 variant, from its raw parameters. */
function describePBES2(params: DerNode | undefined): string {
  try {
    if (params === undefined) return 'PBES2';
    const r = DerReader.of(params);
    const kdf = DerReader.of(r.expect(Tag.SEQUENCE, 'kdf'));
    const kdfOID = decodeOID(kdf.expect(Tag.OID, 'kdf'));
    const kdfParams = kdf.atEnd ? undefined : kdf.next();
    const enc = DerReader.of(r.expect(Tag.SEQUENCE, 'enc'));
    const encOID = decodeOID(enc.expect(Tag.OID, 'enc'));
    const cipher = PBES2_CIPHER_NAMES[encOID] ?? encOID;
    if (kdfOID === '1.3.6.1.4.1.11591.4.11') return `PBES2, SCRYPT, ${cipher}`;
    if (kdfOID !== '1.2.840.113549.1.5.12') return `PBES2, ${kdfOID}, ${cipher}`;
    let prf = 'hmacWithSHA1';
    if (kdfParams !== undefined) {
      const k = DerReader.of(kdfParams);
      k.next();
      k.next();
      k.optional(Tag.INTEGER);
      const p = k.optional(Tag.SEQUENCE);
      if (p !== undefined) {
        const oid = decodeOID(DerReader.of(p).expect(Tag.OID, 'prf'));
        prf = HMAC_ALGORITHMS[oid]?.name ?? oid;
      }
    }
    return `PBES2, PBKDF2, ${cipher}, PRF ${prf}`;
  } catch {
    return 'PBES2 with parameters mailtls cannot read';
  }
}

/**
 * Reads the AlgorithmIdentifier that encrypts a bag or EncryptedData.
 * @param what what is encrypted, for messages (`certificates`, `private key`)
 * @throws PKCS12Error ERR_PKCS12_INVALID, ERR_PKCS12_UNSUPPORTED (RC2, RC4, DES, scrypt, ... with the command)
 */
export function parseBagCipher(node: DerNode, path: string, what: string): BagCipher {
  const { oid, params } = withPath(path, () => {
    if (node.tag !== Tag.SEQUENCE) invalid(path, 'the encryption algorithm is not a SEQUENCE');
    const r = DerReader.of(node);
    const oid = decodeOID(r.expect(Tag.OID, 'algorithm'));
    const params = r.atEnd ? undefined : r.next('parameters');
    r.done('AlgorithmIdentifier');
    return { oid, params };
  });
  const p12 = PKCS12_PBE[oid];
  if (p12 !== undefined) {
    const { salt, iterations } = withPath(path, () => {
      if (params === undefined || params.tag !== Tag.SEQUENCE)
        invalid(path, 'the PBE parameters are missing');
      const r = DerReader.of(params);
      const saltNode = r.expect(Tag.OCTET_STRING, 'salt');
      const iterations = readCount(r.expect(Tag.INTEGER, 'iterations'), 'the iteration count', path);
      r.done('PKCS#12 PBE parameters');
      const salt = valueBytes(saltNode);
      if (salt.length > MAX_SALT) invalid(path, `the salt is longer than ${MAX_SALT} bytes`);
      return { salt, iterations };
    });
    const description = `${p12.name}, Iteration ${iterations}`;
    if (p12.cipher === '3DES' || p12.cipher === '2DES')
      return {
        kind: 'pkcs12',
        description,
        salt,
        iterations,
        keyLength: p12.cipher === '3DES' ? 24 : 16,
      };
    const note = p12.cipher.startsWith('RC2') ? ` (${WHO_WRITES_RC2})` : '';
    return unsupported(`The file encrypts its ${what} with ${p12.name}${note}`, {
      algorithm: p12.name,
      path,
    });
  }
  const pbes1 = PBES1_NAMES[oid];
  if (pbes1 !== undefined)
    return unsupported(`The file encrypts its ${what} with ${pbes1} (PKCS#5 v1.5, single DES or RC2)`, {
      algorithm: pbes1,
      path,
    });
  if (oid !== '1.2.840.113549.1.5.13')
    return unsupported(`The file encrypts its ${what} with the unknown algorithm ${oid}`, {
      algorithm: oid,
      path,
    });
  let scheme: PBEScheme;
  try {
    scheme = parsePBEAlgorithm(rawOf(node).slice(), 'PKCS#12 encryption algorithm');
  } catch (e) {
    if (e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED') {
      if (typeof e.details.maxIterations === 'number')
        throw new PKCS12Error(
          'ERR_PKCS12_UNSUPPORTED',
          `The ${what} of the file use more than ${e.details.maxIterations.toLocaleString('en-US')} PBKDF2 iterations, ` +
            'the most mailtls ever runs: a hostile file can use huge counts to stall the process.',
          { cause: e, details: { maxIterations: e.details.maxIterations, path } },
        );
      const name = describePBES2(params);
      return unsupported(`The file encrypts its ${what} with ${name}`, { algorithm: name, path });
    }
    if (e instanceof KeyError) return invalid(path, e.message.replace(/^The .*? is not valid: /, ''), e);
    throw e;
  }
  if (scheme.kind !== 'pbes2') return invalid(path, 'unexpected PBES2 parameters');
  return { kind: 'pbes2', description: pbes2Description(scheme), scheme };
}

/** Iterations a cipher's key derivation runs (for the limits). */
export function cipherIterations(c: BagCipher): number {
  return c.kind === 'pkcs12' ? c.iterations : c.scheme.iterations;
}

/**
 * Decrypts with one PKCS#12 KDF password encoding (`pkcs12Password`) or, for PBES2, the UTF-8 password.
 * Returns `undefined` when the padding is wrong (a wrong password).
 * @throws PKCS12Error ERR_PKCS12_INVALID (ciphertext not whole blocks), ERR_PKCS12_UNSUPPORTED (limits)
 */
export async function decryptBag(
  c: BagCipher,
  ciphertext: Uint8Array,
  passwords: Passwords,
  pkcs12Password: Uint8Array,
  budget: KDFBudget,
  options: CryptoOptions,
  path: string,
  what: string,
): Promise<Uint8Array | undefined> {
  const block = c.kind === 'pbes2' && c.scheme.cipher === 'AES-CBC' ? 16 : 8;
  if (ciphertext.length === 0 || ciphertext.length % block !== 0)
    invalid(
      path,
      `the encrypted data (${ciphertext.length} bytes) is not a whole number of ${block}-byte blocks`,
    );
  if (c.kind === 'pkcs12') {
    // key: 24 bytes = two SHA-1 blocks (16: one); IV: one block
    budget.charge(c.iterations, c.iterations * (c.keyLength === 24 ? 3 : 2), `${what} encryption`);
    const key = await pkcs12KDFAsync('SHA-1', pkcs12Password, c.salt, c.iterations, 1, c.keyLength);
    const iv = await pkcs12KDFAsync('SHA-1', pkcs12Password, c.salt, c.iterations, 2, 8);
    const k24 = c.keyLength === 24 ? key : Uint8Array.from([...key, ...key.subarray(0, 8)]);
    try {
      return desCBCDecrypt(k24, iv, ciphertext);
    } finally {
      key.fill(0);
      k24.fill(0);
    }
  }
  const s = c.scheme;
  const hashLen = pkcs12HashFunction(s.hash).outputLen;
  budget.charge(s.iterations, s.iterations * Math.ceil(s.keyLength / hashLen), `${what} encryption`);
  try {
    return await decryptPBE(s, ciphertext, passwords.utf8, options, what);
  } catch (e) {
    if (e instanceof KeyError) return invalid(path, e.message, e);
    throw e;
  }
}

/** Bag encryption that {@link encryptBag} writes. */
export type WriteEncryption = 'aes-256-cbc' | 'pbe-sha1-3des';

/**
 * Encrypts for a bag: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC, random 16-byte salt and IV) or PKCS#12
 * `pbeWithSHAAnd3-KeyTripleDES-CBC` (random 8-byte salt). Returns the DER AlgorithmIdentifier and the
 * ciphertext.
 */
export async function encryptBag(
  plaintext: Uint8Array,
  passwords: Passwords,
  encryption: WriteEncryption,
  iterations: number,
  options: CryptoOptions,
): Promise<{ algorithm: Uint8Array; ciphertext: Uint8Array }> {
  if (encryption === 'aes-256-cbc')
    // encryptPBES2 neither keeps nor changes the pass phrase bytes (wipePasswords clears them later); a copy
    // here would be left unwiped.
    return encryptPBES2(plaintext, passwords.utf8, { ...options, iterations });
  const rng = options.crypto ?? globalThis.crypto;
  const salt = rng.getRandomValues(new Uint8Array(8));
  const pw = passwords.pkcs12[0]!;
  const key = await pkcs12KDFAsync('SHA-1', pw, salt, iterations, 1, 24);
  const iv = await pkcs12KDFAsync('SHA-1', pw, salt, iterations, 2, 8);
  try {
    const ciphertext = desCBCEncrypt(key, iv, plaintext);
    const algorithm = encodeSequence(
      encodeOID('1.2.840.113549.1.12.1.3'),
      encodeSequence(encodeOctetString(salt), encodeInteger(iterations)),
    );
    return { algorithm, ciphertext };
  } finally {
    key.fill(0);
    iv.fill(0);
  }
}
