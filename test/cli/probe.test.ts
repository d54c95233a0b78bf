// `mailtls probe`: real servers in the test process (smtp-server with STARTTLS, a node TLS server with
// implicit TLS) serving openssl-made chains; the command runs as a child process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { mailtlsAsync, makeOpenSSLInputs, type OpenSSLInputs } from './helpers.js';

type Problem = { code: string; message: string };

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

describe('mailtls probe', () => {
  let inputs: OpenSSLInputs;
  let smtp: SMTPServer;
  let smtpPort: number;
  let implicit: tls.Server;
  let implicitPort: number;
  let closedPort: number;

  before(async () => {
    inputs = makeOpenSSLInputs();
    const key = readFileSync(inputs.leafKey, 'utf8');
    const leaf = readFileSync(inputs.leafCert, 'utf8');
    const intermediate = readFileSync(inputs.intermediateCert, 'utf8');
    // STARTTLS on a real SMTP server, serving leaf + intermediate (correct).
    smtp = new SMTPServer({
      secure: false,
      key,
      cert: leaf + intermediate,
      authOptional: true,
      logger: false,
    });
    smtpPort = await listen(smtp.server);
    // Implicit TLS serving the leaf alone (the intermediate is missing).
    implicit = tls.createServer({ key, cert: leaf }, (s) => {
      s.on('error', () => {});
      s.end();
    });
    implicitPort = await listen(implicit);
    const spare = net.createServer();
    closedPort = await listen(spare);
    await new Promise<void>((resolve) => spare.close(() => resolve()));
  });

  /** `mailtls probe URL --connect 127.0.0.1 --trust <test root> EXTRA...`: the servers above listen on 127.0.0.1. */
  const probeLocal = (url: string, ...extra: string[]) =>
    mailtlsAsync(['probe', url, '--connect', '127.0.0.1', '--trust', inputs.rootCert, ...extra]);

  after(() => {
    // smtp-server's close callback waits for idle connections it has already let go; closing is enough.
    smtp.close(() => {});
    implicit.close();
  });

  it('smtp:// with STARTTLS: the served chain validates and the name matches (exit 0)', async () => {
    const r = await probeLocal(`smtp://mail.example.com:${smtpPort}`, '--json');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const j = r.json!;
    assert.equal(j.ok, true);
    assert.equal(j.starttls, true);
    assert.equal(j.chainValid, true);
    assert.equal(j.namesMatch, true);
    assert.deepEqual(
      (j.servedChain as { subject: string }[]).map((c) => c.subject),
      ['CN=mail.example.com,O=Example Inc,C=US', 'CN=Test Intermediate CA,O=Test Reseller,C=US'],
    );
    assert.ok((j.capabilities as string[]).includes('STARTTLS'));
    assert.deepEqual(j.problems, []);
  });

  it('a complete chain from a private root without --trust: untrusted-root, pass --trust ROOT (exit 1)', async () => {
    const r = await mailtlsAsync([
      'probe',
      `smtp://mail.example.com:${smtpPort}`,
      '--connect',
      '127.0.0.1',
      '--json',
    ]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const problems = r.json!.problems as Problem[];
    assert.deepEqual(
      problems.map((p) => p.code),
      ['untrusted-root'],
    );
    assert.match(problems[0]!.message, /pass the root as trust \(mailtls probe --trust ROOT\.pem\)/);
    assert.doesNotMatch(problems[0]!.message, /add it to the certificate file/);
  });

  it('prints the plaintext exchange with --transcript', async () => {
    const r = await probeLocal(`smtp://mail.example.com:${smtpPort}`, '--transcript');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^smtp:\/\/mail\.example\.com:\d+: connected to 127\.0\.0\.1:\d+, STARTTLS, SNI mail\.example\.com\n/,
    );
    assert.match(r.stdout, / {4}C: STARTTLS\n/);
    assert.match(r.stdout, /Chain: valid \(to CN=Test Root CA/);
    assert.match(r.stdout, /\nOK\n$/);
  });

  it('smtps:// serving the leaf alone: a missing intermediate is a problem (exit 1)', async () => {
    const r = await probeLocal(`smtps://mail.example.com:${implicitPort}`, '--json');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const j = r.json!;
    assert.equal(j.starttls, false);
    assert.equal(j.chainValid, false);
    const codes = (j.problems as Problem[]).map((p) => p.code);
    assert.ok(codes.includes('unknown-issuer'), codes.join());
  });

  it('a name the certificate does not cover is a mismatch (exit 1)', async () => {
    const r = await probeLocal(`smtp://smtp.example.com:${smtpPort}`, '--json');
    assert.equal(r.status, 1);
    assert.equal(r.json!.namesMatch, false);
    assert.ok((r.json!.problems as Problem[]).some((p) => p.code === 'name-mismatch'));
  });

  it('a closed port exits 1 with ERR_PROBE_CONNECT; a bad URL exits 2 with ERR_PROBE_URL', async () => {
    const refused = await mailtlsAsync([
      'probe',
      `smtps://127.0.0.1:${closedPort}`,
      '--timeout',
      '5',
      '--json',
    ]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.equal((refused.json!.error as { code: string }).code, 'ERR_PROBE_CONNECT');
    const bad = await mailtlsAsync(['probe', 'gopher://example.com', '--json']);
    assert.equal(bad.status, 2);
    assert.equal((bad.json!.error as { code: string }).code, 'ERR_PROBE_URL');
  });
});
