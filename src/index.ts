/**
 * mailtls: TLS certificates for mail servers.
 *
 * The package root re-exports every public module; subpath exports (`mailtls/pem`, ...) give the same
 * functions one module at a time. Everything that touches files, sockets or `node:tls` is exported from
 * here too but lives in `src/node/`.
 *
 * @module mailtls
 */

export {
  type BundleFormat,
  type CertificateBundle,
  type ParseBundleOptions,
  parseCertificateBundle,
  type SkippedItem,
} from './bundle.js';
export {
  type Certificate,
  type CertificateBasicConstraints,
  type CertificateJSON,
  type CertificateNameConstraints,
  type FingerprintAlgorithm,
  isCertificate,
  type ParseCertificateOptions,
  type PublicKeyInfo,
  parseCertificate,
  type SignatureAlgorithm,
} from './certificate.js';
export * from './coverage.js';
export * from './csr.js';
export {
  type CertificateSigningRequest,
  type CSRAttribute,
  type CSRJSON,
  type ParseCSROptions,
  parseCSR,
  verifyCSRSignature,
} from './csr-parse.js';
export { type DescribeOptions, describeCertificate, describeCSR } from './describe.js';
export * from './errors.js';
export type {
  AccessDescription,
  AuthorityKeyIdentifier,
  BasicConstraints,
  DistributionPoint,
  Extension,
  GeneralName,
  GeneralNameType,
  GeneralSubtree,
  KeyUsage,
  NameConstraints,
  PolicyConstraints,
  PolicyInformation,
  PolicyQualifier,
  SignedCertificateTimestamp,
} from './extensions.js';
export * from './hostname.js';
export * from './ip-address.js';
export * from './issue.js';
export { keyMatchesCertificate } from './key-match.js';
export { DEFAULT_PBKDF2_ITERATIONS, MAX_PBKDF2_ITERATIONS } from './key-encryption.js';
export {
  type CryptoOptions,
  type GenerateKeyPairOptions,
  generateKeyPair,
  type KeyFingerprint,
  type KeyType,
  type NamedCurve,
  PrivateKey,
  PublicKey,
  type SigningAlgorithm,
} from './keys.js';
export * from './mail-identity.js';
export {
  type DistinguishedName,
  type NameAttribute,
  nameEquals,
  parseDistinguishedName,
  type RelativeDistinguishedName,
} from './name.js';
export { decodePEM, decodePEMAll, encodePEM, type ParsePEMOptions, type PEMBlock, parsePEM } from './pem.js';
export {
  type EncodePrivateKeyOptions,
  encodePrivateKeyPEM,
  type ParsePrivateKeyDEROptions,
  type ParsePrivateKeyOptions,
  type PrivateKeyDERFormat,
  parsePrivateKey,
  parsePrivateKeyDER,
} from './private-key.js';
export { encodePublicKeyPEM, parsePublicKey, parsePublicKeyDER } from './public-key.js';
export * from './subject.js';
export {
  type PKCS12Encryption,
  type ParsePKCS12Options,
  type PKCS12Contents,
  type CreatePKCS12Options,
  PKCS12_DEFAULT_MAX_BYTES,
  PKCS12_DEFAULT_MAX_ITERATIONS,
  PKCS12_DEFAULT_MAX_BAGS,
  PKCS12_DEFAULT_ITERATIONS,
  parsePKCS12,
  createPKCS12,
} from './pkcs12.js';
