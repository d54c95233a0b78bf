// probe() against real servers on 127.0.0.1: the test responder (STARTTLS and implicit TLS for SMTP, POP3,
// IMAP), a TLS server for https, and scripted plaintext servers for misbehaviour. Chains come from a test
// PKI with fixed dates (2026-01-01 to 2036-01-01) so that `at` decides validity. The probe's view of the
// served chain is compared with `openssl s_client -showcerts` on the same server.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { encodePEM } from '../../src/encoding/pem.js';
import { isMailTlsError, MailTlsError } from '../../src/errors.js';
import { type ProbeResult, parseProbeURL, probe } from '../../src/node/tls/probe.js';
import { acceptTLS, createTLSServer } from '../../src/node/tls/servers.js';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { AT, type Made, makeIntermediate, makeLeaf, makeRoot, NOT_AFTER } from '../helpers/chain-pki.js';
import { run } from './helpers/clients.js';
import { createLineResponder, type LineResponder, type ResponderProtocol } from './helpers/line-responder.js';
import { close, listen, withServer } from './helpers/listen.js';
import { createScriptedServer } from './helpers/scripted-server.js';

const H = 'mail.example.test';
const AIA = 'http://pki.example.test/intermediate.der';
const DAY = 86_400_000;

interface PKI {
  root: Made;
  inter: Made;
  leaf: Made;
  other: Made;
  keyPEM: string;
}

let pkiPromise: Promise<PKI> | undefined;
function pki(): Promise<PKI> {
  pkiPromise ??= (async () => {
    const root = await makeRoot('Probe Test Root');
    const inter = await makeIntermediate('Probe Test Intermediate', root, {
      aia: 'http://pki.example.test/root.der',
    });
    const leaf = await makeLeaf(H, inter, { aia: AIA });
    const other = await makeRoot('Unrelated Root');
    return { root, inter, leaf, other, keyPEM: encodePEM('PRIVATE KEY', leaf.key.exportPKCS8()) };
  })();
  return pkiPromise;
}

function fp(der: Uint8Array): string {
  return new X509Certificate(der).fingerprint256;
}

async function withResponder<T>(
  protocol: ResponderProtocol,
  implicit: boolean,
  certs: readonly Made[],
  fn: (port: number, responder: LineResponder) => Promise<T>,
): Promise<T> {
  const p = await pki();
  const registry = createSNIRegistry({ key: p.keyPEM, cert: certs.map((c) => c.pem).join('') });
  const responder = createLineResponder({ protocol, registry, implicit });
  return withServer(responder.server, (port) => fn(port, responder));
}

async function probeCode(promise: Promise<unknown>): Promise<MailTlsError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof MailTlsError, `expected a MailTlsError, got ${String(e)}`);
    return e;
  }
  throw new assert.AssertionError({ message: 'the probe should have failed' });
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** `openssl s_client -showcerts` fingerprints, in the order the server sent them. */
async function opensslChain(port: number, starttls?: 'smtp' | 'pop3' | 'imap'): Promise<string[]> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', H, '-showcerts'];
  if (starttls) args.push('-starttls', starttls);
  const r = await run('openssl', args, starttls === 'imap' ? 'a LOGOUT\r\n' : 'QUIT\r\n');
  return (r.stdout.match(PEM_BLOCK) ?? []).map((pem) => new X509Certificate(pem).fingerprint256);
}

describe('parseProbeURL', () => {
  const rows: { name: string; input: string; want: Partial<ReturnType<typeof parseProbeURL>> }[] = [
    {
      name: 'smtp default port',
      input: 'smtp://MX1.Example.COM',
      want: { url: 'smtp://mx1.example.com:25', protocol: 'smtp', port: 25, starttls: true },
    },
    {
      name: 'submission',
      input: 'submission://smtp.example.com',
      want: { protocol: 'smtp', port: 587, starttls: true },
    },
    {
      name: 'smtps',
      input: 'smtps://smtp.example.com',
      want: { protocol: 'smtp', port: 465, starttls: false },
    },
    {
      name: 'submissions alias',
      input: 'submissions://smtp.example.com',
      want: { port: 465, starttls: false },
    },
    { name: 'pop3', input: 'pop3://pop.example.com', want: { protocol: 'pop3', port: 110, starttls: true } },
    {
      name: 'pop3s',
      input: 'pop3s://pop.example.com',
      want: { protocol: 'pop3', port: 995, starttls: false },
    },
    { name: 'imap', input: 'imap://imap.example.com', want: { protocol: 'imap', port: 143, starttls: true } },
    {
      name: 'imaps explicit port',
      input: 'imaps://imap.example.com:10993/',
      want: { port: 10993, starttls: false },
    },
    {
      name: 'https with a path',
      input: 'https://www.example.com/x?y',
      want: { protocol: 'https', port: 443, url: 'https://www.example.com:443' },
    },
    {
      name: 'IPv4',
      input: 'smtp://192.0.2.25:2525',
      want: { host: '192.0.2.25', hostIsIP: true, port: 2525 },
    },
    {
      name: 'IPv6',
      input: 'imaps://[2001:DB8::25]',
      want: { host: '2001:db8::25', hostIsIP: true, url: 'imaps://[2001:db8::25]:993' },
    },
    { name: 'IDN to A-label', input: 'smtp://bücher.example', want: { host: 'xn--bcher-kva.example' } },
  ];
  for (const row of rows)
    it(row.name, () => {
      const got = parseProbeURL(row.input);
      for (const [k, v] of Object.entries(row.want)) assert.deepEqual(got[k as keyof typeof got], v, k);
    });
  const bad: { name: string; input: string; wantCode: string }[] = [
    { name: 'not a URL', input: 'mail.example.com', wantCode: 'ERR_PROBE_URL' },
    { name: 'unknown scheme', input: 'ftp://mail.example.com', wantCode: 'ERR_PROBE_URL' },
    { name: 'credentials', input: 'imap://user:secret@imap.example.com', wantCode: 'ERR_PROBE_URL' },
    { name: 'user only', input: 'smtp://user@mx.example.com', wantCode: 'ERR_PROBE_URL' },
    { name: 'port 0', input: 'smtp://mx.example.com:0', wantCode: 'ERR_PROBE_URL' },
    { name: 'port too big', input: 'smtp://mx.example.com:70000', wantCode: 'ERR_PROBE_URL' },
    { name: 'path on smtp', input: 'smtp://mx.example.com/client.test', wantCode: 'ERR_PROBE_URL' },
    { name: 'bad host', input: 'smtp://exa_mple..com', wantCode: 'ERR_PROBE_URL' },
    { name: 'control characters', input: 'smtp://mx.example.com\u0000:25', wantCode: 'ERR_PROBE_URL' },
  ];
  for (const row of bad)
    it(`refuses: ${row.name}`, () => {
      assert.throws(
        () => parseProbeURL(row.input),
        (e: unknown) =>
          isMailTlsError(e, row.wantCode as 'ERR_PROBE_URL') && !/secret/.test((e as Error).message),
      );
    });
  it('TypeError for a non-string', () =>
    assert.throws(() => parseProbeURL(25 as unknown as string), TypeError));
});

describe('probe: every protocol against a server with a good chain', () => {
  const cases: { scheme: string; protocol: ResponderProtocol; implicit: boolean; sent: string[] }[] = [
    { scheme: 'smtp', protocol: 'smtp', implicit: false, sent: ['EHLO localhost', 'STARTTLS', 'QUIT'] },
    { scheme: 'submission', protocol: 'smtp', implicit: false, sent: ['EHLO localhost', 'STARTTLS', 'QUIT'] },
    { scheme: 'smtps', protocol: 'smtp', implicit: true, sent: ['QUIT'] },
    { scheme: 'pop3', protocol: 'pop3', implicit: false, sent: ['CAPA', 'STLS', 'QUIT'] },
    { scheme: 'pop3s', protocol: 'pop3', implicit: true, sent: ['QUIT'] },
    {
      scheme: 'imap',
      protocol: 'imap',
      implicit: false,
      sent: ['a1 CAPABILITY', 'a2 STARTTLS', 'a3 LOGOUT'],
    },
    { scheme: 'imaps', protocol: 'imap', implicit: true, sent: ['a3 LOGOUT'] },
  ];
  for (const c of cases)
    it(`${c.scheme}://: chain valid, names match, days left at an injected time, only protocol commands sent`, async () => {
      const p = await pki();
      await withResponder(c.protocol, c.implicit, [p.leaf, p.inter], async (port, responder) => {
        const r = await probe(`${c.scheme}://${H}:${port}`, {
          connect: '127.0.0.1',
          trust: p.root.pem,
          at: AT,
        });
        assert.equal(r.url, `${c.scheme}://${H}:${port}`);
        assert.equal(r.protocol, c.protocol);
        assert.equal(r.starttls, !c.implicit);
        assert.equal(r.servername, H);
        assert.equal(r.tlsVersion, 'TLSv1.3');
        assert.match(r.cipher, /^TLS_/);
        assert.equal(r.servedChainSource, 'handshake');
        assert.deepEqual(
          r.servedChain.map((x) => fp(x.der)),
          [fp(p.leaf.der), fp(p.inter.der)],
        );
        assert.equal(r.chainValid, true, r.chainError?.message);
        assert.equal(r.namesMatch, true, r.namesError?.message);
        assert.deepEqual(
          r.verifiedChain?.map((x) => fp(x.der)),
          [fp(p.leaf.der), fp(p.inter.der), fp(p.root.der)],
        );
        assert.deepEqual(r.problems, []);
        assert.equal(r.notAfter.getTime(), NOT_AFTER.getTime());
        assert.equal(r.daysLeft, Math.floor((NOT_AFTER.getTime() - AT.getTime()) / DAY));
        assert.equal(r.at, AT);
        // What the server received: the protocol's own commands and nothing else (no credentials).
        await waitFor(() => responder.events.length >= c.sent.length);
        assert.deepEqual(
          responder.events.map((e) => e.line),
          c.sent,
        );
        assert.ok(responder.events.at(-1)!.secure, 'the goodbye went over TLS');
        if (!c.implicit) {
          assert.ok(r.capabilities.length > 0);
          assert.ok(r.transcript.some((t) => t.from === 'server'));
        }
        // openssl s_client -showcerts sees the same chain on the same server (after the checks of
        // what the probe sent, since s_client adds its own commands).
        assert.deepEqual(
          await opensslChain(port, c.implicit ? undefined : c.protocol),
          r.servedChain.map((x) => fp(x.der)),
        );
      });
    });

  it('https://: implicit TLS with ALPN', async () => {
    const p = await pki();
    const registry = createSNIRegistry({ key: p.keyPEM, cert: p.leaf.pem + p.inter.pem });
    const server = createTLSServer(registry, { ALPNProtocols: ['http/1.1'] }, (s) => s.end());
    await withServer(server, async (port) => {
      const r = await probe(`https://${H}:${port}/`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      assert.equal(r.protocol, 'https');
      assert.equal(r.alpn, 'http/1.1');
      assert.equal(r.chainValid, true);
      assert.equal(r.namesMatch, true);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.transcript, []);
    });
  });
});

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function codes(r: ProbeResult): string[] {
  return r.problems.map((p) => p.code);
}

describe('probe: broken chains and names', () => {
  it('a server that omits the intermediate: missing-intermediate names the issuer and the AIA URL', async () => {
    const p = await pki();
    await withResponder('smtp', false, [p.leaf], async (port) => {
      const r = await probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      assert.deepEqual(
        r.servedChain.map((x) => fp(x.der)),
        [fp(p.leaf.der)],
      );
      assert.equal(r.chainValid, false);
      assert.equal(r.chainError?.code, 'ERR_CHAIN_UNKNOWN_ISSUER');
      assert.equal(r.namesMatch, true);
      const missing = r.problems.find((x) => x.code === 'unknown-issuer');
      assert.ok(missing, JSON.stringify(r.problems));
      assert.equal(missing.details?.issuer, p.inter.cert.subject.toString());
      assert.deepEqual(missing.details?.caIssuers, [AIA]);
      assert.ok(missing.message.includes(AIA));
      assert.ok(missing.message.includes('Probe Test Intermediate'));
      assert.deepEqual(codes(r), ['unknown-issuer']);
    });
  });

  it('a chain served in the wrong order with the root: wrong-order and root-sent; openssl sees the same order', async () => {
    const p = await pki();
    await withResponder('smtp', false, [p.leaf, p.root, p.inter], async (port) => {
      const r = await probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      const served = r.servedChain.map((x) => fp(x.der));
      assert.deepEqual(served, [fp(p.leaf.der), fp(p.root.der), fp(p.inter.der)]);
      assert.deepEqual(await opensslChain(port, 'smtp'), served);
      assert.deepEqual(codes(r).sort(), ['root-sent', 'wrong-order']);
      assert.equal(r.chainValid, true, 'order does not stop mailtls from building the path');
    });
  });

  it('a certificate served twice and an unrelated one: nothing is dropped from servedChain, both reported', async () => {
    const p = await pki();
    await withResponder('imap', false, [p.leaf, p.inter, p.other, p.inter], async (port) => {
      const r = await probe(`imap://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      const served = r.servedChain.map((x) => fp(x.der));
      assert.deepEqual(served, [fp(p.leaf.der), fp(p.inter.der), fp(p.other.der), fp(p.inter.der)]);
      assert.deepEqual(await opensslChain(port, 'imap'), served);
      assert.deepEqual(codes(r).sort(), ['duplicate-certificate', 'unrelated-certificate']);
      assert.equal(r.chainValid, true);
    });
  });

  it('expired and not yet valid, judged at an injected time', async () => {
    const p = await pki();
    await withResponder('pop3', false, [p.leaf, p.inter], async (port) => {
      const late = new Date('2036-03-01T00:00:00Z');
      const r = await probe(`pop3://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: late });
      assert.equal(r.chainValid, false);
      assert.equal(r.chainError?.code, 'ERR_CHAIN_EXPIRED');
      assert.ok(codes(r).includes('expired'));
      assert.equal(r.daysLeft, Math.floor((NOT_AFTER.getTime() - late.getTime()) / DAY));
      assert.ok(r.daysLeft < 0);
      const early = new Date('2025-06-01T00:00:00Z');
      const e = await probe(`pop3://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: early });
      assert.equal(e.chainError?.code, 'ERR_CHAIN_NOT_YET_VALID');
      assert.ok(codes(e).includes('not-yet-valid'));
    });
  });

  it('a name the certificate does not cover: name-mismatch lists the valid names; nexthop matching as Postfix secure', async () => {
    const p = await pki();
    await withResponder('smtp', true, [p.leaf, p.inter], async (port) => {
      const url = `smtps://other.example.test:${port}`;
      const r = await probe(url, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      assert.equal(r.servername, 'other.example.test');
      assert.equal(r.chainValid, true);
      assert.equal(r.namesMatch, false);
      assert.equal(r.namesError?.code, 'ERR_HOSTNAME_MISMATCH');
      assert.deepEqual(r.namesError?.details.validNames, [H]);
      assert.deepEqual(codes(r), ['name-mismatch']);
      const secure = await probe(url, {
        connect: '127.0.0.1',
        trust: p.root.pem,
        at: AT,
        nextHop: 'example.test',
      });
      assert.equal(secure.namesMatch, true, 'dot-nexthop: mail.example.test is under example.test');
      const mx = await probe(url, { connect: '127.0.0.1', trust: p.root.pem, at: AT, mxHost: H });
      assert.equal(mx.namesMatch, true);
    });
  });

  it('an untrusted root: chain invalid with Node roots, valid with the test root', async () => {
    const p = await pki();
    await withResponder('smtp', true, [p.leaf, p.inter], async (port) => {
      const r = await probe(`smtps://${H}:${port}`, { connect: '127.0.0.1', at: AT });
      assert.equal(r.chainValid, false);
      assert.equal(r.chainError?.code, 'ERR_CHAIN_UNKNOWN_ISSUER');
      // The chain the server sends is complete; only trust in the root is missing.
      assert.deepEqual(codes(r), ['untrusted-root']);
      assert.match(r.problems[0]!.message, /--trust ROOT\.pem/);
      const trusted = await probe(`smtps://${H}:${port}`, {
        connect: '127.0.0.1',
        at: AT,
        trust: p.root.pem,
      });
      assert.equal(trusted.chainValid, true);
    });
  });
});

describe('probe: TLS versions and suites (served chain decoded from the handshake)', () => {
  async function withTLS<T>(options: tls.TlsOptions, fn: (port: number) => Promise<T>): Promise<T> {
    const p = await pki();
    const server = tls.createServer({ key: p.keyPEM, cert: p.leaf.pem + p.inter.pem, ...options }, (s) => {
      s.on('error', () => {});
      s.end();
    });
    server.on('tlsClientError', () => {});
    return withServer(server, fn);
  }
  const rows: {
    name: string;
    input: tls.TlsOptions;
    want: { version: string; cipher: string; problems: string[] };
  }[] = [
    {
      name: 'TLS 1.3 AES-256-GCM',
      input: { ciphers: 'TLS_AES_256_GCM_SHA384', minVersion: 'TLSv1.3' },
      want: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', problems: [] },
    },
    {
      name: 'TLS 1.3 ChaCha20-Poly1305',
      input: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256', minVersion: 'TLSv1.3' },
      want: { version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', problems: [] },
    },
    {
      name: 'TLS 1.3 AES-128-CCM',
      input: { ciphers: 'TLS_AES_128_CCM_SHA256', minVersion: 'TLSv1.3' },
      want: { version: 'TLSv1.3', cipher: 'TLS_AES_128_CCM_SHA256', problems: [] },
    },
    {
      name: 'TLS 1.2 ECDHE-ECDSA-AES128-GCM',
      input: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' },
      want: { version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', problems: [] },
    },
    {
      name: 'TLS 1.2 CBC suite',
      input: { ciphers: 'ECDHE-ECDSA-AES128-SHA', maxVersion: 'TLSv1.2' },
      want: { version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', problems: ['weak-cipher'] },
    },
    {
      name: 'TLS 1.0',
      input: { ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1' },
      want: {
        version: 'TLSv1',
        cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
        problems: ['weak-protocol', 'weak-cipher'],
      },
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const p = await pki();
      await withTLS(row.input, async (port) => {
        const r = await probe(`https://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
        assert.equal(r.tlsVersion, row.want.version);
        assert.equal(r.cipher, row.want.cipher);
        assert.equal(r.servedChainSource, 'handshake');
        assert.deepEqual(
          r.servedChain.map((x) => fp(x.der)),
          [fp(p.leaf.der), fp(p.inter.der)],
        );
        assert.deepEqual(codes(r), row.want.problems);
      });
    });
});

describe('probe: servers that misbehave', () => {
  const noStartTLS: {
    name: string;
    scheme: string;
    greeting: string;
    reply: (l: string) => string | undefined;
    offered: RegExp;
  }[] = [
    {
      name: 'SMTP without STARTTLS in EHLO',
      scheme: 'smtp',
      greeting: '220 mx.example.test ESMTP\r\n',
      reply: (l) =>
        l.startsWith('EHLO') ? '250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n' : '502 no\r\n',
      offered: /PIPELINING, 8BITMIME/,
    },
    {
      name: 'POP3 without STLS in CAPA',
      scheme: 'pop3',
      greeting: '+OK ready\r\n',
      reply: (l) => (l === 'CAPA' ? '+OK\r\nUSER\r\nUIDL\r\n.\r\n' : '-ERR no\r\n'),
      offered: /USER, UIDL/,
    },
    {
      name: 'IMAP without STARTTLS in CAPABILITY',
      scheme: 'imap',
      greeting: '* OK ready\r\n',
      reply: (l) =>
        l.endsWith('CAPABILITY')
          ? `* CAPABILITY IMAP4rev1 IDLE\r\n${l.split(' ')[0]} OK done\r\n`
          : undefined,
      offered: /IMAP4REV1 IDLE/,
    },
  ];
  for (const row of noStartTLS)
    it(`${row.name}: ERR_PROBE_PROTOCOL (not offered), STARTTLS never sent, socket closed`, async () => {
      const s = createScriptedServer({ greeting: row.greeting, reply: row.reply });
      await withServer(s.server, async (port) => {
        const e = await probeCode(probe(`${row.scheme}://${H}:${port}`, { connect: '127.0.0.1' }));
        assert.equal(e.code, 'ERR_PROBE_PROTOCOL');
        assert.equal(e.details.reason, 'not-offered');
        assert.equal(e.details.phase, 'capabilities');
        assert.match(e.message, row.offered);
        assert.ok(!s.lines.some((l) => /STARTTLS|STLS/.test(l)));
        await waitFor(() => s.closed === 1);
        assert.equal(s.closed, 1, 'the probe closed the connection');
      });
    });

  it('an unexpected reply is quoted sanitised and cut to 200 characters', async () => {
    const s = createScriptedServer({
      greeting: `554 5.7.1 go away \u001b[31m\u0000${'x'.repeat(1000)}\r\n`,
      reply: () => undefined,
    });
    await withServer(s.server, async (port) => {
      const e = await probeCode(probe(`smtp://${H}:${port}`, { connect: '127.0.0.1' }));
      assert.equal(e.code, 'ERR_PROBE_PROTOCOL');
      assert.equal(e.details.reason, 'unexpected-reply');
      const reply = String(e.details.reply);
      assert.ok(reply.startsWith('554 5.7.1 go away ?[31m?'));
      assert.equal(reply.length, 203);
      assert.doesNotMatch(e.message, /[\u0000-\u001f]/);
    });
  });

  it('a server that never answers: ERR_PROBE_CONNECT within the time bound, socket closed', async () => {
    const s = createScriptedServer({ greeting: '', reply: () => undefined });
    await withServer(s.server, async (port) => {
      const t0 = Date.now();
      const e = await probeCode(probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', timeoutMs: 400 }));
      const elapsed = Date.now() - t0;
      assert.equal(e.code, 'ERR_PROBE_CONNECT');
      assert.equal(e.details.reason, 'timeout');
      assert.equal(e.details.phase, 'greeting');
      assert.ok(elapsed >= 390 && elapsed < 1500, `took ${elapsed} ms`);
      await waitFor(() => s.closed === 1);
      assert.equal(s.closed, 1);
    });
  });

  it('an implicit-TLS port that never answers the ClientHello: timeout in the tls phase', async () => {
    const s = createScriptedServer({ greeting: '', reply: () => undefined });
    await withServer(s.server, async (port) => {
      const t0 = Date.now();
      const e = await probeCode(probe(`imaps://${H}:${port}`, { connect: '127.0.0.1', timeoutMs: 400 }));
      assert.equal(e.code, 'ERR_PROBE_CONNECT');
      assert.equal(e.details.phase, 'tls');
      assert.ok(Date.now() - t0 < 1500);
      await waitFor(() => s.closed === 1);
      assert.equal(s.closed, 1);
    });
  });

  it('a server that trickles an endless line: ERR_PROBE_PROTOCOL too-long, not a hang', async () => {
    const s = createScriptedServer({ greeting: `220-${'a'.repeat(100_000)}`, reply: () => undefined });
    await withServer(s.server, async (port) => {
      const e = await probeCode(probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', timeoutMs: 3000 }));
      assert.equal(e.code, 'ERR_PROBE_PROTOCOL');
      assert.equal(e.details.reason, 'too-long');
    });
  });

  it('a plaintext port probed as implicit TLS: the handshake fails with ERR_PROBE_PROTOCOL', async () => {
    const s = createScriptedServer({
      greeting: '220 mx.example.test ESMTP\r\n',
      reply: () => '500 what\r\n',
    });
    await withServer(s.server, async (port) => {
      const e = await probeCode(probe(`smtps://${H}:${port}`, { connect: '127.0.0.1', timeoutMs: 3000 }));
      assert.equal(e.code, 'ERR_PROBE_PROTOCOL');
      assert.equal(e.details.phase, 'tls');
    });
  });

  it('connection refused and an unresolvable name: ERR_PROBE_CONNECT', async () => {
    const s = createScriptedServer({ greeting: '', reply: () => undefined });
    const port = await listen(s.server);
    await close(s.server);
    const refused = await probeCode(probe(`smtp://${H}:${port}`, { connect: '127.0.0.1' }));
    assert.equal(refused.code, 'ERR_PROBE_CONNECT');
    assert.equal(refused.details.reason, 'ECONNREFUSED');
    const dns = await probeCode(probe('smtp://no-such-host.invalid:25', { timeoutMs: 5000 }));
    assert.equal(dns.code, 'ERR_PROBE_CONNECT');
  });

  it('plaintext injected after the STARTTLS go-ahead is discarded and reported, never fed to TLS', async () => {
    const p = await pki();
    const registry = createSNIRegistry({ key: p.keyPEM, cert: p.leaf.pem + p.inter.pem });
    const s = createScriptedServer({
      greeting: '220 mx.example.test ESMTP\r\n',
      reply: (l) =>
        l.startsWith('EHLO')
          ? '250-mx.example.test\r\n250 STARTTLS\r\n'
          : l === 'STARTTLS'
            ? { reply: '220 2.0.0 Ready\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n', after: 'tls' }
            : undefined,
      onTLS: (socket: net.Socket) => {
        acceptTLS(socket, registry).then(
          (secure) => secure.on('error', () => {}).resume(),
          () => {},
        );
      },
    });
    await withServer(s.server, async (port) => {
      const r = await probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', trust: p.root.pem, at: AT });
      assert.equal(r.chainValid, true);
      const injected = r.problems.find((x) => x.code === 'plaintext-after-starttls');
      assert.ok(injected);
      assert.equal(injected.details?.bytes, '250-INJECTED\r\n250 AUTH PLAIN\r\n'.length);
    });
  });

  it('a URL with credentials is refused before connecting', async () => {
    const s = createScriptedServer({ greeting: '220 x\r\n', reply: () => undefined });
    await withServer(s.server, async (port) => {
      const e = await probeCode(probe(`smtp://alice:secret@${H}:${port}`, { connect: '127.0.0.1' }));
      assert.equal(e.code, 'ERR_PROBE_URL');
      assert.ok(!e.message.includes('secret'));
      assert.equal(s.connections, 0);
    });
  });

  it('an abort signal stops the probe and closes the socket', async () => {
    const s = createScriptedServer({ greeting: '', reply: () => undefined });
    await withServer(s.server, async (port) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop')), 100);
      await assert.rejects(
        probe(`smtp://${H}:${port}`, { connect: '127.0.0.1', signal: controller.signal }),
        /stop/,
      );
      await waitFor(() => s.closed === 1);
      assert.equal(s.closed, 1);
    });
  });

  it('bad options are programmer errors or typed name errors', async () => {
    await assert.rejects(probe(`smtp://${H}`, { timeoutMs: 0 }), RangeError);
    await assert.rejects(probe(`smtp://${H}`, { servername: '192.0.2.1' }), TypeError);
    await assert.rejects(probe(`smtp://${H}`, { match: ['nexthop'] }), TypeError);
    await assert.rejects(probe(`smtp://${H}`, { mxHost: 'bad..name' }), (e: unknown) =>
      isMailTlsError(e, 'ERR_HOSTNAME_INVALID'),
    );
    await assert.rejects(probe(`smtp://${H}`, { trust: 'not pem' }), MailTlsError);
  });
});
