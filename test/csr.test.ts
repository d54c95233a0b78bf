import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { CSRError } from '../src/errors.js';
import { generateKeyPair, type PrivateKey } from '../src/keys/keys.js';
import { parsePrivateKey } from '../src/keys/private-key.js';
import { encodePublicKeyPEM } from '../src/keys/public-key.js';
import { type CreateCSROptions, type CSRResult, createCSR } from '../src/x509/csr.js';
import { formatSubject, type SubjectFields } from '../src/x509/subject.js';
import { cpuStopwatch } from './helpers/timing.js';

const dir = mkdtempSync(join(tmpdir(), 'mailtls-csr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function openssl(args: string[]): string {
  const r = run(args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

let fileNo = 0;
function save(text: string | Uint8Array, ext = 'pem'): string {
  const file = join(dir, `f${fileNo++}.${ext}`);
  writeFileSync(file, text);
  return file;
}

const subject: SubjectFields = {
  country: 'us',
  state: 'California',
  locality: 'Los Angeles',
  organization: 'Example Inc',
  organizationalUnit: '',
  commonName: 'example.com',
  emailAddress: 'hostmaster@example.com',
};
const hostnames = ['mail.example.com', 'smtp.example.com', 'imap.example.com'];
const ipAddresses = ['192.0.2.25', '2001:db8::25'];
const wantSubject =
  'emailAddress=hostmaster@example.com,CN=example.com,O=Example Inc,L=Los Angeles,ST=California,C=US';
const wantSAN =
  'DNS:example.com, DNS:mail.example.com, DNS:smtp.example.com, DNS:imap.example.com, ' +
  'IP Address:192.0.2.25, IP Address:2001:DB8:0:0:0:0:0:25';

const keyRows: Array<{
  name: string;
  options: Partial<CreateCSROptions>;
  wantAlgorithm: string;
  wantKey: RegExp;
}> = [
  {
    name: 'RSA-2048 (default)',
    options: {},
    wantAlgorithm: 'sha256WithRSAEncryption',
    wantKey: /Public-Key: \(2048 bit\)/,
  },
  {
    name: 'EC P-256',
    options: { keyType: 'ec' },
    wantAlgorithm: 'ecdsa-with-SHA256',
    wantKey: /NIST CURVE: P-256/,
  },
  {
    name: 'EC P-384',
    options: { keyType: 'ec', curve: 'P-384' },
    wantAlgorithm: 'ecdsa-with-SHA384',
    wantKey: /NIST CURVE: P-384/,
  },
  {
    name: 'Ed25519',
    options: { keyType: 'ed25519' },
    wantAlgorithm: 'ED25519',
    wantKey: /ED25519 Public-Key/,
  },
];

describe('csr: createCSR for every key type, checked by openssl', () => {
  for (const row of keyRows) {
    describe(row.name, () => {
      let result: CSRResult;
      let reqFile: string;
      let keyFile: string;
      before(async () => {
        result = await createCSR({ subject, hostnames, ipAddresses, ...row.options });
        reqFile = save(result.csrPEM);
        keyFile = save(result.keyPEM);
      });

      it('openssl req -verify accepts the self-signature', () => {
        const r = run(['req', '-in', reqFile, '-noout', '-verify']);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr + r.stdout, /self-signature verify OK/);
      });

      it('openssl shows the subject (RFC 2253), the SANs, the signature algorithm and the key', () => {
        assert.equal(
          openssl(['req', '-in', reqFile, '-noout', '-subject', '-nameopt', 'RFC2253']).trim(),
          `subject=${wantSubject}`,
        );
        assert.equal(formatSubject(result.subject), wantSubject);
        const text = openssl(['req', '-in', reqFile, '-noout', '-text']);
        assert.match(text, /Version: 1 \(0x0\)/);
        assert.ok(text.includes(`X509v3 Subject Alternative Name: \n                    ${wantSAN}\n`), text);
        assert.match(text, new RegExp(`Signature Algorithm: ${row.wantAlgorithm}\\n`));
        assert.match(text, row.wantKey);
        assert.doesNotMatch(text, /OU ?=/);
      });

      it('asn1parse shows PRINTABLESTRING country, IA5STRING e-mail, UTF8STRING elsewhere', () => {
        const out = openssl(['asn1parse', '-in', reqFile]);
        const types = [...out.matchAll(/prim: (PRINTABLESTRING|UTF8STRING|IA5STRING)\s*:(.*)/g)].map(
          (m) => `${m[1]}:${m[2]!.trim()}`,
        );
        assert.deepEqual(types, [
          'PRINTABLESTRING:US',
          'UTF8STRING:California',
          'UTF8STRING:Los Angeles',
          'UTF8STRING:Example Inc',
          'UTF8STRING:example.com',
          'IA5STRING:hostmaster@example.com',
        ]);
      });

      it('the key file reads with openssl pkey, unencrypted, and its public key is the CSR key', () => {
        assert.match(result.keyPEM, /^-----BEGIN PRIVATE KEY-----\n/);
        openssl(['pkey', '-in', keyFile, '-noout', '-passin', 'pass:wrong-must-not-be-needed']);
        const fromReq = openssl(['req', '-in', reqFile, '-noout', '-pubkey']);
        const fromKey = openssl(['pkey', '-in', keyFile, '-pubout']);
        assert.equal(fromReq, fromKey);
        assert.equal(fromReq, encodePublicKeyPEM(result.key.publicKey));
      });

      it('returns DER matching the PEM, the names and no warnings', () => {
        const der = openssl(['req', '-in', reqFile, '-outform', 'DER']);
        assert.ok(der.length > 0);
        const pemBody = result.csrPEM.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
        assert.ok(pemBody.every((l) => l.length <= 64));
        assert.equal(
          Buffer.from(pemBody.join(''), 'base64').toString('hex'),
          Buffer.from(result.csrDER).toString('hex'),
        );
        assert.deepEqual(result.dnsNames, ['example.com', ...hostnames]);
        assert.deepEqual(result.ipAddresses, ['192.0.2.25', '2001:db8::25']);
        assert.deepEqual(result.warnings, []);
        assert.equal(result.key.type, row.options.keyType ?? 'rsa');
      });
    });
  }
});

describe('csr: byte-for-byte what openssl req writes', () => {
  it('an Ed25519 CSR (deterministic signature) equals openssl req -new -addext subjectAltName', async () => {
    const keyFile = join(dir, 'ed.key');
    openssl(['genpkey', '-algorithm', 'ED25519', '-out', keyFile]);
    const conf = save('[req]\ndistinguished_name = dn\nstring_mask = utf8only\nutf8 = yes\n[dn]\n', 'cnf');
    const theirsFile = join(dir, 'ed-openssl.der');
    openssl([
      'req',
      '-new',
      '-config',
      conf,
      '-key',
      keyFile,
      '-outform',
      'DER',
      '-out',
      theirsFile,
      '-subj',
      '/C=DE/ST=Bayern/L=München/O=Bücher GmbH/OU=IT/CN=example.com/emailAddress=hostmaster@example.com',
      '-addext',
      'subjectAltName=DNS:example.com,DNS:mail.example.com,IP:192.0.2.1,IP:2001:db8::1',
    ]);
    const key = await parsePrivateKey(readFileSync(keyFile, 'utf8'));
    const ours = await createCSR({
      key,
      subject: {
        country: 'DE',
        state: 'Bayern',
        locality: 'München',
        organization: 'Bücher GmbH',
        organizationalUnit: 'IT',
        commonName: 'example.com',
        emailAddress: 'hostmaster@example.com',
      },
      hostnames: ['mail.example.com'],
      ipAddresses: ['192.0.2.1', '2001:db8::1'],
    });
    assert.equal(Buffer.from(ours.csrDER).toString('hex'), readFileSync(theirsFile).toString('hex'));
  });
});

describe('csr: keys and options', () => {
  let ecKey: PrivateKey;
  before(async () => {
    ecKey = await generateKeyPair({ type: 'ec' });
  });

  it('uses the given key and does not generate one', async () => {
    const r = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames: ['mail.example.com'],
      key: ecKey,
    });
    assert.equal(r.key, ecKey);
    const fromReq = openssl(['req', '-in', save(r.csrPEM), '-noout', '-pubkey']);
    assert.equal(fromReq, openssl(['pkey', '-in', save(r.keyPEM), '-pubout']));
  });

  it('encrypts the key file when a pass phrase is given, and openssl opens it with that pass phrase', async () => {
    const r = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames: ['mail.example.com'],
      key: ecKey,
      passphrase: 'correct horse battery staple',
    });
    assert.match(r.keyPEM, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const keyFile = save(r.keyPEM);
    assert.notEqual(run(['pkey', '-in', keyFile, '-noout', '-passin', 'pass:wrong']).status, 0);
    const pub = openssl(['pkey', '-in', keyFile, '-pubout', '-passin', 'pass:correct horse battery staple']);
    assert.equal(pub, openssl(['req', '-in', save(r.csrPEM), '-noout', '-pubkey']));
  });

  it('works with an injected WebCrypto provider (@peculiar/webcrypto)', async () => {
    const crypto = new PeculiarCrypto() as unknown as Crypto;
    const r = await createCSR({
      subject: { commonName: 'example.com' },
      hostnames: ['mail.example.com'],
      keyType: 'ec',
      crypto,
    });
    const res = run(['req', '-in', save(r.csrPEM), '-noout', '-verify']);
    assert.equal(res.status, 0, res.stderr);
  });

  it('an internationalised CN becomes its A-label in the subject and in the SAN', async () => {
    const r = await createCSR({
      subject: { commonName: 'Bücher.example' },
      hostnames: ['mail.bücher.example'],
      key: ecKey,
    });
    assert.equal(
      openssl(['req', '-in', save(r.csrPEM), '-noout', '-subject', '-nameopt', 'RFC2253']).trim(),
      'subject=CN=xn--bcher-kva.example',
    );
    assert.deepEqual(r.dnsNames, ['xn--bcher-kva.example', 'mail.xn--bcher-kva.example']);
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['WARN_IDN_CONVERTED', 'WARN_IDN_CONVERTED'],
    );
  });

  it('an IP address as CN is in the SAN as an IP address', async () => {
    const r = await createCSR({
      subject: { commonName: '192.168.1.10' },
      hostnames: ['mail.lan'],
      key: ecKey,
    });
    const text = openssl(['req', '-in', save(r.csrPEM), '-noout', '-text']);
    assert.match(text, /DNS:mail\.lan, IP Address:192\.168\.1\.10/);
  });

  it('warns (structured) about a mail. CN and a CN-only request, and still makes the CSR', async () => {
    const prefixed = await createCSR({
      subject: { commonName: 'mail.example.com' },
      hostnames: ['imap.example.com'],
      key: ecKey,
    });
    assert.deepEqual(
      prefixed.warnings.map((w) => w.code),
      ['WARN_CN_HOST_PREFIX'],
    );
    assert.match(prefixed.warnings[0]!.message, /bare domain \(example\.com\)/);
    assert.equal(prefixed.warnings[0]!.name, 'mail.example.com');
    const cnOnly = await createCSR({ subject: { commonName: 'example.com' }, key: ecKey });
    assert.deepEqual(
      cnOnly.warnings.map((w) => w.code),
      ['WARN_CN_ONLY'],
    );
    // the CN is in the SAN even when no host names are given
    assert.match(openssl(['req', '-in', save(cnOnly.csrPEM), '-noout', '-text']), /DNS:example\.com\n/);
  });

  it('never shows key bytes in JSON, inspect output, strings or spreads; keyPEM is read by name', async () => {
    const r = await createCSR({ subject: { commonName: 'example.com' }, key: ecKey });
    assert.match(r.keyPEM, /PRIVATE KEY/);
    const body = r.keyPEM.split('\n')[1]!;
    for (const shown of [
      JSON.stringify(r),
      inspect(r, { depth: 5 }),
      String(r.key),
      JSON.stringify({ ...r }),
    ]) {
      assert.ok(!shown.includes('PRIVATE KEY'), shown);
      assert.ok(!shown.includes(body.slice(20, 60)), shown);
    }
    assert.ok(Object.isFrozen(r));
  });
});

describe('csr: bad input', () => {
  const rows: Array<{ name: string; input: CreateCSROptions; wantCode: string }> = [
    {
      name: 'USA as country',
      input: { subject: { country: 'USA', commonName: 'example.com' } },
      wantCode: 'ERR_CSR_COUNTRY',
    },
    {
      name: 'UK as country',
      input: { subject: { country: 'UK', commonName: 'example.com' } },
      wantCode: 'ERR_CSR_COUNTRY',
    },
    {
      name: 'no Common Name',
      input: { subject: { organization: 'Example Inc' }, hostnames: ['mail.example.com'] },
      wantCode: 'ERR_CSR_SUBJECT',
    },
    { name: 'empty Common Name', input: { subject: { commonName: '  ' } }, wantCode: 'ERR_CSR_SUBJECT' },
    {
      name: 'CN not a host name',
      input: { subject: { commonName: 'Example Mail Server' } },
      wantCode: 'ERR_CSR_DNS_NAME',
    },
    {
      name: 'bad host name',
      input: { subject: { commonName: 'example.com' }, hostnames: ['mail_server.example.com'] },
      wantCode: 'ERR_CSR_DNS_NAME',
    },
    {
      name: 'bad IP',
      input: { subject: { commonName: 'example.com' }, ipAddresses: ['10.0.0.300'] },
      wantCode: 'ERR_CSR_IP_ADDRESS',
    },
    {
      name: 'bad e-mail',
      input: { subject: { commonName: 'example.com', emailAddress: 'postmaster' } },
      wantCode: 'ERR_CSR_EMAIL',
    },
  ];
  for (const row of rows)
    it(`${row.name} → ${row.wantCode} (before any key is generated)`, async () => {
      const elapsed = cpuStopwatch(); // CPU time (thread pool included): a busy machine cannot make it fail
      await assert.rejects(
        createCSR(row.input),
        (e: unknown) => e instanceof CSRError && e.code === row.wantCode,
      );
      assert.ok(elapsed() < 100, 'validation must come before RSA key generation');
    });

  it('TypeError for key together with keyType, or a key that is not a PrivateKey', async () => {
    const key = await generateKeyPair({ type: 'ed25519' });
    await assert.rejects(
      createCSR({ subject: { commonName: 'example.com' }, key, keyType: 'ec' }),
      TypeError,
    );
    await assert.rejects(
      createCSR({ subject: { commonName: 'example.com' }, key: {} as unknown as PrivateKey }),
      TypeError,
    );
    await assert.rejects(createCSR(null as unknown as CreateCSROptions), TypeError);
  });
});
