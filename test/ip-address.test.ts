import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMailTlsError } from '../src/errors.js';
import { toHex } from '../src/internal/encoding/bytes.js';
import {
  canonicalizeIPAddress,
  formatIPAddress,
  isIPAddress,
  parseIPAddress,
  tryCanonicalizeIPAddress,
} from '../src/names/ip-address.js';
import { opensslCertificate } from './helpers/openssl-names.js';
import { cpuStopwatch } from './helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);

describe('ip-address: parseIPAddress', () => {
  const valid = [
    { name: 'IPv4', input: '192.0.2.1', want: 'c0000201' },
    { name: 'IPv4 zeros', input: '0.0.0.0', want: '00000000' },
    { name: 'IPv4 max', input: '255.255.255.255', want: 'ffffffff' },
    { name: 'IPv6 loopback', input: '::1', want: '00000000000000000000000000000001' },
    { name: 'IPv6 unspecified', input: '::', want: '00000000000000000000000000000000' },
    {
      name: 'IPv6 full',
      input: '2001:0db8:0000:0000:0000:0000:0000:0001',
      want: '20010db8000000000000000000000001',
    },
    { name: 'IPv6 upper case', input: '2001:DB8::CAFE', want: '20010db800000000000000000000cafe' },
    { name: 'IPv6 trailing ::', input: '1::', want: '00010000000000000000000000000000' },
    { name: 'IPv6 :: for one group', input: '1:2:3:4:5:6:7::', want: '00010002000300040005000600070000' },
    { name: 'IPv6 :: in the middle', input: '2001:db8::1:0:0:1', want: '20010db8000000000001000000000001' },
    { name: 'IPv6 with IPv4 tail', input: '::ffff:192.0.2.1', want: '00000000000000000000ffffc0000201' },
    {
      name: 'IPv6 full with IPv4 tail',
      input: '1:2:3:4:5:6:1.2.3.4',
      want: '00010002000300040005000601020304',
    },
    { name: 'IPv6 in brackets', input: '[2001:db8::25]', want: '20010db8000000000000000000000025' },
  ];
  for (const row of valid) {
    it(`reads ${row.name}`, () => {
      const bytes = parseIPAddress(row.input);
      assert.ok(bytes !== undefined);
      assert.equal(toHex(bytes), row.want);
      assert.equal(isIPAddress(row.input), true);
    });
  }

  const invalid = [
    { name: 'empty', input: '' },
    { name: 'IPv4 short form (inet_aton)', input: '127.1' },
    { name: 'IPv4 three parts', input: '1.2.3' },
    { name: 'IPv4 five parts', input: '1.2.3.4.5' },
    { name: 'IPv4 leading zero (octal to inet_aton)', input: '010.0.0.1' },
    { name: 'IPv4 hex', input: '0x7f.0.0.1' },
    { name: 'IPv4 integer', input: '2130706433' },
    { name: 'IPv4 octet over 255', input: '256.0.0.1' },
    { name: 'IPv4 trailing dot', input: '1.2.3.4.' },
    { name: 'IPv4 in brackets', input: '[1.2.3.4]' },
    { name: 'IPv4 with space', input: '1.2.3.4 ' },
    { name: 'IPv6 zone identifier', input: 'fe80::1%eth0' },
    { name: 'IPv6 zone in brackets', input: '[fe80::1%25eth0]' },
    { name: 'IPv6 two ::', input: '1::2::3' },
    { name: 'IPv6 nine groups', input: '1:2:3:4:5:6:7:8:9' },
    { name: 'IPv6 seven groups without ::', input: '1:2:3:4:5:6:7' },
    { name: 'IPv6 :: with eight groups', input: '1:2:3:4::5:6:7:8' },
    { name: 'IPv6 five hex digits', input: '12345::' },
    { name: 'IPv6 single leading colon', input: ':1::' },
    { name: 'IPv6 single trailing colon', input: '1::2:' },
    { name: 'IPv6 triple colon', input: '1:::2' },
    { name: 'IPv6 IPv4 tail not last', input: '1.2.3.4::' },
    { name: 'IPv6 IPv4 tail too late', input: '1:2:3:4:5:6:7:1.2.3.4' },
    { name: 'IPv6 bad IPv4 tail', input: '::ffff:1.2.3' },
    { name: 'IPv6 non-hex', input: '::g' },
    { name: 'unclosed bracket', input: '[::1' },
    { name: 'empty brackets', input: '[]' },
    { name: 'host name', input: 'mail.example.com' },
    { name: 'over 64 characters', input: `${'0'.repeat(60)}::1` },
  ];
  for (const row of invalid) {
    it(`refuses ${row.name}`, () => {
      assert.equal(parseIPAddress(row.input), undefined);
      assert.equal(isIPAddress(row.input), false);
      assert.equal(tryCanonicalizeIPAddress(row.input), undefined);
      assert.throws(
        () => canonicalizeIPAddress(row.input),
        (e: unknown) => isMailTlsError(e, 'ERR_HOSTNAME_INVALID') && e.details.reason === 'not-ip-address',
      );
    });
  }

  it('throws TypeError for a non-string', () => {
    assert.throws(() => parseIPAddress(1 as unknown as string), TypeError);
    assert.throws(() => canonicalizeIPAddress(null as unknown as string), TypeError);
  });
});

describe('ip-address: formatIPAddress (RFC 5952)', () => {
  const rows = [
    { name: 'IPv4', input: '192.0.2.1', want: '192.0.2.1' },
    { name: 'longest zero run', input: '2001:db8:0:0:1:0:0:1', want: '2001:db8::1:0:0:1' },
    { name: 'first of equal runs', input: '2001:0:0:1:0:0:1:1', want: '2001::1:0:0:1:1' },
    { name: 'single zero group kept', input: '2001:db8:0:1:1:1:1:1', want: '2001:db8:0:1:1:1:1:1' },
    { name: 'leading zeros dropped, lower case', input: '2001:0DB8:00AA::0001', want: '2001:db8:aa::1' },
    { name: 'all zeros', input: '0:0:0:0:0:0:0:0', want: '::' },
    { name: 'loopback', input: '0:0:0:0:0:0:0:1', want: '::1' },
    { name: 'trailing zeros', input: '1:0:0:0:0:0:0:0', want: '1::' },
    { name: 'IPv4-mapped in dotted form (RFC 5952 §5)', input: '::ffff:c000:0201', want: '::ffff:192.0.2.1' },
    { name: 'IPv4-compatible stays hex', input: '::c000:201', want: '::c000:201' },
  ];
  for (const row of rows) {
    it(`formats ${row.name}`, () => {
      assert.equal(formatIPAddress(parseIPAddress(row.input)!), row.want);
      assert.equal(canonicalizeIPAddress(row.input), row.want);
    });
  }

  it('refuses wrong types and lengths', () => {
    assert.throws(() => formatIPAddress('1.2.3.4' as unknown as Uint8Array), TypeError);
    assert.throws(() => formatIPAddress(new Uint8Array(5)), RangeError);
    assert.throws(() => formatIPAddress(new Uint8Array(8)), RangeError);
  });
});

describe('ip-address: cross-checks', () => {
  it('reads every address to the octets OpenSSL encodes in an iPAddress subjectAltName', () => {
    const texts = [
      '192.0.2.1',
      '10.0.0.255',
      '::',
      '::1',
      '1::',
      '2001:db8::1:0:0:1',
      '2001:DB8:0:0:0:0:0:CAFE',
      '::ffff:192.0.2.33',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4',
      'fe80::3285:a9ff:fe46:b619',
    ];
    const cert = opensslCertificate({ subjectAltName: texts.map((t) => `IP:${t}`).join(',') });
    assert.equal(cert.names.ipBytes.length, texts.length);
    texts.forEach((text, i) => {
      assert.equal(toHex(parseIPAddress(text)!), toHex(cert.names.ipBytes[i]!), text);
      // And what Node prints for that certificate entry reads back to the same octets.
    });
    const printed = (cert.x509.subjectAltName ?? '')
      .split(', ')
      .filter((s) => s.startsWith('IP Address:'))
      .map((s) => s.slice('IP Address:'.length));
    assert.equal(printed.length, texts.length);
    printed.forEach((text, i) => {
      assert.equal(toHex(parseIPAddress(text)!), toHex(cert.names.ipBytes[i]!), text);
    });
  });

  it('formats IPv6 as the WHATWG URL serializer does (RFC 5952 compression) outside IPv4-mapped addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, sparse) => {
        const b = sparse ? bytes.map((x, i) => ((i >> 1) % 3 === 0 ? x : 0)) : bytes;
        const text = formatIPAddress(b);
        assert.deepEqual(parseIPAddress(text), b);
        assert.equal(isIP(text), 6);
        const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
        if (!mapped) assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }),
      { numRuns: runs },
    );
  });

  it('accepts exactly the texts node:net isIP accepts (without zones), for random IP-like strings', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''), '::', '1.2.3.4', 'ffff:', '0.');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (parts) => {
        const text = parts.join('');
        const ours = parseIPAddress(text);
        const node = isIP(text);
        assert.equal(ours !== undefined, node !== 0, `${text}: mailtls ${ours !== undefined}, node ${node}`);
        if (ours !== undefined) {
          assert.equal(ours.length, node === 4 ? 4 : 16);
          assert.deepEqual(parseIPAddress(formatIPAddress(ours)), ours);
        }
      }),
      { numRuns: runs * 10 },
    );
  });

  it('never throws for random strings and answers quickly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const elapsed = cpuStopwatch();
        const bytes = parseIPAddress(text);
        if (bytes !== undefined) assert.ok(bytes.length === 4 || bytes.length === 16);
        assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
      }),
      { numRuns: runs },
    );
  });
});
