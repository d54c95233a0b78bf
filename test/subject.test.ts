import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { CSRError } from '../src/errors.js';
import { DerReader, decodeOID, decodeString, parseDer, valueBytes } from '../src/internal/encoding/der.js';
import { formatIPAddress } from '../src/names/ip-address.js';
import {
  COUNTRY_CODES,
  encodeSubject,
  encodeSubjectAltName,
  formatSubject,
  normalizeSubject,
  normalizeSubjectAltNames,
  type SubjectFields,
} from '../src/x509/subject.js';
import { cpuStopwatch } from './helpers/timing.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);
const dir = mkdtempSync(join(tmpdir(), 'mailtls-subject-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[], input?: Uint8Array): string {
  const r = spawnSync('openssl', args, input === undefined ? {} : { input });
  assert.equal(r.status, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.toString('utf8');
}

/** Decodes a DER Name into [short type, ASN.1 tag, text] triples in order. */
function readRDNs(der: Uint8Array): Array<[string, number, string]> {
  const out: Array<[string, number, string]> = [];
  for (const rdn of DerReader.of(parseDer(der)).rest()) {
    const atvs = DerReader.of(rdn).rest();
    assert.equal(atvs.length, 1, 'one attribute per RDN');
    const r = DerReader.of(atvs[0]!);
    const oid = decodeOID(r.next());
    const value = r.next();
    out.push([oid, value.tag, decodeString(value)]);
  }
  return out;
}

/** Decodes a GeneralNames value into ['DNS'|'IP', text] pairs. */
function readSAN(der: Uint8Array): Array<[string, string]> {
  return DerReader.of(parseDer(der))
    .rest()
    .map((gn) => {
      const v = valueBytes(gn);
      if (gn.tag === 0x82) return ['DNS', String.fromCharCode(...v)] as [string, string];
      assert.equal(gn.tag, 0x87);
      return ['IP', formatIPAddress(v)] as [string, string];
    });
}

const full: SubjectFields = {
  country: 'US',
  state: 'California',
  locality: 'Los Angeles',
  organization: 'Example Inc',
  organizationalUnit: 'IT',
  commonName: 'example.com',
  emailAddress: 'hostmaster@example.com',
};

describe('subject: normalizeSubject accepts and normalises', () => {
  const rows: Array<{ name: string; input: SubjectFields; want: SubjectFields }> = [
    { name: 'all fields', input: full, want: full },
    { name: 'country upper-cased', input: { country: 'de' }, want: { country: 'DE' } },
    { name: 'mixed-case country', input: { country: 'gB' }, want: { country: 'GB' } },
    {
      name: 'empty OU omitted',
      input: { organizationalUnit: '', commonName: 'a.example' },
      want: { commonName: 'a.example' },
    },
    { name: 'blank fields omitted', input: { state: '   ', locality: '\t' }, want: {} },
    {
      name: 'undefined fields omitted',
      input: { state: undefined, commonName: 'x.example' },
      want: { commonName: 'x.example' },
    },
    {
      name: 'white space trimmed',
      input: { organization: '  Example Inc  ' },
      want: { organization: 'Example Inc' },
    },
    {
      name: 'Unicode organisation kept',
      input: { organization: 'Bücher GmbH 東京' },
      want: { organization: 'Bücher GmbH 東京' },
    },
    {
      name: 'astral characters count once',
      input: { organization: '😀'.repeat(64) },
      want: { organization: '😀'.repeat(64) },
    },
    {
      name: 'CN of 64 characters',
      input: { commonName: 'a'.repeat(64) },
      want: { commonName: 'a'.repeat(64) },
    },
    { name: 'state of 128 characters', input: { state: 's'.repeat(128) }, want: { state: 's'.repeat(128) } },
    {
      name: 'e-mail domain canonicalised',
      input: { emailAddress: 'Admin@Mail.EXAMPLE.com' },
      want: { emailAddress: 'Admin@mail.example.com' },
    },
    {
      name: 'e-mail IDN domain to A-label',
      input: { emailAddress: 'info@bücher.example' },
      want: { emailAddress: 'info@xn--bcher-kva.example' },
    },
    {
      name: 'e-mail with plus and dots',
      input: { emailAddress: 'a.b+c@example.org' },
      want: { emailAddress: 'a.b+c@example.org' },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      assert.deepEqual({ ...normalizeSubject(row.input) }, row.want);
    });

  it('returns a frozen object', () => assert.ok(Object.isFrozen(normalizeSubject(full))));
});

describe('subject: normalizeSubject rejects with a code and advice', () => {
  const rows: Array<{ name: string; input: SubjectFields; wantCode: string; wantMessage?: RegExp }> = [
    { name: 'USA (alpha-3)', input: { country: 'USA' }, wantCode: 'ERR_CSR_COUNTRY', wantMessage: /type US/ },
    { name: 'UK is not ISO', input: { country: 'UK' }, wantCode: 'ERR_CSR_COUNTRY', wantMessage: /GB/ },
    { name: 'uk lower case', input: { country: 'uk' }, wantCode: 'ERR_CSR_COUNTRY', wantMessage: /GB/ },
    { name: 'EU is not a country', input: { country: 'EU' }, wantCode: 'ERR_CSR_COUNTRY' },
    {
      name: 'unassigned XX',
      input: { country: 'XX' },
      wantCode: 'ERR_CSR_COUNTRY',
      wantMessage: /not an assigned/,
    },
    { name: 'user-assigned XK', input: { country: 'XK' }, wantCode: 'ERR_CSR_COUNTRY' },
    { name: 'one letter', input: { country: 'U' }, wantCode: 'ERR_CSR_COUNTRY', wantMessage: /two-letter/ },
    { name: 'digits', input: { country: '12' }, wantCode: 'ERR_CSR_COUNTRY' },
    { name: 'country name written out', input: { country: 'Germany' }, wantCode: 'ERR_CSR_COUNTRY' },
    { name: 'DEU (alpha-3)', input: { country: 'DEU' }, wantCode: 'ERR_CSR_COUNTRY', wantMessage: /type DE/ },
    {
      name: 'unknown field',
      input: { organisation: 'x' } as SubjectFields,
      wantCode: 'ERR_CSR_SUBJECT',
      wantMessage: /organization/,
    },
    {
      name: 'CN over 64',
      input: { commonName: 'a'.repeat(65) },
      wantCode: 'ERR_CSR_SUBJECT',
      wantMessage: /hostnames/,
    },
    { name: 'O over 64', input: { organization: 'o'.repeat(65) }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'OU over 64', input: { organizationalUnit: 'o'.repeat(65) }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'L over 128', input: { locality: 'l'.repeat(129) }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'ST over 128', input: { state: 's'.repeat(129) }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'NUL in O', input: { organization: 'a\u0000b' }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'newline in CN', input: { commonName: 'a\nb' }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'C1 control', input: { locality: 'a\u0085b' }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'lone surrogate', input: { organization: 'a\ud800b' }, wantCode: 'ERR_CSR_SUBJECT' },
    { name: 'e-mail without @', input: { emailAddress: 'hostmaster' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail without domain', input: { emailAddress: 'a@' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail without local part', input: { emailAddress: '@example.com' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail with space', input: { emailAddress: 'a b@example.com' }, wantCode: 'ERR_CSR_EMAIL' },
    {
      name: 'e-mail non-ASCII local part',
      input: { emailAddress: 'jörg@example.com' },
      wantCode: 'ERR_CSR_EMAIL',
    },
    { name: 'e-mail double dot', input: { emailAddress: 'a..b@example.com' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail bad domain', input: { emailAddress: 'a@exa_mple.com' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail dotless domain', input: { emailAddress: 'root@localhost' }, wantCode: 'ERR_CSR_EMAIL' },
    { name: 'e-mail IP literal', input: { emailAddress: 'a@[192.0.2.1]' }, wantCode: 'ERR_CSR_EMAIL' },
    {
      name: 'e-mail over 128',
      input: { emailAddress: `${'a'.repeat(64)}@${'b'.repeat(60)}.example` },
      wantCode: 'ERR_CSR_SUBJECT',
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      assert.throws(
        () => normalizeSubject(row.input),
        (e: unknown) => {
          assert.ok(e instanceof CSRError, `want CSRError, got ${String(e)}`);
          assert.equal(e.code, row.wantCode);
          if (row.wantMessage) assert.match(e.message, row.wantMessage);
          return true;
        },
      );
    });

  const typeRows: Array<{ name: string; input: unknown }> = [
    { name: 'null', input: null },
    { name: 'a string', input: 'CN=example.com' },
    { name: 'an array', input: [] },
    { name: 'a number field', input: { country: 49 } },
    { name: 'a null field', input: { commonName: null } },
  ];
  for (const row of typeRows)
    it(`TypeError for ${row.name}`, () => {
      assert.throws(() => normalizeSubject(row.input as SubjectFields), TypeError);
    });
});

describe('subject: COUNTRY_CODES', () => {
  it('holds the 249 officially assigned ISO 3166-1 alpha-2 codes', () => {
    assert.equal(COUNTRY_CODES.size, 249);
    for (const c of COUNTRY_CODES) assert.match(c, /^[A-Z]{2}$/);
    for (const c of ['UK', 'EU', 'XK', 'AA', 'ZZ']) assert.ok(!COUNTRY_CODES.has(c), c);
  });

  it('every code has a region name in the ICU data of the runtime', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const c of COUNTRY_CODES) assert.notEqual(names.of(c), c, `${c} is unknown to ICU`);
  });

  // tzdata's iso3166.tab is an independent copy of the list (maintained by the tz project; the tzdata
  // package is on every Linux image this project tests on).
  it('equals the tz database copy of ISO 3166 (/usr/share/zoneinfo/iso3166.tab)', () => {
    const tab = '/usr/share/zoneinfo/iso3166.tab';
    assert.ok(existsSync(tab), 'install tzdata: the ISO 3166 cross-check reads its iso3166.tab');
    const codes = readFileSync(tab, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]);
    assert.deepEqual([...COUNTRY_CODES].sort(), codes.sort());
  });
});

describe('subject: encodeSubject writes what openssl req writes', () => {
  it('uses the order C, ST, L, O, OU, CN, emailAddress and the string types of openssl', () => {
    const der = encodeSubject({ ...full, commonName: 'example.com' });
    assert.deepEqual(readRDNs(der), [
      ['2.5.4.6', 0x13, 'US'],
      ['2.5.4.8', 0x0c, 'California'],
      ['2.5.4.7', 0x0c, 'Los Angeles'],
      ['2.5.4.10', 0x0c, 'Example Inc'],
      ['2.5.4.11', 0x0c, 'IT'],
      ['2.5.4.3', 0x0c, 'example.com'],
      ['1.2.840.113549.1.9.1', 0x16, 'hostmaster@example.com'],
    ]);
  });

  it('openssl asn1parse shows PRINTABLESTRING, UTF8STRING and IA5STRING', () => {
    const file = join(dir, 'name.der');
    writeFileSync(file, encodeSubject(full));
    const out = openssl(['asn1parse', '-inform', 'DER', '-in', file]);
    const types = [...out.matchAll(/prim: (PRINTABLESTRING|UTF8STRING|IA5STRING)\s*:(.*)/g)].map((m) => [
      m[1],
      m[2]!.trim(),
    ]);
    assert.deepEqual(types, [
      ['PRINTABLESTRING', 'US'],
      ['UTF8STRING', 'California'],
      ['UTF8STRING', 'Los Angeles'],
      ['UTF8STRING', 'Example Inc'],
      ['UTF8STRING', 'IT'],
      ['UTF8STRING', 'example.com'],
      ['IA5STRING', 'hostmaster@example.com'],
    ]);
  });

  it('is byte-identical to the subject openssl req -subj writes (utf8 string mask)', () => {
    const key = join(dir, 'k.pem');
    openssl(['genpkey', '-algorithm', 'ED25519', '-out', key]);
    const req = join(dir, 'r.der');
    openssl([
      'req',
      '-new',
      '-key',
      key,
      '-outform',
      'DER',
      '-out',
      req,
      '-utf8',
      '-subj',
      '/C=US/ST=California/L=Los Angeles/O=Bücher Inc/OU=IT/CN=example.com/emailAddress=hostmaster@example.com',
    ]);
    // CertificationRequest > certificationRequestInfo > [version, subject, ...]
    const info = DerReader.of(parseDer(readFileSync(req))).next();
    const r = DerReader.of(info);
    r.next();
    const subject = r.next();
    const theirs = subject.bytes.subarray(subject.start, subject.end);
    assert.deepEqual(encodeSubject({ ...full, organization: 'Bücher Inc' }), new Uint8Array(theirs));
  });

  it('omits the empty OU entirely', () => {
    const rdns = readRDNs(encodeSubject({ organizationalUnit: '', commonName: 'example.com' }));
    assert.deepEqual(rdns, [['2.5.4.3', 0x0c, 'example.com']]);
  });

  it('encodes no fields as an empty Name', () => {
    assert.deepEqual(encodeSubject({}), Uint8Array.of(0x30, 0));
  });
});

describe('subject: formatSubject', () => {
  const rows = [
    {
      name: 'full',
      input: full,
      want: 'emailAddress=hostmaster@example.com,CN=example.com,OU=IT,O=Example Inc,L=Los Angeles,ST=California,C=US',
    },
    {
      name: 'escapes',
      input: { organization: 'A, B+C "D"', commonName: ' x' },
      want: 'CN=x,O=A\\, B\\+C \\"D\\"',
    },
    { name: 'leading #', input: { organization: '#1' }, want: 'O=\\#1' },
  ];
  for (const row of rows) it(row.name, () => assert.equal(formatSubject(row.input), row.want));
});

describe('subject: normalizeSubjectAltNames', () => {
  const rows: Array<{
    name: string;
    input: Parameters<typeof normalizeSubjectAltNames>[0];
    want: { dnsNames: string[]; ipAddresses: string[]; warnings: string[] };
  }> = [
    {
      name: 'CN first, then host names',
      input: { commonName: 'example.com', hostnames: ['mail.example.com', 'imap.example.com'] },
      want: {
        dnsNames: ['example.com', 'mail.example.com', 'imap.example.com'],
        ipAddresses: [],
        warnings: [],
      },
    },
    {
      name: 'CN-only request warns',
      input: { commonName: 'example.com' },
      want: { dnsNames: ['example.com'], ipAddresses: [], warnings: ['WARN_CN_ONLY'] },
    },
    {
      name: 'mail. CN warns (manual: bare domain)',
      input: { commonName: 'mail.example.com', hostnames: ['imap.example.com'] },
      want: {
        dnsNames: ['mail.example.com', 'imap.example.com'],
        ipAddresses: [],
        warnings: ['WARN_CN_HOST_PREFIX'],
      },
    },
    ...['www', 'smtp', 'imap', 'pop', 'pop3'].map((p) => ({
      name: `${p}. CN warns`,
      input: { commonName: `${p}.example.com`, hostnames: ['mx.example.com'] },
      want: {
        dnsNames: [`${p}.example.com`, 'mx.example.com'],
        ipAddresses: [],
        warnings: ['WARN_CN_HOST_PREFIX'],
      },
    })),
    {
      name: 'mail.com itself is a bare domain',
      input: { commonName: 'mail.com', hostnames: ['smtp.mail.com'] },
      want: { dnsNames: ['mail.com', 'smtp.mail.com'], ipAddresses: [], warnings: [] },
    },
    {
      name: 'upper case and trailing dot canonicalised',
      input: { commonName: 'Example.COM.', hostnames: ['MAIL.example.com.'] },
      want: { dnsNames: ['example.com', 'mail.example.com'], ipAddresses: [], warnings: [] },
    },
    {
      name: 'IDN to A-label with a warning',
      input: { commonName: 'bücher.example', hostnames: ['mail.bücher.example'] },
      want: {
        dnsNames: ['xn--bcher-kva.example', 'mail.xn--bcher-kva.example'],
        ipAddresses: [],
        warnings: ['WARN_IDN_CONVERTED', 'WARN_IDN_CONVERTED'],
      },
    },
    {
      name: 'CN repeated in hostnames listed once',
      input: { commonName: 'example.com', hostnames: ['example.com', 'mail.example.com'] },
      want: {
        dnsNames: ['example.com', 'mail.example.com'],
        ipAddresses: [],
        warnings: ['WARN_DUPLICATE_NAME'],
      },
    },
    {
      name: 'wildcard host name',
      input: { commonName: 'example.com', hostnames: ['*.example.com'] },
      want: { dnsNames: ['example.com', '*.example.com'], ipAddresses: [], warnings: [] },
    },
    {
      name: 'IP addresses canonicalised (RFC 5952)',
      input: { commonName: 'mail.lan', ipAddresses: ['192.168.1.10', '2001:DB8:0:0:0:0:0:1', '[::1]'] },
      want: { dnsNames: ['mail.lan'], ipAddresses: ['192.168.1.10', '2001:db8::1', '::1'], warnings: [] },
    },
    {
      name: 'IP as CN goes into the SAN as an IP',
      input: { commonName: '192.0.2.7' },
      want: { dnsNames: [], ipAddresses: ['192.0.2.7'], warnings: ['WARN_CN_ONLY'] },
    },
    {
      name: 'duplicate IP listed once',
      input: { commonName: 'a.example', hostnames: ['b.example'], ipAddresses: ['10.0.0.1', '10.0.0.1'] },
      want: {
        dnsNames: ['a.example', 'b.example'],
        ipAddresses: ['10.0.0.1'],
        warnings: ['WARN_DUPLICATE_NAME'],
      },
    },
    {
      name: 'no CN, host names only',
      input: { hostnames: ['mail.example.com'] },
      want: { dnsNames: ['mail.example.com'], ipAddresses: [], warnings: [] },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const got = normalizeSubjectAltNames(row.input);
      assert.deepEqual(
        {
          dnsNames: [...got.dnsNames],
          ipAddresses: [...got.ipAddresses],
          warnings: got.warnings.map((w) => w.code),
        },
        row.want,
      );
      for (const w of got.warnings) assert.ok(w.message.length > 20);
    });

  const bad: Array<{
    name: string;
    input: Parameters<typeof normalizeSubjectAltNames>[0];
    wantCode: string;
  }> = [
    { name: 'underscore', input: { hostnames: ['mail_1.example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'space', input: { hostnames: ['mail example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'empty label', input: { hostnames: ['mail..example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'leading hyphen', input: { hostnames: ['-mail.example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    {
      name: 'label over 63',
      input: { hostnames: [`${'a'.repeat(64)}.example`] },
      wantCode: 'ERR_CSR_DNS_NAME',
    },
    {
      name: 'URL instead of name',
      input: { hostnames: ['https://mail.example.com/'] },
      wantCode: 'ERR_CSR_DNS_NAME',
    },
    { name: 'IP in hostnames', input: { hostnames: ['192.0.2.1'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'wildcard on TLD', input: { hostnames: ['*.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'wildcard on public suffix', input: { hostnames: ['*.co.uk'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'partial wildcard', input: { hostnames: ['m*.example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'inner wildcard', input: { hostnames: ['mail.*.example.com'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'CN with spaces', input: { commonName: 'My Mail Server' }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'numeric TLD', input: { hostnames: ['mail.123'] }, wantCode: 'ERR_CSR_DNS_NAME' },
    { name: 'short IPv4', input: { ipAddresses: ['127.1'] }, wantCode: 'ERR_CSR_IP_ADDRESS' },
    { name: 'host name as IP', input: { ipAddresses: ['mail.example.com'] }, wantCode: 'ERR_CSR_IP_ADDRESS' },
    { name: 'IPv6 zone', input: { ipAddresses: ['fe80::1%eth0'] }, wantCode: 'ERR_CSR_IP_ADDRESS' },
    { name: 'octet over 255', input: { ipAddresses: ['192.0.2.256'] }, wantCode: 'ERR_CSR_IP_ADDRESS' },
    { name: 'nothing at all', input: {}, wantCode: 'ERR_CSR_SUBJECT' },
  ];
  for (const row of bad)
    it(`rejects ${row.name}`, () => {
      assert.throws(
        () => normalizeSubjectAltNames(row.input),
        (e: unknown) => e instanceof CSRError && e.code === row.wantCode && e.message.length > 30,
      );
    });

  it('TypeError for a string instead of a list', () => {
    assert.throws(
      () => normalizeSubjectAltNames({ hostnames: 'mail.example.com' as unknown as string[] }),
      TypeError,
    );
  });
});

describe('subject: encodeSubjectAltName', () => {
  it('writes dNSName then iPAddress entries', () => {
    const san = normalizeSubjectAltNames({
      commonName: 'example.com',
      hostnames: ['mail.example.com'],
      ipAddresses: ['192.0.2.1', '2001:db8::1'],
    });
    assert.deepEqual(readSAN(encodeSubjectAltName(san)), [
      ['DNS', 'example.com'],
      ['DNS', 'mail.example.com'],
      ['IP', '192.0.2.1'],
      ['IP', '2001:db8::1'],
    ]);
  });

  it('refuses non-ASCII names and bad address lengths (programmer errors)', () => {
    assert.throws(
      () => encodeSubjectAltName({ dnsNames: ['bücher.example'], ipAddressBytes: [] }),
      TypeError,
    );
    assert.throws(
      () => encodeSubjectAltName({ dnsNames: [], ipAddressBytes: [new Uint8Array(5)] }),
      TypeError,
    );
  });
});

describe('subject: properties', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ maxLength: 80 }),
    fc.constantFrom(
      '',
      ' ',
      'UK',
      'USA',
      '*.',
      '*',
      '.',
      '..',
      '@',
      'a@',
      'xn--',
      'xn--a',
      '[::1]',
      '1.2.3.4',
    ),
  );
  const fields = fc.record(
    {
      country: anyText,
      state: anyText,
      locality: anyText,
      organization: anyText,
      organizationalUnit: anyText,
      commonName: anyText,
      emailAddress: anyText,
    },
    { requiredKeys: [] },
  );

  it('random subject fields never throw anything but CSRError or TypeError, quickly', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
        try {
          const der = encodeSubject(f);
          parseDer(der);
        } catch (e) {
          assert.ok(e instanceof CSRError || e instanceof TypeError, `unexpected ${String(e)}`);
        }
        assert.ok(elapsed() < 100);
      }),
      { numRuns: runs },
    );
  });

  it('random names never throw anything but CSRError or TypeError, quickly', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.array(anyText, { maxLength: 4 }),
        fc.array(anyText, { maxLength: 3 }),
        (cn, hosts, ips) => {
          const elapsed = cpuStopwatch();
          try {
            const san = normalizeSubjectAltNames({ commonName: cn, hostnames: hosts, ipAddresses: ips });
            readSAN(encodeSubjectAltName(san));
          } catch (e) {
            assert.ok(e instanceof CSRError || e instanceof TypeError, `unexpected ${String(e)}`);
          }
          assert.ok(elapsed() < 100);
        },
      ),
      { numRuns: runs },
    );
  });

  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
  const dnsName = fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[a-z][a-z0-9]{1,8}$/))
    .map(([labels, tld]) => [...labels, tld].join('.'))
    .filter((n) => n.length <= 253 && !/(^|\.)xn--/.test(n) && !/^..--/.test(n.split('.')[0]!));

  it('valid random DNS names round-trip into the SAN (case-folded)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(dnsName, { minLength: 1, maxLength: 5 }), fc.boolean(), (names, upper) => {
        const input = upper ? names.map((n) => n.toUpperCase()) : names;
        const san = normalizeSubjectAltNames({ hostnames: input });
        assert.deepEqual(
          readSAN(encodeSubjectAltName(san)),
          names.map((n) => ['DNS', n]),
        );
      }),
      { numRuns: runs },
    );
  });

  it('valid random IP addresses round-trip into the SAN', () => {
    const ip = fc.oneof(
      fc.ipV4(),
      fc.ipV6().filter((s) => !s.includes('.')),
    );
    fc.assert(
      fc.property(ip, (text) => {
        const san = normalizeSubjectAltNames({ ipAddresses: [text] });
        const [[kind, value]] = readSAN(encodeSubjectAltName(san)) as [[string, string]];
        assert.equal(kind, 'IP');
        assert.equal(value, san.ipAddresses[0]);
        assert.deepEqual(
          normalizeSubjectAltNames({ ipAddresses: [value] }).ipAddressBytes,
          san.ipAddressBytes,
        );
      }),
      { numRuns: runs },
    );
  });
});
