/**
 * Certification path validation (RFC 5280 §6) with path building (RFC 4158): from a leaf certificate, a set
 * of untrusted intermediates and a set of trust anchors, find a path leaf → intermediates → trust anchor on
 * which every check passes, or say precisely why none exists.
 *
 * Pure module: no files, no network (CRLs are used only when passed in), WebCrypto through the injectable
 * `crypto` option. The trust anchors are a required option here; `src/node/tls/roots.ts` provides Node's
 * bundled roots (`tls.rootCertificates`).
 *
 * ## Path building
 *
 * Issuers are found by name (RFC 5280 §7.1 comparison) in an index, so a pool of ten thousand
 * intermediates costs no more per step than a pool of ten. A candidate whose subject key identifier differs
 * from the child's authority key identifier is not an issuer (as in OpenSSL). Trust anchors are tried
 * before intermediates and certificates valid at `at` before expired ones; when a candidate fails, the next
 * is tried (backtracking), so cross-signed roots, expired alternates and decoys are handled. A certificate
 * with the same subject and key as one already on the path is never added again (loops). Signatures are
 * checked once per (issuer, subject) pair and counted: above `maxSignatureChecks` (default 100) or 20,000
 * path steps the validation stops with `ERR_CHAIN_BUDGET`. Paths are at most 32 certificates long. This
 * search is the one path builder of mailtls (src/internal/chain/path-builder.ts), which `assembleChain` runs too,
 * with the same defaults; validation gives it the strict policy of the checks below.
 *
 * ## Checks (the profile)
 *
 * Every certificate on the path, the trust anchor included:
 * - X.509 version 3; every known extension well formed, no duplicates; no critical extension that mailtls
 *   does not process; AKI, SKI and AIA not critical; policyConstraints critical;
 * - keys: RSA of at least 2048 bits (a multiple of 8), ECDSA on the named curves P-256/P-384/P-521, or
 *   Ed25519; the same signature algorithm inside and outside the signed part;
 * - keyCertSign only with CA:TRUE, CA:TRUE only with keyCertSign when keyUsage is present; a path length
 *   only in CA certificates; nameConstraints only in CA certificates;
 * - valid at `at`, compared in whole seconds (`notBefore` and `notAfter` inclusive);
 * - extendedKeyUsage, when present, allows the purpose (or anyExtendedKeyUsage): for the leaf as RFC 5280
 *   says, and for CA certificates too (the Web PKI convention of Chrome, Firefox and Go: a CA with an EKU
 *   may only certify for those purposes).
 *
 * Leaf and intermediates (not the trust anchor): a positive serial number of at most 20 octets, a
 * non-empty issuer, and an authority key identifier unless self-issued.
 *
 * Issuers (intermediates and trust anchor): basicConstraints CA:TRUE, keyUsage keyCertSign when keyUsage
 * is present, a non-empty subject, the path length constraint (self-issued intermediates are not counted,
 * RFC 5280 §4.2.1.9), name constraints applied to every certificate below except self-issued
 * intermediates (see `name-constraints.ts`). Intermediates must have a subject key identifier. A
 * self-signed trust anchor's authority key identifier, when present, must name itself.
 *
 * Deliberately not required of trust anchors, because roots in Node's own store break these rules and
 * would otherwise be unusable: a critical basicConstraints (Chunghwa Telecom ePKI Root) and a subject key
 * identifier (TWCA Global Root CA). A certificate authority's own self-signature is not checked.
 *
 * Leaf: a subjectAltName extension is critical exactly when the subject is empty; `host` / `ip` / `email`
 * are matched against the subjectAltName only (src/names/hostname.ts; with `hostname.legacyCommonName` the
 * Common Name can stand in, and is then subject to DNS name constraints too). For `serverAuth` (unless
 * `checkCommonName: false`), a Common Name that spells a host or an address must spell it the canonical
 * way, as CA/Browser Forum BR §7.1.4.3 wants it copied from the subjectAltName: an IP address in canonical
 * text (no hex, octal, leading zeros, upper-case or uncompressed IPv6, which lax parsers read differently),
 * a host name in ASCII (A-labels), and never a subjectAltName entry in other letter case. A well-formed
 * Common Name that is simply not among the subjectAltName entries is accepted: BetterTLS requires that,
 * and the Common Name is never used for matching. A Common Name with white space is a description, not
 * a host. A CA certificate may be the leaf (RFC 5280 allows it; its own path length does not count). A
 * leaf that is itself a trust anchor is accepted as a path of one.
 *
 * Checks on the leaf alone (profile, validity, extended key usage, names) run before path building, so
 * their error wins over a path error.
 *
 * Not done: certificate policies (RFC 5280 §6.1.3 (d)-(f)), OCSP, fetching anything.
 *
 * @module verify-chain
 */

import { ChainError, HostnameError } from '../errors.js';
import { optionalIntegerAtLeast, validDate } from '../internal/assert.js';
import {
  CertificateIndex,
  type CertificateInput,
  type CertificateSource,
  readCertificates,
  readLeaf,
  sameEntity,
} from '../internal/chain/certificate-index.js';
import { type CRL, crlFailure, readCRLs } from '../internal/chain/crl.js';
import {
  type DeadEnd,
  PATH_BUILDER_DEFAULTS,
  PathBudgetExceeded,
  PathBuilder,
  type PathPolicy,
} from '../internal/chain/path-builder.js';
import {
  aiaHint,
  type ChainFailureReason,
  type ChainPurpose,
  describe,
  ekuFailure,
  type Failure,
  label,
  profileFailure,
  type Role,
  validityFailure,
} from '../internal/chain/policy.js';
import type { SignatureCheck } from '../internal/keys/signature.js';
import { asciiLower, quoteName } from '../internal/names/dns-name.js';
import type { CryptoOptions } from '../keys/keys.js';
import { checkHostname, type HostnameMatchOptions } from '../names/hostname.js';
import { formatIPAddress, parseIPAddress } from '../names/ip-address.js';
import type { Certificate } from '../x509/certificate.js';
import { nameKey } from '../x509/name.js';
import {
  type ComparisonBudget,
  DEFAULT_MAX_NAME_COMPARISONS,
  findNameConstraintViolation,
} from './name-constraints.js';

export type { CertificateInput, CertificateSource } from '../internal/chain/certificate-index.js';

export type { ChainFailureReason, ChainPurpose } from '../internal/chain/policy.js';

/** A set of trust anchors, indexed once and reusable across validations ({@link createTrustStore}). */
export interface TrustStore {
  /** The trust anchors, without duplicates, in the order given. */
  readonly certificates: readonly Certificate[];
  /** Whether this exact certificate (same DER) is a trust anchor. */
  has(cert: Certificate): boolean;
}

class IndexedTrustStore implements TrustStore {
  readonly index: CertificateIndex;
  constructor(certs: readonly Certificate[]) {
    this.index = new CertificateIndex(certs);
    Object.freeze(this);
  }
  get certificates(): readonly Certificate[] {
    return this.index.list;
  }
  has(cert: Certificate): boolean {
    return this.index.has(cert);
  }
}

/**
 * Indexes trust anchors once, for many validations (Node's bundled roots: `nodeTrustStore()` in
 * `mailtls/node`).
 *
 * @param roots - PEM text (any number of certificates), DER, parsed certificates, or a list of those.
 * @throws CertificateError / PEMError when a root cannot be read. TypeError for other value types.
 * @example
 * ```ts
 * const store = createTrustStore(await readFile('/etc/mail/private-ca.pem', 'utf8'));
 * await verifyChain(leafPEM, { roots: store, host: 'mail.example.com' });
 * ```
 */
export function createTrustStore(roots: CertificateSource): TrustStore {
  return new IndexedTrustStore(readCertificates(roots, 'roots'));
}

function toStore(roots: unknown): IndexedTrustStore {
  if (roots instanceof IndexedTrustStore) return roots;
  if (roots === undefined || roots === null)
    throw new TypeError(
      'options.roots is needed (the trust anchors); use nodeTrustStore() from mailtls/node for the roots Node trusts',
    );
  // Any other object of the TrustStore shape: its certificates are the anchors.
  const source =
    typeof roots === 'object' && 'has' in roots && 'certificates' in roots
      ? (roots as TrustStore).certificates
      : roots;
  return new IndexedTrustStore(readCertificates(source as CertificateSource, 'roots'));
}

/**
 * The index of trust anchors given as a {@link TrustStore} (reused when it came from
 * {@link createTrustStore}) or as certificates. Internal to mailtls (chain assembly); not re-exported.
 *
 * @internal
 */
export function trustAnchorIndex(roots: TrustStore | CertificateSource): CertificateIndex {
  return toStore(roots).index;
}

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions extends CryptoOptions {
  /** The trust anchors (required): a {@link TrustStore}, PEM text, DER or certificates. */
  roots: TrustStore | CertificateSource;
  /** Untrusted intermediate certificates, in any order, duplicates and unrelated certificates allowed. */
  intermediates?: CertificateSource | undefined;
  /** The validation time; default now. Compared in whole seconds. */
  at?: Date | undefined;
  /** The DNS name (or IP address) the leaf must be valid for. */
  host?: string | undefined;
  /** The IP address the leaf must be valid for. */
  ip?: string | undefined;
  /** An e-mail address the leaf must carry as an rfc822Name subjectAltName (client certificates). */
  email?: string | undefined;
  /** What the leaf is for; default `serverAuth`. */
  purpose?: ChainPurpose | undefined;
  /** Most intermediate CAs on the path (self-issued ones not counted); default 8. */
  maxDepth?: number | undefined;
  /**
   * Most signature verifications (CRL signatures included) before giving up with ERR_CHAIN_BUDGET;
   * default 100, the same as `assembleChain` (one path builder serves both).
   */
  maxSignatureChecks?: number | undefined;
  /** CRLs (PEM `X509 CRL` blocks or DER) to check revocation against; none by default. */
  crls?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /**
   * For `serverAuth`: refuse a leaf whose host-like Common Name contradicts its subjectAltName (see the
   * module notes). Default true; false accepts such certificates (the Common Name is never used for
   * matching anyway unless `hostname.legacyCommonName` is set).
   */
  checkCommonName?: boolean | undefined;
  /** Host-name matching options (wildcards, legacy Common Name); see src/names/hostname.ts. */
  hostname?: HostnameMatchOptions | undefined;
}

/** A validated path. */
export interface VerifiedChain {
  /** The path: leaf, intermediates, trust anchor (the leaf alone when it is itself a trust anchor). */
  readonly certificates: readonly Certificate[];
  /** The end-entity certificate (first of `certificates`). */
  readonly leaf: Certificate;
  /** The intermediates of the path, leaf side first. */
  readonly intermediates: readonly Certificate[];
  /** The trusted root the path ends at (last of `certificates`). */
  readonly trustAnchor: Certificate;
  /** Signature verifications done (cache hits not counted). */
  readonly signatureChecks: number;
}

class NameBudgetExceeded extends Error {}

interface Best {
  failure: Failure;
  depth: number;
}

function toError(f: Failure, extra: Record<string, unknown> = {}): ChainError {
  return new ChainError(f.code, f.message, { details: { reason: f.reason, ...f.details, ...extra } });
}

/**
 * The strict policy of validation over the shared path builder (RFC 5280 §6): a candidate is accepted
 * only when every check of the module notes passes for it, and the search stops at the first path that
 * reaches a trust anchor. Each refusal is recorded with how far its path got; when no path passes, the
 * failure of the path that got furthest is the one reported.
 */
class StrictPolicy implements PathPolicy<Certificate> {
  readonly builder: PathBuilder<Certificate>;
  readonly store: IndexedTrustStore;
  readonly pool: CertificateIndex;
  readonly crls: readonly CRL[];
  readonly atMs: number;
  readonly purpose: ChainPurpose;
  readonly maxDepth: number;
  /** Whether the leaf's Common Name may be matched as a host name (legacyCommonName): then it is constrained too. */
  readonly commonNameIsName: boolean;
  best: Best | undefined;
  /** The path found, leaf to trust anchor. */
  found: Certificate[] | undefined;
  readonly ncBudget: ComparisonBudget = { remaining: DEFAULT_MAX_NAME_COMPARISONS };

  constructor(
    builder: PathBuilder<Certificate>,
    store: IndexedTrustStore,
    pool: CertificateIndex,
    crls: readonly CRL[],
    purpose: ChainPurpose,
    maxDepth: number,
    commonNameIsName: boolean,
  ) {
    this.builder = builder;
    this.store = store;
    this.pool = pool;
    this.crls = crls;
    this.atMs = builder.atMs;
    this.purpose = purpose;
    this.maxDepth = maxDepth;
    this.commonNameIsName = commonNameIsName;
  }

  record(failure: Failure, depth: number): void {
    if (this.best === undefined || depth > this.best.depth) this.best = { failure, depth };
  }

  done(): boolean {
    return this.found !== undefined;
  }

  arrive(): boolean {
    return false;
  }

  deadEnd(path: readonly Certificate[], why: DeadEnd): void {
    const cur = path[path.length - 1]!;
    if (why === 'no-issuer') this.record(this.noIssuer(cur, path.length), path.length);
    else if (why === 'too-long') this.record(this.tooDeep(cur), path.length);
  }

  async link(path: readonly Certificate[], cand: Certificate, anchor: boolean): Promise<boolean> {
    const cur = path[path.length - 1]!;
    const depth = path.length;
    const role: Role = anchor ? 'anchor' : 'intermediate';
    let intermediates = 0;
    for (let i = 1; i < path.length; i++) if (!path[i]!.selfIssued) intermediates++;
    const count = anchor ? intermediates : intermediates + (cand.selfIssued ? 0 : 1);
    if (count > this.maxDepth) {
      this.record(this.tooDeep(cur), depth);
      return false;
    }
    const sig = await this.builder.signature(cur, cand);
    if (!sig.valid) {
      this.record(this.badSignature(cur, cand, sig, path.length === 1 ? 'leaf' : 'intermediate'), depth);
      return false;
    }
    const fail = (f: Failure | undefined): boolean => {
      if (f === undefined) return false;
      this.record(f, depth + 1);
      return true;
    };
    if (fail(profileFailure(cand, role))) return false;
    if (fail(validityFailure(cand, this.atMs, role))) return false;
    if (fail(ekuFailure(cand, this.purpose, role))) return false;
    const pathLength = cand.basicConstraints?.pathLength;
    if (pathLength !== undefined) {
      let below = 0;
      for (let i = 1; i < path.length; i++) if (!path[i]!.selfIssued) below++;
      if (below > pathLength && fail(this.pathLength(cand, role, pathLength, below))) return false;
    }
    const nc = cand.nameConstraints;
    if (nc !== undefined) {
      for (let i = 0; i < path.length; i++) {
        const p = path[i]!;
        if (i > 0 && p.selfIssued) continue;
        const v = findNameConstraintViolation(p, nc, this.ncBudget, i === 0 && this.commonNameIsName);
        if (v === undefined) continue;
        if (v.reason === 'too-complex') throw new NameBudgetExceeded(v.message);
        fail({
          code: 'ERR_CHAIN_NAME_CONSTRAINTS',
          reason: 'name-constraints',
          message: `${label(p, i === 0 ? 'leaf' : 'intermediate').replace(/^t/, 'T')} is not within the names ${label(cand, role)} may certify: ${v.message}. The CA may only issue certificates for names inside its constraints.`,
          certificate: p,
          details: {
            subject: p.subject.toString(),
            issuer: cand.subject.toString(),
            violation: v.reason,
            ...(v.name === undefined ? {} : { name: v.name }),
            ...(v.constraint === undefined ? {} : { constraint: v.constraint }),
          },
        });
        return false;
      }
    }
    if (this.crls.length > 0) {
      const f = await crlFailure(
        cur,
        cand,
        this.crls,
        this.atMs,
        async (crl, issuer) => (await this.builder.signature(crl, issuer)).valid,
      );
      if (fail(f)) return false;
    }
    if (anchor) this.found = [...path, cand];
    return true;
  }

  noIssuer(cur: Certificate, depth: number): Failure {
    const role: Role = depth === 1 ? 'leaf' : 'intermediate';
    const issuer = cur.issuer.toString();
    const urls = cur.authorityInfoAccess.caIssuers;
    if (cur.selfIssued)
      return {
        code: 'ERR_CHAIN_UNTRUSTED_ROOT',
        reason: 'untrusted-root',
        message: `The chain ends at ${label(cur, role).replace(/^the certificate|^the intermediate CA certificate/, 'the self-signed certificate')}, which is not a trusted root. ${
          role === 'leaf'
            ? 'A self-signed certificate is trusted only when it is itself among the trusted roots; clients must be given it (or use a certificate from a CA they trust).'
            : 'Add it to the trusted roots if you trust it, or get a certificate from a CA your clients trust.'
        }`,
        certificate: cur,
        details: { subject: cur.subject.toString() },
      };
    const key = nameKey(cur.issuer);
    const namesakes = this.store.index.withSubject(key).length + this.pool.withSubject(key).length;
    return {
      code: 'ERR_CHAIN_UNKNOWN_ISSUER',
      reason: 'unknown-issuer',
      message: `${label(cur, role).replace(/^t/, 'T')} was issued by ${quoteName(issuer)}, which is neither a trusted root nor among the intermediate certificates given${
        namesakes > 0
          ? ` (${namesakes} certificate${namesakes === 1 ? ' has' : 's have'} that name, but another key identifier: an older or newer key of that CA)`
          : ''
      }. ${
        urls.length > 0
          ? `If it is an intermediate CA, add it to the chain (download it from ${urls.join(' or ')}).`
          : 'If it is an intermediate CA, add it to the chain the server sends; otherwise the issuing root is not trusted here.'
      }`,
      certificate: cur,
      details: { subject: cur.subject.toString(), issuer, caIssuers: [...urls] },
    };
  }

  tooDeep(cur: Certificate): Failure {
    return {
      code: 'ERR_CHAIN_TOO_DEEP',
      reason: 'too-deep',
      message: `No path from ${describe(cur)} reaches a trusted root within ${this.maxDepth} intermediate CA certificates (maxDepth). Send the shortest chain, or raise maxDepth if the chain really is that long.`,
      certificate: cur,
      details: { subject: cur.subject.toString(), maxDepth: this.maxDepth },
    };
  }

  badSignature(cur: Certificate, issuer: Certificate, sig: SignatureCheck, role: Role): Failure {
    const reason = sig.valid ? 'bad-signature' : sig.reason;
    const r: ChainFailureReason =
      reason === 'weak'
        ? 'weak-signature'
        : reason === 'unsupported'
          ? 'unsupported-signature'
          : 'bad-signature';
    const text = sig.valid ? '' : sig.message;
    return {
      code: 'ERR_CHAIN_SIGNATURE',
      reason: r,
      message:
        r === 'bad-signature'
          ? `The signature on ${label(cur, role)} does not verify with the key of ${describe(issuer)} (${text}): that certificate has the issuer's name but not its key, or the certificate was altered. Use the issuer certificate that really signed it${aiaHint(cur)}.`
          : `The signature on ${label(cur, role)} cannot be accepted: ${text}. The CA must reissue it with SHA-256 or better.`,
      certificate: cur,
      details: {
        subject: cur.subject.toString(),
        issuer: issuer.subject.toString(),
        signatureAlgorithm: cur.signatureAlgorithm.name,
      },
    };
  }

  pathLength(cand: Certificate, role: Role, max: number, below: number): Failure {
    return {
      code: 'ERR_CHAIN_PATH_LENGTH',
      reason: 'path-length',
      message: `${label(cand, role).replace(/^t/, 'T')} allows at most ${max} intermediate CA certificate${max === 1 ? '' : 's'} below it (pathLenConstraint), but this path has ${below}. Use the chain the CA provides for this certificate.`,
      certificate: cand,
      details: { subject: cand.subject.toString(), pathLength: max, intermediates: below },
    };
  }
}

/** Names the leaf must carry; throws for a mismatch. */
function checkLeafNames(leaf: Certificate, options: VerifyChainOptions): void {
  const hostOptions = options.hostname;
  const names: [string, 'host' | 'ip'][] = [];
  if (options.host !== undefined) {
    if (typeof options.host !== 'string') throw new TypeError('options.host must be a string');
    names.push([options.host, 'host']);
  }
  if (options.ip !== undefined) {
    if (typeof options.ip !== 'string') throw new TypeError('options.ip must be a string');
    const bytes = parseIPAddress(options.ip);
    if (bytes === undefined)
      throw new HostnameError(
        'ERR_HOSTNAME_INVALID',
        `${quoteName(options.ip)} is not an IP address: give IPv4 as four decimal numbers (192.0.2.1) or IPv6 as in RFC 4291 (2001:db8::1).`,
        { details: { reason: 'invalid-ip', host: options.ip } },
      );
    names.push([formatIPAddress(bytes), 'ip']);
  }
  for (const [name, kind] of names) {
    const check = checkHostname(leaf, name, hostOptions);
    if (check.hostProblem !== null)
      throw new HostnameError(
        'ERR_HOSTNAME_INVALID',
        `${quoteName(name)} is not a valid ${kind === 'ip' ? 'IP address' : 'host name'} (${check.hostProblem}).`,
        { details: { reason: check.hostProblem, host: name } },
      );
    if (!check.matched) {
      const valid = check.validNames;
      const reason: ChainFailureReason = check.hostType === 'ip' ? 'ip-mismatch' : 'hostname-mismatch';
      throw new ChainError(
        'ERR_CHAIN_HOSTNAME',
        `The certificate ${describe(leaf)} is not valid for ${check.host}: ${
          valid.length === 0
            ? 'it names no host in its subjectAltName'
            : `it is valid for ${valid.slice(0, 10).join(', ')}${valid.length > 10 ? ` and ${valid.length - 10} more` : ''}`
        }${check.commonNameWouldMatch ? ' (only its Common Name matches, which is not used: reissue it with a subjectAltName)' : ''}. Use a certificate that names ${check.host}, or connect with a name it covers.`,
        {
          details: {
            reason,
            host: check.host,
            validNames: [...valid],
            commonNameWouldMatch: check.commonNameWouldMatch,
          },
        },
      );
    }
  }
  if (options.email !== undefined) {
    if (typeof options.email !== 'string') throw new TypeError('options.email must be a string');
    const want = splitAddress(options.email);
    const ok =
      want !== undefined &&
      leaf.emailAddresses.some((e) => {
        const have = splitAddress(e);
        return have !== undefined && have.local === want.local && have.domain === want.domain;
      });
    if (!ok)
      throw new ChainError(
        'ERR_CHAIN_HOSTNAME',
        `The certificate ${describe(leaf)} is not issued to ${quoteName(options.email)}: its e-mail addresses are ${
          leaf.emailAddresses.length === 0 ? 'none' : leaf.emailAddresses.join(', ')
        }.`,
        {
          details: {
            reason: 'email-mismatch',
            email: options.email,
            emailAddresses: [...leaf.emailAddresses],
          },
        },
      );
  }
}

function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

/** Text that a lax IP parser (inet_aton, old URL parsers) could read as an address. */
function looksLikeAddress(text: string): boolean {
  if (/^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$/i.test(text)) return true;
  return text.includes(':') && /^\[?[0-9a-f:.]+\]?$/i.test(text);
}

/** Why a Common Name is an unsafe spelling of a host or address, or undefined. */
function commonNameProblem(leaf: Certificate, cn: string): string | undefined {
  if (looksLikeAddress(cn)) {
    const bytes = parseIPAddress(cn);
    if (bytes === undefined || formatIPAddress(bytes) !== cn)
      return 'an IP address in a non-canonical form (hex, octal, leading zeros, upper-case or uncompressed IPv6), which lax parsers read differently';
    return undefined;
  }
  if (/\s/.test(cn) || !cn.includes('.')) return undefined;
  if (/[^\x00-\x7f]/.test(cn))
    return 'a host name with non-ASCII characters; certificates carry internationalized names as A-labels (xn--...)';
  const lower = asciiLower(cn);
  if (leaf.dnsNames.some((d) => d !== cn && asciiLower(d) === lower))
    return 'a subjectAltName entry spelled differently (letter case)';
  return undefined;
}

/**
 * The Common Name rule for server certificates with a subjectAltName (see the module notes): a Common Name
 * that spells a host or an address must spell it the one canonical way.
 */
function commonNameFailure(leaf: Certificate): Failure | undefined {
  if (!leaf.hasSubjectAltName) return undefined;
  for (const cn of leaf.subject.getAll('CN')) {
    const problem = commonNameProblem(leaf, cn);
    if (problem === undefined) continue;
    return {
      code: 'ERR_CHAIN_INVALID',
      reason: 'common-name',
      message: `The certificate ${describe(leaf)} has the Common Name ${quoteName(cn)}, ${problem}. CA/Browser Forum BR §7.1.4.3 requires the Common Name to be an exact copy of a subjectAltName entry, so that software that still reads it cannot be misled. The CA must reissue the certificate.`,
      certificate: leaf,
      details: { subject: leaf.subject.toString(), commonName: cn },
    };
  }
  return undefined;
}

/**
 * Validates a certificate path: builds one from the leaf through `intermediates` to a trust anchor in
 * `roots`, checking everything listed in the module notes, and returns it. Never touches the network.
 *
 * @param leaf - The end-entity certificate: PEM (further certificates in the same text are used as
 *   intermediates, so a `fullchain.pem` works), DER or a parsed certificate.
 * @param options - `roots` (required), `intermediates`, `at`, `host`/`ip`/`email`, `purpose`, `maxDepth`,
 *   `maxSignatureChecks`, `crls`, `hostname`, `crypto`.
 * @returns The validated path, leaf first, trust anchor last.
 * @throws ChainError with `details.reason` (a {@link ChainFailureReason}) and a message that says what to do:
 *   `ERR_CHAIN_UNKNOWN_ISSUER` (a missing intermediate; `details.caIssuers` lists where to download it),
 *   `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_EXPIRED`, `ERR_CHAIN_NOT_YET_VALID`, `ERR_CHAIN_SIGNATURE`,
 *   `ERR_CHAIN_NOT_CA`, `ERR_CHAIN_PATH_LENGTH`, `ERR_CHAIN_KEY_USAGE`, `ERR_CHAIN_EXTENDED_KEY_USAGE`,
 *   `ERR_CHAIN_NAME_CONSTRAINTS`, `ERR_CHAIN_CRITICAL_EXTENSION`, `ERR_CHAIN_HOSTNAME`, `ERR_CHAIN_REVOKED`,
 *   `ERR_CHAIN_CRL`, `ERR_CHAIN_TOO_DEEP`, `ERR_CHAIN_BUDGET`, `ERR_CHAIN_INVALID` (a certificate breaks
 *   the profile). When several paths fail, the error is the one from the path that got furthest.
 * @throws HostnameError `ERR_HOSTNAME_INVALID` when `host` or `ip` is not a valid name or address.
 * @throws CertificateError / PEMError when an input certificate cannot be read.
 * @throws TypeError / RangeError for options of the wrong type or range (e.g. no `roots`).
 * @example
 * ```ts
 * import { verifyChain } from 'mailtls';
 * import { nodeTrustStore } from 'mailtls/node';
 * const chain = await verifyChain(await readFile('fullchain.pem', 'utf8'), {
 *   roots: nodeTrustStore(),
 *   host: 'mail.example.com',
 * });
 * console.log(chain.certificates.map((c) => c.subject.toString()));
 * ```
 */
export async function verifyChain(
  leaf: CertificateInput,
  options: VerifyChainOptions,
): Promise<VerifiedChain> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('verifyChain needs an options object');
  const purpose = options.purpose ?? 'serverAuth';
  if (purpose !== 'serverAuth' && purpose !== 'clientAuth' && purpose !== 'any')
    throw new RangeError("options.purpose must be 'serverAuth', 'clientAuth' or 'any'");
  const at = validDate(options.at ?? new Date(), 'options.at');
  const atMs = Math.floor(at.getTime() / 1000) * 1000;
  const maxDepth = optionalIntegerAtLeast(options.maxDepth, 'maxDepth', 0, 8);
  const maxSignatureChecks = optionalIntegerAtLeast(
    options.maxSignatureChecks,
    'maxSignatureChecks',
    0,
    PATH_BUILDER_DEFAULTS.maxSignatureChecks,
  );
  const store = toStore(options.roots);
  const { leaf: leafCert, rest } = readLeaf(leaf, 'leaf');
  const pool = new CertificateIndex(rest);
  if (options.intermediates !== undefined)
    for (const c of readCertificates(options.intermediates, 'intermediates')) pool.add(c);
  const crls = options.crls === undefined ? [] : readCRLs(options.crls);

  const leafChecks = [
    profileFailure(leafCert, 'leaf'),
    validityFailure(leafCert, atMs, 'leaf'),
    ekuFailure(leafCert, purpose, 'leaf'),
  ];
  for (const f of leafChecks) if (f !== undefined) throw toError(f);
  checkLeafNames(leafCert, options);
  if (options.checkCommonName !== undefined && typeof options.checkCommonName !== 'boolean')
    throw new TypeError('options.checkCommonName must be a boolean');
  if (purpose === 'serverAuth' && options.checkCommonName !== false) {
    const f = commonNameFailure(leafCert);
    if (f !== undefined) throw toError(f);
  }

  if (store.index.has(leafCert))
    return Object.freeze({
      certificates: Object.freeze([leafCert]),
      leaf: leafCert,
      intermediates: Object.freeze([]),
      trustAnchor: leafCert,
      signatureChecks: 0,
    });
  const builder = new PathBuilder<Certificate>({
    anchors: store.index,
    pool,
    sameEntity,
    atMs,
    maxSignatureChecks,
    crypto: options.crypto === undefined ? {} : { crypto: options.crypto },
  });
  const v = new StrictPolicy(
    builder,
    store,
    pool,
    crls,
    purpose,
    maxDepth,
    options.hostname?.legacyCommonName === true,
  );
  try {
    await builder.build(leafCert, v);
  } catch (e) {
    if (e instanceof PathBudgetExceeded || e instanceof NameBudgetExceeded) {
      const what = e instanceof PathBudgetExceeded ? e.what : 'names';
      throw new ChainError(
        'ERR_CHAIN_BUDGET',
        what === 'names'
          ? `Validation stopped: ${e.message}.`
          : `Path building stopped after ${what === 'signatures' ? `${maxSignatureChecks} signature checks (maxSignatureChecks)` : `${builder.maxSteps} steps`}: the intermediates given form a pathological set (many certificates with the same names or keys). Send only the certificates of the chain itself.`,
        {
          details: {
            reason: 'budget',
            limit: what,
            signatureChecks: builder.signatureChecks,
            steps: builder.steps,
          },
        },
      );
    }
    throw e;
  }
  const path = v.found;
  if (path === undefined) {
    const f = v.best?.failure ?? v.noIssuer(leafCert, 1);
    throw toError(f, { signatureChecks: builder.signatureChecks });
  }
  return Object.freeze({
    certificates: Object.freeze(path),
    leaf: leafCert,
    intermediates: Object.freeze(path.slice(1, -1)),
    trustAnchor: path[path.length - 1]!,
    signatureChecks: builder.signatureChecks,
  });
}
