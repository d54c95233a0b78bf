/**
 * A lock file that serialises writers of the certificate store across processes.
 *
 * The lock is a file created with `O_CREAT | O_EXCL` (it exists or it does not, atomically, also on local
 * file systems shared by several processes) holding the owner's pid, host name and start time. A lock is
 * stale, and is broken, when its owner is a process on this host that no longer exists (a writer killed by
 * SIGKILL or a crash), when it is older than `staleMs` (an owner on another host, or a hung one), or when
 * it is empty or unreadable for over a second (an owner killed between creating and writing it). Breaking
 * renames the stale file away first and checks that it really was the stale one, so two waiters do not
 * both break it. Waiters poll until `timeoutMs`, then fail with `ERR_STORE_LOCKED`.
 *
 * Readers never lock: the store's readers rely on atomic renames instead.
 *
 * @module node/store/lock
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StoreError } from '../../errors.js';
import { isCode } from './atomic-write.js';

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** How long to wait for a held lock before `ERR_STORE_LOCKED`; default 10,000 ms. */
  timeoutMs?: number | undefined;
  /** Age after which any lock counts as stale; default 300,000 ms (5 minutes). */
  staleMs?: number | undefined;
  /** Polling interval while waiting; default 20 ms (with jitter). */
  retryMs?: number | undefined;
}

/** A held lock. */
export interface LockHandle {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

/** What a lock file holds. */
export interface LockOwner {
  /** The owner's process id. */
  readonly pid: number;
  /** The owner's host name (`os.hostname()`). */
  readonly host: string;
  /** Milliseconds since the epoch. */
  readonly created: number;
  /** A random value that tells this owner's lock from a later one at the same path. */
  readonly token: string;
}

/**
 * Whether a process with this id exists on this host (one that exists but belongs to another user counts).
 * @internal
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return !isCode(e, 'ESRCH');
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.created === 'number' &&
      typeof v.token === 'string'
    )
      return v as LockOwner;
  } catch {
    // not JSON: treated as unreadable below
  }
  return undefined;
}

/** Why an existing lock is stale, or undefined when it is live. */
function staleReason(owner: LockOwner | undefined, mtimeMs: number, staleMs: number): string | undefined {
  const now = Date.now();
  if (owner === undefined) return now - mtimeMs > 1000 ? 'unreadable lock file' : undefined;
  if (owner.host === hostname() && owner.pid !== process.pid && !isProcessAlive(owner.pid))
    return `process ${owner.pid} no longer exists`;
  if (now - owner.created > staleMs) return `older than ${staleMs} ms`;
  return undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function checkMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative number of milliseconds`);
  return value;
}

/**
 * Takes the lock file at `path`, waiting while another live process holds it and breaking stale locks.
 *
 * @param path - the lock file (its directory must exist).
 * @param options - `timeoutMs` (default 10 s), `staleMs` (default 5 min), `retryMs` (default 20 ms).
 * @throws StoreError `ERR_STORE_LOCKED` after `timeoutMs`, naming the owner pid and since when;
 *   `ERR_STORE_IO` when the lock file cannot be created (permissions, missing directory) or a held one
 *   cannot be read (a directory in its place).
 * @example
 * ```ts
 * const lock = await acquireLock('/srv/tls/locks/example.com.lock');
 * try {
 *   // ... replace files ...
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<LockHandle> {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  const timeoutMs = checkMs(options.timeoutMs, 'timeoutMs', 10_000);
  const staleMs = checkMs(options.staleMs, 'staleMs', 300_000);
  const retryMs = Math.max(1, checkMs(options.retryMs, 'retryMs', 20));
  const token = randomBytes(12).toString('hex');
  const deadline = Date.now() + timeoutMs;
  let lastOwner: LockOwner | undefined;
  for (;;) {
    const owner: LockOwner = { pid: process.pid, host: hostname(), created: Date.now(), token };
    try {
      await writeFile(path, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          try {
            const now = parseOwner(await readFile(path, 'utf8'));
            if (now?.token === token) await unlink(path);
          } catch (e) {
            if (!isCode(e, 'ENOENT')) throw e;
          }
        },
      };
    } catch (e) {
      if (!isCode(e, 'EEXIST'))
        throw lockError(
          e,
          path,
          'create the lock file',
          'check that the store directory exists and is writable',
        );
    }
    // Held: see whether it is stale.
    let text: string;
    let mtimeMs: number;
    try {
      text = await readFile(path, 'utf8');
      mtimeMs = (await stat(path)).mtimeMs;
    } catch (e) {
      if (isCode(e, 'ENOENT')) continue; // released meanwhile
      throw lockError(
        e,
        path,
        'read the lock file',
        'it must be a file; remove it if no mailtls process is running',
      );
    }
    const held = parseOwner(text);
    if (held !== undefined) lastOwner = held;
    if (staleReason(held, mtimeMs, staleMs) !== undefined) {
      await breakStale(path, text);
      continue;
    }
    if (Date.now() >= deadline) {
      const since = lastOwner === undefined ? undefined : new Date(lastOwner.created).toISOString();
      throw new StoreError(
        'ERR_STORE_LOCKED',
        `The store is locked by ${lastOwner === undefined ? 'another process' : `process ${lastOwner.pid} on ${lastOwner.host}`}` +
          `${since === undefined ? '' : ` since ${since}`} (${path}). Wait for that operation to finish; ` +
          'if no mailtls process is running, remove the lock file.',
        {
          details: {
            path,
            ...(lastOwner === undefined ? {} : { pid: lastOwner.pid, host: lastOwner.host, since }),
          },
        },
      );
    }
    await sleep(retryMs * (0.5 + Math.random()));
  }
}

/** A lock file that cannot be created, read or moved, as ERR_STORE_IO. */
function lockError(e: unknown, path: string, what: string, advice: string): StoreError {
  return new StoreError(
    'ERR_STORE_IO',
    `Cannot ${what} ${path} (${(e as { code?: string }).code ?? String(e)}): ${advice}.`,
    { cause: e, details: { path } },
  );
}

/** Moves a stale lock away, making sure it is the one judged stale (not a fresh lock taken meanwhile). */
async function breakStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return; // someone else broke it
    throw lockError(e, path, 'move away the stale lock file', 'check that the store directory is writable');
  }
  let moved = '';
  try {
    moved = await readFile(aside, 'utf8');
  } catch {
    // vanished: nothing to restore
  }
  if (moved !== staleText && moved !== '') {
    // A live lock was taken between our read and our rename: give it back (link fails harmlessly with
    // EEXIST if the path has been taken yet again).
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/**
 * Runs `fn` while holding the lock at `path`.
 *
 * @throws As {@link acquireLock}, and whatever `fn` throws.
 * @example
 * ```ts
 * await withLock('/srv/tls/locks/example.com.lock', {}, async () => { ... });
 * ```
 */
export async function withLock<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
