/**
 * Postfix 3.7 as a client: with the outgoing policy mailtls emits (`secure`, `match=` and `servername=`, the
 * store's trust in `smtp_tls_CAfile`), it delivers to examples/mail-server.ts serving the store and logs
 * "Verified TLS connection established"; to the same server checked against a name its certificate does
 * not carry, it refuses to deliver and keeps the mail queued.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { encodePostfixConfig, encodePostfixPolicyMap, type MailTLSSettings } from '../../src/config/index.js';
import { loadServerTLSLayout } from '../../src/node/index.js';
import { ensureDist } from '../helpers/build.js';
import { repoRoot } from '../helpers/paths.js';
import { needs } from '../helpers/peers.js';
import {
  makeTestStore,
  postfixBase,
  RSA_DOMAIN,
  type RunningServer,
  run,
  startPostfix,
  type TestStore,
  withFreePorts,
  writePostfixConfig,
} from './servers.js';

const TSC = join(repoRoot, 'node_modules/typescript/bin/tsc');
const GOOD = `mail.${RSA_DOMAIN}`;

/** The package (dist/) and the examples, built when missing or older than their sources. */
function buildExamples(): void {
  ensureDist();
  spawnSync(process.execPath, [TSC, '-p', 'examples/tsconfig.json'], { cwd: repoRoot });
}

/** Starts examples/mail-server.js on free ports; its SMTP port. */
function startMailServer(store: string): Promise<{ child: ChildProcess; smtp: number }> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'build/examples/mail-server.js'), '--store', store, '--base-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`mail-server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('ready '))
        resolve({ child, smtp: (JSON.parse(line.slice(6)) as { ports: { smtp: number } }).ports.smtp });
    });
  });
}

/** Sends one message to Postfix's smtpd in plaintext (loopback, mynetworks): Postfix then relays it. */
function submit(port: number, rcpt: string): Promise<string> {
  const lines = [
    'EHLO client.test',
    'MAIL FROM:<sender@client.test>',
    `RCPT TO:<${rcpt}>`,
    'DATA',
    `Subject: to ${rcpt}\r\n\r\nhello\r\n.`,
    'QUIT',
  ];
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let step = 0;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      // one command per complete reply (a final line "NNN text")
      while (step < lines.length && (got.match(/^\d{3} .*\r\n/gm) ?? []).length > step)
        s.write(`${lines[step++]}\r\n`);
    });
    s.once('error', reject);
    s.once('close', () => resolve(got));
  });
}

/** Waits until the Postfix log has a line matching `re`, polling the file. */
async function waitForLog(server: RunningServer, re: RegExp, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const line = server
      .log()
      .split('\n')
      .find((l) => re.test(l));
    if (line !== undefined) return line;
    if (Date.now() > end) throw new Error(`no log line ${re} after ${ms} ms:\n${server.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(
  'Postfix delivers to examples/mail-server.ts with the emitted secure policy',
  needs('postfix', 'postmap'),
  () => {
    let t: TestStore;
    let mail: { child: ChildProcess; smtp: number } | undefined;
    let postfix: RunningServer | undefined;

    before(async () => {
      t = await makeTestStore('outgoing');
      buildExamples();
      mail = await startMailServer(t.root);
      const base = join(t.dir, 'postfix');
      const conf = join(base, 'conf');
      mkdirSync(conf, { recursive: true });
      const next = `127.0.0.1]:${mail.smtp}`;
      const settings: MailTLSSettings = {
        outgoing: 'may',
        outgoingCAFile: t.caFile,
        outgoingPolicies: [
          { destination: `[${next}`, level: 'secure', match: [GOOD] },
          {
            destination: `[localhost]:${mail.smtp}`,
            level: 'secure',
            match: ['wrong.example.test'],
            servername: 'wrong.example.test',
          },
        ],
      };
      const policyMap = join(conf, 'mailtls-tls-policy');
      const emitted = encodePostfixConfig(await loadServerTLSLayout(t.store), settings, {
        policyMap,
        sniMap: join(conf, 'mailtls-sni'),
      });
      // Mail for good.test goes to the server by address (checked against its name), for bad.test by "localhost"
      // (checked against a name it does not have).
      const transport = `good.test smtp:[127.0.0.1]:${mail.smtp}\nbad.test smtp:[localhost]:${mail.smtp}\n`;
      postfix = await withFreePorts(1, async ([port]) => {
        writePostfixConfig(
          base,
          `${postfixBase(base)}transport_maps = texthash:${join(conf, 'transport')}\nrelay_domains = good.test bad.test\n${emitted}`,
          port!,
        );
        writeFileSync(join(conf, 'transport'), transport);
        writeFileSync(policyMap, encodePostfixPolicyMap(settings));
        const postmap = await run('postmap', ['-c', conf, `hash:${policyMap}`]);
        assert.equal(postmap.code, 0, postmap.err);
        return startPostfix(base, port!);
      });
    });

    after(async () => {
      await postfix?.stop();
      mail?.child.kill('SIGTERM');
      t?.cleanup();
    });

    it('delivers with a verified connection to the right name', async () => {
      const reply = await submit(postfix!.ports.smtp!, 'user@good.test');
      assert.match(reply, /^250 .*queued as/m, reply);
      const verified = await waitForLog(
        postfix!,
        new RegExp(
          `Verified TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${mail!.smtp}`,
        ),
      );
      assert.match(verified, /postfix\/smtp/);
      await waitForLog(postfix!, /to=<user@good\.test>.*status=sent/);
    });

    it('refuses to deliver when the certificate does not carry the required name', async () => {
      const reply = await submit(postfix!.ports.smtp!, 'user@bad.test');
      assert.match(reply, /^250 .*queued as/m, reply);
      const deferred = await waitForLog(postfix!, /to=<user@bad\.test>.*status=deferred/);
      assert.match(deferred, /dsn=4\.7\.5, status=deferred \(Server certificate not verified\)/);
      assert.doesNotMatch(postfix!.log(), /to=<user@bad\.test>.*status=sent/);
    });
  },
);
