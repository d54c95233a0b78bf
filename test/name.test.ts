import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MailTlsError } from '../src/errors.js';
import { toHex } from '../src/internal/encoding/bytes.js';
import { encodeOID, encodeSequence, encodeSet, encodeString, Tag } from '../src/internal/encoding/der.js';
import { parseCertificate } from '../src/x509/certificate.js';
import {
  escapeRFC4514Value,
  formatNameOneLine,
  nameEquals,
  nameKey,
  parseDistinguishedName,
} from '../src/x509/name.js';
import { certFixtures, cpuStopwatch, opensslText, unescapeOpenSSLBytes } from './helpers/cert-fixtures.js';
import { fuzzRuns } from './helpers/key-fixtures.js';

/** A DER Name from RDNs of [oid, tag, text] attributes. */
function derName(rdns: [string, number, string][][]): Uint8Array {
  return encodeSequence(
    ...rdns.map((rdn) =>
      encodeSet(...rdn.map(([oid, tag, v]) => encodeSequence(encodeOID(oid), encodeString(tag, v)))),
    ),
  );
}
const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';
const OU = '2.5.4.11';
const UTF8 = Tag.UTF8_STRING;
const PRINTABLE = Tag.PRINTABLE_STRING;

describe('parseDistinguishedName (RFC 4514 strings)', () => {
  const rows: { name: string; input: string; want: string }[] = [
    {
      name: 'simple',
      input: 'CN=mail.example.com,O=Example,C=DE',
      want: 'CN=mail.example.com,O=Example,C=DE',
    },
    { name: 'spaces after commas', input: 'CN=a, O=b , C=DE', want: 'CN=a,O=b,C=DE' },
    { name: 'escaped comma', input: 'O=Example\\, Inc.', want: 'O=Example\\, Inc.' },
    { name: 'hex-escaped UTF-8', input: 'L=Z\\C3\\BCrich', want: 'L=Zürich' },
    { name: 'raw UTF-8', input: 'L=Zürich', want: 'L=Zürich' },
    { name: 'leading # and space', input: 'CN=\\#1,OU=\\ x', want: 'CN=\\#1,OU=\\ x' },
    { name: 'trailing escaped space', input: 'CN=x\\ ', want: 'CN=x\\ ' },
    { name: 'multi-valued', input: 'CN=a+OU=b,O=c', want: 'OU=b+CN=a,O=c' },
    { name: 'dotted OID with #hex', input: '1.2.3.4=#0c03616263,CN=x', want: '1.2.3.4=#0c03616263,CN=x' },
    {
      name: 'long names and aliases',
      input: 'commonName=x,organizationName=y,email=a@b.c',
      want: 'CN=x,O=y,emailAddress=a@b.c',
    },
    {
      name: 'special characters',
      input: 'CN=a\\+b\\;c\\<d\\>\\"e\\\\f',
      want: 'CN=a\\+b\\;c\\<d\\>\\"e\\\\f',
    },
    { name: 'empty', input: '', want: '' },
    { name: 'DC and UID', input: 'UID=joe,DC=example,DC=com', want: 'UID=joe,DC=example,DC=com' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const dn = parseDistinguishedName(row.input);
      assert.equal(dn.toString(), row.want);
      assert.equal(parseDistinguishedName(dn.toString()).toString(), row.want);
      assert.equal(toHex(parseDistinguishedName(dn.der).der), toHex(dn.der));
    });
  }

  const bad: { name: string; input: string; wantCode: string }[] = [
    { name: 'no =', input: 'CN', wantCode: 'ERR_CERT_NAME' },
    { name: 'unknown type', input: 'XYZ=1', wantCode: 'ERR_CERT_NAME' },
    { name: 'country not two letters', input: 'C=Germany', wantCode: 'ERR_CERT_NAME' },
    { name: 'lower-case country', input: 'C=de', wantCode: 'ERR_CERT_NAME' },
    { name: 'unescaped quote', input: 'CN=a"b', wantCode: 'ERR_CERT_NAME' },
    { name: 'bad hex', input: 'CN=#zz', wantCode: 'ERR_CERT_NAME' },
    { name: 'hex not DER', input: 'CN=#0c05', wantCode: 'ERR_CERT_NAME' },
    { name: 'dangling backslash', input: 'CN=a\\', wantCode: 'ERR_CERT_NAME' },
    { name: 'escape not UTF-8', input: 'CN=\\ff', wantCode: 'ERR_CERT_NAME' },
    { name: 'missing type', input: '=x', wantCode: 'ERR_CERT_NAME' },
    { name: 'non-ASCII e-mail', input: 'emailAddress=jösé@example.com', wantCode: 'ERR_CERT_NAME' },
    { name: 'malformed DER', input: '\u0000', wantCode: 'ERR_CERT_NAME' },
  ];
  for (const row of bad) {
    it(`${row.name} → ${row.wantCode}`, () => {
      const input = row.input === '\u0000' ? Uint8Array.of(0x30, 0x05, 0x31) : row.input;
      assert.throws(
        () => parseDistinguishedName(input),
        (e: unknown) => e instanceof MailTlsError && e.code === row.wantCode,
      );
    });
  }

  it('wrong argument types are TypeErrors', () => {
    assert.throws(() => parseDistinguishedName(1 as unknown as string), TypeError);
    assert.throws(() => nameKey({} as never), TypeError);
  });

  it('encodes like openssl req -subj (C PrintableString, emailAddress/DC IA5String, others UTF8String)', () => {
    const f = certFixtures();
    const rows = [
      { subj: '/C=DE/O=Example Mail/CN=mail.example.com', rfc: 'CN=mail.example.com,O=Example Mail,C=DE' },
      {
        subj: '/DC=com/DC=example/CN=Zürich/emailAddress=a@example.com',
        rfc: 'emailAddress=a@example.com,CN=Zürich,DC=example,DC=com',
      },
    ];
    for (const row of rows) {
      const pem = opensslText(f, [
        'req',
        '-x509',
        '-new',
        '-key',
        'p256.key',
        '-config',
        'x.cnf',
        '-utf8',
        '-subj',
        row.subj,
        '-days',
        '1',
      ]);
      const cert = parseCertificate(pem);
      const mine = parseDistinguishedName(row.rfc);
      assert.equal(toHex(mine.der), toHex(cert.subject.der), row.subj);
      assert.equal(cert.subject.toString(), row.rfc);
    }
  });
});

describe('name views from DER', () => {
  it('commonName is the last CN; getAll lists values in DER order', () => {
    const dn = parseDistinguishedName(
      derName([[[C, PRINTABLE, 'DE']], [[CN, UTF8, 'first']], [[OU, UTF8, 'x']], [[CN, UTF8, 'last']]]),
    );
    assert.equal(dn.commonName, 'last');
    assert.deepEqual(dn.getAll('CN'), ['first', 'last']);
    assert.deepEqual(dn.getAll('commonName'), ['first', 'last']);
    assert.deepEqual(dn.getAll('2.5.4.6'), ['DE']);
    assert.deepEqual(dn.getAll('nope'), []);
    assert.equal(dn.rdns[0]![0]!.shortName, 'C');
    assert.equal(dn.rdns[0]![0]!.tag, PRINTABLE);
    assert.equal(JSON.stringify({ dn }), JSON.stringify({ dn: 'CN=last,OU=x,CN=first,C=DE' }));
  });

  it('values that are not text are #hex (RFC 4514 §2.4), unknown types too', () => {
    const weird = encodeSequence(
      encodeSet(encodeSequence(encodeOID(CN), Uint8Array.of(0x02, 0x01, 0x05))),
      encodeSet(encodeSequence(encodeOID('1.2.3.4'), encodeString(UTF8, 'abc'))),
      encodeSet(encodeSequence(encodeOID(O), Uint8Array.of(0x0c, 0x02, 0xc3, 0x28))), // invalid UTF-8
    );
    const dn = parseDistinguishedName(weird);
    assert.equal(dn.toString(), 'O=#0c02c328,1.2.3.4=#0c03616263,CN=#020105');
    assert.equal(dn.commonName, undefined);
    assert.equal(dn.rdns[1]![0]!.value, 'abc');
  });

  it('formatNameOneLine matches the Subject/Issuer lines of openssl x509 -text', () => {
    const f = certFixtures();
    for (const fx of f.all) {
      const cert = parseCertificate(fx.pem);
      const text = opensslText(f, ['x509', '-in', fx.file, '-noout', '-text']);
      const subject = /^ {8}Subject: (.*)$/m.exec(text)?.[1];
      const issuer = /^ {8}Issuer: (.*)$/m.exec(text)?.[1];
      assert.equal(formatNameOneLine(cert.subject), unescapeOpenSSLBytes(subject ?? ''), fx.name);
      assert.equal(formatNameOneLine(cert.issuer), unescapeOpenSSLBytes(issuer ?? ''), fx.name);
    }
  });
});

describe('nameEquals and nameKey (RFC 5280 §7.1)', () => {
  const rows: {
    name: string;
    a: [string, number, string][][];
    b: [string, number, string][][];
    want: boolean;
  }[] = [
    { name: 'identical', a: [[[CN, UTF8, 'x']]], b: [[[CN, UTF8, 'x']]], want: true },
    {
      name: 'case differs',
      a: [[[CN, UTF8, 'Mail.Example.COM']]],
      b: [[[CN, UTF8, 'mail.example.com']]],
      want: true,
    },
    {
      name: 'whitespace folded',
      a: [[[O, UTF8, '  Example   Org ']]],
      b: [[[O, UTF8, 'example org']]],
      want: true,
    },
    {
      name: 'PrintableString vs UTF8String',
      a: [[[O, PRINTABLE, 'Example']]],
      b: [[[O, UTF8, 'example']]],
      want: true,
    },
    { name: 'NFKC (ﬁ ligature)', a: [[[O, UTF8, 'ﬁrm']]], b: [[[O, UTF8, 'FIRM']]], want: true },
    { name: 'different value', a: [[[CN, UTF8, 'a']]], b: [[[CN, UTF8, 'b']]], want: false },
    { name: 'different type', a: [[[CN, UTF8, 'a']]], b: [[[O, UTF8, 'a']]], want: false },
    {
      name: 'RDN order matters',
      a: [[[C, PRINTABLE, 'DE']], [[O, UTF8, 'x']]],
      b: [[[O, UTF8, 'x']], [[C, PRINTABLE, 'DE']]],
      want: false,
    },
    { name: 'extra RDN', a: [[[CN, UTF8, 'a']]], b: [[[CN, UTF8, 'a']], [[O, UTF8, 'b']]], want: false },
    {
      name: 'multi-valued order-free',
      a: [
        [
          [CN, UTF8, 'a'],
          [OU, UTF8, 'b'],
        ],
      ],
      b: [
        [
          [OU, UTF8, 'B'],
          [CN, UTF8, 'A'],
        ],
      ],
      want: true,
    },
    {
      name: 'multi-valued vs split',
      a: [
        [
          [CN, UTF8, 'a'],
          [OU, UTF8, 'b'],
        ],
      ],
      b: [[[CN, UTF8, 'a']], [[OU, UTF8, 'b']]],
      want: false,
    },
    {
      name: 'escaping does not collide',
      a: [[[O, UTF8, 'a,b']]],
      b: [
        [
          [O, UTF8, 'a'],
          [O, UTF8, 'b'],
        ],
      ],
      want: false,
    },
    { name: 'empty names', a: [], b: [], want: true },
  ];
  for (const row of rows) {
    it(`${row.name} → ${row.want}`, () => {
      const a = parseDistinguishedName(derName(row.a));
      const b = parseDistinguishedName(derName(row.b));
      assert.equal(nameEquals(a, b), row.want);
      assert.equal(nameEquals(b, a), row.want);
      assert.equal(nameKey(a) === nameKey(b), row.want);
    });
  }

  it('agrees with OpenSSL on issuer/subject chaining of the fixtures', () => {
    const f = certFixtures();
    const leaf = parseCertificate(f.leafP256.pem);
    const ca = parseCertificate(f.caRSA.pem);
    assert.ok(nameEquals(leaf.issuer, ca.subject));
    assert.ok(!nameEquals(leaf.subject, ca.subject));
  });
});

describe('name properties', () => {
  const types = fc.constantFrom('CN', 'O', 'OU', 'L', 'ST', 'street', 'title');
  const value = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
  const rdns = fc.array(fc.array(fc.tuple(types, value), { minLength: 1, maxLength: 3 }), { maxLength: 5 });

  it('string → DER → string → DER round trips', () => {
    fc.assert(
      fc.property(rdns, (list) => {
        const text = list
          .map((rdn) => rdn.map(([t, v]) => `${t}=${escapeRFC4514Value(v)}`).join('+'))
          .join(',');
        const dn = parseDistinguishedName(text);
        const again = parseDistinguishedName(dn.toString());
        assert.equal(toHex(again.der), toHex(dn.der));
        assert.equal(again.toString(), dn.toString());
        assert.ok(nameEquals(dn, again));
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('nameKey equality is nameEquals, and case changes keep names equal', () => {
    fc.assert(
      fc.property(rdns, (list) => {
        const build = (upper: boolean) =>
          parseDistinguishedName(
            derName(
              list.map((rdn) =>
                rdn.map(([t, v]) => [t === 'CN' ? CN : O, UTF8, upper ? v.toUpperCase() : v]),
              ),
            ),
          );
        const a = build(false);
        const b = build(true);
        assert.equal(nameEquals(a, b), nameKey(a) === nameKey(b));
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('mutated DER names never throw anything but MailTlsError', () => {
    const seed = parseDistinguishedName('CN=mail.example.com,OU=a+O=b,C=DE').der;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (pos, byte, cut) => {
        const m = seed.slice();
        m[pos % m.length] = byte;
        for (const input of [m, m.subarray(0, cut % m.length)]) {
          const elapsed = cpuStopwatch();
          try {
            const dn = parseDistinguishedName(input);
            dn.toString();
            nameKey(dn);
          } catch (e) {
            if (!(e instanceof MailTlsError)) throw e;
          }
          assert.ok(elapsed() < 100);
        }
      }),
      { numRuns: fuzzRuns(500) },
    );
  });

  it('random strings never throw anything but MailTlsError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          parseDistinguishedName(s);
        } catch (e) {
          if (!(e instanceof MailTlsError)) throw e;
        }
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
