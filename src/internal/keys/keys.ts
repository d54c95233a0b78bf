/**
 * Private and public keys: the {@link PrivateKey} and {@link PublicKey} classes and {@link generateKeyPair}.
 *
 * Keys are immutable. A {@link PrivateKey} keeps its PKCS#8 DER in a private field: `toString()`,
 * `JSON.stringify` and `util.inspect` show only its type, size and public-key fingerprint. Cryptographic work
 * goes through WebCrypto; every function takes `{ crypto }` to inject a provider (default
 * `globalThis.crypto`).
 *
 * @module internal/keys/keys
 */
import { sha256 } from '@noble/hashes/sha2';
import { copyBytes, fromBase64, toArrayBuffer, toBase64, toHex } from '../encoding/bytes.js';
import { KeyError } from '../errors.js';
import { type CryptoOptions, type KeyType, type NamedCurve, subtleOf } from './crypto.js';
import { analyzePKCS8, analyzeSPKI, encodeSPKI, type PrivateKeyInfo, type PublicKeyInfo } from './key-der.js';
import { SignatureOID } from './key-oids.js';

export type { CryptoOptions, KeyType, NamedCurve } from './crypto.js';

/** Options of {@link generateKeyPair}. @example `{ type: 'rsa', bits: 3072 }` */
export interface GenerateKeyPairOptions extends CryptoOptions {
  /** Key algorithm; default `'rsa'`. */
  type?: KeyType;
  /** RSA modulus size; default 2048. Only for `type: 'rsa'`. */
  bits?: 2048 | 3072 | 4096;
  /** ECDSA curve; default `'P-256'`. Only for `type: 'ec'`. */
  curve?: 'P-256' | 'P-384';
}

/** A SHA-256 fingerprint of a SubjectPublicKeyInfo. @example `key.publicKey.fingerprint().sha256Hex` */
export interface KeyFingerprint {
  /** Lower-case hex: the DANE TLSA `3 1 1` association data. */
  sha256Hex: string;
  /** Standard base64 (as in HPKP pins / `openssl ... | base64`). */
  sha256Base64: string;
}

/** The X.509 signature algorithm a private key signs certificates and CSRs with. @example `subtle.sign(key.signingAlgorithm(), cryptoKey, tbs)` */
export interface SigningAlgorithm {
  /** WebCrypto algorithm name: `RSASSA-PKCS1-v1_5`, `ECDSA` or `Ed25519`. */
  name: string;
  /** WebCrypto hash name (`SHA-256`, ...); absent for Ed25519. */
  hash?: string;
  /** Dotted OID of the X.509 AlgorithmIdentifier (sha256WithRSAEncryption, ecdsa-with-SHA256, ...). */
  oid: string;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const TOKEN = Symbol('mailtls.PrivateKey');

function label(
  type: KeyType,
  bits: number | undefined,
  curve: NamedCurve | undefined,
  pss?: boolean,
): string {
  if (type === 'rsa') return `RSA ${bits}${pss ? ' (RSA-PSS)' : ''}`;
  if (type === 'ec') return `EC ${curve}`;
  return 'Ed25519';
}

/** What `JSON.stringify` writes for a {@link PublicKey}. */
export interface PublicKeyJSONView {
  /** Key type. */
  type: KeyType;
  /** RSA modulus size in bits. */
  bits?: number;
  /** EC curve. */
  curve?: NamedCurve;
  /** SHA-256 of the SubjectPublicKeyInfo, lower-case hex (the name certificates and CSRs use too). */
  spkiSha256: string;
}

/** What `JSON.stringify` writes for a {@link PrivateKey}: never key material. */
export interface PrivateKeyJSONView {
  /** Key type. */
  type: KeyType;
  /** RSA modulus size in bits. */
  bits?: number;
  /** EC curve. */
  curve?: NamedCurve;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, lower-case hex (the name certificates and CSRs use too). */
  spkiSha256: string;
}

/**
 * A public key: RSA, ECDSA on P-256/P-384/P-521, or Ed25519, held as its DER SubjectPublicKeyInfo.
 *
 * @example
 * ```ts
 * const pub = parsePublicKey(pem);
 * console.log(pub.describe(), pub.fingerprint().sha256Hex); // 'EC P-256', DANE 3 1 1 data
 * ```
 */
export class PublicKey {
  /** Key algorithm. */
  readonly type: KeyType;
  /** RSA modulus size in bits (RSA only). */
  readonly bits?: number;
  /** Named curve (EC only). */
  readonly curve?: NamedCurve;
  /**
   * A remark about an unusual encoding, e.g. for an RSA key restricted to RSA-PSS (id-RSASSA-PSS SPKI),
   * which most mail software and CAs do not accept. Absent for ordinary keys.
   */
  readonly note?: string;
  readonly #spki: Uint8Array;
  readonly #info: PublicKeyInfo;
  #fingerprint: KeyFingerprint | undefined;

  /**
   * Reads a DER SubjectPublicKeyInfo (same as {@link parsePublicKeyDER}).
   * @throws KeyError ERR_KEY_INVALID (malformed), ERR_KEY_UNSUPPORTED (another algorithm or curve)
   */
  constructor(spki: Uint8Array) {
    if (!(spki instanceof Uint8Array)) throw new TypeError('spki must be a Uint8Array (DER bytes)');
    const copy = copyBytes(spki);
    const info = analyzeSPKI(copy);
    this.#spki = copy;
    this.#info = info;
    this.#fingerprint = undefined;
    this.type = info.type;
    if (info.bits !== undefined) this.bits = info.bits;
    if (info.curve !== undefined) this.curve = info.curve;
    if (info.rsaPSS)
      this.note =
        'RSA key restricted to RSA-PSS signatures (id-RSASSA-PSS); most mail software and CAs expect an rsaEncryption key.';
    Object.freeze(this);
  }

  /** The DER SubjectPublicKeyInfo (a fresh copy on each access). */
  get spki(): Uint8Array {
    return copyBytes(this.#spki);
  }

  /**
   * SHA-256 of the DER SubjectPublicKeyInfo, in hex and base64. The hex form is the data of a DANE TLSA
   * `3 1 1` record and equals `openssl pkey -pubin -outform DER | openssl dgst -sha256`.
   * @example `tlsa = \`_25._tcp.mx.example. IN TLSA 3 1 1 ${key.fingerprint().sha256Hex}\``
   */
  fingerprint(): KeyFingerprint {
    if (this.#fingerprint === undefined) {
      const d = sha256(this.#spki);
      this.#fingerprint = Object.freeze({ sha256Hex: toHex(d), sha256Base64: toBase64(d) });
    }
    return { ...this.#fingerprint };
  }

  /**
   * Whether two public keys are the same key: same algorithm, curve and key material (an EC point in
   * compressed and uncompressed form, or an RSA key as rsaEncryption and as RSA-PSS, count as equal).
   * @example `if (!cert.publicKey.equals(key.publicKey)) throw new Error('wrong key')`
   */
  equals(other: PublicKey): boolean {
    if (!(other instanceof PublicKey)) throw new TypeError('other must be a PublicKey');
    const a = this.#info;
    const b = other.#info;
    if (a.type !== b.type || a.curve !== b.curve || a.material.length !== b.material.length) return false;
    for (let i = 0; i < a.material.length; i++) if (a.material[i] !== b.material[i]) return false;
    return true;
  }

  /**
   * The raw public key (a fresh copy): for RSA the DER RSAPublicKey (PKCS#1), for EC the uncompressed point
   * `0x04 || X || Y` (also when the SPKI held a compressed point), for Ed25519 the 32 key bytes.
   * @example `const point = ecKey.publicKey.material; // 65 bytes for P-256`
   */
  get material(): Uint8Array {
    return copyBytes(this.#info.material);
  }

  /**
   * Imports the key into WebCrypto for signature verification with its default algorithm:
   * RSASSA-PKCS1-v1_5 (hash from `options.hash`, default SHA-256; RSA-PSS for an RSA-PSS key), ECDSA on its
   * curve (the hash is chosen per `verify` call), or Ed25519.
   * @throws KeyError ERR_KEY_UNSUPPORTED when the provider cannot import the key
   * @example `const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, await pub.importCryptoKey(), sig, data)`
   */
  async importCryptoKey(
    options: CryptoOptions & { usage?: 'verify'; hash?: 'SHA-256' | 'SHA-384' | 'SHA-512' } = {},
  ): Promise<CryptoKey> {
    const subtle = subtleOf(options);
    let alg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
    if (this.type === 'rsa')
      alg = { name: this.#info.rsaPSS ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: options.hash ?? 'SHA-256' };
    else if (this.type === 'ec') alg = { name: 'ECDSA', namedCurve: this.curve! };
    else alg = { name: 'Ed25519' };
    // An id-RSASSA-PSS SPKI is imported as the same modulus and exponent under rsaEncryption: WebCrypto
    // implementations (Node's included) accept only that encoding.
    const spki = this.#info.rsaPSS ? encodeSPKI('rsa', this.#info.material) : this.#spki;
    try {
      return await subtle.importKey('spki', toArrayBuffer(spki), alg, true, ['verify']);
    } catch (e) {
      throw new KeyError(
        'ERR_KEY_UNSUPPORTED',
        `The WebCrypto provider cannot import this ${this.describe()} public key (${errorName(e)}).`,
        { cause: e, details: { key: this.describe() } },
      );
    }
  }

  /** `'RSA 2048'`, `'EC P-256'`, `'Ed25519'` (RSA-PSS keys: `'RSA 2048 (RSA-PSS)'`). @example `pub.describe()` */
  describe(): string {
    return label(this.type, this.bits, this.curve, this.#info.rsaPSS);
  }

  /** `PublicKey(EC P-256, SHA256:<base64>)`. @example `String(pub)` */
  toString(): string {
    return `PublicKey(${this.describe()}, SHA256:${this.fingerprint().sha256Base64})`;
  }

  /** Type, size and fingerprint. @example `JSON.stringify(pub)` */
  toJSON(): PublicKeyJSONView {
    return {
      type: this.type,
      ...(this.bits === undefined ? {} : { bits: this.bits }),
      ...(this.curve === undefined ? {} : { curve: this.curve }),
      spkiSha256: this.fingerprint().sha256Hex,
    };
  }

  /** What `util.inspect` / `console.log` show: the same as {@link PublicKey.toString}. */
  [INSPECT](): string {
    return this.toString();
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'error';
}

/**
 * A private key (RSA, ECDSA P-256/P-384/P-521 or Ed25519) with its public key. The PKCS#8 DER sits in a
 * private field; `toString()`, `JSON.stringify` and `util.inspect` never show it. Create one with
 * {@link generateKeyPair}, {@link parsePrivateKey} or {@link parsePrivateKeyDER}.
 *
 * @example
 * ```ts
 * const key = await generateKeyPair({ type: 'ec' });
 * console.log(String(key)); // PrivateKey(EC P-256, SHA256:...)
 * ```
 */
export class PrivateKey {
  /** Key algorithm. */
  readonly type: KeyType;
  /** RSA modulus size in bits (RSA only). */
  readonly bits?: number;
  /** Named curve (EC only). */
  readonly curve?: NamedCurve;
  /** The matching public key. */
  readonly publicKey: PublicKey;
  readonly #pkcs8: Uint8Array;
  readonly #scalar: Uint8Array;

  /**
   * Not for callers: only the key modules can construct a key (they hold the token it checks). Kept in the
   * declarations (not tagged internal) so that `new PrivateKey()` stays a type error; hidden from the docs.
   * @hidden
   */
  constructor(token: symbol, info: PrivateKeyInfo, publicKey: PublicKey) {
    if (token !== TOKEN)
      throw new TypeError('use generateKeyPair() or parsePrivateKey() to create a PrivateKey');
    this.#pkcs8 = copyBytes(info.pkcs8);
    this.#scalar = copyBytes(info.inner);
    this.type = info.type;
    if (info.bits !== undefined) this.bits = info.bits;
    if (info.curve !== undefined) this.curve = info.curve;
    this.publicKey = publicKey;
    Object.freeze(this);
  }

  /**
   * The key as DER PKCS#8 PrivateKeyInfo (a fresh copy; wipe it with `fill(0)` when done).
   * @example `await writeFile('key.der', key.exportPKCS8(), { mode: 0o600 })`
   */
  exportPKCS8(): Uint8Array {
    return copyBytes(this.#pkcs8);
  }

  /** @internal EC private scalar / Ed25519 seed / PKCS#1 RSAPrivateKey for the traditional encoders. */
  exportInner(token: symbol): Uint8Array {
    if (token !== TOKEN) throw new TypeError('internal');
    return copyBytes(this.#scalar);
  }

  /**
   * Imports the key into WebCrypto (non-extractable, usage `sign`) with the algorithm of
   * {@link PrivateKey.signingAlgorithm}: RSASSA-PKCS1-v1_5/SHA-256, ECDSA (P-256/SHA-256, P-384/SHA-384,
   * P-521/SHA-512) or Ed25519.
   * @throws KeyError ERR_KEY_UNSUPPORTED when the provider cannot import the key
   * @example
   * ```ts
   * const alg = key.signingAlgorithm();
   * const sig = await crypto.subtle.sign(alg, await key.importSigningKey(), data);
   * ```
   */
  async importSigningKey(options: CryptoOptions = {}): Promise<CryptoKey> {
    const subtle = subtleOf(options);
    try {
      return await subtle.importKey('pkcs8', toArrayBuffer(this.#pkcs8), importAlgorithm(this), false, [
        'sign',
      ]);
    } catch (e) {
      throw new KeyError(
        'ERR_KEY_UNSUPPORTED',
        `The WebCrypto provider cannot import this ${this.describe()} private key (${errorName(e)}).`,
        { cause: e, details: { key: this.describe() } },
      );
    }
  }

  /**
   * The X.509 signature algorithm this key signs with: sha256WithRSAEncryption, ecdsa-with-SHA256 (P-256),
   * ecdsa-with-SHA384 (P-384), ecdsa-with-SHA512 (P-521) or Ed25519. `name`/`hash` suit `subtle.sign`.
   * @example `key.signingAlgorithm() // { name: 'ECDSA', hash: 'SHA-256', oid: '1.2.840.10045.4.3.2' }`
   */
  signingAlgorithm(): SigningAlgorithm {
    return signingAlgorithmOf(this);
  }

  /** `'RSA 2048'`, `'EC P-256'` or `'Ed25519'`. @example `key.describe()` */
  describe(): string {
    return label(this.type, this.bits, this.curve);
  }

  /** `PrivateKey(RSA 2048, SHA256:<base64 of the public key's SPKI hash>)`: never key bytes. @example `String(key)` */
  toString(): string {
    return `PrivateKey(${this.describe()}, SHA256:${this.publicKey.fingerprint().sha256Base64})`;
  }

  /** Type, size and the public key's fingerprint: never key bytes. @example `JSON.stringify(key)` */
  toJSON(): PrivateKeyJSONView {
    return {
      type: this.type,
      ...(this.bits === undefined ? {} : { bits: this.bits }),
      ...(this.curve === undefined ? {} : { curve: this.curve }),
      spkiSha256: this.publicKey.fingerprint().sha256Hex,
    };
  }

  /** What `util.inspect` / `console.log` show: the same as {@link PrivateKey.toString}, never key bytes. */
  [INSPECT](): string {
    return this.toString();
  }
}

/** @internal The secret that lets the key modules construct a PrivateKey. */
export const PRIVATE_KEY_TOKEN: symbol = TOKEN;

/** The signature algorithm of {@link PrivateKey.signingAlgorithm}, by key type and curve. */
function signingAlgorithmOf(k: { type: KeyType; curve?: NamedCurve }): SigningAlgorithm {
  if (k.type === 'rsa')
    return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', oid: SignatureOID.sha256WithRSAEncryption };
  if (k.type === 'ed25519') return { name: 'Ed25519', oid: SignatureOID.ed25519 };
  if (k.curve === 'P-384') return { name: 'ECDSA', hash: 'SHA-384', oid: SignatureOID.ecdsaWithSHA384 };
  if (k.curve === 'P-521') return { name: 'ECDSA', hash: 'SHA-512', oid: SignatureOID.ecdsaWithSHA512 };
  return { name: 'ECDSA', hash: 'SHA-256', oid: SignatureOID.ecdsaWithSHA256 };
}

function importAlgorithm(k: {
  type: KeyType;
  curve?: NamedCurve;
}): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  if (k.type === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (k.type === 'ec') return { name: 'ECDSA', namedCurve: k.curve! };
  return { name: 'Ed25519' };
}

function fromBase64Url(s: unknown): Uint8Array | undefined {
  if (typeof s !== 'string') return undefined;
  let t = s.replace(/-/g, '+').replace(/_/g, '/');
  while (t.length % 4) t += '=';
  return fromBase64(t);
}

/**
 * @internal Builds a PrivateKey from analysed PKCS#8: imports it into the provider (which validates the key
 * material) and, when the DER does not carry the public key (Ed25519 v1, EC without publicKey), derives it.
 * @throws KeyError ERR_KEY_INVALID when the provider rejects the key
 */
export async function privateKeyFromInfo(
  info: PrivateKeyInfo,
  options: CryptoOptions = {},
): Promise<PrivateKey> {
  const subtle = subtleOf(options);
  const needPublic = info.spki === undefined;
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await subtle.importKey(
      'pkcs8',
      toArrayBuffer(info.pkcs8),
      importAlgorithm(info),
      needPublic,
      ['sign'],
    );
  } catch (e) {
    throw new KeyError(
      'ERR_KEY_INVALID',
      `The ${label(info.type, info.bits, info.curve)} private key is not valid: the crypto provider rejected its key material (${errorName(e)}).`,
      { cause: e, details: { structure: 'key material' } },
    );
  }
  let spki = info.spki;
  if (spki !== undefined) await checkPairwise(subtle, cryptoKey, info, spki);
  else {
    const jwk = await subtle.exportKey('jwk', cryptoKey);
    const x = fromBase64Url(jwk.x);
    if (info.type === 'ec') {
      const y = fromBase64Url(jwk.y);
      if (x === undefined || y === undefined)
        throw new KeyError('ERR_KEY_INVALID', 'The EC private key has no derivable public key.');
      const point = new Uint8Array(1 + x.length + y.length);
      point[0] = 4;
      point.set(x, 1);
      point.set(y, 1 + x.length);
      spki = encodeSPKI('ec', point, info.curve);
    } else {
      if (x === undefined)
        throw new KeyError('ERR_KEY_INVALID', 'The Ed25519 private key has no derivable public key.');
      spki = encodeSPKI('ed25519', x);
    }
  }
  return new PrivateKey(TOKEN, info, new PublicKey(spki));
}

/**
 * Pairwise consistency test: a signature made with the private half must verify with the public half that
 * the file carries. Catches damaged or tampered key files whose embedded public key (or RSA modulus) does
 * not belong to the private key, which would otherwise make keyMatchesCertificate trust the wrong key.
 */
async function checkPairwise(
  subtle: SubtleCrypto,
  privateKey: CryptoKey,
  info: PrivateKeyInfo,
  spki: Uint8Array,
): Promise<void> {
  // The key's own signing algorithm; only ECDSA takes the hash per signature (RSA's is fixed at import).
  const { name, hash } = signingAlgorithmOf(info);
  const alg = info.type === 'ec' ? { name, hash } : { name };
  const message = new TextEncoder().encode('mailtls pairwise consistency test');
  let ok = false;
  let cause: unknown;
  try {
    const publicKey = await subtle.importKey('spki', toArrayBuffer(spki), importAlgorithm(info), false, [
      'verify',
    ]);
    const signature = await subtle.sign(alg, privateKey, message);
    ok = await subtle.verify(alg, publicKey, signature, message);
  } catch (e) {
    cause = e;
  }
  if (!ok)
    throw new KeyError(
      'ERR_KEY_INVALID',
      `The ${label(info.type, info.bits, info.curve)} private key is not valid: its private and public halves do not belong together (the file is damaged).`,
      { ...(cause === undefined ? {} : { cause }), details: { structure: 'key pair consistency' } },
    );
}

/**
 * @internal Builds a PrivateKey from PKCS#8 DER.
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export async function privateKeyFromPKCS8(
  pkcs8: Uint8Array,
  options: CryptoOptions = {},
): Promise<PrivateKey> {
  return privateKeyFromInfo(analyzePKCS8(pkcs8), options);
}

/**
 * Generates a new key pair with WebCrypto and returns the private key (its `publicKey` holds the public
 * half).
 *
 * The default is RSA-2048: most certificate resellers' CSR forms take RSA-2048,
 * every mail client and MTA can use it, and 2048 bits is the size CAs and NIST SP 800-57 consider secure
 * until 2030. Choose `{ type: 'ec' }` (P-256) for smaller, faster keys when your CA accepts ECDSA, or run
 * both (most servers can hold an RSA and an ECDSA certificate side by side).
 *
 * Generation is asynchronous and does not block the event loop with Node's WebCrypto (RSA primes are
 * searched in the libuv threadpool; a 4096-bit key takes one to a few seconds, RSA-2048 about 0.2 s).
 *
 * @throws TypeError / RangeError for unknown options; KeyError ERR_KEY_GENERATION when the provider fails
 * @example
 * ```ts
 * const rsa = await generateKeyPair();                                  // RSA 2048
 * const ec = await generateKeyPair({ type: 'ec', curve: 'P-384' });     // ECDSA P-384
 * const ed = await generateKeyPair({ type: 'ed25519' });
 * ```
 */
export async function generateKeyPair(options: GenerateKeyPairOptions = {}): Promise<PrivateKey> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const type = options.type ?? 'rsa';
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519')
    throw new RangeError(`unknown key type ${String(type)}: use 'rsa', 'ec' or 'ed25519'`);
  if (options.bits !== undefined && type !== 'rsa') throw new RangeError('bits applies to RSA keys only');
  if (options.curve !== undefined && type !== 'ec') throw new RangeError('curve applies to EC keys only');
  const bits = options.bits ?? 2048;
  if (bits !== 2048 && bits !== 3072 && bits !== 4096)
    throw new RangeError('bits must be 2048, 3072 or 4096');
  const curve = options.curve ?? 'P-256';
  if (curve !== 'P-256' && curve !== 'P-384') throw new RangeError("curve must be 'P-256' or 'P-384'");
  const subtle = subtleOf(options);
  let alg: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
  if (type === 'rsa')
    alg = {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: bits,
      publicExponent: Uint8Array.of(1, 0, 1),
      hash: 'SHA-256',
    };
  else if (type === 'ec') alg = { name: 'ECDSA', namedCurve: curve };
  else alg = { name: 'Ed25519' };
  let pkcs8: Uint8Array;
  let spki: Uint8Array;
  try {
    const pair = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
    spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  } catch (e) {
    throw new KeyError(
      'ERR_KEY_GENERATION',
      `The WebCrypto provider could not generate a ${label(type, bits, curve)} key (${errorName(e)}); use another provider or key type.`,
      { cause: e, details: { type } },
    );
  }
  const key = new PrivateKey(TOKEN, analyzePKCS8(pkcs8), new PublicKey(spki));
  pkcs8.fill(0); // the PrivateKey holds its own copy
  return key;
}
