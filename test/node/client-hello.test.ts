// ClientHello parsing and peeking: real ClientHellos from openssl, gnutls-cli, curl, Python and node:tls;
// incremental parsing over every prefix; re-fragmentation into many records; segment-by-segment delivery
// with a completed handshake afterwards; timeouts, size bounds, plaintext; mutated inputs (fast-check).
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import fc from 'fast-check';
import { isMailTlsError, TLSError } from '../../src/errors.js';
import { type ClientHelloInfo, parseClientHello, readClientHello } from '../../src/node/tls/client-hello.js';
import { acceptTLS, createPeekingTLSServer } from '../../src/node/tls/servers.js';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { type Peer, peerOptions } from '../helpers/peers.js';
import { cpuStopwatch } from '../helpers/timing.js';
import { runCurl, runGnuTLS, runOpenSSL, runPython } from './helpers/clients.js';
import { close, listen } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? '') || 200;
const pki = testPKI();
const H = 'mail.example.test';
const leaf = pki.leaf([H], { keyType: 'ec' });

/**
 * Records the first bytes a client sends (until `ms` of silence after the first byte), then closes. A client
 * that ends (or fails to start) before sending anything fails the capture at once.
 */
async function capture(drive: (port: number) => Promise<unknown>, ms = 150): Promise<Buffer> {
  let resolveBytes: (b: Buffer) => void = () => {};
  const bytes = new Promise<Buffer>((resolve) => {
    resolveBytes = resolve;
  });
  let sent = false;
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      sent = true;
      clearTimeout(timer);
      timer = setTimeout(() => {
        resolveBytes(Buffer.concat(chunks));
        socket.destroy();
      }, ms);
    });
  });
  const port = await listen(server);
  const client = drive(port);
  const silent = client.then((r) => {
    if (sent) return bytes;
    throw new Error(`the client ended without sending anything: ${JSON.stringify(r)}`);
  });
  try {
    const got = await Promise.race([bytes, silent]);
    await client;
    return got;
  } finally {
    silent.catch(() => {});
    await close(server);
  }
}

function nodeHello(port: number, options: tls.ConnectionOptions): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

interface Captured {
  name: string;
  bytes: Buffer;
  want: Partial<ClientHelloInfo> & { tls13: boolean };
}
const captured: Captured[] = [];
const leftOut: string[] = [];

before(async () => {
  // Each client ends when the capture closes the connection after its ClientHello; the time-out only bounds a
  // client that hangs, and is generous because starting Python or curl on a loaded machine can take seconds.
  const quick = { timeoutMs: 60_000 };
  const jobs: [string, Captured['want'], (port: number) => Promise<unknown>, Peer?][] = [
    [
      'openssl s_client (SNI, ALPN)',
      { serverName: H, alpnProtocols: ['imap', 'h2'], tls13: true },
      (port) => runOpenSSL({ port, host: H, verify: false, args: ['-alpn', 'imap,h2'], ...quick }),
    ],
    [
      'openssl s_client TLS 1.2 only',
      { serverName: H, tls13: false },
      (port) => runOpenSSL({ port, host: H, version: '1.2', verify: false, ...quick }),
    ],
    [
      'openssl s_client without SNI',
      { serverName: undefined, tls13: true },
      (port) => runOpenSSL({ port, host: H, sni: false, verify: false, ...quick }),
    ],
    [
      'gnutls-cli',
      { serverName: H, tls13: true },
      (port) => runGnuTLS({ port, host: H, verify: false, ...quick }),
      'gnutls-cli',
    ],
    [
      'curl https',
      { serverName: H, alpnProtocols: ['h2', 'http/1.1'], tls13: true },
      (port) => runCurl(`https://${H}:${port}/`, { port, host: H, verify: false, ...quick }),
      'curl',
    ],
    [
      'Python ssl',
      { serverName: H, tls13: true },
      (port) => runPython('tls', { port, host: H, verify: false, ...quick }),
      'python3',
    ],
    [
      'node:tls (ALPN acme-tls/1)',
      { serverName: 'other.example.test', alpnProtocols: ['acme-tls/1'], tls13: true },
      (port) => nodeHello(port, { servername: 'other.example.test', ALPNProtocols: ['acme-tls/1'] }),
    ],
    ['node:tls without SNI', { serverName: undefined, tls13: true }, (port) => nodeHello(port, {})],
  ];
  // A client that is not installed is left out (and reported as a skipped peer).
  for (const [name, want, drive, peer] of jobs) {
    const skip = peer === undefined ? undefined : peerOptions([peer]).skip;
    if (skip !== undefined) leftOut.push(`${name} (${skip})`);
    else captured.push({ name, want, bytes: await capture(drive) });
  }
});

describe('parseClientHello on real ClientHellos', () => {
  it('reads server_name, ALPN and supported_versions from every client', (t) => {
    assert.equal(captured.length + leftOut.length, 8);
    for (const client of leftOut) t.diagnostic(`left out: ${client}`);
    for (const c of captured) {
      const r = parseClientHello(c.bytes);
      assert.ok(r.complete, c.name);
      assert.equal(r.length, c.bytes.length, `${c.name}: the ClientHello is all the client sent`);
      assert.equal(r.info.serverName, c.want.serverName, c.name);
      if (c.want.alpnProtocols) assert.deepEqual(r.info.alpnProtocols, c.want.alpnProtocols, c.name);
      assert.equal(r.info.legacyVersion, 0x0303, c.name);
      assert.equal(r.info.supportedVersions.includes(0x0304), c.want.tls13, c.name);
      assert.equal(r.info.sslv2, false);
    }
  });

  it('is incremental: every proper prefix asks for more, never past the end', () => {
    for (const c of captured) {
      for (let n = 0; n < c.bytes.length; n++) {
        const r = parseClientHello(c.bytes.subarray(0, n));
        assert.equal(r.complete, false, `${c.name} prefix ${n}`);
        if (!r.complete)
          assert.ok(r.needed > n && r.needed <= c.bytes.length, `${c.name} prefix ${n}: ${r.needed}`);
      }
    }
  });

  it('accepts a ClientHello fragmented over many records', () => {
    for (const c of captured) {
      const whole = parseClientHello(c.bytes);
      assert.ok(whole.complete);
      const body = c.bytes.subarray(5);
      const records: Buffer[] = [];
      for (let i = 0; i < body.length; i += 37) {
        const frag = body.subarray(i, i + 37);
        records.push(Buffer.from([22, 3, 1, frag.length >> 8, frag.length & 0xff]), frag);
      }
      const refragmented = Buffer.concat(records);
      const r = parseClientHello(refragmented);
      assert.ok(r.complete, c.name);
      assert.deepEqual(r.info, whole.info);
      assert.equal(r.length, refragmented.length);
    }
  });
});

describe('parseClientHello refuses', () => {
  const hello = (): Buffer => Buffer.from(captured[0]!.bytes);
  const rows: { name: string; input: () => Uint8Array; wantReason: RegExp }[] = [
    {
      name: 'plaintext SMTP',
      input: () => Buffer.from('EHLO client.test\r\n'),
      wantReason: /not a TLS handshake record/,
    },
    {
      name: 'HTTP',
      input: () => Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      wantReason: /not a TLS handshake record/,
    },
    {
      name: 'an alert record',
      input: () => Buffer.from([21, 3, 3, 0, 2, 2, 40]),
      wantReason: /not a TLS handshake record/,
    },
    {
      name: 'another record type before the end',
      input: () => {
        const b = hello();
        const split = Buffer.concat([b.subarray(0, 5 + 10), Buffer.from([23, 3, 3, 0, 1, 0])]);
        split.writeUInt16BE(10, 3);
        return split;
      },
      wantReason: /interrupted/,
    },
    {
      name: 'a ServerHello',
      input: () => {
        const b = hello();
        b[5] = 2;
        return b;
      },
      wantReason: /not a ClientHello/,
    },
    {
      name: 'a zero-length record',
      input: () => Buffer.from([22, 3, 1, 0, 0]),
      wantReason: /bad record length/,
    },
    {
      name: 'a record longer than TLS allows',
      input: () => Buffer.from([22, 3, 1, 0x50, 0x00]),
      wantReason: /bad record length/,
    },
    {
      name: 'a handshake length beyond its records',
      input: () => {
        const b = hello();
        b[7] = (b[7]! + 1) & 0xff; // handshake length grows by 256: the message needs another record
        return Buffer.concat([b, Buffer.from([23, 3, 3, 0, 1, 0])]);
      },
      wantReason: /interrupted/,
    },
    {
      name: 'bytes after the ClientHello in its record',
      input: () => {
        const b = hello();
        const extra = Buffer.concat([b, Buffer.from([0])]);
        extra.writeUInt16BE(b.length - 5 + 1, 3);
        return extra;
      },
      wantReason: /extra handshake data/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(
        () => parseClientHello(row.input()),
        (e: unknown) =>
          isMailTlsError(e, 'ERR_TLS_CLIENT_HELLO') &&
          row.wantReason.test(String((e as TLSError).details.reason)),
      );
    });
  }
  it('a ClientHello above maxBytes', () => {
    assert.throws(
      () => parseClientHello(captured[0]!.bytes, { maxBytes: 100 }),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_TLS_CLIENT_HELLO') && /limit/.test(String((e as TLSError).details.reason)),
    );
    assert.throws(() => parseClientHello(captured[0]!.bytes, { maxBytes: 10 }), RangeError);
    assert.throws(() => parseClientHello('x' as never), TypeError);
  });
  it('an SSLv2-format ClientHello is read as one without SNI', () => {
    const body = Buffer.concat([
      Buffer.from([1, 3, 1, 0, 3, 0, 0, 0, 16]),
      Buffer.from([0, 0, 0x2f]),
      Buffer.alloc(16, 7),
    ]);
    const bytes = Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
    const r = parseClientHello(bytes);
    assert.ok(r.complete);
    assert.equal(r.info.sslv2, true);
    assert.equal(r.info.serverName, undefined);
    assert.equal(r.info.legacyVersion, 0x0301);
  });
  it('mutated and random inputs never throw anything but TLSError/TypeError, each within 100 ms', () => {
    const samples = captured.map((c) => c.bytes);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (which, flips, cut) => {
          const b = Buffer.from(samples[which]!);
          for (const [pos, value] of flips) b[pos % b.length] = value;
          const input = b.subarray(0, cut % (b.length + 1));
          const elapsed = cpuStopwatch();
          try {
            parseClientHello(input);
          } catch (e) {
            assert.ok(e instanceof TLSError || e instanceof TypeError, String(e));
          }
          assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
        },
      ),
      { numRuns: runs },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          parseClientHello(bytes);
        } catch (e) {
          assert.ok(e instanceof TLSError, String(e));
        }
      }),
      { numRuns: runs },
    );
  });
});

describe('readClientHello on sockets', () => {
  /** A server that peeks, then completes TLS with acceptTLS; answers what it saw. */
  async function peekServer(fn: (port: number) => Promise<void>): Promise<unknown[]> {
    const registry = createSNIRegistry(leaf.credential);
    const seen: unknown[] = [];
    const server = net.createServer((raw) => {
      acceptTLS(raw, registry).then(
        (s) => {
          seen.push(s.mailtls.clientHello.serverName);
          s.end('hello\n');
        },
        (e: unknown) => seen.push(e),
      );
    });
    const port = await listen(server);
    try {
      await fn(port);
    } finally {
      await close(server);
    }
    return seen;
  }

  it('a ClientHello delivered one byte per TCP segment is read, put back, and the handshake completes', async () => {
    let proxied = 0;
    const seen = await peekServer(async (serverPort) => {
      // A relay that forwards the client's first flight one byte per write, with Nagle off and a pause.
      const relay = net.createServer((client) => {
        const upstream = net.connect(serverPort, '127.0.0.1');
        upstream.setNoDelay(true);
        let first = true;
        client.on('data', async (d: Buffer) => {
          if (first) {
            first = false;
            client.pause();
            for (const byte of d) {
              upstream.write(Buffer.from([byte]));
              proxied++;
              if (proxied % 64 === 0) await new Promise((res) => setTimeout(res, 1));
            }
            client.resume();
          } else upstream.write(d);
        });
        upstream.pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      const relayPort = await listen(relay);
      const text = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: relayPort, servername: H, ca: pki.rootCert });
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d;
        });
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      assert.equal(text, 'hello\n');
      await close(relay);
    });
    assert.ok(proxied > 200, `the ClientHello took ${proxied} one-byte segments`);
    assert.deepEqual(seen, [H]);
  });

  it('puts back exactly what it read', async () => {
    const hello = captured[0]!.bytes;
    const server = net.createServer();
    const port = await listen(server);
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect(port, '127.0.0.1');
    client.write(Buffer.concat([hello, Buffer.from('trailing')]));
    const socket = await accepted;
    await new Promise((res) => setTimeout(res, 50));
    const r = await readClientHello(socket);
    assert.equal(r.info.serverName, H);
    assert.equal(r.bytesRead, hello.length + 8);
    const back = socket.read() as Buffer;
    assert.deepEqual(back, Buffer.concat([hello, Buffer.from('trailing')]));
    client.destroy();
    socket.destroy();
    await close(server);
  });

  const failing: {
    name: string;
    send: (c: net.Socket) => void;
    options: { timeoutMs?: number; maxBytes?: number };
    wantCode: string;
  }[] = [
    {
      name: 'a stalled ClientHello times out',
      send: (c) => c.write(Buffer.from([22, 3, 1])),
      options: { timeoutMs: 150 },
      wantCode: 'ERR_TLS_TIMEOUT',
    },
    {
      name: 'plaintext is refused at once',
      send: (c) => c.write('NOOP\r\n'),
      options: {},
      wantCode: 'ERR_TLS_CLIENT_HELLO',
    },
    {
      name: 'a peer that closes early',
      send: (c) => c.end(Buffer.from([22, 3, 1, 0, 200, 1])),
      options: {},
      wantCode: 'ERR_TLS_CLIENT_HELLO',
    },
    {
      name: 'a ClientHello above the size bound',
      send: (c) => c.write(captured[0]!.bytes),
      options: { maxBytes: 128 },
      wantCode: 'ERR_TLS_CLIENT_HELLO',
    },
  ];
  for (const row of failing) {
    it(row.name, async () => {
      const server = net.createServer();
      const port = await listen(server);
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => {});
      row.send(client);
      const socket = await accepted;
      const t0 = performance.now();
      await assert.rejects(readClientHello(socket, row.options), (e: unknown) =>
        isMailTlsError(e, row.wantCode as 'ERR_TLS_TIMEOUT'),
      );
      assert.ok(performance.now() - t0 < 2000);
      client.destroy();
      socket.destroy();
      await close(server);
    });
  }

  const closedBefore: { name: string; close: (socket: net.Socket, client: net.Socket) => Promise<void> }[] = [
    {
      name: 'destroyed by the server',
      close: async (socket) => {
        socket.destroy();
        await new Promise((res) => socket.once('close', res));
      },
    },
    {
      name: 'ended by the client and read to the end',
      close: async (socket, client) => {
        client.end();
        socket.resume();
        await new Promise((res) => socket.once('close', res));
      },
    },
  ];
  for (const row of closedBefore) {
    it(`a socket already closed (${row.name}) is refused at once, not at the time-out`, async () => {
      const server = net.createServer();
      const port = await listen(server);
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => {});
      const socket = await accepted;
      await row.close(socket, client);
      const t0 = performance.now();
      await assert.rejects(readClientHello(socket, { timeoutMs: 1500 }), (e: unknown) =>
        isMailTlsError(e, 'ERR_TLS_CLIENT_HELLO'),
      );
      const registry = createSNIRegistry(leaf.credential);
      await assert.rejects(acceptTLS(socket, registry, { timeoutMs: 1500 }), (e: unknown) =>
        isMailTlsError(e, 'ERR_TLS_CLIENT_HELLO'),
      );
      assert.ok(performance.now() - t0 < 1000, `took ${(performance.now() - t0).toFixed(0)} ms`);
      client.destroy();
      await close(server);
    });
  }

  it('acceptTLS refuses plaintext and reports a timeout as a TLSError, destroying the socket', async () => {
    const registry = createSNIRegistry(leaf.credential);
    const errors: unknown[] = [];
    const server = net.createServer((raw) => {
      acceptTLS(raw, registry, { timeoutMs: 200 }).catch((e: unknown) => errors.push(e));
    });
    const port = await listen(server);
    const closed = (c: net.Socket) => new Promise((res) => c.on('close', res));
    const plain = net.connect(port, '127.0.0.1');
    plain.write('EHLO x\r\n');
    const silent = net.connect(port, '127.0.0.1');
    await Promise.all([closed(plain), closed(silent)]);
    for (let i = 0; i < 100 && errors.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
    await close(server);
    const codes = errors.map((e) => (e as TLSError).code).sort();
    assert.deepEqual(codes, ['ERR_TLS_CLIENT_HELLO', 'ERR_TLS_TIMEOUT']);
  });

  it('createPeekingTLSServer checks timeoutMs when it is created, and reports time-outs as tlsClientError', async () => {
    const registry = createSNIRegistry(leaf.credential);
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createPeekingTLSServer(registry, { timeoutMs }), RangeError, String(timeoutMs));
      await assert.rejects(async () => acceptTLS(new net.Socket(), registry, { timeoutMs }), RangeError);
    }
    const errors: unknown[] = [];
    const server = createPeekingTLSServer(registry, { timeoutMs: 150 });
    server.on('tlsClientError', (e: unknown) => errors.push(e));
    const port = await listen(server);
    const silent = net.connect(port, '127.0.0.1');
    await new Promise((res) => silent.on('close', res));
    await close(server);
    assert.deepEqual(
      errors.map((e) => (e as TLSError).code),
      ['ERR_TLS_TIMEOUT'],
    );
  });
});
