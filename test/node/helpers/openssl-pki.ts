/**
 * A throwaway test PKI made with the openssl CLI: a root CA, an intermediate CA and leaf certificates (RSA or
 * EC keys) for any host names, with chosen validity dates. Everything lives in one temporary folder per process
 * (removed at exit) and every leaf is cached per process, so asking twice for the same leaf costs nothing.
 *
 * The root is an RSA 2048 key and the intermediate an EC P-256 key, so chains mix both signature families.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The key type of a test leaf. */
export type TestKeyType = 'rsa' | 'ec' | 'ed25519';

/** One issued leaf: PEM strings and file paths for real clients and servers. */
export interface TestLeaf {
  /** DNS names in subjectAltName (the first one is also the subject CN). */
  readonly names: readonly string[];
  readonly keyType: TestKeyType;
  /** The private key (PKCS#8 PEM). */
  readonly key: string;
  /** Leaf then intermediate (the chain a server sends). */
  readonly cert: string;
  /** The leaf alone. */
  readonly leafCert: string;
  /** SHA-256 fingerprint as node's X509Certificate prints it (`AA:BB:...`). */
  readonly fingerprint256: string;
  /** Subject CN (the first name). */
  readonly commonName: string;
  readonly keyPath: string;
  /** File with leaf then intermediate. */
  readonly certPath: string;
  /** File with the leaf alone. */
  readonly leafPath: string;
  /** The credential shape mailtls serves: `{ key, cert }`. */
  readonly credential: { readonly key: string; readonly cert: string };
}

/** Options of {@link TestPKI.leaf}. */
export interface TestLeafOptions {
  keyType?: TestKeyType;
  /** Start of validity; default: one day ago. */
  notBefore?: Date;
  /** End of validity; default: 365 days from now. */
  notAfter?: Date;
  /** Issue from the root directly instead of the intermediate. */
  fromRoot?: boolean;
}

/** The process-wide test PKI. */
export interface TestPKI {
  /** The temporary folder holding every file. */
  readonly dir: string;
  readonly rootCert: string;
  /** The trust anchor file for clients (`-CAfile`, `--cacert`, `cafile=`). */
  readonly rootPath: string;
  readonly intermediateCert: string;
  /** Root and intermediate in one file (for clients told about a server that omits the intermediate). */
  readonly rootAndIntermediatePath: string;
  /** Issues (or returns the cached) leaf for these names. */
  leaf(names: readonly string[], options?: TestLeafOptions): TestLeaf;
}

function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function keyArgs(keyType: TestKeyType): string[] {
  switch (keyType) {
    case 'rsa':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    case 'ec':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ed25519':
      return ['-algorithm', 'ED25519'];
  }
}

function asn1Time(d: Date): string {
  // YYYYMMDDHHMMSSZ (GeneralizedTime form accepted by `openssl ca -startdate/-enddate`).
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

const CA_CONF = `[ ca ]
default_ca = CA_default
[ CA_default ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
`;

let cached: TestPKI | undefined;

/**
 * The test PKI of this process (made on first call, about half a second; removed when the process exits).
 */
export function testPKI(): TestPKI {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-pki-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.cnf'), CA_CONF);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  mkdirSync(join(dir, 'issued'));

  openssl(['genpkey', ...keyArgs('rsa'), '-out', 'root.key'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'root.key',
      '-subj',
      '/O=mailtls tests/CN=mailtls Test Root',
      '-days',
      '3650',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      'root.pem',
    ],
    dir,
  );
  openssl(['genpkey', ...keyArgs('ec'), '-out', 'inter.key'], dir);
  openssl(
    [
      'req',
      '-new',
      '-key',
      'inter.key',
      '-subj',
      '/O=mailtls tests/CN=mailtls Test Intermediate',
      '-out',
      'inter.csr',
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'inter.ext'),
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'inter.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-set_serial',
      '2',
      '-days',
      '3000',
      '-sha256',
      '-extfile',
      'inter.ext',
      '-out',
      'inter.pem',
    ],
    dir,
  );
  const rootCert = readFileSync(join(dir, 'root.pem'), 'utf8');
  const intermediateCert = readFileSync(join(dir, 'inter.pem'), 'utf8');
  writeFileSync(join(dir, 'root-and-inter.pem'), rootCert + intermediateCert);

  const leaves = new Map<string, TestLeaf>();
  let counter = 0;

  function leaf(names: readonly string[], options: TestLeafOptions = {}): TestLeaf {
    if (names.length === 0) throw new RangeError('a leaf needs at least one name');
    const keyType = options.keyType ?? 'rsa';
    const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000);
    const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    const fromRoot = options.fromRoot ?? false;
    // Day precision keeps the cache key stable within a test run.
    const cacheKey = JSON.stringify([
      names,
      keyType,
      options.notBefore?.toISOString() ?? '',
      options.notAfter?.toISOString() ?? '',
      fromRoot,
    ]);
    const hit = leaves.get(cacheKey);
    if (hit) return hit;
    const base = `leaf${++counter}`;
    openssl(['genpkey', ...keyArgs(keyType), '-out', `${base}.key`], dir);
    openssl(['req', '-new', '-key', `${base}.key`, '-subj', `/CN=${names[0]}`, '-out', `${base}.csr`], dir);
    const usage = keyType === 'rsa' ? 'digitalSignature,keyEncipherment' : 'digitalSignature';
    writeFileSync(
      join(dir, `${base}.ext`),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,${usage}\nextendedKeyUsage=serverAuth\n` +
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`,
    );
    openssl(
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-cert',
        fromRoot ? 'root.pem' : 'inter.pem',
        '-keyfile',
        fromRoot ? 'root.key' : 'inter.key',
        '-in',
        `${base}.csr`,
        '-startdate',
        asn1Time(notBefore),
        '-enddate',
        asn1Time(notAfter),
        '-extfile',
        `${base}.ext`,
        '-notext',
        '-out',
        `${base}.pem`,
      ],
      dir,
    );
    const leafCert = readFileSync(join(dir, `${base}.pem`), 'utf8');
    const cert = fromRoot ? leafCert : leafCert + intermediateCert;
    writeFileSync(join(dir, `${base}-chain.pem`), cert);
    const key = readFileSync(join(dir, `${base}.key`), 'utf8');
    const made: TestLeaf = {
      names: [...names],
      keyType,
      key,
      cert,
      leafCert,
      fingerprint256: new X509Certificate(leafCert).fingerprint256,
      commonName: names[0]!,
      keyPath: join(dir, `${base}.key`),
      certPath: join(dir, `${base}-chain.pem`),
      leafPath: join(dir, `${base}.pem`),
      credential: { key, cert },
    };
    leaves.set(cacheKey, made);
    return made;
  }

  cached = {
    dir,
    rootCert,
    rootPath: join(dir, 'root.pem'),
    intermediateCert,
    rootAndIntermediatePath: join(dir, 'root-and-inter.pem'),
    leaf,
  };
  return cached;
}
