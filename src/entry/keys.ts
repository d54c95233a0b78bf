/**
 * The public entry point `mailtls/keys`: the names of `src/keys/keys.ts` that users may rely on. The module itself
 * also exports helpers that sibling modules share (tagged internal in their TSDoc); listing the public names
 * here keeps those out of the package's subpath.
 *
 * @module keys
 */
export {
  type CryptoOptions,
  type GenerateKeyPairOptions,
  generateKeyPair,
  type KeyFingerprint,
  type KeyType,
  type NamedCurve,
  PrivateKey,
  type PrivateKeyJSONView,
  PublicKey,
  type PublicKeyJSONView,
  type SigningAlgorithm,
} from '../keys/keys.js';
