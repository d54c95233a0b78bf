/**
 * The public entry point `mailtls/verify-chain`: the names of `src/chain/verify-chain.ts` that users may rely on.
 * The module itself also exports helpers that sibling modules share (tagged internal in their TSDoc); listing
 * the public names here keeps those out of the package's subpath.
 *
 * @module verify-chain
 */
export {
  type CertificateInput,
  type CertificateSource,
  type ChainFailureReason,
  type ChainPurpose,
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  type VerifyChainOptions,
  verifyChain,
} from '../chain/verify-chain.js';
