// CertificateStore.remove(domain, { keepHistory: true }) takes a domain out of service and keeps its versions;
// rollback() puts it back from the newest (or a named) version.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateStore } from '../../src/node/index.js';
import { AT, issueLeaf, scratch, type TestCA, testCA } from './helpers/store-fixtures.js';

const DOMAIN = 'example.com';
const NAMES = ['example.com', 'mail.example.com'];

describe('CertificateStore.remove keepHistory and rollback of a removed domain', () => {
  let ca: TestCA;
  const dirs: { cleanup(): void }[] = [];
  before(async () => {
    ca = await testCA();
  });
  after(() => {
    for (const d of dirs) d.cleanup();
  });
  function newStore(): CertificateStore {
    const d = scratch();
    dirs.push(d);
    return new CertificateStore(join(d.path, 'tls'), { at: AT });
  }

  it('keeps the versions out of service; rollback puts the newest (or the one named) back', async () => {
    const store = newStore();
    const a = await issueLeaf(NAMES);
    const b = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM, caBundle: ca.bundlePEM });
    const second = await store.install({ cert: b.chainPEM, key: b.keyPEM, caBundle: ca.bundlePEM });
    const ids = (await store.versions(DOMAIN)).map((v) => v.id);
    assert.equal(ids.length, 2);

    await store.remove(DOMAIN, { keepHistory: true });
    await assert.rejects(store.load(DOMAIN), { code: 'ERR_STORE_NOT_FOUND' });
    assert.deepEqual(await store.list(), []);
    assert.ok(!existsSync(store.paths(DOMAIN).cert) && !existsSync(store.paths(DOMAIN).key));
    assert.deepEqual(
      (await store.versions(DOMAIN)).map((v) => [v.id, v.current]),
      ids.map((id) => [id, false]),
    );

    const back = await store.rollback(DOMAIN);
    assert.deepEqual(back, { domain: DOMAIN, from: 'none', to: second.version, deployHooks: [] });
    const served = await store.load(DOMAIN);
    assert.equal(served.leaf.fingerprint('sha256'), second.leaf.fingerprint('sha256'));
    assert.ok(existsSync(store.paths(DOMAIN).caBundle));

    await store.remove(DOMAIN, { keepHistory: true });
    const older = await store.rollback(DOMAIN, { to: ids[0]! });
    assert.equal(older.to, ids[0]);
    assert.notEqual((await store.load(DOMAIN)).leaf.fingerprint('sha256'), second.leaf.fingerprint('sha256'));

    // Without keepHistory everything goes, and there is nothing to roll back to.
    await store.remove(DOMAIN);
    assert.deepEqual(readdirSync(join(store.root, 'history')), []);
    await assert.rejects(store.rollback(DOMAIN), { code: 'ERR_STORE_NOT_FOUND' });
  });
});
