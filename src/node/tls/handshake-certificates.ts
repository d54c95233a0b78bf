/**
 * Reads the certificate list a TLS server sent, in the order it sent it, from the bytes the server wrote
 * during the handshake. Node's `getPeerCertificate(true)` cannot tell that order: it rebuilds the chain by
 * following issuer links and drops certificates that are not on the path, so a chain served in the wrong
 * order, or with a stray certificate, would look clean. The probe records the server's bytes instead and
 * decodes the Certificate handshake message itself:
 *
 * - TLS 1.2 and older: the Certificate message travels in plaintext handshake records (RFC 5246 §7.4.2).
 * - TLS 1.3: it is encrypted under the server handshake traffic secret (RFC 8446 §7), which node:tls hands
 *   out through its `keylog` event (NSS key-log format, `SERVER_HANDSHAKE_TRAFFIC_SECRET`). The records are
 *   decrypted with the negotiated AEAD (AES-GCM, AES-CCM or ChaCha20-Poly1305) and the keys derived with
 *   HKDF-Expand-Label (RFC 8446 §7.1, §7.3).
 *
 * The bytes come from the peer: every length is checked against what is left, sizes are capped, and any
 * irregularity gives `undefined` (the caller then falls back to node's view), never an exception.
 * The secrets are used here and nowhere else; they are never returned, logged or put in an error.
 *
 * @module node/tls/handshake-certificates
 */
import { createDecipheriv, createHmac } from 'node:crypto';

/** What the client saw of a handshake, to find the server's Certificate message in. */
export interface HandshakeCapture {
  /** Every byte the server sent from its first TLS record on, up to at least its Certificate message. */
  readonly serverBytes: Uint8Array;
  /** The negotiated protocol (`tlsSocket.getProtocol()`), e.g. `TLSv1.3`. */
  readonly version: string;
  /** The IANA name of the negotiated suite (`tlsSocket.getCipher().standardName`), for TLS 1.3. */
  readonly cipherSuite?: string | undefined;
  /** The key-log lines node emitted (`keylog` events); needed for TLS 1.3 only. */
  readonly keylog?: readonly string[] | undefined;
}

/** Largest handshake data looked at (the Certificate message of a long chain fits many times over). */
const MAX_HANDSHAKE_BYTES = 1 << 20;
/** Largest record fragment: 2^14 plus the 256 bytes of expansion RFC 8446 §5.2 allows. */
const MAX_RECORD = (1 << 14) + 256;

interface Suite {
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';
  readonly hash: 'sha256' | 'sha384';
  readonly keyLength: number;
}

const TLS13_SUITES: Readonly<Record<string, Suite>> = {
  TLS_AES_128_GCM_SHA256: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  TLS_AES_256_GCM_SHA384: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  TLS_CHACHA20_POLY1305_SHA256: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
  TLS_AES_128_CCM_SHA256: { cipher: 'aes-128-ccm', hash: 'sha256', keyLength: 16 },
};

/** HKDF-Expand-Label (RFC 8446 §7.1) for outputs no longer than the hash (one HMAC block). */
function expandLabel(secret: Uint8Array, label: string, length: number, hash: Suite['hash']): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0]),
  ]);
  return createHmac(hash, secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

function serverHandshakeSecret(keylog: readonly string[]): Buffer | undefined {
  for (const line of keylog) {
    if (typeof line !== 'string') continue;
    const parts = line.trim().split(' ');
    if (
      parts.length === 3 &&
      parts[0] === 'SERVER_HANDSHAKE_TRAFFIC_SECRET' &&
      /^[0-9a-f]+$/i.test(parts[2]!)
    ) {
      const secret = Buffer.from(parts[2]!, 'hex');
      if (secret.length === 32 || secret.length === 48) return secret;
    }
  }
  return undefined;
}

interface TLSRecord {
  readonly type: number;
  readonly header: Uint8Array;
  readonly fragment: Uint8Array;
}

function* records(bytes: Uint8Array): Generator<TLSRecord, void, undefined> {
  let off = 0;
  while (off + 5 <= bytes.length) {
    const type = bytes[off]!;
    const length = (bytes[off + 3]! << 8) | bytes[off + 4]!;
    if (bytes[off + 1] !== 3 || length > MAX_RECORD || off + 5 + length > bytes.length) return;
    yield { type, header: bytes.subarray(off, off + 5), fragment: bytes.subarray(off + 5, off + 5 + length) };
    off += 5 + length;
  }
}

function decrypt(
  suite: Suite,
  key: Buffer,
  iv: Buffer,
  seq: number,
  record: TLSRecord,
): { type: number; content: Uint8Array } | undefined {
  if (record.fragment.length < 17) return undefined;
  const nonce = Buffer.from(iv);
  for (let i = 0, s = seq; i < 8 && s > 0; i++, s = Math.floor(s / 256)) nonce[11 - i]! ^= s & 0xff;
  const body = record.fragment.subarray(0, record.fragment.length - 16);
  const tag = record.fragment.subarray(record.fragment.length - 16);
  let plain: Buffer;
  try {
    const d =
      suite.cipher === 'aes-128-ccm'
        ? createDecipheriv(suite.cipher, key, nonce, { authTagLength: 16 })
        : suite.cipher === 'chacha20-poly1305'
          ? createDecipheriv(suite.cipher, key, nonce, { authTagLength: 16 })
          : createDecipheriv(suite.cipher, key, nonce);
    d.setAuthTag(tag);
    d.setAAD(record.header, { plaintextLength: body.length });
    plain = Buffer.concat([d.update(body), d.final()]);
  } catch {
    return undefined;
  }
  // TLSInnerPlaintext: content, content type, zero padding (RFC 8446 §5.2).
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (end === 0) return undefined;
  return { type: plain[end - 1]!, content: plain.subarray(0, end - 1) };
}

/** The body of the first handshake message of type `wanted` in a stream of handshake messages. */
function findMessage(stream: Uint8Array, wanted: number): Uint8Array | 'incomplete' | undefined {
  let off = 0;
  while (off + 4 <= stream.length) {
    const type = stream[off]!;
    const length = (stream[off + 1]! << 16) | (stream[off + 2]! << 8) | stream[off + 3]!;
    if (off + 4 + length > stream.length) return 'incomplete';
    if (type === wanted) return stream.subarray(off + 4, off + 4 + length);
    off += 4 + length;
  }
  return 'incomplete';
}

function u24(b: Uint8Array, off: number): number {
  return (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
}

/** Splits a Certificate message body (RFC 5246 §7.4.2, RFC 8446 §4.4.2) into DER certificates. */
function certificateList(body: Uint8Array, tls13: boolean): Uint8Array[] | undefined {
  let off = 0;
  if (tls13) {
    if (body.length < 1) return undefined;
    off = 1 + body[0]!;
  }
  if (off + 3 > body.length) return undefined;
  const listEnd = off + 3 + u24(body, off);
  if (listEnd !== body.length) return undefined;
  off += 3;
  const out: Uint8Array[] = [];
  while (off < listEnd) {
    if (off + 3 > listEnd) return undefined;
    const len = u24(body, off);
    off += 3;
    if (len === 0 || off + len > listEnd) return undefined;
    out.push(Uint8Array.from(body.subarray(off, off + len)));
    off += len;
    if (tls13) {
      if (off + 2 > listEnd) return undefined;
      const extLen = (body[off]! << 8) | body[off + 1]!;
      off += 2 + extLen;
      if (off > listEnd) return undefined;
    }
  }
  return out.length > 0 ? out : undefined;
}

function append(stream: Uint8Array, part: Uint8Array): Uint8Array | undefined {
  if (stream.length + part.length > MAX_HANDSHAKE_BYTES) return undefined;
  const out = new Uint8Array(stream.length + part.length);
  out.set(stream);
  out.set(part, stream.length);
  return out;
}

/**
 * The DER certificates of the server's Certificate message, in the order the server sent them, or
 * `undefined` when the capture does not hold a complete, readable one (a resumed session sends none; a
 * TLS 1.3 capture needs the key log and a known suite).
 *
 * @throws TypeError when `capture` is not a {@link HandshakeCapture}. Never for malformed bytes.
 * @example
 * ```ts
 * const certs = parseHandshakeCertificates({ serverBytes, version: socket.getProtocol()!,
 *   cipherSuite: socket.getCipher().standardName, keylog });
 * ```
 */
export function parseHandshakeCertificates(capture: HandshakeCapture): Uint8Array[] | undefined {
  if (capture === null || typeof capture !== 'object' || !(capture.serverBytes instanceof Uint8Array))
    throw new TypeError('capture.serverBytes must be a Uint8Array');
  if (typeof capture.version !== 'string') throw new TypeError('capture.version must be a string');
  const tls13 = capture.version === 'TLSv1.3';
  let clear: Uint8Array = new Uint8Array(0);
  let secret: Uint8Array | undefined;
  let suite: Suite | undefined;
  let key: Buffer | undefined;
  let iv: Buffer | undefined;
  let seq = 0;
  let encrypted: Uint8Array = new Uint8Array(0);
  for (const record of records(capture.serverBytes)) {
    if (record.type === 22) {
      // Plaintext handshake: ServerHello (1.3: and nothing else we need); 1.2: the whole server flight.
      if (seq > 0) return undefined;
      const next = append(clear, record.fragment);
      if (next === undefined) return undefined;
      clear = next;
      if (!tls13) {
        const found = findMessage(clear, 11);
        if (found instanceof Uint8Array) return certificateList(found, false);
      }
      continue;
    }
    if (record.type === 20) {
      if (!tls13) return undefined; // ChangeCipherSpec before any Certificate message: none was sent.
      continue; // TLS 1.3 middlebox-compatibility CCS: not protected, not counted.
    }
    if (record.type !== 23 || !tls13) return undefined;
    if (key === undefined) {
      const name = capture.cipherSuite ?? '';
      suite = Object.hasOwn(TLS13_SUITES, name) ? TLS13_SUITES[name] : undefined;
      secret = serverHandshakeSecret(capture.keylog ?? []);
      if (suite === undefined || secret === undefined) return undefined;
      key = expandLabel(secret, 'key', suite.keyLength, suite.hash);
      iv = expandLabel(secret, 'iv', 12, suite.hash);
    }
    const inner = decrypt(suite!, key, iv!, seq++, record);
    if (inner === undefined || inner.type !== 22) return undefined;
    const next = append(encrypted, inner.content);
    if (next === undefined) return undefined;
    encrypted = next;
    const found = findMessage(encrypted, 11);
    if (found instanceof Uint8Array) return certificateList(found, true);
    // Finished (20) before a Certificate: a PSK handshake, no certificate.
    if (findMessage(encrypted, 20) instanceof Uint8Array) return undefined;
  }
  return undefined;
}
