/**
 * Helpers of the CLI tests: run the compiled `mailtls` command as a child process (optionally on a pseudo
 * terminal, through util-linux `script`), run `openssl`, and make inputs with openssl (a root, an
 * intermediate and a leaf, a reseller bundle in the wrong order, a PKCS#1 key, encrypted keys, a CSR and a
 * .pfx), so that the command is tested against files it did not write.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

/**
 * The compiled command: build/src/cli/main.js (tsc, one file per module, made with the tests), or the file
 * MAILTLS_CLI names, such as the built package's dist/cli/main.js (`MAILTLS_CLI=dist/cli/main.js node --test
 * build/test/cli/*.test.js` runs these tests against what `npm pack` ships).
 */
export const mainJs = resolve(repoRoot, process.env.MAILTLS_CLI ?? join('build', 'src', 'cli', 'main.js'));

/** What a run of the command gave. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh scratch directory (unique: other test runs share /tmp), removed when the process exits. */
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-cli-test-'));
  scratchDirs.push(dir);
  return dir;
}

/** Runs `mailtls ARGS` with pipes (no TTY). */
export function mailtls(args: readonly string[], options: { input?: string; cwd?: string } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [mainJs, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env,
    timeout: 60_000,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `mailtls ARGS` without blocking the event loop (for tests whose servers run in the test process),
 * parsing stdout (or the error on stderr) as JSON when `--json` is among the arguments.
 */
export function mailtlsAsync(args: readonly string[]): Promise<Run & { json?: Record<string, unknown> }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      const run: Run = { status, stdout, stderr };
      if (!args.includes('--json')) return resolve(run);
      try {
        resolve({ ...run, json: JSON.parse(stdout !== '' ? stdout : stderr) as Record<string, unknown> });
      } catch {
        reject(new Error(`not JSON (exit ${status}):\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

/** Runs `mailtls ARGS --json` and parses stdout (or, when stdout is empty, the error on stderr) as JSON. */
export function mailtlsJSON(args: readonly string[]): Run & { json: Record<string, unknown> } {
  const r = mailtls([...args, '--json']);
  const text = r.stdout !== '' ? r.stdout : r.stderr;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${r.status}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return { ...r, json };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `mailtls ARGS` on a pseudo terminal (util-linux `script`): stdin, stdout and stderr are a TTY.
 * `input` is typed into the terminal. The output is what the terminal showed (stdout and stderr together,
 * with the echo of the input).
 */
export function mailtlsOnTTY(
  args: readonly string[],
  input = '',
  extraEnv: Readonly<Record<string, string>> = {},
): { status: number | null; output: string } {
  const command = [process.execPath, mainJs, ...args].map(shellQuote).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...extraEnv };
  delete env.NO_COLOR;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    input,
    env,
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, output: r.stdout };
}

/** Runs openssl; throws with its stderr when it fails. Returns stdout as text. */
export function openssl(args: readonly string[], input?: string | Uint8Array): string {
  const r = spawnSync('openssl', args, { input: input ?? '', encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs openssl; returns stdout and stderr together (for commands such as `pkcs12 -info` that report on stderr). */
export function opensslOutput(args: readonly string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Runs openssl and returns stdout as bytes. */
export function opensslBytes(args: readonly string[], input?: string | Uint8Array): Uint8Array {
  const r = spawnSync('openssl', args, { input: input ?? '' });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** The SHA-256 of a key's SubjectPublicKeyInfo as openssl computes it (lower-case hex). */
export function opensslSPKISha256(keyOrCertFile: string, kind: 'key' | 'cert', passin?: string): string {
  const pub =
    kind === 'cert'
      ? openssl(['x509', '-in', keyOrCertFile, '-pubkey', '-noout'])
      : openssl([
          'pkey',
          '-in',
          keyOrCertFile,
          '-pubout',
          ...(passin === undefined ? [] : ['-passin', `pass:${passin}`]),
        ]);
  const der = opensslBytes(['pkey', '-pubin', '-outform', 'DER'], pub);
  return openssl(['dgst', '-sha256', '-r'], der).split(' ')[0]!;
}

/** Files made by openssl for the CLI tests. */
export interface OpenSSLInputs {
  dir: string;
  rootCert: string;
  rootKey: string;
  intermediateCert: string;
  intermediateKey: string;
  /** Leaf for mail.example.com, imap.example.com (EC P-256), valid from now for 10 years. */
  leafCert: string;
  leafKey: string;
  /** The leaf as DER. */
  leafDER: string;
  /** The CA bundle as resellers send it, in the wrong order: root first, then the intermediate. */
  resellerBundle: string;
  /** leaf + root + intermediate: a "full chain" in the wrong order. */
  wrongOrderFullchain: string;
  /** PKCS#7 (.p7b, DER) with intermediate and root. */
  p7b: string;
  /** An RSA-2048 key in PKCS#1 (`RSA PRIVATE KEY`). */
  pkcs1Key: string;
  /** The leaf key encrypted as PKCS#8 (AES-256-CBC) with the pass phrase `secret`. */
  encryptedKey: string;
  /** A CSR made by `openssl req` with the leaf key, CN example.com and SANs. */
  csr: string;
  /** A .pfx by `openssl pkcs12 -export` (leaf key, leaf, intermediate), password `secret`. */
  pfx: string;
  /** A self-signed certificate from another key (it does not belong to leafKey). */
  otherCert: string;
}

/** The inputs' file names in a directory. */
function inputsIn(dir: string): OpenSSLInputs {
  const p = (name: string) => join(dir, name);
  return {
    dir,
    rootCert: p('root.pem'),
    rootKey: p('root.key'),
    intermediateCert: p('intermediate.pem'),
    intermediateKey: p('intermediate.key'),
    leafCert: p('leaf.pem'),
    leafKey: p('leaf.key'),
    leafDER: p('leaf.der'),
    resellerBundle: p('reseller-bundle.crt'),
    wrongOrderFullchain: p('wrong-order-fullchain.pem'),
    p7b: p('bundle.p7b'),
    pkcs1Key: p('rsa1.key'),
    encryptedKey: p('leaf-encrypted.key'),
    csr: p('req.pem'),
    pfx: p('leaf.pfx'),
    otherCert: p('other.pem'),
  };
}

/**
 * The openssl-made inputs, shared by the CLI test files of one test run (they are only read): made once in
 * a directory named after the test runner's process, published by an atomic rename (the first of several
 * concurrent builders wins, the others use its files). A directory older than a day is not reused.
 */
export function makeOpenSSLInputs(): OpenSSLInputs {
  const shared = join(tmpdir(), `mailtls-cli-inputs-${process.ppid}`);
  const done = join(shared, 'complete');
  const fresh = () => existsSync(done) && Date.now() - statSync(done).mtimeMs < 86_400_000;
  if (fresh()) return inputsIn(shared);
  // Inputs of earlier runs (over a day old) are removed.
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('mailtls-cli-inputs-')) continue;
    const marker = join(tmpdir(), name, 'complete');
    if (existsSync(marker) && Date.now() - statSync(marker).mtimeMs > 86_400_000)
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-cli-inputs-build-'));
  buildInputs(dir);
  writeFileSync(join(dir, 'complete'), '');
  try {
    renameSync(dir, shared);
    return inputsIn(shared);
  } catch {
    // another test file published first, or a stale directory is in the way: use what is usable
    if (fresh()) {
      rmSync(dir, { recursive: true, force: true });
      return inputsIn(shared);
    }
    scratchDirs.push(dir);
    return inputsIn(dir);
  }
}

/** Makes every input with openssl in `dir`. */
function buildInputs(dir: string): void {
  const p = (name: string) => join(dir, name);
  const ecKey = (file: string) =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(file)]);
  writeFileSync(
    p('ext.cnf'),
    [
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '[intermediate]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      'subjectAltName = DNS:mail.example.com, DNS:imap.example.com',
      '',
    ].join('\n'),
  );
  // Validity starts now (openssl 3.0 x509 has no -not_before): tests validate at the current time.
  ecKey('root.key');
  openssl([
    'req',
    '-new',
    '-key',
    p('root.key'),
    '-subj',
    '/C=US/O=Test Reseller/CN=Test Root CA',
    '-out',
    p('root.csr'),
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    p('root.csr'),
    '-signkey',
    p('root.key'),
    '-days',
    '7300',
    '-set_serial',
    '1',
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    'ca',
    '-out',
    p('root.pem'),
  ]);
  ecKey('intermediate.key');
  openssl([
    'req',
    '-new',
    '-key',
    p('intermediate.key'),
    '-subj',
    '/C=US/O=Test Reseller/CN=Test Intermediate CA',
    '-out',
    p('intermediate.csr'),
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    p('intermediate.csr'),
    '-CA',
    p('root.pem'),
    '-CAkey',
    p('root.key'),
    '-days',
    '7000',
    '-set_serial',
    '2',
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    'intermediate',
    '-out',
    p('intermediate.pem'),
  ]);
  ecKey('leaf.key');
  openssl([
    'req',
    '-new',
    '-key',
    p('leaf.key'),
    '-subj',
    '/C=US/O=Example Inc/CN=mail.example.com',
    '-out',
    p('leaf.csr'),
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    p('leaf.csr'),
    '-CA',
    p('intermediate.pem'),
    '-CAkey',
    p('intermediate.key'),
    '-days',
    '3650',
    '-set_serial',
    '3',
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    'leaf',
    '-out',
    p('leaf.pem'),
  ]);
  openssl(['x509', '-in', p('leaf.pem'), '-outform', 'DER', '-out', p('leaf.der')]);
  const read = (f: string) => openssl(['x509', '-in', p(f)]);
  const root = read('root.pem');
  const intermediate = read('intermediate.pem');
  const leaf = read('leaf.pem');
  writeFileSync(p('reseller-bundle.crt'), root + intermediate);
  writeFileSync(p('wrong-order-fullchain.pem'), leaf + root + intermediate);
  openssl([
    'crl2pkcs7',
    '-nocrl',
    '-certfile',
    p('reseller-bundle.crt'),
    '-outform',
    'DER',
    '-out',
    p('bundle.p7b'),
  ]);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p('rsa8.key')]);
  openssl(['rsa', '-in', p('rsa8.key'), '-traditional', '-out', p('rsa1.key')]);
  openssl([
    'pkey',
    '-in',
    p('leaf.key'),
    '-aes256',
    '-passout',
    'pass:secret',
    '-out',
    p('leaf-encrypted.key'),
  ]);
  openssl([
    'req',
    '-new',
    '-key',
    p('leaf.key'),
    '-subj',
    '/C=US/ST=California/L=Los Angeles/O=Example Inc/CN=example.com/emailAddress=hostmaster@example.com',
    '-addext',
    'subjectAltName=DNS:example.com,DNS:mail.example.com,DNS:imap.example.com',
    '-out',
    p('req.pem'),
  ]);
  openssl([
    'pkcs12',
    '-export',
    '-inkey',
    p('leaf.key'),
    '-in',
    p('leaf.pem'),
    '-certfile',
    p('intermediate.pem'),
    '-passout',
    'pass:secret',
    '-name',
    'mail.example.com',
    '-out',
    p('leaf.pfx'),
  ]);
  ecKey('other.key');
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    p('other.key'),
    '-subj',
    '/CN=other.example.com',
    '-days',
    '3650',
    '-addext',
    'subjectAltName=DNS:other.example.com',
    '-out',
    p('other.pem'),
  ]);
}
