import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair, PrivateKey } from '../src/keys.js';
import { encodePrivateKeyPEM, parsePrivateKey, parsePrivateKeyDER } from '../src/private-key.js';

describe('generateKeyPair', () => {
  const rows = [
    { name: 'default is RSA 2048', input: {}, want: 'RSA 2048' },
    { name: 'EC P-256', input: { type: 'ec' as const }, want: 'EC P-256' },
    { name: 'EC P-384', input: { type: 'ec' as const, curve: 'P-384' as const }, want: 'EC P-384' },
    { name: 'Ed25519', input: { type: 'ed25519' as const }, want: 'Ed25519' },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const key = await generateKeyPair(row.input);
      assert.ok(key instanceof PrivateKey);
      assert.equal(key.describe(), row.want);
      const again = await parsePrivateKey(await encodePrivateKeyPEM(key));
      assert.ok(again.publicKey.equals(key.publicKey));
      const fromDER = await parsePrivateKeyDER(key.exportPKCS8());
      assert.deepEqual(fromDER.exportPKCS8(), key.exportPKCS8());
    });
});
