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
 * This file does the I/O: it reads the source, watches the files, runs the timers and changes the registry.
 * The decisions that need no I/O are made by pure modules beside it (no `node:*` import, tested alone):
 * `reload-options.ts` (the options), `reload-policy.ts` (checks 2 and 3, the refusal error, what a check does
 * with the files' stamp, coalesced checks), `reload-names.ts` (which domain serves a name that several
 * certificates cover) and `reload-results.ts` (events, results, status).
 *
 * @module node/tls/reload
 */
import { EventEmitter } from 'node:events';
import type { TLSError } from '../../errors.js';
import { type Credential, type CredentialSource, fileSignature } from '../store/credential.js';
import { covers, PatternOwners } from './reload-names.js';
import { type DemandHost, DemandLookups, ListedNames } from './reload-on-demand.js';
import {
  type CredentialRefreshOptions,
  DEFAULT_POLL_MS,
  isCredentialSource,
  type WatchCredentialsOptions,
  type WatchSettings,
  watchSettings,
} from './reload-options.js';
import {
  CoalescedRuns,
  checkStep,
  codeOf,
  isLoadedAt,
  judgeCandidate,
  listError,
  messageOf,
  reloadError,
  rememberRefusal,
  rememberServed,
  type ServedPair,
  servedPair,
  type WatchedName,
  watchedName,
} from './reload-policy.js';
import {
  byDomain,
  type CredentialRefreshResult,
  type CredentialReloadEvent,
  type CredentialRemoveEvent,
  type CredentialWatcherEvents,
  type CredentialWatcherStats,
  type ReloadOutcome,
  refreshResult,
  reloadEvent,
  type WatchedCredentialStatus,
  watchedStatus,
} from './reload-results.js';
import { attachNameFinder, SNIRegistry } from './sni-registry.js';
import { credentialWatchPaths, WatchSet } from './watch.js';

export type { CredentialRefreshOptions, WatchCredentialsOptions } from './reload-options.js';
export type {
  CredentialFailure,
  CredentialRefreshResult,
  CredentialReloadEvent,
  CredentialRemoveEvent,
  CredentialWatcherEvents,
  CredentialWatcherStats,
  WatchedCredentialStatus,
} from './reload-results.js';

interface DomainState extends WatchedName {
  /** The checks of this domain: one at a time, requests coalesce into the one not yet started. */
  readonly checks: CoalescedRuns<ReloadOutcome>;
  timer: NodeJS.Timeout | undefined;
}

const CONCURRENCY = 8;
/** The poll runs again after at least this many times its last duration (a sweep of thousands of names). */
const POLL_SPACING = 4;
/** Reads of one check while the files keep changing under it; the last one is judged as it is. */
const MAX_READS = 5;

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
  readonly #settings: WatchSettings;
  readonly #watches: WatchSet | undefined;
  readonly #states = new Map<string, DomainState>();
  /** Which domain serves each SNI pattern this watcher registered. */
  readonly #owners = new PatternOwners<DomainState>();
  readonly #onAbort = (): void => this.close();
  readonly #rescans = new CoalescedRuns((force) => this.#rescan(force));
  #poll: NodeJS.Timeout | undefined;
  /** On demand: the names looked up in the source when a handshake asks for them. */
  readonly #finder = new DemandLookups(this.#demandHost(), () => performance.now());
  /** On demand, for a source without `has`: its listing. */
  readonly #listed = new ListedNames(
    () => this.source.list(),
    () => performance.now(),
  );
  #rescanTimer: NodeJS.Timeout | undefined;
  #listFailure: string | undefined;
  #closed = false;
  #reloads = 0;
  #failures = 0;
  #checks = 0;

  /** Prefer {@link watchCredentials}. @throws TypeError, RangeError as {@link watchCredentials}. */
  constructor(source: CredentialSource, registry: SNIRegistry, options: WatchCredentialsOptions = {}) {
    super();
    if (!isCredentialSource(source))
      throw new TypeError(
        'source must be a CredentialSource (CertificateStore, CertbotSource, KubernetesSecretSource)',
      );
    if (!(registry instanceof SNIRegistry)) throw new TypeError('registry must be an SNIRegistry');
    const settings = watchSettings(options);
    this.source = source;
    this.registry = registry;
    this.#settings = settings;
    this.#watches = settings.watch
      ? new WatchSet({
          persistent: settings.persistent,
          onChange: (owners, _path, failed) => this.#onFileEvent(owners, failed),
        })
      : undefined;
    if (settings.signal?.aborted) {
      this.#closed = true;
      this.ready = Promise.resolve({ reloaded: [], unchanged: [], failed: [], removed: [] });
      return;
    }
    settings.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.ready = this.#rescans.request(false);
    if (settings.onDemand) attachNameFinder(registry, this.#finder);
    if (settings.pollMs > 0) this.#schedulePoll(settings.pollMs);
  }

  /** The next poll: after `pollIntervalMs`, or longer when the last one took long (thousands of names). */
  #schedulePoll(ms: number): void {
    this.#poll = setTimeout(() => {
      const started = performance.now();
      const run = this.#rescans.busy ? Promise.resolve() : this.#rescans.request(false);
      void run.then(() => {
        if (this.#closed) return;
        const took = performance.now() - started;
        this.#schedulePoll(Math.max(this.#settings.pollMs, POLL_SPACING * took));
      });
    }, ms);
    if (!this.#settings.persistent) this.#poll.unref();
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
    return this.#rescans.request(options.force === true);
  }

  /** The state of every watched name, sorted by name. */
  status(): WatchedCredentialStatus[] {
    return [...this.#states.values()]
      .filter((s) => !s.removed)
      .sort(byDomain)
      .map((s) => watchedStatus(s, this.#owners.servedBy(s), this.#settings.defaultDomain));
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
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    if (this.#settings.onDemand) attachNameFinder(this.registry, this.#finder, false);
    if (this.#poll) clearTimeout(this.#poll);
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
    const { debounceMs, persistent } = this.#settings;
    for (const domain of owners) {
      const state = this.#states.get(domain);
      // A broken watch was dropped: the next check adds watches again even if nothing changed.
      if (state && failed) state.rearm = true;
      if (state && !state.removed && state.timer === undefined) {
        // Gather the events of one swap (a throttle, not a trailing debounce: steady events cannot starve it).
        state.timer = setTimeout(() => {
          state.timer = undefined;
          if (!this.#closed) void state.checks.request(false);
        }, debounceMs);
        if (!persistent) state.timer.unref();
      }
    }
    // A shared directory changed: with 'all', a name may have been added or removed.
    if (this.#settings.all && this.#rescanTimer === undefined) {
      this.#rescanTimer = setTimeout(() => {
        this.#rescanTimer = undefined;
        if (!this.#closed) void this.#rescans.request(false);
      }, debounceMs);
      if (!persistent) this.#rescanTimer.unref();
    }
  }

  async #rescan(force: boolean): Promise<CredentialRefreshResult> {
    if (this.#closed) return refreshResult([], []);
    const { all, defaultDomain } = this.#settings;
    let names: readonly string[];
    if (all) {
      try {
        names = await this.source.list();
        this.#listFailure = undefined;
      } catch (e) {
        // Keep serving what is loaded; check the known names.
        this.#reportListFailure(e);
        names = [...this.#states.values()].filter((s) => !s.removed).map((s) => s.domain);
      }
      if (defaultDomain !== undefined && !names.includes(defaultDomain)) names = [...names, defaultDomain];
    } else if (this.#settings.onDemand) {
      // The names loaded so far (and those that failed to load: they are checked again as they change).
      const loaded = new Set(this.#settings.explicit);
      for (const s of this.#states.values()) if (!s.removed) loaded.add(s.domain);
      names = [...loaded];
    } else names = this.#settings.explicit;
    if (this.#closed) return refreshResult([], []);
    const present = new Set(names);
    const removed: string[] = [];
    for (const state of this.#states.values()) {
      if (!state.removed && !present.has(state.domain)) {
        if (await this.#remove(state)) removed.push(state.domain);
      }
    }
    const states = names.map((d) => this.#state(d));
    const outcomes: ReloadOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < states.length) {
        const state = states[next++]!;
        outcomes.push(await state.checks.request(force));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, states.length) }, worker));
    return refreshResult(removed, outcomes);
  }

  #state(domain: string): DomainState {
    let state = this.#states.get(domain);
    if (state === undefined || state.removed) {
      const created: DomainState = Object.assign(watchedName(domain), {
        checks: new CoalescedRuns((force: boolean) => this.#check(created, force)),
        timer: undefined,
      });
      state = created;
      this.#states.set(domain, state);
    }
    return state;
  }

  // ---------------------------------------------------------------------------------------------------------
  // loading on demand (domains: 'on-demand'; the decisions are in reload-on-demand.ts)

  #demandHost(): DemandHost {
    return {
      closed: () => this.#closed,
      lookupIntervalMs: () => this.#lookupMs(),
      exactIsFinal: (name) => {
        const owner = this.#owners.ownerOf(name);
        return owner === undefined || owner.selfPattern === name;
      },
      serves: async (domain, name) => {
        const state = this.#states.get(domain);
        if (state === undefined || state.removed) return 'unknown';
        // A load of this domain running for another name: its outcome decides.
        if (state.credential === undefined) await state.checks.last?.catch(() => undefined);
        return this.#covers(state, name) ? 'serves' : 'does-not-serve';
      },
      has: (domain) => this.#has(domain, false),
      load: async (domain, name) => {
        const state = this.#state(domain);
        await state.checks.request(false);
        return this.#covers(state, name);
      },
      failed: (e) => this.#reportListFailure(e),
    };
  }

  #covers(state: DomainState, name: string): boolean {
    return state.credential !== undefined && covers(this.#owners.patternsOf(state), name);
  }

  /** Whether the source holds a name: `source.has`, else its listing (made again after a poll interval). */
  #has(domain: string, fresh: boolean): Promise<boolean> {
    if (typeof this.source.has === 'function') return this.source.has(domain);
    return this.#listed.has(domain, this.#lookupMs(), fresh);
  }

  #lookupMs(): number {
    return this.#settings.pollMs > 0 ? this.#settings.pollMs : DEFAULT_POLL_MS;
  }

  // ---------------------------------------------------------------------------------------------------------
  // checking and loading

  /** A cheap identifier of the files' state: the source's version and the signature of the files it resolves to. */
  async #stamp(domain: string): Promise<string> {
    const version = await this.source.version(domain);
    const files = await this.source.files(domain);
    return `${version}|${await fileSignature([files.cert, files.key])}`;
  }

  /**
   * The registry's default credential, when it was loaded from this source for the default domain at the
   * version now in service (`createSNIRegistry(await store.load(domain))`): the first check uses it instead of
   * reading and checking the same files a second time.
   */
  async #loadedDefault(state: DomainState, stamp: string): Promise<Credential | undefined> {
    if (state.credential !== undefined || state.domain !== this.#settings.defaultDomain) return undefined;
    const given = this.registry.defaultCredential;
    if (!isLoadedAt(given, state.domain, this.source.kind, stamp)) return undefined;
    const files = await this.source.files(state.domain);
    return files.cert === given.files.cert && files.key === given.files.key ? given : undefined;
  }

  async #check(state: DomainState, force: boolean): Promise<ReloadOutcome> {
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
      const step = checkStep(state, stamp, force);
      if (step.kind === 'failed') return { kind: 'failed', domain, error: step.error };
      if (step.kind === 'unchanged') {
        if (state.rearm) await this.#watch(state);
        return { kind: 'unchanged', domain };
      }
      let credential: Credential | undefined = await this.#loadedDefault(state, stamp);
      let failure: unknown;
      if (credential === undefined) {
        try {
          credential = await this.source.load(domain);
        } catch (e) {
          failure = e;
        }
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

  /** Runs the checks of the new pair (`judgeCandidate`, then the registry's build of its context), then swaps. */
  #accept(state: DomainState, stamp: string, credential: Credential): ReloadOutcome {
    const domain = state.domain;
    if (this.#closed || state.removed) return { kind: 'unchanged', domain };
    const fingerprint = credential.leaf.fingerprint('sha256');
    const verdict = judgeCandidate(credential, {
      served: state.credential,
      clock: this.#settings.allowExpired ? undefined : this.#settings.clock,
      mustCover: this.source.kind === 'mailtls' ? state.selfPattern : undefined,
    });
    if (verdict.kind === 'same') {
      rememberServed(state, stamp);
      state.version = credential.version;
      return { kind: 'unchanged', domain };
    }
    if (verdict.kind === 'refuse')
      return this.#refuse(state, stamp, new Error(verdict.message), verdict.reason, credential);
    // What is kept and served: the texts, not the parsed certificates (memory per domain).
    const pair = servedPair(credential);
    try {
      // Built now, as the registry will serve it (its profile and context options), and kept for its names.
      this.registry.prepare(pair);
    } catch (e) {
      return this.#refuse(state, stamp, e, codeOf(e), credential);
    }
    const isDefault = domain === this.#settings.defaultDomain;
    if (isDefault) {
      try {
        this.registry.setDefault(pair);
      } catch (e) {
        return this.#refuse(state, stamp, e, codeOf(e), credential);
      }
    }
    const oldVersion = state.version;
    const oldFingerprint = state.fingerprint;
    const before = this.#owners.servedBy(state);
    this.#swap(state, pair, verdict.patterns);
    state.version = credential.version;
    state.fingerprint = fingerprint;
    rememberServed(state, stamp);
    state.reloadedAt = new Date();
    this.#reloads++;
    const names = this.#owners.servedBy(state);
    this.#emitSafely(
      'reload',
      reloadEvent({ domain, oldVersion, credential, fingerprint, oldFingerprint, before, names, isDefault }),
    );
    return { kind: 'reloaded', domain };
  }

  #refuse(
    state: DomainState,
    stamp: string,
    cause: unknown,
    reason: string,
    credential: Credential | undefined,
  ): ReloadOutcome {
    const domain = state.domain;
    if (this.#closed || state.removed) return { kind: 'unchanged', domain };
    const served = state.fingerprint;
    const error = reloadError({
      domain,
      sourceKind: this.source.kind,
      cause,
      reason,
      candidate:
        credential === undefined
          ? undefined
          : { version: credential.version, fingerprint: credential.leaf.fingerprint('sha256') },
      served: served === undefined ? undefined : { version: state.version, fingerprint: served },
    });
    if (rememberRefusal(state, stamp, error)) {
      this.#failures++;
      this.#report(error);
    }
    return { kind: 'failed', domain, error };
  }

  async #remove(state: DomainState): Promise<boolean> {
    // Let a running check finish first, so it cannot register names after the removal.
    await state.checks.last?.catch(() => undefined);
    return this.#removeNow(state);
  }

  #removeNow(state: DomainState): boolean {
    if (this.#closed || state.removed) return false;
    state.removed = true;
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    this.#watches?.release(state.domain);
    const before = this.#owners.servedBy(state);
    const oldVersion = state.version;
    if (state.credential !== undefined) this.#swap(state, undefined, []);
    this.#states.delete(state.domain);
    this.#emitSafely('remove', { domain: state.domain, oldVersion, removedNames: before });
    return true;
  }

  /**
   * With `domains: 'all'` or `'on-demand'`, a name whose files are gone is removed rather than reported when
   * the source no longer holds it (`store.remove()`, a deleted lineage). Answers whether it was removed.
   */
  async #gone(state: DomainState, e: unknown): Promise<boolean> {
    const { all, onDemand, defaultDomain } = this.#settings;
    if (!(all || onDemand) || codeOf(e) !== 'ERR_STORE_NOT_FOUND' || state.domain === defaultDomain)
      return false;
    let present: boolean;
    try {
      present = onDemand
        ? await this.#has(state.domain, true)
        : (await this.source.list()).includes(state.domain);
    } catch {
      return false;
    }
    return !present && this.#removeNow(state);
  }

  async #watch(state: DomainState): Promise<void> {
    state.rearm = false;
    if (!this.#watches || this.#closed || state.removed) return;
    // On demand, only the default domain is watched with fs.watch (thousands of watches would exhaust the
    // system's limit); the names loaded on demand are kept current by the poll.
    if (this.#settings.onDemand && state.domain !== this.#settings.defaultDomain) return;
    try {
      const paths = await credentialWatchPaths(this.source, state.domain);
      if (this.#closed || state.removed) return;
      await this.#watches.set(state.domain, paths);
    } catch {
      // polling covers a name whose paths cannot be listed
    }
  }

  /**
   * Replaces the credential of a domain and applies the owners `PatternOwners` decides for every pattern it
   * had or has, in one synchronous step: no handshake can run between these calls.
   */
  #swap(state: DomainState, credential: ServedPair | undefined, patterns: readonly string[]): void {
    state.credential = credential;
    const changes = this.#owners.assign(state, patterns);
    for (const [p, owner] of changes.add) this.registry.add(p, owner.credential!);
    for (const p of changes.delete) this.registry.delete(p);
  }

  // ---------------------------------------------------------------------------------------------------------
  // events

  /** Reports a failure to list (or look a name up in) the source, once until it fails differently. */
  #reportListFailure(e: unknown): void {
    const key = `${codeOf(e)}:${messageOf(e)}`;
    if (this.#listFailure === key) return;
    this.#listFailure = key;
    this.#failures++;
    this.#report(listError(this.source.kind, e));
  }

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
 * certificate covers it; names the watcher did not add are never removed. With `domains: 'all'` (or
 * `'on-demand'`, for the names loaded), a name that leaves the source (`store.remove()`) is unregistered
 * (`remove` event); with a list, a missing name is an `error` and what was served stays. `close()` stops
 * watching; the registry keeps what was loaded last.
 *
 * For a store of thousands of domains, `domains: 'on-demand'` loads only `defaultDomain` before `ready` and
 * every other domain when a ClientHello first asks for one of its names (see
 * {@link WatchCredentialsOptions.domains}); give the registry a `maxContexts` bound to bound the memory too.
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
 * // 10,000 domains: listen at once, load each domain at its first handshake.
 * const big = createSNIRegistry(first, { maxContexts: 1000 });
 * watchCredentials(store, big, { domains: 'on-demand', defaultDomain: 'example.com' });
 * ```
 */
export function watchCredentials(
  source: CredentialSource,
  registry: SNIRegistry,
  options: WatchCredentialsOptions = {},
): CredentialWatcher {
  return new CredentialWatcher(source, registry, options);
}
