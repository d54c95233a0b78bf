/**
 * Rate limits, against a real Pebble behind a small HTTPS relay started by this file: the relay passes every
 * request through unchanged (Pebble builds its URLs from the Host header, so the client only ever sees the
 * relay) except the new-order requests it is told to refuse, which get `429` with an RFC 8555 `rateLimited`
 * problem and a `Retry-After` header. A short `Retry-After` is waited out and the order completes; a long one
 * ends the attempt with `ERR_ACME_RATE_LIMITED`, its time in `details.retryAfter` and in the stored back-off,
 * and the certificate in service unchanged. Also: a damaged next key refuses the switch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMailTlsError } from '../../../src/index.js';
import {
  type AcmeAccount,
  createTlsAlpnResponder,
  loadAcmeState,
  nextKeyPath,
  obtainCertificate,
  registerAcmeAccount,
} from '../../../src/node/acme/index.js';
import { CertificateStore } from '../../../src/node/index.js';
import { needs } from '../../helpers/peers.js';
import { type Pebble, startPebble } from './pebble.js';

describe('ACME faults against Pebble behind a relay', needs('pebble', 'pebble-challtestsrv'), () => {
  let pebble: Pebble;
  let dir: string;
  let store: CertificateStore;
  let relay: https.Server;
  let relayUrl: string;
  let account: AcmeAccount;
  let tlsServer: net.Server;
  const tlsAlpn = createTlsAlpnResponder();
  /** Retry-After values (seconds) for the next new-order requests. */
  const refuse: number[] = [];
  let refused = 0;

  before(async () => {
    pebble = await startPebble();
    dir = mkdtempSync(join(tmpdir(), 'mailtls-acme-faults-'));
    store = new CertificateStore(join(dir, 'store'), { trust: [await pebble.root()] });
    const target = new URL(pebble.directoryUrl);
    relay = https.createServer(
      { key: readFileSync(join(pebble.dir, 'pk.key')), cert: pebble.directoryCA },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.url === '/order-plz' && refuse.length > 0) {
            refused++;
            res.writeHead(429, {
              'content-type': 'application/problem+json',
              'retry-after': String(refuse.shift()),
            });
            res.end(
              JSON.stringify({
                type: 'urn:ietf:params:acme:error:rateLimited',
                detail: 'too many new orders',
                status: 429,
              }),
            );
            return;
          }
          const up = https.request(
            {
              host: target.hostname,
              port: target.port,
              path: req.url,
              method: req.method,
              headers: req.headers,
              ca: pebble.directoryCA,
            },
            (r) => {
              res.writeHead(r.statusCode ?? 502, r.headers);
              r.pipe(res);
            },
          );
          up.on('error', () => res.destroy());
          up.end(Buffer.concat(chunks));
        });
      },
    );
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    relayUrl = `https://127.0.0.1:${(relay.address() as net.AddressInfo).port}/dir`;
    account = await registerAcmeAccount({
      store,
      directoryUrl: relayUrl,
      directoryCA: pebble.directoryCA,
      agreeToTerms: true,
    });
    tlsServer = tlsAlpn.createServer();
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => tlsServer.listen(pebble.tlsPort, '127.0.0.1', () => r()));
  });
  after(async () => {
    await new Promise<void>((r) => (tlsServer ? tlsServer.close(() => r()) : r()));
    relay?.closeAllConnections();
    await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const order = (extra: Partial<Parameters<typeof obtainCertificate>[0]> = {}) =>
    obtainCertificate({
      account,
      store,
      domain: 'rate.example.test',
      challenge: 'tls-alpn-01',
      tlsAlpn,
      preflight: false,
      ...extra,
    });

  it('waits out a short Retry-After and completes the order', async () => {
    refuse.push(1);
    const t0 = Date.now();
    const r = await order();
    assert.equal(refused, 1);
    assert.ok(Date.now() - t0 >= 1000, 'the Retry-After second was honoured');
    assert.equal(r.domain, 'rate.example.test');
  });

  it('a Retry-After beyond the longest wait is ERR_ACME_RATE_LIMITED, stored as the back-off; nothing changes', async () => {
    const version = await store.version('rate.example.test');
    refuse.push(3600);
    const before = Date.now();
    await assert.rejects(order(), (e: unknown) => {
      assert.ok(isMailTlsError(e, 'ERR_ACME_RATE_LIMITED'), String(e));
      const at = Date.parse(String(e.details.retryAfter));
      assert.ok(at >= before + 3_599_000 && at <= Date.now() + 3_600_000, String(e.details.retryAfter));
      assert.match(e.message, /too many new orders/);
      return true;
    });
    assert.equal(await store.version('rate.example.test'), version);
    const state = await loadAcmeState(store, 'rate.example.test');
    assert.equal(state?.lastError?.code, 'ERR_ACME_RATE_LIMITED');
    assert.ok(
      Date.parse(state!.nextAttemptAt!) >= before + 3_599_000,
      'the back-off is at least the Retry-After',
    );
  });

  it('next-published: a damaged next key is never switched to (ERR_ACME_KEY_ROLLOVER)', async () => {
    const base = { keyRollover: 'next-published' as const, nextKeyPublishedForMs: 1000 };
    await order(base); // key in service kept, the next key made
    writeFileSync(nextKeyPath(store, 'rate.example.test'), 'not a key\n', { mode: 0o600 });
    const version = await store.version('rate.example.test');
    await assert.rejects(order({ ...base, at: new Date(Date.now() + 60_000) }), (e: unknown) =>
      isMailTlsError(e, 'ERR_ACME_KEY_ROLLOVER'),
    );
    assert.equal(await store.version('rate.example.test'), version);
  });
});
