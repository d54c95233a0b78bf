/**
 * The steps of an ACME issuance, shared by `obtainCertificate` and `dryRunCertificate`: option checks, the
 * names in order, the key by the rollover policy, the challenge answers, the profile check, one order at one
 * CA (order, challenges, finalisation, download), and the complete order at a staging directory.
 *
 * @module node/acme/steps
 */
import { readFile, stat } from 'node:fs/promises';
import type acme from 'acme-client';
import { AcmeError, MailTlsError, StoreError } from '../../errors.js';
import { generateKeyPair, type PrivateKey } from '../../keys/keys.js';
import { parsePrivateKey } from '../../keys/private-key.js';
import { canonicalizeHostname } from '../../names/hostname.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import { createCSR } from '../../x509/csr.js';
import { type AcmeAccount, acmeProfiles, createThrowawayAccount } from './account.js';
import { acmeFailure } from './failures.js';
import type { AnyOptions, DryRunResult, ObtainCertificateOptions, StagingDirectory } from './options.js';
import { type AcmeChallengeType, type AcmeDomainState, type KeyRollover, nextKeyPath } from './state.js';

const DEFAULT_PUBLISHED_FOR = 2 * 86_400_000;

/** Checks the options of an issuance or a dry run; throws TypeError for bad ones. */
export function checkOptions(o: AnyOptions, needsAccount = true): void {
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
export function orderedNames(domain: string, names: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const n of [domain, ...names]) {
    const c = n.startsWith('*.') ? `*.${canonicalizeHostname(n.slice(2))}` : canonicalizeHostname(n);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** A new key of the type. */
export async function newKey(type: 'ec' | 'rsa'): Promise<PrivateKey> {
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

/**
 * The key type, rollover policy and profile of an order: the options', else the domain's kept state's, else the
 * defaults (EC, a fresh key unless DANE pins it, the CA's default profile).
 */
export function orderSettings(
  o: AnyOptions,
  state: AcmeDomainState | undefined,
): { type: 'ec' | 'rsa'; policy: KeyRollover; profile: string | undefined } {
  return {
    type: o.keyType ?? state?.keyType ?? 'ec',
    policy: o.keyRollover ?? (o.dane === true ? 'reuse' : (state?.keyRollover ?? 'fresh')),
    profile: o.profile === null ? undefined : (o.profile ?? state?.profile),
  };
}

/** The key chosen by the rollover policy ({@link chooseKey}) and the CSR for the names, the domain first. */
export async function keyAndCSR(
  o: AnyOptions,
  domain: string,
  names: readonly string[],
  policy: KeyRollover,
  type: 'ec' | 'rsa',
  state: AcmeDomainState | undefined,
  now: Date,
): Promise<{ chosen: Awaited<ReturnType<typeof chooseKey>>; csrPEM: string }> {
  const chosen = await chooseKey(o, domain, policy, type, state, now);
  const csr = await createCSR({
    subject: { commonName: domain },
    hostnames: names.slice(1),
    key: chosen.key,
  });
  return { chosen, csrPEM: csr.csrPEM };
}

/** Chooses the key by the rollover policy; answers the key, its origin, and what to do after install. */
export async function chooseKey(
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
export async function answer(o: AnyOptions, client: acme.Client, authz: acme.Authorization): Promise<void> {
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
export function stagingOf(value: string | StagingDirectory | undefined): StagingDirectory | undefined {
  return typeof value === 'string' ? { url: value } : value;
}

/**
 * Refuses a profile the CA does not list (draft-ietf-acme-profiles: `meta.profiles`), naming the ones it
 * lists.
 */
export async function checkProfile(account: AcmeAccount, profile: string): Promise<void> {
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
export async function runOrder(
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
export function stagingFailure(e: unknown, staging: string, production: string | undefined): unknown {
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

/**
 * Ends a throwaway staging account (RFC 8555 section 7.3.6), so that no unused account lingers at the CA.
 * Best effort: an account that was never created is left alone, and a refusal only leaves it to expire.
 */
async function deactivate(account: AcmeAccount): Promise<void> {
  try {
    account.client.getAccountUrl();
  } catch {
    return;
  }
  try {
    await account.client.updateAccount({ status: 'deactivated' });
  } catch {
    // Nothing depends on it: the key is gone with this process, so nobody can use the account again.
  }
}

/**
 * A complete order at the staging directory with a throwaway account; the certificate is checked, then
 * dropped, and the account is deactivated.
 */
export async function stagingOrder(
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
    let chainPEM: string;
    try {
      if (profile !== undefined) await checkProfile(account, profile);
      ({ chainPEM } = await runOrder(o, account, names, csrPEM, { profile, replaces: undefined }));
    } finally {
      await deactivate(account);
    }
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
