/**
 * ACME (RFC 8555) issuance and renewal into the mailtls certificate store: accounts kept in the store's
 * private area, the tls-alpn-01 (through an SNI registry), http-01 and dns-01 (hook command) challenges,
 * pre-flight name resolution, DANE-safe key rollover, renewal by the CA's renewal information (RFC 9773) or
 * with jitter, back-off, ACME profiles, dry runs on a staging directory, and a manager for long-running
 * servers. The protocol is spoken by `acme-client`, which only this entry point loads.
 *
 * @module acme
 */
export {
  AcmeAccount,
  type AcmeAccountInfo,
  type AcmeAccountOptions,
  type AcmeRetryOptions,
  acmeProfiles,
  loadAcmeAccount,
  registerAcmeAccount,
} from './account.js';
export {
  type AriCertificate,
  ariCertId,
  fetchRenewalInfo,
  type RenewalInfo,
  renewalInfoUrl,
} from './ari.js';
export {
  ACME_TLS_ALPN,
  createHookDnsProvider,
  createHttp01Responder,
  createTlsAlpnResponder,
  type DnsProvider,
  type HookDnsProviderOptions,
  Http01Responder,
  TlsAlpnResponder,
} from './challenges.js';
export {
  AcmeManager,
  type AcmeManagerEvents,
  type AcmeManagerOptions,
  createAcmeManager,
  type ManagedDomain,
  type ManagerOutcome,
} from './manager.js';
export {
  type DryRunOptions,
  type DryRunResult,
  dryRunCertificate,
  type ObtainCertificateOptions,
  type ObtainResult,
  type ObtainStep,
  obtainCertificate,
  type StagingDirectory,
} from './obtain.js';
export {
  type AddressScope,
  addressScope,
  type NameResolution,
  type ResolveNamesOptions,
  resolveNames,
  type VerifyNamesOptions,
  verifyNamesResolve,
} from './preflight.js';
export {
  type AcmeRenewalStatus,
  acmeRenewalStatus,
  type RenewalReason,
  type RenewalStatusOptions,
  type RenewDueOptions,
  type RenewOutcome,
  renewDue,
} from './renew.js';
export {
  type AcmeAriState,
  type AcmeChallengeType,
  type AcmeDomainState,
  type KeyRollover,
  listAcmeDomains,
  loadAcmeState,
  nextKeyPath,
} from './state.js';
