/**
 * Reading and writing private keys in every common format:
 *
 * | PEM label | DER format | notes |
 * |---|---|---|
 * | `PRIVATE KEY` | `pkcs8` | PKCS#8 v1/v2 (RFC 5208/5958) |
 * | `ENCRYPTED PRIVATE KEY` | `encrypted-pkcs8` | PBES2 (PBKDF2 + AES-CBC / 3DES) or PBES1 PKCS#12 3DES |
 * | `RSA PRIVATE KEY` | `pkcs1` | optionally legacy-encrypted (`Proc-Type: 4,ENCRYPTED`) |
 * | `EC PRIVATE KEY` | `sec1` | named curves only; optionally legacy-encrypted |
 *
 * @module private-key
 */

import { encodePEM, parsePEM } from '../encoding/pem.js';
import { KeyError, PEMError } from '../errors.js';
import { assertBytes, assertString } from '../internal/encoding/bytes.js';
import {
  analyzePKCS8,
  curveByName,
  encodeECPrivateKey,
  pkcs1ToPKCS8,
  sec1ToPKCS8,
} from '../internal/keys/key-der.js';
import {
  decryptLegacyPEM,
  decryptPKCS8,
  encryptLegacyPEM,
  encryptPKCS8,
  isLegacyEncrypted,
  passphraseBytes,
} from './key-encryption.js';
import { type CryptoOptions, PRIVATE_KEY_TOKEN, PrivateKey, privateKeyFromInfo } from './keys.js';

/** DER formats of {@link parsePrivateKeyDER}. */
export type PrivateKeyDERFormat = 'pkcs8' | 'pkcs1' | 'sec1' | 'encrypted-pkcs8';

/** Options of {@link parsePrivateKey}. */
export interface ParsePrivateKeyOptions extends CryptoOptions {
  /** Pass phrase of an encrypted key (a string is used as UTF-8). Ignored for unencrypted keys. */
  passphrase?: string | Uint8Array;
}

/** Options of {@link parsePrivateKeyDER}. */
export interface ParsePrivateKeyDEROptions extends ParsePrivateKeyOptions {
  /** The DER structure; default `'pkcs8'` (never guessed). */
  format?: PrivateKeyDERFormat;
}

/** Options of {@link encodePrivateKeyPEM}. */
export interface EncodePrivateKeyOptions extends CryptoOptions {
  /**
   * `'pkcs8'` (default, `PRIVATE KEY`), `'pkcs1'` (`RSA PRIVATE KEY`, RSA only) or `'sec1'`
   * (`EC PRIVATE KEY` with the named curve and public key, EC only).
   */
  format?: 'pkcs8' | 'pkcs1' | 'sec1';
  /**
   * Encrypts the key. PKCS#8 becomes `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, 16-byte
   * random salt). PKCS#1/SEC1 get the legacy `Proc-Type: 4,ENCRYPTED` / `DEK-Info: AES-256-CBC` headers,
   * whose key derivation is a single MD5 round (OpenSSL's EVP_BytesToKey): prefer PKCS#8 for anything stored.
   */
  passphrase?: string | Uint8Array;
  /**
   * PBKDF2 iterations for encrypted PKCS#8, 1 to 10,000,000; default 600,000 (`DEFAULT_PBKDF2_ITERATIONS`,
   * OWASP's 2023 guidance for PBKDF2-HMAC-SHA256; `openssl pkey` decrypts it in about 0.3 s).
   */
  iterations?: number;
}

/** PEM labels that hold private keys mailtls cannot use, with advice. */
const UNSUPPORTED_LABELS: Readonly<Record<string, string>> = {
  'DSA PRIVATE KEY':
    'DSA keys are not supported by TLS 1.3 or current CAs: create an RSA or ECDSA key (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out new.key`).',
  'OPENSSH PRIVATE KEY':
    'This is an OpenSSH key; convert it to PEM with `ssh-keygen -p -m PEM -f key` (RSA/ECDSA) or create a TLS key with `openssl genpkey`.',
};

const KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

/**
 * Reads a private key from PEM; the label decides the format (see the module table). Non-key blocks before
 * the key (e.g. `EC PARAMETERS` written by `openssl ecparam -genkey`, or certificates) are skipped.
 *
 * @throws PEMError ERR_PEM_NO_BLOCK / ERR_PEM_UNEXPECTED_LABEL; KeyError ERR_KEY_ENCRYPTED (encrypted, no
 * pass phrase), ERR_KEY_PASSPHRASE (wrong pass phrase), ERR_KEY_INVALID (malformed, says what broke),
 * ERR_KEY_UNSUPPORTED (DSA, X25519, explicit curve parameters, RC2/DES encryption...)
 * @example
 * ```ts
 * const key = await parsePrivateKey(await readFile('/etc/ssl/private/mail.key', 'utf8'));
 * console.log(key.describe()); // 'RSA 2048'
 * ```
 */
export async function parsePrivateKey(
  pem: string,
  options: ParsePrivateKeyOptions = {},
): Promise<PrivateKey> {
  assertString(pem, 'pem');
  checkPassphraseType(options.passphrase);
  const blocks = parsePEM(pem);
  if (blocks.length === 0)
    throw new PEMError(
      'ERR_PEM_NO_BLOCK',
      'No PEM block found: expected "-----BEGIN PRIVATE KEY-----" or similar.',
    );
  const block = blocks.find(
    (b) => KEY_LABELS.includes(b.label) || Object.hasOwn(UNSUPPORTED_LABELS, b.label),
  );
  if (block === undefined) {
    const found = blocks.map((b) => b.label);
    const hint = found.includes('CERTIFICATE')
      ? ' This file holds certificates only; the private key is in a separate file (often *.key).'
      : found.includes('PUBLIC KEY')
        ? ' This is a public key; the private key is in another file.'
        : '';
    throw new PEMError(
      'ERR_PEM_UNEXPECTED_LABEL',
      `Expected a private key PEM block (${KEY_LABELS.join(', ')}), found ${found.join(', ')}.${hint}`,
      { details: { expected: KEY_LABELS, found } },
    );
  }
  const advice = Object.hasOwn(UNSUPPORTED_LABELS, block.label) ? UNSUPPORTED_LABELS[block.label] : undefined;
  if (advice !== undefined)
    throw new KeyError('ERR_KEY_UNSUPPORTED', advice, { details: { label: block.label } });
  let der = block.bytes;
  if (isLegacyEncrypted(block.headers)) {
    if (
      block.label !== 'RSA PRIVATE KEY' &&
      block.label !== 'EC PRIVATE KEY' &&
      block.label !== 'PRIVATE KEY'
    )
      throw new KeyError(
        'ERR_KEY_INVALID',
        `A "${block.label}" block cannot carry Proc-Type encryption headers.`,
        {
          details: { structure: 'PEM headers' },
        },
      );
    der = await decryptLegacyPEM(block.bytes, block.headers, options.passphrase, options);
  }
  const format: PrivateKeyDERFormat =
    block.label === 'RSA PRIVATE KEY'
      ? 'pkcs1'
      : block.label === 'EC PRIVATE KEY'
        ? 'sec1'
        : block.label === 'ENCRYPTED PRIVATE KEY'
          ? 'encrypted-pkcs8'
          : 'pkcs8';
  try {
    return await parsePrivateKeyDER(der, { ...options, format });
  } finally {
    if (der !== block.bytes) der.fill(0);
    block.bytes.fill(0);
  }
}

/**
 * Reads a private key from DER. The format is never guessed: pass `format` (default `'pkcs8'`).
 *
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED, ERR_KEY_ENCRYPTED, ERR_KEY_PASSPHRASE;
 * RangeError for an unknown format
 * @example
 * ```ts
 * const key = await parsePrivateKeyDER(der, { format: 'pkcs1' });
 * const enc = await parsePrivateKeyDER(encDer, { format: 'encrypted-pkcs8', passphrase: 'secret' });
 * ```
 */
export async function parsePrivateKeyDER(
  der: Uint8Array,
  options: ParsePrivateKeyDEROptions = {},
): Promise<PrivateKey> {
  assertBytes(der, 'der');
  checkPassphraseType(options.passphrase);
  const format = options.format ?? 'pkcs8';
  let pkcs8: Uint8Array;
  switch (format) {
    case 'pkcs8':
      pkcs8 = der;
      break;
    case 'pkcs1':
      pkcs8 = pkcs1ToPKCS8(der);
      break;
    case 'sec1':
      pkcs8 = sec1ToPKCS8(der);
      break;
    case 'encrypted-pkcs8':
      pkcs8 = await decryptPKCS8(der, options.passphrase, options);
      break;
    default:
      throw new RangeError(
        `unknown private key format ${String(format)}: use pkcs8, pkcs1, sec1 or encrypted-pkcs8`,
      );
  }
  try {
    return await privateKeyFromInfo(analyzePKCS8(pkcs8), options);
  } finally {
    if (pkcs8 !== der) pkcs8.fill(0);
  }
}

/**
 * Writes a private key as PEM: PKCS#8 (default), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`),
 * optionally encrypted with a pass phrase. OpenSSL reads every output (`openssl pkey -passin pass:...`).
 *
 * A mail server cannot start unattended with an encrypted key: encrypt only for transport or backup.
 *
 * @throws KeyError ERR_KEY_EXPORT (format does not fit the key type, e.g. Ed25519 as PKCS#1); RangeError for
 * bad iterations / format
 * @example
 * ```ts
 * const pem = await encodePrivateKeyPEM(key);                                   // PRIVATE KEY
 * const enc = await encodePrivateKeyPEM(key, { passphrase: 'correct horse' }); // ENCRYPTED PRIVATE KEY
 * const ec = await encodePrivateKeyPEM(ecKey, { format: 'sec1' });             // EC PRIVATE KEY
 * ```
 */
export async function encodePrivateKeyPEM(
  key: PrivateKey,
  options: EncodePrivateKeyOptions = {},
): Promise<string> {
  if (!(key instanceof PrivateKey)) throw new TypeError('key must be a PrivateKey');
  checkPassphraseType(options.passphrase);
  const format = options.format ?? 'pkcs8';
  if (format !== 'pkcs8' && format !== 'pkcs1' && format !== 'sec1')
    throw new RangeError(`unknown format ${String(format)}: use pkcs8, pkcs1 or sec1`);
  if (options.iterations !== undefined && options.passphrase === undefined)
    throw new RangeError('iterations needs a passphrase');
  if (format === 'pkcs8') {
    const der = key.exportPKCS8();
    try {
      if (options.passphrase === undefined) return encodePEM('PRIVATE KEY', der);
      const enc = await encryptPKCS8(der, passphraseBytes(options.passphrase), options);
      return encodePEM('ENCRYPTED PRIVATE KEY', enc);
    } finally {
      der.fill(0);
    }
  }
  const want = format === 'pkcs1' ? 'rsa' : 'ec';
  if (key.type !== want)
    throw new KeyError(
      'ERR_KEY_EXPORT',
      `A ${key.describe()} key cannot be written as ${format === 'pkcs1' ? 'PKCS#1 (RSA only)' : 'SEC1 (EC only)'}; use format 'pkcs8'.`,
      { details: { format, type: key.type } },
    );
  const inner = key.exportInner(PRIVATE_KEY_TOKEN);
  let der: Uint8Array;
  if (format === 'pkcs1') der = inner;
  else {
    const point = key.publicKey.material;
    der = encodeECPrivateKey(curveByName(key.curve!), inner, point, true);
    inner.fill(0);
  }
  const label = format === 'pkcs1' ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
  try {
    if (options.passphrase === undefined) return encodePEM(label, der);
    const { bytes, headers } = await encryptLegacyPEM(der, passphraseBytes(options.passphrase), options);
    return encodePEM(label, bytes, headers);
  } finally {
    der.fill(0);
  }
}

function checkPassphraseType(p: unknown): void {
  if (p !== undefined && typeof p !== 'string' && !(p instanceof Uint8Array))
    throw new TypeError('passphrase must be a string or a Uint8Array');
}
