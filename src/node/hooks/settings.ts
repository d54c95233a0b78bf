/**
 * The store's settings file, `<root>/settings.json`: what the store keeps besides certificates, today the
 * deploy hooks (commands run after every install, rollback and renewal).
 *
 * The hooks run with the rights of whoever writes the store (root, for a system store), so the file is
 * trusted only when nobody else could have written it: it must belong to root or to the user running
 * mailtls and not be writable by group or others. It is written atomically, 0644.
 *
 * @module node/hooks/settings
 */
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../../errors.js';
import { isCode, saveFileAtomic } from '../store/atomic-write.js';

/** The settings file's name under the store root. */
export const STORE_SETTINGS_FILE = 'settings.json';

/** The largest settings file read. */
const MAX_SETTINGS_BYTES = 256 * 1024;

/** What the store keeps in `settings.json`. */
export interface StoreSettings {
  /** Shell commands run after every install, rollback and renewal, in order (see `runDeployHooks`). */
  readonly deployHooks: readonly string[];
}

function settingsError(path: string, why: string, cause?: unknown): StoreError {
  return new StoreError('ERR_STORE_SETTINGS', `The store's settings file ${path} ${why}`, {
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A deploy hook command as stored: a non-empty single line. */
function checkCommand(command: unknown): string {
  if (typeof command !== 'string' || command.trim() === '')
    throw new TypeError('a deploy hook must be a command line');
  if (/[\0\r\n]/.test(command))
    throw new TypeError('a deploy hook must be a single line (no NUL or line break)');
  if (command.length > 4096) throw new RangeError('a deploy hook command is limited to 4096 characters');
  return command;
}

/**
 * Reads `<root>/settings.json`; a store without one has no hooks.
 *
 * @throws StoreError `ERR_STORE_SETTINGS` when the file is not valid JSON of the expected shape, is larger
 *   than 256 KiB, is a symbolic link, or could have been written by someone else (owned by another user
 *   than root or the current one, or writable by group or others: fix with `chown root FILE; chmod 644 FILE`).
 * @example
 * ```ts
 * const { deployHooks } = await loadStoreSettings('/etc/mail/tls');
 * ```
 */
export async function loadStoreSettings(root: string): Promise<StoreSettings> {
  const path = join(root, STORE_SETTINGS_FILE);
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return { deployHooks: [] };
    throw settingsError(path, `cannot be read (${(e as Error).message}).`, e);
  }
  if (!st.isFile())
    throw settingsError(path, 'is not a regular file (a symbolic link is refused): replace it by a file.');
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== uid)
    throw settingsError(
      path,
      `belongs to user ${st.uid}: its commands would run as you. Check it, then: chown root ${path}`,
    );
  if ((st.mode & 0o022) !== 0)
    throw settingsError(
      path,
      `is writable by group or others: its commands would run as you. Check it, then: chmod 644 ${path}`,
    );
  if (st.size > MAX_SETTINGS_BYTES) throw settingsError(path, `is larger than ${MAX_SETTINGS_BYTES} bytes.`);
  const handle = await open(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(Math.min(st.size, MAX_SETTINGS_BYTES));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    text = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw settingsError(path, 'is not valid JSON: fix it, or remove it to run no hooks.', e);
  }
  const hooks = (json as { deployHooks?: unknown } | null)?.deployHooks ?? [];
  if (json === null || typeof json !== 'object' || !Array.isArray(hooks))
    throw settingsError(path, 'must be a JSON object like {"deployHooks": ["postfix reload"]}.');
  try {
    return { deployHooks: hooks.map(checkCommand) };
  } catch (e) {
    throw settingsError(path, `holds a bad deploy hook: ${(e as Error).message}.`, e);
  }
}

/**
 * Writes `<root>/settings.json` atomically (0644).
 * @throws TypeError for a bad hook; the `fs` error when the store root cannot be written.
 * @example `await saveStoreSettings('/etc/mail/tls', { deployHooks: ['doveadm reload'] })`
 */
export async function saveStoreSettings(root: string, settings: StoreSettings): Promise<void> {
  const deployHooks = settings.deployHooks.map(checkCommand);
  await saveFileAtomic(join(root, STORE_SETTINGS_FILE), `${JSON.stringify({ deployHooks }, null, 2)}\n`, {
    mode: 0o644,
  });
}

/**
 * Adds a deploy hook to the store's settings (kept for later installs, rollbacks and renewals); a command
 * already there is not added twice. Returns whether it was added.
 * @throws As {@link loadStoreSettings} and {@link saveStoreSettings}.
 * @example `await addDeployHook('/etc/mail/tls', 'postmap -F hash:/etc/postfix/mailtls-sni && postfix reload')`
 */
export async function addDeployHook(root: string, command: string): Promise<boolean> {
  checkCommand(command);
  const { deployHooks } = await loadStoreSettings(root);
  if (deployHooks.includes(command)) return false;
  await saveStoreSettings(root, { deployHooks: [...deployHooks, command] });
  return true;
}

/**
 * Removes a deploy hook from the store's settings. Returns whether it was there.
 * @throws As {@link loadStoreSettings} and {@link saveStoreSettings}.
 * @example `await removeDeployHook('/etc/mail/tls', 'doveadm reload')`
 */
export async function removeDeployHook(root: string, command: string): Promise<boolean> {
  const { deployHooks } = await loadStoreSettings(root);
  if (!deployHooks.includes(command)) return false;
  await saveStoreSettings(root, { deployHooks: deployHooks.filter((c) => c !== command) });
  return true;
}
