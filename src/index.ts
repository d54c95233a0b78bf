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
export type {
  AuthorityInfoAccessURIs,
  BasicConstraintsJSON,
  GeneralNameJSON,
  PublicKeyJSON,
  SignatureAlgorithmJSON,
} from './certificate.js';
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
export {
  type AssembleChainOptions,
  type AssembledChain,
  assembleChain,
  type CertificateInput,
  type CertificateSource,
  type ChainProblem,
  type ChainProblemCode,
  encodeChainPEM,
  encodePostfixChainFile,
} from './chain.js';
export * from './coverage.js';
export * from './csr.js';
export {
  type CertificateSigningRequest,
  type CSRAttribute,
  type CSRAttributeJSON,
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
export {
  type DirectoryGeneralName,
  formatGeneralName,
  type IPGeneralName,
  KEY_USAGES,
  type OpaqueGeneralName,
  type OtherGeneralName,
  type RegisteredIDGeneralName,
  type TextGeneralName,
  type UserNotice,
} from './extensions.js';
export * from './hostname.js';
export * from './ip-address.js';
export * from './issue.js';
export { DEFAULT_PBKDF2_ITERATIONS, MAX_PBKDF2_ITERATIONS } from './key-encryption.js';
export { keyMatchesCertificate } from './key-match.js';
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
} from './keys.js';
export * from './mail-identity.js';
export {
  type DistinguishedName,
  type NameAttribute,
  nameEquals,
  parseDistinguishedName,
  type RelativeDistinguishedName,
} from './name.js';
export {
  type CheckNameConstraintsOptions,
  checkNameConstraints,
  matchNameConstraint,
  type NameConstraintsInput,
  type NameConstraintViolation,
  type NameConstraintViolationReason,
  verifyNameConstraints,
} from './name-constraints.js';
export * from './node/index.js';
export { decodePEM, decodePEMAll, encodePEM, type ParsePEMOptions, type PEMBlock, parsePEM } from './pem.js';
export {
  type CreatePKCS12Options,
  createPKCS12,
  type ParsePKCS12Options,
  PKCS12_DEFAULT_ITERATIONS,
  PKCS12_DEFAULT_MAX_BAGS,
  PKCS12_DEFAULT_MAX_BYTES,
  PKCS12_DEFAULT_MAX_ITERATIONS,
  type PKCS12Contents,
  type PKCS12Encryption,
  parsePKCS12,
} from './pkcs12.js';
export {
  type EncodePrivateKeyOptions,
  encodePrivateKeyPEM,
  type ParsePrivateKeyDEROptions,
  type ParsePrivateKeyOptions,
  type PrivateKeyDERFormat,
  parsePrivateKey,
  parsePrivateKeyDER,
} from './private-key.js';
export * from './profile.js';
export { encodePublicKeyPEM, parsePublicKey, parsePublicKeyDER } from './public-key.js';
export * from './renewal.js';
export * from './sni.js';
export * from './subject.js';
export * from './tlsa.js';
export {
  type ChainFailureReason,
  type ChainPurpose,
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  type VerifyChainOptions,
  verifyChain,
} from './verify-chain.js';
