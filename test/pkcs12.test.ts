/**
 * PKCS#12: what createPKCS12 writes is read by `openssl pkcs12` (same key, certificates, friendlyName and
 * localKeyID) and by Node's TLS stack (a real handshake); what `openssl pkcs12 -export` writes with every
 * relevant option imports, or fails with the documented code; passwords in every encoding writers use;
 * leaf/chain selection; malformed, unsupported and over-limit inputs by code and path; key bytes never
 * leak; the event loop keeps running during a slow key derivation; the PKCS#12 KDF equals OpenSSL's.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { inspect } from 'node:util';
import { sha1 as nobleSHA1 } from '@noble/hashes/legacy';
import { sha256 as nobleSHA256 } from '@noble/hashes/sha2';
import { KeyError, PKCS12Error, type PKCS12ErrorCode } from '../src/errors.js';
import {
  DerReader,
  encodeExplicit,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDer,
  Tag,
  valueBytes,
} from '../src/internal/encoding/der.js';
import { iterateSHA1, iterateSHA256 } from '../src/internal/pkcs12/iterated-hash.js';
import { type PKCS12Hash, pkcs12KDF, pkcs12KDFAsync } from '../src/internal/pkcs12/kdf.js';
import { generateKeyPair, type PrivateKey } from '../src/keys/keys.js';
import { parsePrivateKey } from '../src/keys/private-key.js';
import {
  type CreatePKCS12Options,
  createPKCS12,
  type ParsePKCS12Options,
  type PKCS12Contents,
  parsePKCS12,
} from '../src/pkcs12/pkcs12.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { assertNoKeyBytes, opensslStatus, TempDir } from './helpers/key-fixtures.js';
import {
  attributes,
  bmp,
  buildPFX,
  certBag,
  keyBag,
  nestedBag,
  OID,
  type Part,
  rawBag,
  shroudedKeyBag,
  toBER,
  wrapPFX,
} from './helpers/pkcs12-fixtures.js';
import { getTestPKI, type TestPKI } from './helpers/pki.js';
import { cpuStopwatch } from './helpers/timing.js';

const PW = 'p12-Secret!';
let pki: TestPKI;
let ecPKI: TestPKI;
let dir: TempDir;
/** leaf, intermediate, root DER */
let chainDER: Uint8Array[];
let pkcs8: Uint8Array;

before(async () => {
  pki = await getTestPKI({ keyType: 'rsa' });
  ecPKI = await getTestPKI({ keyType: 'ec' });
  dir = new TempDir('mailtls-p12-');
  dir.write('key.pem', pki.leaf.keyPEM);
  dir.write('cert.pem', pki.leaf.certPEM);
  dir.write('chain.pem', pki.intermediate.certPEM + pki.root.certPEM);
  chainDER = [pki.leaf.certDER, pki.intermediate.certDER, pki.root.certDER];
  pkcs8 = pki.leaf.key.exportPKCS8();
});
after(() => dir.cleanup());

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The privateKey octets of PKCS#8 (the key material without attributes). */
function keyMaterial(p8: Uint8Array): string {
  const r = DerReader.of(parseDer(p8));
  r.expect(Tag.INTEGER, 'version');
  r.expect(Tag.SEQUENCE, 'algorithm');
  return hex(valueBytes(r.expect(Tag.OCTET_STRING, 'privateKey')));
}

async function rejectsWith(
  p: Promise<unknown>,
  code: PKCS12ErrorCode,
  check?: (e: PKCS12Error) => void,
): Promise<PKCS12Error> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof PKCS12Error, `expected PKCS12Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  check?.(caught);
  return caught;
}

/** Checks an import against the test PKI: key, leaf, chain in issuer order. */
function assertIdentity(p: PKCS12Contents, key: PrivateKey, certs: readonly Uint8Array[]): void {
  assert.ok(p.key !== undefined && p.leaf !== undefined);
  assert.ok(p.key.publicKey.equals(key.publicKey));
  assert.equal(keyMaterial(p.key.exportPKCS8()), keyMaterial(key.exportPKCS8()));
  assert.deepEqual(
    [p.leaf, ...p.chain].map((c) => hex(c.der)),
    certs.map(hex),
  );
}

/** `openssl pkcs12 -info -noout` lines (stderr) and the `-nodes` PEM output of a file. */
function opensslRead(file: string, password: string, extra: string[] = []): { info: string; pem: string } {
  const info = opensslStatus([
    'pkcs12',
    '-in',
    file,
    '-passin',
    `pass:${password}`,
    '-info',
    '-noout',
    ...extra,
  ]);
  assert.ok(info.ok, info.stderr);
  const out = opensslStatus(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes', ...extra]);
  assert.ok(out.ok, out.stderr);
  return { info: info.stderr, pem: out.stdout.toString('utf8') };
}

/** Bag Attributes blocks of `openssl pkcs12 -nodes` output: attribute lines before each PEM block label. */
function bagAttributes(pem: string): Array<{ label: string; attrs: string }> {
  const out: Array<{ label: string; attrs: string }> = [];
  const re =
    /Bag Attributes\n((?: {4}.*\n)*)(?:subject=.*\n)?(?:issuer=.*\n)?(?:Key Attributes.*\n)?-----BEGIN ([A-Z ]+)-----/g;
  for (const m of pem.matchAll(re)) out.push({ label: m[2]!, attrs: m[1]! });
  return out;
}

describe('createPKCS12: read back by openssl, Node and parsePKCS12', () => {
  const rows: Array<{
    name: string;
    input: Partial<CreatePKCS12Options> & { password: string; ec?: boolean };
    want: { mac: RegExp; encryption: RegExp };
  }> = [
    {
      name: 'default: PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC, 10,000 iterations',
      input: { password: PW, friendlyName: 'mail.example.com 2026' },
      want: {
        mac: /MAC: sha256, Iteration 10000/,
        encryption: /PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/,
      },
    },
    {
      name: "encryption 'pbe-sha1-3des' (Windows Server 2016 and older)",
      input: { password: PW, friendlyName: 'legacy', encryption: 'pbe-sha1-3des' },
      want: {
        mac: /MAC: sha1, Iteration 10000/,
        encryption: /pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 10000/,
      },
    },
    {
      name: 'iterations: 2048 (what OpenSSL 3 writes)',
      input: { password: PW, iterations: 2048 },
      want: { mac: /MAC: sha256, Iteration 2048/, encryption: /AES-256-CBC, Iteration 2048,/ },
    },
    {
      name: 'empty password',
      input: { password: '' },
      want: { mac: /MAC: sha256/, encryption: /AES-256-CBC/ },
    },
    {
      name: 'non-ASCII password and friendlyName',
      input: { password: 'pässwörd-€-😀', friendlyName: 'Zertifikat für Mail ✉' },
      want: { mac: /MAC: sha256/, encryption: /AES-256-CBC/ },
    },
    {
      name: 'EC P-256 key',
      input: { password: PW, friendlyName: 'ec', ec: true },
      want: { mac: /MAC: sha256/, encryption: /AES-256-CBC/ },
    },
    {
      name: 'EC key with 3DES',
      input: { password: PW, ec: true, encryption: 'pbe-sha1-3des' },
      want: { mac: /MAC: sha1/, encryption: /pbeWithSHA1And3-KeyTripleDES-CBC/ },
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const src = row.input.ec ? ecPKI : pki;
      const certs = [src.leaf.certDER, src.intermediate.certDER, src.root.certDER];
      const { ec: _ec, ...input } = row.input;
      const pfx = await createPKCS12({
        ...input,
        key: src.leaf.key,
        certificates: [src.leaf.certPEM, src.intermediate.certPEM + src.rootPEM],
      });
      const file = dir.write(`create-${rows.indexOf(row)}.pfx`, pfx);
      // openssl: integrity, algorithms, key, certificates, attributes
      const { info, pem } = opensslRead(file, row.input.password);
      assert.match(info, row.want.mac);
      assert.match(info, new RegExp(`PKCS7 Encrypted data: .*${row.want.encryption.source}`));
      assert.match(info, new RegExp(`Shrouded Keybag: .*${row.want.encryption.source}`));
      assert.equal(info.match(/Certificate bag/g)?.length, 3);
      const o = await parsePrivateKey(pem);
      assert.equal(keyMaterial(o.exportPKCS8()), keyMaterial(src.leaf.key.exportPKCS8()));
      const pemCerts = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
        (m) => hex(parseCertificate(m[0]).der),
      );
      assert.deepEqual(pemCerts, certs.map(hex));
      const localKeyId = Buffer.from(nobleSHA1(src.leaf.certDER))
        .toString('hex')
        .toUpperCase()
        .replace(/(..)(?!$)/g, '$1 ');
      const attrs = bagAttributes(pem);
      const keyAttrs = attrs.find((a) => a.label === 'PRIVATE KEY')!.attrs;
      const leafAttrs = attrs.find((a) => a.label === 'CERTIFICATE')!.attrs;
      for (const a of [keyAttrs, leafAttrs]) {
        assert.match(a, new RegExp(`localKeyID: ${localKeyId} `));
        if (row.input.friendlyName !== undefined && /^[\x20-\x7e]*$/.test(row.input.friendlyName))
          assert.match(a, new RegExp(`friendlyName: ${row.input.friendlyName}`));
      }
      assert.equal(
        attrs.filter((a) => a.label === 'CERTIFICATE').length,
        1,
        'only the leaf carries attributes',
      );
      // Node's TLS stack
      tls.createSecureContext({ pfx: Buffer.from(pfx), passphrase: row.input.password });
      // and ourselves
      const p = await parsePKCS12(pfx, { password: row.input.password, requireKey: true });
      assertIdentity(p, src.leaf.key, certs);
      assert.equal(p.friendlyName, row.input.friendlyName);
      assert.deepEqual(p.warnings, []);
    });
  }

  it('Node serves a TLS handshake with the key and chain from our .pfx', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certPEM, pki.intermediate.certPEM],
      password: PW,
    });
    const server = tls.createServer({ pfx: Buffer.from(pfx), passphrase: PW }, (s) => s.end('220 ok\r\n'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'mail.example.com',
        ca: pki.rootPEM,
      });
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      const peer = socket.getPeerCertificate(true);
      assert.equal(peer.fingerprint256, parseCertificate(pki.leaf.certDER).fingerprint('sha256'));
      assert.equal(
        peer.issuerCertificate.fingerprint256,
        parseCertificate(pki.intermediate.certDER).fingerprint('sha256'),
      );
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('a fullchain PEM (leaf repeated) is written once per certificate; an injected WebCrypto provider is used', async () => {
    const { Crypto } = await import('@peculiar/webcrypto');
    const crypto = new Crypto() as unknown as globalThis.Crypto;
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certPEM, pki.leaf.chainPEM, parseCertificate(pki.root.certDER)],
      password: PW,
      iterations: 100,
      crypto,
    });
    const p = await parsePKCS12(pfx, { password: PW, crypto });
    assertIdentity(p, pki.leaf.key, chainDER);
    assert.equal(p.certificates.length, 3);
  });

  it('an empty password opens with no password in Node, openssl and parsePKCS12', async () => {
    const pfx = await createPKCS12({ key: pki.leaf.key, certificates: [pki.leaf.certDER], password: '' });
    tls.createSecureContext({ pfx: Buffer.from(pfx) });
    const file = dir.write('empty.pfx', pfx);
    assert.ok(opensslStatus(['pkcs12', '-in', file, '-passin', 'pass:', '-info', '-noout']).ok);
    const p = await parsePKCS12(pfx);
    assertIdentity(p, pki.leaf.key, [pki.leaf.certDER]);
  });

  const argRows: Array<{ name: string; input: () => unknown; want: typeof TypeError | typeof RangeError }> = [
    { name: 'options missing', input: () => undefined, want: TypeError },
    {
      name: 'key not a PrivateKey',
      input: () => ({ key: 'pem', certificates: [pki.leaf.certPEM], password: PW }),
      want: TypeError,
    },
    {
      name: 'password not a string',
      input: () => ({ key: pki.leaf.key, certificates: [pki.leaf.certPEM], password: 1 }),
      want: TypeError,
    },
    {
      name: 'certificates not an array',
      input: () => ({ key: pki.leaf.key, certificates: pki.leaf.certPEM, password: PW }),
      want: TypeError,
    },
    {
      name: 'no certificate',
      input: () => ({ key: pki.leaf.key, certificates: [], password: PW }),
      want: RangeError,
    },
    {
      name: 'iterations 0',
      input: () => ({ key: pki.leaf.key, certificates: [pki.leaf.certPEM], password: PW, iterations: 0 }),
      want: RangeError,
    },
    {
      name: 'unknown encryption',
      input: () => ({ key: pki.leaf.key, certificates: [pki.leaf.certPEM], password: PW, encryption: 'rc2' }),
      want: RangeError,
    },
    {
      name: 'certificate of a wrong type',
      input: () => ({ key: pki.leaf.key, certificates: [42], password: PW }),
      want: TypeError,
    },
  ];
  for (const row of argRows)
    it(`programmer mistakes: ${row.name}`, async () => {
      await assert.rejects(createPKCS12(row.input() as CreatePKCS12Options), row.want);
    });

  it('a key that does not belong to the first certificate is ERR_KEY_MISMATCH, saying where the leaf is', async () => {
    await assert.rejects(
      createPKCS12({
        key: pki.leaf.key,
        certificates: [pki.intermediate.certPEM, pki.leaf.certPEM],
        password: PW,
      }),
      (e: unknown) =>
        e instanceof KeyError &&
        e.code === 'ERR_KEY_MISMATCH' &&
        e.details.matchingIndex === 1 &&
        /put the leaf certificate first/.test(e.message),
    );
    const other = await generateKeyPair({ type: 'ec' });
    await assert.rejects(
      createPKCS12({ key: other, certificates: [pki.leaf.certPEM], password: PW }),
      (e: unknown) =>
        e instanceof KeyError && e.code === 'ERR_KEY_MISMATCH' && e.details.matchingIndex === undefined,
    );
  });
});

describe('parsePKCS12 reads what openssl pkcs12 -export writes', () => {
  const base = ['pkcs12', '-export', '-inkey', 'key.pem', '-in', 'cert.pem', '-certfile', 'chain.pem'];
  const rows: Array<{
    name: string;
    input: { args: string[]; password?: string; options?: ParsePKCS12Options; base?: string[] };
    want?: {
      encryption: string[];
      mac: string;
      warning?: RegExp;
      friendlyName?: string;
      certs?: number;
      key?: boolean;
    };
    wantCode?: PKCS12ErrorCode;
    wantMessage?: RegExp;
  }> = [
    {
      name: 'default (OpenSSL 3: AES-256, SHA-256 MAC) with -name',
      input: { args: ['-name', 'Mail Cert'] },
      want: {
        mac: 'sha256',
        friendlyName: 'Mail Cert',
        encryption: [
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
        ],
      },
    },
    {
      name: '-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1',
      input: { args: ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'] },
      want: {
        mac: 'sha1',
        encryption: [
          'pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
          'pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
        ],
      },
    },
    {
      name: '-keypbe PBE-SHA1-2DES (2-key 3DES)',
      input: { args: ['-keypbe', 'PBE-SHA1-2DES', '-certpbe', 'PBE-SHA1-3DES'] },
      want: {
        mac: 'sha256',
        encryption: [
          'pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
          'pbeWithSHA1And2-KeyTripleDES-CBC, Iteration 2048',
        ],
      },
    },
    {
      name: '-keypbe aes-128-cbc -certpbe aes-192-cbc -macalg sha512 -iter 1000',
      input: {
        args: ['-keypbe', 'aes-128-cbc', '-certpbe', 'aes-192-cbc', '-macalg', 'sha512', '-iter', '1000'],
      },
      want: {
        mac: 'sha512',
        encryption: [
          'PBES2, PBKDF2, AES-192-CBC, Iteration 1000, PRF hmacWithSHA256',
          'PBES2, PBKDF2, AES-128-CBC, Iteration 1000, PRF hmacWithSHA256',
        ],
      },
    },
    {
      name: '-keypbe des-ede3-cbc (PBES2 with 3DES)',
      input: { args: ['-keypbe', 'des-ede3-cbc'] },
      want: {
        mac: 'sha256',
        encryption: [
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
          'PBES2, PBKDF2, DES-EDE3-CBC, Iteration 2048, PRF hmacWithSHA256',
        ],
      },
    },
    {
      name: '-certpbe NONE (certificates in plain data)',
      input: { args: ['-certpbe', 'NONE'] },
      want: { mac: 'sha256', encryption: ['PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256'] },
    },
    {
      name: '-keypbe NONE -certpbe NONE (unencrypted keyBag)',
      input: { args: ['-keypbe', 'NONE', '-certpbe', 'NONE'] },
      want: { mac: 'sha256', encryption: [], warning: /stored unencrypted/ },
    },
    {
      name: '-nomac (OpenSSL 3.0 then leaves the certificates unencrypted)',
      input: { args: ['-nomac'] },
      want: {
        mac: 'none',
        encryption: ['PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256'],
        warning: /no integrity check/,
      },
    },
    {
      name: '-passout pass: (empty password), read without a password',
      input: { args: [], password: '' },
      want: {
        mac: 'sha256',
        encryption: [
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
        ],
      },
    },
    {
      name: 'non-ASCII password',
      input: { args: ['-keypbe', 'PBE-SHA1-3DES'], password: 'Grüße-€-😀' },
      want: {
        mac: 'sha256',
        encryption: [
          'PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
          'pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
        ],
      },
    },
    {
      name: '-nokeys: certificates only',
      input: { args: ['-nokeys'] },
      want: {
        mac: 'sha256',
        key: false,
        certs: 3,
        encryption: ['PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256'],
      },
    },
    {
      name: '-nokeys with requireKey',
      input: { args: ['-nokeys'], options: { requireKey: true } },
      wantCode: 'ERR_PKCS12_NO_KEY',
      wantMessage: /no private key, only 3 certificates/,
    },
    {
      name: '-nocerts without -certfile: key only',
      input: { args: ['-nocerts'], base: ['pkcs12', '-export', '-inkey', 'key.pem'] },
      wantCode: 'ERR_PKCS12_NO_CERT',
      wantMessage: /no certificate, only a private key/,
    },
    {
      name: '-nocerts with -certfile: key and CA certificates but not the leaf; requireKey finds no certificate for the key',
      input: { args: ['-nocerts'], options: { requireKey: true } },
      wantCode: 'ERR_PKCS12_NO_CERT',
      wantMessage: /None of the 2 certificates in the file belongs to its private key/,
    },
    {
      name: '-legacy (RC2-40 certificates): refused with the conversion command',
      input: { args: ['-legacy'] },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /pbeWithSHA1And40BitRC2-CBC[\s\S]*openssl pkcs12 -legacy -in old\.pfx/,
    },
    {
      name: '-legacy -certpbe PBE-SHA1-RC2-128',
      input: { args: ['-legacy', '-certpbe', 'PBE-SHA1-RC2-128'] },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /pbeWithSHA1And128BitRC2-CBC/,
    },
    {
      name: '-legacy -keypbe PBE-SHA1-RC4-128',
      input: { args: ['-legacy', '-keypbe', 'PBE-SHA1-RC4-128', '-certpbe', 'NONE'] },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /private key with pbeWithSHA1And128BitRC4/,
    },
    {
      name: '-legacy -keypbe PBE-MD5-DES (PKCS#5 v1.5)',
      input: { args: ['-legacy', '-keypbe', 'PBE-MD5-DES', '-certpbe', 'NONE'] },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /pbeWithMD5AndDES-CBC/,
    },
    {
      name: '-legacy -keypbe des-cbc (PBES2 with single DES)',
      input: { args: ['-legacy', '-keypbe', 'des-cbc', '-certpbe', 'NONE'] },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /PBES2, PBKDF2, DES-CBC/,
    },
  ];
  for (const [i, row] of rows.entries()) {
    it(row.name, async () => {
      const password = row.input.password ?? PW;
      const out = `openssl-${i}.pfx`;
      dir.openssl([
        ...(row.input.base ?? base),
        ...row.input.args,
        '-passout',
        `pass:${password}`,
        '-out',
        out,
      ]);
      const opts: ParsePKCS12Options = { ...row.input.options };
      if (password !== '') opts.password = password;
      const input = dir.read(out);
      if (row.wantCode !== undefined) {
        await rejectsWith(parsePKCS12(input, opts), row.wantCode, (e) => {
          if (row.wantMessage !== undefined) assert.match(e.message, row.wantMessage);
        });
        return;
      }
      const want = row.want!;
      const p = await parsePKCS12(input, opts);
      assert.equal(p.macAlgorithm, want.mac);
      assert.deepEqual([...p.encryption], want.encryption);
      assert.equal(p.friendlyName, want.friendlyName);
      if (want.warning === undefined) assert.deepEqual(p.warnings, []);
      else
        assert.ok(
          p.warnings.some((w) => want.warning!.test(w)),
          p.warnings.join('; '),
        );
      if (want.key === false) {
        assert.equal(p.key, undefined);
        assert.equal(p.certificates.length, want.certs);
        assert.deepEqual(p.chain.map((c) => hex(c.der)).sort(), chainDER.map(hex).sort());
      } else assertIdentity(p, pki.leaf.key, chainDER);
    });
  }

  it('-nocerts with requireCertificate: false gives the key alone', async () => {
    dir.openssl([
      'pkcs12',
      '-export',
      '-inkey',
      'key.pem',
      '-nocerts',
      '-passout',
      `pass:${PW}`,
      '-out',
      'nocerts.pfx',
    ]);
    const p = await parsePKCS12(dir.read('nocerts.pfx'), { password: PW, requireCertificate: false });
    assert.ok(p.key?.publicKey.equals(pki.leaf.key.publicKey));
    assert.equal(p.certificates.length, 0);
    assert.equal(p.leaf, undefined);
  });
});

describe('passwords', () => {
  it('a wrong password is ERR_PKCS12_PASSWORD from the MAC, never a decryption error', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 1,
    });
    await rejectsWith(parsePKCS12(pfx, { password: 'wrong' }), 'ERR_PKCS12_PASSWORD', (e) => {
      assert.equal(e.details.reason, 'mac');
      assert.match(e.message, /password is wrong/);
    });
    await rejectsWith(parsePKCS12(pfx), 'ERR_PKCS12_PASSWORD', (e) =>
      assert.match(e.message, /pass \{ password \}/),
    );
    await rejectsWith(parsePKCS12(pfx, { password: '' }), 'ERR_PKCS12_PASSWORD', (e) =>
      assert.match(e.message, /empty password/),
    );
  });

  it('without a MAC, a wrong password is found by decryption (AES and 3DES)', async () => {
    for (const encryption of ['aes-256-cbc', 'pbe-sha1-3des'] as const) {
      const pfx = await buildPFX(
        [
          { kind: 'encrypted', bags: [certBag(pki.leaf.certDER)], password: PW, encryption },
          { kind: 'data', bags: [await shroudedKeyBag(pkcs8, PW, { encryption })] },
        ],
        { kind: 'none' },
      );
      assertIdentity(await parsePKCS12(pfx, { password: PW }), pki.leaf.key, [pki.leaf.certDER]);
      await rejectsWith(parsePKCS12(pfx, { password: 'wrong' }), 'ERR_PKCS12_PASSWORD', (e) =>
        assert.equal(e.details.reason, 'decrypt'),
      );
    }
  });

  it('the empty password as empty bytes (Windows, "no password") opens like the BMPString NUL form, as in openssl', async () => {
    for (const [name, mac] of [
      ['BMPString NUL', bmp('')],
      ['empty bytes', new Uint8Array(0)],
    ] as const) {
      const pfx = await buildPFX(
        [{ kind: 'data', bags: [certBag(pki.leaf.certDER), await shroudedKeyBag(pkcs8, '')] }],
        { kind: 'pkcs12', password: mac, iterations: 2048 },
      );
      for (const password of [undefined, '']) {
        const p = await parsePKCS12(pfx, password === undefined ? {} : { password });
        assertIdentity(p, pki.leaf.key, [pki.leaf.certDER]);
      }
      const file = dir.write(`empty-${mac.length}.pfx`, pfx);
      assert.ok(opensslStatus(['pkcs12', '-in', file, '-passin', 'pass:', '-info', '-noout']).ok, name);
    }
  });

  it("OpenSSL 1.0's non-ASCII encoding (each UTF-8 byte as a character) opens with the real password, as in openssl", async () => {
    const real = 'pässwörd';
    const broken = String.fromCharCode(...new TextEncoder().encode(real));
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: broken,
      encryption: 'pbe-sha1-3des',
      iterations: 100,
    });
    assertIdentity(await parsePKCS12(pfx, { password: real }), pki.leaf.key, [pki.leaf.certDER]);
    const file = dir.write('broken.pfx', pfx);
    const r = opensslStatus(['pkcs12', '-in', file, '-passin', `pass:${real}`, '-nodes']);
    assert.ok(r.ok, r.stderr);
    assert.match(r.stderr, /broken/i);
  });

  it('a file whose MAC and encryption passwords differ (-twopass) says so', async () => {
    const pfx = await buildPFX(
      [{ kind: 'encrypted', bags: [certBag(pki.leaf.certDER)], password: 'encryption-pw' }],
      { kind: 'pkcs12', password: bmp('mac-pw') },
    );
    await rejectsWith(parsePKCS12(pfx, { password: 'mac-pw' }), 'ERR_PKCS12_PASSWORD', (e) => {
      assert.equal(e.details.reason, 'decrypt');
      assert.match(e.message, /-twopass/);
    });
  });

  it('password must be a string', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 1,
    });
    await assert.rejects(parsePKCS12(pfx, { password: 1 as unknown as string }), TypeError);
    await assert.rejects(parsePKCS12('pfx' as unknown as Uint8Array), TypeError);
    await assert.rejects(parsePKCS12(pfx, null as unknown as ParsePKCS12Options), TypeError);
  });
});

describe('RFC 9579 PBMAC1 (MacData computed with node:crypto)', () => {
  const rows: Array<{
    name: string;
    input: {
      keyLength: number | undefined;
      password?: string;
      prf?: 'sha256' | 'sha512';
      mac?: 'sha256' | 'sha512';
    };
    want?: string;
    wantCode?: PKCS12ErrorCode;
  }> = [
    {
      name: 'key length 32, SHA-256',
      input: { keyLength: 32 },
      want: 'PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA256)',
    },
    {
      name: 'key length 20 (the minimum)',
      input: { keyLength: 20 },
      want: 'PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA256)',
    },
    {
      name: 'key length 64, SHA-512',
      input: { keyLength: 64, prf: 'sha512', mac: 'sha512' },
      want: 'PBMAC1 (hmacWithSHA512, PBKDF2 hmacWithSHA512)',
    },
    {
      name: 'empty password',
      input: { keyLength: 32, password: '' },
      want: 'PBMAC1 (hmacWithSHA256, PBKDF2 hmacWithSHA256)',
    },
    {
      name: 'key length 19: forgeable, refused',
      input: { keyLength: 19 },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
    },
    { name: 'key length 1: refused', input: { keyLength: 1 }, wantCode: 'ERR_PKCS12_UNSUPPORTED' },
    { name: 'key length 65: invalid', input: { keyLength: 65 }, wantCode: 'ERR_PKCS12_INVALID' },
    { name: 'no key length: invalid', input: { keyLength: undefined }, wantCode: 'ERR_PKCS12_INVALID' },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const password = row.input.password ?? PW;
      const pfx = await buildPFX(
        [{ kind: 'data', bags: [certBag(pki.leaf.certDER), await shroudedKeyBag(pkcs8, password)] }],
        { kind: 'pbmac1', password, ...row.input },
      );
      const opts = password === '' ? {} : { password };
      if (row.wantCode !== undefined) {
        await rejectsWith(parsePKCS12(pfx, opts), row.wantCode);
        return;
      }
      const p = await parsePKCS12(pfx, opts);
      assert.equal(p.macAlgorithm, row.want);
      assertIdentity(p, pki.leaf.key, [pki.leaf.certDER]);
      await rejectsWith(parsePKCS12(pfx, { password: 'wrong' }), 'ERR_PKCS12_PASSWORD');
    });
});

describe('leaf, chain and attributes', () => {
  const leafId = Uint8Array.of(1, 2, 3, 4);

  it('no attributes: the leaf is found by public key and the chain ordered leaf to root', async () => {
    const pfx = await buildPFX(
      [
        {
          kind: 'data',
          bags: [
            certBag(pki.root.certDER),
            certBag(pki.leaf.certDER),
            certBag(pki.intermediate.certDER),
            keyBag(pkcs8),
          ],
        },
      ],
      { kind: 'pkcs12', password: bmp(PW) },
    );
    const p = await parsePKCS12(pfx, { password: PW });
    assertIdentity(p, pki.leaf.key, chainDER);
    assert.deepEqual(
      p.certificates.map((c) => hex(c.der)),
      [pki.root.certDER, pki.leaf.certDER, pki.intermediate.certDER].map(hex),
    );
  });

  it('friendlyName comes from the key bag, else from the leaf', async () => {
    for (const [keyName, leafName, want] of [
      ['key name', 'leaf name', 'key name'],
      [undefined, 'leaf name', 'leaf name'],
      [undefined, undefined, undefined],
    ] as const) {
      const pfx = await buildPFX(
        [
          {
            kind: 'data',
            bags: [
              certBag(
                pki.leaf.certDER,
                attributes({ localKeyId: leafId, ...(leafName ? { friendlyName: leafName } : {}) }),
              ),
              keyBag(
                pkcs8,
                attributes({ localKeyId: leafId, ...(keyName ? { friendlyName: keyName } : {}) }),
              ),
            ],
          },
        ],
        { kind: 'pkcs12', password: bmp(PW) },
      );
      assert.equal((await parsePKCS12(pfx, { password: PW })).friendlyName, want);
    }
  });

  it('a localKeyId that pairs the key with the wrong certificate is overridden by the public key, with a warning', async () => {
    const pfx = await buildPFX(
      [
        {
          kind: 'data',
          bags: [
            certBag(pki.intermediate.certDER, attributes({ localKeyId: leafId })),
            certBag(pki.leaf.certDER),
            keyBag(pkcs8, attributes({ localKeyId: leafId })),
          ],
        },
      ],
      { kind: 'pkcs12', password: bmp(PW) },
    );
    const p = await parsePKCS12(pfx, { password: PW });
    assert.equal(hex(p.leaf!.der), hex(pki.leaf.certDER));
    assert.ok(p.warnings.some((w) => /localKeyId does not hold the key's public key/.test(w)));
  });

  it('a key without its certificate: no leaf, a warning; requireKey makes it ERR_PKCS12_NO_CERT', async () => {
    const pfx = await buildPFX(
      [{ kind: 'data', bags: [certBag(pki.intermediate.certDER), certBag(pki.root.certDER), keyBag(pkcs8)] }],
      { kind: 'pkcs12', password: bmp(PW) },
    );
    const p = await parsePKCS12(pfx, { password: PW });
    assert.equal(p.leaf, undefined);
    assert.equal(p.chain.length, 2);
    assert.ok(p.warnings.some((w) => /None of the certificates/.test(w)));
    await rejectsWith(parsePKCS12(pfx, { password: PW, requireKey: true }), 'ERR_PKCS12_NO_CERT', (e) =>
      assert.match(e.message, /None of the 2 certificates/),
    );
  });

  it('two keys: the first is used, with a warning; nested safeContentsBag, crlBag and unknown bags', async () => {
    const other = await generateKeyPair({ type: 'ec' });
    const otherPKCS8 = other.exportPKCS8();
    const pfx = await buildPFX(
      [
        {
          kind: 'data',
          bags: [
            nestedBag([certBag(pki.leaf.certDER), nestedBag([keyBag(pkcs8)])]),
            keyBag(otherPKCS8),
            rawBag(
              OID.crlBag,
              encodeSequence(
                encodeOID('1.2.840.113549.1.9.23.1'),
                encodeExplicit(0, encodeOctetString(Uint8Array.of(1))),
              ),
            ),
            rawBag('1.2.3.4.5', encodeInteger(7)),
          ],
        },
      ],
      { kind: 'pkcs12', password: bmp(PW) },
    );
    const p = await parsePKCS12(pfx, { password: PW });
    assertIdentity(p, pki.leaf.key, [pki.leaf.certDER]);
    assert.ok(p.warnings.some((w) => /2 private keys; the first was used/.test(w)));
    assert.ok(p.warnings.some((w) => /crlBag is not used/.test(w)));
    assert.ok(p.warnings.some((w) => /unknown type 1\.2\.3\.4\.5/.test(w)));
  });
});

describe('malformed and unsupported input', () => {
  let good: Uint8Array;
  before(async () => {
    good = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 1,
    });
  });

  const cases: Array<{
    name: string;
    input: () => Promise<Uint8Array> | Uint8Array;
    wantCode: PKCS12ErrorCode;
    wantPath?: RegExp;
    wantMessage?: RegExp;
  }> = [
    {
      name: 'empty input',
      input: () => new Uint8Array(0),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX$/,
    },
    {
      name: 'random bytes',
      input: () => Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff),
      wantCode: 'ERR_PKCS12_INVALID',
    },
    {
      name: 'PEM text',
      input: () => new TextEncoder().encode(pki.leaf.certPEM),
      wantCode: 'ERR_PKCS12_INVALID',
      wantMessage: /PEM text/,
    },
    {
      name: 'base64 of a .pfx',
      input: () => new TextEncoder().encode(Buffer.from(good).toString('base64')),
      wantCode: 'ERR_PKCS12_INVALID',
      wantMessage: /base64/,
    },
    {
      name: 'truncated',
      input: () => good.subarray(0, good.length - 20),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX$/,
    },
    {
      name: 'trailing bytes',
      input: () => Uint8Array.from([...good, 0, 0, 1]),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX$/,
    },
    {
      name: 'version 2',
      input: async () => await wrapPFX(encodeSequence(), { kind: 'none' }, 2),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX\.version$/,
    },
    {
      name: 'a certBag with a broken certificate',
      input: () =>
        buildPFX([{ kind: 'data', bags: [certBag(Uint8Array.of(0x30, 3, 2, 1, 0))] }], {
          kind: 'pkcs12',
          password: bmp(PW),
        }),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^AuthenticatedSafe\[0\]\(data\)\.bag\[0\]\(certBag\)$/,
    },
    {
      name: 'a keyBag that is not PKCS#8',
      input: () =>
        buildPFX(
          [{ kind: 'data', bags: [certBag(pki.leaf.certDER), keyBag(encodeSequence(encodeInteger(5)))] }],
          { kind: 'pkcs12', password: bmp(PW) },
        ),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /bag\[1\]\(keyBag\)$/,
    },
    {
      name: 'a SafeBag without its [0] value',
      input: () =>
        buildPFX([{ kind: 'data', bags: [encodeSequence(encodeOID(OID.certBag))] }], {
          kind: 'pkcs12',
          password: bmp(PW),
        }),
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^AuthenticatedSafe\[0\]\(data\)\.bag\[0\]$/,
    },
    {
      name: 'a MAC iteration count of 0',
      input: async () => {
        const authSafe = encodeSequence();
        const mac = encodeSequence(
          encodeSequence(
            encodeSequence(encodeOID('2.16.840.1.101.3.4.2.1')),
            encodeOctetString(new Uint8Array(32)),
          ),
          encodeOctetString(new Uint8Array(8)),
          encodeInteger(0),
        );
        const pfx = await wrapPFX(authSafe, { kind: 'none' });
        return Uint8Array.from([...pfx.subarray(0, 1), ...reLength(pfx, mac)]);
      },
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX\.macData$/,
    },
    {
      name: 'an unsupported MAC digest (MD5)',
      input: async () => {
        const mac = encodeSequence(
          encodeSequence(
            encodeSequence(encodeOID('1.2.840.113549.2.5')),
            encodeOctetString(new Uint8Array(16)),
          ),
          encodeOctetString(new Uint8Array(8)),
          encodeInteger(1),
        );
        const pfx = await wrapPFX(encodeSequence(), { kind: 'none' });
        return Uint8Array.from([...pfx.subarray(0, 1), ...reLength(pfx, mac)]);
      },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /digest md5/,
    },
    {
      name: 'public-key privacy mode (envelopedData)',
      input: () =>
        buildPFX(
          [
            {
              kind: 'raw',
              contentInfo: encodeSequence(
                encodeOID(OID.envelopedData),
                encodeExplicit(0, encodeSequence(encodeInteger(0))),
              ),
            },
          ],
          { kind: 'pkcs12', password: bmp(PW) },
        ),
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /public-key privacy mode/,
    },
    {
      name: 'public-key integrity mode (signedData)',
      input: () =>
        encodeSequence(
          encodeInteger(3),
          encodeSequence(encodeOID(OID.signedData), encodeExplicit(0, encodeSequence(encodeInteger(1)))),
        ),
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /public-key integrity mode/,
    },
    {
      name: 'an unsupported key type (X25519)',
      input: () => {
        const x = opensslStatus(['genpkey', '-algorithm', 'X25519', '-outform', 'DER']);
        assert.ok(x.ok);
        return buildPFX(
          [{ kind: 'data', bags: [certBag(pki.leaf.certDER), keyBag(new Uint8Array(x.stdout))] }],
          { kind: 'pkcs12', password: bmp(PW) },
        );
      },
      wantCode: 'ERR_PKCS12_UNSUPPORTED',
      wantMessage: /private key in the file cannot be used/,
    },
    {
      name: 'safeContentsBag nested too deep',
      input: () =>
        buildPFX(
          [
            {
              kind: 'data',
              bags: [nestedBag([nestedBag([nestedBag([nestedBag([certBag(pki.leaf.certDER)])])])])],
            },
          ],
          { kind: 'pkcs12', password: bmp(PW) },
        ),
      wantCode: 'ERR_PKCS12_INVALID',
      wantMessage: /nested more than 4 deep/,
    },
    {
      name: 'BER indefinite length without end-of-contents',
      input: () => {
        const ber = toBER(good);
        return ber.subarray(0, ber.length - 2);
      },
      wantCode: 'ERR_PKCS12_INVALID',
      wantPath: /^PFX$/,
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      await rejectsWith(parsePKCS12(await c.input(), { password: PW }), c.wantCode, (e) => {
        if (c.wantPath !== undefined) assert.match(String(e.details.path), c.wantPath);
        if (c.wantMessage !== undefined) assert.match(e.message, c.wantMessage);
        if (e.code === 'ERR_PKCS12_INVALID' && c.wantPath !== undefined)
          assert.match(e.message, /malformed at/);
      });
    });

  it('BER (indefinite lengths, chunked OCTET STRINGs) as NSS and Java write it, in every layer; openssl agrees', async () => {
    // outer layer only: the MAC over the AuthenticatedSafe octets stays valid
    const outer = toBER(good, 5);
    assert.notEqual(outer.length, good.length);
    assertIdentity(await parsePKCS12(outer, { password: PW }), pki.leaf.key, [pki.leaf.certDER]);
    const file = dir.write('ber.pfx', outer);
    assert.ok(opensslStatus(['pkcs12', '-in', file, '-passin', `pass:${PW}`, '-info', '-noout']).ok);
    // every layer: BER SafeContents, BER AuthenticatedSafe (MAC recomputed over it), BER PFX
    const safe = toBER(encodeSequence(certBag(pki.leaf.certDER), keyBag(pkcs8)), 3);
    const info = encodeSequence(encodeOID(OID.data), encodeExplicit(0, encodeOctetString(safe)));
    const authSafe = toBER(encodeSequence(info), 11, () => false);
    const all = toBER(await wrapPFX(authSafe, { kind: 'pkcs12', password: bmp(PW) }), 13);
    assertIdentity(await parsePKCS12(all, { password: PW }), pki.leaf.key, [pki.leaf.certDER]);
    const file2 = dir.write('ber2.pfx', all);
    assert.ok(opensslStatus(['pkcs12', '-in', file2, '-passin', `pass:${PW}`, '-info', '-noout']).ok);
  });
});

/** Replaces the last element (macData) of a PFX SEQUENCE with `mac`, returning length + content. */
function reLength(pfx: Uint8Array, mac: Uint8Array): Uint8Array {
  const r = DerReader.of(parseDer(pfx));
  const version = r.next();
  const authSafe = r.next();
  const body = Uint8Array.from([
    ...pfx.subarray(version.start, version.end),
    ...pfx.subarray(authSafe.start, authSafe.end),
    ...mac,
  ]);
  return encodeSequence(body).subarray(1);
}

describe('limits', () => {
  it('maxBytes: over the limit is ERR_PKCS12_INVALID before any parsing; at the limit it opens', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 1,
    });
    await rejectsWith(
      parsePKCS12(pfx, { password: PW, maxBytes: pfx.length - 1 }),
      'ERR_PKCS12_INVALID',
      (e) => {
        assert.equal(e.details.size, pfx.length);
        assert.match(e.message, /pass \{ maxBytes \}/);
      },
    );
    assert.ok((await parsePKCS12(pfx, { password: PW, maxBytes: pfx.length })).key);
    await assert.rejects(parsePKCS12(pfx, { maxBytes: 0 }), RangeError);
    await assert.rejects(parsePKCS12(pfx, { maxIterations: 1.5 }), RangeError);
    await assert.rejects(parsePKCS12(pfx, { maxBags: -1 }), RangeError);
  });

  it('maxIterations: a count over the limit is ERR_PKCS12_UNSUPPORTED naming the option; raising it opens the file', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 5000,
    });
    const elapsed = cpuStopwatch(); // CPU time: a busy machine cannot make it fail
    await rejectsWith(
      parsePKCS12(pfx, { password: PW, maxIterations: 4999 }),
      'ERR_PKCS12_UNSUPPORTED',
      (e) => {
        assert.equal(e.details.iterations, 5000);
        assert.match(e.message, /pass \{ maxIterations: 5000 \}/);
      },
    );
    assert.ok(elapsed() < 1000);
    assert.ok((await parsePKCS12(pfx, { password: PW, maxIterations: 5000 })).key);
  });

  it('an absurd iteration count (2^40) fails at once', async () => {
    const pfx = await buildPFX([{ kind: 'data', bags: [certBag(pki.leaf.certDER)] }], {
      kind: 'pkcs12',
      password: bmp(PW),
      iterations: 1,
    });
    const mac = encodeSequence(
      encodeSequence(
        encodeSequence(encodeOID('2.16.840.1.101.3.4.2.1')),
        encodeOctetString(new Uint8Array(32)),
      ),
      encodeOctetString(new Uint8Array(8)),
      encodeInteger(2n ** 40n),
    );
    const elapsed = cpuStopwatch();
    await rejectsWith(
      parsePKCS12(Uint8Array.from([0x30, ...reLength(pfx, mac)]), { password: PW }),
      'ERR_PKCS12_UNSUPPORTED',
    );
    assert.ok(elapsed() < 500);
  });

  it('the whole file may use at most eight times maxIterations', async () => {
    const parts: Part[] = [];
    for (let i = 0; i < 9; i++)
      parts.push({ kind: 'encrypted', bags: [certBag(pki.leaf.certDER)], password: PW, iterations: 1000 });
    const pfx = await buildPFX(parts, { kind: 'pkcs12', password: bmp(PW), iterations: 1000 });
    await rejectsWith(
      parsePKCS12(pfx, { password: PW, maxIterations: 1000 }),
      'ERR_PKCS12_UNSUPPORTED',
      (e) => {
        assert.match(e.message, /in total/);
        assert.match(e.message, /, 8 times the per-derivation limit/);
      },
    );
    const p = await parsePKCS12(pfx, { password: PW, maxIterations: 2000 });
    assert.equal(p.certificates.length, 9);
  });

  it('maxBags', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER, pki.intermediate.certDER, pki.root.certDER],
      password: PW,
      iterations: 1,
    });
    await rejectsWith(parsePKCS12(pfx, { password: PW, maxBags: 3 }), 'ERR_PKCS12_INVALID', (e) =>
      assert.match(e.message, /more than 3 bags/),
    );
    assert.ok((await parsePKCS12(pfx, { password: PW, maxBags: 4 })).key);
  });
});

describe('secrecy', () => {
  it('results and errors never show private-key bytes', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      iterations: 1,
    });
    const p = await parsePKCS12(pfx, { password: PW });
    const secret = valueBytes(DerReader.of(parseDer(pkcs8)).rest()[2]!);
    for (const text of [JSON.stringify(p), inspect(p, { depth: 10 }), String(p.key)])
      assertNoKeyBytes(text, secret, 'PKCS12Contents');
    const failures: Array<() => Promise<unknown>> = [
      () => parsePKCS12(pfx, { password: 'wrong' }),
      async () =>
        parsePKCS12(
          await buildPFX([{ kind: 'encrypted', bags: [keyBag(pkcs8)], password: 'a' }], {
            kind: 'pkcs12',
            password: bmp('b'),
          }),
          { password: 'b' },
        ),
      async () =>
        parsePKCS12(
          await buildPFX(
            [{ kind: 'data', bags: [keyBag(Uint8Array.from([...pkcs8.subarray(0, 40), 0x00]))] }],
            {
              kind: 'pkcs12',
              password: bmp(PW),
            },
          ),
          { password: PW },
        ),
      async () =>
        parsePKCS12(
          await buildPFX([{ kind: 'data', bags: [keyBag(pkcs8)] }], { kind: 'pkcs12', password: bmp(PW) }),
          {
            password: PW,
          },
        ),
      async () =>
        parsePKCS12(
          await buildPFX([{ kind: 'data', bags: [certBag(pki.intermediate.certDER), keyBag(pkcs8)] }], {
            kind: 'pkcs12',
            password: bmp(PW),
          }),
          { password: PW, requireKey: true },
        ),
    ];
    for (const f of failures) {
      const e = await f().then(
        () => assert.fail('expected a failure'),
        (x: unknown) => x,
      );
      assert.ok(e instanceof PKCS12Error, String(e));
      for (const text of [e.message, JSON.stringify(e), inspect(e, { depth: 10 })])
        assertNoKeyBytes(text, secret, `error ${e.code}`);
    }
  });
});

describe('input buffers', () => {
  it('a Node Buffer input is neither wiped nor shared with the key (Buffer#slice is a view)', async () => {
    dir.openssl([
      'pkcs12',
      '-export',
      '-inkey',
      'key.pem',
      '-in',
      'cert.pem',
      '-keypbe',
      'NONE',
      '-certpbe',
      'NONE',
      '-passout',
      `pass:${PW}`,
      '-out',
      'plain.pfx',
    ]);
    const buf = dir.read('plain.pfx');
    const before = Buffer.from(buf);
    const p = await parsePKCS12(buf, { password: PW });
    assert.ok(buf.equals(before), 'input unchanged');
    buf.fill(0);
    assert.equal(keyMaterial(p.key!.exportPKCS8()), keyMaterial(pkcs8));
    assert.equal(hex(p.leaf!.der), hex(pki.leaf.certDER));
  });
});

describe('performance and the event loop', () => {
  it('a slow PKCS#12 key derivation (3DES, 200,000 iterations) leaves the event loop running', async () => {
    const pfx = await createPKCS12({
      key: pki.leaf.key,
      certificates: [pki.leaf.certDER],
      password: PW,
      encryption: 'pbe-sha1-3des',
      iterations: 200_000,
    });
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const t = performance.now();
    try {
      assertIdentity(await parsePKCS12(pfx, { password: PW }), pki.leaf.key, [pki.leaf.certDER]);
    } finally {
      clearInterval(timer);
    }
    const total = performance.now() - t;
    assert.ok(ticks >= 5, `${ticks} timer ticks in ${total.toFixed(0)} ms`);
    assert.ok(maxGap < total / 2, `longest stall ${maxGap.toFixed(0)} ms of ${total.toFixed(0)} ms`);
  });
});

describe('PKCS#12 KDF', () => {
  it('the allocation-free iterated SHA-1/SHA-256 equal repeated hashing', () => {
    for (const rounds of [0, 1, 2, 3, 100, 1000]) {
      let a = nobleSHA1(Uint8Array.of(rounds));
      const b = a.slice();
      for (let i = 0; i < rounds; i++) a = nobleSHA1(a);
      iterateSHA1(b, rounds);
      assert.equal(hex(b), hex(a));
      let c = nobleSHA256(Uint8Array.of(rounds));
      const d = c.slice();
      for (let i = 0; i < rounds; i++) c = nobleSHA256(c);
      iterateSHA256(d, rounds);
      assert.equal(hex(d), hex(c));
    }
  });

  const kdfRows: Array<{
    name: string;
    input: { hash: PKCS12Hash; digest: string; iter: number; id: number; len: number };
  }> = [
    {
      name: 'SHA-1 key (the 3DES case)',
      input: { hash: 'SHA-1', digest: 'SHA1', iter: 2048, id: 1, len: 24 },
    },
    { name: 'SHA-1 IV', input: { hash: 'SHA-1', digest: 'SHA1', iter: 1000, id: 2, len: 8 } },
    { name: 'SHA-224 MAC key', input: { hash: 'SHA-224', digest: 'SHA2-224', iter: 3, id: 3, len: 28 } },
    {
      name: 'SHA-256 MAC key, 3 blocks',
      input: { hash: 'SHA-256', digest: 'SHA2-256', iter: 500, id: 3, len: 70 },
    },
    { name: 'SHA-384', input: { hash: 'SHA-384', digest: 'SHA2-384', iter: 7, id: 3, len: 48 } },
    { name: 'SHA-512', input: { hash: 'SHA-512', digest: 'SHA2-512', iter: 7, id: 1, len: 100 } },
    { name: 'SHA-512/224', input: { hash: 'SHA-512/224', digest: 'SHA2-512/224', iter: 2, id: 3, len: 28 } },
    { name: 'SHA-512/256', input: { hash: 'SHA-512/256', digest: 'SHA2-512/256', iter: 2, id: 3, len: 32 } },
    { name: 'BLAKE2b-512', input: { hash: 'BLAKE2b-512', digest: 'BLAKE2B-512', iter: 5, id: 3, len: 64 } },
  ];
  for (const row of kdfRows)
    it(`equals openssl kdf PKCS12KDF: ${row.name} (sync and async)`, async () => {
      const { hash, digest, iter, id, len } = row.input;
      const password = bmp('smeg-Ü');
      const salt = Uint8Array.from([0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f, 9, 8, 7]);
      const o = opensslStatus([
        'kdf',
        '-keylen',
        String(len),
        '-kdfopt',
        `digest:${digest}`,
        '-kdfopt',
        `hexpass:${hex(password)}`,
        '-kdfopt',
        `hexsalt:${hex(salt)}`,
        '-kdfopt',
        `iter:${iter}`,
        '-kdfopt',
        `id:${id}`,
        'PKCS12KDF',
      ]);
      assert.ok(o.ok, o.stderr);
      const want = o.stdout.toString().trim().replace(/:/g, '').toLowerCase();
      assert.equal(hex(pkcs12KDF(hash, password, salt, iter, id, len)), want);
      assert.equal(hex(await pkcs12KDFAsync(hash, password, salt, iter, id, len, 97)), want);
    });
});
