/**
 * The rules of the SNI registry ({@link SNIRegistry}) that need no TLS: which built contexts the
 * `maxContexts` bound drops, when a context shared by several names (and the default) may be forgotten, the
 * refusal of a credential copy that lost its key, and the error a failed load becomes. `sni-registry.ts`
 * builds the contexts with node:tls and keeps them in these structures. The name lookup itself (exact name,
 * then a one-label wildcard, then the default) is `lookupSNIName` in `names/sni.ts`.
 *
 * Pure: it imports no `node:*` module, so these rules are tested without building a context.
 *
 * @module node/tls/sni-policy
 */
import { MailTlsError, TLSError } from '../../errors.js';

/**
 * Keys in least-recently-used order under a bound: adding past the bound drops the least recently used
 * ones, which the caller then releases. Without a bound (`Infinity`) nothing is dropped and `touch` does
 * nothing, so an unbounded registry pays no bookkeeping per handshake.
 *
 * @example
 * ```ts
 * const lru = new BoundedLru<string, Entry>(2);
 * lru.add('a.org', a);
 * lru.add('b.org', b);
 * lru.touch('a.org', a);
 * lru.add('c.org', c); // [['b.org', b]]: b.org was used least recently
 * ```
 */
export class BoundedLru<K, V> {
  /** The bound (at least 1, or `Infinity`). */
  readonly max: number;
  /** Least recently used first. */
  readonly #order = new Map<K, V>();

  /** @param max - how many keys to keep, at least 1, or `Infinity`. @throws RangeError for less than 1. */
  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError('maxContexts must be at least 1');
    this.max = max;
  }

  /** How many keys are kept. */
  get size(): number {
    return this.#order.size;
  }

  /** Marks a kept key as just used (only a bound needs the order). */
  touch(key: K, value: V): void {
    if (this.max === Number.POSITIVE_INFINITY) return;
    this.#order.delete(key);
    this.#order.set(key, value);
  }

  /** Keeps a key as the most recently used; answers the keys dropped to stay within the bound, oldest first. */
  add(key: K, value: V): [K, V][] {
    this.#order.set(key, value);
    const dropped: [K, V][] = [];
    for (const [k, v] of this.#order) {
      if (this.#order.size <= this.max) break;
      this.#order.delete(k);
      dropped.push([k, v]);
    }
    return dropped;
  }

  /** Forgets a key; answers whether it was kept. */
  delete(key: K): boolean {
    return this.#order.delete(key);
  }
}

/**
 * Values shared by key with a count of holders: the registry keeps one built context per credential object,
 * held by every name registered with that object and by the default. The value is forgotten (and can be
 * collected) when its last holder lets go.
 *
 * @example
 * ```ts
 * const shared = new SharedValues<ServerCredential, Built>();
 * shared.hold(credential, built); // a.org
 * shared.hold(credential, built); // b.org
 * shared.release(credential, built); // false: b.org still holds it
 * shared.release(credential, built); // true: forgotten
 * ```
 */
export class SharedValues<K, V> {
  readonly #held = new Map<K, { readonly value: V; holders: number }>();

  /** How many values are held. */
  get size(): number {
    return this.#held.size;
  }

  /** The value held for a key, if any. */
  get(key: K): V | undefined {
    return this.#held.get(key)?.value;
  }

  /**
   * Counts one more holder of the value of `key`; the first holder files `value` under it. Answers whether
   * it is the first.
   */
  hold(key: K, value: V): boolean {
    const held = this.#held.get(key);
    if (held) {
      held.holders++;
      return false;
    }
    this.#held.set(key, { value, holders: 1 });
    return true;
  }

  /**
   * One holder of `value` less (nothing when another value is filed under `key`). Answers whether the value
   * is forgotten: it was the last holder.
   */
  release(key: K, value: V): boolean {
    const held = this.#held.get(key);
    if (held?.value !== value || --held.holders > 0) return false;
    this.#held.delete(key);
    return true;
  }
}

/**
 * Refuses a copy of a loaded credential that lost its key: a `Credential` from the store or a source keeps
 * its `key` in a property that is not enumerable (so that logging it never prints the key), so a copy made
 * with `{ ...credential }`, `Object.assign()` or JSON has a certificate and no key. Any other value passes
 * (the full shape check follows it).
 *
 * @throws {TLSError} `ERR_TLS_CONTEXT` (`details.reason: 'no-key'`) for an object with a `cert` string and
 *   no `key`, saying how to build the copy.
 * @example
 * ```ts
 * assertKeyKept({ ...credential }); // throws: the key did not come along
 * ```
 */
export function assertKeyKept(credential: unknown): void {
  if (credential === null || typeof credential !== 'object') return;
  const c = credential as { key?: unknown; cert?: unknown };
  if (c.key === undefined && typeof c.cert === 'string')
    throw new TLSError(
      'ERR_TLS_CONTEXT',
      'The credential has a certificate but no key. A loaded Credential keeps its key in a property that ' +
        'is not enumerable (so that it is never logged): a copy made with { ...credential }, ' +
        'Object.assign() or JSON loses it. Pass the credential object itself, or build the copy by name: ' +
        '{ key: credential.key, cert: credential.cert }.',
      { details: { reason: 'no-key' } },
    );
}

/**
 * The error a registered name's failed load becomes: a mailtls error as it is (`ERR_TLS_CONTEXT` from the
 * build, `ERR_STORE_NOT_FOUND` from a loader), a TypeError as a credential that is not PEM, anything else as
 * a loader failure; both are `ERR_TLS_CONTEXT` with the pattern in `details.pattern` and the cause kept.
 *
 * @example
 * ```ts
 * contextLoadError('mail.example.org', new Error('ENOENT')).message;
 * // 'loading the credential for "mail.example.org" failed; fix it and register it again'
 * ```
 */
export function contextLoadError(pattern: string, cause: unknown): MailTlsError {
  if (cause instanceof MailTlsError) return cause;
  const message =
    cause instanceof TypeError
      ? `the credential for "${pattern}" is not { key, cert } PEM: ${cause.message}`
      : `loading the credential for "${pattern}" failed; fix it and register it again`;
  return new TLSError('ERR_TLS_CONTEXT', message, { cause, details: { pattern } });
}
