/**
 * The pure parts of hot reload (reload-names, reload-options, reload-policy, reload-results) without a disk,
 * a watch, a timer or a socket: certificates are made in memory, and each rule is checked on its own. The
 * end-to-end behaviour (real files, real handshakes) is test/node/reload.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isMailTlsError, TLSError } from '../../src/errors.js';
import { encodePrivateKeyPEM } from '../../src/keys/private-key.js';
import {
  covers,
  lookupCandidates,
  PatternOwners,
  selfPatternOf,
  servedPatterns,
} from '../../src/node/tls/reload-names.js';
import {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_POLL_MS,
  isCredentialSource,
  type WatchCredentialsOptions,
  watchSettings,
} from '../../src/node/tls/reload-options.js';
import {
  CoalescedRuns,
  checkStep,
  codeOf,
  judgeCandidate,
  listError,
  messageOf,
  type ReloadCandidate,
  reloadError,
  rememberRefusal,
  rememberServed,
  type StampMemory,
  servedPair,
  watchedName,
} from '../../src/node/tls/reload-policy.js';
import { byDomain, refreshResult, reloadEvent, watchedStatus } from '../../src/node/tls/reload-results.js';
import { type Made, makeCert, makeIntermediate, makeLeaf, makeRoot } from '../helpers/chain-pki.js';

const AT = new Date('2027-06-01T12:00:00Z');
const at = (): Date => AT;

let root: Made;
let inter: Made;

/** A candidate pair as a credential source would read it: leaf + intermediate, the leaf's key as PEM. */
async function candidate(
  leaf: Made,
  version = 'v1',
  chain: readonly Made[] = [leaf, inter],
): Promise<ReloadCandidate> {
  return {
    cert: chain.map((c) => c.pem).join(''),
    key: await encodePrivateKeyPEM(leaf.key),
    version,
    leaf: leaf.cert,
    chain: chain.map((c) => c.cert),
  };
}

before(async () => {
  root = await makeRoot('Reload Policy Root');
  inter = await makeIntermediate('Reload Policy Intermediate', root);
});

describe('reload-names', () => {
  it('servedPatterns: the DNS subjectAltNames, canonical, deduplicated, sorted; unusable names left out', async () => {
    const leaf = await makeLeaf('mail.example.org', inter, {
      san: [
        { dns: 'Mail.Example.ORG' },
        { dns: 'mail.example.org.' },
        { dns: '*.example.org' },
        { dns: 'example.org' },
        { dns: 'a*.example.org' },
        { dns: '192.0.2.1' },
        { ip: [192, 0, 2, 2] },
        { email: 'postmaster@example.org' },
      ],
    });
    assert.deepEqual(servedPatterns(leaf.cert), ['*.example.org', 'example.org', 'mail.example.org']);
  });

  it('servedPatterns: the Common Name only when there is no subjectAltName at all', async () => {
    const noSAN = await makeCert({ subject: 'CN=Legacy.Example.org', issuer: inter });
    assert.deepEqual(servedPatterns(noSAN.cert), ['legacy.example.org']);
    const ipOnly = await makeCert({
      subject: 'CN=legacy.example.org',
      issuer: inter,
      san: [{ ip: [192, 0, 2, 1] }],
    });
    assert.deepEqual(servedPatterns(ipOnly.cert), []);
  });

  it('lookupCandidates: the name, the wildcard above it, then each parent of two labels or more', () => {
    assert.deepEqual(lookupCandidates('a.mail.example.org'), [
      'a.mail.example.org',
      '*.mail.example.org',
      'mail.example.org',
      'example.org',
    ]);
    assert.deepEqual(lookupCandidates('example.org'), ['example.org']);
    assert.deepEqual(lookupCandidates('localhost'), ['localhost']);
  });

  it('covers: the name itself or a wildcard exactly one label above it', () => {
    const rows: [readonly string[], string, boolean][] = [
      [['mail.example.org'], 'mail.example.org', true],
      [['*.example.org'], 'mail.example.org', true],
      [['*.example.org'], 'example.org', false],
      [['*.example.org'], 'a.b.example.org', false],
      [['*.example.org'], '*.example.org', true],
      [['mail.example.org'], '*.example.org', false],
      [[], 'example.org', false],
    ];
    for (const [patterns, name, want] of rows)
      assert.equal(covers(patterns, name), want, `${patterns} / ${name}`);
  });

  it('selfPatternOf: the canonical SNI pattern of a domain name, undefined for anything else', () => {
    assert.equal(selfPatternOf('Mail.Example.ORG.'), 'mail.example.org');
    assert.equal(selfPatternOf('*.Example.org'), '*.example.org');
    assert.equal(selfPatternOf('my lineage'), undefined);
    assert.equal(selfPatternOf('192.0.2.1'), undefined);
  });

  describe('PatternOwners', () => {
    const domain = (name: string) => ({ domain: name, selfPattern: selfPatternOf(name) });

    it('the first claimant by name serves a shared pattern; the one filed under a name serves that name', () => {
      const owners = new PatternOwners<ReturnType<typeof domain>>();
      const b = domain('b.example.org');
      const a = domain('a.example.org');
      const mail = domain('mail.shared.org');
      assert.deepEqual(owners.assign(b, ['*.shared.org', 'b.example.org', 'mail.shared.org']), {
        add: [
          ['*.shared.org', b],
          ['b.example.org', b],
          ['mail.shared.org', b],
        ],
        delete: [],
      });
      // a.example.org sorts first: it takes the shared wildcard and mail.shared.org from b
      assert.deepEqual(owners.assign(a, ['*.shared.org', 'mail.shared.org']), {
        add: [
          ['*.shared.org', a],
          ['mail.shared.org', a],
        ],
        delete: [],
      });
      // filed under mail.shared.org: it serves that name although it sorts last
      assert.deepEqual(owners.assign(mail, ['mail.shared.org']), {
        add: [['mail.shared.org', mail]],
        delete: [],
      });
      assert.deepEqual(owners.servedBy(a), ['*.shared.org']);
      assert.deepEqual(owners.servedBy(b), ['b.example.org']);
      assert.deepEqual(owners.servedBy(mail), ['mail.shared.org']);
      assert.equal(owners.ownerOf('mail.shared.org'), mail);
      assert.equal(owners.ownerOf('nothing.org'), undefined);
    });

    it("a claimant's new certificate replaces every pattern it still serves", () => {
      const owners = new PatternOwners<ReturnType<typeof domain>>();
      const a = domain('a.example.org');
      const b = domain('b.example.org');
      owners.assign(a, ['a.example.org', 'shared.example.org']);
      owners.assign(b, ['b.example.org', 'shared.example.org']);
      // the same patterns again (a renewal): registered again with the new certificate; shared stays a's
      assert.deepEqual(owners.assign(a, ['a.example.org', 'shared.example.org']), {
        add: [
          ['a.example.org', a],
          ['shared.example.org', a],
        ],
        delete: [],
      });
      // a renewal of b: it serves b.example.org only, shared.example.org is not touched
      assert.deepEqual(owners.assign(b, ['b.example.org', 'shared.example.org']), {
        add: [['b.example.org', b]],
        delete: [],
      });
    });

    it('a pattern passes to the next claimant when its owner drops it, and is deleted when nobody covers it', () => {
      const owners = new PatternOwners<ReturnType<typeof domain>>();
      const a = domain('a.example.org');
      const b = domain('b.example.org');
      owners.assign(a, ['a.example.org', 'old.example.org', 'shared.example.org']);
      owners.assign(b, ['shared.example.org']);
      // a renewed without old.example.org
      assert.deepEqual(owners.assign(a, ['a.example.org', 'shared.example.org']), {
        add: [
          ['a.example.org', a],
          ['shared.example.org', a],
        ],
        delete: ['old.example.org'],
      });
      // a removed: shared.example.org falls to b
      assert.deepEqual(owners.assign(a, []), { add: [['shared.example.org', b]], delete: ['a.example.org'] });
      assert.deepEqual(owners.servedBy(a), []);
      assert.deepEqual(owners.servedBy(b), ['shared.example.org']);
      assert.deepEqual(owners.assign(b, []), { add: [], delete: ['shared.example.org'] });
      assert.equal(owners.ownerOf('shared.example.org'), undefined);
    });
  });
});

describe('reload-options', () => {
  it('fills in the defaults', () => {
    const s = watchSettings({});
    assert.deepEqual(
      { ...s, clock: typeof s.clock },
      {
        all: true,
        onDemand: false,
        explicit: [],
        defaultDomain: undefined,
        debounceMs: DEFAULT_DEBOUNCE_MS,
        pollMs: DEFAULT_POLL_MS,
        clock: 'function',
        allowExpired: false,
        persistent: true,
        watch: true,
        signal: undefined,
      },
    );
    assert.deepEqual([DEFAULT_DEBOUNCE_MS, DEFAULT_POLL_MS], [100, 5000]);
    const before = Date.now();
    const now = s.clock().getTime();
    assert.ok(now >= before && now <= Date.now());
  });

  it('a list of names is deduplicated and includes the default domain', () => {
    assert.deepEqual(
      watchSettings({ domains: ['b.org', 'a.org', 'b.org'], defaultDomain: 'c.org' }).explicit,
      ['b.org', 'a.org', 'c.org'],
    );
    assert.deepEqual(watchSettings({ domains: ['a.org'], defaultDomain: 'a.org' }).explicit, ['a.org']);
    assert.deepEqual(watchSettings({ domains: 'all', defaultDomain: 'a.org' }).explicit, []);
  });

  it("'on-demand' watches the default domain before any handshake, and only it", () => {
    const s = watchSettings({ domains: 'on-demand', defaultDomain: 'a.org' });
    assert.deepEqual([s.onDemand, s.all, s.explicit], [true, false, ['a.org']]);
    assert.deepEqual(watchSettings({ domains: 'on-demand' }).explicit, []);
    assert.throws(() => watchSettings({ domains: 'lazy' as never }), /'all', 'on-demand' or an array/);
  });

  it('the clock is a fixed moment or a function; the flags are read as given', () => {
    const fixed = new Date('2030-01-01T00:00:00Z');
    assert.equal(watchSettings({ at: fixed }).clock(), fixed);
    assert.equal(watchSettings({ at }).clock, at);
    const controller = new AbortController();
    const s = watchSettings({
      allowExpired: true,
      persistent: false,
      watch: false,
      pollIntervalMs: 0,
      debounceMs: 0,
      signal: controller.signal,
    });
    assert.deepEqual(
      [s.allowExpired, s.persistent, s.watch, s.pollMs, s.debounceMs, s.signal],
      [true, false, false, 0, 0, controller.signal],
    );
  });

  it('refuses bad options with TypeError or RangeError', () => {
    const rows: [unknown, typeof TypeError | typeof RangeError][] = [
      [null, TypeError],
      ['all', TypeError],
      [{ domains: 'some' }, TypeError],
      [{ domains: ['a.org', ''] }, TypeError],
      [{ domains: [1] }, TypeError],
      [{ defaultDomain: '' }, TypeError],
      [{ defaultDomain: 5 }, TypeError],
      [{ debounceMs: -1 }, RangeError],
      [{ debounceMs: Number.POSITIVE_INFINITY }, RangeError],
      [{ debounceMs: '100' }, RangeError],
      [{ pollIntervalMs: 5 }, RangeError],
      [{ pollIntervalMs: -10 }, RangeError],
      [{ pollIntervalMs: Number.NaN }, RangeError],
      [{ at: new Date(Number.NaN) }, TypeError],
      [{ at: '2027-01-01' }, TypeError],
      [{ signal: {} }, TypeError],
    ];
    for (const [options, type] of rows)
      assert.throws(() => watchSettings(options as WatchCredentialsOptions), type, JSON.stringify(options));
    assert.equal(watchSettings({ pollIntervalMs: 10 }).pollMs, 10);
  });

  it('isCredentialSource: every method of a credential source', () => {
    const fn = () => undefined;
    const full = { list: fn, load: fn, version: fn, watchPaths: fn, files: fn, kind: 'test' };
    assert.equal(isCredentialSource(full), true);
    for (const m of ['list', 'load', 'version', 'watchPaths', 'files'])
      assert.equal(isCredentialSource({ ...full, [m]: 'x' }), false, m);
    assert.equal(isCredentialSource(null), false);
    assert.equal(isCredentialSource('store'), false);
  });
});

describe('reload-policy', () => {
  it('codeOf and messageOf: what a reload error quotes of its cause', () => {
    assert.equal(codeOf(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
    assert.equal(codeOf(new TLSError('ERR_TLS_CONTEXT', 'x')), 'ERR_TLS_CONTEXT');
    assert.equal(codeOf(new RangeError('x')), 'RangeError');
    assert.equal(codeOf({ code: 7 }), 'UNKNOWN');
    assert.equal(codeOf('text'), 'UNKNOWN');
    assert.equal(messageOf(new Error('two\n   lines\tand tabs')), 'two lines and tabs');
    assert.equal(messageOf('plain'), 'plain');
    assert.equal(messageOf(new Error('x'.repeat(1000))).length, 400);
  });

  describe('judgeCandidate', () => {
    let leaf: Made;
    let good: ReloadCandidate;
    before(async () => {
      leaf = await makeLeaf('mail.example.org', inter, {
        san: [{ dns: 'mail.example.org' }, { dns: '*.example.org' }],
      });
      good = await candidate(leaf);
    });

    it('accepts a valid pair with the patterns it is served for', () => {
      assert.deepEqual(
        judgeCandidate(good, { served: undefined, clock: at, mustCover: 'mail.example.org' }),
        {
          kind: 'accept',
          patterns: ['*.example.org', 'mail.example.org'],
        },
      );
      // covered by the wildcard
      assert.equal(
        judgeCandidate(good, { served: undefined, clock: at, mustCover: 'smtp.example.org' }).kind,
        'accept',
      );
    });

    it('the pair in service again is the same, and the clock is not read', () => {
      let reads = 0;
      const clock = () => {
        reads++;
        return AT;
      };
      const again = { ...good, version: 'v2' };
      assert.deepEqual(judgeCandidate(again, { served: good, clock, mustCover: undefined }), {
        kind: 'same',
      });
      assert.equal(reads, 0);
      // a new key with the same certificate is not the same pair
      assert.equal(
        judgeCandidate({ ...good, key: 'another key' }, { served: good, clock, mustCover: undefined }).kind,
        'accept',
      );
      assert.equal(reads, 1);
    });

    it('refuses an expired or not yet valid leaf or intermediate, unless the clock is off', async () => {
      const expired = await candidate(
        await makeLeaf('mail.example.org', inter, {
          notBefore: new Date('2025-01-01Z'),
          notAfter: new Date('2026-01-01Z'),
        }),
      );
      const early = await candidate(
        await makeLeaf('mail.example.org', inter, { notBefore: new Date('2028-01-01Z') }),
      );
      const oldInter = await makeIntermediate('Old Intermediate', root, {
        notAfter: new Date('2027-01-01Z'),
      });
      const underOld = await makeLeaf('mail.example.org', oldInter);
      const viaOld = await candidate(underOld, 'v1', [underOld, oldInter]);
      const rules = { served: undefined, clock: at, mustCover: undefined };
      assert.deepEqual(judgeCandidate(expired, rules), {
        kind: 'refuse',
        reason: 'CERT_EXPIRED',
        message: 'the certificate expired on 2026-01-01T00:00:00.000Z; install a renewed certificate',
      });
      assert.deepEqual(judgeCandidate(early, rules), {
        kind: 'refuse',
        reason: 'CERT_NOT_YET_VALID',
        message:
          'the certificate is not valid before 2028-01-01T00:00:00.000Z; check the clock or wait until then',
      });
      const v = judgeCandidate(viaOld, rules);
      assert.equal(v.kind === 'refuse' && v.reason, 'CERT_EXPIRED');
      assert.match(
        v.kind === 'refuse' ? v.message : '',
        /^intermediate 1 \(CN=Old Intermediate,.*\) expired on 2027-01-01/,
      );
      for (const c of [expired, early, viaOld])
        assert.equal(judgeCandidate(c, { ...rules, clock: undefined }).kind, 'accept');
    });

    it('refuses a leaf without a DNS name, and one that does not cover its own name', async () => {
      const ipOnly = await candidate(
        await makeCert({ subject: 'CN=mail.example.org', issuer: inter, san: [{ ip: [192, 0, 2, 1] }] }),
      );
      assert.deepEqual(judgeCandidate(ipOnly, { served: undefined, clock: at, mustCover: undefined }), {
        kind: 'refuse',
        reason: 'NO_DNS_NAMES',
        message: 'the certificate has no DNS name in its subjectAltName, so no client can ask for it by name',
      });
      assert.deepEqual(judgeCandidate(good, { served: undefined, clock: at, mustCover: 'example.org' }), {
        kind: 'refuse',
        reason: 'NAME_NOT_COVERED',
        message: 'the certificate does not cover example.org; it names *.example.org, mail.example.org',
      });
    });
  });

  it('reloadError: what stays in service and why', () => {
    const served = { version: 'v1', fingerprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66' };
    const cause = new Error('bad\n pair');
    const e = reloadError({
      domain: 'mail.example.org',
      sourceKind: 'certbot',
      cause,
      reason: 'CERT_EXPIRED',
      candidate: { version: 'v2', fingerprint: 'F1:F2' },
      served,
    });
    assert.ok(isMailTlsError(e, 'ERR_TLS_RELOAD'));
    assert.equal(
      e.message,
      'Reloading the TLS certificate of mail.example.org from the certbot source failed and the certificate in ' +
        `service (SHA-256 AA:BB:CC:DD:EE:FF:00:11..., version v1) stays in service: bad pair`,
    );
    assert.deepEqual(e.details, {
      domain: 'mail.example.org',
      reason: 'CERT_EXPIRED',
      version: 'v2',
      fingerprint: 'F1:F2',
      servedFingerprint: served.fingerprint,
      servedVersion: 'v1',
    });
    assert.equal(e.cause, cause);
    const first = reloadError({
      domain: 'new.example.org',
      sourceKind: 'mailtls',
      cause: 'unreadable',
      reason: 'UNKNOWN',
      candidate: undefined,
      served: undefined,
    });
    assert.match(first.message, /failed and nothing is served for it yet: unreadable$/);
    assert.deepEqual(first.details, { domain: 'new.example.org', reason: 'UNKNOWN' });
  });

  it('listError: the listing failed, what is loaded stays', () => {
    const cause = Object.assign(new Error('permission denied'), { code: 'EACCES' });
    const e = listError('kubernetes', cause);
    assert.ok(isMailTlsError(e, 'ERR_TLS_RELOAD'));
    assert.equal(
      e.message,
      'Listing the credentials of the kubernetes source failed; what is loaded stays in service: permission denied',
    );
    assert.deepEqual(e.details, { reason: 'EACCES' });
    assert.equal(e.cause, cause);
  });

  it('stamps: unchanged files do nothing, refused files are reported once, force loads', () => {
    const memory: StampMemory = { stamp: undefined, failedStamp: undefined, lastError: undefined };
    assert.deepEqual(checkStep(memory, 'v1|a', false), { kind: 'load' });
    rememberServed(memory, 'v1|a');
    assert.deepEqual(checkStep(memory, 'v1|a', false), { kind: 'unchanged' });
    assert.deepEqual(checkStep(memory, 'v1|a', true), { kind: 'load' });
    const error = new TLSError('ERR_TLS_RELOAD', 'refused');
    assert.deepEqual(checkStep(memory, 'v2|b', false), { kind: 'load' });
    assert.equal(rememberRefusal(memory, 'v2|b', error), true);
    assert.equal(memory.stamp, 'v1|a', 'the pair in service stays');
    assert.deepEqual(checkStep(memory, 'v2|b', false), { kind: 'failed', error });
    assert.deepEqual(checkStep(memory, 'v2|b', true), { kind: 'load' });
    assert.equal(rememberRefusal(memory, 'v2|b', error), false, 'the same files refused again are no news');
    assert.equal(rememberRefusal(memory, 'v3|c', error), true);
    rememberServed(memory, 'v4|d');
    assert.deepEqual(memory, { stamp: 'v4|d', failedStamp: undefined, lastError: undefined });
    assert.equal(rememberRefusal(memory, 'v3|c', error), true, 'after a success, a refusal is news again');
  });

  describe('CoalescedRuns', () => {
    /** A task whose runs finish when the test says so. */
    function gate() {
      const runs: { force: boolean; finish: (v: number) => void; fail: (e: Error) => void }[] = [];
      const task = (force: boolean) =>
        new Promise<number>((finish, fail) => {
          runs.push({ force, finish, fail });
        });
      return { runs, task };
    }
    const settle = () => new Promise<void>((r) => setImmediate(r));

    it('runs one at a time; requests made while one runs share the next run, force sticks', async () => {
      const { runs, task } = gate();
      const c = new CoalescedRuns(task);
      assert.equal(c.busy, false);
      assert.equal(c.last, undefined);
      const first = c.request(false);
      assert.equal(c.busy, true);
      await settle();
      assert.equal(runs.length, 1);
      const second = c.request(false);
      const third = c.request(true);
      const fourth = c.request(false);
      assert.equal(second, third);
      assert.equal(third, fourth);
      assert.equal(c.last, fourth);
      await settle();
      assert.equal(runs.length, 1, 'the next run waits for the running one');
      runs[0]!.finish(1);
      assert.equal(await first, 1);
      await settle();
      assert.equal(runs.length, 2);
      assert.deepEqual(
        runs.map((r) => r.force),
        [false, true],
      );
      // a request while the second runs: a third run, not forced
      const fifth = c.request(false);
      assert.notEqual(fifth, second);
      runs[1]!.finish(2);
      assert.equal(await second, 2);
      assert.equal(c.busy, true, 'the fifth is still to run');
      await settle();
      runs[2]!.finish(3);
      assert.equal(await fifth, 3);
      assert.deepEqual(
        runs.map((r) => r.force),
        [false, true, false],
      );
      await settle();
      assert.equal(c.busy, false);
    });

    it('a failed run rejects its requests and the next run still starts', async () => {
      const { runs, task } = gate();
      const c = new CoalescedRuns(task);
      const first = c.request(false);
      await settle();
      const second = c.request(false);
      runs[0]!.fail(new Error('broken'));
      await assert.rejects(first, /broken/);
      await settle();
      assert.equal(runs.length, 2);
      runs[1]!.finish(7);
      assert.equal(await second, 7);
      await settle();
      assert.equal(c.busy, false);
    });
  });

  it('watchedName: a name not loaded yet', () => {
    assert.deepEqual(watchedName('Mail.Example.org'), {
      domain: 'Mail.Example.org',
      selfPattern: 'mail.example.org',
      credential: undefined,
      version: undefined,
      fingerprint: undefined,
      stamp: undefined,
      failedStamp: undefined,
      lastError: undefined,
      reloadedAt: undefined,
      removed: false,
      rearm: false,
    });
  });
});

describe('reload-results', () => {
  const failed = (domain: string) => ({
    kind: 'failed' as const,
    domain,
    error: new TLSError('ERR_TLS_RELOAD', `${domain} refused`),
  });

  it('refreshResult sorts by name; removed names keep their order', () => {
    const r = refreshResult(
      ['z.org', 'm.org'],
      [
        { kind: 'unchanged', domain: 'd.org' },
        failed('f.org'),
        { kind: 'reloaded', domain: 'c.org' },
        { kind: 'removed', domain: 'b.org' },
        { kind: 'unchanged', domain: 'a.org' },
        failed('e.org'),
        { kind: 'reloaded', domain: 'b2.org' },
      ],
    );
    assert.deepEqual(r.reloaded, ['b2.org', 'c.org']);
    assert.deepEqual(r.unchanged, ['a.org', 'd.org']);
    assert.deepEqual(
      r.failed.map((f) => [f.domain, f.error.message]),
      [
        ['e.org', 'e.org refused'],
        ['f.org', 'f.org refused'],
      ],
    );
    assert.deepEqual(r.removed, ['z.org', 'm.org', 'b.org']);
    assert.deepEqual(refreshResult([], []), { reloaded: [], unchanged: [], failed: [], removed: [] });
    assert.deepEqual(['b', 'a', 'c'].map((domain) => ({ domain })).sort(byDomain), [
      { domain: 'a' },
      { domain: 'b' },
      { domain: 'c' },
    ]);
  });

  it('reloadEvent names the names the domain no longer serves', async () => {
    const leaf = await makeLeaf('mail.example.org', inter);
    const e = reloadEvent({
      domain: 'mail.example.org',
      oldVersion: 'v1',
      credential: { version: 'v2', leaf: leaf.cert },
      fingerprint: 'NEW',
      oldFingerprint: 'OLD',
      before: ['mail.example.org', 'old.example.org'],
      names: ['mail.example.org', 'smtp.example.org'],
      isDefault: true,
    });
    assert.deepEqual(e, {
      domain: 'mail.example.org',
      oldVersion: 'v1',
      newVersion: 'v2',
      fingerprint: 'NEW',
      oldFingerprint: 'OLD',
      notAfter: leaf.cert.notAfter,
      names: ['mail.example.org', 'smtp.example.org'],
      removedNames: ['old.example.org'],
      isDefault: true,
    });
  });

  it('watchedStatus: the default only with a pair in service', async () => {
    const name = watchedName('example.org');
    assert.equal(watchedStatus(name, [], 'example.org').isDefault, false);
    const leaf = await makeLeaf('example.org', inter);
    const pair = await candidate(leaf);
    const error = new TLSError('ERR_TLS_RELOAD', 'refused');
    Object.assign(name, {
      credential: servedPair(pair),
      version: 'v3',
      fingerprint: 'FP',
      reloadedAt: AT,
      lastError: error,
    });
    assert.deepEqual(watchedStatus(name, ['example.org'], 'example.org'), {
      domain: 'example.org',
      version: 'v3',
      fingerprint: 'FP',
      notAfter: leaf.cert.notAfter,
      names: ['example.org'],
      isDefault: true,
      reloadedAt: AT,
      lastError: error,
    });
    assert.equal(watchedStatus(name, ['example.org'], 'other.org').isDefault, false);
  });
});
