// The SNI name lookup: exact, one-label wildcard, default, over canonical names; pattern canonicalisation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HostnameError, isMailTlsError } from '../src/errors.js';
import { tryCanonicalizeHostname } from '../src/names/hostname.js';
import {
  canonicalizeServername,
  canonicalizeSNIPattern,
  lookupSNIName,
  type SNILookup,
} from '../src/names/sni.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? '') || 300;

describe('canonicalizeSNIPattern', () => {
  const rows: { name: string; input: string; want: string }[] = [
    { name: 'lower case, trailing dot removed', input: 'Mail.Example.ORG.', want: 'mail.example.org' },
    { name: 'Unicode to A-label', input: 'bücher.example', want: 'xn--bcher-kva.example' },
    { name: 'wildcard', input: '*.Example.org', want: '*.example.org' },
    { name: 'wildcard over an IDN', input: '*.bücher.example', want: '*.xn--bcher-kva.example' },
  ];
  for (const row of rows) it(row.name, () => assert.equal(canonicalizeSNIPattern(row.input), row.want));

  const bad: { name: string; input: string; wantCode: 'ERR_HOSTNAME_INVALID' }[] = [
    { name: 'wildcard over a TLD', input: '*.org', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'partial wildcard', input: 'f*.example.org', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'wildcard not leftmost', input: 'mail.*.example.org', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'double wildcard', input: '*.*.example.org', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'IPv4 address', input: '192.0.2.1', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'empty', input: '', wantCode: 'ERR_HOSTNAME_INVALID' },
    { name: 'space', input: 'mail example.org', wantCode: 'ERR_HOSTNAME_INVALID' },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () =>
      assert.throws(
        () => canonicalizeSNIPattern(row.input),
        (e: unknown) => e instanceof HostnameError && e.code === row.wantCode,
      ));
  }
  const quoted: { name: string; input: string; want: RegExp }[] = [
    { name: 'a line break', input: 'a*\nb.example.org', want: /"a\*\\nb\.example\.org"/ },
    { name: 'a bidirectional control', input: '*\u202e.example.org', want: /"\*\\u202e\.example\.org"/ },
  ];
  for (const row of quoted) {
    it(`quotes a refused pattern with ${row.name} in the message`, () =>
      assert.throws(
        () => canonicalizeSNIPattern(row.input),
        (e: unknown) =>
          e instanceof HostnameError && row.want.test(e.message) && !/[\n\u202e]/.test(e.message),
      ));
  }
  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.domain(), fc.boolean(), (d, wild) => {
        const input = wild ? `*.${d}` : d;
        let once: string;
        try {
          once = canonicalizeSNIPattern(input);
        } catch (e) {
          assert.ok(isMailTlsError(e), String(e));
          return;
        }
        assert.equal(canonicalizeSNIPattern(once), once);
      }),
      { numRuns: runs },
    );
  });
});

describe('lookupSNIName', () => {
  const patterns = new Set([
    'mail.example.org',
    '*.example.org',
    '*.wild.example.net',
    'xn--bcher-kva.example',
  ]);
  const rows: { name: string; input: string | undefined | null; want: SNILookup }[] = [
    {
      name: 'exact',
      input: 'mail.example.org',
      want: { name: 'mail.example.org', pattern: 'mail.example.org', match: 'exact' },
    },
    {
      name: 'exact beats wildcard',
      input: 'MAIL.example.org.',
      want: { name: 'mail.example.org', pattern: 'mail.example.org', match: 'exact' },
    },
    {
      name: 'wildcard, one label',
      input: 'imap.example.org',
      want: { name: 'imap.example.org', pattern: '*.example.org', match: 'wildcard' },
    },
    {
      name: 'wildcard never two labels',
      input: 'a.imap.example.org',
      want: { name: 'a.imap.example.org', pattern: undefined, match: 'default' },
    },
    {
      name: 'wildcard never its base',
      input: 'example.org',
      want: { name: 'example.org', pattern: undefined, match: 'default' },
    },
    {
      name: 'deeper wildcard',
      input: 'x.wild.example.net',
      want: { name: 'x.wild.example.net', pattern: '*.wild.example.net', match: 'wildcard' },
    },
    {
      name: 'Unicode form (smtp-server on implicit TLS)',
      input: 'Bücher.example',
      want: { name: 'xn--bcher-kva.example', pattern: 'xn--bcher-kva.example', match: 'exact' },
    },
    {
      name: 'A-label form (raw SNI on STARTTLS)',
      input: 'xn--bcher-kva.example',
      want: { name: 'xn--bcher-kva.example', pattern: 'xn--bcher-kva.example', match: 'exact' },
    },
    {
      name: 'unknown',
      input: 'other.example.com',
      want: { name: 'other.example.com', pattern: undefined, match: 'default' },
    },
    { name: 'no SNI', input: undefined, want: { name: undefined, pattern: undefined, match: 'default' } },
    { name: 'null SNI', input: null, want: { name: undefined, pattern: undefined, match: 'default' } },
    { name: 'empty SNI', input: '', want: { name: undefined, pattern: undefined, match: 'default' } },
    {
      name: 'an IP address in SNI',
      input: '192.0.2.1',
      want: { name: undefined, pattern: undefined, match: 'default' },
    },
    {
      name: 'a literal wildcard in SNI',
      input: '*.example.org',
      want: { name: undefined, pattern: undefined, match: 'default' },
    },
    {
      name: 'garbage',
      input: 'a\u0000b.example.org',
      want: { name: undefined, pattern: undefined, match: 'default' },
    },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(lookupSNIName(patterns, row.input), row.want));

  it('never throws for any string and only answers registered patterns that cover the name', () => {
    const registered = new Set(['mail.example.org', '*.example.org', '*.a.b.c']);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.domain(),
          fc.domain().map((d) => `x.${d}`),
        ),
        (s) => {
          const r = lookupSNIName(registered, s);
          assert.equal(r.name, canonicalizeServername(s));
          if (r.match === 'exact') assert.equal(r.pattern, r.name);
          if (r.match === 'wildcard') assert.equal(r.pattern, `*${r.name!.slice(r.name!.indexOf('.'))}`);
          if (r.match === 'default') assert.equal(r.pattern, undefined);
          if (r.pattern !== undefined) assert.ok(registered.has(r.pattern));
        },
      ),
      { numRuns: runs },
    );
  });

  it('canonicalizeServername agrees with tryCanonicalizeHostname', () => {
    fc.assert(
      fc.property(fc.domain(), (d) => assert.equal(canonicalizeServername(d), tryCanonicalizeHostname(d))),
      { numRuns: runs },
    );
    // The fast path for already canonical names agrees with the full canonicalisation on LDH-like strings.
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), (d) =>
        assert.equal(canonicalizeServername(d), tryCanonicalizeHostname(d), d),
      ),
      { numRuns: runs * 3 },
    );
    for (const d of [
      'xn--bcher-kva.example',
      'ab--c.example',
      'a.123',
      'a-.example',
      `${'a'.repeat(64)}.example`,
    ]) {
      assert.equal(canonicalizeServername(d), tryCanonicalizeHostname(d), d);
    }
    assert.equal(canonicalizeServername('x'.repeat(2000)), undefined);
    assert.throws(() => canonicalizeServername(5 as never), TypeError);
  });
});
