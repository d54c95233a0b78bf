/**
 * The web administrator's sessions, CSRF tokens and login rate limit, kept in memory.
 *
 * - A session is a random 256-bit id in a cookie (`Secure; HttpOnly; SameSite=Strict`), ending after
 *   `idleMs` without a request or `maxAgeMs` after login, whichever comes first.
 * - Every state-changing request carries a CSRF token in a hidden form field: a random value bound to the
 *   session (or, with an `authorize` hook and no session, an HMAC of the user name under a per-process
 *   secret). The login form has its own token, double-submitted in a short-lived cookie.
 * - Failed logins are counted per client address and per user name over a window; at the limit, every
 *   login from that address or for that name is refused (even with the right password) until the oldest
 *   failure leaves the window.
 *
 * @module admin/security
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One logged-in administrator. */
export interface AdminSession {
  readonly id: string;
  readonly user: string;
  readonly csrf: string;
  readonly created: number;
  seen: number;
  flash: string[];
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

/** Sessions in memory; expired ones are dropped when met and by `sweep`. */
export class SessionStore {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #secret = randomBytes(32);
  constructor(
    readonly idleMs: number,
    readonly maxAgeMs: number,
    readonly now: () => number,
  ) {}

  create(user: string): AdminSession {
    this.sweep();
    const t = this.now();
    const s: AdminSession = { id: randomToken(), user, csrf: randomToken(), created: t, seen: t, flash: [] };
    this.#sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined) return undefined;
    const s = this.#sessions.get(id);
    if (s === undefined) return undefined;
    const t = this.now();
    if (t - s.seen > this.idleMs || t - s.created > this.maxAgeMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.seen = t;
    return s;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  sweep(): void {
    const t = this.now();
    for (const [id, s] of this.#sessions)
      if (t - s.seen > this.idleMs || t - s.created > this.maxAgeMs) this.#sessions.delete(id);
  }

  /** The CSRF token of a user authenticated by the `authorize` hook (no session). */
  userToken(user: string): string {
    return createHmac('sha256', this.#secret).update(`csrf\0${user}`).digest('base64url');
  }
}

/** Failed-login counting per key (client address, user name). */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    readonly now: () => number,
  ) {}

  #recent(key: string): number[] {
    const t = this.now();
    const list = (this.#failures.get(key) ?? []).filter((f) => t - f < this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** Seconds to wait before another attempt for any of the keys, or 0 when a login may be tried. */
  retryAfter(keys: readonly string[]): number {
    let wait = 0;
    for (const key of keys) {
      const list = this.#recent(key);
      if (list.length >= this.maxFailures) {
        const oldest = list[list.length - this.maxFailures] ?? this.now();
        wait = Math.max(wait, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
      }
    }
    return wait;
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
