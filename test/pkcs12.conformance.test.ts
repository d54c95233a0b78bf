/**
 * PKCS#12 conformance: every file of /work/shared/conformance/pkcs12 (RustCrypto/formats and
 * SSLMate/go-pkcs12) either imports (key type and size, certificate count and subject, key matches the
 * leaf, key and certificates byte-equal to the reference files and to what `openssl pkcs12` extracts) or
 * fails with its documented code. Where OpenSSL 3.0 can read a file, our diagnostics (MAC and the
 * encryption of every part) must equal what `openssl pkcs12 -info` prints. Deviations from upstream
 * expectations or from OpenSSL are listed in DEVIATIONS with their reasons.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePEMAll } from '../src/encoding/pem.js';
import { PKCS12Error, type PKCS12ErrorCode } from '../src/errors.js';
import { DerReader, parseDer, Tag, valueBytes } from '../src/internal/encoding/der.js';
import { REEXPORT_COMMAND } from '../src/internal/pkcs12/context.js';
import { keyMatchesCertificate } from '../src/keys/key-match.js';
import type { KeyType } from '../src/keys/keys.js';
import { type ParsePKCS12Options, type PKCS12Contents, parsePKCS12 } from '../src/pkcs12/pkcs12.js';
import type { Certificate } from '../src/x509/certificate.js';
import { opensslStatus, TempDir } from './helpers/key-fixtures.js';
import { conformanceDir } from './helpers/paths.js';

const DIR = join(conformanceDir, 'pkcs12');
const RUST = 'rustcrypto-formats';
const GO = 'go-pkcs12';

/** How OpenSSL 3.0 reads a file: plainly, only with the legacy provider, or not at all. */
type OpenSSLMode = 'default' | 'legacy' | 'none';

interface Want {
  key?: { type: KeyType; bits: number };
  certificates: number;
  leafCN?: string;
  /** Reference files (same directory) the key and certificates must equal, leaf first. */
  ref?: { key?: string; certs: string[] };
  friendlyName?: string;
  mac: string;
  /** Number of encrypted parts. */
  encrypted: number;
  warning?: RegExp;
}

interface Row {
  name: string;
  input: { file: string; password: string | undefined; options?: ParsePKCS12Options };
  want?: Want;
  wantCode?: PKCS12ErrorCode;
  /** For wantCode rows: what the message must say. */
  wantMessage?: RegExp;
  openssl: OpenSSLMode;
}

const EE = { key: 'ValidCertificatePathTest1EE.key', certs: ['ValidCertificatePathTest1EE.crt'] };
const EX = { key: 'key.der', certs: ['cert.der'] };
const EE_NAME = 'Valid Certificate Path Test1 EE';
const EE_CN = 'Valid EE Certificate Test1';
const RSA2048 = { type: 'rsa', bits: 2048 } as const;
const RSA1024 = { type: 'rsa', bits: 1024 } as const;
const RC2_MESSAGE =
  /pbeWithSHA1And40BitRC2-CBC[\s\S]*openssl pkcs12 -legacy -in old\.pfx -nodes -out tmp\.pem && openssl pkcs12 -export -in tmp\.pem -out new\.pfx/;

function example(n: string, mac: string, encrypted: number, extra: Partial<Want> = {}): Row {
  return {
    name: `RustCrypto example${n}.pfx (${mac})`,
    input: { file: `${RUST}/example${n}.pfx`, password: '1234' },
    want: { key: RSA1024, certificates: 1, leafCN: '...', ref: EX, mac, encrypted, ...extra },
    openssl: 'default',
  };
}

/** A RustCrypto file holding the PKITS ValidCertificatePathTest1EE key and certificate (password 'password'). */
function validEE(name: string, file: string, mac: string): Row {
  return {
    name,
    input: { file: `${RUST}/${file}`, password: 'password' },
    want: { key: RSA2048, certificates: 1, leafCN: EE_CN, ref: EE, friendlyName: EE_NAME, mac, encrypted: 2 },
    openssl: 'default',
  };
}

const ROWS: Row[] = [
  {
    name: 'RustCrypto example.pfx: empty password, PBES2 AES-256, SHA-256 MAC',
    input: { file: `${RUST}/example.pfx`, password: '' },
    want: { key: RSA1024, certificates: 1, leafCN: '...', ref: EX, mac: 'sha256', encrypted: 2 },
    openssl: 'default',
  },
  {
    name: 'RustCrypto example.pfx: no password given is the empty password',
    input: { file: `${RUST}/example.pfx`, password: undefined },
    want: { key: RSA1024, certificates: 1, leafCN: '...', ref: EX, mac: 'sha256', encrypted: 2 },
    openssl: 'default',
  },
  example('2', 'sha256', 1),
  example('3', 'sha256', 1),
  example('4', 'sha1', 2),
  { ...example('5', 'none', 2, { warning: /no integrity check/ }), name: 'RustCrypto example5.pfx (no MAC)' },
  example('6', 'sha256', 2),
  {
    name: 'RustCrypto example7.pfx: unencrypted keyBag, leaf and CA certificate',
    input: { file: `${RUST}/example7.pfx`, password: '1234' },
    want: {
      key: RSA2048,
      certificates: 2,
      leafCN: EE_CN,
      ref: { key: EE.key, certs: [EE.certs[0]!, 'GoodCACert.der'] },
      mac: 'sha256',
      encrypted: 0,
      warning: /stored unencrypted/,
    },
    openssl: 'default',
  },
  example('8', 'sha384', 2),
  example('9', 'sha512', 2),
  example('10', 'sha256', 2),
  example('11', 'blake2b512', 2),
  example('12', 'sha256', 2),
  example('13', 'sha256', 2),
  example('14', 'sha1', 2),
  {
    name: 'RustCrypto example15.pfx: certificate only, no key',
    input: { file: `${RUST}/example15.pfx`, password: '1234' },
    want: { certificates: 1, ref: { certs: ['cert.der'] }, mac: 'sha1', encrypted: 1 },
    openssl: 'default',
  },
  {
    name: 'RustCrypto example15.pfx with requireKey: no key',
    input: { file: `${RUST}/example15.pfx`, password: '1234', options: { requireKey: true } },
    wantCode: 'ERR_PKCS12_NO_KEY',
    wantMessage: /no private key, only 1 certificate/,
    openssl: 'default',
  },
  {
    name: 'RustCrypto example16.pfx: key only, no certificate',
    input: { file: `${RUST}/example16.pfx`, password: '1234' },
    wantCode: 'ERR_PKCS12_NO_CERT',
    wantMessage: /no certificate, only a private key/,
    openssl: 'default',
  },
  {
    name: 'RustCrypto example16.pfx with requireCertificate: false',
    input: { file: `${RUST}/example16.pfx`, password: '1234', options: { requireCertificate: false } },
    want: { key: RSA1024, certificates: 0, ref: { key: 'key.der', certs: [] }, mac: 'sha1', encrypted: 1 },
    openssl: 'default',
  },
  example('17', 'sha256', 2),
  validEE(
    'RustCrypto ValidCertificatePathTest1EE.p12 (OpenSSL 1.x: 3DES, SHA-1 MAC)',
    'ValidCertificatePathTest1EE.p12',
    'sha1',
  ),
  validEE(
    'RustCrypto ..._windows_aes.p12.pfx (Windows AES256-SHA256)',
    'ValidCertificatePathTest1EE_windows_aes.p12.pfx',
    'sha256',
  ),
  validEE(
    'RustCrypto ..._windows_tdes.p12.pfx (Windows TripleDES-SHA1)',
    'ValidCertificatePathTest1EE_windows_tdes.p12.pfx',
    'sha1',
  ),
  {
    name: 'RustCrypto ..._firefox.p12 (BER, RC2-40 certificates, 600,000 iterations)',
    input: { file: `${RUST}/ValidCertificatePathTest1EE_firefox.p12`, password: 'password' },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: RC2_MESSAGE,
    openssl: 'legacy',
  },
  {
    name: 'RustCrypto ..._macos.p12 (RC2-40 certificates)',
    input: { file: `${RUST}/ValidCertificatePathTest1EE_macos.p12`, password: 'password' },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: RC2_MESSAGE,
    openssl: 'legacy',
  },
  {
    name: 'go-pkcs12 TestPBES2_AES128CBC.p12',
    input: { file: `${GO}/TestPBES2_AES128CBC.p12`, password: 'rHyQTJsubhfxcpH5JttyilHE6BBsNoZp' },
    want: {
      key: RSA2048,
      certificates: 1,
      leafCN: 'example-com',
      friendlyName: 'example-com',
      mac: 'sha256',
      encrypted: 2,
    },
    openssl: 'default',
  },
  {
    name: "go-pkcs12 TestPBES2_AES128CBC.p12 with the README's password 'password'",
    input: { file: `${GO}/TestPBES2_AES128CBC.p12`, password: 'password' },
    wantCode: 'ERR_PKCS12_PASSWORD',
    openssl: 'none',
  },
  {
    name: 'go-pkcs12 TestPBES2_AES192CBC.p12',
    input: { file: `${GO}/TestPBES2_AES192CBC.p12`, password: 'password' },
    want: {
      key: { type: 'rsa', bits: 4096 },
      certificates: 1,
      leafCN: 'example-com',
      friendlyName: 'name',
      mac: 'sha256',
      encrypted: 2,
    },
    openssl: 'default',
  },
  {
    name: 'go-pkcs12 TestPBES2_AES256CBC.p12',
    input: { file: `${GO}/TestPBES2_AES256CBC.p12`, password: 'password' },
    want: {
      key: RSA2048,
      certificates: 1,
      leafCN: '*.ad.standalone.com',
      friendlyName: 'te-c6bda622-30a4-4ecb-a844-19ccbf12a511',
      mac: 'sha256',
      encrypted: 2,
    },
    openssl: 'default',
  },
  {
    name: 'go-pkcs12 testdata-Windows_Azure_Tools.p12 (MAC over the empty byte string, RC2-40)',
    input: { file: `${GO}/testdata-Windows_Azure_Tools.p12`, password: '' },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: RC2_MESSAGE,
    openssl: 'legacy',
  },
  {
    name: 'go-pkcs12 testdata-testing_example_com.p12 (RC2-40)',
    input: { file: `${GO}/testdata-testing_example_com.p12`, password: undefined },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: RC2_MESSAGE,
    openssl: 'legacy',
  },
  ...(['1', '2', '3'] as const).map(
    (n): Row => ({
      name: `go-pkcs12 rfc9579-a${n}.p12 (PBMAC1, RFC 9579 A.${n})`,
      input: { file: `${GO}/rfc9579-a${n}.p12`, password: '1234' },
      want: {
        key: RSA2048,
        certificates: 1,
        leafCN: 'tt',
        mac: {
          '1': 'PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA256)',
          '2': 'PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA512)',
          '3': 'PBMAC1 (hmacWithSHA512, PBKDF2 hmacWithSHA512)',
        }[n],
        encrypted: 2,
      },
      openssl: 'none',
    }),
  ),
  {
    name: 'go-pkcs12 rfc9579-a4.p12 (PBMAC1, bad iteration count): a wrong password',
    input: { file: `${GO}/rfc9579-a4.p12`, password: '1234' },
    wantCode: 'ERR_PKCS12_PASSWORD',
    openssl: 'none',
  },
  {
    name: 'go-pkcs12 rfc9579-a5.p12 (PBMAC1, wrong salt): a wrong password',
    input: { file: `${GO}/rfc9579-a5.p12`, password: '1234' },
    wantCode: 'ERR_PKCS12_PASSWORD',
    openssl: 'none',
  },
  {
    name: 'go-pkcs12 rfc9579-a6.p12 (PBMAC1 without key length): invalid',
    input: { file: `${GO}/rfc9579-a6.p12`, password: '1234' },
    wantCode: 'ERR_PKCS12_INVALID',
    wantMessage: /PBMAC1 requires explicit KeyLength/,
    openssl: 'none',
  },
  {
    name: 'go-pkcs12 pbmac1-short-key-bypass.txt (1-byte PBMAC1 key) with the colliding password',
    input: { file: `${GO}/pbmac1-short-key-bypass.txt`, password: 'realpassword' },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: /1-byte key, shorter than 20 bytes/,
    openssl: 'none',
  },
  {
    name: 'go-pkcs12 pbmac1-short-key-bypass.txt with the password that made it',
    input: { file: `${GO}/pbmac1-short-key-bypass.txt`, password: 'fakepassword' },
    wantCode: 'ERR_PKCS12_UNSUPPORTED',
    wantMessage: /1-byte key/,
    openssl: 'none',
  },
];

/**
 * Intended deviations, with reasons (every one is asserted by a row above or a test below):
 */
const DEVIATIONS: Readonly<Record<string, string>> = {
  'RC2-40 files (_firefox, _macos, Windows_Azure_Tools, testing_example_com)':
    'OpenSSL 3 opens them with -legacy; mailtls refuses RC2 by design (40-bit encryption) with ERR_PKCS12_UNSUPPORTED ' +
    'and the conversion command, which the tests run on each file and whose output imports.',
  'TestPBES2_AES128CBC.p12':
    "The conformance README lists 'password', but go-pkcs12's pkcs12_test.go opens this file with " +
    "'rHyQTJsubhfxcpH5JttyilHE6BBsNoZp'; OpenSSL agrees ('password' fails its MAC check). Both rows are tested.",
  'rfc9579-a1..a6.p12':
    'OpenSSL 3.0 does not know PBMAC1 (3.4+ does), so there is nothing to compare with; the verdicts are those of ' +
    'RFC 9579 appendix A and go-pkcs12.',
  'pbmac1-short-key-bypass.txt':
    'Stored as base64 text; decoded here. Refused outright (ERR_PKCS12_UNSUPPORTED) like go-pkcs12 v0.7.2, whatever the password.',
  'example16.pfx (key only)':
    'Refused with ERR_PKCS12_NO_CERT by default (mailtls wants a certificate by default); imports with requireCertificate: false.',
};

function readInput(file: string): Uint8Array {
  const bytes = readFileSync(join(DIR, file));
  if (file.endsWith('.txt'))
    return new Uint8Array(Buffer.from(bytes.toString('ascii').replace(/\s+/g, ''), 'base64'));
  return new Uint8Array(bytes);
}

function refDER(name: string): Uint8Array {
  const bytes = readFileSync(join(DIR, RUST, name));
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return new Uint8Array(bytes);
  const blocks = decodePEMAll(text, ['CERTIFICATE', 'PRIVATE KEY']);
  return blocks[0]!.bytes;
}

async function parseRow(row: Row): Promise<PKCS12Contents> {
  const opts: ParsePKCS12Options = { ...(row.input.options ?? {}) };
  if (row.input.password !== undefined) opts.password = row.input.password;
  return parsePKCS12(readInput(row.input.file), opts);
}

let tmp: TempDir;
before(() => {
  tmp = new TempDir('mailtls-p12c-');
});
after(() => tmp.cleanup());

function opensslArgs(row: Row, extra: string[]): string[] {
  return [
    'pkcs12',
    ...(row.openssl === 'legacy' ? ['-legacy'] : []),
    '-in',
    join(DIR, row.input.file),
    '-passin',
    `pass:${row.input.password ?? ''}`,
    ...extra,
  ];
}

/** What `openssl pkcs12 -info -noout` says: the MAC line and the encryption of every part, in order. */
function opensslInfo(row: Row): { mac: string; iterations?: number; encryption: string[] } {
  const r = opensslStatus(opensslArgs(row, ['-info', '-noout']));
  assert.ok(r.ok, `openssl could not read ${row.input.file}: ${r.stderr}`);
  const lines = r.stderr.split('\n');
  const macLine = lines.find((l) => l.startsWith('MAC: '));
  const encryption = lines
    .filter((l) => l.startsWith('PKCS7 Encrypted data: ') || l.startsWith('Shrouded Keybag: '))
    .map((l) => l.replace(/^(PKCS7 Encrypted data|Shrouded Keybag): /, ''));
  if (macLine === undefined) return { mac: 'none', encryption };
  const m = /^MAC: (\S+), Iteration (\d+)$/.exec(macLine)!;
  return { mac: m[1]!, iterations: Number(m[2]), encryption };
}

/** The key (PKCS#8 DER) and certificates (DER) that `openssl pkcs12 -nodes` extracts. */
function opensslContents(row: Row, args: string[] = []): { key?: Uint8Array; certs: Uint8Array[] } {
  const r = opensslStatus(opensslArgs(row, ['-nodes', ...args]));
  assert.ok(r.ok, r.stderr);
  const text = r.stdout.toString('latin1');
  const certs = text.includes('CERTIFICATE') ? decodePEMAll(text, 'CERTIFICATE').map((b) => b.bytes) : [];
  const key = text.includes('PRIVATE KEY') ? decodePEMAll(text, 'PRIVATE KEY')[0]!.bytes : undefined;
  return key === undefined ? { certs } : { key, certs };
}

/**
 * The privateKey OCTET STRING of a PKCS#8 PrivateKeyInfo, as hex: the key material without the optional
 * attributes (Windows adds some; `openssl pkcs12 -nodes` drops them).
 */
function keyMaterial(pkcs8: Uint8Array): string {
  const r = DerReader.of(parseDer(pkcs8));
  r.expect(Tag.INTEGER, 'version');
  r.expect(Tag.SEQUENCE, 'algorithm');
  return Buffer.from(valueBytes(r.expect(Tag.OCTET_STRING, 'privateKey'))).toString('hex');
}

/** A reference key file (PEM or DER, PKCS#1 or PKCS#8) as PKCS#8 DER, converted by openssl. */
function refKeyPKCS8(name: string): Uint8Array {
  const file = join(DIR, RUST, name);
  const pem = readFileSync(file).toString('latin1').includes('-----BEGIN');
  const r = opensslStatus([
    'pkcs8',
    '-topk8',
    '-nocrypt',
    '-inform',
    pem ? 'PEM' : 'DER',
    '-in',
    file,
    '-outform',
    'DER',
  ]);
  assert.ok(r.ok, r.stderr);
  return new Uint8Array(r.stdout);
}

function sortedHex(list: readonly Uint8Array[]): string[] {
  return list.map((b) => Buffer.from(b).toString('hex')).sort();
}

describe('PKCS#12 conformance files', () => {
  it('every .p12/.pfx file and the short-key .txt has a row', () => {
    const files = [RUST, GO].flatMap((d) =>
      readdirSync(join(DIR, d))
        .filter((f) => /\.(p12|pfx)$/.test(f) || f === 'pbmac1-short-key-bypass.txt')
        .map((f) => `${d}/${f}`),
    );
    const covered = new Set(ROWS.map((r) => r.input.file));
    assert.deepEqual(
      files.filter((f) => !covered.has(f)),
      [],
    );
    assert.equal(files.length, 34);
    assert.equal(Object.keys(DEVIATIONS).length, 5);
  });

  for (const row of ROWS) {
    it(row.name, async () => {
      if (row.wantCode !== undefined) {
        await assert.rejects(parseRow(row), (e: unknown) => {
          assert.ok(e instanceof PKCS12Error, `expected a PKCS12Error, got ${String(e)}`);
          assert.equal(e.code, row.wantCode, e.message);
          if (row.wantMessage !== undefined) assert.match(e.message, row.wantMessage);
          return true;
        });
        return;
      }
      const want = row.want!;
      const p = await parseRow(row);
      assert.equal(p.certificates.length, want.certificates);
      assert.equal(p.macAlgorithm, want.mac);
      assert.equal(p.encryption.length, want.encrypted);
      assert.equal(p.friendlyName, want.friendlyName);
      if (want.warning !== undefined)
        assert.ok(
          p.warnings.some((w) => want.warning!.test(w)),
          p.warnings.join('; '),
        );
      else assert.deepEqual(p.warnings, []);
      if (want.key === undefined) assert.equal(p.key, undefined);
      else {
        assert.ok(p.key !== undefined);
        assert.equal(p.key.type, want.key.type);
        assert.equal(p.key.bits, want.key.bits);
      }
      if (p.key !== undefined && p.certificates.length > 0) {
        assert.ok(p.leaf !== undefined, 'a leaf for the key');
        assert.ok(keyMatchesCertificate(p.key, p.leaf.der));
        assert.equal(p.chain.length, p.certificates.length - 1);
        assert.ok(!p.chain.includes(p.leaf));
      } else assert.deepEqual([...p.chain], [...p.certificates]);
      if (want.leafCN !== undefined)
        assert.equal((p.leaf ?? p.certificates[0])!.subject.commonName, want.leafCN);
      if (want.ref !== undefined) {
        const certs: Certificate[] = p.leaf === undefined ? [...p.certificates] : [p.leaf, ...p.chain];
        assert.deepEqual(
          certs.map((c) => Buffer.from(c.der).toString('hex')),
          want.ref.certs.map((f) => Buffer.from(refDER(f)).toString('hex')),
        );
        if (want.ref.key !== undefined) {
          assert.equal(keyMaterial(p.key!.exportPKCS8()), keyMaterial(refKeyPKCS8(want.ref.key)));
        }
      }
    });
  }
});

describe('PKCS#12 conformance: agreement with openssl pkcs12 (OpenSSL 3.0, -legacy where needed)', () => {
  it('the legacy provider is available, so that the RC2 files can be compared', () => {
    const r = opensslStatus(['list', '-providers', '-provider', 'legacy']);
    assert.ok(r.ok, r.stderr);
    assert.match(r.stdout.toString(), /legacy/);
  });

  const imported = ROWS.filter((r) => r.want !== undefined && r.openssl !== 'none');
  for (const row of imported) {
    it(`${row.name}: same MAC, encryption, key and certificates as openssl`, async () => {
      const p = await parseRow(row);
      const info = opensslInfo(row);
      assert.equal(p.macAlgorithm, info.mac);
      assert.equal(p.macIterations, info.iterations);
      assert.deepEqual([...p.encryption], info.encryption);
      const o = opensslContents(row);
      assert.deepEqual(sortedHex(p.certificates.map((c) => c.der)), sortedHex(o.certs));
      if (o.key === undefined) assert.equal(p.key, undefined);
      else assert.equal(keyMaterial(p.key!.exportPKCS8()), keyMaterial(o.key));
    });
  }

  for (const row of ROWS.filter((r) => r.wantCode === 'ERR_PKCS12_UNSUPPORTED' && r.openssl === 'legacy')) {
    it(`${row.name}: openssl -legacy names the algorithm we refuse, and the advertised command converts it`, async () => {
      const err = await parseRow(row).then(
        () => assert.fail('expected ERR_PKCS12_UNSUPPORTED'),
        (e: unknown) => e as PKCS12Error,
      );
      const info = opensslInfo(row);
      assert.ok(
        info.encryption.some((e) => e.startsWith(String(err.details.algorithm))),
        `${String(err.details.algorithm)} in ${info.encryption.join(' | ')}`,
      );
      // The exact command of the message, with the passwords added; run in a temporary directory.
      const name = row.input.file.replace(/\W/g, '_');
      const commands = REEXPORT_COMMAND.split(' && ').map((c) =>
        c
          .split(' ')
          .slice(1)
          .map((a) =>
            a === 'old.pfx'
              ? join(DIR, row.input.file)
              : a === 'tmp.pem'
                ? `${name}.pem`
                : a === 'new.pfx'
                  ? `${name}.pfx`
                  : a,
          ),
      );
      assert.equal(commands.length, 2);
      tmp.openssl([...commands[0]!, '-passin', `pass:${row.input.password ?? ''}`]);
      tmp.openssl([...commands[1]!, '-passout', 'pass:converted']);
      const converted = await parsePKCS12(tmp.read(`${name}.pfx`), {
        password: 'converted',
        requireKey: true,
      });
      const o = opensslContents(row);
      assert.equal(keyMaterial(converted.key!.exportPKCS8()), keyMaterial(o.key!));
      assert.deepEqual(sortedHex(converted.certificates.map((c) => c.der)), sortedHex(o.certs));
      assert.ok(converted.leaf !== undefined && keyMatchesCertificate(converted.key!, converted.leaf.der));
    });
  }

  it('a pipe between the two commands does not work when the certificate comes first (why the command uses a file)', () => {
    const file = join(DIR, GO, 'testdata-testing_example_com.p12');
    const pem = opensslStatus(['pkcs12', '-legacy', '-in', file, '-nodes', '-passin', 'pass:']);
    assert.ok(pem.ok);
    assert.ok(pem.stdout.indexOf('CERTIFICATE') < pem.stdout.indexOf('PRIVATE KEY'));
    const r = opensslStatus(['pkcs12', '-export', '-passout', 'pass:x', '-out', tmp.file('pipe.pfx')], {
      input: pem.stdout,
    });
    assert.equal(r.ok, false);
    assert.match(r.stderr, /Could not read any certificates/);
  });

  it('OpenSSL 3.0 cannot verify the RFC 9579 PBMAC1 files that mailtls opens (OpenSSL 3.4+ can)', () => {
    const version = opensslStatus(['version']).stdout.toString();
    const m = /OpenSSL (\d+)\.(\d+)/.exec(version)!;
    const before34 = Number(m[1]) < 3 || (Number(m[1]) === 3 && Number(m[2]) < 4);
    for (const n of ['1', '2', '3']) {
      const r = opensslStatus([
        'pkcs12',
        '-in',
        join(DIR, GO, `rfc9579-a${n}.p12`),
        '-passin',
        'pass:1234',
        '-info',
        '-noout',
      ]);
      assert.equal(r.ok, !before34, `${version}: a${n}`);
    }
  });

  it('every row that imports fails with ERR_PKCS12_PASSWORD under a wrong password, and asks for one when none is given', async () => {
    for (const row of ROWS.filter((r) => r.want !== undefined)) {
      const wrong: Row = { ...row, input: { ...row.input, password: 'wrong-password' } };
      await assert.rejects(parseRow(wrong), (e: unknown) => {
        assert.ok(e instanceof PKCS12Error && e.code === 'ERR_PKCS12_PASSWORD', `${row.name}: ${String(e)}`);
        assert.match(e.message, /password is wrong/);
        return true;
      });
      if (row.input.password === '' || row.input.password === undefined) continue;
      const none: Row = { ...row, input: { ...row.input, password: undefined } };
      await assert.rejects(parseRow(none), (e: unknown) => {
        assert.ok(e instanceof PKCS12Error && e.code === 'ERR_PKCS12_PASSWORD', `${row.name}: ${String(e)}`);
        assert.match(e.message, /pass \{ password \}/);
        return true;
      });
    }
  });
});
