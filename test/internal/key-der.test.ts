/**
 * DER key structures: curve constants against `openssl ecparam -param_enc explicit -text`, point validation
 * and decompression against WebCrypto keys, and PKCS#1/SEC1 wrapping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyError } from '../../src/errors.js';
import { canonicalPoint, curveByName, curveByOID } from '../../src/internal/keys/key-der.js';
import { openssl } from '../helpers/key-fixtures.js';

const bigHex = (text: string, field: string): bigint => {
  const m = new RegExp(`${field}:\\s*\\n((?:\\s+[0-9a-f:]+\\n)+)`).exec(text);
  return BigInt(`0x${m![1]!.replace(/[\s:]/g, '')}`);
};

describe('curve constants', () => {
  const rows = [
    { name: 'P-256', input: 'prime256v1' },
    { name: 'P-384', input: 'secp384r1' },
    { name: 'P-521', input: 'secp521r1' },
  ] as const;
  for (const row of rows)
    it(`${row.name} prime and b equal what openssl prints`, () => {
      const text = openssl([
        'ecparam',
        '-name',
        row.input,
        '-param_enc',
        'explicit',
        '-text',
        '-noout',
      ]).toString();
      const c = curveByName(row.name);
      assert.equal(c.p, bigHex(text, 'Prime'));
      assert.equal(c.b, bigHex(text, 'B'));
      assert.equal(curveByOID(c.oid).name, row.name);
    });

  it('unknown curve OIDs are ERR_KEY_UNSUPPORTED', () => {
    assert.throws(
      () => curveByOID('1.3.132.0.10'),
      (e: unknown) => e instanceof KeyError && /secp256k1/.test(e.message),
    );
    assert.throws(
      () => curveByOID('1.2.3.4'),
      (e: unknown) => e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED',
    );
  });
});

describe('canonicalPoint', () => {
  for (const name of ['P-256', 'P-384', 'P-521'] as const)
    it(`${name}: WebCrypto points are on the curve and decompress to themselves`, async () => {
      const c = curveByName(name);
      for (let i = 0; i < 8; i++) {
        const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: name }, true, [
          'sign',
        ])) as CryptoKeyPair;
        const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
        assert.equal(canonicalPoint(c, raw, 'test'), raw);
        const y = raw.subarray(1 + c.size);
        const compressed = Uint8Array.from([2 + (y[y.length - 1]! & 1), ...raw.subarray(1, 1 + c.size)]);
        assert.deepEqual(canonicalPoint(c, compressed, 'test'), raw);
        const flipped = Uint8Array.from([compressed[0]! ^ 1, ...compressed.subarray(1)]);
        assert.notDeepEqual(canonicalPoint(c, flipped, 'test'), raw);
      }
    });
});
