/**
 * Node `SecureContext`s for servers, built from a credential (`{ key, cert }` PEM) and a {@link TLSProfile}.
 *
 * `tls.createSecureContext()` leaves server cipher preference off (only `tls.createServer()` turns it on) and
 * keeps client-initiated renegotiation allowed; every context made here sets `honorCipherOrder` and
 * `SSL_OP_NO_RENEGOTIATION`, and the profile's versions, suites, groups and signature algorithms.
 *
 * @module node/tls/secure-context
 */
import { createPrivateKey, constants as cryptoConstants, type KeyObject, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { TLSError } from '../../errors.js';
import { INTERMEDIATE_PROFILE, type KeyType, type TLSProfile, verifyTLSProfile } from '../../tls/profile.js';

/** What a server serves for a name: a private key and its certificate chain, as PEM. */
export interface ServerCredential {
  /** The private key (PEM). Never logged or put in an error. */
  readonly key: string;
  /** The leaf certificate, then the intermediates (PEM). */
  readonly cert: string;
  /** Pass phrase of an encrypted key. */
  readonly passphrase?: string;
}

/** The node:tls options a profile maps to. */
export interface ProfileContextOptions {
  /** The profile's lowest version. */
  minVersion: tls.SecureVersion;
  /** The profile's highest version. */
  maxVersion: tls.SecureVersion;
  /** TLS 1.3 suites, then older suites, then `@SECLEVEL=n` when not 1, colon-separated. */
  ciphers: string;
  /** Signature algorithms, colon-separated. */
  sigalgs: string;
  /** Key-exchange groups, colon-separated. */
  ecdhCurve: string;
  /** Server cipher preference. */
  honorCipherOrder: true;
  /** `SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3` (and `SSL_OP_NO_TLSv1_3` when the profile stops at 1.2). */
  secureOptions: number;
}

/** Options of {@link createServerContext}. */
export interface ServerContextOptions {
  /** Session-ID context for resumption with session IDs (default: none). */
  sessionIdContext?: string;
  /** 48 bytes of session ticket keys shared by a cluster (default: random per context). */
  ticketKeys?: Buffer;
  /** CA certificates (PEM) to verify client certificates with, when a server requests them. */
  ca?: string | readonly string[];
}

/**
 * Maps a profile to node:tls options (for `tls.createServer`, `https.createServer`, `tls.createSecureContext`).
 * TLS 1.3 suites and older suites share node's `ciphers` string; the security level is appended as
 * `@SECLEVEL=n` when it is not OpenSSL's default 1.
 *
 * @throws {TLSError} `ERR_TLS_PROFILE` when the profile fails {@link verifyTLSProfile}.
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import { INTERMEDIATE_PROFILE } from 'mailtls';
 * import { profileContextOptions } from 'mailtls/node';
 * tls.createServer({ key, cert, ...profileContextOptions(INTERMEDIATE_PROFILE) });
 * ```
 */
export function profileContextOptions(profile: TLSProfile = INTERMEDIATE_PROFILE): ProfileContextOptions {
  verifyTLSProfile(profile);
  const suites = [...profile.cipherSuites, ...profile.ciphers];
  if (profile.securityLevel !== 1) suites.push(`@SECLEVEL=${profile.securityLevel}`);
  let secureOptions = cryptoConstants.SSL_OP_NO_RENEGOTIATION | cryptoConstants.SSL_OP_NO_SSLv3;
  // Keep TLS 1.3 off when the profile stops at 1.2 even if a caller widens maxVersion later.
  if (profile.maxVersion !== 'TLSv1.3') secureOptions |= cryptoConstants.SSL_OP_NO_TLSv1_3;
  return {
    minVersion: profile.minVersion,
    maxVersion: profile.maxVersion,
    ciphers: suites.join(':'),
    sigalgs: profile.signatureAlgorithms.join(':'),
    ecdhCurve: profile.groups.join(':'),
    honorCipherOrder: true,
    secureOptions,
  };
}

function contextError(message: string, cause: unknown, details: Record<string, unknown> = {}): TLSError {
  // OpenSSL messages name the failing routine, never key bytes; keep them as the cause only.
  if (cause === undefined || cause === null) return new TLSError('ERR_TLS_CONTEXT', message, { details });
  const reason = cause instanceof Error ? cause.message.replace(/\s+/g, ' ').slice(0, 200) : String(cause);
  return new TLSError('ERR_TLS_CONTEXT', `${message} (${reason})`, { cause, details });
}

/**
 * Builds a server `SecureContext` for one credential under a profile, with server cipher preference and
 * client-initiated renegotiation refused.
 *
 * @param credential - `{ key, cert }` PEM: the leaf first, then its intermediates.
 * @param profile - default {@link INTERMEDIATE_PROFILE}.
 * @throws {TLSError} `ERR_TLS_CONTEXT` when the key or certificate cannot be loaded or do not belong
 *   together; `ERR_TLS_PROFILE` for an invalid profile. TypeError for a credential that is not PEM strings.
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import { createServerContext } from 'mailtls/node';
 * const secureContext = createServerContext({ key, cert });
 * const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
 * ```
 */
export function createServerContext(
  credential: ServerCredential,
  profile: TLSProfile = INTERMEDIATE_PROFILE,
  options: ServerContextOptions = {},
): tls.SecureContext {
  return buildServerContext(credential, profile, options).context;
}

/** A context with the summary of its leaf (what the SNI registry keeps). */
export interface BuiltServerContext {
  /** The context, for `new tls.TLSSocket(socket, { isServer: true, secureContext })`. */
  readonly context: tls.SecureContext;
  /** Key type, fingerprint and validity of the leaf. */
  readonly summary: CredentialSummary;
}

/**
 * {@link createServerContext} that also answers {@link summarizeCredential}, reading the leaf only once (the SNI
 * registry's builder; not part of `mailtls/node`, whose one context builder is `createServerContext`).
 *
 * @throws {TLSError} as {@link createServerContext}.
 * @example
 * ```ts
 * import { buildServerContext } from 'mailtls/node';
 * const { context, summary } = buildServerContext({ key, cert });
 * ```
 */
export function buildServerContext(
  credential: ServerCredential,
  profile: TLSProfile = INTERMEDIATE_PROFILE,
  options: ServerContextOptions = {},
): BuiltServerContext {
  assertCredential(credential);
  const contextOptions: tls.SecureContextOptions = {
    ...profileContextOptions(profile),
    key: credential.key,
    cert: credential.cert,
  };
  if (credential.passphrase !== undefined) contextOptions.passphrase = credential.passphrase;
  if (options.sessionIdContext !== undefined) contextOptions.sessionIdContext = options.sessionIdContext;
  if (options.ticketKeys !== undefined) contextOptions.ticketKeys = options.ticketKeys;
  if (options.ca !== undefined)
    contextOptions.ca = typeof options.ca === 'string' ? options.ca : [...options.ca];
  const leaf = readLeaf(credential);
  const summary = summarize(leaf);
  // OpenSSL files a key and a certificate of different types in different slots without complaint (the
  // handshake fails later), while it refuses a key of the same type that does not match. So the key type is
  // compared here: from the PEM label or PKCS#8 algorithm when that is cheap, else by loading the key.
  const keyType = credential.passphrase === undefined ? sniffKeyType(credential.key) : undefined;
  if (keyType === undefined) {
    const failure = checkKeyAndCertificate(credential, leaf);
    if (failure) throw failure;
  } else if (keyType !== summary.keyType) {
    throw mismatch(leaf, undefined);
  }
  try {
    return { context: tls.createSecureContext(contextOptions), summary };
  } catch (e) {
    throw checkKeyAndCertificate(credential, leaf, e) ?? contextError('node:tls refused the credential', e);
  }
}

const PKCS8_ALGORITHMS: readonly [string, KeyType | 'other'][] = [
  ['06092a864886f70d010101', 'rsa'], // rsaEncryption
  ['06092a864886f70d01010a', 'other'], // RSASSA-PSS
  ['06072a8648ce3d0201', 'ec'], // id-ecPublicKey
  ['06032b6570', 'ed25519'],
];

/** The key type from the PEM label or the PKCS#8 algorithm OID, or undefined when that needs a real parse. */
function sniffKeyType(pem: string): KeyType | 'other' | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/]{64})/.exec(pem);
  if (!m) return undefined;
  if (m[1] === 'RSA PRIVATE KEY') return 'rsa';
  if (m[1] === 'EC PRIVATE KEY') return 'ec';
  if (m[1] !== 'PRIVATE KEY') return undefined;
  // SEQUENCE { INTEGER version, SEQUENCE { OID algorithm ... } ... }: the OID sits within the first 48 bytes.
  const head = Buffer.from(m[2]!, 'base64').toString('hex');
  for (const [oid, type] of PKCS8_ALGORITHMS) {
    const at = head.indexOf(oid);
    if (at > 0 && at < 40) return type;
  }
  return undefined;
}

function readLeaf(credential: ServerCredential): X509Certificate {
  try {
    return new X509Certificate(credential.cert);
  } catch (e) {
    throw contextError(
      'the certificate chain could not be read: check that cert is the PEM leaf then intermediates',
      e,
    );
  }
}

function mismatch(leaf: X509Certificate, cause: unknown): TLSError {
  return contextError('the private key does not belong to the certificate: install the matching key', cause, {
    subject: leaf.subject,
  });
}

/**
 * Checks the shape of a credential (PEM strings; nothing is parsed).
 *
 * @throws TypeError unless the value is `{ key: string, cert: string, passphrase?: string }`.
 * @example
 * ```ts
 * import { assertCredential } from 'mailtls/node';
 * assertCredential(JSON.parse(text)); // now typed as ServerCredential
 * ```
 */
export function assertCredential(credential: unknown): asserts credential is ServerCredential {
  if (credential === null || typeof credential !== 'object')
    throw new TypeError('credential must be { key, cert }');
  const c = credential as Record<string, unknown>;
  if (typeof c.key !== 'string' || typeof c.cert !== 'string') {
    throw new TypeError('credential.key and credential.cert must be PEM strings');
  }
  if (c.passphrase !== undefined && typeof c.passphrase !== 'string') {
    throw new TypeError('credential.passphrase must be a string');
  }
}

function checkKeyAndCertificate(
  credential: ServerCredential,
  leaf: X509Certificate,
  cause?: unknown,
): TLSError | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey(
      credential.passphrase === undefined
        ? credential.key
        : { key: credential.key, format: 'pem', passphrase: credential.passphrase },
    );
  } catch (keyError) {
    return contextError('the private key could not be read (wrong format or pass phrase)', keyError);
  }
  return leaf.checkPrivateKey(key) ? undefined : mismatch(leaf, cause);
}

/** Facts about a credential's leaf that serving needs. */
export interface CredentialSummary {
  /** Key type of the leaf certificate's public key. */
  readonly keyType: KeyType;
  /** SHA-256 fingerprint of the leaf (`AA:BB:...`, as node prints it). */
  readonly fingerprint256: string;
  /** Start of the leaf's validity. */
  readonly notBefore: Date;
  /** End of the leaf's validity. */
  readonly notAfter: Date;
  /** The subject as node prints it. */
  readonly subject: string;
}

/**
 * Reads the leaf certificate of a credential: key type, fingerprint and validity (no key is touched).
 *
 * @throws {TLSError} `ERR_TLS_CONTEXT` when the first certificate cannot be read or has an unsupported key type.
 * @example
 * ```ts
 * import { summarizeCredential } from 'mailtls/node';
 * summarizeCredential({ key, cert }).keyType; // 'ec'
 * ```
 */
export function summarizeCredential(credential: ServerCredential): CredentialSummary {
  assertCredential(credential);
  return summarize(readLeaf(credential));
}

function summarize(leaf: X509Certificate): CredentialSummary {
  const type = leaf.publicKey.asymmetricKeyType;
  const keyType: KeyType | undefined =
    type === 'rsa' ? 'rsa' : type === 'ec' ? 'ec' : type === 'ed25519' ? 'ed25519' : undefined;
  if (keyType === undefined) {
    throw new TLSError(
      'ERR_TLS_CONTEXT',
      `the certificate's ${String(type)} key is not supported for serving: use an RSA (rsaEncryption), EC or Ed25519 key`,
      { details: { keyType: type, subject: leaf.subject } },
    );
  }
  return {
    keyType,
    fingerprint256: leaf.fingerprint256,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    subject: leaf.subject,
  };
}
