/**
 * What the web administrator keeps across restarts, in the store's private area:
 *
 * ```text
 * <root>/admin/sessions.json   { format: 1, sessions: [{ idHash, user, created, seen }] }          0600
 * <root>/admin/probes.json     { format: 1, domains: { "<domain>": { at, results: [...] } } }    0600
 * ```
 *
 * A session is kept under the SHA-256 of its id, never the id itself: reading the file (a backup, a
 * misplaced copy) does not give a cookie that logs in. Its CSRF token is derived from the id, so it is not
 * in the file either. Expiry (idle and absolute) is checked against the times written, so a restart neither
 * revives an expired session nor logs everyone out. Both files are replaced atomically (written under a
 * temporary name, synced, renamed), so a crash leaves the old or the new file, never half of one; a damaged
 * file is read as empty (everyone logs in again, the probes are run again), never as an error that stops the
 * administrator.
 *
 * @module node/settings/admin-state
 */
import { join } from 'node:path';
import { StoreError } from '../../errors.js';
import { saveFileAtomic } from '../store/atomic-write.js';
import { withLock } from '../store/lock.js';
import { ensureAdminDir, readSmall } from './admin-files.js';

/** At most this many sessions are written (the most recently seen). */
const MAX_SESSIONS = 1000;
/** At most this many domains keep their last probe. */
const MAX_PROBED_DOMAINS = 5000;
const MAX_FILE = 4 << 20;

/** A session as written: the hash of its id, never the id. */
export interface StoredAdminSession {
  /** SHA-256 of the session id, base64url. */
  readonly idHash: string;
  /** The administrator. */
  readonly user: string;
  /** Login time, milliseconds since the epoch. */
  readonly created: number;
  /** Last request, milliseconds since the epoch (written at most once a minute per session). */
  readonly seen: number;
}

/** One port's result of a "test now". */
export interface StoredPortProbe {
  /** The service probed (`smtp`, `imaps`...). */
  readonly service: string;
  /** What was probed, e.g. `imaps://mail.example.com:993`. */
  readonly url: string;
  /** Chain valid, names match, and the store's certificate served. */
  readonly ok: boolean;
  /** One line for the administrator. */
  readonly summary: string;
}

/** The last "test now" of a domain. */
export interface StoredDomainProbe {
  /** When it ran (ISO 8601). */
  readonly at: string;
  /** One row per enabled port. */
  readonly results: readonly StoredPortProbe[];
}

async function readJSON(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readSmall(path, MAX_FILE);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

async function write(path: string, value: unknown): Promise<void> {
  try {
    await saveFileAtomic(path, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  } catch (e) {
    throw new StoreError('ERR_STORE_IO', `cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
    });
  }
}

/**
 * The sessions written by {@link saveAdminSessions}; malformed entries (or a damaged file) are left out.
 * @throws StoreError `ERR_STORE_IO` when the file cannot be read.
 * @example `const sessions = await loadAdminSessions('/etc/mail/tls')`
 */
export async function loadAdminSessions(root: string): Promise<StoredAdminSession[]> {
  const v = await readJSON(join(root, 'admin', 'sessions.json'));
  const list = v?.format === 1 && Array.isArray(v.sessions) ? (v.sessions as unknown[]) : [];
  const out: StoredAdminSession[] = [];
  for (const s of list) {
    const r = s as Record<string, unknown>;
    if (
      typeof r === 'object' &&
      r !== null &&
      typeof r.idHash === 'string' &&
      /^[A-Za-z0-9_-]{43}$/.test(r.idHash) &&
      typeof r.user === 'string' &&
      Number.isFinite(r.created) &&
      Number.isFinite(r.seen)
    )
      out.push({ idHash: r.idHash, user: r.user, created: r.created as number, seen: r.seen as number });
  }
  return out;
}

/**
 * Replaces the sessions file (0600, atomic) with `sessions` (the most recently seen {@link MAX_SESSIONS}).
 * @throws StoreError `ERR_STORE_IO`.
 * @example `await saveAdminSessions(root, [{ idHash: hashSessionId(id), user, created, seen }])`
 */
export async function saveAdminSessions(
  root: string,
  sessions: readonly StoredAdminSession[],
): Promise<void> {
  const dir = await ensureAdminDir(root);
  const kept = [...sessions].sort((a, b) => b.seen - a.seen).slice(0, MAX_SESSIONS);
  await write(join(dir, 'sessions.json'), {
    format: 1,
    sessions: kept.map((s) => ({ idHash: s.idHash, user: s.user, created: s.created, seen: s.seen })),
  });
}

/**
 * The last probe of each domain, as written by {@link saveAdminProbe}.
 * @throws StoreError `ERR_STORE_IO` when the file cannot be read.
 * @example `(await loadAdminProbes(root))['example.com']?.results`
 */
export async function loadAdminProbes(root: string): Promise<Map<string, StoredDomainProbe>> {
  const v = await readJSON(join(root, 'admin', 'probes.json'));
  const domains = v?.format === 1 && typeof v.domains === 'object' && v.domains !== null ? v.domains : {};
  const out = new Map<string, StoredDomainProbe>();
  for (const [domain, p] of Object.entries(domains as Record<string, unknown>)) {
    const r = p as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r.at !== 'string' || !Array.isArray(r.results))
      continue;
    const results = (r.results as unknown[]).filter(
      (x): x is StoredPortProbe =>
        typeof x === 'object' &&
        x !== null &&
        typeof (x as StoredPortProbe).service === 'string' &&
        typeof (x as StoredPortProbe).url === 'string' &&
        typeof (x as StoredPortProbe).ok === 'boolean' &&
        typeof (x as StoredPortProbe).summary === 'string',
    );
    out.set(domain, { at: r.at, results });
  }
  return out;
}

/**
 * Records the last probe of a domain (read, replace that domain's entry, write atomically, under the store's
 * admin lock so that two administrators do not lose each other's results).
 * @throws StoreError `ERR_STORE_IO`, `ERR_STORE_LOCKED`.
 * @example `await saveAdminProbe(root, 'example.com', { at: new Date().toISOString(), results })`
 */
export async function saveAdminProbe(root: string, domain: string, probe: StoredDomainProbe): Promise<void> {
  const dir = await ensureAdminDir(root);
  await withLock(join(dir, 'probes.lock'), {}, async () => {
    const all = await loadAdminProbes(root);
    all.delete(domain);
    all.set(domain, {
      at: probe.at,
      results: probe.results.map((r) => ({ service: r.service, url: r.url, ok: r.ok, summary: r.summary })),
    });
    // Newest last: drop the oldest domains beyond the bound.
    const entries = [...all].slice(-MAX_PROBED_DOMAINS);
    await write(join(dir, 'probes.json'), { format: 1, domains: Object.fromEntries(entries) });
  });
}
