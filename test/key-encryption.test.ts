/**
 * Password-based key encryption: scheme parameters read from openssl output, EVP_BytesToKey against
 * `openssl enc -P`, iteration caps, structural errors, and the property that every wrong pass phrase is
 * ERR_KEY_PASSPHRASE (never a bare WebCrypto OperationError).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyError } from '../src/errors.js';
import {
  DerReader,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDer,
  rawOf,
} from '../src/internal/encoding/der.js';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  decryptLegacyPEM,
  decryptPBE,
  decryptPKCS8,
  encryptPBES2,
  evpBytesToKey,
  MAX_PBKDF2_ITERATIONS,
  MAX_PKCS12_KDF_ITERATIONS,
  parsePBEAlgorithm,
} from '../src/keys/key-encryption.js';
import { parsePrivateKey, parsePrivateKeyDER } from '../src/keys/private-key.js';
import { fuzzRuns, TempDir } from './helpers/key-fixtures.js';

const PW = 'pw';
let dir: TempDir;

before(() => {
  dir = new TempDir();
  dir.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key']);
  const p8 = (name: string, ...args: string[]) =>
    dir.openssl([
      'pkcs8',
      '-topk8',
      '-in',
      'ec.key',
      '-passout',
      `pass:${PW}`,
      '-outform',
      'DER',
      '-out',
      name,
      ...args,
    ]);
  p8('aes128-sha1.der', '-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA1', '-iter', '1234');
  p8('aes192-sha256.der', '-v2', 'aes-192-cbc', '-v2prf', 'hmacWithSHA256', '-iter', '2048');
  p8('aes256-sha384.der', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA384', '-iter', '10');
  p8('aes256-sha512.der', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA512', '-iter', '1');
  p8('des3.der', '-v2', 'des3', '-iter', '3000');
  p8('pbe1.der', '-v1', 'PBE-SHA1-3DES', '-iter', '777');
  p8('fuzz-aes.der', '-v2', 'aes-128-cbc', '-iter', '8');
  p8('fuzz-pbe1.der', '-v1', 'PBE-SHA1-3DES', '-iter', '8');
  dir.openssl(['ec', '-in', 'ec.key', '-aes256', '-passout', `pass:${PW}`, '-out', 'legacy.key']);
});
after(() => dir.cleanup());

/** The AlgorithmIdentifier element of a DER EncryptedPrivateKeyInfo. */
function algorithmOf(der: Uint8Array): Uint8Array {
  return rawOf(DerReader.of(parseDer(der)).next());
}

describe('parsePBEAlgorithm reads the schemes openssl writes', () => {
  const rows = [
    {
      name: 'PBES2 AES-128-CBC HMAC-SHA1',
      input: 'aes128-sha1.der',
      want: { kind: 'pbes2', hash: 'SHA-1', cipher: 'AES-CBC', keyLength: 16, iterations: 1234, iv: 16 },
    },
    {
      name: 'PBES2 AES-192-CBC HMAC-SHA256',
      input: 'aes192-sha256.der',
      want: { kind: 'pbes2', hash: 'SHA-256', cipher: 'AES-CBC', keyLength: 24, iterations: 2048, iv: 16 },
    },
    {
      name: 'PBES2 AES-256-CBC HMAC-SHA384',
      input: 'aes256-sha384.der',
      want: { kind: 'pbes2', hash: 'SHA-384', cipher: 'AES-CBC', keyLength: 32, iterations: 10, iv: 16 },
    },
    {
      name: 'PBES2 AES-256-CBC HMAC-SHA512',
      input: 'aes256-sha512.der',
      want: { kind: 'pbes2', hash: 'SHA-512', cipher: 'AES-CBC', keyLength: 32, iterations: 1, iv: 16 },
    },
    {
      name: 'PBES2 DES-EDE3-CBC',
      input: 'des3.der',
      want: {
        kind: 'pbes2',
        hash: 'SHA-256',
        cipher: 'DES-EDE3-CBC',
        keyLength: 24,
        iterations: 3000,
        iv: 8,
      },
    },
    {
      name: 'PBES1 pbeWithSHAAnd3-KeyTripleDES-CBC',
      input: 'pbe1.der',
      want: { kind: 'pkcs12-3des', iterations: 777 },
    },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const der = new Uint8Array(dir.read(row.input));
      const s = parsePBEAlgorithm(algorithmOf(der));
      assert.equal(s.kind, row.want.kind);
      assert.equal(s.iterations, row.want.iterations);
      if (s.kind === 'pbes2') {
        assert.equal(s.hash, row.want.hash);
        assert.equal(s.cipher, row.want.cipher);
        assert.equal(s.keyLength, row.want.keyLength);
        assert.equal(s.iv.length, row.want.iv);
      }
      const key = await parsePrivateKeyDER(der, { format: 'encrypted-pkcs8', passphrase: PW });
      assert.equal(key.curve, 'P-256');
    });

  it('encryptPBES2 writes PBKDF2-HMAC-SHA256 / AES-256-CBC with 600000 iterations by default', async () => {
    assert.equal(DEFAULT_PBKDF2_ITERATIONS, 600_000);
    const { algorithm, ciphertext } = await encryptPBES2(
      new TextEncoder().encode('data'),
      new TextEncoder().encode(PW),
      {
        iterations: 5,
      },
    );
    const s = parsePBEAlgorithm(algorithm);
    assert.deepEqual(
      { ...s, salt: s.salt.length, iv: (s as { iv: Uint8Array }).iv.length },
      {
        kind: 'pbes2',
        salt: 16,
        iterations: 5,
        hash: 'SHA-256',
        cipher: 'AES-CBC',
        keyLength: 32,
        iv: 16,
      },
    );
    const plain = await decryptPBE(s, ciphertext, new TextEncoder().encode(PW));
    assert.equal(new TextDecoder().decode(plain), 'data');
    // wrong pass phrase: padding check fails (or, rarely, garbage comes back)
    const wrong = await decryptPBE(s, ciphertext, new TextEncoder().encode('nope'));
    assert.ok(wrong === undefined || new TextDecoder().decode(wrong) !== 'data');
  });
});

describe('EVP_BytesToKey (legacy PEM) matches openssl enc -P', () => {
  const rows = [
    {
      name: 'AES-256-CBC',
      input: { cipher: '-aes-256-cbc', pass: 'secret', salt: '0102030405060708' },
      want: { key: 32, iv: 16 },
    },
    {
      name: 'AES-128-CBC',
      input: { cipher: '-aes-128-cbc', pass: 'p', salt: 'A1B2C3D4E5F60718' },
      want: { key: 16, iv: 16 },
    },
    {
      name: 'DES-EDE3-CBC',
      input: { cipher: '-des-ede3-cbc', pass: 'pässwörd', salt: 'FFFFFFFFFFFFFFFF' },
      want: { key: 24, iv: 8 },
    },
    {
      name: 'empty pass phrase',
      input: { cipher: '-aes-192-cbc', pass: '', salt: '0000000000000000' },
      want: { key: 24, iv: 16 },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const out = dir
        .openssl([
          'enc',
          row.input.cipher,
          '-md',
          'md5',
          '-S',
          row.input.salt,
          '-pass',
          `pass:${row.input.pass}`,
          '-P',
        ])
        .toString();
      const key = /key=([0-9A-F]+)/.exec(out)![1]!;
      const iv = /iv\s*=([0-9A-F]+)/.exec(out)![1]!;
      const derived = evpBytesToKey(
        new TextEncoder().encode(row.input.pass),
        Buffer.from(row.input.salt, 'hex'),
        row.want.key + row.want.iv,
      );
      assert.equal(Buffer.from(derived.subarray(0, row.want.key)).toString('hex').toUpperCase(), key);
      // OpenSSL's IV continues the same byte stream (PEM uses the DEK-Info IV instead)
      assert.equal(Buffer.from(derived.subarray(row.want.key)).toString('hex').toUpperCase(), iv);
    });
});

/** An EncryptedPrivateKeyInfo with a PBES2 header of our choosing around 32 zero bytes. */
function pbes2(opts: {
  iterations: number | Uint8Array;
  keyLength?: number;
  ivLength?: number;
  cipher?: string;
  prf?: string;
}): Uint8Array {
  const iter = opts.iterations instanceof Uint8Array ? opts.iterations : encodeInteger(opts.iterations);
  const kdfParams = [encodeOctetString(new Uint8Array(8)), iter];
  if (opts.keyLength !== undefined) kdfParams.push(encodeInteger(opts.keyLength));
  if (opts.prf !== undefined) kdfParams.push(encodeSequence(encodeOID(opts.prf)));
  const alg = encodeSequence(
    encodeOID('1.2.840.113549.1.5.13'),
    encodeSequence(
      encodeSequence(encodeOID('1.2.840.113549.1.5.12'), encodeSequence(...kdfParams)),
      encodeSequence(
        encodeOID(opts.cipher ?? '2.16.840.1.101.3.4.1.42'),
        encodeOctetString(new Uint8Array(opts.ivLength ?? 16)),
      ),
    ),
  );
  return encodeSequence(alg, encodeOctetString(new Uint8Array(32)));
}

function pkcs12PBE(iterations: number): Uint8Array {
  const alg = encodeSequence(
    encodeOID('1.2.840.113549.1.12.1.3'),
    encodeSequence(encodeOctetString(new Uint8Array(8)), encodeInteger(iterations)),
  );
  return encodeSequence(alg, encodeOctetString(new Uint8Array(32)));
}

describe('iteration caps and structural errors', () => {
  const rows: Array<{ name: string; input: () => Uint8Array; wantCode: string; want: RegExp }> = [
    {
      name: `PBKDF2 above ${MAX_PBKDF2_ITERATIONS}`,
      input: () => pbes2({ iterations: MAX_PBKDF2_ITERATIONS + 1 }),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /above 10,000,000/,
    },
    {
      name: 'PBKDF2 count of 2^40',
      input: () => pbes2({ iterations: 2 ** 40 }),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /iteration count/,
    },
    {
      name: 'PBKDF2 count of 2^70',
      input: () => pbes2({ iterations: Uint8Array.of(2, 9, 0x40, 0, 0, 0, 0, 0, 0, 0, 0) }),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /iteration count/,
    },
    {
      name: `PKCS#12 KDF above ${MAX_PKCS12_KDF_ITERATIONS}`,
      input: () => pkcs12PBE(MAX_PKCS12_KDF_ITERATIONS + 1),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /above 100,000/,
    },
    {
      name: 'zero iterations',
      input: () => pbes2({ iterations: 0 }),
      wantCode: 'ERR_KEY_INVALID',
      want: /iteration count is zero/,
    },
    {
      name: 'negative iterations',
      input: () => pbes2({ iterations: Uint8Array.of(2, 1, 0xff) }),
      wantCode: 'ERR_KEY_INVALID',
      want: /negative/,
    },
    {
      name: 'key length that does not fit AES-256',
      input: () => pbes2({ iterations: 1, keyLength: 16 }),
      wantCode: 'ERR_KEY_INVALID',
      want: /key length 16/,
    },
    {
      name: 'IV of 8 bytes for AES',
      input: () => pbes2({ iterations: 1, ivLength: 8 }),
      wantCode: 'ERR_KEY_INVALID',
      want: /IV has 8 bytes, expected 16/,
    },
    {
      name: 'AES-GCM',
      input: () => pbes2({ iterations: 1, cipher: '2.16.840.1.101.3.4.1.46' }),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /cipher 2\.16\.840\.1\.101\.3\.4\.1\.46/,
    },
    {
      name: 'PRF HMAC-SHA224',
      input: () => pbes2({ iterations: 1, prf: '1.2.840.113549.2.8' }),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /SHA224/,
    },
    {
      name: 'ciphertext not whole blocks',
      input: () => {
        const d = pbes2({ iterations: 1 });
        return encodeSequence(algorithmOf(d), encodeOctetString(new Uint8Array(20)));
      },
      wantCode: 'ERR_KEY_INVALID',
      want: /20 bytes.*16-byte blocks/,
    },
  ];
  for (const row of rows)
    it(`${row.name} is ${row.wantCode}, without running the KDF`, async () => {
      // CPU time of this process (all threads, WebCrypto's too), not wall time, which other processes stretch:
      // the refused PBKDF2 would take seconds, the PKCS#12 KDF with 100,001 rounds about 70 ms.
      // The least of three runs: a first call's compilation or a garbage collection can cost a few ms once,
      // while a KDF that ran would cost its full time in every run.
      let least = Number.POSITIVE_INFINITY;
      for (let run = 0; run < 3; run++) {
        const t = process.cpuUsage();
        await assert.rejects(decryptPKCS8(row.input(), PW), (e: unknown) => {
          assert.ok(e instanceof KeyError, String(e));
          assert.equal(e.code, row.wantCode);
          assert.match(e.message, row.want);
          return true;
        });
        const used = process.cpuUsage(t);
        least = Math.min(least, used.user + used.system);
      }
      assert.ok(least < 40_000, `${least / 1000} ms of CPU`);
    });

  it('the largest accepted PBKDF2 count is read (not run) without complaint', () => {
    const s = parsePBEAlgorithm(algorithmOf(pbes2({ iterations: MAX_PBKDF2_ITERATIONS })));
    assert.equal(s.iterations, MAX_PBKDF2_ITERATIONS);
  });

  it('legacy PEM: missing DEK-Info, unknown cipher, bad IV', async () => {
    const body = new Uint8Array(32);
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ 'Proc-Type': '4,ENCRYPTED' }, 'ERR_KEY_INVALID', /no DEK-Info/],
      [
        { 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'CAMELLIA-256-CBC,00112233445566778899AABBCCDDEEFF' },
        'ERR_KEY_UNSUPPORTED',
        /CAMELLIA-256-CBC/,
      ],
      [{ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,XYZ' }, 'ERR_KEY_INVALID', /CIPHER,HEXIV/],
      [{ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,0011223' }, 'ERR_KEY_INVALID', /CIPHER,HEXIV/],
    ];
    for (const [headers, code, re] of cases)
      await assert.rejects(
        decryptLegacyPEM(body, headers, PW),
        (e: unknown) => e instanceof KeyError && e.code === code && re.test(e.message),
      );
  });
});

describe('every wrong pass phrase is ERR_KEY_PASSPHRASE (property)', () => {
  const runs = fuzzRuns(25);
  const wrong = fc.string({ minLength: 0, maxLength: 12 }).filter((s) => s !== PW);
  const check = async (p: Promise<unknown>) => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof KeyError, `not a KeyError: ${String(e)}`);
      assert.equal(e.code, 'ERR_KEY_PASSPHRASE');
      return true;
    });
  };

  it('PBES2 AES-CBC', async () => {
    const der = new Uint8Array(dir.read('fuzz-aes.der'));
    await fc.assert(
      fc.asyncProperty(wrong, (p) => check(decryptPKCS8(der, p))),
      { numRuns: runs },
    );
  });
  it('PBES1 PKCS#12 3DES', async () => {
    const der = new Uint8Array(dir.read('fuzz-pbe1.der'));
    await fc.assert(
      fc.asyncProperty(wrong, (p) => check(decryptPKCS8(der, p))),
      { numRuns: runs },
    );
  });
  it('legacy PEM AES-256-CBC', async () => {
    const pem = dir.text('legacy.key');
    await fc.assert(
      fc.asyncProperty(wrong, (p) => check(parsePrivateKey(pem, { passphrase: p }))),
      { numRuns: runs },
    );
  });
  it('PBES2 DES-EDE3-CBC with binary pass phrases', async () => {
    const der = new Uint8Array(dir.read('des3.der'));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 8 }), (p) => check(decryptPKCS8(der, p))),
      { numRuns: Math.min(runs, 10) },
    );
  });
});
