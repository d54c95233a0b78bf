/**
 * The whole path an administrator takes, with real programs only: `mailtls acme issue` by tls-alpn-01 from
 * a Pebble started here, then `examples/mail-server.ts --store DIR` serving SMTP (25, 587 STARTTLS; 465),
 * POP3 (110 STLS; 995), IMAP (143 STARTTLS; 993) and HTTPS: `openssl s_client` verifies every port against
 * Pebble's root and the host name; then `mailtls acme renew --force` and the running server serves the new
 * certificate without a restart.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt } from '../helpers/build.js';
import { repoRoot } from '../helpers/paths.js';
import { needs } from '../helpers/peers.js';
import { type Pebble, startPebble } from '../node/acme/pebble.js';
import { mailtlsAsync, scratch } from './helpers.js';

/** openssl s_client: the served leaf's SHA-256 fingerprint when the chain and name verify, else the output. */
function served(
  port: number,
  name: string,
  rootFile: string,
  starttls: string | undefined,
): Promise<{ ok: boolean; out: string }> {
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
    child.once('close', (code) =>
      resolve({ ok: code === 0 && /Verify return code: 0 \(ok\)/.test(out), out }),
    );
    child.stdin.end();
  });
}

const STARTTLS: Record<string, string | undefined> = {
  smtp: 'smtp',
  submission: 'smtp',
  pop3: 'pop3',
  imap: 'imap',
};

describe(
  'mailtls acme issue, then examples/mail-server.ts',
  needs('pebble', 'pebble-challtestsrv', 'openssl'),
  () => {
    let pebble: Pebble;
    let dir: string;
    let store: string;
    let rootFile: string;
    let server: ChildProcess | undefined;
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];

    before(async () => {
      assert.deepEqual(ensureBuilt(), [], 'errors in the examples');
      pebble = await startPebble();
      dir = scratch();
      store = join(dir, 'store');
      rootFile = join(dir, 'root.pem');
      writeFileSync(rootFile, await pebble.root());
    });
    after(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server!.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await pebble?.stop();
    });

    const waitFor = (re: RegExp, ms: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => re.test(l));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error(`no line ${re} in ${ms} ms: ${lines.join(' | ')}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });

    it('every port verifies against Pebble’s root; a renewal is served without a restart', async () => {
      const common = [
        '--store',
        store,
        '--directory',
        pebble.directoryUrl,
        '--directory-ca',
        pebble.directoryCAFile,
        '--trust',
        rootFile,
      ];
      const issued = await mailtlsAsync([
        'acme',
        'issue',
        'example.test',
        '--san',
        'mail.example.test',
        ...common,
        '--email',
        'postmaster@example.test',
        '--agree-tos',
        '--challenge',
        'tls-alpn-01',
        '--tls-port',
        String(pebble.tlsPort),
        '--no-preflight',
        '--json',
      ]);
      assert.equal(issued.status, 0, issued.stderr);
      server = spawn(
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
      server.stderr!.resume();
      createInterface({ input: server.stdout! }).on('line', (line) => {
        lines.push(line);
        for (const w of [...waiters])
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
      });
      const started = await Promise.race([
        waitFor(/^ready /, 30_000),
        new Promise<never>((_, reject) =>
          server!.once('exit', (c) => reject(new Error(`mail-server exited ${c}`))),
        ),
      ]);
      const ports = (JSON.parse(started.slice(6)) as { ports: Record<string, number> }).ports;
      assert.equal(Object.keys(ports).length, 8);
      for (const [name, port] of Object.entries(ports)) {
        const v = await served(port, 'mail.example.test', rootFile, STARTTLS[name]);
        assert.ok(v.ok, `${name} (${port}): ${v.out}`);
      }
      const renewed = await mailtlsAsync([
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
      assert.equal(renewed.status, 0, renewed.stderr);
      const line = await waitFor(/^reloaded /, 30_000);
      const fingerprint = (JSON.parse(line.slice(9)) as { fingerprint: string }).fingerprint;
      const v = await served(ports.imaps!, 'mail.example.test', rootFile, undefined);
      assert.ok(v.ok, v.out);
      const x = spawnSync(
        'openssl',
        ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(store, 'certs', 'example.test.crt')],
        { encoding: 'utf8' },
      );
      const fromStore = /=([0-9A-F:]+)/.exec(x.stdout)?.[1];
      assert.equal(fingerprint, fromStore, 'the server reloaded the renewed certificate');
      assert.equal(server.exitCode, null, 'no restart');
    });
  },
);
