import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DERError, MailTlsError } from '../../src/errors.js';
import { fromBase64, fromHex, toBase64, toHex } from '../../src/internal/encoding/bytes.js';
import {
  checkDepth,
  childrenOf,
  DerReader,
  decodeBitFlags,
  decodeBoolean,
  decodeInteger,
  decodeOID,
  decodeString,
  decodeTime,
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeInteger,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeString,
  encodeTime,
  encodeTLV,
  parseDer,
  type readNode,
  Tag,
  valueBytes,
} from '../../src/internal/encoding/der.js';
import { cpuStopwatch } from '../helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);

describe('internal/der: reading', () => {
  const bad = [
    { name: 'empty input', input: '', want: /unexpected end/ },
    { name: 'truncated length', input: '30', want: /truncated length/ },
    { name: 'indefinite length', input: '308000000000', want: /indefinite/ },
    { name: 'length runs past the end', input: '3005020101', want: /runs past the end/ },
    { name: 'non-minimal long length', input: '30810100', want: /non-minimal length/ },
    { name: 'leading zero in long length', input: `3082000${'1'}00`, want: /non-minimal length|runs past/ },
    { name: 'five length bytes', input: '3085010000000000', want: /length too large/ },
    { name: 'trailing data', input: '05000500', want: /trailing bytes/ },
    { name: 'high tag not minimal', input: '1f0100', want: /non-minimal tag/ },
  ];
  for (const row of bad) {
    it(`rejects ${row.name}`, () => {
      assert.throws(
        () => parseDer(fromHex(row.input)),
        (e: unknown) => e instanceof DERError && e.code === 'ERR_DER_INVALID' && row.want.test(e.message),
      );
    });
  }

  it('reads nested elements with a DerReader', () => {
    const der = encodeSequence(
      encodeInteger(5),
      encodeOID('1.2.840.113549.1.1.11'),
      encodeExplicit(0, encodeBoolean(true)),
    );
    const root = parseDer(der);
    const r = DerReader.of(root);
    assert.equal(decodeInteger(r.expect(Tag.INTEGER, 'version')), 5n);
    assert.equal(decodeOID(r.expect(Tag.OID, 'algorithm')), '1.2.840.113549.1.1.11');
    const ctx = r.optional(0xa0);
    assert.ok(ctx);
    assert.equal(decodeBoolean(childrenOf(ctx)[0]!), true);
    r.done('test');
    assert.equal(r.atEnd, true);
  });

  it('names the expected field when the tag is wrong', () => {
    const r = DerReader.of(parseDer(encodeSequence(encodeBoolean(false))));
    assert.throws(
      () => r.expect(Tag.INTEGER, 'serial number'),
      /expected serial number \(INTEGER\), found BOOLEAN/,
    );
  });

  it('refuses nesting deeper than the limit', () => {
    let der = encodeSequence();
    for (let i = 0; i < 80; i++) der = encodeSequence(der);
    assert.throws(
      () => checkDepth(parseDer(der), 64),
      (e: unknown) => e instanceof DERError && e.code === 'ERR_DER_TOO_DEEP',
    );
    checkDepth(parseDer(der), 100);
  });

  const ints = [
    { input: '020100', want: 0n },
    { input: '02017f', want: 127n },
    { input: '02020080', want: 128n },
    { input: '020180', want: -128n },
    { input: '0202ff7f', want: -129n },
  ];
  for (const row of ints) {
    it(`decodes INTEGER ${row.input}`, () =>
      assert.equal(decodeInteger(parseDer(fromHex(row.input))), row.want));
  }
  it('rejects non-minimal INTEGERs', () => {
    assert.throws(() => decodeInteger(parseDer(fromHex('0202007f'))), /non-minimal INTEGER/);
    assert.throws(() => decodeInteger(parseDer(fromHex('0202ff80'))), /non-minimal INTEGER/);
  });

  const times = [
    {
      name: 'UTCTime 1950',
      input: encodeTLV(Tag.UTC_TIME, ascii('500101000000Z')),
      want: '1950-01-01T00:00:00.000Z',
    },
    {
      name: 'UTCTime 2049',
      input: encodeTLV(Tag.UTC_TIME, ascii('491231235959Z')),
      want: '2049-12-31T23:59:59.000Z',
    },
    {
      name: 'GeneralizedTime 2050',
      input: encodeTLV(Tag.GENERALIZED_TIME, ascii('20500101000000Z')),
      want: '2050-01-01T00:00:00.000Z',
    },
    {
      name: 'GeneralizedTime year 0099',
      input: encodeTLV(Tag.GENERALIZED_TIME, ascii('00990101000000Z')),
      want: '0099-01-01T00:00:00.000Z',
    },
  ];
  for (const row of times) {
    it(`decodes ${row.name}`, () => assert.equal(decodeTime(parseDer(row.input)).toISOString(), row.want));
  }
  for (const bad of ['500101000000', '5001010000Z', '501301000000Z', '500230000000Z', '5001010000+0100']) {
    it(`rejects UTCTime ${bad}`, () =>
      assert.throws(() => decodeTime(parseDer(encodeTLV(Tag.UTC_TIME, ascii(bad)))), DERError));
  }

  it('decodes every string type', () => {
    assert.equal(decodeString(parseDer(encodeString(Tag.UTF8_STRING, 'Zürich'))), 'Zürich');
    assert.equal(decodeString(parseDer(encodeString(Tag.PRINTABLE_STRING, 'DE'))), 'DE');
    assert.equal(decodeString(parseDer(encodeString(Tag.BMP_STRING, 'Ωmega'))), 'Ωmega');
    assert.equal(decodeString(parseDer(encodeTLV(Tag.T61_STRING, Uint8Array.of(0xe9)))), 'é');
    assert.equal(
      decodeString(parseDer(encodeTLV(Tag.UNIVERSAL_STRING, Uint8Array.of(0, 1, 0xf6, 0x00)))),
      '😀',
    );
    assert.throws(() => decodeString(parseDer(encodeTLV(Tag.UTF8_STRING, Uint8Array.of(0xff)))), DERError);
    assert.throws(() => decodeString(parseDer(encodeTLV(Tag.IA5_STRING, Uint8Array.of(0x80)))), DERError);
  });

  it('decodes named bit flags', () => {
    // keyUsage digitalSignature(0) + keyCertSign(5): 03 02 02 84 (two unused bits)
    assert.deepEqual(decodeBitFlags(parseDer(fromHex('03020284'))), [0, 5]);
    assert.throws(() => decodeBitFlags(parseDer(fromHex('030108'))), /bad BIT STRING padding/);
  });
});

describe('internal/der: writing', () => {
  const oids = [
    '1.2.840.113549.1.1.1',
    '2.5.29.17',
    '1.3.6.1.5.5.7.3.1',
    '2.999.1',
    '0.9.2342.19200300.100.1.25',
  ];
  for (const oid of oids) {
    it(`OID ${oid} round-trips`, () => assert.equal(decodeOID(parseDer(encodeOID(oid))), oid));
  }

  it('sorts SET OF members', () => {
    const set = encodeSet(encodeInteger(2), encodeInteger(1));
    assert.equal(toHex(set), '3106020101020102');
  });

  it('encodes times as RFC 5280 requires', () => {
    assert.equal(toHex(encodeTime(new Date('2049-12-31T23:59:59Z'))).slice(0, 2), '17');
    assert.equal(toHex(encodeTime(new Date('2050-01-01T00:00:00Z'))).slice(0, 2), '18');
  });

  it('matches what openssl asn1parse reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailtls-der-'));
    try {
      const der = encodeSequence(
        encodeInteger(0x1234567890abcdefn),
        encodeOID('1.2.840.10045.3.1.7'),
        encodeString(Tag.UTF8_STRING, 'mail.example.com'),
        encodeBitString(Uint8Array.of(1, 2, 3)),
        encodeTime(new Date('2030-06-01T12:00:00Z')),
      );
      writeFileSync(join(dir, 'x.der'), der);
      const r = spawnSync('openssl', ['asn1parse', '-inform', 'DER', '-in', join(dir, 'x.der')], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /INTEGER\s+:1234567890ABCDEF/);
      assert.match(r.stdout, /OBJECT\s+:prime256v1/);
      assert.match(r.stdout, /UTF8STRING\s+:mail\.example\.com/);
      assert.match(r.stdout, /UTCTIME\s+:300601120000Z/);
      // and the reverse: openssl's own DER reads here
      spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-outform', 'DER', '-out', join(dir, 'p.der')]);
      assert.equal(decodeOID(parseDer(readFileSync(join(dir, 'p.der')))), '1.2.840.10045.3.1.7');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('internal/bytes: base64', () => {
  it('round-trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b64 = toBase64(bytes);
        assert.equal(b64, Buffer.from(bytes).toString('base64'));
        assert.deepEqual(fromBase64(b64), bytes);
      }),
      { numRuns: runs },
    );
  });
  for (const bad of ['A', 'AB=C', 'A===', 'AB', 'AB==A===', '#ABC', 'AR==', 'AAB=']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(fromBase64(bad), undefined));
  }
});

describe('internal/der: property', () => {
  it('random and mutated input only ever throws DERError, quickly', () => {
    const valid = encodeSequence(
      encodeInteger(7),
      encodeSequence(encodeOID('2.5.4.3'), encodeString(Tag.UTF8_STRING, 'x')),
    );
    const walk = (bytes: Uint8Array) => {
      const node = parseDer(bytes);
      checkDepth(node);
      const visit = (n: ReturnType<typeof readNode>): void => {
        if (n.constructed) for (const c of childrenOf(n)) visit(c);
        else if (n.tag === Tag.OID) decodeOID(n);
        else if (n.tag === Tag.INTEGER) decodeInteger(n);
        else if (n.tag === Tag.UTF8_STRING) decodeString(n);
        else valueBytes(n);
      };
      visit(node);
    };
    const mutated = fc
      .tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([i, b]) => {
        const m = valid.slice();
        m[i] = b;
        return m;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
        try {
          walk(bytes);
        } catch (e) {
          assert.ok(e instanceof MailTlsError, String(e));
        }
        assert.ok(elapsed() < 100);
      }),
      { numRuns: runs },
    );
  });
});

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
