/**
 * Password-based encryption of private keys (work in progress: skeleton).
 *
 * @module key-encryption
 */
import { KeyError } from './errors.js';
import type { CryptoOptions } from './keys.js';

/** Default PBKDF2 iteration count for encrypted PKCS#8 output. */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

/** @internal */
export function passphraseBytes(p: string | Uint8Array): Uint8Array {
  return typeof p === 'string' ? new TextEncoder().encode(p) : p.slice();
}

/** @internal */
export function isLegacyEncrypted(headers: Record<string, string>): boolean {
  return /^4,\s*ENCRYPTED$/i.test(headers['Proc-Type'] ?? '');
}

function todo(): never {
  throw new KeyError('ERR_KEY_UNSUPPORTED', 'Encrypted keys are not supported yet.');
}

/** @internal */
export async function decryptPKCS8(
  _der: Uint8Array,
  _passphrase: string | Uint8Array | undefined,
  _options: CryptoOptions,
): Promise<Uint8Array> {
  return todo();
}

/** @internal */
export async function encryptPKCS8(
  _pkcs8: Uint8Array,
  _passphrase: Uint8Array,
  _options: CryptoOptions & { iterations?: number },
): Promise<Uint8Array> {
  return todo();
}

/** @internal */
export async function decryptLegacyPEM(
  _bytes: Uint8Array,
  _headers: Record<string, string>,
  _passphrase: string | Uint8Array | undefined,
  _options: CryptoOptions & { check: 'pkcs1' | 'sec1' | 'pkcs8' },
): Promise<Uint8Array> {
  return todo();
}

/** @internal */
export async function encryptLegacyPEM(
  _der: Uint8Array,
  _passphrase: Uint8Array,
  _options: CryptoOptions,
): Promise<{ bytes: Uint8Array; headers: Record<string, string> }> {
  return todo();
}
