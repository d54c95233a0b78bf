/**
 * The chain a server sends for a leaf: the leaf, then its intermediates, root left out. Temporary stand-in
 * until src/chain.ts lands: walks issuers by name and key identifier.
 *
 * @module node/served-chain
 * @internal
 */
import type { Certificate } from '../certificate.js';
import { nameEquals } from '../name.js';

/** A chain problem. */
export interface ServedChainProblem {
  readonly code: string;
  readonly message: string;
}

/** The chain to serve. */
export interface ServedChain {
  /** Leaf first, then intermediates; no self-signed root. */
  readonly chain: readonly Certificate[];
  /** Whether the chain reaches a self-signed root or a trusted certificate. */
  readonly complete: boolean;
  readonly problems: readonly ServedChainProblem[];
}

function issues(issuer: Certificate, child: Certificate): boolean {
  if (!nameEquals(issuer.subject, child.issuer)) return false;
  const aki = child.authorityKeyIdentifier?.keyIdentifier;
  const ski = issuer.subjectKeyIdentifier;
  return aki === undefined || ski === undefined || aki === ski;
}

/** @internal */
export function assembleServedChain(
  leaf: Certificate,
  pool: readonly Certificate[],
  roots: readonly Certificate[],
  at: Date,
): ServedChain {
  const chain: Certificate[] = [leaf];
  const problems: ServedChainProblem[] = [];
  let cur = leaf;
  let complete = false;
  for (let depth = 0; depth < 10; depth++) {
    if (cur !== leaf && cur.selfIssued) {
      chain.pop();
      complete = true;
      break;
    }
    if (roots.some((r) => issues(r, cur))) {
      complete = true;
      break;
    }
    const candidates = pool.filter((c) => c !== cur && !chain.includes(c) && issues(c, cur));
    const valid = candidates.filter((c) => c.notBefore <= at && c.notAfter >= at);
    const next = valid[0] ?? candidates[0];
    if (next === undefined) {
      if (cur.selfIssued) complete = true;
      break;
    }
    if (next.notAfter < at)
      problems.push({
        code: 'ERR_CHAIN_EXPIRED',
        message: `The intermediate ${next.subject.toString()} expired on ${next.notAfter.toISOString()}.`,
      });
    chain.push(next);
    cur = next;
  }
  if (!complete)
    problems.push({
      code: 'ERR_CHAIN_UNKNOWN_ISSUER',
      message: `The chain is incomplete: the issuer of ${cur.subject.toString()} (${cur.issuer.toString()}) is not in the bundle.`,
    });
  return { chain, complete, problems };
}
