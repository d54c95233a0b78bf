/**
 * The pure rules of the SNI registry (sni-policy) without building a context: the LRU bound, contexts shared
 * by holders, the refusal of a credential copy that lost its key, and the error of a failed load. The
 * registry itself, with real contexts, is test/node/sni-registry.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostnameError, isMailTlsError, TLSError } from '../../src/errors.js';
import { assertKeyKept, BoundedLru, contextLoadError, SharedValues } from '../../src/node/tls/sni-policy.js';

describe('BoundedLru', () => {
  it('refuses a bound under 1', () => {
    for (const max of [0, -1, 0.5, Number.NaN])
      assert.throws(() => new BoundedLru(max), RangeError, String(max));
    assert.equal(new BoundedLru(1).max, 1);
  });

  it('drops the least recently used keys past the bound, oldest first', () => {
    const lru = new BoundedLru<string, number>(2);
    assert.deepEqual(lru.add('a', 1), []);
    assert.deepEqual(lru.add('b', 2), []);
    lru.touch('a', 1);
    assert.deepEqual(lru.add('c', 3), [['b', 2]]);
    assert.equal(lru.size, 2);
    assert.deepEqual(lru.add('d', 4), [['a', 1]]);
    assert.equal(lru.delete('c'), true);
    assert.equal(lru.delete('c'), false);
    assert.deepEqual(lru.add('e', 5), []);
    assert.deepEqual(lru.add('f', 6), [['d', 4]]);
  });

  it('a bound of 1 keeps only the last key', () => {
    const lru = new BoundedLru<string, number>(1);
    lru.add('a', 1);
    assert.deepEqual(lru.add('b', 2), [['a', 1]]);
    assert.equal(lru.size, 1);
  });

  it('without a bound nothing is dropped and touch keeps no order', () => {
    const lru = new BoundedLru<number, number>(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 1000; i++) assert.deepEqual(lru.add(i, i), []);
    lru.touch(0, 0);
    assert.equal(lru.size, 1000);
  });
});

describe('SharedValues', () => {
  it('keeps a value while it has holders, and forgets it with the last', () => {
    const shared = new SharedValues<object, string>();
    const credential = {};
    assert.equal(shared.hold(credential, 'context'), true);
    assert.equal(shared.hold(credential, 'context'), false);
    assert.equal(shared.get(credential), 'context');
    assert.equal(shared.size, 1);
    assert.equal(shared.release(credential, 'context'), false);
    assert.equal(shared.get(credential), 'context');
    assert.equal(shared.release(credential, 'context'), true);
    assert.equal(shared.get(credential), undefined);
    assert.equal(shared.size, 0);
    assert.equal(shared.release(credential, 'context'), false, 'nothing held: nothing to release');
  });

  it('a holder of another value filed under the key does not release it', () => {
    const shared = new SharedValues<object, string>();
    const credential = {};
    shared.hold(credential, 'first');
    // a second hold files nothing new: the first value stays the one held
    shared.hold(credential, 'second');
    assert.equal(shared.get(credential), 'first');
    assert.equal(shared.release(credential, 'stale'), false);
    assert.equal(shared.release(credential, 'first'), false);
    assert.equal(shared.release(credential, 'first'), true);
  });
});

describe('assertKeyKept', () => {
  const KEY = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n';
  const CERT = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n';

  it('refuses a copy of a loaded credential whose key did not come along', () => {
    // as a loaded Credential keeps it: a property that is not enumerable
    const loaded = Object.defineProperty({ cert: CERT }, 'key', { value: KEY, enumerable: false });
    assert.doesNotThrow(() => assertKeyKept(loaded));
    for (const copy of [{ ...loaded }, Object.assign({}, loaded), JSON.parse(JSON.stringify(loaded))]) {
      assert.throws(
        () => assertKeyKept(copy),
        (e: unknown) =>
          isMailTlsError(e, 'ERR_TLS_CONTEXT') &&
          e.details.reason === 'no-key' &&
          e.message.includes('{ key: credential.key, cert: credential.cert }') &&
          !e.message.includes('PRIVATE KEY'),
      );
    }
  });

  it('leaves every other value to the shape check', () => {
    for (const value of [{ key: KEY, cert: CERT }, {}, { cert: 5 }, null, undefined, 'pem', 42])
      assert.doesNotThrow(() => assertKeyKept(value), String(value));
  });
});

describe('contextLoadError', () => {
  it('keeps a mailtls error as it is', () => {
    const cause = new HostnameError('ERR_HOSTNAME_INVALID', 'bad name');
    assert.equal(contextLoadError('mail.example.org', cause), cause);
  });

  it('a TypeError is a credential that is not PEM; anything else a failed load', () => {
    const typeError = new TypeError('credential.key and credential.cert must be PEM strings');
    const notPEM = contextLoadError('*.example.org', typeError);
    assert.ok(notPEM instanceof TLSError);
    assert.ok(isMailTlsError(notPEM, 'ERR_TLS_CONTEXT'));
    assert.equal(
      notPEM.message,
      'the credential for "*.example.org" is not { key, cert } PEM: credential.key and credential.cert must be PEM strings',
    );
    assert.deepEqual(notPEM.details, { pattern: '*.example.org' });
    assert.equal(notPEM.cause, typeError);
    const failure = new Error('ENOENT: no such file');
    const failed = contextLoadError('mail.example.org', failure);
    assert.ok(isMailTlsError(failed, 'ERR_TLS_CONTEXT'));
    assert.equal(
      failed.message,
      'loading the credential for "mail.example.org" failed; fix it and register it again',
    );
    assert.deepEqual(failed.details, { pattern: 'mail.example.org' });
    assert.equal(failed.cause, failure);
    assert.equal(contextLoadError('a.org', 'thrown text').cause, 'thrown text');
  });
});
