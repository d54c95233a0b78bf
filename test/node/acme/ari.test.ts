/**
 * ACME Renewal Information (RFC 9773) and ACME profiles (draft-ietf-acme-profiles) against a real Pebble.
 * Pebble 2.4 (Debian) implements neither, so the tests talk to it through a front (acme-front.ts): a real
 * HTTPS server that passes every request on to Pebble and adds `renewalInfo` and `meta.profiles` to the
 * directory, answers renewal information for the certificates Pebble issued (their CertID computed with
 * pkijs), and reads every newOrder payload. The CertID itself is checked against RFC 9773's own example.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { isMailTlsError, parseCertificate } from '../../../src/index.js';
import {
  type AcmeAccount,
  acmeProfiles,
  acmeRenewalStatus,
  ariCertId,
  createAcmeManager,
  createTlsAlpnResponder,
  fetchRenewalInfo,
  loadAcmeState,
  type ObtainResult,
  obtainCertificate,
  registerAcmeAccount,
  renewDue,
} from '../../../src/node/acme/index.js';
import { CertificateStore } from '../../../src/node/index.js';
import { needs } from '../../helpers/peers.js';
import { type AcmeFront, startAcmeFront } from './acme-front.js';
import { type Pebble, startPebble } from './pebble.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('RFC 9773 CertID', () => {
  it('is the example of RFC 9773 section 4.1 for its AKI and serial 0x87654321 (leading zero kept)', async () => {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const make = (serialNumber: string) =>
      x509.X509CertificateGenerator.createSelfSigned({
        serialNumber,
        name: 'CN=ari.example',
        keys,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.AuthorityKeyIdentifierExtension('69885b6b87464041e1b37b847ba0ae2cde01c8d4')],
      });
    const cert = parseCertificate((await make('87654321')).toString('pem'));
    assert.equal(ariCertId(cert), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    // A serial whose first bit is clear has no leading zero byte.
    const low = parseCertificate((await make('01020304')).toString('pem'));
    assert.equal(
      ariCertId(low),
      `aYhba4dGQEHhs3uEe6CuLN4ByNQ.${Buffer.from([1, 2, 3, 4]).toString('base64url')}`,
    );
    assert.throws(
      () => ariCertId({ serialNumber: '01' }),
      (e: unknown) => isMailTlsError(e, 'ERR_ACME_RENEWAL_INFO'),
    );
  });
});

describe('ARI and profiles through a front of Pebble', needs('pebble', 'pebble-challtestsrv'), () => {
  let pebble: Pebble;
  let front: AcmeFront;
  let dir: string;
  let store: CertificateStore;
  let account: AcmeAccount;
  let tlsServer: net.Server;
  const tlsAlpn = createTlsAlpnResponder();
  const preflight = () => ({ servers: [pebble.dnsServer], lanOnly: true });
  const domain = 'ari.example.test';
  const issue = (extra: Partial<Parameters<typeof obtainCertificate>[0]> = {}) =>
    obtainCertificate({
      account,
      store,
      domain,
      names: ['mail.ari.example.test'],
      challenge: 'tls-alpn-01',
      tlsAlpn,
      preflight: preflight(),
      ...extra,
    });
  const currentCertId = async (): Promise<string> => {
    const pem = (await store.load(domain)).leaf;
    const seen = front.issued.find((c) => parseCertificate(c.pem).serialNumber === pem.serialNumber);
    assert.ok(seen, 'the front saw the certificate in service being issued');
    return seen.certId;
  };

  before(async () => {
    pebble = await startPebble();
    front = await startAcmeFront(pebble, {
      profiles: { classic: 'the default profile', shortlived: 'https://ca.example/docs/shortlived' },
    });
    dir = mkdtempSync(join(tmpdir(), 'mailtls-ari-'));
    store = new CertificateStore(join(dir, 'store'), { trust: [await pebble.root()] });
    account = await registerAcmeAccount({
      store,
      directoryUrl: front.directoryUrl,
      directoryCA: pebble.directoryCA,
      agreeToTerms: true,
    });
    tlsServer = tlsAlpn.createServer();
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(pebble.tlsPort, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
    await front?.close();
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the profiles the directory offers', async () => {
    assert.deepEqual(Object.keys(await acmeProfiles(account)).sort(), ['classic', 'shortlived']);
  });

  it('refuses a profile the CA does not offer, naming the offered ones, before any order', async () => {
    const ordersBefore = front.orders.length;
    await assert.rejects(issue({ profile: 'tlsserver' }), (e: unknown) => {
      assert.ok(isMailTlsError(e, 'ERR_ACME_PROFILE'), String(e));
      assert.deepEqual([...(e.details.offered ?? [])].sort(), ['classic', 'shortlived']);
      assert.match(e.message, /classic, shortlived|shortlived, classic/);
      return true;
    });
    assert.equal(front.orders.length, ordersBefore, 'no newOrder was sent');
  });

  it('orders with the chosen profile, keeps it in the state; the first order names nothing in replaces', async () => {
    const r = await issue({ profile: 'shortlived' });
    assert.equal(r.profile, 'shortlived');
    assert.equal(r.replaces, undefined);
    const order = front.orders.at(-1)!;
    assert.equal(order.profile, 'shortlived');
    assert.equal(order.replaces, undefined);
    assert.equal((await loadAcmeState(store, domain))?.profile, 'shortlived');
  });

  it('a future window from the CA: not due, the time drawn inside it, not asked again before Retry-After', async () => {
    const certId = await currentCertId();
    const now = new Date();
    const start = new Date(now.getTime() + 10 * DAY);
    const end = new Date(now.getTime() + 12 * DAY);
    front.setWindow(certId, { start, end, retryAfter: 3600, explanationURL: 'https://ca.example/why' });
    const asked = front.renewalInfoRequests.length;
    const s = await acmeRenewalStatus(store, domain, { account, at: now });
    assert.equal(s.source, 'ari', s.note);
    assert.equal(s.due, false);
    assert.equal(s.reason, 'not-due');
    assert.equal(s.window?.start.getTime(), start.getTime());
    assert.equal(s.window?.end.getTime(), end.getTime());
    assert.ok(s.renewAt!.getTime() >= start.getTime() && s.renewAt!.getTime() <= end.getTime());
    assert.equal(s.explanationUrl, 'https://ca.example/why');
    assert.equal(s.renewalInfoCheckAt?.getTime(), now.getTime() + 3600_000);
    assert.deepEqual(front.renewalInfoRequests.slice(asked), [certId], 'asked once, by its CertID');
    // Within Retry-After: the stored window decides, the CA is not asked.
    const again = await acmeRenewalStatus(store, domain, {
      account,
      at: new Date(now.getTime() + 30 * 60_000),
    });
    assert.equal(front.renewalInfoRequests.length, asked + 1);
    assert.equal(again.renewAt?.getTime(), s.renewAt?.getTime());
    // After it, asked again; the same window keeps the time drawn.
    const later = await acmeRenewalStatus(store, domain, { account, at: new Date(now.getTime() + 2 * HOUR) });
    assert.equal(front.renewalInfoRequests.length, asked + 2);
    assert.equal(later.renewAt?.getTime(), s.renewAt?.getTime());
  });

  it('a Retry-After under a minute is taken as a minute', async () => {
    const certId = await currentCertId();
    const now = new Date(Date.now() + 3 * HOUR);
    front.setWindow(certId, {
      start: new Date(now.getTime() + DAY),
      end: new Date(now.getTime() + 2 * DAY),
      retryAfter: 1,
    });
    const s = await acmeRenewalStatus(store, domain, { account, at: now });
    assert.equal(s.renewalInfoCheckAt?.getTime(), now.getTime() + 60_000);
  });

  it('a window in the past makes renewal due now; the renewal names the certificate in replaces and keeps the profile', async () => {
    const certId = await currentCertId();
    const now = new Date(Date.now() + 4 * HOUR);
    front.setWindow(certId, {
      start: new Date(now.getTime() - 2 * DAY),
      end: new Date(now.getTime() - DAY),
      retryAfter: 60,
    });
    const s = await acmeRenewalStatus(store, domain, { account, at: now });
    assert.equal(s.source, 'ari');
    assert.equal(s.due, true);
    assert.ok(s.renewAt!.getTime() < now.getTime());
    const [outcome] = await renewDue({
      store,
      account,
      tlsAlpn,
      at: now,
      obtain: { preflight: preflight() },
    });
    assert.equal(outcome?.error, undefined, outcome?.error?.message);
    assert.equal(outcome?.result?.replaces, certId);
    const order = front.orders.at(-1)!;
    assert.equal(order.replaces, certId);
    assert.equal(order.profile, 'shortlived', 'the stored profile is asked for again');
    assert.notEqual(await currentCertId(), certId, 'a new certificate is in service');
  });

  it('a certificate already replaced: the order is made again without replaces', async () => {
    const certId = await currentCertId();
    front.markReplaced(certId);
    const ordersBefore = front.orders.length;
    const r = await issue();
    assert.equal(r.replaces, undefined);
    const sent = front.orders.slice(ordersBefore);
    assert.deepEqual(
      sent.map((o) => o.replaces),
      [certId, undefined],
      'first with replaces (refused: alreadyReplaced), then without',
    );
  });

  it('falls back to the lifetime rule, and says why, when the CA answers an error or a malformed window', async () => {
    const certId = await currentCertId();
    front.setWindow(certId, { start: new Date(), end: new Date(), status: 500, body: '{"detail":"down"}' });
    const failed = await acmeRenewalStatus(store, domain, { account });
    assert.equal(failed.source, 'lifetime');
    assert.match(failed.note ?? '', /ERR_ACME_RENEWAL_INFO.*HTTP 500.*lifetime rule/s);
    const leaf = (await store.load(domain)).leaf;
    // The lifetime rule: a third of the lifetime left, minus a jitter of at most a tenth of that margin.
    const margin = (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 3;
    const rule = leaf.notAfter.getTime() - margin;
    assert.ok(Math.abs(failed.window!.end.getTime() - rule) < 1000);
    assert.ok(failed.renewAt!.getTime() <= failed.window!.end.getTime());
    assert.ok(failed.renewAt!.getTime() >= failed.window!.start.getTime());
    front.setWindow(certId, { start: new Date(Date.now() + DAY), end: new Date(Date.now() - DAY) });
    const malformed = await acmeRenewalStatus(store, domain, { account });
    assert.equal(malformed.source, 'lifetime');
    assert.match(malformed.note ?? '', /ends .* before it starts/);
    await assert.rejects(fetchRenewalInfo(account, leaf), (e: unknown) =>
      isMailTlsError(e, 'ERR_ACME_RENEWAL_INFO'),
    );
  });

  it('a CA without renewal information: the lifetime rule, and status says the CA offers none', async () => {
    const plain = new CertificateStore(join(dir, 'plain'), { trust: [await pebble.root()] });
    const direct = await registerAcmeAccount({
      store: plain,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
      agreeToTerms: true,
    });
    await assert.rejects(
      obtainCertificate({
        account: direct,
        store: plain,
        domain: 'plain.example.test',
        challenge: 'tls-alpn-01',
        tlsAlpn,
        preflight: preflight(),
        profile: 'shortlived',
      }),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_ACME_PROFILE') && /offers no ACME profiles/.test((e as Error).message),
    );
    const r = await obtainCertificate({
      account: direct,
      store: plain,
      domain: 'plain.example.test',
      challenge: 'tls-alpn-01',
      tlsAlpn,
      preflight: preflight(),
      profile: null,
    });
    assert.equal(r.replaces, undefined);
    const s = await acmeRenewalStatus(plain, 'plain.example.test', { account: direct });
    assert.equal(s.source, 'lifetime');
    assert.match(s.note ?? '', /offers no renewal information/);
  });

  it('the manager checks again at the time drawn in the window, long before its interval, and renews with the domain’s profile', {
    timeout: 120_000,
  }, async () => {
    const certId = await currentCertId();
    const start = new Date(Date.now() + 5000);
    front.setWindow(certId, { start, end: new Date(start.getTime() + 1000), retryAfter: 3600 });
    const manager = createAcmeManager({
      store,
      account,
      tlsAlpn,
      domains: [{ domain, names: ['mail.ari.example.test'], profile: 'classic' }],
      checkIntervalMs: DAY,
      obtain: { preflight: preflight() },
    });
    const renewed = new Promise<ObtainResult>((resolve) => manager.once('renewed', resolve));
    try {
      const [first] = await manager.start();
      assert.equal(first?.action, 'not-due');
      assert.equal(first?.status.source, 'ari');
      const r = await renewed;
      assert.equal(r.replaces, certId);
      assert.ok(Date.now() >= start.getTime(), 'not before the window');
      assert.equal(front.orders.at(-1)?.profile, 'classic', 'the domain’s profile');
      assert.equal((await loadAcmeState(store, domain))?.profile, 'classic');
    } finally {
      await manager.stop();
    }
  });
});
