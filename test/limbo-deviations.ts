/**
 * The x509-limbo cases where mailtls deliberately gives another answer than the suite expects, with the
 * reason. test/limbo.test.ts asserts this list exactly: every case listed must still deviate (with the
 * result given here), and no other case may. Skips are not deviations: they are by feature only
 * (SKIPPED_FEATURES in scripts/limbo.ts).
 */
import type { ActualResult } from '../scripts/limbo.js';
import type { HostnameMatchOptions } from '../src/names/hostname.js';

/** One intended deviation. */
export interface LimboDeviation {
  readonly id: string;
  /** What mailtls answers. */
  readonly actual: ActualResult;
  /** Why. */
  readonly reason: string;
  /** Host-name options with which the case does pass (asserted too). */
  readonly passesWith?: HostnameMatchOptions;
}

export const LIMBO_DEVIATIONS: readonly LimboDeviation[] = [
  {
    id: 'rfc5280::root-non-critical-basic-constraints',
    actual: 'SUCCESS',
    reason:
      'a trust anchor with a non-critical basicConstraints is accepted: Node’s own root store contains one ' +
      '(Chunghwa Telecom "ePKI Root Certification Authority"), and rejecting it would break every chain to it',
  },
  {
    id: 'rfc5280::ski::root-missing-ski',
    actual: 'SUCCESS',
    reason:
      'a trust anchor without a subject key identifier is accepted: Node’s own root store contains one ' +
      '("TWCA Global Root CA"); intermediates without one are still refused (rfc5280::ski::intermediate-missing-ski)',
  },
  {
    id: 'webpki::ca-as-leaf',
    actual: 'SUCCESS',
    reason:
      'conflicts with rfc5280::ca-as-leaf (same chain, opposite expectation); mailtls follows RFC 5280, which ' +
      'allows a CA certificate as the last certificate of a path (also pathlen::validation-ignores-pathlen-in-leaf)',
  },
  {
    id: 'webpki::cn::not-in-san',
    actual: 'SUCCESS',
    reason:
      'a well-formed Common Name that is not among the subjectAltName entries is accepted, because 272 BetterTLS ' +
      'name-constraint cases require exactly that (e.g. bettertls::nameconstraints::tc1708: Common Name ' +
      'bad.example.com, subjectAltName test.localhost, expected SUCCESS); the Common Name is never used for ' +
      'matching. Common Names that spell a subjectAltName entry differently (case, U-label, non-canonical IP) ' +
      'are refused: the other seven webpki::cn cases pass',
  },
  {
    id: 'webpki::cn::punycode-not-in-san',
    actual: 'SUCCESS',
    reason:
      'the same conflict with BetterTLS as webpki::cn::not-in-san (a valid A-label name not in the SAN)',
  },
  {
    id: 'webpki::san::public-suffix-private-namespace-wildcard-san',
    actual: 'SUCCESS',
    reason:
      'the host-name policy (docs/hostname-policy.md) allows wildcards directly under private-section public ' +
      'suffixes such as *.s3.amazonaws.com by default, because their operators hold such certificates; the ' +
      'case passes with privateSuffixWildcards: false',
    passesWith: { privateSuffixWildcards: false },
  },
];
