/**
 * The client half of STARTTLS: the plaintext part of SMTP (RFC 5321, RFC 3207), POP3 (RFC 1939, RFC 2595)
 * and IMAP (RFC 9051) up to the moment the TLS handshake may start: greeting, capabilities (`EHLO`, `CAPA`,
 * `CAPABILITY`), the offer check, and `STARTTLS` / `STLS` with its go-ahead reply.
 *
 * Defensive by design, since the peer is on the other side of an untrusted network:
 * - one deadline for the whole exchange (`timeoutMs`), limits on line length and reply size, an
 *   `AbortSignal`; nothing waits forever;
 * - the server's words are quoted in errors only after sanitising (control characters replaced, at most
 *   200 characters);
 * - plaintext the server sends after its go-ahead reply (response injection, the client-side twin of
 *   CVE-2011-0411) is discarded, never fed into TLS, and counted in `discardedBytes`;
 * - nothing but the greeting exchange, capabilities and STARTTLS is sent: no credentials, no mail.
 *
 * After it returns, give the socket to `tls.connect({ socket, ...clientTLSOptions(...) })`, or let
 * {@link connectStartTLS} do everything. RFC 3207 §4.2: forget the capabilities learnt here and ask again
 * over TLS.
 *
 * @module node/tls/starttls-client
 */

import net from 'node:net';
import tls from 'node:tls';
import { MailTlsError, TLSError } from '../../errors.js';
import { optionalIntegerAtLeast, positiveMilliseconds } from '../../internal/assert.js';

/** The protocols with a STARTTLS command, as the client sees them. */
export type StartTLSClientProtocol = 'smtp' | 'pop3' | 'imap';

/** The phase of the plaintext exchange. */
export type StartTLSPhase = 'connect' | 'greeting' | 'capabilities' | 'starttls';

/** Why a STARTTLS negotiation failed: `details.reason` of its {@link TLSError}. */
export type StartTLSFailure =
  /** The server's reply was not the one the protocol calls for (a 554 greeting, `-ERR`, `NO`...). */
  | 'unexpected-reply'
  /** The reply is not well-formed for the protocol. */
  | 'malformed-reply'
  /** The capabilities do not list STARTTLS / STLS. */
  | 'not-offered'
  /** A reply line or a whole reply is longer than the limits. */
  | 'too-long'
  /** The server closed or reset the connection. */
  | 'closed'
  /** The deadline passed. */
  | 'timeout';

/** Options of {@link negotiateStartTLS}. */
export interface NegotiateStartTLSOptions {
  /** `smtp`, `pop3` or `imap`. */
  protocol: StartTLSClientProtocol;
  /** The client's name in `EHLO` (SMTP); default `localhost`. Must be a domain or an address literal. */
  clientName?: string | undefined;
  /** Time for the whole exchange, in milliseconds; default 10,000. */
  timeoutMs?: number | undefined;
  /** Longest reply line accepted, in bytes; default 4,096. */
  maxLineBytes?: number | undefined;
  /** Largest reply accepted (all its lines), in bytes; default 65,536. */
  maxReplyBytes?: number | undefined;
  /** Aborts the exchange (the promise rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
}

/** One line of the plaintext exchange, sanitised. */
export interface TranscriptLine {
  /** Who sent it. */
  readonly from: 'client' | 'server';
  /** The line without its CRLF, control characters replaced by `?`, at most 200 characters. */
  readonly line: string;
}

/** What {@link negotiateStartTLS} learnt. */
export interface NegotiatedStartTLS {
  /** The protocol spoken. */
  readonly protocol: StartTLSClientProtocol;
  /** The first line of the server's greeting (sanitised). */
  readonly greeting: string;
  /**
   * The capabilities the server announced in plaintext, upper-cased: SMTP EHLO keywords with their
   * parameters (`SIZE 10240000`, `STARTTLS`), POP3 CAPA lines, IMAP capability atoms.
   */
  readonly capabilities: readonly string[];
  /** The server's go-ahead line (`220 2.0.0 Ready to start TLS`, `+OK ...`, `a2 OK ...`), sanitised. */
  readonly reply: string;
  /** Plaintext bytes the server sent after its go-ahead and that were discarded (above 0 is suspicious). */
  readonly discardedBytes: number;
  /** Every line exchanged, in order (sanitised). */
  readonly transcript: readonly TranscriptLine[];
}

/** The most characters of a server line quoted in an error or a transcript. */
const QUOTE_MAX = 200;

/**
 * A server line made safe to print: control and non-ASCII characters become `?`, and it is cut to 200
 * characters (with `...`).
 *
 * @throws TypeError when `line` is not a string.
 * @example
 * ```ts
 * sanitizeReply('554 no\x1b[31m'); // '554 no?[31m'
 * ```
 */
export function sanitizeReply(line: string): string {
  if (typeof line !== 'string') throw new TypeError('line must be a string');
  const clean = line.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > QUOTE_MAX ? `${clean.slice(0, QUOTE_MAX)}...` : clean;
}

const NAMES: Record<StartTLSClientProtocol, string> = { smtp: 'SMTP', pop3: 'POP3', imap: 'IMAP' };
const COMMAND: Record<StartTLSClientProtocol, string> = { smtp: 'STARTTLS', pop3: 'STLS', imap: 'STARTTLS' };

function fail(
  protocol: StartTLSClientProtocol,
  phase: StartTLSPhase,
  reason: StartTLSFailure,
  message: string,
  reply?: string,
): TLSError {
  const code = reason === 'timeout' ? 'ERR_TLS_TIMEOUT' : 'ERR_TLS_STARTTLS';
  const quoted = reply === undefined ? '' : ` The server said: "${sanitizeReply(reply)}".`;
  return new TLSError(code, `${NAMES[protocol]} STARTTLS failed (${phase}): ${message}${quoted}`, {
    details: {
      protocol,
      phase,
      reason,
      ...(reply === undefined ? {} : { reply: sanitizeReply(reply) }),
    },
  });
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  return optionalIntegerAtLeast(value, name, 1, fallback);
}

function positiveMs(value: unknown, name: string, fallback: number): number {
  return value === undefined ? fallback : positiveMilliseconds(value, name);
}

/** Reads CRLF (or LF) lines from a socket under a deadline and size limits. */
class LineReader {
  #buffer: Buffer = Buffer.alloc(0);
  #closed: string | undefined;
  #wake: (() => void) | undefined;
  readonly #socket: net.Socket;
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#wake?.();
  };
  readonly #onEnd = (): void => {
    this.#closed ??= 'the server closed the connection';
    this.#wake?.();
  };
  readonly #onError = (e: Error): void => {
    this.#closed ??= `the connection failed (${(e as NodeJS.ErrnoException).code ?? e.message})`;
    this.#wake?.();
  };
  replyBytes = 0;

  constructor(
    socket: net.Socket,
    readonly protocol: StartTLSClientProtocol,
    readonly deadline: number,
    readonly maxLine: number,
    readonly maxReply: number,
    readonly signal: AbortSignal | undefined,
    readonly transcript: TranscriptLine[],
  ) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
    socket.resume();
  }

  /** Stops reading; answers the bytes read past the last line. */
  detach(): Buffer {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    this.#socket.pause();
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }

  write(line: string): void {
    this.transcript.push({ from: 'client', line: sanitizeReply(line) });
    this.#socket.write(`${line}\r\n`);
  }

  /** Raw bytes (an IMAP literal). */
  async bytes(n: number, phase: StartTLSPhase): Promise<Buffer> {
    if (this.replyBytes + n > this.maxReply)
      throw fail(this.protocol, phase, 'too-long', `the reply is longer than ${this.maxReply} bytes.`);
    while (this.#buffer.length < n) await this.#wait(phase);
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    this.replyBytes += n;
    return out;
  }

  async line(phase: StartTLSPhase): Promise<string> {
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl >= 0) {
        if (nl + 1 > this.maxLine)
          throw fail(this.protocol, phase, 'too-long', `a reply line is longer than ${this.maxLine} bytes.`);
        this.replyBytes += nl + 1;
        if (this.replyBytes > this.maxReply)
          throw fail(this.protocol, phase, 'too-long', `the reply is longer than ${this.maxReply} bytes.`);
        const line = this.#buffer.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        this.#buffer = this.#buffer.subarray(nl + 1);
        this.transcript.push({ from: 'server', line: sanitizeReply(line) });
        return line;
      }
      if (this.#buffer.length > this.maxLine)
        throw fail(
          this.protocol,
          phase,
          'too-long',
          `a reply line is longer than ${this.maxLine} bytes.`,
          this.#buffer.subarray(0, QUOTE_MAX).toString('latin1'),
        );
      await this.#wait(phase);
    }
  }

  #wait(phase: StartTLSPhase): Promise<void> {
    if (this.signal?.aborted) return Promise.reject(this.signal.reason);
    if (this.#closed !== undefined) {
      const partial =
        this.#buffer.length > 0 ? this.#buffer.subarray(0, QUOTE_MAX).toString('latin1') : undefined;
      return Promise.reject(fail(this.protocol, phase, 'closed', `${this.#closed}.`, partial));
    }
    const left = this.deadline - Date.now();
    if (left <= 0) return Promise.reject(this.#timeout(phase));
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', onAbort);
        this.#wake = undefined;
      };
      const timer = setTimeout(() => {
        done();
        reject(this.#timeout(phase));
      }, left);
      const onAbort = (): void => {
        done();
        reject(this.signal!.reason);
      };
      this.signal?.addEventListener('abort', onAbort, { once: true });
      this.#wake = () => {
        done();
        resolve();
      };
    });
  }

  #timeout(phase: StartTLSPhase): TLSError {
    const what = phase === 'greeting' ? 'greeting' : phase === 'capabilities' ? 'capability list' : 'reply';
    return fail(
      this.protocol,
      phase,
      'timeout',
      `no complete ${what} from the server in time. Check that the port speaks ${NAMES[this.protocol]} with STARTTLS (not implicit TLS) and that nothing between drops the connection.`,
      this.#buffer.length > 0 ? this.#buffer.subarray(0, QUOTE_MAX).toString('latin1') : undefined,
    );
  }
}

interface SMTPReply {
  code: number;
  lines: string[];
  first: string;
}

async function smtpReply(r: LineReader, phase: StartTLSPhase): Promise<SMTPReply> {
  r.replyBytes = 0;
  const lines: string[] = [];
  let code = 0;
  let first = '';
  for (;;) {
    const line = await r.line(phase);
    const m = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/.exec(line);
    if (m === null || (code !== 0 && Number(m[1]) !== code))
      throw fail('smtp', phase, 'malformed-reply', 'the reply is not an SMTP reply (RFC 5321 §4.2).', line);
    if (code === 0) first = line;
    code = Number(m[1]);
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { code, lines, first };
  }
}

async function negotiateSMTP(r: LineReader, clientName: string, caps: string[]): Promise<string> {
  const greeting = await smtpReply(r, 'greeting');
  if (greeting.code !== 220)
    throw fail('smtp', 'greeting', 'unexpected-reply', 'the server did not greet with 220.', greeting.first);
  r.write(`EHLO ${clientName}`);
  const ehlo = await smtpReply(r, 'capabilities');
  if (ehlo.code !== 250)
    throw fail('smtp', 'capabilities', 'unexpected-reply', 'the server refused EHLO.', ehlo.first);
  for (const line of ehlo.lines.slice(1)) caps.push(line.trim().toUpperCase());
  if (!caps.some((c) => c.split(' ')[0] === 'STARTTLS'))
    throw fail(
      'smtp',
      'capabilities',
      'not-offered',
      `the server does not offer STARTTLS in its EHLO reply (it offers: ${caps.join(', ') || 'nothing'}). Enable STARTTLS on the server (Postfix: smtpd_tls_security_level = may, with smtpd_tls_chain_files), or use the implicit-TLS port 465.`,
    );
  r.write('STARTTLS');
  const go = await smtpReply(r, 'starttls');
  if (go.code !== 220)
    throw fail('smtp', 'starttls', 'unexpected-reply', 'the server refused STARTTLS.', go.first);
  return go.first;
}

async function negotiatePOP3(r: LineReader, caps: string[]): Promise<string> {
  r.replyBytes = 0;
  const greeting = await r.line('greeting');
  if (!/^\+OK(\s|$)/.test(greeting))
    throw fail('pop3', 'greeting', 'unexpected-reply', 'the server did not greet with +OK.', greeting);
  r.write('CAPA');
  r.replyBytes = 0;
  const capa = await r.line('capabilities');
  let listed = false;
  if (/^\+OK(\s|$)/.test(capa)) {
    listed = true;
    for (;;) {
      const line = await r.line('capabilities');
      if (line === '.') break;
      caps.push((line.startsWith('.') ? line.slice(1) : line).trim().toUpperCase());
    }
  } else if (!/^-ERR(\s|$)/.test(capa))
    throw fail('pop3', 'capabilities', 'malformed-reply', 'the CAPA reply is neither +OK nor -ERR.', capa);
  // A server without CAPA (RFC 2449) may still know STLS: try it; with a CAPA list, trust the list.
  if (listed && !caps.some((c) => c.split(' ')[0] === 'STLS'))
    throw fail(
      'pop3',
      'capabilities',
      'not-offered',
      `the server does not offer STLS in its CAPA list (it offers: ${caps.join(', ') || 'nothing'}). Enable TLS on the server (Dovecot: ssl = yes), or use the implicit-TLS port 995.`,
    );
  r.write('STLS');
  r.replyBytes = 0;
  const go = await r.line('starttls');
  if (!/^\+OK(\s|$)/.test(go))
    throw fail(
      'pop3',
      'starttls',
      listed ? 'unexpected-reply' : 'not-offered',
      'the server refused STLS.',
      go,
    );
  return go;
}

async function imapResponse(
  r: LineReader,
  tag: string,
  phase: StartTLSPhase,
  untagged: string[],
): Promise<string> {
  r.replyBytes = 0;
  for (;;) {
    let line = await r.line(phase);
    // A literal {n} (or {n+}) at the end of a line: n raw bytes, then the line goes on.
    for (let m = /\{(\d{1,9})\+?\}$/.exec(line); m !== null; m = /\{(\d{1,9})\+?\}$/.exec(line)) {
      await r.bytes(Number(m[1]), phase);
      line = `${line.slice(0, m.index)}{...}${await r.line(phase)}`;
    }
    if (line.startsWith('* ')) {
      untagged.push(line.slice(2));
      continue;
    }
    if (line.startsWith(`${tag} `)) return line;
    throw fail('imap', phase, 'malformed-reply', `expected a "${tag}" response.`, line);
  }
}

function imapCapabilities(text: string): string[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((a) => a !== '')
    .map((a) => a.toUpperCase());
}

async function negotiateIMAP(r: LineReader, caps: string[]): Promise<string> {
  r.replyBytes = 0;
  const greeting = await r.line('greeting');
  if (/^\* PREAUTH(\s|$)/i.test(greeting))
    throw fail(
      'imap',
      'greeting',
      'unexpected-reply',
      'the server greeted with PREAUTH, after which STARTTLS is not allowed (RFC 9051 §6.2.1).',
      greeting,
    );
  if (!/^\* OK(\s|$)/i.test(greeting))
    throw fail('imap', 'greeting', 'unexpected-reply', 'the server did not greet with "* OK".', greeting);
  r.write('a1 CAPABILITY');
  const untagged: string[] = [];
  const done = await imapResponse(r, 'a1', 'capabilities', untagged);
  if (!/^a1 OK(\s|$)/i.test(done))
    throw fail('imap', 'capabilities', 'unexpected-reply', 'the server refused CAPABILITY.', done);
  for (const u of untagged) {
    const m = /^CAPABILITY\s+(.*)$/i.exec(u);
    if (m) caps.push(...imapCapabilities(m[1]!));
  }
  if (!caps.includes('STARTTLS'))
    throw fail(
      'imap',
      'capabilities',
      'not-offered',
      `the server does not offer STARTTLS in its CAPABILITY list (it offers: ${caps.join(' ') || 'nothing'}). Enable TLS on the server (Dovecot: ssl = yes), or use the implicit-TLS port 993.`,
    );
  r.write('a2 STARTTLS');
  const go = await imapResponse(r, 'a2', 'starttls', []);
  if (!/^a2 OK(\s|$)/i.test(go))
    throw fail('imap', 'starttls', 'unexpected-reply', 'the server refused STARTTLS.', go);
  return go;
}

// EHLO argument: a domain or an address literal, nothing that could end the command line.
const CLIENT_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]|\[IPv6:[0-9A-Fa-f:.]+\])$/;

interface Limits {
  protocol: StartTLSClientProtocol;
  clientName: string;
  timeoutMs: number;
  maxLineBytes: number;
  maxReplyBytes: number;
  signal: AbortSignal | undefined;
}

function readOptions(options: NegotiateStartTLSOptions): Limits {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { protocol } = options;
  if (protocol !== 'smtp' && protocol !== 'pop3' && protocol !== 'imap')
    throw new TypeError(`options.protocol must be 'smtp', 'pop3' or 'imap', not ${String(protocol)}`);
  const clientName = options.clientName ?? 'localhost';
  if (typeof clientName !== 'string' || clientName.length > 255 || !CLIENT_NAME.test(clientName))
    throw new TypeError('options.clientName must be a domain name or an address literal such as [192.0.2.1]');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError('options.signal must be an AbortSignal');
  return {
    protocol,
    clientName,
    timeoutMs: positiveMs(options.timeoutMs, 'timeoutMs', 10_000),
    maxLineBytes: positiveInt(options.maxLineBytes, 'maxLineBytes', 4096),
    maxReplyBytes: positiveInt(options.maxReplyBytes, 'maxReplyBytes', 65_536),
    signal: options.signal,
  };
}

async function run(socket: net.Socket, o: Limits, deadline: number): Promise<NegotiatedStartTLS> {
  const transcript: TranscriptLine[] = [];
  const caps: string[] = [];
  const reader = new LineReader(
    socket,
    o.protocol,
    deadline,
    o.maxLineBytes,
    o.maxReplyBytes,
    o.signal,
    transcript,
  );
  let rest: Buffer | undefined;
  try {
    const reply =
      o.protocol === 'smtp'
        ? await negotiateSMTP(reader, o.clientName, caps)
        : o.protocol === 'pop3'
          ? await negotiatePOP3(reader, caps)
          : await negotiateIMAP(reader, caps);
    rest = reader.detach();
    return Object.freeze({
      protocol: o.protocol,
      greeting: transcript.find((t) => t.from === 'server')?.line ?? '',
      capabilities: Object.freeze(caps),
      reply: sanitizeReply(reply),
      discardedBytes: rest.length,
      transcript: Object.freeze(transcript),
    });
  } finally {
    if (rest === undefined) reader.detach();
  }
}

/**
 * Speaks the plaintext part of SMTP, POP3 or IMAP on a connected socket up to the server's go-ahead for
 * TLS: reads the greeting, asks for the capabilities (`EHLO` / `CAPA` / `CAPABILITY`), checks that
 * STARTTLS (`STLS`) is offered, sends it and waits for `220` / `+OK` / `OK`. On success the socket is paused
 * with no listeners of this function left, ready for `tls.connect({ socket })`; plaintext that followed
 * the go-ahead is discarded and counted. On failure the socket is left open for the caller to close (or to
 * go on without TLS, for opportunistic SMTP).
 *
 * @throws {TLSError} (rejects) `ERR_TLS_STARTTLS` with `details.reason` (a {@link StartTLSFailure}:
 *   `not-offered`, `unexpected-reply`, `malformed-reply`, `too-long`, `closed`), `details.phase` and the
 *   server's line, sanitised, in `details.reply`; `ERR_TLS_TIMEOUT` when `timeoutMs` passes. The signal's
 *   reason when aborted. TypeError / RangeError for bad options.
 * @example
 * ```ts
 * import net from 'node:net';
 * import tls from 'node:tls';
 * import { clientTLSOptions, negotiateStartTLS } from 'mailtls/node';
 * const socket = net.connect(25, 'mx1.example.com');
 * await new Promise((resolve) => socket.once('connect', resolve));
 * await negotiateStartTLS(socket, { protocol: 'smtp', clientName: 'out.example.org' });
 * const secure = tls.connect({ socket, ...clientTLSOptions({ host: 'mx1.example.com' }) });
 * ```
 */
export async function negotiateStartTLS(
  socket: net.Socket,
  options: NegotiateStartTLSOptions,
): Promise<NegotiatedStartTLS> {
  if (!(socket instanceof net.Socket)) throw new TypeError('socket must be a net.Socket');
  const o = readOptions(options);
  if (o.signal?.aborted) throw o.signal.reason;
  if (socket.destroyed || !socket.writable)
    throw fail(o.protocol, 'greeting', 'closed', 'the socket is not open.');
  return run(socket, o, Date.now() + o.timeoutMs);
}

/** Options of {@link connectStartTLS}. */
export interface ConnectStartTLSOptions extends NegotiateStartTLSOptions {
  /** Where to connect: a host name or an address. */
  host: string;
  /** The port (25, 587, 110, 143...). */
  port: number;
  /**
   * `tls.connect` options for the handshake, typically `clientTLSOptions({ host: 'mx1.example.com' })`
   * (SNI, chain and name checks). Without them node's defaults apply (chain and `servername` checked
   * against node's roots when `servername` is given).
   */
  tls?: tls.ConnectionOptions | undefined;
}

/** A TLS socket made by {@link connectStartTLS}; `mailtls` tells what the plaintext part learnt. */
export type StartTLSClientSocket = tls.TLSSocket & {
  /** What the plaintext part learnt (greeting, capabilities, transcript). */
  readonly mailtls: NegotiatedStartTLS;
};

/**
 * Waits until a new socket is connected, or fails by `deadline` (a time in ms since the epoch); the socket is
 * destroyed on failure. Shared with the probe; not part of the public API.
 *
 * @internal
 * @throws {TLSError} (rejects) `ERR_TLS_CONNECT` with `details.reason` (`ECONNREFUSED`, `ENOTFOUND`,
 *   `timeout`...). The signal's reason when aborted.
 * @example
 * ```ts
 * const socket = net.connect(25, 'mx1.example.com');
 * await waitConnected(socket, Date.now() + 10_000, undefined, 'mx1.example.com:25');
 * ```
 */
export function waitConnected(
  socket: net.Socket,
  deadline: number,
  signal: AbortSignal | undefined,
  where: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (e?: unknown): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (e === undefined) resolve();
      else {
        socket.destroy();
        reject(e);
      }
    };
    const onConnect = (): void => finish();
    const onError = (e: NodeJS.ErrnoException): void =>
      finish(
        new TLSError(
          'ERR_TLS_CONNECT',
          `cannot connect to ${where}: ${e.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there, or a firewall rejects it)' : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'the host name does not resolve' : (e.code ?? e.message)}.`,
          { cause: e, details: { where, reason: e.code ?? 'error', phase: 'connect' } },
        ),
      );
    const onAbort = (): void => finish(signal!.reason);
    const timer = setTimeout(
      () =>
        finish(
          new TLSError(
            'ERR_TLS_CONNECT',
            `cannot connect to ${where}: no answer in time (a firewall may drop the packets).`,
            { details: { where, reason: 'timeout', phase: 'connect' } },
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
    socket.once('connect', onConnect);
    socket.on('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Connects, negotiates STARTTLS ({@link negotiateStartTLS}) and completes the TLS handshake with
 * `options.tls`, all within `timeoutMs`. The socket is destroyed on any failure.
 *
 * @throws {TLSError} (rejects) `ERR_TLS_CONNECT` (refused, unresolvable, no answer), the errors of
 *   {@link negotiateStartTLS}, `ERR_TLS_TIMEOUT` when the handshake does not finish in time,
 *   `ERR_TLS_HANDSHAKE` when it fails (node's error as `cause`, its code such as
 *   `UNABLE_TO_VERIFY_LEAF_SIGNATURE` in `details.reason`). A MailTlsError from a `checkServerIdentity`
 *   (e.g. `ERR_HOSTNAME_MISMATCH` from `clientTLSOptions`) is passed through. Node's TypeError or
 *   RangeError for `tls` options it refuses (the connection is closed).
 * @example
 * ```ts
 * import { clientTLSOptions, connectStartTLS } from 'mailtls/node';
 * const socket = await connectStartTLS({
 *   host: 'imap.example.com', port: 143, protocol: 'imap',
 *   tls: clientTLSOptions({ host: 'imap.example.com' }),
 * });
 * socket.write('a3 CAPABILITY\r\n');
 * ```
 */
export async function connectStartTLS(options: ConnectStartTLSOptions): Promise<StartTLSClientSocket> {
  const o = readOptions(options);
  if (typeof options.host !== 'string' || options.host === '')
    throw new TypeError('options.host must be a string');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)
    throw new RangeError('options.port must be an integer 1-65535');
  if (options.tls !== undefined && (options.tls === null || typeof options.tls !== 'object'))
    throw new TypeError('options.tls must be an object');
  if (o.signal?.aborted) throw o.signal.reason;
  const deadline = Date.now() + o.timeoutMs;
  const where = `${options.host}:${options.port}`;
  const socket = net.connect({ host: options.host, port: options.port });
  await waitConnected(socket, deadline, o.signal, where);
  let negotiated: NegotiatedStartTLS;
  try {
    negotiated = await run(socket, o, deadline);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  let secure: tls.TLSSocket;
  try {
    secure = tls.connect({ ...(options.tls ?? {}), socket });
  } catch (e) {
    // TLS options node refuses (an unknown minVersion, a bad ca...): the plain connection must not stay open.
    socket.destroy();
    throw e;
  }
  return new Promise<StartTLSClientSocket>((resolve, reject) => {
    const finish = (e?: unknown): void => {
      clearTimeout(timer);
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
      if (e === undefined) {
        Object.defineProperty(secure, 'mailtls', { value: negotiated, enumerable: false });
        resolve(secure as StartTLSClientSocket);
      } else {
        secure.destroy();
        socket.destroy();
        reject(e);
      }
    };
    const onSecure = (): void => finish();
    const onError = (e: NodeJS.ErrnoException): void =>
      finish(
        e instanceof MailTlsError
          ? e
          : new TLSError(
              'ERR_TLS_HANDSHAKE',
              `TLS handshake with ${where} failed after ${COMMAND[o.protocol]}: ${e.code ?? ''} ${e.message}`.replace(
                /\s+/g,
                ' ',
              ),
              { cause: e, details: { where, reason: e.code ?? 'error', phase: 'tls' } },
            ),
      );
    const onAbort = (): void => finish(o.signal!.reason);
    const timer = setTimeout(
      () =>
        finish(
          new TLSError('ERR_TLS_TIMEOUT', `TLS handshake with ${where} did not finish in time.`, {
            details: { where, reason: 'timeout', phase: 'tls' },
          }),
        ),
      Math.max(0, deadline - Date.now()),
    );
    secure.once('secureConnect', onSecure);
    secure.on('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
