/**
 * DANE TLSA records for SMTP (RFC 6698, RFC 7671, RFC 7672): {@link tlsaRecord} and, for a key rollover,
 * {@link tlsaRecords}.
 *
 * For a mail server the usual record is `3 1 1`: DANE-EE (usage 3), the SubjectPublicKeyInfo (selector 1),
 * SHA-256 (matching type 1). It survives certificate renewals that keep the key, so the record only has to
 * change when the key does. RFC 7672 §3.1 recommends `3 1 1` (and `2 1 1` for a trust anchor). Before a new
 * key goes live, publish its record next to the current one and wait at least twice the record's TTL
 * ("current + next", RFC 7671 §8.1).
 *
 * The owner name is `_25._tcp.<MX host>.`: the host the MX record names, not the mail domain.
 *
 * Pure: hashes with `@noble/hashes`, no I/O.
 *
 * @module tlsa
 */
import { sha256, sha512 } from '@noble/hashes/sha2';
import { toHex } from '../internal/encoding/bytes.js';
import { PrivateKey, PublicKey } from '../keys/keys.js';
import { canonicalizeHostname } from '../names/hostname.js';
import type { Certificate } from '../x509/certificate.js';

/** TLSA certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. */
export type TLSAUsage = 0 | 1 | 2 | 3;
/** TLSA selector: 0 the whole certificate, 1 the SubjectPublicKeyInfo. */
export type TLSASelector = 0 | 1;
/** TLSA matching type: 0 the data itself, 1 SHA-256, 2 SHA-512. */
export type TLSAMatchingType = 0 | 1 | 2;

/** What a TLSA record can be made from. A bare key works with selector 1 only. */
export type TLSASubject = Certificate | PublicKey | PrivateKey;

/** Options of {@link tlsaRecord}. */
export interface TLSAOptions {
  /** Certificate usage; default 3 (DANE-EE). */
  usage?: TLSAUsage | undefined;
  /** Selector; default 1 (SubjectPublicKeyInfo). */
  selector?: TLSASelector | undefined;
  /** Matching type; default 1 (SHA-256). */
  matchingType?: TLSAMatchingType | undefined;
  /** The MX host (as the MX record names it); gives the owner name `_<port>._tcp.<mxHost>.`. */
  mxHost?: string | undefined;
  /** Port; default 25 (SMTP). 465/587 for submission, 993 for IMAP. */
  port?: number | undefined;
  /** A TTL to put in the zone-file line. */
  ttl?: number | undefined;
}

/** A TLSA record. */
export interface TLSARecord {
  /** Certificate usage (3 = DANE-EE). */
  readonly usage: TLSAUsage;
  /** Selector (1 = SubjectPublicKeyInfo). */
  readonly selector: TLSASelector;
  /** Matching type (1 = SHA-256). */
  readonly matchingType: TLSAMatchingType;
  /** Certificate association data, lower-case hex. */
  readonly data: string;
  /** The owner name, e.g. `_25._tcp.mx.example.com.`, when `mxHost` was given. */
  readonly owner: string | undefined;
  /** The RDATA: `3 1 1 <hex>`. */
  readonly rdata: string;
  /**
   * A zone-file line: `_25._tcp.mx.example.com. IN TLSA 3 1 1 <hex>` (with the TTL when given); only the
   * RDATA when no `mxHost` was given.
   */
  readonly line: string;
}

function selected(subject: TLSASubject, selector: TLSASelector): Uint8Array {
  if (subject instanceof PrivateKey || subject instanceof PublicKey) {
    if (selector === 0)
      throw new TypeError(
        'selector 0 (full certificate) needs a certificate, not a key; use selector 1 for a key',
      );
    return (subject instanceof PrivateKey ? subject.publicKey : subject).spki;
  }
  if (
    subject === null ||
    typeof subject !== 'object' ||
    !(subject.der instanceof Uint8Array) ||
    !(subject.spki instanceof Uint8Array)
  )
    throw new TypeError('tlsaRecord expects a parsed Certificate, a PublicKey or a PrivateKey');
  return selector === 0 ? subject.der : subject.spki;
}

function member<T extends number>(value: unknown, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new RangeError(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/**
 * Makes a TLSA record for a certificate (or, with selector 1, for a key that has no certificate yet).
 * The hash of `3 1 1` equals
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`.
 *
 * @param subject - a parsed certificate, or a public/private key (selector 1 only).
 * @param options - usage, selector, matching type (default `3 1 1`), `mxHost`, `port` (default 25), `ttl`.
 * @throws HostnameError `ERR_HOSTNAME_INVALID` when `mxHost` is not a valid host name. RangeError for a usage,
 *   selector, matching type, port or TTL out of range; TypeError for a key with selector 0 or a wrong type.
 * @example
 * ```ts
 * import { parseCertificate, tlsaRecord } from 'mailtls';
 * const r = tlsaRecord(parseCertificate(pem), { mxHost: 'mx.example.com' });
 * console.log(r.line); // _25._tcp.mx.example.com. IN TLSA 3 1 1 8f3a...
 * ```
 */
export function tlsaRecord(subject: TLSASubject, options: TLSAOptions = {}): TLSARecord {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const usage = member(options.usage, [0, 1, 2, 3] as const, 'usage', 3);
  const selector = member(options.selector, [0, 1] as const, 'selector', 1);
  const matchingType = member(options.matchingType, [0, 1, 2] as const, 'matchingType', 1);
  const port = options.port ?? 25;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError('port must be an integer from 1 to 65535');
  const ttl = options.ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647))
    throw new RangeError('ttl must be an integer from 0 to 2147483647');
  const bytes = selected(subject, selector);
  const digest = matchingType === 0 ? bytes : matchingType === 1 ? sha256(bytes) : sha512(bytes);
  const data = toHex(digest);
  const rdata = `${usage} ${selector} ${matchingType} ${data}`;
  let owner: string | undefined;
  if (options.mxHost !== undefined) {
    if (typeof options.mxHost !== 'string') throw new TypeError('mxHost must be a string');
    owner = `_${port}._tcp.${canonicalizeHostname(options.mxHost)}.`;
  }
  const line = owner === undefined ? rdata : `${owner}${ttl === undefined ? '' : ` ${ttl}`} IN TLSA ${rdata}`;
  return { usage, selector, matchingType, data, owner, rdata, line };
}

/**
 * The TLSA records to publish during a key rollover: the record of the current certificate and the record
 * of the next key (or certificate), without duplicates (when the next certificate keeps the key, one record
 * serves both). Publish both, wait at least twice the TTL, switch the server to the new key, then remove
 * the old record.
 *
 * @param current - the certificate in service.
 * @param next - the next certificate, or the next key before its certificate exists (selector 1 only).
 * @param options - as for {@link tlsaRecord}.
 * @throws As {@link tlsaRecord}.
 * @example
 * ```ts
 * const next = await generateKeyPair({ type: 'ec' });
 * for (const r of tlsaRecords(currentCert, next, { mxHost: 'mx.example.com' })) console.log(r.line);
 * ```
 */
export function tlsaRecords(
  current: TLSASubject,
  next: TLSASubject | undefined,
  options: TLSAOptions = {},
): TLSARecord[] {
  const out = [tlsaRecord(current, options)];
  if (next !== undefined) {
    const r = tlsaRecord(next, options);
    if (r.rdata !== out[0]!.rdata) out.push(r);
  }
  return out;
}
