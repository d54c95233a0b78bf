/**
 * Dry runs on a staging directory, with two real Pebbles: one as production, one as staging, validating
 * on the same ports (so one tls-alpn-01 responder answers both). Each is reached through a front
 * (acme-front.ts) that records the newOrder requests and the certificates issued, so the tests see which
 * CA was asked for what. A dry run must change nothing in the store: every file and directory (path, mode,
 * bytes) is compared before and after.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMailTlsError, parseCertificate } from '../../../src/index.js';
import {
  type AcmeAccount,
  createTlsAlpnResponder,
  dryRunCertificate,
  loadAcmeState,
  obtainCertificate,
  registerAcmeAccount,
  renewDue,
  type StagingDirectory,
} from '../../../src/node/acme/index.js';
import { CertificateStore } from '../../../src/node/index.js';
import { needs } from '../../helpers/peers.js';
import { type AcmeFront, startAcmeFront } from './acme-front.js';
import { type Pebble, startPebble } from './pebble.js';
import { snapshot } from './store-snapshot.js';

describe('dry runs on a staging directory (two Pebbles)', needs('pebble', 'pebble-challtestsrv'), () => {
  let production: Pebble;
  let stagingCA: Pebble;
  let prodFront: AcmeFront;
  let stagingFront: AcmeFront;
  let dir: string;
  let store: CertificateStore;
  let account: AcmeAccount;
  let tlsServer: net.Server;
  let staging: StagingDirectory;
  const tlsAlpn = createTlsAlpnResponder();
  const preflight = () => ({ servers: [production.dnsServer], lanOnly: true });
  const domain = 'staging.example.test';

  before(async () => {
    production = await startPebble();
    stagingCA = await startPebble({
      validationPorts: { httpPort: production.httpPort, tlsPort: production.tlsPort },
    });
    prodFront = await startAcmeFront(production);
    stagingFront = await startAcmeFront(stagingCA, { renewalInfo: false });
    staging = { url: stagingFront.directoryUrl, directoryCA: stagingCA.directoryCA, agreeToTerms: true };
    dir = mkdtempSync(join(tmpdir(), 'mailtls-staging-'));
    store = new CertificateStore(join(dir, 'store'), { trust: [await production.root()] });
    account = await registerAcmeAccount({
      store,
      directoryUrl: prodFront.directoryUrl,
      directoryCA: production.directoryCA,
      agreeToTerms: true,
    });
    tlsServer = tlsAlpn.createServer();
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(production.tlsPort, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
    await prodFront?.close();
    await stagingFront?.close();
    await stagingCA?.stop();
    await production?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('orders at staging first, discards that certificate, then installs production’s', async () => {
    const r = await obtainCertificate({
      account,
      store,
      domain,
      names: ['mail.staging.example.test'],
      challenge: 'tls-alpn-01',
      tlsAlpn,
      preflight: preflight(),
      stagingDirectory: staging,
    });
    assert.ok(r.staging, 'the result reports the staging order');
    assert.equal(r.staging.directoryUrl, stagingFront.directoryUrl);
    assert.deepEqual(r.staging.names, ['staging.example.test', 'mail.staging.example.test']);
    assert.equal(stagingFront.orders.length, 1);
    assert.equal(prodFront.orders.length, 1);
    const stagingSerials = stagingFront.issued.map((c) => parseCertificate(c.pem).serialNumber);
    const prodSerials = prodFront.issued.map((c) => parseCertificate(c.pem).serialNumber);
    assert.deepEqual(stagingSerials, [r.staging.serialNumber]);
    assert.deepEqual(prodSerials, [r.install.leaf.serialNumber], 'the installed certificate is production’s');
    assert.equal(stagingFront.deactivated.length, 1, 'the throwaway staging account is deactivated');
    assert.equal(prodFront.deactivated.length, 0, 'the production account stays');
  });

  it('a staging CA that is not reached stops before production: nothing ordered, the certificate unchanged', async () => {
    const version = await store.version(domain);
    const ordersBefore = prodFront.orders.length;
    await assert.rejects(
      obtainCertificate({
        account,
        store,
        domain,
        names: ['mail.staging.example.test'],
        challenge: 'tls-alpn-01',
        tlsAlpn,
        preflight: preflight(),
        stagingDirectory: { url: 'https://127.0.0.1:1/dir', directoryCA: stagingCA.directoryCA },
      }),
      (e: unknown) => {
        assert.ok(isMailTlsError(e, 'ERR_ACME_UNAVAILABLE'), String(e));
        assert.equal(e.details.staging, 'https://127.0.0.1:1/dir');
        assert.match(e.message, /dry run at the staging directory .* nothing was ordered from/);
        return true;
      },
    );
    assert.equal(prodFront.orders.length, ordersBefore);
    assert.equal(await store.version(domain), version);
    assert.equal((await loadAcmeState(store, domain))?.failures, 1, 'the failed attempt is recorded');
  });

  it('the staging terms must be agreed to explicitly', async () => {
    await assert.rejects(
      dryRunCertificate({
        store,
        domain,
        challenge: 'tls-alpn-01',
        tlsAlpn,
        preflight: preflight(),
        stagingDirectory: { url: stagingFront.directoryUrl, directoryCA: stagingCA.directoryCA },
      }),
      (e: unknown) => isMailTlsError(e, 'ERR_ACME_TERMS') && e.details.staging === stagingFront.directoryUrl,
    );
  });

  it('dryRunCertificate: a complete order at staging, and the store is byte-identical afterwards', async () => {
    const before = snapshot(store.root);
    const stagingOrders = stagingFront.orders.length;
    const prodOrders = prodFront.orders.length;
    const deactivated = stagingFront.deactivated.length;
    for (const d of [domain, 'new.staging.example.test']) {
      const r = await dryRunCertificate({
        store,
        domain: d,
        names: [`mail.${d}`],
        challenge: 'tls-alpn-01',
        tlsAlpn,
        preflight: preflight(),
        stagingDirectory: staging,
      });
      assert.equal(r.directoryUrl, stagingFront.directoryUrl);
      assert.deepEqual(r.names, [d, `mail.${d}`]);
    }
    assert.equal(stagingFront.orders.length, stagingOrders + 2);
    assert.equal(prodFront.orders.length, prodOrders, 'production was not asked');
    assert.equal(stagingFront.deactivated.length, deactivated + 2, 'each throwaway account is deactivated');
    assert.equal(new Set(stagingFront.deactivated).size, stagingFront.deactivated.length, 'one account each');
    assert.deepEqual(snapshot(store.root), before);
  });

  it('renewDue with dryRun orders every domain at staging, due or not, and changes nothing', async () => {
    // A renewal window the status would store, were it allowed to write.
    const certId = prodFront.issued.at(-1)!.certId;
    prodFront.setWindow(certId, {
      start: new Date(Date.now() + 86_400_000),
      end: new Date(Date.now() + 2 * 86_400_000),
      retryAfter: 3600,
    });
    const before = snapshot(store.root);
    const stagingOrders = stagingFront.orders.length;
    const prodOrders = prodFront.orders.length;
    const outcomes = await renewDue({
      store,
      account,
      tlsAlpn,
      dryRun: true,
      stagingDirectory: staging,
      obtain: { preflight: preflight() },
    });
    assert.equal(outcomes.length, 1);
    const [o] = outcomes;
    assert.equal(o?.error, undefined, o?.error?.message);
    assert.equal(o?.status.due, false);
    assert.equal(o?.status.source, 'ari', 'the window was read');
    assert.equal(o?.result, undefined);
    assert.equal(o?.dryRun?.directoryUrl, stagingFront.directoryUrl);
    assert.equal(stagingFront.orders.length, stagingOrders + 1);
    assert.equal(prodFront.orders.length, prodOrders);
    assert.deepEqual(snapshot(store.root), before);
    await assert.rejects(renewDue({ store, account, tlsAlpn, dryRun: true }), TypeError);
  });
});
