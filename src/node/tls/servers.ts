/**
 * Adapters that serve an {@link SNIRegistry}:
 *
 * - {@link acceptTLS} / {@link createPeekingTLSServer}: a plain `net` socket or server; the ClientHello is read
 *   first and the `TLSSocket` is created with the right context from the start (no node SNI path at all).
 *   They take a registry or any {@link TLSContextSource}, such as `createSettingsContextSource`, which applies
 *   the TLS settings' profile per domain (possible here because the context is chosen before the handshake).
 * - {@link tlsServerOptions} / {@link createTLSServer} / {@link createHTTPSServer}: node:tls and node:https
 *   servers through `SNICallback`, with the default identity passed as `key`/`cert` (both servers ignore a
 *   `secureContext` option, so clients without SNI would get no certificate) and the profile ordered so that
 *   node serves the right certificate whatever the key types (nodejs/node#54235, see
 *   {@link orderProfileForDefaultKeyType}); a guard refuses any connection that still got the wrong one.
 * - {@link smtpServerOptions} / {@link updateSMTPServer}: options for nodemailer's `smtp-server`.
 *
 * @module node/tls/servers
 */

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { MailTlsError, TLSError } from '../../errors.js';
import { optionalIntegerAtLeast } from '../../internal/assert.js';
import type { SNILookup } from '../../names/sni.js';
import { orderProfileForDefaultKeyType } from '../../tls/profile.js';
import { type ClientHelloInfo, peekClientHello } from './client-hello.js';
import { type ProfileContextOptions, profileContextOptions } from './secure-context.js';
import type { TLSContextSource } from './settings-source.js';
import type { ResolvedContext, SNIRegistry } from './sni-registry.js';

/** node:tls options that serve a registry through `SNICallback`. */
export interface RegistryServerOptions extends ProfileContextOptions {
  /** The default credential's key (PEM). */
  key: string;
  /** The default credential's chain (PEM). */
  cert: string;
  /** The default key's pass phrase, if any. */
  passphrase?: string;
  /** The registry's `SNICallback`. */
  SNICallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
}

/**
 * Options for `tls.createServer`, `https.createServer` or `tls.TLSSocket` that serve a registry: the default
 * identity as `key`/`cert`, the registry's `SNICallback`, and the registry's profile with the signature
 * algorithms and TLS 1.2 suites ordered so that the default certificate's key type comes last. Node copies an
 * SNI context's certificate into a connection that keeps the default certificate in the slot of the other key
 * type (nodejs/node#54235); with this order OpenSSL picks the name's certificate whenever one was copied in.
 * Spread your own options first; these must win.
 *
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import { createSNIRegistry, tlsServerOptions } from 'mailtls/node';
 * const registry = createSNIRegistry(defaultCredential);
 * const server = tls.createServer({ handshakeTimeout: 10_000, ...tlsServerOptions(registry) });
 * ```
 */
export function tlsServerOptions(registry: SNIRegistry): RegistryServerOptions {
  const credential = registry.defaultCredential;
  const profile = orderProfileForDefaultKeyType(registry.profile, registry.defaultSummary.keyType);
  const options: RegistryServerOptions = {
    ...profileContextOptions(profile),
    key: credential.key,
    cert: credential.cert,
    SNICallback: registry.SNICallback,
  };
  if (credential.passphrase !== undefined) options.passphrase = credential.passphrase;
  return options;
}

/**
 * Tells whether a secured connection got the certificate the registry meant for its SNI name. Only a name
 * whose key type differs from the default's can get the wrong one (nodejs/node#54235); for the others this
 * answers true without looking.
 *
 * @example
 * ```ts
 * server.on('secureConnection', (s) => { if (!matchServedCertificate(registry, s)) s.destroy(); });
 * ```
 */
export function matchServedCertificate(registry: SNIRegistry, socket: tls.TLSSocket): boolean {
  // One key type served so far: every certificate is of the default's type (the check of every handshake).
  if (registry.servedKeyTypes.size === 1) return true;
  const servername = typeof socket.servername === 'string' ? socket.servername : undefined;
  // Built by the SNICallback of this very handshake (kept even if the LRU dropped the context since); the
  // default's summary for a name served by the default.
  const summary = registry.summaryOf(servername);
  if (summary === undefined || summary.keyType === registry.defaultSummary.keyType) return true;
  return socket.getX509Certificate()?.fingerprint256 === summary.fingerprint256;
}

function wrongCertificate(socket: tls.TLSSocket): TLSError {
  return new TLSError(
    'ERR_TLS_WRONG_CERTIFICATE',
    `node served the default certificate instead of the one for "${String(socket.servername)}" (its key type ` +
      'differs from the default and the client offered no algorithm for it, or the server options were changed); ' +
      'the connection was closed. Serve through acceptTLS/createPeekingTLSServer, or give the name a ' +
      'certificate of the default key type',
    { details: { servername: socket.servername } },
  );
}

/** Filters `secureConnection` so a connection with the wrong certificate never reaches listeners. */
function guardSecureConnections(server: tls.Server, registry: SNIRegistry): void {
  const emit = server.emit as (this: tls.Server, event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function guardedEmit(this: tls.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'secureConnection') {
      const socket = args[0] as tls.TLSSocket;
      if (!matchServedCertificate(registry, socket)) {
        const error = wrongCertificate(socket);
        emit.call(this, 'tlsClientError', error, socket);
        socket.destroy();
        return false;
      }
    }
    return emit.call(this, event, ...args);
  } as typeof server.emit;
}

function followDefault(server: tls.Server, registry: SNIRegistry, base: tls.TlsOptions): void {
  const refresh = (): void => server.setSecureContext({ ...base, ...tlsServerOptions(registry) });
  registry.on('default', refresh);
  server.once('close', () => registry.off('default', refresh));
}

/**
 * A `tls.Server` serving a registry (see {@link tlsServerOptions}), which refuses, with a `tlsClientError`
 * carrying `ERR_TLS_WRONG_CERTIFICATE`, any connection that still got the default certificate instead of the
 * name's, and which picks up a new default credential (`registry.setDefault`).
 *
 * @param options - other node:tls server options (`handshakeTimeout`, `ALPNProtocols`, `requestCert`...); the
 *   identity, suites, versions and `SNICallback` come from the registry.
 * @example
 * ```ts
 * import { createTLSServer } from 'mailtls/node';
 * createTLSServer(registry, {}, (socket) => socket.end('* OK IMAP ready\r\n')).listen(993);
 * ```
 */
export function createTLSServer(
  registry: SNIRegistry,
  options: tls.TlsOptions = {},
  secureConnectionListener?: (socket: tls.TLSSocket) => void,
): tls.Server {
  const server = tls.createServer({ ...options, ...tlsServerOptions(registry) }, secureConnectionListener);
  guardSecureConnections(server, registry);
  followDefault(server, registry, options);
  return server;
}

/**
 * An `https.Server` serving a registry, with the same guard and default-following as {@link createTLSServer}.
 *
 * @example
 * ```ts
 * import { createHTTPSServer } from 'mailtls/node';
 * createHTTPSServer(registry, {}, (req, res) => res.end('ok')).listen(443);
 * ```
 */
export function createHTTPSServer(
  registry: SNIRegistry,
  options: https.ServerOptions = {},
  requestListener?: http.RequestListener,
): https.Server {
  const server = https.createServer({ ...options, ...tlsServerOptions(registry) }, requestListener);
  guardSecureConnections(server, registry);
  followDefault(server, registry, options);
  return server;
}

/** Options of {@link acceptTLS}. */
export interface AcceptTLSOptions {
  /** Time for the ClientHello and the whole handshake, in milliseconds (default 30,000). */
  timeoutMs?: number;
  /** Largest ClientHello accepted, in bytes (default 32 KiB). */
  maxClientHelloBytes?: number;
  /** The server the socket belongs to (passed to the TLSSocket for session and OCSP events). */
  server?: net.Server;
  /** Ask for a client certificate (verified against the registry's `contextOptions.ca`). */
  requestCert?: boolean;
  /** With `requestCert`, refuse clients without a valid certificate. */
  rejectUnauthorized?: boolean;
  /** ALPN protocols the server accepts, in preference order. */
  ALPNProtocols?: string[];
}

function ignore(): void {}

function closeOnError(this: tls.TLSSocket): void {
  this.destroy();
}

/** Details of a connection {@link acceptTLS} secured (also attached to the socket as `mailtls`). */
export interface AcceptedTLSInfo {
  /** How the registry matched the SNI name. */
  readonly lookup: SNILookup;
  /** What the ClientHello carried. */
  readonly clientHello: ClientHelloInfo;
}

/** A TLSSocket secured by {@link acceptTLS}. */
export type AcceptedTLSSocket = tls.TLSSocket & {
  /** How the connection was set up. */
  readonly mailtls: AcceptedTLSInfo;
};

/**
 * Secures a plain socket as a TLS server: reads the ClientHello, picks the context for its SNI name from the
 * registry (exact, wildcard, default), creates `new tls.TLSSocket(socket, { isServer: true, secureContext })`
 * with the bytes read put back, and resolves once the handshake is done. Each connection holds exactly one
 * certificate, so node#54235 cannot happen here. Used for implicit TLS (465, 993, 995, 443) and by
 * `upgradeToTLS` for STARTTLS. After the handshake the socket behaves like one from a `tls.Server`: TLS errors
 * are `error` events, and any error closes the connection.
 *
 * @throws {TLSError} (rejects, socket destroyed) `ERR_TLS_CLIENT_HELLO` when the peer does not start TLS;
 *   `ERR_TLS_TIMEOUT` when the ClientHello or handshake takes longer than `timeoutMs`; `ERR_TLS_CONTEXT` when
 *   the name's credential cannot be loaded; `ERR_TLS_HANDSHAKE` when the handshake fails (`cause` has node's
 *   error). TypeError when `socket` is not a `net.Socket`; RangeError for a `timeoutMs` or
 *   `maxClientHelloBytes` out of range; node's TypeError or RangeError (rejects) for `ALPNProtocols` it refuses.
 * @example
 * ```ts
 * import net from 'node:net';
 * import { acceptTLS } from 'mailtls/node';
 * net.createServer(async (raw) => {
 *   const socket = await acceptTLS(raw, registry).catch(() => undefined);
 *   socket?.end('* OK IMAP ready\r\n');
 * }).listen(993);
 * ```
 */
export function acceptTLS(
  socket: net.Socket,
  registry: TLSContextSource,
  options: AcceptTLSOptions = {},
): Promise<AcceptedTLSSocket> {
  if (!(socket instanceof net.Socket)) throw new TypeError('socket must be a net.Socket');
  const timeoutMs = checkAcceptOptions(options);
  return new Promise((resolve, reject) =>
    secureSocket(socket, registry, options, timeoutMs, resolve, reject),
  );
}

/** Checks the numbers of {@link AcceptTLSOptions} once, not per connection; answers `timeoutMs`. */
function checkAcceptOptions(options: Pick<AcceptTLSOptions, 'timeoutMs' | 'maxClientHelloBytes'>): number {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw new RangeError('timeoutMs must be a positive number');
  const max = options.maxClientHelloBytes;
  optionalIntegerAtLeast(max, 'maxClientHelloBytes', 64, undefined);
  return timeoutMs;
}

/**
 * The callback core of {@link acceptTLS} (options already checked). Callbacks rather than awaits, one timer for
 * the ClientHello and the handshake together: this runs for every connection, and the benchmark counts its
 * cost against a plain tls.Server.
 */
function secureSocket(
  socket: net.Socket,
  registry: TLSContextSource,
  options: AcceptTLSOptions,
  timeoutMs: number,
  resolve: (socket: AcceptedTLSSocket) => void,
  reject: (error: Error) => void,
): void {
  let secure: tls.TLSSocket | undefined;
  let clientHello: ClientHelloInfo | undefined;
  let settled = false;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    stopPeek(error);
    if (secure) {
      secure.removeListener('secure', onSecure);
      secure.removeListener('error', onError);
      secure.removeListener('_tlsError', onError);
      secure.removeListener('close', onClose);
      secure.on('error', ignore);
      secure.destroy();
    } else {
      socket.destroy();
    }
    reject(error);
  };
  const onSecure = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    const s = secure!;
    s.removeListener('error', onError);
    s.removeListener('_tlsError', onError);
    s.removeListener('close', onClose);
    // What tls.Server does for its sockets: from now on TLS errors are ordinary 'error' events (a TLSSocket
    // made by hand otherwise reports post-handshake errors only as the internal '_tlsError').
    const release = (s as unknown as { _releaseControl?: () => boolean })._releaseControl;
    if (typeof release === 'function') release.call(s);
    // Keep a listener so that a reset after the handshake never crashes the process (tls.Server does the
    // same), and close the connection on any error: a TLS error leaves the session unusable. Add your own
    // 'error' listener to see such errors.
    s.on('error', closeOnError);
    resolve(s as AcceptedTLSSocket);
  };
  const onError = (e: Error): void =>
    fail(
      e instanceof MailTlsError
        ? e
        : new TLSError('ERR_TLS_HANDSHAKE', `TLS handshake failed: ${e.message}`, {
            cause: e,
            details: { servername: clientHello?.serverName, code: (e as NodeJS.ErrnoException).code },
          }),
    );
  const onClose = (): void =>
    fail(
      new TLSError('ERR_TLS_HANDSHAKE', 'the client closed the connection during the TLS handshake', {
        details: { servername: clientHello?.serverName },
      }),
    );
  const start = (resolved: ResolvedContext): void => {
    if (settled) return;
    const tlsOptions: tls.TLSSocketOptions = { isServer: true, secureContext: resolved.context };
    if (options.server !== undefined) tlsOptions.server = options.server;
    if (options.requestCert !== undefined) tlsOptions.requestCert = options.requestCert;
    if (options.rejectUnauthorized !== undefined) tlsOptions.rejectUnauthorized = options.rejectUnauthorized;
    if (options.ALPNProtocols !== undefined) tlsOptions.ALPNProtocols = options.ALPNProtocols;
    let s: tls.TLSSocket;
    try {
      s = new tls.TLSSocket(socket, tlsOptions);
    } catch (e) {
      // Options node refuses (an ALPN name over 255 bytes...): fail now, not at the time-out.
      fail(e as Error);
      return;
    }
    secure = s;
    socket.removeListener('error', ignore);
    (s as { mailtls?: AcceptedTLSInfo }).mailtls = { lookup: resolved.lookup, clientHello: clientHello! };
    s.once('secure', onSecure);
    s.on('error', onError);
    s.on('_tlsError', onError);
    s.on('close', onClose);
  };
  const timer = setTimeout(
    () =>
      fail(
        new TLSError(
          'ERR_TLS_TIMEOUT',
          `TLS set-up not complete after ${timeoutMs} ms; closing the connection`,
          {
            details: { timeoutMs, servername: clientHello?.serverName },
          },
        ),
      ),
    timeoutMs,
  );
  // Until the TLSSocket owns the socket, an error on it must not crash the process.
  socket.on('error', ignore);
  const stopPeek = peekClientHello(socket, options.maxClientHelloBytes, (error, read) => {
    if (error) return fail(error);
    clientHello = read!.info;
    let ready: ResolvedContext | undefined;
    try {
      ready = registry.resolveIfReady(clientHello.serverName);
    } catch (e) {
      return fail(e as Error);
    }
    if (ready) start(ready);
    else registry.resolve(clientHello.serverName).then(start, fail);
  });
}

/** Options of {@link createPeekingTLSServer}. */
export type PeekingTLSServerOptions = Omit<AcceptTLSOptions, 'server'> & net.ServerOpts;

/**
 * A `net.Server` that secures every connection with {@link acceptTLS} and emits `secureConnection` (socket)
 * and `tlsClientError` (error, socket) like a `tls.Server`.
 *
 * @throws RangeError when `timeoutMs` is not a positive finite number or `maxClientHelloBytes` not an
 *   integer of at least 64.
 *
 * @example
 * ```ts
 * import { createPeekingTLSServer } from 'mailtls/node';
 * const server = createPeekingTLSServer(registry, {}, (socket) => socket.end('+OK POP3 ready\r\n'));
 * server.on('tlsClientError', (err) => log(err.code));
 * server.listen(995);
 * ```
 */
export function createPeekingTLSServer(
  registry: TLSContextSource,
  options: PeekingTLSServerOptions = {},
  secureConnectionListener?: (socket: AcceptedTLSSocket) => void,
): net.Server {
  const { timeoutMs, maxClientHelloBytes, requestCert, rejectUnauthorized, ALPNProtocols, ...serverOpts } =
    options;
  const acceptOptions: AcceptTLSOptions = {};
  const timeout = checkAcceptOptions(options);
  if (maxClientHelloBytes !== undefined) acceptOptions.maxClientHelloBytes = maxClientHelloBytes;
  if (requestCert !== undefined) acceptOptions.requestCert = requestCert;
  if (rejectUnauthorized !== undefined) acceptOptions.rejectUnauthorized = rejectUnauthorized;
  if (ALPNProtocols !== undefined) acceptOptions.ALPNProtocols = ALPNProtocols;
  const server: net.Server = net.createServer(serverOpts, (raw) => {
    secureSocket(
      raw,
      registry,
      acceptOptions,
      timeout,
      (secure) => server.emit('secureConnection', secure),
      (error) => server.emit('tlsClientError', error, raw),
    );
  });
  acceptOptions.server = server;
  if (secureConnectionListener) server.on('secureConnection', secureConnectionListener);
  return server;
}

/** A peeking TLS server that hands its connections to an HTTP server. */
export type PeekingHTTPSServer = net.Server & {
  /** The HTTP server the secured connections go to. */
  readonly http: http.Server;
};

/**
 * HTTPS without node's SNI path: a {@link createPeekingTLSServer} whose secured connections are served by an
 * `http.Server` (available as `.http` for its events and settings). Listen on the returned server.
 *
 * @example
 * ```ts
 * import { createPeekingHTTPSServer } from 'mailtls/node';
 * createPeekingHTTPSServer(registry, {}, (req, res) => res.end('ok')).listen(443);
 * ```
 */
export function createPeekingHTTPSServer(
  registry: TLSContextSource,
  options: PeekingTLSServerOptions = {},
  requestListener?: http.RequestListener,
): PeekingHTTPSServer {
  const httpServer = http.createServer(requestListener);
  const server = createPeekingTLSServer(registry, { ALPNProtocols: ['http/1.1'], ...options }, (socket) =>
    httpServer.emit('connection', socket),
  );
  server.once('close', () => httpServer.close());
  Object.defineProperty(server, 'http', { value: httpServer, enumerable: true });
  return server as PeekingHTTPSServer;
}

/** What {@link smtpServerOptions} returns: spread it into `new SMTPServer({...})`. */
export type SMTPServerTLSOptions = RegistryServerOptions;

/**
 * Options for nodemailer's `smtp-server` (`new SMTPServer({ ...yours, ...smtpServerOptions(registry) })`):
 * the default identity as `key`/`cert` and the registry's `SNICallback`, used by smtp-server on implicit TLS
 * (`secure: true`) and after STARTTLS, and the profile's suites, versions, `honorCipherOrder` and
 * `secureOptions`, which smtp-server passes to `tls.createSecureContext`. The order of suites and signature
 * algorithms is the one of {@link tlsServerOptions}, because smtp-server also selects names through node's
 * SNI path. Names are canonicalised by the registry (smtp-server may hand over the Unicode form of a name).
 * Unlike {@link createTLSServer}, smtp-server serves its default certificate when the `SNICallback` fails (a
 * name whose credential cannot be loaded); the registry still emits `contextError` for it.
 *
 * @example
 * ```ts
 * import { SMTPServer } from 'smtp-server';
 * import { smtpServerOptions } from 'mailtls/node';
 * const server = new SMTPServer({ secure: false, ...smtpServerOptions(registry) });
 * ```
 */
export function smtpServerOptions(registry: SNIRegistry): SMTPServerTLSOptions {
  return tlsServerOptions(registry);
}

/** The part of smtp-server's API that {@link updateSMTPServer} uses. */
export interface SMTPServerLike {
  /** smtp-server's method that merges TLS options and rebuilds its default context. */
  updateSecureContext(options: Record<string, unknown>): void;
}

/**
 * Keeps an smtp-server in step with a registry: calls `server.updateSecureContext(smtpServerOptions(registry))`
 * now and whenever the default credential changes. Answers a function that stops following.
 *
 * @example
 * ```ts
 * const stop = updateSMTPServer(smtp, registry);
 * registry.setDefault(renewed); // smtp-server now serves the renewed default
 * ```
 */
export function updateSMTPServer(server: SMTPServerLike, registry: SNIRegistry): () => void {
  if (typeof server?.updateSecureContext !== 'function')
    throw new TypeError('server must be an smtp-server SMTPServer');
  const refresh = (): void => server.updateSecureContext({ ...smtpServerOptions(registry) });
  refresh();
  registry.on('default', refresh);
  return () => registry.off('default', refresh);
}
