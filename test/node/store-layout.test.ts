/**
 * Store file names: properties over arbitrary input (only StoreError/TypeError, never a path outside the
 * store, file name round trip) and the paths of a domain.
 */
import assert from 'node:assert/strict';
import { join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StoreError } from '../../src/errors.js';
import { storeName, storePaths } from '../../src/node/store/layout.js';
import { cpuStopwatch } from '../helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 500);

describe('storeName properties', () => {
  const inputs = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.domain(),
    fc.domain().map((d) => `*.${d}`),
    fc
      .array(
        fc.constantFrom('a', '.', '/', '\\', '..', '*', '_wildcard', 'xn--', '-', '\0', ' ', 'ü', '%2e'),
        {
          maxLength: 12,
        },
      )
      .map((a) => a.join('')),
  );

  it('throws only StoreError ERR_STORE_INVALID_DOMAIN, and every accepted name stays inside the store', () => {
    const root = '/srv/tls';
    fc.assert(
      fc.property(inputs, (input) => {
        const elapsed = cpuStopwatch();
        let name: ReturnType<typeof storeName>;
        try {
          name = storeName(input);
        } catch (e) {
          assert.ok(e instanceof StoreError && e.code === 'ERR_STORE_INVALID_DOMAIN', String(e));
          return;
        } finally {
          assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
        }
        assert.match(name.fileName, /^[a-z0-9_][a-z0-9.-]*$/);
        assert.ok(!name.fileName.includes('..'));
        const again = storeName(name.fileName);
        assert.deepEqual(again, name, 'file name round trip');
        assert.deepEqual(storeName(name.domain), name, 'domain round trip');
        for (const p of Object.values(storePaths(root, name.domain))) {
          const rel = relative(root, normalize(p));
          assert.ok(!rel.startsWith('..') && !rel.startsWith('/'), p);
        }
      }),
      { numRuns: runs },
    );
  });

  it('gives the documented paths', () => {
    const p = storePaths('/srv/tls', '*.Example.com');
    assert.deepEqual(p, {
      csr: join('/srv/tls', 'csr', '_wildcard.example.com.csr'),
      cert: join('/srv/tls', 'certs', '_wildcard.example.com.crt'),
      caBundle: join('/srv/tls', 'certs', '_wildcard.example.com.ca-bundle'),
      key: join('/srv/tls', 'private', '_wildcard.example.com.key'),
      pendingKey: join('/srv/tls', 'private', 'pending', '_wildcard.example.com.key'),
      history: join('/srv/tls', 'history', '_wildcard.example.com'),
      current: join('/srv/tls', 'history', '_wildcard.example.com', 'current'),
      lock: join('/srv/tls', 'locks', '_wildcard.example.com.lock'),
    });
    assert.throws(() => storeName(42 as never), TypeError);
  });
});
