/**
 * The options and results of ACME issuance (`obtainCertificate`) and of dry runs on a staging directory
 * (`dryRunCertificate`).
 *
 * @module node/acme/options
 */
import type { LockOptions } from '../store/lock.js';
import type { CertificateStore, InstallResult } from '../store/store.js';
import type { AcmeAccount } from './account.js';
import type { DnsProvider, Http01Responder, TlsAlpnResponder } from './challenges.js';
import type { VerifyNamesOptions } from './preflight.js';
import type { AcmeChallengeType, KeyRollover } from './state.js';

/** A step of an issuance, for progress displays. */
export type ObtainStep =
  | 'preflight'
  | 'key'
  | 'staging'
  | 'order'
  | 'challenge'
  | 'validated'
  | 'finalize'
  | 'download'
  | 'install';

/** Options of {@link obtainCertificate}. */
export interface ObtainCertificateOptions {
  /** The ACME account (see `registerAcmeAccount`). */
  account: AcmeAccount;
  /** The store to install into. */
  store: CertificateStore;
  /** The bare domain (`example.com`): the certificate's Common Name and the name it is filed under. */
  domain: string;
  /** More names: the mail hosts (`mail.example.com`, `smtp.example.com`...). */
  names?: readonly string[] | undefined;
  /** How to prove control: `tls-alpn-01` (needs `tlsAlpn`), `http-01` (`http01`) or `dns-01` (`dns`). */
  challenge: AcmeChallengeType;
  /** The responder the server's TLS port answers through (tls-alpn-01). */
  tlsAlpn?: TlsAlpnResponder | undefined;
  /** The responder the server's port 80 answers through (http-01). */
  http01?: Http01Responder | undefined;
  /** The TXT record provider (dns-01). */
  dns?: DnsProvider | undefined;
  /** Key type of a new key: `ec` (P-256, the default) or `rsa` (2048). */
  keyType?: 'ec' | 'rsa' | undefined;
  /** Key policy of renewals; default `reuse` when `dane` is true, else `fresh`. */
  keyRollover?: KeyRollover | undefined;
  /** The domain publishes TLSA records (DANE): the default key policy becomes `reuse`. */
  dane?: boolean | undefined;
  /** How long a next key's TLSA record must have been published before the switch (default 2 days). */
  nextKeyPublishedForMs?: number | undefined;
  /** Resolve the names first and refuse LAN or missing addresses (default on); `false` skips the check. */
  preflight?: false | VerifyNamesOptions | undefined;
  /** Fail install unless the chain reaches a trusted root (default false: a warning). */
  requireCompleteChain?: boolean | undefined;
  /**
   * An ACME profile to ask for (draft-ietf-acme-profiles), e.g. `shortlived`: it must be one the CA lists
   * in its directory (`meta.profiles`, see `acmeProfiles`), else the order is refused before it is made
   * (`ERR_ACME_PROFILE`, listing the offered ones). It is kept in the domain's state, so renewals ask for
   * the same; left out, the stored one is used; `null` orders without a profile (and forgets the stored one).
   */
  profile?: string | null | undefined;
  /**
   * Renewing a certificate of the same CA: name it in the order's `replaces` field (RFC 9773 section 5) when
   * the CA offers renewal information (default true).
   */
  replaces?: boolean | undefined;
  /**
   * A staging directory (e.g. `https://acme-staging-v02.api.letsencrypt.org/directory`): first run a
   * complete order there, with a throwaway account key that is never stored, for the same names, key,
   * challenge and profile; discard that certificate, and only then order from the account's directory. A
   * failure there stops before anything is ordered from production. See also {@link dryRunCertificate}.
   */
  stagingDirectory?: string | StagingDirectory | undefined;
  /** Lock timing: only one process orders for a domain at a time. */
  lock?: LockOptions | undefined;
  /** Called at each step. */
  onProgress?: ((step: ObtainStep, detail: string) => void) | undefined;
  /** The clock (back-off and key ages); default now. */
  at?: Date | undefined;
}

/** A staging directory of a dry run, with its own trust and terms. */
export interface StagingDirectory {
  /** The staging directory URL. */
  readonly url: string;
  /** More roots (PEM) to trust for the staging server's own HTTPS certificate (a private or test CA). */
  readonly directoryCA?: string | undefined;
  /**
   * Agree to the staging CA's terms of service for the throwaway account (required when its directory lists
   * terms: `ERR_ACME_TERMS` otherwise).
   */
  readonly agreeToTerms?: boolean | undefined;
}

/** What a dry run on a staging directory did (the certificate itself is discarded). */
export interface DryRunResult {
  /** The staging directory URL. */
  readonly directoryUrl: string;
  /** The domain, canonical. */
  readonly domain: string;
  /** Every name ordered, all on the staging certificate. */
  readonly names: readonly string[];
  /** The ACME profile asked for, if any. */
  readonly profile: string | undefined;
  /** The staging certificate's serial number (hex). */
  readonly serialNumber: string;
  /** The staging certificate's notAfter. */
  readonly notAfter: Date;
  /** Certificates in the chain the staging CA sent (the leaf included). */
  readonly chainLength: number;
  /** Milliseconds the staging order took (account, order, challenges, download). */
  readonly durationMs: number;
}

/** What {@link obtainCertificate} did. */
export interface ObtainResult {
  /** The domain, canonical. */
  readonly domain: string;
  /** Every name on the certificate. */
  readonly names: readonly string[];
  /** The store's install result (version, leaf, chain, warnings). */
  readonly install: InstallResult;
  /** Which key was used: the one in service, the published next key, or a new one. */
  readonly key: 'reused' | 'next' | 'new';
  /** Milliseconds from start to install. */
  readonly durationMs: number;
  /** The ACME profile ordered with, if any. */
  readonly profile: string | undefined;
  /** The RFC 9773 identifier of the certificate the order named in `replaces`, if it named one. */
  readonly replaces: string | undefined;
  /** The dry run on the staging directory that came first, when one was asked for. */
  readonly staging?: DryRunResult;
}

/** Options of {@link dryRunCertificate}: those of `obtainCertificate`, the staging directory required. */
export interface DryRunOptions extends Omit<ObtainCertificateOptions, 'account' | 'stagingDirectory'> {
  /** The staging directory the order is made at (a throwaway account key, never stored). */
  stagingDirectory: string | StagingDirectory;
  /** Not needed: a dry run orders from the staging directory only. */
  account?: AcmeAccount | undefined;
}

/** What the internal steps read of either options (not exported by the entry point). */
export type AnyOptions = Omit<ObtainCertificateOptions, 'account'> & { account?: AcmeAccount | undefined };
