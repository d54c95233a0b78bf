/**
 * Public keys: SPKI and PKCS#1 from the openssl CLI, fingerprints equal to `openssl ... | openssl dgst -sha256`,
 * RSA-PSS and compressed EC points, unsupported algorithms, malformed SPKI, and mutation properties.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodePEM, parsePEM } from '../src/encoding/pem.js';
import { KeyError, MailTlsError, PEMError } from '../src/errors.js';
import { encodeBitString, encodeNull, encodeOID, encodeSequence } from '../src/internal/encoding/der.js';
import { PublicKey } from '../src/keys/keys.js';
import { encodePublicKeyPEM, parsePublicKey, parsePublicKeyDER } from '../src/keys/public-key.js';
import { fuzzRuns, TempDir } from './helpers/key-fixtures.js';
import { cpuStopwatch } from './helpers/timing.js';

let dir: TempDir;

const FIXTURES: ReadonlyArray<readonly string[]> = [
  ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key'],
  [
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-pkeyopt',
    'rsa_keygen_pubexp:3',
    '-out',
    'rsa-e3.key',
  ],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec256.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'ec384.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', 'ec521.key'],
  ['genpkey', '-algorithm', 'ED25519', '-out', 'ed.key'],
  ['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'pss.key'],
  ['genpkey', '-algorithm', 'X25519', '-out', 'x25519.key'],
  ['genpkey', '-algorithm', 'ED448', '-out', 'ed448.key'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', 'k1.key'],
  ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', 'dsaparam.pem'],
  ['genpkey', '-paramfile', 'dsaparam.pem', '-out', 'dsa.key'],
];
const PUBLIC = ['rsa', 'rsa-e3', 'ec256', 'ec384', 'ec521', 'ed', 'pss', 'x25519', 'ed448', 'k1', 'dsa'];

before(() => {
  dir = new TempDir();
  for (const cmd of FIXTURES) dir.openssl(cmd);
  for (const name of PUBLIC) {
    dir.openssl(['pkey', '-in', `${name}.key`, '-pubout', '-out', `${name}.pub`]);
    dir.openssl(['pkey', '-in', `${name}.key`, '-pubout', '-outform', 'DER', '-out', `${name}.pub.der`]);
  }
  dir.openssl(['rsa', '-in', 'rsa.key', '-RSAPublicKey_out', '-out', 'rsa-pkcs1.pub']);
  dir.openssl(['rsa', '-pubin', '-in', 'pss.pub', '-RSAPublicKey_out', '-out', 'pss-pkcs1.pub']);
  for (const c of ['ec256', 'ec384', 'ec521'])
    dir.openssl([
      'ec',
      '-in',
      `${c}.key`,
      '-pubout',
      '-conv_form',
      'compressed',
      '-out',
      `${c}-compressed.pub`,
    ]);
});
after(() => dir.cleanup());

const der = (name: string) => new Uint8Array(dir.read(name));

describe('parsePublicKey reads what openssl writes', () => {
  const rows: Array<{
    name: string;
    input: string;
    want: { describe: string; bits?: number; curve?: string; same: string };
  }> = [
    {
      name: 'RSA 2048 SPKI',
      input: 'rsa.pub',
      want: { describe: 'RSA 2048', bits: 2048, same: 'rsa.pub.der' },
    },
    {
      name: 'RSA 2048 e=3',
      input: 'rsa-e3.pub',
      want: { describe: 'RSA 2048', bits: 2048, same: 'rsa-e3.pub.der' },
    },
    {
      name: 'RSA PUBLIC KEY (PKCS#1)',
      input: 'rsa-pkcs1.pub',
      want: { describe: 'RSA 2048', bits: 2048, same: 'rsa.pub.der' },
    },
    {
      name: 'EC P-256',
      input: 'ec256.pub',
      want: { describe: 'EC P-256', curve: 'P-256', same: 'ec256.pub.der' },
    },
    {
      name: 'EC P-384',
      input: 'ec384.pub',
      want: { describe: 'EC P-384', curve: 'P-384', same: 'ec384.pub.der' },
    },
    {
      name: 'EC P-521',
      input: 'ec521.pub',
      want: { describe: 'EC P-521', curve: 'P-521', same: 'ec521.pub.der' },
    },
    { name: 'Ed25519', input: 'ed.pub', want: { describe: 'Ed25519', same: 'ed.pub.der' } },
    {
      name: 'RSA-PSS SPKI',
      input: 'pss.pub',
      want: { describe: 'RSA 2048 (RSA-PSS)', bits: 2048, same: 'pss.pub.der' },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const key = parsePublicKey(dir.text(row.input));
      assert.equal(key.describe(), row.want.describe);
      assert.equal(key.bits, row.want.bits);
      assert.equal(key.curve, row.want.curve);
      assert.deepEqual(Buffer.from(key.spki), dir.read(row.want.same));
      assert.deepEqual(Buffer.from(parsePublicKeyDER(der(row.want.same)).spki), dir.read(row.want.same));
      // PEM written here is what openssl writes (PKCS#1 input comes out as SPKI)
      assert.equal(encodePublicKeyPEM(key), dir.text(row.want.same.replace('.der', '')));
    });

  it('notes that an RSA-PSS key is restricted, and equals the same modulus as rsaEncryption', async () => {
    const pss = parsePublicKey(dir.text('pss.pub'));
    assert.equal(pss.type, 'rsa');
    assert.match(pss.note ?? '', /RSA-PSS/);
    assert.equal(parsePublicKey(dir.text('rsa.pub')).note, undefined);
    // openssl labels the PKCS#1 form of an RSA-PSS key "RSA-PSS PUBLIC KEY"; the bytes are a plain RSAPublicKey
    const pkcs1 = parsePEM(dir.text('pss-pkcs1.pub'))[0]!;
    assert.equal(pkcs1.label, 'RSA-PSS PUBLIC KEY');
    const plain = parsePublicKey(encodePEM('RSA PUBLIC KEY', pkcs1.bytes));
    assert.ok(pss.equals(plain));
    assert.notDeepEqual(pss.spki, plain.spki);
    const ck = await pss.importCryptoKey();
    assert.equal(ck.algorithm.name, 'RSA-PSS');
  });

  for (const c of ['ec256', 'ec384', 'ec521'])
    it(`${c}: a compressed point equals the uncompressed key and still imports`, async () => {
      const compressed = parsePublicKey(dir.text(`${c}-compressed.pub`));
      const full = parsePublicKey(dir.text(`${c}.pub`));
      assert.ok(compressed.equals(full));
      assert.ok(full.equals(compressed));
      // the SPKI (and so the fingerprint) stays the bytes that were read
      assert.notEqual(compressed.fingerprint().sha256Hex, full.fingerprint().sha256Hex);
      const ck = await compressed.importCryptoKey();
      assert.equal((ck.algorithm as EcKeyAlgorithm).namedCurve, full.curve);
    });
});

describe('fingerprints equal openssl dgst of the DER SPKI', () => {
  for (const name of ['rsa', 'ec256', 'ec384', 'ec521', 'ed', 'pss'])
    it(name, () => {
      const spki = dir.openssl(['pkey', '-in', `${name}.key`, '-pubout', '-outform', 'DER']);
      const hex = /= ([0-9a-f]{64})/.exec(dir.openssl(['dgst', '-sha256'], spki).toString())![1];
      const b64 = dir
        .openssl(['base64', '-A'], dir.openssl(['dgst', '-sha256', '-binary'], spki))
        .toString()
        .trim();
      const fp = parsePublicKey(dir.text(`${name}.pub`)).fingerprint();
      assert.equal(fp.sha256Hex, hex);
      assert.equal(fp.sha256Base64, b64);
    });
});

describe('unsupported algorithms are ERR_KEY_UNSUPPORTED', () => {
  const rows = [
    { name: 'X25519', input: 'x25519.pub', want: /X25519/ },
    { name: 'Ed448', input: 'ed448.pub', want: /Ed448/ },
    { name: 'DSA', input: 'dsa.pub', want: /DSA/ },
    { name: 'secp256k1', input: 'k1.pub', want: /secp256k1/ },
  ];
  for (const row of rows)
    it(row.name, () => {
      assert.throws(
        () => parsePublicKey(dir.text(row.input)),
        (e: unknown) => e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED' && row.want.test(e.message),
      );
    });
});

describe('malformed SPKI is ERR_KEY_INVALID saying what broke', () => {
  const edit = (file: string, fn: (b: Uint8Array) => void) => () => {
    const b = der(file);
    fn(b);
    return b;
  };
  const rows: Array<{ name: string; input: () => Uint8Array; wantCode: string; want: RegExp }> = [
    { name: 'empty', input: () => new Uint8Array(0), wantCode: 'ERR_KEY_INVALID', want: /unexpected end/ },
    {
      name: 'trailing byte',
      input: () => Uint8Array.from([...der('ed.pub.der'), 0]),
      wantCode: 'ERR_KEY_INVALID',
      want: /trailing/,
    },
    {
      name: 'off-curve P-256 point',
      input: edit('ec256.pub.der', (b) => {
        b[b.length - 1]! ^= 1;
      }),
      wantCode: 'ERR_KEY_INVALID',
      want: /not on P-256/,
    },
    {
      name: 'off-curve P-521 point',
      input: edit('ec521.pub.der', (b) => {
        b[b.length - 1]! ^= 1;
      }),
      wantCode: 'ERR_KEY_INVALID',
      want: /not on P-521/,
    },
    {
      name: 'compressed point with x >= p',
      input: () =>
        spki(
          '1.2.840.10045.2.1',
          encodeOID('1.2.840.10045.3.1.7'),
          Uint8Array.from([2, ...new Uint8Array(32).fill(0xff)]),
        ),
      wantCode: 'ERR_KEY_INVALID',
      want: /not on P-256/,
    },
    {
      name: 'point of the wrong length',
      input: () =>
        spki(
          '1.2.840.10045.2.1',
          encodeOID('1.2.840.10045.3.1.7'),
          Uint8Array.from([4, ...new Uint8Array(48)]),
        ),
      wantCode: 'ERR_KEY_INVALID',
      want: /65 bytes, found 49/,
    },
    {
      name: 'point at infinity',
      input: () => spki('1.2.840.10045.2.1', encodeOID('1.2.840.10045.3.1.7'), Uint8Array.of(0)),
      wantCode: 'ERR_KEY_INVALID',
      want: /neither compressed nor uncompressed/,
    },
    {
      name: 'even RSA modulus',
      input: edit('rsa.pub.der', (b) => {
        b[b.length - 6]! &= 0xfe;
      }),
      wantCode: 'ERR_KEY_INVALID',
      want: /modulus is even/,
    },
    {
      name: 'even RSA exponent',
      input: edit('rsa.pub.der', (b) => {
        b[b.length - 1] = 0;
      }),
      wantCode: 'ERR_KEY_INVALID',
      want: /exponent/,
    },
    {
      name: 'rsaEncryption with non-NULL parameters',
      input: () => {
        const ok = parsePublicKey(dir.text('rsa.pub')).spki;
        return encodeSequence(
          encodeSequence(encodeOID('1.2.840.113549.1.1.1'), encodeOID('1.2.3')),
          ...restAfterAlgorithm(ok),
        );
      },
      wantCode: 'ERR_KEY_INVALID',
      want: /parameters must be NULL/,
    },
    {
      name: 'Ed25519 of 31 bytes',
      input: () => spki('1.3.101.112', undefined, new Uint8Array(31)),
      wantCode: 'ERR_KEY_INVALID',
      want: /32 bytes, found 31/,
    },
    {
      name: 'Ed25519 with parameters',
      input: () => spki('1.3.101.112', encodeNull(), new Uint8Array(32)),
      wantCode: 'ERR_KEY_INVALID',
      want: /no algorithm parameters/,
    },
    {
      name: 'EC with explicit curve parameters',
      input: () => spki('1.2.840.10045.2.1', encodeSequence(encodeOID('1.2.3')), new Uint8Array(65)),
      wantCode: 'ERR_KEY_UNSUPPORTED',
      want: /explicit curve parameters/,
    },
    {
      name: 'BIT STRING with unused bits',
      input: edit('ed.pub.der', (b) => {
        b[11] = 1;
      }),
      wantCode: 'ERR_KEY_INVALID',
      want: /unused bits|padding/,
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      assert.throws(
        () => parsePublicKeyDER(row.input()),
        (e: unknown) => {
          assert.ok(e instanceof KeyError, String(e));
          assert.equal(e.code, row.wantCode);
          assert.match(e.message, row.want);
          return true;
        },
      );
    });

  it('PEM errors name what was found', () => {
    assert.throws(
      () => parsePublicKey('nothing'),
      (e: unknown) => e instanceof PEMError && e.code === 'ERR_PEM_NO_BLOCK',
    );
    const cert = dir
      .openssl(['req', '-x509', '-key', 'ec256.key', '-subj', '/CN=x', '-days', '1'])
      .toString();
    assert.throws(
      () => parsePublicKey(cert),
      (e: unknown) =>
        e instanceof PEMError && e.code === 'ERR_PEM_UNEXPECTED_LABEL' && /certificate/.test(e.message),
    );
    assert.throws(
      () => parsePublicKey(dir.text('ec256.key')),
      (e: unknown) => e instanceof PEMError && /parsePrivateKey/.test(e.message),
    );
  });

  it('rejects wrong argument types with TypeError', () => {
    assert.throws(() => parsePublicKeyDER('x' as unknown as Uint8Array), TypeError);
    assert.throws(() => parsePublicKey(new Uint8Array(1) as unknown as string), TypeError);
    assert.throws(() => encodePublicKeyPEM({} as PublicKey), TypeError);
  });
});

function spki(oid: string, params: Uint8Array | undefined, key: Uint8Array): Uint8Array {
  const alg = params === undefined ? encodeSequence(encodeOID(oid)) : encodeSequence(encodeOID(oid), params);
  return encodeSequence(alg, encodeBitString(key));
}

/** The BIT STRING element of an SPKI (everything after the AlgorithmIdentifier). */
function restAfterAlgorithm(s: Uint8Array): Uint8Array[] {
  // SEQUENCE header (4 bytes for RSA-2048), then AlgorithmIdentifier 30 0d ...
  const algEnd = 4 + 2 + s[5]!;
  return [s.subarray(algEnd)];
}

describe('properties', () => {
  const names = ['rsa', 'ec256', 'ec384', 'ec521', 'ed', 'pss'];

  it('PEM round trip keeps the SPKI bytes', () => {
    for (const n of names) {
      const k = parsePublicKeyDER(der(`${n}.pub.der`));
      const again = parsePublicKey(encodePublicKeyPEM(k));
      assert.deepEqual(again.spki, k.spki);
      assert.ok(again.equals(k));
    }
  });

  it('mutated SPKI (DER and PEM) throws only MailTlsError, each within 100 ms', () => {
    for (const n of names) {
      const original = der(`${n}.pub.der`);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.option(fc.nat(original.length), { nil: undefined }),
          (edits, cut) => {
            const b = original.slice(0, cut ?? original.length);
            for (const [i, v] of edits) if (i < b.length) b[i] = v;
            for (const run of [
              () => parsePublicKeyDER(b),
              () => parsePublicKey(encodePEM('PUBLIC KEY', b.length ? b : Uint8Array.of(0))),
            ]) {
              const elapsed = cpuStopwatch();
              try {
                run();
              } catch (e) {
                if (!(e instanceof MailTlsError)) throw e;
              }
              assert.ok(elapsed() < 100);
            }
          },
        ),
        { numRuns: fuzzRuns(150) },
      );
    }
  });

  it('mutated PEM text throws only MailTlsError', () => {
    const text = dir.text('ec256.pub');
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.string({ minLength: 0, maxLength: 3 }), (i, s) => {
        try {
          parsePublicKey(text.slice(0, i) + s + text.slice(i + 1));
        } catch (e) {
          if (!(e instanceof MailTlsError)) throw e;
        }
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('parsePublicKeyDER is cheap (per-certificate use)', (t) => {
    for (const n of ['rsa', 'ec256', 'ec521', 'ed']) {
      const b = der(`${n}.pub.der`);
      const runs = 2000;
      const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
      for (let i = 0; i < runs; i++) parsePublicKeyDER(b);
      const us = (elapsed() / runs) * 1000;
      t.diagnostic(`parsePublicKeyDER ${n}: ${us.toFixed(1)} us per key`);
      assert.ok(us < 1000, `${n}: ${us} us`);
    }
  });
});

describe('new PublicKey(spki)', () => {
  it('is the same as parsePublicKeyDER', () => {
    const b = der('ec384.pub.der');
    assert.ok(new PublicKey(b).equals(parsePublicKeyDER(b)));
    assert.throws(() => new PublicKey('x' as unknown as Uint8Array), TypeError);
  });
});
