/**
 * The Node.js adapters of mailtls: everything that touches files, sockets or `node:tls`.
 *
 * @module node
 */

export {
  isTemporaryName,
  type SaveFileAtomicOptions,
  saveFileAtomic,
  saveSymlinkAtomic,
  syncDirectory,
} from './atomic-write.js';
export {
  type AuditCode,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type AuditSeverity,
  auditStore,
} from './audit.js';
export type { Credential, CredentialFiles, CredentialSource, LoadCredentialOptions } from './credential.js';
export {
  CertbotSource,
  type CertbotSourceOptions,
  KubernetesSecretSource,
  type KubernetesSecretSourceOptions,
} from './layouts.js';
export { acquireLock, type LockHandle, type LockOptions, type LockOwner, withLock } from './lock.js';
export {
  assembleChainWithNodeRoots,
  nodeRootCertificates,
  nodeTrustStore,
  verifyChainWithNodeRoots,
} from './roots.js';
export {
  CertificateStore,
  type CertificateStoreOptions,
  type InstallOptions,
  type InstallResult,
  type InstallWarning,
  type KeySource,
  type RollbackResult,
  type StoreCSROptions,
  type StoreCSRResult,
  type StoreVersion,
} from './store.js';
export {
  type StoreName,
  type StorePaths,
  storeName,
  storePaths,
  WILDCARD_PREFIX,
} from './store-layout.js';
