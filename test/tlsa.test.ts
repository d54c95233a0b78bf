/**
 * DANE TLSA records against two independent implementations: the openssl pipeline of RFC 7671 practice
 * (`openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256`, and the DER certificate
 * for selector 0) and GnuTLS's `danetool --tlsa-rr`, for RSA, EC and Ed25519 certificates made by openssl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HostnameError } from '../src/errors.js';
import { generateKeyPair } from '../src/keys/keys.js';
import { encodePublicKeyPEM } from '../src/keys/public-key.js';
import { type TLSAOptions, tlsaRecord, tlsaRecords } from '../src/tls/tlsa.js';
import { type Certificate, parseCertificate } from '../src/x509/certificate.js';
import { skipWithout } from './helpers/peers.js';

let dir: string;
const certs = new Map<string, Certificate>();
const KEYS = {
  rsa: ['-newkey', 'rsa:2048'],
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['-newkey', 'ed25519'],
} as const;

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir });
  assert.equal(r.status, 0, `${cmd}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The hash openssl computes, as lower-case hex. */
function opensslDigest(cmd: string, hash: 'sha256' | 'sha512'): string {
  return sh(`${cmd} | openssl dgst -${hash} -r`).split(' ')[0]!.toLowerCase();
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailtls-tlsa-'));
  for (const [name, args] of Object.entries(KEYS)) {
    sh(
      `openssl req -x509 ${args.join(' ')} -nodes -keyout ${name}.key -out ${name}.pem -subj /CN=mx.example.com -days 30 2>/dev/null`,
    );
    certs.set(name, parseCertificate(readFileSync(join(dir, `${name}.pem`), 'utf8')));
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tlsaRecord', () => {
  for (const name of Object.keys(KEYS)) {
    it(`${name}: 3 1 1, 3 1 2, 3 0 1, 3 0 2, 3 1 0 equal the openssl pipelines`, () => {
      const cert = certs.get(name)!;
      const spki = `openssl x509 -in ${name}.pem -pubkey -noout | openssl pkey -pubin -outform DER`;
      const der = `openssl x509 -in ${name}.pem -outform DER`;
      const rows: { name: string; input: TLSAOptions; want: string }[] = [
        { name: '3 1 1', input: {}, want: opensslDigest(spki, 'sha256') },
        { name: '3 1 2', input: { matchingType: 2 }, want: opensslDigest(spki, 'sha512') },
        { name: '3 0 1', input: { selector: 0 }, want: opensslDigest(der, 'sha256') },
        { name: '3 0 2', input: { selector: 0, matchingType: 2 }, want: opensslDigest(der, 'sha512') },
        { name: '3 1 0', input: { matchingType: 0 }, want: sh(`${spki} | od -An -v -tx1 | tr -d ' \\n'`) },
      ];
      for (const row of rows) assert.equal(tlsaRecord(cert, row.input).data, row.want, `${name} ${row.name}`);
      // the key's own fingerprint is the same 3 1 1 data
      assert.equal(tlsaRecord(cert).data, cert.spkiFingerprint().sha256Hex);
    });

    it(`${name}: records equal danetool --tlsa-rr (GnuTLS)`, (t) => {
      if (skipWithout(t, 'danetool')) return;
      const rows: { flags: string; input: TLSAOptions }[] = [
        { flags: '--port 25', input: {} },
        { flags: '--port 25 --hash sha512', input: { matchingType: 2 } },
        { flags: '--port 465 --x509', input: { selector: 0, port: 465 } },
        { flags: '--port 587 --x509 --hash sha512', input: { selector: 0, matchingType: 2, port: 587 } },
        { flags: '--port 25 --ca --domain', input: { usage: 2 } },
        { flags: '--port 25 --ca --no-domain', input: { usage: 0 } },
        { flags: '--port 25 --no-domain', input: { usage: 1 } },
      ];
      for (const row of rows) {
        const out = sh(
          `danetool --tlsa-rr --host mx.example.com ${row.flags} --load-certificate ${name}.pem`,
        );
        const m = /^(\S+) IN TLSA \( (\d\d) (\d\d) (\d\d) ([0-9a-f]+) \)$/.exec(out.trim());
        assert.ok(m, out);
        const r = tlsaRecord(certs.get(name)!, { ...row.input, mxHost: 'MX.Example.com' });
        assert.deepEqual(
          [r.owner, r.usage, r.selector, r.matchingType, r.data],
          [m[1], Number(m[2]), Number(m[3]), Number(m[4]), m[5]],
          `${name} ${row.flags}`,
        );
        assert.equal(r.line, `${m[1]} IN TLSA ${Number(m[2])} ${Number(m[3])} ${Number(m[4])} ${m[5]}`);
      }
    });
  }

  it('writes the zone-file line, with a TTL, and only the RDATA without mxHost', () => {
    const cert = certs.get('ec')!;
    const hex = cert.spkiFingerprint().sha256Hex;
    assert.equal(
      tlsaRecord(cert, { mxHost: 'mx.example.com' }).line,
      `_25._tcp.mx.example.com. IN TLSA 3 1 1 ${hex}`,
    );
    assert.equal(
      tlsaRecord(cert, { mxHost: 'bücher.example.', port: 465, ttl: 3600 }).line,
      `_465._tcp.xn--bcher-kva.example. 3600 IN TLSA 3 1 1 ${hex}`,
    );
    const bare = tlsaRecord(cert);
    assert.equal(bare.line, `3 1 1 ${hex}`);
    assert.equal(bare.owner, undefined);
  });

  it('refuses bad parameters with RangeError/TypeError and a bad MX host with ERR_HOSTNAME_INVALID', async () => {
    const cert = certs.get('ec')!;
    const rows: { name: string; input: unknown; want: new (...a: never[]) => Error }[] = [
      { name: 'usage 4', input: { usage: 4 }, want: RangeError },
      { name: 'selector 2', input: { selector: 2 }, want: RangeError },
      { name: 'matching 3', input: { matchingType: 3 }, want: RangeError },
      { name: 'port 0', input: { port: 0 }, want: RangeError },
      { name: 'port 65536', input: { port: 65536 }, want: RangeError },
      { name: 'ttl -1', input: { ttl: -1 }, want: RangeError },
      { name: 'mxHost number', input: { mxHost: 25 }, want: TypeError },
      { name: 'mxHost with space', input: { mxHost: 'mx .example.com' }, want: HostnameError },
    ];
    for (const row of rows)
      assert.throws(() => tlsaRecord(cert, row.input as TLSAOptions), row.want, row.name);
    const key = await generateKeyPair({ type: 'ec' });
    assert.throws(() => tlsaRecord(key, { selector: 0 }), TypeError);
    assert.throws(() => tlsaRecord({} as Certificate), TypeError);
  });
});

describe('tlsaRecords (key rollover)', () => {
  it('current certificate + next key: two records; the next key equals danetool --load-pubkey', async (t) => {
    if (skipWithout(t, 'danetool')) return;
    const next = await generateKeyPair({ type: 'ec' });
    writeFileSync(join(dir, 'next.pub'), encodePublicKeyPEM(next.publicKey));
    const rs = tlsaRecords(certs.get('rsa')!, next, { mxHost: 'mx.example.com' });
    assert.equal(rs.length, 2);
    assert.equal(rs[0]!.data, certs.get('rsa')!.spkiFingerprint().sha256Hex);
    const out = sh('danetool --tlsa-rr --host mx.example.com --port 25 --load-pubkey next.pub');
    assert.equal(rs[1]!.line, out.trim().replace(/\( 03 01 01 ([0-9a-f]+) \)/, '3 1 1 $1'));
    // the private key gives the same record as its public key
    assert.equal(tlsaRecord(next).data, tlsaRecord(next.publicKey).data);
  });

  it('a renewal that keeps the key needs one record', () => {
    const cert = certs.get('ec')!;
    assert.equal(tlsaRecords(cert, cert).length, 1);
    assert.equal(tlsaRecords(cert, undefined).length, 1);
    // with selector 0 a renewed certificate is a new record even with the same key
    assert.equal(tlsaRecords(cert, certs.get('rsa')!, { selector: 0 }).length, 2);
  });
});
