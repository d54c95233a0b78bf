/**
 * Helpers of the real-server tests: a store with two domains (RSA and ECDSA) issued by a test CA, private
 * Postfix and Dovecot instances (own config, queue, pid and base directories, free loopback ports chosen at
 * run time, retried on a collision), and openssl s_client handshakes that verify chain and name and report
 * which certificate was served.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  issueCertificate,
  parseCertificate,
} from '../../src/index.js';
import { CertificateStore, type InstallResult } from '../../src/node/index.js';
import { mailtlsAsync, type Run } from '../cli/helpers.js';

export const RSA_DOMAIN = 'a.example.test';
export const EC_DOMAIN = 'b.example.test';
export const namesOf = (domain: string): string[] => [domain, `mail.${domain}`, `imap.${domain}`];

/** A store with an RSA and an ECDSA domain, the CA that issued them and its root file. */
export interface TestStore {
  dir: string;
  root: string;
  caFile: string;
  ca: CertificateAuthorityHierarchy;
  store: CertificateStore;
  /** Issues and installs a new certificate for a domain (a renewal when it has one): the install result. */
  issue(
    domain: string,
    keyType: 'rsa' | 'ec',
    options?: { replace?: boolean; store?: CertificateStore },
  ): Promise<InstallResult>;
  /**
   * Renews a domain as an administrator does with the reseller's files: a new CSR and key in the store, the
   * certificate and intermediate written to files, then `mailtls install ... --deploy-hook HOOK`.
   */
  installWithHook(domain: string, keyType: 'rsa' | 'ec', hook: string): Promise<Run>;
  cleanup(): void;
}

export async function makeTestStore(prefix: string): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), `mailtls-${prefix}-`));
  // Postfix and Dovecot processes that run as their own users must reach their directories below it.
  chmodSync(dir, 0o755);
  const notBefore = new Date(Date.now() - 3_600_000);
  const ca = await createCertificateAuthority({
    name: `${prefix} Test Root`,
    intermediate: true,
    notBefore,
    days: 3650,
  });
  const caFile = join(dir, 'root.pem');
  writeFileSync(caFile, ca.root.certPEM);
  const root = join(dir, 'store');
  const store = new CertificateStore(root, { trust: [ca.root.certPEM] });
  const issue: TestStore['issue'] = async (domain, keyType, options = {}) => {
    const s = options.store ?? store;
    const request = await s.createCSR({
      subject: { commonName: domain },
      hostnames: namesOf(domain).slice(1),
      keyType,
      replace: options.replace ?? false,
    });
    const issued = await issueCertificate(request.csrPEM, ca.issuer, { notBefore, days: 90 });
    return s.install({ cert: issued.certPEM, caBundle: ca.intermediate!.certPEM });
  };
  const installWithHook: TestStore['installWithHook'] = async (domain, keyType, hook) => {
    const request = await store.createCSR({
      subject: { commonName: domain },
      hostnames: namesOf(domain).slice(1),
      keyType,
      replace: true,
    });
    const issued = await issueCertificate(request.csrPEM, ca.issuer, {
      notBefore: new Date(Date.now() - 60_000),
      days: 90,
    });
    const certFile = join(dir, 'renewed.crt');
    const chainFile = join(dir, 'intermediate.crt');
    writeFileSync(certFile, issued.certPEM);
    writeFileSync(chainFile, ca.intermediate!.certPEM);
    const args = ['install', '--store', root, '--cert', certFile, '--chain', chainFile, '--trust', caFile];
    return mailtlsAsync([...args, '--deploy-hook', hook]);
  };
  await issue(RSA_DOMAIN, 'rsa');
  await issue(EC_DOMAIN, 'ec');
  return {
    dir,
    root,
    caFile,
    ca,
    store,
    issue,
    installWithHook,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A loopback port that was free a moment ago (the caller retries when a server then fails to bind it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a program to the end: exit status and output. */
export function run(
  cmd: string,
  args: readonly string[],
  input = '',
  timeoutMs = 60_000,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs }, (e, stdout, stderr) =>
      resolve({
        code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1,
        out: String(stdout),
        err: String(stderr),
      }),
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Whether something accepts connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until every port accepts or `failed()` says the server gave up; polling at 50 ms. */
async function waitListening(
  ports: readonly number[],
  failed: () => string | undefined,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const why = failed();
    if (why !== undefined) throw new Error(why);
    const ok = await Promise.all(ports.map(accepts));
    if (ok.every(Boolean)) return;
    if (Date.now() > end) throw new Error(`ports ${ports.join(', ')} not listening after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private server instance. */
export interface RunningServer {
  dir: string;
  ports: Record<string, number>;
  log(): string;
  stop(): Promise<void>;
}

const POSTFIX_MASTER = `pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`;

/**
 * The base main.cf of a private Postfix: its own queue and data directories, a log file, loopback only,
 * no local delivery. The TLS part comes from mailtls.
 */
export function postfixBase(dir: string): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${join(dir, 'queue')}`,
    `data_directory = ${join(dir, 'data')}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'myhostname = postfix.example.test',
    'mydestination =',
    'local_transport = error:no local mail',
    'smtp_dns_support_level = disabled',
    `maillog_file_prefixes = ${dir}`,
    `maillog_file = ${join(dir, 'maillog')}`,
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    'mynetworks = 127.0.0.0/8',
    '',
  ].join('\n');
}

/** Lays out a private Postfix configuration directory; `mainCf` is the whole main.cf. */
export function writePostfixConfig(dir: string, mainCf: string, smtpdPort: number): string {
  const conf = join(dir, 'conf');
  for (const d of [conf, join(dir, 'queue'), join(dir, 'data')]) mkdirSync(d, { recursive: true });
  chownSync(
    join(dir, 'data'),
    Number(readFileSync('/etc/passwd', 'utf8').match(/^postfix:[^:]*:(\d+):/m)?.[1] ?? 0),
    0,
  );
  writeFileSync(join(conf, 'main.cf'), mainCf);
  writeFileSync(join(conf, 'master.cf'), `127.0.0.1:${smtpdPort} inet n - n - - smtpd\n${POSTFIX_MASTER}`);
  return conf;
}

/**
 * Starts Postfix in the foreground on a private configuration (`postfix -c DIR start-fg`), waits until its
 * SMTP port accepts; rejects at once when it exits or logs a fatal error (a port taken: the caller retries).
 */
export async function startPostfix(dir: string, smtpdPort: number): Promise<RunningServer> {
  const conf = join(dir, 'conf');
  const child = spawn('postfix', ['-c', conf, 'start-fg'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let exited: string | undefined;
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  child.once('error', (e) => (exited = `postfix did not start: ${e.message}`));
  child.once('exit', (code) => (exited ??= `postfix exited (${code}): ${output}${logOf(dir)}`));
  const server: RunningServer = {
    dir,
    ports: { smtp: smtpdPort },
    log: () => logOf(dir),
    stop: () => stopPostfix(conf, child),
  };
  try {
    await waitListening(
      [smtpdPort],
      () => exited ?? (/fatal:/.test(logOf(dir)) ? `postfix: ${logOf(dir)}` : undefined),
    );
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

function logOf(dir: string): string {
  try {
    return readFileSync(join(dir, 'maillog'), 'utf8');
  } catch {
    return '';
  }
}

async function stopPostfix(conf: string, child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    await run('postfix', ['-c', conf, 'stop'], '', 30_000);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await gone;
    clearTimeout(timer);
  }
}

/** Starts a server with ports chosen at run time, again with new ports when one was taken meanwhile. */
export async function withFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    try {
      return await start(ports);
    } catch (e) {
      last = e;
      if (!/in use|EADDRINUSE|bind/i.test(String(e))) throw e;
    }
  }
  throw last;
}

/** The base dovecot.conf of a private Dovecot: own base and state directories, log file, loopback, no chroot. */
export function dovecotBase(
  dir: string,
  ports: { imap: number; imaps: number; pop3: number; pop3s: number },
): string {
  return `base_dir = ${join(dir, 'run')}
state_dir = ${join(dir, 'state')}
log_path = ${join(dir, 'dovecot.log')}
protocols = imap pop3
listen = 127.0.0.1
service imap-login {
  chroot =
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
service anvil {
  chroot =
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${join(dir, 'home')}
}
`;
}

/** Starts Dovecot in the foreground (`dovecot -F -c FILE`) and waits until its four ports accept. */
export async function startDovecot(
  dir: string,
  conf: string,
  ports: Record<string, number>,
): Promise<RunningServer> {
  const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let exited: string | undefined;
  let output = '';
  const log = (): string => {
    try {
      return readFileSync(join(dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  };
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  child.once('error', (e) => (exited = `dovecot did not start: ${e.message}`));
  child.once('exit', (code) => (exited ??= `dovecot exited (${code}): ${output}${log()}`));
  const server: RunningServer = {
    dir,
    ports,
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
  try {
    await waitListening(Object.values(ports), () => exited ?? (/Fatal:/.test(log()) ? log() : undefined));
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** What openssl s_client saw: whether chain and name verified, and the served leaf's SHA-256 fingerprint. */
export interface Handshake {
  verified: boolean;
  fingerprint: string | undefined;
  output: string;
}

/**
 * A handshake with openssl s_client that verifies the chain against `caFile` and the host name `name`
 * (sent with SNI); `starttls` is s_client's protocol name (smtp, imap, pop3) or undefined for implicit TLS.
 */
export async function sClient(
  port: number,
  name: string,
  caFile: string,
  starttls?: 'smtp' | 'imap' | 'pop3',
): Promise<Handshake> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    name,
    '-verify_hostname',
    name,
    '-CAfile',
    caFile,
    '-verify_return_error',
  ];
  if (starttls !== undefined) args.push('-starttls', starttls);
  const input = starttls === 'imap' ? 'a LOGOUT\r\n' : 'QUIT\r\n';
  const r = await run('openssl', args, input, 30_000);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.out)?.[0];
  return {
    verified: r.code === 0 && /Verify return code: 0 \(ok\)/.test(r.out),
    fingerprint: pem === undefined ? undefined : parseCertificate(pem).fingerprint('sha256'),
    output: r.out + r.err,
  };
}
