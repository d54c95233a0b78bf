/**
 * A registry of the certificates a server serves by name (SNI), built for many domains: registering a name
 * only stores its PEM strings or a loader; the `SecureContext` is built on first use and cached (optionally in
 * an LRU of bounded size). Lookups canonicalise the name and try the exact name, then a one-label wildcard, then
 * fall back to the default credential: a lookup always yields a context.
 *
 * Use it with `acceptTLS` / `createPeekingTLSServer` (the ClientHello is read first and the
 * connection gets the right context from the start) or with node:tls servers through `SNICallback`
 * (`tlsServerOptions` in `servers.ts`, which also works around nodejs/node#54235).
 *
 * @module node/tls/sni-registry
 */
import { EventEmitter } from 'node:events';
import type tls from 'node:tls';
import { MailTlsError } from '../../errors.js';
import { canonicalizeSNIPattern, lookupSNIName, type SNILookup } from '../../names/sni.js';
import { INTERMEDIATE_PROFILE, type TLSProfile, verifyTLSProfile } from '../../tls/profile.js';
import {
  assertCredential,
  buildServerContext,
  type CredentialSummary,
  type ServerContextOptions,
  type ServerCredential,
} from './secure-context.js';
import { assertKeyKept, BoundedLru, contextLoadError, SharedValues } from './sni-policy.js';

/** A credential, or a function that loads it when the name is first served (sync or async). */
export type CredentialOrLoader = ServerCredential | (() => ServerCredential | Promise<ServerCredential>);

/** Options of {@link createSNIRegistry}. */
export interface SNIRegistryOptions {
  /** The TLS profile of every context (default {@link INTERMEDIATE_PROFILE}). */
  profile?: TLSProfile;
  /**
   * Keep a built context for at most this many names (least recently used are dropped and rebuilt on demand).
   * Names registered with one credential object share one context. Default: no bound.
   */
  maxContexts?: number;
  /** Passed to every `createServerContext` call. */
  contextOptions?: ServerContextOptions;
}

/** What {@link SNIRegistry.resolve} returns. */
export interface ResolvedContext {
  /** The context to serve. */
  readonly context: tls.SecureContext;
  /** How the name was matched (`default` when nothing matched or no name was sent). */
  readonly lookup: SNILookup;
  /** Key type, fingerprint and validity of the served leaf. */
  readonly summary: CredentialSummary;
  /** The credential served. */
  readonly credential: ServerCredential;
}

/** Counters of {@link SNIRegistry.stats}. */
export interface SNIRegistryStats {
  /** Registered names and wildcards (the default not counted). */
  readonly patterns: number;
  /** Names whose context is currently built and cached (the default not counted). */
  readonly built: number;
  /** Distinct contexts currently built: names registered with one credential object share one (the default counted). */
  readonly contexts: number;
  /** Contexts built since creation, by a first handshake or by `prepare` (the first default not counted). */
  readonly builds: number;
  /** Contexts dropped by the LRU bound. */
  readonly evictions: number;
  /** Lookups answered from the cache. */
  readonly hits: number;
  /** Names whose credential failed to load (cached until the name is registered again). */
  readonly failures: number;
}

interface Built {
  readonly context: tls.SecureContext;
  readonly summary: CredentialSummary;
  readonly credential: ServerCredential;
}

interface Entry {
  source: CredentialOrLoader;
  // Every field is set at creation and cleared with undefined, never deleted: a deleted property turns each of
  // thousands of entries into a dictionary (several hundred bytes more per name).
  built: Built | undefined;
  /** Kept when the LRU drops the context (small), so the served certificate can still be checked. */
  summary: CredentialSummary | undefined;
  pending: Promise<Built> | undefined;
  failure: MailTlsError | undefined;
}

/** Events: `change` (pattern), `default` (), `contextError` (error, pattern). */
export interface SNIRegistryEvents {
  /** A name or wildcard was added, replaced or removed. */
  change: [pattern: string];
  /** The default credential was replaced. */
  default: [];
  /** A registered credential failed to load (`ERR_TLS_CONTEXT`). */
  contextError: [error: MailTlsError, pattern: string];
}

/**
 * Loads names on demand before a registry answers for them: a watcher with `domains: 'on-demand'` attaches
 * one. (not public API)
 */
export interface NameFinder {
  /** The canonical name to look up before answering this lookup, or undefined; no side effect. */
  wanted(lookup: SNILookup): string | undefined;
  /** Looks the name up and registers what serves it; never rejects. */
  find(name: string): Promise<void>;
}

let setFinders: (registry: SNIRegistry, finders: readonly NameFinder[]) => void;
let getFinders: (registry: SNIRegistry) => readonly NameFinder[];

/** Attaches a {@link NameFinder} to a registry (or detaches it with `attach: false`). (not public API) */
export function attachNameFinder(registry: SNIRegistry, finder: NameFinder, attach = true): void {
  const others = getFinders(registry).filter((f) => f !== finder);
  setFinders(registry, attach ? [...others, finder] : others);
}

/** Prepared contexts a registry with a bound keeps until their names are first served. */
const RECENTLY_PREPARED = 32;

/**
 * The SNI registry. Create it with {@link createSNIRegistry}.
 *
 * Events: `change` (a name was added, replaced or removed), `default` (the default credential changed: servers
 * built from `tlsServerOptions` refresh themselves), `contextError` (a registered credential failed to load; the
 * handshake for that name is refused rather than served with another certificate).
 *
 * @example
 * ```ts
 * import { createSNIRegistry, createTLSServer } from 'mailtls/node';
 * const registry = createSNIRegistry({ key: defaultKeyPEM, cert: defaultChainPEM });
 * registry.add('mail.example.org', { key: orgKeyPEM, cert: orgChainPEM });
 * registry.add('*.example.net', async () => loadNetCredential()); // built on first use
 * createTLSServer(registry).listen(993);
 * ```
 */
export class SNIRegistry extends EventEmitter<SNIRegistryEvents> {
  /** The profile every context uses. */
  readonly profile: TLSProfile;
  readonly #contextOptions: ServerContextOptions;
  readonly #entries = new Map<string, Entry>();
  /** Patterns with a built context, under the `maxContexts` bound. */
  readonly #lru: BoundedLru<string, Entry>;
  #default!: Built;
  /** Built contexts by credential object, held by the names with the context and by the default. */
  readonly #shared = new SharedValues<ServerCredential, Built>();
  /** Contexts built by `prepare` that no name holds yet (kept while their credential object lives). */
  readonly #prepared = new WeakMap<ServerCredential, Built>();
  /** With `maxContexts`: the last contexts built by `prepare`, so the next handshake does not build again. */
  readonly #recent = new Map<ServerCredential, Built>();
  #finders: readonly NameFinder[] = [];
  static {
    setFinders = (registry, finders) => {
      registry.#finders = finders;
    };
    getFinders = (registry) => registry.#finders;
  }
  readonly #keyTypes = new Set<CredentialSummary['keyType']>();
  #builds = 0;
  #evictions = 0;
  #hits = 0;

  /** Prefer {@link createSNIRegistry}. @throws {TLSError} as {@link createSNIRegistry}. */
  constructor(defaultCredential: ServerCredential, options: SNIRegistryOptions = {}) {
    super();
    this.profile = options.profile ?? INTERMEDIATE_PROFILE;
    verifyTLSProfile(this.profile);
    this.#lru = new BoundedLru(options.maxContexts ?? Number.POSITIVE_INFINITY);
    this.#contextOptions = options.contextOptions ?? {};
    this.#default = this.#hold(this.#existing(defaultCredential) ?? this.#build(defaultCredential));
  }

  /** The default credential (served without SNI or for unknown names). */
  get defaultCredential(): ServerCredential {
    return this.#default.credential;
  }

  /** The default context. */
  get defaultContext(): tls.SecureContext {
    return this.#default.context;
  }

  /** Key type, fingerprint and validity of the default leaf. */
  get defaultSummary(): CredentialSummary {
    return this.#default.summary;
  }

  /**
   * The key types of every credential built since the registry was created, the default's included (never
   * shrinks). While it holds one type, no connection can get a certificate of another key type than the one
   * meant for it (nodejs/node#54235 needs two), so servers skip their check.
   *
   * @example
   * ```ts
   * if (registry.servedKeyTypes.size > 1) console.log('serving', [...registry.servedKeyTypes].join(' and '));
   * ```
   */
  get servedKeyTypes(): ReadonlySet<CredentialSummary['keyType']> {
    return this.#keyTypes;
  }

  /** Number of registered names and wildcards. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Replaces the default credential (built at once, so a bad one throws here and the old one stays).
   *
   * @throws {TLSError} `ERR_TLS_CONTEXT` when the credential cannot be loaded.
   */
  setDefault(credential: ServerCredential): void {
    const built = this.#hold(this.#existing(credential) ?? this.#build(credential));
    this.#release(this.#default);
    this.#default = built;
    this.emit('default');
  }

  /**
   * Builds a credential's context now, with this registry's profile and context options, so that a bad
   * credential fails here rather than at a client's handshake: a reloader's check before it swaps certificates.
   * Without a `maxContexts` bound the context is kept for the names then registered with this same credential
   * object (or `setDefault` with it), which serve it without building it again; with a bound nothing is kept, so
   * the bound still counts every context held.
   *
   * @returns the key type, fingerprint and validity of the leaf.
   * @throws {TLSError} `ERR_TLS_CONTEXT` when the key or certificate cannot be loaded or do not belong together.
   *   TypeError for a credential that is not PEM strings.
   * @example
   * ```ts
   * const summary = registry.prepare(credential); // throws for a broken pair: keep serving the old one
   * for (const name of ['mail.example.org', 'smtp.example.org']) registry.add(name, credential); // no second build
   * ```
   */
  prepare(credential: ServerCredential): CredentialSummary {
    checkCredential(credential);
    const existing = this.#existing(credential);
    if (existing) return existing.summary;
    const built = this.#build(credential);
    this.#builds++;
    if (this.#lru.max === Number.POSITIVE_INFINITY) this.#prepared.set(credential, built);
    else {
      this.#recent.set(credential, built);
      if (this.#recent.size > RECENTLY_PREPARED) this.#recent.delete(this.#recent.keys().next().value!);
    }
    return built.summary;
  }

  /**
   * Registers (or replaces) the credential for a host name or a one-label wildcard (`*.example.org`). Nothing is
   * parsed or built until a client asks for the name. Replacing drops the cached context. Register the names of
   * one certificate (its subjectAltNames) with the same credential object: they then share one context, one key
   * object and its memory. Treat a registered credential object as immutable: register a new object to change it.
   *
   * @throws {HostnameError} `ERR_HOSTNAME_INVALID` for a pattern that is not a host name or `*.domain`.
   * @throws {TLSError} `ERR_TLS_CONTEXT` (`details.reason: 'no-key'`) for a copy of a credential that lost its
   *   key (`{ ...credential }`: the key is not enumerable).
   */
  add(pattern: string, source: CredentialOrLoader): void {
    const key = canonicalizeSNIPattern(pattern);
    if (typeof source !== 'function') checkCredential(source);
    const old = this.#entries.get(key);
    if (old) this.#drop(key, old);
    // A new entry object: a build of the old one still running sees it is no longer registered.
    this.#entries.set(key, {
      source,
      built: undefined,
      summary: undefined,
      pending: undefined,
      failure: undefined,
    });
    this.emit('change', key);
  }

  /** Removes a name or wildcard; answers whether it was registered. */
  delete(pattern: string): boolean {
    const key = canonicalizeSNIPattern(pattern);
    const entry = this.#entries.get(key);
    if (entry) this.#drop(key, entry);
    const had = this.#entries.delete(key);
    if (had) this.emit('change', key);
    return had;
  }

  /** Whether a name or wildcard is registered (after canonicalisation). */
  has(pattern: string): boolean {
    try {
      return this.#entries.has(canonicalizeSNIPattern(pattern));
    } catch (e) {
      if (e instanceof MailTlsError) return false;
      throw e;
    }
  }

  /** The registered canonical patterns. */
  patterns(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Which pattern would serve a name (no context is built). */
  lookup(servername: string | null | undefined): SNILookup {
    return lookupSNIName(this.#entries, servername);
  }

  /** Counters for monitoring and the benchmark. */
  stats(): SNIRegistryStats {
    let failures = 0;
    for (const e of this.#entries.values()) if (e.failure) failures++;
    return {
      patterns: this.#entries.size,
      built: this.#lru.size,
      contexts: this.#shared.size,
      builds: this.#builds,
      evictions: this.#evictions,
      hits: this.#hits,
      failures,
    };
  }

  /**
   * The context for a name received in SNI (or none): exact name, wildcard, else the default. Builds and caches
   * the context on first use, calling an async loader if one was registered. A watcher with `domains:
   * 'on-demand'` looks a name it does not serve yet up in its source first.
   *
   * @throws {TLSError} (rejects) `ERR_TLS_CONTEXT` when the name's credential cannot be loaded (also emitted as
   *   `contextError`; the failure is remembered until the name is registered again).
   */
  async resolve(servername: string | null | undefined): Promise<ResolvedContext> {
    let lookup = this.lookup(servername);
    // Names loaded on demand (watchCredentials with domains: 'on-demand') are looked up first.
    if (this.#finders.length > 0) {
      const finds = this.#finders.map((f) => {
        const name = f.wanted(lookup);
        return name === undefined ? undefined : f.find(name);
      });
      if (finds.some((f) => f !== undefined)) {
        await Promise.all(finds);
        lookup = this.lookup(servername);
      }
    }
    if (lookup.pattern === undefined) return this.#answer(lookup, this.#default);
    const entry = this.#entries.get(lookup.pattern)!;
    const ready = this.#ready(lookup.pattern, entry);
    if (ready) return this.#answer(lookup, ready);
    if (!entry.pending) entry.pending = this.#buildEntry(lookup.pattern, entry);
    return this.#answer(lookup, await entry.pending);
  }

  /**
   * The context for a name if it can be had without waiting: the default, a cached context, one built now from
   * PEM strings or from a synchronous loader. Undefined when the name's context needs an asynchronous loader
   * (the loader is started, once) or when a watcher with `domains: 'on-demand'` must look the name up in its
   * source first: `resolve` answers when that is done.
   *
   * @throws {TLSError} `ERR_TLS_CONTEXT` when the name's credential cannot be loaded.
   * @example
   * ```ts
   * const ready = registry.resolveIfReady(name) ?? (await registry.resolve(name));
   * ```
   */
  resolveIfReady(servername: string | null | undefined): ResolvedContext | undefined {
    const lookup = this.lookup(servername);
    for (const f of this.#finders) if (f.wanted(lookup) !== undefined) return undefined;
    if (lookup.pattern === undefined) return this.#answer(lookup, this.#default);
    const entry = this.#entries.get(lookup.pattern)!;
    const ready = this.#ready(lookup.pattern, entry);
    if (ready) return this.#answer(lookup, ready);
    if (entry.pending) return undefined;
    let credential: ServerCredential | Promise<ServerCredential>;
    try {
      credential = typeof entry.source === 'function' ? entry.source() : entry.source;
    } catch (e) {
      throw this.#fail(lookup.pattern, entry, e);
    }
    if (credential instanceof Promise) {
      // An asynchronous loader: its answer is built by the pending build that resolve() awaits.
      const pending = this.#buildEntry(lookup.pattern, entry, credential);
      pending.catch(() => {});
      entry.pending = pending;
      return undefined;
    }
    return this.#answer(lookup, this.#store(lookup.pattern, entry, credential));
  }

  /**
   * The summary (key type, fingerprint, validity) of the credential serving a name, if its context was built at
   * least once; nothing is loaded or built, and no counter moves.
   *
   * @example
   * ```ts
   * registry.summaryOf('mail.example.org')?.notAfter;
   * ```
   */
  summaryOf(servername: string | null | undefined): CredentialSummary | undefined {
    const lookup = this.lookup(servername);
    if (lookup.pattern === undefined) return this.#default.summary;
    return this.#entries.get(lookup.pattern)?.summary;
  }

  /**
   * An `SNICallback` for node:tls / node:https / smtp-server. Prefer `tlsServerOptions()` from `servers.ts`,
   * which pairs it with the server options that make node serve the right certificate for every key type.
   */
  readonly SNICallback = (
    servername: string,
    callback: (err: Error | null, ctx?: tls.SecureContext) => void,
  ): void => {
    // A cached context (every handshake after a name's first) is answered at once, without a promise.
    let ready: ResolvedContext | undefined;
    try {
      ready = this.resolveIfReady(servername);
    } catch (e) {
      callback(e as Error);
      return;
    }
    if (ready) {
      callback(null, ready.context);
      return;
    }
    this.resolve(servername).then(
      (r) => callback(null, r.context),
      (e: Error) => callback(e),
    );
  };

  #answer(lookup: SNILookup, built: Built): ResolvedContext {
    return { context: built.context, lookup, summary: built.summary, credential: built.credential };
  }

  #ready(pattern: string, entry: Entry): Built | undefined {
    if (entry.failure) throw entry.failure;
    if (entry.built) {
      this.#hits++;
      this.#lru.touch(pattern, entry);
      return entry.built;
    }
    return undefined;
  }

  async #buildEntry(pattern: string, entry: Entry, started?: Promise<ServerCredential>): Promise<Built> {
    try {
      let credential: ServerCredential;
      try {
        credential = await (started ?? (typeof entry.source === 'function' ? entry.source() : entry.source));
      } catch (e) {
        throw this.#fail(pattern, entry, e);
      }
      return this.#store(pattern, entry, credential);
    } finally {
      entry.pending = undefined;
    }
  }

  #store(pattern: string, entry: Entry, credential: ServerCredential): Built {
    // The name was built while this (async) build was pending: keep that context, held once.
    if (entry.built !== undefined) return entry.built;
    const existing = this.#existing(credential);
    let built: Built;
    try {
      built = existing ?? this.#build(credential);
    } catch (e) {
      throw this.#fail(pattern, entry, e);
    }
    // A re-registration while the loader ran wins: serve this build once, but do not cache it.
    if (this.#entries.get(pattern) !== entry) return built;
    if (existing === undefined) this.#builds++;
    entry.built = this.#hold(built);
    entry.summary = built.summary;
    for (const [oldest, dropped] of this.#lru.add(pattern, entry)) {
      this.#drop(oldest, dropped);
      this.#evictions++;
    }
    return built;
  }

  /** The context already built for a credential object: held by a name or the default, or prepared. */
  #existing(credential: ServerCredential): Built | undefined {
    const known =
      this.#shared.get(credential) ?? this.#prepared.get(credential) ?? this.#recent.get(credential);
    if (known !== undefined) return known;
    // The default's texts under another object (a watcher's copy of the pair the registry was made with).
    const d = this.#default as Built | undefined;
    return d !== undefined && d.credential.cert === credential.cert && d.credential.key === credential.key
      ? d
      : undefined;
  }

  /** Counts one more holder of a built context (shared by every name registered with its credential object). */
  #hold(built: Built): Built {
    if (this.#shared.hold(built.credential, built)) {
      this.#prepared.delete(built.credential);
      this.#recent.delete(built.credential);
    }
    return built;
  }

  /** One holder less; the context is forgotten (and can be collected) when nobody holds it. */
  #release(built: Built): void {
    this.#shared.release(built.credential, built);
  }

  /** Drops a name's built context (the summary stays). */
  #drop(pattern: string, entry: Entry): void {
    this.#lru.delete(pattern);
    if (entry.built) {
      this.#release(entry.built);
      entry.built = undefined;
    }
  }

  #fail(pattern: string, entry: Entry, cause: unknown): MailTlsError {
    const error = contextLoadError(pattern, cause);
    entry.failure = error;
    this.emit('contextError', error, pattern);
    return error;
  }

  #build(credential: ServerCredential): Built {
    checkCredential(credential);
    const { context, summary } = buildServerContext(credential, this.profile, this.#contextOptions);
    this.#keyTypes.add(summary.keyType);
    return { context, summary, credential };
  }
}

/**
 * Checks a credential before it is used: a loaded `Credential` (from the store or a source) is accepted as it
 * is. Its `key` is deliberately not enumerable, so that logging it never prints the key; a copy made with
 * `{ ...credential }`, `Object.assign` or JSON therefore has no key, which is refused here with a typed error
 * that says so (instead of a bare TypeError).
 *
 * @throws {TLSError} `ERR_TLS_CONTEXT` (`details.reason: 'no-key'`) for a certificate without its key;
 *   TypeError for any other value that is not `{ key, cert }` PEM strings.
 */
function checkCredential(credential: unknown): asserts credential is ServerCredential {
  assertKeyKept(credential);
  assertCredential(credential);
}

/**
 * Creates an SNI registry with its default credential (built at once, so a broken default fails at start-up).
 *
 * A loaded `Credential` (e.g. from `store.load()`) is accepted as it is; a copy of one made with
 * `{ ...credential }` has lost its key (it is not enumerable) and is refused with `ERR_TLS_CONTEXT`,
 * `details.reason: 'no-key'`.
 *
 * @throws {TLSError} `ERR_TLS_CONTEXT` when the default credential cannot be loaded (`details.reason: 'no-key'`
 *   for a copy that lost its key); `ERR_TLS_PROFILE` for an
 *   invalid profile. RangeError for `maxContexts < 1`.
 * @example
 * ```ts
 * import { createSNIRegistry } from 'mailtls/node';
 * const registry = createSNIRegistry({ key, cert });
 * registry.add('mail.example.org', { key: k2, cert: c2 });
 * registry.add('*.example.net', async () => store.load('*.example.net'));
 * const { context } = await registry.resolve('MAIL.example.org.');
 * ```
 */
export function createSNIRegistry(
  defaultCredential: ServerCredential,
  options: SNIRegistryOptions = {},
): SNIRegistry {
  return new SNIRegistry(defaultCredential, options);
}
