/**
 * The directories and modes of the certificate store: the check that its own directories are real
 * directories, their creation with the right modes, and the repair of every mode and key group (what
 * `mailtls check --fix` runs). See `STORE_MODES` for the modes and why.
 *
 * @module node/store/modes
 * Not public API: no subpath exports it.
 */
import { chmod, chown, lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../../errors.js';
import { isCode, isTemporaryName } from './atomic-write.js';
import { ioError, octal, readdirOrEmpty, versionIds } from './io.js';
import {
  STORE_DIRECTORIES,
  STORE_MODES,
  type StoreName,
  type StorePaths,
  storeName,
  storePaths,
  VERSION_FILES,
} from './layout.js';

/** What {@link CertificateStore.fixPermissions} changed. */
export interface PermissionFix {
  /** The file or directory. */
  readonly path: string;
  /** What was done, e.g. `chmod 0755 (was 0700)`. */
  readonly change: string;
}

/** What the mode functions need of the store. (not public API) */
export interface ModeContext {
  /** The store's root. */
  readonly root: string;
  /** The group that may read the keys, if any (see `CertificateStore.keyGroup`). */
  keyGroup(): Promise<number | undefined>;
}

/**
 * Refuses a store whose own directories (and `extra` ones, relative to the root) are symbolic links or not
 * directories; missing ones are fine. See `CertificateStore.checkLayout`.
 * @throws StoreError `ERR_STORE_LAYOUT`, `ERR_STORE_IO`.
 */
export async function checkLayout(root: string, extra: readonly string[] = []): Promise<void> {
  const d = STORE_DIRECTORIES;
  const dirs = [d.csr, d.certs, d.private, join(d.private, 'pending'), d.history, d.locks, ...extra];
  for (const rel of dirs) {
    const path = join(root, rel);
    let s: Awaited<ReturnType<typeof lstat>>;
    try {
      s = await lstat(path);
    } catch (e) {
      if (isCode(e, 'ENOENT')) continue;
      throw ioError(e, 'read', path);
    }
    if (s.isDirectory()) continue;
    const what = s.isSymbolicLink()
      ? `a symbolic link (to ${await readlink(path).catch(() => '?')})`
      : 'not a directory';
    throw new StoreError(
      'ERR_STORE_LAYOUT',
      `${path} is ${what}; the store refuses it: the links it writes there point into ../history/ and would ` +
        'not resolve, and keys would live where the store does not control who may write. Make it a real ' +
        `directory (move what it points to into ${path}, or give the store a root on the other file system), ` +
        'then run the command again.',
      { details: { path, kind: s.isSymbolicLink() ? 'symlink' : 'not-directory' } },
    );
  }
}

/**
 * Creates the store's directories when missing and gives them their modes (see `STORE_MODES`): a store
 * made before certificates were readable by everyone (`history/` 0700) is opened up, and `private/` gets
 * the key group. The root keeps its mode once it exists.
 */
export async function ensureDirectories(ctx: ModeContext, fixes?: PermissionFix[]): Promise<void> {
  const { root } = ctx;
  await checkLayout(root);
  const gid = await ctx.keyGroup();
  const d = STORE_DIRECTORIES;
  const m = STORE_MODES;
  const dirs: [string, number, number | undefined][] = [
    [root, m.publicDir, undefined],
    [join(root, d.csr), m.publicDir, undefined],
    [join(root, d.certs), m.publicDir, undefined],
    [join(root, d.private), gid === undefined ? m.keyDir : m.keyDirGroup, gid],
    [join(root, d.private, 'pending'), m.ownerDir, undefined],
    [join(root, d.history), m.publicDir, undefined],
    [join(root, d.locks), m.ownerDir, undefined],
  ];
  for (const [dir, mode, group] of dirs) {
    try {
      await mkdir(dir, { mode: mode & 0o700 });
      if (group !== undefined) await chown(dir, -1, group);
      await chmod(dir, mode);
      continue;
    } catch (e) {
      if (isCode(e, 'ENOENT') && dir === root) {
        // The umask narrows the mode of a new directory: set it, as for the others.
        await mkdir(dir, { recursive: true, mode })
          .then(() => chmod(dir, mode))
          .catch((e2: unknown) => {
            throw ioError(e2, 'create the directory', dir);
          });
        continue;
      }
      if (!isCode(e, 'EEXIST')) throw ioError(e, 'create the directory', dir);
    }
    // An existing root keeps its mode (it may be a shared directory); the audit reports it when others
    // may write into it.
    if (dir !== root) await fixMode(dir, mode, group, fixes);
  }
}

/**
 * Gives an existing file or directory its mode and group, and records what changed. With `fixes` (a
 * repair, not an install) root also takes back what another user owns.
 */
async function fixMode(
  path: string,
  mode: number,
  gid: number | undefined,
  fixes?: PermissionFix[],
): Promise<void> {
  try {
    const s = await lstat(path);
    if (s.isSymbolicLink()) return;
    if (gid !== undefined && s.gid !== gid) {
      await chown(path, -1, gid);
      fixes?.push({ path, change: `chgrp ${gid} (was ${s.gid})` });
    }
    const euid = process.geteuid?.();
    if (fixes !== undefined && euid === 0 && s.uid !== 0) {
      // Owned by another user, who could replace what servers load: root takes it back.
      await chown(path, 0, -1);
      fixes?.push({ path, change: `chown root (was uid ${s.uid})` });
    }
    const want = mode;
    if ((s.mode & 0o7777) !== want) {
      await chmod(path, want);
      fixes?.push({ path, change: `chmod ${octal(want)} (was ${octal(s.mode)})` });
    }
  } catch (e) {
    if (isCode(e, 'ENOENT')) return;
    throw ioError(e, 'set the mode of', path);
  }
}

/**
 * Gives one domain's history its modes: `history/<name>/` and every version directory 0755 (servers
 * follow `certs/<name>.crt` through them), certificates 0644, each version's key 0600, or 0640 owned by
 * the key group.
 */
export async function fixDomainModes(
  ctx: ModeContext,
  paths: StorePaths,
  fixes?: PermissionFix[],
): Promise<void> {
  const gid = await ctx.keyGroup();
  const m = STORE_MODES;
  await fixMode(paths.history, m.publicDir, undefined, fixes);
  for (const id of await versionIds(paths)) {
    const dir = join(paths.history, id);
    await fixMode(dir, m.publicDir, undefined, fixes);
    await fixMode(join(dir, VERSION_FILES.key), gid === undefined ? m.key : m.keyGroup, gid, fixes);
    for (const f of [VERSION_FILES.cert, VERSION_FILES.caBundle, VERSION_FILES.meta])
      await fixMode(join(dir, f), m.publicFile, undefined, fixes);
  }
}

/** Applies the store's modes and key group to everything in it; see `CertificateStore.fixPermissions`. */
export async function fixPermissions(ctx: ModeContext): Promise<PermissionFix[]> {
  const { root } = ctx;
  const fixes: PermissionFix[] = [];
  await ensureDirectories(ctx, fixes);
  const gid = await ctx.keyGroup();
  const m = STORE_MODES;
  for (const entry of await readdirOrEmpty(join(root, STORE_DIRECTORIES.history))) {
    if (isTemporaryName(entry) !== undefined) continue;
    let name: StoreName;
    try {
      name = storeName(entry);
    } catch (e) {
      if (e instanceof StoreError) continue;
      throw e;
    }
    const paths = storePaths(root, name.domain);
    if ((await lstat(paths.history).catch(() => undefined))?.isDirectory() !== true) continue;
    await fixDomainModes(ctx, paths, fixes);
  }
  const files: [string, string, number, number | undefined][] = [
    [STORE_DIRECTORIES.private, '.key', gid === undefined ? m.key : m.keyGroup, gid],
    [join(STORE_DIRECTORIES.private, 'pending'), '.key', m.key, undefined],
    [STORE_DIRECTORIES.certs, '', m.publicFile, undefined],
    [STORE_DIRECTORIES.csr, '.csr', m.publicFile, undefined],
  ];
  for (const [dir, ext, mode, group] of files)
    for (const entry of await readdirOrEmpty(join(root, dir))) {
      if (!entry.endsWith(ext) || isTemporaryName(entry) !== undefined) continue;
      const path = join(root, dir, entry);
      if ((await lstat(path).catch(() => undefined))?.isFile() === true)
        await fixMode(path, mode, group, fixes);
    }
  return fixes;
}
