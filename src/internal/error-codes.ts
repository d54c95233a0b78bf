/**
 * The vocabulary of mailtls's errors: every stable code, grouped by area, and the shape of the `details`
 * each code carries. The classes that use them are in errors.ts.
 *
 * @module internal/error-codes
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
  | 'ERR_TLS_SERVICE_DISABLED'
  | 'ERR_TLS_RELOAD'
  | 'ERR_TLS_CONNECT';

/** Codes of the TLS probe (`probeTLS`, `mailtls probe`): the target could not be reached or did not speak its protocol. */
export type ProbeErrorCode = 'ERR_PROBE_CONNECT' | 'ERR_PROBE_PROTOCOL' | 'ERR_PROBE_URL';

/** Codes of server configuration written from the store (`mailtls/config`) and of deploy hooks. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_HOOK';

/** Codes of the TLS settings (`mailtls/settings`) and the web administrator (`mailtls/admin`). */
export type SettingsErrorCode =
  | 'ERR_SETTINGS_INVALID'
  | 'ERR_SETTINGS_VERSION'
  | 'ERR_SETTINGS_CONFLICT'
  | 'ERR_SETTINGS_TOO_LARGE'
  | 'ERR_SETTINGS_ADMIN';

/** Codes of ACME issuance and renewal (RFC 8555). */
export type AcmeErrorCode =
  | 'ERR_ACME_TERMS'
  | 'ERR_ACME_ACCOUNT'
  | 'ERR_ACME_CHALLENGE'
  | 'ERR_ACME_ORDER_INVALID'
  | 'ERR_ACME_CSR_REJECTED'
  | 'ERR_ACME_RATE_LIMITED'
  | 'ERR_ACME_UNAVAILABLE'
  | 'ERR_ACME_PROTOCOL'
  | 'ERR_ACME_PREFLIGHT'
  | 'ERR_ACME_DNS_HOOK'
  | 'ERR_ACME_KEY_ROLLOVER'
  /** The ACME profile asked for is not one the CA offers (draft-ietf-acme-profiles). */
  | 'ERR_ACME_PROFILE'
  /** The CA's renewal information (RFC 9773) could not be read or made no sense. */
  | 'ERR_ACME_RENEWAL_INFO';

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
  | ProbeErrorCode
  | AcmeErrorCode
  | SettingsErrorCode
  | ConfigErrorCode;

/** Facts about input that could not be read: PEM, DER, certificates, CSRs, bundles, PKCS#12 files. */
export interface InputDetails {
  /** Byte offset of the fault in the input, when known. */
  readonly offset?: number | undefined;
  /** Where in the structure the fault is, e.g. `tbsCertificate.extensions[2]`. */
  readonly path?: string | undefined;
  /** Size of the input in bytes, when it exceeded a limit. */
  readonly size?: number | undefined;
  /** The size limit in bytes that was exceeded. */
  readonly maxBytes?: number | undefined;
  /** The nesting or count limit that was exceeded. */
  readonly max?: number | undefined;
  /** Which certificate of a bundle (0-based). */
  readonly index?: number | undefined;
  /** The input format, when it was the problem. */
  readonly format?: string | undefined;
  /** The PEM label (`CERTIFICATE`, `PRIVATE KEY`...) concerned. */
  readonly label?: string | undefined;
  /** The line of the PEM text concerned. */
  readonly line?: number | undefined;
  /** The PEM labels that were expected. */
  readonly expected?: readonly string[] | undefined;
  /** The PEM label or labels found instead. */
  readonly found?: string | readonly string[] | undefined;
  /** A PKCS#7 or PKCS#12 content type that is not supported. */
  readonly contentType?: string | undefined;
  /** The most certificates a bundle may hold. */
  readonly maxCertificates?: number | undefined;
  /** The most bags a PKCS#12 file may hold. */
  readonly maxBags?: number | undefined;
  /** A short machine-readable cause. */
  readonly reason?: string | undefined;
  /** The algorithm concerned (signature or encryption). */
  readonly algorithm?: string | undefined;
}

/** Facts about a key that could not be generated, read, decrypted, exported or matched. */
export interface KeyDetails {
  /** The key algorithm or its OID. */
  readonly algorithm?: string | undefined;
  /** The key size in bits. */
  readonly bits?: number | undefined;
  /** The elliptic curve name or OID. */
  readonly curve?: string | undefined;
  /** How the key file is encrypted. */
  readonly encryption?: string | undefined;
  /** The most PBKDF2 iterations accepted. */
  readonly maxIterations?: number | undefined;
  /** The PEM label of the key block. */
  readonly label?: string | undefined;
  /** Which part of the key is malformed. */
  readonly structure?: string | undefined;
  /** The key type (`rsa`, `ec`, `ed25519`). */
  readonly type?: string | undefined;
  /** The export format asked for. */
  readonly format?: string | undefined;
  /** A description of the key (type and size; never key material). */
  readonly key?: string | undefined;
  /** A description of the certificate's key. */
  readonly certificateKey?: string | undefined;
  /** How many certificates were compared, or their subjects. */
  readonly certificates?: number | readonly string[] | undefined;
  /** The certificate that does match the key, when another one was given first. */
  readonly matchingIndex?: number | undefined;
  /** The key file concerned. */
  readonly keyFile?: string | undefined;
  /** The certificate file concerned. */
  readonly certFile?: string | undefined;
  /** SHA-256 of the key's SubjectPublicKeyInfo (hex). */
  readonly keySPKISha256?: string | undefined;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo (hex). */
  readonly certificateSPKISha256?: string | undefined;
  /** A short machine-readable cause. */
  readonly reason?: string | undefined;
}

/** A name a certificate carries that the check could not use. */
export interface IgnoredNameFact {
  /** The name as the certificate has it. */
  readonly name: string;
  /** Why it was ignored. */
  readonly reason: string;
}

/** A reference identity a mail peer was checked against. */
export interface ReferenceFact {
  /** The canonical reference name. */
  readonly reference: string;
  /** Whether the certificate matched it. */
  readonly matched: boolean;
}

/** Facts about a name: a host name, an IP address, a subject field, a CSR or certificate name. */
export interface NameDetails {
  /** The name concerned (truncated when long). */
  readonly name?: string | undefined;
  /** The host name or IP address checked. */
  readonly host?: string | null | undefined;
  /** The IP or e-mail address concerned. */
  readonly address?: string | undefined;
  /** The subject field concerned (`commonName`, `countryName`...). */
  readonly field?: string | undefined;
  /** The kind of name or value (`dNSName`, `iPAddress`...). */
  readonly type?: string | undefined;
  /** Where the name came from (subject, subjectAltName, option). */
  readonly source?: string | undefined;
  /** The character position of the fault. */
  readonly position?: number | undefined;
  /** A short machine-readable cause (`empty-label`, `not-ip-address`...). */
  readonly reason?: string | undefined;
  /** The names the certificate is valid for. */
  readonly validNames?: readonly string[] | undefined;
  /** Names present but not usable, with why (a Common Name beside subjectAltName, a bad pattern). */
  readonly ignoredNames?: readonly IgnoredNameFact[] | undefined;
  /** The reference identities checked (mail peers), each with whether it matched. */
  readonly references?: readonly ReferenceFact[] | undefined;
  /** Whether the Common Name would have matched if it were allowed. */
  readonly commonNameWouldMatch?: boolean | undefined;
}

/** Facts about a certificate that could not be issued. */
export interface IssueDetails extends NameDetails {
  /** The subject of the certificate concerned (RFC 4514). */
  readonly subject?: string | undefined;
  /** The signature algorithm concerned. */
  readonly algorithm?: string | undefined;
  /** The requested end of validity (ISO 8601). */
  readonly notAfter?: string | undefined;
  /** The issuing CA's end of validity (ISO 8601). */
  readonly caNotAfter?: string | undefined;
}

/** Facts about a chain that failed assembly or validation. */
export interface ChainDetails {
  /**
   * Why, in the chain-failure vocabulary that `verifyChain`'s failures (`ChainFailureReason`) and
   * `assembleChain`'s problems share: `unknown-issuer`, `untrusted-root`, `expired`...
   */
  readonly reason?: string | undefined;
  /** The subject of the certificate at fault (RFC 4514). */
  readonly subject?: string | undefined;
  /** The issuer name that was not found. */
  readonly issuer?: string | undefined;
  /** Where the certificate says its issuer can be downloaded (AIA caIssuers URLs). */
  readonly caIssuers?: readonly string[] | undefined;
  /** The host name checked (`ERR_CHAIN_HOSTNAME`). */
  readonly host?: string | null | undefined;
  /** The names the leaf is valid for (`ERR_CHAIN_HOSTNAME`). */
  readonly validNames?: readonly string[] | undefined;
}

/** Facts about a store operation that failed. */
export interface StoreDetails {
  /** The domain concerned. */
  readonly domain?: string | null | undefined;
  /** The file or directory concerned. */
  readonly path?: string | undefined;
  /** The file concerned, relative to the store. */
  readonly file?: string | undefined;
  /** The name concerned (a secret, a domain of another layout). */
  readonly name?: string | undefined;
  /** Where it was looked for. */
  readonly where?: string | undefined;
  /** The file-system error code (`EACCES`...). */
  readonly code?: string | undefined;
  /** The version in service (`ERR_STORE_NOT_FOUND` for a rollback). */
  readonly current?: string | undefined;
  /** The versions kept. */
  readonly versions?: readonly string[] | undefined;
  /** What a path is instead of a directory (`symlink`, `not-directory`). */
  readonly kind?: string | undefined;
  /** The group name or id given. */
  readonly group?: string | undefined;
  /** The pending CSR and key of a domain (`ERR_STORE_EXISTS`). */
  readonly csr?: string | undefined;
  /** The pending key of a domain (`ERR_STORE_EXISTS`). */
  readonly key?: string | undefined;
  /** The subject of a certificate whose domain could not be told. */
  readonly subject?: string | undefined;
  /** The DNS names of that certificate. */
  readonly dnsNames?: readonly string[] | undefined;
  /** The process holding the lock (`ERR_STORE_LOCKED`). */
  readonly pid?: number | undefined;
  /** The host of the process holding the lock. */
  readonly host?: string | undefined;
  /** Since when the lock is held (ISO 8601). */
  readonly since?: string | undefined;
}

/** Facts about TLS serving, STARTTLS, a connection, a probe or a reload. */
export interface TLSDetails {
  /** `host:port` of the peer or target. */
  readonly where?: string | undefined;
  /** The probe URL. */
  readonly url?: string | undefined;
  /** The step that failed: `connect`, `starttls`, `tls`... */
  readonly phase?: string | undefined;
  /** A short machine-readable cause (`timeout`, `ECONNREFUSED`, `no-certificate`...). */
  readonly reason?: string | undefined;
  /** The SNI name of the connection. */
  readonly servername?: string | false | null | undefined;
  /** The time-out that expired, in milliseconds. */
  readonly timeoutMs?: number | undefined;
  /** The error code of the socket or of OpenSSL. */
  readonly code?: string | undefined;
  /** The peer's address. */
  readonly remoteAddress?: string | undefined;
  /** The mail protocol spoken (smtp, pop3, imap). */
  readonly protocol?: string | undefined;
  /** The server's reply, sanitised. */
  readonly reply?: string | undefined;
  /** The SNI pattern concerned (`*.example.com`). */
  readonly pattern?: string | undefined;
  /** The key type of a credential. */
  readonly keyType?: string | undefined;
  /** The subject of a credential's certificate. */
  readonly subject?: string | undefined;
  /** The profile name concerned. */
  readonly name?: string | undefined;
  /** The domain concerned (reload). */
  readonly domain?: string | undefined;
  /** The store version that was to be served (reload). */
  readonly version?: string | undefined;
  /** The SHA-256 fingerprint that was to be served (reload). */
  readonly fingerprint?: string | undefined;
  /** The store version still served (reload). */
  readonly servedVersion?: string | undefined;
  /** The SHA-256 fingerprint still served (reload). */
  readonly servedFingerprint?: string | undefined;
}

/** Facts about an ACME issuance or renewal that failed. */
export interface AcmeDetails {
  /** The ACME directory URL of the CA. */
  readonly directoryUrl?: string | undefined;
  /** The URL the request went to. */
  readonly url?: string | null | undefined;
  /** The CA's problem type (RFC 8555 §6.7), e.g. `urn:ietf:params:acme:error:rateLimited`. */
  readonly problem?: string | null | undefined;
  /** The HTTP status of the CA's answer. */
  readonly status?: string | number | null | undefined;
  /** A short machine-readable cause (`network`, a problem type's last part...). */
  readonly reason?: string | undefined;
  /** The host name concerned. */
  readonly name?: string | undefined;
  /** The domain concerned. */
  readonly domain?: string | undefined;
  /** The challenge type concerned (`tls-alpn-01`, `http-01`, `dns-01`). */
  readonly challenge?: string | undefined;
  /** The challenge types, or the profiles, the CA offered. */
  readonly offered?: readonly string[] | undefined;
  /** The ACME profile asked for. */
  readonly profile?: string | undefined;
  /** The staging directory of a dry run that failed (nothing was ordered from the production directory). */
  readonly staging?: string | undefined;
  /** The certificate's renewal information identifier (RFC 9773 section 4.1). */
  readonly certId?: string | undefined;
  /** When to try again after a rate limit (ISO 8601). */
  readonly retryAfter?: string | undefined;
  /** The terms of service the account must agree to. */
  readonly termsOfService?: string | undefined;
  /** The file concerned. */
  readonly path?: string | undefined;
  /** The DNS servers asked. */
  readonly servers?: readonly string[] | undefined;
}

/** Facts about TLS settings that could not be read, validated or saved. */
export interface SettingsDetails {
  /** The setting at fault, as a path (`domains.example.com.smtp.profile`), or `(top)`. */
  readonly path?: string | undefined;
  /** The file concerned. */
  readonly file?: string | undefined;
  /** The format version found, when it was the problem. */
  readonly format?: string | number | undefined;
  /** The revision concerned, or the one now stored. */
  readonly revision?: number | undefined;
  /** The revision the caller expected (`ERR_SETTINGS_CONFLICT`). */
  readonly expected?: number | undefined;
  /** The size limit that was exceeded. */
  readonly max?: number | undefined;
  /** The size found. */
  readonly length?: number | undefined;
  /** The file-system error code. */
  readonly errno?: string | undefined;
}

/** The details of each code of an area: every code in `Codes` carries details of shape `D`. */
export type AreaDetails<Codes extends string, D> = { readonly [K in Codes]: D };

/**
 * The `details` of each error code: structured, JSON-safe facts, never key material. Catch blocks read them
 * typed after narrowing the code: `if (isMailTlsError(e, 'ERR_HOSTNAME_MISMATCH')) e.details.validNames`.
 */
export type ErrorDetailsMap = AreaDetails<PEMErrorCode | DERErrorCode | CertificateErrorCode, InputDetails> &
  AreaDetails<PKCS12ErrorCode, InputDetails & KeyDetails> &
  AreaDetails<KeyErrorCode, KeyDetails> &
  AreaDetails<Exclude<CSRErrorCode, 'ERR_CSR_INVALID' | 'ERR_CSR_SIGNATURE'>, NameDetails> &
  AreaDetails<'ERR_CSR_INVALID' | 'ERR_CSR_SIGNATURE', InputDetails> &
  AreaDetails<HostnameErrorCode, NameDetails> &
  AreaDetails<ChainErrorCode, ChainDetails> &
  AreaDetails<StoreErrorCode, StoreDetails> &
  AreaDetails<TLSErrorCode | ProbeErrorCode, TLSDetails> &
  AreaDetails<AcmeErrorCode, AcmeDetails> &
  AreaDetails<SettingsErrorCode, SettingsDetails> &
  AreaDetails<ConfigErrorCode, StoreDetails> &
  AreaDetails<'ERR_HOSTNAME_MISMATCH', HostnameMismatchDetails> &
  AreaDetails<'ERR_CERT_ISSUE', IssueDetails> &
  AreaDetails<'ERR_CERT_NAME', NameDetails>;

/** What `ERR_HOSTNAME_MISMATCH` always carries. */
export interface HostnameMismatchDetails {
  /** The names the certificate is valid for. */
  readonly validNames: readonly string[];
}

/** Further facts a code's details may carry beyond the ones its shape declares. */
export interface MoreDetails {
  readonly [fact: string]: unknown;
}

/**
 * The `details` of errors with code `C`: the facts {@link ErrorDetailsMap} declares for it, typed, plus any
 * further JSON-safe facts (a union of codes gives the union of their details).
 */
export type ErrorDetails<C extends ErrorCode = ErrorCode> = C extends keyof ErrorDetailsMap
  ? ErrorDetailsMap[C] & MoreDetails
  : MoreDetails;
