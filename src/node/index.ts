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
  type TemporaryName,
} from './atomic-write.js';
export {
  type AuditCode,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type AuditSeverity,
  auditStore,
} from './audit.js';
export {
  type ClientHelloComplete,
  type ClientHelloIncomplete,
  type ClientHelloInfo,
  type ClientHelloParse,
  type ClientHelloRead,
  type ParseClientHelloOptions,
  parseClientHello,
  type ReadClientHelloOptions,
  readClientHello,
} from './client-hello.js';
export {
  type ClientTLSInput,
  type ClientTLSOptions,
  type ClientVerifyMode,
  clientTLSOptions,
  type VerifyTLSPeerOptions,
  verifyTLSPeer,
} from './client-options.js';
export {
  type LoadServerTLSLayoutOptions,
  loadServerTLSLayout,
  saveCombinedKeyChain,
} from './config/layout.js';
export type { Credential, CredentialFiles, CredentialSource, LoadCredentialOptions } from './credential.js';
export {
  type DeployChange,
  type DeployEvent,
  type DeployHookOptions,
  type DeployHookResult,
  type DeployOutcome,
  deployHookEnvironment,
  runDeployHooks,
  runStoreDeployHooks,
} from './hooks/deploy.js';
export {
  addDeployHook,
  loadStoreSettings,
  removeDeployHook,
  STORE_SETTINGS_FILE,
  type StoreSettings,
  saveStoreSettings,
} from './hooks/settings.js';
export {
  CertbotSource,
  type CertbotSourceOptions,
  KubernetesSecretSource,
  type KubernetesSecretSourceOptions,
} from './layouts.js';
export { acquireLock, type LockHandle, type LockOptions, type LockOwner, withLock } from './lock.js';
export { getPortInfo, PORTS, type PortInfo, type PortProtocol, type TLSMode } from './ports.js';
export {
  type ProbeOptions,
  type ProbeProblem,
  type ProbeProblemCode,
  type ProbeProtocol,
  type ProbeResult,
  type ProbeScheme,
  type ProbeTarget,
  parseProbeURL,
  probe,
  type ServedChainSource,
} from './probe.js';
export {
  type CredentialFailure,
  type CredentialRefreshOptions,
  type CredentialRefreshResult,
  type CredentialReloadEvent,
  type CredentialRemoveEvent,
  CredentialWatcher,
  type CredentialWatcherEvents,
  type CredentialWatcherStats,
  type WatchCredentialsOptions,
  type WatchedCredentialStatus,
  watchCredentials,
} from './reload.js';
export {
  assembleChainWithNodeRoots,
  nodeRootCertificates,
  nodeTrustStore,
  verifyChainWithNodeRoots,
} from './roots.js';
export {
  type BuiltServerContext,
  buildServerContext,
  type CredentialSummary,
  createServerContext,
  type ProfileContextOptions,
  profileContextOptions,
  type ServerContextOptions,
  type ServerCredential,
  summarizeCredential,
} from './secure-context.js';
export {
  type AcceptedTLSInfo,
  type AcceptedTLSSocket,
  type AcceptTLSOptions,
  acceptTLS,
  createHTTPSServer,
  createPeekingHTTPSServer,
  createPeekingTLSServer,
  createTLSServer,
  matchServedCertificate,
  type PeekingHTTPSServer,
  type PeekingTLSServerOptions,
  type RegistryServerOptions,
  type SMTPServerLike,
  type SMTPServerTLSOptions,
  smtpServerOptions,
  tlsServerOptions,
  updateSMTPServer,
} from './servers.js';
export {
  type CredentialSource as ServerCredentialSource,
  createSNIRegistry,
  type ResolvedContext,
  SNIRegistry,
  type SNIRegistryEvents,
  type SNIRegistryOptions,
  type SNIRegistryStats,
} from './sni-registry.js';
export {
  formatStartTLSReply,
  type StartTLSProtocol,
  type UpgradedTLSInfo,
  type UpgradedTLSSocket,
  type UpgradeToTLSOptions,
  upgradeToTLS,
} from './starttls.js';
export {
  type ConnectStartTLSOptions,
  connectStartTLS,
  type NegotiatedStartTLS,
  type NegotiateStartTLSOptions,
  negotiateStartTLS,
  type StartTLSClientProtocol,
  type StartTLSClientSocket,
  type StartTLSFailure,
  type StartTLSPhase,
  type TranscriptLine,
} from './starttls-client.js';
export {
  CertificateStore,
  type CertificateStoreOptions,
  type InstallOptions,
  type InstallResult,
  type InstallWarning,
  type KeySource,
  type PermissionFix,
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
