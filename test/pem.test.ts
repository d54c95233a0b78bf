import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PEMError } from '../src/errors.js';
import { decodePEM, encodePEM, parsePEM } from '../src/pem.js';

describe('pem (first cut)', () => {
  it('round-trips encodePEM through parsePEM', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = encodePEM('CERTIFICATE', der);
    const [block] = parsePEM(pem);
    assert.equal(block?.label, 'CERTIFICATE');
    assert.deepEqual(block?.bytes, der);
    assert.equal(pem.slice(block!.start, block!.end), pem.trimEnd());
  });
  it('rejects an unexpected label', () => {
    const pem = encodePEM('PRIVATE KEY', new Uint8Array([1, 2, 3]));
    assert.throws(
      () => decodePEM(pem, 'CERTIFICATE'),
      (e: unknown) => e instanceof PEMError && e.code === 'ERR_PEM_UNEXPECTED_LABEL',
    );
  });
});
