/**
 * The read-only certbot and Kubernetes adapters against those layouts reproduced on disk exactly as the
 * tools write them: certbot's archive/ files with live/ relative links re-pointed one at a time, and
 * kubelet's atomic writer (a `..<timestamp>` directory, a `..data` link swapped by renaming `..data_tmp`, and
 * `tls.crt -> ..data/tls.crt` links). A swap must change version() and be seen by fs.watch on a watch path.
 */
import assert from 'node:assert/strict';
import { randomInt, X509Certificate } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyError, StoreError } from '../../src/errors.js';
import { keyMatchesCertificate } from '../../src/keys/key-match.js';
import type { CredentialSource } from '../../src/node/store/credential.js';
import { CertbotSource, KubernetesSecretSource } from '../../src/node/store/layouts.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { AT, issueLeaf, scratch, type TestCA, type TestLeafCert, testCA } from './helpers/store-fixtures.js';

let ca: TestCA;
let dir: { path: string; cleanup(): void };
let pairs: TestLeafCert[];
before(async () => {
  ca = await testCA();
  dir = scratch('mailtls-layouts-');
  pairs = await Promise.all([0, 1, 2].map(() => issueLeaf(['example.com', 'mail.example.com'])));
});
after(() => dir.cleanup());

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

// ---------------------------------------------------------------------------------------------------------
// certbot

const ALL_FOUR = ['cert', 'privkey', 'chain', 'fullchain'] as const;

/** Writes archive/<name>/{cert,chain,fullchain,privkey}<n>.pem as certbot does. */
function certbotArchive(configDir: string, name: string, n: number, pair: TestLeafCert): void {
  const archive = join(configDir, 'archive', name);
  mkdirSync(archive, { recursive: true, mode: 0o700 });
  writeFileSync(join(archive, `cert${n}.pem`), pair.certPEM, { mode: 0o644 });
  writeFileSync(join(archive, `chain${n}.pem`), ca.intermediatePEM, { mode: 0o644 });
  writeFileSync(join(archive, `fullchain${n}.pem`), pair.certPEM + ca.intermediatePEM, { mode: 0o644 });
  writeFileSync(join(archive, `privkey${n}.pem`), pair.keyPEM, { mode: 0o600 });
}

/** Points live/<name>/<kind>.pem at archive version n (certbot's relative links), one link. */
function certbotLink(configDir: string, name: string, kind: (typeof ALL_FOUR)[number], n: number): void {
  const live = join(configDir, 'live', name);
  mkdirSync(live, { recursive: true, mode: 0o700 });
  const tmp = join(live, `${kind}.pem.new`);
  symlinkSync(join('..', '..', 'archive', name, `${kind}${n}.pem`), tmp);
  renameSync(tmp, join(live, `${kind}.pem`));
}

function certbotIssue(configDir: string, name: string, n: number, pair: TestLeafCert): void {
  certbotArchive(configDir, name, n, pair);
  for (const kind of ALL_FOUR) certbotLink(configDir, name, kind, n);
  writeFileSync(join(configDir, 'live', 'README'), 'This directory contains your keys and certificates.\n');
}

describe('CertbotSource', () => {
  it('lists lineages and loads fullchain.pem with privkey.pem through the live/ links', async () => {
    const configDir = join(dir.path, 'letsencrypt');
    certbotIssue(configDir, 'example.com', 1, pairs[0]!);
    certbotIssue(configDir, 'example.com-0001', 1, pairs[1]!);
    assert.equal(
      readlinkSync(join(configDir, 'live', 'example.com', 'fullchain.pem')),
      '../../archive/example.com/fullchain1.pem',
    );
    const certbot = new CertbotSource(configDir);
    assert.deepEqual(await certbot.list(), ['example.com', 'example.com-0001']);
    const c = await certbot.load('example.com');
    assert.equal(c.source, 'certbot');
    assert.equal(c.leaf.fingerprint('sha256'), fp(pairs[0]!.certPEM));
    assert.equal(c.chain.length, 2);
    assert.equal(c.cert, pairs[0]!.certPEM + ca.intermediatePEM);
    assert.ok(!JSON.stringify(c).includes('PRIVATE KEY'));
    await assert.rejects(certbot.load('../archive'), { code: 'ERR_STORE_INVALID_DOMAIN' });
    await assert.rejects(certbot.load('nope.example'), { code: 'ERR_STORE_NOT_FOUND' });
    assert.deepEqual(await new CertbotSource(join(dir.path, 'no-such-dir')).list(), []);
  });

  it('a renewal (links re-pointed) changes version(); a half-done re-pointing is read again', async () => {
    const configDir = join(dir.path, 'letsencrypt2');
    certbotIssue(configDir, 'example.com', 1, pairs[0]!);
    const certbot = new CertbotSource(configDir);
    const v1 = await certbot.version('example.com');
    assert.equal(await certbot.version('example.com'), v1, 'stable while nothing changes');
    // renewal: archive files 2, then links one by one in certbot's order (cert, privkey, chain, fullchain)
    certbotArchive(configDir, 'example.com', 2, pairs[1]!);
    certbotLink(configDir, 'example.com', 'cert', 2);
    certbotLink(configDir, 'example.com', 'privkey', 2);
    // now privkey.pem is new and fullchain.pem old: finish the swap while load() is waiting to read again
    const loading = certbot.load('example.com');
    setTimeout(() => {
      certbotLink(configDir, 'example.com', 'chain', 2);
      certbotLink(configDir, 'example.com', 'fullchain', 2);
    }, 10);
    const c = await loading;
    assert.equal(c.leaf.fingerprint('sha256'), fp(pairs[1]!.certPEM));
    assert.ok(keyMatchesCertificate(c.privateKey, c.leaf.der));
    assert.notEqual(await certbot.version('example.com'), v1);
    // a pair that stays mismatched is reported with both files
    certbotArchive(configDir, 'example.com', 3, pairs[2]!);
    certbotLink(configDir, 'example.com', 'privkey', 3);
    await assert.rejects(certbot.load('example.com'), (e: unknown) => {
      assert.ok(e instanceof KeyError);
      assert.equal(e.code, 'ERR_KEY_MISMATCH');
      assert.match(
        e.message,
        /live\/example\.com\/privkey\.pem does not belong to .*live\/example\.com\/fullchain\.pem/,
      );
      return true;
    });
    const watched = await certbot.watchPaths('example.com');
    assert.deepEqual(watched.slice(0, 2), [
      join(configDir, 'live', 'example.com'),
      join(configDir, 'archive', 'example.com'),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Kubernetes

/** kubelet's timestamped directory name: `..2026_11_29_10_30_00.123456789`. */
function kubeletTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_` +
    `${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${String(randomInt(1e9)).padStart(9, '0')}`
  );
}

/**
 * kubelet's AtomicWriter: writes the payload into a new `..<timestamp>` directory, points `..data_tmp` at it,
 * renames `..data_tmp` over `..data`, creates the user-visible links `<file> -> ..data/<file>` that are
 * missing, and removes the previous timestamped directory.
 */
function kubeletWrite(mount: string, payload: Record<string, string>, at: Date): string {
  mkdirSync(mount, { recursive: true });
  let old: string | undefined;
  try {
    old = readlinkSync(join(mount, '..data'));
  } catch {
    old = undefined;
  }
  const ts = kubeletTimestamp(at);
  mkdirSync(join(mount, ts), { mode: 0o755 });
  for (const [name, content] of Object.entries(payload))
    writeFileSync(join(mount, ts, name), content, { mode: 0o644 });
  symlinkSync(ts, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  for (const name of Object.keys(payload))
    if (!existsSync(join(mount, name))) symlinkSync(join('..data', name), join(mount, name));
  if (old !== undefined) rmSync(join(mount, old), { recursive: true, force: true });
  return ts;
}

function secret(pair: TestLeafCert): Record<string, string> {
  return { 'tls.crt': pair.certPEM + ca.intermediatePEM, 'tls.key': pair.keyPEM, 'ca.crt': ca.rootPEM };
}

describe('KubernetesSecretSource', () => {
  it('reads the kubelet layout; a ..data swap changes version() and fs.watch on the mount sees it', async () => {
    const mount = join(dir.path, 'k8s', 'example-tls');
    const ts1 = kubeletWrite(mount, secret(pairs[0]!), new Date('2026-11-29T10:30:00Z'));
    assert.match(ts1, /^\.\.2026_11_29_10_30_00\.\d{9}$/);
    assert.equal(readlinkSync(join(mount, 'tls.crt')), '..data/tls.crt');
    assert.ok(lstatSync(join(mount, '..data')).isSymbolicLink());
    const k8s = new KubernetesSecretSource({ 'example.com': mount });
    assert.deepEqual(await k8s.list(), ['example.com']);
    const c1 = await k8s.load('example.com');
    assert.equal(c1.source, 'kubernetes');
    assert.equal(c1.version, ts1);
    assert.equal(c1.leaf.fingerprint('sha256'), fp(pairs[0]!.certPEM));
    assert.deepEqual(await k8s.files('example.com'), {
      cert: join(mount, 'tls.crt'),
      key: join(mount, 'tls.key'),
      ca: join(mount, 'ca.crt'),
    });
    assert.equal(await k8s.version('example.com'), ts1);

    const watched = await k8s.watchPaths('example.com');
    assert.equal(watched[0], mount);
    const seen = new Promise<string>((resolve) => {
      const w = watch(watched[0]!, (_event, file) => {
        if (file === '..data') {
          w.close();
          resolve(String(file));
        }
      });
    });
    const ts2 = kubeletWrite(mount, secret(pairs[1]!), new Date('2026-11-29T10:31:00Z'));
    assert.equal(await seen, '..data');
    assert.equal(await k8s.version('example.com'), ts2);
    assert.notEqual(ts2, ts1);
    assert.equal(existsSync(join(mount, ts1)), false, 'kubelet removed the old snapshot');
    const c2 = await k8s.load('example.com');
    assert.equal(c2.version, ts2);
    assert.equal(c2.leaf.fingerprint('sha256'), fp(pairs[1]!.certPEM));
  });

  it('readers during repeated swaps always get one consistent snapshot', async () => {
    const mount = join(dir.path, 'k8s', 'busy-tls');
    kubeletWrite(mount, secret(pairs[0]!), new Date('2026-11-29T10:30:00Z'));
    const k8s = new KubernetesSecretSource(mount, { name: 'busy' });
    assert.deepEqual(await k8s.list(), ['busy']);
    const known = new Set(pairs.map((p) => fp(p.certPEM)));
    let stop = false;
    let swaps = 0;
    // kubelet removes the old snapshot right after the swap, so a reader that resolved ..data just before
    // must read again. One swap per load, landing while the next load runs (real secrets change every few
    // minutes): a writer on a clock outran the readers of a loaded machine, which give up after a few swaps.
    let loads = 0;
    const writer = (async () => {
      while (!stop) {
        kubeletWrite(mount, secret(pairs[swaps % 3]!), new Date(Date.UTC(2026, 10, 29, 10, 30, swaps % 60)));
        swaps++;
        const seen = loads;
        while (!stop && loads === seen) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const versions = new Set<string>();
    try {
      // until the writer has swapped 20 times and the readers have seen 6 snapshots, however slow the machine
      // (at least 1.5 s; the bound only turns a hang into a failure)
      const t0 = Date.now();
      while ((Date.now() - t0 < 1500 || swaps <= 20 || versions.size <= 5) && Date.now() - t0 < 120_000) {
        const c = await k8s.load('busy');
        assert.ok(known.has(c.leaf.fingerprint('sha256')));
        assert.ok(keyMatchesCertificate(c.privateKey, c.leaf.der));
        versions.add(c.version);
        loads++;
      }
    } finally {
      stop = true;
      await writer;
    }
    assert.ok(
      swaps > 20 && versions.size > 5,
      `${swaps} swaps, ${versions.size} versions over ${loads} loads`,
    );
  });

  it('a mount of plain files (no ..data) is read directly; version() follows rewrites', async () => {
    const mount = join(dir.path, 'plain-tls');
    mkdirSync(mount, { recursive: true });
    writeFileSync(join(mount, 'tls.crt'), pairs[0]!.chainPEM);
    writeFileSync(join(mount, 'tls.key'), pairs[0]!.keyPEM, { mode: 0o600 });
    const k8s = new KubernetesSecretSource({ plain: mount });
    const v1 = await k8s.version('plain');
    assert.match(v1, /^[0-9a-f]{32}$/);
    assert.equal((await k8s.load('plain')).leaf.fingerprint('sha256'), fp(pairs[0]!.certPEM));
    writeFileSync(join(mount, 'tls.crt.new'), pairs[1]!.chainPEM);
    renameSync(join(mount, 'tls.crt.new'), join(mount, 'tls.crt'));
    writeFileSync(join(mount, 'tls.key'), pairs[1]!.keyPEM);
    assert.notEqual(await k8s.version('plain'), v1);
    assert.equal((await k8s.load('plain')).leaf.fingerprint('sha256'), fp(pairs[1]!.certPEM));
    await assert.rejects(
      k8s.load('other'),
      (e: unknown) => e instanceof StoreError && e.code === 'ERR_STORE_NOT_FOUND',
    );
    const empty = new KubernetesSecretSource({ empty: join(dir.path, 'empty-mount') });
    assert.deepEqual(await empty.list(), []);
    await assert.rejects(empty.load('empty'), { code: 'ERR_STORE_NOT_FOUND' });
  });
});

describe('CredentialSource: one surface for the store and both adapters', () => {
  it('list(), load(), version(), watchPaths(), files() work alike', async () => {
    const root = join(dir.path, 'common');
    const store = new CertificateStore(join(root, 'store'), { at: AT });
    await store.install({ cert: pairs[0]!.chainPEM, key: pairs[0]!.keyPEM });
    certbotIssue(join(root, 'letsencrypt'), 'example.com', 1, pairs[0]!);
    kubeletWrite(join(root, 'k8s'), secret(pairs[0]!), new Date('2026-11-29T10:30:00Z'));
    const sources: CredentialSource[] = [
      store,
      new CertbotSource(join(root, 'letsencrypt')),
      new KubernetesSecretSource(join(root, 'k8s'), { name: 'example.com' }),
    ];
    for (const s of sources) {
      assert.deepEqual(await s.list(), ['example.com'], s.kind);
      const c = await s.load('example.com');
      assert.equal(c.leaf.fingerprint('sha256'), fp(pairs[0]!.certPEM), s.kind);
      assert.equal(c.version, await s.version('example.com'), s.kind);
      assert.ok((await s.watchPaths('example.com')).length >= 2, s.kind);
      const f = await s.files('example.com');
      assert.ok(existsSync(f.cert) && existsSync(f.key), s.kind);
    }
  });

  it('a file where the directory should be: version() answers, load() is ERR_STORE_NOT_FOUND', async () => {
    const file = join(dir.path, 'not-a-directory');
    writeFileSync(file, 'x');
    const rows: { name: string; input: CredentialSource; wantCode: string }[] = [
      { name: 'store', input: new CertificateStore(file, { at: AT }), wantCode: 'ERR_STORE_NOT_FOUND' },
      { name: 'certbot', input: new CertbotSource(file), wantCode: 'ERR_STORE_NOT_FOUND' },
      {
        name: 'kubernetes',
        input: new KubernetesSecretSource(file, { name: 'example.com' }),
        wantCode: 'ERR_STORE_NOT_FOUND',
      },
    ];
    for (const row of rows) {
      assert.equal(typeof (await row.input.version('example.com')), 'string', row.name);
      await assert.rejects(row.input.load('example.com'), (e: unknown) => {
        assert.ok(e instanceof StoreError, `${row.name}: ${String(e)}`);
        assert.equal(e.code, row.wantCode, row.name);
        return true;
      });
    }
  });
});
