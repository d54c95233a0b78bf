/**
 * DER-level analysis and construction of key structures: SubjectPublicKeyInfo (RFC 5280/5480/8410),
 * PKCS#8 PrivateKeyInfo/OneAsymmetricKey (RFC 5208/5958), PKCS#1 RSAPrivateKey/RSAPublicKey (RFC 8017) and
 * SEC1 ECPrivateKey (RFC 5915). Internal: no classes, no WebCrypto; everything here is synchronous.
 *
 * Errors are {@link KeyError}s (`ERR_KEY_INVALID`, `ERR_KEY_UNSUPPORTED`); messages say which structure
 * broke and never contain key bytes.
 */

import { equalBytes } from '../encoding/bytes.js';
import {
  type DerNode,
  DerReader,
  decodeBitString,
  decodeOID,
  encodeBitString,
  encodeExplicit,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDer,
  Tag,
  tagName,
  valueBytes,
} from '../encoding/der.js';
import { DERError, KeyError } from '../errors.js';
import type { KeyType, NamedCurve } from './crypto.js';
import { CurveOID, KeyOID, UNSUPPORTED_CURVES, UNSUPPORTED_KEY_ALGORITHMS } from './key-oids.js';

/** Largest RSA modulus accepted (bits); larger keys are refused as a denial-of-service guard. */
export const MAX_RSA_BITS = 16384;

/** What a public key is, plus its canonical material for comparisons. */
export interface PublicKeyInfo {
  readonly type: KeyType;
  readonly bits?: number;
  readonly curve?: NamedCurve;
  /** True when the SPKI uses id-RSASSA-PSS rather than rsaEncryption. */
  readonly rsaPSS?: boolean;
  /**
   * Canonical key material: RSA: the DER RSAPublicKey; EC: the uncompressed point (0x04 || X || Y);
   * Ed25519: the 32 raw bytes. Two keys are the same key exactly when type, curve and material are equal.
   */
  readonly material: Uint8Array;
}

/** What a PKCS#8 private key is. */
export interface PrivateKeyInfo {
  readonly type: KeyType;
  readonly bits?: number;
  readonly curve?: NamedCurve;
  /** The PKCS#8 DER to keep (the input, or a normalised re-encoding of it). */
  readonly pkcs8: Uint8Array;
  /** The SPKI when the private structure carries the public key (RSA always; EC/Ed25519 when present). */
  readonly spki?: Uint8Array;
  /** The private scalar (EC) or seed (Ed25519): needed to re-encode SEC1. A view into `pkcs8`. */
  readonly inner: Uint8Array;
}

/** Throws ERR_KEY_INVALID with a message naming the broken structure. */
export function invalidKey(what: string, message: string, cause?: unknown): never {
  throw new KeyError('ERR_KEY_INVALID', `The ${what} is not valid: ${message}.`, {
    ...(cause === undefined ? {} : { cause }),
    details: { structure: what },
  });
}

/** Runs a DER-reading function, turning DER errors into ERR_KEY_INVALID naming the structure. */
export function withDER<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DERError) return invalidKey(what, e.message, e);
    throw e;
  }
}

// ---- curve data and point arithmetic (only what decompression and on-curve checks need) ----

interface CurveParams {
  readonly name: NamedCurve;
  readonly oid: string;
  readonly size: number;
  readonly p: bigint;
  readonly b: bigint;
}

const CURVES: readonly CurveParams[] = [
  {
    name: 'P-256',
    oid: CurveOID['P-256'],
    size: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  {
    name: 'P-384',
    oid: CurveOID['P-384'],
    size: 48,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  {
    name: 'P-521',
    oid: CurveOID['P-521'],
    size: 66,
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
];

/** Curve facts by name. */
export function curveByName(name: NamedCurve): CurveParams {
  return CURVES.find((c) => c.name === name)!;
}

/** Curve facts by OID, or a KeyError for an unknown/unsupported curve. */
export function curveByOID(oid: string): CurveParams {
  const c = CURVES.find((x) => x.oid === oid);
  if (c) return c;
  const known = UNSUPPORTED_CURVES[oid];
  throw new KeyError(
    'ERR_KEY_UNSUPPORTED',
    `The EC curve ${known ?? oid} is not supported: use P-256, P-384 or P-521 (e.g. \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out new.key\`).`,
    { details: { curve: known ?? oid } },
  );
}

function bytesToBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigToBytes(n: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  base %= m;
  while (exp > 0n) {
    if (exp & 1n) r = (r * base) % m;
    base = (base * base) % m;
    exp >>= 1n;
  }
  return r;
}

function curveRHS(c: CurveParams, x: bigint): bigint {
  // y^2 = x^3 - 3x + b (mod p) for the NIST prime curves
  const m = (((x * x) % c.p) * x - 3n * x + c.b) % c.p;
  return m < 0n ? m + c.p : m;
}

/**
 * Validates an EC point encoding (SEC1 2.3.4) on `curve` and returns the uncompressed form.
 * Throws ERR_KEY_INVALID when the encoding is malformed or the point is not on the curve.
 */
export function canonicalPoint(curve: CurveParams, point: Uint8Array, what: string): Uint8Array {
  const n = curve.size;
  const first = point[0];
  if (first === 0x04) {
    if (point.length !== 1 + 2 * n)
      invalidKey(what, `an uncompressed ${curve.name} point has ${1 + 2 * n} bytes, found ${point.length}`);
    const x = bytesToBig(point.subarray(1, 1 + n));
    const y = bytesToBig(point.subarray(1 + n));
    if (x >= curve.p || y >= curve.p || (y * y) % curve.p !== curveRHS(curve, x))
      invalidKey(what, `the public point is not on ${curve.name}`);
    return point;
  }
  if (first === 0x02 || first === 0x03) {
    if (point.length !== 1 + n)
      invalidKey(what, `a compressed ${curve.name} point has ${1 + n} bytes, found ${point.length}`);
    const x = bytesToBig(point.subarray(1));
    if (x >= curve.p) invalidKey(what, `the public point is not on ${curve.name}`);
    const rhs = curveRHS(curve, x);
    // p = 3 (mod 4) for P-256/384/521, so sqrt(a) = a^((p+1)/4)
    let y = modPow(rhs, (curve.p + 1n) / 4n, curve.p);
    if ((y * y) % curve.p !== rhs) invalidKey(what, `the public point is not on ${curve.name}`);
    if ((y & 1n) !== BigInt(first & 1)) y = curve.p - y;
    const out = new Uint8Array(1 + 2 * n);
    out[0] = 4;
    out.set(bigToBytes(x, n), 1);
    out.set(bigToBytes(y, n), 1 + n);
    return out;
  }
  return invalidKey(what, 'the EC point encoding is neither compressed nor uncompressed');
}

// ---- small readers ----

/** Magnitude of a non-negative, minimally encoded INTEGER without its leading zero (no bigint: cheap). */
export function unsignedMagnitude(node: DerNode, what: string, field: string): Uint8Array {
  if (node.tag !== Tag.INTEGER) invalidKey(what, `${field} must be an INTEGER, found ${tagName(node.tag)}`);
  const v = valueBytes(node);
  if (v.length === 0) invalidKey(what, `${field} is an empty INTEGER`);
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0)))
    invalidKey(what, `${field} is not minimally encoded`);
  if (v[0]! & 0x80) invalidKey(what, `${field} is negative`);
  return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
}

function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]!));
}

function smallVersion(node: DerNode, what: string): number {
  const mag = unsignedMagnitude(node, what, 'the version');
  if (mag.length > 1) invalidKey(what, 'the version number is out of range');
  return mag[0]!;
}

interface AlgorithmId {
  readonly oid: string;
  /** The parameters element, if any. */
  readonly params?: DerNode;
}

function readAlgorithm(node: DerNode, what: string): AlgorithmId {
  if (node.tag !== Tag.SEQUENCE) invalidKey(what, 'the algorithm identifier is not a SEQUENCE');
  const r = DerReader.of(node);
  const oid = decodeOID(r.expect(Tag.OID, 'algorithm OID'));
  const params = r.atEnd ? undefined : r.next('parameters');
  r.done('AlgorithmIdentifier');
  return params === undefined ? { oid } : { oid, params };
}

function isNull(node: DerNode | undefined): boolean {
  return node !== undefined && node.tag === Tag.NULL && node.end === node.valueStart;
}

/** Throws ERR_KEY_UNSUPPORTED for a recognised-but-unsupported or unknown key algorithm. */
function unsupportedAlgorithm(oid: string, kind: 'public' | 'private'): never {
  const name = UNSUPPORTED_KEY_ALGORITHMS[oid];
  const advice =
    kind === 'private'
      ? 'mail servers need an RSA, ECDSA (P-256/P-384/P-521) or Ed25519 key; create one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out new.key` or mailtls generateKeyPair()'
      : 'mailtls supports RSA, ECDSA (P-256/P-384/P-521) and Ed25519 keys';
  const what = name === undefined ? `key algorithm ${oid}` : `${name} key`;
  throw new KeyError('ERR_KEY_UNSUPPORTED', `This ${what} is not supported: ${advice}.`, {
    details: { algorithm: name ?? oid },
  });
}

function curveFromParams(params: DerNode | undefined, what: string): CurveParams {
  if (params === undefined) invalidKey(what, 'the EC key has no curve parameters');
  if (params.tag === Tag.SEQUENCE)
    throw new KeyError(
      'ERR_KEY_UNSUPPORTED',
      'This EC key spells out explicit curve parameters instead of naming its curve; convert it with `openssl pkey -in old.key -out new.key` (OpenSSL 3 writes the named curve) or, for OpenSSL 1.x, `openssl ec -in old.key -param_enc named_curve -out new.key`.',
      { details: { reason: 'explicit-ec-parameters' } },
    );
  if (params.tag === Tag.NULL)
    throw new KeyError(
      'ERR_KEY_UNSUPPORTED',
      'This EC key inherits its curve from a CA (implicitlyCA); it needs a named curve.',
      { details: { reason: 'implicit-ca' } },
    );
  if (params.tag !== Tag.OID) invalidKey(what, 'the EC curve parameter is not an OBJECT IDENTIFIER');
  return curveByOID(decodeOID(params));
}

// ---- SubjectPublicKeyInfo ----

/**
 * Reads a DER SubjectPublicKeyInfo. Cheap: no bigint arithmetic except for EC on-curve checks.
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export function analyzeSPKI(spki: Uint8Array): PublicKeyInfo {
  const what = 'SubjectPublicKeyInfo';
  return withDER(what, () => {
    const root = parseDer(spki);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'it is not a DER SEQUENCE');
    const r = DerReader.of(root);
    const alg = readAlgorithm(r.expect(Tag.SEQUENCE, 'algorithm'), what);
    const bits = decodeBitString(r.expect(Tag.BIT_STRING, 'subjectPublicKey'));
    r.done(what);
    if (bits.unusedBits !== 0) invalidKey(what, 'the public key BIT STRING has unused bits');
    return analyzePublicMaterial(alg, bits.bytes, what);
  });
}

function analyzePublicMaterial(alg: AlgorithmId, key: Uint8Array, what: string): PublicKeyInfo {
  switch (alg.oid) {
    case KeyOID.rsaEncryption: {
      if (alg.params !== undefined && !isNull(alg.params))
        invalidKey(what, 'rsaEncryption parameters must be NULL');
      return { ...analyzeRSAPublicKey(key, what), type: 'rsa' };
    }
    case KeyOID.rsassaPSS: {
      if (alg.params !== undefined && alg.params.tag !== Tag.SEQUENCE)
        invalidKey(what, 'RSASSA-PSS parameters must be a SEQUENCE');
      return { ...analyzeRSAPublicKey(key, what), type: 'rsa', rsaPSS: true };
    }
    case KeyOID.ecPublicKey: {
      const curve = curveFromParams(alg.params, what);
      return { type: 'ec', curve: curve.name, material: canonicalPoint(curve, key, what) };
    }
    case KeyOID.ed25519: {
      if (alg.params !== undefined) invalidKey(what, 'Ed25519 keys take no algorithm parameters');
      if (key.length !== 32) invalidKey(what, `an Ed25519 public key has 32 bytes, found ${key.length}`);
      return { type: 'ed25519', material: key };
    }
    default:
      return unsupportedAlgorithm(alg.oid, 'public');
  }
}

/** Reads a DER RSAPublicKey (PKCS#1), returning bits and the canonical material. */
export function analyzeRSAPublicKey(
  der: Uint8Array,
  what = 'RSA public key',
): { bits: number; material: Uint8Array } {
  return withDER(what, () => {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'the RSAPublicKey is not a SEQUENCE');
    const r = DerReader.of(root);
    const n = unsignedMagnitude(r.next('modulus'), what, 'the modulus');
    const e = unsignedMagnitude(r.next('publicExponent'), what, 'the public exponent');
    r.done('RSAPublicKey');
    checkRSANumbers(n, e, what);
    return { bits: bitLength(n), material: der };
  });
}

function checkRSANumbers(n: Uint8Array, e: Uint8Array, what: string): void {
  const bits = bitLength(n);
  if (bits < 512) invalidKey(what, `the RSA modulus has only ${bits} bits`);
  if (bits > MAX_RSA_BITS)
    throw new KeyError('ERR_KEY_UNSUPPORTED', `RSA keys over ${MAX_RSA_BITS} bits are not supported.`, {
      details: { bits },
    });
  if ((n[n.length - 1]! & 1) === 0) invalidKey(what, 'the RSA modulus is even');
  if ((e[e.length - 1]! & 1) === 0 || bitLength(e) < 2 || e.length > 8)
    invalidKey(what, 'the RSA public exponent must be odd, at least 3 and at most 64 bits');
}

/** Encodes an SPKI from a type and canonical material. */
export function encodeSPKI(type: KeyType, material: Uint8Array, curve?: NamedCurve): Uint8Array {
  switch (type) {
    case 'rsa':
      return encodeSequence(
        encodeSequence(encodeOID(KeyOID.rsaEncryption), encodeNull()),
        encodeBitString(material),
      );
    case 'ec':
      return encodeSequence(
        encodeSequence(encodeOID(KeyOID.ecPublicKey), encodeOID(curveByName(curve!).oid)),
        encodeBitString(material),
      );
    case 'ed25519':
      return encodeSequence(encodeSequence(encodeOID(KeyOID.ed25519)), encodeBitString(material));
  }
}

// ---- PKCS#8 ----

/**
 * Reads a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (v1 or v2).
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export function analyzePKCS8(der: Uint8Array): PrivateKeyInfo {
  const what = 'PKCS#8 private key';
  return withDER(what, () => {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'it is not a DER SEQUENCE');
    const r = DerReader.of(root);
    const version = smallVersion(r.expect(Tag.INTEGER, 'version'), what);
    if (version > 1) invalidKey(what, `unknown version ${version}`);
    const alg = readAlgorithm(r.expect(Tag.SEQUENCE, 'privateKeyAlgorithm'), what);
    const privateKey = valueBytes(r.expect(Tag.OCTET_STRING, 'privateKey'));
    r.optional(0xa0); // attributes [0] IMPLICIT SET
    const pub = r.optional(0x81); // publicKey [1] IMPLICIT BIT STRING (v2 only)
    r.done('PrivateKeyInfo');
    if (pub !== undefined && version !== 1) invalidKey(what, 'a version 1 key may not carry a public key');
    let pubBytes: Uint8Array | undefined;
    if (pub !== undefined) {
      const v = valueBytes(pub);
      if (v.length < 1 || v[0] !== 0) invalidKey(what, 'the public key BIT STRING has unused bits');
      pubBytes = v.subarray(1);
    }
    switch (alg.oid) {
      case KeyOID.rsaEncryption: {
        if (alg.params !== undefined && !isNull(alg.params))
          invalidKey(what, 'rsaEncryption parameters must be NULL');
        const rsa = analyzeRSAPrivateKey(privateKey);
        return {
          type: 'rsa',
          bits: rsa.bits,
          pkcs8: der,
          spki: encodeSPKI('rsa', rsa.publicKey),
          inner: privateKey,
        };
      }
      case KeyOID.ecPublicKey: {
        const curve = curveFromParams(alg.params, what);
        const ec = analyzeECPrivateKey(privateKey, curve);
        let point = ec.publicKey;
        if (pubBytes !== undefined) {
          const outer = canonicalPoint(curve, pubBytes, what);
          if (point !== undefined && !equalBytes(point, outer))
            invalidKey(what, 'the two copies of the public key differ');
          point = outer;
        }
        const pkcs8 =
          ec.canonical === privateKey
            ? der
            : encodePKCS8(KeyOID.ecPublicKey, encodeOID(curve.oid), encodeECPrivateKey(curve, ec.d, point));
        return {
          type: 'ec',
          curve: curve.name,
          pkcs8,
          ...(point === undefined ? {} : { spki: encodeSPKI('ec', point, curve.name) }),
          inner: ec.d,
        };
      }
      case KeyOID.ed25519: {
        if (alg.params !== undefined) invalidKey(what, 'Ed25519 keys take no algorithm parameters');
        const seed = withDER(what, () => {
          const n = parseDer(privateKey);
          if (n.tag !== Tag.OCTET_STRING) invalidKey(what, 'the Ed25519 private key is not an OCTET STRING');
          return valueBytes(n);
        });
        if (seed.length !== 32) invalidKey(what, `an Ed25519 private key has 32 bytes, found ${seed.length}`);
        if (pubBytes !== undefined && pubBytes.length !== 32)
          invalidKey(what, `an Ed25519 public key has 32 bytes, found ${pubBytes.length}`);
        return {
          type: 'ed25519',
          pkcs8: der,
          ...(pubBytes === undefined ? {} : { spki: encodeSPKI('ed25519', pubBytes) }),
          inner: seed,
        };
      }
      default:
        return unsupportedAlgorithm(alg.oid, 'private');
    }
  });
}

/** Encodes a PKCS#8 v1 PrivateKeyInfo. */
export function encodePKCS8(
  algOID: string,
  params: Uint8Array | undefined,
  privateKey: Uint8Array,
): Uint8Array {
  const alg =
    params === undefined ? encodeSequence(encodeOID(algOID)) : encodeSequence(encodeOID(algOID), params);
  return encodeSequence(encodeInteger(0), alg, encodeOctetString(privateKey));
}

/**
 * Reads a DER RSAPrivateKey (PKCS#1, two-prime). Returns bits and the DER RSAPublicKey.
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export function analyzeRSAPrivateKey(der: Uint8Array): { bits: number; publicKey: Uint8Array } {
  const what = 'RSA private key';
  return withDER(what, () => {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'the RSAPrivateKey is not a SEQUENCE');
    const r = DerReader.of(root);
    const version = smallVersion(r.expect(Tag.INTEGER, 'version'), what);
    if (version === 1)
      throw new KeyError(
        'ERR_KEY_UNSUPPORTED',
        'Multi-prime RSA keys are not supported: create a standard two-prime key (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out new.key`).',
        { details: { reason: 'multi-prime' } },
      );
    if (version !== 0) invalidKey(what, `unknown version ${version}`);
    const nNode = r.next('modulus');
    const eNode = r.next('publicExponent');
    const names = ['privateExponent', 'prime1', 'prime2', 'exponent1', 'exponent2', 'coefficient'];
    const n = unsignedMagnitude(nNode, what, 'the modulus');
    const e = unsignedMagnitude(eNode, what, 'the public exponent');
    for (const name of names) {
      const m = unsignedMagnitude(r.next(name), what, `the ${name}`);
      if (bitLength(m) === 0) invalidKey(what, `the ${name} is zero`);
    }
    r.done('RSAPrivateKey');
    checkRSANumbers(n, e, what);
    return { bits: bitLength(n), publicKey: encodeSequence(encodeInteger(n), encodeInteger(e)) };
  });
}

/**
 * Reads a DER ECPrivateKey (SEC1 / RFC 5915). `curve` is the curve the container names (PKCS#8); for a
 * bare SEC1 key pass undefined and the [0] parameters decide.
 * @throws KeyError ERR_KEY_INVALID, ERR_KEY_UNSUPPORTED
 */
export function analyzeECPrivateKey(
  der: Uint8Array,
  curve?: CurveParams,
): { curve: CurveParams; d: Uint8Array; publicKey?: Uint8Array; canonical: Uint8Array } {
  const what = 'EC private key';
  return withDER(what, () => {
    const root = parseDer(der);
    if (root.tag !== Tag.SEQUENCE) invalidKey(what, 'the ECPrivateKey is not a SEQUENCE');
    const r = DerReader.of(root);
    const version = smallVersion(r.expect(Tag.INTEGER, 'version'), what);
    if (version !== 1) invalidKey(what, `unknown version ${version}`);
    let d = valueBytes(r.expect(Tag.OCTET_STRING, 'privateKey'));
    const paramsNode = r.optional(0xa0);
    const pubNode = r.optional(0xa1);
    r.done('ECPrivateKey');
    let c = curve;
    if (paramsNode !== undefined) {
      const inner = DerReader.of(paramsNode);
      const pc = curveFromParams(inner.next('parameters'), what);
      inner.done('[0] parameters');
      if (c !== undefined && c.oid !== pc.oid) invalidKey(what, 'the inner and outer curve names differ');
      c = pc;
    }
    if (c === undefined) invalidKey(what, 'the key names no curve');
    let publicKey: Uint8Array | undefined;
    let keepAsIs = paramsNode === undefined;
    if (pubNode !== undefined) {
      const inner = DerReader.of(pubNode);
      const bs = decodeBitString(inner.expect(Tag.BIT_STRING, 'publicKey'));
      inner.done('[1] publicKey');
      if (bs.unusedBits !== 0) invalidKey(what, 'the public key BIT STRING has unused bits');
      publicKey = canonicalPoint(c, bs.bytes, what);
      if (publicKey !== bs.bytes) keepAsIs = false;
    }
    if (d.length === 0 || d.length > c.size)
      invalidKey(what, `a ${c.name} private key has ${c.size} bytes, found ${d.length}`);
    if (d.every((x) => x === 0)) invalidKey(what, 'the private scalar is zero');
    if (d.length < c.size) {
      const full = new Uint8Array(c.size);
      full.set(d, c.size - d.length);
      d = full;
      keepAsIs = false;
    }
    const canonical = keepAsIs ? der : encodeECPrivateKey(c, d, publicKey);
    return { curve: c, d, ...(publicKey === undefined ? {} : { publicKey }), canonical };
  });
}

/** Encodes an ECPrivateKey; `withCurve` adds the [0] named-curve parameters (for SEC1 files). */
export function encodeECPrivateKey(
  curve: CurveParams,
  d: Uint8Array,
  publicKey: Uint8Array | undefined,
  withCurve = false,
): Uint8Array {
  const parts = [encodeInteger(1), encodeOctetString(d)];
  if (withCurve) parts.push(encodeExplicit(0, encodeOID(curve.oid)));
  if (publicKey !== undefined) parts.push(encodeExplicit(1, encodeBitString(publicKey)));
  return encodeSequence(...parts);
}

/** Wraps a PKCS#1 RSAPrivateKey in PKCS#8. */
export function pkcs1ToPKCS8(der: Uint8Array): Uint8Array {
  analyzeRSAPrivateKey(der);
  return encodePKCS8(KeyOID.rsaEncryption, encodeNull(), der);
}

/** Wraps a SEC1 ECPrivateKey (named curve in [0]) in PKCS#8, as OpenSSL writes it. */
export function sec1ToPKCS8(der: Uint8Array): Uint8Array {
  const ec = analyzeECPrivateKey(der);
  return encodePKCS8(
    KeyOID.ecPublicKey,
    encodeOID(ec.curve.oid),
    encodeECPrivateKey(ec.curve, ec.d, ec.publicKey),
  );
}

/** The PKCS#1 RSAPrivateKey inside an RSA PKCS#8 key. */
export function pkcs8Inner(pkcs8: Uint8Array): Uint8Array {
  return withDER('PKCS#8 private key', () => {
    const r = DerReader.of(parseDer(pkcs8));
    r.next('version');
    r.next('algorithm');
    return valueBytes(r.expect(Tag.OCTET_STRING, 'privateKey'));
  });
}
