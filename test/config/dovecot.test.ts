/**
 * Dovecot 2.3 serving the store, configured by `mailtls config dovecot`: a private instance (its own base,
 * state and log, four free loopback ports) serves an RSA and an ECDSA domain on IMAP with STARTTLS, IMAPS,
 * POP3 with STLS and POP3S; openssl s_client verifies the right certificate per name on each. A renewal
 * through `mailtls install --deploy-hook 'doveadm reload'` is served by the next handshake. These are the
 * commands of docs/dovecot.md.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mailtlsAsync } from '../cli/helpers.js';
import { needs } from '../helpers/peers.js';
import {
  dovecotBase,
  EC_DOMAIN,
  makeTestStore,
  namesOf,
  RSA_DOMAIN,
  type RunningServer,
  sClient,
  startDovecot,
  type TestStore,
  withFreePorts,
} from './servers.js';

const PORTS = [
  ['imap', 'imap'],
  ['imaps', undefined],
  ['pop3', 'pop3'],
  ['pop3s', undefined],
] as const;

describe(
  'Dovecot serves the store from mailtls config dovecot',
  needs('dovecot', 'doveadm', 'openssl'),
  () => {
    let t: TestStore;
    let server: RunningServer | undefined;
    let conf: string;

    before(async () => {
      t = await makeTestStore('dovecot');
      const base = join(t.dir, 'dovecot');
      mkdirSync(base);
      conf = join(base, 'dovecot.conf');
      const emitted = await mailtlsAsync(['config', 'dovecot', '--store', t.root]);
      assert.equal(emitted.status, 0, emitted.stderr);
      server = await withFreePorts(4, async ([imap, imaps, pop3, pop3s]) => {
        const ports = { imap: imap!, imaps: imaps!, pop3: pop3!, pop3s: pop3s! };
        writeFileSync(conf, dovecotBase(base, ports) + emitted.stdout);
        return startDovecot(base, conf, ports);
      });
    });

    after(async () => {
      await server?.stop();
      t?.cleanup();
    });

    it('serves each name its own certificate on 143 STARTTLS, 993, 110 STLS and 995 (RSA and ECDSA)', async () => {
      for (const domain of [RSA_DOMAIN, EC_DOMAIN]) {
        const want = (await t.store.load(domain)).leaf.fingerprint('sha256');
        for (const name of namesOf(domain))
          for (const [port, starttls] of PORTS) {
            const h = await sClient(server!.ports[port]!, name, t.caFile, starttls);
            assert.ok(h.verified, `${name} on ${port}: ${h.output}`);
            assert.equal(h.fingerprint, want, `${name} on ${port}`);
          }
      }
    });

    it('a renewal is served at once through mailtls install --deploy-hook "doveadm reload"', async () => {
      const before = (await t.store.load(RSA_DOMAIN)).leaf.fingerprint('sha256');
      const r = await t.installWithHook(RSA_DOMAIN, 'rsa', `doveadm -c ${conf} reload`);
      assert.equal(r.status, 0, r.stderr);
      const now = (await t.store.load(RSA_DOMAIN)).leaf.fingerprint('sha256');
      assert.notEqual(now, before);
      for (const [port, starttls] of PORTS) {
        // the default name (no local_name block) and one served by a block
        for (const name of [RSA_DOMAIN, `imap.${RSA_DOMAIN}`]) {
          const h = await sClient(server!.ports[port]!, name, t.caFile, starttls);
          assert.ok(h.verified, h.output);
          assert.equal(h.fingerprint, now, `${name} on ${port} after the hook`);
        }
      }
    });
  },
);
