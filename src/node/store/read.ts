/**
 * The reading side of the certificate store: the pair in service (through `current`, or hand-placed
 * files), the domains it holds, and the stored keys the install planner asks for. Readers take no lock:
 * a reader sees the old pair or the new pair because writers swap one link.
 *
 * @module node/store/read
 * Not public API: no subpath exports it.
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { StoreError } from '../../errors.js';
import { isTemporaryName } from './atomic-write.js';
import { fileSignature, type RawPair } from './credential.js';
import { exists, ioError, readdirOrEmpty, readIfExists, readLinkIfExists, resolves } from './io.js';
import {
  STORE_DIRECTORIES,
  type StoreName,
  type StorePaths,
  storeName,
  storePaths,
  VERSION_FILES,
  WILDCARD_PREFIX,
} from './layout.js';
import type { StoredKeyFile, StoredKeys } from './plan.js';

/** The texts of the pair in service for a domain, and the version they belong to. */
export async function readPair(root: string, name: StoreName, paths: StorePaths): Promise<RawPair> {
  const current = await readLinkIfExists(paths.current);
  if (current !== undefined) {
    const dir = join(paths.history, current);
    const [certText, keyText] = await Promise.all([
      readFile(join(dir, VERSION_FILES.cert), 'utf8'),
      readFile(join(dir, VERSION_FILES.key), 'utf8'),
    ]);
    const hasCa = await exists(join(dir, VERSION_FILES.caBundle));
    return {
      certText,
      keyText,
      version: current,
      files: { cert: paths.cert, key: paths.key, ...(hasCa ? { ca: paths.caBundle } : {}) },
    };
  }
  const certText = await readIfExists(paths.cert);
  const keyText = await readIfExists(paths.key);
  if (certText === undefined || keyText === undefined)
    throw notFoundError(root, name, paths, certText, keyText);
  return {
    certText,
    keyText,
    version: await fileSignature([paths.cert, paths.key]),
    files: { cert: paths.cert, key: paths.key },
  };
}

/** `ERR_STORE_NOT_FOUND` for a domain, saying which half is missing and how to install it. */
export function notFoundError(
  root: string,
  name: StoreName,
  paths: StorePaths,
  certText?: string,
  keyText?: string,
): StoreError {
  const what =
    certText === undefined && keyText === undefined
      ? `no certificate and key for ${name.domain}`
      : certText === undefined
        ? `a key but no certificate for ${name.domain} (${relative(root, paths.cert)} is missing)`
        : `a certificate but no key for ${name.domain} (${relative(root, paths.key)} is missing)`;
  return new StoreError(
    'ERR_STORE_NOT_FOUND',
    `The store at ${root} has ${what}. Install it with store.install() or ` +
      `mailtls install --store ${root} --cert <certificate> --chain <CA bundle>.`,
    { details: { domain: name.domain } },
  );
}

/** Options of the store's `list`. */
export interface StoreListOptions {
  /** Answer at most this many domains (the first ones by name); default all. */
  limit?: number | undefined;
}

/**
 * A file name in the store's own spelling: lower-case LDH labels, no empty label, no trailing dot, with
 * `_wildcard.` in front for a wildcard. Such a name is canonical already when it is valid at all.
 */
const STORE_SPELLING = /^(?:_wildcard\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;

/**
 * The store's `has`: whether a domain has a pair in service ({@link holdsDomain}); false for a name the
 * store could not hold (names sent by clients), `ERR_STORE_IO`/`ERR_STORE_PERMISSIONS` when unreadable.
 */
export async function hasPair(root: string, domain: string): Promise<boolean> {
  let name: StoreName;
  try {
    name = storeName(domain);
  } catch (e) {
    if (e instanceof StoreError) return false;
    throw e;
  }
  try {
    return await holdsDomain(root, name);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw ioError(e, 'read', storePaths(root, name.domain).cert);
  }
}

/**
 * Whether a domain has a pair in service: managed (its `current` link exists), or hand-placed (both
 * `certs/<name>.crt` and `private/<name>.key` lead to a file; dangling links, as left by a remove() half-way,
 * are no pair, as load() says). One `readlink`, plus two `stat`s for a domain that is not managed.
 */
export async function holdsDomain(root: string, name: StoreName): Promise<boolean> {
  const paths = storePaths(root, name.domain);
  if ((await readLinkIfExists(paths.current)) !== undefined) return true;
  return (await resolves(paths.cert)) && (await resolves(paths.key));
}

/**
 * The domains with a pair in service (managed, or hand-placed), sorted. The names come from two directory
 * listings (`history/` and `certs/`); each is then checked with {@link holdsDomain}, in order, until `limit`
 * domains are found, so the first few of a large store cost a few system calls each, not one per domain.
 *
 * @throws RangeError for a `limit` that is not a positive integer; TypeError for options that are no object.
 */
export async function listDomains(root: string, options: StoreListOptions = {}): Promise<string[]> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (options.limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new RangeError('limit must be a positive integer');
  // Each entry is filed under its sort key, the domain it names. An entry in the store's own spelling
  // (lower-case LDH labels, `_wildcard.` for a wildcard) is either invalid or names exactly that domain, so
  // it is checked only when its turn comes: the first few of a large store do not validate every name.
  // Any other spelling (upper case, Unicode, a trailing dot) is canonicalised now to find its place.
  const candidates = new Map<string, { entry: string; name?: StoreName; managed: boolean }>();
  const add = (entry: string, managed: boolean, check = false): void => {
    let key: string;
    let name: StoreName | undefined;
    if (!check && STORE_SPELLING.test(entry)) {
      key = entry.startsWith(WILDCARD_PREFIX) ? `*.${entry.slice(WILDCARD_PREFIX.length)}` : entry;
    } else {
      try {
        name = storeName(entry);
      } catch (e) {
        if (e instanceof StoreError) return;
        throw e;
      }
      key = name.domain;
    }
    const known = candidates.get(key);
    if (known === undefined)
      candidates.set(key, name === undefined ? { entry, managed } : { entry, name, managed });
    else if (managed && !known.managed) candidates.set(key, { ...known, managed });
  };
  for (const entry of await readdirOrEmpty(join(root, STORE_DIRECTORIES.history)))
    if (isTemporaryName(entry) === undefined) add(entry, true);
  for (const entry of await readdirOrEmpty(join(root, STORE_DIRECTORIES.certs)))
    if (entry.endsWith('.crt') && isTemporaryName(entry) === undefined) add(entry.slice(0, -4), false);
  let found: string[] = [];
  for (let keys = [...candidates.keys()].sort(), i = 0; i < keys.length && found.length < limit; i++) {
    const key = keys[i]!;
    const candidate = candidates.get(key)!;
    let name = candidate.name;
    if (name === undefined) {
      try {
        name = storeName(candidate.entry);
      } catch (e) {
        if (e instanceof StoreError) continue;
        throw e;
      }
      if (name.domain !== key) {
        // Not expected (STORE_SPELLING names are canonical): file every entry under its checked domain and
        // start over, so the order stays right.
        const all = [...candidates.values()];
        candidates.clear();
        for (const c of all) add(c.entry, c.managed, true);
        keys = [...candidates.keys()].sort();
        i = -1;
        found = [];
        continue;
      }
    }
    const paths = storePaths(root, name.domain);
    // A history directory without `current` (a remove() that kept the history) may still have hand-placed
    // files; a name seen only in certs/ is checked as hand-placed.
    if (
      (candidate.managed && (await readLinkIfExists(paths.current)) !== undefined) ||
      ((await resolves(paths.cert)) && (await resolves(paths.key)))
    )
      found.push(name.domain);
  }
  return found;
}

/** The keys a store holds, read from its files when the install planner asks. */
export function storedKeys(root: string): StoredKeys {
  return {
    forName: async (name) => {
      const paths = storePaths(root, name.domain);
      const current = await readLinkIfExists(paths.current);
      const places: [string, StoredKeyFile['source']][] = [[paths.pendingKey, 'pending']];
      if (current !== undefined) places.push([join(paths.history, current, VERSION_FILES.key), 'current']);
      else places.push([paths.key, 'unmanaged']);
      const out: StoredKeyFile[] = [];
      for (const [path, source] of places) {
        const text = await readIfExists(path);
        if (text !== undefined) out.push({ text, path, source });
      }
      return out;
    },
    otherPending: async (name) => {
      const dir = join(root, STORE_DIRECTORIES.private, 'pending');
      const out: (StoredKeyFile & { name: StoreName })[] = [];
      for (const entry of await readdirOrEmpty(dir)) {
        if (
          !entry.endsWith('.key') ||
          entry === `${name.fileName}.key` ||
          isTemporaryName(entry) !== undefined
        )
          continue;
        let other: StoreName;
        try {
          other = storeName(entry.slice(0, -4));
        } catch (e) {
          if (e instanceof StoreError) continue;
          throw e;
        }
        const path = join(dir, entry);
        const text = await readIfExists(path);
        if (text !== undefined) out.push({ text, path, source: 'pending', name: other });
      }
      return out;
    },
  };
}
