import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import { MailTlsError } from '../src/errors.js';
import { oidLongName } from '../src/internal/encoding/oids.js';
import { tryCanonicalizeIPAddress } from '../src/names/ip-address.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { parseCSR } from '../src/x509/csr-parse.js';
import { describeCertificate, describeCSR } from '../src/x509/describe.js';
import { certFixtures, opensslText, unescapeOpenSSLBytes } from './helpers/cert-fixtures.js';
import { opensslStatus } from './helpers/key-fixtures.js';

const f = certFixtures();

/**
 * Intended differences between `describeCertificate`/`describeCSR` and `openssl x509|req -text` (OpenSSL
 * 3.0.19), each with its reason. Everything else must be equal line for line.
 */
const DEVIATIONS = {
  nonASCII: 'names keep UTF-8 text; OpenSSL prints \\C3\\BC escapes (normalised before comparing)',
  ipv6: 'IPv6 addresses in RFC 5952 form; OpenSSL writes 2001:DB8:0:0:0:0:0:1 (normalised before comparing)',
  otherName: 'othername: TYPE:value; OpenSSL 3.0 doubles the colon (normalised before comparing)',
  challengePassword: 'a challenge password is reported as present, never shown',
  opaqueBody: 'bodies of unknown or malformed extensions are hex; OpenSSL dumps them as ASCII',
  namedByMailtls: 'mailtls names Microsoft extensions that OpenSSL 3.0 shows as OIDs',
  unsupportedKey:
    'keys of unsupported algorithms (DSA) are not dumped number by number; DSA signatures are hex',
  explicitText:
    'OpenSSL 3.0 prints an empty Explicit Text for BMPString/UTF8String notices; mailtls prints the text',
} as const;

const NAMED_BY_MAILTLS: Record<string, string> = {
  'Microsoft Certificate Template Name': '1.3.6.1.4.1.311.20.2',
  'Microsoft CA Version': '1.3.6.1.4.1.311.21.1',
  'Microsoft Certificate Template': '1.3.6.1.4.1.311.21.7',
};

function normalizeOpenSSL(line: string): string {
  return unescapeOpenSSLBytes(line)
    .replace(/othername: (\S+?)::/g, 'othername: $1:')
    .replace(
      /(IP Address:|IP:)([0-9A-Fa-f:.]+)(\/[0-9A-Fa-f:.]+)?/g,
      (_, p: string, a: string, m?: string) => {
        const canon = (x: string) => tryCanonicalizeIPAddress(x) ?? x;
        return `${p}${canon(a)}${m === undefined ? '' : `/${canon(m.slice(1))}`}`;
      },
    )
    .replace(/^( +challengePassword +:).*$/, '$1<present, not shown>');
}

interface Sections {
  head: string[];
  extensions: { header: string; body: string[] }[];
  tail: string[];
}

/** Splits -text output into the part before the extensions, each extension, and the signature part. */
function sections(text: string, extIndent: number, extStart: RegExp): Sections {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const start = lines.findIndex((l) => extStart.test(l));
  const tailAt = lines.findIndex((l) => l.startsWith('    Signature Algorithm:'));
  const head = lines.slice(0, start < 0 ? tailAt : start + 1);
  const extensions: { header: string; body: string[] }[] = [];
  if (start >= 0)
    for (const l of lines.slice(start + 1, tailAt)) {
      const indent = l.length - l.trimStart().length;
      if (indent === extIndent) extensions.push({ header: l, body: [] });
      else extensions.at(-1)?.body.push(l);
    }
  // mailtls additions (fingerprints, pin, problems) come after the OpenSSL sections: compared elsewhere.
  const extra = lines.findIndex((l) => /^ {4}(Fingerprints|Public Key Pin|Problems):$/.test(l));
  const tail = lines.slice(tailAt, extra < 0 ? undefined : extra).filter((l) => l !== '');
  return { head, extensions, tail };
}

function compare(
  mine: string,
  theirs: string,
  options: { csr: boolean; unsupportedKey: boolean; opaque: Set<string> },
) {
  const extIndent = options.csr ? 16 : 12;
  const extStart = options.csr ? /^ {12}Requested Extensions:$/ : /^ {8}X509v3 extensions:$/;
  const m = sections(mine, extIndent, extStart);
  const o = sections(theirs.split('\n').map(normalizeOpenSSL).join('\n'), extIndent, extStart);
  const used = new Set<string>();
  if (options.unsupportedKey) {
    // DEVIATIONS.unsupportedKey: compare up to the algorithm line of the key, and the lines after the key.
    const cut = (h: string[]) => {
      const i = h.findIndex((l) => l.includes('Public Key Algorithm:'));
      const j = h.findIndex((l, k) => k > i && /^ {8}\S/.test(l));
      return [...h.slice(0, i + 1), ...(j < 0 ? [] : h.slice(j))];
    };
    assert.deepEqual(cut(m.head), cut(o.head));
    assert.deepEqual(m.tail.slice(0, 2), o.tail.slice(0, 2));
    used.add('unsupportedKey');
  } else {
    assert.deepEqual(m.head, o.head);
    assert.deepEqual(m.tail, o.tail);
  }
  assert.equal(m.extensions.length, o.extensions.length);
  m.extensions.forEach((ext, i) => {
    const theirsExt = o.extensions[i]!;
    const named = /^ +(.*?):( critical)?$/.exec(ext.header)?.[1] ?? '';
    if (NAMED_BY_MAILTLS[named] !== undefined) {
      assert.equal(theirsExt.header.trim().replace(/:.*$/, ''), NAMED_BY_MAILTLS[named]);
      used.add('namedByMailtls');
      return;
    }
    assert.equal(ext.header, theirsExt.header);
    if (options.opaque.has(named)) {
      used.add('opaqueBody');
      return;
    }
    const explicit = theirsExt.body.findIndex((l) => /Explicit Text:$/.test(l));
    if (explicit >= 0 && ext.body[explicit] !== theirsExt.body[explicit]) {
      assert.match(ext.body[explicit]!, /Explicit Text: \S/);
      used.add('explicitText');
      assert.deepEqual(
        ext.body.filter((_, k) => k !== explicit),
        theirsExt.body.filter((_, k) => k !== explicit),
      );
      return;
    }
    assert.deepEqual(ext.body, theirsExt.body, ext.header);
  });
  return used;
}

describe('describeCertificate text equals openssl x509 -text (with the listed deviations)', () => {
  for (const fx of f.all) {
    it(fx.name, () => {
      const cert = parseCertificate(fx.pem);
      const opaque = new Set(
        cert.extensions.filter((e) => e.error !== undefined || !e.known).map((e) => oidLongName(e.oid)),
      );
      const used = compare(
        describeCertificate(cert, { verbose: true }),
        opensslText(f, ['x509', '-in', fx.file, '-noout', '-text']),
        { csr: false, unsupportedKey: cert.publicKeyInfo.type === 'other', opaque },
      );
      for (const u of used) assert.ok(u in DEVIATIONS);
    });
  }

  const sample = rootCertificates.filter((_, i) => i % 6 === 0);
  it(`${sample.length} of the roots (every 6th)`, () => {
    for (const pem of sample) {
      const cert = parseCertificate(pem);
      const opaque = new Set(cert.extensions.filter((e) => !e.known).map((e) => oidLongName(e.oid)));
      const theirs = f.dir.openssl(['x509', '-noout', '-text'], pem).toString('utf8');
      compare(describeCertificate(cert, { verbose: true }), theirs, {
        csr: false,
        unsupportedKey: false,
        opaque,
      });
    }
  });

  it('adds fingerprints and the SPKI pin, and lists problems', () => {
    const cert = parseCertificate(f.odd.pem);
    const text = describeCertificate(cert);
    assert.ok(text.includes(`        SHA-256: ${cert.fingerprint('sha256')}\n`));
    assert.ok(text.includes(`        SHA-1: ${cert.fingerprint('sha1')}\n`));
    assert.ok(text.includes(`SPKI SHA-256 (pin): ${cert.spkiFingerprint().sha256Base64}\n`));
    assert.match(text, /Problems:\n {8}- extension basicConstraints: /);
    assert.ok(!describeCertificate(f.caRSA.pem).includes('Modulus:'));
    assert.ok(describeCertificate(f.caRSA.pem, { verbose: true }).includes('Modulus:'));
  });
});

describe('describeCSR text equals openssl req -text (with the listed deviations)', () => {
  for (const [name, fx] of Object.entries(f.csrs)) {
    it(name, () => {
      const used = compare(
        describeCSR(fx.pem, { verbose: true }),
        opensslText(f, ['req', '-in', fx.file, '-noout', '-text']),
        { csr: true, unsupportedKey: false, opaque: new Set() },
      );
      for (const u of used) assert.ok(u in DEVIATIONS);
    });
  }
  it('the challenge password is present but never shown', () => {
    const text = describeCSR(f.csrs.rsa.pem);
    assert.match(text, /challengePassword {8}:<present, not shown>/);
    assert.ok(!text.includes('s3cret'));
    assert.match(
      opensslStatus(['req', '-in', f.dir.file(f.csrs.rsa.file), '-noout', '-text']).stdout.toString(),
      /s3cret/,
    );
  });
});

describe('JSON descriptions', () => {
  it('certificates: plain, JSON-safe objects equal to toJSON', () => {
    for (const fx of f.all) {
      const json = describeCertificate(fx.pem, { format: 'json' });
      assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
      assert.deepEqual(json, parseCertificate(fx.der).toJSON());
      assert.equal(Object.getPrototypeOf(json), Object.prototype);
    }
    const leaf = describeCertificate(f.leafP256.der, { format: 'json' });
    assert.equal(leaf.publicKey.type, 'ec');
    assert.equal(leaf.publicKey.curve, 'P-256');
    assert.deepEqual(leaf.extendedKeyUsage, ['serverAuth', 'clientAuth', 'msSmartcardLogin']);
    assert.deepEqual(leaf.keyUsage, ['digitalSignature', 'keyAgreement']);
  });

  it('CSRs: JSON-safe, challenge password as a flag only', () => {
    const json = describeCSR(f.csrs.rsa.pem, { format: 'json' });
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
    assert.equal(json.hasChallengePassword, true);
    assert.ok(!JSON.stringify(json).includes('s3cret'));
    assert.deepEqual(
      json.subjectAltNames.map((n) => n.value),
      parseCSR(f.csrs.rsa.pem).subjectAltNames?.map((n) => n.value),
    );
  });

  it('bad options and inputs', () => {
    assert.throws(() => describeCertificate(f.caRSA.pem, { format: 'xml' as 'json' }), RangeError);
    assert.throws(() => describeCertificate(7 as unknown as string), TypeError);
    assert.throws(() => describeCSR({} as never), TypeError);
    assert.throws(
      () => describeCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_CERT_INVALID',
    );
  });
});
