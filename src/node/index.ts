/**
 * The Node.js adapters of mailtls: everything that touches files, sockets or `node:tls`.
 *
 * @module node
 */

export {
  type LoadServerTLSLayoutOptions,
  loadServerTLSLayout,
  saveCombinedKeyChain,
} from './config/layout.js';
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
  listTLSSettingsRevisions,
  loadTLSSettings,
  loadTLSSettingsRevision,
  type SaveTLSSettingsOptions,
  saveTLSSettings,
  type TLSSettingsPaths,
  type TLSSettingsWatch,
  tlsSettingsPaths,
  type WatchTLSSettingsOptions,
  watchTLSSettings,
} from './settings/tls-settings-file.js';
export {
  isTemporaryName,
  type SaveFileAtomicOptions,
  saveFileAtomic,
  saveSymlinkAtomic,
  syncDirectory,
  type TemporaryName,
} from './store/atomic-write.js';
export {
  type AuditCode,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type AuditSeverity,
  auditStore,
} from './store/audit.js';
export type {
  Credential,
  CredentialFiles,
  CredentialSource,
  LoadCredentialOptions,
} from './store/credential.js';
export {
  type StoreName,
  type StorePaths,
  storeName,
  storePaths,
  WILDCARD_PREFIX,
} from './store/layout.js';
export {
  CertbotSource,
  type CertbotSourceOptions,
  KubernetesSecretSource,
  type KubernetesSecretSourceOptions,
} from './store/layouts.js';
export { acquireLock, type LockHandle, type LockOptions, type LockOwner, withLock } from './store/lock.js';
export type { StoreListOptions } from './store/read.js';
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
} from './store/store.js';
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
} from './tls/client-hello.js';
export {
  type ClientTLSInput,
  type ClientTLSOptions,
  type ClientVerifyMode,
  clientTLSOptions,
  type VerifyTLSPeerOptions,
  verifyTLSPeer,
} from './tls/client-options.js';
export { getPortInfo, PORTS, type PortInfo, type PortProtocol, type TLSMode } from './tls/ports.js';
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
} from './tls/probe.js';
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
} from './tls/reload.js';
export {
  assembleChainWithNodeRoots,
  nodeRootCertificates,
  nodeTrustStore,
  verifyChainWithNodeRoots,
} from './tls/roots.js';
export {
  type CredentialSummary,
  createServerContext,
  type ProfileContextOptions,
  profileContextOptions,
  type ServerContextOptions,
  type ServerCredential,
  summarizeCredential,
} from './tls/secure-context.js';
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
} from './tls/servers.js';
export {
  createSettingsContextSource,
  type SettingsContextSourceOptions,
  settingsForServedName,
  type TLSContextSource,
} from './tls/settings-source.js';
export {
  type CredentialOrLoader,
  createSNIRegistry,
  type ResolvedContext,
  SNIRegistry,
  type SNIRegistryEvents,
  type SNIRegistryOptions,
  type SNIRegistryStats,
} from './tls/sni-registry.js';
export {
  formatStartTLSReply,
  type StartTLSProtocol,
  type UpgradedTLSInfo,
  type UpgradedTLSSocket,
  type UpgradeToTLSOptions,
  upgradeToTLS,
} from './tls/starttls.js';
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
} from './tls/starttls-client.js';
