/**
 * Crash safety of CertificateStore.install: a child process installs two pairs alternately in a loop and is
 * killed with SIGKILL after a random delay, over and over (MAILTLS_CRASH_RUNS, default 200). After every
 * kill the store must load a consistent pair (key matching certificate) that is one of the two, both through
 * load() and through the public paths certs/<domain>.crt + private/<domain>.key, and the next child must get
 * past whatever the killed one left behind (its lock file, half-written version directories).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keyMatchesCertificate } from '../../src/keys/key-match.js';
import { parsePrivateKey } from '../../src/keys/private-key.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { parseCertificateBundle } from '../../src/x509/bundle.js';
import { AT, issueLeaf, scratch, testCA } from './helpers/store-fixtures.js';

const RUNS = Number(process.env.MAILTLS_CRASH_RUNS ?? 200);
const CHILD = fileURLToPath(new URL('./fixtures/crash-install.js', import.meta.url));

let dir: { path: string; cleanup(): void };
before(() => {
  dir = scratch('mailtls-crash-');
});
after(() => dir.cleanup());

interface Child {
  readonly child: ChildProcess;
  /** Resolves once the child has loaded its modules and warmed up. */
  readonly ready: Promise<void>;
  /** Completed installs so far. */
  installs(): number;
  /** Lets it start installing. */
  go(): void;
  /** Milliseconds from go() to the end of the first install, once there was one. */
  firstInstallMs(): number | undefined;
}

/** Starts a child; it loads and warms up, then waits for go(). */
function start(root: string, pairsFile: string): Child {
  const child = spawn(process.execPath, [CHILD, root, pairsFile, AT.toISOString()], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let goAt = 0;
  let firstAt: number | undefined;
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin!.on('error', () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (firstAt === undefined && goAt > 0 && out.includes('\nn\n')) firstAt = performance.now();
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code, signal) => {
      if (!out.startsWith('ready')) reject(new Error(`child exited early (${code ?? signal}): ${err}`));
    });
  });
  return {
    child,
    ready,
    installs: () => out.split('\n').filter((l) => l === 'n').length,
    go: () => {
      goAt = performance.now();
      child.stdin!.write('go\n');
    },
    firstInstallMs: () => (firstAt === undefined ? undefined : firstAt - goAt),
  };
}

async function kill(c: Child): Promise<void> {
  const exited = new Promise((r) => c.child.once('exit', r));
  c.child.kill('SIGKILL');
  await exited;
}

interface LaneStats {
  kills: number;
  installs: number;
  staleLocks: number;
  partialVersions: number;
  beforeFirstInstall: number;
  versions: Set<string>;
}

/**
 * One lane: a domain with two pairs, `runs` children each killed at a random moment, the store checked
 * after every kill. The next child loads its modules while the current one runs.
 */
async function lane(store: CertificateStore, domain: string, runs: number): Promise<LaneStats> {
  const names = [domain, `mail.${domain}`];
  const ca = await testCA();
  const a = await issueLeaf(names);
  const b = await issueLeaf(names);
  const pairsFile = join(dir.path, `${domain}.json`);
  writeFileSync(
    pairsFile,
    JSON.stringify([
      { cert: a.chainPEM, key: a.keyPEM, root: ca.rootPEM },
      { cert: b.chainPEM, key: b.keyPEM, root: ca.rootPEM },
    ]),
  );
  const fingerprints = new Set([a.certPEM, b.certPEM].map((p) => new X509Certificate(p).fingerprint256));
  await store.install({ cert: a.chainPEM, key: a.keyPEM });
  const p = store.paths(domain);
  const stats: LaneStats = {
    kills: 0,
    installs: 0,
    staleLocks: 0,
    partialVersions: 0,
    beforeFirstInstall: 0,
    versions: new Set(),
  };
  // The random delay after go() spans the child's first install and a bit more: calibrated on the
  // children's own first-install times, which vary with the machine's load.
  let firstInstall = 30;
  let next = start(store.root, pairsFile);
  for (let i = 0; i < runs; i++) {
    const current = next;
    await current.ready;
    current.go();
    const delay = Math.random() * firstInstall * 2;
    await new Promise((r) => setTimeout(r, delay));
    await kill(current);
    // Follow the measured first-install time; a kill before the first install ended is a lower bound.
    const f = current.firstInstallMs();
    if (f !== undefined) firstInstall = 0.8 * firstInstall + 0.2 * f;
    else if (delay > firstInstall) firstInstall = delay;
    stats.kills++;
    if (i < runs - 1) next = start(store.root, pairsFile);
    const n = current.installs();
    stats.installs += n;
    if (n === 0) stats.beforeFirstInstall++;
    if (existsSync(p.lock)) stats.staleLocks++;
    if (readdirSync(p.history).some((e) => e.startsWith('.tmp-'))) stats.partialVersions++;
    // load(): consistent, and one of the two pairs
    const c = await store.load(domain);
    assert.ok(
      fingerprints.has(c.leaf.fingerprint('sha256')),
      `${domain} kill ${i}: unknown certificate in service`,
    );
    assert.ok(keyMatchesCertificate(c.privateKey, c.leaf.der), `${domain} kill ${i}: key does not match`);
    stats.versions.add(c.version);
    // the public paths an MTA reads show a consistent pair too
    const leaf = parseCertificateBundle(readFileSync(p.cert, 'utf8')).certificates[0]!;
    const key = await parsePrivateKey(readFileSync(p.key, 'utf8'));
    assert.ok(keyMatchesCertificate(key, leaf.der), `${domain} kill ${i}: certs/ and private/ disagree`);
  }
  // a last clean install after all the debris works and leaves no temporary files or lock
  const final = await store.install({ cert: b.chainPEM, key: b.keyPEM });
  assert.equal((await store.load(domain)).version, final.version);
  assert.equal(existsSync(p.lock), false);
  assert.deepEqual(
    readdirSync(p.history).filter((e) => e.startsWith('.tmp-')),
    [],
  );
  assert.ok(readdirSync(p.history).length <= 4, 'old versions pruned');
  return stats;
}

describe('CertificateStore install survives SIGKILL at random points', () => {
  it(`${RUNS} kills: every time a consistent old or new pair`, {
    timeout: 900_000,
  } /* a safety bound against a hang, not a speed claim */, async () => {
    const store = new CertificateStore(join(dir.path, 'tls'), { at: AT });
    const domains = ['example.com', 'example.net'];
    const half = Math.ceil(RUNS / domains.length);
    const started = Date.now();
    const results = await Promise.all(domains.map((d) => lane(store, d, half)));
    const total = results.reduce(
      (t, r) => ({
        kills: t.kills + r.kills,
        installs: t.installs + r.installs,
        staleLocks: t.staleLocks + r.staleLocks,
        partialVersions: t.partialVersions + r.partialVersions,
        beforeFirstInstall: t.beforeFirstInstall + r.beforeFirstInstall,
        versions: t.versions + r.versions.size,
      }),
      { kills: 0, installs: 0, staleLocks: 0, partialVersions: 0, beforeFirstInstall: 0, versions: 0 },
    );
    console.log(
      `crash test: ${total.kills} kills in ${((Date.now() - started) / 1000).toFixed(1)} s (2 domains at once), ` +
        `${total.installs} installs completed, ${total.versions} distinct versions seen in service, ` +
        `${total.staleLocks} kills left the lock held, ${total.partialVersions} left a half-written version, ` +
        `${total.beforeFirstInstall} came before the child's first install finished`,
    );
    assert.ok(total.kills >= 200 || RUNS < 200);
    // The kills must really land inside installs (lock held, version half written), not only between them.
    assert.ok(total.staleLocks > 0, 'no kill landed while the lock was held');
    assert.ok(total.partialVersions > 0, 'no kill landed while a version was being written');
    assert.ok(total.versions > 10, 'the pair in service changed across kills');
  });
});
