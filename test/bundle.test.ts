import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import fc from 'fast-check';
import { encodePEM } from '../src/encoding/pem.js';
import { MailTlsError } from '../src/errors.js';
import { toHex } from '../src/internal/encoding/bytes.js';
import {
  encodeExplicit,
  encodeOctetString,
  encodeOID,
  encodeSequence,
} from '../src/internal/encoding/der.js';
import { parseCertificateBundle } from '../src/x509/bundle.js';
import { certFixtures, cpuStopwatch } from './helpers/cert-fixtures.js';
import { fuzzRuns } from './helpers/key-fixtures.js';

const f = certFixtures();
const chain = [f.leafP256, f.caRSA];
f.dir.write('chain.pem', chain.map((c) => c.pem).join(''));
f.dir.openssl(['crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-out', 'chain.p7b']);
f.dir.openssl(['crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-outform', 'DER', '-out', 'chain.p7b.der']);
// A CRL from the root, for a PKCS#7 bundle that carries one.
f.dir.write('index.txt', '');
f.dir.write('crlnumber', '01\n');
f.dir.write(
  'ca.cnf',
  '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n',
);
f.dir.openssl([
  'ca',
  '-config',
  'ca.cnf',
  '-gencrl',
  '-keyfile',
  'ca.key',
  '-cert',
  'ca.pem',
  '-out',
  'root.crl',
]);
f.dir.openssl([
  'crl2pkcs7',
  '-in',
  'root.crl',
  '-certfile',
  'chain.pem',
  '-outform',
  'DER',
  '-out',
  'withcrl.p7b',
]);
// A signed CMS message streamed by openssl: BER with indefinite lengths, as some Windows tools write .p7b.
f.dir.write('data.txt', 'hello\n');
for (const [outform, out] of [
  ['DER', 'signed.ber'],
  ['PEM', 'signed.pem'],
] as const) {
  const signer = ['-signer', 'p256.pem', '-inkey', 'p256.key', '-certfile', 'ca.pem'];
  f.dir.openssl(['cms', '-sign', '-in', 'data.txt', ...signer, '-outform', outform, '-stream', '-out', out]);
}
f.dir.write('roots.pem', rootCertificates.join('\n'));
f.dir.openssl(['crl2pkcs7', '-nocrl', '-certfile', 'roots.pem', '-outform', 'DER', '-out', 'roots.p7b']);

const fingerprints = (b: ReturnType<typeof parseCertificateBundle>) =>
  b.certificates.map((c) => c.fingerprint('sha256'));
const want = chain.map((c) => toHex(c.der));

describe('parseCertificateBundle', () => {
  const rows: { name: string; input: () => string | Uint8Array; format: string; skipped: string[] }[] = [
    { name: 'PEM chain', input: () => f.dir.text('chain.pem'), format: 'pem', skipped: [] },
    {
      name: 'PEM chain with a key, a CSR and text around',
      input: () =>
        `leaf:\n${f.leafP256.pem}key:\n${f.dir.text('p256.key')}${f.csrs.p256.pem}root:\n${f.caRSA.pem}`,
      format: 'pem',
      skipped: ['PRIVATE KEY', 'CERTIFICATE REQUEST'],
    },
    {
      name: 'PEM as bytes (with BOM)',
      input: () => new TextEncoder().encode(`\ufeff${f.dir.text('chain.pem')}`),
      format: 'pem',
      skipped: [],
    },
    {
      name: 'concatenated DER',
      input: () => Uint8Array.of(...f.leafP256.der, ...f.caRSA.der),
      format: 'der',
      skipped: [],
    },
    {
      name: 'PKCS#7 PEM (openssl crl2pkcs7)',
      input: () => f.dir.text('chain.p7b'),
      format: 'pkcs7-pem',
      skipped: [],
    },
    {
      name: 'PKCS#7 DER (openssl crl2pkcs7 -outform DER)',
      input: () => new Uint8Array(f.dir.read('chain.p7b.der')),
      format: 'pkcs7-der',
      skipped: [],
    },
    {
      name: 'PKCS#7 DER with a CRL',
      input: () => new Uint8Array(f.dir.read('withcrl.p7b')),
      format: 'pkcs7-der',
      skipped: ['CRL'],
    },
    {
      name: 'PEM with a PKCS7 block and a CRL block',
      input: () => f.dir.text('chain.p7b') + f.dir.text('root.crl'),
      format: 'pkcs7-pem',
      skipped: ['X509 CRL'],
    },
  ];
  for (const row of rows) {
    it(`${row.name}: certificates in order, format ${row.format}`, () => {
      const b = parseCertificateBundle(row.input());
      assert.deepEqual(
        b.certificates.map((c) => toHex(c.der)),
        want,
      );
      assert.equal(b.format, row.format);
      assert.deepEqual(
        b.skipped.map((s) => s.label),
        row.skipped,
      );
      assert.ok(Object.isFrozen(b.certificates));
    });
  }

  it('a single DER certificate', () => {
    const b = parseCertificateBundle(f.caRSA.der);
    assert.deepEqual(fingerprints(b), [
      f.dir
        .openssl(['x509', '-in', 'ca.pem', '-noout', '-fingerprint', '-sha256'])
        .toString()
        .trim()
        .split('=')[1],
    ]);
  });

  it('BER indefinite-length SignedData (openssl cms -sign -stream), DER and PEM "CMS"', () => {
    const ber = new Uint8Array(f.dir.read('signed.ber'));
    assert.equal(ber[1], 0x80, 'openssl did not write an indefinite length');
    const printed = f.dir
      .openssl(['pkcs7', '-inform', 'DER', '-in', 'signed.ber', '-print_certs'])
      .toString();
    const expected = fingerprints(parseCertificateBundle(printed));
    assert.equal(expected.length, 2);
    const fromBER = parseCertificateBundle(ber);
    assert.equal(fromBER.format, 'pkcs7-der');
    assert.deepEqual(fingerprints(fromBER), expected);
    const fromPEM = parseCertificateBundle(f.dir.text('signed.pem'));
    assert.equal(fromPEM.format, 'pkcs7-pem');
    assert.deepEqual(fingerprints(fromPEM), expected);
  });

  it('the order of a .p7b is what openssl pkcs7 -print_certs prints', () => {
    const printed = f.dir
      .openssl(['pkcs7', '-inform', 'DER', '-in', 'chain.p7b.der', '-print_certs'])
      .toString();
    const pems = printed.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const b = parseCertificateBundle(new Uint8Array(f.dir.read('chain.p7b.der')));
    assert.deepEqual(fingerprints(b), fingerprints(parseCertificateBundle(pems.join('\n'))));
  });

  it(`all ${rootCertificates.length} roots, as PEM and as a .p7b, parse to the same certificates`, () => {
    const pem = parseCertificateBundle(rootCertificates.join('\n'));
    const p7 = parseCertificateBundle(new Uint8Array(f.dir.read('roots.p7b')));
    assert.equal(pem.certificates.length, rootCertificates.length);
    assert.equal(p7.certificates.length, rootCertificates.length);
    assert.deepEqual(new Set(fingerprints(p7)), new Set(fingerprints(pem)));
  });
});

describe('parseCertificateBundle limits and errors', () => {
  const rows: { name: string; input: () => unknown; wantCode: string }[] = [
    {
      name: 'more than maxCertificates (PEM)',
      input: () => parseCertificateBundle(f.dir.text('chain.pem'), { maxCertificates: 1 }),
      wantCode: 'ERR_CERT_TOO_MANY',
    },
    {
      name: 'more than maxCertificates (.p7b)',
      input: () =>
        parseCertificateBundle(new Uint8Array(f.dir.read('chain.p7b.der')), { maxCertificates: 1 }),
      wantCode: 'ERR_CERT_TOO_MANY',
    },
    {
      name: 'more than the default 1,000',
      input: () => parseCertificateBundle(f.caRSA.pem.repeat(1001)),
      wantCode: 'ERR_CERT_TOO_MANY',
    },
    {
      name: 'only a key',
      input: () => parseCertificateBundle(f.dir.text('p256.key')),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    { name: 'no PEM at all', input: () => parseCertificateBundle('just text'), wantCode: 'ERR_PEM_NO_BLOCK' },
    {
      name: 'empty bytes',
      input: () => parseCertificateBundle(new Uint8Array(0)),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'truncated .p7b',
      input: () => parseCertificateBundle(new Uint8Array(f.dir.read('chain.p7b.der')).subarray(0, 300)),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'PKCS#7 data, not SignedData',
      input: () =>
        parseCertificateBundle(
          encodeSequence(
            encodeOID('1.2.840.113549.1.7.1'),
            encodeExplicit(0, encodeOctetString(Uint8Array.of(1))),
          ),
        ),
      wantCode: 'ERR_CERT_UNSUPPORTED',
    },
  ];
  for (const row of rows) {
    it(`${row.name} → ${row.wantCode}`, () => {
      assert.throws(row.input, (e: unknown) => e instanceof MailTlsError && e.code === row.wantCode);
    });
  }

  it('a malformed certificate in a bundle names its position', () => {
    const bad = f.caRSA.der.subarray(0, f.caRSA.der.length - 1);
    const text = f.leafP256.pem + encodePEM('CERTIFICATE', bad);
    assert.throws(
      () => parseCertificateBundle(text),
      (e: unknown) => {
        assert.ok(e instanceof MailTlsError);
        assert.equal(e.code, 'ERR_CERT_INVALID');
        assert.equal(e.details.index, 1);
        assert.match(e.message, /^Certificate #2 \(PEM block 2\)/);
        return true;
      },
    );
  });

  it('deeply nested indefinite lengths are refused quickly', () => {
    const deep = new Uint8Array(20000);
    for (let i = 0; i < deep.length; i += 2) deep.set([0x30, 0x80], i);
    const elapsed = cpuStopwatch();
    assert.throws(
      () => parseCertificateBundle(deep),
      (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_CERT_INVALID',
    );
    assert.ok(elapsed() < 100);
  });

  it('bad options and inputs are TypeError/RangeError', () => {
    assert.throws(() => parseCertificateBundle(5 as unknown as string), TypeError);
    assert.throws(() => parseCertificateBundle(f.caRSA.der, { maxCertificates: 0 }), RangeError);
  });
});

describe('parseCertificateBundle properties', () => {
  it('any sequence of fixtures round-trips through PEM and DER in order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...f.all), { minLength: 1, maxLength: 6 }), (list) => {
        const ders = list.map((c) => toHex(c.der));
        const fromPEM = parseCertificateBundle(list.map((c) => encodePEM('CERTIFICATE', c.der)).join('\n'));
        const fromDER = parseCertificateBundle(Uint8Array.from(list.flatMap((c) => [...c.der])));
        assert.deepEqual(
          fromPEM.certificates.map((c) => toHex(c.der)),
          ders,
        );
        assert.deepEqual(
          fromDER.certificates.map((c) => toHex(c.der)),
          ders,
        );
      }),
      { numRuns: fuzzRuns(50) },
    );
  });

  it('mutated .p7b files never throw anything but MailTlsError, each under 100 ms', () => {
    const seeds = [new Uint8Array(f.dir.read('withcrl.p7b')), new Uint8Array(f.dir.read('signed.ber'))];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        fc.boolean(),
        (seed, pos, b, cut, truncate) => {
          const m = seed.slice();
          m[pos % m.length] = b;
          const input = truncate ? m.subarray(0, cut % m.length) : m;
          const elapsed = cpuStopwatch();
          try {
            const r = parseCertificateBundle(input);
            for (const c of r.certificates) JSON.stringify(c);
          } catch (e) {
            if (!(e instanceof MailTlsError)) throw e;
          }
          assert.ok(elapsed() < 100);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});
