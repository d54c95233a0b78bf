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
  type AssembleChainOptions,
  type AssembledChain,
  assembleChain,
  type CertificateInput,
  type CertificateSource,
  type ChainProblem,
  type ChainProblemCode,
  encodeChainPEM,
  encodePostfixChainFile,
} from './chain/chain.js';
export {
  type ChainFailureReason,
  type ChainPurpose,
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  type VerifyChainOptions,
  verifyChain,
} from './chain/verify-chain.js';
export {
  decodePEM,
  decodePEMAll,
  encodePEM,
  type ParsePEMOptions,
  type PEMBlock,
  parsePEM,
} from './encoding/pem.js';
// The error classes and the code and details types callers narrow with; the per-area code unions and the
// detail shapes come from mailtls/errors.
export {
  AcmeError,
  CertificateError,
  ChainError,
  ConfigError,
  CSRError,
  DERError,
  type ErrorCode,
  type ErrorDetails,
  HostnameError,
  isMailTlsError,
  KeyError,
  MailTlsError,
  type MailTlsErrorJSON,
  type MailTlsErrorOptions,
  PEMError,
  PKCS12Error,
  ProbeError,
  SettingsError,
  StoreError,
  TLSError,
} from './errors.js';
export { DEFAULT_PBKDF2_ITERATIONS, MAX_PBKDF2_ITERATIONS } from './keys/key-encryption.js';
export { keyMatchesCertificate } from './keys/key-match.js';
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
} from './keys/keys.js';
export {
  type EncodePrivateKeyOptions,
  encodePrivateKeyPEM,
  type ParsePrivateKeyDEROptions,
  type ParsePrivateKeyOptions,
  type PrivateKeyDERFormat,
  parsePrivateKey,
  parsePrivateKeyDER,
} from './keys/private-key.js';
export { encodePublicKeyPEM, parsePublicKey, parsePublicKeyDER } from './keys/public-key.js';
export * from './names/coverage.js';
export * from './names/hostname.js';
export * from './names/ip-address.js';
export {
  type CreatePKCS12Options,
  createPKCS12,
  type ParsePKCS12Options,
  type PKCS12Contents,
  type PKCS12Encryption,
  parsePKCS12,
} from './pkcs12/pkcs12.js';
export {
  type BundleFormat,
  type CertificateBundle,
  type ParseBundleOptions,
  parseCertificateBundle,
  type SkippedItem,
} from './x509/bundle.js';
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
} from './x509/certificate.js';
export * from './x509/csr.js';
export {
  type CertificateSigningRequest,
  type ParseCSROptions,
  parseCSR,
  verifyCSRSignature,
} from './x509/csr-parse.js';
export { type DescribeOptions, describeCertificate, describeCSR } from './x509/describe.js';
export * from './x509/issue.js';
export { type DistinguishedName, parseDistinguishedName } from './x509/name.js';
export * from './x509/renewal.js';
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
} from './x509/subject.js';
