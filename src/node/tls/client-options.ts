/**
 * `tls.connect` options for the client side of mail: outgoing SMTP (an MTA delivering to an MX or a relay),
 * submission, IMAP and POP3 clients. The same object works for `tls.connect`, nodemailer (`tls: {...}`),
 * imapflow (`tls: {...}`) and `connectStartTLS`.
 *
 * What the options do:
 * - send the server's name in SNI (`servername`; never an IP address, RFC 6066 §3);
 * - the profile's protocol versions and suites (default `intermediate`: TLS 1.2 and 1.3, ECDHE with AEAD
 *   ciphers), key-exchange groups and signature algorithms, renegotiation refused;
 * - verify with node's chain validation (OpenSSL, purpose `sslserver`) against `trust` (default node's
 *   roots), then with mailtls's own name rules in `checkServerIdentity`: subjectAltName only (never the
 *   Common Name), wildcards only as a whole left-most label and never on a public suffix, IP addresses only
 *   against iPAddress entries, and Postfix's match strategies (`hostname`, `nexthop`, `dot-nexthop`).
 *   Node runs `checkServerIdentity` only after the chain verified, and with `rejectUnauthorized: true` any
 *   failure destroys the socket before a byte of application data is read: it fails closed.
 *
 * ## Postfix's security levels and `verify`
 *
 * | Postfix `smtp_tls_security_level` | here |
 * |---|---|
 * | `may` (opportunistic: TLS if offered, no checks) | `verify: 'none'`, and the caller falls back to plaintext when STARTTLS is not offered |
 * | `encrypt` (TLS required, no checks) | `verify: 'none'`, and the caller refuses to go on without TLS (nodemailer: `requireTLS: true`) |
 * | (no level: what Postfix logs as a "Trusted" connection) | `verify: 'chain'`: chain checked, names not |
 * | `verify` (chain + the MX host name, `smtp_tls_verify_cert_match = hostname`) | `verify: 'hostname'` (the default) |
 * | `secure` (chain + `smtp_tls_secure_cert_match = nexthop, dot-nexthop`) | `verify: 'hostname'` with `nextHop` (the match then defaults to `nexthop, dot-nexthop`) |
 * | `dane`, `dane-only` | not covered here (see `tlsa.ts` for TLSA records) |
 *
 * For IMAP, POP3 and submission (RFC 7817 §3) use `verify: 'hostname'` with the host the user configured.
 *
 * Node skips `checkServerIdentity` on a resumed TLS session: do not pass a `session` saved from a
 * connection to another host.
 *
 * ## mailtls's own path validation
 *
 * The chain check of {@link clientTLSOptions} is OpenSSL's (it must run inside the handshake, and mailtls's
 * validation is asynchronous). Where you hold the socket (`tls.connect`, `connectStartTLS`), call
 * {@link verifyTLSPeer} after `secureConnect` to validate the presented chain with mailtls's
 * `verifyChain` too (RFC 5280 profile: key sizes, key identifiers, signature algorithms, name
 * constraints...) before sending anything.
 *
 * @module node/tls/client-options
 */
import tls from 'node:tls';
import type { CertificateSource } from '../../chain/chain.js';
import {
  createTrustStore,
  type TrustStore,
  type VerifiedChain,
  verifyChain,
} from '../../chain/verify-chain.js';
import { encodePEM } from '../../encoding/pem.js';
import { MailTlsError } from '../../errors.js';
import {
  type MailPeerMatch,
  POSTFIX_SECURE_MATCH,
  POSTFIX_VERIFY_MATCH,
  verifyMailPeer,
} from '../../names/mail-identity.js';
import {
  getTLSProfile,
  INTERMEDIATE_PROFILE,
  type TLSProfile,
  type TLSProfileName,
} from '../../tls/profile.js';
import { type Certificate, parseCertificate } from '../../x509/certificate.js';
import { nodeTrustStore } from './roots.js';
import { profileContextOptions } from './secure-context.js';

/** How much of the server's certificate a client checks. */
export type ClientVerifyMode = 'none' | 'chain' | 'hostname';

/** Options of {@link clientTLSOptions}. */
export interface ClientTLSInput {
  /**
   * The server's name as the client knows it: the MX host, the relay host, the IMAP/POP3/submission host
   * the user configured. An IP address is allowed (then no SNI is sent and iPAddress entries are matched).
   * This is the `hostname` reference identity; it is not where to connect (give `host` to `tls.connect`
   * separately, e.g. `127.0.0.1` in tests).
   */
  host: string;
  /** The SNI name; default `host` unless it is an IP address. `false` sends no SNI. */
  servername?: string | false | undefined;
  /** `none`, `chain` or `hostname` (default); see the module notes for the Postfix mapping. */
  verify?: ClientVerifyMode | undefined;
  /** The next-hop domain (the recipient domain before the MX lookup, or the configured relay domain). */
  nextHop?: string | undefined;
  /**
   * Postfix-style match strategies and patterns, any of which may match. Default `['hostname']` (Postfix
   * `verify`), or `['nexthop', 'dot-nexthop']` (Postfix `secure`) when `nextHop` is given.
   */
  match?: readonly MailPeerMatch[] | undefined;
  /**
   * The trust anchors: a {@link TrustStore}, PEM text, DER, certificates or a list. Default node's roots
   * (`tls.rootCertificates` plus `NODE_EXTRA_CA_CERTS`). When given, they replace node's roots.
   */
  trust?: TrustStore | CertificateSource | undefined;
  /** A profile or a built-in profile's name; default `intermediate`. */
  profile?: TLSProfile | TLSProfileName | undefined;
}

/** The `tls.connect` options {@link clientTLSOptions} returns (spread them, add `host`/`port`/`socket`). */
export interface ClientTLSOptions extends tls.ConnectionOptions {
  /** The SNI name (absent for an IP host or `servername: false`). */
  servername?: string;
  /** The profile's lowest protocol version. */
  minVersion: tls.SecureVersion;
  /** The profile's highest protocol version. */
  maxVersion: tls.SecureVersion;
  /** The profile's TLS 1.3 and older suites, colon-separated (with `@SECLEVEL=n` when not 1). */
  ciphers: string;
  /** The profile's signature algorithms, colon-separated. */
  sigalgs: string;
  /** The profile's key-exchange groups, colon-separated. */
  ecdhCurve: string;
  /** `SSL_OP_NO_RENEGOTIATION` and `SSL_OP_NO_SSLv3` (and `SSL_OP_NO_TLSv1_3` when the profile stops at 1.2). */
  secureOptions: number;
  /** False only with `verify: 'none'`. */
  rejectUnauthorized: boolean;
  /**
   * mailtls's name check with `verify: 'hostname'` (returns a HostnameError on a mismatch), a no-op
   * otherwise. Node calls it only after the chain verified.
   */
  checkServerIdentity: (hostname: string, cert: tls.PeerCertificate) => Error | undefined;
  /** The `trust` anchors as PEM, when given (they replace node's roots). */
  ca?: string[];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function isIPLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':') || host.startsWith('[');
}

function readProfile(profile: ClientTLSInput['profile']): TLSProfile {
  if (profile === undefined) return INTERMEDIATE_PROFILE;
  if (typeof profile === 'string') return getTLSProfile(profile);
  if (profile === null || typeof profile !== 'object')
    throw new TypeError('options.profile must be a profile or a name');
  return profile;
}

/** The `trust` option as a store: a TrustStore as is, anything else read with `createTrustStore`. */
function trustStoreOf(trust: TrustStore | CertificateSource): TrustStore {
  return typeof trust === 'object' && trust !== null && 'has' in trust && 'certificates' in trust
    ? (trust as TrustStore)
    : createTrustStore(trust as CertificateSource);
}

/** The match strategies: as given, else Postfix `verify` (`hostname`), or `secure` when a next hop is given. */
function matchOf(
  match: readonly MailPeerMatch[] | undefined,
  nextHop: string | undefined,
): readonly MailPeerMatch[] {
  return match ?? (nextHop === undefined ? POSTFIX_VERIFY_MATCH : POSTFIX_SECURE_MATCH);
}

/** The host without the brackets of an IP literal (`[2001:db8::1]` → `2001:db8::1`). */
function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function trustPEMs(trust: TrustStore | CertificateSource): string[] {
  const store = trustStoreOf(trust);
  if (store.certificates.length === 0) throw new TypeError('options.trust holds no certificate');
  return store.certificates.map((c: Certificate) => encodePEM('CERTIFICATE', c.der));
}

/**
 * The `checkServerIdentity` of {@link clientTLSOptions}: mailtls's name rules against the leaf node got.
 * Returns the error (node then destroys the socket) instead of throwing.
 */
function identityChecker(
  host: string,
  nextHop: string | undefined,
  match: readonly MailPeerMatch[],
): (hostname: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_hostname, cert) => {
    try {
      if (cert === null || typeof cert !== 'object' || !(cert.raw instanceof Uint8Array))
        return new Error('the server sent no certificate');
      const leaf = parseCertificate(new Uint8Array(cert.raw));
      verifyMailPeer(leaf, { mxHost: host, nextHop, match });
      return undefined;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  };
}

function noCheck(): undefined {
  return undefined;
}

/**
 * Builds `tls.connect` options for a mail client: SNI, the profile's versions and suites, and verification
 * of the chain (node, against `trust`) and of the names (mailtls's rules, Postfix's match strategies).
 * Failures destroy the socket: with `tls.connect` an `error` event, with nodemailer and imapflow a
 * rejected send or connect. The name check's error is a `HostnameError` (`ERR_HOSTNAME_MISMATCH`) that
 * lists the names the certificate is valid for; chain errors are node's (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `CERT_HAS_EXPIRED`, `SELF_SIGNED_CERT_IN_CHAIN`...).
 *
 * @throws TypeError for options of the wrong type (an unknown `verify`, a `nexthop` match without
 *   `nextHop`, a `trust` with no certificate); `ERR_TLS_PROFILE` for an unknown or invalid profile;
 *   PEMError / CertificateError when `trust` cannot be read; HostnameError `ERR_HOSTNAME_INVALID` when
 *   `host` (with `verify: 'hostname'`) or `servername` is not a valid name.
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import nodemailer from 'nodemailer';
 * import { clientTLSOptions } from 'mailtls/node';
 * // Postfix "secure": the certificate must be valid for example.com or a subdomain of it.
 * const options = clientTLSOptions({ host: 'mx1.example.com', nextHop: 'example.com' });
 * const socket = tls.connect({ ...options, host: 'mx1.example.com', port: 465 });
 * // nodemailer: STARTTLS on 587 with the same checks.
 * nodemailer.createTransport({ host: 'smtp.example.com', port: 587, requireTLS: true,
 *   tls: clientTLSOptions({ host: 'smtp.example.com' }) });
 * ```
 */
export function clientTLSOptions(options: ClientTLSInput): ClientTLSOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { host } = options;
  if (typeof host !== 'string' || host === '') throw new TypeError('options.host must be a non-empty string');
  const verify = options.verify ?? 'hostname';
  if (verify !== 'none' && verify !== 'chain' && verify !== 'hostname')
    throw new TypeError("options.verify must be 'none', 'chain' or 'hostname'");
  if (options.nextHop !== undefined && (typeof options.nextHop !== 'string' || options.nextHop === ''))
    throw new TypeError('options.nextHop must be a non-empty string');
  if (options.match !== undefined && (!Array.isArray(options.match) || options.match.length === 0))
    throw new TypeError('options.match must be a non-empty array');
  const match = matchOf(options.match, options.nextHop);
  const profile = readProfile(options.profile);
  const { honorCipherOrder: _server, ...versions } = profileContextOptions(profile);

  const bareHost = unbracketed(host);
  let servername: string | undefined;
  if (options.servername === false) servername = undefined;
  else if (options.servername !== undefined) {
    if (
      typeof options.servername !== 'string' ||
      options.servername === '' ||
      isIPLiteral(options.servername)
    )
      throw new TypeError(
        'options.servername must be a host name (SNI never carries an IP address) or false',
      );
    servername = options.servername;
  } else if (!isIPLiteral(host)) servername = host;

  const result: ClientTLSOptions = {
    ...versions,
    rejectUnauthorized: verify !== 'none',
    checkServerIdentity: noCheck,
  };
  if (servername !== undefined) result.servername = servername;
  if (verify === 'none') return result;
  if (options.trust !== undefined) result.ca = trustPEMs(options.trust);
  if (verify === 'hostname') {
    // Fail early on an unusable reference identity rather than at every connection.
    const probe = identityChecker(bareHost, options.nextHop, match);
    try {
      verifyMailPeer({ dnsNames: [] }, { mxHost: bareHost, nextHop: options.nextHop, match });
    } catch (e) {
      if (!(e instanceof MailTlsError) || e.code !== 'ERR_HOSTNAME_MISMATCH') throw e;
    }
    result.checkServerIdentity = probe;
  }
  return result;
}

/** Options of {@link verifyTLSPeer}: those of {@link clientTLSOptions} (profile and SNI do not apply) and `at`. */
export interface VerifyTLSPeerOptions extends Omit<ClientTLSInput, 'profile' | 'servername'> {
  /** The validation time; default now. */
  at?: Date | undefined;
}

/**
 * Validates the chain a connected TLS server presented with mailtls's `verifyChain` (purpose serverAuth,
 * against `trust`, default node's roots) and, unless `verify` is `chain`, its names with mailtls's rules
 * (as {@link clientTLSOptions}). The chain is node's view of it (`getPeerCertificate(true)`): the leaf and
 * the certificates that link it to a root. On failure the socket is destroyed before the error is thrown,
 * so nothing more can be sent on it.
 *
 * @returns The validated path, leaf first.
 * @throws ChainError (`ERR_CHAIN_*`, `details.reason`) when the chain fails; HostnameError
 *   `ERR_HOSTNAME_MISMATCH` when the names do not match (`ERR_HOSTNAME_INVALID` for an unusable `host`);
 *   TypeError for a socket that is not a connected TLS socket or `verify: 'none'`.
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import { clientTLSOptions, verifyTLSPeer } from 'mailtls/node';
 * const input = { host: 'mx1.example.com', nextHop: 'example.com' };
 * const socket = tls.connect({ ...clientTLSOptions(input), host: 'mx1.example.com', port: 465 });
 * socket.once('secureConnect', async () => {
 *   await verifyTLSPeer(socket, input); // throws (and closes the socket) unless mailtls agrees
 *   socket.write('EHLO out.example.org\r\n');
 * });
 * ```
 */
export async function verifyTLSPeer(
  socket: tls.TLSSocket,
  options: VerifyTLSPeerOptions,
): Promise<VerifiedChain> {
  if (!(socket instanceof tls.TLSSocket)) throw new TypeError('socket must be a tls.TLSSocket');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { host } = options;
  if (typeof host !== 'string' || host === '') throw new TypeError('options.host must be a non-empty string');
  const verify = options.verify ?? 'hostname';
  if (verify !== 'chain' && verify !== 'hostname')
    throw new TypeError(
      "options.verify must be 'chain' or 'hostname' (there is nothing to verify with 'none')",
    );
  const match = matchOf(options.match, options.nextHop);
  const roots = options.trust === undefined ? nodeTrustStore() : trustStoreOf(options.trust);
  try {
    const ders: Uint8Array[] = [];
    const seen = new Set<string>();
    for (
      let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      c?.raw !== undefined && ders.length < 16;
      c = c.issuerCertificate
    ) {
      const key = c.raw.toString('base64');
      if (seen.has(key)) break;
      seen.add(key);
      ders.push(new Uint8Array(c.raw));
    }
    if (ders.length === 0)
      throw new TypeError('the socket has no peer certificate (not connected, or not TLS)');
    const [leaf, ...rest] = ders.map((d) => parseCertificate(d));
    const chain = await verifyChain(leaf!, { roots, intermediates: rest, at: options.at });
    if (verify === 'hostname')
      verifyMailPeer(leaf!, { mxHost: unbracketed(host), nextHop: options.nextHop, match });
    return chain;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
