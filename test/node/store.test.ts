/**
 * CertificateStore against real files in scratch directories: layout and modes (checked with stat), the
 * validations that refuse an install without writing a byte (the whole tree hashed before and after),
 * chains checked with `openssl verify`, keys with `openssl pkey`, PKCS#12 made by `openssl pkcs12 -export`,
 * versions and rollback, hand-placed files, locking and concurrent installs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import { inspect } from 'node:util';
import { ChainError, HostnameError, KeyError, type MailTlsError, StoreError } from '../../src/errors.js';
import { keyMatchesCertificate } from '../../src/keys/key-match.js';
import { generateKeyPair } from '../../src/keys/keys.js';
import { encodePrivateKeyPEM } from '../../src/keys/private-key.js';
import { storeName } from '../../src/node/store/layout.js';
import { acquireLock } from '../../src/node/store/lock.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createCSR } from '../../src/x509/csr.js';
import { createCertificateAuthority, issueCertificate } from '../../src/x509/issue.js';
import { conformanceDir } from '../helpers/paths.js';
import { AT, issueLeaf, modeOf, scratch, type TestCA, testCA, treeHash } from './helpers/store-fixtures.js';

function openssl(
  args: readonly string[],
  input?: string | Uint8Array,
): { ok: boolean; out: string; err: string } {
  const r = spawnSync('openssl', args, input === undefined ? {} : { input });
  return { ok: r.status === 0, out: r.stdout.toString(), err: r.stderr.toString() };
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const DOMAIN = 'example.com';
const NAMES = ['example.com', 'mail.example.com', 'smtp.example.com', 'imap.example.com'];

let ca: TestCA;
const dirs: { cleanup(): void }[] = [];
function newStore(options: ConstructorParameters<typeof CertificateStore>[1] = {}): CertificateStore {
  const d = scratch();
  dirs.push(d);
  return new CertificateStore(join(d.path, 'tls'), { at: AT, ...options });
}

before(async () => {
  ca = await testCA();
});
after(() => {
  for (const d of dirs) d.cleanup();
});

describe('CertificateStore: CSR, install, load', () => {
  it('createCSR stores the CSR (0644) and the key (0600 in a 0700 directory; history/ 0755); openssl verifies the CSR', async () => {
    const store = newStore();
    const r = await store.createCSR({ subject: { commonName: 'Example.COM' }, hostnames: NAMES.slice(1) });
    assert.equal(r.domain, DOMAIN);
    const p = store.paths(DOMAIN);
    assert.equal(r.files.csr, p.csr);
    assert.equal(modeOf(p.csr), 0o644);
    assert.equal(modeOf(p.pendingKey), 0o600);
    assert.equal(modeOf(join(store.root, 'private')), 0o700);
    assert.equal(modeOf(join(store.root, 'private', 'pending')), 0o700);
    assert.equal(modeOf(join(store.root, 'history')), 0o755);
    const v = openssl(['req', '-in', p.csr, '-noout', '-verify', '-text']);
    assert.ok(v.ok, v.err);
    assert.match(
      v.out,
      /DNS:example\.com, DNS:mail\.example\.com, DNS:smtp\.example\.com, DNS:imap\.example\.com/,
    );
    // the stored key is the CSR's key: openssl derives the same public key from both
    const fromKey = openssl(['pkey', '-in', p.pendingKey, '-pubout']).out;
    const fromCSR = openssl(['req', '-in', p.csr, '-noout', '-pubkey']).out;
    assert.equal(fromKey, fromCSR);
    // a second CSR while the first waits is refused, unless replace
    await assert.rejects(store.createCSR({ subject: { commonName: DOMAIN } }), { code: 'ERR_STORE_EXISTS' });
    const again = await store.createCSR({ subject: { commonName: DOMAIN }, replace: true });
    assert.notEqual(again.key.publicKey.fingerprint().sha256Hex, r.key.publicKey.fingerprint().sha256Hex);
  });

  it('createCSR names the file it could not write', async () => {
    const rows = [
      { name: 'pending key', input: (p: ReturnType<CertificateStore['paths']>) => p.pendingKey },
      { name: 'CSR', input: (p: ReturnType<CertificateStore['paths']>) => p.csr },
    ];
    for (const row of rows) {
      const store = newStore();
      const blocked = row.input(store.paths(DOMAIN));
      mkdirSync(join(blocked, 'in-the-way'), { recursive: true }); // a non-empty directory: rename fails
      await assert.rejects(
        store.createCSR({ subject: { commonName: DOMAIN }, replace: true }),
        (e: unknown) => {
          assert.ok(e instanceof StoreError, row.name);
          assert.equal(e.code, 'ERR_STORE_IO', row.name);
          assert.equal(e.details.path, blocked, row.name);
          assert.ok(e.message.includes(blocked), row.name);
          return true;
        },
      );
    }
  });

  it('installs the certificate for the pending key: layout, modes, served chain (root left out), openssl verify', async () => {
    const store = newStore({ trust: [ca.rootPEM] });
    const csr = await store.createCSR({ subject: { commonName: DOMAIN }, hostnames: NAMES.slice(1) });
    const leaf = await issueLeaf(NAMES, { csrPEM: csr.csrPEM });
    const r = await store.install({ cert: leaf.certPEM, caBundle: ca.bundlePEM });
    assert.equal(r.domain, DOMAIN);
    assert.equal(r.keySource, 'pending');
    assert.equal(r.chainComplete, true);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.chain.length, 2, 'leaf + intermediate, root left out');
    const p = store.paths(DOMAIN);
    // links into the current version
    assert.ok(lstatSync(p.cert).isSymbolicLink());
    assert.equal(readlinkSync(p.cert), '../history/example.com/current/cert.crt');
    assert.equal(readlinkSync(p.key), '../history/example.com/current/private.key');
    assert.equal(readlinkSync(p.current), r.version);
    assert.match(r.version, /^v000001-\d{8}T\d{6}Z$/);
    assert.equal(modeOf(p.key), 0o600, 'key file 0600 (stat through the link)');
    assert.equal(modeOf(p.cert), 0o644);
    assert.equal(modeOf(join(store.root, 'private')), 0o700);
    assert.equal(modeOf(p.history), 0o755, 'history readable by everyone: servers follow certs/ through it');
    assert.equal(modeOf(join(p.history, r.version)), 0o755);
    assert.equal(existsSync(p.pendingKey), false, 'the pending key moved into the version');
    // the CA file as given, byte for byte
    assert.equal(sha256(readFileSync(p.caBundle)), sha256(ca.bundlePEM));
    // served chain: leaf then intermediate, and openssl accepts it with the root as the only trust anchor
    const served = readFileSync(p.cert, 'utf8');
    const blocks = served.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.equal(blocks.length, 2);
    const rootFile = join(store.root, '..', 'root.pem');
    writeFileSync(rootFile, ca.rootPEM);
    const untrusted = join(store.root, '..', 'untrusted.pem');
    writeFileSync(untrusted, served.slice(served.indexOf('-----END CERTIFICATE-----') + 26));
    const v = openssl([
      'verify',
      '-CAfile',
      rootFile,
      '-untrusted',
      untrusted,
      '-attime',
      String(AT.getTime() / 1000),
      p.cert,
    ]);
    assert.ok(v.ok, v.err + v.out);
    // key and certificate belong together according to openssl
    assert.equal(
      openssl(['pkey', '-in', p.key, '-pubout']).out,
      openssl(['x509', '-in', p.cert, '-noout', '-pubkey']).out,
    );
    // load
    const c = await store.load(DOMAIN);
    assert.equal(c.domain, DOMAIN);
    assert.equal(c.version, r.version);
    assert.equal(c.cert, served);
    assert.equal(c.leaf.fingerprint('sha256'), new X509Certificate(leaf.certPEM).fingerprint256);
    assert.equal(c.chain.length, 2);
    assert.equal(c.key, readFileSync(p.key, 'utf8'));
    createSecureContext({ key: c.key, cert: c.cert });
    assert.deepEqual(await store.list(), [DOMAIN]);
    assert.equal(await store.version(DOMAIN), r.version);
  });

  it('the key PEM never shows in JSON, toString, inspect or a spread of the credential', async () => {
    const store = newStore();
    const leaf = await issueLeaf(NAMES);
    await store.install({ cert: leaf.chainPEM, key: leaf.keyPEM });
    const c = await store.load(DOMAIN);
    const body = c.key.split('\n')[1]!;
    assert.ok(body.length > 20);
    for (const text of [
      JSON.stringify(c),
      String(c),
      inspect(c),
      inspect(c, { showHidden: true, depth: 5 }),
      JSON.stringify({ ...c }),
    ])
      assert.ok(!text.includes(body) && !text.includes('PRIVATE KEY'), text.slice(0, 200));
    assert.ok(JSON.stringify(c).includes(DOMAIN));
  });

  it('takes the domain from the certificate, canonical, and files wildcards as _wildcard.<domain>', async () => {
    const store = newStore();
    const w = await issueLeaf(['*.example.org', 'example.org']);
    const r = await store.install({ cert: w.certPEM, key: w.keyPEM, caBundle: ca.intermediatePEM });
    assert.equal(r.domain, '*.example.org');
    assert.ok(existsSync(join(store.root, 'certs', '_wildcard.example.org.crt')));
    assert.ok(existsSync(join(store.root, 'private', '_wildcard.example.org.key')));
    assert.deepEqual(await store.list(), ['*.example.org']);
    const c = await store.load('*.EXAMPLE.org');
    assert.equal(c.domain, '*.example.org');
    // a U-label domain is stored under its A-label
    const idn = await issueLeaf(['xn--bcher-kva.example']);
    const r2 = await store.install({ cert: idn.certPEM, key: idn.keyPEM, domain: 'Bücher.Example' });
    assert.equal(r2.domain, 'xn--bcher-kva.example');
    assert.ok(existsSync(join(store.root, 'certs', 'xn--bcher-kva.example.crt')));
  });

  it('validates domain names: no path traversal, no IP addresses, canonical A-labels', () => {
    const rows = [
      { name: 'parent directory', input: '../etc', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'slash', input: 'a/b.example', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'backslash', input: 'a\\b.example', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'dot dot label', input: 'a..example', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'NUL', input: 'a\0.example', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'IPv4', input: '192.0.2.1', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'IPv6', input: '2001:db8::1', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'space', input: 'exa mple.com', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'empty', input: '', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'partial wildcard', input: 'm*.example.com', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'wildcard on a TLD', input: '*.com', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
      { name: 'dot', input: '.', wantCode: 'ERR_STORE_INVALID_DOMAIN' },
    ];
    for (const row of rows) assert.throws(() => storeName(row.input), { code: row.wantCode }, row.name);
    const ok = [
      {
        name: 'upper case, trailing dot',
        input: 'Mail.Example.COM.',
        want: ['mail.example.com', 'mail.example.com'],
      },
      { name: 'U-label', input: 'bücher.example', want: ['xn--bcher-kva.example', 'xn--bcher-kva.example'] },
      { name: 'wildcard', input: '*.Example.com', want: ['*.example.com', '_wildcard.example.com'] },
      {
        name: 'wildcard file name',
        input: '_wildcard.example.com',
        want: ['*.example.com', '_wildcard.example.com'],
      },
    ];
    for (const row of ok) {
      const n = storeName(row.input);
      assert.deepEqual([n.domain, n.fileName], row.want, row.name);
    }
  });
});

describe('CertificateStore: refused installs write nothing', () => {
  // Each row leaves the whole tree (names, modes, link targets, contents) byte-for-byte unchanged.
  const rows: {
    name: string;
    input: () => Promise<Parameters<CertificateStore['install']>[0]>;
    wantCode: string;
    wantClass: new (...a: never[]) => MailTlsError;
    wantMessage?: RegExp;
  }[] = [
    {
      name: 'mismatched key',
      input: async () => ({ cert: (await issueLeaf(NAMES)).chainPEM, key: (await issueLeaf(NAMES)).keyPEM }),
      wantCode: 'ERR_KEY_MISMATCH',
      wantClass: KeyError,
      // neither store file exists yet: the message names what was given
      wantMessage: /^The key given \(key\) does not belong to the certificate given \(cert\)/,
    },
    {
      name: 'expired certificate',
      input: async () => {
        const l = await issueLeaf(NAMES, {
          notBefore: new Date('2026-01-01Z'),
          notAfter: new Date('2027-01-01Z'),
        });
        return { cert: l.chainPEM, key: l.keyPEM };
      },
      wantCode: 'ERR_CHAIN_EXPIRED',
      wantClass: ChainError,
      wantMessage: /expired on 2027-01-01T00:00:00\.000Z.*allowExpired/,
    },
    {
      name: 'not yet valid certificate',
      input: async () => {
        const l = await issueLeaf(NAMES, {
          notBefore: new Date('2028-01-01Z'),
          notAfter: new Date('2029-01-01Z'),
        });
        return { cert: l.chainPEM, key: l.keyPEM };
      },
      wantCode: 'ERR_CHAIN_NOT_YET_VALID',
      wantClass: ChainError,
    },
    {
      name: 'wrong-domain certificate',
      input: async () => {
        const l = await issueLeaf(['other.example', 'mail.other.example']);
        return { cert: l.chainPEM, key: l.keyPEM, domain: DOMAIN };
      },
      wantCode: 'ERR_HOSTNAME_MISMATCH',
      wantClass: HostnameError,
      wantMessage: /does not cover example\.com/,
    },
    {
      name: 'no key anywhere',
      input: async () => ({ cert: (await issueLeaf(['fresh.example'])).chainPEM }),
      wantCode: 'ERR_STORE_INSTALL',
      wantClass: StoreError,
      wantMessage: /No private key for fresh\.example/,
    },
    {
      name: 'encrypted key without pass phrase',
      input: async () => {
        const l = await issueLeaf(NAMES);
        return {
          cert: l.chainPEM,
          key: await encodePrivateKeyPEM(l.key, { passphrase: 'secret', iterations: 1000 }),
        };
      },
      wantCode: 'ERR_KEY_ENCRYPTED',
      wantClass: KeyError,
    },
    {
      name: 'incomplete chain with requireCompleteChain',
      input: async () => {
        const l = await issueLeaf(NAMES);
        return { cert: l.certPEM, key: l.keyPEM, requireCompleteChain: true };
      },
      wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
      wantClass: ChainError,
    },
  ];

  for (const row of rows) {
    it(`${row.name}: ${row.wantCode}, tree unchanged`, async () => {
      const store = newStore();
      // a store with a pair in service and a pending CSR
      const first = await issueLeaf(NAMES);
      await store.install({ cert: first.chainPEM, key: first.keyPEM, caBundle: ca.bundlePEM });
      await store.createCSR({ subject: { commonName: 'pending.example' } });
      const before = treeHash(store.root);
      const input = await row.input();
      await assert.rejects(store.install(input), (e: unknown) => {
        assert.ok(e instanceof row.wantClass, String(e));
        assert.equal((e as MailTlsError).code, row.wantCode);
        if (row.wantMessage !== undefined) assert.match((e as Error).message, row.wantMessage);
        assert.ok(!(e as Error).message.includes('PRIVATE KEY'));
        return true;
      });
      assert.equal(treeHash(store.root), before);
      // the pair in service is still the first one
      const c = await store.load(DOMAIN);
      assert.equal(c.leaf.fingerprint('sha256'), new X509Certificate(first.certPEM).fingerprint256);
    });
  }

  it('allowExpired installs an expired certificate with a warning', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES, {
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2027-01-01Z'),
    });
    const r = await store.install({ cert: l.chainPEM, key: l.keyPEM, allowExpired: true });
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['EXPIRED', 'CHAIN_INCOMPLETE'],
    );
    assert.equal((await store.load(DOMAIN)).leaf.notAfter.toISOString(), '2027-01-01T00:00:00.000Z');
  });

  it('an expired chain is refused; allowExpired installs it with a warning for the leaf, the intermediate and the root', async () => {
    const short = await createCertificateAuthority({
      name: 'Short-lived Root',
      intermediate: true,
      keyType: 'ec',
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2026-06-01Z'),
    });
    const csr = await createCSR({ subject: { commonName: DOMAIN }, keyType: 'ec' });
    const leaf = await issueCertificate(csr.csrPEM, short.issuer, {
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2026-05-01Z'),
    });
    const store = newStore({ at: new Date('2026-07-01Z'), trust: [short.root.certPEM] });
    const bundle = short.intermediate!.certPEM + short.root.certPEM;
    await assert.rejects(store.install({ cert: leaf.certPEM, key: csr.keyPEM, caBundle: bundle }), {
      code: 'ERR_CHAIN_EXPIRED',
    });
    const r = await store.install({
      cert: leaf.certPEM,
      key: csr.keyPEM,
      caBundle: bundle,
      allowExpired: true,
    });
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['EXPIRED', 'CHAIN_EXPIRED', 'CHAIN_EXPIRED'],
      'leaf, intermediate and root',
    );
    assert.deepEqual(
      r.chainProblems.map((p) => p.code),
      ['expired', 'expired', 'expired', 'root-included'],
    );
  });

  it('the store clock decides: the same certificate installs at a time inside its validity', async () => {
    const l = await issueLeaf(NAMES, {
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2027-01-01Z'),
    });
    const store = newStore({ at: () => new Date('2026-06-01Z') });
    await store.install({ cert: l.chainPEM, key: l.keyPEM });
    await assert.rejects(store.install({ cert: l.chainPEM, key: l.keyPEM, at: new Date('2027-02-01Z') }), {
      code: 'ERR_CHAIN_EXPIRED',
    });
  });
});

describe('CertificateStore: inputs', () => {
  it('an incomplete chain is a warning naming the missing issuer; trust roots complete a chain', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES);
    const r = await store.install({ cert: l.certPEM, key: l.keyPEM });
    assert.equal(r.chainComplete, false);
    assert.equal(r.warnings[0]?.code, 'CHAIN_INCOMPLETE');
    assert.match(r.warnings[0]!.message, /Store Test Root Intermediate/);
    const trusted = newStore({ trust: [ca.rootPEM] });
    const r2 = await trusted.install({ cert: l.certPEM, key: l.keyPEM, caBundle: ca.intermediatePEM });
    assert.equal(r2.chainComplete, true);
    assert.equal(r2.chain.length, 2);
  });

  it("a chain ending at a root outside Node's roots and `trust` installs with CHAIN_UNTRUSTED_ROOT", async () => {
    const l = await issueLeaf(NAMES);
    const r = await newStore().install({ cert: l.certPEM, key: l.keyPEM, caBundle: ca.bundlePEM });
    assert.equal(r.chainComplete, true);
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['CHAIN_UNTRUSTED_ROOT'],
    );
    assert.match(r.warnings[0]!.message, /Store Test Root/);
    const none = await newStore({ nodeRoots: false, trust: [ca.rootPEM] }).install({
      cert: l.certPEM,
      key: l.keyPEM,
      caBundle: ca.bundlePEM,
    });
    assert.deepEqual(none.warnings, []);
  });

  it('reorders a bundle given root first and picks the leaf by its key', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES);
    const r = await store.install({ cert: ca.rootPEM + ca.intermediatePEM + l.certPEM, key: l.keyPEM });
    assert.equal(r.chainComplete, true);
    assert.deepEqual(
      r.chain.map((c) => c.subject.commonName),
      ['example.com', 'Store Test Root Intermediate'],
    );
  });

  it('reads a PKCS#7 bundle (.p7b made by openssl crl2pkcs7) and DER certificates', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES);
    const d = scratch();
    dirs.push(d);
    writeFileSync(join(d.path, 'chain.pem'), ca.bundlePEM);
    const p7 = spawnSync('openssl', [
      'crl2pkcs7',
      '-nocrl',
      '-certfile',
      join(d.path, 'chain.pem'),
      '-outform',
      'DER',
    ]);
    assert.equal(p7.status, 0, p7.stderr.toString());
    const der = new Uint8Array(new X509Certificate(l.certPEM).raw);
    const r = await store.install({ cert: der, key: l.keyPEM, caBundle: new Uint8Array(p7.stdout) });
    assert.equal(r.chainComplete, true);
    assert.equal(
      sha256(readFileSync(store.paths(DOMAIN).caBundle)),
      sha256(p7.stdout),
      'CA file kept as given',
    );
  });

  it('uses a key that comes in the same PEM file as the certificate', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES);
    const r = await store.install({ cert: l.keyPEM + l.chainPEM });
    assert.equal(r.keySource, 'cert-file');
    const c = await store.load(DOMAIN);
    assert.equal(c.privateKey.publicKey.fingerprint().sha256Hex, l.key.publicKey.fingerprint().sha256Hex);
  });

  it('stores an encrypted key as given (with a warning); load needs the pass phrase', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES);
    const enc = await encodePrivateKeyPEM(l.key, { passphrase: 'secret', iterations: 1000 });
    const r = await store.install({ cert: l.chainPEM, key: enc, passphrase: 'secret' });
    assert.ok(r.warnings.some((w) => w.code === 'KEY_ENCRYPTED'));
    assert.equal(readFileSync(store.paths(DOMAIN).key, 'utf8'), enc);
    await assert.rejects(store.load(DOMAIN), { code: 'ERR_KEY_ENCRYPTED' });
    const c = await store.load(DOMAIN, { passphrase: 'secret' });
    assert.equal(c.privateKey.publicKey.fingerprint().sha256Hex, l.key.publicKey.fingerprint().sha256Hex);
  });

  it('installs from a .pfx made by openssl pkcs12 -export (key and chain inside)', async () => {
    const store = newStore();
    const l = await issueLeaf(NAMES, { keyType: 'rsa' });
    const d = scratch();
    dirs.push(d);
    writeFileSync(join(d.path, 'leaf.pem'), l.certPEM);
    writeFileSync(join(d.path, 'key.pem'), l.keyPEM);
    writeFileSync(join(d.path, 'chain.pem'), ca.intermediatePEM);
    const pfx = join(d.path, 'mail.pfx');
    const x = spawnSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      join(d.path, 'leaf.pem'),
      '-inkey',
      join(d.path, 'key.pem'),
      '-certfile',
      join(d.path, 'chain.pem'),
      '-passout',
      'pass:pfx-pass',
      '-out',
      pfx,
    ]);
    assert.equal(x.status, 0, x.stderr.toString());
    const before = treeHash(d.path);
    await assert.rejects(store.install({ pkcs12: new Uint8Array(readFileSync(pfx)), password: 'wrong' }), {
      code: 'ERR_PKCS12_PASSWORD',
    });
    assert.equal(existsSync(store.root), false, 'a refused install creates nothing');
    assert.equal(treeHash(d.path), before);
    const r = await store.install({ pkcs12: new Uint8Array(readFileSync(pfx)), password: 'pfx-pass' });
    assert.equal(r.keySource, 'pkcs12');
    assert.equal(r.domain, DOMAIN);
    assert.equal(r.chain.length, 2);
    // the stored key is unencrypted PKCS#8 that openssl reads and that matches the certificate
    const p = store.paths(DOMAIN);
    assert.match(readFileSync(p.key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(
      openssl(['pkey', '-in', p.key, '-pubout']).out,
      openssl(['x509', '-in', p.cert, '-noout', '-pubkey']).out,
    );
  });
});

describe('CertificateStore: PKCS#12 files from the conformance data', () => {
  const dirP12 = join(conformanceDir, 'pkcs12');
  const read = (f: string) => new Uint8Array(readFileSync(join(dirP12, f)));

  it('go-pkcs12 PBES2 AES-256 file: expired wildcard refused, then installed with allowExpired', async () => {
    for (const f of ['go-pkcs12/TestPBES2_AES256CBC.p12']) {
      const store = newStore();
      await assert.rejects(store.install({ pkcs12: read(f), password: 'password' }), {
        code: 'ERR_CHAIN_EXPIRED',
        message: /\*\.ad\.standalone\.com expired on 2021-08-14/,
      });
      assert.equal(existsSync(store.root), false, `${f}: nothing written`);
      const r = await store.install({ pkcs12: read(f), password: 'password', allowExpired: true });
      assert.equal(r.domain, '*.ad.standalone.com');
      assert.equal(r.keySource, 'pkcs12');
      assert.equal(r.warnings[0]?.code, 'EXPIRED');
      const p = store.paths('*.ad.standalone.com');
      assert.equal(p.key, join(store.root, 'private', '_wildcard.ad.standalone.com.key'));
      // openssl reads the stored key and certificate as a pair, and the leaf is the one in the .p12
      assert.equal(
        openssl(['pkey', '-in', p.key, '-pubout']).out,
        openssl(['x509', '-in', p.cert, '-noout', '-pubkey']).out,
      );
      const fromP12 = spawnSync('openssl', [
        'pkcs12',
        '-in',
        join(dirP12, f),
        '-passin',
        'pass:password',
        '-nokeys',
        '-clcerts',
      ]);
      assert.equal(fromP12.status, 0, fromP12.stderr.toString());
      assert.equal(
        new X509Certificate(fromP12.stdout).fingerprint256,
        new X509Certificate(readFileSync(p.cert)).fingerprint256,
      );
    }
  });

  it('go-pkcs12 PBES2 AES-192 file: a CN-only certificate needs legacyCommonName (and allowExpired)', async () => {
    const store = newStore();
    const input = { pkcs12: read('go-pkcs12/TestPBES2_AES192CBC.p12'), password: 'password' };
    await assert.rejects(store.install(input), {
      code: 'ERR_HOSTNAME_MISMATCH',
      message: /only in its subject Common Name/,
    });
    await assert.rejects(store.install({ ...input, legacyCommonName: true }), { code: 'ERR_CHAIN_EXPIRED' });
    assert.equal(existsSync(store.root), false);
    const r = await store.install({ ...input, legacyCommonName: true, allowExpired: true });
    assert.equal(r.domain, 'example-com');
    assert.equal((await store.load('example-com')).leaf.subject.commonName, 'example-com');
  });

  it('files mailtls cannot use are refused and write nothing', async () => {
    const rows = [
      {
        name: 'RC2-40 certificates (legacy Windows export)',
        input: { pkcs12: read('go-pkcs12/testdata-testing_example_com.p12') },
        wantCode: 'ERR_PKCS12_UNSUPPORTED',
      },
      {
        name: 'wrong password',
        input: { pkcs12: read('go-pkcs12/TestPBES2_AES256CBC.p12'), password: 'nope' },
        wantCode: 'ERR_PKCS12_PASSWORD',
      },
      {
        name: 'no DNS name (PKITS EE, Windows AES export)',
        input: {
          pkcs12: read('rustcrypto-formats/ValidCertificatePathTest1EE_windows_aes.p12.pfx'),
          password: 'password',
        },
        wantCode: 'ERR_STORE_INVALID_DOMAIN',
      },
      {
        name: 'not the domain asked for',
        input: {
          pkcs12: read('rustcrypto-formats/ValidCertificatePathTest1EE_windows_aes.p12.pfx'),
          password: 'password',
          domain: DOMAIN,
        },
        wantCode: 'ERR_HOSTNAME_MISMATCH',
      },
    ];
    for (const row of rows) {
      const store = newStore();
      await assert.rejects(store.install(row.input), { code: row.wantCode }, row.name);
      assert.equal(existsSync(store.root), false, row.name);
    }
  });
});

describe('CertificateStore: versions, rollback, renewal, remove', () => {
  it('keeps the previous version; rollback puts it back atomically; pruning keeps keepVersions', async () => {
    const store = newStore({ keepVersions: 2 });
    const a = await issueLeaf(NAMES);
    const b = await issueLeaf(NAMES);
    const c = await issueLeaf(NAMES);
    const ra = await store.install({ cert: a.chainPEM, key: a.keyPEM });
    const rb = await store.install({ cert: b.chainPEM, key: b.keyPEM });
    assert.equal(rb.previousVersion, ra.version);
    const fp = async () => (await store.load(DOMAIN)).leaf.fingerprint('sha256');
    assert.equal(await fp(), new X509Certificate(b.certPEM).fingerprint256);
    const back = await store.rollback(DOMAIN);
    assert.deepEqual(back, { domain: DOMAIN, from: rb.version, to: ra.version, deployHooks: [] });
    assert.equal(await fp(), new X509Certificate(a.certPEM).fingerprint256);
    assert.equal(
      openssl(['pkey', '-in', store.paths(DOMAIN).key, '-pubout']).out,
      openssl(['pkey', '-pubout'], a.keyPEM).out,
    );
    await assert.rejects(store.rollback(DOMAIN), {
      code: 'ERR_STORE_NOT_FOUND',
      message: /no version .* before/,
    });
    // forward again by id
    await store.rollback(DOMAIN, { to: rb.version });
    assert.equal(await fp(), new X509Certificate(b.certPEM).fingerprint256);
    const rc = await store.install({ cert: c.chainPEM, key: c.keyPEM });
    const ids = (await store.versions(DOMAIN)).map((v) => [v.id, v.current]);
    assert.deepEqual(ids, [
      [rb.version, false],
      [rc.version, true],
    ]);
  });

  it("finds the CSR key filed under the bare domain when the certificate's CN is another host", async () => {
    const store = newStore();
    const csr = await store.createCSR({
      domain: DOMAIN,
      subject: { commonName: 'mail.example.com' },
      hostnames: ['example.com'],
    });
    assert.equal(csr.files.key, store.paths(DOMAIN).pendingKey);
    const leaf = await issueLeaf(['mail.example.com', 'example.com'], { csrPEM: csr.csrPEM });
    const r = await store.install({ cert: leaf.chainPEM });
    assert.equal(r.domain, DOMAIN);
    assert.equal(r.keySource, 'pending');
    assert.equal(existsSync(store.paths(DOMAIN).pendingKey), false);
    assert.deepEqual(await store.list(), [DOMAIN]);
  });

  it('a renewal without a key reuses the key in service', async () => {
    const store = newStore();
    const csr = await store.createCSR({ subject: { commonName: DOMAIN }, hostnames: ['mail.example.com'] });
    await store.install({ cert: (await issueLeaf(NAMES, { csrPEM: csr.csrPEM })).chainPEM });
    const renewed = await issueLeaf(NAMES, { csrPEM: csr.csrPEM, notBefore: new Date('2027-05-01Z') });
    const r = await store.install({ cert: renewed.chainPEM });
    assert.equal(r.keySource, 'current');
    assert.equal((await store.load(DOMAIN)).leaf.notBefore.toISOString(), '2027-05-01T00:00:00.000Z');
  });

  it('creates a missing store root with its parents at 0755 whatever the umask (certificates stay readable)', async () => {
    const d = scratch();
    dirs.push(d);
    const store = new CertificateStore(join(d.path, 'etc', 'mail', 'tls'), { at: AT });
    const old = process.umask(0o077);
    try {
      await store.createCSR({ subject: { commonName: DOMAIN }, hostnames: ['mail.example.com'] });
    } finally {
      process.umask(old);
    }
    for (const [dir, want] of [
      ['', 0o755],
      ['csr', 0o755],
      ['certs', 0o755],
      ['private', 0o700],
      ['history', 0o755],
    ] as const)
      assert.equal(modeOf(join(store.root, dir)), want, dir || 'the root');
  });

  it('brings hand-placed files (the manual workflow) under management without a mixed pair', async () => {
    const store = newStore();
    const a = await issueLeaf(NAMES);
    for (const [d, m] of [
      ['certs', 0o755],
      ['private', 0o700],
    ] as const)
      mkdirSync(join(store.root, d), { recursive: true, mode: m });
    writeFileSync(join(store.root, 'certs', 'example.com.crt'), a.chainPEM);
    writeFileSync(join(store.root, 'private', 'example.com.key'), a.keyPEM, { mode: 0o600 });
    assert.deepEqual(await store.list(), [DOMAIN]);
    const before = await store.load(DOMAIN);
    assert.equal(before.leaf.fingerprint('sha256'), new X509Certificate(a.certPEM).fingerprint256);
    const v1 = await store.version(DOMAIN);
    assert.match(v1, /^[0-9a-f]{32}$/);
    const b = await issueLeaf(NAMES);
    const r = await store.install({ cert: b.chainPEM, key: b.keyPEM });
    assert.equal(
      r.previousVersion,
      'v000001-' + r.previousVersion!.slice(8),
      'the hand-placed pair became v1',
    );
    const versions = await store.versions(DOMAIN);
    assert.equal(versions.length, 2);
    await store.rollback(DOMAIN);
    assert.equal(
      (await store.load(DOMAIN)).leaf.fingerprint('sha256'),
      new X509Certificate(a.certPEM).fingerprint256,
    );
  });

  it('remove takes the domain out; load then says ERR_STORE_NOT_FOUND', async () => {
    const store = newStore();
    const a = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM, caBundle: ca.bundlePEM });
    await store.remove(DOMAIN);
    await assert.rejects(store.load(DOMAIN), { code: 'ERR_STORE_NOT_FOUND' });
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(readdirSync(join(store.root, 'certs')), []);
    assert.deepEqual(readdirSync(join(store.root, 'history')), []);
    await assert.rejects(store.remove(DOMAIN), { code: 'ERR_STORE_NOT_FOUND' });
    assert.equal(await store.version(DOMAIN), 'none');
  });
});

describe('CertificateStore: has() and list({ limit })', () => {
  it('has() answers as list() counts: managed, hand-placed, half-placed, dangling, removed, invalid names', async () => {
    const store = newStore();
    assert.equal(await store.has(DOMAIN), false, 'an empty (missing) store holds nothing');
    const a = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM, caBundle: ca.bundlePEM });
    assert.equal(await store.has(DOMAIN), true);
    assert.equal(await store.has('EXAMPLE.com.'), true, 'the name is canonicalised as load() does');
    assert.equal(
      await store.has('mail.example.com'),
      false,
      'a name of the certificate is not a domain of the store',
    );
    // Hand-placed: both files make a pair, one alone does not, a dangling link does not.
    const b = await issueLeaf(['hand.example.net']);
    writeFileSync(join(store.root, 'certs', 'hand.example.net.crt'), b.chainPEM);
    assert.equal(await store.has('hand.example.net'), false, 'a certificate without its key');
    writeFileSync(join(store.root, 'private', 'hand.example.net.key'), b.keyPEM, { mode: 0o600 });
    assert.equal(await store.has('hand.example.net'), true);
    symlinkSync(join(store.root, 'nowhere.crt'), join(store.root, 'certs', 'dangling.example.net.crt'));
    symlinkSync(join(store.root, 'nowhere.key'), join(store.root, 'private', 'dangling.example.net.key'));
    assert.equal(await store.has('dangling.example.net'), false);
    for (const d of ['example.com', 'hand.example.net', 'dangling.example.net'])
      assert.equal(await store.has(d), (await store.list()).includes(d), d);
    for (const bad of ['../etc', '127.0.0.1', 'a..b', 'mail.*.example.com', '', 'x'.repeat(300)])
      assert.equal(await store.has(bad), false, bad);
    await store.remove(DOMAIN);
    assert.equal(await store.has(DOMAIN), false, 'removed');
    await assert.rejects(store.load(DOMAIN), { code: 'ERR_STORE_NOT_FOUND' });
  });

  it('list({ limit }) answers the first domains of list(), in order; a bad limit is a RangeError', async () => {
    const store = newStore();
    assert.deepEqual(await store.list({ limit: 1 }), []);
    const names = ['c.example.org', 'a.example.org', '*.example.org', 'b.example.org'];
    // Two managed, two hand-placed, one half-placed (not counted), and a temporary file (never counted).
    for (const n of names.slice(0, 2)) {
      const l = await issueLeaf([n]);
      await store.install({ cert: l.chainPEM, key: l.keyPEM });
    }
    for (const n of names.slice(2)) {
      const l = await issueLeaf([n]);
      const file = storeName(n).fileName;
      writeFileSync(join(store.root, 'certs', `${file}.crt`), l.chainPEM);
      writeFileSync(join(store.root, 'private', `${file}.key`), l.keyPEM, { mode: 0o600 });
    }
    writeFileSync(
      join(store.root, 'certs', '0.example.org.crt'),
      (await issueLeaf(['0.example.org'])).chainPEM,
    );
    const all = await store.list();
    assert.deepEqual(all, [...names].sort());
    for (let limit = 1; limit <= 5; limit++)
      assert.deepEqual(await store.list({ limit }), all.slice(0, limit), `limit ${limit}`);
    for (const bad of [0, -1, 1.5, Number.NaN])
      await assert.rejects(store.list({ limit: bad }), RangeError, String(bad));
  });

  it('list({ limit }) skips files whose names the store cannot hold, even when they sort first', async () => {
    const store = newStore();
    const l = await issueLeaf(['b.example.org']);
    await store.install({ cert: l.chainPEM, key: l.keyPEM });
    // Pairs under names in lower-case LDH spelling that are no host names (a leading hyphen, an IP address,
    // an all-digit last label), and one in upper case: none is a domain of the store.
    for (const file of ['-a.example.org', '10.0.0.1', 'a.123', 'A.EXAMPLE.ORG', '_wildcard.-x.example.org']) {
      writeFileSync(join(store.root, 'certs', `${file}.crt`), l.chainPEM);
      writeFileSync(join(store.root, 'private', `${file}.key`), l.keyPEM, { mode: 0o600 });
    }
    assert.deepEqual(await store.list(), ['b.example.org']);
    assert.deepEqual(await store.list({ limit: 1 }), ['b.example.org']);
  });
});

describe('CertificateStore: locking and concurrent installs', () => {
  it('concurrent installs of one domain end with one complete pair, each install whole', async () => {
    const store = newStore();
    const pairs = await Promise.all([0, 1, 2, 3, 4, 5].map(() => issueLeaf(NAMES)));
    const results = await Promise.all(pairs.map((p) => store.install({ cert: p.chainPEM, key: p.keyPEM })));
    const versions = results.map((r) => r.version).sort();
    assert.equal(new Set(versions).size, 6, 'six distinct versions, one per install');
    const c = await store.load(DOMAIN);
    const winner = pairs.find(
      (p) => new X509Certificate(p.certPEM).fingerprint256 === c.leaf.fingerprint('sha256'),
    );
    assert.ok(winner !== undefined);
    assert.equal(
      c.privateKey.publicKey.fingerprint().sha256Hex,
      winner.key.publicKey.fingerprint().sha256Hex,
    );
    assert.equal(c.version, versions[5], 'the last install is in service');
  });

  it('readers during installs (old versions pruned under them) always load a matching pair', async () => {
    const store = newStore({ keepVersions: 2, nodeRoots: false, trust: [ca.rootPEM] });
    const pairs = await Promise.all([0, 1].map(() => issueLeaf(NAMES)));
    const known = new Set(pairs.map((p) => new X509Certificate(p.certPEM).fingerprint256));
    await store.install({ cert: pairs[0]!.chainPEM, key: pairs[0]!.keyPEM });
    let stop = false;
    let installs = 0;
    const writer = (async () => {
      try {
        while (!stop && installs < 30) {
          const p = pairs[installs % 2]!;
          await store.install({ cert: p.chainPEM, key: p.keyPEM });
          installs++;
        }
      } finally {
        stop = true;
      }
    })();
    const seen = new Set<string>();
    let loads = 0;
    try {
      while (!stop) {
        const c = await store.load(DOMAIN);
        assert.ok(known.has(c.leaf.fingerprint('sha256')));
        assert.ok(keyMatchesCertificate(c.privateKey, c.leaf.der), 'key matches certificate');
        seen.add(c.leaf.fingerprint('sha256'));
        loads++;
      }
    } finally {
      stop = true;
      await writer;
    }
    assert.equal(seen.size, 2, `${loads} loads during ${installs} installs saw both pairs`);
    assert.ok((await store.versions(DOMAIN)).length <= 3);
  });

  it('waits for a live lock holder and fails with ERR_STORE_LOCKED after the timeout; tree unchanged', async () => {
    const store = newStore({ lock: { timeoutMs: 200 } });
    const a = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM });
    const lock = await acquireLock(store.paths(DOMAIN).lock);
    const before = treeHash(join(store.root, 'history'));
    const b = await issueLeaf(NAMES);
    const t0 = Date.now();
    await assert.rejects(store.install({ cert: b.chainPEM, key: b.keyPEM }), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'ERR_STORE_LOCKED');
      assert.match(e.message, new RegExp(`process ${process.pid}`));
      return true;
    });
    assert.ok(Date.now() - t0 >= 190);
    assert.equal(treeHash(join(store.root, 'history')), before);
    await lock.release();
    await store.install({ cert: b.chainPEM, key: b.keyPEM });
  });

  it("an install removes dead writers' temporary files of its own domain only", async () => {
    const store = newStore();
    const a = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM });
    const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString());
    const tmp = (pid: number, name: string) => `.tmp-${pid}-a1b2c3d4e5f6-${name}`;
    const rows = [
      { name: 'own certificate', input: ['certs', tmp(dead, 'example.com.crt')], want: false },
      { name: 'own CA file', input: ['certs', tmp(dead, 'example.com.ca-bundle')], want: false },
      { name: 'own key', input: ['private', tmp(dead, 'example.com.key')], want: false },
      { name: 'own CSR', input: ['csr', tmp(dead, 'example.com.csr')], want: false },
      { name: 'a subdomain', input: ['certs', tmp(dead, 'mail.example.com.crt')], want: true },
      { name: 'a longer domain', input: ['private', tmp(dead, 'example.com.au.key')], want: true },
      { name: 'a live writer', input: ['certs', tmp(process.pid, 'example.com.crt')], want: true },
    ];
    for (const { input } of rows) writeFileSync(join(store.root, ...input), 'partial');
    const b = await issueLeaf(NAMES);
    await store.install({ cert: b.chainPEM, key: b.keyPEM });
    for (const row of rows) assert.equal(existsSync(join(store.root, ...row.input)), row.want, row.name);
  });

  it('breaks a lock left by a killed process', async () => {
    const store = newStore({ lock: { timeoutMs: 2000 } });
    const a = await issueLeaf(NAMES);
    await store.install({ cert: a.chainPEM, key: a.keyPEM });
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
    const deadPid = Number(child.stdout.toString().trim());
    writeFileSync(
      store.paths(DOMAIN).lock,
      JSON.stringify({
        pid: deadPid,
        host: (await import('node:os')).hostname(),
        created: Date.now(),
        token: 'x',
      }),
    );
    const b = await issueLeaf(NAMES);
    const t0 = Date.now();
    await store.install({ cert: b.chainPEM, key: b.keyPEM });
    assert.ok(Date.now() - t0 < 1500);
    assert.equal(existsSync(store.paths(DOMAIN).lock), false);
  });
});

describe('CertificateStore: errors name files and carry no key material', () => {
  it('a directory where a file of the store should be: ERR_STORE_IO naming it, never a raw fs error', async () => {
    const rows = [
      {
        name: 'install, certs/<name>.crt',
        input: { installFirst: false, blocked: 'cert', op: 'install' },
        wantCode: 'ERR_STORE_IO',
      },
      {
        name: 'renewal, certs/<name>.ca-bundle',
        input: { installFirst: true, blocked: 'caBundle', op: 'install' },
        wantCode: 'ERR_STORE_IO',
      },
      {
        name: 'remove, certs/<name>.ca-bundle',
        input: { installFirst: true, blocked: 'caBundle', op: 'remove' },
        wantCode: 'ERR_STORE_IO',
      },
    ] as const;
    for (const row of rows) {
      const store = newStore();
      if (row.input.installFirst) {
        const a = await issueLeaf(NAMES);
        await store.install({ cert: a.chainPEM, key: a.keyPEM });
      }
      const blocked = store.paths(DOMAIN)[row.input.blocked];
      mkdirSync(join(blocked, 'in-the-way'), { recursive: true });
      const b = await issueLeaf(NAMES);
      const op =
        row.input.op === 'install'
          ? store.install({ cert: b.chainPEM, key: b.keyPEM })
          : store.remove(DOMAIN);
      await assert.rejects(op, (e: unknown) => {
        assert.ok(e instanceof StoreError, `${row.name}: ${String(e)}`);
        assert.equal(e.code, row.wantCode, row.name);
        assert.equal(e.details.path, blocked, row.name);
        return true;
      });
    }
  });

  it('load of a hand-placed mismatched pair: ERR_KEY_MISMATCH naming both files', async () => {
    const store = newStore();
    const a = await issueLeaf(NAMES);
    const b = await issueLeaf(NAMES);
    mkdirSync(join(store.root, 'certs'), { recursive: true });
    mkdirSync(join(store.root, 'private'), { recursive: true, mode: 0o700 });
    writeFileSync(join(store.root, 'certs', 'example.com.crt'), a.chainPEM);
    writeFileSync(join(store.root, 'private', 'example.com.key'), b.keyPEM, { mode: 0o600 });
    await assert.rejects(store.load(DOMAIN), (e: unknown) => {
      assert.ok(e instanceof KeyError);
      assert.equal(e.code, 'ERR_KEY_MISMATCH');
      assert.match(
        e.message,
        /The key in private\/example\.com\.key does not belong to certs\/example\.com\.crt/,
      );
      assert.ok(!JSON.stringify(e).includes(b.keyPEM.split('\n')[1]!));
      return true;
    });
    // and parseCertificate agrees that the certificate is a's
    assert.equal(
      parseCertificate(a.certPEM).spkiFingerprint().sha256Hex,
      a.key.publicKey.fingerprint().sha256Hex,
    );
    const other = await generateKeyPair({ type: 'ec' });
    assert.notEqual(other.publicKey.fingerprint().sha256Hex, a.key.publicKey.fingerprint().sha256Hex);
  });
});
