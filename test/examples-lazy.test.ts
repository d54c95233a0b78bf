/**
 * examples/mail-server.ts with a store of a few hundred domains: it listens before it has loaded them, loads
 * a domain when a ClientHello first asks for one of its names (its log says how many are loaded), finds names
 * a parent domain's or a wildcard's certificate covers, serves the default certificate for a name the store
 * does not hold (as before), serves a domain installed after it started and stops serving it once removed,
 * and reloads a lazily loaded domain when a new certificate is installed. `--eager` loads every domain before
 * it listens (the behaviour before).
 * Real handshakes on 127.0.0.1, the chain and the name verified by node:tls; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  createCSR,
  generateKeyPair,
  issueCertificate,
} from '../src/index.js';
import { CertificateStore } from '../src/node/index.js';
import { ensureBuilt } from './helpers/build.js';
import { lineLog } from './helpers/lines.js';
import { repoRoot } from './helpers/paths.js';

const COUNT = 300;
const name = (i: number): string => `d${String(i).padStart(3, '0')}.lazy.test`;
const dir = mkdtempSync(join(tmpdir(), 'mailtls-lazy-test-'));
const root = join(dir, 'store');
const notBefore = new Date(Date.now() - 3_600_000);
let ca: CertificateAuthorityHierarchy;
let store: CertificateStore;

/** Issues a certificate for `names` on a new key and installs it (managed: versions and `current`). */
async function install(names: string[]): Promise<string> {
  const key = await generateKeyPair({ type: 'ec' });
  const csr = await createCSR({ key, subject: { commonName: names[0]! }, hostnames: names });
  const issued = await issueCertificate(csr.csrPEM, ca.issuer, { notBefore, days: 30 });
  const r = await store.install({ cert: issued.certPEM, key: csr.keyPEM, caBundle: ca.root.certPEM });
  return (await store.load(r.domain)).leaf.fingerprint('sha256');
}

before(async () => {
  assert.deepEqual(ensureBuilt(), [], 'errors in the examples');
  ca = await createCertificateAuthority({ name: 'Lazy Test Root', notBefore, days: 30 });
  store = new CertificateStore(root, { trust: [ca.root.certPEM] });
  // COUNT hand-placed pairs sharing one key (as a provider's bulk import), one certificate per domain.
  const key = await generateKeyPair({ type: 'ec' });
  const csr = await createCSR({ key, subject: { commonName: name(0) } });
  mkdirSync(join(root, 'certs'), { recursive: true });
  mkdirSync(join(root, 'private'), { recursive: true, mode: 0o700 });
  for (let i = 0; i < COUNT; i++) {
    const issued = await issueCertificate(csr.csrPEM, ca.issuer, {
      hostnames: [name(i)],
      notBefore,
      days: 30,
    });
    writeFileSync(join(root, 'certs', `${name(i)}.crt`), issued.certPEM);
    writeFileSync(join(root, 'private', `${name(i)}.key`), csr.keyPEM, { mode: 0o600 });
  }
  // A domain whose certificate also covers a mail name, and a wildcard (managed installs).
  await install(['shop.test', 'mail.shop.test']);
  await install(['*.wild.test']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Server {
  child: ChildProcess;
  port: number;
  ready: { default: string; names: string[] };
  lines: string[];
  waitFor(re: RegExp): Promise<string>;
}

function start(extra: string[] = []): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'build/examples/mail-server.js'),
      ...['--store', root, '--base-port', '0', '--poll-ms', '200', ...extra],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const errors: string[] = [];
  const log = lineLog(() => errors.join(''));
  const lines = log.lines;
  createInterface({ input: child.stdout! }).on('line', (line) => log.push(line));
  // stderr lines are kept too, prefixed, so that a refusal can be waited for.
  createInterface({ input: child.stderr! }).on('line', (line) => {
    errors.push(line);
    log.push(`stderr: ${line}`);
  });
  // Generous: only a hung server fails this, never a slow machine.
  const waitFor = (re: RegExp): Promise<string> => log.waitFor(re, 120_000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`mail-server exited ${code}: ${errors.join('')}`)));
    waitFor(/^ready /).then((line) => {
      const ready = JSON.parse(line.slice(6)) as {
        ports: Record<string, number>;
        default: string;
        names: string[];
      };
      resolve({ child, port: ready.ports.imaps!, ready, lines, waitFor });
    }, reject);
  });
}

function stop(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

/** A verified handshake for `servername` (chain to the test root, name checked): the leaf's DNS names. */
function served(port: number, servername: string, verify = true): Promise<{ dns: string[]; fp: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, servername, ca: ca.root.certPEM, rejectUnauthorized: verify },
      () => {
        const cert = s.getPeerX509Certificate()!;
        const dns = (cert.subjectAltName ?? '').split(', ').map((n) => n.replace(/^DNS:/, ''));
        resolve({ dns, fp: cert.fingerprint256 });
        s.destroy();
      },
    );
    s.once('error', reject);
  });
}

const loadedLines = (server: Server): { domain: string; loaded: number }[] =>
  server.lines.filter((l) => l.startsWith('loaded ')).map((l) => JSON.parse(l.slice(7)));

describe('examples/mail-server.ts loads domains on demand', () => {
  let server: Server;
  before(async () => {
    server = await start();
  });
  after(() => stop(server));

  it('listens with only the default (the first domain by name) loaded; the first name asked for is served before the others are loaded', async () => {
    assert.equal(server.ready.default, '*.wild.test', 'the first domain of store.list() by name');
    assert.deepEqual(server.ready.names, ['*.wild.test']);
    assert.deepEqual(loadedLines(server), [], 'nothing loaded on demand before a client asks');
    // Each bulk certificate also names d000 (the CSR's common name), as in the benchmark's store.
    const r = await served(server.port, name(150));
    assert.deepEqual(r.dns, [name(0), name(150)]);
    await server.waitFor(/^loaded .*d150\.lazy\.test/);
    // The example's own count: one domain loaded on demand, of the COUNT + 2 in the store.
    assert.deepEqual(
      loadedLines(server).map((l) => [l.domain, l.loaded]),
      [[name(150), 1]],
    );
    // Served again from the registry: no second load.
    assert.equal((await served(server.port, name(150).toUpperCase())).fp, r.fp);
  });

  it("a name another domain's certificate covers is served by the domain filed under it", async () => {
    // d150's certificate covers d000 and is registered for it; d000's own certificate wins when asked.
    assert.deepEqual((await served(server.port, name(0))).dns, [name(0)]);
    await server.waitFor(/^loaded .*d000\.lazy\.test/);
  });

  it('a name the store does not hold gets the default certificate, as before, and loads nothing', async () => {
    const r = await served(server.port, 'unknown.example', false);
    assert.deepEqual(r.dns, ['*.wild.test']);
    // Lines come in order: had the unknown name loaded anything, its line would come before this one.
    assert.deepEqual((await served(server.port, name(7))).dns, [name(0), name(7)]);
    await server.waitFor(/^loaded .*d007\.lazy\.test/);
    assert.deepEqual(
      loadedLines(server).map((l) => [l.domain, l.loaded]),
      [
        [name(150), 1],
        [name(0), 2],
        [name(7), 3],
      ],
    );
  });

  it('names covered by a parent domain or a wildcard filed in the store are found', async () => {
    assert.deepEqual((await served(server.port, 'mail.shop.test')).dns, ['shop.test', 'mail.shop.test']);
    assert.deepEqual((await served(server.port, 'imap.wild.test')).dns, ['*.wild.test']);
    assert.ok(loadedLines(server).some((l) => l.domain === 'shop.test'));
  });

  it('hot reload: a new certificate for a lazily loaded domain is served without a restart', async () => {
    const before = await served(server.port, 'shop.test');
    const fingerprint = await install(['shop.test', 'mail.shop.test', 'smtp.shop.test']);
    assert.notEqual(fingerprint, before.fp);
    await server.waitFor(new RegExp(`^reloaded .*"shop\\.test".*${fingerprint}`));
    const after = await served(server.port, 'smtp.shop.test');
    assert.equal(after.fp, fingerprint);
    assert.equal((await served(server.port, 'mail.shop.test')).fp, fingerprint);
    assert.equal(server.child.exitCode, null, 'no restart');
  });

  it('a new pair that does not cover its domain is refused; the loaded one keeps serving', async () => {
    const before = await served(server.port, name(7));
    // d008's certificate (same key, names d000 and d008) placed as d007's: it does not cover d007.
    const other = await served(server.port, name(8));
    assert.notEqual(other.fp, before.fp);
    writeFileSync(
      join(root, 'certs', `${name(7)}.crt`),
      readFileSync(join(root, 'certs', `${name(8)}.crt`), 'utf8'),
    );
    await server.waitFor(/^stderr: d007\.lazy\.test: reload refused.*does not cover d007\.lazy\.test/);
    assert.equal((await served(server.port, name(7))).fp, before.fp);
  });

  it('a domain installed after the start is served when first asked for', async () => {
    const fingerprint = await install(['late.test']);
    // Looked up when asked: nothing polls the store's listing.
    assert.equal((await served(server.port, 'late.test')).fp, fingerprint);
  });

  it('a lazily loaded domain removed from the store is no longer served (the default is, as before)', async () => {
    await store.remove('late.test');
    await server.waitFor(/^removed \{"domain":"late\.test"\}/);
    assert.deepEqual((await served(server.port, 'late.test', false)).dns, ['*.wild.test']);
  });
});

describe('examples/mail-server.ts --eager', () => {
  it('loads every domain before it listens (the names of all of them are in its ready line)', async () => {
    const server = await start(['--eager', '--default', name(0)]);
    try {
      assert.equal(server.ready.default, name(0));
      for (const n of [name(0), name(299), 'mail.shop.test', 'smtp.shop.test', '*.wild.test'])
        assert.ok(server.ready.names.includes(n), n);
      assert.deepEqual((await served(server.port, name(42))).dns, [name(0), name(42)]);
      assert.deepEqual((await served(server.port, name(0))).dns, [name(0)]);
      assert.deepEqual(loadedLines(server), [], 'nothing is loaded on demand');
    } finally {
      await stop(server);
    }
  });
});
