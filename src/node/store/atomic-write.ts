/**
 * Crash-safe file replacement: write a temporary file in the same directory, `fsync` it, `rename` it over the
 * target, then `fsync` the directory so the rename itself is on disk. After a crash (power loss, SIGKILL) the
 * target holds either the old or the new content, never a mix or an empty file. The same for symbolic links
 * ({@link saveSymlinkAtomic}), which is how the certificate store switches a key and certificate together.
 *
 * POSIX semantics (Linux, macOS, the BSDs). Temporary names start with `.tmp-` and carry the writer's pid, so a
 * leftover from a killed writer can be recognised and removed ({@link isTemporaryName}).
 *
 * @module node/store/atomic-write
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options of {@link saveFileAtomic}. */
export interface SaveFileAtomicOptions {
  /** File mode of the new file; default `0o644`. Applied with `chmod`, so the umask does not narrow it. */
  mode?: number | undefined;
  /** `fsync` the file and the directory; default true. Turn off only for throw-away data. */
  fsync?: boolean | undefined;
}

const TEMP_PREFIX = '.tmp-';
/** `.tmp-<pid>-<random hex>-<target>`. */
const TEMP_RE = /^\.tmp-(\d+)-[0-9a-f]+-(.*)$/s;

/**
 * A temporary name in the directory of `path`: `.tmp-<pid>-<random>-<name>`.
 * @internal
 */
export function temporaryPath(path: string): string {
  return join(
    dirname(path),
    `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${basename(path)}`,
  );
}

/** What {@link isTemporaryName} tells about a temporary name. */
export interface TemporaryName {
  /** The process id of the writer that made it. */
  readonly pid: number;
}

/**
 * Whether a directory entry is a temporary file of this module, and the pid of the process that made it.
 *
 * @throws Never.
 * @example
 * ```ts
 * isTemporaryName('.tmp-4242-a1b2c3d4e5f6-cert.pem'); // { pid: 4242 }
 * isTemporaryName('cert.pem');                        // undefined
 * ```
 */
export function isTemporaryName(name: string): TemporaryName | undefined {
  const m = TEMP_RE.exec(name);
  return m === null ? undefined : { pid: Number(m[1]) };
}

/**
 * The base name a temporary name stands in for (`cert.pem` for `.tmp-4242-a1b2c3d4e5f6-cert.pem`), or
 * undefined when `name` is not a temporary name.
 * @internal
 */
export function temporaryTarget(name: string): string | undefined {
  return TEMP_RE.exec(name)?.[2];
}

/**
 * `fsync`s a directory, so that entries created, renamed or removed in it survive a crash. A no-op where
 * the platform cannot open directories for syncing.
 *
 * @throws The `fs` error (with `code`) when the directory cannot be opened.
 * @example
 * ```ts
 * await rename(tmp, target);
 * await syncDirectory(dirname(target));
 * ```
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  } catch (e) {
    if (isCode(e, 'EISDIR') || isCode(e, 'EPERM')) return; // platforms that cannot open a directory
    throw e;
  }
  try {
    await handle.sync();
  } catch (e) {
    if (!isCode(e, 'EINVAL') && !isCode(e, 'ENOTSUP') && !isCode(e, 'EBADF')) throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Creates a file that must not exist yet with its content and its exact mode, `fsync`ed unless `sync` is
 * false. It is created with no access for anyone but the owner and widened by `chmod` once written (after
 * `chown` to `gid` when given): a key is never readable by others, not even for a moment.
 * @internal
 */
export async function writeNewFile(
  path: string,
  data: string | Uint8Array,
  mode: number,
  sync = true,
  gid?: number,
): Promise<void> {
  const handle = await open(path, 'wx', mode & 0o700);
  try {
    await handle.writeFile(data);
    // The group first, then the mode: a key is never readable by a group it was not meant for.
    if (gid !== undefined) await handle.chown(-1, gid);
    await handle.chmod(mode);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a file atomically: the content goes to a temporary file in the same directory, which is synced,
 * given its mode and renamed over `path`; then the directory is synced. Readers see the old or the new file,
 * whole. On failure the temporary file is removed and `path` is untouched.
 *
 * @param path - the file to create or replace.
 * @param data - the content (a string is written as UTF-8).
 * @param options - `mode` (default `0o644`), `fsync` (default true).
 * @throws The `fs` error (`ENOENT` when the directory does not exist, `EACCES`, `ENOSPC`...).
 * @example
 * ```ts
 * await saveFileAtomic('/etc/mail/tls/private/example.com.key', keyPEM, { mode: 0o600 });
 * ```
 */
export async function saveFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: SaveFileAtomicOptions = {},
): Promise<void> {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  if (typeof data !== 'string' && !(data instanceof Uint8Array))
    throw new TypeError('data must be a string or a Uint8Array');
  const mode = options.mode ?? 0o644;
  const sync = options.fsync ?? true;
  const tmp = temporaryPath(path);
  let done = false;
  try {
    await writeNewFile(tmp, data, mode, sync);
    await rename(tmp, path);
    done = true;
    if (sync) await syncDirectory(dirname(path));
  } finally {
    if (!done) await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Points a symbolic link at `target` atomically: a new link under a temporary name is renamed over
 * `linkPath` (replacing a link or a file), then the directory is synced. Readers that resolve `linkPath`
 * see the old or the new target, never a missing link.
 *
 * @param linkPath - the link to create or replace.
 * @param target - the link's content (relative targets resolve against the link's directory).
 * @throws The `fs` error; `EISDIR` when `linkPath` is a directory.
 * @example
 * ```ts
 * await saveSymlinkAtomic('/srv/tls/history/example.com/current', 'v000002-20270601T120000Z');
 * ```
 */
export async function saveSymlinkAtomic(linkPath: string, target: string): Promise<void> {
  if (typeof linkPath !== 'string' || typeof target !== 'string')
    throw new TypeError('linkPath and target must be strings');
  const tmp = temporaryPath(linkPath);
  await symlink(target, tmp);
  try {
    await rename(tmp, linkPath);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(linkPath));
}

/** Whether `e` is a Node system error with this `code`. @internal */
export function isCode(e: unknown, code: string): boolean {
  return e !== null && typeof e === 'object' && (e as { code?: unknown }).code === code;
}
