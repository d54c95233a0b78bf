/**
 * What the store remembers about each ACME-managed domain, in `<root>/acme/<name>.json` (0644, no secrets):
 * how it was ordered (directory, names, challenge, key policy), so that `renew` needs nothing but the store;
 * failures and the back-off that survives restarts; the renewal jitter chosen for the certificate in
 * service; and when the next key of a `next-published` rollover was made. The next key itself is in
 * `private/acme/next/<name>.key` (0600).
 *
 * @module node/acme/state
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { saveFileAtomic } from '../store/atomic-write.js';
import { storeName } from '../store/layout.js';
import type { CertificateStore } from '../store/store.js';

/** The challenge types. */
export type AcmeChallengeType = 'tls-alpn-01' | 'http-01' | 'dns-01';

/**
 * What key a renewal uses: `reuse` keeps the key in service (TLSA `3 1 1` records stay valid; the default
 * for a DANE domain); `next-published` makes the next key ahead and switches to it only once its TLSA
 * record has been published for `nextKeyPublishedForMs`; `fresh` makes a new key each time.
 */
export type KeyRollover = 'reuse' | 'next-published' | 'fresh';

/** The stored ACME state of a domain. */
export interface AcmeDomainState {
  /** The domain (Common Name), canonical. */
  readonly domain: string;
  /** Every name ordered, the domain first. */
  readonly names: readonly string[];
  /** The ACME directory it was ordered from. */
  readonly directoryUrl: string;
  /** The challenge it was ordered with. */
  readonly challenge: AcmeChallengeType;
  /** The type of new keys. */
  readonly keyType: 'ec' | 'rsa';
  /** The key policy of renewals. */
  readonly keyRollover: KeyRollover;
  /** Failed attempts since the last success. */
  readonly failures: number;
  /** Not before this time (ISO) after a failure; the back-off. */
  readonly nextAttemptAt: string | undefined;
  /** The last failure. */
  readonly lastError:
    | {
        /** Its error code (`ERR_ACME_CHALLENGE`...). */
        readonly code: string;
        /** Its message. */
        readonly message: string;
        /** When (ISO). */
        readonly at: string;
      }
    | undefined;
  /** The last success (ISO). */
  readonly lastSuccessAt: string | undefined;
  /** The certificate the jitter below was chosen for (SHA-256 fingerprint). */
  readonly jitterFor: string | undefined;
  /** How much earlier than the rule this certificate is renewed, in milliseconds. */
  readonly jitterMs: number;
  /** When the waiting next key was made (ISO), for `next-published`. */
  readonly nextKeyCreatedAt: string | undefined;
  /** The ACME profile it was ordered with (renewals ask for the same), if any. */
  readonly profile?: string | undefined;
  /** The CA's renewal window (RFC 9773) of the certificate in service, as last fetched. */
  readonly ari?: AcmeAriState | undefined;
  /** The pre-flight check the domain was ordered with (DNS servers, LAN-only), or false when skipped. */
  readonly preflight?:
    | false
    | {
        /** The DNS servers asked. */
        readonly servers?: readonly string[];
        /** LAN addresses accepted. */
        readonly lanOnly?: boolean;
      }
    | undefined;
}

/** The renewal information (RFC 9773) the store keeps for the certificate in service. */
export interface AcmeAriState {
  /** The certificate it is for (SHA-256 fingerprint). */
  readonly certFor: string;
  /** The certificate's RFC 9773 identifier. */
  readonly certId: string;
  /** The suggested window's start (ISO). */
  readonly start: string;
  /** The suggested window's end (ISO). */
  readonly end: string;
  /** The time chosen uniformly at random inside the window (ISO); drawn again when the window changes. */
  readonly renewAt: string;
  /** The CA's explanation page, if any. */
  readonly explanationUrl?: string | undefined;
  /** Not asked again before this time (the CA's `Retry-After`, ISO). */
  readonly nextCheckAt: string;
  /** When it was fetched (ISO). */
  readonly checkedAt: string;
}

/** The state file of a domain. @internal */
export function statePath(store: CertificateStore, domain: string): string {
  return join(store.root, 'acme', `${storeName(domain).fileName}.json`);
}

/** The waiting next key of a domain (`next-published`). */
export function nextKeyPath(store: CertificateStore, domain: string): string {
  return join(store.root, 'private', 'acme', 'next', `${storeName(domain).fileName}.key`);
}

/**
 * Reads the ACME state of a domain; undefined when the domain is not ACME-managed.
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN`; SyntaxError for a damaged file.
 * @example `const s = await loadAcmeState(store, 'example.com'); console.log(s?.failures)`
 */
export async function loadAcmeState(
  store: CertificateStore,
  domain: string,
): Promise<AcmeDomainState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(store, domain), 'utf8')) as AcmeDomainState;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes the state atomically. @internal */
export async function saveAcmeState(store: CertificateStore, state: AcmeDomainState): Promise<void> {
  await mkdir(join(store.root, 'acme'), { recursive: true, mode: 0o755 });
  await saveFileAtomic(statePath(store, state.domain), `${JSON.stringify(state, null, 2)}\n`, {
    mode: 0o644,
  });
}

/** Removes the state of a domain. @internal */
export async function removeAcmeState(store: CertificateStore, domain: string): Promise<void> {
  await rm(statePath(store, domain), { force: true });
}

/**
 * The ACME-managed domains of a store, sorted.
 * @example `for (const d of await listAcmeDomains(store)) console.log(d)`
 */
export async function listAcmeDomains(store: CertificateStore): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(store.root, 'acme'));
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const out: string[] = [];
  for (const f of entries) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const s = await loadAcmeState(store, f.slice(0, -5).replace(/^_wildcard\./, '*.')).catch(() => undefined);
    if (s) out.push(s.domain);
  }
  return out.sort();
}

/**
 * The back-off after `failures` failed attempts: 5 minutes, doubled each time, at most a day; a CA's
 * `Retry-After` later than that wins.
 * @internal
 */
export function backoffMs(failures: number): number {
  return Math.min(24 * 3_600_000, 5 * 60_000 * 2 ** Math.max(0, failures - 1));
}
