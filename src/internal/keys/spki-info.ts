/**
 * A cheap, never-failing look at a SubjectPublicKeyInfo for the certificate and CSR views: algorithm,
 * size/curve and the raw numbers to print. Internal. Validation of the key itself (on-curve points, RSA
 * numbers) is {@link PublicKey}'s job; this reader only needs to tell an administrator what the key is, also
 * for algorithms mailtls does not support (DSA, X25519, brainpool curves...).
 */
import {
  DerReader,
  decodeBitString,
  decodeOID,
  parseDer,
  rawOf,
  readNode,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { oidLongName } from '../encoding/oids.js';

/** What a certificate's or CSR's public key is. */
export interface PublicKeyInfo {
  /** `rsa`, `ec`, `ed25519`, or `other` for algorithms mailtls cannot use (DSA, X25519, Ed448, ...). */
  readonly type: 'rsa' | 'ec' | 'ed25519' | 'other';
  /** Dotted OID of the key algorithm (e.g. `1.2.840.113549.1.1.1`). */
  readonly oid: string;
  /** OpenSSL name of the key algorithm (`rsaEncryption`, `id-ecPublicKey`, `ED25519`, `DSA`, ...). */
  readonly algorithm: string;
  /** Key size in bits (RSA modulus size; curve size for EC; 256 for Ed25519). */
  readonly bits?: number;
  /** Curve name for EC keys: `P-256`, `P-384`, `P-521`, or another curve's name/OID. */
  readonly curve?: string;
  /** Dotted OID of the curve (EC). */
  readonly curveOid?: string;
  /** True for an RSA key restricted to RSA-PSS (id-RSASSA-PSS). */
  readonly rsaPSS?: boolean;
}

/** Raw public numbers for text dumps. */
export interface PublicKeyNumbers {
  readonly modulus?: Uint8Array;
  readonly exponent?: bigint;
  /** EC point or Ed25519 key bytes, or the raw BIT STRING for other algorithms. */
  readonly publicBytes?: Uint8Array;
}

const CURVE_BITS: Readonly<Record<string, readonly [string, number]>> = {
  '1.2.840.10045.3.1.7': ['P-256', 256],
  '1.3.132.0.34': ['P-384', 384],
  '1.3.132.0.35': ['P-521', 521],
  '1.3.132.0.10': ['secp256k1', 256],
  '1.2.840.10045.3.1.1': ['P-192', 192],
  '1.3.132.0.33': ['P-224', 224],
  '1.3.36.3.3.2.8.1.1.7': ['brainpoolP256r1', 256],
  '1.3.36.3.3.2.8.1.1.11': ['brainpoolP384r1', 384],
  '1.3.36.3.3.2.8.1.1.13': ['brainpoolP512r1', 512],
};

function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]!));
}

/**
 * Reads the algorithm and size of an SPKI. The SPKI envelope must be valid DER (the certificate parser has
 * checked that); an inner key that cannot be read gives the info without `bits`.
 */
export function spkiInfo(spki: Uint8Array): PublicKeyInfo {
  const root = parseDer(spki);
  const r = DerReader.of(root, 'SubjectPublicKeyInfo');
  const alg = DerReader.of(r.expect(Tag.SEQUENCE, 'algorithm'), 'AlgorithmIdentifier');
  const oid = decodeOID(alg.expect(Tag.OID, 'algorithm'));
  const params = alg.peek();
  const key = decodeBitString(r.expect(Tag.BIT_STRING, 'subjectPublicKey'));
  r.done('SubjectPublicKeyInfo');
  const algorithm = oidLongName(oid);
  switch (oid) {
    case '1.2.840.113549.1.1.1':
    case '1.2.840.113549.1.1.10': {
      const rsaPSS = oid === '1.2.840.113549.1.1.10';
      const base = { type: 'rsa' as const, oid, algorithm, ...(rsaPSS ? { rsaPSS } : {}) };
      try {
        const k = DerReader.of(parseDer(key.bytes), 'RSAPublicKey');
        const n = k.expect(Tag.INTEGER, 'modulus');
        return { ...base, bits: bitLength(valueBytes(n)) };
      } catch {
        return base;
      }
    }
    case '1.2.840.10045.2.1': {
      if (params?.tag === Tag.OID) {
        const curveOid = decodeOID(params);
        const known = CURVE_BITS[curveOid];
        return known === undefined
          ? { type: 'ec', oid, algorithm, curve: curveOid, curveOid }
          : { type: 'ec', oid, algorithm, curve: known[0], curveOid, bits: known[1] };
      }
      return { type: 'ec', oid, algorithm, curve: 'explicit parameters' };
    }
    case '1.3.101.112':
      return { type: 'ed25519', oid, algorithm, bits: 256 };
    case '1.2.840.10040.4.1':
      // DSA: the size is that of the prime p in the Dss-Parms.
      if (params?.tag === Tag.SEQUENCE) {
        const p = readNode(params.bytes, params.valueStart, params.end);
        if (p.tag === Tag.INTEGER) return { type: 'other', oid, algorithm, bits: bitLength(valueBytes(p)) };
      }
      return { type: 'other', oid, algorithm };
    default:
      return { type: 'other', oid, algorithm };
  }
}

/** The raw numbers of an SPKI, for dumps; never throws (missing parts are left out). */
export function spkiNumbers(spki: Uint8Array): PublicKeyNumbers {
  try {
    const r = DerReader.of(parseDer(spki));
    const alg = DerReader.of(r.expect(Tag.SEQUENCE, 'algorithm'));
    const oid = decodeOID(alg.expect(Tag.OID, 'algorithm'));
    const key = decodeBitString(r.expect(Tag.BIT_STRING, 'subjectPublicKey')).bytes;
    if (oid === '1.2.840.113549.1.1.1' || oid === '1.2.840.113549.1.1.10') {
      try {
        const k = DerReader.of(parseDer(key));
        const n = k.expect(Tag.INTEGER, 'modulus');
        const e = k.expect(Tag.INTEGER, 'exponent');
        let exponent = 0n;
        for (const b of valueBytes(e)) exponent = (exponent << 8n) | BigInt(b);
        return { modulus: valueBytes(n), exponent };
      } catch {
        return { publicBytes: key };
      }
    }
    return { publicBytes: key };
  } catch {
    return {};
  }
}

/** The raw AlgorithmIdentifier parameters of an SPKI (e.g. RSA-PSS restrictions), or undefined. */
export function spkiParams(spki: Uint8Array): Uint8Array | undefined {
  const r = DerReader.of(parseDer(spki));
  const alg = DerReader.of(r.expect(Tag.SEQUENCE, 'algorithm'));
  alg.expect(Tag.OID, 'algorithm');
  const p = alg.peek();
  return p === undefined ? undefined : rawOf(p);
}
