/**
 * Private keys: every PEM/DER format made by the openssl CLI imports with the right type, size and public
 * key; every format written here is read back by openssl; wrong/missing pass phrases, unsupported
 * algorithms and garbage give the documented codes; key bytes never leak; mutated inputs fail cleanly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { encodePEM } from '../src/encoding/pem.js';
import { KeyError, MailTlsError } from '../src/errors.js';
import { PrivateKey } from '../src/keys/keys.js';
import { encodePrivateKeyPEM, parsePrivateKey, parsePrivateKeyDER } from '../src/keys/private-key.js';
import { assertNoKeyBytes, fuzzRuns, TempDir } from './helpers/key-fixtures.js';
import { timeOrRetime } from './helpers/timing.js';

const PW = 'pw-Secret!';
const L = ['-provider', 'legacy', '-provider', 'default'];
let dir: TempDir;

/** `CMD -in INPUT OPTIONS -passout pass:PASS -out OUT`: the shape of every openssl command that encrypts a key. */
function encrypting(
  cmd: readonly string[],
  input: string,
  options: readonly string[],
  out: string,
  pass = PW,
): string[] {
  return [...cmd, '-in', input, ...options, '-passout', `pass:${pass}`, '-out', out];
}
const P8 = ['pkcs8', '-topk8'];
const P8_LEGACY = ['pkcs8', ...L, '-topk8'];

/** openssl commands that make the fixtures, run in order in a temporary directory. */
const FIXTURES: ReadonlyArray<readonly string[]> = [
  ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec256.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'ec384.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', 'ec521.key'],
  ['genpkey', '-algorithm', 'ED25519', '-out', 'ed.key'],
  ['genrsa', '-traditional', '-out', 'rsa-trad.key', '2048'],
  ['ecparam', '-genkey', '-name', 'prime256v1', '-out', 'ecparam.key'],
  ['pkey', '-in', 'ec384.key', '-traditional', '-out', 'ec384-sec1.key'],
  // encrypted PKCS#8
  encrypting(P8, 'rsa.key', ['-v2', 'aes-256-cbc'], 'p8-aes256.key'),
  encrypting(P8, 'ec256.key', ['-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA1'], 'p8-aes128-sha1.key'),
  encrypting(P8, 'ed.key', ['-v2', 'aes-192-cbc', '-v2prf', 'hmacWithSHA384'], 'p8-aes192-sha384.key'),
  encrypting(P8, 'ec521.key', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA512'], 'p8-aes256-sha512.key'),
  encrypting(P8, 'rsa.key', ['-v2', 'des3'], 'p8-des3.key'),
  encrypting(P8, 'rsa.key', ['-v1', 'PBE-SHA1-3DES'], 'p8-pbe1-3des.key'),
  encrypting(P8, 'ec384.key', ['-v1', 'PBE-SHA1-3DES'], 'p8-pbe1-utf8.key', 'pässwörd'),
  encrypting(P8, 'ed.key', ['-v2', 'aes-256-cbc'], 'p8-aes-utf8.key', 'pässwörd'),
  encrypting(P8, 'ed.key', ['-v2', 'aes-256-cbc', '-outform', 'DER'], 'p8-enc.der'),
  // legacy Proc-Type PEM encryption
  encrypting(['rsa'], 'rsa.key', ['-aes256', '-traditional'], 'leg-rsa-aes256.key'),
  encrypting(['rsa'], 'rsa.key', ['-aes128', '-traditional'], 'leg-rsa-aes128.key'),
  encrypting(['rsa'], 'rsa.key', ['-des3', '-traditional'], 'leg-rsa-des3.key'),
  encrypting(['ec'], 'ec256.key', ['-aes192'], 'leg-ec-aes192.key'),
  encrypting(['ec'], 'ec384.key', ['-des3'], 'leg-ec-des3.key'),
  // DER
  ['pkcs8', '-topk8', '-nocrypt', '-in', 'rsa.key', '-outform', 'DER', '-out', 'rsa-p8.der'],
  ['rsa', '-in', 'rsa.key', '-traditional', '-outform', 'DER', '-out', 'rsa-pkcs1.der'],
  ['ec', '-in', 'ec256.key', '-outform', 'DER', '-out', 'ec-sec1.der'],
  // unsupported
  encrypting(P8_LEGACY, 'rsa.key', ['-v1', 'PBE-SHA1-RC2-40'], 'u-rc2-40.key'),
  encrypting(P8_LEGACY, 'rsa.key', ['-v2', 'rc2'], 'u-pbes2-rc2.key'),
  encrypting(P8_LEGACY, 'rsa.key', ['-v2', 'des'], 'u-pbes2-des.key'),
  encrypting(P8_LEGACY, 'rsa.key', ['-v1', 'PBE-MD5-DES'], 'u-md5-des.key'),
  encrypting(P8, 'rsa.key', ['-scrypt'], 'u-scrypt.key'),
  encrypting(P8, 'rsa.key', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA224'], 'u-sha224.key'),
  encrypting(['rsa', ...L], 'rsa.key', ['-des', '-traditional'], 'u-leg-des.key'),
  ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', 'dsaparam.pem'],
  ['genpkey', '-paramfile', 'dsaparam.pem', '-out', 'u-dsa.key'],
  ['pkey', '-in', 'u-dsa.key', '-traditional', '-out', 'u-dsa-trad.key'],
  ['genpkey', '-algorithm', 'X25519', '-out', 'u-x25519.key'],
  ['genpkey', '-algorithm', 'ED448', '-out', 'u-ed448.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', 'u-secp256k1.key'],
  [
    'ecparam',
    '-genkey',
    '-name',
    'prime256v1',
    '-param_enc',
    'explicit',
    '-noout',
    '-out',
    'u-ec-explicit.key',
  ],
  ['pkcs8', '-topk8', '-nocrypt', '-in', 'u-ec-explicit.key', '-out', 'u-ec-explicit-p8.key'],
  ['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'u-rsa-pss.key'],
];

before(() => {
  dir = new TempDir();
  for (const cmd of FIXTURES) dir.openssl(cmd);
});
after(() => dir.cleanup());

/** What openssl says the public key of a (possibly encrypted) key file is. */
function opensslSPKI(file: string, passphrase = PW): Buffer {
  return dir.openssl(['pkey', '-in', file, '-passin', `pass:${passphrase}`, '-pubout', '-outform', 'DER']);
}

/** The unencrypted PKCS#8 DER openssl makes of a key file. */
function opensslPKCS8(file: string, passphrase = PW): Buffer {
  // (`openssl pkey -outform DER` would write the traditional format)
  return dir.openssl([
    'pkcs8',
    '-topk8',
    '-nocrypt',
    '-in',
    file,
    '-passin',
    `pass:${passphrase}`,
    '-outform',
    'DER',
  ]);
}

interface Want {
  type: 'rsa' | 'ec' | 'ed25519';
  bits?: number;
  curve?: string;
}

function checkKey(key: PrivateKey, want: Want, file: string, passphrase = PW): void {
  assert.equal(key.type, want.type);
  assert.equal(key.bits, want.bits);
  assert.equal(key.curve, want.curve);
  assert.deepEqual(
    Buffer.from(key.publicKey.spki),
    opensslSPKI(file, passphrase),
    'public key differs from openssl',
  );
  assert.deepEqual(
    Buffer.from(key.exportPKCS8()),
    opensslPKCS8(file, passphrase),
    'PKCS#8 differs from openssl',
  );
}

describe('parsePrivateKey imports what openssl writes', () => {
  const RSA = { type: 'rsa', bits: 2048 } as const;
  const rows: Array<{ name: string; input: { file: string; passphrase?: string }; want: Want }> = [
    { name: 'genpkey RSA (PKCS#8)', input: { file: 'rsa.key' }, want: RSA },
    { name: 'genpkey EC P-256', input: { file: 'ec256.key' }, want: { type: 'ec', curve: 'P-256' } },
    { name: 'genpkey EC P-384', input: { file: 'ec384.key' }, want: { type: 'ec', curve: 'P-384' } },
    { name: 'genpkey EC P-521', input: { file: 'ec521.key' }, want: { type: 'ec', curve: 'P-521' } },
    { name: 'genpkey ED25519', input: { file: 'ed.key' }, want: { type: 'ed25519' } },
    { name: 'genrsa -traditional (PKCS#1)', input: { file: 'rsa-trad.key' }, want: RSA },
    {
      name: 'ecparam -genkey (EC PARAMETERS + SEC1)',
      input: { file: 'ecparam.key' },
      want: { type: 'ec', curve: 'P-256' },
    },
    {
      name: 'pkey -traditional EC (SEC1 P-384)',
      input: { file: 'ec384-sec1.key' },
      want: { type: 'ec', curve: 'P-384' },
    },
    { name: 'PBES2 AES-256-CBC, HMAC-SHA256', input: { file: 'p8-aes256.key', passphrase: PW }, want: RSA },
    {
      name: 'PBES2 AES-128-CBC, HMAC-SHA1',
      input: { file: 'p8-aes128-sha1.key', passphrase: PW },
      want: { type: 'ec', curve: 'P-256' },
    },
    {
      name: 'PBES2 AES-192-CBC, HMAC-SHA384',
      input: { file: 'p8-aes192-sha384.key', passphrase: PW },
      want: { type: 'ed25519' },
    },
    {
      name: 'PBES2 AES-256-CBC, HMAC-SHA512',
      input: { file: 'p8-aes256-sha512.key', passphrase: PW },
      want: { type: 'ec', curve: 'P-521' },
    },
    { name: 'PBES2 DES-EDE3-CBC', input: { file: 'p8-des3.key', passphrase: PW }, want: RSA },
    {
      name: 'PBES1 PBE-SHA1-3DES (PKCS#12 KDF)',
      input: { file: 'p8-pbe1-3des.key', passphrase: PW },
      want: RSA,
    },
    {
      name: 'PBES1 PBE-SHA1-3DES, non-ASCII pass phrase',
      input: { file: 'p8-pbe1-utf8.key', passphrase: 'pässwörd' },
      want: { type: 'ec', curve: 'P-384' },
    },
    {
      name: 'PBES2, non-ASCII pass phrase',
      input: { file: 'p8-aes-utf8.key', passphrase: 'pässwörd' },
      want: { type: 'ed25519' },
    },
    { name: 'legacy RSA AES-256-CBC', input: { file: 'leg-rsa-aes256.key', passphrase: PW }, want: RSA },
    { name: 'legacy RSA AES-128-CBC', input: { file: 'leg-rsa-aes128.key', passphrase: PW }, want: RSA },
    { name: 'legacy RSA DES-EDE3-CBC', input: { file: 'leg-rsa-des3.key', passphrase: PW }, want: RSA },
    {
      name: 'legacy EC AES-192-CBC',
      input: { file: 'leg-ec-aes192.key', passphrase: PW },
      want: { type: 'ec', curve: 'P-256' },
    },
    {
      name: 'legacy EC DES-EDE3-CBC',
      input: { file: 'leg-ec-des3.key', passphrase: PW },
      want: { type: 'ec', curve: 'P-384' },
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const pem = dir.text(row.input.file);
      const opts = row.input.passphrase === undefined ? {} : { passphrase: row.input.passphrase };
      const key = await parsePrivateKey(pem, opts);
      checkKey(key, row.want, row.input.file, row.input.passphrase ?? PW);
    });

  it('takes the pass phrase as bytes too', async () => {
    const key = await parsePrivateKey(dir.text('p8-aes-utf8.key'), {
      passphrase: new TextEncoder().encode('pässwörd'),
    });
    assert.equal(key.type, 'ed25519');
  });

  it('ignores a pass phrase given for an unencrypted key (as openssl does)', async () => {
    const key = await parsePrivateKey(dir.text('ec256.key'), { passphrase: 'unused' });
    assert.equal(key.curve, 'P-256');
  });
});

describe('parsePrivateKeyDER', () => {
  const rows: Array<{
    name: string;
    input: { file: string; format?: 'pkcs8' | 'pkcs1' | 'sec1' | 'encrypted-pkcs8' };
    want: Want;
    pem: string;
  }> = [
    {
      name: 'PKCS#8 (default format)',
      input: { file: 'rsa-p8.der' },
      want: { type: 'rsa', bits: 2048 },
      pem: 'rsa.key',
    },
    {
      name: 'PKCS#1',
      input: { file: 'rsa-pkcs1.der', format: 'pkcs1' },
      want: { type: 'rsa', bits: 2048 },
      pem: 'rsa.key',
    },
    {
      name: 'SEC1',
      input: { file: 'ec-sec1.der', format: 'sec1' },
      want: { type: 'ec', curve: 'P-256' },
      pem: 'ec256.key',
    },
    {
      name: 'encrypted PKCS#8',
      input: { file: 'p8-enc.der', format: 'encrypted-pkcs8' },
      want: { type: 'ed25519' },
      pem: 'ed.key',
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const der = new Uint8Array(dir.read(row.input.file));
      const key = await parsePrivateKeyDER(der, {
        ...(row.input.format === undefined ? {} : { format: row.input.format }),
        passphrase: PW,
      });
      checkKey(key, row.want, row.pem);
    });

  it('never guesses the format: PKCS#1 bytes read as PKCS#8 are ERR_KEY_INVALID', async () => {
    const der = new Uint8Array(dir.read('rsa-pkcs1.der'));
    await assert.rejects(
      parsePrivateKeyDER(der),
      (e: unknown) => e instanceof KeyError && e.code === 'ERR_KEY_INVALID',
    );
  });

  it('rejects an unknown format with RangeError and non-bytes with TypeError', async () => {
    await assert.rejects(parsePrivateKeyDER(new Uint8Array(4), { format: 'pem' as 'pkcs8' }), RangeError);
    await assert.rejects(parsePrivateKeyDER('x' as unknown as Uint8Array), TypeError);
    await assert.rejects(parsePrivateKey(42 as unknown as string), TypeError);
    await assert.rejects(
      parsePrivateKey(dir.text('ed.key'), { passphrase: 42 as unknown as string }),
      TypeError,
    );
  });
});

describe('encrypted keys: missing and wrong pass phrases', () => {
  const files = [
    'p8-aes256.key',
    'p8-aes128-sha1.key',
    'p8-des3.key',
    'p8-pbe1-3des.key',
    'leg-rsa-aes256.key',
    'leg-rsa-des3.key',
    'leg-ec-aes192.key',
  ];
  for (const file of files) {
    it(`${file}: no pass phrase is ERR_KEY_ENCRYPTED with the command to remove it`, async () => {
      await assert.rejects(parsePrivateKey(dir.text(file)), (e: unknown) => {
        assert.ok(e instanceof KeyError);
        assert.equal(e.code, 'ERR_KEY_ENCRYPTED');
        assert.match(e.message, /cannot start unattended/);
        assert.match(e.message, /openssl pkey -in enc\.key -out plain\.key/);
        return true;
      });
    });
    it(`${file}: a wrong pass phrase is ERR_KEY_PASSPHRASE and leaks no key bytes`, async () => {
      const secret = opensslPKCS8(file);
      for (const passphrase of ['wrong', '', 'pw-Secret', `${PW} `]) {
        await assert.rejects(parsePrivateKey(dir.text(file), { passphrase }), (e: unknown) => {
          assert.ok(e instanceof KeyError, `not a KeyError: ${String(e)}`);
          assert.equal(e.code, 'ERR_KEY_PASSPHRASE');
          assert.equal(e.cause, undefined);
          for (const text of [
            e.message,
            JSON.stringify(e),
            inspect(e, { showHidden: true, depth: 10 }),
            String(e.stack),
          ])
            assertNoKeyBytes(text, secret, 'error');
          return true;
        });
      }
    });
  }

  it('a DER encrypted key without pass phrase is ERR_KEY_ENCRYPTED', async () => {
    await assert.rejects(
      parsePrivateKeyDER(new Uint8Array(dir.read('p8-enc.der')), { format: 'encrypted-pkcs8' }),
      (e: unknown) => e instanceof KeyError && e.code === 'ERR_KEY_ENCRYPTED',
    );
  });
});

describe('unsupported keys and encryptions are ERR_KEY_UNSUPPORTED with advice', () => {
  const rows: Array<{ name: string; input: string; wantCode: 'ERR_KEY_UNSUPPORTED'; want: RegExp }> = [
    {
      name: 'PBE-SHA1-RC2-40',
      input: 'u-rc2-40.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /RC2.*openssl pkcs8 -provider legacy/,
    },
    {
      name: 'PBES2 with RC2-CBC',
      input: 'u-pbes2-rc2.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /RC2-CBC.*-v2 aes-256-cbc/,
    },
    {
      name: 'PBES2 with single DES',
      input: 'u-pbes2-des.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /single DES.*-v2 aes-256-cbc/,
    },
    {
      name: 'PBE-MD5-DES',
      input: 'u-md5-des.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /pbeWithMD5AndDES-CBC.*openssl pkcs8/,
    },
    { name: 'scrypt', input: 'u-scrypt.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /scrypt.*openssl pkcs8/ },
    { name: 'PBKDF2-HMAC-SHA224', input: 'u-sha224.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /SHA224/ },
    {
      name: 'legacy PEM DES-CBC',
      input: 'u-leg-des.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /single DES.*openssl pkey -provider legacy -provider default -aes-256-cbc/,
    },
    { name: 'DSA (PKCS#8)', input: 'u-dsa.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /DSA key.*genpkey/ },
    { name: 'DSA (traditional)', input: 'u-dsa-trad.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /DSA/ },
    { name: 'X25519', input: 'u-x25519.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /X25519/ },
    { name: 'Ed448', input: 'u-ed448.key', wantCode: 'ERR_KEY_UNSUPPORTED', want: /Ed448/ },
    {
      name: 'secp256k1',
      input: 'u-secp256k1.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /secp256k1.*P-256/,
    },
    {
      name: 'explicit EC parameters (SEC1)',
      input: 'u-ec-explicit.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /explicit curve parameters.*openssl/,
    },
    {
      name: 'explicit EC parameters (PKCS#8)',
      input: 'u-ec-explicit-p8.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /explicit curve parameters/,
    },
    {
      name: 'RSA-PSS restricted key',
      input: 'u-rsa-pss.key',
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /RSA-PSS/,
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      await assert.rejects(parsePrivateKey(dir.text(row.input), { passphrase: PW }), (e: unknown) => {
        assert.ok(e instanceof KeyError, String(e));
        assert.equal(e.code, row.wantCode);
        assert.match(e.message, row.want);
        return true;
      });
    });

  it('an OpenSSH key says how to convert it', async () => {
    const pem = encodePEM('OPENSSH PRIVATE KEY', new TextEncoder().encode('openssh-key-v1\0'));
    await assert.rejects(parsePrivateKey(pem), (e: unknown) => {
      assert.ok(e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED');
      assert.match(e.message, /ssh-keygen -p -m PEM/);
      return true;
    });
  });
});

describe('garbage is ERR_KEY_INVALID (or a PEM error) saying what broke', () => {
  const good = () => new Uint8Array(dir.read('rsa-p8.der'));
  const rows: Array<{ name: string; input: () => string; wantCode: string; want?: RegExp }> = [
    { name: 'empty text', input: () => '', wantCode: 'ERR_PEM_NO_BLOCK' },
    { name: 'no PEM at all', input: () => 'hello', wantCode: 'ERR_PEM_NO_BLOCK' },
    {
      name: 'a certificate instead of a key',
      input: () =>
        dir.openssl(['req', '-x509', '-key', 'ec256.key', '-subj', '/CN=x', '-days', '1']).toString(),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
      want: /certificates only/,
    },
    {
      name: "a block labelled with an Object property name ('constructor')",
      input: () => '-----BEGIN constructor-----\nAAAA\n-----END constructor-----\n',
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: "a block labelled with an Object property name ('__proto__')",
      input: () => '-----BEGIN __proto__-----\nAAAA\n-----END __proto__-----\n',
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: 'a public key instead of a private key',
      input: () => dir.openssl(['pkey', '-in', 'ec256.key', '-pubout']).toString(),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
      want: /public key/,
    },
    {
      name: 'random bytes as PRIVATE KEY',
      input: () =>
        encodePEM(
          'PRIVATE KEY',
          Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
        ),
      wantCode: 'ERR_KEY_INVALID',
      want: /PKCS#8 private key is not valid/,
    },
    {
      name: 'truncated PKCS#8',
      input: () => encodePEM('PRIVATE KEY', good().subarray(0, 300)),
      wantCode: 'ERR_KEY_INVALID',
      want: /PKCS#8.*runs past the end/,
    },
    {
      name: 'PKCS#8 version 2',
      input: () => {
        const d = good();
        d[6] = 2; // SEQUENCE(4-byte header) INTEGER 02 01 <v>
        return encodePEM('PRIVATE KEY', d);
      },
      wantCode: 'ERR_KEY_INVALID',
      want: /unknown version 2/,
    },
    {
      name: 'RSA key whose modulus does not fit its private exponent',
      input: () => {
        const d = new Uint8Array(dir.read('rsa-pkcs1.der'));
        d[112]! ^= 0x10; // inside n (which starts at byte 12), away from its first and last byte
        return encodePEM('RSA PRIVATE KEY', d);
      },
      wantCode: 'ERR_KEY_INVALID',
      want: /private and public halves do not belong together/,
    },
    {
      name: "EC key carrying another key's public point",
      input: () => {
        const a = new Uint8Array(dir.read('ec-sec1.der'));
        const other = dir.openssl(['ec', '-in', 'ecparam.key', '-outform', 'DER']);
        a.set(other.subarray(other.length - 65), a.length - 65);
        return encodePEM('EC PRIVATE KEY', a);
      },
      wantCode: 'ERR_KEY_INVALID',
      want: /EC P-256 private key is not valid/,
    },
    {
      name: 'PKCS#1 bytes labelled EC PRIVATE KEY',
      input: () => encodePEM('EC PRIVATE KEY', new Uint8Array(dir.read('rsa-pkcs1.der'))),
      wantCode: 'ERR_KEY_INVALID',
      want: /EC private key is not valid/,
    },
    {
      name: 'Proc-Type ENCRYPTED without DEK-Info',
      input: () =>
        `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n${Buffer.alloc(32).toString('base64')}\n-----END RSA PRIVATE KEY-----\n`,
      wantCode: 'ERR_PEM_HEADERS', // the PEM layer already refuses the header pair
      want: /DEK-Info/,
    },
    {
      name: 'legacy ciphertext that is not whole blocks',
      input: () =>
        encodePEM('RSA PRIVATE KEY', new Uint8Array(33), {
          'Proc-Type': '4,ENCRYPTED',
          'DEK-Info': 'AES-256-CBC,00112233445566778899AABBCCDDEEFF',
        }),
      wantCode: 'ERR_KEY_INVALID',
      want: /33 bytes.*16-byte blocks/,
    },
    {
      name: 'legacy IV of the wrong size',
      input: () =>
        encodePEM('RSA PRIVATE KEY', new Uint8Array(32), {
          'Proc-Type': '4,ENCRYPTED',
          'DEK-Info': 'AES-256-CBC,0011223344556677',
        }),
      wantCode: 'ERR_KEY_INVALID',
      want: /IV has 8 bytes, expected 16/,
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      await assert.rejects(parsePrivateKey(row.input(), { passphrase: PW }), (e: unknown) => {
        assert.ok(e instanceof MailTlsError, String(e));
        assert.equal(e.code, row.wantCode);
        if (row.want) assert.match(e.message, row.want);
        return true;
      });
    });
});

describe('encodePrivateKeyPEM output is read by openssl', () => {
  const sources = [
    { name: 'RSA', file: 'rsa.key', formats: ['pkcs8', 'pkcs1'] as const },
    { name: 'EC P-256', file: 'ec256.key', formats: ['pkcs8', 'sec1'] as const },
    { name: 'EC P-384', file: 'ec384.key', formats: ['pkcs8', 'sec1'] as const },
    { name: 'EC P-521', file: 'ec521.key', formats: ['pkcs8', 'sec1'] as const },
    { name: 'Ed25519', file: 'ed.key', formats: ['pkcs8'] as const },
  ];
  const labels = { pkcs8: 'PRIVATE KEY', pkcs1: 'RSA PRIVATE KEY', sec1: 'EC PRIVATE KEY' };
  for (const src of sources)
    for (const format of src.formats)
      for (const encrypted of [false, true])
        it(`${src.name} as ${format}${encrypted ? ', encrypted' : ''}`, async () => {
          const key = await parsePrivateKey(dir.text(src.file));
          const pem = await encodePrivateKeyPEM(key, {
            format,
            ...(encrypted ? { passphrase: PW, iterations: 2048 } : {}),
          });
          const label = encrypted && format === 'pkcs8' ? 'ENCRYPTED PRIVATE KEY' : labels[format];
          assert.ok(pem.startsWith(`-----BEGIN ${label}-----\n`), pem.split('\n')[0]);
          assert.equal(pem.includes('Proc-Type: 4,ENCRYPTED'), encrypted && format !== 'pkcs8');
          const out = `out-${src.file}-${format}-${encrypted}.pem`;
          dir.write(out, pem);
          assert.deepEqual(opensslPKCS8(out), opensslPKCS8(src.file), 'openssl reads back a different key');
          assert.ok(
            opensslStatusOK(['pkey', '-in', out, '-passin', `pass:${PW}`, '-noout', '-check']),
            'openssl pkey -check',
          );
          const back = await parsePrivateKey(pem, { passphrase: PW });
          assert.deepEqual(back.exportPKCS8(), key.exportPKCS8());
          if (format === 'sec1' && !encrypted) {
            // SEC1 carries the named curve and the public key
            const parsed = dir.openssl(['asn1parse', '-in', out]).toString();
            assert.match(parsed, /\[ ?0 ?\][\s\S]*OBJECT\s+:(prime256v1|secp384r1|secp521r1)/);
            assert.match(parsed, /\[ ?1 ?\][\s\S]*BIT STRING/);
          }
        });

  it('encrypted PKCS#8 uses PBES2, PBKDF2-HMAC-SHA256 with 600000 iterations by default, AES-256-CBC, a 16-byte salt', async () => {
    const key = await parsePrivateKey(dir.text('ec256.key'));
    const pem = await encodePrivateKeyPEM(key, { passphrase: PW });
    dir.write('default-iter.pem', pem);
    const parsed = dir.openssl(['asn1parse', '-in', 'default-iter.pem']).toString();
    assert.match(parsed, /:PBES2/);
    assert.match(parsed, /:PBKDF2/);
    assert.match(parsed, /:hmacWithSHA256/);
    assert.match(parsed, /:aes-256-cbc/);
    assert.match(parsed, /INTEGER\s+:0927C0/); // 600000
    assert.match(parsed, /prim: OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]{32}\n/); // salt
    // openssl decrypts it (the iteration count is checked above; how long that takes depends on the machine)
    assert.deepEqual(opensslPKCS8('default-iter.pem'), opensslPKCS8('ec256.key'));
  });

  it('two encryptions of the same key differ (random salt and IV)', async () => {
    const key = await parsePrivateKey(dir.text('ed.key'));
    const a = await encodePrivateKeyPEM(key, { passphrase: PW, iterations: 1000 });
    const b = await encodePrivateKeyPEM(key, { passphrase: PW, iterations: 1000 });
    assert.notEqual(a, b);
  });

  const errorRows = [
    {
      name: 'Ed25519 as PKCS#1',
      input: { file: 'ed.key', format: 'pkcs1' as const },
      wantCode: 'ERR_KEY_EXPORT',
    },
    {
      name: 'Ed25519 as SEC1',
      input: { file: 'ed.key', format: 'sec1' as const },
      wantCode: 'ERR_KEY_EXPORT',
    },
    { name: 'RSA as SEC1', input: { file: 'rsa.key', format: 'sec1' as const }, wantCode: 'ERR_KEY_EXPORT' },
    {
      name: 'EC as PKCS#1',
      input: { file: 'ec256.key', format: 'pkcs1' as const },
      wantCode: 'ERR_KEY_EXPORT',
    },
  ];
  for (const row of errorRows)
    it(`${row.name} is ${row.wantCode}`, async () => {
      const key = await parsePrivateKey(dir.text(row.input.file));
      await assert.rejects(encodePrivateKeyPEM(key, { format: row.input.format }), (e: unknown) => {
        return e instanceof KeyError && e.code === row.wantCode && /use format 'pkcs8'/.test(e.message);
      });
    });

  it('rejects bad options as programmer errors', async () => {
    const key = await parsePrivateKey(dir.text('ed.key'));
    await assert.rejects(encodePrivateKeyPEM(key, { passphrase: PW, iterations: 0 }), RangeError);
    await assert.rejects(encodePrivateKeyPEM(key, { passphrase: PW, iterations: 1.5 }), RangeError);
    await assert.rejects(encodePrivateKeyPEM(key, { passphrase: PW, iterations: 10_000_001 }), RangeError);
    await assert.rejects(encodePrivateKeyPEM(key, { iterations: 1000 }), RangeError);
    await assert.rejects(encodePrivateKeyPEM(key, { format: 'der' as 'pkcs8' }), RangeError);
    await assert.rejects(encodePrivateKeyPEM({} as PrivateKey), TypeError);
  });
});

function opensslStatusOK(args: string[]): boolean {
  try {
    dir.openssl(args);
    return true;
  } catch {
    return false;
  }
}

describe('key bytes never show', () => {
  for (const file of ['rsa.key', 'ec521.key', 'ed.key', 'rsa-trad.key'])
    it(`${file}: String, JSON.stringify and util.inspect show type, size and fingerprint only`, async () => {
      const key = await parsePrivateKey(dir.text(file));
      const secret = key.exportPKCS8();
      const views = [
        String(key),
        `${key}`,
        JSON.stringify(key),
        JSON.stringify({ nested: { key } }),
        inspect(key),
        inspect(key, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true }),
        inspect({ key }, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
        Object.keys(key).join(','),
      ];
      for (const v of views) assertNoKeyBytes(v, secret, 'view');
      assert.match(String(key), /^PrivateKey\((RSA 2048|EC P-521|Ed25519), SHA256:[A-Za-z0-9+/]{43}=\)$/);
      assert.equal(JSON.parse(JSON.stringify(key)).spkiSha256, key.publicKey.fingerprint().sha256Hex);
      assert.equal(inspect(key), String(key));
    });

  it('exportPKCS8 returns a copy that does not alias the key', async () => {
    const key = await parsePrivateKey(dir.text('ed.key'));
    const a = key.exportPKCS8();
    a.fill(0);
    assert.notDeepEqual(key.exportPKCS8(), a);
    assert.ok(Object.isFrozen(key));
  });

  it('a PrivateKey cannot be constructed directly', async () => {
    const key = await parsePrivateKey(dir.text('ed.key'));
    const Ctor = PrivateKey as unknown as new (...args: unknown[]) => PrivateKey;
    assert.throws(() => new Ctor(Symbol('mailtls.PrivateKey'), {}, key.publicKey), TypeError);
  });
});

describe('mutated keys fail cleanly and fast (property)', () => {
  type Case = { name: string; bytes: () => Uint8Array; parse: (b: Uint8Array) => Promise<unknown> };
  let cases: Case[] = [];
  before(async () => {
    // small iteration counts so that a mutated count stays cheap (the readers cap counts, see key-encryption)
    const fast = ['-iter', '16', '-outform', 'DER'];
    dir.openssl(encrypting(P8, 'ec256.key', ['-v2', 'aes-128-cbc', ...fast], 'f-pbes2.der'));
    dir.openssl(encrypting(P8, 'ec256.key', ['-v2', 'des3', ...fast], 'f-des3.der'));
    dir.openssl(encrypting(P8, 'ed.key', ['-v1', 'PBE-SHA1-3DES', ...fast], 'f-pbe1.der'));
    dir.openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'ed.key', '-outform', 'DER', '-out', 'f-ed.der']);
    const der = (f: string) => () => new Uint8Array(dir.read(f));
    const pem = (f: string) => () => new Uint8Array(dir.read(f));
    const asText = (b: Uint8Array) => new TextDecoder().decode(b);
    cases = [
      { name: 'PKCS#8 RSA DER', bytes: der('rsa-p8.der'), parse: (b) => parsePrivateKeyDER(b) },
      {
        name: 'PKCS#1 DER',
        bytes: der('rsa-pkcs1.der'),
        parse: (b) => parsePrivateKeyDER(b, { format: 'pkcs1' }),
      },
      {
        name: 'SEC1 DER',
        bytes: der('ec-sec1.der'),
        parse: (b) => parsePrivateKeyDER(b, { format: 'sec1' }),
      },
      { name: 'Ed25519 PKCS#8 DER', bytes: der('f-ed.der'), parse: (b) => parsePrivateKeyDER(b) },
      {
        name: 'PBES2 AES DER',
        bytes: der('f-pbes2.der'),
        parse: (b) => parsePrivateKeyDER(b, { format: 'encrypted-pkcs8', passphrase: PW }),
      },
      {
        name: 'PBES2 3DES DER',
        bytes: der('f-des3.der'),
        parse: (b) => parsePrivateKeyDER(b, { format: 'encrypted-pkcs8', passphrase: PW }),
      },
      {
        name: 'PBES1 3DES DER',
        bytes: der('f-pbe1.der'),
        parse: (b) => parsePrivateKeyDER(b, { format: 'encrypted-pkcs8', passphrase: PW }),
      },
      { name: 'SEC1 PEM', bytes: pem('ec384-sec1.key'), parse: (b) => parsePrivateKey(asText(b)) },
      {
        name: 'legacy 3DES PEM',
        bytes: pem('leg-ec-des3.key'),
        parse: (b) => parsePrivateKey(asText(b), { passphrase: PW }),
      },
      {
        name: 'legacy AES PEM',
        bytes: pem('leg-ec-aes192.key'),
        parse: (b) => parsePrivateKey(asText(b), { passphrase: PW }),
      },
    ];
  });

  it('every fixture parses unmutated', async () => {
    for (const c of cases) await c.parse(c.bytes());
  });

  it('random byte changes and truncations throw only MailTlsError, each within 100 ms', async () => {
    let slowest = 0;
    for (const c of cases) {
      const original = c.bytes();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.option(fc.nat(original.length), { nil: undefined }),
          async (edits, cut) => {
            const b = original.slice(0, cut ?? original.length);
            for (const [i, v] of edits) if (i < b.length) b[i] = v;
            try {
              await c.parse(b);
            } catch (e) {
              if (!(e instanceof MailTlsError)) throw new Error(`${c.name}: ${String(e)}`);
            }
            const ms = await timeOrRetime(() => c.parse(b).catch(() => undefined), 100);
            slowest = Math.max(slowest, ms);
            assert.ok(ms < 100, `${c.name} took ${ms.toFixed(1)} ms`);
          },
        ),
        { numRuns: fuzzRuns(60) },
      );
    }
    assert.ok(slowest < 100);
  });
});
