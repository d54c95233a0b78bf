/**
 * What hot reload ({@link watchCredentials}) hands out, built with no file, watch or timer: the `reload` and
 * `remove` events, the results of a refresh, and the status of each watched name. Pure: it imports no
 * `node:*` module (the credential and error types are imported for their shape only).
 *
 * @module node/tls/reload-results
 */
import type { TLSError } from '../../errors.js';
import type { Credential, CredentialSource } from '../store/credential.js';
import type { WatchedName } from './reload-policy.js';

/** Events of a {@link CredentialWatcher}. */
export interface CredentialWatcherEvents {
  /** A new pair is in service. */
  reload: [event: CredentialReloadEvent];
  /**
   * A name left the source (`domains: 'all'` or `'on-demand'`); its names fall back to other certificates or
   * the default.
   */
  remove: [event: CredentialRemoveEvent];
  /**
   * A new pair was refused, or the source could not be read; what was served stays in service.
   * `error.code` is `ERR_TLS_RELOAD`; `error.details` has `domain`, `reason` (the cause's code or `CERT_EXPIRED`,
   * `CERT_NOT_YET_VALID`, `NAME_NOT_COVERED`, `NO_DNS_NAMES`) and `servedFingerprint`; `error.cause` is the
   * original error. Without an `error` listener these become process warnings, never an exception.
   */
  error: [error: TLSError];
}

/** What a `reload` event carries. */
export interface CredentialReloadEvent {
  /** The name in the source. */
  readonly domain: string;
  /** The version served before (`undefined` on the first load). */
  readonly oldVersion: string | undefined;
  /** The version now served ({@link CredentialSource.version} at the time it was read). */
  readonly newVersion: string;
  /** SHA-256 fingerprint of the new leaf (`AA:BB:...`). */
  readonly fingerprint: string;
  /** SHA-256 fingerprint of the leaf served before, if any. */
  readonly oldFingerprint: string | undefined;
  /** End of the new leaf's validity. */
  readonly notAfter: Date;
  /** The SNI names (and wildcards) the new certificate is now served for. */
  readonly names: readonly string[];
  /** Names the domain served before and no longer does (another domain's certificate or the default serves them). */
  readonly removedNames: readonly string[];
  /** Whether it is also the registry's default credential now. */
  readonly isDefault: boolean;
}

/** What a `remove` event carries (a name left the source, with `domains: 'all'`). */
export interface CredentialRemoveEvent {
  /** The name that is gone. */
  readonly domain: string;
  /** The version that was served. */
  readonly oldVersion: string | undefined;
  /** The SNI names no longer served with its certificate. */
  readonly removedNames: readonly string[];
}

/** A name that could not be (re)loaded, in a {@link CredentialRefreshResult}. */
export interface CredentialFailure {
  /** The name in the source. */
  readonly domain: string;
  /** Why (`ERR_TLS_RELOAD`). */
  readonly error: TLSError;
}

/** What {@link CredentialWatcher.refresh} (and {@link CredentialWatcher.ready}) answers. */
export interface CredentialRefreshResult {
  /** Names whose new pair went into service. */
  readonly reloaded: readonly string[];
  /** Names whose files did not change. */
  readonly unchanged: readonly string[];
  /** Names whose new pair was refused (the old one stays) or that could not be read. */
  readonly failed: readonly CredentialFailure[];
  /** Names that left the source. */
  readonly removed: readonly string[];
}

/** The state of one watched name, from {@link CredentialWatcher.status}. */
export interface WatchedCredentialStatus {
  /** The name in the source. */
  readonly domain: string;
  /** The version in service, if any. */
  readonly version: string | undefined;
  /** SHA-256 fingerprint of the leaf in service. */
  readonly fingerprint: string | undefined;
  /** End of validity of the leaf in service. */
  readonly notAfter: Date | undefined;
  /** The SNI names served with it, in the order of its certificate (subjectAltName order). */
  readonly names: readonly string[];
  /** Whether it is the registry's default. */
  readonly isDefault: boolean;
  /** When the pair in service was put in service. */
  readonly reloadedAt: Date | undefined;
  /** The last refusal, until a later pair goes into service. */
  readonly lastError: TLSError | undefined;
}

/** Counters of {@link CredentialWatcher.stats}. */
export interface CredentialWatcherStats {
  /** Names watched. */
  readonly domains: number;
  /** Open `fs.watch` handles. */
  readonly watches: number;
  /** Pairs put in service since the start (first loads included). */
  readonly reloads: number;
  /** Pairs refused or sources that could not be read, since the start. */
  readonly failures: number;
  /** Version comparisons made. */
  readonly checks: number;
}

/** The outcome of one check of one name. */
export type ReloadOutcome =
  | {
      /** A new pair went into service, the files did not change, or the name left the source. */
      readonly kind: 'reloaded' | 'unchanged' | 'removed';
      /** The name in the source. */
      readonly domain: string;
    }
  | {
      /** The new pair was refused, or the source could not be read. */
      readonly kind: 'failed';
      /** The name in the source. */
      readonly domain: string;
      /** Why (`ERR_TLS_RELOAD`). */
      readonly error: TLSError;
    };

/**
 * The result of a refresh from the names removed before the checks and the outcomes of the checks: every
 * list sorted by name except `removed`, which keeps the order the names were removed in.
 *
 * @example
 * ```ts
 * refreshResult([], [{ kind: 'unchanged', domain: 'b.org' }, { kind: 'reloaded', domain: 'a.org' }]);
 * ```
 */
export function refreshResult(
  removed: readonly string[],
  outcomes: readonly ReloadOutcome[],
): CredentialRefreshResult {
  const result = {
    reloaded: [] as string[],
    unchanged: [] as string[],
    failed: [] as CredentialFailure[],
    removed: [...removed],
  };
  for (const o of outcomes) {
    if (o.kind === 'failed') result.failed.push({ domain: o.domain, error: o.error });
    else result[o.kind].push(o.domain);
  }
  result.reloaded.sort();
  result.unchanged.sort();
  result.failed.sort((a, b) => byDomain(a, b));
  return result;
}

/**
 * Orders two records by their `domain` (code unit order, as the watcher lists names).
 *
 * @example
 * ```ts
 * statuses.sort(byDomain);
 * ```
 */
export function byDomain(a: { readonly domain: string }, b: { readonly domain: string }): number {
  return a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0;
}

/**
 * The `reload` event of a swap: `removedNames` are the names served `before` that the domain no longer
 * serves (`names`).
 *
 * @example
 * ```ts
 * reloadEvent({ domain, oldVersion, credential, fingerprint, oldFingerprint, before, names, isDefault });
 * ```
 */
export function reloadEvent(swap: {
  /** The name in the source. */
  readonly domain: string;
  /** The version served before. */
  readonly oldVersion: string | undefined;
  /** The pair now served. */
  readonly credential: Pick<Credential, 'version' | 'leaf'>;
  /** SHA-256 fingerprint of its leaf. */
  readonly fingerprint: string;
  /** SHA-256 fingerprint of the leaf served before. */
  readonly oldFingerprint: string | undefined;
  /** The names the domain served before the swap. */
  readonly before: readonly string[];
  /** The names it serves now. */
  readonly names: readonly string[];
  /** Whether it is the registry's default now. */
  readonly isDefault: boolean;
}): CredentialReloadEvent {
  const now = new Set(swap.names);
  return {
    domain: swap.domain,
    oldVersion: swap.oldVersion,
    newVersion: swap.credential.version,
    fingerprint: swap.fingerprint,
    oldFingerprint: swap.oldFingerprint,
    notAfter: swap.credential.leaf.notAfter,
    names: swap.names,
    removedNames: swap.before.filter((p) => !now.has(p)),
    isDefault: swap.isDefault,
  };
}

/**
 * The status of a name as {@link CredentialWatcher.status} reports it: `names` are the SNI names it serves;
 * it is the default when it is `defaultDomain` and has a pair in service.
 *
 * @example
 * ```ts
 * watchedStatus(record, owners.servedBy(record), 'example.org').isDefault;
 * ```
 */
export function watchedStatus(
  name: Readonly<WatchedName>,
  names: readonly string[],
  defaultDomain: string | undefined,
): WatchedCredentialStatus {
  return {
    domain: name.domain,
    version: name.version,
    fingerprint: name.fingerprint,
    notAfter: name.credential?.notAfter,
    names,
    isDefault: name.credential !== undefined && name.domain === defaultDomain,
    reloadedAt: name.reloadedAt,
    lastError: name.lastError,
  };
}
