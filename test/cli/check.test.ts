// `mailtls check`: audits of stores filled by `mailtls install` with openssl-made certificates; findings,
// fixes and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { mailtls, mailtlsJSON, makeOpenSSLInputs, type OpenSSLInputs, openssl, scratch } from './helpers.js';

type Finding = { domain: string; severity: string; code: string; message: string; fix?: string };

/** A store with example.com, its certificate (by the openssl CA) covering the usual mail names. */
function goodStore(inputs: OpenSSLInputs): string {
  const store = join(scratch(), 'tls');
  const csr = mailtlsJSON([
    'csr',
    '--store',
    store,
    '--cn',
    'example.com',
    '--type',
    'ec',
    '--san',
    'mail.example.com',
    '--san',
    'smtp.example.com',
    '--san',
    'imap.example.com',
  ]);
  assert.equal(csr.status, 0, csr.stderr);
  const ext = join(scratch(), 'ext.cnf');
  writeFileSync(
    ext,
    'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n' +
      'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n',
  );
  const crt = join(scratch(), 'example.crt');
  openssl([
    'x509',
    '-req',
    '-in',
    (csr.json.files as { csr: string }).csr,
    '-CA',
    inputs.intermediateCert,
    '-CAkey',
    inputs.intermediateKey,
    '-days',
    '825',
    '-set_serial',
    '9',
    '-copy_extensions',
    'copy',
    '-extfile',
    ext,
    '-out',
    crt,
  ]);
  const r = mailtls([
    'install',
    '--store',
    store,
    '--cert',
    crt,
    '--chain',
    inputs.intermediateCert,
    '--trust',
    inputs.rootCert,
  ]);
  assert.equal(r.status, 0, r.stderr);
  return store;
}

describe('mailtls check', () => {
  let inputs: OpenSSLInputs;
  /** Read by several tests, changed by none. */
  let healthy: string;
  before(() => {
    inputs = makeOpenSSLInputs();
    healthy = goodStore(inputs);
  });

  it('passes a healthy store (exit 0) and fails it at a time after expiry (exit 1)', () => {
    const store = healthy;
    const ok = mailtls(['check', '--store', store, '--trust', inputs.rootCert]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^example\.com: OK\n1 domain checked at .*: 0 errors, 0 warnings, 0 info\n$/);
    const later = mailtlsJSON(['check', '--store', store, '--trust', inputs.rootCert, '--at', '2099-01-01']);
    assert.equal(later.status, 1);
    assert.equal(later.json.ok, false);
    const codes = (later.json.findings as Finding[]).map((f) => `${f.severity} ${f.code}`);
    assert.ok(codes.includes('error CERT_EXPIRED'), codes.join());
  });

  it('without the private root, the served chain is reported as incomplete (exit 1)', () => {
    // install --trust remembered the root for the domain (see store-cmd.test.ts): forgotten here.
    const store = goodStore(inputs);
    rmSync(join(store, 'trust'), { recursive: true });
    const r = mailtlsJSON(['check', '--store', store]);
    assert.equal(r.status, 1);
    const f = (r.json.findings as Finding[]).find((x) => x.code === 'CHAIN_INCOMPLETE');
    assert.equal(f?.severity, 'error');
    assert.match(f?.message ?? '', /Test Root CA/);
  });

  it('finds a private key readable by everyone and prints the chmod that fixes it', () => {
    const store = goodStore(inputs);
    const key = realpathSync(join(store, 'private', 'example.com.key'));
    chmodSync(key, 0o644);
    const r = mailtls(['check', '--store', store, '--trust', inputs.rootCert]);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /^example\.com\n {2}error {3}KEY_FILE_TOO_OPEN: The private key .* has mode 0644: every local user can read it\.\n {10}fix: chmod 600 \S+\n/,
    );
    // The advice works.
    chmodSync(key, 0o600);
    assert.equal(mailtls(['check', '--store', store, '--trust', inputs.rootCert]).status, 0);
  });

  it('check --fix opens an old store (history/ 0700) to readers, closes an open key and gives keys to --group', () => {
    const store = goodStore(inputs);
    const key = realpathSync(join(store, 'private', 'example.com.key'));
    chmodSync(join(store, 'history'), 0o700);
    chmodSync(key, 0o644);
    const before = mailtlsJSON(['check', '--store', store, '--trust', inputs.rootCert]);
    assert.equal(before.status, 1);
    const fixed = mailtlsJSON(['check', '--store', store, '--trust', inputs.rootCert, '--fix']);
    assert.equal(fixed.status, 0, JSON.stringify(fixed.json));
    assert.deepEqual(
      (fixed.json.fixed as { path: string; change: string }[]).map((f) => [f.path, f.change]),
      [
        [join(store, 'history'), 'chmod 0755 (was 0700)'],
        [key, 'chmod 0600 (was 0644)'],
      ],
    );
    const group = process.geteuid?.() === 0 ? 'nogroup' : spawnSync('id', ['-gn']).stdout.toString().trim();
    const gid = Number(spawnSync('getent', ['group', group]).stdout.toString().split(':')[2]);
    const withGroup = mailtls([
      'check',
      '--store',
      store,
      '--trust',
      inputs.rootCert,
      '--fix',
      '--group',
      group,
    ]);
    assert.equal(withGroup.status, 0, withGroup.stdout + withGroup.stderr);
    assert.match(withGroup.stdout, /^fixed .*private: chgrp/m);
    assert.deepEqual([statSync(key).mode & 0o777, statSync(key).gid], [0o640, gid]);
    assert.deepEqual(
      [statSync(join(store, 'private')).mode & 0o777, statSync(join(store, 'private')).gid],
      [0o750, gid],
    );
    // the audit knows the rule: the group's 0640 key is no finding, also without --group
    assert.equal(mailtls(['check', '--store', store, '--trust', inputs.rootCert]).status, 0);
    assert.equal(mailtls(['check', '--store', store, '--group', group]).status, 2, '--group goes with --fix');
  });

  it('reports mail names the certificate does not cover (--pop3 adds pop.<domain>); --errors-only exits 0', () => {
    const store = healthy;
    const r = mailtlsJSON(['check', '--store', store, '--trust', inputs.rootCert, '--pop3']);
    assert.equal(r.status, 1);
    assert.deepEqual(
      (r.json.findings as Finding[]).map((f) => [f.severity, f.code, f.message.split(',')[0]]),
      [['warning', 'NAME_NOT_COVERED', 'The server answers on pop.example.com']],
    );
    const lenient = mailtls([
      'check',
      '--store',
      store,
      '--trust',
      inputs.rootCert,
      '--pop3',
      '--errors-only',
    ]);
    assert.equal(lenient.status, 0, lenient.stdout);
    assert.match(lenient.stdout, /warning NAME_NOT_COVERED: The server answers on pop\.example\.com/);
  });

  it('lists a CSR still waiting for its certificate', () => {
    const store = join(scratch(), 'tls');
    assert.equal(mailtls(['csr', '--store', store, '--cn', 'example.org', '--type', 'ec']).status, 0);
    const r = mailtlsJSON(['check', '--store', store]);
    assert.ok(
      (r.json.findings as Finding[]).some((f) => f.code === 'CSR_PENDING' && f.domain === 'example.org'),
    );
  });

  it('exits 2 for a store directory that does not exist', () => {
    const r = mailtlsJSON(['check', '--store', join(scratch(), 'nope')]);
    assert.equal(r.status, 2);
    assert.equal((r.json.error as { code: string }).code, 'ERR_CLI_READ');
  });
});
