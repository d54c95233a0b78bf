/**
 * mailtls: TLS certificates for mail servers.
 *
 * The package root is the pure core: keys, CSRs, PEM/DER, certificates and bundles, chains and their
 * verification, hostname checks, PKCS#12, test CAs, renewal windows and the typed errors. It never touches
 * files, sockets or `node:tls`: those adapters (the certificate store, secure contexts, servers, STARTTLS,
 * reload, probe, the SNI registry) come from `mailtls/node` alone. The detailed vocabularies (X.509 extension
 * structures, JSON views, name constraints, mail peer identity, TLSA, TLS profiles, SNI patterns) come from
 * their own subpath (`mailtls/extensions`, `mailtls/name-constraints`, ...), which also offers each module's
 * root names one module at a time.
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
  type CertificateJSON,
  type FingerprintAlgorithm,
  type ForeignCertificate,
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
  type ParseCSROptions,
  parseCSR,
  verifyCSRSignature,
} from './csr-parse.js';
export { type DescribeOptions, describeCertificate, describeCSR } from './describe.js';
export * from './errors.js';
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
  PublicKey,
  type SigningAlgorithm,
} from './keys.js';
export { type DistinguishedName, parseDistinguishedName } from './name.js';
export { decodePEM, decodePEMAll, encodePEM, type ParsePEMOptions, type PEMBlock, parsePEM } from './pem.js';
export {
  type CreatePKCS12Options,
  createPKCS12,
  type ParsePKCS12Options,
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
export { encodePublicKeyPEM, parsePublicKey, parsePublicKeyDER } from './public-key.js';
export * from './renewal.js';
export {
  type CSRWarning,
  type CSRWarningCode,
  formatSubject,
  type NormalizedSubject,
  normalizeSubject,
  normalizeSubjectAltNames,
  type SubjectAltNameOptions,
  type SubjectAltNames,
  type SubjectFields,
} from './subject.js';
export {
  type ChainFailureReason,
  type ChainPurpose,
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  type VerifyChainOptions,
  verifyChain,
} from './verify-chain.js';
