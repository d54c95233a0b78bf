/**
 * Renewal of ACME-managed domains: when a third of the certificate's lifetime is left (the library's
 * `renewalWindow` rule), made a little earlier by a random jitter chosen once per certificate and kept in
 * the store (so that many servers, or many domains, do not all renew at the same second, and a restart does
 * not draw again); never before the back-off of a failure has passed (also kept in the store, so it
 * survives restarts).
 *
 * @module node/acme/renew
 */
import { MailTlsError, StoreError } from '../../errors.js';
import { renewalWindow } from '../../x509/renewal.js';
import type { CertificateStore } from '../store/store.js';
import type { AcmeAccount } from './account.js';
import type { DnsProvider, Http01Responder, TlsAlpnResponder } from './challenges.js';
import { type ObtainCertificateOptions, type ObtainResult, obtainCertificate } from './obtain.js';
import { type AcmeDomainState, listAcmeDomains, loadAcmeState, saveAcmeState } from './state.js';

/** Why a domain is (not) renewed now. */
export type RenewalReason = 'missing' | 'due' | 'expired' | 'not-due' | 'backoff';

/** The renewal decision for one domain. */
export interface AcmeRenewalStatus {
  /** The domain. */
  readonly domain: string;
  /** Whether to order now. */
  readonly due: boolean;
  /** `missing` (no certificate), `due`, `expired`, `not-due`, or `backoff` (due, but waiting after a failure). */
  readonly reason: RenewalReason;
  /** When the certificate in service expires (undefined when there is none). */
  readonly expiresAt: Date | undefined;
  /** When it is renewed (rule minus jitter). */
  readonly renewAt: Date | undefined;
  /** After a failure: not before this time. */
  readonly nextAttemptAt: Date | undefined;
  /** Failed attempts since the last success. */
  readonly failures: number;
  /** The last failure's code and message. */
  readonly lastError: AcmeDomainState['lastError'];
  /** The certificate will expire before the next attempt, or has expired: an administrator must look. */
  readonly atRisk: boolean;
}

/** Options of {@link acmeRenewalStatus}. */
export interface RenewalStatusOptions {
  /** The moment to judge at; default now. */
  at?: Date | undefined;
  /** The fraction of the lifetime left at which to renew (default 1/3). */
  remainingFraction?: number | undefined;
  /** The largest jitter, as a fraction of the renewal margin (default 0.1; 0: none). */
  jitter?: number | undefined;
  /** The random source of the jitter (default `Math.random`). */
  random?: (() => number) | undefined;
}

/**
 * Decides whether a domain is due for renewal, choosing (and storing) its jitter the first time a
 * certificate is seen.
 *
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN`; the store's load errors for a damaged pair.
 * @example
 * ```ts
 * const s = await acmeRenewalStatus(store, 'example.com');
 * if (s.due) console.log(`renew now (${s.reason})`);
 * ```
 */
export async function acmeRenewalStatus(
  store: CertificateStore,
  domain: string,
  options: RenewalStatusOptions = {},
): Promise<AcmeRenewalStatus> {
  const at = options.at ?? new Date();
  let state = await loadAcmeState(store, domain);
  const failures = state?.failures ?? 0;
  const nextAttemptAt = state?.nextAttemptAt === undefined ? undefined : new Date(state.nextAttemptAt);
  const inBackoff = nextAttemptAt !== undefined && nextAttemptAt.getTime() > at.getTime();
  let leaf: { notBefore: Date; notAfter: Date; fingerprint256: string } | undefined;
  try {
    const c = await store.load(domain);
    leaf = {
      notBefore: c.leaf.notBefore,
      notAfter: c.leaf.notAfter,
      fingerprint256: c.leaf.fingerprint('sha256'),
    };
  } catch (e) {
    if (!(e instanceof StoreError && e.code === 'ERR_STORE_NOT_FOUND')) throw e;
  }
  const base = { domain, nextAttemptAt, failures, lastError: state?.lastError };
  if (leaf === undefined)
    return {
      ...base,
      due: !inBackoff,
      reason: inBackoff ? 'backoff' : 'missing',
      expiresAt: undefined,
      renewAt: undefined,
      atRisk: failures > 0,
    };
  const window = renewalWindow(leaf, {
    at,
    ...(options.remainingFraction === undefined ? {} : { remainingFraction: options.remainingFraction }),
  });
  let jitterMs = state?.jitterFor === leaf.fingerprint256 ? state.jitterMs : undefined;
  if (jitterMs === undefined) {
    const margin = window.expiresAt.getTime() - window.renewAt.getTime();
    jitterMs = Math.floor((options.random ?? Math.random)() * (options.jitter ?? 0.1) * margin);
    if (state !== undefined) {
      state = { ...state, jitterFor: leaf.fingerprint256, jitterMs };
      await saveAcmeState(store, state).catch(() => undefined);
    }
  }
  const renewAt = new Date(window.renewAt.getTime() - jitterMs);
  const dueByRule = at.getTime() >= renewAt.getTime();
  const expired = at.getTime() > window.expiresAt.getTime();
  const atRisk =
    expired ||
    (failures > 0 && (nextAttemptAt ?? at).getTime() >= window.expiresAt.getTime() - 86_400_000) ||
    (failures > 0 && window.expiresAt.getTime() - at.getTime() < 7 * 86_400_000);
  return {
    ...base,
    due: dueByRule && !inBackoff,
    reason: dueByRule ? (inBackoff ? 'backoff' : expired ? 'expired' : 'due') : 'not-due',
    expiresAt: window.expiresAt,
    renewAt,
    atRisk,
  };
}

/** Options of {@link renewDue}. */
export interface RenewDueOptions extends RenewalStatusOptions {
  /** The store. */
  store: CertificateStore;
  /** The account for the directory the domains were ordered from. */
  account: AcmeAccount;
  /** Only these domains (default every ACME-managed domain of the store). */
  domains?: readonly string[] | undefined;
  /** Renew even when not due. */
  force?: boolean | undefined;
  /** Responders, as for `obtainCertificate`. */
  tlsAlpn?: TlsAlpnResponder | undefined;
  /** The http-01 responder (domains ordered with http-01). */
  http01?: Http01Responder | undefined;
  /** The dns-01 provider (domains ordered with dns-01). */
  dns?: DnsProvider | undefined;
  /** Passed to every `obtainCertificate` (pre-flight, key policy timing, progress...). */
  obtain?: Partial<Omit<ObtainCertificateOptions, 'account' | 'store' | 'domain'>> | undefined;
}

/** One domain's outcome in {@link renewDue}. */
export interface RenewOutcome {
  /** The domain. */
  readonly domain: string;
  /** The renewal decision. */
  readonly status: AcmeRenewalStatus;
  /** The issuance, when one was made. */
  readonly result?: ObtainResult;
  /** The failure, when the order failed (the old certificate still serves). */
  readonly error?: MailTlsError;
}

/**
 * Renews every ACME-managed domain of the store that is due (or the given ones), with the settings they
 * were ordered with. A failure of one domain does not stop the others; it is in its outcome.
 *
 * @throws AcmeError `ERR_ACME_ACCOUNT` when a domain was ordered from another directory than the
 *   account's (in that domain's outcome); TypeError for bad options.
 * @example
 * ```ts
 * const outcomes = await renewDue({ store, account, tlsAlpn });
 * for (const o of outcomes) if (o.error) console.error(o.domain, o.error.code);
 * ```
 */
export async function renewDue(options: RenewDueOptions): Promise<RenewOutcome[]> {
  const { store, account } = options;
  const domains = options.domains ?? (await listAcmeDomains(store));
  const out: RenewOutcome[] = [];
  for (const domain of domains) {
    const status = await acmeRenewalStatus(store, domain, options);
    if (!status.due && options.force !== true) {
      out.push({ domain, status });
      continue;
    }
    const state = await loadAcmeState(store, domain);
    try {
      if (state === undefined)
        throw new StoreError(
          'ERR_STORE_NOT_FOUND',
          `${domain} is not ACME-managed in ${store.root}: issue it first (mailtls acme issue).`,
          { details: { domain } },
        );
      const result = await obtainCertificate({
        ...options.obtain,
        account,
        store,
        domain,
        names: state.names.slice(1),
        challenge: options.obtain?.challenge ?? state.challenge,
        keyType: state.keyType,
        keyRollover: options.obtain?.keyRollover ?? state.keyRollover,
        preflight: options.obtain?.preflight ?? state.preflight ?? {},
        tlsAlpn: options.tlsAlpn,
        http01: options.http01,
        dns: options.dns,
        ...(options.at === undefined ? {} : { at: options.at }),
      });
      out.push({ domain, status, result });
    } catch (e) {
      if (!(e instanceof MailTlsError)) throw e;
      out.push({ domain, status, error: e });
    }
  }
  return out;
}
