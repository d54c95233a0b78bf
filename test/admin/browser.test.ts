/**
 * The web administrator end to end in headless Chromium (playwright-core driving /usr/bin/chromium), with
 * examples/mail-server.ts serving the store and openssl as the reseller's CA: log in; create a CSR with the
 * mail names; download req.pem; sign it with `openssl x509 -req`; upload the certificate with a shuffled CA
 * bundle; preview and install; enable STARTTLS and implicit TLS for SMTP, POP3 and IMAP; "test now" shows every
 * port verified (and openssl s_client agrees); roll back and see the old certificate served again.
 * Screenshots of the main pages go to a temporary directory (MAILTLS_SCREENSHOTS=DIR keeps them in DIR).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createAdminHandler } from '../../src/admin/index.js';
import { createSelfSignedCertificate, parseCertificate } from '../../src/index.js';
import {
  CertificateStore,
  createHTTPSServer,
  createSNIRegistry,
  loadTLSSettings,
  saveTLSSettings,
} from '../../src/node/index.js';
import { setAdminPassword } from '../../src/node/settings/index.js';
import { withDomainTLSSettings } from '../../src/settings/index.js';
import { ensureBuilt } from '../helpers/build.js';
import { lineLog } from '../helpers/lines.js';
import { repoRoot } from '../helpers/paths.js';
import { needs } from '../helpers/peers.js';

const PASSWORD = 'browser test password';
const DOMAIN = 'example.test';
const dir = mkdtempSync(join(tmpdir(), 'mailtls-admin-browser-'));
const shots = process.env.MAILTLS_SCREENSHOTS ?? join(dir, 'screenshots');
const root = join(dir, 'store');
const ca = join(dir, 'ca');

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { cwd: ca, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The reseller: signs a CSR with the intermediate, copying the requested names. */
function signAsReseller(csrFile: string, outFile: string, days: number): string {
  writeFileSync(
    join(ca, 'leaf.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    'int.pem',
    '-CAkey',
    'int.key',
    '-CAcreateserial',
    '-days',
    String(days),
    '-copy_extensions',
    'copyall',
    '-extfile',
    'leaf.ext',
    '-out',
    outFile,
  ]);
  return readFileSync(join(ca, outFile), 'utf8');
}

interface MailServer {
  child: ChildProcess;
  lines: string[];
  ports: Record<string, number>;
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

function startMailServer(): Promise<MailServer> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'build/examples/mail-server.js'),
      '--store',
      root,
      '--base-port',
      '0',
      '--poll-ms',
      '200',
      '--default',
      DOMAIN,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const ports: Record<string, number> = {};
  const errors: string[] = [];
  child.stderr!.on('data', (b: Buffer) => errors.push(b.toString()));
  const log = lineLog(() => errors.join(''));
  const lines = log.lines;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const json = line.slice(line.indexOf(' ') + 1);
    if (line.startsWith('ready ') || line.startsWith('settings '))
      Object.assign(ports, JSON.parse(json).ports);
    if (line.startsWith('listening ')) {
      const v = JSON.parse(json) as { service: string; port: number };
      ports[v.service] = v.port;
    }
    log.push(line);
  });
  const waitFor = (re: RegExp, ms = 30_000): Promise<string> => log.waitFor(re, ms);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`mail-server exited ${code}: ${errors.join('')}`)));
    waitFor(/^ready /).then(() => resolve({ child, lines, ports, waitFor }), reject);
  });
}

/** The leaf a port serves (implicit TLS only), by SHA-256 fingerprint. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: DOMAIN, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

let browser: Browser | undefined;
let mail: MailServer | undefined;
let adminServer: ReturnType<typeof createHTTPSServer> | undefined;
let adminURL = '';
let oldFingerprint = '';

describe(
  'admin in Chromium: create, view, install, configure, test, roll back',
  needs('chromium', 'openssl', 'curl'),
  () => {
    before(async () => {
      assert.deepEqual(ensureBuilt(), [], 'errors in the examples');
      mkdirSync(ca, { recursive: true });
      mkdirSync(shots, { recursive: true });
      // The reseller's CA with openssl: a root and an intermediate.
      writeFileSync(
        join(ca, 'ca.ext'),
        'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
      );
      openssl([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'root.key',
        '-out',
        'root.pem',
        '-subj',
        '/CN=Reseller Test Root',
        '-days',
        '3650',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'int.key',
        '-out',
        'int.csr',
        '-subj',
        '/CN=Reseller Test Intermediate',
      ]);
      openssl([
        'x509',
        '-req',
        '-in',
        'int.csr',
        '-CA',
        'root.pem',
        '-CAkey',
        'root.key',
        '-CAcreateserial',
        '-days',
        '3650',
        '-extfile',
        'ca.ext',
        '-out',
        'int.pem',
      ]);
      const rootPEM = readFileSync(join(ca, 'root.pem'), 'utf8');
      const intPEM = readFileSync(join(ca, 'int.pem'), 'utf8');

      // The old certificate, in service before the administrator is used.
      const store = new CertificateStore(root, { trust: [rootPEM] });
      const first = await store.createCSR({
        subject: { commonName: DOMAIN },
        hostnames: [`mail.${DOMAIN}`],
        keyType: 'ec',
      });
      writeFileSync(join(ca, 'old.csr'), first.csrPEM);
      const oldPEM = signAsReseller('old.csr', 'old.pem', 30);
      await store.install({ cert: oldPEM, caBundle: intPEM });
      oldFingerprint = parseCertificate(oldPEM).fingerprint('sha256');
      // POP3, IMAP and implicit SMTP are off until the administrator turns them on.
      const s0 = await loadTLSSettings(root);
      const off = { ...s0.defaults.services };
      for (const name of ['smtps', 'pop3', 'pop3s', 'imap', 'imaps'] as const)
        off[name] = { ...off[name], enabled: false };
      await saveTLSSettings(root, withDomainTLSSettings(s0, '*', { ...s0.defaults, services: off }));
      await setAdminPassword(root, { user: 'admin', password: PASSWORD });

      mail = await startMailServer();
      assert.equal(mail.ports.imaps, undefined, 'imaps starts disabled');

      const self = await createSelfSignedCertificate({
        commonName: 'admin.example.test',
        ipAddresses: ['127.0.0.1'],
        keyType: 'ec',
        days: 2,
        at: new Date(),
      });
      const handler = createAdminHandler({
        store,
        trust: [rootPEM],
        resolve: async () => ['127.0.0.1'],
        probe: { connect: '127.0.0.1', ports: (service) => mail?.ports[service], timeoutMs: 15_000 },
      });
      adminServer = createHTTPSServer(
        createSNIRegistry({ key: self.keyPEM, cert: self.certPEM }),
        {},
        (req, res) => void handler(req, res),
      );
      await new Promise<void>((resolve) => adminServer!.listen(0, '127.0.0.1', resolve));
      adminURL = `https://127.0.0.1:${(adminServer.address() as AddressInfo).port}`;
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });

    after(async () => {
      await browser?.close();
      if (mail !== undefined && mail.child.exitCode === null) mail.child.kill('SIGKILL');
      adminServer?.closeAllConnections();
      adminServer?.close();
      if (process.env.MAILTLS_SCREENSHOTS === undefined) rmSync(dir, { recursive: true, force: true });
      else rmSync(root, { recursive: true, force: true });
    });

    it('runs the whole flow', async (t) => {
      const context = await browser!.newContext({
        ignoreHTTPSErrors: true,
        acceptDownloads: true,
        viewport: { width: 1200, height: 900 },
      });
      const page: Page = await context.newPage();
      const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      const flash = () => page.locator('.flash').allTextContents();

      // Log in.
      await page.goto(`${adminURL}/`);
      assert.match(page.url(), /\/login$/);
      await shot('login');
      await page.fill('#user', 'admin');
      await page.fill('#password', PASSWORD);
      await page.click('button:has-text("Log in")');
      await page.waitForURL(`${adminURL}/`);
      assert.equal(await page.locator('h1').textContent(), 'Domains');
      assert.match(
        (await page.locator('main').textContent()) ?? '',
        new RegExp(`${DOMAIN.replace('.', '\\.')}`),
      );
      await shot('domains');

      // Create a CSR with the mail names.
      await page.click('nav >> text=Create CSR');
      await page.fill('#domain', DOMAIN);
      await page.click('button:has-text("Next")');
      const suggested = await page.inputValue('#hostnames');
      assert.match(suggested, /mail\.example\.test/);
      await page.fill('#country', 'DE');
      await page.fill('#organization', 'Example GmbH');
      await page.fill('#emailAddress', 'hostmaster@example.test');
      await page.selectOption('#keyType', 'ec');
      await shot('create-csr');
      await page.click('button:has-text("Create CSR")');
      await page.waitForURL(/\/d\/example\.test\/csr$/);
      const csrText = (await page.locator('pre').first().textContent()) ?? '';
      assert.match(csrText, /O\s*=\s*Example GmbH/);
      assert.match(csrText, /DNS:mail\.example\.test/);
      await shot('csr');

      // Download req.pem and sign it as the reseller.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('button:has-text("Download req.pem")'),
      ]);
      assert.equal(download.suggestedFilename(), 'req.pem');
      await download.saveAs(join(ca, 'req.pem'));
      openssl(['req', '-in', 'req.pem', '-noout', '-verify']); // throws unless the signature verifies
      const newPEM = signAsReseller('req.pem', 'new.pem', 90);
      const newFingerprint = parseCertificate(newPEM).fingerprint('sha256');
      writeFileSync(
        join(ca, 'shuffled.ca-bundle'),
        readFileSync(join(ca, 'root.pem'), 'utf8') + readFileSync(join(ca, 'int.pem'), 'utf8'),
      );

      // Upload the certificate and the shuffled bundle; preview; install.
      await page.click('nav >> text=Install certificate');
      await page.fill('#domain', DOMAIN);
      await page.setInputFiles('#certFile', join(ca, 'new.pem'));
      await page.setInputFiles('#caFile', join(ca, 'shuffled.ca-bundle'));
      await page.click('button:has-text("Preview")');
      const preview = (await page.locator('main').textContent()) ?? '';
      assert.match(preview, /matches the key of the pending CSR/);
      assert.match(preview, /complete/);
      const chainItems = await page.locator('ol li').allInnerTexts();
      assert.equal(chainItems.length, 2);
      assert.match(chainItems[0]!, /CN=example\.test/);
      assert.equal(chainItems[1], 'CN=Reseller Test Intermediate');
      assert.match(preview, /another order/);
      await shot('install-preview');
      await page.click('button:has-text("Install")');
      await page.waitForURL(`${adminURL}/d/example.test`);
      assert.ok((await flash()).some((f) => /Installed version/.test(f)));
      await mail!.waitFor(new RegExp(`^reloaded .*${newFingerprint}`));

      // Enable STARTTLS and implicit TLS for SMTP, POP3 and IMAP.
      for (const service of ['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps', 'https'])
        await page.check(`input[name="${service}.enabled"]`);
      await page.selectOption('select[name="smtp.starttls"]', 'required');
      await page.click('button:has-text("Save TLS settings")');
      await page.waitForURL(`${adminURL}/d/example.test`);
      assert.ok((await flash()).some((f) => /TLS settings saved \(revision 2\)/.test(f)));
      await mail!.waitFor(/^settings \{"revision":2/);
      for (const service of ['smtps', 'pop3', 'pop3s', 'imap', 'imaps'])
        assert.ok(mail!.ports[service]! > 0, service);

      // Test now: every port verified.
      await page.click('button:has-text("Test now")');
      await page.waitForURL(`${adminURL}/d/example.test`);
      const rows = page.locator('tr[data-service]');
      assert.equal(await rows.count(), 8);
      for (const text of await rows.allInnerTexts()) assert.match(text, /verified/, text);
      assert.ok((await flash()).some((f) => f === '8 of 8 ports verified.'));
      await shot('domain');

      // openssl s_client agrees, port by port.
      const starttls: Record<string, string> = {
        smtp: 'smtp',
        submission: 'smtp',
        pop3: 'pop3',
        imap: 'imap',
      };
      for (const [service, port] of Object.entries(mail!.ports)) {
        const args = [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          DOMAIN,
          '-verify_hostname',
          `mail.${DOMAIN}`,
          '-CAfile',
          join(ca, 'root.pem'),
          '-verify_return_error',
          '-brief',
        ];
        if (starttls[service] !== undefined) args.push('-starttls', starttls[service]!);
        // -verify_return_error makes openssl exit non-zero (execFileSync throws) on any verification failure.
        const r = execFileSync('openssl', args, {
          input: '',
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        assert.doesNotMatch(r, /verify error/i, service);
      }
      t.diagnostic(`openssl s_client verified ${Object.keys(mail!.ports).length} ports`);

      // curl agrees too, speaking each protocol over the verified connection (STARTTLS required where the
      // port starts in plaintext); exit 0 means chain and name verified against the reseller's root.
      const scheme: Record<string, string> = {
        smtp: 'smtp',
        submission: 'smtp',
        smtps: 'smtps',
        pop3: 'pop3',
        pop3s: 'pop3s',
        imap: 'imap',
        imaps: 'imaps',
        https: 'https',
      };
      const message = join(ca, 'msg.eml');
      writeFileSync(message, 'Subject: test\r\n\r\nhello\r\n');
      for (const [service, port] of Object.entries(mail!.ports)) {
        const url = scheme[service];
        assert.ok(url !== undefined, `a curl scheme for ${service}`);
        const host = `mail.${DOMAIN}`;
        const args = ['-sS', '--noproxy', '*', '--max-time', '60', '--cacert', join(ca, 'root.pem')];
        args.push('--resolve', `${host}:${port}:127.0.0.1`);
        if (starttls[service] !== undefined) args.push('--ssl-reqd');
        if (url.startsWith('smtp'))
          args.push(
            `${url}://${host}:${port}/client.test`,
            '--mail-from',
            `a@${DOMAIN}`,
            '--mail-rcpt',
            `postmaster@${DOMAIN}`,
            '--upload-file',
            message,
            '--user',
            'u:p',
          );
        else if (url === 'https') args.push(`https://${host}:${port}/`);
        else args.push(`${url}://${host}:${port}/`, '--user', 'u:p');
        try {
          execFileSync('curl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (e) {
          const err = e as { status?: number; stderr?: string };
          assert.fail(`curl ${service}: exit ${err.status}: ${err.stderr ?? ''}`);
        }
      }
      t.diagnostic(`curl verified ${Object.keys(mail!.ports).length} ports`);

      // STARTTLS required on port 25: no MAIL FROM in plaintext.
      const plain = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(mail!.ports.smtp!, '127.0.0.1');
        let data = '';
        sock.on('data', (b: Buffer) => {
          data += b.toString();
          if (data.startsWith('220') && !data.includes('EHLO-SENT')) {
            data += 'EHLO-SENT';
            sock.write(
              'EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<postmaster@example.test>\r\n',
            );
          }
          if (/\r\n5\d\d /.test(data) || (data.match(/250 2\.0\.0/g) ?? []).length >= 2) {
            sock.end();
            resolve(data);
          }
        });
        sock.on('error', reject);
      });
      // MAIL FROM follows the server's defaults (offered); RCPT TO for example.test follows its own (required).
      assert.match(plain, /250 2\.0\.0 OK\r\n530 5\.7\.0 Must issue a STARTTLS command first/);

      // Roll back: the old certificate is served again.
      await page.click('button:has-text("Roll back to this")');
      await page.waitForURL(`${adminURL}/d/example.test`);
      assert.ok((await flash()).some((f) => /Rolled back/.test(f)));
      await mail!.waitFor(new RegExp(`^reloaded .*${oldFingerprint}`));
      assert.equal(await servedFingerprint(mail!.ports.imaps!), oldFingerprint);
      await page.goto(`${adminURL}/audit`);
      const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
      for (const action of ['login', 'create-csr', 'install', 'settings', 'probe', 'rollback'])
        assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
      await shot('audit');
      await context.close();
      t.diagnostic(`screenshots in ${shots}`);
    });
  },
);
