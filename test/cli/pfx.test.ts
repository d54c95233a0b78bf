// `mailtls pfx export|import`: files openssl opens, an openssl-made .pfx taken apart, exit codes.
import assert from 'node:assert/strict';
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
});
