/**
 * The one certification path builder (RFC 4158) behind both `assembleChain` (chain.ts) and `verifyChain`
 * (verify-chain.ts). The builder owns what the two must agree on: where issuers come from and in which
 * order they are tried, the loop check, the signature cache and the work budget. What a step means is
 * decided by a {@link PathPolicy} (the design of pyca/cryptography: one builder, a policy object per use):
 * assembly runs it with a best-effort policy that keeps going past expired or untrusted ends and scores
 * every path it finds; validation runs it with the strict RFC 5280 §6 policy that refuses a step on the
 * first rule it breaks and stops at the first path that passes.
 *
 * The search is a depth-first walk from the leaf. At each certificate (the top of the path):
 * 1. the policy may end the path there ({@link PathPolicy.arrive}: e.g. a self-signed root);
 * 2. the candidate issuers are the trust anchors with the top's issuer name (and key identifier), then the
 *    other certificates of the pool with that name; within each group, those valid at the time of the
 *    search come before expired or not-yet-valid ones, otherwise in the order given;
 * 3. a candidate with the same subject and public key as a certificate already on the path is never added
 *    (the loop check, RFC 4158 §5.2);
 * 4. no candidate: a dead end (`no-issuer`); a path of {@link PATH_BUILDER_DEFAULTS}.maxPathLength
 *    certificates is not extended (`too-long`);
 * 5. each candidate is one step (counted against `maxSteps`) offered to {@link PathPolicy.link}; an
 *    accepted intermediate is walked from recursively, an accepted trust anchor ends the path;
 * 6. the walk stops as soon as {@link PathPolicy.done} says the policy has what it wants.
 *
 * Signatures are verified once per (signed object, issuer) pair, certificates and CRLs alike, and each
 * verification counts against `maxSignatureChecks`; past either budget the builder throws
 * {@link PathBudgetExceeded}, which the public functions turn into `ERR_CHAIN_BUDGET`.
 *
 * Internal: imports nothing from the public modules (certificates are seen through
 * {@link PathCertificate}).
 *
 * @module internal/chain/path-builder
 */
import { type SignatureAlgorithm, type SignatureCheck, verifySignature } from '../keys/signature.js';

/**
 * The defaults shared by assembly and validation; the public options `maxSignatureChecks` of
 * `assembleChain` and `verifyChain` default to these.
 *
 * - `maxSignatureChecks: 100`: signature verifications (cache hits not counted) per search. An honest
 *   chain needs one per link plus one per decoy with the issuer's name and key identifier: a handful. The
 *   validator has always used 100, and the x509-limbo suite (its `pathological::` cases included) and the
 *   chain benchmarks (pools of up to 10,000 intermediates: 2 to 3 verifications per call) run the same
 *   with it; the assembler's former 10,000 let a hostile bundle cost tens of seconds of ECDSA/RSA work.
 * - `maxSteps: 20,000`: candidate evaluations (cached or not), which bounds a pool that makes the walk
 *   revisit the same certificates along many paths without new signature work.
 * - `maxPathLength: 32`: certificates on a path, self-issued ones included, the leaf too.
 */
export const PATH_BUILDER_DEFAULTS: Readonly<{
  maxSignatureChecks: number;
  maxSteps: number;
  maxPathLength: number;
}> = Object.freeze({ maxSignatureChecks: 100, maxSteps: 20_000, maxPathLength: 32 });

/** A signed object the builder can verify: a certificate or a CRL. */
export interface SignedObject {
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly tbs: Uint8Array;
  readonly signatureValue: Uint8Array;
}

/** What the builder reads of a certificate (the parsed `Certificate` has all of it). */
export interface PathCertificate extends SignedObject {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The DER SubjectPublicKeyInfo, the key that verifies what this certificate signs. */
  readonly spki: Uint8Array;
}

/** A set of certificates that can be asked for the possible issuers of one. */
export interface IssuerIndex<C> {
  /** The certificates whose subject (and key identifier) may have issued `child`, best first. */
  issuersOf(child: C): C[];
  /** Whether this exact certificate is in the set. */
  has(cert: C): boolean;
}

/** Why a path could not be extended (see {@link PathPolicy.deadEnd}). */
export type DeadEnd =
  /** No certificate given has the issuer's name (and key identifier), or all are already on the path. */
  | 'no-issuer'
  /** The path has `maxPathLength` certificates. */
  | 'too-long'
  /** There were candidates, and the policy refused every one. */
  | 'rejected';

/** What one use of the builder decides; the builder calls it and owns everything else. */
export interface PathPolicy<C> {
  /** True once the search can stop (a path good enough was found). */
  done(): boolean;
  /** Called on each path before its issuers are looked up; true ends this path here. */
  arrive(path: readonly C[]): boolean | Promise<boolean>;
  /**
   * Whether `candidate` may follow the top of `path` (`anchor`: it is a trust anchor, which ends the path
   * when accepted). The policy verifies the signature through {@link PathBuilder.signature} when it wants
   * one.
   */
  link(path: readonly C[], candidate: C, anchor: boolean): Promise<boolean>;
  /** The path cannot be extended, and why. */
  deadEnd(path: readonly C[], why: DeadEnd): void;
}

/** A search went over `maxSignatureChecks` or `maxSteps`. */
export class PathBudgetExceeded extends Error {
  readonly what: 'signatures' | 'steps';
  constructor(what: 'signatures' | 'steps') {
    super(`path building exceeded its ${what === 'signatures' ? 'signature' : 'step'} budget`);
    this.what = what;
  }
}

/** The settings of one search. */
export interface PathBuilderOptions<C> {
  /** Trust anchors, tried before the pool; undefined when there are none (assembly without roots). */
  readonly anchors: IssuerIndex<C> | undefined;
  /** Untrusted certificates (intermediates, a bundle); those that are also anchors are tried as anchors only. */
  readonly pool: IssuerIndex<C>;
  /** Same subject and same key: the loop check. */
  readonly sameEntity: (a: C, b: C) => boolean;
  /** The time of the search, in milliseconds (whole seconds); orders valid candidates first. */
  readonly atMs: number;
  /** Default {@link PATH_BUILDER_DEFAULTS}.maxSignatureChecks. */
  readonly maxSignatureChecks?: number | undefined;
  /** The `crypto` option passed on to signature verification. */
  readonly crypto: Parameters<typeof verifySignature>[4];
}

/** One search: create it, give {@link PathBuilder.build} a leaf and a policy, read the counters. */
export class PathBuilder<C extends PathCertificate> {
  readonly anchors: IssuerIndex<C> | undefined;
  readonly pool: IssuerIndex<C>;
  readonly atMs: number;
  readonly maxSignatureChecks: number;
  readonly maxSteps = PATH_BUILDER_DEFAULTS.maxSteps;
  readonly maxPathLength = PATH_BUILDER_DEFAULTS.maxPathLength;
  /** Signature verifications done so far (cache hits not counted). */
  signatureChecks = 0;
  /** Candidates evaluated so far. */
  steps = 0;
  readonly #sameEntity: (a: C, b: C) => boolean;
  readonly #crypto: Parameters<typeof verifySignature>[4];
  readonly #signatures = new WeakMap<SignedObject, Map<C, Promise<SignatureCheck>>>();

  constructor(options: PathBuilderOptions<C>) {
    this.anchors = options.anchors;
    this.pool = options.pool;
    this.atMs = options.atMs;
    this.maxSignatureChecks = options.maxSignatureChecks ?? PATH_BUILDER_DEFAULTS.maxSignatureChecks;
    this.#sameEntity = options.sameEntity;
    this.#crypto = options.crypto;
  }

  /** Whether `cert` is valid at the time of the search (bounds inclusive). */
  valid(cert: C): boolean {
    return this.atMs >= cert.notBefore.getTime() && this.atMs <= cert.notAfter.getTime();
  }

  /**
   * Whether `issuer`'s key verifies the signature on `signed`: verified once per pair, each verification
   * counted. Throws {@link PathBudgetExceeded} past `maxSignatureChecks`.
   */
  signature(signed: SignedObject, issuer: C): Promise<SignatureCheck> {
    let m = this.#signatures.get(signed);
    if (m === undefined) {
      m = new Map();
      this.#signatures.set(signed, m);
    }
    let p = m.get(issuer);
    if (p === undefined) {
      if (++this.signatureChecks > this.maxSignatureChecks) throw new PathBudgetExceeded('signatures');
      p = verifySignature(
        issuer.spki,
        signed.signatureAlgorithm,
        signed.tbs,
        signed.signatureValue,
        this.#crypto,
      );
      m.set(issuer, p);
    }
    return p;
  }

  /** The candidate issuers of the top of `path`, in the order they are tried, each with whether it is an anchor. */
  candidates(path: readonly C[]): [C, boolean][] {
    const top = path[path.length - 1]!;
    const out: [C, boolean][] = [];
    const add = (list: readonly C[], anchor: boolean) => {
      const later: C[] = [];
      for (const c of list) {
        if (!anchor && this.anchors?.has(c) === true) continue;
        if (path.some((p) => this.#sameEntity(p, c))) continue;
        if (this.valid(c)) out.push([c, anchor]);
        else later.push(c);
      }
      for (const c of later) out.push([c, anchor]);
    };
    if (this.anchors !== undefined) add(this.anchors.issuersOf(top), true);
    add(this.pool.issuersOf(top), false);
    return out;
  }

  /** Walks every path from `leaf` that `policy` accepts, until it is done. */
  build(leaf: C, policy: PathPolicy<C>): Promise<void> {
    return this.#extend([leaf], policy);
  }

  async #extend(path: C[], policy: PathPolicy<C>): Promise<void> {
    if (policy.done()) return;
    if (await policy.arrive(path)) return;
    const candidates = this.candidates(path);
    if (candidates.length === 0) return policy.deadEnd(path, 'no-issuer');
    if (path.length >= this.maxPathLength) return policy.deadEnd(path, 'too-long');
    let linked = false;
    for (const [candidate, anchor] of candidates) {
      if (++this.steps > this.maxSteps) throw new PathBudgetExceeded('steps');
      if (!(await policy.link(path, candidate, anchor))) continue;
      linked = true;
      if (!anchor) await this.#extend([...path, candidate], policy);
      if (policy.done()) return;
    }
    if (!linked) policy.deadEnd(path, 'rejected');
  }
}
