/**
 * The Node.js adapters of mailtls: everything that touches files, sockets or `node:tls`.
 *
 * @module node
 */
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
