// One JSON name per concept across every `--json` output: the SHA-256 of a SubjectPublicKeyInfo is
// `spkiSha256` in certificates, CSRs, private keys, public keys and `mailtls key`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mailtlsJSON, makeOpenSSLInputs, openssl, opensslSPKISha256, scratch } from './helpers.js';

/** Every value stored under `name` anywhere in a JSON document. */
function valuesNamed(value: unknown, name: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const v of value) valuesNamed(v, name, out);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === name) out.push(v);
      valuesNamed(v, name, out);
    }
  return out;
}

describe('mailtls --json names', () => {
  it('the SPKI SHA-256 of one key is spkiSha256 in every output (certificate, CSR, key, public key, key command)', () => {
    const inputs = makeOpenSSLInputs();
    const want = opensslSPKISha256(inputs.leafKey, 'key');
    const dir = scratch();
    const pub = join(dir, 'pub.pem');
    openssl(['pkey', '-in', inputs.leafKey, '-pubout', '-out', pub]);
    const outputs = [
      mailtlsJSON(['show', inputs.leafCert]),
      mailtlsJSON(['show', inputs.csr]),
      mailtlsJSON(['show', inputs.leafKey]),
      mailtlsJSON(['show', pub]),
      mailtlsJSON(['show', inputs.pfx, '--password', 'secret']),
    ];
    for (const r of outputs) {
      assert.equal(r.status, 0, r.stderr);
      assert.ok(valuesNamed(r.json, 'spkiSha256').includes(want), JSON.stringify(r.json).slice(0, 300));
      assert.deepEqual(valuesNamed(r.json, 'publicKeySha256'), []);
    }
    const key = mailtlsJSON(['key', '--type', 'ec', '--out', join(dir, 'new.key')]);
    assert.equal(key.status, 0, key.stderr);
    assert.deepEqual(valuesNamed(key.json, 'spkiSha256'), [opensslSPKISha256(join(dir, 'new.key'), 'key')]);
    assert.deepEqual(valuesNamed(key.json, 'publicKeySha256'), []);
  });
});
