// clientTLSOptions with real clients against real servers on 127.0.0.1: node's tls.connect, nodemailer
// (STARTTLS on a submission-style port and implicit TLS) and imapflow (STARTTLS and implicit TLS, with a
// login), all talking to the test responder, which serves certificates from a registry chosen by SNI.
// Chain and names are checked; names with mailtls's rules (no Common Name fallback, no partial wildcards),
// shown against node's own tls.checkServerIdentity, which accepts both.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { encodePEM } from '../../src/encoding/pem.js';
import { isMailTlsError, MailTlsError } from '../../src/errors.js';
import { clientTLSOptions, verifyTLSPeer } from '../../src/node/tls/client-options.js';
import { createSNIRegistry, type SNIRegistry } from '../../src/node/tls/sni-registry.js';
import { INTERMEDIATE_PROFILE, LEGACY_PORT_25_PROFILE, MODERN_PROFILE } from '../../src/tls/profile.js';
import { makeIntermediate, makeLeaf, makeRoot } from '../helpers/chain-pki.js';
import { createLineResponder, type LineResponder, type ResponderProtocol } from './helpers/line-responder.js';
import { withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const H = 'mail.example.test';
const mail = pki.leaf([H], { keyType: 'ec' });
const fallback = pki.leaf(['default.example.test'], { keyType: 'ec' });
const expired = pki.leaf(['expired.example.test'], {
  keyType: 'ec',
  notBefore: new Date('2020-01-01T00:00:00Z'),
  notAfter: new Date('2021-01-01T00:00:00Z'),
});

/** A registry: default.example.test by default, mail.example.test by SNI, plus extra names. */
function registry(extra: Record<string, { key: string; cert: string }> = {}): SNIRegistry {
  const r = createSNIRegistry(fallback.credential);
  r.add(H, mail.credential);
  for (const [name, credential] of Object.entries(extra)) r.add(name, credential);
  return r;
}

async function withResponder<T>(
  protocol: ResponderProtocol,
  implicit: boolean,
  reg: SNIRegistry,
  fn: (port: number, responder: LineResponder) => Promise<T>,
): Promise<T> {
  const responder = createLineResponder({ protocol, registry: reg, implicit });
  return withServer(responder.server, (port) => fn(port, responder));
}

interface Outcome {
  ok: boolean;
  code: string | undefined;
  authorized: boolean;
  fingerprint: string | undefined;
  error: unknown;
}

/** tls.connect to 127.0.0.1 with the given options; the socket is closed afterwards. */
function connect(port: number, options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...options, host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, code: 'timeout', authorized: false, fingerprint: undefined, error: undefined });
    }, 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      socket.end();
      resolve({ ok: true, code: undefined, authorized: socket.authorized, fingerprint, error: undefined });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, code: e.code, authorized: false, fingerprint: undefined, error: e });
    });
  });
}

describe('clientTLSOptions: the options object', () => {
  const rows: {
    name: string;
    input: Parameters<typeof clientTLSOptions>[0];
    want: { servername: string | undefined; rejectUnauthorized: boolean; minVersion: string; ca: boolean };
  }[] = [
    {
      name: 'default: hostname verification, SNI = host, intermediate profile',
      input: { host: H },
      want: { servername: H, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: false },
    },
    {
      name: 'IP host: no SNI',
      input: { host: '192.0.2.25', verify: 'chain' },
      want: { servername: undefined, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: false },
    },
    {
      name: 'explicit servername',
      input: { host: '192.0.2.25', servername: H, verify: 'chain' },
      want: { servername: H, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: false },
    },
    {
      name: 'servername false',
      input: { host: H, servername: false },
      want: { servername: undefined, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: false },
    },
    {
      name: 'verify none (Postfix may/encrypt)',
      input: { host: H, verify: 'none', trust: pki.rootCert },
      want: { servername: H, rejectUnauthorized: false, minVersion: 'TLSv1.2', ca: false },
    },
    {
      name: 'own trust anchors',
      input: { host: H, trust: pki.rootCert },
      want: { servername: H, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: true },
    },
    {
      name: 'modern profile by name',
      input: { host: H, profile: 'modern' },
      want: { servername: H, rejectUnauthorized: true, minVersion: 'TLSv1.3', ca: false },
    },
    {
      name: 'legacy-port-25 profile object',
      input: { host: H, profile: LEGACY_PORT_25_PROFILE, verify: 'none' },
      want: { servername: H, rejectUnauthorized: false, minVersion: 'TLSv1', ca: false },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const o = clientTLSOptions(row.input);
      assert.equal(o.servername, row.want.servername);
      assert.equal(o.rejectUnauthorized, row.want.rejectUnauthorized);
      assert.equal(o.minVersion, row.want.minVersion);
      assert.equal(o.ca !== undefined, row.want.ca);
      assert.equal(typeof o.checkServerIdentity, 'function');
      assert.ok(!('host' in o), 'the options never say where to connect');
    });

  it("carries the profile's suites, groups and signature algorithms", () => {
    const o = clientTLSOptions({ host: H });
    assert.deepEqual(o.ciphers.split(':'), [
      ...INTERMEDIATE_PROFILE.cipherSuites,
      ...INTERMEDIATE_PROFILE.ciphers,
    ]);
    assert.equal(o.ecdhCurve, INTERMEDIATE_PROFILE.groups.join(':'));
    assert.equal(o.sigalgs, INTERMEDIATE_PROFILE.signatureAlgorithms.join(':'));
    assert.equal(clientTLSOptions({ host: H, profile: MODERN_PROFILE }).maxVersion, 'TLSv1.3');
  });

  const bad: { name: string; input: unknown; want: (e: unknown) => boolean }[] = [
    { name: 'no host', input: {}, want: (e) => e instanceof TypeError },
    { name: 'unknown verify', input: { host: H, verify: 'strict' }, want: (e) => e instanceof TypeError },
    {
      name: 'nexthop without nextHop',
      input: { host: H, match: ['nexthop'] },
      want: (e) => e instanceof TypeError,
    },
    {
      name: 'IP servername',
      input: { host: H, servername: '192.0.2.1' },
      want: (e) => e instanceof TypeError,
    },
    {
      name: 'invalid host name',
      input: { host: 'bad..name' },
      want: (e) => isMailTlsError(e, 'ERR_HOSTNAME_INVALID'),
    },
    {
      name: 'unknown profile',
      input: { host: H, profile: 'fast' },
      want: (e) => isMailTlsError(e, 'ERR_TLS_PROFILE'),
    },
    {
      name: 'trust not PEM',
      input: { host: H, trust: 'not a certificate' },
      want: (e) => e instanceof MailTlsError,
    },
  ];
  for (const row of bad)
    it(`refuses: ${row.name}`, () => {
      assert.throws(() => clientTLSOptions(row.input as Parameters<typeof clientTLSOptions>[0]), row.want);
    });
});

describe('clientTLSOptions with tls.connect against a real server', () => {
  it('sends SNI: the server picks the certificate for the name, and chain and name verify', async () => {
    await withResponder('smtp', true, registry(), async (port) => {
      const r = await connect(port, clientTLSOptions({ host: H, trust: pki.rootCert }));
      assert.equal(r.ok, true, String(r.error));
      assert.equal(r.authorized, true);
      assert.equal(r.fingerprint, mail.fingerprint256, 'the SNI-selected certificate, not the default');
      // Without SNI the server falls back to its default certificate, whose name does not match.
      const noSNI = await connect(
        port,
        clientTLSOptions({ host: H, servername: false, trust: pki.rootCert }),
      );
      assert.equal(noSNI.ok, false);
      assert.equal(noSNI.code, 'ERR_HOSTNAME_MISMATCH');
    });
  });

  const rows: {
    name: string;
    input: Parameters<typeof clientTLSOptions>[0];
    want: 'ok' | string;
  }[] = [
    { name: 'hostname: matching name', input: { host: H, trust: pki.rootCert }, want: 'ok' },
    {
      name: 'hostname: a name the certificate does not cover',
      input: { host: 'other.example.test', servername: H, trust: pki.rootCert },
      want: 'ERR_HOSTNAME_MISMATCH',
    },
    {
      name: 'Postfix secure: dot-nexthop matches a subdomain of the next hop',
      input: { host: H, nextHop: 'example.test', trust: pki.rootCert },
      want: 'ok',
    },
    {
      name: 'Postfix secure: another next hop fails even though the MX name matches',
      input: { host: H, nextHop: 'example.org', trust: pki.rootCert },
      want: 'ERR_HOSTNAME_MISMATCH',
    },
    {
      name: "chain: node's roots do not know the test root",
      input: { host: H },
      want: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    },
    {
      name: 'chain: an unrelated trust anchor',
      input: { host: H, trust: fallback.leafCert, verify: 'chain' },
      want: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    },
    {
      name: 'chain mode ignores names (what Postfix logs as Trusted)',
      input: { host: H, servername: H, match: ['.other.test'], trust: pki.rootCert, verify: 'chain' },
      want: 'ok',
    },
    {
      name: 'none: an untrusted chain still connects (Postfix may/encrypt)',
      input: { host: H, verify: 'none' },
      want: 'ok',
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      await withResponder('smtp', true, registry(), async (port) => {
        const r = await connect(port, clientTLSOptions(row.input));
        if (row.want === 'ok') assert.equal(r.ok, true, `${r.code} ${String(r.error)}`);
        else {
          assert.equal(r.ok, false);
          assert.equal(r.code, row.want, String(r.error));
        }
      });
    });

  it('an expired certificate fails the chain check (CERT_HAS_EXPIRED)', async () => {
    await withResponder(
      'smtp',
      true,
      registry({ 'expired.example.test': expired.credential }),
      async (port) => {
        const r = await connect(
          port,
          clientTLSOptions({ host: 'expired.example.test', trust: pki.rootCert }),
        );
        assert.equal(r.code, 'CERT_HAS_EXPIRED');
      },
    );
  });

  it("refuses what node's own check accepts: a Common-Name-only certificate and a partial wildcard", async () => {
    const root = await makeRoot('Client Options Root');
    const inter = await makeIntermediate('Client Options Intermediate', root);
    const cnOnly = await makeLeaf(H, inter, { san: [], notAfter: new Date('2099-01-01T00:00:00Z') });
    const partial = await makeLeaf(H, inter, {
      san: [{ dns: 'm*.example.test' }],
      notAfter: new Date('2099-01-01T00:00:00Z'),
    });
    const now = new Date();
    assert.ok(now >= new Date('2026-01-01T00:00:00Z'), 'the test PKI starts on 2026-01-01');
    for (const [what, leaf] of [
      ['CN only', cnOnly],
      ['partial wildcard', partial],
    ] as const) {
      const cert = leaf.pem + inter.pem;
      const key = encodePEM('PRIVATE KEY', leaf.key.exportPKCS8());
      const reg = createSNIRegistry({ key, cert });
      await withResponder('imap', true, reg, async (port) => {
        const ours = await connect(port, clientTLSOptions({ host: H, trust: root.pem }));
        assert.equal(ours.ok, false, what);
        assert.equal(ours.code, 'ERR_HOSTNAME_MISMATCH', what);
        // node's default name check accepts the same certificate: the difference is mailtls's rules.
        const nodeDefault = await connect(port, { servername: H, ca: root.pem, rejectUnauthorized: true });
        assert.equal(nodeDefault.ok, true, `${what}: ${String(nodeDefault.error)}`);
      });
    }
  });
});

describe('clientTLSOptions with nodemailer', () => {
  for (const implicit of [false, true])
    it(`${implicit ? 'implicit TLS (465 style)' : 'STARTTLS with requireTLS (587 style)'}: mail goes out over TLS only after chain and name verify`, async () => {
      await withResponder('smtp', implicit, registry(), async (port, responder) => {
        const transport = nodemailer.createTransport({
          host: '127.0.0.1',
          port,
          secure: implicit,
          requireTLS: true,
          name: 'client.example.test',
          tls: clientTLSOptions({ host: H, trust: pki.rootCert }),
        });
        const info = await transport.sendMail({
          from: 'a@client.example.test',
          to: 'b@example.test',
          text: 'hello',
        });
        assert.match(String(info.response), /^250 /);
        const mailCommands = responder.events.filter((e) => /^(MAIL|RCPT|DATA)/.test(e.line));
        assert.equal(mailCommands.length, 3);
        assert.ok(mailCommands.every((e) => e.secure));
        if (!implicit) {
          assert.equal(responder.upgrades.length, 1);
          assert.equal(responder.upgrades[0]!.clientHello.serverName, H);
        }
        transport.close();
      });
    });

  it('a name mismatch stops the delivery before MAIL FROM (fails closed)', async () => {
    await withResponder('smtp', false, registry(), async (port, responder) => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        requireTLS: true,
        name: 'client.example.test',
        tls: clientTLSOptions({ host: H, nextHop: 'example.org', trust: pki.rootCert }),
      });
      await assert.rejects(
        transport.sendMail({ from: 'a@client.example.test', to: 'b@example.test', text: 'hello' }),
        (e: Error) => /example\.org/.test(e.message),
      );
      assert.ok(!responder.events.some((e) => /^(MAIL|RCPT|DATA|AUTH)/.test(e.line)));
      transport.close();
    });
  });
});

describe('clientTLSOptions with imapflow', () => {
  for (const implicit of [false, true])
    it(`${implicit ? 'implicit TLS (993 style)' : 'STARTTLS (143 style)'}: login only after chain and name verify`, async () => {
      await withResponder('imap', implicit, registry(), async (port, responder) => {
        const client = new ImapFlow({
          host: '127.0.0.1',
          port,
          secure: implicit,
          ...(implicit ? {} : { doSTARTTLS: true }),
          auth: { user: 'user', pass: 'pass' },
          logger: false,
          tls: clientTLSOptions({ host: H, trust: pki.rootCert }),
        });
        await client.connect();
        await client.logout();
        const login = responder.events.find((e) => / LOGIN /.test(e.line));
        assert.ok(login?.secure, 'LOGIN went over TLS');
        if (!implicit) assert.equal(responder.upgrades[0]!.clientHello.serverName, H);
      });
    });

  it('an untrusted chain: connect rejects and the credentials are never sent', async () => {
    await withResponder('imap', false, registry(), async (port, responder) => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port,
        secure: false,
        doSTARTTLS: true,
        auth: { user: 'user', pass: 'pass' },
        logger: false,
        tls: clientTLSOptions({ host: H }),
      });
      client.on('error', () => {});
      await assert.rejects(client.connect());
      assert.ok(!responder.events.some((e) => / LOGIN /.test(e.line)));
      client.close();
    });
  });
});

/** tls.connect, then verifyTLSPeer after secureConnect; answers the path or the error, and the socket. */
function connectAndVerify(
  port: number,
  options: tls.ConnectionOptions,
  verifyOptions: Parameters<typeof verifyTLSPeer>[1],
): Promise<{ path?: string[]; error?: unknown; destroyed: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...options, host: '127.0.0.1', port });
    socket.once('error', (error) => resolve({ error, destroyed: true }));
    socket.once('secureConnect', () => {
      verifyTLSPeer(socket, verifyOptions).then(
        (chain) => {
          resolve({
            path: chain.certificates.map((c) => c.fingerprint('sha256')),
            destroyed: socket.destroyed,
          });
          socket.end();
        },
        (error: unknown) => resolve({ error, destroyed: socket.destroyed }),
      );
    });
  });
}

describe("verifyTLSPeer: mailtls's path validation after the handshake", () => {
  it('a good chain: the validated path leaf → intermediate → root', async () => {
    await withResponder('smtp', true, registry(), async (port) => {
      const input = { host: H, trust: pki.rootCert };
      const r = await connectAndVerify(port, clientTLSOptions(input), input);
      assert.equal(r.error, undefined, String(r.error));
      const root = new X509Certificate(pki.rootCert).fingerprint256;
      const inter = new X509Certificate(pki.intermediateCert).fingerprint256;
      assert.deepEqual(r.path, [mail.fingerprint256, inter, root]);
      assert.equal(r.destroyed, false);
    });
  });

  it('refuses what OpenSSL accepts: a leaf without an authority key identifier; the socket is closed', async () => {
    const root = await makeRoot('Verify Peer Root');
    const inter = await makeIntermediate('Verify Peer Intermediate', root);
    const leaf = await makeLeaf(H, inter, { aki: null, notAfter: new Date('2099-01-01T00:00:00Z') });
    const reg = createSNIRegistry({
      key: encodePEM('PRIVATE KEY', leaf.key.exportPKCS8()),
      cert: leaf.pem + inter.pem,
    });
    await withResponder('smtp', true, reg, async (port) => {
      const input = { host: H, trust: root.pem };
      const r = await connectAndVerify(port, clientTLSOptions(input), input);
      assert.ok(isMailTlsError(r.error, 'ERR_CHAIN_INVALID'), String(r.error));
      assert.equal((r.error as MailTlsError).details.reason, 'key-identifier');
      assert.equal(r.destroyed, true);
      // OpenSSL's check (clientTLSOptions alone) lets the same server through.
      assert.equal((await connect(port, clientTLSOptions(input))).ok, true);
    });
  });

  it('names with mailtls rules after a chain-only handshake', async () => {
    await withResponder('smtp', true, registry(), async (port) => {
      const r = await connectAndVerify(
        port,
        clientTLSOptions({ host: H, trust: pki.rootCert, verify: 'chain' }),
        {
          host: H,
          nextHop: 'example.org',
          trust: pki.rootCert,
        },
      );
      assert.ok(isMailTlsError(r.error, 'ERR_HOSTNAME_MISMATCH'), String(r.error));
      assert.equal(r.destroyed, true);
    });
  });

  it("TypeError for verify: 'none' and for a socket that is not TLS", async () => {
    const socket = new tls.TLSSocket(new net.Socket());
    await assert.rejects(verifyTLSPeer(socket, { host: H, verify: 'none' }), TypeError);
    await assert.rejects(verifyTLSPeer({} as tls.TLSSocket, { host: H }), TypeError);
    socket.destroy();
  });
});
