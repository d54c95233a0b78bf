/**
 * Trusted roots remembered per domain: `mailtls install --trust ROOT` (and `pfx import --store --trust`)
 * keeps the root that the installed chain ends at in `<store>/trust/<domain>.pem`, so that a later
 * `mailtls check` judges that domain's chain against it without `--trust` (no "untrusted root" warning for a
 * private reseller root it was installed with). Other domains are not affected: a root remembered for one
 * domain is never trusted for another. `store remove --purge` forgets it.
 *
 * @module cli/trust
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assembleChain,
  type Certificate,
  createTrustStore,
  encodePEM,
  parseCertificateBundle,
} from '../index.js';
import { type InstallResult, storeName } from '../node/index.js';
import { readInput, writeOutput } from './files.js';

/** The directory of the remembered roots, inside the store. */
export const TRUST_DIRECTORY = 'trust';

/** The file that holds the remembered roots of `domain`. */
export function trustFile(store: string, domain: string): string {
  return join(store, TRUST_DIRECTORY, `${storeName(domain).fileName}.pem`);
}

/**
 * Remembers the root of `--trust` that the installed chain ends at (none when it ends elsewhere); the file it
 * wrote, if any.
 */
export async function rememberTrust(
  store: string,
  result: InstallResult,
  trust: readonly Certificate[],
): Promise<string | undefined> {
  if (trust.length === 0) return undefined;
  const chain = await assembleChain(result.leaf, result.chain.slice(1), {
    roots: createTrustStore([...trust]),
  });
  if (chain.trusted !== true || chain.root === undefined) return undefined;
  const dir = join(store, TRUST_DIRECTORY);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = trustFile(store, result.domain);
  writeOutput(file, encodePEM('CERTIFICATE', chain.root.der), { force: true });
  return file;
}

/** Forgets the roots remembered for `domain`. */
export function forgetTrust(store: string, domain: string): void {
  rmSync(trustFile(store, domain), { force: true });
}

/** The remembered roots of every domain of the store (a file that cannot be read is skipped). */
export function rememberedTrust(store: string): Map<string, Certificate[]> {
  const found = new Map<string, Certificate[]>();
  let names: string[] = [];
  try {
    names = readdirSync(join(store, TRUST_DIRECTORY));
  } catch {
    return found;
  }
  for (const name of names) {
    if (!name.endsWith('.pem') || name.startsWith('.')) continue;
    try {
      const domain = storeName(name.slice(0, -4)).domain;
      const certs = parseCertificateBundle(
        readInput(join(store, TRUST_DIRECTORY, name), 'remembered trust file'),
      ).certificates;
      found.set(domain, [...certs]);
    } catch {
      // not a domain's file, or unreadable: not remembered
    }
  }
  return found;
}
