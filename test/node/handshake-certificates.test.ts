// parseHandshakeCertificates on real handshakes recorded from node:tls servers (TLS 1.2 in plaintext, TLS 1.3
// decrypted with the keylog secret, every AEAD suite), compared with what the server was told to send; then
// mutated and random captures (fast-check): never an exception, never slow.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import fc from 'fast-check';
import {
  type HandshakeCapture,
  parseHandshakeCertificates,
} from '../../src/node/tls/handshake-certificates.js';
import { fuzzRuns } from '../helpers/key-fixtures.js';
import { cpuStopwatch } from '../helpers/timing.js';
import { withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const H = 'mail.example.test';
const ecLeaf = pki.leaf([H], { keyType: 'ec' });
const rsaLeaf = pki.leaf([H], { keyType: 'rsa' });

/** Connects through a recording stream and returns what the server sent plus node's view of the session. */
async function capture(
  serverOptions: tls.TlsOptions,
  clientOptions: tls.ConnectionOptions = {},
): Promise<HandshakeCapture & { cipherSuite: string }> {
  const server = tls.createServer(serverOptions, (s) => {
    s.on('error', () => {});
    s.end();
  });
  server.on('tlsClientError', () => {});
  return withServer(server, async (port) => {
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    const chunks: Buffer[] = [];
    const duplex = new Duplex({
      read() {
        raw.resume();
      },
      write(chunk: Buffer, _e, cb) {
        raw.write(chunk, (e) => cb(e ?? null));
      },
      final(cb) {
        raw.end();
        cb();
      },
      destroy(e, cb) {
        raw.destroy();
        cb(e);
      },
    });
    raw.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!duplex.push(c)) raw.pause();
    });
    raw.on('end', () => duplex.push(null));
    const keylog: string[] = [];
    const socket = tls.connect({
      socket: duplex,
      rejectUnauthorized: false,
      servername: H,
      ...clientOptions,
    });
    socket.on('keylog', (l: Buffer) => keylog.push(l.toString('latin1')));
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const result = {
      serverBytes: new Uint8Array(Buffer.concat(chunks)),
      version: socket.getProtocol()!,
      cipherSuite: socket.getCipher().standardName,
      keylog,
    };
    socket.destroy();
    return result;
  });
}

function fingerprints(ders: readonly Uint8Array[] | undefined): string[] | undefined {
  return ders?.map((d) => new X509Certificate(d).fingerprint256);
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;
function pemFingerprints(pem: string): string[] {
  return (pem.match(PEM) ?? []).map((p) => new X509Certificate(p).fingerprint256);
}

describe('parseHandshakeCertificates on real handshakes', () => {
  const served = ecLeaf.cert + pki.rootCert; // leaf, intermediate, root: three certificates in that order
  const rows: {
    name: string;
    input: { server: tls.TlsOptions; client?: tls.ConnectionOptions };
    want: { version: string; suite: string; chain: string[] };
  }[] = [
    {
      name: 'TLS 1.3 AES-128-GCM',
      input: {
        server: { key: ecLeaf.key, cert: served, ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3' },
      },
      want: { version: 'TLSv1.3', suite: 'TLS_AES_128_GCM_SHA256', chain: pemFingerprints(served) },
    },
    {
      name: 'TLS 1.3 AES-256-GCM (SHA-384 key schedule)',
      input: {
        server: { key: ecLeaf.key, cert: served, ciphers: 'TLS_AES_256_GCM_SHA384', minVersion: 'TLSv1.3' },
      },
      want: { version: 'TLSv1.3', suite: 'TLS_AES_256_GCM_SHA384', chain: pemFingerprints(served) },
    },
    {
      name: 'TLS 1.3 ChaCha20-Poly1305',
      input: {
        server: {
          key: ecLeaf.key,
          cert: served,
          ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
          minVersion: 'TLSv1.3',
        },
      },
      want: { version: 'TLSv1.3', suite: 'TLS_CHACHA20_POLY1305_SHA256', chain: pemFingerprints(served) },
    },
    {
      name: 'TLS 1.3 AES-128-CCM',
      input: {
        server: { key: ecLeaf.key, cert: served, ciphers: 'TLS_AES_128_CCM_SHA256', minVersion: 'TLSv1.3' },
        client: { ciphers: 'TLS_AES_128_CCM_SHA256' },
      },
      want: { version: 'TLSv1.3', suite: 'TLS_AES_128_CCM_SHA256', chain: pemFingerprints(served) },
    },
    {
      name: 'TLS 1.3 after a HelloRetryRequest (server wants P-384)',
      input: {
        server: { key: ecLeaf.key, cert: served, ecdhCurve: 'secp384r1', minVersion: 'TLSv1.3' },
        client: { ecdhCurve: 'X25519:secp384r1' },
      },
      want: { version: 'TLSv1.3', suite: 'TLS_AES_256_GCM_SHA384', chain: pemFingerprints(served) },
    },
    {
      name: 'TLS 1.2 ECDHE-ECDSA (plaintext Certificate message)',
      input: { server: { key: ecLeaf.key, cert: served, maxVersion: 'TLSv1.2' } },
      want: {
        version: 'TLSv1.2',
        suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
        chain: pemFingerprints(served),
      },
    },
    {
      name: 'TLS 1.2 with an RSA leaf, leaf only',
      input: { server: { key: rsaLeaf.key, cert: rsaLeaf.leafCert, maxVersion: 'TLSv1.2' } },
      want: {
        version: 'TLSv1.2',
        suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        chain: [rsaLeaf.fingerprint256],
      },
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const c = await capture(row.input.server, row.input.client);
      assert.equal(c.version, row.want.version);
      assert.equal(c.cipherSuite, row.want.suite);
      assert.deepEqual(fingerprints(parseHandshakeCertificates(c)), row.want.chain);
    });

  it('TLS 1.3 without the key log, or with an unknown suite: undefined', async () => {
    const c = await capture({ key: ecLeaf.key, cert: ecLeaf.cert, minVersion: 'TLSv1.3' });
    assert.ok(parseHandshakeCertificates(c));
    assert.equal(parseHandshakeCertificates({ ...c, keylog: [] }), undefined);
    for (const cipherSuite of ['TLS_AES_128_CCM_8_SHA256', '__proto__', 'constructor', 'toString']) {
      assert.equal(parseHandshakeCertificates({ ...c, cipherSuite }), undefined, cipherSuite);
    }
    const wrong = c.keylog!.map((l) =>
      l.startsWith('SERVER_HANDSHAKE') ? l.trim().replace(/.$/, (d) => (d === '0' ? '1' : '0')) : l,
    );
    assert.equal(
      parseHandshakeCertificates({ ...c, keylog: wrong }),
      undefined,
      'a wrong secret fails authentication',
    );
  });

  it('a truncated capture: undefined', async () => {
    const c = await capture({ key: ecLeaf.key, cert: ecLeaf.cert, maxVersion: 'TLSv1.2' });
    assert.ok(parseHandshakeCertificates(c));
    assert.equal(
      parseHandshakeCertificates({ ...c, serverBytes: c.serverBytes.subarray(0, 200) }),
      undefined,
    );
  });

  it('TypeError for a capture that is not one', () => {
    assert.throws(() => parseHandshakeCertificates(null as unknown as HandshakeCapture), TypeError);
    assert.throws(
      () => parseHandshakeCertificates({ serverBytes: 'x' } as unknown as HandshakeCapture),
      TypeError,
    );
  });
});

describe('parseHandshakeCertificates on mutated and random captures', () => {
  const captures: HandshakeCapture[] = [];
  before(async () => {
    captures.push(await capture({ key: ecLeaf.key, cert: ecLeaf.cert, minVersion: 'TLSv1.3' }));
    captures.push(await capture({ key: ecLeaf.key, cert: ecLeaf.cert, maxVersion: 'TLSv1.2' }));
  });

  it('never throws, answers undefined or DER certificates, within 100 ms each', () => {
    const mutation = fc.record({
      which: fc.nat(),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, ({ which, edits, cut }) => {
        const base = captures[which % captures.length]!;
        const bytes = Uint8Array.from(base.serverBytes);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const input = {
          ...base,
          serverBytes: cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1)),
        };
        const elapsed = cpuStopwatch();
        const out = parseHandshakeCertificates(input);
        assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
        assert.ok(
          out === undefined ||
            (Array.isArray(out) && out.every((d) => d instanceof Uint8Array && d.length > 0)),
        );
      }),
      { numRuns: fuzzRuns(300) },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4096 }),
        fc.constantFrom('TLSv1.2', 'TLSv1.3'),
        (bytes, version) => {
          const out = parseHandshakeCertificates({
            serverBytes: bytes,
            version,
            cipherSuite: 'TLS_AES_128_GCM_SHA256',
            keylog: captures[0]!.keylog,
          });
          assert.ok(out === undefined || Array.isArray(out));
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});
