/**
 * Loading names on demand for hot reload ({@link watchCredentials} with `domains: 'on-demand'`): which names
 * a handshake must have looked up in the source first, one lookup per name at a time, each name looked up
 * again only after an interval, and the order of the places a certificate may be filed under. The watcher
 * supplies the source's answers and the loads through {@link DemandHost}. Pure: it imports no `node:*`
 * module.
 *
 * @module node/tls/reload-on-demand
 */
import type { SNILookup } from '../../names/sni.js';
import { lookupCandidates } from './reload-names.js';

/** Names remembered as looked up (more would let clients fill the memory with made-up names). */
const MAX_LOOKED_UP = 10_000;

/** What a watcher knows of a domain when a name is looked up. */
export type DemandAnswer = 'serves' | 'does-not-serve' | 'unknown';

/** What {@link DemandLookups} asks of the watcher. */
export interface DemandHost {
  /** Whether the watcher is closed (nothing is looked up any more). */
  closed(): boolean;
  /** How long a name looked up is not looked up again, in milliseconds. */
  lookupIntervalMs(): number;
  /**
   * For a name the registry matched exactly: whether that entry is final (registered by someone other than the
   * watcher, or by the domain filed under the name itself), so the name needs no lookup.
   */
  exactIsFinal(name: string): boolean;
  /**
   * Whether a domain the watcher has a record of serves the name (after its running load, if any), or
   * `unknown` when it has no record of the domain.
   */
  serves(domain: string, name: string): Promise<DemandAnswer>;
  /** Whether the source holds a domain; may throw (the source cannot be read). */
  has(domain: string): Promise<boolean>;
  /** Loads a domain it has no record of yet (checked, registered); whether it then serves the name. */
  load(domain: string, name: string): Promise<boolean>;
  /** The source could not be read while a name was looked up. */
  failed(error: unknown): void;
}

/**
 * The lookups of one watcher: `wanted` (no side effect) tells the registry whether a handshake's name must be
 * looked up first, `find` looks it up. Never rejects.
 *
 * @example
 * ```ts
 * const lookups = new DemandLookups(host, () => performance.now());
 * const name = lookups.wanted(registry.lookup('mail.example.org'));
 * if (name !== undefined) await lookups.find(name);
 * ```
 */
export class DemandLookups {
  readonly #host: DemandHost;
  readonly #now: () => number;
  /** When each name was last looked up, oldest first. */
  readonly #lookedUp = new Map<string, number>();
  /** The lookups running, by name. */
  readonly #finding = new Map<string, Promise<void>>();

  /** @param now - a monotonic clock in milliseconds (`performance.now`). */
  constructor(host: DemandHost, now: () => number) {
    this.#host = host;
    this.#now = now;
  }

  /**
   * The canonical name to look up before the registry answers this lookup, or undefined: a name it does not
   * serve, or serves only through a wildcard or the certificate of another domain (a domain filed under the
   * very name serves it first), not looked up in the last interval.
   */
  wanted(lookup: SNILookup): string | undefined {
    const name = lookup.name;
    if (name === undefined || this.#host.closed()) return undefined;
    if (lookup.match === 'exact' && this.#host.exactIsFinal(name)) return undefined;
    const at = this.#lookedUp.get(name);
    return at === undefined || this.#now() - at >= this.#host.lookupIntervalMs() ? name : undefined;
  }

  /** Looks a name up (one lookup per name at a time) and has the domain serving it loaded; never rejects. */
  find(name: string): Promise<void> {
    let finding = this.#finding.get(name);
    if (finding === undefined) {
      finding = this.#findNow(name)
        .catch((e: unknown) => this.#host.failed(e))
        .finally(() => {
          this.#finding.delete(name);
          this.#lookedUp.delete(name);
          this.#lookedUp.set(name, this.#now());
          if (this.#lookedUp.size > MAX_LOOKED_UP) this.#lookedUp.delete(this.#lookedUp.keys().next().value!);
        });
      this.#finding.set(name, finding);
    }
    return finding;
  }

  async #findNow(name: string): Promise<void> {
    for (const domain of lookupCandidates(name)) {
      const known = await this.#host.serves(domain, name);
      if (known === 'serves') return;
      if (known === 'does-not-serve') continue;
      if (!(await this.#host.has(domain))) continue;
      if (this.#host.closed()) return;
      if (await this.#host.load(domain, name)) return;
    }
  }
}

/**
 * Whether a source holds a domain when it has no `has` method: its listing, made again after `intervalMs`.
 *
 * @example
 * ```ts
 * const listed = new ListedNames(() => source.list(), () => performance.now());
 * await listed.has('example.org', 5000);
 * ```
 */
export class ListedNames {
  readonly #list: () => Promise<readonly string[]>;
  readonly #now: () => number;
  #listing: { readonly names: ReadonlySet<string>; readonly at: number } | undefined;

  constructor(list: () => Promise<readonly string[]>, now: () => number) {
    this.#list = list;
    this.#now = now;
  }

  /** Whether the listing holds the domain; `fresh` lists again now. */
  async has(domain: string, intervalMs: number, fresh = false): Promise<boolean> {
    const now = this.#now();
    if (fresh || this.#listing === undefined || now - this.#listing.at >= intervalMs)
      this.#listing = { names: new Set(await this.#list()), at: now };
    return this.#listing.names.has(domain);
  }
}
