/**
 * The crypto provider option and the key vocabulary every layer shares: which WebCrypto object to use
 * ({@link CryptoOptions}, {@link subtleOf}) and the key algorithms and curves mailtls handles. It sits at
 * the bottom of the import graph so that the DER, signature and PKCS#12 helpers need not import the key
 * classes; `mailtls/keys` re-exports it.
 *
 * @module internal/keys/crypto
 */
/** The key algorithms mailtls handles. @example `const t: KeyType = key.type; // 'rsa' | 'ec' | 'ed25519'` */
export type KeyType = 'rsa' | 'ec' | 'ed25519';

/** The NIST curves mailtls handles for ECDSA keys. @example `if (key.curve === 'P-384') ...` */
export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

/**
 * Selects the WebCrypto implementation.
 * @example `await generateKeyPair({ type: 'ec', crypto: new (await import('@peculiar/webcrypto')).Crypto() })`
 */
export interface CryptoOptions {
  /** A WebCrypto `Crypto` object (e.g. from `@peculiar/webcrypto`); default `globalThis.crypto`. */
  crypto?: Crypto;
}

/** @internal The WebCrypto object to use, or a TypeError when none is available. */
export function subtleOf(options: CryptoOptions | undefined): SubtleCrypto {
  const c = options?.crypto ?? globalThis.crypto;
  if (c === undefined || c === null || typeof c.subtle !== 'object')
    throw new TypeError('no WebCrypto implementation: pass { crypto } (e.g. globalThis.crypto)');
  return c.subtle;
}
