// STARTTLS and implicit TLS with real clients (openssl s_client, curl, gnutls-cli, Python smtplib/imaplib/poplib)
// against the test responder, which gets TLS from upgradeToTLS / acceptTLS; chain and host name verified.
// Negative cases fail for the right reason; plaintext pipelined after STARTTLS is never executed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { isMailTlsError } from '../../src/errors.js';
import { createSNIRegistry, type SNIRegistry } from '../../src/node/tls/sni-registry.js';
import { formatStartTLSReply, upgradeToTLS } from '../../src/node/tls/starttls.js';
import { skipWithout } from '../helpers/peers.js';
import { runCurl, runGnuTLS, runOpenSSL, runPython } from './helpers/clients.js';
import { createLineResponder, type LineResponder, type ResponderProtocol } from './helpers/line-responder.js';
import { close, listen } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const H = 'mail.example.test';
const mail = pki.leaf([H, 'imap.example.test'], { keyType: 'ec' });
const fallback = pki.leaf(['default.example.test'], { keyType: 'rsa' });

function registryWith(credential: { key: string; cert: string }): SNIRegistry {
  const registry = createSNIRegistry(fallback.credential);
  registry.add(H, credential);
  return registry;
}

async function withResponder<T>(
  protocol: ResponderProtocol,
  implicit: boolean,
  registry: SNIRegistry,
  fn: (port: number, responder: LineResponder) => Promise<T>,
): Promise<T> {
  const responder = createLineResponder({ protocol, registry, implicit });
  const sockets = new Set<net.Socket>();
  responder.server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(responder.server);
  try {
    return await fn(port, responder);
  } finally {
    for (const s of sockets) s.destroy();
    await close(responder.server);
  }
}

const QUIT: Record<ResponderProtocol, string> = { smtp: 'QUIT\r\n', pop3: 'QUIT\r\n', imap: 'a LOGOUT\r\n' };
const IMPLICIT_SCHEME: Record<ResponderProtocol, string> = { smtp: 'smtps', pop3: 'pop3s', imap: 'imaps' };

function curlArgs(protocol: ResponderProtocol): { path: string; args: string[]; input: string } {
  if (protocol === 'smtp') {
    return {
      path: '/client.test',
      args: ['--mail-from', 'a@client.test', '--mail-rcpt', 'b@example.test', '-T', '-'],
      input: 'Subject: test\r\n\r\nhello\r\n',
    };
  }
  return { path: '/', args: ['--user', 'u:p'], input: '' };
}

describe('formatStartTLSReply', () => {
  const rows: { name: string; input: [ResponderProtocol, string?]; want: string }[] = [
    { name: 'SMTP 220', input: ['smtp'], want: '220 2.0.0 Ready to start TLS\r\n' },
    { name: 'POP3 +OK', input: ['pop3'], want: '+OK Begin TLS negotiation\r\n' },
    { name: 'IMAP tagged OK', input: ['imap', 'a1'], want: 'a1 OK Begin TLS negotiation now\r\n' },
  ];
  for (const row of rows) it(row.name, () => assert.equal(formatStartTLSReply(...row.input), row.want));
  it('refuses an IMAP reply without a valid tag and unknown protocols', () => {
    assert.throws(() => formatStartTLSReply('imap'), TypeError);
    assert.throws(() => formatStartTLSReply('imap', 'a b\r\nx'), TypeError);
    assert.throws(() => formatStartTLSReply('ftp' as ResponderProtocol), TypeError);
  });
});

describe('real clients complete STARTTLS and implicit TLS, verifying chain and host name', () => {
  for (const protocol of ['smtp', 'pop3', 'imap'] as const) {
    for (const implicit of [false, true]) {
      const mode = implicit ? IMPLICIT_SCHEME[protocol] : `${protocol} STARTTLS`;
      it(`${mode}: openssl, curl, gnutls-cli, Python`, async (t) => {
        if (skipWithout(t, 'curl', 'gnutls-cli', 'python3')) return;
        await withResponder(protocol, implicit, registryWith(mail.credential), async (port, responder) => {
          const o = { port, host: H, caFile: pki.rootPath, input: QUIT[protocol] };
          const ossl = await runOpenSSL(implicit ? o : { ...o, starttls: protocol });
          assert.equal(ossl.code, 0, `openssl: ${ossl.output.slice(-400)}`);
          assert.match(ossl.output, /Verify return code: 0 \(ok\)/);
          assert.equal(ossl.fingerprint, mail.fingerprint256);

          const c = curlArgs(protocol);
          const scheme = implicit ? IMPLICIT_SCHEME[protocol] : protocol;
          const curl = await runCurl(`${scheme}://${H}:${port}${c.path}`, {
            port,
            host: H,
            caFile: pki.rootPath,
            input: c.input,
            args: implicit ? c.args : ['--ssl-reqd', ...c.args],
          });
          assert.equal(curl.code, 0, `curl: ${curl.output.slice(-400)}`);
          assert.equal(curl.fingerprint, mail.fingerprint256);

          const gnutls = await runGnuTLS(implicit ? o : { ...o, starttls: protocol });
          assert.equal(gnutls.code, 0, `gnutls-cli: ${gnutls.output.slice(-400)}`);
          assert.match(gnutls.output, /The certificate is trusted/);
          assert.equal(gnutls.fingerprint, mail.fingerprint256);

          const py = await runPython(implicit ? (IMPLICIT_SCHEME[protocol] as 'smtps') : protocol, {
            port,
            host: H,
            caFile: pki.rootPath,
          });
          assert.equal(py.ok, true, `python: ${py.output}`);
          assert.equal(py.fingerprint, mail.fingerprint256);
          assert.match(JSON.stringify(py.noop), /noop 1/, 'Python ran NOOP over TLS');

          assert.deepEqual(responder.errors, []);
          if (!implicit) {
            assert.equal(responder.upgrades.length, 4);
            for (const u of responder.upgrades) {
              assert.equal(u.discardedPlaintextBytes, 0);
              assert.equal(u.lookup.match, 'exact');
            }
          }
        });
      });
    }
  }
});

describe('nodemailer and imapflow (both verify chain and host name)', () => {
  for (const implicit of [false, true]) {
    it(`${implicit ? 'implicit TLS' : 'STARTTLS'}: nodemailer sends, imapflow logs in; wrong names refused`, async () => {
      const registry = registryWith(mail.credential);
      await withResponder('smtp', implicit, registry, async (port, responder) => {
        const send = (servername: string) => {
          const transport = nodemailer.createTransport({
            host: '127.0.0.1',
            port,
            secure: implicit,
            requireTLS: !implicit,
            tls: { servername, ca: pki.rootCert },
          });
          return transport
            .sendMail({ from: 'a@client.test', to: 'b@example.test', subject: 's', text: 'hello' })
            .finally(() => transport.close());
        };
        const info = await send(H);
        assert.match(String(info.response), /^250 2\.0\.0 Ok: queued/);
        await assert.rejects(send('other.example.test'), /altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
        assert.equal(responder.events.filter((e) => e.line === 'DATA').length, 1);
        assert.ok(responder.events.filter((e) => e.line.startsWith('MAIL')).every((e) => e.secure));
      });
      await withResponder('imap', implicit, registry, async (port, responder) => {
        const connect = async (servername: string) => {
          const client = new ImapFlow({
            host: '127.0.0.1',
            port,
            secure: implicit,
            ...(implicit ? {} : { doSTARTTLS: true }),
            tls: { servername, ca: pki.rootCert },
            auth: { user: 'u', pass: 'p' },
            logger: false,
          });
          client.on('error', () => {});
          await client.connect();
          await client.noop();
          await client.logout();
        };
        await connect(H);
        await assert.rejects(connect('other.example.test'), /altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
        const logins = responder.events.filter((e) => / LOGIN /.test(e.line));
        assert.equal(logins.length, 1);
        assert.equal(logins[0]!.secure, true, 'credentials only ever sent over TLS');
      });
    });
  }
});

describe('negative cases fail for the right reason', () => {
  const expired = pki.leaf([H], {
    keyType: 'ec',
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2020-02-01T00:00:00Z'),
  });
  const cases = [
    {
      name: 'wrong name (the client asks for a name no certificate covers: the default is served)',
      credential: mail.credential,
      host: 'other.example.test',
      openssl: /Verify return code: 62 \(hostname mismatch\)/,
      gnutls: /does not match the hostname|not match/i,
      python: /Hostname mismatch|doesn't match/,
    },
    {
      name: 'missing intermediate',
      credential: { key: mail.key, cert: mail.leafCert },
      host: H,
      openssl: /Verify return code: 20 \(unable to get local issuer certificate\)/,
      gnutls: /issuer is unknown|signer not found/i,
      python: /unable to get local issuer certificate/,
    },
    {
      name: 'expired leaf',
      credential: expired.credential,
      host: H,
      openssl: /Verify return code: 10 \(certificate has expired\)/,
      gnutls: /expired/i,
      python: /certificate has expired/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: openssl, curl (60), gnutls-cli, Python all refuse`, async (t) => {
      if (skipWithout(t, 'curl', 'gnutls-cli', 'python3')) return;
      const registry = createSNIRegistry(fallback.credential);
      registry.add(H, c.credential);
      await withResponder('smtp', false, registry, async (port) => {
        const o = { port, host: c.host, caFile: pki.rootPath, input: QUIT.smtp };
        const ossl = await runOpenSSL({ ...o, starttls: 'smtp' });
        assert.notEqual(ossl.code, 0);
        assert.match(ossl.output, c.openssl);
        const curl = await runCurl(`smtp://${c.host}:${port}/client.test`, {
          port,
          host: c.host,
          caFile: pki.rootPath,
          args: ['--ssl-reqd'],
        });
        assert.equal(curl.code, 60, curl.output);
        const gnutls = await runGnuTLS({ ...o, starttls: 'smtp' });
        assert.notEqual(gnutls.code, 0);
        assert.match(gnutls.output, c.gnutls);
        const py = await runPython('smtp', { port, host: c.host, caFile: pki.rootPath });
        assert.equal(py.ok, false);
        assert.match(py.error ?? '', /SSLCertVerificationError/);
        assert.match(py.error ?? '', c.python);
      });
      // The same over implicit TLS (IMAPS).
      await withResponder('imap', true, registry, async (port) => {
        const ossl = await runOpenSSL({ port, host: c.host, caFile: pki.rootPath, input: QUIT.imap });
        assert.notEqual(ossl.code, 0);
        assert.match(ossl.output, c.openssl);
        const curl = await runCurl(`imaps://${c.host}:${port}/`, {
          port,
          host: c.host,
          caFile: pki.rootPath,
        });
        assert.equal(curl.code, 60, curl.output);
      });
    });
  }
});

/** A raw client: reads until `until` matches, with a bound. */
function readUntil(socket: net.Socket | tls.TLSSocket, until: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (until.test(text)) done(undefined);
    };
    const done = (e: Error | undefined): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (e) reject(e);
      else resolve(text);
    };
    const onClose = (): void => done(new Error(`closed before ${until}; got ${JSON.stringify(text)}`));
    const timer = setTimeout(
      () => done(new Error(`timeout waiting for ${until}; got ${JSON.stringify(text)}`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Collects whatever arrives during `ms`. */
function quietFor(socket: net.Socket | tls.TLSSocket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
    };
    socket.on('data', onData);
    setTimeout(() => {
      socket.removeListener('data', onData);
      resolve(text);
    }, ms);
  });
}

describe('STARTTLS command injection (CVE-2011-0411 class): pipelined plaintext is discarded', () => {
  const rows: {
    protocol: ResponderProtocol;
    before: string;
    beforeReply: RegExp;
    injected: string;
    readyReply: RegExp;
    noop: string;
    noopReply: RegExp;
  }[] = [
    {
      protocol: 'smtp',
      before: 'EHLO client.test\r\n',
      beforeReply: /250 STARTTLS\r\n/,
      injected: 'STARTTLS\r\nNOOP\r\n',
      readyReply: /^220 2\.0\.0 Ready to start TLS\r\n$/,
      noop: 'NOOP\r\n',
      noopReply: /^250 2\.0\.0 Ok noop 1\r\n$/,
    },
    {
      protocol: 'pop3',
      before: 'CAPA\r\n',
      beforeReply: /\r\n\.\r\n/,
      injected: 'STLS\r\nNOOP\r\n',
      readyReply: /^\+OK Begin TLS negotiation\r\n$/,
      noop: 'NOOP\r\n',
      noopReply: /^\+OK noop 1\r\n$/,
    },
    {
      protocol: 'imap',
      before: 'c CAPABILITY\r\n',
      beforeReply: /c OK CAPABILITY completed\r\n/,
      injected: 'a STARTTLS\r\nb NOOP\r\n',
      readyReply: /^a OK Begin TLS negotiation now\r\n$/,
      noop: 'd NOOP\r\n',
      noopReply: /^d OK noop 1 completed\r\n$/,
    },
  ];
  for (const row of rows) {
    it(`${row.protocol}: ${JSON.stringify(row.injected)} in one segment; the NOOP is answered neither in plaintext nor in TLS`, async () => {
      await withResponder(row.protocol, false, registryWith(mail.credential), async (port, responder) => {
        const raw = net.connect(port, '127.0.0.1');
        raw.setNoDelay(true);
        await readUntil(raw, /\r\n/); // greeting
        raw.write(row.before);
        await readUntil(raw, row.beforeReply);
        raw.write(row.injected); // one write, one segment
        const ready = await readUntil(raw, /\r\n/);
        // Nothing more in plaintext: the injected NOOP got no reply.
        const plaintextAfter = await quietFor(raw, 300);
        assert.match(ready, row.readyReply);
        assert.equal(plaintextAfter, '');
        const secure = tls.connect({ socket: raw, servername: H, ca: pki.rootCert });
        await new Promise<void>((resolve, reject) => {
          secure.once('secureConnect', resolve);
          secure.once('error', reject);
        });
        assert.equal(secure.authorized, true);
        // Nothing inside TLS either, until we send our own NOOP, which is the server's first NOOP.
        assert.equal(await quietFor(secure, 300), '');
        secure.write(row.noop);
        const reply = await readUntil(secure, /\r\n/);
        assert.match(reply, row.noopReply);
        secure.end(QUIT[row.protocol]);
        await new Promise((r) => setTimeout(r, 50));
        const noops = responder.events.filter((e) => / ?NOOP$/i.test(e.line) || /^NOOP$/i.test(e.line));
        assert.deepEqual(
          noops.map((e) => e.secure),
          [true],
          'exactly one NOOP was executed, over TLS',
        );
        assert.equal(responder.upgrades.length, 1);
        const injectedNoop = row.injected.slice(row.injected.indexOf('\n') + 1);
        assert.equal(responder.upgrades[0]!.discardedPlaintextBytes, injectedNoop.length);
      });
    });
  }

  it('plaintext sent after the STARTTLS reply instead of a ClientHello closes the connection unexecuted', async () => {
    await withResponder('smtp', false, registryWith(mail.credential), async (port, responder) => {
      const raw = net.connect(port, '127.0.0.1');
      await readUntil(raw, /\r\n/);
      raw.write('STARTTLS\r\n');
      await readUntil(raw, /^220 /m);
      raw.write('NOOP\r\n');
      const closed = await new Promise<string>((resolve) => {
        let text = '';
        raw.on('data', (d: Buffer) => {
          text += d.toString('latin1');
        });
        raw.on('close', () => resolve(text));
      });
      assert.equal(closed, '', 'no reply, plaintext or otherwise');
      assert.equal(responder.errors.length, 1);
      assert.ok(isMailTlsError(responder.errors[0], 'ERR_TLS_CLIENT_HELLO'), String(responder.errors[0]));
      assert.equal(responder.events.filter((e) => e.line === 'NOOP').length, 0);
    });
  });

  it('bytes already in the socket read buffer are discarded too', async () => {
    // The server reads the command line itself, leaving the pipelined command in the socket's buffer.
    const registry = registryWith(mail.credential);
    let info: { discardedPlaintextBytes: number } | undefined;
    const server = net.createServer((raw) => {
      raw.write('220 ready\r\n');
      raw.once('readable', () => {
        const chunk = raw.read() as Buffer;
        const nl = chunk.indexOf('\n');
        raw.unshift(chunk.subarray(nl + 1)); // leave "NOOP\r\n" in the stream
        upgradeToTLS(raw, registry, { reply: formatStartTLSReply('smtp') }).then(
          (s) => {
            info = s.mailtls;
            s.end('250 first reply inside TLS\r\n');
          },
          () => {},
        );
      });
    });
    const port = await listen(server);
    try {
      const raw = net.connect(port, '127.0.0.1');
      await readUntil(raw, /\r\n/);
      raw.write('STARTTLS\r\nNOOP\r\n');
      await readUntil(raw, /^220 2\.0\.0/m);
      const secure = tls.connect({ socket: raw, servername: H, ca: pki.rootCert });
      const text = await readUntil(secure, /\r\n/);
      assert.equal(text, '250 first reply inside TLS\r\n');
      assert.equal(info?.discardedPlaintextBytes, 6);
      secure.destroy();
    } finally {
      await close(server);
    }
  });

  it('on a socket with setEncoding, discarded plaintext is counted in bytes, not characters', async () => {
    const rows: { encoding: BufferEncoding; pipelined: string; want: number }[] = [
      { encoding: 'utf8', pipelined: 'N\u00d6OP \u20ac\r\n', want: 11 },
      { encoding: 'latin1', pipelined: 'N\u00d6OP\r\n', want: 6 },
    ];
    for (const row of rows) {
      const registry = registryWith(mail.credential);
      let info: { discardedPlaintextBytes: number } | undefined;
      const server = net.createServer((raw) => {
        raw.setEncoding(row.encoding);
        raw.write('220 ready\r\n');
        let text = '';
        const onReadable = (): void => {
          for (let c = raw.read() as string | null; c !== null; c = raw.read() as string | null) text += c;
          const nl = text.indexOf('\n');
          if (!text.endsWith('\n') || nl === text.length - 1) return;
          raw.off('readable', onReadable);
          raw.unshift(text.slice(nl + 1), row.encoding); // leave the pipelined line in the stream
          upgradeToTLS(raw, registry, { reply: formatStartTLSReply('smtp') }).then(
            (s) => {
              info = s.mailtls;
              s.end('250 first reply inside TLS\r\n');
            },
            () => {},
          );
        };
        raw.on('readable', onReadable);
      });
      const port = await listen(server);
      try {
        const raw = net.connect(port, '127.0.0.1');
        await readUntil(raw, /\r\n/);
        raw.write(Buffer.from(`STARTTLS\r\n${row.pipelined}`, row.encoding));
        await readUntil(raw, /^220 2\.0\.0/m);
        const secure = tls.connect({ socket: raw, servername: H, ca: pki.rootCert });
        const text = await readUntil(secure, /\r\n/);
        assert.equal(text, '250 first reply inside TLS\r\n');
        assert.equal(info?.discardedPlaintextBytes, row.want, row.encoding);
        secure.destroy();
      } finally {
        await close(server);
      }
    }
  });
});
