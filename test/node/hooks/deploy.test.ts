/**
 * Deploy hooks: the store runs the commands kept in settings.json (and those given as an option) after
 * every install and rollback, with the MAILTLS_* environment; a failing hook is reported with its exit code
 * and output and never undoes the change; a settings file others could have written is not trusted.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMailTlsError, parseCertificate } from '../../../src/index.js';
import {
  addDeployHook,
  CertificateStore,
  loadStoreSettings,
  removeDeployHook,
  runDeployHooks,
  STORE_SETTINGS_FILE,
} from '../../../src/node/index.js';
import { mailtlsAsync } from '../../cli/helpers.js';
import { EC_DOMAIN, makeTestStore, namesOf, RSA_DOMAIN, type TestStore } from '../../config/servers.js';

describe('deploy hooks', () => {
  let t: TestStore;
  before(async () => {
    t = await makeTestStore('hooks');
  });
  after(() => t?.cleanup());

  it('runs the kept hooks after an install with the MAILTLS_* environment', async () => {
    const out = join(t.dir, 'env.out');
    assert.equal(await addDeployHook(t.root, `env | grep ^MAILTLS_ | sort > ${out}`), true);
    assert.equal(await addDeployHook(t.root, `env | grep ^MAILTLS_ | sort > ${out}`), false, 'kept once');
    const before = await t.store.load(RSA_DOMAIN);
    const r = await t.issue(RSA_DOMAIN, 'rsa', { replace: true });
    assert.equal(r.deployHooks.length, 1);
    assert.equal(r.deployHooks[0]!.ok, true);
    const env = Object.fromEntries(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.deepEqual(env, {
      MAILTLS_CA_FILE: join(t.root, 'certs', `${RSA_DOMAIN}.ca-bundle`),
      MAILTLS_CERT_FILE: join(t.root, 'certs', `${RSA_DOMAIN}.crt`),
      MAILTLS_DOMAIN: RSA_DOMAIN,
      MAILTLS_DOMAINS: namesOf(RSA_DOMAIN).join(' '),
      MAILTLS_EVENT: 'install',
      MAILTLS_KEY_FILE: join(t.root, 'private', `${RSA_DOMAIN}.key`),
      MAILTLS_NEW_FINGERPRINT: r.leaf.fingerprint('sha256'),
      MAILTLS_NEW_VERSION: r.version,
      MAILTLS_OLD_FINGERPRINT: before.leaf.fingerprint('sha256'),
      MAILTLS_OLD_VERSION: r.previousVersion,
      MAILTLS_STORE: t.root,
    });
    // A rollback runs them too, with the fingerprints the other way round.
    const back = await t.store.rollback(RSA_DOMAIN);
    assert.equal(back.deployHooks[0]!.ok, true);
    const env2 = readFileSync(out, 'utf8');
    assert.match(env2, /^MAILTLS_EVENT=rollback$/m);
    assert.match(env2, new RegExp(`^MAILTLS_NEW_FINGERPRINT=${before.leaf.fingerprint('sha256')}$`, 'm'));
    assert.equal(await removeDeployHook(t.root, `env | grep ^MAILTLS_ | sort > ${out}`), true);
    assert.deepEqual((await loadStoreSettings(t.root)).deployHooks, []);
  });

  it('a failing hook is reported (exit code, output) and the new pair stays in service; later hooks still run', async () => {
    const marker = join(t.dir, 'second.out');
    const store = new CertificateStore(t.root, {
      trust: [t.ca.root.certPEM],
      deployHooks: ['echo reloading; echo no such service >&2; exit 3', `touch ${marker}`],
    });
    const r = await t.issue(EC_DOMAIN, 'ec', { replace: true, store });
    assert.equal(r.deployHooks.length, 2);
    const [failed, second] = r.deployHooks;
    assert.equal(failed!.ok, false);
    assert.equal(failed!.exitCode, 3);
    // stdout and stderr arrive through two pipes: both lines, in either order
    assert.deepEqual(failed!.output.split('\n').sort(), ['', 'no such service', 'reloading']);
    assert.equal(second!.ok, true);
    assert.equal((await t.store.load(EC_DOMAIN)).leaf.fingerprint('sha256'), r.leaf.fingerprint('sha256'));
    assert.equal(await t.store.version(EC_DOMAIN), r.version);
    readFileSync(marker);
  });

  it('mailtls install reports a failing hook with exit 1 and keeps the install', async () => {
    await t.store.createCSR({
      subject: { commonName: EC_DOMAIN },
      hostnames: namesOf(EC_DOMAIN).slice(1),
      keyType: 'ec',
      replace: true,
    });
    const { issueCertificate } = await import('../../../src/index.js');
    const csr = readFileSync(join(t.root, 'csr', `${EC_DOMAIN}.csr`), 'utf8');
    const issued = await issueCertificate(csr, t.ca.issuer, {
      notBefore: new Date(Date.now() - 60_000),
      days: 90,
    });
    const certFile = join(t.dir, 'failing.crt');
    writeFileSync(certFile, issued.certPEM + t.ca.intermediate!.certPEM);
    const r = await mailtlsAsync([
      'install',
      '--store',
      t.root,
      '--cert',
      certFile,
      '--trust',
      t.caFile,
      '--deploy-hook',
      'echo cannot reload; exit 7',
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /deploy hook failed \(exit 7\); the new certificate stays in service: echo cannot reload; exit 7\ncannot reload/,
    );
    assert.equal(
      (await t.store.load(EC_DOMAIN)).leaf.fingerprint('sha256'),
      parseCertificate(issued.certPEM).fingerprint('sha256'),
    );
    assert.deepEqual((await loadStoreSettings(t.root)).deployHooks, ['echo cannot reload; exit 7']);
    await removeDeployHook(t.root, 'echo cannot reload; exit 7');
  });

  it('a hook that runs too long is stopped and reported', async () => {
    const [r] = await runDeployHooks(
      ['sleep 30'],
      {
        event: 'renewal',
        store: t.root,
        domain: RSA_DOMAIN,
        names: [],
        files: { cert: '/c', key: '/k' },
        oldVersion: undefined,
        newVersion: 'v1',
        oldFingerprint: undefined,
        newFingerprint: undefined,
      },
      { deployHookTimeoutMs: 200 },
    );
    assert.equal(r!.ok, false);
    assert.equal(r!.signal, 'SIGTERM');
    assert.match(r!.error ?? '', /stopped after 200 ms/);
  });

  it('a settings file others can write is not trusted: reported, nothing runs, the install stands', async () => {
    const marker = join(t.dir, 'untrusted.out');
    const file = join(t.root, STORE_SETTINGS_FILE);
    writeFileSync(file, JSON.stringify({ deployHooks: [`touch ${marker}`] }));
    chmodSync(file, 0o666);
    await assert.rejects(
      loadStoreSettings(t.root),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_STORE_SETTINGS') && /writable by group or others/.test((e as Error).message),
    );
    const r = await t.issue(RSA_DOMAIN, 'rsa', { replace: true });
    assert.equal(r.deployHooks.length, 1);
    assert.equal(r.deployHooks[0]!.ok, false);
    assert.match(r.deployHooks[0]!.error ?? '', /chmod 644/);
    assert.throws(() => readFileSync(marker), /ENOENT/);
    assert.equal(await t.store.version(RSA_DOMAIN), r.version);
    writeFileSync(file, '{"deployHooks": "postfix reload"}');
    chmodSync(file, 0o644);
    await assert.rejects(loadStoreSettings(t.root), (e: unknown) => isMailTlsError(e, 'ERR_STORE_SETTINGS'));
  });
});
