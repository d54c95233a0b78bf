// The pure core outside Node: every pure entry point bundles for the browser with esbuild (a Node-only
// import fails the build), the root never pulls in @peculiar/x509 or a Node adapter, and in headless Chromium
// the bundled core generates a key, builds a CSR with the manual's subject, parses a certificate, assembles
// and verifies a reseller chain, reads a PKCS#12 file, makes a TLSA record and matches host names, with the
// same answers as under Node.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { bundleForBrowser, type EntrySize, measureEntryPoints } from '../../scripts/bundle-size.js';
import * as mailtls from '../../src/index.js';
import * as tlsa from '../../src/tls/tlsa.js';
import { needs } from '../helpers/peers.js';
import { runScenario, type ScenarioFixtures } from './browser-scenario.js';

const validity = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };

async function makeFixtures(): Promise<ScenarioFixtures> {
  const ca = await mailtls.createCertificateAuthority({
    name: { organization: 'Reseller Trust', commonName: 'Reseller Root' },
    intermediate: true,
    ...validity,
  });
  const other = await mailtls.createCertificateAuthority({
    name: { commonName: 'Unrelated CA' },
    ...validity,
  });
  const request = await mailtls.createCSR({
    subject: { organization: 'Example GmbH', commonName: 'example.com' },
    hostnames: ['mail.example.com', 'smtp.example.com'],
  });
  const leaf = await mailtls.issueCertificate(request.csrPEM, ca.issuer, validity);
  const key = await mailtls.generateKeyPair({ type: 'rsa', bits: 2048 });
  const pfx = await mailtls.createPKCS12({
    key: request.key,
    certificates: [leaf.certPEM, ca.intermediate!.certPEM],
    password: 'pfx secret',
  });
  return {
    keyPEM: await mailtls.encodePrivateKeyPEM(key),
    leafPEM: leaf.certPEM,
    bundlePEM: [ca.root.certPEM, other.root.certPEM, ca.intermediate!.certPEM].join(''),
    rootPEM: ca.root.certPEM,
    pfxBase64: Buffer.from(pfx).toString('base64'),
    password: 'pfx secret',
    at: '2026-06-01T00:00:00.000Z',
  };
}

describe('pure entry points bundled for a browser', () => {
  let sizes: EntrySize[];
  before(async () => {
    sizes = await measureEntryPoints();
  });

  it('every pure entry point bundles with platform browser and nothing external', () => {
    assert.ok(sizes.length >= 25, `only ${sizes.length} entry points`);
    for (const s of sizes) assert.ok(s.minified > 0, s.specifier);
  });

  it('no pure bundle holds a Node adapter, the CLI or @peculiar/x509', () => {
    for (const s of sizes) {
      const bad = s.inputs.filter((i) =>
        /src\/(node|cli|peculiar)\/|@peculiar\/|reflect-metadata|pkijs/.test(i),
      );
      assert.deepEqual(bad, [], `${s.specifier} pulls in ${bad.join(', ')}`);
    }
  });

  it('mailtls/pem and mailtls/certificate stay small and leave out the Public Suffix List', () => {
    const pem = sizes.find((s) => s.specifier === 'mailtls/pem')!;
    const cert = sizes.find((s) => s.specifier === 'mailtls/certificate')!;
    assert.ok(pem.minified < 24 * 1024, `mailtls/pem is ${pem.minified} bytes minified`);
    assert.ok(cert.minified < 100 * 1024, `mailtls/certificate is ${cert.minified} bytes minified`);
    for (const s of [pem, cert])
      assert.ok(!s.inputs.some((i) => i.includes('tldts')), `${s.specifier} holds tldts`);
  });

  it('a Node-only import fails the browser build, naming the module (control)', async () => {
    const probe = 'test/peculiar/fixtures/node-import.ts';
    await assert.rejects(bundleForBrowser(probe), /node:fs/);
  });
});

describe('the pure core in headless Chromium', needs('chromium'), () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  let fixtures: ScenarioFixtures;

  before(async () => {
    const [{ code }, fx] = await Promise.all([
      bundleForBrowser('test/peculiar/browser-entry.ts'),
      makeFixtures(),
    ]);
    fixtures = fx;
    server = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(code);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          '<!doctype html><meta charset="utf-8"><title>mailtls</title><script type="module" src="/app.js"></script>',
        );
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('gives the same answers as Node for key, CSR, certificate, chain, PKCS#12, TLSA and host names', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(
      () => typeof (globalThis as { runScenario?: unknown }).runScenario === 'function',
    );
    const inPage = await page.evaluate(
      (fx) => (globalThis as unknown as { runScenario(f: typeof fx): Promise<unknown> }).runScenario(fx),
      fixtures,
    );
    const underNode = JSON.parse(JSON.stringify(await runScenario(mailtls, tlsa, fixtures)));
    assert.deepEqual(errors, []);
    assert.deepEqual(inPage, underNode);
    // And the answers are the ones expected, not merely equal.
    const r = underNode as {
      freshKey: { type: string; curve: string; csrSubject: string };
      csr: { subject: string; dnsNames: string[] };
      chain: { complete: boolean; trusted: boolean; dropped: string[] };
      verified: string[];
      hostnames: [string, boolean][];
      pkcs12: { keyMatches: boolean; certificates: number };
    };
    assert.deepEqual([r.freshKey.type, r.freshKey.curve], ['ec', 'P-256']);
    assert.equal(
      r.csr.subject,
      'emailAddress=hostmaster@example.com,CN=example.com,OU=IT,O=Example GmbH,L=München,ST=Bayern,C=DE',
    );
    assert.deepEqual(r.csr.dnsNames, ['example.com', 'mail.example.com', 'smtp.example.com']);
    assert.deepEqual([r.chain.complete, r.chain.trusted], [true, true]);
    assert.deepEqual(r.chain.dropped, ['CN=Reseller Root,O=Reseller Trust', 'CN=Unrelated CA']);
    assert.equal(r.verified.length, 3);
    assert.deepEqual(
      r.hostnames.filter(([, ok]) => ok).map(([h]) => h),
      ['example.com', 'mail.example.com', 'MAIL.Example.COM.', 'smtp.example.com'],
    );
    assert.deepEqual([r.pkcs12.keyMatches, r.pkcs12.certificates], [true, 2]);
    await page.close();
  });
});
