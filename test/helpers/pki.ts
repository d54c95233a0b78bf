/**
 * A throw-away PKI for tests: a root, an intermediate (pathLen 0) and a server leaf for given host names,
 * made with mailtls itself (createCertificateAuthority, createCSR, issueCertificate) instead of checked-in
 * certificates. Dates are fixed (2026-01-01 to 2036-01-01) so that results do not depend on when the
 * certificates were made; pass `TEST_TIME` as the validation time when a test needs a fixed clock.
 * Results are cached per process and per option set: the first call costs a few milliseconds with EC
 * P-256 keys (the default) and about a second with RSA-2048.
 */

import type { PrivateKey } from '../../src/keys/keys.js';
import { createCSR } from '../../src/x509/csr.js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
} from '../../src/x509/issue.js';

/** Start of validity of every test certificate. */
export const TEST_NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
/** End of validity of every test certificate. */
export const TEST_NOT_AFTER = new Date('2036-01-01T00:00:00Z');
/** A moment inside the validity period, for validation at a fixed time. */
export const TEST_TIME = new Date('2027-06-01T12:00:00Z');

/** Options of {@link getTestPKI}. */
export interface TestPKIOptions {
  /** Host names of the leaf; the first is its Common Name. Default `['mail.example.com']`. */
  hostnames?: readonly string[];
  /** IP addresses of the leaf. Default none. */
  ipAddresses?: readonly string[];
  /** Key type of all three certificates: `'ec'` (P-256, default, fast) or `'rsa'` (2048). */
  keyType?: 'ec' | 'rsa';
  /** Also give the leaf extendedKeyUsage clientAuth. */
  clientAuth?: boolean;
}

/** The leaf of a test PKI: certificate, chain and key. */
export interface TestLeaf extends IssuedCertificate {
  readonly key: PrivateKey;
  /** PKCS#8 PEM of the key, unencrypted. */
  readonly keyPEM: string;
}

/** A root, an intermediate and a leaf. */
export interface TestPKI {
  readonly root: CertificateAuthority;
  readonly intermediate: CertificateAuthority;
  /** The leaf; `leaf.chainPEM` is leaf + intermediate (what a server sends). */
  readonly leaf: TestLeaf;
  /** The root certificate PEM (what a client trusts). */
  readonly rootPEM: string;
}

const cache = new Map<string, Promise<TestPKI>>();

/**
 * A root + intermediate + leaf for `hostnames`, cached per process.
 *
 * @example
 * ```ts
 * const pki = await getTestPKI({ hostnames: ['mail.example.com', 'imap.example.com'] });
 * tls.createServer({ key: pki.leaf.keyPEM, cert: pki.leaf.chainPEM });
 * tls.connect({ servername: 'mail.example.com', ca: pki.rootPEM, ... });
 * ```
 */
export function getTestPKI(options: TestPKIOptions = {}): Promise<TestPKI> {
  const hostnames = options.hostnames ?? ['mail.example.com'];
  const ipAddresses = options.ipAddresses ?? [];
  const keyType = options.keyType ?? 'ec';
  const clientAuth = options.clientAuth ?? false;
  const id = JSON.stringify([hostnames, ipAddresses, keyType, clientAuth]);
  let hit = cache.get(id);
  if (hit === undefined) {
    hit = build(hostnames, ipAddresses, keyType, clientAuth);
    cache.set(id, hit);
    hit.catch(() => cache.delete(id));
  }
  return hit;
}

async function build(
  hostnames: readonly string[],
  ipAddresses: readonly string[],
  keyType: 'ec' | 'rsa',
  clientAuth: boolean,
): Promise<TestPKI> {
  const validity = { notBefore: TEST_NOT_BEFORE, notAfter: TEST_NOT_AFTER };
  const ca = await createCertificateAuthority({
    name: { organization: 'mailtls tests', commonName: `mailtls Test Root CA (${keyType})` },
    intermediate: true,
    keyType,
    ...validity,
  });
  const [commonName, ...rest] = hostnames.length > 0 ? hostnames : [ipAddresses[0] ?? 'localhost'];
  const csr = await createCSR({
    subject: { organization: 'mailtls tests', commonName },
    hostnames: rest,
    ipAddresses,
    keyType,
  });
  const leaf = await issueCertificate(csr.csrPEM, ca.issuer, { ...validity, clientAuth });
  return Object.freeze({
    root: ca.root,
    intermediate: ca.intermediate!,
    leaf: Object.freeze({ ...leaf, key: csr.key, keyPEM: csr.keyPEM }),
    rootPEM: ca.root.certPEM,
  });
}
