/**
 * STARTTLS on a plain socket (SMTP `STARTTLS`, POP3 `STLS`, IMAP `STARTTLS`), without the command-injection
 * class of CVE-2011-0411: any plaintext that arrived before the server told the client to start TLS (commands
 * a man in the middle appended after `STARTTLS`) is discarded, never executed and never fed into TLS.
 *
 * @module node/tls/starttls
 */
import net from 'node:net';
import { TLSError } from '../../errors.js';
import { type AcceptedTLSInfo, type AcceptedTLSSocket, type AcceptTLSOptions, acceptTLS } from './servers.js';
import type { TLSContextSource } from './settings-source.js';

/** The protocols with a STARTTLS command. */
export type StartTLSProtocol = 'smtp' | 'pop3' | 'imap';

/**
 * The reply that tells a client to begin the TLS handshake: SMTP `220 2.0.0 Ready to start TLS` (RFC 3207),
 * POP3 `+OK Begin TLS negotiation` (RFC 2595), IMAP `<tag> OK Begin TLS negotiation now` (RFC 9051).
 *
 * @throws TypeError for an unknown protocol, or an IMAP tag that is missing or not an IMAP tag.
 * @example
 * ```ts
 * import { formatStartTLSReply } from 'mailtls/node';
 * formatStartTLSReply('imap', 'a1'); // 'a1 OK Begin TLS negotiation now\r\n'
 * ```
 */
export function formatStartTLSReply(protocol: StartTLSProtocol, tag?: string): string {
  switch (protocol) {
    case 'smtp':
      return '220 2.0.0 Ready to start TLS\r\n';
    case 'pop3':
      return '+OK Begin TLS negotiation\r\n';
    case 'imap':
      // RFC 9051 tag: 1*<any ASTRING-CHAR except "+">.
      if (typeof tag !== 'string' || !/^[!#$&'*,-./0-9:;<=>?@A-Z[\]^_`a-z|~]+$/.test(tag)) {
        throw new TypeError('an IMAP STARTTLS reply needs the tag of the STARTTLS command');
      }
      return `${tag} OK Begin TLS negotiation now\r\n`;
    default:
      throw new TypeError(`unknown STARTTLS protocol "${String(protocol)}": use smtp, pop3 or imap`);
  }
}

/** Options of {@link upgradeToTLS}. */
export interface UpgradeToTLSOptions extends AcceptTLSOptions {
  /**
   * The reply to write once buffered plaintext is discarded (see {@link formatStartTLSReply}). Give it here
   * rather than writing it yourself: then nothing the client sends after reading it can be mistaken for
   * injected plaintext. Omit it only when the reply was already written in the same tick.
   */
  reply?: string;
  /** Bytes your command reader had already read past the STARTTLS line (they are discarded and counted). */
  pipelined?: Uint8Array;
}

/** What {@link upgradeToTLS} adds to {@link AcceptedTLSInfo}. */
export interface UpgradedTLSInfo extends AcceptedTLSInfo {
  /** Plaintext bytes received after the STARTTLS command and discarded (anything above 0 is suspicious). */
  readonly discardedPlaintextBytes: number;
}

/** A TLSSocket secured by {@link upgradeToTLS}. */
export type UpgradedTLSSocket = AcceptedTLSSocket & {
  /** How the connection was set up, with the discarded plaintext count. */
  readonly mailtls: UpgradedTLSInfo;
};

/**
 * Upgrades a plain socket to TLS after a STARTTLS command: unpipes the socket and detaches every
 * `data`/`readable` listener (the plaintext protocol is over), discards buffered plaintext (`options.pipelined` and anything in the socket's
 * read buffer), writes `options.reply`, then secures the socket with `acceptTLS` (ClientHello read first,
 * context chosen by SNI from the registry). The caller resumes its protocol on the returned TLSSocket with a
 * fresh state (RFC 3207 §4.2: forget everything learnt before TLS).
 *
 * @throws {TLSError} (rejects, socket destroyed) `ERR_TLS_STARTTLS` when the socket is not open; the errors of
 *   `acceptTLS` (`ERR_TLS_CLIENT_HELLO` when the client sends plaintext instead of a ClientHello,
 *   `ERR_TLS_TIMEOUT`, `ERR_TLS_HANDSHAKE`, `ERR_TLS_CONTEXT`).
 * @example
 * ```ts
 * import { formatStartTLSReply, upgradeToTLS } from 'mailtls/node';
 * // in the SMTP command loop, on "STARTTLS":
 * const secure = await upgradeToTLS(socket, registry, { reply: formatStartTLSReply('smtp'), pipelined: rest });
 * if (secure.mailtls.discardedPlaintextBytes > 0) log('plaintext pipelined after STARTTLS was discarded');
 * ```
 */
export async function upgradeToTLS(
  socket: net.Socket,
  registry: TLSContextSource,
  options: UpgradeToTLSOptions = {},
): Promise<UpgradedTLSSocket> {
  if (!(socket instanceof net.Socket)) throw new TypeError('socket must be a net.Socket');
  if (options.reply !== undefined && typeof options.reply !== 'string')
    throw new TypeError('reply must be a string');
  if (options.pipelined !== undefined && !(options.pipelined instanceof Uint8Array)) {
    throw new TypeError('pipelined must be a Uint8Array');
  }
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    throw new TLSError('ERR_TLS_STARTTLS', 'the connection closed before STARTTLS could start', {
      details: { remoteAddress: socket.remoteAddress },
    });
  }
  socket.unpipe();
  socket.removeAllListeners('data');
  socket.removeAllListeners('readable');
  socket.pause();
  let discarded = options.pipelined?.length ?? 0;
  // With setEncoding the buffered chunks come out as strings: count their bytes, not their characters.
  const encoding = socket.readableEncoding ?? undefined;
  for (let chunk = socket.read() as Buffer | string | null; chunk !== null; chunk = socket.read()) {
    discarded += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
  }
  // A line-based server often calls socket.setEncoding('utf8'); the TLS bytes that follow must stay bytes
  // (a decoded ClientHello is lost). Node has no public way to undo setEncoding, so reset the decoder
  // (after the buffered plaintext was read and discarded above).
  if (socket.readableEncoding !== null) {
    const state = (socket as unknown as { _readableState?: { decoder: unknown; encoding: unknown } })
      ._readableState;
    if (state === undefined) throw new TypeError('upgradeToTLS needs a socket without setEncoding()');
    state.decoder = null;
    state.encoding = null;
  }
  if (options.reply !== undefined) socket.write(options.reply);
  const { reply: _reply, pipelined: _pipelined, ...acceptOptions } = options;
  const secure = await acceptTLS(socket, registry, acceptOptions);
  const info: UpgradedTLSInfo = { ...secure.mailtls, discardedPlaintextBytes: discarded };
  Object.defineProperty(secure, 'mailtls', { value: info, enumerable: false });
  return secure as UpgradedTLSSocket;
}
