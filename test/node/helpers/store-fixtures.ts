/**
 * Fixtures of the store tests: a test CA (root + intermediate, EC P-256, fixed dates) made with mailtls'
 * own issuing code, leaves for any names and dates, scratch directories, and a hash of a whole directory
 * tree (names, types, modes, link targets and contents) to prove that a refused operation wrote nothing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrivateKey } from '../../../src/keys/keys.js';
import { createCSR } from '../../../src/x509/csr.js';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  issueCertificate,
} from '../../../src/x509/issue.js';

/** The fixed clock of the store tests: inside every default validity period. */
export const AT = new Date('2027-06-01T12:00:00Z');
/** Default validity of test certificates. */
export const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2030-01-01T00:00:00Z');

/** A CA: root, intermediate, and the PEM a reseller would send as the CA bundle. */
export interface TestCA {
  readonly ca: CertificateAuthorityHierarchy;
  readonly rootPEM: string;
  readonly intermediatePEM: string;
  /** Intermediate then root: a typical `.ca-bundle`. */
  readonly bundlePEM: string;
}

let caPromise: Promise<TestCA> | undefined;

/** The process-wide test CA. */
export function testCA(): Promise<TestCA> {
  caPromise ??= (async () => {
    const ca = await createCertificateAuthority({
      name: { organization: 'mailtls store tests', commonName: 'Store Test Root' },
      intermediate: true,
      keyType: 'ec',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2040-01-01T00:00:00Z'),
    });
    const intermediatePEM = ca.intermediate!.certPEM;
    return { ca, rootPEM: ca.root.certPEM, intermediatePEM, bundlePEM: intermediatePEM + ca.root.certPEM };
  })();
  return caPromise;
}

/** A leaf issued by the test CA. */
export interface TestLeafCert {
  /** The leaf alone. */
  readonly certPEM: string;
  /** Leaf + intermediate. */
  readonly chainPEM: string;
  readonly key: PrivateKey;
  readonly keyPEM: string;
}

/** Issues a leaf for `names` (the first is the CN) with a new key, or the given CSR's key. */
export async function issueLeaf(
  names: readonly string[],
  options: { notBefore?: Date; notAfter?: Date; csrPEM?: string; keyType?: 'ec' | 'rsa' } = {},
): Promise<TestLeafCert> {
  const { ca } = await testCA();
  const [commonName, ...rest] = names;
  let csrPEM = options.csrPEM;
  let key: PrivateKey | undefined;
  let keyPEM = '';
  if (csrPEM === undefined) {
    const csr = await createCSR({
      subject: { commonName: commonName! },
      hostnames: rest,
      keyType: options.keyType ?? 'ec',
    });
    csrPEM = csr.csrPEM;
    key = csr.key;
    keyPEM = csr.keyPEM;
  }
  const issued = await issueCertificate(csrPEM, ca.issuer, {
    notBefore: options.notBefore ?? NOT_BEFORE,
    notAfter: options.notAfter ?? NOT_AFTER,
  });
  return { certPEM: issued.certPEM, chainPEM: issued.chainPEM, key: key!, keyPEM };
}

/** A scratch directory under the system temp dir (unique, so parallel helpers never collide). */
export function scratch(prefix = 'mailtls-store-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * SHA-256 over a directory tree: every entry's relative path, type, permission bits, link target or
 * content hash, in sorted order. Equal hashes mean nothing was created, removed, changed or chmod-ed.
 */
export function treeHash(root: string): string {
  const h = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const s = lstatSync(p);
      const mode = (s.mode & 0o7777).toString(8);
      if (s.isSymbolicLink()) h.update(`L ${r} ${readlinkSync(p)}\n`);
      else if (s.isDirectory()) {
        h.update(`D ${r} ${mode}\n`);
        walk(p, r);
      } else h.update(`F ${r} ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}\n`);
    }
  };
  h.update(`root ${(lstatSync(root).mode & 0o7777).toString(8)}\n`);
  walk(root, '');
  return h.digest('hex');
}

/** Permission bits of a path (following links), as `stat` reports them. */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}
