// `mailtls pfx export|import`: files openssl opens, an openssl-made .pfx taken apart, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  opensslOutput,
  opensslSPKISha256,
  scratch,
} from './helpers.js';

/** The subjects of the CERTIFICATE blocks of a PEM text, as openssl prints them. */
function subjects(pem: string): string[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)].map((m) =>
    openssl(['x509', '-noout', '-subject'], m[0]).trim(),
  );
}

describe('mailtls pfx', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  /**
   * `pfx export --key <leaf key> --cert CERT [--chain CHAIN] --out OUT [--password PASSWORD] EXTRA...`
   * (an absent password leaves the option out).
   */
  function exportArgs(
    files: { cert: string; chain?: string; out: string; password?: string },
    ...extra: string[]
  ): string[] {
    return [
      ...['pfx', 'export', '--key', inputs.leafKey, '--cert', files.cert],
      ...(files.chain === undefined ? [] : ['--chain', files.chain]),
      ...['--out', files.out],
      ...(files.password === undefined ? [] : ['--password', files.password]),
      ...extra,
    ];
  }

  it('export: openssl opens the .pfx (mode 0600) with the key, the leaf first and the chain', () => {
    const dir = scratch();
    const out = join(dir, 'mail.pfx');
    // The leaf is in a file after the CA certificates: the command finds it by the key.
    const mixed = join(dir, 'mixed.pem');
    writeFileSync(mixed, readFileSync(inputs.resellerBundle, 'utf8') + readFileSync(inputs.leafCert, 'utf8'));
    const r = mailtlsJSON(
      exportArgs({ cert: mixed, out, password: 's3cret' }, '--friendly-name', 'mail 2026'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const certs = openssl(['pkcs12', '-in', out, '-passin', 'pass:s3cret', '-nokeys']);
    assert.deepEqual(subjects(certs), [
      'subject=C = US, O = Example Inc, CN = mail.example.com',
      'subject=C = US, O = Test Reseller, CN = Test Root CA',
      'subject=C = US, O = Test Reseller, CN = Test Intermediate CA',
    ]);
    assert.match(certs, /friendlyName: mail 2026/);
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, openssl(['pkcs12', '-in', out, '-passin', 'pass:s3cret', '-nocerts', '-nodes']));
    assert.equal(opensslSPKISha256(keyFile, 'key'), opensslSPKISha256(inputs.leafKey, 'key'));
    const info = opensslOutput(['pkcs12', '-in', out, '-passin', 'pass:s3cret', '-noout', '-info']);
    assert.match(info, /MAC: sha256/);
    assert.match(info, /AES-256-CBC/);
    assert.equal((r.json.chain as unknown[]).length, 2);
  });

  it('export --legacy writes 3DES with a SHA-1 MAC (Windows Server 2016)', () => {
    const out = join(scratch(), 'legacy.pfx');
    const r = mailtls(
      exportArgs({ cert: inputs.leafCert, chain: inputs.intermediateCert, out, password: 'x' }, '--legacy'),
    );
    assert.equal(r.status, 0, r.stderr);
    const info = opensslOutput(['pkcs12', '-in', out, '-passin', 'pass:x', '-noout', '-info', '-legacy']);
    assert.match(info, /MAC: sha1/);
    assert.match(info, /pbeWithSHA1And3-KeyTripleDES-CBC/);
  });

  it('export exits 1 (ERR_KEY_MISMATCH) when no certificate belongs to the key, writing nothing', () => {
    const dir = scratch();
    const r = mailtlsJSON(exportArgs({ cert: inputs.otherCert, out: join(dir, 'x.pfx'), password: 'x' }));
    assert.equal(r.status, 1);
    assert.equal((r.json.error as { code: string }).code, 'ERR_KEY_MISMATCH');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('export exits 2 without a password option', () => {
    const dir = scratch();
    const r = mailtls(exportArgs({ cert: inputs.leafCert, out: join(dir, 'x.pfx') }));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ERR_CLI_USAGE.*--password/);
  });

  it('import: takes an openssl .pfx apart into privkey.pem (0600), cert.pem, chain.pem, fullchain.pem', () => {
    const dir = scratch();
    const r = mailtlsJSON(['pfx', 'import', '--pfx', inputs.pfx, '--password', 'secret', '--out-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
    assert.equal(statSync(join(dir, 'privkey.pem')).mode & 0o777, 0o600);
    assert.equal(
      opensslSPKISha256(join(dir, 'privkey.pem'), 'key'),
      opensslSPKISha256(inputs.leafKey, 'key'),
    );
    assert.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), openssl(['x509', '-in', inputs.leafCert]));
    assert.equal(
      readFileSync(join(dir, 'chain.pem'), 'utf8'),
      openssl(['x509', '-in', inputs.intermediateCert]),
    );
    assert.equal(
      readFileSync(join(dir, 'fullchain.pem'), 'utf8'),
      readFileSync(join(dir, 'cert.pem'), 'utf8') + readFileSync(join(dir, 'chain.pem'), 'utf8'),
    );
    // openssl accepts the pair.
    openssl(['x509', '-in', join(dir, 'cert.pem'), '-noout']);
    assert.equal(r.json.friendlyName, 'mail.example.com');
    assert.ok(!r.stdout.includes('PRIVATE KEY'));
  });

  const failures = [
    {
      name: 'a wrong password',
      args: ['--password', 'wrong'],
      wantCode: 'ERR_PKCS12_PASSWORD',
      wantStatus: 2,
    },
    { name: 'no password', args: [], wantCode: 'ERR_PKCS12_PASSWORD', wantStatus: 2 },
  ];
  for (const row of failures) {
    it(`import exits ${row.wantStatus} for ${row.name} (${row.wantCode}), writing nothing`, () => {
      const dir = scratch();
      const r = mailtlsJSON(['pfx', 'import', '--pfx', inputs.pfx, ...row.args, '--out-dir', dir]);
      assert.equal(r.status, row.wantStatus);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('round trip: export then import gives back the same key and certificates', () => {
    const dir = scratch();
    const pfx = join(dir, 'a.pfx');
    assert.equal(
      mailtls(exportArgs({ cert: inputs.leafCert, chain: inputs.intermediateCert, out: pfx, password: '' }))
        .status,
      0,
    );
    const outDir = join(dir, 'out');
    assert.equal(
      mailtls(exportArgs({ cert: inputs.leafCert, out: pfx, password: 'p' })).status,
      2,
      'no overwrite',
    );
    openssl(['pkcs12', '-in', pfx, '-passin', 'pass:', '-noout']);
    mkdirSync(outDir);
    assert.equal(mailtls(['pfx', 'import', '--pfx', pfx, '--out-dir', outDir]).status, 0);
    assert.equal(readFileSync(join(outDir, 'cert.pem'), 'utf8'), openssl(['x509', '-in', inputs.leafCert]));
    assert.equal(
      opensslSPKISha256(join(outDir, 'privkey.pem'), 'key'),
      opensslSPKISha256(inputs.leafKey, 'key'),
    );
  });
  it('import --store --group G: the key lands 0640 owned by G in a 0750 private/', () => {
    // as root use nogroup (root's own group 0 is never taken for a key group), otherwise one's own group
    const group = process.geteuid?.() === 0 ? 'nogroup' : spawnSync('id', ['-gn']).stdout.toString().trim();
    const gid = Number(spawnSync('getent', ['group', group]).stdout.toString().split(':')[2]);
    const passFile = join(scratch(), 'pass.txt');
    writeFileSync(passFile, 'secret\n');
    const store = join(scratch(), 'tls');
    const args = ['pfx', 'import', '--pfx', inputs.pfx, '--password-file', passFile, '--store', store];
    const r = mailtls([...args, '--trust', inputs.rootCert, '--group', group]);
    assert.equal(r.status, 0, r.stderr);
    const priv = statSync(join(store, 'private'));
    assert.deepEqual([priv.mode & 0o777, priv.gid], [0o750, gid]);
    const keys = readdirSync(join(store, 'private')).filter((f) => f.endsWith('.key'));
    assert.equal(keys.length, 1);
    const key = statSync(join(store, 'private', keys[0] ?? ''));
    assert.deepEqual([key.mode & 0o777, key.gid], [0o640, gid]);
  });
});
