/**
 * The PKCS#12 KDF (RFC 7292 B.2) against published vectors and against `openssl kdf PKCS12KDF`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type PKCS12Hash, pkcs12KDF, pkcs12PasswordBytes } from '../../src/internal/pkcs12/kdf.js';
import { fuzzRuns, openssl } from '../helpers/key-fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('pkcs12KDF', () => {
  // Vectors published with the PKCS#12 KDF test data used by OpenSSL and Bouncy Castle ("smeg"/"queeg").
  const rows = [
    {
      name: 'smeg, key, 1 round',
      input: { pw: 'smeg', salt: '0a58cf64530d823f', iter: 1, id: 1, n: 24 },
      want: '8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3',
    },
    {
      name: 'smeg, IV, 1 round',
      input: { pw: 'smeg', salt: '0a58cf64530d823f', iter: 1, id: 2, n: 8 },
      want: '79993dfe048d3b76',
    },
    {
      name: 'queeg, key, 1000 rounds',
      input: { pw: 'queeg', salt: '1682c0fc5b3f7ec5', iter: 1000, id: 1, n: 24 },
      want: '483dd6e919d7de2e8e648ba8f862f3fbfbdc2bcb2c02957f',
    },
    {
      name: 'queeg, IV, 1000 rounds',
      input: { pw: 'queeg', salt: '1682c0fc5b3f7ec5', iter: 1000, id: 2, n: 8 },
      want: '9d461d1b00355c50',
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const out = pkcs12KDF(
        'SHA-1',
        pkcs12PasswordBytes(row.input.pw),
        Buffer.from(row.input.salt, 'hex'),
        row.input.iter,
        row.input.id,
        row.input.n,
      );
      assert.equal(hex(out), row.want);
    });

  it('equals openssl kdf PKCS12KDF for random inputs (property)', () => {
    const hashes: PKCS12Hash[] = ['SHA-1', 'SHA-256', 'SHA-512'];
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.uint8Array({ minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom(...hashes),
        (pw, salt, iter, id, n, hash) => {
          const pass = pkcs12PasswordBytes(pw);
          const out = openssl([
            'kdf',
            '-keylen',
            String(n),
            '-kdfopt',
            `digest:${hash.replace('-', '')}`,
            '-kdfopt',
            `hexpass:${hex(pass)}`,
            '-kdfopt',
            `hexsalt:${hex(salt)}`,
            '-kdfopt',
            `iter:${iter}`,
            '-kdfopt',
            `id:${id}`,
            'PKCS12KDF',
          ])
            .toString()
            .trim()
            .replace(/:/g, '')
            .toLowerCase();
          assert.equal(hex(pkcs12KDF(hash, pass, salt, iter, id, n)), out);
        },
      ),
      { numRuns: fuzzRuns(12) },
    );
  });

  it('encodes passwords as BMPString with a zero terminator', () => {
    assert.equal(hex(pkcs12PasswordBytes('a')), '00610000');
    assert.equal(hex(pkcs12PasswordBytes('ä€')), '00e420ac0000');
    assert.equal(hex(pkcs12PasswordBytes('')), '0000');
    assert.equal(hex(pkcs12PasswordBytes(undefined)), '');
  });

  it('rejects bad arguments with RangeError', () => {
    const p = pkcs12PasswordBytes('x');
    assert.throws(() => pkcs12KDF('MD5' as PKCS12Hash, p, new Uint8Array(8), 1, 1, 8), RangeError);
    assert.throws(() => pkcs12KDF('SHA-1', p, new Uint8Array(8), 0, 1, 8), RangeError);
    assert.throws(() => pkcs12KDF('SHA-1', p, new Uint8Array(8), 1, 0, 8), RangeError);
    assert.throws(() => pkcs12KDF('SHA-1', p, new Uint8Array(8), 1, 1, -1), RangeError);
  });
});
