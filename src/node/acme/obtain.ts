/**
 * Obtaining a certificate by ACME into the certificate store: pre-flight, key (by the rollover policy),
 * CSR (mailtls's own `createCSR`: the bare domain as Common Name, the mail host names after it), order,
 * challenges, finalisation, chain download, and the store's validated atomic install. Nothing in service
 * changes until `store.install` has checked the whole new pair; any failure before leaves the old pair
 * serving and records the failure (and its back-off) in the store.
 *
 * @module node/acme/obtain
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type acme from 'acme-client';
import { AcmeError, MailTlsError, StoreError } from '../../errors.js';
import { generateKeyPair, type PrivateKey } from '../../keys/keys.js';
import { encodePrivateKeyPEM, parsePrivateKey } from '../../keys/private-key.js';
import { canonicalizeHostname } from '../../names/hostname.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import { createCSR } from '../../x509/csr.js';
import { saveFileAtomic } from '../store/atomic-write.js';
import { storeName } from '../store/layout.js';
import { acquireLock, type LockOptions } from '../store/lock.js';
import type { CertificateStore, InstallResult } from '../store/store.js';
import { type AcmeAccount, acmeFailure, acmeProfiles, createThrowawayAccount } from './account.js';
import { ariCertId, renewalInfoUrl } from './ari.js';
import type { DnsProvider, Http01Responder, TlsAlpnResponder } from './challenges.js';
import { type VerifyNamesOptions, verifyNamesResolve } from './preflight.js';
import {
  type AcmeChallengeType,
  type AcmeDomainState,
  backoffMs,
  type KeyRollover,
  loadAcmeState,
  nextKeyPath,
  saveAcmeState,
} from './state.js';

/** A step of an issuance, for progress displays. */
export type ObtainStep =
  | 'preflight'
  | 'key'
  | 'staging'
  | 'order'
  | 'challenge'
  | 'validated'
  | 'finalize'
  | 'download'
  | 'install';

/** Options of {@link obtainCertificate}. */
export interface ObtainCertificateOptions {
  /** The ACME account (see `registerAcmeAccount`). */
  account: AcmeAccount;
  /** The store to install into. */
  store: CertificateStore;
  /** The bare domain (`example.com`): the certificate's Common Name and the name it is filed under. */
  domain: string;
  /** More names: the mail hosts (`mail.example.com`, `smtp.example.com`...). */
  names?: readonly string[] | undefined;
  /** How to prove control: `tls-alpn-01` (needs `tlsAlpn`), `http-01` (`http01`) or `dns-01` (`dns`). */
  challenge: AcmeChallengeType;
  /** The responder the server's TLS port answers through (tls-alpn-01). */
  tlsAlpn?: TlsAlpnResponder | undefined;
  /** The responder the server's port 80 answers through (http-01). */
  http01?: Http01Responder | undefined;
  /** The TXT record provider (dns-01). */
  dns?: DnsProvider | undefined;
  /** Key type of a new key: `ec` (P-256, the default) or `rsa` (2048). */
  keyType?: 'ec' | 'rsa' | undefined;
  /** Key policy of renewals; default `reuse` when `dane` is true, else `fresh`. */
  keyRollover?: KeyRollover | undefined;
  /** The domain publishes TLSA records (DANE): the default key policy becomes `reuse`. */
  dane?: boolean | undefined;
  /** How long a next key's TLSA record must have been published before the switch (default 2 days). */
  nextKeyPublishedForMs?: number | undefined;
  /** Resolve the names first and refuse LAN or missing addresses (default on); `false` skips the check. */
  preflight?: false | VerifyNamesOptions | undefined;
  /** Fail install unless the chain reaches a trusted root (default false: a warning). */
  requireCompleteChain?: boolean | undefined;
  /**
   * An ACME profile to ask for (draft-ietf-acme-profiles), e.g. `shortlived`: it must be one the CA lists
   * in its directory (`meta.profiles`, see `acmeProfiles`), else the order is refused before it is made
   * (`ERR_ACME_PROFILE`, listing the offered ones). It is kept in the domain's state, so renewals ask for
   * the same; left out, the stored one is used; `null` orders without a profile (and forgets the stored one).
   */
  profile?: string | null | undefined;
  /**
   * Renewing a certificate of the same CA: name it in the order's `replaces` field (RFC 9773 section 5) when
   * the CA offers renewal information (default true).
   */
  replaces?: boolean | undefined;
  /**
   * A staging directory (e.g. `https://acme-staging-v02.api.letsencrypt.org/directory`): first run a
   * complete order there, with a throwaway account key that is never stored, for the same names, key,
   * challenge and profile; discard that certificate, and only then order from the account's directory. A
   * failure there stops before anything is ordered from production. See also {@link dryRunCertificate}.
   */
  stagingDirectory?: string | StagingDirectory | undefined;
  /** Lock timing: only one process orders for a domain at a time. */
  lock?: LockOptions | undefined;
  /** Called at each step. */
  onProgress?: ((step: ObtainStep, detail: string) => void) | undefined;
  /** The clock (back-off and key ages); default now. */
  at?: Date | undefined;
}

/** A staging directory of a dry run, with its own trust and terms. */
export interface StagingDirectory {
  /** The staging directory URL. */
  readonly url: string;
  /** More roots (PEM) to trust for the staging server's own HTTPS certificate (a private or test CA). */
  readonly directoryCA?: string | undefined;
  /**
   * Agree to the staging CA's terms of service for the throwaway account (required when its directory lists
   * terms: `ERR_ACME_TERMS` otherwise).
   */
  readonly agreeToTerms?: boolean | undefined;
}

/** What a dry run on a staging directory did (the certificate itself is discarded). */
export interface DryRunResult {
  /** The staging directory URL. */
  readonly directoryUrl: string;
  /** The domain, canonical. */
  readonly domain: string;
  /** Every name ordered, all on the staging certificate. */
  readonly names: readonly string[];
  /** The ACME profile asked for, if any. */
  readonly profile: string | undefined;
  /** The staging certificate's serial number (hex). */
  readonly serialNumber: string;
  /** The staging certificate's notAfter. */
  readonly notAfter: Date;
  /** Certificates in the chain the staging CA sent (the leaf included). */
  readonly chainLength: number;
  /** Milliseconds the staging order took (account, order, challenges, download). */
  readonly durationMs: number;
}

/** What {@link obtainCertificate} did. */
export interface ObtainResult {
  /** The domain, canonical. */
  readonly domain: string;
  /** Every name on the certificate. */
  readonly names: readonly string[];
  /** The store's install result (version, leaf, chain, warnings). */
  readonly install: InstallResult;
  /** Which key was used: the one in service, the published next key, or a new one. */
  readonly key: 'reused' | 'next' | 'new';
  /** Milliseconds from start to install. */
  readonly durationMs: number;
  /** The ACME profile ordered with, if any. */
  readonly profile: string | undefined;
  /** The RFC 9773 identifier of the certificate the order named in `replaces`, if it named one. */
  readonly replaces: string | undefined;
  /** The dry run on the staging directory that came first, when one was asked for. */
  readonly staging?: DryRunResult;
}

/** Options of {@link dryRunCertificate}: those of `obtainCertificate`, the staging directory required. */
export interface DryRunOptions extends Omit<ObtainCertificateOptions, 'account' | 'stagingDirectory'> {
  /** The staging directory the order is made at (a throwaway account key, never stored). */
  stagingDirectory: string | StagingDirectory;
  /** Not needed: a dry run orders from the staging directory only. */
  account?: AcmeAccount | undefined;
}

/** What the internal steps read of either options. */
type AnyOptions = Omit<ObtainCertificateOptions, 'account'> & { account?: AcmeAccount | undefined };

const DEFAULT_PUBLISHED_FOR = 2 * 86_400_000;

function checkOptions(o: AnyOptions, needsAccount = true): void {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if ((needsAccount || o.account !== undefined) && typeof o.account?.client !== 'object')
    throw new TypeError('options.account must be an AcmeAccount');
  if (typeof o.store?.root !== 'string') throw new TypeError('options.store must be a CertificateStore');
  const needs: Record<AcmeChallengeType, keyof ObtainCertificateOptions> = {
    'tls-alpn-01': 'tlsAlpn',
    'http-01': 'http01',
    'dns-01': 'dns',
  };
  const need = needs[o.challenge];
  if (need === undefined) throw new TypeError('challenge must be tls-alpn-01, http-01 or dns-01');
  if (o.profile !== undefined && o.profile !== null && (typeof o.profile !== 'string' || o.profile === ''))
    throw new TypeError('profile must be a profile name, or null for none');
  if (
    o.stagingDirectory !== undefined &&
    typeof o.stagingDirectory !== 'string' &&
    typeof o.stagingDirectory?.url !== 'string'
  )
    throw new TypeError('stagingDirectory must be a URL or { url, directoryCA?, agreeToTerms? }');
  if (o[need] === undefined) throw new TypeError(`challenge ${o.challenge} needs options.${need}`);
  if (o.keyType !== undefined && o.keyType !== 'ec' && o.keyType !== 'rsa')
    throw new TypeError("keyType must be 'ec' or 'rsa'");
  if (o.keyRollover !== undefined && !['reuse', 'next-published', 'fresh'].includes(o.keyRollover))
    throw new TypeError("keyRollover must be 'reuse', 'next-published' or 'fresh'");
}

/** The names in order, canonical, without repeats, the domain first. */
function orderedNames(domain: string, names: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const n of [domain, ...names]) {
    const c = n.startsWith('*.') ? `*.${canonicalizeHostname(n.slice(2))}` : canonicalizeHostname(n);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

async function newKey(type: 'ec' | 'rsa'): Promise<PrivateKey> {
  return type === 'ec' ? generateKeyPair({ type: 'ec' }) : generateKeyPair({ type: 'rsa' });
}

async function fileAge(path: string, now: Date): Promise<number | undefined> {
  try {
    return now.getTime() - (await stat(path)).mtime.getTime();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Chooses the key by the rollover policy; answers the key, its origin, and what to do after install. */
async function chooseKey(
  o: AnyOptions,
  domain: string,
  policy: KeyRollover,
  type: 'ec' | 'rsa',
  state: AcmeDomainState | undefined,
  now: Date,
): Promise<{ key: PrivateKey; origin: 'reused' | 'next' | 'new'; makeNext: boolean; dropNext: boolean }> {
  let current: PrivateKey | undefined;
  if (policy !== 'fresh') {
    try {
      current = (await o.store.load(domain)).privateKey;
    } catch (e) {
      if (!(e instanceof StoreError && e.code === 'ERR_STORE_NOT_FOUND')) throw e;
    }
  }
  if (policy === 'reuse')
    return {
      key: current ?? (await newKey(type)),
      origin: current ? 'reused' : 'new',
      makeNext: false,
      dropNext: false,
    };
  if (policy === 'fresh') return { key: await newKey(type), origin: 'new', makeNext: false, dropNext: false };
  // next-published
  const path = nextKeyPath(o.store, domain);
  const age = await fileAge(path, now);
  if (current === undefined)
    return { key: await newKey(type), origin: 'new', makeNext: age === undefined, dropNext: false };
  const publishedFor = o.nextKeyPublishedForMs ?? DEFAULT_PUBLISHED_FOR;
  const created =
    state?.nextKeyCreatedAt === undefined ? undefined : now.getTime() - Date.parse(state.nextKeyCreatedAt);
  const waited = Math.min(age ?? -1, created ?? age ?? -1);
  if (age !== undefined && waited >= publishedFor) {
    let next: PrivateKey;
    try {
      next = await parsePrivateKey(await readFile(path, 'utf8'));
    } catch (e) {
      throw new AcmeError(
        'ERR_ACME_KEY_ROLLOVER',
        `The next key ${path} cannot be read: it is not switched to, and the key in service stays. Remove the ` +
          'file (a new next key is made at the next issuance) and withdraw its TLSA record.',
        { cause: e, details: { path } },
      );
    }
    return { key: next, origin: 'next', makeNext: false, dropNext: true };
  }
  return { key: current, origin: 'reused', makeNext: age === undefined, dropNext: false };
}

/** Answers one authorization with the chosen challenge; cleans up in every case. */
async function answer(o: AnyOptions, client: acme.Client, authz: acme.Authorization): Promise<void> {
  if (authz.status === 'valid') return;
  const name = authz.identifier.value;
  const challenge = authz.challenges.find((c) => c.type === o.challenge);
  if (challenge === undefined)
    throw new AcmeError(
      'ERR_ACME_CHALLENGE',
      `The CA does not offer ${o.challenge} for ${name} (it offers ${authz.challenges.map((c) => c.type).join(', ')}): ` +
        `choose one of those${authz.wildcard ? ' (a wildcard needs dns-01)' : ''}.`,
      { details: { name, offered: authz.challenges.map((c) => c.type) } },
    );
  const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
  const record = `_acme-challenge.${name}`;
  let cleanup: () => Promise<void> | void;
  if (o.challenge === 'http-01') {
    const token = (challenge as { token: string }).token;
    o.http01!.set(token, keyAuthorization);
    cleanup = () => o.http01!.delete(token);
  } else if (o.challenge === 'tls-alpn-01') {
    await o.tlsAlpn!.set(name, keyAuthorization);
    cleanup = () => o.tlsAlpn!.delete(name);
  } else {
    await o.dns!.set(record, keyAuthorization);
    cleanup = () => o.dns!.remove(record, keyAuthorization);
  }
  o.onProgress?.('challenge', `${o.challenge} for ${name}`);
  try {
    await client.completeChallenge(challenge);
    await client.waitForValidStatus(authz);
  } catch (e) {
    if (e instanceof MailTlsError) throw e;
    // The challenge object carries the CA's reason (RFC 8555 section 8: "error").
    let reason = e instanceof Error ? e.message : String(e);
    let problem: string | null = null;
    try {
      const api = (
        client as unknown as {
          api: {
            apiRequest(
              u: string,
              p: null,
              s: number[],
            ): Promise<{ data: { error?: { type?: string; detail?: string } } }>;
          };
        }
      ).api;
      const resp = await api.apiRequest(challenge.url, null, [200]);
      if (resp.data.error?.detail) reason = resp.data.error.detail;
      problem = resp.data.error?.type ?? null;
    } catch {
      // keep the first reason
    }
    throw new AcmeError(
      'ERR_ACME_CHALLENGE',
      `The CA refused the ${o.challenge} challenge for ${name}: ${reason}. Check that ${name} resolves to this ` +
        `server and that ${
          o.challenge === 'http-01'
            ? 'port 80'
            : o.challenge === 'tls-alpn-01'
              ? 'port 443'
              : 'the TXT record'
        } ${o.challenge === 'dns-01' ? 'is published' : 'reaches the responder'}; the certificate in service is unchanged.`,
      { cause: e, details: { name, challenge: o.challenge, problem, url: challenge.url } },
    );
  } finally {
    await Promise.resolve(cleanup()).catch(() => undefined);
  }
}

/** The staging directory of options, normalized. */
function stagingOf(value: string | StagingDirectory | undefined): StagingDirectory | undefined {
  return typeof value === 'string' ? { url: value } : value;
}

/**
 * Refuses a profile the CA does not list (draft-ietf-acme-profiles: `meta.profiles`), naming the ones it
 * lists.
 */
async function checkProfile(account: AcmeAccount, profile: string): Promise<void> {
  const offered = Object.keys(await acmeProfiles(account));
  if (offered.includes(profile)) return;
  throw new AcmeError(
    'ERR_ACME_PROFILE',
    offered.length === 0
      ? `The CA at ${account.directoryUrl} offers no ACME profiles, so it cannot issue with profile ` +
          `${JSON.stringify(profile)}: order without a profile (leave out profile / --profile).`
      : `The CA at ${account.directoryUrl} does not offer the ACME profile ${JSON.stringify(profile)}: it ` +
          `offers ${offered.join(', ')}. Choose one of those (profile / --profile NAME).`,
    { details: { directoryUrl: account.directoryUrl, profile, offered } },
  );
}

/** The steps of one order at one CA: order, challenges, finalisation, download. Answers the chain (PEM). */
async function runOrder(
  o: AnyOptions,
  account: AcmeAccount,
  names: readonly string[],
  csrPEM: string,
  extra: { profile: string | undefined; replaces: string | undefined },
): Promise<{ chainPEM: string; replaces: string | undefined }> {
  const client = account.client;
  o.onProgress?.('order', `${names.join(' ')} at ${account.directoryUrl}`);
  const data: Record<string, unknown> = { identifiers: names.map((value) => ({ type: 'dns', value })) };
  if (extra.profile !== undefined) data.profile = extra.profile;
  if (extra.replaces !== undefined) data.replaces = extra.replaces;
  const create = (): Promise<acme.Order> =>
    client.createOrder(data as unknown as Parameters<acme.Client['createOrder']>[0]);
  let replaces = extra.replaces;
  let order: acme.Order;
  try {
    order = await create();
  } catch (e) {
    // RFC 9773 section 5: the certificate was already replaced by another order (another node of a cluster,
    // or a run that crashed after ordering): order again without naming it.
    if (replaces === undefined || !/:alreadyReplaced$/.test(account.lastProblem?.type ?? ''))
      throw acmeFailure(account, e, `Ordering a certificate for ${names.join(', ')}`);
    account.lastProblem = undefined;
    delete data.replaces;
    replaces = undefined;
    try {
      order = await create();
    } catch (e2) {
      throw acmeFailure(account, e2, `Ordering a certificate for ${names.join(', ')}`);
    }
  }
  let authorizations: acme.Authorization[];
  try {
    authorizations = await client.getAuthorizations(order);
  } catch (e) {
    throw acmeFailure(account, e, 'Reading the authorizations of the order');
  }
  // Each name is validated independently; all at once is what the CA expects and the fastest.
  const answers = await Promise.allSettled(authorizations.map((a) => answer(o, client, a)));
  const refused = answers.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused) throw acmeFailure(account, refused.reason, 'Validating the names', 'ERR_ACME_CHALLENGE');
  o.onProgress?.('validated', names.join(' '));
  try {
    o.onProgress?.('finalize', '');
    const finalized = await client.finalizeOrder(order, csrPEM);
    o.onProgress?.('download', '');
    return { chainPEM: await client.getCertificate(finalized), replaces };
  } catch (e) {
    throw acmeFailure(account, e, 'Finalizing the order', 'ERR_ACME_ORDER_INVALID');
  }
}

/** A failure of the dry run, said to be one (the code stays: it is the same problem). */
function stagingFailure(e: unknown, staging: string, production: string | undefined): unknown {
  if (!(e instanceof AcmeError)) return e;
  const err = e as AcmeError;
  return new AcmeError(
    err.code,
    `The dry run at the staging directory ${staging} failed${
      production === undefined ? '' : `, so nothing was ordered from ${production}`
    }: ${err.message}`,
    { cause: e, details: { ...err.details, staging } },
  );
}

/** A complete order at the staging directory with a throwaway account; the certificate is checked, then dropped. */
async function stagingOrder(
  o: AnyOptions,
  staging: StagingDirectory,
  domain: string,
  names: readonly string[],
  csrPEM: string,
  profile: string | undefined,
  production: string | undefined,
): Promise<DryRunResult> {
  const started = Date.now();
  try {
    o.onProgress?.('staging', staging.url);
    const account = await createThrowawayAccount({
      directoryUrl: staging.url,
      ...(staging.directoryCA === undefined ? {} : { directoryCA: staging.directoryCA }),
      ...(staging.agreeToTerms === undefined ? {} : { agreeToTerms: staging.agreeToTerms }),
    });
    if (profile !== undefined) await checkProfile(account, profile);
    const { chainPEM } = await runOrder(o, account, names, csrPEM, { profile, replaces: undefined });
    let chain: readonly Certificate[];
    try {
      chain = parseCertificateBundle(chainPEM).certificates;
    } catch (e) {
      throw new AcmeError(
        'ERR_ACME_PROTOCOL',
        `The staging CA sent a certificate chain that cannot be read (${(e as Error).message}).`,
        { cause: e, details: { directoryUrl: staging.url } },
      );
    }
    const leaf = chain[0];
    const missing = leaf === undefined ? [...names] : names.filter((n) => !leaf.dnsNames.includes(n));
    if (leaf === undefined || missing.length > 0)
      throw new AcmeError(
        'ERR_ACME_PROTOCOL',
        `The staging CA issued a certificate without ${missing.join(', ')}: the production CA may do the ` +
          'same; check the names and the CA.',
        { details: { directoryUrl: staging.url, domain } },
      );
    return {
      directoryUrl: staging.url,
      domain,
      names,
      profile,
      serialNumber: leaf.serialNumber,
      notAfter: leaf.notAfter,
      chainLength: chain.length,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    throw stagingFailure(e, staging.url, production);
  }
}

/** The identifier of the certificate in service, when the order may name it in `replaces` (RFC 9773). */
async function replacesId(
  o: ObtainCertificateOptions,
  domain: string,
  previous: AcmeDomainState | undefined,
): Promise<string | undefined> {
  if (o.replaces === false || previous?.directoryUrl !== o.account.directoryUrl) return undefined;
  let leaf: Certificate;
  try {
    leaf = (await o.store.load(domain)).leaf;
  } catch (e) {
    if (e instanceof StoreError && e.code === 'ERR_STORE_NOT_FOUND') return undefined;
    throw e;
  }
  try {
    if ((await renewalInfoUrl(o.account)) === undefined) return undefined;
    return ariCertId(leaf);
  } catch {
    // No authority key identifier, or no directory: the order goes without `replaces`.
    return undefined;
  }
}

/**
 * Orders a certificate for a domain and its mail host names and installs it into the store. The names are
 * checked first (see `verifyNamesResolve`), one process per domain orders at a time (a lock file in
 * `locks/`), and the order's settings are remembered in the store so that `renewDue` can renew with nothing
 * but the store. On failure the certificate in service is unchanged and the store records the failure and
 * the time of the next attempt (exponential back-off, or the CA's `Retry-After`).
 *
 * With `stagingDirectory`, a complete order at the staging directory comes first (see
 * {@link dryRunCertificate}); a renewal of the same CA's certificate names it in `replaces` (RFC 9773)
 * when the CA offers renewal information; `profile` is checked against the CA's list before ordering.
 *
 * @throws AcmeError `ERR_ACME_PREFLIGHT` (a name does not resolve or resolves to a LAN address),
 *   `ERR_ACME_CHALLENGE` (the CA refused the challenge: `details.problem` has its reason),
 *   `ERR_ACME_ORDER_INVALID`, `ERR_ACME_CSR_REJECTED`, `ERR_ACME_RATE_LIMITED` (`details.retryAfter`),
 *   `ERR_ACME_UNAVAILABLE` (the CA is down or untrusted), `ERR_ACME_PROTOCOL`, `ERR_ACME_DNS_HOOK`,
 *   `ERR_ACME_KEY_ROLLOVER`, `ERR_ACME_PROFILE` (the CA does not offer the profile: `details.offered`),
 *   `ERR_ACME_TERMS` (the staging CA's terms were not agreed to); any of these with `details.staging` when
 *   the dry run failed (nothing was ordered from production); StoreError `ERR_STORE_LOCKED` (another
 *   process is ordering), and the codes of `store.install` (the issued certificate failed validation:
 *   nothing was installed).
 * @example
 * ```ts
 * import { CertificateStore, createSNIRegistry } from 'mailtls/node';
 * import { createTlsAlpnResponder, loadAcmeAccount, obtainCertificate } from 'mailtls/acme';
 * const tlsAlpn = createTlsAlpnResponder();
 * tlsAlpn.createServer(registry).listen(443);
 * const account = await loadAcmeAccount({ store, directoryUrl });
 * const r = await obtainCertificate({
 *   account, store, domain: 'example.com', names: ['mail.example.com'], challenge: 'tls-alpn-01', tlsAlpn,
 *   stagingDirectory: { url: 'https://acme-staging-v02.api.letsencrypt.org/directory', agreeToTerms: true },
 * });
 * console.log(r.install.version, r.install.leaf.notAfter);
 * ```
 */
export async function obtainCertificate(options: ObtainCertificateOptions): Promise<ObtainResult> {
  checkOptions(options);
  const started = Date.now();
  const now = options.at ?? new Date();
  const domain = storeName(options.domain).domain;
  const names = orderedNames(domain, options.names);
  const store = options.store;
  const lockPath = `${dirname(store.paths(domain).lock)}/${storeName(domain).fileName}.acme.lock`;
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  const lock = await acquireLock(lockPath, options.lock ?? {});
  const previous = await loadAcmeState(store, domain).catch(() => undefined);
  const type = options.keyType ?? previous?.keyType ?? 'ec';
  const policy =
    options.keyRollover ?? (options.dane === true ? 'reuse' : (previous?.keyRollover ?? 'fresh'));
  const profile = options.profile === null ? undefined : (options.profile ?? previous?.profile);
  const base: AcmeDomainState = {
    domain,
    names,
    directoryUrl: options.account.directoryUrl,
    challenge: options.challenge,
    keyType: type,
    keyRollover: policy,
    failures: previous?.failures ?? 0,
    nextAttemptAt: previous?.nextAttemptAt,
    lastError: previous?.lastError,
    lastSuccessAt: previous?.lastSuccessAt,
    jitterFor: previous?.jitterFor,
    jitterMs: previous?.jitterMs ?? 0,
    nextKeyCreatedAt: previous?.nextKeyCreatedAt,
    profile: previous?.profile,
    ari: previous?.ari,
    preflight:
      options.preflight === false
        ? false
        : {
            ...(options.preflight?.servers === undefined ? {} : { servers: options.preflight.servers }),
            ...(options.preflight?.lanOnly === undefined ? {} : { lanOnly: options.preflight.lanOnly }),
          },
  };
  try {
    if (options.preflight !== false) {
      options.onProgress?.('preflight', names.join(' '));
      await verifyNamesResolve(names, options.preflight ?? {});
    }
    options.onProgress?.('key', policy);
    const chosen = await chooseKey(options, domain, policy, type, previous, now);
    const csr = await createCSR({
      subject: { commonName: domain },
      hostnames: names.slice(1),
      key: chosen.key,
    });
    // The production CA's list first: a profile it does not offer is refused before any order anywhere.
    if (profile !== undefined) await checkProfile(options.account, profile);
    const stagingDir = stagingOf(options.stagingDirectory);
    const staging =
      stagingDir === undefined
        ? undefined
        : await stagingOrder(
            options,
            stagingDir,
            domain,
            names,
            csr.csrPEM,
            profile,
            options.account.directoryUrl,
          );
    const ordered = await runOrder(options, options.account, names, csr.csrPEM, {
      profile,
      replaces: await replacesId(options, domain, previous),
    });
    options.onProgress?.('install', '');
    const install = await store.install({
      domain,
      cert: ordered.chainPEM,
      key: await encodePrivateKeyPEM(chosen.key),
      ...(options.requireCompleteChain === undefined
        ? {}
        : { requireCompleteChain: options.requireCompleteChain }),
    });
    let nextKeyCreatedAt = base.nextKeyCreatedAt;
    const nextPath = nextKeyPath(store, domain);
    if (chosen.dropNext) {
      await rm(nextPath, { force: true });
      nextKeyCreatedAt = undefined;
    }
    if (chosen.makeNext) {
      await mkdir(dirname(nextPath), { recursive: true, mode: 0o700 });
      await saveFileAtomic(nextPath, await encodePrivateKeyPEM(await newKey(type)), { mode: 0o600 });
      nextKeyCreatedAt = now.toISOString();
    }
    await saveAcmeState(store, {
      ...base,
      failures: 0,
      nextAttemptAt: undefined,
      lastError: undefined,
      lastSuccessAt: now.toISOString(),
      jitterFor: undefined,
      jitterMs: 0,
      nextKeyCreatedAt,
      profile,
      ari: undefined,
    });
    return {
      domain,
      names,
      install,
      key: chosen.origin,
      durationMs: Date.now() - started,
      profile,
      replaces: ordered.replaces,
      ...(staging === undefined ? {} : { staging }),
    };
  } catch (e) {
    const failures = base.failures + 1;
    let next = now.getTime() + backoffMs(failures);
    const retryAfter = e instanceof MailTlsError ? e.details.retryAfter : undefined;
    if (typeof retryAfter === 'string' && Date.parse(retryAfter) > next) next = Date.parse(retryAfter);
    await saveAcmeState(store, {
      ...base,
      failures,
      nextAttemptAt: new Date(next).toISOString(),
      lastError: {
        code: e instanceof MailTlsError ? e.code : 'ERR_ACME_PROTOCOL',
        message: (e instanceof Error ? e.message : String(e)).slice(0, 500),
        at: now.toISOString(),
      },
    }).catch(() => undefined);
    throw e;
  } finally {
    await lock.release();
  }
}

/**
 * A dry run: a complete order for the domain's names at a staging directory (pre-flight, the key the next
 * real order would use, CSR, a throwaway account that is never stored, challenges, finalisation, download),
 * whose certificate is checked for every name and then discarded. Nothing in the store changes: no lock
 * file, no state, no key, no account (the store is only read, for the key in service and the stored
 * profile). It shows that a real order would pass, without spending the production CA's rate limits.
 *
 * @throws AcmeError the codes of {@link obtainCertificate} for the staging order, each with
 *   `details.staging`; TypeError for bad options.
 * @example
 * ```ts
 * const r = await dryRunCertificate({
 *   store, domain: 'example.com', names: ['mail.example.com'], challenge: 'http-01', http01,
 *   stagingDirectory: { url: 'https://acme-staging-v02.api.letsencrypt.org/directory', agreeToTerms: true },
 * });
 * console.log(`staging issued serial ${r.serialNumber} in ${r.durationMs} ms`);
 * ```
 */
export async function dryRunCertificate(options: DryRunOptions): Promise<DryRunResult> {
  checkOptions(options, false);
  const staging = stagingOf(options.stagingDirectory);
  if (staging === undefined) throw new TypeError('a dry run needs options.stagingDirectory');
  const now = options.at ?? new Date();
  const domain = storeName(options.domain).domain;
  const names = orderedNames(domain, options.names);
  const previous = await loadAcmeState(options.store, domain).catch(() => undefined);
  const type = options.keyType ?? previous?.keyType ?? 'ec';
  const policy =
    options.keyRollover ?? (options.dane === true ? 'reuse' : (previous?.keyRollover ?? 'fresh'));
  const profile = options.profile === null ? undefined : (options.profile ?? previous?.profile);
  try {
    if (options.preflight !== false) {
      options.onProgress?.('preflight', names.join(' '));
      await verifyNamesResolve(names, options.preflight ?? {});
    }
  } catch (e) {
    throw stagingFailure(e, staging.url, undefined);
  }
  options.onProgress?.('key', policy);
  const chosen = await chooseKey(options, domain, policy, type, previous, now);
  const csr = await createCSR({
    subject: { commonName: domain },
    hostnames: names.slice(1),
    key: chosen.key,
  });
  return stagingOrder(options, staging, domain, names, csr.csrPEM, profile, undefined);
}
