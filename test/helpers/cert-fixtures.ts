/**
 * Certificates and CSRs made by the `openssl` CLI for the certificate-view tests (certificate, name,
 * extensions, csr-parse, bundle, describe). Nothing is checked in: everything is generated in a temporary
 * directory once per test process, with an OpenSSL config that sets every extension the views decode.
 */
import { TempDir } from './key-fixtures.js';

/** One certificate made by openssl, with its file name in the fixture directory. */
export interface Fixture {
  readonly name: string;
  readonly file: string;
  readonly pem: string;
  readonly der: Uint8Array;
}

/** Every fixture, plus the directory (to run more openssl commands on the files). */
export interface CertFixtures {
  readonly dir: TempDir;
  /** RSA-2048 root CA: pathlen 1, name constraints, SKI. */
  readonly caRSA: Fixture;
  /** EC P-256 server leaf signed by caRSA: every extension of a server certificate. */
  readonly leafP256: Fixture;
  /** EC P-384 leaf with a UTF-8 subject full of characters RFC 4514 escapes. */
  readonly leafP384: Fixture;
  /** Ed25519 self-signed. */
  readonly ed25519: Fixture;
  /** RSA-PSS-signed self-signed certificate (rsaEncryption key). */
  readonly rsaPSS: Fixture;
  /** DSA key (an algorithm mailtls does not support), self-signed. */
  readonly dsa: Fixture;
  /** Certificate with a malformed non-critical basicConstraints and an unknown critical extension. */
  readonly odd: Fixture;
  /** Every certificate fixture. */
  readonly all: readonly Fixture[];
  /** CSRs: RSA with SANs and challenge password, EC P-256, EC P-384, Ed25519, RSA-PSS, SHA-1 signed. */
  readonly csrs: Readonly<Record<'rsa' | 'p256' | 'p384' | 'ed25519' | 'pss' | 'sha1', Fixture>>;
}

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
CN = unused

[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:2001:db8::/ffff:ffff::,excluded;email:.bad.example,excluded;dirName:nc_dir

[nc_dir]
C = US
O = Excluded Org

[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyAgreement
extendedKeyUsage = serverAuth,clientAuth,1.3.6.1.4.1.311.20.2.2
subjectAltName = @alt
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
authorityInfoAccess = OCSP;URI:http://ocsp.example.com/,caIssuers;URI:http://ca.example.com/root.cer
crlDistributionPoints = URI:http://crl.example.com/root.crl
certificatePolicies = 2.23.140.1.2.1,@policy
tlsfeature = status_request

[alt]
DNS.1 = mail.example.com
DNS.2 = *.mx.example.com
IP.1 = 192.0.2.25
IP.2 = 2001:db8::25
IP.3 = ::ffff:198.51.100.7
email.1 = postmaster@example.com
URI.1 = https://mta-sts.example.com/.well-known/mta-sts.txt
otherName.1 = 1.3.6.1.5.5.7.8.9;UTF8:postmaster@example.com

[policy]
policyIdentifier = 1.3.6.1.4.1.55555.1.2
CPS.1 = https://example.com/cps
userNotice.1 = @notice

[notice]
explicitText = "Test policy"
organization = "Example CA"
noticeNumbers = 1, 7

[plain_ext]
subjectKeyIdentifier = hash
basicConstraints = critical,CA:TRUE

[odd_ext]
2.5.29.19 = DER:30:03:01:01
1.2.3.4.99 = critical,ASN1:UTF8String:must understand
2.5.29.14 = ASN1:OCTETSTRING:0102
subjectAltName = DNS:odd.example.com

[csr_ext]
subjectAltName = DNS:mail.example.org,DNS:smtp.example.org,IP:203.0.113.9,email:hostmaster@example.org
keyUsage = digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
basicConstraints = CA:FALSE

[csr_attrs]
challengePassword = s3cret-challenge
unstructuredName = Mail Department
`;

let cached: CertFixtures | undefined;

/** Generates the fixtures (once per process; about a second, mostly RSA and DSA key generation). */
export function certFixtures(): CertFixtures {
  if (cached !== undefined) return cached;
  const dir = new TempDir('mailtls-certs-');
  dir.write('x.cnf', CONFIG);
  const run = (args: string[]) => dir.openssl(args);
  const load = (name: string, file: string): Fixture => {
    const pem = dir.text(file);
    const derFile = `${file}.der`;
    const isCSR = pem.includes('CERTIFICATE REQUEST');
    run([isCSR ? 'req' : 'x509', '-in', file, '-outform', 'DER', '-out', derFile]);
    return { name, file, pem, der: new Uint8Array(dir.read(derFile)) };
  };
  const base = ['-config', 'x.cnf', '-days', '3650'];

  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ca.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    ...base,
    '-extensions',
    'ca_ext',
    '-set_serial',
    '0x00a1b2c3d4e5f60718293a4b5c6d7e8f90',
    '-subj',
    '/C=DE/O=Example CA, Inc./CN=Example Root R1',
    '-out',
    'ca.pem',
  ]);

  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'p256.key']);
  run([
    'req',
    '-new',
    '-key',
    'p256.key',
    '-config',
    'x.cnf',
    '-subj',
    '/C=DE/ST=Berlin/O=Example Mail/CN=mail.example.com',
    '-out',
    'p256.csr',
  ]);
  run([
    'x509',
    '-req',
    '-in',
    'p256.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '4096',
    '-days',
    '90',
    '-extfile',
    'x.cnf',
    '-extensions',
    'leaf_ext',
    '-out',
    'p256.pem',
  ]);

  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'p384.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'p384.key',
    ...base,
    '-extensions',
    'plain_ext',
    '-utf8',
    '-subj',
    '/CN=  Zürich, "Mail" <MX>  /O=#hash+OU=a;b\\\\c/DC=example/DC=com/emailAddress=root@example.com/serialNumber=42',
    '-out',
    'p384.pem',
  ]);

  run(['genpkey', '-algorithm', 'ED25519', '-out', 'ed.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'ed.key',
    ...base,
    '-extensions',
    'plain_ext',
    '-subj',
    '/CN=ed25519.example',
    '-out',
    'ed.pem',
  ]);

  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    ...base,
    '-extensions',
    'plain_ext',
    '-sigopt',
    'rsa_padding_mode:pss',
    '-sigopt',
    'rsa_pss_saltlen:32',
    '-sha256',
    '-subj',
    '/CN=pss.example',
    '-out',
    'pss.pem',
  ]);

  run([
    'genpkey',
    '-genparam',
    '-algorithm',
    'DSA',
    '-pkeyopt',
    'dsa_paramgen_bits:1024',
    '-out',
    'dsa.param',
  ]);
  run(['genpkey', '-paramfile', 'dsa.param', '-out', 'dsa.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'dsa.key',
    ...base,
    '-extensions',
    'plain_ext',
    '-sha256',
    '-subj',
    '/CN=dsa.example',
    '-out',
    'dsa.pem',
  ]);

  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'p256.key',
    ...base,
    '-extensions',
    'odd_ext',
    '-subj',
    '/CN=odd.example.com',
    '-out',
    'odd.pem',
  ]);

  // CSRs
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'csr-rsa.key']);
  const csrArgs = (key: string, out: string, subj: string, extra: string[] = []) => [
    'req',
    '-new',
    '-key',
    key,
    '-config',
    'x.cnf',
    '-reqexts',
    'csr_ext',
    '-subj',
    subj,
    '-out',
    out,
    ...extra,
  ];
  // Attributes are only written when the subject comes from the config (not from -subj).
  dir.write(
    'attrs.cnf',
    CONFIG.replace('[req]\n', '[req]\nattributes = csr_attrs\n').replace(
      '[dn]\nCN = unused',
      '[dn]\nC = NL\nO = Example Org\nCN = mail.example.org',
    ),
  );
  run([
    'req',
    '-new',
    '-key',
    'csr-rsa.key',
    '-config',
    'attrs.cnf',
    '-reqexts',
    'csr_ext',
    '-out',
    'csr-rsa.pem',
  ]);
  run(csrArgs('p256.key', 'csr-p256.pem', '/CN=p256.example.org'));
  run(csrArgs('p384.key', 'csr-p384.pem', '/CN=p384.example.org', ['-sha384']));
  run(csrArgs('ed.key', 'csr-ed.pem', '/CN=ed.example.org'));
  run(
    csrArgs('csr-rsa.key', 'csr-pss.pem', '/CN=pss.example.org', [
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      'rsa_pss_saltlen:-1',
      '-sha384',
    ]),
  );
  run(csrArgs('csr-rsa.key', 'csr-sha1.pem', '/CN=sha1.example.org', ['-sha1']));

  const caRSA = load('caRSA', 'ca.pem');
  const leafP256 = load('leafP256', 'p256.pem');
  const leafP384 = load('leafP384', 'p384.pem');
  const ed25519 = load('ed25519', 'ed.pem');
  const rsaPSS = load('rsaPSS', 'pss.pem');
  const dsa = load('dsa', 'dsa.pem');
  const odd = load('odd', 'odd.pem');
  cached = {
    dir,
    caRSA,
    leafP256,
    leafP384,
    ed25519,
    rsaPSS,
    dsa,
    odd,
    all: [caRSA, leafP256, leafP384, ed25519, rsaPSS, dsa, odd],
    csrs: {
      rsa: load('csr-rsa', 'csr-rsa.pem'),
      p256: load('csr-p256', 'csr-p256.pem'),
      p384: load('csr-p384', 'csr-p384.pem'),
      ed25519: load('csr-ed25519', 'csr-ed.pem'),
      pss: load('csr-pss', 'csr-pss.pem'),
      sha1: load('csr-sha1', 'csr-sha1.pem'),
    },
  };
  process.on('exit', () => dir.cleanup());
  return cached;
}

/** Runs openssl on a fixture file and returns stdout as text. */
export function opensslText(f: CertFixtures, args: string[]): string {
  return f.dir.openssl(args).toString('utf8');
}

/**
 * Decodes OpenSSL's `-nameopt RFC2253` escapes of bytes (`\C3\BC`) to text, so that its output can be
 * compared with an RFC 4514 string that keeps UTF-8 characters as they are. Other escapes are kept.
 */
export function unescapeOpenSSLBytes(s: string): string {
  return s.replace(/(?:\\[0-9A-F]{2})+/g, (run) => {
    const bytes = Uint8Array.from(run.split('\\').slice(1), (h) => Number.parseInt(h, 16));
    // Control characters stay escaped (mailtls escapes them too); UTF-8 sequences become text.
    if (bytes.every((b) => b < 0x20 || b === 0x7f)) return run;
    return new TextDecoder().decode(bytes);
  });
}

export { cpuStopwatch } from './timing.js';
