/**
 * Hot reload: keeps an {@link SNIRegistry} serving the credentials of a {@link CredentialSource} (the mailtls
 * store, certbot's `live/`, a Kubernetes secret mount) as they are renewed, without restarting the server.
 *
 * {@link watchCredentials} loads every domain, registers each certificate in the registry under the names it
 * covers (its DNS subjectAltNames, wildcards included), and then watches the files. On a change (an
 * `fs.watch` event on a watch path, a poll of the version every `pollIntervalMs`, or {@link
 * CredentialWatcher.refresh}) it loads the new pair and checks it fully before anything is swapped:
 *
 * 1. the source reads one consistent pair and checks that the key belongs to the leaf (reading again a
 *    moment later when a swap is in progress, as during certbot's link re-pointing);
 * 2. every certificate of the chain is valid now (or at `at`), unless `allowExpired`;
 * 3. the leaf covers at least one DNS name, and for the mailtls store the domain it is filed under;
 * 4. the registry builds its `SecureContext` (`registry.prepare`: its profile and context options), which its
 *    names then serve without a second build when the registry has no `maxContexts` bound.
 *
 * Only then are the registry entries replaced, in one synchronous step (names of the new certificate added or
 * replaced, names it no longer covers removed), and the default credential replaced when the domain is
 * `defaultDomain` (servers made with `createTLSServer`/`createHTTPSServer`, and smtp-server through
 * `updateSMTPServer`, follow the registry's default). A pair that fails any check leaves the previous one
 * serving and is reported as an `error` event (`ERR_TLS_RELOAD`, with the reason); it is not retried until
 * its files change again. Connections already open keep the context they were accepted with.
 *
 * @module node/tls/reload
 */
import { EventEmitter } from 'node:events';
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TLSError } from '../../errors.js';
import { canonicalizeSNIPattern } from '../../names/sni.js';
import { type Credential, type CredentialSource, fileSignature } from '../store/credential.js';
import { SNIRegistry } from './sni-registry.js';
import { WatchSet } from './watch.js';

/** Options of {@link watchCredentials}. */
export interface WatchCredentialsOptions {
  /** The names to load and watch, or `'all'` (default): every name `source.list()` answers, followed over time. */
  domains?: readonly string[] | 'all' | undefined;
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

/** Events of a {@link CredentialWatcher}. */
export interface CredentialWatcherEvents {
  /** A new pair is in service. */
  reload: [event: CredentialReloadEvent];
  /** A name left the source (with `domains: 'all'`); its names fall back to other certificates or the default. */
  remove: [event: CredentialRemoveEvent];
  /**
   * A new pair was refused, or the source could not be read; what was served stays in service.
   * `error.code` is `ERR_TLS_RELOAD`; `error.details` has `domain`, `reason` (the cause's code or `CERT_EXPIRED`,
   * `CERT_NOT_YET_VALID`, `NAME_NOT_COVERED`, `NO_DNS_NAMES`) and `servedFingerprint`; `error.cause` is the
   * original error. Without an `error` listener these become process warnings, never an exception.
   */
  error: [error: TLSError];
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

/** Options of {@link CredentialWatcher.refresh}. */
export interface CredentialRefreshOptions {
  /** Load and check every name again even when its files look unchanged (default false). */
  force?: boolean | undefined;
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

type Outcome =
  | { kind: 'reloaded' | 'unchanged' | 'removed'; domain: string }
  | { kind: 'failed'; domain: string; error: TLSError };

interface DomainState {
  readonly domain: string;
  /** The domain as an SNI pattern (store names are host names), for ownership of its own name. */
  readonly selfPattern: string | undefined;
  credential: Credential | undefined;
  version: string | undefined;
  fingerprint: string | undefined;
  patterns: readonly string[];
  /** Version and file signature of what is in service. */
  stamp: string | undefined;
  /** Stamp of the last refused pair: not retried until the files change. */
  failedStamp: string | undefined;
  lastError: TLSError | undefined;
  reloadedAt: Date | undefined;
  /** The check chain of this domain (checks run one after the other). */
  running: Promise<Outcome> | undefined;
  /** A requested check that has not started yet (requests coalesce into it). */
  queued: Promise<Outcome> | undefined;
  force: boolean;
  timer: NodeJS.Timeout | undefined;
  removed: boolean;
  /** A watch of this domain broke: add watches again at the next check. */
  rearm: boolean;
}

const DEFAULT_DEBOUNCE_MS = 100;
const DEFAULT_POLL_MS = 5000;
const CONCURRENCY = 8;
/** Reads of one check while the files keep changing under it; the last one is judged as it is. */
const MAX_READS = 5;

function selfPatternOf(domain: string): string | undefined {
  try {
    return canonicalizeSNIPattern(domain);
  } catch {
    return undefined;
  }
}

function codeOf(e: unknown): string {
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'UNKNOWN';
}

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 400);
}

/**
 * Watches a credential source and keeps an SNI registry serving its current pairs. Create it with
 * {@link watchCredentials}.
 *
 * Events: `reload` ({@link CredentialReloadEvent}), `remove` ({@link CredentialRemoveEvent}), `error`
 * (a `TLSError` with code `ERR_TLS_RELOAD`: a refused pair; the previous one keeps serving).
 *
 * @example
 * ```ts
 * const watcher = watchCredentials(store, registry, { defaultDomain: 'example.com' });
 * watcher.on('reload', (e) => console.log(`${e.domain}: ${e.fingerprint}`));
 * watcher.on('error', (e) => console.error(e.details.reason, e.message));
 * await watcher.ready;
 * // ... later
 * watcher.close();
 * ```
 */
export class CredentialWatcher extends EventEmitter<CredentialWatcherEvents> {
  /** The source watched. */
  readonly source: CredentialSource;
  /** The registry kept up to date. */
  readonly registry: SNIRegistry;
  /**
   * The result of the first load of every name. Never rejects: names that failed are in `failed` (and were
   * emitted as `error` events).
   */
  readonly ready: Promise<CredentialRefreshResult>;
  readonly #all: boolean;
  readonly #explicit: readonly string[];
  readonly #defaultDomain: string | undefined;
  readonly #debounceMs: number;
  readonly #clock: () => Date;
  readonly #allowExpired: boolean;
  readonly #persistent: boolean;
  readonly #watches: WatchSet | undefined;
  readonly #states = new Map<string, DomainState>();
  /** Which domains' certificates cover each SNI pattern. */
  readonly #claims = new Map<string, Set<DomainState>>();
  /** The patterns this watcher registered, with the domain serving each. */
  readonly #owners = new Map<string, DomainState>();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.close();
  #poll: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #rescanRunning: Promise<CredentialRefreshResult> | undefined;
  #rescanQueued: Promise<CredentialRefreshResult> | undefined;
  #rescanForce = false;
  #listFailure: string | undefined;
  #closed = false;
  #reloads = 0;
  #failures = 0;
  #checks = 0;

  /** Prefer {@link watchCredentials}. @throws TypeError, RangeError as {@link watchCredentials}. */
  constructor(source: CredentialSource, registry: SNIRegistry, options: WatchCredentialsOptions = {}) {
    super();
    if (
      source === null ||
      typeof source !== 'object' ||
      typeof source.list !== 'function' ||
      typeof source.load !== 'function' ||
      typeof source.version !== 'function' ||
      typeof source.watchPaths !== 'function' ||
      typeof source.files !== 'function'
    )
      throw new TypeError(
        'source must be a CredentialSource (CertificateStore, CertbotSource, KubernetesSecretSource)',
      );
    if (!(registry instanceof SNIRegistry)) throw new TypeError('registry must be an SNIRegistry');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const domains = options.domains ?? 'all';
    if (domains !== 'all') {
      if (!Array.isArray(domains) || domains.some((d) => typeof d !== 'string' || d === ''))
        throw new TypeError("domains must be 'all' or an array of names");
    }
    if (
      options.defaultDomain !== undefined &&
      (typeof options.defaultDomain !== 'string' || options.defaultDomain === '')
    )
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
    this.source = source;
    this.registry = registry;
    this.#all = domains === 'all';
    this.#explicit = domains === 'all' ? [] : [...new Set(domains)];
    this.#defaultDomain = options.defaultDomain;
    if (this.#defaultDomain !== undefined && !this.#all && !this.#explicit.includes(this.#defaultDomain))
      this.#explicit = [...this.#explicit, this.#defaultDomain];
    this.#debounceMs = debounceMs;
    this.#clock = at === undefined ? () => new Date() : typeof at === 'function' ? at : () => at;
    this.#allowExpired = options.allowExpired === true;
    this.#persistent = options.persistent !== false;
    this.#watches =
      options.watch === false
        ? undefined
        : new WatchSet({
            persistent: this.#persistent,
            onChange: (owners, _path, failed) => this.#onFileEvent(owners, failed),
          });
    this.#signal = options.signal;
    if (this.#signal?.aborted) {
      this.#closed = true;
      this.ready = Promise.resolve({ reloaded: [], unchanged: [], failed: [], removed: [] });
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.ready = this.#requestRescan(false);
    if (pollMs > 0) {
      this.#poll = setInterval(() => {
        if (this.#rescanRunning === undefined) void this.#requestRescan(false);
      }, pollMs);
      if (!this.#persistent) this.#poll.unref();
    }
  }

  /** Whether {@link CredentialWatcher.close} was called (or the signal aborted). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Checks every name now (lists the source again with `domains: 'all'`) and reloads those whose files
   * changed, or all of them with `force`: for a SIGHUP handler or an admin command. Never rejects.
   *
   * @example
   * ```ts
   * process.on('SIGHUP', () => {
   *   watcher.refresh({ force: true }).then((r) => console.log(`reloaded ${r.reloaded.join(', ')}`));
   * });
   * ```
   */
  refresh(options: CredentialRefreshOptions = {}): Promise<CredentialRefreshResult> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    return this.#requestRescan(options.force === true);
  }

  /** The state of every watched name, sorted by name. */
  status(): WatchedCredentialStatus[] {
    return [...this.#states.values()]
      .filter((s) => !s.removed)
      .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0))
      .map((s) => ({
        domain: s.domain,
        version: s.version,
        fingerprint: s.fingerprint,
        notAfter: s.credential?.leaf.notAfter,
        names: this.#servedBy(s),
        isDefault: s.credential !== undefined && s.domain === this.#defaultDomain,
        reloadedAt: s.reloadedAt,
        lastError: s.lastError,
      }));
  }

  /** Counters for monitoring. */
  stats(): CredentialWatcherStats {
    let domains = 0;
    for (const s of this.#states.values()) if (!s.removed) domains++;
    return {
      domains,
      watches: this.#watches?.size ?? 0,
      reloads: this.#reloads,
      failures: this.#failures,
      checks: this.#checks,
    };
  }

  /**
   * Stops watching: closes every `fs.watch` handle and timer. The registry keeps serving what was loaded last.
   * Checks already running finish without changing the registry. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#poll) clearInterval(this.#poll);
    if (this.#rescanTimer) clearTimeout(this.#rescanTimer);
    this.#poll = undefined;
    this.#rescanTimer = undefined;
    for (const s of this.#states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
    }
    this.#watches?.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // scheduling

  #onFileEvent(owners: ReadonlySet<string>, failed: boolean): void {
    if (this.#closed) return;
    for (const domain of owners) {
      const state = this.#states.get(domain);
      // A broken watch was dropped: the next check adds watches again even if nothing changed.
      if (state && failed) state.rearm = true;
      if (state && !state.removed && state.timer === undefined) {
        // Gather the events of one swap (a throttle, not a trailing debounce: steady events cannot starve it).
        state.timer = setTimeout(() => {
          state.timer = undefined;
          if (!this.#closed) void this.#request(state, false);
        }, this.#debounceMs);
        if (!this.#persistent) state.timer.unref();
      }
    }
    // A shared directory changed: with 'all', a name may have been added or removed.
    if (this.#all && this.#rescanTimer === undefined) {
      this.#rescanTimer = setTimeout(() => {
        this.#rescanTimer = undefined;
        if (!this.#closed) void this.#requestRescan(false);
      }, this.#debounceMs);
      if (!this.#persistent) this.#rescanTimer.unref();
    }
  }

  /** Runs a check of one domain after the running one; requests made before it starts share it. */
  #request(state: DomainState, force: boolean): Promise<Outcome> {
    state.force ||= force;
    if (state.queued) return state.queued;
    const run = (): Promise<Outcome> => {
      state.queued = undefined;
      const f = state.force;
      state.force = false;
      return this.#check(state, f);
    };
    const queued = (state.running ?? Promise.resolve()).then(run, run);
    state.queued = queued;
    state.running = queued;
    return queued;
  }

  #requestRescan(force: boolean): Promise<CredentialRefreshResult> {
    this.#rescanForce ||= force;
    if (this.#rescanQueued) return this.#rescanQueued;
    const run = (): Promise<CredentialRefreshResult> => {
      this.#rescanQueued = undefined;
      const f = this.#rescanForce;
      this.#rescanForce = false;
      return this.#rescan(f);
    };
    const queued = (this.#rescanRunning ?? Promise.resolve()).then(run, run);
    this.#rescanQueued = queued;
    this.#rescanRunning = queued;
    void queued.finally(() => {
      if (this.#rescanRunning === queued) this.#rescanRunning = undefined;
    });
    return queued;
  }

  async #rescan(force: boolean): Promise<CredentialRefreshResult> {
    const result = {
      reloaded: [] as string[],
      unchanged: [] as string[],
      failed: [] as CredentialFailure[],
      removed: [] as string[],
    };
    if (this.#closed) return result;
    let names: readonly string[];
    if (this.#all) {
      try {
        names = await this.source.list();
        this.#listFailure = undefined;
      } catch (e) {
        // Keep serving what is loaded; check the known names.
        const key = `${codeOf(e)}:${messageOf(e)}`;
        if (this.#listFailure !== key) {
          this.#listFailure = key;
          this.#failures++;
          this.#report(
            new TLSError(
              'ERR_TLS_RELOAD',
              `Listing the credentials of the ${this.source.kind} source failed; what is loaded stays in service: ${messageOf(e)}`,
              { cause: e, details: { reason: codeOf(e) } },
            ),
          );
        }
        names = [...this.#states.values()].filter((s) => !s.removed).map((s) => s.domain);
      }
      if (this.#defaultDomain !== undefined && !names.includes(this.#defaultDomain))
        names = [...names, this.#defaultDomain];
    } else names = this.#explicit;
    if (this.#closed) return result;
    const present = new Set(names);
    for (const state of this.#states.values()) {
      if (!state.removed && !present.has(state.domain)) {
        const outcome = await this.#remove(state);
        if (outcome) result.removed.push(state.domain);
      }
    }
    const states = names.map((d) => this.#state(d));
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < states.length) {
        const state = states[next++]!;
        outcomes.push(await this.#request(state, force));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, states.length) }, worker));
    for (const o of outcomes) {
      if (o.kind === 'failed') result.failed.push({ domain: o.domain, error: o.error });
      else if (o.kind === 'reloaded') result.reloaded.push(o.domain);
      else if (o.kind === 'unchanged') result.unchanged.push(o.domain);
      else if (o.kind === 'removed') result.removed.push(o.domain);
    }
    result.reloaded.sort();
    result.unchanged.sort();
    result.failed.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    return result;
  }

  #state(domain: string): DomainState {
    let state = this.#states.get(domain);
    if (state === undefined || state.removed) {
      state = {
        domain,
        selfPattern: selfPatternOf(domain),
        credential: undefined,
        version: undefined,
        fingerprint: undefined,
        patterns: [],
        stamp: undefined,
        failedStamp: undefined,
        lastError: undefined,
        reloadedAt: undefined,
        running: undefined,
        queued: undefined,
        force: false,
        timer: undefined,
        removed: false,
        rearm: false,
      };
      this.#states.set(domain, state);
    }
    return state;
  }

  // ---------------------------------------------------------------------------------------------------------
  // checking and loading

  /** A cheap identifier of the files' state: the source's version and the signature of the files it resolves to. */
  async #stamp(domain: string): Promise<string> {
    const version = await this.source.version(domain);
    const files = await this.source.files(domain);
    return `${version}|${await fileSignature([files.cert, files.key])}`;
  }

  async #check(state: DomainState, force: boolean): Promise<Outcome> {
    const domain = state.domain;
    if (this.#closed || state.removed) return { kind: 'unchanged', domain };
    this.#checks++;
    for (let read = 1; ; read++) {
      let stamp: string;
      try {
        stamp = await this.#stamp(domain);
      } catch (e) {
        if (await this.#gone(state, e)) return { kind: 'removed', domain };
        return this.#refuse(state, `error|${codeOf(e)}|${messageOf(e)}`, e, codeOf(e), undefined);
      }
      if (this.#closed || state.removed) return { kind: 'unchanged', domain };
      if (!force && stamp === state.stamp) {
        if (state.rearm) await this.#watch(state);
        return { kind: 'unchanged', domain };
      }
      if (!force && stamp === state.failedStamp && state.lastError)
        return { kind: 'failed', domain, error: state.lastError };
      let credential: Credential | undefined;
      let failure: unknown;
      try {
        credential = await this.source.load(domain);
      } catch (e) {
        failure = e;
      }
      // The outcome is filed under the stamp, and a refusal is reported only when the stamp is new: so the
      // stamp must describe the files that were read. When they changed while they were read (a write landing
      // between the stamp and the read, however slow the machine), read them again; a refusal filed under
      // the old stamp would be reported a second time at the next check of the same files.
      if (read < MAX_READS && !this.#closed && !state.removed) {
        const after = await this.#stamp(domain).catch(() => undefined);
        if (after !== stamp) continue;
      }
      if (credential === undefined) {
        if (await this.#gone(state, failure)) return { kind: 'removed', domain };
        const outcome = this.#refuse(state, stamp, failure, codeOf(failure), undefined);
        await this.#watch(state);
        return outcome;
      }
      const outcome = this.#accept(state, stamp, credential);
      await this.#watch(state);
      return outcome;
    }
  }

  /** Runs the checks that do not need the old pair, then swaps. */
  #accept(state: DomainState, stamp: string, credential: Credential): Outcome {
    const domain = state.domain;
    if (this.#closed || state.removed) return { kind: 'unchanged', domain };
    const leaf = credential.leaf;
    const fingerprint = leaf.fingerprint('sha256');
    // The same pair (a touch, a re-install of identical files): nothing to swap.
    if (
      state.credential !== undefined &&
      state.credential.cert === credential.cert &&
      state.credential.key === credential.key
    ) {
      state.stamp = stamp;
      state.version = credential.version;
      state.failedStamp = undefined;
      state.lastError = undefined;
      return { kind: 'unchanged', domain };
    }
    if (!this.#allowExpired) {
      const now = this.#clock();
      for (const [i, c] of credential.chain.entries()) {
        const what = i === 0 ? 'the certificate' : `intermediate ${i} (${c.subject.toString()})`;
        if (now.getTime() > c.notAfter.getTime())
          return this.#refuse(
            state,
            stamp,
            new Error(`${what} expired on ${c.notAfter.toISOString()}; install a renewed certificate`),
            'CERT_EXPIRED',
            credential,
          );
        if (now.getTime() < c.notBefore.getTime())
          return this.#refuse(
            state,
            stamp,
            new Error(
              `${what} is not valid before ${c.notBefore.toISOString()}; check the clock or wait until then`,
            ),
            'CERT_NOT_YET_VALID',
            credential,
          );
      }
    }
    const patterns = servedPatterns(credential);
    if (patterns.length === 0)
      return this.#refuse(
        state,
        stamp,
        new Error(
          'the certificate has no DNS name in its subjectAltName, so no client can ask for it by name',
        ),
        'NO_DNS_NAMES',
        credential,
      );
    if (
      this.source.kind === 'mailtls' &&
      state.selfPattern !== undefined &&
      !covers(patterns, state.selfPattern)
    )
      return this.#refuse(
        state,
        stamp,
        new Error(`the certificate does not cover ${state.selfPattern}; it names ${patterns.join(', ')}`),
        'NAME_NOT_COVERED',
        credential,
      );
    try {
      // Built now, as the registry will serve it (its profile and context options), and kept for its names.
      this.registry.prepare(credential);
    } catch (e) {
      return this.#refuse(state, stamp, e, codeOf(e), credential);
    }
    const isDefault = domain === this.#defaultDomain;
    if (isDefault) {
      try {
        this.registry.setDefault(credential);
      } catch (e) {
        return this.#refuse(state, stamp, e, codeOf(e), credential);
      }
    }
    const oldVersion = state.version;
    const oldFingerprint = state.fingerprint;
    const before = this.#servedBy(state);
    this.#swap(state, credential, patterns);
    state.version = credential.version;
    state.fingerprint = fingerprint;
    state.stamp = stamp;
    state.failedStamp = undefined;
    state.lastError = undefined;
    state.reloadedAt = new Date();
    this.#reloads++;
    const names = this.#servedBy(state);
    const now = new Set(names);
    this.#emitSafely('reload', {
      domain,
      oldVersion,
      newVersion: credential.version,
      fingerprint,
      oldFingerprint,
      notAfter: leaf.notAfter,
      names,
      removedNames: before.filter((p) => !now.has(p)),
      isDefault,
    });
    return { kind: 'reloaded', domain };
  }

  #refuse(
    state: DomainState,
    stamp: string,
    cause: unknown,
    reason: string,
    credential: Credential | undefined,
  ): Outcome {
    const domain = state.domain;
    if (this.#closed || state.removed) return { kind: 'unchanged', domain };
    const served = state.fingerprint;
    const keeps =
      served === undefined
        ? 'nothing is served for it yet'
        : `the certificate in service (SHA-256 ${served.slice(0, 23)}..., version ${String(state.version)}) stays in service`;
    const error = new TLSError(
      'ERR_TLS_RELOAD',
      `Reloading the TLS certificate of ${domain} from the ${this.source.kind} source failed and ${keeps}: ` +
        `${messageOf(cause)}`,
      {
        cause,
        details: {
          domain,
          reason,
          ...(credential === undefined
            ? {}
            : { version: credential.version, fingerprint: credential.leaf.fingerprint('sha256') }),
          ...(served === undefined ? {} : { servedFingerprint: served, servedVersion: state.version }),
        },
      },
    );
    const repeated = state.failedStamp === stamp;
    state.failedStamp = stamp;
    state.lastError = error;
    if (!repeated) {
      this.#failures++;
      this.#report(error);
    }
    return { kind: 'failed', domain, error };
  }

  async #remove(state: DomainState): Promise<boolean> {
    // Let a running check finish first, so it cannot register names after the removal.
    await state.running?.catch(() => undefined);
    return this.#removeNow(state);
  }

  #removeNow(state: DomainState): boolean {
    if (this.#closed || state.removed) return false;
    state.removed = true;
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    this.#watches?.release(state.domain);
    const before = this.#servedBy(state);
    const oldVersion = state.version;
    if (state.credential !== undefined) this.#swap(state, undefined, []);
    this.#states.delete(state.domain);
    this.#emitSafely('remove', { domain: state.domain, oldVersion, removedNames: before });
    return true;
  }

  /**
   * With `domains: 'all'`, a name whose files are gone is removed rather than reported when the source no
   * longer lists it (`store.remove()`, a deleted lineage). Answers whether it was removed.
   */
  async #gone(state: DomainState, e: unknown): Promise<boolean> {
    if (!this.#all || codeOf(e) !== 'ERR_STORE_NOT_FOUND' || state.domain === this.#defaultDomain)
      return false;
    let names: string[];
    try {
      names = await this.source.list();
    } catch {
      return false;
    }
    return !names.includes(state.domain) && this.#removeNow(state);
  }

  async #watch(state: DomainState): Promise<void> {
    state.rearm = false;
    if (!this.#watches || this.#closed || state.removed) return;
    try {
      const paths = [...(await this.source.watchPaths(state.domain))];
      const files = await this.source.files(state.domain);
      // The directories of the files themselves, so a file replaced inside a version directory is seen.
      for (const f of [files.cert, files.key]) {
        try {
          paths.push(dirname(await realpath(f)));
        } catch {
          // missing: polling covers it
        }
      }
      if (this.#closed || state.removed) return;
      await this.#watches.set(state.domain, paths);
    } catch {
      // polling covers a name whose paths cannot be listed
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // the registry

  /** Replaces the credential of a domain and re-decides the owner of every pattern it had or has. */
  #swap(state: DomainState, credential: Credential | undefined, patterns: readonly string[]): void {
    const affected = new Set([...state.patterns, ...patterns]);
    for (const p of state.patterns) this.#claims.get(p)?.delete(state);
    state.credential = credential;
    state.patterns = patterns;
    for (const p of patterns) {
      const set = this.#claims.get(p) ?? new Set<DomainState>();
      this.#claims.set(p, set);
      set.add(state);
    }
    const adds: [string, DomainState][] = [];
    const deletes: string[] = [];
    for (const p of affected) {
      const owner = this.#ownerOf(p);
      if (owner === undefined) {
        this.#claims.delete(p);
        if (this.#owners.has(p)) deletes.push(p);
      } else if (this.#owners.get(p) !== owner || owner === state) adds.push([p, owner]);
    }
    // One synchronous step: no handshake can run between these calls.
    for (const [p, owner] of adds) {
      this.registry.add(p, owner.credential!);
      this.#owners.set(p, owner);
    }
    for (const p of deletes) {
      this.registry.delete(p);
      this.#owners.delete(p);
    }
  }

  /** The domain serving a pattern: the one filed under that very name, else the first by name. */
  #ownerOf(pattern: string): DomainState | undefined {
    let best: DomainState | undefined;
    for (const s of this.#claims.get(pattern) ?? []) {
      if (s.credential === undefined) continue;
      if (s.selfPattern === pattern) return s;
      if (best === undefined || s.domain < best.domain) best = s;
    }
    return best;
  }

  #servedBy(state: DomainState): string[] {
    return state.patterns.filter((p) => this.#owners.get(p) === state);
  }

  // ---------------------------------------------------------------------------------------------------------
  // events

  #report(error: TLSError): void {
    if (this.listenerCount('error') > 0) this.#emitSafely('error', error);
    else
      process.emitWarning(error.message, {
        code: error.code,
        detail: 'Add an error listener to the CredentialWatcher.',
      });
  }

  #emitSafely<K extends keyof CredentialWatcherEvents>(event: K, ...args: CredentialWatcherEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CredentialWatcherEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      // A listener threw: the watcher keeps working; tell the operator without crashing the server.
      process.emitWarning(`A CredentialWatcher '${event}' listener threw: ${messageOf(e)}`, {
        code: 'ERR_TLS_RELOAD',
      });
    }
  }
}

/** The SNI patterns of a certificate: its DNS subjectAltNames, canonical, deduplicated (invalid ones left out). */
function servedPatterns(credential: Credential): string[] {
  const out = new Set<string>();
  let names: readonly string[] = credential.leaf.dnsNames;
  // A certificate with no subjectAltName at all (installed with legacyCommonName): its Common Name.
  if (names.length === 0 && !credential.leaf.hasSubjectAltName) {
    const cn = credential.leaf.subject.commonName;
    names = typeof cn === 'string' ? [cn] : [];
  }
  for (const n of names) {
    try {
      out.add(canonicalizeSNIPattern(n));
    } catch {
      // not a usable SNI name (an IP written as a DNS name, a partial wildcard): never asked for
    }
  }
  return [...out].sort();
}

/** Whether a pattern set serves a name: the name itself, or a wildcard one label above it. */
function covers(patterns: readonly string[], name: string): boolean {
  if (patterns.includes(name)) return true;
  if (name.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && patterns.includes(`*${name.slice(dot)}`);
}

/**
 * Loads every name of a credential source into an SNI registry and keeps it up to date as the files change
 * (see the module notes for what is checked before a new pair is served). Answers at once; the first loads
 * run in the background (`await watcher.ready`). Attach an `error` listener: refused pairs are reported
 * there (without one they become process warnings).
 *
 * Each certificate is registered under every DNS name it covers; when two certificates cover one name, the
 * one filed under that very name serves it, else the first by name. `defaultDomain`'s certificate also
 * becomes the registry's default. For nodemailer's smtp-server, keep the server following the registry with
 * `updateSMTPServer(server, registry)` (its default context is rebuilt on every default change; names are
 * served through the registry's `SNICallback`). A name you registered yourself is replaced when a watched
 * certificate covers it; names the watcher did not add are never removed. With `domains: 'all'`, a name that
 * leaves the source (`store.remove()`) is unregistered (`remove` event); with a list, a missing name is an
 * `error` and what was served stays. `close()` stops watching; the registry keeps what was loaded last.
 *
 * @param source - a `CertificateStore`, `CertbotSource`, `KubernetesSecretSource` or any {@link CredentialSource}.
 * @param registry - the registry the servers use.
 * @throws TypeError for a source or registry of the wrong type, bad `domains`, `defaultDomain`, `at` or
 *   `signal`; RangeError for a negative `debounceMs` or a `pollIntervalMs` between 0 and 10. Refused pairs are
 *   never thrown: they are `error` events with code `ERR_TLS_RELOAD` (reasons: the cause's code such as
 *   `ERR_KEY_MISMATCH`, `ERR_PEM_NO_BLOCK`, `ERR_TLS_CONTEXT`, `ERR_STORE_NOT_FOUND`, or `CERT_EXPIRED`,
 *   `CERT_NOT_YET_VALID`, `NO_DNS_NAMES`, `NAME_NOT_COVERED`).
 * @example
 * ```ts
 * import { CertificateStore, createSNIRegistry, createTLSServer, watchCredentials } from 'mailtls/node';
 * const store = new CertificateStore('/etc/mail/tls');
 * const first = await store.load('example.com');
 * const registry = createSNIRegistry(first);
 * const watcher = watchCredentials(store, registry, { defaultDomain: 'example.com' });
 * watcher.on('reload', (e) => console.log(`${e.domain}: now serving ${e.fingerprint}`));
 * watcher.on('error', (e) => console.error(e.message)); // the old certificate keeps serving
 * await watcher.ready;
 * createTLSServer(registry).listen(993);
 * process.on('SIGHUP', () => void watcher.refresh({ force: true }));
 * ```
 */
export function watchCredentials(
  source: CredentialSource,
  registry: SNIRegistry,
  options: WatchCredentialsOptions = {},
): CredentialWatcher {
  return new CredentialWatcher(source, registry, options);
}
