/**
 * Name constraints: the matching rules of each name form (table rows), whole-certificate checks (wildcards,
 * subject e-mail attributes, directory names, unsupported forms, malformed names and constraints, the
 * comparison budget), agreement with `openssl verify` on the ordinary cases, and properties.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkNameConstraints,
  matchNameConstraint,
  type NameConstraintsInput,
  verifyNameConstraints,
} from '../src/chain/name-constraints.js';
import { verifyChain } from '../src/chain/verify-chain.js';
import { ChainError } from '../src/errors.js';
import type { GeneralName } from '../src/x509/extensions.js';
import { parseDistinguishedName } from '../src/x509/name.js';
import {
  AT,
  type Made,
  makeCert,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  type NameSpec,
} from './helpers/chain-pki.js';
import { fuzzRuns, opensslStatus, TempDir } from './helpers/key-fixtures.js';
import { cpuStopwatch } from './helpers/timing.js';

const dns = (value: string): GeneralName => ({ type: 'dns', value });
const email = (value: string): GeneralName => ({ type: 'email', value });
const uri = (value: string): GeneralName => ({ type: 'uri', value });
const ip = (bytes: number[], mask?: number[]): GeneralName =>
  mask === undefined
    ? { type: 'ip', value: bytes.join('.'), bytes: Uint8Array.from(bytes) }
    : {
        type: 'ip',
        value: `${bytes.join('.')}/${mask.join('.')}`,
        bytes: Uint8Array.from(bytes),
        mask: Uint8Array.from(mask),
      };
const dn = (text: string): GeneralName => {
  const name = parseDistinguishedName(text);
  return { type: 'directoryName', value: name.toString(), name };
};

const matchRows: { name: string; input: [GeneralName, GeneralName]; want: boolean }[] = [
  { name: 'DNS equal', input: [dns('example.com'), dns('example.com')], want: true },
  { name: 'DNS below', input: [dns('a.b.example.com'), dns('example.com')], want: true },
  { name: 'DNS case', input: [dns('Mail.EXAMPLE.com'), dns('example.COM')], want: true },
  { name: 'DNS suffix without a dot', input: [dns('notexample.com'), dns('example.com')], want: false },
  { name: 'DNS parent', input: [dns('example.com'), dns('mail.example.com')], want: false },
  { name: 'DNS empty constraint matches all', input: [dns('mail.example.com'), dns('')], want: true },
  {
    name: 'DNS leading-dot constraint is malformed',
    input: [dns('mail.example.com'), dns('.example.com')],
    want: false,
  },
  { name: 'DNS wildcard inside', input: [dns('*.example.com'), dns('example.com')], want: true },
  {
    name: 'DNS wildcard wider than the constraint',
    input: [dns('*.example.com'), dns('foo.example.com')],
    want: false,
  },
  { name: 'DNS malformed name', input: [dns('.example.com'), dns('example.com')], want: false },
  { name: 'e-mail mailbox', input: [email('foo@example.com'), email('foo@EXAMPLE.com')], want: true },
  {
    name: 'e-mail mailbox local part is exact',
    input: [email('Foo@example.com'), email('foo@example.com')],
    want: false,
  },
  { name: 'e-mail host', input: [email('foo@example.com'), email('example.com')], want: true },
  {
    name: 'e-mail host excludes subdomains',
    input: [email('foo@mail.example.com'), email('example.com')],
    want: false,
  },
  { name: 'e-mail domain', input: [email('foo@mail.example.com'), email('.example.com')], want: true },
  {
    name: 'e-mail domain excludes the host itself',
    input: [email('foo@example.com'), email('.example.com')],
    want: false,
  },
  {
    name: 'e-mail asterisk is literal',
    input: [email('user@example.com'), email('*@example.com')],
    want: false,
  },
  { name: 'e-mail literal asterisk', input: [email('*@example.com'), email('*@example.com')], want: true },
  { name: 'e-mail with two @', input: [email('a@b@example.com'), email('example.com')], want: false },
  { name: 'URI host', input: [uri('https://mail.example.com:8443/x'), uri('mail.example.com')], want: true },
  { name: 'URI domain', input: [uri('https://mail.example.com/'), uri('.example.com')], want: true },
  {
    name: 'URI host is exact',
    input: [uri('https://a.mail.example.com/'), uri('mail.example.com')],
    want: false,
  },
  { name: 'URI without host', input: [uri('urn:example:mail'), uri('example.com')], want: false },
  { name: 'IPv4 in /24', input: [ip([192, 0, 2, 25]), ip([192, 0, 2, 0], [255, 255, 255, 0])], want: true },
  {
    name: 'IPv4 outside /24',
    input: [ip([192, 0, 3, 25]), ip([192, 0, 2, 0], [255, 255, 255, 0])],
    want: false,
  },
  {
    name: 'IPv6 in /32',
    input: [
      {
        type: 'ip',
        value: '2001:db8::1',
        bytes: Uint8Array.from([0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 1]),
      },
      {
        type: 'ip',
        value: '2001:db8::/ffff:ffff::',
        bytes: Uint8Array.from([0x20, 1, 0x0d, 0xb8, ...new Array(12).fill(0)]),
        mask: Uint8Array.from([255, 255, 255, 255, ...new Array(12).fill(0)]),
      },
    ],
    want: true,
  },
  {
    name: 'IPv4 against an IPv6 constraint',
    input: [
      ip([0, 0, 0, 0]),
      { type: 'ip', value: '::/::', bytes: new Uint8Array(16), mask: new Uint8Array(16) },
    ],
    want: false,
  },
  { name: 'DN prefix', input: [dn('CN=mail,O=Example,C=DE'), dn('O=Example,C=DE')], want: true },
  {
    name: 'DN prefix ignores case and spaces',
    input: [dn('CN=mail,O=EXAMPLE  inc,C=DE'), dn('O=example inc,C=DE')],
    want: true,
  },
  { name: 'DN other organisation', input: [dn('CN=mail,O=Other,C=DE'), dn('O=Example,C=DE')], want: false },
  { name: 'DN shorter than the constraint', input: [dn('C=DE'), dn('O=Example,C=DE')], want: false },
  { name: 'different forms never match', input: [dns('example.com'), email('example.com')], want: false },
];

describe('matchNameConstraint', () => {
  for (const row of matchRows)
    it(row.name, () => {
      assert.equal(matchNameConstraint(row.input[0], row.input[1]), row.want);
    });

  it('rejects non-objects', () => {
    assert.throws(() => matchNameConstraint(null as unknown as GeneralName, dns('x')), TypeError);
  });

  it('a DNS name is inside exactly when it equals the constraint or ends with "." + it (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
    // The last label has a letter: an all-digit top-level label is an IP address in disguise, not a name.
    const name = fc
      .tuple(fc.array(label, { maxLength: 3 }), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/))
      .map(([l, tld]) => [...l, tld].join('.'));
    fc.assert(
      fc.property(name, name, (n, c) => {
        assert.equal(matchNameConstraint(dns(n), dns(c)), n === c || n.endsWith(`.${c}`));
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('arbitrary strings never throw and never take long (property)', () => {
    const forms = ['dns', 'email', 'uri'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...forms),
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 80 }),
        (type, a, b) => {
          const elapsed = cpuStopwatch();
          matchNameConstraint({ type, value: a }, { type, value: b });
          assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
        },
      ),
      { numRuns: fuzzRuns(500) },
    );
  });
});

const root = await makeRoot('NC Root');

function leafWith(san: readonly NameSpec[], subject = 'CN=leaf'): Promise<Made> {
  return makeCert({ subject, issuer: root, san });
}

function nc(permitted: GeneralName[], excluded: GeneralName[] = []): NameConstraintsInput {
  return {
    permitted: permitted.map((base) => ({ base, minimum: 0 })),
    excluded: excluded.map((base) => ({ base, minimum: 0 })),
  };
}

const certRows: {
  name: string;
  input: {
    san: readonly NameSpec[];
    subject?: string;
    constraints: NameConstraintsInput;
    commonName?: boolean;
  };
  want: string | undefined;
}[] = [
  {
    name: 'permitted DNS',
    input: { san: [{ dns: 'mail.example.com' }], constraints: nc([dns('example.com')]) },
    want: undefined,
  },
  {
    name: 'not permitted DNS',
    input: { san: [{ dns: 'mail.example.org' }], constraints: nc([dns('example.com')]) },
    want: 'not-permitted',
  },
  {
    name: 'excluded wins over permitted',
    input: { san: [{ dns: 'a.example.com' }], constraints: nc([dns('example.com')], [dns('a.example.com')]) },
    want: 'excluded',
  },
  {
    name: 'second SAN excluded',
    input: {
      san: [{ dns: 'ok.example.com' }, { dns: 'bad.example.com' }],
      constraints: nc([], [dns('bad.example.com')]),
    },
    want: 'excluded',
  },
  {
    name: 'wildcard meets an excluded name (CVE-2025-61727)',
    input: { san: [{ dns: '*.example.com' }], constraints: nc([], [dns('bar.example.com')]) },
    want: 'excluded',
  },
  {
    name: 'wildcard wider than the permitted name',
    input: { san: [{ dns: '*.example.com' }], constraints: nc([dns('foo.example.com')]) },
    want: 'not-permitted',
  },
  {
    name: 'wildcard inside the permitted name',
    input: { san: [{ dns: '*.foo.com' }], constraints: nc([dns('foo.com')]) },
    want: undefined,
  },
  {
    name: 'wildcard next to a deeper excluded name',
    input: { san: [{ dns: '*.example.com' }], constraints: nc([], [dns('a.b.example.com')]) },
    want: undefined,
  },
  {
    name: 'malformed DNS SAN under DNS constraints',
    input: { san: [{ dns: '.example.com' }], constraints: nc([dns('example.com')]) },
    want: 'malformed-name',
  },
  {
    name: 'malformed DNS constraint',
    input: { san: [{ dns: 'mail.example.com' }], constraints: nc([dns('*.example.com')]) },
    want: 'malformed-constraint',
  },
  {
    name: 'IP constraints leave DNS names alone',
    input: { san: [{ dns: 'mail.example.com' }], constraints: nc([ip([192, 0, 2, 0], [255, 255, 255, 0])]) },
    want: undefined,
  },
  {
    name: 'excluded IP',
    input: { san: [{ ip: [192, 0, 2, 1] }], constraints: nc([], [ip([192, 0, 2, 0], [255, 255, 255, 0])]) },
    want: 'excluded',
  },
  {
    name: 'non-CIDR IP mask',
    input: { san: [{ ip: [192, 0, 2, 1] }], constraints: nc([ip([192, 0, 2, 0], [255, 0, 255, 0])]) },
    want: 'malformed-constraint',
  },
  {
    name: 'subject e-mail attribute checked',
    input: {
      san: [],
      subject: 'CN=x,emailAddress=eve@evil.example',
      constraints: nc([email('example.com')]),
    },
    want: 'not-permitted',
  },
  {
    name: 'malformed e-mail constraint',
    input: { san: [{ email: 'a@example.com' }], constraints: nc([email('a@b@example.com')]) },
    want: 'malformed-constraint',
  },
  {
    name: 'subject checked against DN constraints',
    input: { san: [], subject: 'CN=leaf,O=Other', constraints: nc([dn('O=Example')]) },
    want: 'not-permitted',
  },
  {
    name: 'subject inside the DN constraint',
    input: { san: [], subject: 'CN=leaf,O=Example', constraints: nc([dn('O=Example')]) },
    want: undefined,
  },
  {
    name: 'SAN directoryName excluded',
    input: { san: [{ dn: 'CN=foo' }], subject: 'CN=ok', constraints: nc([], [dn('CN=foo')]) },
    want: 'excluded',
  },
  {
    name: 'unsupported form present',
    input: {
      san: [{ dns: 'mail.example.com' }],
      constraints: {
        permitted: [],
        excluded: [{ base: { type: 'registeredID', value: '1.2.3' }, minimum: 0 }],
      },
    },
    want: undefined,
  },
  {
    name: 'Common Name ignored by default',
    input: { san: [], subject: 'CN=mail.example.org', constraints: nc([dns('example.com')]) },
    want: undefined,
  },
  {
    name: 'Common Name checked on request',
    input: {
      san: [],
      subject: 'CN=mail.example.org',
      constraints: nc([dns('example.com')]),
      commonName: true,
    },
    want: 'not-permitted',
  },
  {
    name: 'URI host',
    input: { san: [{ uri: 'https://mail.evil.example/' }], constraints: nc([uri('.example.com')]) },
    want: 'not-permitted',
  },
];

describe('checkNameConstraints', () => {
  for (const row of certRows)
    it(row.name, async () => {
      const m = await leafWith(row.input.san, row.input.subject);
      const v = checkNameConstraints(m.cert, row.input.constraints, { commonName: row.input.commonName });
      assert.equal(v?.reason, row.want, v?.message);
    });

  it('refuses certificates that need too many comparisons', async () => {
    const m = await leafWith(Array.from({ length: 50 }, (_, i) => ({ dns: `h${i}.example.com` })));
    const constraints = nc(Array.from({ length: 50 }, (_, i) => dns(`d${i}.example.com`)));
    assert.equal(checkNameConstraints(m.cert, constraints, { maxComparisons: 1000 })?.reason, 'too-complex');
    assert.throws(() => checkNameConstraints(m.cert, constraints, { maxComparisons: -1 }), RangeError);
  });

  it('verifyNameConstraints throws ERR_CHAIN_NAME_CONSTRAINTS with the facts', async () => {
    const m = await leafWith([{ dns: 'mail.example.org' }]);
    assert.throws(
      () => verifyNameConstraints(m.cert, nc([dns('example.com')])),
      (e: unknown) =>
        e instanceof ChainError &&
        e.code === 'ERR_CHAIN_NAME_CONSTRAINTS' &&
        e.details.reason === 'not-permitted' &&
        e.details.name === 'mail.example.org' &&
        e.details.constraint === 'DNS:example.com',
    );
    assert.doesNotThrow(() => verifyNameConstraints(m.cert, nc([dns('example.org')])));
    assert.throws(() => verifyNameConstraints({} as Made['cert'], nc([])), TypeError);
    assert.throws(() => checkNameConstraints(m.cert, {} as NameConstraintsInput), TypeError);
  });
});

describe('name constraints in a path, against openssl verify', () => {
  const dir = new TempDir('mailtls-nc-');
  after(() => dir.cleanup());
  const cases: {
    name: string;
    nc: { permitted?: NameSpec[]; excluded?: NameSpec[] };
    san: NameSpec[];
    ok: boolean;
  }[] = [
    {
      name: 'permitted DNS',
      nc: { permitted: [{ dns: 'example.com' }] },
      san: [{ dns: 'mail.example.com' }],
      ok: true,
    },
    {
      name: 'outside permitted DNS',
      nc: { permitted: [{ dns: 'example.com' }] },
      san: [{ dns: 'mail.example.net' }],
      ok: false,
    },
    {
      name: 'excluded DNS',
      nc: { excluded: [{ dns: 'example.com' }] },
      san: [{ dns: 'mail.example.com' }],
      ok: false,
    },
    {
      name: 'permitted IP',
      nc: { permitted: [{ ip: [10, 0, 0, 0], mask: [255, 0, 0, 0] }] },
      san: [{ ip: [10, 1, 2, 3] }],
      ok: true,
    },
    {
      name: 'excluded IP',
      nc: { excluded: [{ ip: [10, 0, 0, 0], mask: [255, 0, 0, 0] }] },
      san: [{ ip: [10, 1, 2, 3] }],
      ok: false,
    },
    {
      name: 'permitted e-mail domain',
      nc: { permitted: [{ email: '.example.com' }] },
      san: [{ email: 'a@mail.example.com' }],
      ok: true,
    },
    {
      name: 'e-mail outside',
      nc: { permitted: [{ email: 'example.com' }] },
      san: [{ email: 'a@example.net' }],
      ok: false,
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const ca = await makeIntermediate('Constrained', root, { nameConstraints: c.nc });
      const leaf = await makeLeaf('leaf', ca, { subject: 'CN=leaf', san: c.san, eku: null });
      const tag = c.name.replace(/\W+/g, '-');
      const args = [
        'verify',
        '-attime',
        String(AT.getTime() / 1000),
        '-CAfile',
        dir.write(`${tag}-r.pem`, root.pem),
      ];
      args.push('-untrusted', dir.write(`${tag}-i.pem`, ca.pem), dir.write(`${tag}-l.pem`, leaf.pem));
      const o = opensslStatus(args);
      assert.equal(o.ok, c.ok, `openssl: ${o.stderr}`);
      const ours = await verifyChain(leaf.pem, {
        roots: root.pem,
        intermediates: ca.pem,
        at: AT,
        purpose: 'any',
      }).then(
        () => true,
        (e: unknown) => {
          if (e instanceof ChainError && e.code === 'ERR_CHAIN_NAME_CONSTRAINTS') return false;
          throw e;
        },
      );
      assert.equal(ours, c.ok);
    });
});
