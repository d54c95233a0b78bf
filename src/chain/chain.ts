/**
 * Chain assembly: from a leaf certificate and an unordered pool (a reseller's CA bundle in any order, with
 * CRLF line ends, duplicates, unrelated certificates, the root or not), the chain a server must send — the
 * leaf, then each issuer in order — with every irregularity reported in words and codes.
 *
 * Issuers are recognised by name (RFC 5280 §7.1), key identifier and signature: a certificate with the
 * issuer's name but another key (a decoy, listed first or not) is never chosen. When several issuers fit
 * (a cross-signed intermediate, an expired and a renewed one), the choice goes to the chain that ends at a
 * trusted root (when `roots` are given), then to the one with fewer certificates outside their validity
 * period at `at`, then to the shorter one. The result never hides a gap: `complete` is false when an issuer
 * is missing, and the problem names it and says where to download it (AIA CA-issuers URL).
 *
 * Assembly and `verifyChain` run the same path builder (src/internal/chain/path-builder.ts: candidate order,
 * loop check, signature cache, budgets and their defaults), each with its own policy: here a best-effort
 * one that follows every path to its end and scores it, there the strict RFC 5280 one.
 *
 * This is assembly, not validation: name constraints, path lengths, key usages and host names are
 * `verifyChain`'s job (run it on the result). Without `roots` a chain is complete only when it reaches
 * a self-signed root in the pool; pass `roots` (e.g. `nodeTrustStore()` from `mailtls/node`) to recognise a
 * chain that ends below a root clients already have.
 *
 * @module chain
 */

import { decodePEM, encodePEM } from '../encoding/pem.js';
import { ChainError, KeyError } from '../errors.js';
import { integerAtLeast, validDate } from '../internal/assert.js';
import {
  CertificateIndex,
  type CertificateInput,
  type CertificateSource,
  readCertificates,
  readLeaf,
  sameDER,
  sameEntity,
} from '../internal/chain/certificate-index.js';
import {
  PATH_BUILDER_DEFAULTS,
  PathBudgetExceeded,
  PathBuilder,
  type PathPolicy,
} from '../internal/chain/path-builder.js';
import { aiaHint, describe } from '../internal/chain/policy.js';
import { quoteName } from '../internal/names/dns-name.js';
import type { CryptoOptions } from '../keys/keys.js';
import type { Certificate } from '../x509/certificate.js';
import { nameKey } from '../x509/name.js';
import { type TrustStore, trustAnchorIndex } from './verify-chain.js';

/** Certificate inputs: PEM text, DER bytes or a parsed view; a source is one or a list of them. */
export type { CertificateInput, CertificateSource } from '../internal/chain/certificate-index.js';

/** What a {@link ChainProblem} is about. */
export type ChainProblemCode =
  /** The issuer of a certificate is neither in the pool nor among the roots (`details.issuer`, `details.caIssuers`). */
  | 'unknown-issuer'
  /** The chain ends at a self-signed root that is not among the `roots` given. */
  | 'untrusted-root'
  /** A certificate of the chain expired before `at`. */
  | 'expired'
  /** A certificate of the chain is not valid yet at `at`. */
  | 'not-yet-valid'
  /** The pool holds the root; servers should not send it, so it is left out (unless `includeRoot`). */
  | 'root-included'
  /** The pool listed the chain's certificates in another order than leaf → root. */
  | 'wrong-order'
  /** A certificate of the pool is not part of the chain and was left out. */
  | 'unrelated-dropped'
  /** A certificate appeared more than once (or the pool repeated the leaf); the copies were left out. */
  | 'duplicate-dropped';

/** One irregularity found while assembling. */
export interface ChainProblem {
  /** What kind of problem it is. */
  readonly code: ChainProblemCode;
  /** What happened and what to do, for an administrator. */
  readonly message: string;
  /** The certificate concerned, when there is one. */
  readonly certificate?: Certificate | undefined;
  /** JSON-safe facts (issuer names, URLs, dates, positions). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Options of {@link assembleChain}. */
export interface AssembleChainOptions extends CryptoOptions {
  /** Roots clients trust: the chain should end at (or just below) one of them. */
  roots?: TrustStore | CertificateSource | undefined;
  /** The time validity is judged at; default now. */
  at?: Date | undefined;
  /** Keep the root at the end of `certificates` (default false: servers should not send it). */
  includeRoot?: boolean | undefined;
  /**
   * Most signature verifications before giving up with ERR_CHAIN_BUDGET; default 100, the same as
   * `verifyChain` (one path builder serves both; an honest bundle needs a handful).
   */
  maxSignatureChecks?: number | undefined;
}

/** The assembled chain. */
export interface AssembledChain {
  /** True when every issuer up to a root (self-signed in the pool, or among `roots`) was found. */
  readonly complete: boolean;
  /** Whether the chain ends at one of `roots`; undefined when no roots were given. */
  readonly trusted: boolean | undefined;
  /** The server certificate the chain starts with. */
  readonly leaf: Certificate;
  /** What to deploy: the leaf, then its issuers in order (the root only with `includeRoot`). */
  readonly certificates: readonly Certificate[];
  /** The root the chain ends at, when found (from the pool or from `roots`). */
  readonly root: Certificate | undefined;
  /** Certificates of the pool that are not in `certificates` (unrelated, duplicates, the root left out). */
  readonly dropped: readonly Certificate[];
  /** Everything worth telling the administrator; empty for a clean, complete bundle. */
  readonly problems: readonly ChainProblem[];
  /** `certificates` as PEM (LF, 64 columns): Node's `cert` option, nginx `ssl_certificate`, `fullchain.pem`. */
  readonly pem: string;
}

interface Terminal {
  path: Certificate[];
  /** 3: ends at one of `roots`; 2: self-signed root, no roots given; 1: untrusted self-signed root; 0: gap. */
  level: number;
  /** Certificates above the leaf (the root included) outside their validity period. */
  invalid: number;
  root: Certificate | undefined;
}

/**
 * The best-effort policy of assembly over the shared path builder: every path is followed to its end
 * (a trust anchor, a self-signed root or a gap) whether or not its certificates are valid, and each end
 * is scored: a trusted end first, then fewer certificates outside their validity period, then fewer
 * certificates. The search stops early only when no later path could score better. An issuer must be a CA
 * (basicConstraints CA:TRUE) whose key verifies the signature; nothing else is checked (that is
 * `verifyChain`'s strict policy).
 */
class AssemblyPolicy implements PathPolicy<Certificate> {
  readonly builder: PathBuilder<Certificate>;
  readonly roots: CertificateIndex | undefined;
  best: Terminal | undefined;

  constructor(builder: PathBuilder<Certificate>, roots: CertificateIndex | undefined) {
    this.builder = builder;
    this.roots = roots;
  }

  async signed(child: Certificate, issuer: Certificate): Promise<boolean> {
    return (await this.builder.signature(child, issuer)).valid;
  }

  async selfSigned(c: Certificate): Promise<boolean> {
    if (!c.selfIssued) return false;
    const aki = c.authorityKeyIdentifier?.keyIdentifier;
    if (aki !== undefined && c.subjectKeyIdentifier !== undefined && aki !== c.subjectKeyIdentifier)
      return false;
    return this.signed(c, c);
  }

  invalid(path: readonly Certificate[]): number {
    let n = 0;
    for (let i = 1; i < path.length; i++) if (!this.builder.valid(path[i]!)) n++;
    return n;
  }

  offer(path: readonly Certificate[], level: number, root: Certificate | undefined): void {
    const t: Terminal = {
      path: [...path],
      level,
      invalid:
        this.invalid(path) +
        (root !== undefined && !path.includes(root) && !this.builder.valid(root) ? 1 : 0),
      root,
    };
    const b = this.best;
    if (
      b === undefined ||
      t.level > b.level ||
      (t.level === b.level &&
        (t.invalid < b.invalid || (t.invalid === b.invalid && t.path.length < b.path.length)))
    )
      this.best = t;
  }

  /** Whether the best terminal so far cannot be beaten. */
  done(): boolean {
    const b = this.best;
    return b !== undefined && b.invalid === 0 && b.level === (this.roots === undefined ? 2 : 3);
  }

  async arrive(path: readonly Certificate[]): Promise<boolean> {
    const cur = path[path.length - 1]!;
    const root = path.length === 1 ? undefined : cur;
    if (this.roots?.has(cur) === true) {
      this.offer(path, 3, root);
      return true;
    }
    if (await this.selfSigned(cur)) {
      this.offer(path, this.roots === undefined ? 2 : 1, root);
      return true;
    }
    return false;
  }

  async link(path: readonly Certificate[], candidate: Certificate, anchor: boolean): Promise<boolean> {
    if (!anchor && candidate.basicConstraints?.ca !== true) return false;
    if (!(await this.signed(path[path.length - 1]!, candidate))) return false;
    if (anchor) this.offer(path, 3, candidate);
    return true;
  }

  deadEnd(path: readonly Certificate[]): void {
    this.offer(path, 0, undefined);
  }
}

function problem(
  code: ChainProblemCode,
  message: string,
  certificate?: Certificate,
  details: Record<string, unknown> = {},
): ChainProblem {
  return Object.freeze({
    code,
    message,
    ...(certificate === undefined ? {} : { certificate }),
    details: Object.freeze({
      ...(certificate === undefined ? {} : { subject: certificate.subject.toString() }),
      ...details,
    }),
  });
}

function readRoots(roots: AssembleChainOptions['roots']): CertificateIndex | undefined {
  return roots === undefined ? undefined : trustAnchorIndex(roots);
}

/**
 * Assembles the chain to deploy from a leaf and an unordered pool of CA certificates, and reports what was
 * wrong with the input (see {@link ChainProblemCode}).
 *
 * @param leaf - The server certificate: PEM (further certificates in the same text join the pool, so a
 *   `fullchain.pem` in any order works), DER or a parsed certificate.
 * @param pool - The CA certificates: a PEM bundle (any order, CRLF or LF, duplicates and unrelated
 *   certificates allowed), DER, PKCS#7, parsed certificates, or a list of those.
 * @param options - `roots`, `at`, `includeRoot`, `maxSignatureChecks`, `crypto`.
 * @returns The chain, `complete`/`trusted` flags, the dropped certificates and the problems.
 * @throws ChainError `ERR_CHAIN_BUDGET` when the pool needs more than `maxSignatureChecks` signature checks
 *   (default 100) or more than 20,000 path steps.
 * @throws CertificateError / PEMError when the leaf or the pool cannot be read.
 * @throws TypeError / RangeError for arguments of the wrong type or range.
 * @example
 * ```ts
 * import { assembleChain } from 'mailtls';
 * const chain = await assembleChain(await readFile('mail.crt', 'utf8'), await readFile('ca-bundle.crt', 'utf8'));
 * for (const p of chain.problems) console.warn(`${p.code}: ${p.message}`);
 * if (chain.complete) await writeFile('fullchain.pem', chain.pem);
 * ```
 */
export async function assembleChain(
  leaf: CertificateInput,
  pool: CertificateSource,
  options: AssembleChainOptions = {},
): Promise<AssembledChain> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const at = validDate(options.at ?? new Date(), 'options.at');
  const atMs = Math.floor(at.getTime() / 1000) * 1000;
  if (options.includeRoot !== undefined && typeof options.includeRoot !== 'boolean')
    throw new TypeError('options.includeRoot must be a boolean');
  const maxChecks = integerAtLeast(
    options.maxSignatureChecks ?? PATH_BUILDER_DEFAULTS.maxSignatureChecks,
    'maxSignatureChecks',
  );

  const { leaf: leafCert, rest } = readLeaf(leaf, 'leaf');
  const given = [...rest, ...readCertificates(pool, 'pool')];
  const problems: ChainProblem[] = [];
  const index = new CertificateIndex();
  const position = new Map<Certificate, number>();
  const duplicates: Certificate[] = [];
  given.forEach((c, i) => {
    if (sameDER(c, leafCert) || !index.add(c)) duplicates.push(c);
    else position.set(c, i);
  });
  const roots = readRoots(options.roots);
  const builder = new PathBuilder<Certificate>({
    anchors: roots,
    pool: index,
    sameEntity,
    atMs,
    maxSignatureChecks: maxChecks,
    crypto: options.crypto === undefined ? {} : { crypto: options.crypto },
  });
  const a = new AssemblyPolicy(builder, roots);
  try {
    await builder.build(leafCert, a);
  } catch (e) {
    if (e instanceof PathBudgetExceeded)
      throw new ChainError(
        'ERR_CHAIN_BUDGET',
        e.what === 'signatures'
          ? `Chain assembly stopped after ${maxChecks} signature checks (maxSignatureChecks): the pool is pathological (many certificates with the same names). Give only the CA certificates of this chain.`
          : `Chain assembly stopped after ${builder.maxSteps} steps: the pool is pathological (many certificates with the same names or keys). Give only the CA certificates of this chain.`,
        {
          details:
            e.what === 'signatures'
              ? { reason: 'budget', signatureChecks: maxChecks }
              : { reason: 'budget', limit: 'steps', steps: builder.maxSteps },
        },
      );
    throw e;
  }
  const best = a.best!;
  const path = best.path;
  const top = path[path.length - 1]!;
  const root = best.root;
  const rootIsInPath = root !== undefined && path.includes(root);
  const complete = best.level > 0;
  const trusted = roots === undefined ? undefined : best.level === 3;

  if (!complete) {
    const urls = top.authorityInfoAccess.caIssuers;
    const issuer = top.issuer.toString();
    problems.push(
      problem(
        'unknown-issuer',
        `The issuer of ${describe(top)}, ${quoteName(issuer)}, is not in the bundle${roots === undefined ? '' : ' nor among the trusted roots'}: ${
          urls.length > 0
            ? `download it from ${urls.join(' or ')} and add it`
            : 'get it from the CA and add it'
        }${roots === undefined ? ' (if it is a root that your clients already trust, pass `roots` to confirm the chain is complete)' : ''}.`,
        top,
        { issuer, caIssuers: [...urls] },
      ),
    );
  } else if (best.level === 1)
    problems.push(
      problem(
        'untrusted-root',
        `The chain ends at the self-signed root ${describe(top)}, which is not among the trusted roots: clients will reject it. Use a certificate from a CA your clients trust, or distribute this root to them.`,
        top,
      ),
    );

  const checkValidity = (c: Certificate, what: string) => {
    if (atMs > c.notAfter.getTime())
      problems.push(
        problem(
          'expired',
          `${what} ${describe(c)} expired on ${c.notAfter.toISOString()}.${
            c === leafCert
              ? ' Renew the certificate.'
              : ` Replace it with the current one from the CA${aiaHint(path[path.indexOf(c) - 1] ?? c)}.`
          }`,
          c,
          { notAfter: c.notAfter.toISOString(), at: new Date(atMs).toISOString() },
        ),
      );
    else if (atMs < c.notBefore.getTime())
      problems.push(
        problem(
          'not-yet-valid',
          `${what} ${describe(c)} is not valid before ${c.notBefore.toISOString()}; check the clock, or wait.`,
          c,
          { notBefore: c.notBefore.toISOString(), at: new Date(atMs).toISOString() },
        ),
      );
  };
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    checkValidity(c, i === 0 ? 'The certificate' : c === root ? 'The root' : 'The intermediate certificate');
  }
  if (root !== undefined && !rootIsInPath) checkValidity(root, 'The root');

  const rootFromPool = root !== undefined && index.has(root);
  if (rootFromPool && !options.includeRoot)
    problems.push(
      problem(
        'root-included',
        `The bundle includes the root ${describe(root)}; servers should not send it (clients have their own copy), so it was left out.`,
        root,
      ),
    );

  const chainCerts = rootIsInPath && !options.includeRoot ? path.slice(0, -1) : [...path];
  if (options.includeRoot && root !== undefined && !rootIsInPath) chainCerts.push(root);
  const fromPool = path.slice(1).filter((c) => position.has(c));
  for (let i = 1; i < fromPool.length; i++)
    if (position.get(fromPool[i]!)! < position.get(fromPool[i - 1]!)!) {
      problems.push(
        problem(
          'wrong-order',
          'The bundle lists the CA certificates in another order than the chain needs (each certificate followed by its issuer); the order was corrected.',
          undefined,
          { order: fromPool.map((c) => position.get(c)) },
        ),
      );
      break;
    }
  for (const c of duplicates)
    problems.push(
      problem(
        'duplicate-dropped',
        sameDER(c, leafCert)
          ? `The bundle repeats the certificate ${describe(c)} itself; the copy was left out.`
          : `The bundle holds ${describe(c)} more than once; the copies were left out.`,
        c,
      ),
    );
  const dropped: Certificate[] = [...duplicates];
  const issuerNames = new Set(path.map((c) => nameKey(c.issuer)));
  for (const c of index.list) {
    if (root !== undefined && sameDER(c, root)) {
      if (!options.includeRoot) dropped.push(c);
      continue;
    }
    if (path.some((p) => sameDER(p, c))) continue;
    dropped.push(c);
    const decoy = issuerNames.has(nameKey(c.subject));
    problems.push(
      problem(
        'unrelated-dropped',
        decoy
          ? `${describe(c)} has the name of an issuer in the chain but did not sign it (a different key, or not a CA); it was left out.`
          : `${describe(c)} is not part of this chain; it was left out.`,
        c,
        { position: position.get(c), sameNameAsIssuer: decoy },
      ),
    );
  }

  const certificates = Object.freeze(chainCerts);
  return Object.freeze({
    complete,
    trusted,
    leaf: leafCert,
    certificates,
    root,
    dropped: Object.freeze(dropped),
    problems: Object.freeze(problems),
    pem: encodeChainPEM(certificates),
  });
}

/**
 * PEM of a chain in order (LF line ends, 64-column base64): what Node's `cert` option, nginx
 * `ssl_certificate` and Dovecot `ssl_cert` read.
 *
 * @param chain - An {@link AssembledChain}, a verified path's `certificates`, or any certificate list.
 * @throws TypeError when `chain` is not a certificate list or an assembled chain.
 * @example
 * ```ts
 * tls.createSecureContext({ key, cert: encodeChainPEM(chain) });
 * ```
 */
export function encodeChainPEM(chain: AssembledChain | readonly Certificate[]): string {
  const list = Array.isArray(chain) ? chain : (chain as AssembledChain).certificates;
  if (!Array.isArray(list))
    throw new TypeError('encodeChainPEM expects an assembled chain or a certificate list');
  return list.map((c: Certificate) => encodePEM('CERTIFICATE', c.der)).join('');
}

const KEY_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];

/**
 * The single file Postfix reads with `smtpd_tls_chain_files` (Postfix 3.4+): the private key, then the
 * leaf, then its issuers. The key is re-armoured (LF, 64 columns); encrypted keys are refused because
 * Postfix cannot ask for a pass phrase. It does not check that the key belongs to the leaf
 * (`keyMatchesCertificate` does).
 *
 * @param keyPEM - The unencrypted private key (PKCS#8, PKCS#1 or SEC1 PEM).
 * @param chain - An {@link AssembledChain} or a certificate list, leaf first.
 * @throws KeyError `ERR_KEY_ENCRYPTED` for an encrypted key; PEMError when `keyPEM` holds no private key.
 *   Messages never contain key material.
 * @throws TypeError for arguments of the wrong type.
 * @example
 * ```ts
 * await writeFile('/etc/postfix/mail.pem', encodePostfixChainFile(keyPEM, chain), { mode: 0o600 });
 * // main.cf: smtpd_tls_chain_files = /etc/postfix/mail.pem
 * ```
 */
export function encodePostfixChainFile(
  keyPEM: string,
  chain: AssembledChain | readonly Certificate[],
): string {
  if (typeof keyPEM !== 'string') throw new TypeError('keyPEM must be PEM text');
  const block = decodePEM(keyPEM, KEY_LABELS);
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? ''))
    throw new KeyError(
      'ERR_KEY_ENCRYPTED',
      'The private key is encrypted; Postfix cannot ask for a pass phrase. Decrypt it first (openssl pkey -in key.pem -out plain.pem) and protect the file with mode 0600.',
    );
  return encodePEM(block.label, block.bytes) + encodeChainPEM(chain);
}
