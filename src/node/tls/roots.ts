/**
 * Node's bundled root certificates (`tls.rootCertificates`, Mozilla's CA list as shipped with this Node
 * version) as trust anchors for {@link verifyChain} and {@link assembleChain}. The pure modules never import
 * `node:tls`; this adapter does, and parses the roots once per process.
 *
 * @module node/tls/roots
 */
import { rootCertificates } from 'node:tls';
import { type AssembleChainOptions, type AssembledChain, assembleChain } from '../../chain/chain.js';
import {
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  type VerifyChainOptions,
  verifyChain,
} from '../../chain/verify-chain.js';
import type { CertificateInput, CertificateSource } from '../../internal/chain/certificate-index.js';
import { type Certificate, parseCertificate } from '../../x509/certificate.js';

let roots: readonly Certificate[] | undefined;
let store: TrustStore | undefined;

/**
 * The root certificates Node trusts by default (`tls.rootCertificates`), parsed once and cached.
 *
 * @throws Never in practice (Node's own roots parse); a CertificateError would mean a broken Node build.
 * @example
 * ```ts
 * import { nodeRootCertificates } from 'mailtls/node';
 * console.log(nodeRootCertificates().length); // about 140
 * ```
 */
export function nodeRootCertificates(): readonly Certificate[] {
  if (roots === undefined) roots = Object.freeze(rootCertificates.map((pem) => parseCertificate(pem)));
  return roots;
}

/**
 * Node's default roots as a {@link TrustStore}, indexed once and cached: pass it as `roots`.
 *
 * @throws Never in practice (see {@link nodeRootCertificates}).
 * @example
 * ```ts
 * await verifyChain(fullchainPEM, { roots: nodeTrustStore(), host: 'mail.example.com' });
 * ```
 */
export function nodeTrustStore(): TrustStore {
  if (store === undefined) store = createTrustStore(nodeRootCertificates());
  return store;
}

/**
 * {@link verifyChain} with Node's default roots when `roots` is not given.
 *
 * @throws The errors of {@link verifyChain}.
 * @example
 * ```ts
 * const chain = await verifyChainWithNodeRoots(fullchainPEM, { host: 'mail.example.com' });
 * ```
 */
export function verifyChainWithNodeRoots(
  leaf: CertificateInput,
  options: Omit<VerifyChainOptions, 'roots'> & { roots?: TrustStore | CertificateSource | undefined } = {},
): Promise<VerifiedChain> {
  return verifyChain(leaf, { ...options, roots: options.roots ?? nodeTrustStore() });
}

/**
 * {@link assembleChain} with Node's default roots when `roots` is not given, so that a chain ending at a
 * public root is recognised as complete.
 *
 * @throws The errors of {@link assembleChain}.
 * @example
 * ```ts
 * const chain = await assembleChainWithNodeRoots(certPEM, resellerBundlePEM);
 * if (!chain.complete) console.warn(chain.problems.map((p) => p.message).join('\n'));
 * ```
 */
export function assembleChainWithNodeRoots(
  leaf: CertificateInput,
  pool: CertificateSource,
  options: AssembleChainOptions = {},
): Promise<AssembledChain> {
  return assembleChain(leaf, pool, { ...options, roots: options.roots ?? nodeTrustStore() });
}
