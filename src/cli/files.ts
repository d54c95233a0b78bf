/**
 * File input and output of the `mailtls` command: reading inputs with errors an administrator can act on,
 * and writing outputs atomically (a temporary file in the same directory, then a rename), never replacing
 * an existing file without `--force`.
 *
 * @module cli/files
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CLIError } from './output.js';

/** Largest input read (certificates, keys and bundles are far smaller). */
export const MAX_INPUT = 64 * 1024 * 1024;
/** Largest first line of a password file. */
export const MAX_PASSWORD_LINE = 64 * 1024;
/** Bytes read at a time. */
const CHUNK = 64 * 1024;

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

/** A byte count in words: `64 MiB`, `64 KiB` or `100 bytes`. */
function size(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function errnoOf(e: unknown): Record<string, string> {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? { errno: code } : {};
}

/** Waits a moment without a busy loop (a non-blocking standard input that has no data yet). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What standard input was read as (`-`), once per command: a second `-` would find it empty. */
let stdinReadAs: string | undefined;

/** Options of {@link readInput}. */
export interface ReadOptions {
  /** Most bytes accepted; default {@link MAX_INPUT}. More ends the read with ERR_CLI_READ. */
  maxBytes?: number;
  /** Stop at the first line feed: only the first line is read (and returned without its line end). */
  firstLine?: boolean;
}

/**
 * The bytes of an input file, or of standard input for `-`. Every read is bounded while it reads: the data
 * is read in chunks and the read stops as soon as it passes `maxBytes`, so a device (`/dev/zero`), a pipe or
 * a FIFO that never ends costs at most that much memory. This is the only way the command reads its inputs.
 *
 * @throws CLIError ERR_CLI_READ when it cannot be read or is larger than `maxBytes`
 */
export function readInput(file: string, what = 'file', options: ReadOptions = {}): Uint8Array {
  const max = options.maxBytes ?? MAX_INPUT;
  const stdin = file === '-';
  const name = stdin ? 'standard input' : file;
  if (stdin) {
    if (stdinReadAs !== undefined)
      throw new CLIError(
        'ERR_CLI_USAGE',
        `Standard input (-) is already read as the ${stdinReadAs}; it can stand for one input only. ` +
          `Give the ${what} as a file.`,
        { file },
      );
    stdinReadAs = what;
  }
  const tooLarge = () =>
    new CLIError(
      'ERR_CLI_READ',
      options.firstLine === true
        ? `The first line of the ${what} ${name} is longer than ${size(max)}: it is not a password file ` +
            '(a device or a stream that never ends?).'
        : `The ${what} ${name} is larger than ${size(max)}: too large (a device or a stream that never ` +
            'ends?). Give the file itself.',
      { file, maxBytes: max },
    );
  let fd: number | undefined;
  const chunks: Uint8Array[] = [];
  try {
    fd = stdin ? 0 : openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory())
      throw new CLIError('ERR_CLI_READ', `Cannot read the ${what} ${name}: it is a directory.`, { file });
    if (st.isFile() && st.size > max && options.firstLine !== true)
      throw new CLIError('ERR_CLI_READ', `The ${what} ${name} is ${st.size} bytes: too large.`, {
        file,
        maxBytes: max,
      });
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(CHUNK);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, CHUNK, null);
      } catch (e) {
        if ((e as { code?: unknown }).code === 'EAGAIN') {
          pause(10);
          continue;
        }
        throw e;
      }
      if (n === 0) break;
      const got = chunk.subarray(0, n);
      chunks.push(got);
      if (options.firstLine === true) {
        const lf = got.indexOf(0x0a);
        if (lf >= 0) {
          chunks[chunks.length - 1] = got.subarray(0, lf);
          total += lf;
          if (total > max) throw tooLarge();
          break;
        }
      }
      total += n;
      if (total > max) throw tooLarge();
    }
    const bytes = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.length;
    }
    return bytes;
  } catch (e) {
    if (e instanceof CLIError) throw e;
    throw new CLIError('ERR_CLI_READ', `Cannot read the ${what} ${name}: ${reason(e)}.`, {
      file,
      ...errnoOf(e),
    });
  } finally {
    // The chunks may hold a key or a password: wiped once copied.
    for (const c of chunks) new Uint8Array(c.buffer).fill(0);
    if (fd !== undefined && !stdin) closeSync(fd);
  }
}

/**
 * An input file as text (UTF-8).
 * @throws CLIError ERR_CLI_READ when it cannot be read
 */
export function readText(file: string, what = 'file', options: ReadOptions = {}): string {
  const bytes = readInput(file, what, options);
  try {
    return new TextDecoder('utf-8').decode(bytes);
  } finally {
    bytes.fill(0);
  }
}

/**
 * The first line of a file (a password file), read only up to its first line end and at most
 * {@link MAX_PASSWORD_LINE} bytes; a CR before the line feed is dropped.
 * @throws CLIError ERR_CLI_READ when it cannot be read or the first line is too long
 */
export function readFirstLine(file: string, what = 'file'): string {
  return readText(file, what, { firstLine: true, maxBytes: MAX_PASSWORD_LINE }).replace(/\r$/, '');
}

/**
 * Whether bytes are text (PEM) rather than DER: the same rule the library's bundle reader uses, so that
 * every command reads a file the same way. DER starts with a SEQUENCE tag (0x30); text is anything else
 * (after a UTF-8 byte-order mark and whitespace). What text may hold (e.g. a control character at the end
 * of a line, which OpenSSL also accepts) is then up to the PEM parser, for every command alike.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  if (i === bytes.length) return true;
  return bytes[i] !== 0x30;
}

/**
 * Refuses early (before any question or slow work) when the output directory does not exist, is not a
 * directory, or cannot be written; the error names the directory.
 * @throws CLIError ERR_CLI_WRITE
 */
export function checkOutputDirectory(dir: string, option = '--out-dir'): void {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new CLIError(
      'ERR_CLI_WRITE',
      `The output directory ${dir} ${(e as { code?: unknown }).code === 'ENOENT' ? 'does not exist' : `cannot be used: ${reason(e)}`}: create it (mkdir -p ${dir}) or give another ${option}.`,
      { file: dir, ...errnoOf(e) },
    );
  }
  if (!st.isDirectory())
    throw new CLIError('ERR_CLI_WRITE', `${dir} is not a directory: give a directory with ${option}.`, {
      file: dir,
    });
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new CLIError(
      'ERR_CLI_WRITE',
      `The output directory ${dir} is not writable (${reason(e)}): give another ${option}, or run as a user who may write there.`,
      { file: dir, ...errnoOf(e) },
    );
  }
}

/** Options of {@link writeOutput}. */
export interface WriteOptions {
  /** File mode; default 0o644. Private keys: 0o600. */
  mode?: number;
  /** Replace an existing file (atomically). Default false: refuse with ERR_CLI_EXISTS. */
  force?: boolean;
}

/** What a file system entry is, in words (for the refusal of `--force` on anything but a regular file). */
function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return undefined;
  return 'not a regular file';
}

/**
 * Refuses early (before slow work) when a file exists and `force` is not set, and always when it is
 * anything but a regular file or a symbolic link: `--force` replaces regular files only (a symbolic link is
 * replaced as a link, never written through), so a device, FIFO, socket or directory is never replaced.
 * @throws CLIError ERR_CLI_EXISTS (exists, no force), ERR_CLI_WRITE (not a regular file)
 */
export function checkWritable(file: string, force: boolean | undefined): void {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch {
    return;
  }
  const kind = kindOf(st);
  if (kind !== undefined)
    throw new CLIError(
      'ERR_CLI_WRITE',
      `Cannot write ${file}: it is ${kind}, not a regular file; it is never replaced, not even with --force. ` +
        'Choose a file name that is not in use (or a regular file to replace with --force).',
      { file },
    );
  if (force === true) return;
  throw new CLIError(
    'ERR_CLI_EXISTS',
    `${file} exists${st.isSymbolicLink() ? ' (a symbolic link)' : ''}; not overwriting it. Choose another ` +
      `file name, or give --force to replace ${st.isSymbolicLink() ? 'the link (not what it points to)' : 'it'}.`,
    { file },
  );
}

/**
 * Writes a file atomically: the data goes to a temporary file in the same directory (created with `mode`,
 * flushed to disk), which then replaces the target by rename (with `force`) or is hard-linked to it (without
 * `force`, so that an existing file is never replaced, even by a race). A reader sees the old file or the
 * whole new one, never a part. Only a regular file or a symbolic link is ever replaced (a link by a file,
 * atomically: what it pointed to is left alone); a device, FIFO, socket or directory is refused.
 *
 * @throws CLIError ERR_CLI_EXISTS (exists, no force), ERR_CLI_WRITE (cannot write, or not a regular file)
 */
export function writeOutput(file: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number | undefined;
  try {
    checkWritable(file, options.force);
    fd = openSync(tmp, 'wx', mode);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.force === true) {
      // Checked again just before the rename, which replaces a link itself and never writes through it.
      checkWritable(file, true);
      renameSync(tmp, file);
    } else {
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
