/**
 * ACME accounts (RFC 8555 section 7.3) kept in the certificate store's private area, and the protocol client
 * that speaks for them.
 *
 * The protocol itself (JWS signing, nonces, directory, polling) is `acme-client`'s; this module adds what a
 * mail server needs around it: the account key in `private/acme/<server>/account.key` (0600, in the store's
 * 0700 `private/`), terms of service agreed only when the caller says so, trust for a private ACME server's
 * HTTPS certificate per account (never process-wide), retries of network failures and of `429`/`503`
 * answers that honour `Retry-After`, and typed {@link AcmeError}s with the server's problem type.
 *
 * @module node/acme/account
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import acme from 'acme-client';
import { AcmeError } from '../../errors.js';
import { saveFileAtomic } from '../store/atomic-write.js';
import type { CertificateStore } from '../store/store.js';
import { acmeFailure, networkReason, type Problem, unavailable } from './failures.js';

/** How failed requests are retried. */
export interface AcmeRetryOptions {
  /** Attempts per request for network failures, `429` and `503` (default 3; 1 = no retry). */
  attempts?: number | undefined;
  /** First back-off in milliseconds when the server gives no `Retry-After` (default 500; doubled each time). */
  minDelayMs?: number | undefined;
  /**
   * The longest wait honoured, in milliseconds (default 10,000): a `Retry-After` further away ends the
   * attempt with `ERR_ACME_RATE_LIMITED` (its `details.retryAfter` says when to come back) instead of blocking.
   */
  maxDelayMs?: number | undefined;
}

/** Options of {@link registerAcmeAccount} and {@link loadAcmeAccount}. */
export interface AcmeAccountOptions {
  /** The store whose private area holds the account key. */
  store: CertificateStore;
  /** The ACME server's directory URL, e.g. `https://acme-v02.api.letsencrypt.org/directory`. */
  directoryUrl: string;
  /** The administrator's e-mail address (the account's contact; the CA writes there before expiries). */
  email?: string | undefined;
  /**
   * Agree to the CA's terms of service (required when the directory lists terms). Never assumed: a
   * registration without it fails with `ERR_ACME_TERMS`, whose message gives the terms' URL to read first.
   */
  agreeToTerms?: boolean | undefined;
  /**
   * More roots (PEM) to trust for the ACME server's own HTTPS certificate, for a private ACME server or a
   * test CA. Node's bundled roots stay trusted. Applies to this account's requests only.
   */
  directoryCA?: string | undefined;
  /** Retries of network failures and rate limits. */
  retry?: AcmeRetryOptions | undefined;
  /** Polling of pending challenges and orders: attempts (default 20) and the first wait (default 250 ms). */
  poll?:
    | {
        /** Status requests before giving up (default 20). */
        attempts?: number | undefined;
        /** The first wait in milliseconds, doubled each time up to 5 s (default 250). */
        minDelayMs?: number | undefined;
      }
    | undefined;
}

/** What the store keeps about an account (`private/acme/<server>/account.json`). */
export interface AcmeAccountInfo {
  /** The directory URL. */
  readonly directoryUrl: string;
  /** The account URL the server gave (the key id of every later request). */
  readonly url: string;
  /** The contact addresses. */
  readonly contact: readonly string[];
  /** The terms of service URL agreed to, if the server listed one. */
  readonly termsOfService: string | undefined;
  /** When the account was registered (ISO time). */
  readonly createdAt: string;
}

/**
 * An ACME account with its protocol client. Create it with {@link registerAcmeAccount} (first time) or
 * {@link loadAcmeAccount}.
 */
export class AcmeAccount {
  /** The account's record in the store. */
  readonly info: AcmeAccountInfo;
  /** The account key's file (0600). */
  readonly keyFile: string;
  /** The protocol client (acme-client), with this account's trust and retries. @internal */
  readonly client: acme.Client;
  /** The last problem document the server answered. @internal */
  lastProblem: Problem | undefined;

  /** @internal */
  constructor(info: AcmeAccountInfo, keyFile: string, client: acme.Client) {
    this.info = info;
    this.keyFile = keyFile;
    this.client = client;
  }

  /** The directory URL. */
  get directoryUrl(): string {
    return this.info.directoryUrl;
  }

  /** A short text without key material. */
  toString(): string {
    return `AcmeAccount(${this.info.url})`;
  }

  /** The JSON form: the account record (no key). */
  toJSON(): AcmeAccountInfo {
    return this.info;
  }
}

/** The account's directory in the store: `private/acme/<host>-<hash of the directory URL>`. */
export function accountDirectory(store: CertificateStore, directoryUrl: string): string {
  let host: string;
  try {
    const u = new URL(directoryUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('not http');
    host = `${u.hostname}${u.port === '' ? '' : `_${u.port}`}`.replace(/[^A-Za-z0-9._-]/g, '_');
  } catch {
    throw new AcmeError(
      'ERR_ACME_ACCOUNT',
      `${JSON.stringify(directoryUrl.slice(0, 200))} is not an ACME directory URL: give the https:// URL of the ` +
        "CA's directory, e.g. https://acme-v02.api.letsencrypt.org/directory.",
      { details: { directoryUrl: directoryUrl.slice(0, 200) } },
    );
  }
  const hash = createHash('sha256').update(directoryUrl).digest('hex').slice(0, 12);
  return join(store.root, 'private', 'acme', `${host}-${hash}`);
}

function checkOptions(options: AcmeAccountOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.store === null || typeof options.store?.root !== 'string')
    throw new TypeError('options.store must be a CertificateStore');
  if (typeof options.directoryUrl !== 'string') throw new TypeError('options.directoryUrl must be a URL');
  if (options.email !== undefined && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(options.email))
    throw new AcmeError(
      'ERR_ACME_ACCOUNT',
      `${JSON.stringify(options.email.slice(0, 100))} is not an e-mail address: give the administrator's ` +
        'address, e.g. postmaster@example.com.',
      { details: { email: options.email.slice(0, 100) } },
    );
}

function parseRetryAfter(value: unknown, now: number): Date | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return new Date(now + Number(value.trim()) * 1000);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type RequestFn = (url: string, method: string, opts?: Record<string, unknown>) => Promise<AxiosLike>;
interface AxiosLike {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

/**
 * Builds the acme-client for an account key, with per-account trust, retries and problem capture: every
 * request goes through acme-client's `HttpClient.request`, which this wraps (acme-client's own retries,
 * which wait 5 s and more, are switched off for these requests).
 */
function buildClient(
  options: AcmeAccountOptions,
  accountKey: string,
  accountUrl: string | undefined,
  holder: { lastProblem: Problem | undefined },
): acme.Client {
  const poll = options.poll ?? {};
  const client = new acme.Client({
    directoryUrl: options.directoryUrl,
    accountKey,
    ...(accountUrl === undefined ? {} : { accountUrl }),
    backoffAttempts: poll.attempts ?? 20,
    backoffMin: poll.minDelayMs ?? 250,
    backoffMax: 5000,
  });
  const agent =
    options.directoryCA === undefined
      ? undefined
      : new https.Agent({ secureContext: trustContext(options.directoryCA), keepAlive: true });
  const retry = options.retry ?? {};
  const attempts = retry.attempts ?? 3;
  const minDelay = retry.minDelayMs ?? 500;
  const maxDelay = retry.maxDelayMs ?? 10_000;
  const http = (client as unknown as { http: { request: RequestFn; maxBadNonceRetries: number } }).http;
  // Pebble rejects a share of good nonces on purpose; real CAs rarely do. A bad nonce is retried with a
  // fresh one by acme-client (the JWS must be signed again), up to this many times.
  http.maxBadNonceRetries = 10;
  const original = http.request.bind(http);
  http.request = async (url, method, opts = {}) => {
    for (let attempt = 1; ; attempt++) {
      const request = {
        ...opts,
        // acme-client's interceptor retries while retryAttempt <= its maximum: start above it.
        retryAttempt: Number.MAX_SAFE_INTEGER,
        ...(agent === undefined ? {} : { httpsAgent: agent }),
      };
      let resp: AxiosLike;
      try {
        resp = await original(url, method, request);
      } catch (e) {
        if (attempt < attempts) {
          await sleep(Math.min(maxDelay, minDelay * 2 ** (attempt - 1)));
          continue;
        }
        // With its retries off, acme-client loses the network error on the way out (it fails on the missing
        // response instead): ask once more, plainly, for the reason.
        throw unavailable(options.directoryUrl, url, await networkReason(url, agent, e));
      }
      if (resp.status >= 400) {
        const data = (resp.data ?? {}) as { type?: unknown; detail?: unknown };
        const retryAfter = parseRetryAfter(resp.headers?.['retry-after'], Date.now());
        holder.lastProblem = {
          status: resp.status,
          type: typeof data.type === 'string' ? data.type : '',
          detail: typeof data.detail === 'string' ? data.detail.slice(0, 1000) : '',
          url,
          retryAfter,
        };
        if ((resp.status === 429 || resp.status === 503) && attempt < attempts) {
          const wait =
            retryAfter === undefined
              ? minDelay * 2 ** (attempt - 1)
              : Math.max(0, retryAfter.getTime() - Date.now());
          if (wait <= maxDelay) {
            await sleep(wait);
            continue;
          }
        }
      }
      return resp;
    }
  };
  return client;
}

/**
 * One TLS context per private ACME root, made once: a `ca` option on the agent would make Node parse the
 * system roots and this one again for every new connection (about 50 ms each, several per order).
 */
const trustContexts = new Map<string, SecureContext>();
function trustContext(directoryCA: string): SecureContext {
  let context = trustContexts.get(directoryCA);
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, directoryCA] });
    trustContexts.set(directoryCA, context);
  }
  return context;
}

/**
 * An account object around a new protocol client, whose failed requests leave their problem document in
 * `lastProblem` for {@link acmeFailure}.
 */
function accountWithClient(
  options: AcmeAccountOptions,
  keyPEM: string,
  info: AcmeAccountInfo,
  keyFile: string,
): AcmeAccount {
  const holder = { lastProblem: undefined as Problem | undefined };
  const client = buildClient(options, keyPEM, info.url === '' ? undefined : info.url, holder);
  const account = new AcmeAccount(info, keyFile, client);
  Object.defineProperty(account, 'lastProblem', {
    get: () => holder.lastProblem,
    set: (v: Problem | undefined) => {
      holder.lastProblem = v;
    },
  });
  return account;
}

/** The URL of the CA's terms of service, when its directory names one. */
async function termsOfService(account: AcmeAccount): Promise<string | undefined> {
  try {
    return (await account.client.getTermsOfServiceUrl()) ?? undefined;
  } catch (e) {
    throw acmeFailure(account, e, `Reading the directory ${account.directoryUrl}`, 'ERR_ACME_UNAVAILABLE');
  }
}

/** A new account's record before the CA has answered: no URL yet. */
const unregistered = (directoryUrl: string): AcmeAccountInfo => ({
  directoryUrl,
  url: '',
  contact: [],
  termsOfService: undefined,
  createdAt: '',
});

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Registers an ACME account (or finds the one its stored key already has) and stores its key (0600) and
 * record in the store's private area. Registering twice with the same store and directory reuses the key.
 *
 * @throws AcmeError `ERR_ACME_TERMS` when the directory lists terms of service and `agreeToTerms` is not
 *   true (the message gives their URL); `ERR_ACME_ACCOUNT` for a bad directory URL or e-mail address;
 *   `ERR_ACME_UNAVAILABLE` when the server cannot be reached or its HTTPS certificate is not trusted;
 *   `ERR_ACME_RATE_LIMITED`, `ERR_ACME_PROTOCOL` for other refusals. StoreError `ERR_STORE_IO` when the key
 *   cannot be written.
 * @example
 * ```ts
 * import { CertificateStore } from 'mailtls/node';
 * import { registerAcmeAccount } from 'mailtls/acme';
 * const store = new CertificateStore('/etc/mail/tls');
 * const account = await registerAcmeAccount({
 *   store,
 *   directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
 *   email: 'postmaster@example.com',
 *   agreeToTerms: true, // after reading https://letsencrypt.org/repository/
 * });
 * console.log(account.info.url);
 * ```
 */
export async function registerAcmeAccount(options: AcmeAccountOptions): Promise<AcmeAccount> {
  checkOptions(options);
  const dir = accountDirectory(options.store, options.directoryUrl);
  const keyFile = join(dir, 'account.key');
  let keyPEM = await readIfExists(keyFile);
  const fresh = keyPEM === undefined;
  if (keyPEM === undefined)
    keyPEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  const account = accountWithClient(options, keyPEM, unregistered(options.directoryUrl), keyFile);
  const client = account.client;
  const terms = await termsOfService(account);
  if (terms !== undefined && options.agreeToTerms !== true)
    throw new AcmeError(
      'ERR_ACME_TERMS',
      `The CA at ${options.directoryUrl} requires agreeing to its terms of service: read ${terms}, then ` +
        'register again with agreeToTerms: true (mailtls acme register --agree-tos).',
      { details: { directoryUrl: options.directoryUrl, termsOfService: terms } },
    );
  const contact = options.email === undefined ? [] : [`mailto:${options.email}`];
  try {
    await client.createAccount({
      termsOfServiceAgreed: options.agreeToTerms === true,
      ...(contact.length === 0 ? {} : { contact }),
    });
  } catch (e) {
    throw acmeFailure(account, e, `Registering an account at ${options.directoryUrl}`);
  }
  const info: AcmeAccountInfo = {
    directoryUrl: options.directoryUrl,
    url: client.getAccountUrl(),
    contact,
    termsOfService: terms,
    createdAt: new Date().toISOString(),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (fresh) await saveFileAtomic(keyFile, keyPEM, { mode: 0o600 });
  await saveFileAtomic(join(dir, 'account.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
  Object.assign(account, { info });
  return account;
}

/**
 * Opens the account registered for a directory in a store (no request is sent).
 *
 * @throws AcmeError `ERR_ACME_ACCOUNT` when the store has no account for that directory (register one
 *   first) or its record is damaged.
 * @example
 * ```ts
 * const account = await loadAcmeAccount({ store, directoryUrl });
 * ```
 */
export async function loadAcmeAccount(options: AcmeAccountOptions): Promise<AcmeAccount> {
  checkOptions(options);
  const dir = accountDirectory(options.store, options.directoryUrl);
  const keyFile = join(dir, 'account.key');
  const [keyPEM, record] = await Promise.all([
    readIfExists(keyFile),
    readIfExists(join(dir, 'account.json')),
  ]);
  if (keyPEM === undefined || record === undefined)
    throw new AcmeError(
      'ERR_ACME_ACCOUNT',
      `The store ${options.store.root} has no ACME account for ${options.directoryUrl}: register one first ` +
        '(mailtls acme register, or registerAcmeAccount).',
      { details: { directoryUrl: options.directoryUrl, store: options.store.root } },
    );
  let info: AcmeAccountInfo;
  try {
    info = JSON.parse(record) as AcmeAccountInfo;
    if (typeof info.url !== 'string' || info.url === '') throw new TypeError('no url');
  } catch (e) {
    throw new AcmeError(
      'ERR_ACME_ACCOUNT',
      `The account record ${join(dir, 'account.json')} is damaged: register the account again.`,
      { cause: e, details: { path: join(dir, 'account.json') } },
    );
  }
  const account = accountWithClient(options, keyPEM, info, keyFile);
  return account;
}

/** acme-client's HTTP layer (with this account's trust and retries, see `buildClient`). */
function httpOf(account: AcmeAccount): { getDirectory(): Promise<unknown>; request: RequestFn } {
  return (account.client as unknown as { http: { getDirectory(): Promise<unknown>; request: RequestFn } })
    .http;
}

/**
 * The CA's directory (RFC 8555 section 7.1.1), as acme-client caches it.
 * @internal
 */
export async function acmeDirectory(account: AcmeAccount): Promise<Readonly<Record<string, unknown>>> {
  try {
    const dir = await httpOf(account).getDirectory();
    if (dir === null || typeof dir !== 'object') throw new TypeError('the directory is not a JSON object');
    return dir as Record<string, unknown>;
  } catch (e) {
    throw acmeFailure(account, e, `Reading the directory ${account.directoryUrl}`, 'ERR_ACME_UNAVAILABLE');
  }
}

/**
 * An unauthenticated GET (renewal information, RFC 9773 section 4.1) through the account's client: its
 * trust, and its retries of network failures and `429`/`503` answers.
 * @internal
 */
export async function acmeGet(
  account: AcmeAccount,
  url: string,
): Promise<{ status: number; data: unknown; headers: Record<string, unknown> }> {
  const resp = await httpOf(account).request(url, 'get', { headers: { accept: 'application/json' } });
  return { status: resp.status, data: resp.data, headers: resp.headers ?? {} };
}

/**
 * The ACME profiles the account's CA offers (draft-ietf-acme-profiles: the directory's `meta.profiles`), by
 * name, each with the CA's description (a text or a URL); empty when the CA lists none.
 *
 * @throws AcmeError `ERR_ACME_UNAVAILABLE` when the directory cannot be read.
 * @example
 * ```ts
 * const profiles = await acmeProfiles(account);
 * for (const [name, about] of Object.entries(profiles)) console.log(name, about);
 * ```
 */
export async function acmeProfiles(account: AcmeAccount): Promise<Readonly<Record<string, string>>> {
  const meta = (await acmeDirectory(account)).meta as { profiles?: unknown } | undefined;
  const profiles = meta?.profiles;
  const out: Record<string, string> = {};
  if (profiles === null || typeof profiles !== 'object' || Array.isArray(profiles)) return out;
  for (const [name, about] of Object.entries(profiles)) out[name] = typeof about === 'string' ? about : '';
  return out;
}

/**
 * An account with a new key that is never stored (for a dry run on a staging directory): registered at the
 * directory, agreeing to its terms only when `agreeToTerms` is true.
 * @internal
 */
export async function createThrowawayAccount(
  options: Omit<AcmeAccountOptions, 'store' | 'email'>,
): Promise<AcmeAccount> {
  if (typeof options.directoryUrl !== 'string') throw new TypeError('the staging directory must be a URL');
  const keyPEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const account = accountWithClient(
    options as AcmeAccountOptions,
    keyPEM,
    unregistered(options.directoryUrl),
    '',
  );
  const client = account.client;
  const terms = await termsOfService(account);
  if (terms !== undefined && options.agreeToTerms !== true)
    throw new AcmeError(
      'ERR_ACME_TERMS',
      `The staging CA at ${options.directoryUrl} requires agreeing to its terms of service: read ${terms}, ` +
        'then give agreeToTerms: true with the staging directory (mailtls acme ... --agree-tos).',
      { details: { directoryUrl: options.directoryUrl, termsOfService: terms } },
    );
  try {
    await client.createAccount({ termsOfServiceAgreed: options.agreeToTerms === true });
  } catch (e) {
    throw acmeFailure(account, e, `Registering a throwaway account at ${options.directoryUrl}`);
  }
  Object.assign(account, {
    info: {
      directoryUrl: options.directoryUrl,
      url: client.getAccountUrl(),
      contact: [],
      termsOfService: terms,
      createdAt: new Date().toISOString(),
    },
  });
  return account;
}
