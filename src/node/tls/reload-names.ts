/**
 * Which SNI names a reloaded certificate is served for, and which watched domain serves a name that several
 * certificates cover: the naming decisions of hot reload ({@link watchCredentials}), with no file, timer or
 * registry. The watcher asks {@link PatternOwners} what changes when a domain's certificate changes, then
 * applies the answer to its `SNIRegistry` in one synchronous step.
 *
 * Pure: it imports no `node:*` module, so every rule here is tested table by table without a disk or a socket.
 *
 * @module node/tls/reload-names
 */
import { canonicalizeSNIPattern } from '../../names/sni.js';
import type { Certificate } from '../../x509/certificate.js';

/**
 * The SNI patterns a leaf is served for: its DNS subjectAltNames, canonical, deduplicated and sorted; names
 * that no client can send in SNI (an IP address written as a DNS name, a partial wildcard) are left out. A
 * leaf with no subjectAltName extension at all (installed with `legacyCommonName`) is served for its Common
 * Name.
 *
 * @example
 * ```ts
 * servedPatterns(credential.leaf); // ['*.example.org', 'example.org']
 * ```
 */
export function servedPatterns(leaf: Certificate): string[] {
  const out = new Set<string>();
  let names: readonly string[] = leaf.dnsNames;
  if (names.length === 0 && !leaf.hasSubjectAltName) {
    const cn = leaf.subject.commonName;
    names = typeof cn === 'string' ? [cn] : [];
  }
  for (const n of names) {
    try {
      out.add(canonicalizeSNIPattern(n));
    } catch {
      // not a usable SNI name: never asked for
    }
  }
  return [...out].sort();
}

/**
 * Whether a set of canonical SNI patterns serves a canonical name: the name itself, or a wildcard one label
 * above it (`*.example.org` serves `mail.example.org`, not `example.org` nor `a.b.example.org`). A wildcard
 * asked for is served only by the same wildcard.
 *
 * @example
 * ```ts
 * covers(['*.example.org'], 'mail.example.org'); // true
 * covers(['*.example.org'], 'example.org'); // false
 * ```
 */
export function covers(patterns: readonly string[], name: string): boolean {
  if (patterns.includes(name)) return true;
  if (name.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && patterns.includes(`*${name.slice(dot)}`);
}

/**
 * The names under which a credential source may file the certificate for a canonical SNI name, most specific
 * first: the name itself, the wildcard one label above it, then each parent domain down to two labels (a
 * certificate filed under `example.org` usually covers `mail.example.org`). Used to load names on demand.
 *
 * @example
 * ```ts
 * lookupCandidates('mail.example.org'); // ['mail.example.org', '*.example.org', 'example.org']
 * ```
 */
export function lookupCandidates(name: string): string[] {
  const labels = name.split('.');
  const out = [name];
  if (labels.length > 2) out.push(`*.${labels.slice(1).join('.')}`);
  for (let i = 1; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/**
 * The name a domain is filed under, as an SNI pattern (store names are host names), or undefined when it is
 * not one (a certbot lineage called `example.com-0001`). A domain always serves the pattern of its own name
 * when its certificate covers it.
 *
 * @example
 * ```ts
 * selfPatternOf('Mail.Example.ORG'); // 'mail.example.org'
 * selfPatternOf('my lineage'); // undefined
 * ```
 */
export function selfPatternOf(domain: string): string | undefined {
  try {
    return canonicalizeSNIPattern(domain);
  } catch {
    return undefined;
  }
}

/** A domain that claims SNI patterns in {@link PatternOwners}. */
export interface PatternClaimant {
  /** The name in the credential source; the first by name wins a pattern nobody is filed under. */
  readonly domain: string;
  /** The domain as an SNI pattern ({@link selfPatternOf}); the claimant filed under a pattern wins it. */
  readonly selfPattern: string | undefined;
}

/** What the registry must do after {@link PatternOwners.assign}, in this order: adds, then deletes. */
export interface PatternChanges<D extends PatternClaimant> {
  /** Patterns to register (or register again) with the certificate of the claimant that now owns them. */
  readonly add: readonly (readonly [pattern: string, owner: D])[];
  /** Patterns this watcher registered that no claimant covers any more. */
  readonly delete: readonly string[];
}

/**
 * Which claimant serves each SNI pattern when several certificates cover it: the one filed under that very
 * name, else the first by name. It keeps the claims (who covers what) and the owners (who serves what) and
 * answers, for each change of one claimant's patterns, the registry operations that make the registry agree.
 *
 * @example
 * ```ts
 * const owners = new PatternOwners<Domain>();
 * const changes = owners.assign(domain, ['example.org', 'mail.example.org']);
 * for (const [pattern, owner] of changes.add) registry.add(pattern, credentialOf(owner));
 * for (const pattern of changes.delete) registry.delete(pattern);
 * ```
 */
export class PatternOwners<D extends PatternClaimant> {
  /** Which claimants cover each pattern. */
  readonly #claims = new Map<string, Set<D>>();
  /** The owner of every pattern registered through this object. */
  readonly #owners = new Map<string, D>();
  /** The patterns each claimant covers now. */
  readonly #patterns = new Map<D, readonly string[]>();

  /**
   * Replaces the patterns a claimant covers (none: it serves nothing any more) and decides again the owner
   * of every pattern it had or has. The answer names the patterns whose owner changed, plus every pattern of
   * this claimant it still owns (its certificate changed, so the registry entry is replaced).
   */
  assign(claimant: D, patterns: readonly string[]): PatternChanges<D> {
    const previous = this.#patterns.get(claimant) ?? [];
    const affected = new Set([...previous, ...patterns]);
    for (const p of previous) this.#claims.get(p)?.delete(claimant);
    if (patterns.length === 0) this.#patterns.delete(claimant);
    else this.#patterns.set(claimant, patterns);
    for (const p of patterns) {
      const set = this.#claims.get(p) ?? new Set<D>();
      this.#claims.set(p, set);
      set.add(claimant);
    }
    const add: [string, D][] = [];
    const remove: string[] = [];
    for (const p of affected) {
      const owner = this.#ownerOf(p);
      if (owner === undefined) {
        this.#claims.delete(p);
        if (this.#owners.has(p)) remove.push(p);
      } else if (this.#owners.get(p) !== owner || owner === claimant) add.push([p, owner]);
    }
    for (const [p, owner] of add) this.#owners.set(p, owner);
    for (const p of remove) this.#owners.delete(p);
    return { add, delete: remove };
  }

  /** The patterns a claimant serves now, in the order of its patterns (those another claimant won left out). */
  servedBy(claimant: D): string[] {
    return (this.#patterns.get(claimant) ?? []).filter((p) => this.#owners.get(p) === claimant);
  }

  /** Every pattern a claimant's certificate covers, served by it or not. */
  patternsOf(claimant: D): readonly string[] {
    return this.#patterns.get(claimant) ?? [];
  }

  /** The claimant serving a pattern, if any. */
  ownerOf(pattern: string): D | undefined {
    return this.#owners.get(pattern);
  }

  #ownerOf(pattern: string): D | undefined {
    let best: D | undefined;
    for (const s of this.#claims.get(pattern) ?? []) {
      if (s.selfPattern === pattern) return s;
      if (best === undefined || s.domain < best.domain) best = s;
    }
    return best;
  }
}
