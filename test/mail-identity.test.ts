import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HostnameError } from '../src/errors.js';
import type { CertificateNames } from '../src/names/hostname.js';
import {
  checkMailPeer,
  type MailPeerOptions,
  matchMailPeer,
  matchMTASTSPattern,
  POSTFIX_SECURE_MATCH,
  POSTFIX_VERIFY_MATCH,
  verifyMailPeer,
} from '../src/names/mail-identity.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);

describe('mail-identity: Postfix-style strategies', () => {
  const rows: {
    name: string;
    input: { names: CertificateNames; options: MailPeerOptions };
    want: { matched: boolean; strategy?: string; matchedName?: string; via?: string };
  }[] = [
    {
      name: 'hostname: the MX host name (verify level)',
      input: {
        names: { dnsNames: ['mx1.provider.net'] },
        options: { mxHost: 'MX1.provider.net.', nextHop: 'example.com' },
      },
      want: { matched: true, strategy: 'hostname', matchedName: 'mx1.provider.net', via: 'dns-san' },
    },
    {
      name: 'secure level refuses a name learnt only from the MX lookup',
      input: {
        names: { dnsNames: ['mx1.provider.net'] },
        options: { mxHost: 'mx1.provider.net', nextHop: 'example.com', match: POSTFIX_SECURE_MATCH },
      },
      want: { matched: false },
    },
    {
      name: 'nexthop: the recipient domain itself',
      input: {
        names: { dnsNames: ['example.com'] },
        options: { mxHost: 'mx1.provider.net', nextHop: 'Example.COM', match: POSTFIX_SECURE_MATCH },
      },
      want: { matched: true, strategy: 'nexthop', matchedName: 'example.com' },
    },
    {
      name: 'dot-nexthop: a subdomain of the recipient domain',
      input: {
        names: { dnsNames: ['mx1.mail.example.com'] },
        options: { mxHost: 'mx1.mail.example.com', nextHop: 'example.com', match: POSTFIX_SECURE_MATCH },
      },
      want: { matched: true, strategy: 'dot-nexthop', matchedName: 'mx1.mail.example.com' },
    },
    {
      name: 'dot-nexthop: a wildcard under the recipient domain',
      input: {
        names: { dnsNames: ['*.example.com'] },
        options: { mxHost: 'mx.example.com', nextHop: 'example.com', match: ['dot-nexthop'] },
      },
      want: { matched: true, strategy: 'dot-nexthop', matchedName: '*.example.com' },
    },
    {
      name: 'dot-nexthop: not the domain itself',
      input: {
        names: { dnsNames: ['example.com'] },
        options: { mxHost: 'example.com', nextHop: 'example.com', match: ['dot-nexthop'] },
      },
      want: { matched: false },
    },
    {
      name: 'dot-nexthop: not a name that merely ends with the same letters',
      input: {
        names: { dnsNames: ['mx.evilexample.com'] },
        options: { mxHost: 'mx.evilexample.com', nextHop: 'example.com', match: ['dot-nexthop'] },
      },
      want: { matched: false },
    },
    {
      name: 'dot-nexthop: a wildcard on a public suffix is still ignored',
      input: {
        names: { dnsNames: ['*.co.uk'] },
        options: { mxHost: 'mx.example.co.uk', nextHop: 'co.uk', match: ['dot-nexthop'] },
      },
      want: { matched: false },
    },
    {
      name: 'nexthop: a wildcard certificate covers a one-label-deeper next hop',
      input: {
        names: { dnsNames: ['*.example.com'] },
        options: { mxHost: 'mx.other.net', nextHop: 'relay.example.com', match: ['nexthop'] },
      },
      want: { matched: true, strategy: 'nexthop', matchedName: '*.example.com' },
    },
    {
      name: 'a literal pattern',
      input: {
        names: { dnsNames: ['*.example.org'] },
        options: { mxHost: 'mx.other.net', match: ['mx.example.org'] },
      },
      want: { matched: true, strategy: 'mx.example.org', matchedName: '*.example.org' },
    },
    {
      name: 'a literal subdomain pattern',
      input: {
        names: { dnsNames: ['smtp.eu.example.org'] },
        options: { mxHost: 'mx.other.net', match: ['.example.org'] },
      },
      want: { matched: true, strategy: '.example.org', matchedName: 'smtp.eu.example.org' },
    },
    {
      name: 'strategy names are case-insensitive, as in Postfix',
      input: {
        names: { dnsNames: ['example.com'] },
        options: { mxHost: 'mx.other.net', nextHop: 'example.com', match: ['NextHop'] },
      },
      want: { matched: true, strategy: 'NextHop' },
    },
    {
      name: 'an IP relay host matches an iPAddress entry',
      input: {
        names: { ipAddresses: ['192.0.2.25', '2001:DB8::25'] },
        options: { mxHost: '[2001:db8:0::25]' },
      },
      want: { matched: true, strategy: 'hostname', matchedName: '2001:db8::25', via: 'ip-san' },
    },
    {
      name: 'the Common Name is ignored by default',
      input: { names: { commonName: 'mx.example.com' }, options: { mxHost: 'mx.example.com' } },
      want: { matched: false },
    },
    {
      name: 'the Common Name with legacyCommonName',
      input: {
        names: { commonName: 'mx.example.com' },
        options: { mxHost: 'mx.example.com', legacyCommonName: true },
      },
      want: { matched: true, via: 'common-name' },
    },
    {
      name: 'dot-nexthop with a legacy Common Name',
      input: {
        names: { commonName: 'mx.example.com' },
        options: {
          mxHost: 'mx.example.com',
          nextHop: 'example.com',
          match: ['dot-nexthop'],
          legacyCommonName: true,
        },
      },
      want: { matched: true, strategy: 'dot-nexthop', via: 'common-name' },
    },
    {
      name: 'dot-nexthop never falls back to the Common Name when the subjectAltName is unreadable',
      input: {
        names: { commonName: 'mx.example.com', hasSubjectAltName: true, subjectAltNames: undefined },
        options: {
          mxHost: 'mx.example.com',
          nextHop: 'example.com',
          match: ['hostname', 'dot-nexthop', '.example.com'],
          legacyCommonName: true,
        },
      },
      want: { matched: false },
    },
    {
      name: 'the first matching strategy is reported',
      input: {
        names: { dnsNames: ['example.com', 'mx.example.com'] },
        options: {
          mxHost: 'mx.example.com',
          nextHop: 'example.com',
          match: ['hostname', 'nexthop', 'dot-nexthop'],
        },
      },
      want: { matched: true, strategy: 'hostname', matchedName: 'mx.example.com' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = checkMailPeer(row.input.names, row.input.options);
      assert.equal(r.matched, row.want.matched);
      assert.equal(matchMailPeer(row.input.names, row.input.options), row.want.matched);
      if (row.want.strategy !== undefined) assert.equal(r.strategy, row.want.strategy);
      if (row.want.matchedName !== undefined) assert.equal(r.matchedName, row.want.matchedName);
      if (row.want.via !== undefined) assert.equal(r.via, row.want.via);
      if (row.want.matched) assert.deepEqual(verifyMailPeer(row.input.names, row.input.options), r);
      else assert.throws(() => verifyMailPeer(row.input.names, row.input.options), HostnameError);
    });
  }

  it('lists every reference identity tried', () => {
    const r = checkMailPeer(
      { dnsNames: ['mail.example.org'] },
      {
        mxHost: 'MX.provider.net',
        nextHop: 'Example.com',
        match: ['hostname', 'nexthop', 'dot-nexthop', 'bad..name'],
      },
    );
    assert.deepEqual(r.references, [
      { strategy: 'hostname', reference: 'mx.provider.net', matched: false, problem: null },
      { strategy: 'nexthop', reference: 'example.com', matched: false, problem: null },
      { strategy: 'dot-nexthop', reference: '.example.com', matched: false, problem: null },
      { strategy: 'bad..name', reference: 'bad..name', matched: false, problem: 'empty-label' },
    ]);
    assert.deepEqual(r.validNames, ['mail.example.org']);
  });

  it('defaults to the verify-level hostname strategy', () => {
    assert.deepEqual(POSTFIX_VERIFY_MATCH, ['hostname']);
    assert.deepEqual(POSTFIX_SECURE_MATCH, ['nexthop', 'dot-nexthop']);
    assert.equal(
      matchMailPeer({ dnsNames: ['example.com'] }, { mxHost: 'mx.example.com', nextHop: 'example.com' }),
      false,
    );
  });
});

describe('mail-identity: verifyMailPeer errors', () => {
  it('names what was tried and what the certificate has', () => {
    assert.throws(
      () =>
        verifyMailPeer(
          { dnsNames: ['mail.example.org'] },
          { mxHost: 'mx.provider.net', nextHop: 'example.com', match: POSTFIX_SECURE_MATCH },
        ),
      (e: unknown) => {
        assert.ok(e instanceof HostnameError);
        assert.equal(e.code, 'ERR_HOSTNAME_MISMATCH');
        assert.match(e.message, /matches none of example\.com \(nexthop\), \.example\.com \(dot-nexthop\)/);
        assert.match(e.message, /names mail\.example\.org/);
        assert.deepEqual(e.details.validNames, ['mail.example.org']);
        return true;
      },
    );
  });

  it('mentions an unused Common Name', () => {
    assert.throws(
      () => verifyMailPeer({ commonName: 'mx.example.com' }, { mxHost: 'mx.example.com' }),
      (e: unknown) =>
        e instanceof HostnameError && /Common Name "mx\.example\.com" is not used/.test(e.message),
    );
  });

  it('reports an unusable host as ERR_HOSTNAME_INVALID', () => {
    assert.throws(
      () => verifyMailPeer({ dnsNames: ['mx.example.com'] }, { mxHost: 'mx..example.com' }),
      (e: unknown) =>
        e instanceof HostnameError && e.code === 'ERR_HOSTNAME_INVALID' && e.details.reason === 'empty-label',
    );
  });

  it('throws TypeError for programmer mistakes', () => {
    const names = { dnsNames: ['mx.example.com'] };
    const bad: (() => unknown)[] = [
      () => checkMailPeer(names, { mxHost: 'mx.example.com', match: ['nexthop'] }),
      () => checkMailPeer(names, { mxHost: 'mx.example.com', match: [] }),
      () => checkMailPeer(names, { mxHost: 'mx.example.com', match: [1 as unknown as string] }),
      () => checkMailPeer(names, { mxHost: 7 as unknown as string }),
      () => checkMailPeer(names, null as unknown as MailPeerOptions),
      () => checkMailPeer(null as unknown as CertificateNames, { mxHost: 'mx.example.com' }),
      () => verifyMailPeer(names, { mxHost: 'mx.example.com', legacyCommonName: 1 as unknown as boolean }),
    ];
    for (const f of bad) assert.throws(f, TypeError);
  });
});

describe('mail-identity: dot-nexthop as documented by Postfix', () => {
  it('matches exactly the certificate names with one or more labels before the next-hop domain', () => {
    const label = fc.constantFrom('mx', 'mail', 'a', 'b1', 'xn--bcher-kva');
    const domain = fc.constantFrom('example.com', 'example.org', 'mail.example.com');
    fc.assert(
      fc.property(
        fc.array(label, { maxLength: 3 }),
        domain,
        domain,
        fc.boolean(),
        (prefix, certBase, nextHop, wild) => {
          const name = [...(wild ? ['*'] : []), ...prefix, certBase].join('.');
          const got = matchMailPeer(
            { dnsNames: [name] },
            { mxHost: 'unused.invalid', nextHop, match: ['dot-nexthop'] },
          );
          // Postfix: "server certificate names that are subdomains of the next-hop domain".
          const want = name.length > nextHop.length + 1 && name.endsWith(`.${nextHop}`);
          assert.equal(got, want, `${name} for ${nextHop}`);
        },
      ),
      { numRuns: runs },
    );
  });
});

describe('mail-identity: matchMTASTSPattern (RFC 8461 §4.1)', () => {
  const rows = [
    { name: 'exact name', input: ['mail.example.com', 'mail.example.com'], want: true },
    { name: 'case and trailing dot ignored', input: ['Mail.Example.com', 'MAIL.example.COM.'], want: true },
    { name: 'other name', input: ['mail.example.com', 'mx.example.com'], want: false },
    { name: 'wildcard covers one label', input: ['*.example.net', 'mx1.example.net'], want: true },
    { name: 'wildcard not the bare domain', input: ['*.example.net', 'example.net'], want: false },
    { name: 'wildcard not two labels', input: ['*.example.net', 'a.mx1.example.net'], want: false },
    { name: 'U-label pattern', input: ['*.bücher.example', 'mx.xn--bcher-kva.example'], want: true },
    { name: 'U-label host', input: ['mx.xn--bcher-kva.example', 'mx.bücher.example'], want: true },
    { name: 'partial wildcard is no pattern', input: ['mx*.example.net', 'mx1.example.net'], want: false },
    { name: 'inner wildcard is no pattern', input: ['mx.*.example.net', 'mx.a.example.net'], want: false },
    { name: 'invalid host', input: ['*.example.net', 'a..example.net'], want: false },
    { name: 'invalid pattern', input: ['exa mple.net', 'exa mple.net'], want: false },
    { name: 'IP address is no MX host name', input: ['192.0.2.1', '192.0.2.1'], want: false },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(matchMTASTSPattern(row.input[0]!, row.input[1]!), row.want));
  }
  it('throws TypeError for non-strings', () => {
    assert.throws(() => matchMTASTSPattern(undefined as unknown as string, 'mx.example.com'), TypeError);
    assert.throws(() => matchMTASTSPattern('*.example.com', 1 as unknown as string), TypeError);
  });
  it('never throws for random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), (p, h) => {
        assert.equal(typeof matchMTASTSPattern(p, h), 'boolean');
        assert.equal(typeof matchMTASTSPattern(`*.${p}`, h), 'boolean');
      }),
      { numRuns: runs },
    );
  });
});
