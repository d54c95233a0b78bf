/**
 * The ACME manager against a real Pebble: it issues what is missing into the store and registers it in the
 * SNI registry its TLS port serves (tls-alpn-01 answered on that same port); a forced renewal is served
 * without a restart while a client loop keeps handshaking and verifying against Pebble's root, with zero
 * failed handshakes; two managers on one store: the one that finds the domain's lock held skips the round,
 * and serves the other's certificate at its next check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createSelfSignedCertificate, encodePrivateKeyPEM } from '../../../src/index.js';
import {
  type AcmeAccount,
  createAcmeManager,
  createTlsAlpnResponder,
  registerAcmeAccount,
} from '../../../src/node/acme/index.js';
import {
  acquireLock,
  CertificateStore,
  createSNIRegistry,
  type SNIRegistry,
} from '../../../src/node/index.js';
import { needs } from '../../helpers/peers.js';
import { type Pebble, startPebble } from './pebble.js';

/** One verified handshake: answers the served leaf's fingerprint. */
function handshake(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

describe('createAcmeManager against Pebble', needs('pebble', 'pebble-challtestsrv'), () => {
  let pebble: Pebble;
  let dir: string;
  let root: string;
  let store: CertificateStore;
  let registry: SNIRegistry;
  let account: AcmeAccount;
  let server: net.Server;
  const tlsAlpn = createTlsAlpnResponder();
  const domains = [{ domain: 'mgr.example.test', names: ['mail.mgr.example.test'] }];

  before(async () => {
    pebble = await startPebble();
    dir = mkdtempSync(join(tmpdir(), 'mailtls-acme-mgr-'));
    root = await pebble.root();
    store = new CertificateStore(join(dir, 'store'), { trust: [root] });
    account = await registerAcmeAccount({
      store,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
      agreeToTerms: true,
      email: 'postmaster@example.test',
    });
    const placeholder = await createSelfSignedCertificate({
      commonName: 'placeholder.invalid',
      keyType: 'ec',
      days: 2,
      at: new Date(),
    });
    registry = createSNIRegistry({
      key: await encodePrivateKeyPEM(placeholder.key),
      cert: placeholder.certPEM,
    });
    server = tlsAlpn.createServer(registry, { ALPNProtocols: ['http/1.1'] }, (s) => s.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(pebble.tlsPort, '127.0.0.1', () => resolve());
    });
  });
  after(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('issues what is missing and serves it; renews while clients keep connecting, with no failed handshake', async () => {
    const manager = createAcmeManager({
      store,
      account,
      registry,
      tlsAlpn,
      domains,
      obtain: { preflight: false },
    });
    const issued: string[] = [];
    manager.on('issued', (r) => issued.push(r.domain));
    const first = await manager.start();
    await manager.stop();
    assert.deepEqual(
      first.map((o) => [o.domain, o.action]),
      [['mgr.example.test', 'issued']],
    );
    assert.deepEqual(issued, ['mgr.example.test']);
    const servedBefore = await handshake(pebble.tlsPort, 'mail.mgr.example.test', root);
    assert.equal(servedBefore, (await store.load('mgr.example.test')).leaf.fingerprint('sha256'));

    // A client loop runs through the renewal; every handshake must verify.
    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    const seen = new Set<string>();
    const loop = (async () => {
      while (!stop) {
        try {
          seen.add(await handshake(pebble.tlsPort, 'mail.mgr.example.test', root));
          ok++;
        } catch (e) {
          failures.push(e);
        }
      }
    })();
    const renewed: string[] = [];
    manager.on('renewed', (r) => renewed.push(r.install.version));
    const outcomes = await manager.check({ force: true });
    // Keep the loop going until it has seen the new certificate at least once.
    const newFp = (await store.load('mgr.example.test')).leaf.fingerprint('sha256');
    while (!seen.has(newFp) && failures.length === 0) await new Promise((r) => setImmediate(r));
    stop = true;
    await loop;
    assert.equal(outcomes[0]?.action, 'renewed');
    assert.equal(renewed.length, 1);
    assert.deepEqual(failures, []);
    assert.ok(ok > 1);
    assert.ok(seen.has(servedBefore), 'the loop ran while the old certificate was served');
    assert.notEqual(newFp, servedBefore);
  });

  it('two managers on one store: the one that finds the lock held skips, then serves the other’s certificate', async () => {
    const otherRegistry = createSNIRegistry(registry.defaultCredential);
    const other = createAcmeManager({
      store,
      account,
      registry: otherRegistry,
      tlsAlpn,
      domains,
      obtain: { preflight: false },
    });
    await other.check(); // serves the current version
    const versionBefore = await store.version('mgr.example.test');
    // Another process is ordering: its lock is held.
    const lock = await acquireLock(join(store.root, 'locks', 'mgr.example.test.acme.lock'));
    const skipped: string[] = [];
    other.on('skipped', (d) => skipped.push(d));
    const blocked = await other.check({ force: true });
    await lock.release();
    assert.deepEqual(
      blocked.map((o) => o.action),
      ['skipped'],
    );
    assert.deepEqual(skipped, ['mgr.example.test']);
    assert.equal(await store.version('mgr.example.test'), versionBefore);
    // The first manager renews; the other serves that version at its next check without ordering.
    const first = createAcmeManager({
      store,
      account,
      registry,
      tlsAlpn,
      domains,
      obtain: { preflight: false },
    });
    await first.check();
    await first.check({ force: true });
    const served: string[] = [];
    other.on('served', (_d, v) => served.push(v));
    const next = await other.check();
    assert.deepEqual(
      next.map((o) => o.action),
      ['served'],
    );
    assert.deepEqual(served, [await store.version('mgr.example.test')]);
    const leaf = (await store.load('mgr.example.test')).leaf.fingerprint('sha256');
    const { context } = await otherRegistry.resolve('mail.mgr.example.test');
    assert.ok(context);
    assert.equal(otherRegistry.summaryOf('mail.mgr.example.test')?.fingerprint256, leaf);
  });
});
