/**
 * Private and public keys: the {@link PrivateKey} and {@link PublicKey} classes and {@link generateKeyPair}.
 *
 * Keys are immutable. A {@link PrivateKey} keeps its PKCS#8 DER in a private field: `toString()`,
 * `JSON.stringify` and `util.inspect` show only its type, size and public-key fingerprint. Cryptographic work
 * goes through WebCrypto; every function takes `{ crypto }` to inject a provider (default
 * `globalThis.crypto`).
 *
 * @module keys
 */
export * from '../internal/keys/keys.js';
