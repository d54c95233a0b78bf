/**
 * A bounded read of a small public file (a CSR).
 *
 * @module node/settings/read-bounded
 */
import { open } from 'node:fs/promises';
import { StoreError } from '../../errors.js';
import { isCode } from '../store/atomic-write.js';

/** A CSR is a few kilobytes; anything over this is not one. */
const MAX_CSR = 64 * 1024;

/**
 * The text of a file of at most 64 KiB, or undefined when it does not exist.
 * @throws StoreError `ERR_STORE_IO` (also for a larger file).
 * @example `await readCSRText('/srv/tls/csr/example.com.csr')`
 */
export async function readCSRText(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return undefined;
    throw new StoreError('ERR_STORE_IO', `cannot read ${path}`, { cause: e });
  }
  try {
    const buf = Buffer.alloc(MAX_CSR + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_CSR)
        throw new StoreError('ERR_STORE_IO', `${path} is larger than ${MAX_CSR} bytes: it is not a CSR.`);
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await handle.close();
  }
}
