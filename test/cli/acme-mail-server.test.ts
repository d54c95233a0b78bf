/**
 * The whole path an administrator takes, with real programs only, once for each challenge type against one
 * Pebble started here: `mailtls acme issue` by tls-alpn-01 (mailtls's responder on the port Pebble validates
 * tls-alpn-01 on), by http-01 (mailtls's responder on the port Pebble validates http-01 on) and by dns-01 (a
 * hook command that sets the TXT record through pebble-challtestsrv's management API; challtestsrv is
 * Pebble's DNS server), each into a store of its own; then `examples/mail-server.ts --store DIR` serving SMTP
 * (25, 587 STARTTLS; 465), POP3 (110 STLS; 995), IMAP (143 STARTTLS; 993) and HTTPS: `openssl s_client`
 * verifies every port against Pebble's root and the host name; then `mailtls acme renew --force` while a
 * client loop makes TLS handshakes (verified against the same root) on the implicit-TLS port of each
 * protocol: not one handshake fails, the loop sees the new certificate, and every port serves it, without a
 * restart.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { ensureBuilt } from '../helpers/build.js';
import { repoRoot } from '../helpers/paths.js';
import { needs } from '../helpers/peers.js';
import { type Pebble, startPebble } from '../node/acme/pebble.js';
import { mailtlsAsync, scratch } from './helpers.js';

/**
 * openssl s_client: `ok` when the chain and name verify, with the served leaf's SHA-256 fingerprint (from
 * the certificate openssl prints), else the output.
 */
function served(
  port: number,
  name: string,
  rootFile: string,
  starttls: string | undefined,
): Promise<{ ok: boolean; out: string; fingerprint: string | undefined }> {
  return new Promise((resolve, reject) => {
    const args = [
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
    ];
    if (starttls !== undefined) args.push('-starttls', starttls);
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(out)?.[0];
      resolve({
        ok: code === 0 && /Verify return code: 0 \(ok\)/.test(out),
        out,
        fingerprint: pem === undefined ? undefined : new X509Certificate(pem).fingerprint256,
      });
    });
    child.stdin.end();
  });
}

const STARTTLS: Record<string, string | undefined> = {
  smtp: 'smtp',
  submission: 'smtp',
  pop3: 'pop3',
  imap: 'imap',
};

/** The implicit-TLS port of each protocol: where the client loop shakes hands. */
const IMPLICIT = ['smtps', 'pop3s', 'imaps', 'https'] as const;

/** One verified TLS handshake (Pebble's root, the host name): the leaf's fingerprint, or the error. */
function handshake(port: number, name: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: name, ca });
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no handshake on ${port} in 30 s`)));
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/**
 * A client loop: verified handshakes one after the other over the given ports until stopped; counts every
 * outcome and records which certificate each port served.
 */
function clientLoop(ports: readonly number[], name: string, ca: string) {
  const stats = {
    handshakes: 0,
    failures: 0,
    errors: [] as string[],
    /** Per port, the fingerprint of the last certificate it served. */
    last: new Map<number, string>(),
  };
  const waiters: { until: () => boolean; resolve: () => void }[] = [];
  const settle = (): void => {
    for (const w of [...waiters])
      if (w.until()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  let stopped = false;
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const port = ports[i % ports.length]!;
      try {
        stats.last.set(port, await handshake(port, name, ca));
        stats.handshakes++;
      } catch (e) {
        stats.failures++;
        if (stats.errors.length < 5) stats.errors.push(`${port}: ${(e as Error).message}`);
      }
      settle();
      // A short pause between handshakes leaves the busy machine's CPU to the renewal itself.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    stats,
    /** Resolves once `until` holds or a handshake failed (checked after each handshake). */
    waitFor: (until: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        waiters.push({ until: () => stats.failures > 0 || until(), resolve });
        settle();
      }),
    stop: async () => {
      stopped = true;
      await running;
      return stats;
    },
  };
}

function fingerprintOfFile(file: string): string {
  const x = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], {
    encoding: 'utf8',
  });
  const fingerprint = /=([0-9A-F:]+)/.exec(x.stdout)?.[1];
  assert.ok(fingerprint, x.stderr);
  return fingerprint;
}

/** examples/mail-server.ts on free ports, its output read line by line. */
class MailServer {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (l: string) => void }[] = [];

  constructor(store: string) {
    this.child = spawn(
      process.execPath,
      [
        join(repoRoot, 'build/examples/mail-server.js'),
        '--store',
        store,
        '--host',
        '127.0.0.1',
        '--base-port',
        '0',
        '--poll-ms',
        '200',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stderr!.resume();
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of [...this.waiters])
        if (w.re.test(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
    });
  }

  /** The first line (seen already or to come) that matches; rejects after `ms` or when the server exits. */
  waitFor(re: RegExp, ms: number): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onExit = (c: number | null) => reject(new Error(`mail-server exited (${c}) before ${re}`));
      const timer = setTimeout(() => {
        this.child.off('exit', onExit);
        reject(new Error(`no line ${re} in ${ms} ms: ${this.lines.join(' | ')}`));
      }, ms);
      this.child.once('exit', onExit);
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(l);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

type Challenge = 'tls-alpn-01' | 'http-01' | 'dns-01';

describe(
  'mailtls acme issue by each challenge, then examples/mail-server.ts',
  needs('pebble', 'pebble-challtestsrv', 'openssl', 'curl'),
  () => {
    let pebble: Pebble;
    let dir: string;
    let rootFile: string;
    let root: string;
    let dnsHook: string;
    const servers: MailServer[] = [];

    before(async () => {
      assert.deepEqual(ensureBuilt(), [], 'errors in the examples');
      pebble = await startPebble();
      dir = scratch();
      rootFile = join(dir, 'root.pem');
      root = await pebble.root();
      writeFileSync(rootFile, root);
      // certbot's manual hooks, for pebble-challtestsrv: "set NAME VALUE" publishes the TXT record through
      // its management API, "remove NAME VALUE" clears it.
      dnsHook = join(dir, 'dns-hook.sh');
      writeFileSync(
        dnsHook,
        [
          '#!/bin/sh',
          'set -e',
          'if [ "$1" = set ]; then',
          `  curl -sf -X POST -d "{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" ${pebble.challtestsrvUrl}/set-txt`,
          'else',
          `  curl -sf -X POST -d "{\\"host\\":\\"$2.\\"}" ${pebble.challtestsrvUrl}/clear-txt`,
          'fi',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
    });
    after(async () => {
      for (const s of servers) await s.stop();
      await pebble?.stop();
    });

    /** The options each challenge needs, for issue and for renew. */
    const challengeArgs = (challenge: Challenge): string[] => {
      switch (challenge) {
        case 'tls-alpn-01':
          return ['--tls-port', String(pebble.tlsPort)];
        case 'http-01':
          return ['--http-port', String(pebble.httpPort)];
        case 'dns-01':
          return ['--dns-hook', dnsHook, '--dns-resolver', pebble.dnsServer];
      }
    };

    for (const [challenge, label] of [
      ['tls-alpn-01', 'alpn'],
      ['http-01', 'http'],
      ['dns-01', 'dns'],
    ] as const) {
      it(`${challenge}: every port verifies against Pebble’s root; a renewal is served without a restart or a failed handshake`, {
        timeout: 300_000,
      }, async (t) => {
        const domain = `${label}.example.test`;
        const host = `mail.${domain}`;
        const store = join(dir, `store-${label}`);
        const common = ['--store', store, '--directory-ca', pebble.directoryCAFile, '--trust', rootFile];
        const issued = await mailtlsAsync([
          'acme',
          'issue',
          domain,
          '--san',
          host,
          ...common,
          '--directory',
          pebble.directoryUrl,
          '--email',
          `postmaster@${domain}`,
          '--agree-tos',
          '--challenge',
          challenge,
          ...challengeArgs(challenge),
          '--no-preflight',
          '--json',
        ]);
        assert.equal(issued.status, 0, issued.stderr);
        const certFile = join(store, 'certs', `${domain}.crt`);
        const first = fingerprintOfFile(certFile);

        const server = new MailServer(store);
        servers.push(server);
        const started = await server.waitFor(/^ready /, 30_000);
        const ports = (JSON.parse(started.slice(6)) as { ports: Record<string, number> }).ports;
        assert.equal(Object.keys(ports).length, 8);
        for (const [name, port] of Object.entries(ports)) {
          const v = await served(port, host, rootFile, STARTTLS[name]);
          assert.ok(v.ok, `${name} (${port}): ${v.out}`);
          assert.equal(v.fingerprint, first, `${name} serves the issued certificate`);
        }

        // Renew while clients keep connecting; stop the loop once the server has reloaded and the loop has
        // seen the new certificate on every implicit-TLS port.
        const loopPorts = IMPLICIT.map((p) => ports[p]!);
        const loop = clientLoop(loopPorts, host, root);
        const renewed = await mailtlsAsync([
          'acme',
          'renew',
          ...common,
          ...challengeArgs(challenge),
          '--force',
          '--json',
        ]);
        assert.equal(renewed.status, 0, renewed.stderr);
        const second = fingerprintOfFile(certFile);
        assert.notEqual(second, first, 'the renewal installed a new certificate');
        const line = await server.waitFor(/^reloaded /, 30_000);
        assert.equal((JSON.parse(line.slice(9)) as { fingerprint: string }).fingerprint, second);
        // The loop goes on until every port it uses has served the new certificate (or a handshake failed).
        await loop.waitFor(() => loopPorts.every((p) => loop.stats.last.get(p) === second));
        const stats = await loop.stop();
        assert.equal(stats.failures, 0, `failed handshakes: ${stats.errors.join('; ')}`);
        assert.ok(stats.handshakes > loopPorts.length, `handshakes: ${stats.handshakes}`);
        for (const p of loopPorts) assert.equal(stats.last.get(p), second, `port ${p} serves the renewal`);
        t.diagnostic(`${challenge}: ${stats.handshakes} handshakes during the renewal, 0 failed`);
        for (const [name, port] of Object.entries(ports)) {
          const v = await served(port, host, rootFile, STARTTLS[name]);
          assert.ok(v.ok, `${name} (${port}) after the renewal: ${v.out}`);
          assert.equal(v.fingerprint, second, `${name} serves the renewed certificate`);
        }
        assert.equal(server.child.exitCode, null, 'no restart');
        await server.stop();
        // Both orders went by the challenge under test (the store's ACME state records it).
        const status = await mailtlsAsync(['acme', 'status', domain, ...common, '--json']);
        assert.equal(status.status, 0, status.stderr);
        const state = (status.json!.domains as { challenge: string; names: string[] }[])[0]!;
        assert.equal(state.challenge, challenge);
        assert.deepEqual([...state.names].sort(), [domain, host].sort());
      });
    }
  },
);
