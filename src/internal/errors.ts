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

/** Codes of the PEM layer (RFC 7468 armour). */
export type PEMErrorCode =
  | 'ERR_PEM_NO_BLOCK'
  | 'ERR_PEM_LABEL_MISMATCH'
  | 'ERR_PEM_BASE64'
  | 'ERR_PEM_TRUNCATED'
  | 'ERR_PEM_HEADERS'
  | 'ERR_PEM_UNEXPECTED_LABEL'
  | 'ERR_PEM_TOO_LARGE'
  | 'ERR_PEM_STRICT'
  | 'ERR_PEM_BOUNDARY';

/** Codes of the DER/ASN.1 layer. */
export type DERErrorCode = 'ERR_DER_INVALID' | 'ERR_DER_TOO_DEEP' | 'ERR_DER_TOO_LARGE';

/** Codes of private and public keys. */
export type KeyErrorCode =
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_UNSUPPORTED'
  | 'ERR_KEY_PASSPHRASE'
  | 'ERR_KEY_ENCRYPTED'
  | 'ERR_KEY_MISMATCH'
  | 'ERR_KEY_GENERATION'
  | 'ERR_KEY_EXPORT';

/** Codes of certificates and bundles. */
export type CertificateErrorCode =
  | 'ERR_CERT_INVALID'
  | 'ERR_CERT_UNSUPPORTED'
  | 'ERR_CERT_SIGNATURE'
  | 'ERR_CERT_TOO_MANY'
  | 'ERR_CERT_NAME'
  | 'ERR_CERT_ISSUE';

/** Codes of certificate signing requests. */
export type CSRErrorCode =
  | 'ERR_CSR_INVALID'
  | 'ERR_CSR_SUBJECT'
  | 'ERR_CSR_COUNTRY'
  | 'ERR_CSR_DNS_NAME'
  | 'ERR_CSR_IP_ADDRESS'
  | 'ERR_CSR_EMAIL'
  | 'ERR_CSR_SIGNATURE';

/** Codes of host-name canonicalisation and matching. */
export type HostnameErrorCode = 'ERR_HOSTNAME_INVALID' | 'ERR_HOSTNAME_MISMATCH';

/** Codes of chain assembly and path validation. */
export type ChainErrorCode =
  | 'ERR_CHAIN_UNKNOWN_ISSUER'
  | 'ERR_CHAIN_UNTRUSTED_ROOT'
  | 'ERR_CHAIN_EXPIRED'
  | 'ERR_CHAIN_NOT_YET_VALID'
  | 'ERR_CHAIN_SIGNATURE'
  | 'ERR_CHAIN_NOT_CA'
  | 'ERR_CHAIN_PATH_LENGTH'
  | 'ERR_CHAIN_KEY_USAGE'
  | 'ERR_CHAIN_EXTENDED_KEY_USAGE'
  | 'ERR_CHAIN_NAME_CONSTRAINTS'
  | 'ERR_CHAIN_CRITICAL_EXTENSION'
  | 'ERR_CHAIN_HOSTNAME'
  | 'ERR_CHAIN_REVOKED'
  | 'ERR_CHAIN_TOO_DEEP'
  | 'ERR_CHAIN_BUDGET'
  | 'ERR_CHAIN_INVALID'
  | 'ERR_CHAIN_CRL';

/** Codes of PKCS#12 (.pfx/.p12) files. */
export type PKCS12ErrorCode =
  | 'ERR_PKCS12_INVALID'
  | 'ERR_PKCS12_PASSWORD'
  | 'ERR_PKCS12_UNSUPPORTED'
  | 'ERR_PKCS12_NO_KEY'
  | 'ERR_PKCS12_NO_CERT';

/** Codes of the on-disk certificate store. */
export type StoreErrorCode =
  | 'ERR_STORE_IO'
  | 'ERR_STORE_NOT_FOUND'
  | 'ERR_STORE_PERMISSIONS'
  | 'ERR_STORE_LOCKED'
  | 'ERR_STORE_INVALID_DOMAIN'
  | 'ERR_STORE_INSTALL'
  | 'ERR_STORE_EXISTS'
  | 'ERR_STORE_LAYOUT'
  | 'ERR_STORE_INVALID_GROUP'
  | 'ERR_STORE_SETTINGS';

/** Codes of TLS serving, STARTTLS, reload and probing. */
export type TLSErrorCode =
  | 'ERR_TLS_CONTEXT'
  | 'ERR_TLS_PROFILE'
  | 'ERR_TLS_STARTTLS'
  | 'ERR_TLS_HANDSHAKE'
  | 'ERR_TLS_CLIENT_HELLO'
  | 'ERR_TLS_TIMEOUT'
  | 'ERR_TLS_WRONG_CERTIFICATE'
  | 'ERR_TLS_RELOAD'
  | 'ERR_TLS_CONNECT'
  | 'ERR_PROBE_CONNECT'
  | 'ERR_PROBE_PROTOCOL'
  | 'ERR_PROBE_URL';

/** Codes of the server configuration emitters (Postfix, Dovecot, Haraka) and deploy hooks. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_HOOK';

/** Every stable error code of mailtls. */
export type ErrorCode =
  | PEMErrorCode
  | DERErrorCode
  | KeyErrorCode
  | CertificateErrorCode
  | CSRErrorCode
  | HostnameErrorCode
  | ChainErrorCode
  | PKCS12ErrorCode
  | StoreErrorCode
  | TLSErrorCode
  | ConfigErrorCode;

/** Options accepted by every mailtls error constructor. */
export interface MailTlsErrorOptions {
  /** The lower-level error this one wraps. */
  cause?: unknown;
  /** Structured, JSON-safe facts about the failure (never key material). */
  details?: Readonly<Record<string, unknown>>;
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
  details: Readonly<Record<string, unknown>>;
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
export class MailTlsError extends Error {
  /** The stable, machine-readable code, e.g. `ERR_PEM_NO_BLOCK`. */
  readonly code: ErrorCode;
  /** Structured facts about the failure; JSON-safe and free of key material. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: MailTlsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
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
export class PEMError extends MailTlsError {
  declare readonly code: PEMErrorCode;
  constructor(code: PEMErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * DER/ASN.1 bytes are malformed or exceed a limit. @example `new DERError('ERR_DER_INVALID', 'truncated')`
 */
export class DERError extends MailTlsError {
  declare readonly code: DERErrorCode;
  constructor(code: DERErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A key could not be generated, read, decrypted or matched. @example `new KeyError('ERR_KEY_PASSPHRASE', 'wrong pass phrase')`
 */
export class KeyError extends MailTlsError {
  declare readonly code: KeyErrorCode;
  constructor(code: KeyErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A certificate or bundle is malformed or unsupported. @example `new CertificateError('ERR_CERT_INVALID', 'bad DER')`
 */
export class CertificateError extends MailTlsError {
  declare readonly code: CertificateErrorCode;
  constructor(code: CertificateErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A CSR or its subject is invalid. @example `new CSRError('ERR_CSR_COUNTRY', 'use a 2-letter code')`
 */
export class CSRError extends MailTlsError {
  declare readonly code: CSRErrorCode;
  constructor(code: CSRErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A host name is invalid or not covered by a certificate. `details.validNames` lists the names the
 * certificate is valid for. @example `new HostnameError('ERR_HOSTNAME_MISMATCH', 'not covered', { details: { validNames: [] } })`
 */
export class HostnameError extends MailTlsError {
  declare readonly code: HostnameErrorCode;
  constructor(code: HostnameErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A chain could not be assembled or validated; `details.reason` says why. @example `new ChainError('ERR_CHAIN_UNKNOWN_ISSUER', 'missing intermediate')`
 */
export class ChainError extends MailTlsError {
  declare readonly code: ChainErrorCode;
  constructor(code: ChainErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A PKCS#12 file could not be opened or written. @example `new PKCS12Error('ERR_PKCS12_PASSWORD', 'wrong password')`
 */
export class PKCS12Error extends MailTlsError {
  declare readonly code: PKCS12ErrorCode;
  constructor(code: PKCS12ErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * The certificate store refused or failed an operation. @example `new StoreError('ERR_STORE_NOT_FOUND', 'no such domain')`
 */
export class StoreError extends MailTlsError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * TLS serving, STARTTLS, reload or probing failed. @example `new TLSError('ERR_TLS_STARTTLS', 'peer refused STARTTLS')`
 */
export class TLSError extends MailTlsError {
  declare readonly code: TLSErrorCode;
  constructor(code: TLSErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A server configuration could not be written from the given layout or settings (a path or name the server's
 * configuration syntax cannot hold), or a deploy hook could not be started.
 * @example `new ConfigError('ERR_CONFIG_INVALID', 'a path with a comma')`
 */
export class ConfigError extends MailTlsError {
  declare readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, options?: MailTlsErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Tells whether a value is a {@link MailTlsError}, optionally with a given code.
 *
 * @example
 * ```ts
 * if (isMailTlsError(e, 'ERR_KEY_PASSPHRASE')) askAgain();
 * ```
 */
export function isMailTlsError(value: unknown, code?: ErrorCode): value is MailTlsError {
  return value instanceof MailTlsError && (code === undefined || value.code === code);
}
