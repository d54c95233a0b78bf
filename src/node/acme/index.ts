/**
 * ACME (RFC 8555) issuance and renewal into the mailtls certificate store: accounts kept in the store's
 * private area, the tls-alpn-01 (through an SNI registry), http-01 and dns-01 (hook command) challenges,
 * pre-flight name resolution, DANE-safe key rollover, renewal with jitter and back-off, and a manager for
 * long-running servers. The protocol is spoken by `acme-client`, which only this entry point loads.
 *
 * @module acme
 */
export {
  AcmeAccount,
  type AcmeAccountInfo,
  type AcmeAccountOptions,
  type AcmeRetryOptions,
  loadAcmeAccount,
  registerAcmeAccount,
} from './account.js';
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
  type ObtainCertificateOptions,
  type ObtainResult,
  type ObtainStep,
  obtainCertificate,
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
  type AcmeChallengeType,
  type AcmeDomainState,
  type KeyRollover,
  listAcmeDomains,
  loadAcmeState,
  nextKeyPath,
} from './state.js';
