// Which certificate does each real client get? Default key type (RSA/EC) x name key type (RSA/EC) x TLS 1.2/1.3
// x 4 clients (openssl s_client, gnutls-cli, node:tls, Python ssl) = 32 handshakes per construction:
// - the naive SNICallback construction reproduces nodejs/node#54235 (documented here, asserted exactly);
// - tls.createServer ignoring `secureContext` (no certificate for clients without SNI) is reproduced;
// - createTLSServer / createHTTPSServer (ordered profile) and createPeekingTLSServer (ClientHello read first)
//   serve the right certificate in all 32.
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { isMailTlsError, type MailTlsError } from '../../src/errors.js';
import {
  acceptTLS,
  createHTTPSServer,
  createPeekingHTTPSServer,
  createPeekingTLSServer,
  createTLSServer,
  matchServedCertificate,
  tlsServerOptions,
} from '../../src/node/tls/servers.js';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { skipWithout } from '../helpers/peers.js';
import {
  type ClientOptions,
  type ClientResult,
  runCurl,
  runGnuTLS,
  runNodeClient,
  runOpenSSL,
  runPython,
  type VersionPin,
} from './helpers/clients.js';
import { withServer } from './helpers/listen.js';
import { type TestKeyType, type TestLeaf, testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const TYPES = ['rsa', 'ec'] as const;
const VERSIONS: VersionPin[] = ['1.2', '1.3'];
const NAME = 'mail.example.test';
const defaults: Record<'rsa' | 'ec', TestLeaf> = {
  rsa: pki.leaf(['default.example.test'], { keyType: 'rsa' }),
  ec: pki.leaf(['default.example.test'], { keyType: 'ec' }),
};
const named: Record<'rsa' | 'ec', TestLeaf> = {
  rsa: pki.leaf([NAME], { keyType: 'rsa' }),
  ec: pki.leaf([NAME], { keyType: 'ec' }),
};

type Client = (o: ClientOptions) => Promise<ClientResult>;
const CLIENTS: Record<string, Client> = {
  openssl: (o) => runOpenSSL(o),
  gnutls: (o) => runGnuTLS(o),
  node: (o) => runNodeClient(o),
  python: (o) => runPython('tls', o),
};

interface Row {
  client: string;
  version: VersionPin;
  result: ClientResult;
}

/** All 4 clients x 2 versions against one server, without verification (the fingerprint tells). */
async function matrix(port: number): Promise<Row[]> {
  const jobs: Promise<Row>[] = [];
  for (const version of VERSIONS) {
    for (const [client, fn] of Object.entries(CLIENTS)) {
      jobs.push(
        fn({ port, host: NAME, version, verify: false }).then((result) => ({ client, version, result })),
      );
    }
  }
  return Promise.all(jobs);
}

function label(fp: string | undefined, d: TestKeyType, s: TestKeyType): string {
  if (fp === defaults[d as 'rsa'].fingerprint256) return `default(${d})`;
  if (fp === named[s as 'rsa'].fingerprint256) return `named(${s})`;
  return `other(${fp})`;
}

/** Node 20 with OpenSSL 3.0 serves the default in exactly these combinations (nodejs/node#54235). */
function naiveServesDefault(d: string, s: string, v: VersionPin): boolean {
  return (d === 'rsa' && s === 'ec' && v === '1.2') || (d === 'ec' && s === 'rsa' && v === '1.3');
}

describe('nodejs/node#54235 reproduced: naive tls.createServer({ key, cert, SNICallback })', () => {
  for (const d of TYPES) {
    for (const s of TYPES) {
      it(`default ${d}, name ${s}: the default certificate goes to ${
        d === s ? 'no client' : d === 'rsa' ? 'TLS 1.2 clients' : 'TLS 1.3 clients'
      }`, async (t) => {
        if (skipWithout(t, 'gnutls-cli', 'python3')) return;
        const nameContext = tls.createSecureContext(named[s].credential);
        const server = tls.createServer(
          {
            ...defaults[d].credential,
            SNICallback: (n, cb) => cb(null, n === NAME ? nameContext : undefined),
          },
          (socket) => socket.end(),
        );
        const rows = await withServer(server, matrix);
        for (const row of rows) {
          const want = naiveServesDefault(d, s, row.version) ? `default(${d})` : `named(${s})`;
          assert.equal(
            label(row.result.fingerprint, d, s),
            want,
            `${row.client} TLS ${row.version}: ${row.result.output.slice(-300)}`,
          );
        }
      });
    }
  }
});

describe('tls.createServer ignores a secureContext option (reproduced)', () => {
  it('tls.createServer and https.createServer: clients without SNI get no certificate when the default identity is only in secureContext', async () => {
    const secureContext = tls.createSecureContext(defaults.rsa.credential);
    const server = tls.createServer(
      { secureContext, SNICallback: (_n, cb) => cb(null, secureContext) },
      (s) => s.end(),
    );
    const [noSNI, withSNI] = await withServer(server, (port) =>
      Promise.all([
        runOpenSSL({ port, host: NAME, sni: false, verify: false }),
        runOpenSSL({ port, host: NAME, verify: false }),
      ]),
    );
    assert.equal(noSNI.ok, false, 'handshake without SNI must fail');
    assert.equal(noSNI.fingerprint, undefined);
    assert.match(noSNI.output, /alert handshake failure|no shared cipher|sslv3 alert/i);
    // With SNI the callback's context supplies the certificate, which hides the problem in a quick test.
    assert.equal(withSNI.fingerprint, defaults.rsa.fingerprint256);
    // https.createServer, the same.
    const httpsServer = https.createServer({ secureContext }, (_req, res) => res.end());
    const httpsNoSNI = await withServer(httpsServer, (port) =>
      runOpenSSL({ port, host: NAME, sni: false, verify: false }),
    );
    assert.equal(httpsNoSNI.ok, false);
    assert.equal(httpsNoSNI.fingerprint, undefined);
  });

  it('createTLSServer passes the default identity as key/cert: clients without SNI get the default', async (t) => {
    if (skipWithout(t, 'gnutls-cli', 'python3')) return;
    for (const d of TYPES) {
      const registry = createSNIRegistry(defaults[d].credential);
      registry.add(NAME, named[d === 'rsa' ? 'ec' : 'rsa'].credential);
      const results = await withServer(
        createTLSServer(registry, {}, (s) => s.end()),
        (port) =>
          Promise.all([
            runOpenSSL({ port, host: NAME, sni: false, verify: false }),
            runGnuTLS({ port, host: NAME, sni: false, verify: false }),
            runNodeClient({ port, host: NAME, sni: false, verify: false }),
            runPython('tls', { port, host: NAME, sni: false, verify: false }),
          ]),
      );
      for (const r of results) assert.equal(r.fingerprint, defaults[d].fingerprint256, r.output.slice(-300));
    }
  });
});

describe('the fix: every client gets the name certificate in all 32 combinations', () => {
  for (const construction of ['createTLSServer', 'createPeekingTLSServer'] as const) {
    for (const d of TYPES) {
      for (const s of TYPES) {
        it(`${construction}: default ${d}, name ${s}, TLS 1.2 and 1.3, 4 clients`, async (t) => {
          if (skipWithout(t, 'gnutls-cli', 'python3')) return;
          const registry = createSNIRegistry(defaults[d].credential);
          registry.add(NAME, named[s].credential);
          const errors: unknown[] = [];
          const server =
            construction === 'createTLSServer'
              ? createTLSServer(registry, {}, (socket) => socket.end())
              : createPeekingTLSServer(registry, {}, (socket) => socket.end());
          server.on('tlsClientError', (e: unknown) => errors.push(e));
          const rows = await withServer(server, matrix);
          for (const row of rows) {
            assert.equal(
              label(row.result.fingerprint, d, s),
              `named(${s})`,
              `${row.client} TLS ${row.version}: ${row.result.output.slice(-300)}`,
            );
          }
          assert.equal(
            errors.filter((e) => isMailTlsError(e, 'ERR_TLS_WRONG_CERTIFICATE')).length,
            0,
            'the wrong-certificate guard never fired',
          );
        });
      }
    }
  }

  for (const construction of ['createHTTPSServer', 'createPeekingHTTPSServer'] as const) {
    it(`${construction}: curl and node get the name certificate for every key-type pair and version`, async (t) => {
      if (skipWithout(t, 'curl')) return;
      for (const d of TYPES) {
        for (const s of TYPES) {
          const registry = createSNIRegistry(defaults[d].credential);
          registry.add(NAME, named[s].credential);
          const handler = (_req: unknown, res: { end: (t: string) => void }) => res.end('hello over https\n');
          const server =
            construction === 'createHTTPSServer'
              ? createHTTPSServer(registry, {}, handler)
              : createPeekingHTTPSServer(registry, {}, handler);
          await withServer(server, async (port) => {
            for (const version of VERSIONS) {
              const curl = await runCurl(`https://${NAME}:${port}/`, {
                port,
                host: NAME,
                version,
                caFile: pki.rootPath,
              });
              assert.equal(curl.code, 0, curl.output);
              assert.match(curl.output, /hello over https/);
              assert.equal(label(curl.fingerprint, d, s), `named(${s})`, `curl ${d}/${s}/${version}`);
              const body = await new Promise<string>((resolve, reject) => {
                https
                  .get(
                    {
                      host: '127.0.0.1',
                      port,
                      servername: NAME,
                      ca: pki.rootCert,
                      minVersion: `TLSv${version}`,
                      maxVersion: `TLSv${version}`,
                      checkServerIdentity: (_h, cert) => tls.checkServerIdentity(NAME, cert),
                      agent: false,
                    },
                    (res) => {
                      let text = '';
                      res.on('data', (c) => {
                        text += c;
                      });
                      res.on('end', () => resolve(text));
                    },
                  )
                  .on('error', reject);
              });
              assert.equal(body, 'hello over https\n');
            }
          });
        }
      }
    });
  }
});

describe('a client that cannot use the name certificate', () => {
  // RSA default, EC name, a client offering RSA authentication only: node can only send the default.
  const rsaOnly12 = ['-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'];
  const rsaOnly13 = ['-sigalgs', 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256'];

  it('createTLSServer detects the default certificate was served and refuses the connection', async () => {
    // maxContexts 1 and another name in between: the check must not depend on the context still being cached.
    const registry = createSNIRegistry(defaults.rsa.credential, { maxContexts: 1 });
    registry.add('other.example.test', defaults.ec.credential);
    registry.add(NAME, named.ec.credential);
    const errors: MailTlsError[] = [];
    let reached = 0;
    const server = createTLSServer(registry, {}, (socket) => {
      if (socket.servername === NAME) reached++;
      socket.end('should never be sent\n');
    });
    server.on('tlsClientError', (e: MailTlsError) => errors.push(e));
    const results = await withServer(server, async (port) => {
      const r = await Promise.all([
        runOpenSSL({ port, host: NAME, version: '1.2', verify: false, args: rsaOnly12, input: 'x\n' }),
        runOpenSSL({ port, host: NAME, version: '1.3', verify: false, args: rsaOnly13, input: 'x\n' }),
        runOpenSSL({ port, host: 'other.example.test', verify: false }),
      ]);
      r.pop();
      await new Promise((res) => setTimeout(res, 100));
      return r;
    });
    for (const r of results) assert.equal(r.fingerprint, defaults.rsa.fingerprint256);
    assert.equal(reached, 0, 'no connection with the wrong certificate reached the application');
    const wrong = errors.filter((e) => isMailTlsError(e, 'ERR_TLS_WRONG_CERTIFICATE'));
    assert.equal(wrong.length, 2, `errors: ${errors.map((e) => e.code ?? String(e)).join(', ')}`);
    assert.match(wrong[0]!.message, /mail\.example\.test/);
  });

  it('createPeekingTLSServer never sends the default: the handshake fails instead', async () => {
    const registry = createSNIRegistry(defaults.rsa.credential);
    registry.add(NAME, named.ec.credential);
    const errors: unknown[] = [];
    const server = createPeekingTLSServer(registry, {}, (socket) => socket.end());
    server.on('tlsClientError', (e: unknown) => errors.push(e));
    const results = await withServer(server, async (port) => {
      const r = await Promise.all([
        runOpenSSL({ port, host: NAME, version: '1.2', verify: false, args: rsaOnly12 }),
        runOpenSSL({ port, host: NAME, version: '1.3', verify: false, args: rsaOnly13 }),
      ]);
      await new Promise((res) => setTimeout(res, 100));
      return r;
    });
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.equal(r.fingerprint, undefined);
    }
    assert.equal(errors.length, 2);
    for (const e of errors) assert.ok(isMailTlsError(e, 'ERR_TLS_HANDSHAKE'), String(e));
  });

  it('matchServedCertificate answers true for a name of the default key type without looking', async () => {
    const registry = createSNIRegistry(defaults.rsa.credential);
    registry.add(NAME, named.rsa.credential);
    let answered: (v: boolean) => void = () => {};
    const answer = new Promise<boolean>((resolve) => {
      answered = resolve;
    });
    const server = tls.createServer(tlsServerOptions(registry), (socket) => {
      answered(matchServedCertificate(registry, socket));
      socket.end();
    });
    const r = await withServer(server, async (port) => {
      const result = await runNodeClient({ port, host: NAME, verify: false });
      assert.equal(await answer, true);
      return result;
    });
    assert.equal(r.fingerprint, named.rsa.fingerprint256);
  });
});

describe('lookups through real handshakes', () => {
  const wild = pki.leaf(['*.wild.example.test'], { keyType: 'ec' });
  const rows: { name: string; input: string; want: 'named' | 'wild' | 'default' }[] = [
    { name: 'exact name', input: NAME, want: 'named' },
    { name: 'upper case SNI', input: 'MAIL.Example.TEST', want: 'named' },
    { name: 'one-label wildcard', input: 'imap.wild.example.test', want: 'wild' },
    { name: 'wildcard never covers two labels', input: 'a.b.wild.example.test', want: 'default' },
    { name: 'wildcard never covers its base', input: 'wild.example.test', want: 'default' },
    { name: 'unknown name', input: 'unknown.example.test', want: 'default' },
  ];
  for (const construction of ['createTLSServer', 'createPeekingTLSServer'] as const) {
    it(`${construction}: exact, wildcard, default`, async () => {
      const registry = createSNIRegistry(defaults.rsa.credential);
      registry.add(NAME, named.ec.credential);
      registry.add('*.WILD.example.test.', wild.credential);
      const server =
        construction === 'createTLSServer'
          ? createTLSServer(registry, {}, (s) => s.end())
          : createPeekingTLSServer(registry, {}, (s) => s.end());
      await withServer(server, async (port) => {
        for (const row of rows) {
          const r = await runOpenSSL({ port, host: row.input, verify: false });
          const want = { named: named.ec, wild, default: defaults.rsa }[row.want];
          assert.equal(r.fingerprint, want.fingerprint256, `${row.name}: ${r.output.slice(-200)}`);
        }
      });
    });
  }

  it('a registered credential that fails to load refuses the handshake (no other certificate is served)', async () => {
    for (const construction of ['createTLSServer', 'createPeekingTLSServer'] as const) {
      const registry = createSNIRegistry(defaults.rsa.credential);
      registry.add(NAME, { key: defaults.ec.key, cert: named.ec.cert });
      const contextErrors: MailTlsError[] = [];
      registry.on('contextError', (e) => contextErrors.push(e));
      const server =
        construction === 'createTLSServer'
          ? createTLSServer(registry, {}, (s) => s.end())
          : createPeekingTLSServer(registry, {}, (s) => s.end());
      const r = await withServer(server, (port) => runOpenSSL({ port, host: NAME, verify: false }));
      assert.equal(r.ok, false, construction);
      assert.equal(r.fingerprint, undefined, construction);
      assert.equal(contextErrors.length, 1);
      assert.equal(contextErrors[0]!.code, 'ERR_TLS_CONTEXT');
      assert.match(contextErrors[0]!.message, /does not belong to the certificate/);
      assert.doesNotMatch(contextErrors[0]!.message + JSON.stringify(contextErrors[0]), /PRIVATE KEY|MIG/);
    }
  });

  it('createTLSServer follows registry.setDefault (new default served without SNI)', async () => {
    const registry = createSNIRegistry(defaults.rsa.credential);
    const server = createTLSServer(registry, {}, (s) => s.end());
    await withServer(server, async (port) => {
      const before = await runNodeClient({ port, host: NAME, sni: false, verify: false });
      registry.setDefault(defaults.ec.credential);
      const after = await runNodeClient({ port, host: NAME, sni: false, verify: false });
      assert.equal(before.fingerprint, defaults.rsa.fingerprint256);
      assert.equal(after.fingerprint, defaults.ec.fingerprint256);
    });
  });
});

describe('acceptTLS option mistakes', () => {
  it('maxClientHelloBytes is checked when acceptTLS or createPeekingTLSServer is called', () => {
    const registry = createSNIRegistry(named.ec.credential);
    for (const maxClientHelloBytes of [0, 63, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => createPeekingTLSServer(registry, { maxClientHelloBytes }),
        RangeError,
        String(maxClientHelloBytes),
      );
      assert.throws(
        () => acceptTLS(new net.Socket(), registry, { maxClientHelloBytes }),
        RangeError,
        String(maxClientHelloBytes),
      );
    }
  });

  const later = 'later.example.test';
  for (const servername of [NAME, later]) {
    it(`ALPNProtocols that node refuses fail the connection at once (${servername === NAME ? 'PEM' : 'async loader'})`, async () => {
      const registry = createSNIRegistry(named.ec.credential);
      registry.add(NAME, named.rsa.credential);
      registry.add(later, async () => named.rsa.credential);
      const errors: unknown[] = [];
      const server = net.createServer((raw) => {
        acceptTLS(raw, registry, { timeoutMs: 5000, ALPNProtocols: ['x'.repeat(300)] }).then(
          (s) => s.destroy(),
          (e: unknown) => errors.push(e),
        );
      });
      await withServer(server, async (port) => {
        const t0 = performance.now();
        const client = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
        client.on('error', () => {});
        await new Promise((resolve) => client.once('close', resolve));
        for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
        assert.ok(performance.now() - t0 < 2000, `took ${(performance.now() - t0).toFixed(0)} ms`);
      });
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof RangeError, String(errors[0]));
    });
  }
});

describe('acceptTLS after the handshake', () => {
  it('a TLS error on the connection is an ordinary error event and closes the socket', async () => {
    const registry = createSNIRegistry(named.ec.credential);
    const seen: string[] = [];
    let closed: () => void = () => {};
    const serverClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const server = net.createServer(async (raw) => {
      const s = await acceptTLS(raw, registry);
      s.on('data', (d: Buffer) => seen.push(`data ${d.toString().trim()}`));
      s.on('error', (e: NodeJS.ErrnoException) => seen.push(`error ${e.code}`));
      s.on('close', () => closed());
    });
    await withServer(server, async (port) => {
      const raw = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => raw.once('connect', resolve));
      const client = tls.connect({ socket: raw, servername: NAME, rejectUnauthorized: false });
      client.on('error', () => {});
      await new Promise((resolve) => client.once('secureConnect', resolve));
      client.write('hello\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // An application-data record that TLS never made, written under the TLS layer.
      net.Socket.prototype.write.call(raw, Buffer.from([23, 3, 3, 0, 20, ...new Array(20).fill(1)]));
      await serverClosed;
    });
    assert.deepEqual(seen, ['data hello', 'error ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC']);
  });
});
