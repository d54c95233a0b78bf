/**
 * The web administrator's files in a certificate store: its accounts (password hashes) and its audit log.
 *
 * ```text
 * <root>/admin/                 0700
 * <root>/admin/users.json       { "users": { "<name>": { "scrypt": { N, r, p, salt, hash } } } }   0600
 * <root>/admin/audit.log        one JSON object per line: { at, user, action, domain?, detail? }   0600
 * ```
 *
 * Passwords are hashed with scrypt (memory-hard: N = 2^15, r = 8, p = 1, 32 MiB and about 0.1 s per guess on
 * a current core), with a random 16-byte salt; the password itself is never written anywhere. A check against
 * an unknown user name costs the same scrypt run as a known one, so timing does not tell which names exist.
 *
 * @module node/settings/admin-files
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { appendFile, chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SettingsError, StoreError } from '../../errors.js';
import { isCode, saveFileAtomic } from '../store/atomic-write.js';
import { withLock } from '../store/lock.js';

/** scrypt cost parameters written with every new hash. */
export const ADMIN_SCRYPT = Object.freeze({ N: 1 << 15, r: 8, p: 1, keyLength: 32 });

/** The longest password accepted (scrypt takes any length; a bound keeps a request's cost bounded). */
const MAX_PASSWORD = 1024;
/** The shortest password accepted. */
export const MIN_ADMIN_PASSWORD = 12;
const MAX_USERS_FILE = 1 << 20;
const MAX_AUDIT_READ = 4 << 20;

interface StoredHash {
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

interface UsersFile {
  users: Record<string, { scrypt: StoredHash; createdAt: string }>;
}

function adminDir(root: string): string {
  return join(root, 'admin');
}

/**
 * The store's `admin/` directory, made if missing and kept at 0700 (it holds the password hashes, sessions and
 * the audit log).
 * @internal
 */
export async function ensureAdminDir(root: string): Promise<string> {
  const dir = adminDir(root);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  } catch (e) {
    throw new StoreError('ERR_STORE_IO', `cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
    });
  }
  return dir;
}

function runScrypt(
  password: string,
  salt: Buffer,
  h: { N: number; r: number; p: number },
  len: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      len,
      { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

export async function readSmall(path: string, max: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return undefined;
    throw new StoreError('ERR_STORE_IO', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
    });
  }
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, max - n, null);
      if (bytesRead === 0 || n + bytesRead >= max) {
        n += bytesRead;
        break;
      }
      n += bytesRead;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function readUsers(root: string): Promise<UsersFile> {
  const text = await readSmall(join(adminDir(root), 'users.json'), MAX_USERS_FILE);
  if (text === undefined) return { users: {} };
  try {
    const v = JSON.parse(text) as UsersFile;
    if (typeof v !== 'object' || v === null || typeof v.users !== 'object')
      throw new Error('no users object');
    return v;
  } catch (e) {
    throw new SettingsError(
      'ERR_SETTINGS_ADMIN',
      `${join(adminDir(root), 'users.json')} is damaged: run "mailtls admin init --store ${root}" to set the password again.`,
      { cause: e },
    );
  }
}

/** A user name as the administrator accepts it. */
function checkUser(user: string): string {
  if (typeof user !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(user))
    throw new SettingsError(
      'ERR_SETTINGS_ADMIN',
      'An administrator name has 1 to 64 letters, digits, dots, dashes, underscores or @.',
    );
  return user;
}

/** Options of {@link setAdminPassword}. */
export interface SetAdminPasswordOptions {
  /** The account; default `admin`. */
  user?: string | undefined;
  /** The password (never stored; at least {@link MIN_ADMIN_PASSWORD} characters). */
  password: string;
  /** The clock; default now. */
  at?: Date | undefined;
}

/**
 * Creates an administrator account, or sets a new password for it: stores an scrypt hash in
 * `<root>/admin/users.json` (0600 in a 0700 directory) and notes it in the audit log.
 *
 * @throws SettingsError `ERR_SETTINGS_ADMIN` for a bad user name or a password shorter than
 *   {@link MIN_ADMIN_PASSWORD} characters; StoreError `ERR_STORE_IO`, `ERR_STORE_LOCKED`.
 * @example
 * ```ts
 * await setAdminPassword('/etc/mail/tls', { user: 'admin', password: secret });
 * ```
 */
export async function setAdminPassword(root: string, options: SetAdminPasswordOptions): Promise<void> {
  const user = checkUser(options.user ?? 'admin');
  const { password } = options;
  if (typeof password !== 'string' || password.length < MIN_ADMIN_PASSWORD || password.length > MAX_PASSWORD)
    throw new SettingsError(
      'ERR_SETTINGS_ADMIN',
      `The administrator password must have ${MIN_ADMIN_PASSWORD} to ${MAX_PASSWORD} characters; choose a longer one (a few random words work well).`,
    );
  const dir = await ensureAdminDir(root);
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = ADMIN_SCRYPT;
  const hash = await runScrypt(password, salt, { N, r, p }, keyLength);
  await withLock(join(dir, 'users.lock'), {}, async () => {
    const file = await readUsers(root);
    file.users[user] = {
      scrypt: { N, r, p, salt: salt.toString('base64'), hash: hash.toString('base64') },
      createdAt: (options.at ?? new Date()).toISOString(),
    };
    await saveFileAtomic(join(dir, 'users.json'), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  });
  await appendAdminAudit(root, { user, action: 'set-password', ...(options.at ? { at: options.at } : {}) });
}

/**
 * Whether the store has at least one administrator account.
 * @throws SettingsError `ERR_SETTINGS_ADMIN` (damaged file); StoreError `ERR_STORE_IO`.
 * @example `if (!(await hasAdminUsers(root))) console.error('run mailtls admin init first')`
 */
export async function hasAdminUsers(root: string): Promise<boolean> {
  return Object.keys((await readUsers(root)).users).length > 0;
}

const DUMMY: StoredHash = {
  N: ADMIN_SCRYPT.N,
  r: ADMIN_SCRYPT.r,
  p: ADMIN_SCRYPT.p,
  salt: Buffer.alloc(16).toString('base64'),
  hash: Buffer.alloc(ADMIN_SCRYPT.keyLength).toString('base64'),
};

/**
 * Checks a user name and password against the stored hash. An unknown user costs the same scrypt run.
 *
 * @throws SettingsError `ERR_SETTINGS_ADMIN` (damaged file); StoreError `ERR_STORE_IO`.
 * @example `if (await verifyAdminPassword(root, 'admin', given)) startSession()`
 */
export async function verifyAdminPassword(root: string, user: string, password: string): Promise<boolean> {
  const file = await readUsers(root);
  const known =
    typeof user === 'string' && Object.hasOwn(file.users, user) ? file.users[user]?.scrypt : undefined;
  const h = known ?? DUMMY;
  const pw = typeof password === 'string' ? password.slice(0, MAX_PASSWORD) : '';
  const want = Buffer.from(h.hash, 'base64');
  // Cost parameters come from our own 0600 file; bound them anyway so a damaged file cannot take all memory.
  if (!(h.N <= 1 << 20 && h.r <= 32 && h.p <= 16 && want.length >= 16 && want.length <= 64)) return false;
  const got = await runScrypt(pw, Buffer.from(h.salt, 'base64'), h, want.length);
  return timingSafeEqual(got, want) && known !== undefined;
}

/** One line of the audit log. */
export interface AdminAuditEntry {
  /** When; default now. */
  readonly at?: Date | undefined;
  /** Who (the administrator's name, or what `authorize` returned). */
  readonly user: string;
  /** What: `login`, `login-failed`, `create-csr`, `install`, `rollback`, `settings`, `probe`, `set-password`... */
  readonly action: string;
  /** The domain concerned, if any. */
  readonly domain?: string | undefined;
  /** More facts (a version, a revision, a fingerprint); never secrets. */
  readonly detail?: string | undefined;
}

/** A line of the audit log as read back. */
export interface AdminAuditRecord {
  /** ISO 8601. */
  readonly at: string;
  /** Who. */
  readonly user: string;
  /** What. */
  readonly action: string;
  /** The domain, if any. */
  readonly domain?: string | undefined;
  /** More facts. */
  readonly detail?: string | undefined;
}

/**
 * Appends one line to `<root>/admin/audit.log` (0600; one `write` with `O_APPEND`, so lines of concurrent
 * writers do not interleave).
 *
 * @throws StoreError `ERR_STORE_IO`.
 * @example `await appendAdminAudit(root, { user: 'admin', action: 'install', domain: 'example.com' })`
 */
export async function appendAdminAudit(root: string, entry: AdminAuditEntry): Promise<void> {
  const dir = adminDir(root);
  const clip = (s: string | undefined) => (s === undefined ? undefined : s.slice(0, 500));
  const line = JSON.stringify({
    at: (entry.at ?? new Date()).toISOString(),
    user: clip(entry.user),
    action: clip(entry.action),
    ...(entry.domain === undefined ? {} : { domain: clip(entry.domain) }),
    ...(entry.detail === undefined ? {} : { detail: clip(entry.detail) }),
  });
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await appendFile(join(dir, 'audit.log'), `${line}\n`, { mode: 0o600, flag: 'a' });
  } catch (e) {
    throw new StoreError(
      'ERR_STORE_IO',
      `cannot write the audit log in ${dir} (${(e as NodeJS.ErrnoException).code ?? e})`,
      {
        cause: e,
      },
    );
  }
}

/**
 * The last `limit` lines of the audit log (default 100), newest first. Unreadable lines are skipped.
 * @throws StoreError `ERR_STORE_IO`.
 * @example `for (const e of await readAdminAudit(root)) console.log(e.at, e.user, e.action)`
 */
export async function readAdminAudit(
  root: string,
  options: { limit?: number } = {},
): Promise<AdminAuditRecord[]> {
  const path = join(adminDir(root), 'audit.log');
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw new StoreError('ERR_STORE_IO', `cannot read ${path}`, { cause: e });
  }
  let text: string;
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - MAX_AUDIT_READ);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    text = buf.toString('utf8');
  } finally {
    await handle.close();
  }
  const out: AdminAuditRecord[] = [];
  for (const line of text.split('\n').reverse()) {
    if (out.length >= (options.limit ?? 100)) break;
    try {
      const v = JSON.parse(line) as AdminAuditRecord;
      if (typeof v.at === 'string' && typeof v.user === 'string' && typeof v.action === 'string') out.push(v);
    } catch {
      // a partial first line (the read started mid-file) or a damaged line
    }
  }
  return out;
}
