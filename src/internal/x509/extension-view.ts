/**
 * What certificate and CSR views share: the public key, the extensions and the fields decoded from them
 * (subjectAltName, basicConstraints, keyUsage, extendedKeyUsage), each decoded once on first use.
 * Internal: the public shapes are the `Certificate` and `CertificateSigningRequest` interfaces.
 */
import { sha256 } from '@noble/hashes/sha2';
import { toBase64, toHex } from '../encoding/bytes.js';
import { ExtensionOID, oidOf } from '../encoding/oids.js';
import { KeyError } from '../errors.js';
import { type KeyFingerprint, PublicKey } from '../keys/keys.js';
import type { SignatureAlgorithm } from '../keys/signature.js';
import type { PublicKeyInfo } from '../keys/spki-info.js';
import type { Extension, GeneralName, KeyUsage } from './extensions.js';

/** Basic constraints (RFC 5280 §4.2.1.9) with their criticality. */
export interface CertificateBasicConstraints {
  /** Whether the subject is a CA. */
  readonly ca: boolean;
  /** Most intermediate CAs allowed below this one (absent: no limit). */
  readonly pathLength?: number;
  /** Whether the extension is marked critical. */
  readonly critical: boolean;
}

/** A public key in the JSON views. */
export interface PublicKeyJSON {
  /** `rsa`, `ec`, `ed25519` or `other`. */
  type: string;
  /** OpenSSL name of the key algorithm (`rsaEncryption`, `id-ecPublicKey`, `ED25519`, ...). */
  algorithm: string;
  /** Key size in bits. */
  bits?: number;
  /** Curve of an EC key (`P-256`, ...). */
  curve?: string;
  /** SHA-256 of the SubjectPublicKeyInfo, lower-case hex (DANE TLSA `3 1 1`). */
  spkiSha256: string;
}

/** A signature algorithm in the JSON views. */
export interface SignatureAlgorithmJSON {
  /** Dotted OID. */
  oid: string;
  /** OpenSSL name, e.g. `sha256WithRSAEncryption`. */
  name: string;
  /** WebCrypto hash name, e.g. `SHA-256`. */
  hash?: string;
}

/** A general name in the JSON views. */
export interface GeneralNameJSON {
  /** `dns`, `ip`, `email`, `uri`, `directoryName`, `otherName`, `registeredID`, ... */
  type: string;
  /** The text form (see {@link GeneralName}). */
  value: string;
}

/** Basic constraints in the JSON views. */
export interface BasicConstraintsJSON {
  /** Whether the subject is a CA. */
  ca: boolean;
  /** Path length limit, when set. */
  pathLength?: number;
  /** Whether the extension is critical. */
  critical: boolean;
}

/** The JSON fields a certificate and a CSR share (`CertificateJSON` has the same fields). */
interface KeyAndExtensionsJSON {
  publicKey: PublicKeyJSON;
  signatureAlgorithm: SignatureAlgorithmJSON;
  subjectAltNames: GeneralNameJSON[];
  basicConstraints?: BasicConstraintsJSON;
  keyUsage?: string[];
  extendedKeyUsage?: string[];
}

const EMPTY: readonly string[] = Object.freeze([]);

/** The base of the certificate and CSR views. */
export abstract class ExtensionView {
  /** The DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** Algorithm, size and curve of the key (also for algorithms mailtls does not support). */
  readonly publicKeyInfo: PublicKeyInfo;
  /** Every extension in order: unknown and malformed ones included. */
  readonly extensions: readonly Extension[];
  readonly #cache = new Map<string, unknown>();

  constructor(spki: Uint8Array, publicKeyInfo: PublicKeyInfo, extensions: readonly Extension[]) {
    this.spki = spki;
    this.publicKeyInfo = Object.freeze(publicKeyInfo);
    this.extensions = Object.freeze(extensions);
  }

  /** A value computed once and cached (the views are frozen; the cache is not part of their state). */
  protected memo<T>(key: string, make: () => T): T {
    if (this.#cache.has(key)) return this.#cache.get(key) as T;
    const v = make();
    this.#cache.set(key, v);
    return v;
  }

  getExtension(oidOrName: string): Extension | undefined {
    const oid = oidOf(oidOrName) ?? oidOrName;
    for (const e of this.extensions) if (e.oid === oid) return e;
    return undefined;
  }

  /** The decoded value of the first instance of an extension, if it is well formed. */
  protected parsedExtension<T>(oid: string): { value: T; critical: boolean } | undefined {
    const e = this.getExtension(oid);
    return e === undefined || e.parsed === undefined
      ? undefined
      : { value: e.parsed as T, critical: e.critical };
  }

  get publicKey(): PublicKey | undefined {
    return this.memo('publicKey', () => {
      if (this.publicKeyInfo.type === 'other') return undefined;
      try {
        return new PublicKey(this.spki);
      } catch (e) {
        if (e instanceof KeyError) return undefined;
        throw e;
      }
    });
  }

  get subjectAltNames(): readonly GeneralName[] | undefined {
    return this.memo('san', () => {
      const v = this.parsedExtension<GeneralName[]>(ExtensionOID.subjectAltName)?.value;
      return v === undefined ? undefined : Object.freeze(v);
    });
  }

  get hasSubjectAltName(): boolean {
    return this.getExtension(ExtensionOID.subjectAltName) !== undefined;
  }

  #sanValues(type: GeneralName['type']): readonly string[] {
    return this.memo(`san:${type}`, () => {
      const all = this.subjectAltNames;
      if (all === undefined) return EMPTY;
      const out: string[] = [];
      for (const n of all) if (n.type === type) out.push(n.value);
      return Object.freeze(out);
    });
  }

  get dnsNames(): readonly string[] {
    return this.#sanValues('dns');
  }

  get ipAddresses(): readonly string[] {
    return this.#sanValues('ip');
  }

  get emailAddresses(): readonly string[] {
    return this.#sanValues('email');
  }

  get uris(): readonly string[] {
    return this.#sanValues('uri');
  }

  get basicConstraints(): CertificateBasicConstraints | undefined {
    return this.memo('bc', () => {
      const p = this.parsedExtension<{ ca: boolean; pathLength?: number }>(ExtensionOID.basicConstraints);
      return p === undefined ? undefined : Object.freeze({ ...p.value, critical: p.critical });
    });
  }

  get keyUsage(): readonly KeyUsage[] | undefined {
    return this.memo('ku', () => {
      const p = this.parsedExtension<KeyUsage[]>(ExtensionOID.keyUsage);
      return p === undefined ? undefined : Object.freeze(p.value);
    });
  }

  get extendedKeyUsage(): readonly string[] | undefined {
    return this.memo('eku', () => {
      const p = this.parsedExtension<string[]>(ExtensionOID.extendedKeyUsage);
      return p === undefined ? undefined : Object.freeze(p.value);
    });
  }

  spkiFingerprint(): Readonly<KeyFingerprint> {
    return this.memo('spkiFp', () => {
      const d = sha256(this.spki);
      return Object.freeze({ sha256Hex: toHex(d), sha256Base64: toBase64(d) });
    });
  }

  /** The JSON fields both views share, in the order both print them. */
  protected keyAndExtensionsJSON(signatureAlgorithm: SignatureAlgorithm): KeyAndExtensionsJSON {
    const info = this.publicKeyInfo;
    const bc = this.basicConstraints;
    const ku = this.keyUsage;
    const eku = this.extendedKeyUsage;
    return {
      publicKey: {
        type: info.type,
        algorithm: info.algorithm,
        ...(info.bits === undefined ? {} : { bits: info.bits }),
        ...(info.curve === undefined ? {} : { curve: info.curve }),
        spkiSha256: this.spkiFingerprint().sha256Hex,
      },
      signatureAlgorithm: {
        oid: signatureAlgorithm.oid,
        name: signatureAlgorithm.name,
        ...(signatureAlgorithm.hash === undefined ? {} : { hash: signatureAlgorithm.hash }),
      },
      subjectAltNames: (this.subjectAltNames ?? []).map((n) => ({ type: n.type, value: n.value })),
      ...(bc === undefined ? {} : { basicConstraints: { ...bc } }),
      ...(ku === undefined ? {} : { keyUsage: [...ku] }),
      ...(eku === undefined ? {} : { extendedKeyUsage: [...eku] }),
    };
  }
}
