/**
 * The web administrator's sessions, CSRF tokens and login rate limit.
 *
 * - A session is a random 256-bit id in a cookie (`Secure; HttpOnly; SameSite=Strict`), ending after
 *   `idleMs` without a request or `maxAgeMs` after login, whichever comes first. Sessions are kept under the
 *   SHA-256 of their id (in memory and, by default, in the store), and the CSRF token is derived from the id.
 * - Every state-changing request carries a CSRF token in a hidden form field: a random value bound to the
 *   session (or, with an `authorize` hook and no session, an HMAC of the user name under a per-process
 *   secret). The login form has its own token, double-submitted in a short-lived cookie.
 * - Failed logins are slowed down per client address and per user name: after each failure the next
 *   attempt for that address or name must wait a delay that doubles (250 ms, 0.5 s, 1 s... up to a cap);
 *   after `maxFailures` within the window every attempt is refused (even with the right password) until the
 *   oldest failure leaves the window. An early attempt is answered at once with 429 and `Retry-After`.
 *
 * @module admin/security
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One logged-in administrator. */
export interface AdminSession {
  readonly id: string;
  readonly user: string;
  readonly csrf: string;
  readonly created: number;
  seen: number;
  flash: string[];
}

/** A session as kept by {@link SessionStore} and its persistence: under the hash of its id. */
export interface KeptSession {
  readonly idHash: string;
  readonly user: string;
  readonly created: number;
  readonly seen: number;
}

/** Where {@link SessionStore} keeps its sessions across restarts. */
export interface SessionPersistence {
  load(): Promise<readonly KeptSession[]>;
  save(sessions: readonly KeptSession[]): Promise<void>;
}

/** Random URL-safe text of `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two strings (false for different lengths). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The SHA-256 of a session id (base64url): the key a session is kept under. */
function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64url');
}

/** A session's CSRF token: derived from its id, so that it is never written anywhere. */
function csrfOf(id: string): string {
  return createHmac('sha256', id).update('mailtls admin csrf').digest('base64url');
}

interface Entry {
  readonly user: string;
  readonly created: number;
  seen: number;
  /** `seen` as last written. */
  savedSeen: number;
  readonly flash: string[];
}

/** A last request is written again once it is this much newer than the written one. */
const SEEN_WRITE_MS = 60_000;

/**
 * Sessions, kept by the SHA-256 of their id (the id is only in the browser's cookie); expired ones are
 * dropped when met and by `sweep`. With a persistence, they are loaded once (`ready`) and written after a
 * login, a logout, and when a session's last request moved on by more than a minute; a write failure leaves
 * the sessions in memory (they then end with the process).
 */
export class SessionStore {
  readonly #sessions = new Map<string, Entry>();
  readonly #secret = randomBytes(32);
  #loading: Promise<void> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #queued = false;
  constructor(
    readonly idleMs: number,
    readonly maxAgeMs: number,
    readonly now: () => number,
    readonly persistence?: SessionPersistence | undefined,
  ) {}

  /** Loads the kept sessions (once); resolves even when they cannot be read (then none are kept). */
  ready(): Promise<void> {
    this.#loading ??= (async () => {
      if (this.persistence === undefined) return;
      let kept: readonly KeptSession[] = [];
      try {
        kept = await this.persistence.load();
      } catch {
        kept = [];
      }
      for (const k of kept)
        if (!this.#sessions.has(k.idHash))
          this.#sessions.set(k.idHash, {
            user: k.user,
            created: k.created,
            seen: k.seen,
            savedSeen: k.seen,
            flash: [],
          });
      this.sweep();
    })();
    return this.#loading;
  }

  /** Resolves once every change so far is written. */
  flush(): Promise<void> {
    return this.#writing;
  }

  #save(): void {
    if (this.persistence === undefined || this.#queued) return;
    this.#queued = true;
    const persistence = this.persistence;
    this.#writing = this.#writing.then(async () => {
      this.#queued = false;
      this.sweep();
      const list: KeptSession[] = [];
      for (const [idHash, e] of this.#sessions) {
        e.savedSeen = e.seen;
        list.push({ idHash, user: e.user, created: e.created, seen: e.seen });
      }
      try {
        await persistence.save(list);
      } catch {
        // Not written: the sessions still hold in memory.
      }
    });
  }

  #expired(e: Entry, t: number): boolean {
    return t - e.seen > this.idleMs || t - e.created > this.maxAgeMs || e.created > t + 60_000;
  }

  #view(id: string, e: Entry): AdminSession {
    return { id, user: e.user, csrf: csrfOf(id), created: e.created, seen: e.seen, flash: e.flash };
  }

  create(user: string): AdminSession {
    this.sweep();
    const t = this.now();
    const id = randomToken();
    const e: Entry = { user, created: t, seen: t, savedSeen: t, flash: [] };
    this.#sessions.set(hashId(id), e);
    this.#save();
    return this.#view(id, e);
  }

  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const key = hashId(id);
    const e = this.#sessions.get(key);
    if (e === undefined) return undefined;
    const t = this.now();
    if (this.#expired(e, t)) {
      this.#sessions.delete(key);
      this.#save();
      return undefined;
    }
    e.seen = Math.max(e.seen, t);
    if (e.seen - e.savedSeen > SEEN_WRITE_MS) this.#save();
    return this.#view(id, e);
  }

  delete(id: string | undefined): void {
    if (id !== undefined && this.#sessions.delete(hashId(id))) this.#save();
  }

  sweep(): void {
    const t = this.now();
    for (const [key, e] of this.#sessions) if (this.#expired(e, t)) this.#sessions.delete(key);
  }

  /** The CSRF token of a user authenticated by the `authorize` hook (no session). */
  userToken(user: string): string {
    return createHmac('sha256', this.#secret).update(`csrf\0${user}`).digest('base64url');
  }
}

/** What {@link LoginLimiter.begin} answers. */
export type LoginGate =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly retryAfterMs: number; readonly reason: 'delay' | 'lockout' | 'busy' };

/**
 * Failed logins per key (client address, user name): a growing delay and a lockout.
 *
 * - After the n-th failure of a key within `windowMs`, the next attempt for it is allowed only
 *   `min(baseDelayMs * 2^(n-1), maxDelayMs)` after that failure (250 ms, 0.5 s, 1 s, 2 s... by default).
 * - After `maxFailures` failures within `windowMs`, every attempt for the key is refused until the oldest of
 *   them leaves the window (the lockout, the backstop against a slow, patient guesser).
 * - While one attempt of a key is being checked (the scrypt run), another one for the same key is refused:
 *   parallel requests cannot get around the delay.
 * - A success clears the key.
 *
 * An attempt that comes too early is answered at once (429 with `Retry-After`): the server never sleeps on a
 * connection, so an attacker cannot tie it up with waiting requests, and nothing is queued.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #busy = new Set<string>();
  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    readonly now: () => number,
    readonly baseDelayMs = 250,
    readonly maxDelayMs = 30_000,
  ) {}

  #recent(key: string): number[] {
    const t = this.now();
    const list = (this.#failures.get(key) ?? []).filter((f) => t - f < this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** The delay after the n-th failure (n from 1). */
  delayAfter(n: number): number {
    return Math.min(this.baseDelayMs * 2 ** Math.min(n - 1, 40), this.maxDelayMs);
  }

  /** When a login for `key` may next be tried (milliseconds since the epoch), and why it must wait. */
  #allowedAt(key: string): { at: number; reason: 'delay' | 'lockout' } {
    const list = this.#recent(key);
    const last = list[list.length - 1];
    if (last === undefined) return { at: 0, reason: 'delay' };
    if (list.length >= this.maxFailures) {
      const oldest = list[list.length - this.maxFailures] ?? last;
      return { at: oldest + this.windowMs, reason: 'lockout' };
    }
    return { at: last + this.delayAfter(list.length), reason: 'delay' };
  }

  /**
   * Asks to check a password for all of `keys`: either refused with the time to wait, or allowed, and then the
   * caller must call `release` once the check is over (after `fail` or `succeed`).
   */
  begin(keys: readonly string[]): LoginGate {
    const t = this.now();
    let wait = 0;
    let reason: 'delay' | 'lockout' | 'busy' = 'delay';
    for (const key of keys) {
      const a = this.#allowedAt(key);
      if (a.at - t > wait || (a.at - t === wait && a.reason === 'lockout' && wait > 0)) {
        wait = a.at - t;
        reason = a.reason;
      }
    }
    if (wait > 0) return { ok: false, retryAfterMs: wait, reason };
    if (keys.some((k) => this.#busy.has(k)))
      return { ok: false, retryAfterMs: this.baseDelayMs, reason: 'busy' };
    for (const k of keys) this.#busy.add(k);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const k of keys) this.#busy.delete(k);
      },
    };
  }

  fail(keys: readonly string[]): void {
    for (const key of keys) this.#failures.set(key, [...this.#recent(key), this.now()]);
    // Bound the table: a flood of distinct names must not grow memory without end.
    if (this.#failures.size > 10_000)
      for (const k of [...this.#failures.keys()].slice(0, 5_000)) this.#failures.delete(k);
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }
}
