/**
 * The options of hot reload ({@link watchCredentials}) checked and with their defaults, with no file, watch
 * or timer. Pure: it imports no `node:*` module.
 *
 * @module node/tls/reload-options
 */
import type { CredentialSource } from '../store/credential.js';

/** Options of {@link watchCredentials}. */
export interface WatchCredentialsOptions {
  /**
   * The names to load and watch: `'all'` (default), every name `source.list()` answers, followed over time;
   * a list of names; or `'on-demand'`: only `defaultDomain` before `ready`, and any other name when a
   * ClientHello first asks for it (for stores of thousands of domains: the server listens at once). On
   * demand, a name the registry does not serve from a certificate filed under that very name is looked up in
   * the source (the name, the wildcard one label above it, then each parent domain: a certificate filed under
   * `example.org` that covers `mail.example.org` is found), loaded, checked as any reload and registered before
   * the handshake goes on; a name found nowhere gets the default and is looked up again after
   * `pollIntervalMs`. Loaded names are kept current by the poll (the default domain by `fs.watch` too), and
   * one that leaves the source is removed. A name covered only by the certificate of an unrelated domain is
   * not found this way: use `'all'` for such a source.
   */
  domains?: readonly string[] | 'all' | 'on-demand' | undefined;
  /** The name whose credential becomes the registry's default (served without SNI and for unknown names). */
  defaultDomain?: string | undefined;
  /** Time to gather file events before checking, in milliseconds; default 100. */
  debounceMs?: number | undefined;
  /**
   * Interval of the fallback poll that compares every name's version (and, with `'all'`, lists the source
   * again), in milliseconds; default 5000; 0 turns polling off. `fs.watch` misses some changes (network file
   * systems, a watch limit reached, a link swapped in a directory that is not watched).
   */
  pollIntervalMs?: number | undefined;
  /** Watch the files with `fs.watch` (default true); false leaves polling and `refresh()` only. */
  watch?: boolean | undefined;
  /** Whether the watches and the poll timer keep the process alive (default true, as `fs.watch`). */
  persistent?: boolean | undefined;
  /** The clock for the validity check: a moment or a function; default the system clock. */
  at?: Date | (() => Date) | undefined;
  /** Serve a certificate that is expired or not yet valid instead of refusing it; default false. */
  allowExpired?: boolean | undefined;
  /** Closes the watcher when aborted. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link CredentialWatcher.refresh}. */
export interface CredentialRefreshOptions {
  /** Load and check every name again even when its files look unchanged (default false). */
  force?: boolean | undefined;
}

/** The default of {@link WatchCredentialsOptions.debounceMs}, in milliseconds. */
export const DEFAULT_DEBOUNCE_MS = 100;
/** The default of {@link WatchCredentialsOptions.pollIntervalMs}, in milliseconds. */
export const DEFAULT_POLL_MS = 5000;

/** {@link WatchCredentialsOptions} checked, with every default filled in. */
export interface WatchSettings {
  /** Whether every name of the source is watched (`domains: 'all'`). */
  readonly all: boolean;
  /** Whether names are loaded when a handshake first asks for them (`domains: 'on-demand'`). */
  readonly onDemand: boolean;
  /** The names watched when neither `all` nor `onDemand`, deduplicated, the default domain included. */
  readonly explicit: readonly string[];
  /** The name whose credential becomes the registry's default. */
  readonly defaultDomain: string | undefined;
  /** Time to gather file events before checking, in milliseconds. */
  readonly debounceMs: number;
  /** Interval of the fallback poll in milliseconds; 0 when off. */
  readonly pollMs: number;
  /** The clock of the validity check. */
  readonly clock: () => Date;
  /** Whether expired and not yet valid certificates are served. */
  readonly allowExpired: boolean;
  /** Whether the watches and timers keep the process alive. */
  readonly persistent: boolean;
  /** Whether the files are watched with `fs.watch`. */
  readonly watch: boolean;
  /** The signal that closes the watcher. */
  readonly signal: AbortSignal | undefined;
}

/**
 * Checks the options of {@link watchCredentials} and fills in the defaults.
 *
 * @throws TypeError for options that are not an object, bad `domains`, `defaultDomain`, `at` or `signal`;
 *   RangeError for a negative or infinite `debounceMs`, or a `pollIntervalMs` that is negative, infinite or
 *   between 0 and 10.
 * @example
 * ```ts
 * watchSettings({ domains: ['example.org'], defaultDomain: 'mail.example.org' }).explicit;
 * // ['example.org', 'mail.example.org']
 * ```
 */
export function watchSettings(options: WatchCredentialsOptions): WatchSettings {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const domains = options.domains ?? 'all';
  const onDemand = domains === 'on-demand';
  if (domains !== 'all' && !onDemand) {
    if (!Array.isArray(domains) || domains.some((d) => typeof d !== 'string' || d === ''))
      throw new TypeError("domains must be 'all', 'on-demand' or an array of names");
  }
  const defaultDomain = options.defaultDomain;
  if (defaultDomain !== undefined && (typeof defaultDomain !== 'string' || defaultDomain === ''))
    throw new TypeError('defaultDomain must be a name');
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  if (typeof debounceMs !== 'number' || !Number.isFinite(debounceMs) || debounceMs < 0)
    throw new RangeError('debounceMs must be a finite number of milliseconds, 0 or more');
  const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  if (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs < 0 || (pollMs > 0 && pollMs < 10))
    throw new RangeError('pollIntervalMs must be 0 (off) or at least 10 milliseconds');
  const at = options.at;
  if (at !== undefined && typeof at !== 'function' && !(at instanceof Date && !Number.isNaN(at.getTime())))
    throw new TypeError('at must be a valid Date or a function answering one');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  const all = domains === 'all';
  let explicit: readonly string[] = all || onDemand ? [] : [...new Set(domains as readonly string[])];
  if (defaultDomain !== undefined && !all && !explicit.includes(defaultDomain))
    explicit = [...explicit, defaultDomain];
  return {
    all,
    onDemand,
    explicit,
    defaultDomain,
    debounceMs,
    pollMs,
    clock: at === undefined ? () => new Date() : typeof at === 'function' ? at : () => at,
    allowExpired: options.allowExpired === true,
    persistent: options.persistent !== false,
    watch: options.watch !== false,
    signal: options.signal,
  };
}

/**
 * Whether a value has every method of a {@link CredentialSource} (`list`, `load`, `version`, `watchPaths`,
 * `files`): a `CertificateStore`, `CertbotSource`, `KubernetesSecretSource` or one of your own.
 *
 * @example
 * ```ts
 * if (!isCredentialSource(source)) throw new TypeError('source must be a CredentialSource');
 * ```
 */
export function isCredentialSource(value: unknown): value is CredentialSource {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  return (['list', 'load', 'version', 'watchPaths', 'files'] as const).every(
    (m) => typeof s[m] === 'function',
  );
}
