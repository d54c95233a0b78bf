// The SNI registry: lazy building and caching, exact/wildcard/default lookups, LRU bound, async loaders,
// failures remembered until re-registration, replacement, and start-up time for 10,000 names.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ErrorCode, HostnameError, isMailTlsError, type MailTlsError } from '../../src/errors.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { type CredentialOrLoader, createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { MODERN_PROFILE } from '../../src/tls/profile.js';
import { cpuStopwatch } from '../helpers/timing.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const def = pki.leaf(['default.example.test'], { keyType: 'ec' });
const mail = pki.leaf(['mail.example.test'], { keyType: 'rsa' });
const other = pki.leaf(['other.example.test'], { keyType: 'ec' });
const wild = pki.leaf(['*.wild.example.test'], { keyType: 'ec' });
const idn = pki.leaf(['xn--bcher-kva.example.test'], { keyType: 'ec' });

describe('createSNIRegistry', () => {
  it('builds the default at once and refuses a broken one', () => {
    const r = createSNIRegistry(def.credential);
    assert.equal(r.defaultSummary.fingerprint256, def.fingerprint256);
    assert.equal(r.defaultSummary.keyType, 'ec');
    assert.throws(
      () => createSNIRegistry({ key: mail.key, cert: def.cert }),
      (e: unknown) => isMailTlsError(e, 'ERR_TLS_CONTEXT'),
    );
    assert.throws(() => createSNIRegistry(def.credential, { maxContexts: 0 }), RangeError);
    assert.throws(
      () => createSNIRegistry(def.credential, { profile: { ...MODERN_PROFILE, groups: [] } }),
      (e: unknown) => isMailTlsError(e, 'ERR_TLS_PROFILE'),
    );
  });

  it('setDefault replaces the default; a broken one throws and the old one stays', () => {
    const r = createSNIRegistry(def.credential);
    let events = 0;
    r.on('default', () => events++);
    r.setDefault(mail.credential);
    assert.equal(r.defaultSummary.fingerprint256, mail.fingerprint256);
    assert.throws(
      () => r.setDefault({ key: def.key, cert: mail.cert }),
      (e: unknown) => isMailTlsError(e),
    );
    assert.equal(r.defaultSummary.fingerprint256, mail.fingerprint256);
    assert.equal(events, 1);
  });
});

describe('lookups build lazily and cache', () => {
  it('exact, wildcard, IDN and default, each context built once', async () => {
    const r = createSNIRegistry(def.credential);
    r.add('Mail.Example.TEST.', mail.credential);
    r.add('*.wild.example.test', wild.credential);
    r.add('bücher.example.test', idn.credential);
    assert.equal(r.size, 3);
    assert.equal(r.stats().built, 0, 'nothing is built at registration');
    const rows: { name: string; input: string | undefined; want: string; match: string }[] = [
      { name: 'exact', input: 'mail.example.test', want: mail.fingerprint256, match: 'exact' },
      { name: 'case and dot', input: 'MAIL.example.test.', want: mail.fingerprint256, match: 'exact' },
      { name: 'wildcard', input: 'imap.wild.example.test', want: wild.fingerprint256, match: 'wildcard' },
      { name: 'Unicode', input: 'Bücher.example.test', want: idn.fingerprint256, match: 'exact' },
      { name: 'A-label', input: 'xn--bcher-kva.example.test', want: idn.fingerprint256, match: 'exact' },
      { name: 'unknown', input: 'nope.example.test', want: def.fingerprint256, match: 'default' },
      { name: 'none', input: undefined, want: def.fingerprint256, match: 'default' },
    ];
    for (const row of rows) {
      const got = await r.resolve(row.input);
      assert.equal(got.summary.fingerprint256, row.want, row.name);
      assert.equal(got.lookup.match, row.match, row.name);
      assert.equal(new X509Certificate(got.credential.cert).fingerprint256, row.want);
    }
    const s = r.stats();
    assert.equal(s.builds, 3, 'three names, three builds');
    assert.equal(s.built, 3);
    assert.equal(s.hits, 2, 'the second lookups of mail and the IDN were cache hits');
  });

  it('LRU bound: least recently used contexts are dropped and rebuilt on demand', async () => {
    const r = createSNIRegistry(def.credential, { maxContexts: 2 });
    r.add('a.example.test', mail.credential);
    r.add('b.example.test', other.credential);
    r.add('c.example.test', wild.credential);
    await r.resolve('a.example.test');
    await r.resolve('b.example.test');
    await r.resolve('a.example.test'); // a is now the most recent
    await r.resolve('c.example.test'); // evicts b
    assert.deepEqual(
      { built: r.stats().built, evictions: r.stats().evictions, builds: r.stats().builds },
      {
        built: 2,
        evictions: 1,
        builds: 3,
      },
    );
    await r.resolve('a.example.test');
    assert.equal(r.stats().builds, 3, 'a stayed cached');
    await r.resolve('b.example.test');
    assert.equal(r.stats().builds, 4, 'b was rebuilt');
  });

  it('summaryOf answers without building, and keeps the summary of an evicted context', async () => {
    const r = createSNIRegistry(def.credential, { maxContexts: 1 });
    r.add('a.example.test', mail.credential);
    r.add('b.example.test', other.credential);
    assert.equal(r.summaryOf('a.example.test'), undefined, 'never built');
    assert.equal(r.summaryOf('zzz.example.test')?.fingerprint256, def.fingerprint256);
    await r.resolve('a.example.test');
    await r.resolve('b.example.test'); // evicts a
    assert.equal(r.stats().evictions, 1);
    const before = r.stats();
    assert.equal(r.summaryOf('A.example.test.')?.fingerprint256, mail.fingerprint256);
    assert.deepEqual(r.stats(), before, 'no build, no counter');
    r.add('a.example.test', other.credential);
    assert.equal(r.summaryOf('a.example.test'), undefined, 'forgotten on re-registration');
  });

  it('servedKeyTypes holds the key type of every credential built, and never shrinks', async () => {
    const r = createSNIRegistry(def.credential, { maxContexts: 1 });
    r.add('a.example.test', other.credential);
    r.add('b.example.test', mail.credential);
    const rows: [step: () => unknown, want: string[]][] = [
      [() => undefined, ['ec']], // the default
      [() => r.add('c.example.test', mail.credential), ['ec']], // registered, not built
      [() => r.resolveIfReady('a.example.test')!, ['ec']],
      [() => r.resolveIfReady('b.example.test')!, ['ec', 'rsa']], // evicts a (bound 1)
      [() => r.delete('b.example.test'), ['ec', 'rsa']],
      [() => r.resolveIfReady('a.example.test')!, ['ec', 'rsa']],
    ];
    for (const [step, want] of rows) {
      step();
      assert.deepEqual([...r.servedKeyTypes].sort(), want);
    }
  });

  it('names registered with one credential object share one context; it is forgotten when nobody holds it', () => {
    const r = createSNIRegistry(def.credential);
    const copy = { ...mail.credential }; // same PEM, another object: its own context
    r.add('a.example.test', mail.credential);
    r.add('b.example.test', mail.credential);
    r.add('c.example.test', copy);
    r.add('d.example.test', def.credential);
    const ctx = (name: string) => r.resolveIfReady(name)!.context;
    const rows: [step: () => unknown, want: { builds: number; contexts: number; built: number }][] = [
      [() => undefined, { builds: 0, contexts: 1, built: 0 }], // the default
      [() => ctx('a.example.test'), { builds: 1, contexts: 2, built: 1 }],
      [
        () => assert.equal(ctx('b.example.test'), ctx('a.example.test')),
        { builds: 1, contexts: 2, built: 2 },
      ],
      [
        () => assert.notEqual(ctx('c.example.test'), ctx('a.example.test')),
        { builds: 2, contexts: 3, built: 3 },
      ],
      [() => assert.equal(ctx('d.example.test'), r.defaultContext), { builds: 2, contexts: 3, built: 4 }],
      [() => r.delete('a.example.test'), { builds: 2, contexts: 3, built: 3 }], // b still holds it
      [() => r.delete('b.example.test'), { builds: 2, contexts: 2, built: 2 }],
      [() => r.add('c.example.test', other.credential), { builds: 2, contexts: 1, built: 1 }], // replaced
      [() => r.setDefault(other.credential), { builds: 2, contexts: 2, built: 1 }], // old default kept by d
      [() => r.delete('d.example.test'), { builds: 2, contexts: 1, built: 0 }],
      [() => assert.equal(ctx('c.example.test'), r.defaultContext), { builds: 2, contexts: 1, built: 1 }],
    ];
    for (const [i, [step, want]] of rows.entries()) {
      step();
      const { builds, contexts, built } = r.stats();
      assert.deepEqual({ builds, contexts, built }, want, `step ${i}`);
    }
  });

  it('prepare builds a credential now; its names and setDefault then serve that context without building again', () => {
    const r = createSNIRegistry(def.credential);
    const ctx = (name: string) => r.resolveIfReady(name)!.context;
    let first: unknown;
    const rows: [step: () => unknown, want: { builds: number; contexts: number; built: number }][] = [
      [
        () => assert.equal(r.prepare(mail.credential).fingerprint256, mail.fingerprint256),
        { builds: 1, contexts: 1, built: 0 },
      ],
      [() => r.add('a.example.test', mail.credential), { builds: 1, contexts: 1, built: 0 }],
      [() => r.add('b.example.test', mail.credential), { builds: 1, contexts: 1, built: 0 }],
      [() => (first = ctx('a.example.test')), { builds: 1, contexts: 2, built: 1 }],
      [() => assert.equal(ctx('b.example.test'), first), { builds: 1, contexts: 2, built: 2 }],
      [() => assert.equal(r.prepare(mail.credential).keyType, 'rsa'), { builds: 1, contexts: 2, built: 2 }], // held: nothing built
      [() => r.prepare(other.credential), { builds: 2, contexts: 2, built: 2 }],
      [() => r.setDefault(other.credential), { builds: 2, contexts: 2, built: 2 }], // old default dropped
      [
        () => assert.equal(ctx('unknown.example.test'), r.defaultContext),
        { builds: 2, contexts: 2, built: 2 },
      ],
    ];
    for (const [i, [step, want]] of rows.entries()) {
      step();
      const { builds, contexts, built } = r.stats();
      assert.deepEqual({ builds, contexts, built }, want, `step ${i}`);
    }
    assert.equal(r.summaryOf('a.example.test')?.fingerprint256, mail.fingerprint256);
    assert.equal(r.defaultSummary.fingerprint256, other.fingerprint256);
  });

  it('prepare refuses a broken credential and keeps nothing; with an LRU bound it keeps only the last few', () => {
    const r = createSNIRegistry(def.credential);
    const rows: { name: string; credential: unknown; want: (e: unknown) => boolean }[] = [
      {
        name: 'key of another leaf',
        credential: { key: def.key, cert: mail.cert },
        want: (e) => isMailTlsError(e, 'ERR_TLS_CONTEXT'),
      },
      { name: 'not PEM', credential: { key: 1, cert: mail.cert }, want: (e) => e instanceof TypeError },
      { name: 'nothing', credential: undefined, want: (e) => e instanceof TypeError },
    ];
    for (const row of rows) {
      assert.throws(() => r.prepare(row.credential as never), row.want, row.name);
      assert.deepEqual([r.stats().builds, r.stats().contexts], [0, 1], row.name);
    }
    const bounded = createSNIRegistry(def.credential, { maxContexts: 10 });
    bounded.prepare(mail.credential);
    bounded.add('a.example.test', mail.credential);
    assert.equal(bounded.stats().contexts, 1, 'nothing kept outside the bound');
    bounded.resolveIfReady('a.example.test');
    assert.deepEqual(
      [bounded.stats().builds, bounded.stats().contexts],
      [1, 2],
      'served from the prepared build',
    );
    // Only the last 32 prepared contexts wait for their names: an older one is built again when served.
    const early = { key: mail.key, cert: mail.cert };
    bounded.prepare(early);
    for (let i = 0; i < 32; i++) bounded.prepare({ key: mail.key, cert: mail.cert });
    assert.equal(bounded.stats().builds, 34);
    bounded.add('b.example.test', early);
    bounded.resolveIfReady('b.example.test');
    assert.equal(bounded.stats().builds, 35, 'built again when served');
  });

  it('an LRU bound counts names: evicting one name keeps the context another name shares', () => {
    const r = createSNIRegistry(def.credential, { maxContexts: 1 });
    r.add('x.example.test', mail.credential);
    r.add('y.example.test', mail.credential);
    const x = r.resolveIfReady('x.example.test')!.context;
    const y = r.resolveIfReady('y.example.test')!.context; // evicts x
    assert.equal(y, x);
    assert.equal(r.stats().evictions, 1);
    assert.equal(r.stats().builds, 1);
    assert.equal(
      r.resolveIfReady('x.example.test')!.context,
      x,
      'rebuilt from the shared context, evicting y',
    );
    assert.deepEqual([r.stats().builds, r.stats().contexts, r.stats().evictions], [1, 2, 2]);
  });

  it('resolveIfReady while resolve is pending waits for that build: one context, held once, freed on delete', async () => {
    const rows: { name: string; source: () => CredentialOrLoader }[] = [
      { name: 'PEM', source: () => mail.credential },
      { name: 'sync loader answering a new object per call', source: () => () => ({ ...mail.credential }) },
      { name: 'async loader', source: () => async () => ({ ...mail.credential }) },
    ];
    for (const row of rows) {
      const r = createSNIRegistry(def.credential);
      r.add('a.example.test', row.source());
      const pending = r.resolve('a.example.test');
      assert.equal(
        r.resolveIfReady('a.example.test'),
        undefined,
        `${row.name}: the pending build is not doubled`,
      );
      const later = await pending;
      assert.equal(r.resolveIfReady('a.example.test')?.context, later.context, row.name);
      assert.deepEqual([r.stats().contexts, r.stats().built, r.stats().builds], [2, 1, 1], row.name);
      r.delete('a.example.test');
      assert.deepEqual(
        [r.stats().contexts, r.stats().built],
        [1, 0],
        `${row.name}: only the default is held`,
      );
    }
  });

  it('an async loader is called once for concurrent lookups', async () => {
    const r = createSNIRegistry(def.credential);
    let calls = 0;
    r.add('mail.example.test', async () => {
      calls++;
      await new Promise((res) => setTimeout(res, 20));
      return mail.credential;
    });
    const all = await Promise.all(Array.from({ length: 5 }, () => r.resolve('mail.example.test')));
    assert.equal(calls, 1);
    for (const got of all) assert.equal(got.summary.fingerprint256, mail.fingerprint256);
    assert.equal(all[0]!.context, all[4]!.context);
  });

  it('resolveIfReady: default, cached, PEM and sync-loader names now; an async loader starts and resolve answers', async () => {
    const r = createSNIRegistry(def.credential);
    let calls = 0;
    let asyncCalls = 0;
    r.add('mail.example.test', mail.credential);
    r.add('sync.example.test', () => {
      calls++;
      return other.credential;
    });
    r.add('other.example.test', async () => {
      asyncCalls++;
      return other.credential;
    });
    r.add('bad.example.test', { key: def.key, cert: mail.cert });
    assert.equal(r.resolveIfReady(undefined)?.lookup.match, 'default');
    assert.equal(r.resolveIfReady('mail.example.test')?.summary.fingerprint256, mail.fingerprint256);
    assert.equal(r.resolveIfReady('sync.example.test')?.summary.fingerprint256, other.fingerprint256);
    assert.equal(r.resolveIfReady('sync.example.test')?.summary.fingerprint256, other.fingerprint256);
    assert.equal(calls, 1, 'the sync loader is called once, then the context is cached');
    assert.equal(r.resolveIfReady('other.example.test'), undefined);
    assert.equal(r.resolveIfReady('other.example.test'), undefined);
    assert.equal(asyncCalls, 1, 'the async loader is started once');
    assert.equal((await r.resolve('other.example.test')).summary.fingerprint256, other.fingerprint256);
    assert.equal(asyncCalls, 1, 'resolve awaited the build resolveIfReady started');
    assert.equal(r.resolveIfReady('other.example.test')?.summary.fingerprint256, other.fingerprint256);
    assert.throws(
      () => r.resolveIfReady('bad.example.test'),
      (e: unknown) => isMailTlsError(e, 'ERR_TLS_CONTEXT'),
    );
  });

  it('a failing credential is reported once, remembered, and forgotten when the name is registered again', async () => {
    const r = createSNIRegistry(def.credential);
    const reported: [MailTlsError, string][] = [];
    r.on('contextError', (e, p) => reported.push([e, p]));
    let calls = 0;
    r.add('mail.example.test', () => {
      calls++;
      throw new Error('disk on fire');
    });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(r.resolve('mail.example.test'), (e: unknown) =>
        isMailTlsError(e, 'ERR_TLS_CONTEXT'),
      );
    }
    assert.equal(calls, 1, 'the loader is not retried on every handshake');
    assert.equal(reported.length, 1);
    assert.equal(reported[0]![1], 'mail.example.test');
    assert.match(reported[0]![0].message, /fix it and register it again/);
    assert.equal(r.stats().failures, 1);
    r.add('mail.example.test', mail.credential);
    assert.equal((await r.resolve('mail.example.test')).summary.fingerprint256, mail.fingerprint256);
    assert.equal(r.stats().failures, 0);
  });

  it('a loader answering something that is not a credential is an ERR_TLS_CONTEXT', async () => {
    const r = createSNIRegistry(def.credential);
    r.add('mail.example.test', () => ({ key: 1 }) as never);
    await assert.rejects(r.resolve('mail.example.test'), (e: unknown) =>
      isMailTlsError(e, 'ERR_TLS_CONTEXT'),
    );
  });

  it('replacing a name drops its cached context; deleting falls back to the default', async () => {
    const r = createSNIRegistry(def.credential);
    const changes: string[] = [];
    r.on('change', (p) => changes.push(p));
    r.add('mail.example.test', mail.credential);
    assert.equal((await r.resolve('mail.example.test')).summary.fingerprint256, mail.fingerprint256);
    r.add('MAIL.example.test', other.credential);
    assert.equal((await r.resolve('mail.example.test')).summary.fingerprint256, other.fingerprint256);
    assert.equal(r.delete('mail.example.test.'), true);
    assert.equal(r.delete('mail.example.test'), false);
    assert.equal((await r.resolve('mail.example.test')).lookup.match, 'default');
    assert.deepEqual(changes, ['mail.example.test', 'mail.example.test', 'mail.example.test']);
  });

  it('refuses bad patterns and credentials', () => {
    const r = createSNIRegistry(def.credential);
    assert.throws(() => r.add('*.test', mail.credential), HostnameError);
    assert.throws(() => r.add('a*.example.test', mail.credential), HostnameError);
    assert.throws(() => r.add('mail.example.test', { key: 'x' } as never), TypeError);
    assert.equal(r.has('not a name'), false);
    assert.equal(r.size, 0);
  });

  it('SNICallback answers the context, or the error for a failing name', async () => {
    const r = createSNIRegistry(def.credential);
    r.add('mail.example.test', mail.credential);
    r.add('bad.example.test', { key: def.key, cert: mail.cert });
    const call = (name: string) =>
      new Promise<[Error | null, unknown]>((resolve) =>
        r.SNICallback(name, (err, ctx) => resolve([err, ctx])),
      );
    const [err1, ctx1] = await call('mail.example.test');
    assert.equal(err1, null);
    assert.equal(ctx1, (await r.resolve('mail.example.test')).context);
    const [err2, ctx2] = await call('bad.example.test');
    assert.ok(isMailTlsError(err2, 'ERR_TLS_CONTEXT'));
    assert.equal(ctx2, undefined);
    const [, ctx3] = await call('zzz.example.test');
    assert.equal(ctx3, r.defaultContext);
  });

  it('SNICallback answers at once when no loader must be awaited, and after the loader otherwise', async () => {
    const r = createSNIRegistry(def.credential);
    r.add('mail.example.test', mail.credential);
    r.add('later.example.test', async () => mail.credential);
    r.add('broken.example.test', { key: def.key, cert: mail.cert });
    const table: [name: string, synchronous: boolean, error: ErrorCode | null][] = [
      ['mail.example.test', true, null], // built now from PEM
      ['mail.example.test', true, null], // cached
      ['zzz.example.test', true, null], // the default
      ['broken.example.test', true, 'ERR_TLS_CONTEXT'],
      ['broken.example.test', true, 'ERR_TLS_CONTEXT'], // the remembered failure
      ['later.example.test', false, null], // an async loader
      ['later.example.test', true, null], // its cached context
    ];
    for (const [name, synchronous, code] of table) {
      let answered = false;
      const result = new Promise<[Error | null, unknown]>((resolve) =>
        r.SNICallback(name, (err, ctx) => {
          answered = true;
          resolve([err, ctx]);
        }),
      );
      assert.equal(answered, synchronous, `${name} answered synchronously: ${String(answered)}`);
      const [err, ctx] = await result;
      if (code === null) {
        assert.equal(err, null);
        assert.equal(ctx, r.resolveIfReady(name)?.context);
      } else {
        assert.ok(isMailTlsError(err, code), `${name}: ${String(err)}`);
        assert.equal(ctx, undefined);
      }
    }
  });
});

describe('scale', () => {
  it('registers 10,000 names in well under a second, building nothing', async () => {
    const r = createSNIRegistry(def.credential);
    const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
    for (let i = 0; i < 10_000; i++) {
      r.add(`d${i}.example.test`, mail.credential);
    }
    const ms = elapsed();
    assert.equal(r.size, 10_000);
    assert.equal(r.stats().built, 0);
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    // The first lookup of a name builds its context; later ones are cache hits (counted, not timed).
    const { context } = await r.resolve('d9999.example.test');
    assert.equal(r.stats().builds, 1);
    assert.equal((await r.resolve('d9999.example.test')).context, context);
    assert.equal(r.stats().builds, 1);
  });
});

describe('SNI registry: credentials loaded from the store', () => {
  it('accepts a loaded Credential as it is; a { ...credential } copy that lost its key is a typed, explained error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailtls-sni-credential-'));
    try {
      const store = new CertificateStore(dir, { trust: [pki.rootCert] });
      await store.install({ cert: def.cert, key: def.key });
      const loaded = await store.load('default.example.test');
      const r = createSNIRegistry(loaded);
      assert.equal(r.defaultCredential, loaded);
      r.add('mail.example.test', loaded);
      assert.ok((await r.resolve('mail.example.test')).context);
      const copy = { ...loaded };
      const attempts: [string, () => unknown][] = [
        ['createSNIRegistry', () => createSNIRegistry(copy)],
        ['add', () => r.add('other.example.test', copy)],
        ['prepare', () => r.prepare(copy)],
        ['setDefault', () => r.setDefault(copy)],
      ];
      for (const [name, attempt] of attempts)
        assert.throws(
          attempt,
          (e: unknown) =>
            isMailTlsError(e, 'ERR_TLS_CONTEXT') &&
            e.details.reason === 'no-key' &&
            /no key/.test(e.message) &&
            /\{ \.\.\.credential \}/.test(e.message),
          name,
        );
      // A loader that returns such a copy fails the name with the same error.
      r.add('late.example.test', async () => ({ ...loaded }));
      await assert.rejects(
        r.resolve('late.example.test'),
        (e: unknown) => isMailTlsError(e, 'ERR_TLS_CONTEXT') && e.details.reason === 'no-key',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
