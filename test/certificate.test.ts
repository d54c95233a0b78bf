import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import fc from 'fast-check';
import { encodePEM } from '../src/encoding/pem.js';
import { MailTlsError } from '../src/errors.js';
import { fromHex, toHex } from '../src/internal/encoding/bytes.js';
import { encodeSequence, encodeTLV } from '../src/internal/encoding/der.js';
import { formatIPAddress, parseIPAddress, tryCanonicalizeIPAddress } from '../src/names/ip-address.js';
import { isCertificate, parseCertificate } from '../src/x509/certificate.js';
import { describeCertificate } from '../src/x509/describe.js';
import {
  certFixtures,
  cpuStopwatch,
  type Fixture,
  opensslText,
  unescapeOpenSSLBytes,
} from './helpers/cert-fixtures.js';
import { fuzzRuns } from './helpers/key-fixtures.js';

const f = certFixtures();

/** Sections of `openssl x509 -noout -ext ...`: header name → { critical, lines }. */
function opensslExtensions(
  fx: Fixture,
  names: string[],
): Map<string, { critical: boolean; lines: string[] }> {
  const out = new Map<string, { critical: boolean; lines: string[] }>();
  let text: string;
  try {
    text = opensslText(f, ['x509', '-in', fx.file, '-noout', '-ext', names.join(',')]);
  } catch {
    return out;
  }
  let current: { critical: boolean; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) {
      const m = /^(.*?):\s*(critical)?\s*$/.exec(line);
      if (m === null) continue;
      current = { critical: m[2] === 'critical', lines: [] };
      out.set(m[1]!, current);
    } else current?.lines.push(line.trim());
  }
  return out;
}

const KEY_USAGE_NAMES: Record<string, string> = {
  'Digital Signature': 'digitalSignature',
  'Non Repudiation': 'nonRepudiation',
  'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment',
  'Key Agreement': 'keyAgreement',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
  'Encipher Only': 'encipherOnly',
  'Decipher Only': 'decipherOnly',
};

const EKU_NAMES: Record<string, string> = {
  'TLS Web Server Authentication': 'serverAuth',
  'TLS Web Client Authentication': 'clientAuth',
  'E-mail Protection': 'emailProtection',
  'Code Signing': 'codeSigning',
  'Time Stamping': 'timeStamping',
  'OCSP Signing': 'OCSPSigning',
  'Microsoft Smartcard Login': 'msSmartcardLogin',
};

function ipBytesHex(text: string): string {
  const b = parseIPAddress(text);
  assert.ok(b, `not an IP: ${text}`);
  return toHex(b);
}

/** An IP constraint `addr/mask` in OpenSSL's spelling, as hex bytes of address and mask. */
function ipConstraintHex(text: string): string {
  const [a, m] = text.split('/');
  return `${ipBytesHex(a!)}/${ipBytesHex(m!)}`;
}

describe('parseCertificate agrees with the openssl CLI', () => {
  for (const fx of f.all) {
    it(`${fx.name}: serial, names, dates, fingerprints, version, key, signature algorithm`, () => {
      const cert = parseCertificate(fx.pem);
      const out = opensslText(f, [
        'x509',
        '-in',
        fx.file,
        '-noout',
        '-serial',
        '-subject',
        '-issuer',
        '-nameopt',
        'RFC2253',
        '-dates',
        '-fingerprint',
        '-sha256',
      ]);
      const field = (k: string) => {
        const line = out.split('\n').find((l) => l.startsWith(`${k}=`));
        assert.ok(line, `openssl printed no ${k}`);
        return line.slice(k.length + 1);
      };
      assert.equal(cert.serialNumber, field('serial').toLowerCase());
      assert.equal(cert.subject.toString(), unescapeOpenSSLBytes(field('subject')));
      assert.equal(cert.issuer.toString(), unescapeOpenSSLBytes(field('issuer')));
      assert.equal(cert.notBefore.getTime(), Date.parse(field('notBefore')));
      assert.equal(cert.notAfter.getTime(), Date.parse(field('notAfter')));
      assert.equal(cert.fingerprint('sha256'), field('sha256 Fingerprint'));
      const sha1 = opensslText(f, ['x509', '-in', fx.file, '-noout', '-fingerprint', '-sha1']).trim();
      assert.equal(`sha1 Fingerprint=${cert.fingerprint('sha1')}`, sha1);

      const text = opensslText(f, ['x509', '-in', fx.file, '-noout', '-text']);
      assert.match(text, new RegExp(`Version: ${cert.version} \\(0x${cert.version - 1}\\)`));
      assert.match(text, new RegExp(`Public Key Algorithm: ${cert.publicKeyInfo.algorithm}\\n`));
      const bits = /Public-Key: \((\d+) bit\)/.exec(text)?.[1];
      if (bits !== undefined) assert.equal(cert.publicKeyInfo.bits, Number(bits));
      const sigAlgs = [...text.matchAll(/Signature Algorithm: (\S+)/g)].map((m) => m[1]);
      assert.deepEqual(sigAlgs, [cert.signatureAlgorithm.name, cert.signatureAlgorithm.name]);
      assert.equal(toHex(cert.der), toHex(fx.der));

      const pub = opensslText(f, ['x509', '-in', fx.file, '-noout', '-pubkey']);
      const spki = f.dir.openssl(['pkey', '-pubin', '-outform', 'DER'], pub);
      assert.equal(toHex(cert.spki), spki.toString('hex'));
      const digest = f.dir.openssl(['dgst', '-sha256', '-binary'], spki);
      assert.equal(cert.spkiFingerprint().sha256Hex, digest.toString('hex'));
      assert.equal(cert.spkiFingerprint().sha256Base64, digest.toString('base64'));
    });

    it(`${fx.name}: extensions match openssl -ext`, () => {
      const cert = parseCertificate(fx.der);
      const ext = opensslExtensions(fx, [
        'subjectAltName',
        'basicConstraints',
        'keyUsage',
        'extendedKeyUsage',
        'subjectKeyIdentifier',
        'authorityKeyIdentifier',
        'authorityInfoAccess',
        'crlDistributionPoints',
        'certificatePolicies',
        'nameConstraints',
      ]);
      const san = ext.get('X509v3 Subject Alternative Name');
      if (san === undefined) assert.equal(cert.subjectAltNames, undefined);
      else {
        const entries = san.lines.join(', ').split(', ');
        const pick = (prefix: string) =>
          entries.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
        assert.deepEqual(cert.dnsNames, pick('DNS:'));
        assert.deepEqual(cert.emailAddresses, pick('email:'));
        assert.deepEqual(cert.uris, pick('URI:'));
        assert.deepEqual(
          cert.ipAddresses,
          pick('IP Address:').map((ip) => tryCanonicalizeIPAddress(ip)),
        );
      }
      const bc = ext.get('X509v3 Basic Constraints');
      if (bc === undefined || bc.lines[0]?.startsWith('0')) assert.equal(cert.basicConstraints, undefined);
      else {
        const m = /^CA:(TRUE|FALSE)(?:, pathlen:(\d+))?$/.exec(bc.lines[0]!);
        assert.ok(m);
        assert.deepEqual(cert.basicConstraints, {
          ca: m[1] === 'TRUE',
          ...(m[2] === undefined ? {} : { pathLength: Number(m[2]) }),
          critical: bc.critical,
        });
      }
      const ku = ext.get('X509v3 Key Usage');
      assert.deepEqual(
        cert.keyUsage,
        ku?.lines[0]?.split(', ').map((n) => KEY_USAGE_NAMES[n]),
      );
      const eku = ext.get('X509v3 Extended Key Usage');
      assert.deepEqual(
        cert.extendedKeyUsage,
        eku?.lines[0]?.split(', ').map((n) => EKU_NAMES[n] ?? n),
      );
      const ski = ext.get('X509v3 Subject Key Identifier');
      assert.equal(cert.subjectKeyIdentifier, ski?.lines[0]?.replace(/:/g, '').toLowerCase());
      const aki = ext.get('X509v3 Authority Key Identifier');
      if (aki === undefined) assert.equal(cert.authorityKeyIdentifier, undefined);
      else {
        const id = aki.lines.find((l) => /^[0-9A-F]{2}(:[0-9A-F]{2})+$/.test(l));
        const serial = aki.lines.find((l) => l.startsWith('serial:'));
        assert.equal(cert.authorityKeyIdentifier?.keyIdentifier, id?.replace(/:/g, '').toLowerCase());
        assert.equal(
          cert.authorityKeyIdentifier?.serialNumber,
          serial?.slice(7).replace(/:/g, '').toLowerCase(),
        );
        const dir = aki.lines.find((l) => l.startsWith('DirName:'));
        if (dir !== undefined) assert.equal(cert.authorityKeyIdentifier?.issuer?.[0]?.type, 'directoryName');
      }
      const aia = ext.get('Authority Information Access');
      assert.deepEqual(cert.authorityInfoAccess, {
        ocsp: (aia?.lines ?? []).filter((l) => l.startsWith('OCSP - URI:')).map((l) => l.slice(11)),
        caIssuers: (aia?.lines ?? [])
          .filter((l) => l.startsWith('CA Issuers - URI:'))
          .map((l) => l.slice(17)),
      });
      const crl = ext.get('X509v3 CRL Distribution Points');
      assert.deepEqual(
        cert.crlDistributionPoints,
        (crl?.lines ?? []).filter((l) => l.startsWith('URI:')).map((l) => l.slice(4)),
      );
      const pol = ext.get('X509v3 Certificate Policies');
      assert.deepEqual(
        cert.certificatePolicies,
        (pol?.lines ?? []).filter((l) => l.startsWith('Policy: ')).map((l) => l.slice(8)),
      );
      const nc = ext.get('X509v3 Name Constraints');
      if (nc === undefined) assert.equal(cert.nameConstraints, undefined);
      else {
        const ncView = cert.nameConstraints;
        assert.ok(ncView);
        assert.equal(ncView.critical, nc.critical);
        const sections: Record<string, string[]> = { Permitted: [], Excluded: [] };
        let section = '';
        for (const l of nc.lines) {
          if (l === 'Permitted:' || l === 'Excluded:') section = l.slice(0, -1);
          else sections[section]?.push(l);
        }
        const split = (name: string) => sections[name] ?? [];
        const norm = (entries: string[]) =>
          entries.map((e) =>
            e.startsWith('IP:')
              ? `IP:${ipConstraintHex(e.slice(3))}`
              : e.startsWith('DirName:')
                ? 'DirName'
                : e,
          );
        const mine = (
          subtrees: readonly {
            base: { type: string; value: string; bytes?: Uint8Array; mask?: Uint8Array };
          }[],
        ) =>
          subtrees.map(({ base }) =>
            base.type === 'ip'
              ? `IP:${toHex(base.bytes!)}/${toHex(base.mask!)}`
              : base.type === 'dns'
                ? `DNS:${base.value}`
                : base.type === 'email'
                  ? `email:${base.value}`
                  : base.type === 'directoryName'
                    ? 'DirName'
                    : `${base.type}:${base.value}`,
          );
        assert.deepEqual(mine(ncView.permitted), norm(split('Permitted')));
        assert.deepEqual(mine(ncView.excluded), norm(split('Excluded')));
      }
    });
  }

  it('the leaf has every SAN type OpenSSL wrote, IPv4-mapped IPv6 in RFC 5952 form', () => {
    const cert = parseCertificate(f.leafP256.pem);
    assert.deepEqual(cert.dnsNames, ['mail.example.com', '*.mx.example.com']);
    assert.deepEqual(cert.ipAddresses, ['192.0.2.25', '2001:db8::25', '::ffff:198.51.100.7']);
    assert.deepEqual(cert.emailAddresses, ['postmaster@example.com']);
    assert.deepEqual(cert.uris, ['https://mta-sts.example.com/.well-known/mta-sts.txt']);
    const other = cert.subjectAltNames?.find((n) => n.type === 'otherName');
    assert.deepEqual(other && { type: other.type, value: other.value, oid: (other as { oid: string }).oid }, {
      type: 'otherName',
      value: 'postmaster@example.com',
      oid: '1.3.6.1.5.5.7.8.9',
    });
    assert.equal(cert.hasSubjectAltName, true);
    assert.deepEqual(cert.getExtension('tlsfeature')?.parsed, ['status_request']);
    assert.equal(cert.selfIssued, false);
    const ca = parseCertificate(f.caRSA.pem);
    assert.equal(ca.selfIssued, true);
    assert.equal(cert.authorityKeyIdentifier?.keyIdentifier, ca.subjectKeyIdentifier);
    assert.equal(ca.serialNumber, 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
  });

  it('RSA-PSS signature parameters are decoded', () => {
    const cert = parseCertificate(f.rsaPSS.pem);
    assert.equal(cert.signatureAlgorithm.name, 'rsassaPss');
    assert.equal(cert.signatureAlgorithm.hash, 'SHA-256');
    assert.equal(cert.signatureAlgorithm.saltLength, 32);
    const text = opensslText(f, ['x509', '-in', f.rsaPSS.file, '-noout', '-text']);
    assert.match(text, /Hash Algorithm: sha256/);
    assert.match(text, /Salt Length: 0x20/);
  });

  it('a DSA key (unsupported) does not stop parsing: publicKeyInfo says what it is', () => {
    const cert = parseCertificate(f.dsa.pem);
    assert.equal(cert.publicKeyInfo.type, 'other');
    assert.equal(cert.publicKeyInfo.algorithm, 'dsaEncryption');
    assert.equal(cert.publicKeyInfo.oid, '1.2.840.10040.4.1');
    assert.equal(cert.publicKey, undefined);
    assert.equal(cert.signatureAlgorithm.name, 'dsa_with_SHA256');
    assert.deepEqual(cert.problems, []);
  });

  it('supported keys give a PublicKey equal to the openssl public key', () => {
    const rows = [
      { fx: f.caRSA, want: 'RSA 2048' },
      { fx: f.leafP256, want: 'EC P-256' },
      { fx: f.leafP384, want: 'EC P-384' },
      { fx: f.ed25519, want: 'Ed25519' },
    ];
    for (const row of rows) {
      const cert = parseCertificate(row.fx.pem);
      assert.equal(cert.publicKey?.describe(), row.want, row.fx.name);
      assert.equal(cert.publicKey?.fingerprint().sha256Hex, cert.spkiFingerprint().sha256Hex);
    }
  });

  it('a malformed extension and an unknown critical extension are shown, not fatal', () => {
    const cert = parseCertificate(f.odd.pem);
    const bc = cert.getExtension('basicConstraints');
    assert.ok(bc?.error);
    assert.equal(bc.parsed, undefined);
    assert.equal(cert.basicConstraints, undefined);
    const unknown = cert.getExtension('1.2.3.4.99');
    assert.deepEqual(
      [unknown?.critical, unknown?.known, unknown?.parsed, unknown?.error],
      [true, false, undefined, undefined],
    );
    assert.equal(cert.problems.length, 2);
    assert.match(cert.problems[0]!, /basicConstraints/);
    assert.match(cert.problems[1]!, /critical extension 1\.2\.3\.4\.99/);
    assert.deepEqual(cert.dnsNames, ['odd.example.com']);
  });
});

describe('parseCertificate over tls.rootCertificates agrees with node:crypto and openssl', () => {
  const certs = rootCertificates.map((pem) => ({
    pem,
    mine: parseCertificate(pem),
    node: new X509Certificate(pem),
  }));

  it(`all ${rootCertificates.length} roots: serial, validity, CN, fingerprints, key type, CA flag, EKU`, () => {
    for (const { mine, node } of certs) {
      const name = mine.subject.toString();
      // Node prints the serial as a number (zero is "0"); mailtls gives the content octets ("00").
      assert.equal(BigInt(`0x${mine.serialNumber}`), BigInt(`0x${node.serialNumber}`), name);
      assert.match(mine.serialNumber, /^(?:[0-9a-f]{2})+$/);
      assert.equal(mine.notBefore.getTime(), Date.parse(node.validFrom), name);
      assert.equal(mine.notAfter.getTime(), Date.parse(node.validTo), name);
      const cns = node.subject
        .split('\n')
        .filter((l) => l.startsWith('CN='))
        .map((l) => l.slice(3).replace(/\\(.)/g, '$1'));
      assert.equal(mine.subject.commonName, cns.at(-1), name);
      assert.equal(mine.fingerprint('sha256'), node.fingerprint256, name);
      assert.equal(mine.fingerprint('sha1'), node.fingerprint, name);
      assert.equal(mine.publicKeyInfo.type, node.publicKey.asymmetricKeyType, name);
      assert.equal(mine.basicConstraints?.ca === true, node.ca, name);
      assert.equal(mine.selfIssued, node.checkIssued(node), name);
      assert.deepEqual(mine.problems, [], name);
      if (mine.publicKeyInfo.type === 'rsa')
        assert.equal(mine.publicKeyInfo.bits, node.publicKey.asymmetricKeyDetails?.modulusLength, name);
    }
  });

  it(`all ${rootCertificates.length} roots: subject and issuer RFC 4514 strings equal Node's reversed multi-line names`, () => {
    // Node prints names one attribute per line in DER order with RFC 2253 escaping (no dn_rev, UTF-8 kept).
    const nodeRFC4514 = (multiline: string) => multiline.split('\n').reverse().join(',');
    for (const { mine, node } of certs) {
      if (mine.subject.rdns.some((r) => r.length > 1)) continue; // Node writes multi-valued RDNs with ' + '
      assert.equal(mine.subject.toString(), nodeRFC4514(node.subject));
      assert.equal(mine.issuer.toString(), nodeRFC4514(node.issuer));
    }
  });

  // One openssl process per certificate is slow on a loaded machine: check every root whose names need
  // escaping or hold non-ASCII text, plus every 8th root.
  const special = (s: string) => /[\\+#"<>;]|[^\x20-\x7e]/.test(s);
  const sample = certs.filter(
    ({ mine }, i) => i % 8 === 0 || special(mine.subject.toString()) || special(mine.issuer.toString()),
  );
  it(`${sample.length} roots (every 8th, and all with escapes or non-ASCII): RFC 4514 equals openssl -nameopt RFC2253`, () => {
    for (const { pem, mine } of sample) {
      const out = f.dir
        .openssl(['x509', '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'], pem)
        .toString('utf8');
      assert.equal(mine.subject.toString(), unescapeOpenSSLBytes(/^subject=(.*)$/m.exec(out)![1]!));
      assert.equal(mine.issuer.toString(), unescapeOpenSSLBytes(/^issuer=(.*)$/m.exec(out)![1]!));
    }
    assert.ok(
      sample.some(({ mine }) => /[^\x20-\x7e]/.test(mine.subject.toString())),
      'no non-ASCII name sampled',
    );
  });
});

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('parseCertificate errors', () => {
  const der = f.leafP256.der;
  const notAfter = parseCertificate(der).notAfter;
  const yymmdd = notAfter.toISOString().slice(2, 10).replace(/-/g, '');
  const at = findBytes(der, new TextEncoder().encode(yymmdd));
  const badTime = der.slice();
  badTime[at + 2] = 0x78; // 'x' in the month of notAfter

  const rows: { name: string; input: () => unknown; wantCode: string; wantPath?: string }[] = [
    { name: 'empty DER', input: () => parseCertificate(new Uint8Array(0)), wantCode: 'ERR_CERT_INVALID' },
    {
      name: 'truncated DER',
      input: () => parseCertificate(der.subarray(0, 200)),
      wantCode: 'ERR_CERT_INVALID',
      wantPath: 'Certificate',
    },
    {
      name: 'trailing data',
      input: () => parseCertificate(Uint8Array.of(...der, 0)),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'bad notAfter digit',
      input: () => parseCertificate(badTime),
      wantCode: 'ERR_CERT_INVALID',
      wantPath: 'tbsCertificate.validity.notAfter',
    },
    {
      name: 'not a SEQUENCE',
      input: () => parseCertificate(Uint8Array.of(0x04, 0x01, 0x00)),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'a private key PEM',
      input: () => parseCertificate(f.dir.text('p256.key')),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: 'a CSR PEM',
      input: () => parseCertificate(f.csrs.p256.pem),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    { name: 'no PEM at all', input: () => parseCertificate('hello'), wantCode: 'ERR_PEM_NO_BLOCK' },
    {
      name: 'over maxBytes',
      input: () => parseCertificate(der, { maxBytes: 100 }),
      wantCode: 'ERR_CERT_INVALID',
    },
    {
      name: 'a v4 certificate',
      input: () => {
        const v = der.slice();
        v[v.indexOf(0xa0) + 4] = 3; // version INTEGER 2 → 3
        return parseCertificate(v);
      },
      wantCode: 'ERR_CERT_INVALID',
      wantPath: 'tbsCertificate.version',
    },
  ];
  for (const row of rows) {
    it(`${row.name} → ${row.wantCode}`, () => {
      assert.throws(row.input, (e: unknown) => {
        assert.ok(e instanceof MailTlsError, String(e));
        assert.equal(e.code, row.wantCode);
        if (row.wantPath !== undefined) {
          assert.equal(e.details.path, row.wantPath);
          assert.equal(typeof e.details.offset, 'number');
          assert.ok(e.message.includes(row.wantPath));
        }
        return true;
      });
    });
  }

  it('wrong argument types are TypeErrors', () => {
    assert.throws(() => parseCertificate(42 as unknown as string), TypeError);
    assert.throws(() => parseCertificate(der, { maxBytes: -1 }), RangeError);
    assert.throws(() => parseCertificate(der).fingerprint('md5' as 'sha1'), TypeError);
  });

  it('deeply nested input is refused quickly without recursion', () => {
    let x: Uint8Array = Uint8Array.of(0x05, 0x00);
    for (let i = 0; i < 5000; i++) x = encodeSequence(x);
    const elapsed = cpuStopwatch();
    assert.throws(
      () => parseCertificate(x),
      (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_CERT_INVALID',
    );
    assert.ok(elapsed() < 100);
  });
});

describe('the certificate view is immutable and lazily cached', () => {
  it('frozen object, frozen arrays, fresh dates, cached fingerprints', () => {
    const cert = parseCertificate(f.leafP256.pem);
    assert.ok(Object.isFrozen(cert));
    assert.ok(Object.isFrozen(cert.dnsNames));
    assert.ok(Object.isFrozen(cert.extensions));
    assert.throws(() => {
      (cert as { serialNumber: string }).serialNumber = 'x';
    }, TypeError);
    assert.throws(() => (cert.dnsNames as string[]).push('evil.example'), TypeError);
    const d = cert.notAfter;
    d.setTime(0);
    assert.notEqual(cert.notAfter.getTime(), 0);
    assert.equal(cert.dnsNames, cert.dnsNames);
    assert.equal(cert.fingerprint('sha256'), cert.fingerprint('sha256'));
    assert.ok(isCertificate(cert));
    assert.equal(isCertificate({}), false);
    assert.equal(String(cert), `Certificate(${cert.subject}, serial ${cert.serialNumber})`);
  });

  it('the input buffer may change after parsing without affecting the view', () => {
    const buf = f.caRSA.der.slice();
    const cert = parseCertificate(buf);
    const fp = cert.fingerprint('sha256');
    buf.fill(0);
    assert.equal(cert.fingerprint('sha256'), fp);
    assert.equal(cert.subject.commonName, 'Example Root R1');
  });

  it('a Node Buffer input (whose slice() is a view) is copied too', () => {
    const buf = Buffer.from(f.caRSA.der);
    const cert = parseCertificate(buf);
    const fp = cert.fingerprint('sha256');
    buf.fill(0);
    assert.equal(cert.fingerprint('sha256'), fp);
    assert.equal(toHex(cert.der), toHex(f.caRSA.der));
  });

  it('toJSON is JSON-safe and stable', () => {
    for (const fx of f.all) {
      const cert = parseCertificate(fx.pem);
      const json = JSON.parse(JSON.stringify(cert));
      assert.deepEqual(json, cert.toJSON());
      assert.equal(json.fingerprints.sha256, cert.fingerprint('sha256'));
      assert.equal(json.subject, cert.subject.toString());
    }
  });
});

describe('parseCertificate properties', () => {
  const seeds = f.all.map((fx) => fx.der);

  it('round trip: DER and PEM inputs give the same view', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), (der) => {
        const a = parseCertificate(der);
        const b = parseCertificate(encodePEM('CERTIFICATE', der));
        assert.equal(toHex(a.der), toHex(der));
        assert.equal(a.fingerprint('sha256'), b.fingerprint('sha256'));
        assert.equal(a.subject.toString(), b.subject.toString());
      }),
      { numRuns: fuzzRuns(20) },
    );
  });

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
    fc.record({
      kind: fc.constant('length' as const),
      pos: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      pos: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  );

  type Mutation = { kind: string; pos: number; bit?: number; value?: number; bytes?: Uint8Array };

  function mutate(der: Uint8Array, m: Mutation): Uint8Array {
    const pos = m.pos % der.length;
    switch (m.kind) {
      case 'flip': {
        const out = der.slice();
        out[pos] = out[pos]! ^ (1 << m.bit!);
        return out;
      }
      case 'truncate':
        return der.subarray(0, pos);
      case 'length': {
        // Overwrite a byte that follows a likely tag (a length octet) with another value.
        const out = der.slice();
        out[Math.min(pos | 1, der.length - 1)] = m.value!;
        return out;
      }
      default: {
        const out = new Uint8Array(der.length + m.bytes!.length);
        out.set(der.subarray(0, pos));
        out.set(m.bytes!, pos);
        out.set(der.subarray(pos), pos + m.bytes!.length);
        return out;
      }
    }
  }

  it('mutated DER never throws anything but MailTlsError, and takes under 100 ms', () => {
    let parsed = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutation, (der, m) => {
        const input = mutate(der, m);
        const elapsed = cpuStopwatch();
        try {
          const cert = parseCertificate(input);
          // Every lazy field must be safe too.
          JSON.stringify(cert);
          describeCertificate(cert, { verbose: true });
          void cert.publicKey;
          parsed++;
        } catch (e) {
          if (!(e instanceof MailTlsError)) throw e;
          rejected++;
        }
        assert.ok(elapsed() < 100, 'took over 100 ms');
      }),
      { numRuns: fuzzRuns(400) },
    );
    assert.ok(parsed > 0 && rejected > 0, `parsed ${parsed}, rejected ${rejected}`);
  });

  it('random bytes inside a certificate-shaped envelope never throw anything but MailTlsError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        try {
          parseCertificate(encodeTLV(0x30, body));
        } catch (e) {
          if (!(e instanceof MailTlsError)) throw e;
        }
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('IP SAN bytes format as ip-address.ts formats them', () => {
    const cert = parseCertificate(f.leafP256.der);
    for (const n of cert.subjectAltNames ?? [])
      if (n.type === 'ip') assert.equal(n.value, formatIPAddress(fromHex(toHex(n.bytes))));
  });
});
