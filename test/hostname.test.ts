import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HostnameError, MailTlsError } from '../src/errors.js';
import { classifyPresented, isWildcardOnPublicSuffix } from '../src/internal/names/dns-name.js';
import {
  type CertificateNames,
  canonicalizeHostname,
  checkHostname,
  type HostnameMatchOptions,
  matchHostname,
  tryCanonicalizeHostname,
  verifyHostname,
} from '../src/names/hostname.js';
import { openssl, opensslCertificate } from './helpers/openssl-names.js';
import { cpuStopwatch } from './helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);

describe('hostname: canonicalizeHostname', () => {
  const good = [
    { name: 'lower-cases and drops one trailing dot', input: 'Mail.Example.COM.', want: 'mail.example.com' },
    { name: 'keeps a single label', input: 'localhost', want: 'localhost' },
    { name: 'converts U-labels to A-labels', input: 'bücher.example', want: 'xn--bcher-kva.example' },
    { name: 'UTS #46 non-transitional (ß kept)', input: 'faß.de', want: 'xn--fa-hia.de' },
    { name: 'maps full-width letters and dots', input: 'ＥＸＡＭＰＬＥ．com', want: 'example.com' },
    { name: 'maps the ideographic full stop', input: 'mail。example.com', want: 'mail.example.com' },
    { name: 'lower-cases a valid A-label', input: 'XN--BCHER-KVA.example', want: 'xn--bcher-kva.example' },
    { name: 'accepts inner double hyphens', input: 'good--example.com', want: 'good--example.com' },
    { name: 'accepts digits in labels', input: '1mail.example2.com', want: '1mail.example2.com' },
    { name: 'accepts a 63-character label', input: `${'a'.repeat(63)}.com`, want: `${'a'.repeat(63)}.com` },
    {
      name: 'accepts 253 characters',
      input: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
      want: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
    },
  ];
  for (const row of good) {
    it(row.name, () => {
      assert.equal(canonicalizeHostname(row.input), row.want);
      assert.equal(tryCanonicalizeHostname(row.input), row.want);
    });
  }

  const bad = [
    { name: 'empty', input: '', wantReason: 'empty' },
    { name: 'a lone dot', input: '.', wantReason: 'empty-label' },
    { name: 'two dots', input: '..', wantReason: 'empty-label' },
    { name: 'two trailing dots', input: 'example.com..', wantReason: 'empty-label' },
    { name: 'an empty inner label', input: 'a..example.com', wantReason: 'empty-label' },
    { name: 'a leading dot', input: '.example.com', wantReason: 'empty-label' },
    { name: 'a leading hyphen', input: '-mail.example.com', wantReason: 'hyphen' },
    { name: 'a trailing hyphen', input: 'mail-.example.com', wantReason: 'hyphen' },
    { name: 'an underscore', input: 'mail_1.example.com', wantReason: 'invalid-character' },
    { name: 'a wildcard', input: '*.example.com', wantReason: 'invalid-character' },
    { name: 'a percent escape', input: 'ex%61mple.com', wantReason: 'invalid-character' },
    { name: 'a colon', input: 'foo:bar', wantReason: 'invalid-character' },
    { name: 'a space', input: 'exa mple.com', wantReason: 'whitespace' },
    { name: 'an ideographic space', input: 'exa\u3000mple.com', wantReason: 'whitespace' },
    { name: 'NUL', input: 'mail.example.com\u0000.evil.com', wantReason: 'control-character' },
    { name: 'a C1 control', input: 'mail\u0085.example.com', wantReason: 'control-character' },
    { name: 'DEL', input: 'mail\u007f.example.com', wantReason: 'control-character' },
    { name: 'a 64-character label', input: `${'a'.repeat(64)}.com`, wantReason: 'label-too-long' },
    {
      name: '254 characters',
      input: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
      wantReason: 'too-long',
    },
    { name: 'a huge input', input: 'a'.repeat(5000), wantReason: 'too-long' },
    { name: 'an IPv4 address', input: '192.0.2.1', wantReason: 'ip-address' },
    { name: 'an IPv6 address', input: '2001:db8::1', wantReason: 'ip-address' },
    { name: 'full-width digits mapping to IPv4', input: '１２７.０.０.１', wantReason: 'ip-address' },
    { name: 'an all-digit last label', input: 'mail.example.123', wantReason: 'numeric-tld' },
    { name: 'an invalid A-label', input: 'xn--a.example.com', wantReason: 'a-label' },
    { name: 'an A-label with bad Punycode', input: 'xn--zz.example.com', wantReason: 'a-label' },
    { name: 'an empty A-label', input: 'xn--.example.com', wantReason: 'hyphen' },
    { name: 'a zero-width joiner out of context', input: 'a\u200db.example', wantReason: 'idna' },
    { name: 'a disallowed code point', input: 'a\u2028b.example', wantReason: 'whitespace' },
  ];
  for (const row of bad) {
    it(`refuses ${row.name} with ERR_HOSTNAME_INVALID`, () => {
      assert.throws(
        () => canonicalizeHostname(row.input),
        (e: unknown) => {
          assert.ok(e instanceof HostnameError);
          assert.equal(e.code, 'ERR_HOSTNAME_INVALID');
          assert.equal(e.details.reason, row.wantReason);
          // The name is quoted JSON-style: control characters never reach a log raw.
          assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f-\u009f]/);
          assert.ok(e.message.length < 600);
          return true;
        },
      );
      assert.equal(tryCanonicalizeHostname(row.input), undefined);
    });
  }

  it('throws TypeError for a non-string', () => {
    assert.throws(() => canonicalizeHostname(undefined as unknown as string), TypeError);
    assert.throws(() => tryCanonicalizeHostname(42 as unknown as string), TypeError);
  });
});

describe('hostname: matchHostname', () => {
  const rows: {
    name: string;
    names: CertificateNames;
    host: string;
    options?: HostnameMatchOptions;
    want: boolean;
  }[] = [
    { name: 'exact name', names: { dnsNames: ['mail.example.com'] }, host: 'mail.example.com', want: true },
    {
      name: 'case-insensitive both ways',
      names: { dnsNames: ['MAIL.example.COM'] },
      host: 'Mail.EXAMPLE.com',
      want: true,
    },
    {
      name: 'host trailing dot removed',
      names: { dnsNames: ['mail.example.com'] },
      host: 'mail.example.com.',
      want: true,
    },
    {
      name: 'certificate trailing dot ignored',
      names: { dnsNames: ['mail.example.com.'] },
      host: 'mail.example.com',
      want: false,
    },
    { name: 'other name', names: { dnsNames: ['mail.example.com'] }, host: 'smtp.example.com', want: false },
    {
      name: 'any of several names',
      names: { dnsNames: ['a.example', 'smtp.example.com'] },
      host: 'smtp.example.com',
      want: true,
    },
    {
      name: 'wildcard covers one label',
      names: { dnsNames: ['*.example.com'] },
      host: 'smtp.example.com',
      want: true,
    },
    {
      name: 'wildcard not the bare parent',
      names: { dnsNames: ['*.example.com'] },
      host: 'example.com',
      want: false,
    },
    {
      name: 'wildcard not two labels',
      names: { dnsNames: ['*.example.com'] },
      host: 'a.smtp.example.com',
      want: false,
    },
    {
      name: 'wildcard covers an A-label',
      names: { dnsNames: ['*.example.com'] },
      host: 'xn--bcher-kva.example.com',
      want: true,
    },
    {
      name: 'wildcard covers a U-label host',
      names: { dnsNames: ['*.example.com'] },
      host: 'bücher.example.com',
      want: true,
    },
    {
      name: 'wildcard over A-label parent',
      names: { dnsNames: ['*.xn--bcher-kva.example'] },
      host: 'mail.bücher.example',
      want: true,
    },
    {
      name: 'U-label host vs A-label name',
      names: { dnsNames: ['xn--bcher-kva.example'] },
      host: 'BÜCHER.example',
      want: true,
    },
    {
      name: 'U-label in the certificate ignored',
      names: { dnsNames: ['bücher.example'] },
      host: 'bücher.example',
      want: false,
    },
    {
      name: 'partial wildcard ignored',
      names: { dnsNames: ['f*.example.com'] },
      host: 'foo.example.com',
      want: false,
    },
    {
      name: 'suffix wildcard ignored',
      names: { dnsNames: ['*oo.example.com'] },
      host: 'foo.example.com',
      want: false,
    },
    {
      name: 'wildcard inside an A-label ignored',
      names: { dnsNames: ['xn--*.example.com'] },
      host: 'xn--bcher-kva.example.com',
      want: false,
    },
    {
      name: 'two wildcards ignored',
      names: { dnsNames: ['*.*.example.com'] },
      host: 'a.b.example.com',
      want: false,
    },
    {
      name: 'inner wildcard ignored',
      names: { dnsNames: ['mail.*.example.com'] },
      host: 'mail.x.example.com',
      want: false,
    },
    { name: 'wildcard on a TLD ignored', names: { dnsNames: ['*.com'] }, host: 'example.com', want: false },
    { name: 'sole wildcard ignored', names: { dnsNames: ['*'] }, host: 'localhost', want: false },
    {
      name: 'wildcard on an ICANN suffix ignored',
      names: { dnsNames: ['*.co.uk'] },
      host: 'example.co.uk',
      want: false,
    },
    {
      name: 'wildcard on a PSL wildcard suffix ignored',
      names: { dnsNames: ['*.foo.kawasaki.jp'] },
      host: 'a.foo.kawasaki.jp',
      want: false,
    },
    {
      name: 'wildcard on a PSL exception allowed',
      names: { dnsNames: ['*.city.kawasaki.jp'] },
      host: 'www.city.kawasaki.jp',
      want: true,
    },
    {
      name: 'wildcard under a registrable domain',
      names: { dnsNames: ['*.example.co.uk'] },
      host: 'mail.example.co.uk',
      want: true,
    },
    {
      name: 'wildcard on a private suffix allowed',
      names: { dnsNames: ['*.appspot.com'] },
      host: 'x.appspot.com',
      want: true,
    },
    {
      name: 'wildcard on a private suffix refused on request',
      names: { dnsNames: ['*.appspot.com'] },
      host: 'x.appspot.com',
      options: { privateSuffixWildcards: false },
      want: false,
    },
    {
      name: 'wildcards off',
      names: { dnsNames: ['*.example.com'] },
      host: 'mail.example.com',
      options: { wildcards: false },
      want: false,
    },
    {
      name: 'wildcard unknown TLD, two labels',
      names: { dnsNames: ['*.corp.internal'] },
      host: 'mx.corp.internal',
      want: true,
    },
    {
      name: 'IPv4 host vs iPAddress',
      names: { ipAddresses: ['192.0.2.25'] },
      host: '192.0.2.25',
      want: true,
    },
    {
      name: 'IPv4 host vs other iPAddress',
      names: { ipAddresses: ['192.0.2.25'] },
      host: '192.0.2.26',
      want: false,
    },
    {
      name: 'IPv6 host in any form',
      names: { ipAddresses: ['2001:db8::25'] },
      host: '[2001:DB8:0:0::0:25]',
      want: true,
    },
    {
      name: 'iPAddress in uncompressed form',
      names: { ipAddresses: ['2001:0:0:0:0:0:0:CAFE'] },
      host: '2001::cafe',
      want: true,
    },
    {
      name: 'IPv4 vs IPv4-mapped IPv6 differ',
      names: { ipAddresses: ['192.0.2.25'] },
      host: '::ffff:192.0.2.25',
      want: false,
    },
    {
      name: 'IP host never vs dNSName',
      names: { dnsNames: ['192.0.2.25'] },
      host: '192.0.2.25',
      want: false,
    },
    { name: 'IP host never vs wildcard', names: { dnsNames: ['*.0.2.25'] }, host: '192.0.2.25', want: false },
    { name: 'IP host short form refused', names: { ipAddresses: ['127.0.0.1'] }, host: '127.1', want: false },
    { name: 'IPv6 zone refused', names: { ipAddresses: ['fe80::1'] }, host: 'fe80::1%eth0', want: false },
    {
      name: 'CIDR iPAddress ignored',
      names: { ipAddresses: ['192.0.2.0/24'] },
      host: '192.0.2.25',
      want: false,
    },
    {
      name: 'CN ignored by default',
      names: { commonName: 'mail.example.com' },
      host: 'mail.example.com',
      want: false,
    },
    {
      name: 'CN with legacyCommonName',
      names: { commonName: 'mail.example.com' },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: true,
    },
    {
      name: 'nested subject CN with legacyCommonName',
      names: { subject: { commonName: '*.example.com' } },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: true,
    },
    {
      name: 'CN never when a dNSName exists',
      names: { dnsNames: ['other.example.com'], commonName: 'mail.example.com' },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: false,
    },
    {
      name: 'CN never when an invalid dNSName exists',
      names: { dnsNames: ['bad name'], commonName: 'mail.example.com' },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: false,
    },
    {
      name: 'CN allowed beside IP entries only',
      names: { ipAddresses: ['192.0.2.25'], commonName: 'mail.example.com' },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: true,
    },
    {
      name: 'CN never for an IP host',
      names: { commonName: '192.0.2.25' },
      host: '192.0.2.25',
      options: { legacyCommonName: true },
      want: false,
    },
    {
      name: 'CN with NUL refused',
      names: { commonName: 'mail.example.com\u0000.evil.com' },
      host: 'mail.example.com',
      options: { legacyCommonName: true },
      want: false,
    },
    {
      name: 'NUL in a dNSName',
      names: { dnsNames: ['mail.example.com\u0000'] },
      host: 'mail.example.com',
      want: false,
    },
    {
      name: 'NUL in the host',
      names: { dnsNames: ['mail.example.com'] },
      host: 'mail.example.com\u0000',
      want: false,
    },
    {
      name: 'Kelvin sign is not k',
      names: { dnsNames: ['\u212aey.example'] },
      host: 'key.example',
      want: false,
    },
    { name: 'empty certificate', names: {}, host: 'mail.example.com', want: false },
    { name: 'invalid host', names: { dnsNames: ['a..example'] }, host: 'a..example', want: false },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.equal(matchHostname(row.names, row.host, row.options), row.want);
      assert.equal(checkHostname(row.names, row.host, row.options).matched, row.want);
      if (row.want) verifyHostname(row.names, row.host, row.options);
      else assert.throws(() => verifyHostname(row.names, row.host, row.options), HostnameError);
    });
  }

  it('throws TypeError for arguments of the wrong type', () => {
    const typeErrors: (() => unknown)[] = [
      () => matchHostname(null as unknown as CertificateNames, 'a.example'),
      () => matchHostname('cert' as unknown as CertificateNames, 'a.example'),
      () => matchHostname({ dnsNames: 'a.example' as unknown as string[] }, 'a.example'),
      () => matchHostname({ dnsNames: [42 as unknown as string] }, 'a.example'),
      () => matchHostname({ ipAddresses: [null as unknown as string] }, '192.0.2.1'),
      () => matchHostname({ commonName: 7 as unknown as string }, 'a.example'),
      () => matchHostname({ dnsNames: [] }, undefined as unknown as string),
      () => matchHostname({ dnsNames: [] }, 'a.example', { legacyCommonName: 'yes' as unknown as boolean }),
      () => matchHostname({ dnsNames: [] }, 'a.example', 'strict' as unknown as HostnameMatchOptions),
      () => checkHostname({ dnsNames: [1 as unknown as string] }, 'a.example'),
      () => verifyHostname({ dnsNames: [] }, 5 as unknown as string),
    ];
    for (const f of typeErrors) assert.throws(f, TypeError);
  });
});

describe('hostname: checkHostname', () => {
  it('says which name matched and how', () => {
    const names = { dnsNames: ['mail.example.com', '*.Example.NET'], ipAddresses: ['2001:DB8:0:0:0:0:0:25'] };
    const dns = checkHostname(names, 'MX.example.net.');
    assert.deepEqual(
      {
        matched: dns.matched,
        via: dns.via,
        matchedName: dns.matchedName,
        host: dns.host,
        hostType: dns.hostType,
      },
      {
        matched: true,
        via: 'dns-san',
        matchedName: '*.example.net',
        host: 'mx.example.net',
        hostType: 'dns',
      },
    );
    const ip = checkHostname(names, '[2001:db8::25]');
    assert.deepEqual(
      { via: ip.via, matchedName: ip.matchedName, host: ip.host, hostType: ip.hostType },
      { via: 'ip-san', matchedName: '2001:db8::25', host: '2001:db8::25', hostType: 'ip' },
    );
    assert.deepEqual(dns.validNames, ['mail.example.com', '*.example.net', '2001:db8::25']);
    assert.deepEqual(dns.ignoredNames, []);
  });

  it('says when the Common Name was used, and when it would have matched', () => {
    const names = { commonName: 'mail.example.com' };
    const legacy = checkHostname(names, 'mail.example.com', { legacyCommonName: true });
    assert.equal(legacy.via, 'common-name');
    assert.deepEqual(legacy.validNames, ['mail.example.com']);
    const strict = checkHostname(names, 'mail.example.com');
    assert.equal(strict.matched, false);
    assert.equal(strict.commonNameWouldMatch, true);
    assert.deepEqual(strict.ignoredNames, [
      { name: 'mail.example.com', source: 'common-name', reason: 'common-name-disabled' },
    ]);
    assert.equal(checkHostname(names, 'smtp.example.com').commonNameWouldMatch, false);
  });

  it('never falls back to the Common Name when the subjectAltName extension is unreadable', () => {
    // the certificate view: hasSubjectAltName true, subjectAltNames undefined (malformed extension)
    const names = {
      subject: { commonName: 'mail.example.com' },
      hasSubjectAltName: true,
      subjectAltNames: undefined,
    };
    const check = checkHostname(names, 'mail.example.com', { legacyCommonName: true });
    assert.equal(check.matched, false);
    assert.deepEqual(check.ignoredNames, [
      { name: 'mail.example.com', source: 'common-name', reason: 'common-name-with-unreadable-san' },
    ]);
    const readable = { ...names, subjectAltNames: [] };
    assert.equal(checkHostname(readable, 'mail.example.com', { legacyCommonName: true }).matched, true);
  });

  it('lists every ignored certificate name with its reason', () => {
    const names = {
      dnsNames: [
        'f*.example.com',
        '*.co.uk',
        '*.com',
        'a.example.',
        'bücher.example',
        'a..b',
        'x.*.example',
        'ok.example',
      ],
      ipAddresses: ['10.0.0.0/8'],
      commonName: 'legacy.example',
    };
    const r = checkHostname(names, 'ok.example');
    assert.equal(r.matched, true);
    assert.deepEqual(r.validNames, ['ok.example']);
    assert.deepEqual(
      r.ignoredNames.map((n) => [n.name, n.reason]),
      [
        ['f*.example.com', 'partial-wildcard'],
        ['*.co.uk', 'wildcard-public-suffix'],
        ['*.com', 'wildcard-single-label'],
        ['a.example.', 'trailing-dot'],
        ['bücher.example', 'non-ascii'],
        ['a..b', 'empty-label'],
        ['x.*.example', 'wildcard-not-leftmost'],
        ['10.0.0.0/8', 'invalid-ip'],
        ['legacy.example', 'common-name-with-dns-san'],
      ],
    );
  });

  it('reports an invalid host without throwing', () => {
    const r = checkHostname({ dnsNames: ['a.example'] }, 'exa mple.com');
    assert.deepEqual([r.matched, r.host, r.hostType, r.hostProblem], [false, null, null, 'whitespace']);
    assert.equal(checkHostname({}, '127.1').hostProblem, 'invalid-ip');
    assert.equal(checkHostname({}, 'fe80::1%eth0').hostProblem, 'invalid-ip');
  });
});

describe('hostname: verifyHostname errors', () => {
  it('lists the valid names on a mismatch, like Go', () => {
    assert.throws(
      () =>
        verifyHostname(
          { dnsNames: ['mail.example.com', '*.example.net'], ipAddresses: ['192.0.2.25'] },
          'smtp.example.com',
        ),
      (e: unknown) => {
        assert.ok(e instanceof HostnameError && e instanceof MailTlsError);
        assert.equal(e.code, 'ERR_HOSTNAME_MISMATCH');
        assert.deepEqual(e.details.validNames, ['mail.example.com', '*.example.net', '192.0.2.25']);
        assert.equal(e.details.host, 'smtp.example.com');
        assert.match(
          e.message,
          /not valid for smtp\.example\.com: it is valid for mail\.example\.com, \*\.example\.net, 192\.0\.2\.25/,
        );
        assert.match(e.message, /subjectAltName includes smtp\.example\.com/);
        assert.deepEqual(JSON.parse(JSON.stringify(e)).details.validNames, e.details.validNames);
        return true;
      },
    );
  });

  it('explains a Common-Name-only certificate', () => {
    assert.throws(
      () => verifyHostname({ commonName: 'mail.example.com' }, 'mail.example.com'),
      (e: unknown) => {
        assert.ok(e instanceof HostnameError);
        assert.equal(e.code, 'ERR_HOSTNAME_MISMATCH');
        assert.equal(e.details.commonNameWouldMatch, true);
        assert.deepEqual(e.details.validNames, []);
        assert.match(e.message, /only in its subject Common Name/);
        assert.match(e.message, /legacyCommonName: true/);
        return true;
      },
    );
    assert.throws(
      () => verifyHostname({ commonName: 'other\u0000.example' }, 'mail.example.com'),
      (e: unknown) => {
        assert.ok(e instanceof HostnameError);
        assert.match(e.message, /no usable subjectAltName entries \(its Common Name "other\\u0000\.example"/);
        assert.doesNotMatch(e.message, /\u0000/);
        return true;
      },
    );
  });

  it('says when the host is not a valid host name or IP address', () => {
    const rows = [
      { input: 'mail..example.com', wantReason: 'empty-label' },
      { input: '127.1', wantReason: 'invalid-ip' },
      { input: 'fe80::1%eth0', wantReason: 'invalid-ip' },
      { input: 'https://mail.example.com', wantReason: 'invalid-character' },
      { input: '', wantReason: 'empty' },
    ];
    for (const row of rows) {
      assert.throws(
        () => verifyHostname({ dnsNames: ['mail.example.com'] }, row.input),
        (e: unknown) =>
          e instanceof HostnameError &&
          e.code === 'ERR_HOSTNAME_INVALID' &&
          e.details.reason === row.wantReason,
        row.input,
      );
    }
  });

  it('caps the list of valid names in the message', () => {
    const dnsNames = Array.from({ length: 30 }, (_, i) => `h${i}.example.com`);
    assert.throws(
      () => verifyHostname({ dnsNames }, 'x.example.org'),
      (e: unknown) =>
        e instanceof HostnameError &&
        /and 10 more/.test(e.message) &&
        (e.details.validNames as string[]).length === 30,
    );
  });
});

describe('hostname: cross-check with OpenSSL (X509_check_host) and Node (X509Certificate.checkHost)', () => {
  const cert = opensslCertificate({
    commonName: 'legacy.example.com',
    subjectAltName:
      'DNS:mail.example.com,DNS:*.example.net,DNS:f*.example.org,DNS:*.co.uk,DNS:xn--bcher-kva.example,' +
      'DNS:*.appspot.com,IP:192.0.2.25,IP:2001:db8::25',
  });
  const names: CertificateNames = {
    dnsNames: cert.names.dnsNames,
    ipAddresses: cert.x509
      .subjectAltName!.split(', ')
      .filter((s) => s.startsWith('IP Address:'))
      .map((s) => s.slice('IP Address:'.length)),
    commonName: cert.names.commonName,
  };
  // Where mailtls differs on purpose, and why. Every other host must agree with both.
  const differences = new Map<string, string>([
    [
      'mail.example.com.',
      'a trailing dot on the host names the same (absolute) host; OpenSSL compares it literally',
    ],
    ['foo.example.org', 'partial wildcard f*.example.org: ignored under RFC 9525 §6.3'],
    ['a.co.uk', '*.co.uk sits on an ICANN public suffix (CA/B BR §3.2.2.6)'],
    [
      'bücher.example',
      'U-labels are converted to A-labels before comparison (RFC 9525 §6.3); OpenSSL compares bytes',
    ],
    ['.example.net', "OpenSSL's leading-dot subdomain extension; an empty label is not a host name"],
  ]);
  const hosts = [
    'mail.example.com',
    'MAIL.Example.COM',
    'mail.example.com.',
    'x.example.net',
    'a.b.example.net',
    'example.net',
    'foo.example.org',
    'bar.example.org',
    'a.co.uk',
    'legacy.example.com',
    'bücher.example',
    'xn--bcher-kva.example',
    'x.appspot.com',
    '.example.net',
  ];
  for (const host of hosts) {
    it(`${host}: ${differences.has(host) ? `differs (${differences.get(host)})` : 'agrees'}`, () => {
      const out = openssl(['x509', '-noout', '-checkhost', host], cert.pem);
      const byOpenSSL = / does match certificate/.test(out);
      assert.ok(byOpenSSL || / does NOT match certificate/.test(out), out);
      const byNode = cert.x509.checkHost(host) !== undefined;
      assert.equal(byNode, byOpenSSL, 'Node and OpenSSL agree with each other');
      const ours = matchHostname(names, host);
      assert.equal(ours !== byOpenSSL, differences.has(host), `mailtls ${ours}, OpenSSL ${byOpenSSL}`);
    });
  }
  for (const ip of ['192.0.2.25', '2001:DB8:0::25', '192.0.2.26', '::ffff:192.0.2.25']) {
    it(`IP ${ip} agrees`, () => {
      const out = openssl(['x509', '-noout', '-checkip', ip], cert.pem);
      const byOpenSSL = / does match certificate/.test(out);
      assert.equal(cert.x509.checkIP(ip) !== undefined, byOpenSSL);
      assert.equal(matchHostname(names, ip), byOpenSSL);
    });
  }
});

/** A host-name-like string: labels from a small alphabet (so that names collide), sometimes odd. */
const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,8}$/);
const messyName = fc.oneof(
  fc
    .array(fc.oneof(label, fc.constantFrom('*', 'xn--bcher-kva', 'Bü', 'ß', '', 'co', 'uk', '１', '。')), {
      minLength: 1,
      maxLength: 5,
    })
    .map((ls) => ls.join('.')),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.domain(),
);

function slowMatch(dnsNames: readonly string[], host: string): boolean {
  const canonical = tryCanonicalizeHostname(host);
  if (canonical === undefined) return false;
  const hostLabels = canonical.split('.');
  return dnsNames.some((raw) => {
    const p = classifyPresented(raw);
    if (p.kind === 'exact') return p.name === canonical;
    if (p.kind !== 'wildcard') return false;
    const parentLabels = p.parent.split('.');
    return (
      hostLabels.length === parentLabels.length + 1 &&
      hostLabels.slice(1).join('.') === p.parent &&
      !isWildcardOnPublicSuffix(p.parent, false)
    );
  });
}

describe('hostname: properties', () => {
  it('canonicalisation is idempotent and yields lower-case LDH names', () => {
    fc.assert(
      fc.property(messyName, (name) => {
        const once = tryCanonicalizeHostname(name);
        if (once === undefined) return;
        assert.equal(canonicalizeHostname(once), once);
        assert.match(once, /^[a-z0-9-]+(\.[a-z0-9-]+)*$/);
        assert.ok(once.length <= 253);
      }),
      { numRuns: runs * 3 },
    );
  });

  it('a name never matches a wildcard across two labels, and always across exactly one', () => {
    const parent = fc
      .tuple(
        fc.array(label, { minLength: 0, maxLength: 2 }),
        fc.constantFrom('example.com', 'example.co.uk', 'corp.internal'),
      )
      .map(([ls, base]) => [...ls, base].join('.'));
    fc.assert(
      fc.property(label, label, parent, (a, b, p) => {
        const names = { dnsNames: [`*.${p}`] };
        fc.pre(!a.startsWith('-') && !a.endsWith('-') && !b.startsWith('-') && !b.endsWith('-'));
        fc.pre(tryCanonicalizeHostname(`${a}.${b}.${p}`) !== undefined);
        assert.equal(matchHostname(names, `${a}.${b}.${p}`), false);
        assert.equal(matchHostname(names, `${b}.${p}`), true);
        assert.equal(matchHostname(names, p), false);
      }),
      { numRuns: runs },
    );
  });

  it('the fast matcher agrees with a label-by-label reference matcher', () => {
    const presented = fc.oneof(
      messyName,
      messyName.map((n) => `*.${n}`),
      fc.constantFrom('*.example.com', 'EXAMPLE.com', '*.co.uk', '*.com', 'a.example.com'),
    );
    const host = fc.oneof(
      messyName,
      fc.constantFrom('a.example.com', 'A.Example.Com.', 'x.co.uk', 'example.com'),
    );
    fc.assert(
      fc.property(fc.array(presented, { maxLength: 4 }), host, (dnsNames, h) => {
        assert.equal(matchHostname({ dnsNames }, h), slowMatch(dnsNames, h), JSON.stringify({ dnsNames, h }));
      }),
      { numRuns: runs * 3 },
    );
  });

  it('random input never throws anything but HostnameError or TypeError, and answers within 100 ms', () => {
    const anything = fc.oneof(fc.string({ maxLength: 300 }), messyName, fc.anything());
    fc.assert(
      fc.property(
        fc.array(anything, { maxLength: 4 }),
        fc.array(anything, { maxLength: 3 }),
        anything,
        anything,
        fc.boolean(),
        (dnsNames, ipAddresses, commonName, host, legacyCommonName) => {
          const names = { dnsNames, ipAddresses, commonName } as unknown as CertificateNames;
          for (const f of [
            () => canonicalizeHostname(host as string),
            () => tryCanonicalizeHostname(host as string),
            () => matchHostname(names, host as string, { legacyCommonName }),
            () => checkHostname(names, host as string, { legacyCommonName }),
            () => verifyHostname(names, host as string, { legacyCommonName }),
          ]) {
            const elapsed = cpuStopwatch();
            try {
              f();
            } catch (e) {
              assert.ok(e instanceof HostnameError || e instanceof TypeError, String(e));
              if (e instanceof HostnameError) assert.doesNotMatch(e.message, /[\u0000-\u0008\u000b-\u001f]/);
            }
            assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
