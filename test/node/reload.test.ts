/**
 * Hot reload against real TLS servers and clients on 127.0.0.1: every check of which certificate is served
 * is a real handshake (node:tls with SNI and the test root, or openssl s_client) reading the leaf's SHA-256
 * fingerprint. The store is changed only through `CertificateStore.install`/`remove` or by writing files
 * into it by hand; certbot's and kubelet's layouts are reproduced on disk as those tools write them.
 *
 * The load proof keeps 32 clients (TLS 1.2 and 1.3, two servers: node's SNI path and the peeking server)
 * handshaking for at least 12 s and 500 handshakes while the certificate is rotated 25 times: no handshake
 * may fail, and each client must get the certificate in service when it started or one installed while it
 * ran.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SMTPServer } from 'smtp-server';
import { MailTlsError, TLSError } from '../../src/errors.js';
import type { CredentialSource } from '../../src/node/store/credential.js';
import { CertbotSource, KubernetesSecretSource } from '../../src/node/store/layouts.js';
import { CertificateStore } from '../../src/node/store/store.js';
import {
  type CredentialReloadEvent,
  type CredentialWatcher,
  type WatchCredentialsOptions,
  watchCredentials,
} from '../../src/node/tls/reload.js';
import {
  createPeekingTLSServer,
  createTLSServer,
  smtpServerOptions,
  updateSMTPServer,
} from '../../src/node/tls/servers.js';
import { createSNIRegistry, type SNIRegistry } from '../../src/node/tls/sni-registry.js';
import { waitFor } from '../helpers/timing.js';
import { runOpenSSL } from './helpers/clients.js';
import { close, listen } from './helpers/listen.js';
import { startServers } from './helpers/registry-servers.js';
import { issueLeaf, scratch, type TestCA, type TestLeafCert, testCA } from './helpers/store-fixtures.js';

let ca: TestCA;
let dir: { path: string; cleanup(): void };
let rootFile: string;
let fallback: TestLeafCert;
let counter = 0;

before(async () => {
  ca = await testCA();
  dir = scratch('mailtls-reload-');
  rootFile = join(dir.path, 'root.pem');
  writeFileSync(rootFile, ca.rootPEM);
  fallback = await issueLeaf(['default.example.test']);
});
after(() => dir.cleanup());

const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;
const fresh = (name: string): string => join(dir.path, `${name}-${++counter}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function newRegistry(): SNIRegistry {
  return createSNIRegistry({ key: fallback.keyPEM, cert: fallback.chainPEM });
}

async function newStore(): Promise<CertificateStore> {
  return new CertificateStore(fresh('store'), { trust: [ca.rootPEM] });
}

async function install(store: CertificateStore, pair: TestLeafCert, domain?: string): Promise<void> {
  await store.install({ cert: pair.chainPEM, key: pair.keyPEM, ...(domain ? { domain } : {}) });
}

/** What one handshake saw. */
interface Seen {
  readonly fingerprint?: string;
  readonly error?: string;
  readonly reused?: boolean;
}

/** A full, verified handshake (SNI + test root, no session) answering the served leaf's fingerprint. */
function handshake(
  port: number,
  servername: string | undefined,
  version?: tls.SecureVersion,
  checkName = true,
): Promise<Seen> {
  return new Promise((resolve) => {
    const options: tls.ConnectionOptions = { host: '127.0.0.1', port, ca: ca.rootPEM };
    if (servername !== undefined) options.servername = servername;
    if (servername === undefined || !checkName) options.checkServerIdentity = () => undefined;
    if (version) options.maxVersion = version;
    let done = false;
    const socket = tls.connect(options, () => {
      if (done) return;
      done = true;
      const seen: Seen = {
        fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? 'none',
        reused: socket.isSessionReused(),
      };
      socket.end();
      resolve(seen);
    });
    // only turns a hang into a failure: far above any handshake on a busy machine
    socket.setTimeout(60_000, () => socket.destroy(new Error('client timeout')));
    socket.on('error', (e) => {
      if (done) return;
      done = true;
      resolve({ error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}` });
    });
  });
}

/**
 * The fingerprint served for a name (chain always verified; `checkName: false` for names expected to get the
 * default certificate, which does not cover them).
 */
async function served(port: number, servername: string | undefined, checkName = true): Promise<string> {
  const r = await handshake(port, servername, undefined, checkName);
  assert.equal(r.error, undefined, `handshake for ${servername} failed: ${r.error}`);
  return r.fingerprint!;
}

/**
 * Waits for a watcher event (an `error` event while waiting for another one rejects: it was not expected).
 * `ms` only turns a lost event into a failure; it is far above any plausible wait on a loaded machine.
 */
async function next<T>(
  watcher: CredentialWatcher,
  event: 'reload' | 'error' | 'remove',
  ms = 60_000,
): Promise<T> {
  const [value] = await once(watcher, event, { signal: AbortSignal.timeout(ms) });
  return value as T;
}

function watchWithErrors(
  source: CredentialSource,
  registry: SNIRegistry,
  options: WatchCredentialsOptions,
): { watcher: CredentialWatcher; errors: TLSError[] } {
  const watcher = watchCredentials(source, registry, options);
  const errors: TLSError[] = [];
  watcher.on('error', (e) => errors.push(e));
  return { watcher, errors };
}

/** A new store with `pairs` installed under their domains, watched into a new registry that two servers serve. */
async function watchedStore(pairs: [pair: TestLeafCert, domain: string][]): Promise<{
  store: CertificateStore;
  registry: SNIRegistry;
  watcher: CredentialWatcher;
  errors: TLSError[];
  ports: number[];
  stop(): Promise<void>;
}> {
  const store = await newStore();
  for (const [pair, domain] of pairs) await install(store, pair, domain);
  const registry = newRegistry();
  const { watcher, errors } = watchWithErrors(store, registry, { pollIntervalMs: 0 });
  await watcher.ready;
  const { ports, stop } = await startServers(registry);
  return { store, registry, watcher, errors, ports, stop };
}

// ---------------------------------------------------------------------------------------------------------

describe('watchCredentials: the store', () => {
  it('an install changes the served certificate (node SNI path and peeking server, node and openssl clients); open connections are untouched', async () => {
    const store = await newStore();
    const [a, b] = await Promise.all([
      issueLeaf(['mail.example.test', 'smtp.example.test']),
      issueLeaf(['mail.example.test', 'smtp.example.test', 'imap.example.test']),
    ]);
    await install(store, a);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { pollIntervalMs: 1000 });
    const first = await watcher.ready;
    assert.deepEqual(first.reloaded, ['mail.example.test']);
    assert.deepEqual(first.failed, []);
    assert.deepEqual([...registry.patterns()].sort(), ['mail.example.test', 'smtp.example.test']);
    const { ports, stop } = await startServers(registry);
    try {
      for (const port of ports) {
        assert.equal(await served(port, 'mail.example.test'), fp(a.certPEM));
        assert.equal(await served(port, 'smtp.example.test'), fp(a.certPEM));
        assert.equal(
          await served(port, 'imap.example.test', false),
          fp(fallback.certPEM),
          'not covered yet: default',
        );
      }
      // a connection opened before the rotation
      const open = tls.connect({
        host: '127.0.0.1',
        port: ports[0]!,
        servername: 'mail.example.test',
        ca: ca.rootPEM,
      });
      await once(open, 'secureConnect');
      assert.equal(open.getPeerX509Certificate()?.fingerprint256, fp(a.certPEM));
      const v1 = await store.version('mail.example.test');

      const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, b);
      const event = await reloaded;
      assert.equal(event.domain, 'mail.example.test');
      assert.equal(event.oldVersion, v1);
      assert.equal(event.newVersion, await store.version('mail.example.test'));
      assert.notEqual(event.newVersion, v1);
      assert.equal(event.fingerprint, fp(b.certPEM));
      assert.equal(event.oldFingerprint, fp(a.certPEM));
      assert.deepEqual(event.names, ['imap.example.test', 'mail.example.test', 'smtp.example.test']);
      assert.deepEqual(event.removedNames, []);
      assert.equal(event.isDefault, false);

      for (const port of ports)
        for (const name of ['mail.example.test', 'smtp.example.test', 'imap.example.test'])
          assert.equal(await served(port, name), fp(b.certPEM), `${name} on ${port}`);
      // openssl s_client cross-check, verifying chain and host name
      const o = await runOpenSSL({ port: ports[1]!, host: 'imap.example.test', caFile: rootFile, input: '' });
      assert.ok(o.ok, o.output);
      assert.equal(o.fingerprint, fp(b.certPEM));

      // the connection opened before the rotation (with the old certificate) still works
      open.write('still here\n');
      const [echoed] = await once(open, 'data');
      assert.equal(String(echoed), 'still here\n');
      open.destroy();
      assert.deepEqual(errors, []);
      const [status] = watcher.status();
      assert.equal(status?.fingerprint, fp(b.certPEM));
      assert.equal(status?.version, event.newVersion);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it('a bad pair dropped in by hand keeps the old certificate serving and is reported with the reason', async () => {
    const store = await newStore();
    const domain = 'mail.example.test';
    const [good, other, expired, foreign] = await Promise.all([
      issueLeaf([domain]),
      issueLeaf([domain]),
      issueLeaf([domain], { notBefore: new Date('2025-01-01Z'), notAfter: new Date('2026-01-01Z') }),
      issueLeaf(['other.example.test']),
    ]);
    await install(store, good);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { pollIntervalMs: 1000 });
    await watcher.ready;
    const { ports, stop } = await startServers(registry);
    // Files are written into the version directory that `current` points to, as an administrator would.
    const certFile = (): string => realpathSync(join(store.root, 'certs', `${domain}.crt`));
    const keyFile = (): string => realpathSync(join(store.root, 'private', `${domain}.key`));
    const rows: { name: string; drop: () => void; wantReason: RegExp }[] = [
      {
        name: 'a key that does not belong to the certificate',
        drop: () => writeFileSync(keyFile(), other.keyPEM),
        wantReason: /^ERR_KEY_MISMATCH$/,
      },
      {
        name: 'a corrupt certificate file',
        drop: () =>
          writeFileSync(
            certFile(),
            '-----BEGIN CERTIFICATE-----\nMIIB!!not base64\n-----END CERTIFICATE-----\n',
          ),
        wantReason: /^ERR_(PEM|DER|CERT)_/,
      },
      {
        name: 'a truncated certificate file',
        drop: () => writeFileSync(certFile(), good.chainPEM.slice(0, 300)),
        wantReason: /^ERR_(PEM|DER|CERT)_/,
      },
      {
        name: 'an empty certificate file',
        drop: () => writeFileSync(certFile(), ''),
        wantReason: /^ERR_(PEM|STORE)_/,
      },
      {
        name: 'an expired certificate with its key',
        drop: () => {
          writeFileSync(certFile(), expired.chainPEM);
          writeFileSync(keyFile(), expired.keyPEM);
        },
        wantReason: /^CERT_EXPIRED$/,
      },
      {
        name: 'a certificate for another name with its key',
        drop: () => {
          writeFileSync(certFile(), foreign.chainPEM);
          writeFileSync(keyFile(), foreign.keyPEM);
        },
        wantReason: /^NAME_NOT_COVERED$/,
      },
      {
        name: 'the key file removed',
        drop: () => unlinkSync(keyFile()),
        wantReason: /^ERR_STORE_/,
      },
    ];
    try {
      let serving = fp(good.certPEM);
      for (const row of rows) {
        const failed = next<TLSError>(watcher, 'error');
        row.drop();
        const error = await failed;
        assert.ok(error instanceof TLSError && error instanceof MailTlsError, row.name);
        assert.equal(error.code, 'ERR_TLS_RELOAD', row.name);
        assert.equal(error.details.domain, domain, row.name);
        assert.match(String(error.details.reason), row.wantReason, `${row.name}: ${error.message}`);
        assert.equal(error.details.servedFingerprint, serving, row.name);
        assert.match(error.message, /stays in service/, row.name);
        assert.ok(error.cause !== undefined, row.name);
        // no key material anywhere in what is reported
        for (const text of [
          error.message,
          JSON.stringify(error),
          String(error),
          JSON.stringify(error.details),
        ]) {
          assert.doesNotMatch(text, /PRIVATE KEY/, row.name);
          for (const k of [good.keyPEM, other.keyPEM, expired.keyPEM, foreign.keyPEM])
            assert.ok(!text.includes(k.split('\n')[1]!), `${row.name}: key bytes in the error`);
        }
        for (const port of ports)
          assert.equal(await served(port, domain), serving, `${row.name}: old one serves`);
        assert.equal(watcher.status()[0]?.lastError, error);
        // a correct install repairs it
        const repaired = await issueLeaf([domain]);
        const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
        await install(store, repaired);
        assert.equal((await reloaded).fingerprint, fp(repaired.certPEM), row.name);
        serving = fp(repaired.certPEM);
        for (const port of ports) assert.equal(await served(port, domain), serving, `${row.name}: repaired`);
        assert.equal(watcher.status()[0]?.lastError, undefined);
      }
      assert.equal(errors.length, rows.length, errors.map((e) => e.message).join('\n'));
      assert.equal(watcher.stats().failures, rows.length);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it("with domains 'all': a new domain is served, names pass to the certificate filed under them, a removed domain falls back", async () => {
    const store = await newStore();
    const [base, mail, base2] = await Promise.all([
      issueLeaf(['example.test', 'mail.example.test', 'www.example.test']),
      issueLeaf(['mail.example.test']),
      issueLeaf(['example.test', 'www.example.test']),
    ]);
    await install(store, base, 'example.test');
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { pollIntervalMs: 1000 });
    await watcher.ready;
    const { ports, stop } = await startServers(registry);
    const port = ports[0]!;
    try {
      assert.equal(await served(port, 'mail.example.test'), fp(base.certPEM));
      // a new domain: its own name moves to its own certificate
      let reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, mail, 'mail.example.test');
      const e1 = await reloaded;
      assert.equal(e1.domain, 'mail.example.test');
      assert.deepEqual(e1.names, ['mail.example.test']);
      assert.equal(await served(port, 'mail.example.test'), fp(mail.certPEM));
      assert.equal(await served(port, 'www.example.test'), fp(base.certPEM));
      // example.test is renewed without www: www falls back to the default
      reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, base2, 'example.test');
      const e2 = await reloaded;
      assert.equal(e2.domain, 'example.test');
      assert.deepEqual(e2.names, ['example.test', 'www.example.test']);
      assert.deepEqual(e2.removedNames, []);
      assert.equal(await served(port, 'example.test'), fp(base2.certPEM));
      assert.equal(await served(port, 'mail.example.test'), fp(mail.certPEM));
      // mail.example.test removed: its name is served by nothing else now, so the default
      const removed = next<{ domain: string; removedNames: string[] }>(watcher, 'remove');
      await store.remove('mail.example.test');
      const r = await removed;
      assert.equal(r.domain, 'mail.example.test');
      assert.deepEqual(r.removedNames, ['mail.example.test']);
      assert.equal(await served(port, 'mail.example.test', false), fp(fallback.certPEM));
      assert.deepEqual([...registry.patterns()].sort(), ['example.test', 'www.example.test']);
      assert.deepEqual(
        watcher.status().map((s) => s.domain),
        ['example.test'],
      );
      assert.deepEqual(errors, []);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it("with domains 'all': a store.remove() caught half-way (current gone, links left) is a removal, not an error", async () => {
    // remove() drops history/<name>/current first, then the links: a check between the two steps (a busy
    // machine makes that window long) saw the dangling links listed and reported ERR_TLS_RELOAD.
    const [base, mail] = await Promise.all([issueLeaf(['example.test']), issueLeaf(['mail.example.test'])]);
    const { store, watcher, errors, stop } = await watchedStore([
      [base, 'example.test'],
      [mail, 'mail.example.test'],
    ]);
    try {
      unlinkSync(join(store.root, 'history', 'mail.example.test', 'current'));
      const r = await watcher.refresh();
      assert.deepEqual(r.removed, ['mail.example.test'], r.failed[0]?.error.message);
      assert.deepEqual(errors, []);
      assert.deepEqual(await store.list(), ['example.test']);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it('each loaded certificate is built once: the context checked at load is the one its names serve', async () => {
    const [wide, narrow, renewed] = await Promise.all([
      issueLeaf(['example.test', 'www.example.test']),
      issueLeaf(['mail.example.test']),
      issueLeaf(['mail.example.test']),
    ]);
    const { store, registry, watcher, errors, ports, stop } = await watchedStore([
      [wide, 'example.test'],
      [narrow, 'mail.example.test'],
    ]);
    try {
      assert.equal(registry.stats().builds, 2, 'built while loading, to check them');
      for (const name of ['example.test', 'www.example.test', 'mail.example.test'])
        assert.equal(
          await served(ports[0]!, name),
          fp(name === 'mail.example.test' ? narrow.certPEM : wide.certPEM),
        );
      assert.deepEqual(
        [registry.stats().builds, registry.stats().contexts],
        [2, 3],
        'serving built nothing more',
      );
      const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, renewed, 'mail.example.test');
      await reloaded;
      assert.equal(await served(ports[0]!, 'mail.example.test'), fp(renewed.certPEM));
      assert.deepEqual(
        [registry.stats().builds, registry.stats().contexts],
        [3, 3],
        'the renewal built once',
      );
      assert.deepEqual(errors, []);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it('a name covered by two certificates is handed over when its owner leaves', async () => {
    const [wide, narrow] = await Promise.all([
      issueLeaf(['example.test', 'mail.example.test']),
      issueLeaf(['mail.example.test']),
    ]);
    const { store, watcher, errors, ports, stop } = await watchedStore([
      [wide, 'example.test'],
      [narrow, 'mail.example.test'],
    ]);
    try {
      assert.equal(await served(ports[1]!, 'mail.example.test'), fp(narrow.certPEM));
      const removed = next(watcher, 'remove');
      await store.remove('mail.example.test');
      await removed;
      assert.equal(await served(ports[1]!, 'mail.example.test'), fp(wide.certPEM));
      assert.deepEqual(watcher.status()[0]?.names, ['example.test', 'mail.example.test']);
      assert.deepEqual(errors, []);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it('refresh() reloads without fs.watch or polling (SIGHUP style); force re-checks unchanged pairs', async () => {
    const store = await newStore();
    const [a, b] = await Promise.all([issueLeaf(['mail.example.test']), issueLeaf(['mail.example.test'])]);
    await install(store, a);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { watch: false, pollIntervalMs: 0 });
    await watcher.ready;
    const { ports, stop } = await startServers(registry);
    try {
      assert.equal(watcher.stats().watches, 0);
      await install(store, b);
      await sleep(300);
      assert.equal(await served(ports[0]!, 'mail.example.test'), fp(a.certPEM), 'nothing watches: still old');
      const r = await watcher.refresh();
      assert.deepEqual(r, { reloaded: ['mail.example.test'], unchanged: [], failed: [], removed: [] });
      assert.equal(await served(ports[0]!, 'mail.example.test'), fp(b.certPEM));
      assert.deepEqual((await watcher.refresh()).unchanged, ['mail.example.test']);
      // force loads and checks again; the same pair is not swapped
      let reloads = 0;
      watcher.on('reload', () => reloads++);
      const forced = await watcher.refresh({ force: true });
      assert.deepEqual(forced.unchanged, ['mail.example.test']);
      assert.equal(reloads, 0);
      // concurrent refreshes share one run
      const [x, y] = [watcher.refresh(), watcher.refresh()];
      assert.equal(x, y);
      await x;
      assert.deepEqual(errors, []);
    } finally {
      watcher.close();
      await stop();
    }
  });

  it('polling alone (no fs.watch) picks up an install', async () => {
    const store = await newStore();
    const [a, b] = await Promise.all([issueLeaf(['mail.example.test']), issueLeaf(['mail.example.test'])]);
    await install(store, a);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { watch: false, pollIntervalMs: 50 });
    await watcher.ready;
    try {
      const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, b);
      assert.equal((await reloaded).fingerprint, fp(b.certPEM));
      assert.equal(registry.resolveIfReady('mail.example.test')?.summary.fingerprint256, fp(b.certPEM));
      assert.deepEqual(errors, []);
    } finally {
      watcher.close();
    }
  });

  it('defaultDomain replaces the default: clients without SNI (node, smtp-server STARTTLS via openssl) get the new one', async () => {
    const store = await newStore();
    const [a, b] = await Promise.all([issueLeaf(['mx.example.test']), issueLeaf(['mx.example.test'])]);
    await install(store, a);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, {
      domains: ['mx.example.test'],
      defaultDomain: 'mx.example.test',
      pollIntervalMs: 0,
    });
    await watcher.ready;
    assert.equal(registry.defaultSummary.fingerprint256, fp(a.certPEM));
    const { ports, stop } = await startServers(registry);
    const smtp = new SMTPServer({
      secure: false,
      authOptional: true,
      logger: false,
      ...smtpServerOptions(registry),
    });
    const stopFollowing = updateSMTPServer(smtp, registry);
    const smtpPort = await listen(smtp.server);
    try {
      for (const port of ports) assert.equal(await served(port, undefined), fp(a.certPEM));
      const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
      await install(store, b);
      assert.equal((await reloaded).isDefault, true);
      for (const port of ports) assert.equal(await served(port, undefined), fp(b.certPEM));
      const o = await runOpenSSL({
        port: smtpPort,
        host: 'mx.example.test',
        sni: false,
        starttls: 'smtp',
        caFile: rootFile,
        input: 'QUIT\r\n',
      });
      assert.ok(o.ok, o.output);
      assert.equal(o.fingerprint, fp(b.certPEM));
      assert.equal(watcher.status()[0]?.isDefault, true);
      assert.deepEqual(errors, []);
    } finally {
      stopFollowing();
      watcher.close();
      await new Promise<void>((r) => smtp.close(() => r()));
      await stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// certbot and Kubernetes layouts, reproduced as the tools write them

const CERTBOT_FILES = ['cert', 'privkey', 'chain', 'fullchain'] as const;

function certbotRenew(configDir: string, name: string, n: number, pair: TestLeafCert): void {
  const archive = join(configDir, 'archive', name);
  const live = join(configDir, 'live', name);
  mkdirSync(archive, { recursive: true, mode: 0o700 });
  mkdirSync(live, { recursive: true, mode: 0o700 });
  const content = {
    cert: pair.certPEM,
    privkey: pair.keyPEM,
    chain: ca.intermediatePEM,
    fullchain: pair.certPEM + ca.intermediatePEM,
  };
  for (const kind of CERTBOT_FILES) writeFileSync(join(archive, `${kind}${n}.pem`), content[kind]);
  // certbot re-points the four live/ links one after the other
  for (const kind of CERTBOT_FILES) {
    const tmp = join(live, `${kind}.pem.new`);
    symlinkSync(join('..', '..', 'archive', name, `${kind}${n}.pem`), tmp);
    renameSync(tmp, join(live, `${kind}.pem`));
  }
}

let kubeletSeq = 0;
function kubeletWrite(mount: string, pair: TestLeafCert): void {
  mkdirSync(mount, { recursive: true });
  const old = existsSync(join(mount, '..data')) ? readlinkSync(join(mount, '..data')) : undefined;
  const ts = `..2026_11_29_10_30_00.${String(++kubeletSeq).padStart(9, '0')}`;
  mkdirSync(join(mount, ts));
  const payload = {
    'tls.crt': pair.certPEM + ca.intermediatePEM,
    'tls.key': pair.keyPEM,
    'ca.crt': ca.rootPEM,
  };
  for (const [file, text] of Object.entries(payload)) writeFileSync(join(mount, ts, file), text);
  symlinkSync(ts, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  for (const file of Object.keys(payload))
    if (!existsSync(join(mount, file))) symlinkSync(join('..data', file), join(mount, file));
  if (old !== undefined) rmSync(join(mount, old), { recursive: true, force: true });
}

describe('watchCredentials: certbot and Kubernetes layouts', () => {
  const layouts = [
    {
      layout: 'certbot live/ links re-pointed to new archive files',
      make: (): { source: CredentialSource; name: string; swap: (p: TestLeafCert) => void } => {
        const configDir = fresh('letsencrypt');
        let n = 0;
        const swap = (p: TestLeafCert): void => certbotRenew(configDir, 'example.test', ++n, p);
        return { source: new CertbotSource(configDir), name: 'example.test', swap };
      },
    },
    {
      layout: 'Kubernetes secret ..data swap',
      make: (): { source: CredentialSource; name: string; swap: (p: TestLeafCert) => void } => {
        const mount = fresh('secret');
        const swap = (p: TestLeafCert): void => kubeletWrite(mount, p);
        return { source: new KubernetesSecretSource({ 'example-tls': mount }), name: 'example-tls', swap };
      },
    },
  ];
  const modes: { mode: string; options: WatchCredentialsOptions }[] = [
    { mode: 'fs.watch only', options: { pollIntervalMs: 0 } },
    { mode: 'polling only', options: { watch: false, pollIntervalMs: 40 } },
  ];
  for (const { layout, make } of layouts)
    for (const { mode, options } of modes)
      it(`${layout} is seen and reloaded (${mode})`, async () => {
        const pairs = await Promise.all(
          [0, 1, 2, 3].map(() => issueLeaf(['example.test', 'mail.example.test'])),
        );
        const { source, name, swap } = make();
        swap(pairs[0]!);
        const registry = newRegistry();
        const { watcher, errors } = watchWithErrors(source, registry, options);
        const first = await watcher.ready;
        assert.deepEqual(first.reloaded, [name]);
        const { ports, stop } = await startServers(registry);
        try {
          if (options.watch !== false)
            assert.ok(watcher.stats().watches >= 3, `${watcher.stats().watches} watches`);
          assert.equal(await served(ports[0]!, 'mail.example.test'), fp(pairs[0]!.certPEM));
          for (let i = 1; i < pairs.length; i++) {
            const reloaded = next<CredentialReloadEvent>(watcher, 'reload');
            swap(pairs[i]!);
            const e = await reloaded;
            assert.equal(e.domain, name);
            assert.equal(e.fingerprint, fp(pairs[i]!.certPEM));
            assert.equal(e.newVersion, await source.version(name));
            for (const port of ports)
              assert.equal(await served(port, 'mail.example.test'), fp(pairs[i]!.certPEM), `swap ${i}`);
          }
          assert.deepEqual(errors, []);
        } finally {
          watcher.close();
          await stop();
        }
      });
});

// ---------------------------------------------------------------------------------------------------------

describe('watchCredentials: certificates made by openssl, dates and names', () => {
  /** Runs openssl in `cwd`; throws with its output on failure. */
  const openssl = (cwd: string, args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  /** A self-signed certificate and key made by the openssl CLI in a plain-file Kubernetes mount. */
  const mount = (
    keyArgs: string[],
    subject: string,
    san: string | undefined,
  ): { dir: string; cert: string } => {
    const dir = fresh('openssl-mount');
    mkdirSync(dir);
    openssl(dir, keyArgs);
    openssl(dir, [
      'req',
      '-x509',
      '-key',
      'tls.key',
      '-subj',
      subject,
      ...(san === undefined ? [] : ['-addext', `subjectAltName=${san}`]),
      '-days',
      '30',
      '-out',
      'tls.crt',
    ]);
    return { dir, cert: readFileSync(join(dir, 'tls.crt'), 'utf8') };
  };
  const rsaPKCS1 = ['genrsa', '-traditional', '-out', 'tls.key', '2048'];
  const ecKey = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'tls.key'];
  const year = 365 * 24 * 3600 * 1000;
  const rows: {
    name: string;
    key: string[];
    subject: string;
    san: string | undefined;
    options?: WatchCredentialsOptions;
    wantNames?: string[];
    wantReason?: string;
  }[] = [
    {
      name: 'RSA PKCS#1 key, a wildcard among the names',
      key: rsaPKCS1,
      subject: '/CN=mail.example.test',
      san: 'DNS:mail.example.test,DNS:*.example.test',
      wantNames: ['*.example.test', 'mail.example.test'],
    },
    {
      name: 'no subjectAltName at all: the Common Name',
      key: ecKey,
      subject: '/CN=legacy.example.test',
      san: undefined,
      wantNames: ['legacy.example.test'],
    },
    {
      name: 'only an IP address in subjectAltName',
      key: ecKey,
      subject: '/CN=192.0.2.1',
      san: 'IP:192.0.2.1',
      wantReason: 'NO_DNS_NAMES',
    },
    {
      name: 'an IDN A-label, and a partial wildcard that is left out',
      key: ecKey,
      subject: '/CN=xn--bcher-kva.example',
      san: 'DNS:xn--bcher-kva.example,DNS:m*.example.test',
      wantNames: ['xn--bcher-kva.example'],
    },
    {
      name: 'at after notAfter',
      key: ecKey,
      subject: '/CN=mail.example.test',
      san: 'DNS:mail.example.test',
      options: { at: () => new Date(Date.now() + year) },
      wantReason: 'CERT_EXPIRED',
    },
    {
      name: 'at before notBefore',
      key: ecKey,
      subject: '/CN=mail.example.test',
      san: 'DNS:mail.example.test',
      options: { at: new Date(Date.now() - year) },
      wantReason: 'CERT_NOT_YET_VALID',
    },
    {
      name: 'allowExpired serves it anyway',
      key: ecKey,
      subject: '/CN=mail.example.test',
      san: 'DNS:mail.example.test',
      options: { at: new Date(Date.now() + year), allowExpired: true },
      wantNames: ['mail.example.test'],
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const { dir: mountDir, cert } = mount(row.key, row.subject, row.san);
      const registry = newRegistry();
      const { watcher, errors } = watchWithErrors(
        new KubernetesSecretSource({ secret: mountDir }),
        registry,
        {
          watch: false,
          pollIntervalMs: 0,
          ...row.options,
        },
      );
      const r = await watcher.ready;
      watcher.close();
      if (row.wantReason !== undefined) {
        assert.deepEqual(r.reloaded, []);
        assert.equal(r.failed[0]?.error.details.reason, row.wantReason, r.failed[0]?.error.message);
        assert.equal(errors.length, 1);
        assert.equal(registry.size, 0);
        return;
      }
      assert.deepEqual(r.failed, [], r.failed[0]?.error.message);
      assert.deepEqual([...registry.patterns()].sort(), row.wantNames);
      // a real handshake for each name (a wildcard through a name under it), trusting the self-signed certificate
      const { ports, stop } = await startServers(registry);
      try {
        for (const pattern of row.wantNames!) {
          const name = pattern.replace(/^\*\./, 'imap.');
          const seen = await new Promise<string>((resolve, reject) => {
            const socket = tls.connect(
              {
                host: '127.0.0.1',
                port: ports[0]!,
                servername: name,
                ca: cert,
                checkServerIdentity: () => undefined,
              },
              () => {
                resolve(socket.getPeerCertificate().fingerprint256);
                socket.end();
              },
            );
            socket.on('error', reject);
          });
          assert.equal(seen, fp(cert), name);
        }
      } finally {
        await stop();
      }
    });
});

describe('watchCredentials: robustness', () => {
  it('refuses wrong arguments', () => {
    const registry = newRegistry();
    const store = new CertificateStore(fresh('args'));
    const rows: { name: string; call: () => unknown; want: typeof TypeError | typeof RangeError }[] = [
      { name: 'no source', call: () => watchCredentials(null as never, registry), want: TypeError },
      {
        name: 'not a source',
        call: () => watchCredentials({ kind: 'x' } as never, registry),
        want: TypeError,
      },
      { name: 'no registry', call: () => watchCredentials(store, {} as never), want: TypeError },
      {
        name: 'domains not a list',
        call: () => watchCredentials(store, registry, { domains: 'x' as never }),
        want: TypeError,
      },
      {
        name: 'empty domain',
        call: () => watchCredentials(store, registry, { domains: [''] }),
        want: TypeError,
      },
      {
        name: 'defaultDomain',
        call: () => watchCredentials(store, registry, { defaultDomain: 3 as never }),
        want: TypeError,
      },
      {
        name: 'negative debounce',
        call: () => watchCredentials(store, registry, { debounceMs: -1 }),
        want: RangeError,
      },
      {
        name: 'NaN debounce',
        call: () => watchCredentials(store, registry, { debounceMs: Number.NaN }),
        want: RangeError,
      },
      {
        name: 'poll too fast',
        call: () => watchCredentials(store, registry, { pollIntervalMs: 1 }),
        want: RangeError,
      },
      {
        name: 'bad at',
        call: () => watchCredentials(store, registry, { at: new Date('x') }),
        want: TypeError,
      },
      {
        name: 'bad signal',
        call: () => watchCredentials(store, registry, { signal: {} as never }),
        want: TypeError,
      },
    ];
    for (const row of rows) assert.throws(row.call, row.want, row.name);
  });

  it('an unreadable source, a failing load and a throwing listener never crash: errors, or warnings without a listener', async () => {
    const registry = newRegistry();
    const broken: CredentialSource = {
      kind: 'broken',
      list: async () => {
        throw new Error('cannot list');
      },
      load: async () => {
        throw new Error('cannot load');
      },
      version: async () => 'v1',
      watchPaths: async () => ['/nonexistent/mailtls-reload-test'],
      files: async () => ({ cert: '/nonexistent/a.crt', key: '/nonexistent/a.key' }),
    };
    // without an 'error' listener: process warnings
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const w1 = watchCredentials(broken, registry, { domains: ['a.example.test'], pollIntervalMs: 0 });
      const r = await w1.ready;
      assert.equal(r.failed.length, 1);
      assert.equal(r.failed[0]?.error.code, 'ERR_TLS_RELOAD');
      assert.equal(r.failed[0]?.error.details.reason, 'Error');
      assert.match(r.failed[0]!.error.message, /nothing is served for it yet: cannot load/);
      w1.close();
      const w2 = watchCredentials(broken, registry, { pollIntervalMs: 0 });
      const r2 = await w2.ready;
      assert.deepEqual(r2, { reloaded: [], unchanged: [], failed: [], removed: [] });
      w2.close();
      await sleep(20);
      const codes = warnings.map((w) => (w as Error & { code?: string }).code);
      assert.deepEqual(
        codes,
        ['ERR_TLS_RELOAD', 'ERR_TLS_RELOAD'],
        warnings.map((w) => w.message).join('\n'),
      );
      assert.match(warnings[1]!.message, /Listing the credentials of the broken source failed/);

      // a throwing 'reload' listener: a warning, and the watcher carries on
      warnings.length = 0;
      const store = await newStore();
      const [a, b] = await Promise.all([issueLeaf(['mail.example.test']), issueLeaf(['mail.example.test'])]);
      await install(store, a);
      const w3 = watchCredentials(store, registry, { pollIntervalMs: 0 });
      w3.on('reload', () => {
        throw new Error('listener bug');
      });
      await w3.ready;
      await install(store, b);
      await waitFor(
        () => registry.resolveIfReady('mail.example.test')?.summary.fingerprint256 === fp(b.certPEM),
        'the new certificate in the registry',
      );
      assert.equal(registry.resolveIfReady('mail.example.test')?.summary.fingerprint256, fp(b.certPEM));
      w3.close();
      assert.ok(warnings.some((w) => /'reload' listener threw: listener bug/.test(w.message)));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a failure is reported once per change, not on every poll', async () => {
    const store = await newStore();
    const [a, bad] = await Promise.all([issueLeaf(['mail.example.test']), issueLeaf(['mail.example.test'])]);
    await install(store, a);
    const { watcher, errors } = watchWithErrors(store, newRegistry(), { watch: false, pollIntervalMs: 20 });
    await watcher.ready;
    try {
      const failed = next<TLSError>(watcher, 'error');
      writeFileSync(realpathSync(join(store.root, 'private', 'mail.example.test.key')), bad.keyPEM);
      assert.equal((await failed).details.reason, 'ERR_KEY_MISMATCH');
      // ten more polls of the same files, however long they take
      const checks = watcher.stats().checks;
      await waitFor(() => watcher.stats().checks >= checks + 10, 'ten more polls');
      assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
      assert.equal(watcher.stats().failures, 1);
    } finally {
      watcher.close();
    }
  });

  it('a file rewritten while the pair is read is judged on what was read: one report, however slow the reads', async () => {
    // The race a loaded machine opens: the watcher has stamped the files (version, inode, size, times) and
    // a write lands before it reads them. Reproduced without timing: the source's load writes first.
    const store = await newStore();
    const domain = 'mail.example.test';
    await install(store, await issueLeaf([domain]));
    const certFile = realpathSync(join(store.root, 'certs', `${domain}.crt`));
    const corrupt = (n: number): string =>
      `-----BEGIN CERTIFICATE-----\nMIIB!!not base64 ${'x'.repeat(n)}\n-----END CERTIFICATE-----\n`;
    let writeDuringLoad: string | undefined;
    const racing: CredentialSource = {
      kind: store.kind,
      list: () => store.list(),
      version: (d) => store.version(d),
      watchPaths: (d) => store.watchPaths(d),
      files: (d) => store.files(d),
      load: async (d) => {
        if (writeDuringLoad !== undefined) writeFileSync(certFile, writeDuringLoad);
        writeDuringLoad = undefined;
        return store.load(d);
      },
    };
    const { watcher, errors } = watchWithErrors(racing, newRegistry(), { watch: false, pollIntervalMs: 0 });
    try {
      assert.deepEqual((await watcher.ready).reloaded, [domain]);
      writeFileSync(certFile, corrupt(1));
      writeDuringLoad = corrupt(20);
      const first = await watcher.refresh();
      assert.equal(first.failed[0]?.error.details.reason, 'ERR_PEM_BASE64');
      // the same files, checked again (a poll, a refresh): the refusal is not reported again
      const again = await watcher.refresh();
      assert.equal(again.failed[0]?.error, first.failed[0]?.error, 'the recorded refusal');
      assert.equal(readFileSync(certFile, 'utf8'), corrupt(20));
      assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
      assert.equal(watcher.stats().failures, 1);
    } finally {
      watcher.close();
    }
  });

  it('close() releases every fs watch and timer; an aborted signal closes', async () => {
    const store = await newStore();
    await Promise.all(
      ['a.example.test', 'b.example.test'].map(async (d) => install(store, await issueLeaf([d]))),
    );
    const count = (what: string): number => process.getActiveResourcesInfo().filter((r) => r === what).length;
    const before = { fs: count('FSEventWrap'), timers: count('Timeout') };
    const controller = new AbortController();
    const watcher = watchCredentials(store, newRegistry(), {
      pollIntervalMs: 1000,
      signal: controller.signal,
    });
    await watcher.ready;
    const open = watcher.stats().watches;
    assert.ok(open >= 6, `${open} watches`);
    assert.equal(count('FSEventWrap'), before.fs + open);
    assert.ok(count('Timeout') > before.timers, 'the poll timer is active');
    controller.abort();
    assert.equal(watcher.closed, true);
    assert.equal(watcher.stats().watches, 0);
    await sleep(20); // libuv closes the handles in a later turn of the loop
    assert.equal(count('FSEventWrap'), before.fs);
    // (at most: a timer of an earlier test's socket may have ended meanwhile; the child-process test below is exact)
    assert.ok(count('Timeout') <= before.timers, `${count('Timeout')} timers, ${before.timers} before`);
    // closed before start
    const w2 = watchCredentials(store, newRegistry(), { signal: AbortSignal.abort() });
    assert.equal(w2.closed, true);
    assert.deepEqual((await w2.ready).reloaded, []);
    assert.equal(count('FSEventWrap'), before.fs);
  });

  it('a process whose watcher is closed exits by itself; one that forgets close() does not', async () => {
    const store = await newStore();
    await install(store, await issueLeaf(['mail.example.test']));
    const reloadModule = fileURLToPath(new URL('../../src/node/tls/reload.js', import.meta.url));
    const storeModule = fileURLToPath(new URL('../../src/node/store/store.js', import.meta.url));
    const registryModule = fileURLToPath(new URL('../../src/node/tls/sni-registry.js', import.meta.url));
    const script = (closeIt: boolean): string => `
      import { watchCredentials } from ${JSON.stringify(reloadModule)};
      import { CertificateStore } from ${JSON.stringify(storeModule)};
      import { createSNIRegistry } from ${JSON.stringify(registryModule)};
      const store = new CertificateStore(${JSON.stringify(store.root)});
      const c = await store.load('mail.example.test');
      const w = watchCredentials(store, createSNIRegistry(c), { pollIntervalMs: 200 });
      const r = await w.ready;
      console.log('ready', r.reloaded.join(','), w.stats().watches);
      ${closeIt ? 'w.close();' : ''}
    `;
    // `afterReadyMs`: how long the child may live on once it has printed its last line (its script has ended,
    // so only an open handle keeps it alive); undefined: until it exits. The time it takes to start, load and
    // print does not count; `safetyMs` only turns a hang into a failure.
    const runChild = (closeIt: boolean, afterReadyMs: number | undefined, safetyMs = 120_000) =>
      new Promise<{ code: number | null; killed: boolean; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script(closeIt)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let killed = false;
        const kill = (): void => {
          killed = true;
          child.kill('SIGKILL');
        };
        const timers = [setTimeout(kill, safetyMs)];
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (afterReadyMs !== undefined && out.endsWith('\n') && timers.length === 1)
            timers.push(setTimeout(kill, afterReadyMs));
        });
        child.stderr.on('data', (d: Buffer) => {
          out += d;
        });
        child.on('close', (code) => {
          for (const t of timers) clearTimeout(t);
          resolve({ code, killed, out });
        });
      });
    const [closed, forgotten] = await Promise.all([runChild(true, undefined), runChild(false, 2000)]);
    assert.equal(closed.killed, false, `the closed watcher kept the process alive: ${closed.out}`);
    assert.equal(closed.code, 0, closed.out);
    assert.match(closed.out, /^ready mail\.example\.test [1-9]\d*\n$/);
    assert.equal(
      forgotten.killed,
      true,
      `control: an open watcher must keep the process alive (${forgotten.out})`,
    );
    assert.match(forgotten.out, /^ready mail\.example\.test/);
  });
});

// ---------------------------------------------------------------------------------------------------------

/**
 * The clients of the load proof run in a worker thread (their own event loop), so that the server's loop is
 * not starved by them. Each full handshake reads, from memory shared with the server thread, the index of
 * the certificate in service when it starts and when it ends; the certificate it receives must be one of
 * those in service in between: the old one or a newer one, never another one, never an error. The clients
 * also count their handshakes and mark each certificate they were served there, so the test rotates and
 * ends by what the clients saw, not by how much a busy machine managed in a given time.
 */
const LOAD_CLIENTS = `
const { workerData, parentPort } = require('node:worker_threads');
const tls = require('node:tls');
const { ports, names, ca, clients, fps } = workerData;
const shared = new Int32Array(workerData.shared); // [serving index, stop flag, handshakes, served flags...]
const r = { handshakes: 0, failures: 0, reused: 0, wrong: 0, samples: [], seen: [], protocols: {} };
const seen = new Set();
function handshake(port, servername, maxVersion) {
  return new Promise((resolve) => {
    let done = false;
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, maxVersion }, () => {
      if (done) return;
      done = true;
      const out = {
        fingerprint: socket.getPeerCertificate().fingerprint256,
        reused: socket.isSessionReused(),
        protocol: socket.getProtocol(),
      };
      socket.end();
      resolve(out);
    });
    // only turns a hang into a failure: far above any handshake on a busy machine
    socket.setTimeout(120000, () => socket.destroy(new Error('client timeout')));
    socket.on('error', (e) => {
      if (done) return;
      done = true;
      resolve({ error: (e.code || '') + ' ' + e.message });
    });
  });
}
async function client(c) {
  const port = ports[c % ports.length];
  const name = names[(c >> 1) % names.length];
  const version = c % 4 < 2 ? 'TLSv1.3' : 'TLSv1.2';
  while (Atomics.load(shared, 1) === 0) {
    const from = Atomics.load(shared, 0);
    const h = await handshake(port, name, version);
    const to = Atomics.load(shared, 0);
    r.handshakes++;
    Atomics.add(shared, 2, 1);
    if (h.error !== undefined) {
      r.failures++;
      if (r.samples.length < 10) r.samples.push('client ' + c + ': ' + h.error);
      continue;
    }
    if (h.reused) r.reused++;
    r.protocols[h.protocol] = (r.protocols[h.protocol] || 0) + 1;
    const index = fps.indexOf(h.fingerprint);
    seen.add(index);
    if (index >= 0) Atomics.store(shared, 3 + index, 1);
    if (index < from || index > to) {
      r.wrong++;
      if (r.samples.length < 10) r.samples.push('client ' + c + ': got #' + index + ' while #' + from + '..#' + to + ' were in service');
    }
  }
}
Promise.all(Array.from({ length: clients }, (_, c) => client(c))).then(() => {
  r.seen = [...seen].sort((a, b) => a - b);
  parentPort.postMessage(r);
});
`;

interface LoadResult {
  handshakes: number;
  failures: number;
  reused: number;
  wrong: number;
  samples: string[];
  seen: number[];
  protocols: Record<string, number>;
}

describe('watchCredentials under load', () => {
  it('32 clients handshaking for 12 s and 500 handshakes while the certificate rotates 25 times: 0 failures, only the old or the new certificate', async (t) => {
    const names = ['mail.example.test', 'smtp.example.test'];
    const rotationsWanted = 25;
    const pairs = await Promise.all(Array.from({ length: rotationsWanted + 1 }, () => issueLeaf(names)));
    const fps = pairs.map((p) => fp(p.certPEM));
    const store = await newStore();
    await install(store, pairs[0]!);
    const registry = newRegistry();
    const { watcher, errors } = watchWithErrors(store, registry, { pollIntervalMs: 1000 });
    await watcher.ready;
    const shared = new Int32Array(new SharedArrayBuffer(4 * (3 + fps.length)));
    const servedToClients = (index: number): boolean => Atomics.load(shared, 3 + index) === 1;
    let reloads = 0;
    const lagMs: number[] = [];
    let installedAt = 0;
    watcher.on('reload', (e) => {
      reloads++;
      // written in the same synchronous step as the registry swap
      Atomics.store(shared, 0, fps.indexOf(e.fingerprint));
      lagMs.push(Date.now() - installedAt);
    });
    const serverErrors: unknown[] = [];
    const end = (s: tls.TLSSocket): void => {
      s.on('error', () => {});
      s.end();
    };
    const servers: net.Server[] = [
      createTLSServer(registry, {}, end),
      createPeekingTLSServer(registry, {}, end),
    ];
    for (const s of servers) s.on('tlsClientError', (e: unknown) => serverErrors.push(e));
    const ports = await Promise.all(servers.map((s) => listen(s)));
    const worker = new Worker(LOAD_CLIENTS, {
      eval: true,
      workerData: { ports, names, ca: ca.rootPEM, clients: 32, fps, shared: shared.buffer },
    });
    const done = new Promise<LoadResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const started = Date.now();
    const minMs = 12_000;
    const minHandshakes = 500;
    let rotations = 0;
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
    let result: LoadResult;
    let last: string | undefined;
    try {
      // Rotate 25 times, each time once the clients have been served the certificate in service (however
      // slow the machine, each one reaches them), at most every 250 ms so that the rotations spread over the
      // handshakes; then keep the clients going until 12 s and 500 handshakes have passed.
      while (rotations < rotationsWanted) {
        const spacing = sleep(250);
        await waitFor(() => servedToClients(rotations), `the clients served certificate #${rotations}`);
        await spacing;
        installedAt = Date.now();
        await install(store, pairs[++rotations]!);
      }
      await waitFor(
        () =>
          servedToClients(rotations) &&
          Date.now() - started >= minMs &&
          Atomics.load(shared, 2) >= minHandshakes,
        `the last certificate served, ${minMs} ms and ${minHandshakes} handshakes`,
        240_000,
      );
      Atomics.store(shared, 1, 1);
      result = await done;
      last = await served(ports[1]!, names[0]!);
    } finally {
      clearInterval(sampler);
      Atomics.store(shared, 1, 1);
      await worker.terminate();
      watcher.close();
      for (const s of servers) await close(s);
    }
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(
      `${result.handshakes} full handshakes in ${seconds.toFixed(1)} s (${Math.round(result.handshakes / seconds)}/s, ` +
        `${JSON.stringify(result.protocols)}), ${rotations} rotations, ${reloads} reloads, ` +
        `${result.seen.length} certificates seen, ${result.failures} failures, ${result.wrong} wrong, ` +
        `reload lag after install() max ${Math.max(...lagMs)} ms, RSS ${rss.map((r) => Math.round(r / 2 ** 20)).join(' ')} MiB`,
    );
    assert.deepEqual(result.samples, []);
    assert.equal(result.failures, 0);
    assert.equal(result.wrong, 0);
    assert.deepEqual(serverErrors.slice(0, 5), []);
    assert.deepEqual(errors, []);
    assert.equal(result.reused, 0, 'every handshake is a full one');
    assert.equal(rotations, rotationsWanted);
    assert.ok(result.handshakes >= minHandshakes, `${result.handshakes} handshakes`);
    assert.ok(
      (result.protocols.TLSv1_2 ?? 0) > 0 || (result.protocols['TLSv1.2'] ?? 0) > 0,
      'TLS 1.2 clients ran',
    );
    assert.ok((result.protocols['TLSv1.3'] ?? 0) > 0, 'TLS 1.3 clients ran');
    // the rotations reached the clients: every certificate was served, one reload each, and the last one is
    assert.deepEqual(
      result.seen,
      fps.map((_, i) => i),
    );
    assert.equal(reloads, rotations);
    assert.equal(last, fps[rotations], 'the last certificate is served');
  });
});
