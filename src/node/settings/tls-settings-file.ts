/**
 * The TLS settings file of a certificate store: `<root>/settings/tls.json`, replaced atomically, one revision
 * per save, with the revisions before it kept in `<root>/settings/history/` for an administrator to look at
 * or restore. A save names the revision it started from, and is refused when another save came first, so two
 * administrators never overwrite each other's change unseen. Writers take the lock `settings/tls.lock`.
 *
 * ```text
 * <root>/settings/tls.json                  the settings in force                    0644
 * <root>/settings/history/r000007.json      revision 7, replaced by revision 8       0644
 * <root>/settings/tls.lock                  held by a writer
 * ```
 *
 * @module node/settings/tls-settings-file
 */
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SettingsError, StoreError } from '../../errors.js';
import {
  createDefaultTLSSettings,
  encodeTLSSettingsJSON,
  MAX_TLS_SETTINGS_BYTES,
  parseTLSSettingsJSON,
  type TLSSettings,
  validateTLSSettings,
} from '../../settings/index.js';
import { isCode, saveFileAtomic } from '../store/atomic-write.js';
import { type LockOptions, withLock } from '../store/lock.js';

/** Where a store keeps its TLS settings. */
export interface TLSSettingsPaths {
  /** `settings/` */
  readonly dir: string;
  /** `settings/tls.json` */
  readonly file: string;
  /** `settings/history/` */
  readonly history: string;
  /** `settings/tls.lock` */
  readonly lock: string;
}

/**
 * The paths of the settings file under a store root.
 * @example `tlsSettingsPaths('/srv/tls').file // '/srv/tls/settings/tls.json'`
 */
export function tlsSettingsPaths(root: string): TLSSettingsPaths {
  if (typeof root !== 'string' || root === '') throw new TypeError('root must be a directory path');
  const dir = join(root, 'settings');
  return { dir, file: join(dir, 'tls.json'), history: join(dir, 'history'), lock: join(dir, 'tls.lock') };
}

/** Reads at most `max` bytes of a file; undefined when it does not exist. */
async function readBounded(path: string, max: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return undefined;
    throw ioError(e, path);
  }
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max)
        throw new SettingsError(
          'ERR_SETTINGS_TOO_LARGE',
          `${path} is larger than ${max} bytes: it is not a TLS settings file; restore one from settings/history/.`,
          { details: { path, max } },
        );
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await handle.close();
  }
}

function ioError(e: unknown, path: string): StoreError {
  const code = (e as NodeJS.ErrnoException).code;
  return new StoreError(
    code === 'EACCES' || code === 'EPERM' ? 'ERR_STORE_PERMISSIONS' : 'ERR_STORE_IO',
    `cannot access ${path} (${code ?? String(e)}): check that the store directory exists and this user may read and write it`,
    { cause: e, details: { path, errno: code } },
  );
}

/**
 * Loads the store's TLS settings; a store without a settings file has the defaults (revision 0).
 *
 * @throws SettingsError `ERR_SETTINGS_INVALID`, `ERR_SETTINGS_VERSION`, `ERR_SETTINGS_TOO_LARGE` (the message
 *   names the file); StoreError `ERR_STORE_IO`, `ERR_STORE_PERMISSIONS`.
 * @example
 * ```ts
 * import { loadTLSSettings } from 'mailtls/node';
 * const settings = await loadTLSSettings('/etc/mail/tls');
 * ```
 */
export async function loadTLSSettings(root: string): Promise<TLSSettings> {
  const { file } = tlsSettingsPaths(root);
  const text = await readBounded(file, MAX_TLS_SETTINGS_BYTES);
  if (text === undefined) return createDefaultTLSSettings();
  try {
    return parseTLSSettingsJSON(text);
  } catch (e) {
    if (e instanceof SettingsError)
      throw new SettingsError(e.code, `${file}: ${e.message}`, { cause: e, details: { ...e.details, file } });
    throw e;
  }
}

/** Options of {@link saveTLSSettings}. */
export interface SaveTLSSettingsOptions {
  /**
   * The revision the change was made from (what {@link loadTLSSettings} returned). The save is refused with
   * `ERR_SETTINGS_CONFLICT` when the file is at another revision. Default: the `revision` of the settings.
   */
  expectRevision?: number | undefined;
  /** Who saves (kept in `savedBy`). */
  by?: string | undefined;
  /** The clock; default now. */
  at?: Date | undefined;
  /** Revisions kept in `settings/history/`; default 20, at least 1. */
  keep?: number | undefined;
  /** Lock timing. */
  lock?: LockOptions | undefined;
}

function revisionFile(history: string, revision: number): string {
  return join(history, `r${String(revision).padStart(6, '0')}.json`);
}

/**
 * Saves TLS settings as the next revision: validated first (nothing is written for bad settings), the
 * revision in force copied to `settings/history/`, then `settings/tls.json` replaced atomically. Returns
 * the settings as saved (with the new `revision`, `savedAt` and `savedBy`).
 *
 * @throws SettingsError `ERR_SETTINGS_CONFLICT` when the file changed since `expectRevision` (load it again
 *   and redo the change), `ERR_SETTINGS_INVALID`; StoreError `ERR_STORE_LOCKED`, `ERR_STORE_IO`.
 * @example
 * ```ts
 * const s = await loadTLSSettings(root);
 * await saveTLSSettings(root, withDomainTLSSettings(s, 'example.com', { ...s.defaults, lanOnly: true }), { by: 'admin' });
 * ```
 */
export async function saveTLSSettings(
  root: string,
  settings: TLSSettings,
  options: SaveTLSSettingsOptions = {},
): Promise<TLSSettings> {
  const valid = validateTLSSettings(settings);
  const paths = tlsSettingsPaths(root);
  const keep = options.keep ?? 20;
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError('keep must be an integer of at least 1');
  const expect = options.expectRevision ?? valid.revision;
  try {
    await mkdir(paths.history, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw ioError(e, paths.history);
  }
  return withLock(paths.lock, options.lock ?? {}, async () => {
    const current = await loadTLSSettings(root);
    if (current.revision !== expect)
      throw new SettingsError(
        'ERR_SETTINGS_CONFLICT',
        `The TLS settings changed meanwhile (now revision ${current.revision}${current.savedBy === undefined ? '' : ` by ${current.savedBy}`}, ` +
          `the change was made from revision ${expect}); load them again and redo the change.`,
        { details: { revision: current.revision, expected: expect } },
      );
    const next = validateTLSSettings({
      ...valid,
      revision: current.revision + 1,
      savedAt: (options.at ?? new Date()).toISOString(),
      ...(options.by === undefined ? { savedBy: undefined } : { savedBy: options.by }),
    });
    try {
      if (current.revision > 0)
        await saveFileAtomic(revisionFile(paths.history, current.revision), encodeTLSSettingsJSON(current));
      await saveFileAtomic(paths.file, encodeTLSSettingsJSON(next));
    } catch (e) {
      throw ioError(e, paths.file);
    }
    await prune(paths.history, keep);
    return next;
  });
}

async function prune(history: string, keep: number): Promise<void> {
  const revisions = await listRevisionNumbers(history);
  for (const r of revisions.slice(0, Math.max(0, revisions.length - keep)))
    await rm(revisionFile(history, r), { force: true });
}

async function listRevisionNumbers(history: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(history);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw ioError(e, history);
  }
  return names
    .map((n) => /^r(\d{6,})\.json$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The saved revisions before the one in force, oldest first.
 * @throws StoreError `ERR_STORE_IO`.
 * @example `await listTLSSettingsRevisions(root) // [1, 2, 3]`
 */
export async function listTLSSettingsRevisions(root: string): Promise<number[]> {
  return listRevisionNumbers(tlsSettingsPaths(root).history);
}

/**
 * Loads an earlier revision from `settings/history/` (to show it, or to save it again as the next revision).
 * @throws SettingsError codes of {@link loadTLSSettings}; StoreError `ERR_STORE_NOT_FOUND` when it is not kept.
 * @example `const old = await loadTLSSettingsRevision(root, 3)`
 */
export async function loadTLSSettingsRevision(root: string, revision: number): Promise<TLSSettings> {
  if (!Number.isSafeInteger(revision) || revision < 1)
    throw new RangeError('revision must be a whole number from 1');
  const file = revisionFile(tlsSettingsPaths(root).history, revision);
  const text = await readBounded(file, MAX_TLS_SETTINGS_BYTES);
  if (text === undefined)
    throw new StoreError(
      'ERR_STORE_NOT_FOUND',
      `revision ${revision} of the TLS settings is not kept (${file}).`,
      {
        details: { revision },
      },
    );
  return parseTLSSettingsJSON(text);
}

/** Options of {@link watchTLSSettings}. */
export interface WatchTLSSettingsOptions {
  /** How often the file is checked, in milliseconds; default 1,000. */
  pollIntervalMs?: number | undefined;
  /**
   * The revision the caller already applied (from {@link loadTLSSettings}); a different revision found by
   * the first check is reported. Default: the first check only records the revision.
   */
  since?: number | undefined;
}

/** A running watch; see {@link watchTLSSettings}. */
export interface TLSSettingsWatch {
  /** Checks the file now (also what the timer does); resolves after `onChange` ran, if it did. */
  check(): Promise<void>;
  /** Stops watching. */
  close(): void;
}

/**
 * Calls `onChange` with the new settings whenever the store's settings file gets a new revision (checked
 * by polling its size and time, then its revision). A file that does not validate is reported to `onError`
 * and the settings in force stay as they were.
 *
 * @example
 * ```ts
 * const w = watchTLSSettings(root, (s) => apply(s), (e) => console.error(e.message));
 * // later: w.close();
 * ```
 */
export function watchTLSSettings(
  root: string,
  onChange: (settings: TLSSettings) => void | Promise<void>,
  onError: (error: Error) => void = () => undefined,
  options: WatchTLSSettingsOptions = {},
): TLSSettingsWatch {
  const { file } = tlsSettingsPaths(root);
  const interval = options.pollIntervalMs ?? 1000;
  if (!(interval > 0)) throw new RangeError('pollIntervalMs must be positive');
  let last: string | undefined;
  let lastRevision: number | undefined = options.since;
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    let sig: string;
    try {
      const s = await stat(file);
      sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (e) {
      sig = isCode(e, 'ENOENT') ? 'none' : `error:${String(e)}`;
    }
    if (sig === last) return;
    last = sig;
    try {
      const settings = await loadTLSSettings(root);
      if (settings.revision === lastRevision) return;
      const first = lastRevision === undefined;
      lastRevision = settings.revision;
      if (!first) await onChange(settings);
    } catch (e) {
      onError(e as Error);
    }
  };
  const check = (): Promise<void> => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  void check();
  const timer = setInterval(() => void check(), interval);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
