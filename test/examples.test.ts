/**
 * Runs every example under examples/ as a child process, importing the built package by its name `mailtls`,
 * and checks what real clients see: curl and openssl s_client against mail-server.js (STARTTLS and implicit
 * TLS, chain and host name verified), hot reload after an install, a clean stop on SIGTERM, and the demo's
 * table. The package is built first when dist/ is missing or older than src/.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  issueCertificate,
} from '../src/index.js';
import { CertificateStore, loadTLSSettings, saveTLSSettings } from '../src/node/index.js';
import { validateTLSSettings } from '../src/settings/index.js';
import { ensureBuilt } from './helpers/build.js';
import { lineLog } from './helpers/lines.js';
import { repoRoot } from './helpers/paths.js';
import { skipWithout } from './helpers/peers.js';

const BUILT = join(repoRoot, 'build/examples');

function run(cmd: string, args: string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // The timeout only turns a hung example into a failure: far above a run on a loaded machine (30 s was not).
    const child = execFile(cmd, args, { timeout: 240_000, cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr });
    });
    // A program that exits before reading its input (curl on a refused connection) must not turn the
    // write into an uncaught EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'mailtls-examples-test-'));
const H = 'mail.example.test';
const H2 = 'mail.second.test';
let ca: CertificateAuthorityHierarchy;
let caFile: string;
let storeDir: string;
const notBefore = new Date(Date.now() - 3_600_000);

async function issueInto(store: CertificateStore, replace: boolean): Promise<string> {
  const request = await store.createCSR({
    subject: { commonName: 'example.test' },
    hostnames: [H, 'smtp.example.test', 'imap.example.test', 'pop.example.test'],
    replace,
  });
  const issued = await issueCertificate(request.csrPEM, ca.issuer, { notBefore, days: 90 });
  await store.install({ cert: issued.certPEM, caBundle: ca.root.certPEM + ca.intermediate!.certPEM });
  return (await store.load('example.test')).leaf.fingerprint('sha256');
}

before(async () => {
  // Emitted files are what the examples need; type errors in the examples themselves fail the test.
  assert.deepEqual(ensureBuilt(), [], 'errors in the examples');
  ca = await createCertificateAuthority({
    name: 'Examples Test Root',
    intermediate: true,
    notBefore,
    days: 3650,
  });
  caFile = join(dir, 'root.pem');
  writeFileSync(caFile, ca.root.certPEM);
  storeDir = join(dir, 'store');
  const store = new CertificateStore(storeDir, { trust: [ca.root.certPEM] });
  await issueInto(store, false);
  // A second domain on the same ports, for the TLS settings per domain.
  const request = await store.createCSR({ subject: { commonName: 'second.test' }, hostnames: [H2] });
  const issued = await issueCertificate(request.csrPEM, ca.issuer, { notBefore, days: 90 });
  await store.install({ cert: issued.certPEM, caBundle: ca.root.certPEM + ca.intermediate!.certPEM });
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Server {
  child: ChildProcess;
  ports: Record<string, number>;
  lines: string[];
  waitFor(re: RegExp, ms: number): Promise<string>;
}

function startMailServer(base: number): Promise<Server | 'EADDRINUSE'> {
  const child = spawn(
    process.execPath,
    [
      join(BUILT, 'mail-server.js'),
      ...['--store', storeDir, '--host', '127.0.0.1', '--base-port', String(base)],
      ...['--default', 'example.test'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = lineLog();
  const lines = log.lines;
  createInterface({ input: child.stdout! }).on('line', (line) => log.push(line));
  child.stderr!.resume();
  const waitFor = (re: RegExp, ms: number): Promise<string> => log.waitFor(re, ms);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 98 ? resolve('EADDRINUSE') : reject(new Error(`exit ${code}`))));
    waitFor(/^ready /, 20_000).then((line) => {
      const ports = (JSON.parse(line.slice(6)) as { ports: Record<string, number> }).ports;
      resolve({ child, ports, lines, waitFor });
    }, reject);
  });
}

describe('examples/mail-server.ts', () => {
  let server: Server;

  before(async () => {
    for (let attempt = 0; ; attempt++) {
      const base = 20000 + Math.floor(Math.random() * 10000);
      const s = await startMailServer(base);
      if (s !== 'EADDRINUSE') {
        server = s;
        assert.equal(server.ports.smtp, base + 25);
        assert.equal(server.ports.imaps, base + 993);
        return;
      }
      assert.ok(attempt < 5, 'no free base port after 6 attempts');
    }
  });

  after(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  const curlRows = [
    { name: 'smtp STARTTLS (base+25)', service: 'smtp', url: 'smtp', mail: true, reqd: true },
    { name: 'submission STARTTLS (base+587)', service: 'submission', url: 'smtp', mail: true, reqd: true },
    { name: 'smtps (base+465)', service: 'smtps', url: 'smtps', mail: true, reqd: false },
    { name: 'pop3 STLS (base+110)', service: 'pop3', url: 'pop3', mail: false, reqd: true },
    { name: 'pop3s (base+995)', service: 'pop3s', url: 'pop3s', mail: false, reqd: false },
    { name: 'imap STARTTLS (base+143)', service: 'imap', url: 'imap', mail: false, reqd: true },
    { name: 'imaps (base+993)', service: 'imaps', url: 'imaps', mail: false, reqd: false },
    { name: 'https (base+443)', service: 'https', url: 'https', mail: false, reqd: false },
  ];
  for (const row of curlRows) {
    it(`curl logs in over TLS and quits: ${row.name}`, async (t) => {
      if (skipWithout(t, 'curl')) return;
      const port = server.ports[row.service]!;
      const args = [
        '-sS',
        '--noproxy',
        '*',
        '--max-time',
        '15',
        '--cacert',
        caFile,
        '--resolve',
        `${H}:${port}:127.0.0.1`,
      ];
      if (row.reqd) args.push('--ssl-reqd');
      if (row.mail) {
        const msg = join(dir, 'msg.eml');
        writeFileSync(msg, 'Subject: test\r\n\r\nhello\r\n');
        args.push(`${row.url}://${H}:${port}/client.test`, '--mail-from', 'a@example.test');
        args.push('--mail-rcpt', 'b@example.test', '--upload-file', msg, '--user', 'u:p');
      } else if (row.url === 'https') args.push(`https://${H}:${port}/`);
      else args.push(`${row.url}://${H}:${port}/`, '--user', 'u:p');
      const r = await run('curl', args);
      assert.equal(r.code, 0, r.out);
      if (row.url === 'https') assert.match(r.out, /mailtls example: mail\.example\.test over TLSv1\.[23]/);
      if (row.url.startsWith('imap')) assert.match(r.out, /INBOX/);
    });
  }

  it('curl refuses a name the certificate does not cover (exit 60): verification is real', async (t) => {
    if (skipWithout(t, 'curl')) return;
    const port = server.ports.imaps!;
    const r = await run('curl', [
      '-sS',
      '--noproxy',
      '*',
      '--cacert',
      caFile,
      '--resolve',
      `other.test:${port}:127.0.0.1`,
      `imaps://other.test:${port}/`,
      '--user',
      'u:p',
    ]);
    assert.equal(r.code, 60, r.out);
  });

  const opensslRows = [
    { service: 'smtp', starttls: 'smtp', quit: 'QUIT\r\n' },
    { service: 'submission', starttls: 'smtp', quit: 'QUIT\r\n' },
    { service: 'pop3', starttls: 'pop3', quit: 'QUIT\r\n' },
    { service: 'imap', starttls: 'imap', quit: 'a LOGOUT\r\n' },
    { service: 'smtps', starttls: undefined, quit: 'QUIT\r\n' },
    { service: 'pop3s', starttls: undefined, quit: 'QUIT\r\n' },
    { service: 'imaps', starttls: undefined, quit: 'a LOGOUT\r\n' },
    { service: 'https', starttls: undefined, quit: '' },
  ];
  for (const row of opensslRows) {
    it(`openssl s_client verifies chain and name: ${row.service}${row.starttls ? ` (-starttls ${row.starttls})` : ''}`, async () => {
      const args = ['s_client', '-connect', `127.0.0.1:${server.ports[row.service]}`, '-servername', H];
      args.push('-verify_hostname', H, '-CAfile', caFile, '-verify_return_error', '-brief');
      if (row.starttls) args.push('-starttls', row.starttls);
      const r = await run('openssl', args, row.quit);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Verification: OK/);
      assert.match(r.out, /Protocol version: TLSv1\.3/);
    });
  }

  it('pipelined plaintext after STARTTLS is discarded, the reply comes in one write', async () => {
    const net = await import('node:net');
    const raw = net.connect(server.ports.smtp!, '127.0.0.1');
    const reads: string[] = [];
    const next = (): Promise<string> =>
      new Promise((resolve) => raw.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    reads.push(await next());
    raw.write('EHLO client.test\r\n');
    reads.push(await next());
    assert.match(reads[1]!, /^250-.*\r\n(250-.*\r\n)*250 .*\r\n$/s, 'the whole EHLO reply in one read');
    assert.match(reads[1]!, /STARTTLS/);
    raw.write('STARTTLS\r\nNOOP\r\n');
    assert.equal(await next(), '220 2.0.0 Ready to start TLS\r\n');
    const secure = tls.connect({ socket: raw, servername: H, ca: ca.root.certPEM });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    secure.write('EHLO client.test\r\n');
    const afterTLS = await new Promise<string>((resolve) =>
      secure.once('data', (d: Buffer) => resolve(String(d))),
    );
    assert.match(
      afterTLS,
      /^250-mail\.example\.test\r\n/,
      `the NOOP got no reply; the first reply is EHLO's: ${afterTLS}`,
    );
    assert.match(afterTLS, /AUTH PLAIN LOGIN/);
    secure.destroy();
  });

  it('hot reload: a new certificate installed into the store is served to the next connection', async () => {
    const fingerprint = await issueInto(new CertificateStore(storeDir, { trust: [ca.root.certPEM] }), true);
    await server.waitFor(new RegExp(`^reloaded .*${fingerprint}`), 10_000);
    const served = await new Promise<string>((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: server.ports.imaps!, servername: H, ca: ca.root.certPEM },
        () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        },
      );
      s.once('error', reject);
    });
    assert.equal(served, fingerprint);
  });

  it('TLS settings per domain: on one port, TLS 1.2 is refused for the modern domain and served for the other', async (t) => {
    if (skipWithout(t, 'openssl')) return;
    const current = await loadTLSSettings(storeDir);
    const modern = { profile: 'modern' } as const;
    const next = validateTLSSettings({
      ...current,
      domains: { 'second.test': { services: { imaps: modern, imap: modern } } },
    });
    const saved = await saveTLSSettings(storeDir, next, { by: 'examples test' });
    await server.waitFor(new RegExp(`^settings \\{"revision":${saved.revision},`), 20_000);
    const sclient = (service: string, name: string, version: string, starttls?: string) => {
      const args = ['s_client', '-connect', `127.0.0.1:${server.ports[service]}`, '-servername', name];
      args.push('-verify_hostname', name, '-CAfile', caFile, '-verify_return_error', '-brief', version);
      if (starttls !== undefined) args.push('-starttls', starttls);
      return run('openssl', args, 'a LOGOUT\r\n');
    };
    for (const [service, starttls] of [
      ['imaps', undefined],
      ['imap', 'imap'],
    ] as const) {
      const strict12 = await sclient(service, H2, '-tls1_2', starttls);
      assert.notEqual(strict12.code, 0, `${service}: TLS 1.2 to the modern domain: ${strict12.out}`);
      const strict13 = await sclient(service, H2, '-tls1_3', starttls);
      assert.equal(strict13.code, 0, strict13.out);
      assert.match(strict13.out, /Verification: OK/);
      const other12 = await sclient(service, H, '-tls1_2', starttls);
      assert.equal(other12.code, 0, other12.out);
      assert.match(other12.out, /Protocol version: TLSv1\.2/);
    }
    // Other services keep the defaults for the modern domain.
    const pop3s = await sclient('pop3s', H2, '-tls1_2');
    assert.equal(pop3s.code, 0, pop3s.out);
  });

  it('SIGTERM stops it cleanly (exit 0)', async () => {
    const exited = new Promise<number | null>((resolve) =>
      server.child.once('exit', (code) => resolve(code)),
    );
    server.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(server.lines.includes('stopped (SIGTERM)'), server.lines.join(' | '));
  });
});

describe('npm run demo (examples/demo.ts)', () => {
  it('prints a row per port, every one OK, and exits 0', async () => {
    const r = await run(process.execPath, [join(BUILT, 'demo.js')]);
    assert.equal(r.code, 0, r.out);
    const rows = r.out
      .split('\n')
      .filter((l) => /^\d+\s+(smtp|submission|smtps|pop3|pop3s|imap|imaps|https)\s/.test(l));
    assert.equal(rows.length, 8, r.out);
    for (const row of rows) {
      assert.match(row, /TLSv1\.[23]\s+OK\s+OK\s+\d+\s/, row);
      assert.match(row, /\sOK$/, row);
    }
    assert.match(r.out, /all 8 ports OK/);
  });
});

describe('self-contained examples', () => {
  const rows = [
    {
      name: 'reseller-install.js: CSR, install with the reseller bundle, verified round trip',
      input: 'reseller-install.js',
      want: [
        /installed example\.test v\d{6}-.*chain complete: true, key from: pending/,
        /server said: 220 mail\.example\.test/,
      ],
    },
    {
      name: 'https-admin.js: node https, RSA and ECDSA names by SNI',
      input: 'https-admin.js',
      want: [
        /mail\.example\.test: 200 .*CN=mail\.example\.test, rsa\)/,
        /admin\.example\.test: 200 .*CN=admin\.example\.test, ec\)/,
      ],
    },
    {
      name: 'smtp-server.js: smtp-server delivery over STARTTLS, renewal served after reload',
      input: 'smtp-server.js',
      want: [/delivered: 250 .* over TLS/, /served after reload: ([0-9A-F:]{95}) \(renewed \1\)/],
    },
    {
      name: 'outgoing-smtp.js: nodemailer with clientTLSOptions, a wrong MX name refused',
      input: 'outgoing-smtp.js',
      want: [
        /to mx1\.example\.test: delivered \(250/,
        /to mx2\.example\.test: refused: .*matches none of mx2\.example\.test/,
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const r = await run(process.execPath, [join(BUILT, row.input)]);
      assert.equal(r.code, 0, r.out);
      for (const re of row.want) assert.match(r.out, re);
      assert.match(r.out, /^OK$/m);
    });
  }
});
