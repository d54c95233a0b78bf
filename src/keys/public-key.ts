/**
 * Reading and writing public keys: DER SubjectPublicKeyInfo, PEM `PUBLIC KEY` (SPKI) and PEM
 * `RSA PUBLIC KEY` (PKCS#1). Fingerprints are {@link PublicKey.fingerprint}.
 *
 * @module public-key
 */

import { encodePEM, parsePEM } from '../encoding/pem.js';
import { PEMError } from '../errors.js';
import { assertBytes, assertString } from '../internal/encoding/bytes.js';
import { analyzeRSAPublicKey, encodeSPKI } from '../internal/keys/key-der.js';
import { PublicKey } from './keys.js';

/**
 * Reads a DER SubjectPublicKeyInfo (RSA as rsaEncryption or RSA-PSS, EC on P-256/P-384/P-521, Ed25519).
 * Synchronous and cheap: certificate parsers call it once per certificate.
 *
 * @throws KeyError ERR_KEY_INVALID (malformed DER, off-curve point, bad RSA numbers), ERR_KEY_UNSUPPORTED
 * (DSA, X25519, other curves...)
 * @example
 * ```ts
 * const pub = parsePublicKeyDER(spkiBytes);
 * pub.describe(); // 'RSA 2048'
 * ```
 */
export function parsePublicKeyDER(spki: Uint8Array): PublicKey {
  assertBytes(spki, 'spki');
  return new PublicKey(spki);
}

/**
 * Reads the first public key in a PEM text: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
 *
 * @throws PEMError ERR_PEM_NO_BLOCK (no PEM at all), ERR_PEM_UNEXPECTED_LABEL (e.g. a certificate or a
 * private key); KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 * @example
 * ```ts
 * const pub = parsePublicKey(await readFile('pub.pem', 'utf8'));
 * console.log(pub.fingerprint().sha256Hex);
 * ```
 */
export function parsePublicKey(pem: string): PublicKey {
  assertString(pem, 'pem');
  const blocks = parsePEM(pem);
  if (blocks.length === 0)
    throw new PEMError('ERR_PEM_NO_BLOCK', 'No PEM block found: expected "-----BEGIN PUBLIC KEY-----".');
  const block = blocks.find((b) => b.label === 'PUBLIC KEY' || b.label === 'RSA PUBLIC KEY');
  if (block === undefined) {
    const found = blocks.map((b) => b.label).join(', ');
    const hint = blocks.some((b) => b.label === 'CERTIFICATE')
      ? ' For a certificate, read its public key from the parsed certificate instead.'
      : blocks.some((b) => b.label.endsWith('PRIVATE KEY'))
        ? ' This is a private key: use parsePrivateKey() and its publicKey.'
        : '';
    throw new PEMError(
      'ERR_PEM_UNEXPECTED_LABEL',
      `Expected a "PUBLIC KEY" or "RSA PUBLIC KEY" PEM block, found ${found}.${hint}`,
      { details: { expected: ['PUBLIC KEY', 'RSA PUBLIC KEY'], found: blocks.map((b) => b.label) } },
    );
  }
  if (block.label === 'RSA PUBLIC KEY') {
    const { material } = analyzeRSAPublicKey(block.bytes, 'RSA public key (PKCS#1)');
    return new PublicKey(encodeSPKI('rsa', material));
  }
  return new PublicKey(block.bytes);
}

/**
 * Writes a public key as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `openssl pkey -pubout` does.
 * @throws TypeError when `key` is not a PublicKey
 * @example `await writeFile('pub.pem', encodePublicKeyPEM(key.publicKey))`
 */
export function encodePublicKeyPEM(key: PublicKey): string {
  if (!(key instanceof PublicKey)) throw new TypeError('key must be a PublicKey');
  return encodePEM('PUBLIC KEY', key.spki);
}
