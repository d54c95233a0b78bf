/**
 * `mailtls config postfix|dovecot|haraka|hooks` against a real store: the paths printed are the store's,
 * --domain and --default choose what is served, bad values are usage errors, Haraka's combined files are
 * written 0600 with the key first.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCertificate } from '../../src/index.js';
import { EC_DOMAIN, makeTestStore, RSA_DOMAIN, type TestStore } from '../config/servers.js';
import { mailtlsAsync } from './helpers.js';

describe('mailtls config', () => {
  let t: TestStore;
  before(async () => {
    t = await makeTestStore('cli-config');
  });
  after(() => t?.cleanup());

  it('postfix: the default pair key first, the SNI table written with --write-maps', async () => {
    const sni = join(t.dir, 'sni');
    const r = await mailtlsAsync(['config', 'postfix', '--store', t.root, '--sni-map', sni, '--write-maps']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^smtpd_tls_chain_files = ${t.root}/private/${RSA_DOMAIN}\\.key, ${t.root}/certs/${RSA_DOMAIN}\\.crt$`,
        'm',
      ),
    );
    assert.match(r.stdout, new RegExp(`^tls_server_sni_maps = hash:${sni}$`, 'm'));
    assert.match(r.stderr, /now run postmap -F/);
    assert.match(
      readFileSync(sni, 'utf8'),
      new RegExp(
        `^mail\\.${EC_DOMAIN.replace(/\./g, '\\.')} ${t.root}/private/${EC_DOMAIN}\\.key ${t.root}/certs/${EC_DOMAIN}\\.crt$`,
        'm',
      ),
    );
  });

  it('--domain and --default choose the certificates and the default', async () => {
    const r = await mailtlsAsync(['config', 'dovecot', '--store', t.root, '--domain', EC_DOMAIN]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ssl_cert = <${t.root}/certs/${EC_DOMAIN}\\.crt$`, 'm'));
    assert.doesNotMatch(r.stdout, new RegExp(RSA_DOMAIN.replace(/\./g, '\\.')));
    const d = await mailtlsAsync(['config', 'postfix', '--store', t.root, '--default', EC_DOMAIN, '--json']);
    assert.match(
      String(d.json?.mainCf),
      new RegExp(`smtpd_tls_chain_files = ${t.root}/private/${EC_DOMAIN}\\.key`),
    );
  });

  it('bad values are refused with a reason', async () => {
    const bad = await mailtlsAsync(['config', 'postfix', '--store', t.root, '--smtp', 'sometimes']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--smtp must be one of off, offered, required/);
    const missing = await mailtlsAsync([
      'config',
      'dovecot',
      '--store',
      t.root,
      '--domain',
      'c.example.test',
    ]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /ERR_STORE_NOT_FOUND/);
    const secure = await mailtlsAsync(['config', 'postfix', '--store', t.root, '--secure', 'example.net']);
    assert.equal(secure.status, 2);
    assert.match(secure.stderr, /--secure takes NEXTHOP=NAME/);
  });

  it('haraka --tls-dir writes one key+chain file per domain, 0600', async () => {
    const dir = join(t.dir, 'haraka-tls');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const r = await mailtlsAsync(['config', 'haraka', '--store', t.root, '--tls-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^key=${t.root}/private/${RSA_DOMAIN}\\.key$`, 'm'));
    for (const domain of [RSA_DOMAIN, EC_DOMAIN]) {
      const file = join(dir, `${domain}.pem`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /^-----BEGIN PRIVATE KEY-----/);
      const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)![0];
      assert.equal(
        parseCertificate(cert).fingerprint('sha256'),
        (await t.store.load(domain)).leaf.fingerprint('sha256'),
      );
    }
  });

  it('hooks: add, list, remove', async () => {
    assert.equal(
      (await mailtlsAsync(['config', 'hooks', '--store', t.root, '--add', 'doveadm reload'])).status,
      0,
    );
    assert.deepEqual((await mailtlsAsync(['config', 'hooks', '--store', t.root, '--json'])).json, {
      deployHooks: ['doveadm reload'],
    });
    assert.equal(
      (await mailtlsAsync(['config', 'hooks', '--store', t.root, '--remove', 'doveadm reload'])).status,
      0,
    );
    assert.deepEqual((await mailtlsAsync(['config', 'hooks', '--store', t.root, '--json'])).json, {
      deployHooks: [],
    });
  });
});
