import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HostnameError } from '../src/errors.js';
import { coverage, type MailHostnameOptions, suggestMailHostnames } from '../src/names/coverage.js';
import { type CertificateNames, matchHostname, tryCanonicalizeHostname } from '../src/names/hostname.js';
import { openssl, opensslCertificate } from './helpers/openssl-names.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);

describe('coverage: suggestMailHostnames', () => {
  const rows: { name: string; input: [string, MailHostnameOptions?]; want: string[] }[] = [
    {
      name: 'the usual four',
      input: ['Example.COM.'],
      want: ['example.com', 'mail.example.com', 'smtp.example.com', 'imap.example.com'],
    },
    {
      name: 'everything on request',
      input: ['example.com', { pop3: true, mtaSts: true, autoconfig: true, extraLabels: ['MX1', 'mail'] }],
      want: [
        'example.com',
        'mail.example.com',
        'smtp.example.com',
        'imap.example.com',
        'pop.example.com',
        'mta-sts.example.com',
        'autoconfig.example.com',
        'autodiscover.example.com',
        'mx1.example.com',
      ],
    },
    {
      name: 'an internationalized domain in A-labels',
      input: ['bücher.example'],
      want: [
        'xn--bcher-kva.example',
        'mail.xn--bcher-kva.example',
        'smtp.xn--bcher-kva.example',
        'imap.xn--bcher-kva.example',
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(suggestMailHostnames(...row.input), row.want));
  }

  const bad: { name: string; input: [string, MailHostnameOptions?]; wantReason: string }[] = [
    { name: 'an invalid domain', input: ['exa mple.com'], wantReason: 'whitespace' },
    { name: 'an IP address', input: ['192.0.2.1'], wantReason: 'ip-address' },
    {
      name: 'an extra label with a dot',
      input: ['example.com', { extraLabels: ['a.b'] }],
      wantReason: 'invalid-character',
    },
    {
      name: 'an extra label with a hyphen at the end',
      input: ['example.com', { extraLabels: ['mx-'] }],
      wantReason: 'hyphen',
    },
    {
      name: 'an empty extra label',
      input: ['example.com', { extraLabels: [''] }],
      wantReason: 'empty-label',
    },
    {
      name: 'an extra label making the name too long',
      input: [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.com`, { extraLabels: ['x'.repeat(60)] }],
      wantReason: 'too-long',
    },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      assert.throws(
        () => suggestMailHostnames(...row.input),
        (e: unknown) =>
          e instanceof HostnameError &&
          e.code === 'ERR_HOSTNAME_INVALID' &&
          e.details.reason === row.wantReason,
      );
    });
  }

  it('throws TypeError for programmer mistakes', () => {
    assert.throws(() => suggestMailHostnames(1 as unknown as string), TypeError);
    assert.throws(
      () => suggestMailHostnames('example.com', { pop3: 'yes' as unknown as boolean }),
      TypeError,
    );
    assert.throws(
      () => suggestMailHostnames('example.com', { extraLabels: 'mx' as unknown as string[] }),
      TypeError,
    );
    assert.throws(
      () => suggestMailHostnames('example.com', null as unknown as MailHostnameOptions),
      TypeError,
    );
  });
});

describe('coverage: coverage', () => {
  it('a bare-domain plus wildcard certificate covers the usual names', () => {
    const c = coverage(
      { dnsNames: ['example.com', '*.example.com'] },
      suggestMailHostnames('example.com', { pop3: true }),
    );
    assert.deepEqual(c.covered, [
      'example.com',
      'mail.example.com',
      'smtp.example.com',
      'imap.example.com',
      'pop.example.com',
    ]);
    assert.deepEqual(c.uncovered, []);
    assert.deepEqual(c.unusedNames, []);
    assert.equal(c.entries[1]!.matchedName, '*.example.com');
  });

  it('a single-name certificate leaves the others uncovered and says which names go unused', () => {
    const c = coverage(
      {
        dnsNames: ['mail.example.com', 'www.example.com'],
        ipAddresses: ['192.0.2.25'],
        commonName: 'example.com',
      },
      ['example.com', 'MAIL.example.com', 'smtp.example.com', 'mail.example.com.', 'bad..name', '192.0.2.25'],
    );
    assert.deepEqual(c.covered, ['mail.example.com', '192.0.2.25']);
    assert.deepEqual(c.uncovered, ['example.com', 'smtp.example.com']);
    assert.deepEqual(c.invalid, ['bad..name']);
    assert.deepEqual(c.unusedNames, ['www.example.com']);
    assert.deepEqual(c.validNames, ['mail.example.com', 'www.example.com', '192.0.2.25']);
    assert.deepEqual(
      c.entries.map((e) => [e.name, e.host, e.covered, e.via, e.problem]),
      [
        ['example.com', 'example.com', false, null, null],
        ['MAIL.example.com', 'mail.example.com', true, 'dns-san', null],
        ['smtp.example.com', 'smtp.example.com', false, null, null],
        ['mail.example.com.', 'mail.example.com', true, 'dns-san', null],
        ['bad..name', null, false, null, 'empty-label'],
        ['192.0.2.25', '192.0.2.25', true, 'ip-san', null],
      ],
    );
    assert.deepEqual(c.ignoredNames, [
      { name: 'example.com', source: 'common-name', reason: 'common-name-with-dns-san' },
    ]);
  });

  it('a wildcard does not cover the bare domain', () => {
    const c = coverage({ dnsNames: ['*.example.com'] }, suggestMailHostnames('example.com'));
    assert.deepEqual(c.uncovered, ['example.com']);
  });

  it('a Common-Name-only certificate covers nothing unless legacyCommonName is set', () => {
    const names = { commonName: 'mail.example.com' };
    assert.deepEqual(coverage(names, ['mail.example.com']).covered, []);
    const legacy = coverage(names, ['mail.example.com', 'smtp.example.com'], { legacyCommonName: true });
    assert.deepEqual(legacy.covered, ['mail.example.com']);
    assert.equal(legacy.entries[0]!.via, 'common-name');
  });

  it('agrees with OpenSSL on certificates made by the openssl CLI', () => {
    const cases = [
      { san: 'DNS:example.com,DNS:*.example.com' },
      { san: 'DNS:mail.example.com,DNS:smtp.example.com,DNS:imap.example.com' },
      { san: 'DNS:example.com,DNS:mail.example.com' },
    ];
    const hosts = suggestMailHostnames('example.com', { pop3: true });
    for (const { san } of cases) {
      const cert = opensslCertificate({ subjectAltName: san });
      const c = coverage({ dnsNames: cert.names.dnsNames }, hosts);
      for (const host of hosts) {
        const out = openssl(['x509', '-noout', '-checkhost', host], cert.pem);
        assert.equal(c.covered.includes(host), / does match certificate/.test(out), `${san} ${host}`);
      }
    }
  });

  it('throws TypeError for programmer mistakes', () => {
    assert.throws(() => coverage({ dnsNames: [] }, 'mail.example.com' as unknown as string[]), TypeError);
    assert.throws(() => coverage({ dnsNames: [] }, [1 as unknown as string]), TypeError);
    assert.throws(() => coverage(null as unknown as CertificateNames, []), TypeError);
  });

  it('covers a name exactly when matchHostname says so, and partitions the valid names', () => {
    const name = fc.oneof(
      fc.constantFrom(
        'example.com',
        'mail.example.com',
        'a.b.example.com',
        '*.example.com',
        '*.com',
        'x..y',
        'MAIL.Example.com',
      ),
      fc.domain(),
    );
    fc.assert(
      fc.property(fc.array(name, { maxLength: 4 }), fc.array(name, { maxLength: 6 }), (dnsNames, hosts) => {
        const c = coverage({ dnsNames }, hosts);
        for (const host of hosts) {
          const canonical = tryCanonicalizeHostname(host);
          if (canonical === undefined) {
            assert.ok(c.invalid.includes(host));
            continue;
          }
          const covered = matchHostname({ dnsNames }, host);
          assert.equal(c.covered.includes(canonical), covered);
          assert.equal(c.uncovered.includes(canonical), !covered);
        }
        assert.equal(new Set([...c.covered, ...c.uncovered]).size, c.covered.length + c.uncovered.length);
        for (const unused of c.unusedNames) assert.ok(c.validNames.includes(unused));
      }),
      { numRuns: runs },
    );
  });
});
