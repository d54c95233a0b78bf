/**
 * ACME Renewal Information (ARI, RFC 9773): the CA's suggested renewal window for a certificate, read with
 * an unauthenticated GET of `<renewalInfo>/<CertID>`, where the directory lists `renewalInfo` and the
 * CertID is `base64url(authority key identifier) "." base64url(serial number's DER content octets)`. A
 * client renews at a time chosen uniformly at random inside the window (at once when that time has passed)
 * and asks again after the server's `Retry-After`. The same CertID goes in the `replaces` field of the
 * new order (RFC 9773 section 5), so the CA knows which certificate the order renews.
 *
 * acme-client (5.4) knows neither: the GET goes through the account's HTTP client (its trust and retries),
 * and `replaces` is an extra field of the newOrder payload, which acme-client passes on unchanged.
 *
 * @module node/acme/ari
 */
import { AcmeError } from '../../errors.js';
import { type AcmeAccount, acmeDirectory, acmeGet } from './account.js';

/** What {@link ariCertId} reads of a certificate (a parsed `Certificate` has both). */
export interface AriCertificate {
  /** Lower-case hex of the serial number's content octets, with or without a leading `00`. */
  readonly serialNumber: string;
  /** The authority key identifier extension, if present (its `keyIdentifier` is hex). */
  readonly authorityKeyIdentifier?:
    | {
        /** The issuer's key identifier, hex. */
        readonly keyIdentifier?: string | undefined;
      }
    | undefined;
}

/** A certificate's renewal information (RFC 9773 section 4.2). */
export interface RenewalInfo {
  /** The certificate's identifier (RFC 9773 section 4.1). */
  readonly certId: string;
  /** The start of the suggested window. */
  readonly start: Date;
  /** The end of the suggested window (after `start`). */
  readonly end: Date;
  /** The CA's page explaining the window (e.g. why a certificate must be renewed early), if given. */
  readonly explanationUrl: string | undefined;
  /**
   * When to ask again: the server's `Retry-After`, kept between one minute and one day; six hours when the
   * server gives none.
   */
  readonly nextCheckAt: Date;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** The wait before asking again when the server's answer has no `Retry-After`. */
const DEFAULT_RETRY_MS = 6 * 3_600_000;

function base64url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

/**
 * The RFC 9773 identifier of a certificate: the base64url (no padding) of its authority key identifier's
 * `keyIdentifier`, a dot, and the base64url of its serial number's DER content octets (a positive serial
 * whose first bit is set keeps its leading zero byte).
 *
 * @throws AcmeError `ERR_ACME_RENEWAL_INFO` when the certificate has no authority key identifier (no ACME
 *   CA issues such certificates; the lifetime rule applies to it).
 * @example
 * ```ts
 * import { parseCertificate } from 'mailtls';
 * const id = ariCertId(parseCertificate(pem)); // 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE'
 * ```
 */
export function ariCertId(cert: AriCertificate): string {
  const keyId = cert.authorityKeyIdentifier?.keyIdentifier?.replace(/[^0-9a-fA-F]/g, '');
  if (keyId === undefined || keyId === '')
    throw new AcmeError(
      'ERR_ACME_RENEWAL_INFO',
      'The certificate has no authority key identifier, so the CA cannot be asked for its renewal window ' +
        '(RFC 9773): the lifetime rule decides when it is renewed.',
      { details: { reason: 'no-authority-key-identifier' } },
    );
  let serial = cert.serialNumber.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  if (serial.length % 2 === 1) serial = `0${serial}`;
  if (serial === '') serial = '00';
  // DER INTEGER content octets of a positive number: a leading zero byte when the first bit is set.
  if (Number.parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`;
  return `${base64url(keyId)}.${base64url(serial)}`;
}

/** The `Retry-After` of an answer (seconds or an HTTP date), kept between one minute and one day. @internal */
export function retryAfterAt(value: unknown, now: Date): Date {
  let ms = DEFAULT_RETRY_MS;
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else if (text !== '' && !Number.isNaN(Date.parse(text))) ms = Date.parse(text) - now.getTime();
  return new Date(now.getTime() + Math.min(DAY, Math.max(MINUTE, ms)));
}

/**
 * The renewal-information URL of the account's CA, or undefined when its directory lists none (the CA does
 * not implement RFC 9773).
 *
 * @throws AcmeError `ERR_ACME_UNAVAILABLE` when the directory cannot be read.
 * @example `if (await renewalInfoUrl(account)) console.log('the CA suggests renewal windows')`
 */
export async function renewalInfoUrl(account: AcmeAccount): Promise<string | undefined> {
  const url = (await acmeDirectory(account)).renewalInfo;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

/**
 * Asks the account's CA for a certificate's suggested renewal window (RFC 9773 section 4.2). Answers
 * undefined when the CA does not offer renewal information.
 *
 * @throws AcmeError `ERR_ACME_RENEWAL_INFO` when the certificate has no authority key identifier, the CA
 *   answers with an error (`details.status`), or the answer is malformed (no window, or one that ends before
 *   it starts): the caller decides by the lifetime rule instead; `ERR_ACME_UNAVAILABLE` when the CA cannot
 *   be reached.
 * @example
 * ```ts
 * const info = await fetchRenewalInfo(account, (await store.load('example.com')).leaf);
 * if (info) console.log(`renew between ${info.start.toISOString()} and ${info.end.toISOString()}`);
 * ```
 */
export async function fetchRenewalInfo(
  account: AcmeAccount,
  cert: AriCertificate,
  options: { at?: Date | undefined } = {},
): Promise<RenewalInfo | undefined> {
  const base = await renewalInfoUrl(account);
  if (base === undefined) return undefined;
  const certId = ariCertId(cert);
  const url = `${base.replace(/\/+$/, '')}/${certId}`;
  const resp = await acmeGet(account, url);
  const now = options.at ?? new Date();
  const fail = (why: string, reason: string): AcmeError =>
    new AcmeError(
      'ERR_ACME_RENEWAL_INFO',
      `The renewal information of certificate ${certId} from ${url} ${why}: the lifetime rule decides when ` +
        'it is renewed until the CA answers properly.',
      {
        details: { directoryUrl: account.directoryUrl, url, status: resp.status, certId, reason },
      },
    );
  if (resp.status !== 200) {
    const detail = (resp.data as { detail?: unknown } | null)?.detail;
    throw fail(
      `could not be read (HTTP ${resp.status}${typeof detail === 'string' ? `: ${detail.slice(0, 200)}` : ''})`,
      'status',
    );
  }
  const data = resp.data as {
    suggestedWindow?: { start?: unknown; end?: unknown };
    explanationURL?: unknown;
  } | null;
  const start =
    typeof data?.suggestedWindow?.start === 'string' ? new Date(data.suggestedWindow.start) : null;
  const end = typeof data?.suggestedWindow?.end === 'string' ? new Date(data.suggestedWindow.end) : null;
  if (start === null || end === null || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()))
    throw fail('has no suggestedWindow with RFC 3339 start and end times', 'malformed');
  if (end.getTime() <= start.getTime())
    throw fail(
      `has a window that ends (${end.toISOString()}) before it starts (${start.toISOString()})`,
      'malformed',
    );
  return {
    certId,
    start,
    end,
    explanationUrl: typeof data?.explanationURL === 'string' ? data.explanationURL : undefined,
    nextCheckAt: retryAfterAt(resp.headers['retry-after'], now),
  };
}
