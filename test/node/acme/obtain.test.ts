/**
 * ACME issuance against a real Pebble started by this file: account registration (terms agreed explicitly,
 * key 0600 in the store's private area), tls-alpn-01 answered through an SNI registry on Pebble's tlsPort
 * (the same port then serves the issued certificate, checked by `openssl s_client` against Pebble's root),
 * http-01 through the request handler, dns-01 through a hook command that calls pebble-challtestsrv's
 * management API, key policies (reuse keeps the SPKI, fresh changes it, next-published switches only after
 * the wait), and faults: a refused challenge, a CA that is down, each leaving the certificate in service
 * unchanged and the back-off recorded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AcmeError,
  createSelfSignedCertificate,
  encodePrivateKeyPEM,
  isMailTlsError,
  parseCertificate,
} from '../../../src/index.js';
import {
  acmeRenewalStatus,
  addressScope,
  createHookDnsProvider,
  createHttp01Responder,
  createTlsAlpnResponder,
  loadAcmeAccount,
  loadAcmeState,
  nextKeyPath,
  obtainCertificate,
  registerAcmeAccount,
  renewDue,
  resolveNames,
  verifyNamesResolve,
} from '../../../src/node/acme/index.js';
import { CertificateStore, createSNIRegistry, type SNIRegistry } from '../../../src/node/index.js';
import { needs } from '../../helpers/peers.js';
import { type Pebble, startPebble } from './pebble.js';

function listenOn(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** `openssl s_client` against a port, verifying the chain against `rootFile` and the host name. */
function verifyServed(port: number, name: string, rootFile: string): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        name,
        '-CAfile',
        rootFile,
        '-verify_return_error',
        '-verify_hostname',
        name,
        '-showcerts',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ ok: code === 0 && /Verify return code: 0 \(ok\)/.test(out), out }),
    );
    child.stdin.end();
  });
}

describe('ACME against Pebble', needs('pebble', 'pebble-challtestsrv', 'openssl'), () => {
  let pebble: Pebble;
  let dir: string;
  let rootFile: string;
  let store: CertificateStore;
  let registry: SNIRegistry;
  const tlsAlpn = createTlsAlpnResponder();
  let tlsServer: net.Server;
  let account: Awaited<ReturnType<typeof registerAcmeAccount>>;
  const preflight = () => ({ servers: [pebble.dnsServer], lanOnly: true });

  before(async () => {
    pebble = await startPebble({ nonceReject: 20 });
    dir = mkdtempSync(join(tmpdir(), 'mailtls-acme-'));
    rootFile = join(dir, 'pebble-root.pem');
    const root = await pebble.root();
    writeFileSync(rootFile, root);
    store = new CertificateStore(join(dir, 'store'), { trust: [root] });
    // The port Pebble validates tls-alpn-01 on is also the server's TLS port: a placeholder certificate
    // until the real one is issued.
    const placeholder = await createSelfSignedCertificate({
      commonName: 'placeholder.invalid',
      keyType: 'ec',
      days: 2,
      at: new Date(),
    });
    registry = createSNIRegistry({
      key: await encodePrivateKeyPEM(placeholder.key),
      cert: placeholder.certPEM,
    });
    tlsServer = tlsAlpn.createServer(registry, {}, (s) => s.end());
    tlsServer.on('tlsClientError', () => undefined);
    await listenOn(tlsServer, pebble.tlsPort);
  });

  after(async () => {
    if (tlsServer) await closeServer(tlsServer);
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to register without an explicit agreement to the terms of service', async () => {
    await assert.rejects(
      registerAcmeAccount({
        store,
        directoryUrl: pebble.directoryUrl,
        directoryCA: pebble.directoryCA,
        email: 'postmaster@example.test',
      }),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_ACME_TERMS') && /Do%20what%20thou%20wilt/.test((e as Error).message),
    );
    assert.equal(existsSync(join(store.root, 'private', 'acme')), false, 'nothing written before agreement');
  });

  it('refuses a server whose HTTPS certificate is not trusted, as unavailable', async () => {
    await assert.rejects(
      registerAcmeAccount({
        store,
        directoryUrl: pebble.directoryUrl,
        agreeToTerms: true,
        retry: { attempts: 1 },
      }),
      (e: unknown) => isMailTlsError(e, 'ERR_ACME_UNAVAILABLE') && /directoryCA/.test((e as Error).message),
    );
  });

  it('registers an account with its key 0600 in the private area, and loads it again', async () => {
    account = await registerAcmeAccount({
      store,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
      email: 'postmaster@example.test',
      agreeToTerms: true,
    });
    assert.match(account.info.url, /^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
    assert.equal(statSync(account.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(store.root, 'private', 'acme')).mode & 0o077, 0);
    assert.doesNotMatch(JSON.stringify(account) + String(account), /PRIVATE KEY/);
    const again = await registerAcmeAccount({
      store,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
      email: 'postmaster@example.test',
      agreeToTerms: true,
    });
    assert.equal(again.info.url, account.info.url, 'the stored key finds the same account');
    const loaded = await loadAcmeAccount({
      store,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
    });
    assert.equal(loaded.info.url, account.info.url);
    await assert.rejects(
      loadAcmeAccount({ store, directoryUrl: 'https://127.0.0.1:1/other' }),
      (e: unknown) => isMailTlsError(e, 'ERR_ACME_ACCOUNT'),
    );
  });

  it('issues by tls-alpn-01 through the SNI registry and serves a chain that verifies against Pebble’s root', async () => {
    const progress: string[] = [];
    const r = await obtainCertificate({
      account,
      store,
      domain: 'alpn.example.test',
      names: ['mail.alpn.example.test', 'imap.alpn.example.test'],
      challenge: 'tls-alpn-01',
      tlsAlpn,
      dane: true,
      preflight: preflight(),
      requireCompleteChain: true,
      onProgress: (step) => progress.push(step),
    });
    assert.deepEqual(r.names, ['alpn.example.test', 'mail.alpn.example.test', 'imap.alpn.example.test']);
    assert.equal(r.key, 'new');
    assert.equal(r.install.chainComplete, true);
    assert.deepEqual(
      [...new Set(progress)],
      ['preflight', 'key', 'order', 'challenge', 'validated', 'finalize', 'download', 'install'],
    );
    assert.equal(tlsAlpn.size, 0, 'challenge certificates are removed after validation');
    const credential = await store.load('alpn.example.test');
    for (const name of r.names) registry.add(name, credential);
    for (const name of ['mail.alpn.example.test', 'imap.alpn.example.test']) {
      const v = await verifyServed(pebble.tlsPort, name, rootFile);
      assert.ok(v.ok, v.out);
    }
    const state = await loadAcmeState(store, 'alpn.example.test');
    assert.equal(state?.challenge, 'tls-alpn-01');
    assert.equal(state?.keyRollover, 'reuse');
    assert.equal(state?.failures, 0);
  });

  it('renews with keyRollover reuse keeping the SPKI (TLSA 3 1 1 unchanged), and the new certificate is served', async () => {
    const before = await store.load('alpn.example.test');
    const status = await acmeRenewalStatus(store, 'alpn.example.test');
    assert.equal(status.due, false);
    assert.equal(status.reason, 'not-due');
    // Four years on, a third of Pebble's five-year lifetime is left: due.
    const later = new Date(before.leaf.notBefore.getTime() + 4 * 365 * 86_400_000);
    const due = await acmeRenewalStatus(store, 'alpn.example.test', { at: later });
    assert.equal(due.due, true);
    assert.equal(due.reason, 'due');
    const outcomes = await renewDue({
      store,
      account,
      tlsAlpn,
      force: true,
      obtain: { preflight: preflight() },
    });
    const mine = outcomes.find((o) => o.domain === 'alpn.example.test');
    assert.ok(mine?.result, String(mine?.error));
    assert.equal(mine.result.key, 'reused');
    const after = await store.load('alpn.example.test');
    assert.notEqual(after.leaf.fingerprint('sha256'), before.leaf.fingerprint('sha256'));
    assert.equal(after.leaf.spkiFingerprint().sha256Hex, before.leaf.spkiFingerprint().sha256Hex);
    for (const name of ['alpn.example.test', 'mail.alpn.example.test', 'imap.alpn.example.test'])
      registry.add(name, after);
    const v = await verifyServed(pebble.tlsPort, 'mail.alpn.example.test', rootFile);
    assert.ok(v.ok, v.out);
    const served = parseCertificate(
      /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(v.out)![0],
    );
    assert.equal(served.fingerprint('sha256'), after.leaf.fingerprint('sha256'));
  });

  it('issues by http-01 through the request handler mounted in an existing server; fresh keys change the SPKI', async () => {
    const http01 = createHttp01Responder();
    let others = 0;
    const server = http.createServer((req, res) => {
      if (http01.handle(req, res)) return;
      others++;
      res.end('site');
    });
    await listenOn(server, pebble.httpPort);
    try {
      const first = await obtainCertificate({
        account,
        store,
        domain: 'web.example.test',
        names: ['mail.web.example.test'],
        challenge: 'http-01',
        http01,
        keyType: 'rsa',
        preflight: preflight(),
      });
      const second = await obtainCertificate({
        account,
        store,
        domain: 'web.example.test',
        names: ['mail.web.example.test'],
        challenge: 'http-01',
        http01,
        preflight: preflight(),
      });
      assert.equal(first.install.leaf.publicKey?.type, 'rsa');
      assert.equal(second.key, 'new');
      assert.notEqual(
        first.install.leaf.spkiFingerprint().sha256Hex,
        second.install.leaf.spkiFingerprint().sha256Hex,
      );
      assert.equal(second.install.previousVersion, first.install.version);
      assert.equal(http01.size, 0);
      // The mounted handler leaves every other request to the server.
      const body = await new Promise<string>((resolve, reject) =>
        http
          .get(`http://127.0.0.1:${pebble.httpPort}/index.html`, (res) => {
            let b = '';
            res.on('data', (c: Buffer) => (b += c.toString()));
            res.on('end', () => resolve(b));
          })
          .on('error', reject),
      );
      assert.equal(body, 'site');
      assert.equal(others, 1);
    } finally {
      await closeServer(server);
    }
  });

  it('issues by dns-01 through a hook command that sets the TXT record in pebble-challtestsrv', async () => {
    const hook = join(dir, 'dns-hook.sh');
    writeFileSync(
      hook,
      `#!/bin/sh\nset -e\ncase "$1" in\n  set) path=set-txt; body="{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" ;;\n` +
        `  remove) path=clear-txt; body="{\\"host\\":\\"$2.\\"}" ;;\nesac\n` +
        `echo "$1 $2" >> "${join(dir, 'hook.log')}"\n` +
        `curl -sf -X POST -d "$body" "${pebble.challtestsrvUrl}/$path"\n`,
      { mode: 0o755 },
    );
    const dns = createHookDnsProvider({
      command: hook,
      resolvers: [pebble.dnsServer],
      propagationTimeoutMs: 10_000,
    });
    const r = await obtainCertificate({
      account,
      store,
      domain: 'dns.example.test',
      names: ['mx.dns.example.test'],
      challenge: 'dns-01',
      dns,
      preflight: false,
    });
    assert.deepEqual(r.install.leaf.dnsNames, ['dns.example.test', 'mx.dns.example.test']);
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(log, [
      'remove _acme-challenge.dns.example.test',
      'remove _acme-challenge.mx.dns.example.test',
      'set _acme-challenge.dns.example.test',
      'set _acme-challenge.mx.dns.example.test',
    ]);
    const failing = createHookDnsProvider({ command: 'echo "zone is read-only" >&2; exit 3' });
    await assert.rejects(
      failing.set('_acme-challenge.x.example.test', 'v'),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_ACME_DNS_HOOK') &&
        /exit status 3\): zone is read-only/.test((e as Error).message),
    );
  });

  it('next-published: the next key waits until published long enough, then the switch drops it', async () => {
    const base = {
      account,
      store,
      domain: 'dane.example.test',
      challenge: 'tls-alpn-01' as const,
      tlsAlpn,
      keyRollover: 'next-published' as const,
      preflight: false as const,
    };
    const first = await obtainCertificate(base);
    assert.equal(first.key, 'new');
    const nextFile = nextKeyPath(store, 'dane.example.test');
    assert.equal(statSync(nextFile).mode & 0o777, 0o600);
    const spki1 = first.install.leaf.spkiFingerprint().sha256Hex;
    const second = await obtainCertificate({ ...base, nextKeyPublishedForMs: 3_600_000 });
    assert.equal(second.key, 'reused', 'the next key is too young: the key in service stays');
    assert.equal(second.install.leaf.spkiFingerprint().sha256Hex, spki1);
    const third = await obtainCertificate({
      ...base,
      nextKeyPublishedForMs: 3_600_000,
      at: new Date(Date.now() + 2 * 3_600_000),
    });
    assert.equal(third.key, 'next');
    assert.notEqual(third.install.leaf.spkiFingerprint().sha256Hex, spki1);
    assert.equal(existsSync(nextFile), false, 'after the switch only the key in service remains');
  });

  it('a refused challenge leaves the certificate in service and records the back-off', async () => {
    const before = await store.version('web.example.test');
    const http01 = createHttp01Responder(); // nothing listens on the http-01 port now
    await assert.rejects(
      obtainCertificate({
        account,
        store,
        domain: 'web.example.test',
        names: ['mail.web.example.test'],
        challenge: 'http-01',
        http01,
        preflight: false,
      }),
      (e: unknown) => {
        assert.ok(e instanceof AcmeError, String(e));
        assert.equal(e.code, 'ERR_ACME_CHALLENGE');
        assert.match(String(e.details.problem), /connection/);
        return true;
      },
    );
    assert.equal(await store.version('web.example.test'), before);
    const state = await loadAcmeState(store, 'web.example.test');
    assert.equal(state?.failures, 1);
    assert.equal(state?.lastError?.code, 'ERR_ACME_CHALLENGE');
    const status = await acmeRenewalStatus(store, 'web.example.test', {
      at: new Date(Date.now() + 4 * 365 * 86_400_000),
    });
    assert.equal(status.failures, 1);
    const soon = await acmeRenewalStatus(store, 'web.example.test', {
      at: new Date(Date.parse(state!.nextAttemptAt!) - 1000),
    });
    assert.equal(soon.due, false);
  });

  it('pre-flight: resolves through pebble-challtestsrv, refuses LAN and unresolved names unless LAN-only or insisted', async () => {
    await pebble.manage('/add-a', { host: 'public.example.test.', addresses: ['203.0.113.7'] });
    await pebble.manage('/add-a', { host: 'lan.example.test.', addresses: ['192.168.1.20'] });
    const rs = await resolveNames(['public.example.test', 'lan.example.test'], {
      servers: [pebble.dnsServer],
    });
    assert.deepEqual(
      rs.map((r) => [r.name, r.status, r.addresses.map((a) => `${a.address}/${a.scope}`)]),
      [
        ['public.example.test', 'ok', ['203.0.113.7/public']],
        ['lan.example.test', 'lan', ['192.168.1.20/private']],
      ],
    );
    await assert.rejects(
      verifyNamesResolve(['public.example.test', 'lan.example.test'], { servers: [pebble.dnsServer] }),
      (e: unknown) =>
        isMailTlsError(e, 'ERR_ACME_PREFLIGHT') &&
        /lan\.example\.test resolves to 192\.168\.1\.20/.test((e as Error).message),
    );
    await verifyNamesResolve(['lan.example.test'], { servers: [pebble.dnsServer], lanOnly: true });
    await verifyNamesResolve(['lan.example.test'], { servers: [pebble.dnsServer], insist: true });
    assert.equal(addressScope('fe80::1'), 'link-local');
    assert.equal(addressScope('::1'), 'loopback');
    assert.equal(addressScope('2001:db8::1'), 'public');
    // An order for a LAN name is refused before anything is sent.
    await assert.rejects(
      obtainCertificate({
        account,
        store,
        domain: 'lan.example.test',
        challenge: 'tls-alpn-01',
        tlsAlpn,
        preflight: { servers: [pebble.dnsServer] },
      }),
      (e: unknown) => isMailTlsError(e, 'ERR_ACME_PREFLIGHT'),
    );
  });

  it('a CA that is down is ERR_ACME_UNAVAILABLE; the certificate in service stays', async () => {
    const before = await store.version('alpn.example.test');
    await pebble.stopCA();
    try {
      const down = await loadAcmeAccount({
        store,
        directoryUrl: pebble.directoryUrl,
        directoryCA: pebble.directoryCA,
        retry: { attempts: 2, minDelayMs: 50 },
      });
      await assert.rejects(
        obtainCertificate({
          account: down,
          store,
          domain: 'alpn.example.test',
          challenge: 'tls-alpn-01',
          tlsAlpn,
          preflight: false,
        }),
        (e: unknown) =>
          isMailTlsError(e, 'ERR_ACME_UNAVAILABLE') &&
          /cannot be reached \(ECONNREFUSED\)/.test((e as Error).message),
      );
      assert.equal(await store.version('alpn.example.test'), before);
      const v = await verifyServed(pebble.tlsPort, 'alpn.example.test', rootFile);
      assert.ok(v.ok, v.out);
    } finally {
      await pebble.startCA();
    }
  });
});
