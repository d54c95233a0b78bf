/**
 * Renewal of ACME-managed domains. When the CA offers renewal information (RFC 9773) and an account for its
 * directory is given, at a time drawn uniformly at random inside the CA's suggested window (drawn again
 * only when the window changes; asked again after the CA's `Retry-After`); otherwise, or when that request
 * fails, when a third of the certificate's lifetime is left (the library's `renewalWindow` rule), made a
 * little earlier by a random jitter chosen once per certificate. Both choices are kept in the store (so that
 * many servers, or many domains, do not all renew at the same second, and a restart does not draw again);
 * never before the back-off of a failure has passed (also kept in the store, so it survives restarts).
 *
 * @module node/acme/renew
 */
import { MailTlsError, StoreError } from '../../errors.js';
import type { Certificate } from '../../x509/certificate.js';
import { renewalWindow } from '../../x509/renewal.js';
import type { CertificateStore } from '../store/store.js';
import type { AcmeAccount } from './account.js';
import { fetchRenewalInfo } from './ari.js';
import type { DnsProvider, Http01Responder, TlsAlpnResponder } from './challenges.js';
import {
  type DryRunResult,
  dryRunCertificate,
  type ObtainCertificateOptions,
  type ObtainResult,
  obtainCertificate,
  type StagingDirectory,
} from './obtain.js';
import {
  type AcmeAriState,
  type AcmeDomainState,
  listAcmeDomains,
  loadAcmeState,
  saveAcmeState,
} from './state.js';

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
  /** When it is renewed: the time drawn in the CA's window (`source` `ari`), or the rule minus jitter. */
  readonly renewAt: Date | undefined;
  /**
   * Where the renewal time comes from: `ari`, the CA's suggested window (RFC 9773); `lifetime`, a third of
   * the lifetime left (or `remainingFraction`), made earlier by the jitter.
   */
  readonly source: 'ari' | 'lifetime';
  /**
   * The window `renewAt` was drawn in: the CA's suggested window, or for the lifetime rule the span of its
   * jitter (the rule's time minus the largest jitter, to the rule's time). Undefined without a certificate.
   */
  readonly window:
    | {
        /** The window's start. */
        readonly start: Date;
        /** The window's end. */
        readonly end: Date;
      }
    | undefined;
  /**
   * Why the lifetime rule applies although renewal information was looked for (the CA offers none, the
   * request failed, no account was given...), or where the CA's window came from; undefined when there is
   * nothing to say.
   */
  readonly note: string | undefined;
  /** The CA's page explaining its window, if it gave one. */
  readonly explanationUrl: string | undefined;
  /** When the CA's renewal information is asked for again (its `Retry-After`), with `source` `ari`. */
  readonly renewalInfoCheckAt: Date | undefined;
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
  /** The random source of the jitter and of the time drawn in the CA's window (default `Math.random`). */
  random?: (() => number) | undefined;
  /**
   * The account for the directory the domain was ordered from: when that CA offers renewal information
   * (RFC 9773), its suggested window decides (asked at most once per `Retry-After`). Without it, a window
   * fetched before and kept in the store still decides; else the lifetime rule.
   */
  account?: AcmeAccount | undefined;
  /** Keep the drawn jitter and the fetched window in the store (default true; false: the store is only read). */
  persist?: boolean | undefined;
}

/** The renewal information decision: the stored window to use, or why there is none. */
async function renewalInfo(
  state: AcmeDomainState | undefined,
  leaf: Certificate,
  fingerprint: string,
  options: RenewalStatusOptions,
  at: Date,
): Promise<{ ari: AcmeAriState | undefined; note: string | undefined; changed: boolean }> {
  const cached = state?.ari?.certFor === fingerprint ? state.ari : undefined;
  const account = options.account;
  if (state === undefined) return { ari: undefined, note: undefined, changed: false };
  if (account === undefined)
    return cached === undefined
      ? { ari: undefined, note: undefined, changed: false }
      : { ari: cached, note: `the CA's window as fetched at ${cached.checkedAt}`, changed: false };
  if (state.directoryUrl !== account.directoryUrl)
    return {
      ari: undefined,
      note: `the account given is for ${account.directoryUrl}, not ${state.directoryUrl}: the lifetime rule applies`,
      changed: false,
    };
  // RFC 9773 section 4.3: never asked again before Retry-After, nor after the certificate expired.
  if (cached !== undefined && (at.getTime() < Date.parse(cached.nextCheckAt) || at > leaf.notAfter))
    return { ari: cached, note: undefined, changed: false };
  if (at > leaf.notAfter) return { ari: undefined, note: undefined, changed: false };
  let info: Awaited<ReturnType<typeof fetchRenewalInfo>>;
  try {
    info = await fetchRenewalInfo(account, leaf, { at });
  } catch (e) {
    if (!(e instanceof MailTlsError)) throw e;
    return {
      ari: undefined,
      note: `renewal information failed (${e.code}): ${e.message}`,
      changed: false,
    };
  }
  if (info === undefined)
    return {
      ari: undefined,
      note: `the CA at ${account.directoryUrl} offers no renewal information (RFC 9773): the lifetime rule applies`,
      changed: false,
    };
  const start = info.start.toISOString();
  const end = info.end.toISOString();
  const same = cached !== undefined && cached.start === start && cached.end === end;
  const span = info.end.getTime() - info.start.getTime();
  const renewAt = same
    ? cached.renewAt
    : new Date(info.start.getTime() + Math.floor((options.random ?? Math.random)() * span)).toISOString();
  return {
    ari: {
      certFor: fingerprint,
      certId: info.certId,
      start,
      end,
      renewAt,
      ...(info.explanationUrl === undefined ? {} : { explanationUrl: info.explanationUrl }),
      nextCheckAt: info.nextCheckAt.toISOString(),
      checkedAt: at.toISOString(),
    },
    note: undefined,
    changed: true,
  };
}

/**
 * Decides whether a domain is due for renewal. With `account`, asks its CA for the certificate's renewal
 * window (RFC 9773) when the CA offers one, draws a time uniformly inside it and keeps both in the store
 * until the CA's `Retry-After` (a changed window is drawn in again); without renewal information, or when
 * the request fails (said in `note`), chooses and stores the lifetime rule's jitter the first time a
 * certificate is seen.
 *
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN`; the store's load errors for a damaged pair. A failed
 *   renewal-information request does not throw: `source` is `lifetime` and `note` says why.
 * @example
 * ```ts
 * const s = await acmeRenewalStatus(store, 'example.com', { account });
 * console.log(`${s.source}: renews ${s.renewAt?.toISOString()} in ${s.window?.start.toISOString()} .. ${s.window?.end.toISOString()}`);
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
  let leaf: { notBefore: Date; notAfter: Date; fingerprint256: string; cert: Certificate } | undefined;
  try {
    const c = await store.load(domain);
    leaf = {
      notBefore: c.leaf.notBefore,
      notAfter: c.leaf.notAfter,
      fingerprint256: c.leaf.fingerprint('sha256'),
      cert: c.leaf,
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
      source: 'lifetime',
      window: undefined,
      note: undefined,
      explanationUrl: undefined,
      renewalInfoCheckAt: undefined,
      atRisk: failures > 0,
    };
  const window = renewalWindow(leaf, {
    at,
    ...(options.remainingFraction === undefined ? {} : { remainingFraction: options.remainingFraction }),
  });
  const persist = options.persist !== false;
  const info = await renewalInfo(state, leaf.cert, leaf.fingerprint256, options, at);
  const margin = window.expiresAt.getTime() - window.renewAt.getTime();
  const maxJitter = Math.floor((options.jitter ?? 0.1) * margin);
  let renewAt: Date;
  let span: { start: Date; end: Date };
  if (info.ari !== undefined) {
    renewAt = new Date(info.ari.renewAt);
    span = { start: new Date(info.ari.start), end: new Date(info.ari.end) };
    if (info.changed && state !== undefined && persist) {
      state = { ...state, ari: info.ari };
      await saveAcmeState(store, state).catch(() => undefined);
    }
  } else {
    let jitterMs = state?.jitterFor === leaf.fingerprint256 ? state.jitterMs : undefined;
    if (jitterMs === undefined) {
      jitterMs = Math.floor((options.random ?? Math.random)() * maxJitter);
      if (state !== undefined && persist) {
        state = { ...state, jitterFor: leaf.fingerprint256, jitterMs };
        await saveAcmeState(store, state).catch(() => undefined);
      }
    }
    renewAt = new Date(window.renewAt.getTime() - jitterMs);
    span = { start: new Date(window.renewAt.getTime() - maxJitter), end: window.renewAt };
  }
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
    source: info.ari === undefined ? 'lifetime' : 'ari',
    window: span,
    note: info.note,
    explanationUrl: info.ari?.explanationUrl,
    renewalInfoCheckAt: info.ari === undefined ? undefined : new Date(info.ari.nextCheckAt),
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
  /** Passed to every `obtainCertificate` (pre-flight, key policy timing, profile, progress...). */
  obtain?: Partial<Omit<ObtainCertificateOptions, 'account' | 'store' | 'domain'>> | undefined;
  /**
   * A staging directory: each renewal first runs a complete order there with a throwaway account (see
   * `obtainCertificate`), and a failure there leaves the production CA unasked.
   */
  stagingDirectory?: string | StagingDirectory | undefined;
  /**
   * Only the staging order (needs `stagingDirectory`), for every domain chosen, due or not (as certbot's
   * `renew --dry-run`): nothing in the store changes, not even the drawn jitter or a fetched window.
   */
  dryRun?: boolean | undefined;
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
  /** The staging order of a dry run (`dryRun`), when it passed. */
  readonly dryRun?: DryRunResult;
}

/**
 * Renews every ACME-managed domain of the store that is due (or the given ones), with the settings they
 * were ordered with (challenge, key policy, profile), deciding with the account's CA's renewal information
 * when it offers it. A failure of one domain does not stop the others; it is in its outcome. With `dryRun`
 * only staging orders are made and the store is left as it was.
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
  const dryRun = options.dryRun === true;
  if (dryRun && options.stagingDirectory === undefined)
    throw new TypeError('dryRun needs stagingDirectory (the staging directory to order from)');
  const domains = options.domains ?? (await listAcmeDomains(store));
  const out: RenewOutcome[] = [];
  for (const domain of domains) {
    const status = await acmeRenewalStatus(store, domain, {
      ...options,
      account,
      ...(dryRun ? { persist: false } : {}),
    });
    if (!status.due && options.force !== true && !dryRun) {
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
      const settings = {
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
      };
      if (dryRun && options.stagingDirectory !== undefined) {
        const dry = await dryRunCertificate({ ...settings, stagingDirectory: options.stagingDirectory });
        out.push({ domain, status, dryRun: dry });
        continue;
      }
      const result = await obtainCertificate({
        ...settings,
        ...(options.stagingDirectory === undefined ? {} : { stagingDirectory: options.stagingDirectory }),
      });
      out.push({ domain, status, result });
    } catch (e) {
      if (!(e instanceof MailTlsError)) throw e;
      out.push({ domain, status, error: e });
    }
  }
  return out;
}
