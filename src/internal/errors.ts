/**
 * The error model of mailtls.
 *
 * Every failure caused by input (a file, a certificate, a peer) is a {@link MailTlsError} with a stable
 * `code` of the form `ERR_<AREA>_<WHAT>`, a message that tells an administrator what to do, and structured
 * `details`. Programmer mistakes (a wrong argument type, an out-of-range option) are plain `TypeError` or
 * `RangeError`. Messages and details never contain private-key bytes.
 *
 * @module internal/errors
 */

export * from './error-codes.js';

import type {
  AcmeErrorCode,
  CertificateErrorCode,
  ChainErrorCode,
  ConfigErrorCode,
  CSRErrorCode,
  DERErrorCode,
  ErrorCode,
  ErrorDetails,
  HostnameErrorCode,
  KeyErrorCode,
  PEMErrorCode,
  PKCS12ErrorCode,
  ProbeErrorCode,
  SettingsErrorCode,
  StoreErrorCode,
  TLSErrorCode,
} from './error-codes.js';

/** Options accepted by every mailtls error constructor. */
export interface MailTlsErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The lower-level error this one wraps. */
  cause?: unknown;
  /** Structured, JSON-safe facts about the failure (never key material); their shape is per code. */
  details?: ErrorDetails<C>;
}

/** The JSON form of a {@link MailTlsError} (what `JSON.stringify` writes). */
export interface MailTlsErrorJSON {
  /** The class name, e.g. `KeyError`. */
  name: string;
  /** The stable code. */
  code: ErrorCode;
  /** The message for the administrator. */
  message: string;
  /** Structured facts about the failure. */
  details: ErrorDetails;
}

/**
 * The base class of every input error mailtls throws.
 *
 * @example
 * ```ts
 * import { MailTlsError, parsePEM } from 'mailtls';
 * try {
 *   parsePEM('not pem');
 * } catch (e) {
 *   if (e instanceof MailTlsError && e.code === 'ERR_PEM_NO_BLOCK') console.error(e.message);
 * }
 * ```
 */
export class MailTlsError<C extends ErrorCode = ErrorCode> extends Error {
  /** The stable, machine-readable code, e.g. `ERR_PEM_NO_BLOCK`. */
  readonly code: C;
  /** Structured facts about the failure; JSON-safe and free of key material; typed per code. */
  readonly details: ErrorDetails<C>;

  constructor(code: C, message: string, options: MailTlsErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) }) as ErrorDetails<C>;
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }

  /** A JSON view: name, code, message and details (the cause is left out). */
  toJSON(): MailTlsErrorJSON {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/**
 * A PEM text could not be read. @example `new PEMError('ERR_PEM_NO_BLOCK', 'no PEM block')`
 */
export class PEMError<C extends PEMErrorCode = PEMErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * DER/ASN.1 bytes are malformed or exceed a limit. @example `new DERError('ERR_DER_INVALID', 'truncated')`
 */
export class DERError<C extends DERErrorCode = DERErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A key could not be generated, read, decrypted or matched. @example `new KeyError('ERR_KEY_PASSPHRASE', 'wrong pass phrase')`
 */
export class KeyError<C extends KeyErrorCode = KeyErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A certificate or bundle is malformed or unsupported. @example `new CertificateError('ERR_CERT_INVALID', 'bad DER')`
 */
export class CertificateError<C extends CertificateErrorCode = CertificateErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A CSR or its subject is invalid. @example `new CSRError('ERR_CSR_COUNTRY', 'use a 2-letter code')`
 */
export class CSRError<C extends CSRErrorCode = CSRErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A host name is invalid or not covered by a certificate. For `ERR_HOSTNAME_MISMATCH`, `details.validNames` lists
 * the names the certificate is valid for. @example `new HostnameError('ERR_HOSTNAME_MISMATCH', 'not covered', { details: { validNames: [] } })`
 */
export class HostnameError<C extends HostnameErrorCode = HostnameErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A chain could not be assembled or validated; `details.reason` says why. @example `new ChainError('ERR_CHAIN_UNKNOWN_ISSUER', 'missing intermediate')`
 */
export class ChainError<C extends ChainErrorCode = ChainErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A PKCS#12 file could not be opened or written. @example `new PKCS12Error('ERR_PKCS12_PASSWORD', 'wrong password')`
 */
export class PKCS12Error<C extends PKCS12ErrorCode = PKCS12ErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * The certificate store refused or failed an operation. @example `new StoreError('ERR_STORE_NOT_FOUND', 'no such domain')`
 */
export class StoreError<C extends StoreErrorCode = StoreErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * TLS serving, STARTTLS, reload or probing failed. @example `new TLSError('ERR_TLS_STARTTLS', 'peer refused STARTTLS')`
 */
export class TLSError<C extends TLSErrorCode = TLSErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * The TLS probe could not reach its target or the target did not speak its protocol.
 * @example `new ProbeError('ERR_PROBE_CONNECT', 'connection refused', { details: { url: 'smtp://mail.example.com' } })`
 */
export class ProbeError<C extends ProbeErrorCode = ProbeErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * An ACME certificate authority refused or failed an issuance or renewal; `details` carries the server's
 * problem type (`problem`), the URL asked and, for a rate limit, `retryAfter` (an ISO time). The certificate
 * in service is never changed by a failed issuance.
 * @example `new AcmeError('ERR_ACME_RATE_LIMITED', 'too many certificates', { details: { retryAfter } })`
 */
export class AcmeError<C extends AcmeErrorCode = AcmeErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * TLS settings are invalid, from a newer version, changed by someone else meanwhile, or the administrator's
 * accounts are missing. @example `new SettingsError('ERR_SETTINGS_INVALID', 'smtp.profile: unknown profile')`
 */
export class SettingsError<C extends SettingsErrorCode = SettingsErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * A server configuration could not be written from the given layout or settings (a path or name the server's
 * configuration syntax cannot hold), or a deploy hook could not be started.
 * @example `new ConfigError('ERR_CONFIG_INVALID', 'a path with a comma')`
 */
export class ConfigError<C extends ConfigErrorCode = ConfigErrorCode> extends MailTlsError<C> {
  constructor(code: C, message: string, options?: MailTlsErrorOptions<C>) {
    super(code, message, options);
  }
}

/**
 * Tells whether a value is a {@link MailTlsError}, optionally with a given code; with a code, the error's
 * `details` are typed for it.
 *
 * @example
 * ```ts
 * if (isMailTlsError(e, 'ERR_KEY_PASSPHRASE')) askAgain();
 * ```
 */
export function isMailTlsError<C extends ErrorCode = ErrorCode>(
  value: unknown,
  code?: C,
): value is MailTlsError<C> {
  return value instanceof MailTlsError && (code === undefined || value.code === code);
}
