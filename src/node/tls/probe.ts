/**
 * A TLS probe for mail and web servers that speaks the protocol up to STARTTLS where needed: `smtp://`
 * (port 25), `submission://` (587), `smtps://` / `submissions://` (465), `pop3://` (110), `pop3s://` (995),
 * `imap://` (143), `imaps://` (993) and `https://` (443). It reports what an administrator needs to know
 * about the certificate chain the server sends: the chain as served (in the order served), whether it
 * validates (mailtls's {@link verifyChain} at `at`), whether the names match (mailtls's host-name rules,
 * Postfix's match strategies), how many days are left, and every problem in words: a missing intermediate
 * (naming the issuer and where to download it), the wrong order, the root sent, an expired or not yet valid
 * certificate, a name mismatch, an old protocol version or a weak cipher.
 *
 * How it reads the chain: the handshake runs with `rejectUnauthorized: false` (every chain is read, none is
 * trusted), offering TLS 1.0 to 1.3 and OpenSSL's default suites at security level 0, so that old servers can
 * be diagnosed too. The server's bytes are recorded and its Certificate message decoded (for TLS 1.3 with the
 * handshake secret node gives through `keylog`), because node's own view rebuilds the chain by issuer and
 * would hide the order and stray certificates. Validation then happens offline, in mailtls.
 *
 * Safety: one deadline for the whole probe (`timeoutMs`, default 10 s) covering connect, each reply and the
 * handshake; limits on reply sizes; the socket is always closed. Nothing but the greeting exchange,
 * capabilities, STARTTLS and QUIT/LOGOUT is sent: never credentials, never mail. A URL with credentials
 * is refused.
 *
 * @module node/tls/probe
 */

import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import {
  type AssembledChain,
  assembleChain,
  type CertificateSource,
  type ChainProblem,
} from '../../chain/chain.js';
import { createTrustStore, type TrustStore, verifyChain } from '../../chain/verify-chain.js';
import { MailTlsError, ProbeError, TLSError } from '../../errors.js';
import { positiveMilliseconds, validDate } from '../../internal/assert.js';
import { tryCanonicalizeHostname } from '../../names/hostname.js';
import {
  type MailPeerMatch,
  POSTFIX_SECURE_MATCH,
  POSTFIX_VERIFY_MATCH,
  verifyMailPeer,
} from '../../names/mail-identity.js';
import { type Certificate, parseCertificate } from '../../x509/certificate.js';
import { parseHandshakeCertificates } from './handshake-certificates.js';
import { nodeTrustStore } from './roots.js';
import {
  type NegotiatedStartTLS,
  negotiateStartTLS,
  type StartTLSClientProtocol,
  sanitizeReply,
  type TranscriptLine,
  waitConnected,
} from './starttls-client.js';

/** The application protocol a probe speaks. */
export type ProbeProtocol = 'smtp' | 'pop3' | 'imap' | 'https';

/** The URL schemes {@link probe} knows. */
export type ProbeScheme =
  | 'smtp'
  | 'submission'
  | 'smtps'
  | 'submissions'
  | 'pop3'
  | 'pop3s'
  | 'imap'
  | 'imaps'
  | 'https';

/** A parsed probe URL. */
export interface ProbeTarget {
  /** The URL as normalised: `scheme://host:port`. */
  readonly url: string;
  /** The scheme, lower case (`submissions` kept as written). */
  readonly scheme: ProbeScheme;
  /** The application protocol the scheme speaks. */
  readonly protocol: ProbeProtocol;
  /** Whether TLS starts after STARTTLS / STLS (true) or at once (false). */
  readonly starttls: boolean;
  /** The host: a canonical DNS name, or an IP address without brackets. */
  readonly host: string;
  /** Whether `host` is an IP address. */
  readonly hostIsIP: boolean;
  /** The port: the URL's, or the scheme's well-known one. */
  readonly port: number;
}

const SCHEMES: Readonly<Record<ProbeScheme, { protocol: ProbeProtocol; port: number; starttls: boolean }>> = {
  smtp: { protocol: 'smtp', port: 25, starttls: true },
  submission: { protocol: 'smtp', port: 587, starttls: true },
  smtps: { protocol: 'smtp', port: 465, starttls: false },
  submissions: { protocol: 'smtp', port: 465, starttls: false },
  pop3: { protocol: 'pop3', port: 110, starttls: true },
  pop3s: { protocol: 'pop3', port: 995, starttls: false },
  imap: { protocol: 'imap', port: 143, starttls: true },
  imaps: { protocol: 'imap', port: 993, starttls: false },
  https: { protocol: 'https', port: 443, starttls: false },
};

function urlError(message: string, url: string): ProbeError {
  return new ProbeError('ERR_PROBE_URL', message, { details: { url: sanitizeReply(url) } });
}

/**
 * Reads a probe URL: scheme (see {@link ProbeScheme}), host (a DNS name, an IPv4 address or a bracketed
 * IPv6 address) and optional port (default: the scheme's well-known port).
 *
 * @throws {ProbeError} `ERR_PROBE_URL` for a URL that does not parse, an unknown scheme, credentials in the
 *   URL, a path, query or fragment (except for `https://`), an invalid host, or port 0. TypeError when
 *   `url` is not a string or URL.
 * @example
 * ```ts
 * parseProbeURL('submission://smtp.example.com'); // { protocol: 'smtp', port: 587, starttls: true, ... }
 * ```
 */
export function parseProbeURL(url: string | URL): ProbeTarget {
  const text = url instanceof URL ? url.href : url;
  if (typeof text !== 'string') throw new TypeError('url must be a string or a URL');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw urlError(
      `"${sanitizeReply(text)}" is not a URL: write it as scheme://host[:port], e.g. smtp://mx1.example.com or imaps://imap.example.com:993.`,
      text,
    );
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (!Object.hasOwn(SCHEMES, scheme))
    throw urlError(
      `unknown scheme "${sanitizeReply(scheme)}": use one of ${Object.keys(SCHEMES).join(', ')} (e.g. smtp://mx1.example.com).`,
      text,
    );
  const info = SCHEMES[scheme as ProbeScheme];
  if (u.username !== '' || u.password !== '')
    throw urlError('the URL carries credentials; the probe never logs in, so remove "user:password@".', text);
  if (
    info.protocol !== 'https' &&
    ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '')
  )
    throw urlError(
      `a ${scheme}:// URL has no path, query or fragment: give scheme://host[:port] only.`,
      text,
    );
  let host = u.hostname;
  let hostIsIP = false;
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1).toLowerCase();
    if (net.isIPv6(host)) hostIsIP = true;
  } else if (net.isIPv4(host)) hostIsIP = true;
  if (!hostIsIP) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(host);
    } catch {
      decoded = host;
    }
    const canonical = decoded === '' ? undefined : tryCanonicalizeHostname(decoded);
    if (canonical === undefined)
      throw urlError(`"${sanitizeReply(decoded)}" is not a valid host name or IP address.`, text);
    host = canonical;
  }
  const port = u.port === '' ? info.port : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw urlError(`port ${sanitizeReply(u.port)} is not usable: give a port from 1 to 65535.`, text);
  return Object.freeze({
    url: `${scheme}://${hostIsIP && host.includes(':') ? `[${host}]` : host}:${port}`,
    scheme: scheme as ProbeScheme,
    protocol: info.protocol,
    starttls: info.starttls,
    host,
    hostIsIP,
    port,
  });
}

/** What a {@link ProbeProblem} is about. */
export type ProbeProblemCode =
  /** The server does not send an intermediate its chain needs (`details.issuer`, `details.caIssuers`). */
  | 'unknown-issuer'
  /**
   * The chain ends at a self-signed root that is not among the trust anchors, or the server sends its chain up
   * to an intermediate CA whose issuer (presumably a private root) is not trusted: pass it as `trust`.
   */
  | 'untrusted-root'
  /** A certificate of the chain expired before `at`. */
  | 'expired'
  /** A certificate of the chain is not valid yet at `at`. */
  | 'not-yet-valid'
  /** The server sends the root certificate (clients have their own; it only costs bytes). */
  | 'root-sent'
  /** The server sends the chain in another order than leaf, its issuer, that one's issuer... */
  | 'wrong-order'
  /** The server sends a certificate that is not part of the chain. */
  | 'unrelated-certificate'
  /** The server sends a certificate twice. */
  | 'duplicate-certificate'
  /** A certificate the server sends cannot be read (`details.index`). */
  | 'unreadable-certificate'
  /** The chain fails validation for another reason (`details.reason`: a ChainFailureReason). */
  | 'chain-invalid'
  /** The leaf is not valid for the names checked. */
  | 'name-mismatch'
  /** TLS 1.1 or older was negotiated. */
  | 'weak-protocol'
  /** A TLS 1.2 (or older) suite without forward secrecy or without an AEAD cipher was negotiated. */
  | 'weak-cipher'
  /** The server sent plaintext after its STARTTLS go-ahead (discarded; a sign of injection). */
  | 'plaintext-after-starttls';

/** One finding of a probe. */
export interface ProbeProblem {
  /** What the problem is about. */
  readonly code: ProbeProblemCode;
  /** What is wrong and what to do, for an administrator. */
  readonly message: string;
  /** JSON-safe facts (subjects, issuer names, URLs, dates, positions). */
  readonly details?: Readonly<Record<string, unknown>> | undefined;
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** The SNI name; default the URL's host (none for an IP address). `false` sends no SNI. */
  servername?: string | false | undefined;
  /** Trust anchors: a TrustStore, PEM text, DER, certificates or a list; default node's roots. */
  trust?: TrustStore | CertificateSource | undefined;
  /** When to judge validity; default now. */
  at?: Date | undefined;
  /** The most time the whole probe may take, in milliseconds; default 10,000. */
  timeoutMs?: number | undefined;
  /** Where to connect instead of the URL's host (e.g. `127.0.0.1`, or one MX address); names stay. */
  connect?: string | undefined;
  /** The name to check the certificate against (Postfix's `hostname`); default the URL's host. */
  mxHost?: string | undefined;
  /** The next-hop domain, for `nexthop` / `dot-nexthop` matching (Postfix's `secure` level). */
  nextHop?: string | undefined;
  /** Match strategies; default `['hostname']`, or `['nexthop', 'dot-nexthop']` when `nextHop` is given. */
  match?: readonly MailPeerMatch[] | undefined;
  /** The name in SMTP `EHLO`; default `localhost`. */
  clientName?: string | undefined;
  /** ALPN protocols to offer; default `['h2', 'http/1.1']` for https, none otherwise. */
  alpn?: readonly string[] | undefined;
  /** Aborts the probe (it rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
}

/** How {@link ProbeResult.servedChain} was read. */
export type ServedChainSource =
  /** Decoded from the server's Certificate message: exactly what was sent, in that order. */
  | 'handshake'
  /** Rebuilt from node's issuer links (the handshake could not be decoded): order and strays are lost. */
  | 'issuer-links';

/** What {@link probe} found. */
export interface ProbeResult {
  /** The normalised URL (`scheme://host:port`). */
  readonly url: string;
  /** The application protocol spoken. */
  readonly protocol: ProbeProtocol;
  /** Where the probe connected (`address:port`). */
  readonly connectedTo: string;
  /** Whether TLS was started with STARTTLS / STLS. */
  readonly starttls: boolean;
  /** The SNI name sent, if any. */
  readonly servername: string | undefined;
  /** `TLSv1.3`, `TLSv1.2`... */
  readonly tlsVersion: string;
  /** The suite's IANA name (`TLS_AES_256_GCM_SHA384`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`). */
  readonly cipher: string;
  /** The ALPN protocol the server chose, when one was offered and chosen. */
  readonly alpn?: string | undefined;
  /** The certificates the server sent, in the order it sent them (leaf first). */
  readonly servedChain: readonly Certificate[];
  /** How `servedChain` was read. */
  readonly servedChainSource: ServedChainSource;
  /** Whether the served chain validates to a trust anchor at `at` (mailtls's verifyChain, serverAuth). */
  readonly chainValid: boolean;
  /** Why it does not (a ChainError with `details.reason`, or the error that stopped validation). */
  readonly chainError?: MailTlsError | undefined;
  /** The validated path, leaf to trust anchor, when `chainValid`. */
  readonly verifiedChain?: readonly Certificate[] | undefined;
  /** Whether the leaf is valid for the names checked (`mxHost`, `nextHop`, `match`). */
  readonly namesMatch: boolean;
  /** Why not (a HostnameError listing the names the certificate is valid for). */
  readonly namesError?: MailTlsError | undefined;
  /** The leaf's end of validity. */
  readonly notAfter: Date;
  /** Whole days from `at` to `notAfter` (negative once expired, 0 in the last day). */
  readonly daysLeft: number;
  /** The time validity was judged at. */
  readonly at: Date;
  /** Everything worth telling the administrator; empty for a clean server. */
  readonly problems: readonly ProbeProblem[];
  /** The plaintext exchange before TLS (STARTTLS ports only). */
  readonly transcript: readonly TranscriptLine[];
  /** The capabilities announced in plaintext (STARTTLS ports only). */
  readonly capabilities: readonly string[];
}

const DAY = 86_400_000;
/** The most server bytes recorded for the handshake (a Certificate message of 16 MiB is not a mail server). */
const MAX_CAPTURE = 1 << 20;
/** Every TLS 1.3 suite OpenSSL implements with a 16-byte tag (the probe offers them all). */
const TLS13_SUITES =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256';

interface Options {
  servername: string | undefined;
  trust: TrustStore;
  at: Date;
  timeoutMs: number;
  connect: string;
  mxHost: string;
  nextHop: string | undefined;
  match: readonly MailPeerMatch[];
  clientName: string | undefined;
  alpn: string[] | undefined;
  signal: AbortSignal | undefined;
}

function readTrust(trust: ProbeOptions['trust']): TrustStore {
  if (trust === undefined) return nodeTrustStore();
  if (typeof trust === 'object' && trust !== null && 'has' in trust && 'certificates' in trust)
    return trust as TrustStore;
  return createTrustStore(trust as CertificateSource);
}

function readOptions(target: ProbeTarget, options: ProbeOptions): Options {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const at = validDate(options.at ?? new Date(), 'options.at');
  const timeoutMs = positiveMilliseconds(options.timeoutMs ?? 10_000, 'options.timeoutMs');
  let servername: string | undefined;
  if (options.servername === false) servername = undefined;
  else if (options.servername !== undefined) {
    const s =
      typeof options.servername === 'string' ? tryCanonicalizeHostname(options.servername) : undefined;
    if (s === undefined)
      throw new TypeError('options.servername must be a host name (not an IP address) or false');
    servername = s;
  } else if (!target.hostIsIP) servername = target.host;
  if (options.connect !== undefined && (typeof options.connect !== 'string' || options.connect === ''))
    throw new TypeError('options.connect must be a host name or an address');
  if (options.mxHost !== undefined && (typeof options.mxHost !== 'string' || options.mxHost === ''))
    throw new TypeError('options.mxHost must be a host name or an address');
  if (options.nextHop !== undefined && (typeof options.nextHop !== 'string' || options.nextHop === ''))
    throw new TypeError('options.nextHop must be a domain name');
  if (options.match !== undefined && (!Array.isArray(options.match) || options.match.length === 0))
    throw new TypeError('options.match must be a non-empty array');
  if (
    options.alpn !== undefined &&
    (!Array.isArray(options.alpn) ||
      options.alpn.some((p) => typeof p !== 'string' || p === '' || p.length > 255))
  )
    throw new TypeError('options.alpn must be an array of protocol names');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError('options.signal must be an AbortSignal');
  const mxHost = options.mxHost ?? target.host;
  const match =
    options.match ?? (options.nextHop === undefined ? POSTFIX_VERIFY_MATCH : POSTFIX_SECURE_MATCH);
  // An unusable reference identity is the caller's mistake: say so before connecting.
  try {
    verifyMailPeer({ dnsNames: [] }, { mxHost, nextHop: options.nextHop, match });
  } catch (e) {
    if (!(e instanceof MailTlsError) || e.code !== 'ERR_HOSTNAME_MISMATCH') throw e;
  }
  return {
    servername,
    trust: readTrust(options.trust),
    at,
    timeoutMs,
    connect: options.connect ?? target.host,
    mxHost,
    nextHop: options.nextHop,
    match,
    clientName: options.clientName,
    alpn: options.alpn ? [...options.alpn] : target.protocol === 'https' ? ['h2', 'http/1.1'] : undefined,
    signal: options.signal,
  };
}

/** Re-labels an error of the STARTTLS client or the connect step with the probe's codes. */
function probeError(e: unknown, target: ProbeTarget): unknown {
  if (!(e instanceof TLSError)) return e;
  const details = { ...e.details, url: target.url };
  if (e.code === 'ERR_TLS_CONNECT' || e.code === 'ERR_TLS_TIMEOUT')
    return new ProbeError('ERR_PROBE_CONNECT', `${target.url}: ${e.message}`, { cause: e, details });
  if (e.code === 'ERR_TLS_STARTTLS')
    return new ProbeError('ERR_PROBE_PROTOCOL', `${target.url}: ${e.message}`, { cause: e, details });
  return e;
}

interface Tap {
  readonly duplex: Duplex;
  /** Stops recording and answers what was recorded. */
  stop(): Uint8Array;
}

/** A duplex stream over `raw` that records the bytes the server sends (up to MAX_CAPTURE). */
function tap(raw: net.Socket): Tap {
  const chunks: Buffer[] = [];
  let size = 0;
  let recording = true;
  const duplex = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (raw.destroyed || !raw.writable) callback(new Error('the connection is closed'));
      else raw.write(chunk, (e) => callback(e ?? null));
    },
    final(callback) {
      raw.end();
      callback();
    },
    destroy(error, callback) {
      raw.destroy();
      callback(error);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    if (recording && size < MAX_CAPTURE) {
      const part = chunk.subarray(0, MAX_CAPTURE - size);
      chunks.push(part);
      size += part.length;
    }
    if (!duplex.push(chunk)) raw.pause();
  });
  raw.on('end', () => duplex.push(null));
  raw.on('error', (e) => duplex.destroy(e));
  raw.on('close', () => {
    if (!duplex.destroyed) duplex.destroy();
  });
  return {
    duplex,
    stop() {
      recording = false;
      const out = new Uint8Array(Buffer.concat(chunks));
      chunks.length = 0;
      return out;
    },
  };
}

interface Handshake {
  readonly socket: tls.TLSSocket;
  readonly serverBytes: Uint8Array;
  readonly keylog: readonly string[];
}

function handshake(raw: net.Socket, o: Options, target: ProbeTarget, deadline: number): Promise<Handshake> {
  const t = tap(raw);
  const keylog: string[] = [];
  const connectOptions: tls.ConnectionOptions = {
    socket: t.duplex,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    minVersion: 'TLSv1',
    // Every TLS 1.3 suite and OpenSSL's default older ones, at level 0: old servers are diagnosed, not refused.
    ciphers: `${TLS13_SUITES}:DEFAULT:@SECLEVEL=0`,
  };
  if (o.servername !== undefined) connectOptions.servername = o.servername;
  if (o.alpn !== undefined) connectOptions.ALPNProtocols = o.alpn;
  const socket = tls.connect(connectOptions);
  socket.on('keylog', (line: Buffer) => {
    if (keylog.length < 16) keylog.push(line.toString('latin1'));
  });
  return new Promise((resolve, reject) => {
    const finish = (e?: unknown): void => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
      const serverBytes = t.stop();
      if (e === undefined) {
        socket.on('error', () => {});
        resolve({ socket, serverBytes, keylog });
      } else {
        socket.destroy();
        raw.destroy();
        reject(e);
      }
    };
    const onSecure = (): void => finish();
    const onError = (e: NodeJS.ErrnoException): void =>
      finish(
        new ProbeError(
          'ERR_PROBE_PROTOCOL',
          `${target.url}: the TLS handshake failed${target.starttls ? ' after STARTTLS' : ''}: ${sanitizeReply(`${e.code ?? ''} ${e.message}`.trim())}. The server may offer no protocol version or suite in common, or it does not speak TLS on this port${target.starttls ? '' : ' (try the STARTTLS scheme)'}.`,
          { cause: e, details: { url: target.url, phase: 'tls', reason: e.code ?? 'error' } },
        ),
      );
    const onAbort = (): void => finish(o.signal!.reason);
    const timer = setTimeout(
      () =>
        finish(
          new ProbeError(
            'ERR_PROBE_CONNECT',
            `${target.url}: the TLS handshake did not finish in time${target.starttls ? '' : '; if the port expects STARTTLS, use the STARTTLS scheme (smtp://, submission://, imap://, pop3://)'}.`,
            { details: { url: target.url, phase: 'tls', reason: 'timeout' } },
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
    socket.once('secureConnect', onSecure);
    socket.on('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const QUIT: Record<ProbeProtocol, string> = {
  smtp: 'QUIT\r\n',
  pop3: 'QUIT\r\n',
  imap: 'a3 LOGOUT\r\n',
  https: '',
};

/** Says goodbye over TLS and closes; the socket is destroyed after a second at the latest. */
function hangUp(socket: tls.TLSSocket, raw: net.Socket, protocol: ProbeProtocol): void {
  const timer = setTimeout(() => {
    socket.destroy();
    raw.destroy();
  }, 1000);
  timer.unref();
  socket.once('close', () => {
    clearTimeout(timer);
    raw.destroy();
  });
  socket.resume();
  if (QUIT[protocol] !== '' && socket.writable) socket.end(QUIT[protocol]);
  else socket.end();
}

function issuerLinks(socket: tls.TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw !== undefined && out.length < 16) {
    const key = cert.raw.toString('base64');
    if (seen.has(key)) break;
    seen.add(key);
    out.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return out;
}

function sameDER(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function describeCert(c: Certificate): string {
  return `"${c.subject.toString()}"`;
}

function problem(
  code: ProbeProblemCode,
  message: string,
  details: Record<string, unknown> = {},
): ProbeProblem {
  return Object.freeze({ code, message, details: Object.freeze(details) });
}

/** Served-chain problems from the assembled chain, in words for a server (not a bundle). */
function chainProblems(served: readonly Certificate[], assembled: AssembledChain): ProbeProblem[] {
  const out: ProbeProblem[] = [];
  const from = (p: ChainProblem): ProbeProblem | undefined => {
    const d = { ...(p.details ?? {}) };
    switch (p.code) {
      case 'unknown-issuer': {
        // The server sends its certificate and intermediate CA certificates, and only the issuer of the top
        // CA certificate is unknown: that is how a complete chain from a root that is not trusted here looks
        // (servers should not send the root). Say so, rather than advising to add the root to the chain.
        if (served.length > 1 && p.certificate?.basicConstraints?.ca === true)
          return problem(
            'untrusted-root',
            `The server sends its chain up to the CA ${describeCert(p.certificate)}, issued by "${String(d.issuer)}", which is not among the trusted roots. If that is your (private) root, the chain is complete: pass the root as trust (mailtls probe --trust ROOT.pem) to check against it; servers should not send the root. If it is another intermediate CA, the server must send it too.`,
            d,
          );
        const urls = Array.isArray(d.caIssuers) ? (d.caIssuers as string[]) : [];
        return problem(
          'unknown-issuer',
          `The server does not send the issuer of ${p.certificate ? describeCert(p.certificate) : 'its certificate'}: "${String(d.issuer)}". Clients that do not happen to have it cannot build the chain. ${urls.length > 0 ? `Download it from ${urls.join(' or ')} and add it` : 'Get it from the CA and add it'} to the certificate file the server sends (after the server's own certificate).`,
          d,
        );
      }
      case 'root-included':
        return problem(
          'root-sent',
          `The server sends the root ${p.certificate ? describeCert(p.certificate) : ''}. Clients use their own copy of a root, so sending it only costs bytes in every handshake; remove it from the chain file.`,
          d,
        );
      case 'unrelated-dropped':
        return problem(
          'unrelated-certificate',
          `The server sends ${p.certificate ? describeCert(p.certificate) : 'a certificate'}, which is not part of its chain. Remove it from the chain file.`,
          d,
        );
      case 'duplicate-dropped':
        return problem(
          'duplicate-certificate',
          `The server sends ${p.certificate ? describeCert(p.certificate) : 'a certificate'} more than once. Remove the copies from the chain file.`,
          d,
        );
      case 'wrong-order':
        return undefined; // judged on the served order below
      default:
        return problem(p.code, p.message, d);
    }
  };
  for (const p of assembled.problems) {
    const q = from(p);
    if (q !== undefined) out.push(q);
  }
  // Order: the served certificates that are on the path must appear in path order.
  const path = [...assembled.certificates];
  if (assembled.root !== undefined && !path.some((c) => sameDER(c.der, assembled.root!.der)))
    path.push(assembled.root);
  const positions: number[] = [];
  for (const c of served.slice(1)) {
    const at = path.findIndex((p) => sameDER(p.der, c.der));
    // A copy of a certificate already seen is a duplicate (reported as such), not an order problem.
    if (at > 0 && !positions.includes(at)) positions.push(at);
  }
  if (positions.some((p, i) => i > 0 && p <= positions[i - 1]!))
    out.push(
      problem(
        'wrong-order',
        `The server sends its chain in the wrong order: each certificate must be followed by its issuer (${path
          .map((c) => describeCert(c))
          .join(
            ' → ',
          )}). Some clients give up on a chain out of order; reorder the chain file (mailtls's assembleChain writes it in order).`,
        { served: served.map((c) => c.subject.toString()), expected: path.map((c) => c.subject.toString()) },
      ),
    );
  return out;
}

const CHAIN_REASONS_REPORTED: Readonly<Record<string, readonly ProbeProblemCode[]>> = {
  'unknown-issuer': ['unknown-issuer', 'untrusted-root'],
  'untrusted-root': ['untrusted-root'],
  expired: ['expired'],
  'not-yet-valid': ['not-yet-valid'],
};

function protocolProblems(version: string, cipher: tls.CipherNameAndProtocol): ProbeProblem[] {
  const out: ProbeProblem[] = [];
  if (version === 'TLSv1' || version === 'TLSv1.1' || version === 'SSLv3')
    out.push(
      problem(
        'weak-protocol',
        `The server negotiated ${version}, which RFC 8996 deprecates. Enable TLS 1.2 and 1.3 on the server; keep ${version} only on port 25 if at all.`,
        { version },
      ),
    );
  if (version !== 'TLSv1.3') {
    const name = cipher.standardName ?? cipher.name;
    const aead = /GCM|CHACHA20|CCM/.test(name);
    const forwardSecret = /ECDHE|DHE/.test(name);
    if (!aead || !forwardSecret)
      out.push(
        problem(
          'weak-cipher',
          `The server chose ${name}, a suite ${[!forwardSecret ? 'without forward secrecy' : '', !aead ? 'without an AEAD cipher (CBC)' : ''].filter((s) => s).join(' and ')}. Prefer ECDHE suites with AES-GCM or ChaCha20-Poly1305 (mailtls's intermediate profile).`,
          { cipher: name, version },
        ),
      );
  }
  return out;
}

interface Analysis {
  servedChain: Certificate[];
  chainValid: boolean;
  chainError: MailTlsError | undefined;
  verifiedChain: readonly Certificate[] | undefined;
  namesMatch: boolean;
  namesError: MailTlsError | undefined;
  notAfter: Date;
  problems: ProbeProblem[];
}

async function analyze(ders: readonly Uint8Array[], o: Options): Promise<Analysis> {
  const problems: ProbeProblem[] = [];
  const servedChain: Certificate[] = [];
  let leafError: MailTlsError | undefined;
  ders.forEach((der, index) => {
    try {
      servedChain.push(parseCertificate(der));
    } catch (e) {
      if (index === 0 && e instanceof MailTlsError) leafError = e;
      problems.push(
        problem(
          'unreadable-certificate',
          `Certificate ${index + 1} the server sends cannot be read (${e instanceof Error ? e.message : String(e)}); replace it.`,
          { index },
        ),
      );
    }
  });
  const leaf = servedChain[0];
  if (leaf === undefined || leafError !== undefined) {
    let x: X509Certificate;
    try {
      x = new X509Certificate(ders[0]!);
    } catch (e) {
      throw new ProbeError(
        'ERR_PROBE_PROTOCOL',
        "the server's certificate cannot be read at all; replace it.",
        {
          cause: e,
          details: { phase: 'tls', reason: 'unreadable-certificate' },
        },
      );
    }
    return {
      servedChain,
      chainValid: false,
      chainError: leafError,
      verifiedChain: undefined,
      namesMatch: false,
      namesError: leafError,
      notAfter: new Date(x.validTo),
      problems,
    };
  }
  const rest = servedChain.slice(1);
  try {
    const assembled = await assembleChain(leaf, rest, { roots: o.trust, at: o.at });
    problems.push(...chainProblems(servedChain, assembled));
  } catch (e) {
    if (!(e instanceof MailTlsError)) throw e;
    problems.push(problem('chain-invalid', e.message, { ...e.details }));
  }
  let chainValid = false;
  let chainError: MailTlsError | undefined;
  let verifiedChain: readonly Certificate[] | undefined;
  try {
    verifiedChain = (await verifyChain(leaf, { roots: o.trust, intermediates: rest, at: o.at })).certificates;
    chainValid = true;
  } catch (e) {
    if (!(e instanceof MailTlsError)) throw e;
    chainError = e;
    const reason = String(e.details.reason ?? '');
    const covered = CHAIN_REASONS_REPORTED[reason];
    if (covered === undefined || !problems.some((p) => covered.includes(p.code)))
      problems.push(problem('chain-invalid', e.message, { code: e.code, reason }));
  }
  let namesMatch = false;
  let namesError: MailTlsError | undefined;
  try {
    verifyMailPeer(leaf, { mxHost: o.mxHost, nextHop: o.nextHop, match: o.match });
    namesMatch = true;
  } catch (e) {
    if (!(e instanceof MailTlsError)) throw e;
    namesError = e;
    problems.push(problem('name-mismatch', e.message, { ...e.details }));
  }
  return {
    servedChain,
    chainValid,
    chainError,
    verifiedChain,
    namesMatch,
    namesError,
    notAfter: leaf.notAfter,
    problems,
  };
}

/**
 * Connects to a mail or web server, starts TLS the way the URL's scheme says (STARTTLS for `smtp://`,
 * `submission://`, `pop3://`, `imap://`; at once for the others), reads the certificate chain the server
 * sends, and judges it with mailtls: chain validation and assembly at `at` against `trust`, host-name
 * matching against `mxHost` (default the URL's host), days left, protocol version and suite. Never hangs:
 * every phase is bounded by `timeoutMs` in total; the socket is always closed.
 *
 * @param url - e.g. `smtp://mx1.example.com`, `submission://smtp.example.com:587`, `imaps://imap.example.com`.
 * @param options - `servername`, `trust`, `at`, `timeoutMs`, `connect`, `mxHost`, `nextHop`, `match`,
 *   `clientName`, `alpn`, `signal`.
 * @returns What was found; a bad chain or name is a result (`chainValid`, `namesMatch`, `problems`), not an
 *   error.
 * @throws {ProbeError} (rejects) `ERR_PROBE_URL` for a bad URL, scheme or port; `ERR_PROBE_CONNECT` when the
 *   connection is refused, the name does not resolve, or any phase times out (`details.phase`:
 *   `connect`, `greeting`, `capabilities`, `starttls`, `tls`); `ERR_PROBE_PROTOCOL` when the server does not
 *   offer STARTTLS, answers something unexpected (its line, sanitised and cut to 200 characters, in the
 *   message and `details.reply`), closes the connection, or the TLS handshake fails. HostnameError
 *   `ERR_HOSTNAME_INVALID` for an unusable `mxHost`/`nextHop`; PEMError/CertificateError for an unreadable
 *   `trust`; TypeError / RangeError for bad options. The signal's reason when aborted.
 * @example
 * ```ts
 * import { probe } from 'mailtls/node';
 * const r = await probe('smtp://mx1.example.com');
 * console.log(r.tlsVersion, r.chainValid, r.namesMatch, `${r.daysLeft} days left`);
 * for (const p of r.problems) console.warn(`${p.code}: ${p.message}`);
 * ```
 */
export async function probe(url: string | URL, options: ProbeOptions = {}): Promise<ProbeResult> {
  const target = parseProbeURL(url);
  const o = readOptions(target, options);
  if (o.signal?.aborted) throw o.signal.reason;
  const deadline = Date.now() + o.timeoutMs;
  const connectHost =
    o.connect.startsWith('[') && o.connect.endsWith(']') ? o.connect.slice(1, -1) : o.connect;
  const where = `${net.isIPv6(connectHost) ? `[${connectHost}]` : connectHost}:${target.port}`;
  const raw = net.connect({ host: connectHost, port: target.port });
  raw.on('error', () => {}); // every phase watches errors itself; this one only keeps the process alive
  let negotiated: NegotiatedStartTLS | undefined;
  let hs: Handshake;
  let connectedTo = where;
  try {
    await waitConnected(raw, deadline, o.signal, where);
    connectedTo = `${raw.remoteAddress}:${raw.remotePort}`;
    if (target.starttls)
      negotiated = await negotiateStartTLS(raw, {
        protocol: target.protocol as StartTLSClientProtocol,
        clientName: o.clientName,
        timeoutMs: Math.max(1, deadline - Date.now()),
        signal: o.signal,
      });
    hs = await handshake(raw, o, target, deadline);
  } catch (e) {
    raw.destroy();
    throw probeError(e, target);
  }
  const { socket } = hs;
  let ders: Uint8Array[] | undefined;
  let source: ServedChainSource = 'handshake';
  let tlsVersion: string;
  let cipher: tls.CipherNameAndProtocol;
  let alpn: string | false;
  try {
    tlsVersion = socket.getProtocol() ?? 'unknown';
    cipher = socket.getCipher();
    alpn = socket.alpnProtocol ?? false;
    const leaf = socket.getPeerX509Certificate();
    ders = parseHandshakeCertificates({
      serverBytes: hs.serverBytes,
      version: tlsVersion,
      cipherSuite: cipher.standardName,
      keylog: hs.keylog,
    });
    if (ders === undefined || leaf === undefined || !sameDER(ders[0]!, leaf.raw)) {
      ders = issuerLinks(socket);
      source = 'issuer-links';
    }
  } finally {
    hangUp(socket, raw, target.protocol);
  }
  if (ders.length === 0)
    throw new ProbeError('ERR_PROBE_PROTOCOL', `${target.url}: the server sent no certificate.`, {
      details: { url: target.url, phase: 'tls', reason: 'no-certificate' },
    });
  const a = await analyze(ders, o);
  const problems = [...a.problems, ...protocolProblems(tlsVersion, cipher)];
  if (negotiated !== undefined && negotiated.discardedBytes > 0)
    problems.push(
      problem(
        'plaintext-after-starttls',
        `The server (or something between) sent ${negotiated.discardedBytes} bytes of plaintext after its STARTTLS go-ahead; the probe discarded them. A correct server sends nothing there: this is what a STARTTLS response injection looks like.`,
        { bytes: negotiated.discardedBytes },
      ),
    );
  return Object.freeze({
    url: target.url,
    protocol: target.protocol,
    connectedTo,
    starttls: target.starttls,
    servername: o.servername,
    tlsVersion,
    cipher: cipher.standardName ?? cipher.name,
    ...(alpn === false ? {} : { alpn }),
    servedChain: Object.freeze(a.servedChain),
    servedChainSource: source,
    chainValid: a.chainValid,
    ...(a.chainError === undefined ? {} : { chainError: a.chainError }),
    ...(a.verifiedChain === undefined ? {} : { verifiedChain: a.verifiedChain }),
    namesMatch: a.namesMatch,
    ...(a.namesError === undefined ? {} : { namesError: a.namesError }),
    notAfter: a.notAfter,
    daysLeft: Math.floor((a.notAfter.getTime() - o.at.getTime()) / DAY),
    at: o.at,
    problems: Object.freeze(problems),
    transcript: negotiated?.transcript ?? Object.freeze([]),
    capabilities: negotiated?.capabilities ?? Object.freeze([]),
  });
}
