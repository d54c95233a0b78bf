/**
 * Postfix 3.7 serving the store, configured by `mailtls config postfix`: a private instance (its own config,
 * queue and data directories, a free loopback port) serves an RSA and an ECDSA domain, and openssl s_client
 * verifies the right certificate per name over STARTTLS. A renewal installed without the hook is not served
 * (the SNI table holds a copy of the old files); `mailtls install --deploy-hook` rebuilds the table and
 * reloads Postfix, and the next handshake gets the new certificate. These are the commands of
 * docs/postfix.md.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateStore } from '../../src/node/index.js';
import { mailtlsAsync } from '../cli/helpers.js';
import { needs } from '../helpers/peers.js';
import {
  EC_DOMAIN,
  makeTestStore,
  namesOf,
  postfixBase,
  RSA_DOMAIN,
  type RunningServer,
  run,
  sClient,
  startPostfix,
  type TestStore,
  withFreePorts,
  writePostfixConfig,
} from './servers.js';

describe(
  'Postfix serves the store from mailtls config postfix',
  needs('postfix', 'postmap', 'openssl'),
  () => {
    let t: TestStore;
    let server: RunningServer | undefined;
    let conf: string;
    let sniMap: string;

    before(async () => {
      t = await makeTestStore('postfix');
      const base = join(t.dir, 'postfix');
      mkdirSync(base);
      conf = join(base, 'conf');
      sniMap = join(conf, 'mailtls-sni');
      mkdirSync(conf);
      // docs/postfix.md: write the TLS settings and the SNI table, build the table with the files' contents.
      const emitted = await mailtlsAsync([
        'config',
        'postfix',
        '--store',
        t.root,
        '--sni-map',
        sniMap,
        '--write-maps',
      ]);
      assert.equal(emitted.status, 0, emitted.stderr);
      server = await withFreePorts(1, async ([port]) => {
        writePostfixConfig(base, postfixBase(base) + emitted.stdout, port!);
        const postmap = await run('postmap', ['-c', conf, '-F', `hash:${sniMap}`]);
        assert.equal(postmap.code, 0, postmap.err);
        return startPostfix(base, port!);
      });
    });

    after(async () => {
      await server?.stop();
      t?.cleanup();
    });

    it('serves each name its own certificate, chain and name verified (RSA and ECDSA)', async () => {
      for (const domain of [RSA_DOMAIN, EC_DOMAIN]) {
        const want = (await t.store.load(domain)).leaf.fingerprint('sha256');
        for (const name of namesOf(domain)) {
          const h = await sClient(server!.ports.smtp!, name, t.caFile, 'smtp');
          assert.ok(h.verified, `${name}: ${h.output}`);
          assert.equal(h.fingerprint, want, name);
        }
      }
    });

    it('a renewal is served at once through mailtls install --deploy-hook (and not without it)', async () => {
      const port = server!.ports.smtp!;
      const name = `mail.${EC_DOMAIN}`;
      const before = (await t.store.load(EC_DOMAIN)).leaf.fingerprint('sha256');
      // Without the hook: the pair in the store changes, Postfix's SNI table still holds the old one.
      const quiet = new CertificateStore(t.root, { trust: [t.ca.root.certPEM], deployHooks: false });
      const silent = await t.issue(EC_DOMAIN, 'ec', { replace: true, store: quiet });
      assert.deepEqual(silent.deployHooks, []);
      assert.notEqual(silent.leaf.fingerprint('sha256'), before);
      const stale = await sClient(port, name, t.caFile, 'smtp');
      assert.equal(stale.fingerprint, before, 'without the hook Postfix keeps the copy in its SNI table');

      // With the hook, as docs/postfix.md installs a renewal.
      const hook = `postmap -c ${conf} -F hash:${sniMap} && postfix -c ${conf} reload && echo "$MAILTLS_DOMAIN $MAILTLS_NEW_FINGERPRINT" > ${join(t.dir, 'hook.out')}`;
      const r = await t.installWithHook(EC_DOMAIN, 'ec', hook);
      assert.equal(r.status, 0, r.stderr);
      const now = (await t.store.load(EC_DOMAIN)).leaf.fingerprint('sha256');
      assert.equal(readFileSync(join(t.dir, 'hook.out'), 'utf8'), `${EC_DOMAIN} ${now}\n`);
      const fresh = await sClient(port, name, t.caFile, 'smtp');
      assert.ok(fresh.verified, fresh.output);
      assert.equal(fresh.fingerprint, now, 'the first handshake after the install gets the new certificate');
      // The hook is kept for the next renewal.
      const kept = await mailtlsAsync(['config', 'hooks', '--store', t.root, '--json']);
      assert.deepEqual(kept.json, { deployHooks: [hook] });
      // The other domain is untouched.
      const other = await sClient(port, `mail.${RSA_DOMAIN}`, t.caFile, 'smtp');
      assert.equal(other.fingerprint, (await t.store.load(RSA_DOMAIN)).leaf.fingerprint('sha256'));
    });
  },
);
