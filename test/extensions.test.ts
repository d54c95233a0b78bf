import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../src/internal/encoding/bytes.js';
import {
  encodeBoolean,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeString,
  encodeTLV,
  Tag,
} from '../src/internal/encoding/der.js';
import { parseCertificate } from '../src/x509/certificate.js';
import {
  decodeExtensionValue,
  formatGeneralName,
  type GeneralName,
  KNOWN_EXTENSIONS,
  toJSONSafe,
} from '../src/x509/extensions.js';
import { parseDistinguishedName } from '../src/x509/name.js';
import { certFixtures, cpuStopwatch, opensslText } from './helpers/cert-fixtures.js';
import { fuzzRuns } from './helpers/key-fixtures.js';

const ia5 = (tag: number, s: string) => encodeTLV(tag, new TextEncoder().encode(s));
const seq = encodeSequence;

/** JSON-safe form of a decode result, for deepEqual with plain expectations. */
function decode(oid: string, value: Uint8Array): unknown {
  return toJSONSafe(decodeExtensionValue(oid, value));
}

describe('decodeExtensionValue', () => {
  const rows: { name: string; oid: string; input: Uint8Array; want: unknown }[] = [
    { name: 'basicConstraints empty', oid: '2.5.29.19', input: seq(), want: { parsed: { ca: false } } },
    {
      name: 'basicConstraints CA pathlen 0',
      oid: '2.5.29.19',
      input: seq(encodeBoolean(true), encodeInteger(0)),
      want: { parsed: { ca: true, pathLength: 0 } },
    },
    {
      name: 'keyUsage digitalSignature+keyEncipherment',
      oid: '2.5.29.15',
      input: fromHex('030205a0'),
      want: { parsed: ['digitalSignature', 'keyEncipherment'] },
    },
    {
      name: 'keyUsage decipherOnly (bit 8)',
      oid: '2.5.29.15',
      input: fromHex('0303070080'),
      want: { parsed: ['decipherOnly'] },
    },
    {
      name: 'extendedKeyUsage known and unknown',
      oid: '2.5.29.37',
      input: seq(encodeOID('1.3.6.1.5.5.7.3.1'), encodeOID('1.2.3.4')),
      want: { parsed: ['serverAuth', '1.2.3.4'] },
    },
    {
      name: 'subjectKeyIdentifier',
      oid: '2.5.29.14',
      input: encodeOctetString(fromHex('0102abcd')),
      want: { parsed: '0102abcd' },
    },
    {
      name: 'authorityKeyIdentifier keyid',
      oid: '2.5.29.35',
      input: seq(encodeImplicit(0, fromHex('beef'))),
      want: { parsed: { keyIdentifier: 'beef' } },
    },
    {
      name: 'authorityKeyIdentifier issuer+serial',
      oid: '2.5.29.35',
      input: seq(
        encodeTLV(0xa1, encodeExplicit(4, parseDistinguishedName('CN=Root').der)),
        encodeImplicit(2, fromHex('00ff')),
      ),
      want: {
        parsed: {
          issuer: [{ type: 'directoryName', value: 'CN=Root', name: 'CN=Root' }],
          serialNumber: 'ff',
        },
      },
    },
    {
      name: 'subjectAltName every type',
      oid: '2.5.29.17',
      input: seq(
        ia5(0x82, 'mail.example.com'),
        encodeImplicit(7, fromHex('c0000201')),
        encodeImplicit(7, fromHex('20010db8000000000000000000000001')),
        ia5(0x81, 'a@example.com'),
        ia5(0x86, 'https://example.com/'),
        encodeImplicit(8, encodeOID('1.2.3').subarray(2)),
        encodeTLV(
          0xa0,
          encodeOID('1.3.6.1.5.5.7.8.9'),
          encodeExplicit(0, encodeString(Tag.UTF8_STRING, 'jörg@example.com')),
        ),
      ),
      want: {
        parsed: [
          { type: 'dns', value: 'mail.example.com' },
          { type: 'ip', value: '192.0.2.1', bytes: 'c0000201' },
          { type: 'ip', value: '2001:db8::1', bytes: '20010db8000000000000000000000001' },
          { type: 'email', value: 'a@example.com' },
          { type: 'uri', value: 'https://example.com/' },
          { type: 'registeredID', value: '1.2.3' },
          {
            type: 'otherName',
            oid: '1.3.6.1.5.5.7.8.9',
            value: 'jörg@example.com',
            der: '0c116ac3b67267406578616d706c652e636f6d',
          },
        ],
      },
    },
    {
      name: 'authorityInfoAccess',
      oid: '1.3.6.1.5.5.7.1.1',
      input: seq(
        seq(encodeOID('1.3.6.1.5.5.7.48.1'), ia5(0x86, 'http://ocsp.example/')),
        seq(encodeOID('1.3.6.1.5.5.7.48.2'), ia5(0x86, 'http://ca.example/ca.cer')),
      ),
      want: {
        parsed: [
          {
            method: '1.3.6.1.5.5.7.48.1',
            methodName: 'OCSP',
            location: { type: 'uri', value: 'http://ocsp.example/' },
          },
          {
            method: '1.3.6.1.5.5.7.48.2',
            methodName: 'caIssuers',
            location: { type: 'uri', value: 'http://ca.example/ca.cer' },
          },
        ],
      },
    },
    {
      name: 'cRLDistributionPoints full name, reasons, relative name',
      oid: '2.5.29.31',
      input: seq(
        seq(
          encodeExplicit(0, encodeTLV(0xa0, ia5(0x86, 'http://crl.example/a.crl'))),
          encodeImplicit(1, fromHex('0560')),
        ),
        seq(
          encodeExplicit(
            0,
            encodeTLV(0xa1, seq(encodeOID('2.5.4.3'), encodeString(Tag.UTF8_STRING, 'CRL1'))),
          ),
        ),
      ),
      want: {
        parsed: [
          {
            fullName: [{ type: 'uri', value: 'http://crl.example/a.crl' }],
            reasons: ['keyCompromise', 'cACompromise'],
          },
          { relativeName: 'CN=CRL1' },
        ],
      },
    },
    {
      name: 'certificatePolicies with CPS and user notice',
      oid: '2.5.29.32',
      input: seq(
        seq(encodeOID('2.23.140.1.2.1')),
        seq(
          encodeOID('1.2.3.4'),
          seq(
            seq(encodeOID('1.3.6.1.5.5.7.2.1'), ia5(Tag.IA5_STRING, 'https://cps.example/')),
            seq(encodeOID('1.3.6.1.5.5.7.2.2'), seq(encodeString(Tag.UTF8_STRING, 'Text'))),
          ),
        ),
      ),
      want: {
        parsed: [
          { oid: '2.23.140.1.2.1', qualifiers: [] },
          {
            oid: '1.2.3.4',
            qualifiers: [
              { oid: '1.3.6.1.5.5.7.2.1', cps: 'https://cps.example/' },
              { oid: '1.3.6.1.5.5.7.2.2', userNotice: { explicitText: 'Text' } },
            ],
          },
        ],
      },
    },
    {
      name: 'nameConstraints with IP masks and max',
      oid: '2.5.29.30',
      input: seq(
        encodeTLV(0xa0, seq(ia5(0x82, 'example.com')), seq(encodeImplicit(7, fromHex('c0a80000ffff0000')))),
        encodeTLV(
          0xa1,
          seq(
            ia5(0x81, 'bad.example'),
            encodeImplicit(0, Uint8Array.of(0)),
            encodeImplicit(1, Uint8Array.of(3)),
          ),
        ),
      ),
      want: {
        parsed: {
          permitted: [
            { base: { type: 'dns', value: 'example.com' }, minimum: 0 },
            {
              base: { type: 'ip', value: '192.168.0.0/255.255.0.0', bytes: 'c0a80000', mask: 'ffff0000' },
              minimum: 0,
            },
          ],
          excluded: [{ base: { type: 'email', value: 'bad.example' }, minimum: 0, maximum: 3 }],
        },
      },
    },
    {
      name: 'policyConstraints',
      oid: '2.5.29.36',
      input: seq(encodeImplicit(0, Uint8Array.of(0)), encodeImplicit(1, Uint8Array.of(2))),
      want: { parsed: { requireExplicitPolicy: 0, inhibitPolicyMapping: 2 } },
    },
    {
      name: 'policyMappings',
      oid: '2.5.29.33',
      input: seq(seq(encodeOID('1.2.3'), encodeOID('1.2.4'))),
      want: { parsed: [{ issuerDomainPolicy: '1.2.3', subjectDomainPolicy: '1.2.4' }] },
    },
    { name: 'inhibitAnyPolicy', oid: '2.5.29.54', input: encodeInteger(1), want: { parsed: 1 } },
    {
      name: 'tlsfeature status_request',
      oid: '1.3.6.1.5.5.7.1.24',
      input: seq(encodeInteger(5), encodeInteger(99)),
      want: { parsed: ['status_request', 99] },
    },
    {
      name: 'precertificate poison',
      oid: '1.3.6.1.4.1.11129.2.4.3',
      input: encodeNull(),
      want: { parsed: true },
    },
    {
      name: 'nsComment',
      oid: '2.16.840.1.113730.1.13',
      input: ia5(Tag.IA5_STRING, 'hi'),
      want: { parsed: 'hi' },
    },
    { name: 'unknown OID', oid: '1.2.3.4.5', input: fromHex('0500'), want: {} },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(decode(row.oid, row.input), row.want));
  }

  const bad: { name: string; oid: string; input: Uint8Array }[] = [
    { name: 'basicConstraints BOOLEAN not DER', oid: '2.5.29.19', input: fromHex('3003010101') },
    { name: 'basicConstraints trailing data', oid: '2.5.29.19', input: fromHex('30000000') },
    { name: 'basicConstraints negative pathlen', oid: '2.5.29.19', input: fromHex('30060101ff0201ff') },
    { name: 'keyUsage not a BIT STRING', oid: '2.5.29.15', input: fromHex('0401a0') },
    { name: 'empty EKU', oid: '2.5.29.37', input: seq() },
    { name: 'SAN empty', oid: '2.5.29.17', input: seq() },
    { name: 'SAN IP of 5 bytes', oid: '2.5.29.17', input: seq(encodeImplicit(7, fromHex('0102030405'))) },
    { name: 'SAN non-ASCII dNSName', oid: '2.5.29.17', input: seq(encodeImplicit(2, fromHex('c3a9'))) },
    { name: 'SAN unknown choice', oid: '2.5.29.17', input: seq(encodeImplicit(9, fromHex('00'))) },
    { name: 'AKI issuer without serial', oid: '2.5.29.35', input: seq(encodeTLV(0xa1, ia5(0x82, 'x'))) },
    {
      name: 'nameConstraints IP without mask',
      oid: '2.5.29.30',
      input: seq(encodeTLV(0xa0, seq(encodeImplicit(7, fromHex('0a000000'))))),
    },
    { name: 'nameConstraints empty', oid: '2.5.29.30', input: seq() },
    { name: 'CRL DP empty point', oid: '2.5.29.31', input: seq(seq()) },
    {
      name: 'SCT list length mismatch',
      oid: '1.3.6.1.4.1.11129.2.4.2',
      input: encodeOctetString(fromHex('0005')),
    },
    { name: 'poison not NULL', oid: '1.3.6.1.4.1.11129.2.4.3', input: fromHex('0400') },
  ];
  for (const row of bad) {
    it(`${row.name} → error, not an exception`, () => {
      const r = decodeExtensionValue(row.oid, row.input);
      assert.equal(r.parsed, undefined);
      assert.equal(typeof r.error, 'string');
      assert.match(r.error!, /byte \d+/);
    });
  }

  it('TypeError for a non-Uint8Array value', () => {
    assert.throws(() => decodeExtensionValue('2.5.29.19', 'x' as unknown as Uint8Array), TypeError);
  });

  // Names of Object.prototype members are unknown OIDs like any other, not decoders.
  const unknown: { name: string; oid: string; input: Uint8Array; want: unknown }[] = [
    'toString',
    'constructor',
    '__proto__',
    'hasOwnProperty',
    'valueOf',
  ].map((oid) => ({ name: oid, oid, input: seq(), want: {} }));
  for (const row of unknown) {
    it(`the OID string '${row.name}' is unknown: {}`, () => {
      assert.deepEqual(decodeExtensionValue(row.oid, row.input), row.want);
      assert.equal(KNOWN_EXTENSIONS.has(row.oid), false);
    });
  }
});

describe('embedded SCTs agree with openssl', () => {
  it('log IDs and timestamps of a CT SCT list', () => {
    const f = certFixtures();
    const logId = new Uint8Array(32).map((_, i) => i * 7);
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const sct = new Uint8Array(1 + 32 + 8 + 2 + 4 + 4);
    sct[0] = 0;
    sct.set(logId, 1);
    new DataView(sct.buffer).setBigUint64(33, BigInt(ms));
    sct.set([0, 0, 4, 3, 0, 4, 1, 2, 3, 4], 41);
    const list = new Uint8Array(4 + sct.length);
    new DataView(list.buffer).setUint16(0, sct.length + 2);
    new DataView(list.buffer).setUint16(2, sct.length);
    list.set(sct, 4);
    const value = encodeOctetString(list);
    f.dir.write(
      'sct.cnf',
      `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=sct\n[ext]\n1.3.6.1.4.1.11129.2.4.2 = DER:${toHex(value)}\n`,
    );
    const pem = opensslText(f, [
      'req',
      '-x509',
      '-new',
      '-key',
      'p256.key',
      '-config',
      'sct.cnf',
      '-extensions',
      'ext',
      '-days',
      '1',
    ]);
    f.dir.write('sct.pem', pem);
    const text = opensslText(f, ['x509', '-in', 'sct.pem', '-noout', '-text']);
    const cert = parseCertificate(pem);
    const parsed = cert.getExtension('ct_precert_scts')?.parsed as {
      logId: string;
      timestamp: Date;
      version: number;
    }[];
    assert.equal(parsed.length, 1);
    const opensslLogId = /Log ID\s*:\s*((?:[0-9A-F]{2}:?\s*)+)/
      .exec(text)![1]!
      .replace(/[\s:]/g, '')
      .toLowerCase();
    assert.equal(parsed[0]!.logId, opensslLogId);
    assert.equal(parsed[0]!.logId, toHex(logId));
    const ts = /Timestamp : (.*)$/m.exec(text)![1]!;
    assert.equal(parsed[0]!.timestamp.getTime(), ms);
    assert.match(ts, /Jan {2}2 03:04:05\.678 2026 GMT/);
  });
});

describe('formatGeneralName', () => {
  const dn = parseDistinguishedName('CN=x,O=y');
  const rows: { name: string; input: GeneralName; want: string }[] = [
    { name: 'dns', input: { type: 'dns', value: 'a.example' }, want: 'DNS:a.example' },
    { name: 'email', input: { type: 'email', value: 'a@b' }, want: 'email:a@b' },
    { name: 'uri', input: { type: 'uri', value: 'ldap://x' }, want: 'URI:ldap://x' },
    {
      name: 'ip',
      input: { type: 'ip', value: '192.0.2.1', bytes: fromHex('c0000201') },
      want: 'IP Address:192.0.2.1',
    },
    {
      name: 'ip constraint',
      input: {
        type: 'ip',
        value: '10.0.0.0/255.0.0.0',
        bytes: fromHex('0a000000'),
        mask: fromHex('ff000000'),
      },
      want: 'IP:10.0.0.0/255.0.0.0',
    },
    {
      name: 'dirName',
      input: { type: 'directoryName', value: dn.toString(), name: dn },
      want: 'DirName:/O=y/CN=x',
    },
    { name: 'registeredID', input: { type: 'registeredID', value: '1.2.3' }, want: 'Registered ID:1.2.3' },
    {
      name: 'otherName',
      input: { type: 'otherName', oid: '1.3.6.1.5.5.7.8.9', value: 'x@y', der: fromHex('0c03784079') },
      want: 'othername: SmtpUTF8Mailbox:x@y',
    },
  ];
  for (const row of rows) it(row.name, () => assert.equal(formatGeneralName(row.input), row.want));
});

describe('extension decoding properties', () => {
  const oids = [...KNOWN_EXTENSIONS];

  it('random bytes never throw, and give parsed or error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...oids), fc.uint8Array({ maxLength: 64 }), (oid, bytes) => {
        const r = decodeExtensionValue(oid, bytes);
        assert.ok((r.parsed === undefined) !== (r.error === undefined));
      }),
      { numRuns: fuzzRuns(1000) },
    );
  });

  it('mutated real extension values never throw and take under 100 ms', () => {
    const f = certFixtures();
    const seeds = f.all.flatMap((fx) =>
      parseCertificate(fx.der).extensions.map((e) => [e.oid, e.value] as const),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        ([oid, v], pos, b, cut) => {
          const m = v.slice();
          if (m.length > 0) m[pos % m.length] = b;
          for (const input of [m, v.subarray(0, cut % (v.length + 1))]) {
            const elapsed = cpuStopwatch();
            const r = decodeExtensionValue(oid, input);
            JSON.stringify(toJSONSafe(r));
            assert.ok(elapsed() < 100);
          }
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
  });
});
