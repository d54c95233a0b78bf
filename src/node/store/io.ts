/**
 * Small file-system helpers of the certificate store: reads that treat a missing file as `undefined`, and
 * the errors that name the path and say what to check. Shared by the store's modules.
 *
 * @module node/store/io
 * Not public API: no subpath exports it.
 */
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { MailTlsError, StoreError } from '../../errors.js';
import { isCode } from './atomic-write.js';
import { type StorePaths, versionSeq } from './layout.js';

/** Whether a path exists (a dangling symbolic link does). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return false;
    throw ioError(e, 'read', path);
  }
}

/** Whether a path leads to something, following symbolic links (a dangling link does not). */
export async function resolves(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return false;
    throw e;
  }
}

/** The text of a file, or undefined when there is none. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return undefined;
    throw ioError(e, 'read', path); // EISDIR, EACCES: a read error names no path by itself
  }
}

/** The target of a symbolic link, or undefined when there is no link. */
export async function readLinkIfExists(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'EINVAL') || isCode(e, 'ENOTDIR')) return undefined;
    throw ioError(e, 'read', path);
  }
}

/** Every file name in a store directory (empty when it does not exist). */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw ioError(e, 'read', dir);
  }
}

/** The octal form of a mode, `0755`. */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** A file-system error (one with an errno `code`) as {@link ioError} naming its own path; others as they are. */
export function systemError(e: unknown, fallbackPath: string): unknown {
  if (e instanceof MailTlsError || !(e instanceof Error)) return e;
  const { code, path } = e as { code?: unknown; path?: unknown };
  if (typeof code !== 'string') return e;
  return ioError(e, 'update', typeof path === 'string' ? path : fallbackPath);
}

/** A file-system error as `ERR_STORE_IO` (`ERR_STORE_PERMISSIONS` for EACCES/EPERM) naming the path. */
export function ioError(e: unknown, what: string, path: string): StoreError {
  const code = (e as { code?: string }).code ?? 'error';
  return new StoreError(
    code === 'EACCES' || code === 'EPERM' ? 'ERR_STORE_PERMISSIONS' : 'ERR_STORE_IO',
    `Cannot ${what} ${path} (${code}): check that ${
      what === 'read'
        ? 'it is a file or directory this process may read'
        : 'the store directory exists and that this process may write it'
    }.`,
    { cause: e, details: { path, code } },
  );
}

/** The version directories of a domain, oldest first. */
export async function versionIds(paths: StorePaths): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(paths.history);
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return [];
    throw ioError(e, 'read', paths.history);
  }
  return names.filter((n) => versionSeq(n) >= 0).sort((a, b) => versionSeq(a) - versionSeq(b));
}
