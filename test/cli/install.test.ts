// `mailtls csr --store` + `mailtls install` + `mailtls pfx import --store`: the manual's flow with a CA
// played by openssl, validated atomic installs, and nothing written when anything is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { mailtls, mailtlsJSON, makeOpenSSLInputs, type OpenSSLInputs, openssl, scratch } from './helpers.js';

/** The CA (openssl, the test intermediate) signs a CSR, copying its subjectAltName. */
function opensslSign(inputs: OpenSSLInputs, csrFile: string, out: string): void {
  const ext = join(scratch(), 'ext.cnf');
  writeFileSync(
    ext,
    'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n' +
      'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    inputs.intermediateCert,
    '-CAkey',
    inputs.intermediateKey,
    '-days',
    '365',
    '-set_serial',
    '77',
    '-copy_extensions',
    'copy',
    '-extfile',
    ext,
    '-out',
    out,
  ]);
}

/** Every file under a directory (relative paths), for "nothing was written" checks. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('mailtls install', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('csr --store, the CA signs, install without --key: the pending key is paired and served with the chain', () => {
    const store = join(scratch(), 'tls');
    const csr = mailtlsJSON([
      'csr',
      '--store',
      store,
      '--cn',
      'example.com',
      '--country',
      'US',
      '--org',
      'Example Inc',
      '--san',
      'mail.example.com',
      '--san',
      'imap.example.com',
      '--type',
      'ec',
    ]);
    assert.equal(csr.status, 0, csr.stderr);
    const files = csr.json.files as { csr: string; key: string };
    assert.equal(files.csr, join(store, 'csr', 'example.com.csr'));
    assert.equal(files.key, join(store, 'private', 'pending', 'example.com.key'));
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
    openssl(['req', '-in', files.csr, '-noout', '-verify']);
    // A second CSR for the same domain would orphan the first key: refused without --force.
    const again = mailtlsJSON(['csr', '--store', store, '--cn', 'example.com', '--type', 'ec']);
    assert.equal(again.status, 2);
    assert.equal((again.json.error as { code: string }).code, 'ERR_STORE_EXISTS');

    const crt = join(scratch(), 'example_com.crt');
    opensslSign(inputs, files.csr, crt);
    const r = mailtlsJSON([
      'install',
      '--store',
      store,
      '--cert',
      crt,
      '--chain',
      inputs.resellerBundle,
      '--trust',
      inputs.rootCert,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.domain, 'example.com');
    assert.equal(r.json.keySource, 'pending');
    assert.equal(r.json.chainComplete, true);
    const served = (r.json.files as { cert: string; key: string }).cert;
    const key = (r.json.files as { cert: string; key: string }).key;
    // What the server reads: the leaf then the intermediate; openssl verifies it and pairs the key.
    assert.equal(
      readFileSync(served, 'utf8'),
      openssl(['x509', '-in', crt]) + openssl(['x509', '-in', inputs.intermediateCert]),
    );
    assert.match(openssl(['verify', '-CAfile', inputs.rootCert, '-untrusted', served, served]), /: OK\n$/);
    assert.equal(
      openssl(['x509', '-in', served, '-noout', '-pubkey']),
      openssl(['pkey', '-in', key, '-pubout']),
    );
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.ok(!existsSync(files.key), 'the pending key moved into service');
  });

  it('installs an openssl .pfx with pfx import --store, and a renewal keeps the previous version', () => {
    const store = join(scratch(), 'tls');
    const first = mailtlsJSON([
      'pfx',
      'import',
      '--pfx',
      inputs.pfx,
      '--password',
      'secret',
      '--store',
      store,
      '--trust',
      inputs.rootCert,
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.json.domain, 'mail.example.com');
    assert.equal(first.json.keySource, 'pkcs12');
    const second = mailtls([
      'install',
      '--store',
      store,
      '--cert',
      inputs.wrongOrderFullchain,
      '--key',
      inputs.leafKey,
      '--trust',
      inputs.rootCert,
    ]);
    assert.equal(second.status, 0, second.stderr);
    assert.match(
      second.stdout,
      /^installed mail\.example\.com: version v000002-\S+ \(replaces v000001-\S+, kept for rollback\)/,
    );
    assert.match(
      second.stdout,
      /served chain \(complete\):\n {4}0 CN=mail\.example\.com,O=Example Inc,C=US\n {4}1 CN=Test Intermediate CA/,
    );
  });

  const refused = [
    {
      name: 'a key that does not belong to the certificate',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--chain', i.intermediateCert, '--key', i.pkcs1Key],
      wantStatus: 1,
      wantCode: 'ERR_KEY_MISMATCH',
    },
    {
      name: 'a certificate expired at --at',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--key', i.leafKey, '--at', '2099-01-01'],
      wantStatus: 1,
      wantCode: 'ERR_CHAIN_EXPIRED',
    },
    {
      name: 'a domain the certificate does not cover',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--key', i.leafKey, '--domain', 'example.org'],
      wantStatus: 1,
      wantCode: 'ERR_HOSTNAME_MISMATCH',
    },
    {
      name: 'an incomplete chain with --require-complete-chain',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--key', i.leafKey, '--require-complete-chain'],
      wantStatus: 1,
      wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
    },
    {
      name: 'a wrong .pfx password',
      args: (i: OpenSSLInputs) => ['--pfx', i.pfx, '--password', 'nope'],
      wantStatus: 2,
      wantCode: 'ERR_PKCS12_PASSWORD',
    },
    {
      name: 'a CSR given as the certificate',
      args: (i: OpenSSLInputs) => ['--cert', i.csr, '--key', i.leafKey],
      wantStatus: 2,
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: '--pfx together with --cert',
      args: (i: OpenSSLInputs) => ['--pfx', i.pfx, '--cert', i.leafCert, '--password', 'secret'],
      wantStatus: 2,
      wantCode: 'ERR_CLI_USAGE',
    },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}: exit ${row.wantStatus} (${row.wantCode}), nothing written`, () => {
      const store = join(scratch(), 'tls');
      const r = mailtlsJSON(['install', '--store', store, ...row.args(inputs)]);
      assert.equal(r.status, row.wantStatus, r.stderr);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
      const written = tree(store).filter((f) => !statSync(join(store, f)).isDirectory());
      assert.deepEqual(written, []);
    });
  }

  it('a refused install leaves the version in service untouched', () => {
    const store = join(scratch(), 'tls');
    assert.equal(
      mailtls([
        'install',
        '--store',
        store,
        '--cert',
        inputs.leafCert,
        '--key',
        inputs.leafKey,
        '--chain',
        inputs.intermediateCert,
      ]).status,
      0,
    );
    const before = tree(store);
    const servedBefore = readFileSync(join(store, 'certs', 'mail.example.com.crt'), 'utf8');
    const r = mailtls(['install', '--store', store, '--cert', inputs.leafCert, '--key', inputs.pkcs1Key]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error \[ERR_KEY_MISMATCH\]: /);
    assert.deepEqual(tree(store), before);
    assert.equal(readFileSync(join(store, 'certs', 'mail.example.com.crt'), 'utf8'), servedBefore);
  });

  it('a --key that does not belong to --cert is named by the files given, not by private/<domain>.key', () => {
    const store = join(scratch(), 'tls');
    const r = mailtlsJSON(['install', '--store', store, '--cert', inputs.leafCert, '--key', inputs.pkcs1Key]);
    assert.equal(r.status, 1);
    const e = r.json.error as {
      code: string;
      message: string;
      details: { keyFile: string; certFile: string };
    };
    assert.equal(e.code, 'ERR_KEY_MISMATCH');
    assert.ok(
      e.message.startsWith(`The key in ${inputs.pkcs1Key} does not belong to ${inputs.leafCert}:`),
      e.message,
    );
    assert.doesNotMatch(e.message, /private\//);
    assert.deepEqual([e.details.keyFile, e.details.certFile], [inputs.pkcs1Key, inputs.leafCert]);
  });

  it('--group G: private/ 0750 and the key 0640 owned by G; csr --store --group makes private/ for G', () => {
    // as root use nogroup (root's own group 0 is never taken for a key group), otherwise one's own group
    const group = process.geteuid?.() === 0 ? 'nogroup' : spawnSync('id', ['-gn']).stdout.toString().trim();
    const gid = Number(spawnSync('getent', ['group', group]).stdout.toString().split(':')[2]);
    const store = join(scratch(), 'tls');
    const r = mailtls([
      'install',
      '--store',
      store,
      '--cert',
      inputs.leafCert,
      '--key',
      inputs.leafKey,
      '--group',
      group,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const priv = statSync(join(store, 'private'));
    assert.deepEqual([priv.mode & 0o777, priv.gid], [0o750, gid]);
    const key = statSync(join(store, 'private', 'mail.example.com.key'));
    assert.deepEqual([key.mode & 0o777, key.gid], [0o640, gid]);
    const other = join(scratch(), 'tls');
    const csr = mailtls(['csr', '--store', other, '--cn', 'example.com', '--type', 'ec', '--group', group]);
    assert.equal(csr.status, 0, csr.stderr);
    const p2 = statSync(join(other, 'private'));
    assert.deepEqual([p2.mode & 0o777, p2.gid], [0o750, gid]);
    const bad = mailtlsJSON([
      'install',
      '--store',
      join(scratch(), 'tls'),
      '--cert',
      inputs.leafCert,
      '--key',
      inputs.leafKey,
      '--group',
      'no-such-group-mailtls',
    ]);
    assert.equal((bad.json.error as { code: string }).code, 'ERR_STORE_INVALID_GROUP');
  });
});
