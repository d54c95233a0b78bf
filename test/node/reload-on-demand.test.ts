/**
 * `watchCredentials` with `domains: 'on-demand'` against real TLS servers and clients on 127.0.0.1: only the
 * default domain is loaded before `ready`; any other name is looked up in the store when a ClientHello first
 * asks for it (the name, the wildcard above it, its parents), checked and registered before the handshake
 * goes on. Every check of what is served is a real, verified handshake reading the leaf's fingerprint, on
 * node's SNI path and on the peeking server. The store is changed only through `install`/`remove`.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { TLSError } from '../../src/errors.js';
import type { CredentialSource } from '../../src/node/store/credential.js';
import { CertificateStore } from '../../src/node/store/store.js';
import {
  type CredentialReloadEvent,
  type CredentialRemoveEvent,
  type CredentialWatcher,
  watchCredentials,
} from '../../src/node/tls/reload.js';
import { createSNIRegistry, type SNIRegistry } from '../../src/node/tls/sni-registry.js';
import { startServers } from './helpers/registry-servers.js';
import { issueLeaf, scratch, type TestCA, type TestLeafCert, testCA } from './helpers/store-fixtures.js';

let ca: TestCA;
let dir: { path: string; cleanup(): void };
let counter = 0;
/** The store every test reads (tests that change it make their own). */
let shared: CertificateStore;
const leaves = new Map<string, TestLeafCert>();

const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;
const fpOf = (domain: string): string => fp(leaves.get(domain)!.certPEM);

before(async () => {
  ca = await testCA();
  dir = scratch('mailtls-on-demand-');
  shared = await newStore();
  const pairs: [string, string[]][] = [
    ['default.example.test', ['default.example.test']],
    ['example.test', ['example.test', 'mail.example.test', 'www.example.test']],
    ['*.wild.example.test', ['*.wild.example.test']],
    ['own.example.test', ['own.example.test']],
  ];
  for (let i = 0; i < 20; i++) pairs.push([`d${i}.example.test`, [`d${i}.example.test`]]);
  for (const [domain, names] of pairs) {
    const leaf = await issueLeaf(names);
    leaves.set(domain, leaf);
    await shared.install({ cert: leaf.chainPEM, key: leaf.keyPEM, domain });
  }
});
after(() => dir.cleanup());

async function newStore(): Promise<CertificateStore> {
  return new CertificateStore(join(dir.path, `store-${++counter}`), { trust: [ca.rootPEM] });
}

/** A verified handshake (SNI, the test root); the served leaf's fingerprint. */
function served(port: number, servername: string, checkName = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions = { host: '127.0.0.1', port, ca: ca.rootPEM, servername };
    if (!checkName) options.checkServerIdentity = () => undefined;
    const socket = tls.connect(options, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? 'none');
      socket.end();
    });
    // only turns a hang into a failure: far above any handshake on a busy machine
    socket.setTimeout(60_000, () => socket.destroy(new Error('client timeout')));
    socket.on('error', reject);
  });
}

interface Running {
  readonly registry: SNIRegistry;
  readonly watcher: CredentialWatcher;
  readonly errors: TLSError[];
  /** node's SNI path, then the peeking server. */
  readonly ports: number[];
  stop(): Promise<void>;
}

/** A registry made from the default domain as `store.load` gives it, watched on demand, and two servers. */
async function start(
  source: CredentialSource,
  options: { pollIntervalMs?: number; maxContexts?: number } = {},
): Promise<Running> {
  const first = await source.load('default.example.test');
  const registry = createSNIRegistry(
    first,
    options.maxContexts === undefined ? {} : { maxContexts: options.maxContexts },
  );
  const watcher = watchCredentials(source, registry, {
    domains: 'on-demand',
    defaultDomain: 'default.example.test',
    pollIntervalMs: options.pollIntervalMs ?? 0,
  });
  const errors: TLSError[] = [];
  watcher.on('error', (e) => errors.push(e));
  await watcher.ready;
  const { ports, stop } = await startServers(registry);
  return {
    registry,
    watcher,
    errors,
    ports,
    stop: async () => {
      watcher.close();
      await stop();
    },
  };
}

/** The store, with every call of `has`, `list` and `load` counted (the calls go to the real store). */
function counted(
  store: CertificateStore,
  withHas = true,
): {
  source: CredentialSource;
  calls: { has: string[]; list: number; load: string[] };
} {
  const calls = { has: [] as string[], list: 0, load: [] as string[] };
  const source: CredentialSource = {
    kind: store.kind,
    list: () => {
      calls.list++;
      return store.list();
    },
    load: (name, o) => {
      calls.load.push(name);
      return store.load(name, o);
    },
    version: (name) => store.version(name),
    watchPaths: (name) => store.watchPaths(name),
    files: (name) => store.files(name),
  };
  if (withHas)
    source.has = (name) => {
      calls.has.push(name);
      return store.has(name);
    };
  return { source, calls };
}

describe("watchCredentials with domains: 'on-demand'", () => {
  it('ready loads the default domain alone, from the credential the registry was made with; a name is loaded at its first handshake', async () => {
    const { source, calls } = counted(shared);
    const r = await start(source);
    try {
      assert.deepEqual(
        r.watcher.status().map((s) => s.domain),
        ['default.example.test'],
      );
      assert.deepEqual(
        calls.load,
        ['default.example.test'],
        'read for the registry, not again by the watcher',
      );
      assert.deepEqual([...r.registry.patterns()], ['default.example.test']);
      for (const port of r.ports)
        assert.equal(await served(port, 'd7.example.test'), fpOf('d7.example.test'));
      assert.deepEqual(
        calls.load,
        ['default.example.test', 'd7.example.test'],
        'loaded once for both servers',
      );
      assert.deepEqual(
        r.watcher.status().map((s) => s.domain),
        ['d7.example.test', 'default.example.test'],
      );
      assert.equal(await served(r.ports[0]!, 'd3.example.test'), fpOf('d3.example.test'));
      assert.equal(r.watcher.stats().domains, 3);
      assert.deepEqual(r.errors, []);
    } finally {
      await r.stop();
    }
  });

  it('a parent domain and a wildcard domain are found; a name found nowhere gets the default and loads nothing', async () => {
    const { source, calls } = counted(shared);
    const r = await start(source, { pollIntervalMs: 60_000 });
    try {
      const port = r.ports[1]!;
      assert.equal(await served(port, 'mail.example.test'), fpOf('example.test'));
      assert.deepEqual(calls.has, ['mail.example.test', '*.example.test', 'example.test']);
      assert.equal(await served(port, 'www.example.test'), fpOf('example.test'), 'registered with the first');
      assert.equal(await served(port, 'x.wild.example.test'), fpOf('*.wild.example.test'));
      assert.equal(await served(port, 'y.wild.example.test'), fpOf('*.wild.example.test'));
      const before = calls.has.length;
      assert.equal(await served(port, 'nowhere.example.org', false), fpOf('default.example.test'));
      assert.deepEqual(calls.has.slice(before), ['nowhere.example.org', '*.example.org', 'example.org']);
      // Looked up once per poll interval, however many clients ask.
      assert.equal(await served(port, 'nowhere.example.org', false), fpOf('default.example.test'));
      assert.equal(calls.has.length, before + 3);
      assert.deepEqual(
        r.watcher.status().map((s) => s.domain),
        ['*.wild.example.test', 'default.example.test', 'example.test'],
      );
      assert.deepEqual(r.errors, []);
    } finally {
      await r.stop();
    }
  });

  it('a domain filed under the name itself wins over a wildcard or parent already serving it', async () => {
    const store = await newStore();
    const base = await issueLeaf(['example.test', 'own.example.test']);
    const own = await issueLeaf(['own.example.test']);
    await store.install({
      cert: leaves.get('default.example.test')!.chainPEM,
      key: leaves.get('default.example.test')!.keyPEM,
      domain: 'default.example.test',
    });
    await store.install({ cert: base.chainPEM, key: base.keyPEM, domain: 'example.test' });
    await store.install({ cert: own.chainPEM, key: own.keyPEM, domain: 'own.example.test' });
    const r = await start(store);
    try {
      const port = r.ports[0]!;
      assert.equal(await served(port, 'example.test'), fp(base.certPEM));
      // own.example.test is registered now (by example.test's certificate), but a domain is filed under it.
      assert.equal(await served(port, 'own.example.test'), fp(own.certPEM));
      assert.equal(await served(port, 'example.test'), fp(base.certPEM));
    } finally {
      await r.stop();
    }
  });

  it('a concurrent first handshake for many names loads each domain once', async () => {
    const { source, calls } = counted(shared);
    const r = await start(source);
    try {
      const names = Array.from({ length: 12 }, (_, i) => `d${i % 6}.example.test`);
      const got = await Promise.all(names.map((n, i) => served(r.ports[i % 2]!, n)));
      assert.deepEqual(
        got,
        names.map((n) => fpOf(n)),
      );
      assert.deepEqual(
        calls.load.slice(1).sort(),
        Array.from({ length: 6 }, (_, i) => `d${i}.example.test`),
      );
    } finally {
      await r.stop();
    }
  });

  it('loaded domains are reloaded by the poll and removed when they leave the store; a new domain is found at once', async () => {
    const store = await newStore();
    for (const d of ['default.example.test', 'd1.example.test', 'd2.example.test']) {
      const l = leaves.get(d)!;
      await store.install({ cert: l.chainPEM, key: l.keyPEM, domain: d });
    }
    const r = await start(store, { pollIntervalMs: 50 });
    try {
      const port = r.ports[0]!;
      assert.equal(await served(port, 'd1.example.test'), fpOf('d1.example.test'));
      const renewed = await issueLeaf(['d1.example.test']);
      const reloaded = once(r.watcher, 'reload', { signal: AbortSignal.timeout(60_000) });
      await store.install({ cert: renewed.chainPEM, key: renewed.keyPEM, domain: 'd1.example.test' });
      const [event] = (await reloaded) as [CredentialReloadEvent];
      assert.equal(event.domain, 'd1.example.test');
      assert.equal(await served(port, 'd1.example.test'), fp(renewed.certPEM));
      const removed = once(r.watcher, 'remove', { signal: AbortSignal.timeout(60_000) });
      await store.remove('d1.example.test');
      const [gone] = (await removed) as [CredentialRemoveEvent];
      assert.deepEqual(gone.removedNames, ['d1.example.test']);
      assert.equal(r.registry.has('d1.example.test'), false);
      // Installed after the start: served at its first handshake (looked up again after the poll interval).
      const late = await issueLeaf(['late.example.test']);
      await store.install({ cert: late.chainPEM, key: late.keyPEM, domain: 'late.example.test' });
      assert.equal(await served(port, 'late.example.test'), fp(late.certPEM));
      assert.deepEqual(r.errors, []);
    } finally {
      await r.stop();
    }
  });

  it('an expired pair is not served (the default is) and is reported once', async () => {
    const store = await newStore();
    const l = leaves.get('default.example.test')!;
    await store.install({ cert: l.chainPEM, key: l.keyPEM, domain: 'default.example.test' });
    // Expired: installed with allowExpired (as an administrator may), refused by the watcher's checks.
    const expired = await issueLeaf(['bad.example.test'], {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    await store.install({
      cert: expired.chainPEM,
      key: expired.keyPEM,
      domain: 'bad.example.test',
      allowExpired: true,
    });
    const r = await start(store);
    try {
      const port = r.ports[0]!;
      assert.equal(await served(port, 'bad.example.test', false), fpOf('default.example.test'));
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.details.reason, 'CERT_EXPIRED');
      assert.equal(await served(port, 'bad.example.test', false), fpOf('default.example.test'));
      assert.equal(r.errors.length, 1);
    } finally {
      await r.stop();
    }
  });

  it('a source without has() is looked up through its listing; with maxContexts the first handshake builds once', async () => {
    const { source, calls } = counted(shared, false);
    const r = await start(source, { maxContexts: 2, pollIntervalMs: 60_000 });
    try {
      const port = r.ports[0]!;
      for (const d of ['d1.example.test', 'd2.example.test', 'd3.example.test'])
        assert.equal(await served(port, d), fpOf(d));
      assert.equal(calls.list, 1, 'one listing for the three lookups');
      const stats = r.registry.stats();
      // Each name once; the default's context (made by createSNIRegistry) serves the watcher's copy of it.
      assert.equal(stats.builds, 3);
      assert.equal(stats.built, 2);
      assert.equal(await served(port, 'd1.example.test'), fpOf('d1.example.test'), 'evicted, built again');
      assert.equal(r.registry.stats().builds, 4);
    } finally {
      await r.stop();
    }
  });

  it('close() detaches the lookups: names not loaded get the default', async () => {
    const { source, calls } = counted(shared);
    const r = await start(source);
    try {
      assert.equal(await served(r.ports[0]!, 'd4.example.test'), fpOf('d4.example.test'));
      r.watcher.close();
      assert.equal(await served(r.ports[0]!, 'd5.example.test', false), fpOf('default.example.test'));
      assert.equal(
        await served(r.ports[0]!, 'd4.example.test'),
        fpOf('d4.example.test'),
        'what was loaded stays',
      );
      assert.deepEqual(calls.load, ['default.example.test', 'd4.example.test']);
    } finally {
      await r.stop();
    }
  });
});
