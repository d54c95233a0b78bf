/**
 * `mailtls acme` as a child process against a real Pebble started by this file: register (terms agreed
 * only with --agree-tos), issue by tls-alpn-01 on Pebble's tlsPort (the command listens there itself), the
 * installed chain verified by `openssl verify` against Pebble's root, status with the TLSA record, a forced
 * renewal that keeps the key of a DANE domain, `run` with nothing due, a refused challenge (exit 1, the
 * back-off reported by `run`), and a process killed mid-order (SIGKILL while its dns-01 hook runs): the
 * certificate in service is untouched, and the next run breaks the dead process's lock and completes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needs } from '../helpers/peers.js';
import { type Pebble, startPebble } from '../node/acme/pebble.js';
import { mailtlsAsync, mainJs, scratch } from './helpers.js';

describe('mailtls acme against Pebble', needs('pebble', 'pebble-challtestsrv', 'openssl', 'curl'), () => {
  let pebble: Pebble;
  let dir: string;
  let store: string;
  let rootFile: string;
  let common: string[];

  before(async () => {
    pebble = await startPebble();
    dir = scratch();
    store = join(dir, 'store');
    rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, await pebble.root());
    common = [
      '--store',
      store,
      '--directory',
      pebble.directoryUrl,
      '--directory-ca',
      pebble.directoryCAFile,
      '--trust',
      rootFile,
    ];
  });
  after(async () => {
    await pebble?.stop();
  });

  it('register refuses without --agree-tos (exit 2, ERR_ACME_TERMS) and registers with it', async () => {
    const refused = await mailtlsAsync([
      'acme',
      'register',
      ...common,
      '--email',
      'postmaster@example.test',
      '--json',
    ]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal((refused.json!.error as { code: string }).code, 'ERR_ACME_TERMS');
    const ok = await mailtlsAsync([
      'acme',
      'register',
      ...common,
      '--email',
      'postmaster@example.test',
      '--agree-tos',
      '--json',
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match((ok.json!.account as { url: string }).url, /\/my-account\//);
  });

  it('issue by tls-alpn-01 installs a chain that openssl verifies against Pebble’s root; status shows its TLSA record', async () => {
    const r = await mailtlsAsync([
      'acme',
      'issue',
      'cli.example.test',
      '--san',
      'mail.cli.example.test',
      '--san',
      'smtp.cli.example.test',
      ...common,
      '--challenge',
      'tls-alpn-01',
      '--tls-port',
      String(pebble.tlsPort),
      '--dane',
      '--resolver',
      pebble.dnsServer,
      '--lan-only',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json!.names, ['cli.example.test', 'mail.cli.example.test', 'smtp.cli.example.test']);
    const cert = join(store, 'certs', 'cli.example.test.crt');
    const v = spawnSync(
      'openssl',
      ['verify', '-CAfile', rootFile, '-untrusted', cert, '-verify_hostname', 'smtp.cli.example.test', cert],
      { encoding: 'utf8' },
    );
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const s = await mailtlsAsync(['acme', 'status', '--store', store, '--json']);
    assert.equal(s.status, 0, s.stderr);
    const [entry] = s.json!.domains as {
      domain: string;
      tlsa: string[];
      atRisk: boolean;
      keyRollover: string;
    }[];
    assert.equal(entry?.domain, 'cli.example.test');
    assert.equal(entry?.keyRollover, 'reuse');
    assert.equal(entry?.tlsa.length, 1);
    const spki = spawnSync(
      'sh',
      [
        '-c',
        `openssl x509 -in ${cert} -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(entry?.tlsa[0], `3 1 1 ${spki.stdout.split(' ')[0]}`);
    // check --resolve: every name resolves to 127.0.0.1 here (pebble-challtestsrv): a LAN address.
    const resolve = [
      'check',
      '--store',
      store,
      '--trust',
      rootFile,
      '--resolve',
      '--resolver',
      pebble.dnsServer,
      '--json',
    ];
    const c = await mailtlsAsync(resolve);
    assert.equal(c.status, 1, c.stderr);
    const found = (c.json!.findings as { code: string; domain: string; message: string }[]).filter((f) =>
      ['NAME_LAN_ADDRESS', 'NAME_UNRESOLVED', 'NAME_RESOLVES'].includes(f.code),
    );
    assert.deepEqual(
      found.map((f) => f.code),
      ['NAME_LAN_ADDRESS', 'NAME_LAN_ADDRESS', 'NAME_LAN_ADDRESS'],
    );
    assert.match(found[0]!.message, /127\.0\.0\.1 \(loopback\)/);
    const lan = await mailtlsAsync([...resolve, '--lan-only', '--errors-only']);
    assert.equal(lan.status, 0, lan.stdout);
  });

  it('renew --force replaces the certificate and keeps the key of a DANE domain; run with nothing due exits 0', async () => {
    const before = await mailtlsAsync(['acme', 'status', '--store', store, '--json']);
    const r = await mailtlsAsync([
      'acme',
      'renew',
      '--store',
      store,
      '--directory-ca',
      pebble.directoryCAFile,
      '--trust',
      rootFile,
      '--tls-port',
      String(pebble.tlsPort),
      '--force',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const [d] = r.json!.domains as { domain: string; renewed: boolean }[];
    assert.equal(d?.renewed, true);
    const after = await mailtlsAsync(['acme', 'status', '--store', store, '--json']);
    const tlsa = (x: typeof before) => (x.json!.domains as { tlsa: string[]; expiresAt: string }[])[0];
    assert.deepEqual(tlsa(after)?.tlsa, tlsa(before)?.tlsa, 'the TLSA record stays valid');
    const run = await mailtlsAsync([
      'acme',
      'run',
      '--store',
      store,
      '--directory-ca',
      pebble.directoryCAFile,
      '--tls-port',
      String(pebble.tlsPort),
      '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(
      (run.json!.domains as { renewed: boolean; reason: string }[]).map((x) => [x.renewed, x.reason]),
      [[false, 'not-due']],
    );
  });

  it('a refused challenge exits 1 with ERR_ACME_CHALLENGE, and run then reports the domain at risk (exit 1)', async () => {
    const wrongPort = String(pebble.httpPort === 65535 ? pebble.httpPort - 1 : pebble.httpPort + 1);
    const r = await mailtlsAsync([
      'acme',
      'issue',
      'refused.example.test',
      ...common,
      '--challenge',
      'http-01',
      '--http-port',
      wrongPort,
      '--no-preflight',
      '--json',
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal((r.json!.error as { code: string }).code, 'ERR_ACME_CHALLENGE');
    const run = await mailtlsAsync([
      'acme',
      'run',
      'refused.example.test',
      '--store',
      store,
      '--directory-ca',
      pebble.directoryCAFile,
      '--json',
    ]);
    assert.equal(run.status, 1, run.stdout);
    const [d] = run.json!.domains as { reason: string; atRisk: boolean }[];
    assert.deepEqual([d?.reason, d?.atRisk], ['backoff', true]);
    const check = await mailtlsAsync([
      'check',
      '--store',
      store,
      '--trust',
      rootFile,
      '--errors-only',
      '--json',
    ]);
    assert.equal(check.status, 1, check.stdout);
    const risk = (check.json!.findings as { code: string; domain: string }[]).filter(
      (f) => f.code === 'ACME_AT_RISK',
    );
    assert.deepEqual(
      risk.map((f) => f.domain),
      ['refused.example.test'],
    );
  });

  it('a process killed mid-order leaves the certificate in service; the next run completes', async () => {
    const marker = join(dir, 'hook-started');
    const slowHook = join(dir, 'slow-hook.sh');
    writeFileSync(
      slowHook,
      `#!/bin/sh\n[ "$1" = set ] || exit 0\necho $$ > "${marker}.tmp" && mv "${marker}.tmp" "${marker}"\nexec sleep 60\n`,
      { mode: 0o755 },
    );
    const goodHook = join(dir, 'good-hook.sh');
    writeFileSync(
      goodHook,
      `#!/bin/sh\nif [ "$1" = set ]; then curl -sf -X POST -d "{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" ${pebble.challtestsrvUrl}/set-txt; ` +
        `else curl -sf -X POST -d "{\\"host\\":\\"$2.\\"}" ${pebble.challtestsrvUrl}/clear-txt; fi\n`,
      { mode: 0o755 },
    );
    const dnsArgs = ['--challenge', 'dns-01', '--dns-resolver', pebble.dnsServer, '--no-preflight', '--json'];
    const first = await mailtlsAsync([
      'acme',
      'issue',
      'kill.example.test',
      ...common,
      '--dns-hook',
      goodHook,
      ...dnsArgs,
    ]);
    assert.equal(first.status, 0, first.stderr);
    const version = (first.json as { version: string }).version;
    // Renew with a hook that hangs, and kill the command while it waits in the hook.
    const child = spawn(
      process.execPath,
      [mainJs, 'acme', 'issue', 'kill.example.test', ...common, '--dns-hook', slowHook, ...dnsArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (_code, signal) => resolve(signal));
    });
    for (let wait = 10; !existsSync(marker); wait = Math.min(wait * 2, 200)) {
      if (child.exitCode !== null) assert.fail(`the command ended before its hook ran: ${output}`);
      await new Promise((r) => setTimeout(r, wait));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    // The hook the killed command started (now an orphan) is ended too.
    process.kill(Number(readFileSync(marker, 'utf8').trim()), 'SIGKILL');
    assert.ok(
      existsSync(join(store, 'locks', 'kill.example.test.acme.lock')),
      'the dead process left its lock',
    );
    const status = await mailtlsAsync(['acme', 'status', 'kill.example.test', '--store', store, '--json']);
    assert.equal((status.json!.domains as { failures: number }[])[0]?.failures, 0);
    const v = spawnSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        rootFile,
        '-untrusted',
        join(store, 'certs', 'kill.example.test.crt'),
        join(store, 'certs', 'kill.example.test.crt'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(v.status, 0, 'the certificate in service still verifies');
    const next = await mailtlsAsync([
      'acme',
      'issue',
      'kill.example.test',
      ...common,
      '--dns-hook',
      goodHook,
      ...dnsArgs,
    ]);
    assert.equal(next.status, 0, next.stderr);
    assert.notEqual((next.json as { version: string }).version, version);
  });
});
