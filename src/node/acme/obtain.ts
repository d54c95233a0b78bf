/**
 * Obtaining a certificate by ACME into the certificate store: pre-flight, key (by the rollover policy),
 * CSR (mailtls's own `createCSR`: the bare domain as Common Name, the mail host names after it), an
 * optional complete order at a staging directory first, order, challenges, finalisation, chain download,
 * and the store's validated atomic install. Nothing in service changes until `store.install` has checked
 * the whole new pair; any failure before leaves the old pair serving and records the failure (and its
 * back-off) in the store. A dry run makes only the staging order and writes nothing.
 *
 * @module node/acme/obtain
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MailTlsError, StoreError } from '../../errors.js';
import { encodePrivateKeyPEM } from '../../keys/private-key.js';
import type { Certificate } from '../../x509/certificate.js';
import { saveFileAtomic } from '../store/atomic-write.js';
import { storeName } from '../store/layout.js';
import { acquireLock } from '../store/lock.js';
import { ariCertId, renewalInfoUrl } from './ari.js';
import type { DryRunOptions, DryRunResult, ObtainCertificateOptions, ObtainResult } from './options.js';
import { verifyNamesResolve } from './preflight.js';
import { type AcmeDomainState, backoffMs, loadAcmeState, nextKeyPath, saveAcmeState } from './state.js';
import {
  checkOptions,
  checkProfile,
  keyAndCSR,
  newKey,
  orderedNames,
  orderSettings,
  runOrder,
  stagingFailure,
  stagingOf,
  stagingOrder,
} from './steps.js';

export type {
  DryRunOptions,
  DryRunResult,
  ObtainCertificateOptions,
  ObtainResult,
  ObtainStep,
  StagingDirectory,
} from './options.js';

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
  const { type, policy, profile } = orderSettings(options, previous);
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
    const { chosen, csrPEM } = await keyAndCSR(options, domain, names, policy, type, previous, now);
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
            csrPEM,
            profile,
            options.account.directoryUrl,
          );
    const ordered = await runOrder(options, options.account, names, csrPEM, {
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
  const { type, policy, profile } = orderSettings(options, previous);
  try {
    if (options.preflight !== false) {
      options.onProgress?.('preflight', names.join(' '));
      await verifyNamesResolve(names, options.preflight ?? {});
    }
  } catch (e) {
    throw stagingFailure(e, staging.url, undefined);
  }
  options.onProgress?.('key', policy);
  const { csrPEM } = await keyAndCSR(options, domain, names, policy, type, previous, now);
  return stagingOrder(options, staging, domain, names, csrPEM, profile, undefined);
}
