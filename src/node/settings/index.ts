/**
 * The Node side of the TLS settings and the web administrator's files in a certificate store.
 *
 * @module node/settings
 */
export {
  ADMIN_SCRYPT,
  type AdminAuditEntry,
  type AdminAuditRecord,
  appendAdminAudit,
  hasAdminUsers,
  MIN_ADMIN_PASSWORD,
  readAdminAudit,
  type SetAdminPasswordOptions,
  setAdminPassword,
  verifyAdminPassword,
} from './admin-files.js';
export {
  loadAdminProbes,
  loadAdminSessions,
  type StoredAdminSession,
  type StoredDomainProbe,
  type StoredPortProbe,
  saveAdminProbe,
  saveAdminSessions,
} from './admin-state.js';
export { listStoreCSRs, readStoreCSR, type StoreCSR } from './store-csr.js';
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
} from './tls-settings-file.js';
