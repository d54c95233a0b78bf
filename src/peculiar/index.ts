/**
 * mailtls with the `@peculiar/x509` stack: objects of that library in, the same objects back out, and
 * mailtls's keys as the `CryptoKey`s its generators sign with.
 *
 * Every mailtls function that takes a certificate, a CSR or a list of certificates already accepts
 * `@peculiar/x509`'s `X509Certificate`, `Pkcs10CertificateRequest` and `X509Certificates` (and node:crypto's
 * `X509Certificate`): their DER is read as it is, never re-encoded, and the root `mailtls` never loads
 * `@peculiar/x509` to do so. This subpath adds the way back, and loads `@peculiar/x509` and the
 * `reflect-metadata` polyfill it needs: both are optional peer dependencies of mailtls, installed by the
 * application that uses this subpath (`npm install @peculiar/x509 reflect-metadata`).
 *
 * Nothing here sets `@peculiar/x509`'s process-wide crypto provider: every function that needs WebCrypto takes
 * `{ crypto }` (default `globalThis.crypto`), and `@peculiar/x509`'s generators take it as their second
 * argument.
 *
 * @example
 * ```ts
 * import { X509Certificate, X509Certificates } from '@peculiar/x509';
 * import { assembleChain } from 'mailtls';
 * import { toPeculiarCertificates } from 'mailtls/peculiar';
 * const chain = await assembleChain(new X509Certificate(leafPem), new X509Certificates(bundlePem));
 * const back: X509Certificates = toPeculiarCertificates(chain);
 * ```
 *
 * @module peculiar
 */
import 'reflect-metadata';
import {
  PublicKey as PeculiarPublicKey,
  Pkcs10CertificateRequest,
  X509Certificate,
  X509Certificates,
} from '@peculiar/x509';
import {
  type AssembledChain,
  type Certificate,
  type CertificateInput,
  type CertificateSigningRequest,
  type CertificateSource,
  type CryptoOptions,
  isCertificate,
  type ParseCertificateOptions,
  type ParseCSROptions,
  PrivateKey,
  PublicKey,
  parseCertificate,
  parseCertificateBundle,
  parseCSR,
  type VerifiedChain,
} from '../index.js';

/** mailtls's views hold plain (not shared) buffers; @peculiar/x509's types ask for that in the type. */
function bytes(der: Uint8Array): Uint8Array<ArrayBuffer> {
  return der as Uint8Array<ArrayBuffer>;
}

/**
 * Reads an `@peculiar/x509` certificate as a mailtls {@link Certificate} view, from its DER as it is (the
 * bytes it was parsed from; no re-encoding). The same as `parseCertificate(cert)`, with the type of that
 * library.
 *
 * @param cert - An `X509Certificate` of `@peculiar/x509`.
 * @param options - Limits, as for `parseCertificate`.
 * @throws CertificateError `ERR_CERT_INVALID` when the DER is malformed or over `maxBytes`.
 * @throws TypeError when `cert` is not an `X509Certificate`.
 * @example
 * ```ts
 * const cert = fromPeculiarCertificate(new X509Certificate(pem));
 * console.log(cert.dnsNames);
 * ```
 */
export function fromPeculiarCertificate(
  cert: X509Certificate,
  options: ParseCertificateOptions = {},
): Certificate {
  if (!(cert instanceof X509Certificate))
    throw new TypeError('fromPeculiarCertificate expects an X509Certificate of @peculiar/x509');
  return parseCertificate(cert, options);
}

/**
 * Reads an `@peculiar/x509` certificate list (`X509Certificates`, or any array of its `X509Certificate`) as
 * mailtls {@link Certificate} views, in order.
 *
 * @param certs - The certificates.
 * @param options - Limits, as for `parseCertificate`.
 * @throws CertificateError `ERR_CERT_INVALID` when one is malformed.
 * @throws TypeError when `certs` is not a list of `X509Certificate`s.
 * @example
 * ```ts
 * const pool = fromPeculiarCertificates(new X509Certificates(bundlePem));
 * ```
 */
export function fromPeculiarCertificates(
  certs: X509Certificates | readonly X509Certificate[],
  options: ParseCertificateOptions = {},
): Certificate[] {
  if (!Array.isArray(certs))
    throw new TypeError('fromPeculiarCertificates expects X509Certificates or an array');
  return certs.map((c: X509Certificate) => fromPeculiarCertificate(c, options));
}

/**
 * Reads an `@peculiar/x509` `Pkcs10CertificateRequest` as a mailtls CSR view, from its DER as it is.
 *
 * @param csr - The request.
 * @param options - Limits, as for `parseCSR`.
 * @throws CSRError `ERR_CSR_INVALID` when the DER is malformed.
 * @throws TypeError when `csr` is not a `Pkcs10CertificateRequest`.
 * @example
 * ```ts
 * const view = fromPeculiarCSR(await Pkcs10CertificateRequestGenerator.create({ ... }));
 * console.log(view.subject.toString());
 * ```
 */
export function fromPeculiarCSR(
  csr: Pkcs10CertificateRequest,
  options: ParseCSROptions = {},
): CertificateSigningRequest {
  if (!(csr instanceof Pkcs10CertificateRequest))
    throw new TypeError('fromPeculiarCSR expects a Pkcs10CertificateRequest of @peculiar/x509');
  return parseCSR(csr, options);
}

/**
 * An `@peculiar/x509` `X509Certificate` of a certificate mailtls holds, made from its DER (not re-encoded).
 *
 * @param cert - A parsed certificate, PEM text (its first certificate), DER, or another library's
 *   `X509Certificate`.
 * @throws CertificateError `ERR_CERT_INVALID` and the PEM codes when `cert` must be parsed first and cannot be.
 * @throws TypeError for another input type.
 * @example
 * ```ts
 * const peculiar = toPeculiarCertificate(parseCertificate(pem));
 * console.log(peculiar.subject);
 * ```
 */
export function toPeculiarCertificate(cert: CertificateInput): X509Certificate {
  const view = isCertificate(cert) ? cert : parseCertificate(cert);
  return new X509Certificate(bytes(view.der));
}

/**
 * An `@peculiar/x509` `X509Certificates` list: the certificates of an assembled or verified chain in path
 * order, or of any certificate source (a PEM bundle, DER, a list).
 *
 * @param source - An {@link AssembledChain}, a {@link VerifiedChain}, or certificates in any accepted form.
 * @throws CertificateError `ERR_CERT_INVALID` and the PEM codes when the source cannot be read.
 * @throws TypeError for another input type.
 * @example
 * ```ts
 * const chain = await assembleChain(leaf, bundle);
 * const list = toPeculiarCertificates(chain); // leaf first
 * ```
 */
export function toPeculiarCertificates(
  source: CertificateSource | AssembledChain | VerifiedChain,
): X509Certificates {
  const out = new X509Certificates();
  for (const c of certificatesOf(source)) out.push(new X509Certificate(bytes(c.der)));
  return out;
}

function certificatesOf(source: CertificateSource | AssembledChain | VerifiedChain): readonly Certificate[] {
  if (typeof source === 'object' && source !== null && !Array.isArray(source) && 'certificates' in source) {
    const list = (source as { certificates: unknown }).certificates;
    if (Array.isArray(list) && list.every(isCertificate)) return list;
  }
  if (typeof source === 'string' || source instanceof Uint8Array)
    return parseCertificateBundle(source).certificates;
  const list = Array.isArray(source) ? (source as readonly CertificateInput[]) : [source as CertificateInput];
  return list.map((c) => (isCertificate(c) ? c : parseCertificate(c)));
}

/**
 * An `@peculiar/x509` `Pkcs10CertificateRequest` of a CSR mailtls made or read, from its DER (not re-encoded).
 *
 * @param csr - A parsed CSR, PEM text or DER.
 * @throws CSRError `ERR_CSR_INVALID` and the PEM codes when `csr` must be parsed first and cannot be.
 * @throws TypeError for another input type.
 * @example
 * ```ts
 * const { csrPEM } = await createCSR({ subject: { commonName: 'example.com' } });
 * const request = toPeculiarCSR(csrPEM);
 * console.log(await request.verify());
 * ```
 */
export function toPeculiarCSR(
  csr: CertificateSigningRequest | string | Uint8Array,
): Pkcs10CertificateRequest {
  const view = typeof csr === 'string' || csr instanceof Uint8Array ? parseCSR(csr) : csr;
  if (typeof view !== 'object' || view === null || !(view.der instanceof Uint8Array))
    throw new TypeError('toPeculiarCSR expects a CSR from parseCSR, PEM text or DER bytes');
  return new Pkcs10CertificateRequest(bytes(view.der));
}

/**
 * An `@peculiar/x509` `PublicKey` of a mailtls public key (or of a private key's public half), from its
 * SubjectPublicKeyInfo: the `publicKey` that `X509CertificateGenerator.create` puts in a certificate.
 *
 * @throws TypeError when `key` is neither a PublicKey nor a PrivateKey.
 * @example
 * ```ts
 * const publicKey = toPeculiarPublicKey(csr.key);
 * ```
 */
export function toPeculiarPublicKey(key: PublicKey | PrivateKey): PeculiarPublicKey {
  const pub = key instanceof PrivateKey ? key.publicKey : key;
  if (!(pub instanceof PublicKey)) throw new TypeError('key must be a PublicKey or PrivateKey of mailtls');
  return new PeculiarPublicKey(bytes(pub.spki));
}

/** The algorithm `@peculiar/x509`'s generators sign with (their `signingAlgorithm` parameter). */
export interface PeculiarSigningAlgorithm {
  /** `RSASSA-PKCS1-v1_5`, `ECDSA` or `Ed25519`. */
  readonly name: string;
  /** `SHA-256`, `SHA-384` or `SHA-512`; absent for Ed25519. */
  readonly hash?: string;
}

/** A mailtls key as `CryptoKey`s, and the algorithm to sign with: what `@peculiar/x509`'s generators take. */
export interface PeculiarKeyPair extends CryptoKeyPair {
  /** The algorithm mailtls itself signs with for this key (`PrivateKey.signingAlgorithm()`). */
  readonly signingAlgorithm: PeculiarSigningAlgorithm;
}

/**
 * A mailtls private key as a WebCrypto key pair for `@peculiar/x509`'s generators: `privateKey` signs (not
 * extractable), `publicKey` verifies and can be exported (the generators put its SPKI in the certificate or
 * request). `signingAlgorithm` is what mailtls signs with for this key: RSASSA-PKCS1-v1_5 with SHA-256, ECDSA
 * with the curve's hash, or Ed25519.
 *
 * @param key - A key mailtls generated or read.
 * @param options - `{ crypto }`: the WebCrypto implementation (default `globalThis.crypto`).
 * @throws KeyError `ERR_KEY_UNSUPPORTED` when the provider cannot import the key.
 * @throws TypeError when `key` is not a PrivateKey, or no WebCrypto is available.
 * @example
 * ```ts
 * const keys = await toCryptoKeyPair(await generateKeyPair({ type: 'ec' }));
 * const cert = await X509CertificateGenerator.createSelfSigned({
 *   name: 'CN=mail.example.com', keys, signingAlgorithm: keys.signingAlgorithm,
 * }, crypto);
 * ```
 */
export async function toCryptoKeyPair(
  key: PrivateKey,
  options: CryptoOptions = {},
): Promise<PeculiarKeyPair> {
  if (!(key instanceof PrivateKey)) throw new TypeError('toCryptoKeyPair expects a PrivateKey of mailtls');
  const alg = key.signingAlgorithm();
  const signingAlgorithm: PeculiarSigningAlgorithm =
    alg.hash === undefined ? { name: alg.name } : { name: alg.name, hash: alg.hash };
  const hash = alg.hash as 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
  const [privateKey, publicKey] = await Promise.all([
    key.importSigningKey(options),
    key.publicKey.importCryptoKey(hash === undefined || key.type !== 'rsa' ? options : { ...options, hash }),
  ]);
  return Object.freeze({ privateKey, publicKey, signingAlgorithm });
}
