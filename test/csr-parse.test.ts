import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import fc from 'fast-check';
import { MailTlsError } from '../src/errors.js';
import { toHex } from '../src/internal/encoding/bytes.js';
import {
  encodeBitString,
  encodeInteger,
  encodeNull,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeTLV,
  Tag,
} from '../src/internal/encoding/der.js';
import { tryCanonicalizeIPAddress } from '../src/names/ip-address.js';
import { parseCSR, verifyCSRSignature } from '../src/x509/csr-parse.js';
import { describeCSR } from '../src/x509/describe.js';
import {
  certFixtures,
  cpuStopwatch,
  type Fixture,
  opensslText,
  unescapeOpenSSLBytes,
} from './helpers/cert-fixtures.js';
import { fuzzRuns, opensslStatus } from './helpers/key-fixtures.js';
import { conformanceDir } from './helpers/paths.js';

const f = certFixtures();
const csrs = Object.values(f.csrs);

function requested(text: string, header: string): string | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(`${header}:`));
  return i < 0 ? undefined : lines[i + 1]!.trim();
}

describe('parseCSR agrees with openssl req', () => {
  for (const fx of csrs) {
    it(`${fx.name}: subject, key, signature algorithm, requested extensions`, () => {
      const csr = parseCSR(fx.pem);
      assert.equal(toHex(parseCSR(fx.der).der), toHex(csr.der));
      const subj = opensslText(f, [
        'req',
        '-in',
        fx.file,
        '-noout',
        '-subject',
        '-nameopt',
        'RFC2253',
      ]).trim();
      assert.equal(`subject=${csr.subject.toString()}`, unescapeOpenSSLBytes(subj));
      const text = opensslText(f, ['req', '-in', fx.file, '-noout', '-text']);
      assert.match(text, new RegExp(`Public Key Algorithm: ${csr.publicKeyInfo.algorithm}\\n`));
      const bits = /Public-Key: \((\d+) bit\)/.exec(text)?.[1];
      if (bits !== undefined) assert.equal(csr.publicKeyInfo.bits, Number(bits));
      assert.equal(/ {4}Signature Algorithm: (\S+)/.exec(text)?.[1], csr.signatureAlgorithm.name);
      assert.equal(csr.version, 1);
      const san = requested(text, 'X509v3 Subject Alternative Name')?.split(', ') ?? [];
      assert.deepEqual(
        csr.dnsNames,
        san.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
      );
      assert.deepEqual(
        csr.ipAddresses,
        san.filter((s) => s.startsWith('IP Address:')).map((s) => tryCanonicalizeIPAddress(s.slice(11))),
      );
      assert.deepEqual(
        csr.emailAddresses,
        san.filter((s) => s.startsWith('email:')).map((s) => s.slice(6)),
      );
      assert.equal(requested(text, 'X509v3 Key Usage'), 'Digital Signature, Key Encipherment');
      assert.deepEqual(csr.keyUsage, ['digitalSignature', 'keyEncipherment']);
      assert.equal(requested(text, 'X509v3 Extended Key Usage'), 'TLS Web Server Authentication');
      assert.deepEqual(csr.extendedKeyUsage, ['serverAuth']);
      assert.deepEqual(csr.basicConstraints, { ca: false, critical: false });
      assert.equal(csr.hasChallengePassword, /challengePassword/.test(text));
      const pub = opensslText(f, ['req', '-in', fx.file, '-noout', '-pubkey']);
      const spki = f.dir.openssl(['pkey', '-pubin', '-outform', 'DER'], pub);
      assert.equal(toHex(csr.spki), spki.toString('hex'));
      assert.deepEqual(csr.problems, []);
    });
  }

  it('challenge password: present, never shown; unstructuredName read', () => {
    const csr = parseCSR(f.csrs.rsa.pem);
    assert.equal(csr.hasChallengePassword, true);
    assert.equal(csr.unstructuredName, 'Mail Department');
    const secret = 's3cret-challenge';
    assert.ok(!JSON.stringify(csr).includes(secret));
    assert.ok(!describeCSR(csr, { verbose: true }).includes(secret));
    assert.ok(
      !JSON.stringify(csr.attributes.map((a) => toHex(a.values[0] ?? new Uint8Array()))).includes(
        toHex(new TextEncoder().encode(secret)),
      ),
    );
    assert.deepEqual(
      csr.attributes.map((a) => a.name),
      ['unstructuredName', 'challengePassword', 'extReq'],
    );
  });

  it('the RustCrypto conformance CSR (PEM and DER) parses and verifies', async () => {
    const dir = join(conformanceDir, 'csr', 'rustcrypto-x509-cert');
    const pem = readFileSync(join(dir, 'rsa2048-csr.pem'), 'utf8');
    const der = new Uint8Array(readFileSync(join(dir, 'rsa2048-csr.der')));
    const a = parseCSR(pem);
    const b = parseCSR(der);
    assert.equal(toHex(a.der), toHex(b.der));
    const subj = f.dir
      .openssl(['req', '-noout', '-subject', '-nameopt', 'RFC2253'], pem)
      .toString('utf8')
      .trim();
    assert.equal(`subject=${a.subject.toString()}`, unescapeOpenSSLBytes(subj));
    assert.equal(a.publicKeyInfo.bits, 2048);
    await verifyCSRSignature(a);
    assert.match(
      opensslStatus(['req', '-noout', '-verify'], { input: pem }).stderr,
      /self-signature verify OK/,
    );
  });
});

describe('verifyCSRSignature', () => {
  const good = [f.csrs.rsa, f.csrs.p256, f.csrs.p384, f.csrs.ed25519, f.csrs.pss];
  for (const fx of good) {
    it(`${fx.name}: valid (as openssl req -verify says)`, async () => {
      assert.match(
        opensslStatus(['req', '-in', f.dir.file(fx.file), '-noout', '-verify']).stderr,
        /self-signature verify OK/,
      );
      await verifyCSRSignature(parseCSR(fx.pem));
      await verifyCSRSignature(fx.der);
    });
  }

  it('RSA-PSS parameters are read (SHA-384, maximum salt)', () => {
    const csr = parseCSR(f.csrs.pss.pem);
    assert.equal(csr.signatureAlgorithm.hash, 'SHA-384');
    assert.equal(csr.signatureAlgorithm.mgfHash, 'SHA-384');
    const text = opensslText(f, ['req', '-in', f.csrs.pss.file, '-noout', '-text']);
    const salt = Number.parseInt(/Salt Length: 0x([0-9A-F]+)/i.exec(text)![1]!, 16);
    assert.equal(csr.signatureAlgorithm.saltLength, salt);
  });

  it('an injected WebCrypto provider (@peculiar/webcrypto) gives the same answers', async () => {
    const crypto = new PeculiarCrypto() as unknown as Crypto;
    await verifyCSRSignature(f.csrs.rsa.pem, { crypto });
    await verifyCSRSignature(f.csrs.p256.pem, { crypto });
    const tampered = tamper(f.csrs.p256);
    await assert.rejects(
      verifyCSRSignature(tampered, { crypto }),
      (e: unknown) => e instanceof MailTlsError && e.details.reason === 'invalid',
    );
  });

  function tamper(fx: Fixture): Uint8Array {
    const der = fx.der.slice();
    const cn = new TextEncoder().encode('example.org');
    for (let i = 0; i < der.length; i++) {
      if (cn.every((b, j) => der[i + j] === b)) {
        der[i] = 0x45; // 'e' → 'E'
        return der;
      }
    }
    throw new Error('CN not found');
  }

  const rows: { name: string; input: () => Uint8Array | string; wantReason: string }[] = [
    { name: 'altered subject (RSA)', input: () => tamper(f.csrs.rsa), wantReason: 'invalid' },
    { name: 'altered subject (Ed25519)', input: () => tamper(f.csrs.ed25519), wantReason: 'invalid' },
    { name: 'altered subject (RSA-PSS)', input: () => tamper(f.csrs.pss), wantReason: 'invalid' },
    { name: 'SHA-1 signature', input: () => f.csrs.sha1.pem, wantReason: 'weak' },
  ];
  for (const row of rows) {
    it(`${row.name} → ERR_CSR_SIGNATURE (${row.wantReason})`, async () => {
      const input = row.input();
      if (row.wantReason === 'invalid') {
        const r = opensslStatus(['req', '-inform', 'DER', '-noout', '-verify'], {
          input: input as Uint8Array,
        });
        // OpenSSL 3.0 exits 0 either way and reports the result on stderr.
        assert.match(r.stderr, /verify failure/, 'openssl req -verify accepts the altered CSR');
      }
      await assert.rejects(verifyCSRSignature(input), (e: unknown) => {
        assert.ok(e instanceof MailTlsError);
        assert.equal(e.code, 'ERR_CSR_SIGNATURE');
        assert.equal(e.details.reason, row.wantReason);
        return true;
      });
    });
  }

  it('TypeError for a non-CSR object', async () => {
    await assert.rejects(verifyCSRSignature({} as never), TypeError);
  });
});

describe('parseCSR errors', () => {
  const der = f.csrs.p256.der;
  const rows: { name: string; input: () => unknown; wantCode: string; wantPath?: string }[] = [
    {
      name: 'a certificate PEM',
      input: () => parseCSR(f.leafP256.pem),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: 'a key PEM',
      input: () => parseCSR(f.dir.text('p256.key')),
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: 'truncated',
      input: () => parseCSR(der.subarray(0, 100)),
      wantCode: 'ERR_CSR_INVALID',
      wantPath: 'CertificationRequest',
    },
    { name: 'trailing byte', input: () => parseCSR(Uint8Array.of(...der, 0)), wantCode: 'ERR_CSR_INVALID' },
    { name: 'empty', input: () => parseCSR(new Uint8Array(0)), wantCode: 'ERR_CSR_INVALID' },
    { name: 'a certificate DER', input: () => parseCSR(f.leafP256.der), wantCode: 'ERR_CSR_INVALID' },
    { name: 'over maxBytes', input: () => parseCSR(der, { maxBytes: 10 }), wantCode: 'ERR_CSR_INVALID' },
  ];
  for (const row of rows) {
    it(`${row.name} → ${row.wantCode}`, () => {
      assert.throws(row.input, (e: unknown) => {
        assert.ok(e instanceof MailTlsError, String(e));
        assert.equal(e.code, row.wantCode);
        if (row.wantPath !== undefined) assert.equal(e.details.path, row.wantPath);
        return true;
      });
    });
  }
  it('TypeError for other input types', () => {
    assert.throws(() => parseCSR(null as unknown as string), TypeError);
  });

  it('an extensionRequest of 200,000 extensions (maxBytes raised) parses, without a stack overflow', () => {
    const count = 200_000;
    const one = Uint8Array.of(0x30, 0x06, 0x06, 0x02, 0x2a, 0x03, 0x04, 0x00); // { 1.2.3, OCTET STRING '' }
    const list = new Uint8Array(one.length * count);
    for (let i = 0; i < count; i++) list.set(one, i * one.length);
    const info = encodeSequence(
      encodeInteger(0),
      encodeSequence(),
      parseCSR(der).spki,
      encodeTLV(
        0xa0, // attributes [0] IMPLICIT SET OF Attribute
        encodeSequence(encodeOID('1.2.840.113549.1.9.14'), encodeSet(encodeTLV(Tag.SEQUENCE, list))),
      ),
    );
    const csrDER = encodeSequence(
      info,
      encodeSequence(encodeOID('1.2.840.113549.1.1.11'), encodeNull()),
      encodeBitString(new Uint8Array(256)),
    );
    const csr = parseCSR(csrDER, { maxBytes: 4 * 1024 * 1024 });
    assert.equal(csr.extensions.length, count);
    assert.equal(csr.extensions[0]!.oid, '1.2.3');
  });
});

describe('parseCSR properties', () => {
  it('mutated CSRs: parse and verify only ever throw MailTlsError, each under 100 ms to parse', async () => {
    const seeds = csrs.filter((c) => c !== f.csrs.sha1).map((c) => c.der);
    let verified = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        async (der, pos, b) => {
          const m = der.slice();
          m[pos % m.length] = b;
          const elapsed = cpuStopwatch();
          let csr: ReturnType<typeof parseCSR>;
          try {
            csr = parseCSR(m);
            JSON.stringify(csr);
            describeCSR(csr, { verbose: true });
          } catch (e) {
            if (!(e instanceof MailTlsError)) throw e;
            rejected++;
            return;
          }
          assert.ok(elapsed() < 100);
          try {
            await verifyCSRSignature(csr);
            verified++;
          } catch (e) {
            if (!(e instanceof MailTlsError)) throw e;
            assert.equal(e.code, 'ERR_CSR_SIGNATURE');
            rejected++;
          }
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
    assert.ok(rejected > 0, `verified ${verified}, rejected ${rejected}`);
  });
});
