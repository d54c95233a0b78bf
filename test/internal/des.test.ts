/**
 * The pure-TS DES/3DES-CBC against published known answers, node:crypto's des-ede3-cbc and the openssl CLI.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { desCBCDecrypt, desCBCEncrypt } from '../../src/internal/keys/des.js';
import { fuzzRuns, openssl } from '../helpers/key-fixtures.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

describe('DES known answers (first block of CBC with a zero IV = ECB)', () => {
  const rows = [
    {
      name: 'FIPS 81 style textbook vector',
      input: { key: '133457799bbcdff1', plain: '0123456789abcdef' },
      want: '85e813540f0ab405',
    },
    {
      name: 'weak-looking key vector',
      input: { key: '0e329232ea6d0d73', plain: '8787878787878787' },
      want: '0000000000000000',
    },
    {
      name: 'all-zero key and block',
      input: { key: '0000000000000000', plain: '0000000000000000' },
      want: '8ca64de9c1b123a7',
    },
    {
      name: 'all-ones key and block',
      input: { key: 'ffffffffffffffff', plain: 'ffffffffffffffff' },
      want: '7359b2163e4edc58',
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const ct = desCBCEncrypt(hex(row.input.key), new Uint8Array(8), hex(row.input.plain));
      assert.equal(toHex(ct.subarray(0, 8)), row.want);
      assert.equal(toHex(desCBCDecrypt(hex(row.input.key), new Uint8Array(8), ct)), row.input.plain);
    });

  it('3DES with K1 = K2 = K3 is single DES', () => {
    const k = hex('133457799bbcdff1');
    const k3 = new Uint8Array([...k, ...k, ...k]);
    assert.deepEqual(
      desCBCEncrypt(k3, new Uint8Array(8), hex('0123456789abcdef')),
      desCBCEncrypt(k, new Uint8Array(8), hex('0123456789abcdef')),
    );
  });
});

describe('3DES-CBC equals node:crypto des-ede3-cbc (property)', () => {
  it('encrypts to the same bytes and decrypts node output', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ maxLength: 200 }),
        (key, iv, plain) => {
          const c = createCipheriv('des-ede3-cbc', key, iv);
          const want = Buffer.concat([c.update(plain), c.final()]);
          assert.equal(toHex(desCBCEncrypt(key, iv, plain)), want.toString('hex'));
          assert.equal(
            toHex(desCBCDecrypt(key, iv, new Uint8Array(want))),
            Buffer.from(plain).toString('hex'),
          );
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('node decrypts what we encrypt', () => {
    const key = randomBytes(24);
    const iv = randomBytes(8);
    const plain = randomBytes(1000);
    const d = createDecipheriv('des-ede3-cbc', key, iv);
    const back = Buffer.concat([d.update(desCBCEncrypt(key, iv, plain)), d.final()]);
    assert.deepEqual(back, plain);
  });
});

describe('3DES-CBC against the openssl CLI', () => {
  it('decrypts openssl enc -des-ede3-cbc output', () => {
    const key = randomBytes(24);
    const iv = randomBytes(8);
    const plain = randomBytes(333);
    const ct = openssl(['enc', '-des-ede3-cbc', '-K', key.toString('hex'), '-iv', iv.toString('hex')], {
      input: plain,
    });
    assert.deepEqual(Buffer.from(desCBCDecrypt(key, iv, new Uint8Array(ct))!), plain);
    const ours = desCBCEncrypt(key, iv, plain);
    assert.deepEqual(
      openssl(['enc', '-d', '-des-ede3-cbc', '-K', key.toString('hex'), '-iv', iv.toString('hex')], {
        input: ours,
      }),
      plain,
    );
  });
});

describe('padding and argument checks', () => {
  it('returns undefined for bad padding', () => {
    const key = randomBytes(24);
    const iv = randomBytes(8);
    const c = createCipheriv('des-ede3-cbc', key, iv).setAutoPadding(false);
    for (const last of [0, 9, 255]) {
      const block = Buffer.alloc(16, 3);
      block[15] = last;
      const ct = Buffer.concat([c.update(block)]);
      assert.equal(desCBCDecrypt(key, iv, new Uint8Array(ct)), undefined, `pad byte ${last}`);
    }
    const mixed = Buffer.from('0102030405060304', 'hex'); // says 4 bytes of 0x04, but one is 0x03
    const c2 = createCipheriv('des-ede3-cbc', key, iv).setAutoPadding(false);
    assert.equal(desCBCDecrypt(key, iv, new Uint8Array(c2.update(mixed))), undefined);
  });

  it('throws RangeError for bad sizes', () => {
    assert.throws(() => desCBCEncrypt(new Uint8Array(16), new Uint8Array(8), new Uint8Array(1)), RangeError);
    assert.throws(() => desCBCEncrypt(new Uint8Array(24), new Uint8Array(16), new Uint8Array(1)), RangeError);
    assert.throws(() => desCBCDecrypt(new Uint8Array(24), new Uint8Array(8), new Uint8Array(12)), RangeError);
    assert.throws(() => desCBCDecrypt(new Uint8Array(24), new Uint8Array(8), new Uint8Array(0)), RangeError);
  });
});
