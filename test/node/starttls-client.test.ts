// The client half of STARTTLS against real sockets on 127.0.0.1: scripted servers (well-formed and broken
// replies of every kind, silence, floods), the test responder (real STARTTLS with mailtls's server side),
// and random server bytes (fast-check): every outcome is a result or a typed error within the deadline.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MailTlsError } from '../../src/errors.js';
import { clientTLSOptions } from '../../src/node/tls/client-options.js';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import {
  connectStartTLS,
  type NegotiatedStartTLS,
  type NegotiateStartTLSOptions,
  negotiateStartTLS,
  type StartTLSClientProtocol,
  sanitizeReply,
} from '../../src/node/tls/starttls-client.js';
import { fuzzRuns } from '../helpers/key-fixtures.js';
import { createLineResponder, type LineResponder } from './helpers/line-responder.js';
import { close, listen, withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';
import { createScriptedServer, type ScriptStep } from './helpers/scripted-server.js';

const pki = testPKI();
const H = 'mail.example.test';
const mail = pki.leaf([H], { keyType: 'ec' });

/** Connects to a scripted server and runs negotiateStartTLS; the socket is destroyed afterwards. */
async function negotiate(
  greeting: string,
  reply: (line: string, index: number) => ScriptStep | undefined,
  options: NegotiateStartTLSOptions,
): Promise<{ result?: NegotiatedStartTLS; error?: unknown; lines: string[] }> {
  const s = createScriptedServer({ greeting, reply });
  return withServer(s.server, async (port) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    try {
      return { result: await negotiateStartTLS(socket, options), lines: s.lines };
    } catch (error) {
      return { error, lines: s.lines };
    } finally {
      socket.destroy();
    }
  });
}

const smtpEHLO = (extra = '250 STARTTLS\r\n') =>
  `250-mx.example.test Hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n${extra}`;

interface OkRow {
  name: string;
  protocol: StartTLSClientProtocol;
  greeting: string;
  reply: (line: string, index: number) => ScriptStep | undefined;
  want: { capabilities: string[]; reply: string; sent: string[]; discarded?: number };
}

const okRows: OkRow[] = [
  {
    name: 'SMTP: multi-line greeting, EHLO keywords with parameters',
    protocol: 'smtp',
    greeting: '220-mx.example.test ESMTP\r\n220-second line\r\n220 third\r\n',
    reply: (l) =>
      l.startsWith('EHLO') ? smtpEHLO() : l === 'STARTTLS' ? '220 2.0.0 Ready to start TLS\r\n' : undefined,
    want: {
      capabilities: ['PIPELINING', 'SIZE 1000', 'STARTTLS'],
      reply: '220 2.0.0 Ready to start TLS',
      sent: ['EHLO localhost', 'STARTTLS'],
    },
  },
  {
    name: 'SMTP: LF-only line ends and a bare code line',
    protocol: 'smtp',
    greeting: '220\n',
    reply: (l) => (l.startsWith('EHLO') ? '250-x\n250 starttls\n' : l === 'STARTTLS' ? '220\n' : undefined),
    want: { capabilities: ['STARTTLS'], reply: '220', sent: ['EHLO localhost', 'STARTTLS'] },
  },
  {
    name: 'SMTP: plaintext after the go-ahead is discarded and counted',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: (l) =>
      l.startsWith('EHLO')
        ? smtpEHLO()
        : l === 'STARTTLS'
          ? { reply: '220 go\r\n250 AUTH PLAIN\r\n', after: 'silence' }
          : undefined,
    want: {
      capabilities: ['PIPELINING', 'SIZE 1000', 'STARTTLS'],
      reply: '220 go',
      sent: ['EHLO localhost', 'STARTTLS'],
      discarded: 16,
    },
  },
  {
    name: 'POP3: CAPA list with a dot-stuffed line',
    protocol: 'pop3',
    greeting: '+OK POP3 ready <1.2@x>\r\n',
    reply: (l) =>
      l === 'CAPA' ? '+OK\r\nTOP\r\n..ODD\r\nSTLS\r\n.\r\n' : l === 'STLS' ? '+OK Begin TLS\r\n' : undefined,
    want: { capabilities: ['TOP', '.ODD', 'STLS'], reply: '+OK Begin TLS', sent: ['CAPA', 'STLS'] },
  },
  {
    name: 'POP3: no CAPA (RFC 1939 server), STLS tried anyway',
    protocol: 'pop3',
    greeting: '+OK\r\n',
    reply: (l) => (l === 'CAPA' ? '-ERR unknown command\r\n' : l === 'STLS' ? '+OK\r\n' : undefined),
    want: { capabilities: [], reply: '+OK', sent: ['CAPA', 'STLS'] },
  },
  {
    name: 'IMAP: capabilities from an untagged response, a literal skipped',
    protocol: 'imap',
    greeting: '* OK [CAPABILITY IMAP4rev1] ready\r\n',
    reply: (l) =>
      l === 'a1 CAPABILITY'
        ? '* ID {5}\r\nab\r\nc NIL\r\n* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\n'
        : l === 'a2 STARTTLS'
          ? 'a2 OK Begin TLS negotiation now\r\n'
          : undefined,
    want: {
      capabilities: ['IMAP4REV1', 'STARTTLS', 'LOGINDISABLED'],
      reply: 'a2 OK Begin TLS negotiation now',
      sent: ['a1 CAPABILITY', 'a2 STARTTLS'],
    },
  },
];

describe('negotiateStartTLS: well-formed servers', () => {
  for (const row of okRows)
    it(row.name, async () => {
      const r = await negotiate(row.greeting, row.reply, { protocol: row.protocol, timeoutMs: 3000 });
      assert.equal(r.error, undefined, String(r.error));
      assert.deepEqual(r.result?.capabilities, row.want.capabilities);
      assert.equal(r.result?.reply, row.want.reply);
      assert.deepEqual(r.lines, row.want.sent, 'exactly these commands were sent');
      assert.equal(r.result?.discardedBytes, row.want.discarded ?? 0);
      assert.deepEqual(
        r.result?.transcript.filter((t) => t.from === 'client').map((t) => t.line),
        row.want.sent,
      );
    });

  it('the EHLO name is the clientName option', async () => {
    const r = await negotiate('220 mx\r\n', (l) => (l.startsWith('EHLO') ? smtpEHLO() : '220 go\r\n'), {
      protocol: 'smtp',
      clientName: 'out.example.org',
    });
    assert.equal(r.lines[0], 'EHLO out.example.org');
  });
});

interface FailRow {
  name: string;
  protocol: StartTLSClientProtocol;
  greeting: string;
  reply: (line: string, index: number) => ScriptStep | undefined;
  options?: Partial<NegotiateStartTLSOptions>;
  wantCode: string;
  want: { reason: string; phase: string; reply?: RegExp };
}

const failRows: FailRow[] = [
  {
    name: 'SMTP 554 greeting',
    protocol: 'smtp',
    greeting: '554 5.7.1 no service for you\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'greeting', reply: /^554 5\.7\.1/ },
  },
  {
    name: 'SMTP greeting that is not SMTP (an HTTP server)',
    protocol: 'smtp',
    greeting: 'HTTP/1.1 400 Bad Request\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'malformed-reply', phase: 'greeting', reply: /^HTTP/ },
  },
  {
    name: 'SMTP reply lines with different codes',
    protocol: 'smtp',
    greeting: '220-a\r\n250 b\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'malformed-reply', phase: 'greeting' },
  },
  {
    name: 'SMTP EHLO refused',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: () => '502 5.5.2 EHLO not implemented\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'capabilities', reply: /^502/ },
  },
  {
    name: 'SMTP without STARTTLS',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: () => '250-mx\r\n250 8BITMIME\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'not-offered', phase: 'capabilities' },
  },
  {
    name: 'SMTP STARTTLS refused with 454',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: (l) =>
      l.startsWith('EHLO') ? smtpEHLO() : '454 4.7.0 TLS not available due to local problem\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'starttls', reply: /^454 4\.7\.0/ },
  },
  {
    name: 'SMTP server hangs up after EHLO',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: () => ({ reply: '250-mx\r\n', after: 'close' }),
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'closed', phase: 'capabilities' },
  },
  {
    name: 'POP3 -ERR greeting',
    protocol: 'pop3',
    greeting: '-ERR busy\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'greeting', reply: /^-ERR busy$/ },
  },
  {
    name: 'POP3 CAPA without STLS',
    protocol: 'pop3',
    greeting: '+OK\r\n',
    reply: () => '+OK\r\nUSER\r\n.\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'not-offered', phase: 'capabilities' },
  },
  {
    name: 'POP3 without CAPA and STLS refused',
    protocol: 'pop3',
    greeting: '+OK\r\n',
    reply: () => '-ERR unknown\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'not-offered', phase: 'starttls' },
  },
  {
    name: 'IMAP PREAUTH',
    protocol: 'imap',
    greeting: '* PREAUTH welcome\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'greeting', reply: /PREAUTH/ },
  },
  {
    name: 'IMAP BYE',
    protocol: 'imap',
    greeting: '* BYE too many connections\r\n',
    reply: () => undefined,
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'greeting' },
  },
  {
    name: 'IMAP STARTTLS answered NO',
    protocol: 'imap',
    greeting: '* OK\r\n',
    reply: (l) =>
      l === 'a1 CAPABILITY'
        ? '* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n'
        : 'a2 NO [UNAVAILABLE] not now\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'unexpected-reply', phase: 'starttls', reply: /^a2 NO/ },
  },
  {
    name: 'IMAP continuation request where none is due',
    protocol: 'imap',
    greeting: '* OK\r\n',
    reply: () => '+ go ahead\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'malformed-reply', phase: 'capabilities' },
  },
  {
    name: 'IMAP literal larger than the reply limit',
    protocol: 'imap',
    greeting: '* OK\r\n',
    reply: () => '* X {999999999}\r\n',
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'too-long', phase: 'capabilities' },
  },
  {
    name: 'a line longer than maxLineBytes',
    protocol: 'smtp',
    greeting: `220 ${'x'.repeat(300)}\r\n`,
    reply: () => undefined,
    options: { maxLineBytes: 256 },
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'too-long', phase: 'greeting' },
  },
  {
    name: 'a reply longer than maxReplyBytes (a flood of continuation lines)',
    protocol: 'smtp',
    greeting: '220 mx\r\n',
    reply: () => '250-x\r\n'.repeat(2000),
    options: { maxReplyBytes: 4096 },
    wantCode: 'ERR_TLS_STARTTLS',
    want: { reason: 'too-long', phase: 'capabilities' },
  },
  {
    name: 'silence: the deadline passes',
    protocol: 'imap',
    greeting: '',
    reply: () => undefined,
    options: { timeoutMs: 200 },
    wantCode: 'ERR_TLS_TIMEOUT',
    want: { reason: 'timeout', phase: 'greeting' },
  },
  {
    name: 'a reply without its line end: the deadline passes, the partial line is quoted',
    protocol: 'pop3',
    greeting: '+OK hello',
    reply: () => undefined,
    options: { timeoutMs: 200 },
    wantCode: 'ERR_TLS_TIMEOUT',
    want: { reason: 'timeout', phase: 'greeting', reply: /^\+OK hello$/ },
  },
];

describe('negotiateStartTLS: servers that refuse or misbehave', () => {
  for (const row of failRows)
    it(`${row.name}: ${row.wantCode} (${row.want.reason})`, async () => {
      const t0 = Date.now();
      const r = await negotiate(row.greeting, row.reply, {
        protocol: row.protocol,
        timeoutMs: 3000,
        ...row.options,
      });
      assert.ok(r.error instanceof MailTlsError, String(r.error));
      assert.equal(r.error.code, row.wantCode);
      assert.equal(r.error.details.reason, row.want.reason);
      assert.equal(r.error.details.phase, row.want.phase);
      if (row.want.reply) assert.match(String(r.error.details.reply), row.want.reply);
      assert.ok(Date.now() - t0 < 2500, 'failed within the deadline');
      assert.ok(
        !r.lines.some((l) => /^(AUTH|USER|PASS|LOGIN|a\d+ LOGIN|MAIL)/i.test(l)),
        'no credentials, no mail',
      );
    });

  it('an abort signal rejects with its reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped')), 50);
    const r = await negotiate('', () => undefined, { protocol: 'smtp', signal: controller.signal });
    assert.match(String(r.error), /stopped/);
  });

  it('bad options are programmer errors', async () => {
    const socket = new net.Socket();
    await assert.rejects(negotiateStartTLS(socket, { protocol: 'ftp' as StartTLSClientProtocol }), TypeError);
    await assert.rejects(
      negotiateStartTLS(socket, { protocol: 'smtp', clientName: 'a b\r\nRCPT' }),
      TypeError,
    );
    await assert.rejects(negotiateStartTLS(socket, { protocol: 'smtp', timeoutMs: -1 }), RangeError);
    await assert.rejects(negotiateStartTLS(socket, { protocol: 'smtp', maxLineBytes: 1.5 }), RangeError);
    await assert.rejects(negotiateStartTLS({} as net.Socket, { protocol: 'smtp' }), TypeError);
  });
});

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('sanitizeReply', () => {
  const rows: { name: string; input: string; want: string }[] = [
    { name: 'printable kept', input: '250 OK', want: '250 OK' },
    { name: 'control characters replaced', input: '554 \u001b[31mno\u0000', want: '554 ?[31mno?' },
    { name: 'non-ASCII replaced', input: '220 h\u00e9llo', want: '220 h?llo' },
    { name: 'cut at 200', input: 'x'.repeat(500), want: `${'x'.repeat(200)}...` },
  ];
  for (const row of rows) it(row.name, () => assert.equal(sanitizeReply(row.input), row.want));
});

describe('connectStartTLS with clientTLSOptions against the test responder', () => {
  for (const protocol of ['smtp', 'pop3', 'imap'] as const)
    it(`${protocol}: STARTTLS, then chain and name verified; the session goes on over TLS`, async () => {
      const responder = createLineResponder({ protocol, registry: createSNIRegistry(mail.credential) });
      await withServer(responder.server, async (port) => {
        const socket = await connectStartTLS({
          host: '127.0.0.1',
          port,
          protocol,
          tls: clientTLSOptions({ host: H, trust: pki.rootCert }),
        });
        assert.equal(socket.authorized, true);
        assert.equal(socket.getPeerX509Certificate()?.fingerprint256, mail.fingerprint256);
        assert.ok(socket.mailtls.capabilities.length > 0);
        await waitFor(() => responder.upgrades.length === 1);
        assert.equal(responder.upgrades[0]?.clientHello.serverName, H);
        const noop = protocol === 'imap' ? 'a9 NOOP\r\n' : 'NOOP\r\n';
        const answer = await new Promise<string>((resolve) => {
          socket.once('data', (d: Buffer) => resolve(d.toString('latin1')));
          socket.write(noop);
        });
        assert.match(answer, /noop 1/);
        assert.equal(responder.events.at(-1)?.secure, true);
        socket.destroy();
      });
    });

  async function failing(
    responder: LineResponder,
    tls: ReturnType<typeof clientTLSOptions>,
  ): Promise<MailTlsError> {
    return withServer(responder.server, async (port) => {
      try {
        await connectStartTLS({ host: '127.0.0.1', port, protocol: 'smtp', tls });
      } catch (e) {
        assert.ok(e instanceof MailTlsError, String(e));
        return e;
      }
      throw new assert.AssertionError({ message: 'connectStartTLS should have failed' });
    });
  }

  it('a name mismatch is passed through as ERR_HOSTNAME_MISMATCH', async () => {
    const e = await failing(
      createLineResponder({ protocol: 'smtp', registry: createSNIRegistry(mail.credential) }),
      clientTLSOptions({ host: 'other.example.test', trust: pki.rootCert }),
    );
    assert.equal(e.code, 'ERR_HOSTNAME_MISMATCH');
  });

  it("an untrusted chain is ERR_TLS_HANDSHAKE with node's reason", async () => {
    const e = await failing(
      createLineResponder({ protocol: 'smtp', registry: createSNIRegistry(mail.credential) }),
      clientTLSOptions({ host: H }),
    );
    assert.equal(e.code, 'ERR_TLS_HANDSHAKE');
    assert.equal(e.details.reason, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('tls options that tls.connect refuses reject, and the plain connection is closed too', async () => {
    const rows: { name: string; tls: NonNullable<Parameters<typeof connectStartTLS>[0]['tls']> }[] = [
      { name: 'unknown minVersion', tls: { minVersion: 'TLSv9' as never } },
      { name: 'ALPN name over 255 bytes', tls: { ALPNProtocols: ['x'.repeat(300)] } },
    ];
    for (const row of rows) {
      const s = createScriptedServer({
        greeting: '220 mx.example.test ESMTP\r\n',
        reply: (l) =>
          l.startsWith('EHLO')
            ? smtpEHLO()
            : l === 'STARTTLS'
              ? { reply: '220 2.0.0 Ready to start TLS\r\n', after: 'silence' }
              : undefined,
      });
      await withServer(s.server, async (port) => {
        await assert.rejects(
          connectStartTLS({ host: '127.0.0.1', port, protocol: 'smtp', tls: row.tls }),
          (e: unknown) => e instanceof TypeError || e instanceof RangeError,
          row.name,
        );
        await waitFor(() => s.closed === 1, 2000);
        assert.equal(s.closed, 1, `${row.name}: the client hung up`);
      });
    }
  });

  it('a refused connection is ERR_TLS_CONNECT', async () => {
    const s = net.createServer();
    const port = await listen(s);
    await close(s);
    await assert.rejects(
      connectStartTLS({ host: '127.0.0.1', port, protocol: 'smtp' }),
      (e: unknown) =>
        e instanceof MailTlsError && e.code === 'ERR_TLS_CONNECT' && e.details.reason === 'ECONNREFUSED',
    );
  });
});

describe('negotiateStartTLS: random server bytes', () => {
  it('any reply gives a result or a typed error before the deadline, never a hang or another exception', async () => {
    let script: Uint8Array[] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.resume(); // read (and ignore) the client's commands, so its FIN closes this socket
      // Separate writes, then the end: every run finishes (result, or a typed error) without waiting.
      for (const c of script) socket.write(c);
      socket.end();
    });
    const line = fc.oneof(
      fc.constantFrom(
        '220 mx\r\n',
        '250-x\r\n',
        '250 STARTTLS\r\n',
        '+OK\r\n',
        'STLS\r\n',
        '.\r\n',
        '* CAPABILITY STARTTLS\r\n',
        'a1 OK\r\n',
        'a2 OK\r\n',
        '* X {3}\r\n',
      ),
      fc.string({ maxLength: 40 }).map((s) => `${s}\r\n`),
    );
    const chunk = fc.oneof(
      fc.array(line, { maxLength: 6 }).map((ls) => new TextEncoder().encode(ls.join(''))),
      fc.uint8Array({ maxLength: 64 }),
    );
    await withServer(server, (port) =>
      fc.assert(
        fc.asyncProperty(
          fc.constantFrom('smtp', 'pop3', 'imap'),
          fc.array(chunk, { maxLength: 5 }),
          async (protocol, chunks) => {
            script = chunks;
            const socket = net.connect(port, '127.0.0.1');
            socket.on('error', () => {});
            await new Promise((r) => socket.once('connect', r));
            const t0 = Date.now();
            try {
              await negotiateStartTLS(socket, {
                protocol: protocol as StartTLSClientProtocol,
                timeoutMs: 300,
              });
            } catch (e) {
              assert.ok(e instanceof MailTlsError, `unexpected ${String(e)}`);
              assert.ok(e.code === 'ERR_TLS_STARTTLS' || e.code === 'ERR_TLS_TIMEOUT');
            } finally {
              socket.destroy();
            }
            assert.ok(Date.now() - t0 < 2000);
          },
        ),
        { numRuns: fuzzRuns(40) },
      ),
    );
  });
});
