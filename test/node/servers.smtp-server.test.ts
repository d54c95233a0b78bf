// nodemailer's smtp-server with smtpServerOptions(registry): real clients (openssl -starttls smtp, gnutls-cli,
// Python smtplib, nodemailer) over STARTTLS and implicit TLS get the right certificate for every key-type pair
// and TLS version; smtp-server's own sniOptions show nodejs/node#54235; Unicode names from smtp-server are
// canonicalised; updateSMTPServer follows a new default; verified delivery and a refused wrong name.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { describe, it } from 'node:test';
import type tls from 'node:tls';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { smtpServerOptions, updateSMTPServer } from '../../src/node/tls/servers.js';
import { createSNIRegistry, type SNIRegistry } from '../../src/node/tls/sni-registry.js';
import { skipWithout } from '../helpers/peers.js';
import { type ClientResult, runGnuTLS, runOpenSSL, runPython, type VersionPin } from './helpers/clients.js';
import { type TestLeaf, testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const H = 'mail.example.test';
const TYPES = ['rsa', 'ec'] as const;
const VERSIONS: VersionPin[] = ['1.2', '1.3'];
const defaults: Record<'rsa' | 'ec', TestLeaf> = {
  rsa: pki.leaf(['default.example.test'], { keyType: 'rsa' }),
  ec: pki.leaf(['default.example.test'], { keyType: 'ec' }),
};
const named: Record<'rsa' | 'ec', TestLeaf> = {
  rsa: pki.leaf([H], { keyType: 'rsa' }),
  ec: pki.leaf([H], { keyType: 'ec' }),
};

interface Running {
  port: number;
  /** Fingerprints of the certificates the server sent, in session order (from onSecure). */
  served: string[];
  messages: string[];
  smtp: SMTPServer;
}

async function withSMTPServer<T>(options: SMTPServerOptions, fn: (r: Running) => Promise<T>): Promise<T> {
  const served: string[] = [];
  const messages: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    logger: false,
    onSecure(socket, _session, callback) {
      served.push((socket as tls.TLSSocket).getX509Certificate()?.fingerprint256 ?? 'none');
      callback();
    },
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (d: Buffer) => {
        text += d;
      });
      stream.on('end', () => {
        messages.push(text);
        callback();
      });
    },
    ...options,
  });
  smtp.on('error', () => {});
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const port = (smtp.server.address() as net.AddressInfo).port;
  try {
    return await fn({ port, served, messages, smtp });
  } finally {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }
}

async function sendWithNodemailer(
  port: number,
  secure: boolean,
  tlsOptions: tls.ConnectionOptions,
): Promise<{ ok: boolean; error?: string }> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure,
    requireTLS: !secure,
    tls: tlsOptions,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
  });
  try {
    await transport.sendMail({ from: 'a@client.test', to: 'b@example.test', subject: 'hi', text: 'hello' });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}` };
  } finally {
    transport.close();
  }
}

function label(fp: string | undefined, d: 'rsa' | 'ec', s: 'rsa' | 'ec'): string {
  if (fp === defaults[d].fingerprint256) return `default(${d})`;
  if (fp === named[s].fingerprint256) return `named(${s})`;
  return `other(${fp})`;
}

/** 4 clients x 2 versions; the fingerprint each received (nodemailer: what the server sent, via onSecure). */
async function matrix(
  r: Running,
  secure: boolean,
): Promise<{ name: string; fp: string | undefined; out: string }[]> {
  const rows: { name: string; fp: string | undefined; out: string }[] = [];
  for (const version of VERSIONS) {
    const o = { port: r.port, host: H, version, verify: false, input: 'QUIT\r\n' };
    const clients: [string, Promise<ClientResult>][] = [
      ['openssl', runOpenSSL(secure ? o : { ...o, starttls: 'smtp' })],
      ['gnutls', runGnuTLS(secure ? o : { ...o, starttls: 'smtp' })],
      ['python', runPython(secure ? 'smtps' : 'smtp', o)],
    ];
    for (const [name, p] of clients) {
      const res = await p;
      rows.push({ name: `${name} TLS ${version}`, fp: res.fingerprint, out: res.output.slice(-300) });
    }
    const before = r.served.length;
    const sent = await sendWithNodemailer(r.port, secure, {
      servername: H,
      rejectUnauthorized: false,
      minVersion: `TLSv${version}`,
      maxVersion: `TLSv${version}`,
    });
    rows.push({ name: `nodemailer TLS ${version}`, fp: r.served[before], out: sent.error ?? '' });
  }
  return rows;
}

describe('smtp-server', () => {
  it('its own sniOptions show nodejs/node#54235 after STARTTLS (documented, not used by mailtls)', async () => {
    for (const [d, s, version] of [
      ['rsa', 'ec', '1.2'],
      ['ec', 'rsa', '1.3'],
    ] as const) {
      await withSMTPServer(
        {
          secure: false,
          key: defaults[d].key,
          cert: defaults[d].cert,
          sniOptions: { [H]: named[s].credential },
        },
        async (r) => {
          const res = await runOpenSSL({
            port: r.port,
            host: H,
            version,
            verify: false,
            starttls: 'smtp',
            input: 'QUIT\r\n',
          });
          assert.equal(label(res.fingerprint, d, s), `default(${d})`, res.output.slice(-300));
        },
      );
    }
  });

  for (const secure of [false, true]) {
    for (const d of TYPES) {
      for (const s of TYPES) {
        it(`smtpServerOptions, ${secure ? 'implicit TLS' : 'STARTTLS'}: default ${d}, name ${s}: 4 clients x TLS 1.2/1.3 get the name certificate`, async (t) => {
          if (skipWithout(t, 'gnutls-cli', 'python3')) return;
          const registry = createSNIRegistry(defaults[d].credential);
          registry.add(H, named[s].credential);
          await withSMTPServer({ secure, ...smtpServerOptions(registry) }, async (r) => {
            for (const row of await matrix(r, secure)) {
              assert.equal(label(row.fp, d, s), `named(${s})`, `${row.name}: ${row.out}`);
            }
          });
        });
      }
    }
  }

  it('Unicode names handed over by smtp-server are canonicalised: the IDN certificate is served', async () => {
    const idn = pki.leaf(['xn--bcher-kva.example.test'], { keyType: 'ec' });
    const registry = createSNIRegistry(defaults.rsa.credential);
    registry.add('xn--bcher-kva.example.test', idn.credential);
    const asked: string[] = [];
    const options = smtpServerOptions(registry);
    const SNICallback = options.SNICallback;
    options.SNICallback = (name, cb) => {
      asked.push(name);
      SNICallback(name, cb);
    };
    for (const secure of [false, true]) {
      await withSMTPServer({ secure, ...options }, async (r) => {
        const res = await runOpenSSL({
          port: r.port,
          host: 'xn--bcher-kva.example.test',
          caFile: pki.rootPath,
          input: 'QUIT\r\n',
          ...(secure ? {} : { starttls: 'smtp' as const }),
        });
        assert.equal(res.code, 0, res.output.slice(-300));
        assert.equal(res.fingerprint, idn.fingerprint256);
      });
    }
    assert.deepEqual(
      asked,
      ['bücher.example.test', 'bücher.example.test'],
      'smtp-server passes the Unicode form',
    );
  });

  it('nodemailer delivers over verified STARTTLS and implicit TLS; a wrong name is refused', async (t) => {
    if (skipWithout(t, 'python3')) return;
    const registry = createSNIRegistry(defaults.rsa.credential);
    registry.add(H, named.ec.credential);
    for (const secure of [false, true]) {
      await withSMTPServer({ secure, ...smtpServerOptions(registry) }, async (r) => {
        const ok = await sendWithNodemailer(r.port, secure, { servername: H, ca: pki.rootCert });
        assert.deepEqual(ok, { ok: true });
        assert.equal(r.messages.length, 1);
        assert.match(r.messages[0]!, /hello/);
        const wrong = await sendWithNodemailer(r.port, secure, {
          servername: 'other.example.test',
          ca: pki.rootCert,
        });
        assert.equal(wrong.ok, false);
        assert.match(wrong.error ?? '', /ERR_TLS_CERT_ALTNAME_INVALID|does not match|altnames/i);
        assert.equal(r.messages.length, 1, 'nothing delivered over the refused connection');
        const py = await runPython(secure ? 'smtps' : 'smtp', {
          port: r.port,
          host: H,
          caFile: pki.rootPath,
        });
        assert.equal(py.ok, true, py.output);
      });
    }
  });

  it('updateSMTPServer follows registry.setDefault', async () => {
    const registry: SNIRegistry = createSNIRegistry(defaults.rsa.credential);
    await withSMTPServer({ secure: false, ...smtpServerOptions(registry) }, async (r) => {
      const stop = updateSMTPServer(r.smtp, registry);
      const noSNI = {
        port: r.port,
        host: H,
        sni: false,
        verify: false,
        starttls: 'smtp' as const,
        input: 'QUIT\r\n',
      };
      const before = await runOpenSSL(noSNI);
      registry.setDefault(defaults.ec.credential);
      const after = await runOpenSSL(noSNI);
      stop();
      registry.setDefault(defaults.rsa.credential);
      const stopped = await runOpenSSL(noSNI);
      assert.equal(before.fingerprint, defaults.rsa.fingerprint256);
      assert.equal(after.fingerprint, defaults.ec.fingerprint256);
      assert.equal(stopped.fingerprint, defaults.ec.fingerprint256, 'no longer followed after stop()');
    });
  });
});
