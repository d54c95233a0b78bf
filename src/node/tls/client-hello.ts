/**
 * Reads the TLS ClientHello from a plain socket before any TLS object exists, so a server can choose the
 * right `SecureContext` (by the SNI name) and create `new tls.TLSSocket(socket, { isServer: true,
 * secureContext })` with it from the start. This avoids node's SNI path, which copies the chosen certificate
 * into a connection that still holds the default one (nodejs/node#54235).
 *
 * {@link parseClientHello} is the pure, incremental parser (record layer, handshake header, ClientHello body,
 * extensions: server_name, ALPN, supported_versions), handling a ClientHello split over several TLS records
 * or TCP segments. {@link readClientHello} reads from a socket with a bounded wait and size and puts every byte
 * it read back into the socket, so TLS sees the stream untouched.
 *
 * @module node/tls/client-hello
 */

import type { Socket } from 'node:net';
import { TLSError } from '../../errors.js';
import { integerAtLeast } from '../../internal/assert.js';
import { concatBytes } from '../../internal/encoding/bytes.js';

/** What a server may want from a ClientHello before choosing a certificate. */
export interface ClientHelloInfo {
  /** The first host_name of the server_name extension as sent (ASCII), or undefined when absent or not ASCII. */
  readonly serverName: string | undefined;
  /** ALPN protocol names offered (e.g. `h2`, `acme-tls/1`), in the client's order. */
  readonly alpnProtocols: readonly string[];
  /** `legacy_version` of the ClientHello (0x0303 for TLS 1.2 and 1.3). */
  readonly legacyVersion: number;
  /** Versions from supported_versions (0x0304 = TLS 1.3), empty when the extension is absent. */
  readonly supportedVersions: readonly number[];
  /** True for an SSLv2-format ClientHello (very old clients): no extensions, so no SNI. */
  readonly sslv2: boolean;
}

/** The result of {@link parseClientHello}. */
export type ClientHelloParse = ClientHelloIncomplete | ClientHelloComplete;

/** More bytes are needed. */
export interface ClientHelloIncomplete {
  /** Always false. */
  readonly complete: false;
  /** At least this many bytes in all are needed before trying again. */
  readonly needed: number;
}

/** A whole ClientHello was read. */
export interface ClientHelloComplete {
  /** Always true. */
  readonly complete: true;
  /** What the ClientHello carried. */
  readonly info: ClientHelloInfo;
  /** Bytes of the records holding the ClientHello. */
  readonly length: number;
}

/** Options of {@link parseClientHello}. */
export interface ParseClientHelloOptions {
  /** Refuse a ClientHello whose records take more than this many bytes (default 32 KiB). */
  maxBytes?: number;
}

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const MAX_RECORD = 16384 + 2048;
const DEFAULT_MAX_BYTES = 32 * 1024;
/** One decoder for every handshake (decode() without `stream` keeps no state between calls). */
const LATIN1 = new TextDecoder('latin1');

function malformed(reason: string, details: Record<string, unknown> = {}): TLSError {
  return new TLSError(
    'ERR_TLS_CLIENT_HELLO',
    `the client did not start with a valid TLS ClientHello (${reason}); it is not speaking TLS or the data is corrupt`,
    { details: { reason, ...details } },
  );
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}
  get left(): number {
    return this.bytes.length - this.pos;
  }
  need(n: number): void {
    if (this.left < n) throw malformed(`${this.what} truncated`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  vec8(): Reader {
    return new Reader(this.take(this.u8()), this.what);
  }
  vec16(): Reader {
    return new Reader(this.take(this.u16()), this.what);
  }
}

function ascii(bytes: Uint8Array): string | undefined {
  let s = '';
  for (const b of bytes) {
    if (b < 0x21 || b > 0x7e) return undefined;
    s += String.fromCharCode(b);
  }
  return s;
}

function parseBody(body: Uint8Array): ClientHelloInfo {
  const r = new Reader(body, 'ClientHello');
  const legacyVersion = r.u16();
  if (legacyVersion >> 8 !== 3) throw malformed('unknown legacy_version', { legacyVersion });
  r.take(32); // random
  const sessionId = r.vec8();
  if (sessionId.bytes.length > 32) throw malformed('session_id longer than 32 bytes');
  const suites = r.vec16();
  if (suites.bytes.length < 2 || suites.bytes.length % 2 !== 0) throw malformed('bad cipher_suites length');
  const compression = r.vec8();
  if (compression.bytes.length < 1) throw malformed('empty compression_methods');
  let serverName: string | undefined;
  const alpnProtocols: string[] = [];
  const supportedVersions: number[] = [];
  if (r.left > 0) {
    const exts = r.vec16();
    if (r.left !== 0) throw malformed('bytes after extensions');
    const seen = new Set<number>();
    while (exts.left > 0) {
      const type = exts.u16();
      const data = exts.vec16();
      if (seen.has(type)) throw malformed('duplicate extension', { extension: type });
      seen.add(type);
      if (type === 0) {
        const list = data.vec16();
        if (data.left !== 0 || list.left === 0) throw malformed('bad server_name extension');
        while (list.left > 0) {
          const nameType = list.u8();
          const name = list.vec16();
          if (name.bytes.length === 0) throw malformed('empty server name');
          if (nameType === 0 && serverName === undefined) serverName = ascii(name.bytes);
        }
      } else if (type === 16) {
        const list = data.vec16();
        if (data.left !== 0) throw malformed('bad ALPN extension');
        while (list.left > 0) {
          const proto = list.vec8();
          if (proto.bytes.length === 0) throw malformed('empty ALPN protocol name');
          alpnProtocols.push(LATIN1.decode(proto.bytes));
        }
      } else if (type === 43) {
        const list = data.vec8();
        if (data.left !== 0 || list.bytes.length % 2 !== 0)
          throw malformed('bad supported_versions extension');
        while (list.left > 0) supportedVersions.push(list.u16());
      }
    }
  }
  return { serverName, alpnProtocols, legacyVersion, supportedVersions, sslv2: false };
}

/**
 * Parses the start of a TLS stream as a ClientHello, incrementally: call again with more bytes while it
 * answers `{ complete: false }`. Accepts a ClientHello fragmented over several handshake records, and an
 * SSLv2-format ClientHello (reported with `sslv2: true` and no server name).
 *
 * @throws {TLSError} `ERR_TLS_CLIENT_HELLO` (with `details.reason`) when the bytes are not a TLS ClientHello
 *   (plaintext such as an SMTP command, an alert, a malformed structure) or exceed `maxBytes`.
 * @example
 * ```ts
 * import { parseClientHello } from 'mailtls/node';
 * const r = parseClientHello(firstBytes);
 * if (r.complete) console.log(r.info.serverName);
 * ```
 */
export function parseClientHello(bytes: Uint8Array, options: ParseClientHelloOptions = {}): ClientHelloParse {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const maxBytes = integerAtLeast(options.maxBytes ?? DEFAULT_MAX_BYTES, 'maxBytes', 64);
  if (bytes.length === 0) return { complete: false, needed: 1 };
  const first = bytes[0]!;
  if (first & 0x80) return parseSSLv2(bytes);
  if (first !== RECORD_HANDSHAKE)
    throw malformed('first byte is not a TLS handshake record', { firstByte: first });
  const parts: Uint8Array[] = [];
  let have = 0;
  let pos = 0;
  let messageLength = -1;
  for (;;) {
    if (pos + 5 > bytes.length) return { complete: false, needed: pos + 5 };
    const type = bytes[pos]!;
    const major = bytes[pos + 1]!;
    const len = (bytes[pos + 3]! << 8) | bytes[pos + 4]!;
    if (type !== RECORD_HANDSHAKE)
      throw malformed('ClientHello interrupted by another record type', { type });
    if (major !== 3) throw malformed('unknown record version');
    if (len === 0 || len > MAX_RECORD) throw malformed('bad record length', { length: len });
    if (pos + 5 + len > maxBytes) throw malformed('ClientHello larger than the limit', { maxBytes });
    if (pos + 5 + len > bytes.length) return { complete: false, needed: pos + 5 + len };
    parts.push(bytes.subarray(pos + 5, pos + 5 + len));
    have += len;
    pos += 5 + len;
    if (messageLength < 0 && have >= 4) {
      const head = concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) throw malformed('first handshake message is not a ClientHello');
      messageLength = (head[1]! << 16) | (head[2]! << 8) | head[3]!;
      if (messageLength + 4 > maxBytes) throw malformed('ClientHello larger than the limit', { maxBytes });
    }
    if (messageLength >= 0 && have >= messageLength + 4) {
      // Bytes after the ClientHello in its last record belong to a later handshake message: not allowed
      // before the server answers.
      if (have !== messageLength + 4) throw malformed('extra handshake data after the ClientHello');
      const msg = concat(parts);
      return { complete: true, info: parseBody(msg.subarray(4)), length: pos };
    }
  }
}

function parseSSLv2(bytes: Uint8Array): ClientHelloParse {
  // SSLv2 CLIENT-HELLO record: 2-byte header with the high bit set, msg type 1, version 3.x.
  if (bytes.length < 5) return { complete: false, needed: 5 };
  const len = ((bytes[0]! & 0x7f) << 8) | bytes[1]!;
  if (bytes[2] !== 1 || bytes[3] !== 3 || len < 9) throw malformed('not an SSLv2-format ClientHello');
  if (bytes.length < len + 2) return { complete: false, needed: len + 2 };
  return {
    complete: true,
    info: {
      serverName: undefined,
      alpnProtocols: [],
      legacyVersion: (bytes[3]! << 8) | bytes[4]!,
      supportedVersions: [],
      sslv2: true,
    },
    length: len + 2,
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  // A ClientHello nearly always fits one record: read it in place (the parser only reads).
  return parts.length === 1 ? parts[0]! : concatBytes(...parts);
}

/** Options of {@link readClientHello}. */
export interface ReadClientHelloOptions extends ParseClientHelloOptions {
  /** Give up when the ClientHello is not complete after this many milliseconds (default 10,000; `Infinity`: never). */
  timeoutMs?: number;
  /** Abort the wait (the socket is left open; the caller decides). */
  signal?: AbortSignal;
}

/** The result of {@link readClientHello}. */
export interface ClientHelloRead {
  /** What the ClientHello carried. */
  readonly info: ClientHelloInfo;
  /** How many bytes were read from the socket (all of them were put back). */
  readonly bytesRead: number;
}

/**
 * Waits for a ClientHello on a plain socket, parses it, and puts every byte it read back at the front of the
 * socket's read buffer (`socket.unshift`), so that a `tls.TLSSocket` created on the socket right after sees the
 * stream from its first byte. The socket is left paused with no listeners of this function attached.
 *
 * @throws {TLSError} (rejects) `ERR_TLS_CLIENT_HELLO` when the data is not a ClientHello, is too large, or
 *   the peer closed first; `ERR_TLS_TIMEOUT` when it did not arrive within `timeoutMs`. The socket is not
 *   destroyed: the caller closes it.
 * @example
 * ```ts
 * import tls from 'node:tls';
 * import { readClientHello } from 'mailtls/node';
 * const { info } = await readClientHello(socket);
 * const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: pick(info.serverName) });
 * ```
 */
export function readClientHello(
  socket: Socket,
  options: ReadClientHelloOptions = {},
): Promise<ClientHelloRead> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be a positive number (Infinity: no time limit)');
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const signal = options.signal;
    const onAbort = (): void =>
      stop(
        new TLSError('ERR_TLS_CLIENT_HELLO', 'reading the ClientHello was aborted', {
          cause: signal?.reason,
        }),
      );
    const stop = peekClientHello(socket, options.maxBytes, (error, read) => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(read!);
    });
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(
        () =>
          stop(
            new TLSError(
              'ERR_TLS_TIMEOUT',
              `no complete TLS ClientHello within ${timeoutMs} ms; closing the connection`,
              {
                details: { timeoutMs },
              },
            ),
          ),
        timeoutMs,
      );
    }
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The callback core of {@link readClientHello} (no timer, no promise), for servers that count microseconds.
 * Answers a function that stops waiting with the given error (the callback then gets it).
 *
 * @internal
 */
export function peekClientHello(
  socket: Socket,
  maxBytes: number | undefined,
  callback: (error: Error | undefined, read?: ClientHelloRead) => void,
): (error: Error) => void {
  const parseOptions: ParseClientHelloOptions = maxBytes === undefined ? {} : { maxBytes };
  let chunks: Buffer[] = [];
  let total = 0;
  let needed = 1;
  let done = false;
  const finish = (error: Error | undefined, info?: ClientHelloInfo): void => {
    if (done) return;
    done = true;
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onEnd);
    socket.removeListener('error', onError);
    socket.pause();
    // After 'end' the stream takes nothing back; the caller is closing the socket then anyway.
    if (total > 0 && !socket.readableEnded) {
      socket.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    }
    if (error) callback(error);
    else callback(undefined, { info: info!, bytesRead: total });
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    total += chunk.length;
    if (total < needed) return;
    try {
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      chunks = [all];
      const r = parseClientHello(all, parseOptions);
      if (r.complete) finish(undefined, r.info);
      else needed = r.needed;
    } catch (e) {
      finish(e as Error);
    }
  };
  const onEnd = (): void =>
    finish(malformed('the connection closed before a complete ClientHello arrived', { bytesRead: total }));
  const onError = (e: Error): void =>
    finish(
      new TLSError('ERR_TLS_CLIENT_HELLO', `socket error while reading the ClientHello: ${e.message}`, {
        cause: e,
      }),
    );
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onError);
  // A 'data' listener switches a paused socket to flowing mode; bytes already buffered come first.
  socket.on('data', onData);
  socket.resume();
  // A socket that closed before this call emits neither 'end' nor 'close' again (asynchronously, as the
  // events would be: the caller may not hold the stop function yet).
  if (socket.destroyed || socket.readableEnded) process.nextTick(onEnd);
  return (error: Error) => finish(error);
}
