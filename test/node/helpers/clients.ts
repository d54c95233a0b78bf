/**
 * Real TLS clients for tests: openssl s_client, gnutls-cli, curl, Python (ssl, smtplib, imaplib, poplib) and
 * node:tls. Each connects to 127.0.0.1 while using a host name for SNI and verification, and reports the
 * SHA-256 fingerprint of the leaf certificate it received (`AA:BB:...`, as node prints it), so a test can tell
 * exactly which certificate was served.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** A TLS version to pin. */
export type VersionPin = '1.2' | '1.3';

/** What a client run tells. */
export interface ClientResult {
  /** The client exited 0 / completed. */
  readonly ok: boolean;
  /** Exit code (node client: 0 or 1). */
  readonly code: number | null;
  /** stdout and stderr together. */
  readonly output: string;
  /** The leaf the server sent, when the client got that far. */
  readonly fingerprint: string | undefined;
}

/** Common client options. */
export interface ClientOptions {
  port: number;
  /** Host name for SNI and verification (connects to 127.0.0.1). */
  host: string;
  /** Send SNI (default true). */
  sni?: boolean;
  version?: VersionPin;
  /** CA file; with `verify` (default true) the client checks chain and host name. */
  caFile?: string;
  verify?: boolean;
  starttls?: 'smtp' | 'pop3' | 'imap';
  /** Written to the client's stdin. */
  input?: string;
  timeoutMs?: number;
  /** Extra arguments. */
  args?: string[];
}

/**
 * Runs a program with a time limit (then SIGKILL, and the result has `code: null`). Rejects at once when the
 * program cannot be started (for example not installed: ENOENT): a missing client must fail its test, never
 * look like a refused handshake or leave a promise that never settles.
 */
export function run(
  cmd: string,
  args: readonly string[],
  input = '',
  // a bound for a client that hangs, not a wait: generous, as a loaded machine can take many seconds to start one
  timeoutMs = 120_000,
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('latin1');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} could not be started: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** The fingerprint of the first PEM certificate in a text, as node prints fingerprints. */
export function firstCertificateFingerprint(text: string): string | undefined {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  return m ? new X509Certificate(m[0]).fingerprint256 : undefined;
}

function colonHex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** `openssl s_client` (exit 0 when the handshake completed; with verify, `-verify_return_error`). */
export async function runOpenSSL(o: ClientOptions): Promise<ClientResult> {
  const args = ['s_client', '-connect', `127.0.0.1:${o.port}`];
  if (o.sni === false) args.push('-noservername');
  else args.push('-servername', o.host);
  if (o.version) args.push(o.version === '1.2' ? '-tls1_2' : '-tls1_3');
  if (o.starttls) args.push('-starttls', o.starttls);
  if (o.caFile) args.push('-CAfile', o.caFile);
  if (o.verify !== false && o.caFile) args.push('-verify_hostname', o.host, '-verify_return_error');
  args.push(...(o.args ?? []));
  const r = await run('openssl', args, o.input ?? '', o.timeoutMs);
  return {
    ok: r.code === 0,
    code: r.code,
    output: r.stdout + r.stderr,
    fingerprint: firstCertificateFingerprint(r.stdout),
  };
}

/** `gnutls-cli` (without verify: `--insecure`); prints the certificates it got. */
export async function runGnuTLS(o: ClientOptions): Promise<ClientResult> {
  const args = ['-p', String(o.port), '127.0.0.1', '--print-cert'];
  if (o.sni !== false) args.push('--sni-hostname', o.host);
  else args.push('--disable-sni');
  if (o.version) args.push('--priority', `NORMAL:-VERS-ALL:+VERS-TLS${o.version}`);
  if (o.starttls) args.push(`--starttls-proto=${o.starttls}`);
  if (o.verify !== false && o.caFile) args.push(`--x509cafile=${o.caFile}`, '--verify-hostname', o.host);
  else args.push('--insecure');
  args.push(...(o.args ?? []));
  const r = await run('gnutls-cli', args, o.input ?? '', o.timeoutMs);
  return {
    ok: r.code === 0,
    code: r.code,
    output: r.stdout + r.stderr,
    fingerprint: firstCertificateFingerprint(r.stdout),
  };
}

/** curl with `--resolve` (exit 60 = verification failed, 35 = protocol failure). */
export async function runCurl(
  url: string,
  o: Omit<ClientOptions, 'starttls' | 'sni'>,
): Promise<ClientResult> {
  const args = ['-sS', '--max-time', '15', '--resolve', `${o.host}:${o.port}:127.0.0.1`, '-w', '%{certs}'];
  if (o.version) args.push(o.version === '1.2' ? '--tlsv1.2' : '--tlsv1.3', '--tls-max', o.version);
  if (o.caFile) args.push('--cacert', o.caFile);
  if (o.verify === false) args.push('-k');
  args.push(...(o.args ?? []), url);
  const r = await run('curl', args, o.input ?? '', o.timeoutMs);
  return {
    ok: r.code === 0,
    code: r.code,
    output: r.stdout + r.stderr,
    fingerprint: firstCertificateFingerprint(r.stdout),
  };
}

const PYTHON = `
import hashlib, json, socket, ssl, sys
a = json.loads(sys.argv[1])
host, port = a['host'], a['port']
_gai = socket.getaddrinfo
def gai(h, *rest, **kw):
    return _gai('127.0.0.1' if h == host else h, *rest, **kw)
socket.getaddrinfo = gai
if a.get('verify', True):
    ctx = ssl.create_default_context(cafile=a.get('ca'))
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
v = a.get('version')
if v:
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if v == '1.2' else ssl.TLSVersion.TLSv1_3
out = {}
try:
    mode = a['mode']
    if mode == 'tls':
        raw = socket.create_connection((host, port), timeout=60)
        s = ctx.wrap_socket(raw, server_hostname=host if a.get('sni', True) else None)
        out['fp'] = hashlib.sha256(s.getpeercert(True)).hexdigest()
        s.close()
    elif mode in ('smtp', 'smtps'):
        import smtplib
        c = smtplib.SMTP(host, port, timeout=60) if mode == 'smtp' else smtplib.SMTP_SSL(host, port, context=ctx, timeout=60)
        c.ehlo('client.test')
        if mode == 'smtp':
            c.starttls(context=ctx)
            c.ehlo('client.test')
        out['fp'] = hashlib.sha256(c.sock.getpeercert(True)).hexdigest()
        out['noop'] = list(map(lambda x: x.decode() if isinstance(x, bytes) else x, c.noop()))
        c.quit()
    elif mode in ('imap', 'imaps'):
        import imaplib
        c = imaplib.IMAP4(host, port, timeout=60) if mode == 'imap' else imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=60)
        if mode == 'imap':
            c.starttls(ssl_context=ctx)
        out['fp'] = hashlib.sha256(c.sock.getpeercert(True)).hexdigest()
        out['noop'] = [x.decode() if isinstance(x, bytes) else str(x) for x in c.noop()[1]]
        c.logout()
    elif mode in ('pop3', 'pop3s'):
        import poplib
        c = poplib.POP3(host, port, timeout=60) if mode == 'pop3' else poplib.POP3_SSL(host, port, context=ctx, timeout=60)
        if mode == 'pop3':
            c.stls(context=ctx)
        out['fp'] = hashlib.sha256(c.sock.getpeercert(True)).hexdigest()
        out['noop'] = c.noop().decode()
        c.quit()
    out['ok'] = True
except Exception as e:
    out['ok'] = False
    out['error'] = type(e).__name__ + ': ' + str(e)
print(json.dumps(out))
`;

/** Python's ssl (`mode: 'tls'`) or smtplib/imaplib/poplib (STARTTLS or the `_SSL` classes), default context. */
export async function runPython(
  mode: 'tls' | 'smtp' | 'smtps' | 'imap' | 'imaps' | 'pop3' | 'pop3s',
  o: Omit<ClientOptions, 'starttls'>,
): Promise<ClientResult & { readonly error?: string; readonly noop?: unknown }> {
  const params = {
    mode,
    host: o.host,
    port: o.port,
    sni: o.sni !== false,
    version: o.version,
    verify: o.verify !== false,
    ca: o.caFile,
  };
  const r = await run('python3', ['-c', PYTHON, JSON.stringify(params)], '', o.timeoutMs);
  let parsed: { ok?: boolean; fp?: string; error?: string; noop?: unknown } = {};
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  } catch {
    parsed = { ok: false, error: r.stdout + r.stderr };
  }
  return {
    ok: parsed.ok === true,
    code: r.code,
    output: r.stdout + r.stderr,
    fingerprint: parsed.fp ? colonHex(parsed.fp) : undefined,
    ...(parsed.error === undefined ? {} : { error: parsed.error }),
    ...(parsed.noop === undefined ? {} : { noop: parsed.noop }),
  };
}

/** node:tls client (in this process). */
export function runNodeClient(o: Omit<ClientOptions, 'starttls' | 'input' | 'args'>): Promise<ClientResult> {
  return new Promise((resolve) => {
    const options: tls.ConnectionOptions = {
      host: '127.0.0.1',
      port: o.port,
      rejectUnauthorized: o.verify !== false,
    };
    if (o.sni !== false) options.servername = o.host;
    if (o.caFile) options.ca = readFileSync(o.caFile, 'utf8');
    if (o.version) {
      options.minVersion = `TLSv${o.version}`;
      options.maxVersion = `TLSv${o.version}`;
    }
    if (o.verify !== false) options.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(o.host, cert);
    let done = false;
    const finish = (r: ClientResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // end() flushes the client Finished (destroy() could drop it and the server would see a hang-up).
      if (r.ok) socket.end();
      else socket.destroy();
      resolve(r);
    };
    const socket = tls.connect(options, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256;
      finish({ ok: true, code: 0, output: socket.getProtocol() ?? '', fingerprint: fp });
    });
    socket.on('error', (e) =>
      finish({
        ok: false,
        code: 1,
        output: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`,
        fingerprint: undefined,
      }),
    );
    const timer = setTimeout(
      () => finish({ ok: false, code: null, output: 'timeout', fingerprint: undefined }),
      o.timeoutMs ?? 15_000,
    );
  });
}
