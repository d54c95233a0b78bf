/**
 * The CSRs a certificate store holds (`csr/<name>.csr`) and whether each still waits for its certificate
 * (its key is in `private/pending/`), for the web administrator's domain list. Only public files are read:
 * never a key, only whether a pending key exists.
 *
 * @module node/settings/store-csr
 */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../../errors.js';
import { isCode } from '../store/atomic-write.js';
import { storePaths, WILDCARD_PREFIX } from '../store/layout.js';
import { readCSRText } from './read-bounded.js';

/** One CSR of a store. */
export interface StoreCSR {
  /** The domain, canonical (`*.example.com` for a wildcard). */
  readonly domain: string;
  /** Whether its key is still pending (the certificate has not been installed yet). */
  readonly pending: boolean;
}

/**
 * The CSRs of a store, sorted by domain.
 * @throws StoreError `ERR_STORE_IO`.
 * @example `for (const c of await listStoreCSRs(root)) if (c.pending) console.log(c.domain)`
 */
export async function listStoreCSRs(root: string): Promise<StoreCSR[]> {
  let names: string[];
  try {
    names = await readdir(join(root, 'csr'));
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw new StoreError('ERR_STORE_IO', `cannot read ${join(root, 'csr')}`, { cause: e });
  }
  const out: StoreCSR[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.csr') || name.startsWith('.')) continue;
    const file = name.slice(0, -4);
    const domain = file.startsWith(WILDCARD_PREFIX) ? `*.${file.slice(WILDCARD_PREFIX.length)}` : file;
    let pending = true;
    try {
      await access(storePaths(root, domain).pendingKey);
    } catch {
      pending = false;
    }
    out.push({ domain, pending });
  }
  return out;
}

/**
 * The PEM text of a domain's CSR, or undefined when the store has none.
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN`, `ERR_STORE_IO`.
 * @example `const pem = await readStoreCSR(root, 'example.com')`
 */
export async function readStoreCSR(root: string, domain: string): Promise<string | undefined> {
  return readCSRText(storePaths(root, domain).csr);
}
