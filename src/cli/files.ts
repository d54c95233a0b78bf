/**
 * File input and output of the `mailtls` command: reading inputs with errors an administrator can act on,
 * and writing outputs atomically (a temporary file in the same directory, then a rename), never replacing
 * an existing file without `--force`.
 *
 * @module cli/files
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CLIError } from './output.js';

/** Largest input file read (certificates, keys and bundles are far smaller). */
const MAX_INPUT = 64 * 1024 * 1024;

function reason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'EEXIST') return 'it exists';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'read-only file system';
  return e instanceof Error ? e.message : String(e);
}

/**
 * The bytes of an input file.
 * @throws CLIError ERR_CLI_READ when it cannot be read
 */
export function readInput(file: string, what = 'file'): Uint8Array {
  try {
    const st = statSync(file);
    if (st.isDirectory())
      throw new CLIError('ERR_CLI_READ', `Cannot read the ${what} ${file}: it is a directory.`, { file });
    if (st.size > MAX_INPUT)
      throw new CLIError('ERR_CLI_READ', `The ${what} ${file} is ${st.size} bytes: too large.`, { file });
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    if (e instanceof CLIError) throw e;
    throw new CLIError('ERR_CLI_READ', `Cannot read the ${what} ${file}: ${reason(e)}.`, {
      file,
      ...(typeof (e as { code?: unknown }).code === 'string' ? { errno: (e as { code: string }).code } : {}),
    });
  }
}

/**
 * An input file as text (UTF-8).
 * @throws CLIError ERR_CLI_READ when it cannot be read
 */
export function readText(file: string, what = 'file'): string {
  return new TextDecoder('utf-8').decode(readInput(file, what));
}

/** Whether bytes look like text (PEM) rather than DER: no NUL and no leading SEQUENCE tag. */
export function looksLikeText(bytes: Uint8Array): boolean {
  let i = 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  if (i === bytes.length) return true;
  if (bytes[i] === 0x30) return false;
  return !bytes.subarray(0, Math.min(bytes.length, 4096)).includes(0);
}

/** Options of {@link writeOutput}. */
export interface WriteOptions {
  /** File mode; default 0o644. Private keys: 0o600. */
  mode?: number;
  /** Replace an existing file (atomically). Default false: refuse with ERR_CLI_EXISTS. */
  force?: boolean;
}

/**
 * Refuses early (before slow work) when a file exists and `force` is not set.
 * @throws CLIError ERR_CLI_EXISTS
 */
export function checkWritable(file: string, force: boolean | undefined): void {
  if (force === true) return;
  let exists = false;
  try {
    statSync(file);
    exists = true;
  } catch {
    exists = false;
  }
  if (exists)
    throw new CLIError(
      'ERR_CLI_EXISTS',
      `${file} exists; not overwriting it. Choose another file name, or give --force to replace it.`,
      { file },
    );
}

/**
 * Writes a file atomically: the data goes to a temporary file in the same directory (created with `mode`,
 * flushed to disk), which then replaces the target by rename (with `force`) or is hard-linked to it (without
 * `force`, so that an existing file is never replaced, even by a race). A reader sees the old file or the
 * whole new one, never a part.
 *
 * @throws CLIError ERR_CLI_EXISTS (exists, no force), ERR_CLI_WRITE (cannot write)
 */
export function writeOutput(file: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.force === true) renameSync(tmp, file);
    else {
      let linked = false;
      try {
        linkSync(tmp, file);
        linked = true;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === 'EEXIST') checkWritable(file, false);
        // File systems without hard links: check, then rename (not race-free, but never silent).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
      }
      if (linked) unlinkSync(tmp);
      else {
        checkWritable(file, false);
        renameSync(tmp, file);
      }
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    if (e instanceof CLIError) throw e;
    throw new CLIError('ERR_CLI_WRITE', `Cannot write ${file}: ${reason(e)}.`, { file });
  } finally {
    // The encoded copy of a string (maybe a private key) is wiped; a caller's buffer is left alone.
    if (typeof data === 'string') bytes.fill(0);
  }
}
