/**
 * `npm run demo`: the whole life of a mail server's certificate on loopback, in a temporary directory.
 *
 * 1. A local CA (root and intermediate) stands in for the reseller.
 * 2. The store makes a key and a CSR for `example.test` with its mail host names.
 * 3. The "reseller" issues the certificate; it is installed with a CA bundle in shuffled order (as resellers
 *    often send it: mailtls puts the chain in order).
 * 4. `mail-server.js` serves SMTP, POP3, IMAP and HTTPS on loopback from that store.
 * 5. Every port is probed with mailtls's `probe` (STARTTLS where the port needs it), and with `curl` and
 *    `openssl s_client` when they are installed; a table is printed and the server stopped.
 *
 * Nothing leaves 127.0.0.1 (names are sent in SNI and checked, but never resolved) and nothing is written
 * outside the temporary directory, which is removed at the end. Exit code 0 when every check passed.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueCertificate } from 'mailtls';
import { CertificateStore, type ProbeResult, probe } from 'mailtls/node';

const DOMAIN = 'example.test';
const HOSTS = ['mail.example.test', 'smtp.example.test', 'imap.example.test', 'pop.example.test'];
/** Which name a client of each service would use. */
const SERVICES = [
  { name: 'smtp', host: 'mail.example.test', openssl: 'smtp', curl: 'smtp' },
  { name: 'submission', host: 'smtp.example.test', openssl: 'smtp', curl: 'smtp' },
  { name: 'smtps', host: 'smtp.example.test', openssl: undefined, curl: 'smtps' },
  { name: 'pop3', host: 'pop.example.test', openssl: 'pop3', curl: 'pop3' },
  { name: 'pop3s', host: 'pop.example.test', openssl: undefined, curl: 'pop3s' },
  { name: 'imap', host: 'imap.example.test', openssl: 'imap', curl: 'imap' },
  { name: 'imaps', host: 'imap.example.test', openssl: undefined, curl: 'imaps' },
  { name: 'https', host: 'mail.example.test', openssl: undefined, curl: 'https' },
] as const;

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'mailtls-demo-'));
let server: ChildProcess | undefined;

function step(text: string): void {
  console.log(`- ${text}`);
}

function have(tool: string): boolean {
  const r = spawnSync(tool, [tool === 'openssl' ? 'version' : '--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function run(cmd: string, args: string[], input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: 15_000, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
    // a client may exit before it reads what we send (curl after a refused handshake): not the demo's failure
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

async function main(): Promise<boolean> {
  console.log(`mailtls demo in ${dir}`);

  // 1. The stand-in reseller.
  const notBefore = new Date(Date.now() - 3_600_000);
  const ca = await createCertificateAuthority({
    name: { organization: 'Demo Reseller', commonName: 'Demo Reseller Root CA' },
    intermediate: true,
    intermediateName: 'Demo Reseller DV CA',
    notBefore,
    days: 3650,
  });
  const caFile = join(dir, 'root-ca.pem');
  writeFileSync(caFile, ca.root.certPEM);
  step('local CA created (root + intermediate), standing in for the reseller');

  // 2. Key and CSR, kept by the store.
  const storeDir = join(dir, 'store');
  const store = new CertificateStore(storeDir, { trust: [ca.root.certPEM] });
  const request = await store.createCSR({
    subject: { commonName: DOMAIN, organization: 'Example Demo', country: 'US' },
    hostnames: HOSTS,
  });
  step(`CSR for ${request.dnsNames.join(', ')} written to ${request.files.csr.replace(dir, '$TMP')}`);

  // 3. Issue and install, with the bundle in the wrong order.
  const issued = await issueCertificate(request.csrPEM, ca.issuer, { notBefore, days: 90 });
  const bundle = [ca.root.certPEM, ca.intermediate!.certPEM];
  if (Math.random() < 0.5) bundle.reverse();
  const installed = await store.install({ cert: issued.certPEM, caBundle: bundle.join('') });
  step(
    `installed ${installed.domain} version ${installed.version}: chain of ${installed.chain.length} ` +
      `(complete: ${installed.chainComplete}), key from the ${installed.keySource} CSR`,
  );

  // 4. The server.
  const script = fileURLToPath(new URL('./mail-server.js', import.meta.url));
  server = spawn(process.execPath, [script, '--store', storeDir, '--host', '127.0.0.1', '--base-port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const lines = createInterface({ input: server!.stdout! });
    const timer = setTimeout(() => reject(new Error('mail-server did not get ready in 20 s')), 20_000);
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve((JSON.parse(line.slice(6)) as { ports: Record<string, number> }).ports);
      }
    });
    server!.once('exit', (code) => reject(new Error(`mail-server exited with ${code}`)));
  });
  step(`mail-server.js ready on 127.0.0.1: ${JSON.stringify(ports)}`);

  // 5. Probe every port.
  const curl = have('curl');
  const openssl = have('openssl');
  const message = join(dir, 'message.eml');
  writeFileSync(
    message,
    'From: a@example.test\r\nTo: b@example.test\r\nSubject: demo\r\n\r\nHello over TLS.\r\n',
  );
  const rows: string[][] = [];
  let ok = true;
  for (const s of SERVICES) {
    const port = ports[s.name]!;
    let result: ProbeResult | undefined;
    let error = '';
    try {
      result = await probe(`${s.name}://${s.host}:${port}`, { connect: '127.0.0.1', trust: ca.root.certPEM });
    } catch (e) {
      error = (e as { code?: string }).code ?? String(e);
    }
    const probeOK = result?.chainValid === true && result.namesMatch && result.problems.length === 0;

    let curlCell = 'absent';
    if (curl) {
      const args = ['-sS', '--noproxy', '*', '--max-time', '10', '--cacert', caFile];
      args.push('--resolve', `${s.host}:${port}:127.0.0.1`);
      if (s.curl === 'smtp' || s.curl === 'smtps')
        args.push(
          `${s.curl}://${s.host}:${port}/client.example.test`,
          '--mail-from',
          'a@example.test',
          '--mail-rcpt',
          'b@example.test',
          '--upload-file',
          message,
        );
      else if (s.curl === 'https') args.push(`https://${s.host}:${port}/`);
      else args.push(`${s.curl}://${s.host}:${port}/`, '--user', 'demo:demo');
      if (s.curl === 'smtp' || s.curl === 'pop3' || s.curl === 'imap') args.push('--ssl-reqd');
      const r = await run('curl', args, '');
      curlCell = r.code === 0 ? 'OK' : `exit ${r.code}`;
    }

    let opensslCell = 'absent';
    if (openssl) {
      const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', s.host];
      args.push('-verify_hostname', s.host, '-CAfile', caFile, '-verify_return_error', '-brief');
      if (s.openssl !== undefined) args.push('-starttls', s.openssl);
      const quit = s.name.startsWith('imap') ? 'a LOGOUT\r\n' : s.name === 'https' ? '' : 'QUIT\r\n';
      const r = await run('openssl', args, quit);
      const verified = /Verification: OK/.test(r.out);
      opensslCell = r.code === 0 && verified ? 'OK' : `exit ${r.code}${verified ? '' : ', not verified'}`;
    }

    const rowOK =
      probeOK &&
      (curlCell === 'OK' || curlCell === 'absent') &&
      (opensslCell === 'OK' || opensslCell === 'absent');
    if (!rowOK) ok = false;
    rows.push([
      String(port),
      s.name,
      s.host,
      result?.tlsVersion ?? error,
      result === undefined ? '-' : result.chainValid ? 'OK' : 'FAIL',
      result === undefined ? '-' : result.namesMatch ? 'OK' : 'FAIL',
      result === undefined ? '-' : String(result.daysLeft),
      curlCell,
      opensslCell,
      rowOK ? 'OK' : 'FAIL',
    ]);
    if (result !== undefined)
      for (const p of result.problems) console.log(`  ${s.name}: ${p.code}: ${p.message}`);
  }

  const header = [
    'port',
    'service',
    'name (SNI)',
    'TLS',
    'chain',
    'names',
    'days left',
    'curl',
    'openssl',
    'row',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log('');
  console.log(format(header));
  console.log(format(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(format(r));
  console.log('');
  if (!curl) console.log('curl is not installed: its column was skipped');
  if (!openssl) console.log('openssl is not installed: its column was skipped');
  console.log(
    ok
      ? `all ${rows.length} ports OK in ${((Date.now() - started) / 1000).toFixed(1)} s`
      : 'some checks FAILED (see the table)',
  );
  return ok;
}

async function stopServer(): Promise<void> {
  const child = server;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

let passed = false;
try {
  passed = await main();
} catch (e) {
  console.error(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
} finally {
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = passed ? 0 : 1;
