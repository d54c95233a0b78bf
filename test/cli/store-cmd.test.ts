// `mailtls store list|versions|rollback|remove|export`, `renew-check` (with faketime past a third of the
// lifetime) and the root remembered by `install --trust` for `check`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { needs, skipWithout } from '../helpers/peers.js';
import {
  mailtls,
  mailtlsJSON,
  mailtlsOnTTY,
  mainJs,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  scratch,
} from './helpers.js';

interface ListRow {
  domain: string;
  daysLeft: number;
  keyType: string;
  issuer: string;
  renewalDue: boolean;
  notAfter: string;
}

describe('mailtls store, renew-check, remembered --trust', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  /** A store with the openssl-made leaf installed under mail.example.com (reseller bundle in the wrong order). */
  function storeWithLeaf(extra: string[] = []): string {
    const store = join(scratch(), 'tls');
    const r = mailtls([
      ...['install', '--store', store, '--cert', inputs.leafCert, '--chain', inputs.resellerBundle],
      ...['--key', inputs.leafKey, ...extra],
    ]);
    assert.equal(r.status, 0, r.stderr);
    return store;
  }

  it('list: days left, key type, issuer and renewal from the certificates; versions, rollback', () => {
    const store = storeWithLeaf();
    const list = mailtlsJSON(['store', 'list', '--store', store]);
    assert.equal(list.status, 0, list.stderr);
    const rows = list.json.domains as ListRow[];
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.domain, 'mail.example.com');
    assert.equal(row.keyType, 'EC P-256');
    assert.equal(row.issuer, 'Test Intermediate CA');
    assert.equal(row.renewalDue, false);
    const end = openssl(['x509', '-in', inputs.leafCert, '-noout', '-enddate'])
      .trim()
      .replace('notAfter=', '');
    assert.equal(row.notAfter, new Date(end).toISOString());
    assert.equal(row.daysLeft, Math.floor((Date.parse(row.notAfter) - Date.now()) / 86_400_000));
    const text = mailtls(['store', 'list', '--store', store]);
    assert.match(
      text.stdout,
      /^mail\.example\.com +\d+ +\d{4}-\d\d-\d\d +EC P-256 +\d{4}-\d\d-\d\d +Test Intermediate CA$/m,
    );

    // A second version (the same pair again), then back.
    assert.equal(
      mailtls([
        'install',
        '--store',
        store,
        '--cert',
        inputs.wrongOrderFullchain,
        '--key',
        inputs.leafKey,
        '--domain',
        'mail.example.com',
      ]).status,
      0,
    );
    const v = mailtlsJSON(['store', 'versions', 'mail.example.com', '--store', store]);
    const versions = v.json.versions as { id: string; current: boolean }[];
    assert.equal(versions.length, 2);
    assert.deepEqual(
      versions.map((x) => x.current),
      [false, true],
    );
    const back = mailtlsJSON(['store', 'rollback', 'mail.example.com', '--store', store]);
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(back.json, { domain: 'mail.example.com', from: versions[1]!.id, to: versions[0]!.id });
    const fwd = mailtlsJSON(['store', 'rollback', 'mail.example.com', versions[1]!.id, '--store', store]);
    assert.equal(fwd.json.to, versions[1]!.id);
    const none = mailtlsJSON([
      'store',
      'rollback',
      'mail.example.com',
      'v999999-20990101T000000Z',
      '--store',
      store,
    ]);
    assert.equal(none.status, 2);
    assert.equal((none.json.error as { code: string }).code, 'ERR_STORE_NOT_FOUND');
    const missing = mailtls(['store', 'list', '--store', join(scratch(), 'nothing-here')]);
    assert.equal(missing.status, 2);
  });

  it('remove keeps the history (rollback puts it back); --purge deletes it', () => {
    const store = storeWithLeaf();
    const rm = mailtlsJSON(['store', 'remove', 'mail.example.com', '--store', store]);
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal(rm.json.historyKept, true);
    assert.ok(!existsSync(join(store, 'certs', 'mail.example.com.crt')));
    assert.ok(!existsSync(join(store, 'private', 'mail.example.com.key')));
    assert.deepEqual((mailtlsJSON(['store', 'list', '--store', store]).json.domains as unknown[]).length, 0);
    assert.equal(
      readdirSync(join(store, 'history', 'mail.example.com')).filter((n) => n.startsWith('v')).length,
      1,
    );
    const back = mailtlsJSON(['store', 'rollback', 'mail.example.com', '--store', store]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.json.from, 'none');
    // In service again: the key and the certificate a server reads belong together.
    assert.equal(
      openssl(['x509', '-in', join(store, 'certs', 'mail.example.com.crt'), '-noout', '-pubkey']),
      openssl(['pkey', '-in', join(store, 'private', 'mail.example.com.key'), '-pubout']),
    );
    const purge = mailtls(['store', 'remove', 'mail.example.com', '--store', store, '--purge', '--yes']);
    assert.equal(purge.status, 0, purge.stderr);
    assert.ok(!existsSync(join(store, 'history', 'mail.example.com')));
    const gone = mailtlsJSON(['store', 'remove', 'mail.example.com', '--store', store]);
    assert.equal(gone.status, 2);
    assert.equal((gone.json.error as { code: string }).code, 'ERR_STORE_NOT_FOUND');
  });

  it('remove asks on a terminal: no keeps the domain, yes removes it', (t) => {
    if (skipWithout(t, 'script')) return;
    const store = storeWithLeaf();
    const no = mailtlsOnTTY(['store', 'remove', 'mail.example.com', '--store', store], 'n\n');
    assert.match(no.output, /Take mail\.example\.com out of .* \(its history is kept\)\? \[y\/N\]/);
    assert.equal(no.status, 1);
    assert.ok(existsSync(join(store, 'certs', 'mail.example.com.crt')));
    const yes = mailtlsOnTTY(['store', 'remove', 'mail.example.com', '--store', store], 'y\n');
    assert.equal(yes.status, 0, yes.output);
    assert.ok(!existsSync(join(store, 'certs', 'mail.example.com.crt')));
  });

  it('export: the chain as PEM, a .pfx openssl opens, a Postfix chain file (0600, key first)', () => {
    const store = storeWithLeaf();
    const pem = mailtls(['store', 'export', 'mail.example.com', '--store', store]);
    assert.equal(pem.status, 0, pem.stderr);
    assert.equal(
      pem.stdout,
      openssl(['x509', '-in', inputs.leafCert]) + openssl(['x509', '-in', inputs.intermediateCert]),
    );
    const dir = scratch();
    const pass = join(dir, 'pass.txt');
    writeFileSync(pass, 'export pw\n');
    const pfx = join(dir, 'example.pfx');
    const p = mailtls([
      'store',
      'export',
      'mail.example.com',
      '--store',
      store,
      '--format',
      'pfx',
      '--out',
      pfx,
      '--password-file',
      pass,
    ]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(statSync(pfx).mode & 0o777, 0o600);
    const opened = openssl(['pkcs12', '-in', pfx, '-passin', `file:${pass}`, '-nodes']);
    assert.match(opened, /BEGIN PRIVATE KEY/);
    assert.match(opened, /CN = mail\.example\.com/);
    assert.match(opened, /CN = Test Intermediate CA/);
    const pf = join(dir, 'postfix.pem');
    const f = mailtls([
      'store',
      'export',
      'mail.example.com',
      '--store',
      store,
      '--format',
      'postfix-chain',
      '--out',
      pf,
    ]);
    assert.equal(f.status, 0, f.stderr);
    assert.equal(statSync(pf).mode & 0o777, 0o600);
    const body = readFileSync(pf, 'utf8');
    assert.match(body, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(openssl(['verify', '-CAfile', inputs.rootCert, '-untrusted', pf, pf]), /: OK/);
    const noPw = mailtls([
      'store',
      'export',
      'mail.example.com',
      '--store',
      store,
      '--format',
      'pfx',
      '--out',
      join(dir, 'x.pfx'),
    ]);
    assert.equal(noPw.status, 2);
    assert.ok(!existsSync(join(dir, 'x.pfx')));
  });

  it(
    'renew-check: exit 0 now, exit 1 under faketime past a third of the lifetime, and with --days',
    needs('faketime'),
    () => {
      const dir = scratch();
      const ca = join(dir, 'ca');
      assert.equal(mailtls(['ca', 'init', '--out', ca]).status, 0);
      const cert = join(dir, 'mail.crt');
      assert.equal(
        mailtls(['sign', '--ca', ca, '--csr', inputs.csr, '--days', '90', '--out', cert]).status,
        0,
      );
      const store = join(dir, 'tls');
      const inst = mailtls([
        ...['install', '--store', store, '--cert', cert, '--key', inputs.leafKey],
        ...['--domain', 'example.com', '--trust', join(ca, 'root.crt')],
      ]);
      assert.equal(inst.status, 0, inst.stderr);
      const now = mailtlsJSON(['renew-check', '--store', store]);
      assert.equal(now.status, 0, now.stdout);
      assert.deepEqual(now.json.due, []);
      const run = (offset: string, ...args: string[]) =>
        spawnSync('faketime', [offset, process.execPath, mainJs, 'renew-check', '--store', store, ...args], {
          encoding: 'utf8',
          timeout: 60_000,
        });
      // 90 days: renewal is due once 30 days are left, i.e. after 60 days.
      const before60 = run('+59 days');
      assert.equal(before60.status, 0, before60.stdout + before60.stderr);
      const after60 = run('+61 days');
      assert.equal(after60.status, 1, after60.stdout + after60.stderr);
      assert.match(after60.stdout, /^due example\.com: 28 days left/m);
      const expired = run('+91 days', '--json');
      assert.equal(expired.status, 1);
      const j = JSON.parse(expired.stdout) as { due: string[]; domains: { expired: boolean }[] };
      assert.deepEqual(j.due, ['example.com']);
      assert.equal(j.domains[0]!.expired, true);
      // --days: due when fewer than N days are left, even before the third.
      const minDays = mailtls(['renew-check', '--store', store, '--days', '100', '--quiet']);
      assert.equal(minDays.status, 1);
      assert.match(minDays.stdout, /^due example\.com/m);
    },
  );

  it('install --trust remembers the root: check does not call the chain untrusted for that domain', () => {
    const store = storeWithLeaf(['--trust', inputs.rootCert]);
    const file = join(store, 'trust', 'mail.example.com.pem');
    assert.equal(
      openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']),
      openssl(['x509', '-in', inputs.rootCert, '-noout', '-fingerprint', '-sha256']),
    );
    const codes = () =>
      (mailtlsJSON(['check', '--store', store]).json.findings as { domain: string; code: string }[]).map(
        (f) => f.code,
      );
    assert.ok(!codes().includes('CHAIN_UNTRUSTED_ROOT'), codes().join(','));
    // Without the remembered root the same store warns: the check above can fail.
    rmSync(file);
    assert.ok(codes().includes('CHAIN_UNTRUSTED_ROOT'));
    // A domain installed without --trust does not borrow another domain's root.
    const store2 = storeWithLeaf(['--trust', inputs.rootCert]);
    const other = mailtls([
      ...['install', '--store', store2, '--cert', inputs.leafCert, '--chain', inputs.resellerBundle],
      ...['--key', inputs.leafKey, '--domain', 'imap.example.com'],
    ]);
    assert.equal(other.status, 0, other.stderr);
    const findings = mailtlsJSON(['check', '--store', store2]).json.findings as {
      domain: string;
      code: string;
    }[];
    assert.deepEqual(
      findings.filter((f) => f.code === 'CHAIN_UNTRUSTED_ROOT').map((f) => f.domain),
      ['imap.example.com'],
    );
  });
});
