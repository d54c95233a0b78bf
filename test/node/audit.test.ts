/**
 * auditStore over a real store holding one problem per domain (every finding code), the `fix` commands run
 * for real (chmod) and checked with stat, and the certbot and Kubernetes adapters audited the same way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreError } from '../../src/errors.js';
import { encodePrivateKeyPEM } from '../../src/keys/private-key.js';
import { type AuditFinding, auditStore } from '../../src/node/store/audit.js';
import { KubernetesSecretSource } from '../../src/node/store/layouts.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { AT, issueLeaf, scratch, type TestCA, testCA } from './helpers/store-fixtures.js';

let ca: TestCA;
let dir: { path: string; cleanup(): void };
before(async () => {
  ca = await testCA();
  dir = scratch('mailtls-audit-');
});
after(() => dir.cleanup());

const mailNames = (d: string) => [d, `mail.${d}`, `smtp.${d}`, `imap.${d}`];

function byDomain(findings: readonly AuditFinding[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of findings) {
    out[f.domain] ??= [];
    out[f.domain]!.push(f.code);
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

function sh(cmd: string, cwd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd });
  assert.equal(r.status, 0, `${cmd}: ${r.stderr.toString()}`);
}

describe('auditStore: one problem per domain', () => {
  it('reports each problem with its code and severity, and nothing for a healthy domain', async () => {
    const root = join(dir.path, 'store');
    const store = new CertificateStore(root, { at: AT, trust: [ca.rootPEM] });
    const install = async (
      d: string,
      names = mailNames(d),
      opts: { notBefore?: Date; notAfter?: Date; allowExpired?: boolean } = {},
    ) => {
      const { allowExpired, ...dates } = opts;
      const l = await issueLeaf(names, dates);
      await store.install({ cert: l.certPEM, key: l.keyPEM, caBundle: ca.bundlePEM, allowExpired });
    };
    await install('good.example');
    await install('partial.example', ['partial.example', 'mail.partial.example']);
    await install('custom.example', ['custom.example', 'mail.custom.example']);
    const nochain = await issueLeaf(mailNames('nochain.example'));
    await store.install({ cert: nochain.certPEM, key: nochain.keyPEM });
    await install('expiring.example', mailNames('expiring.example'), {
      notBefore: new Date('2027-04-01Z'),
      notAfter: new Date('2027-06-30Z'),
    });
    await install('expired.example', mailNames('expired.example'), {
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2027-01-01Z'),
      allowExpired: true,
    });
    const enc = await issueLeaf(mailNames('encrypted.example'));
    await store.install({
      cert: enc.certPEM,
      caBundle: ca.bundlePEM,
      key: await encodePrivateKeyPEM(enc.key, { passphrase: 'pw', iterations: 1000 }),
      passphrase: 'pw',
    });
    // a CN-only certificate, signed by the test intermediate with openssl
    const work = join(dir.path, 'openssl');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'int.pem'), ca.intermediatePEM);
    writeFileSync(join(work, 'int.key'), await encodePrivateKeyPEM(ca.ca.intermediate!.key));
    sh(
      'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cn.key -subj /CN=cnonly.example -out cn.csr 2>/dev/null && ' +
        'openssl x509 -req -in cn.csr -CA int.pem -CAkey int.key -set_serial 7 -days 3650 -out cn.pem 2>/dev/null',
      work,
    );
    const cnPEM = spawnSync('cat', [join(work, 'cn.pem')]).stdout.toString();
    assert.equal(parseCertificate(cnPEM).hasSubjectAltName, false);
    const cnKey = spawnSync('cat', [join(work, 'cn.key')]).stdout.toString();
    await assert.rejects(store.install({ cert: cnPEM, key: cnKey, caBundle: ca.bundlePEM }), {
      code: 'ERR_HOSTNAME_MISMATCH',
    });
    await store.install({ cert: cnPEM, key: cnKey, caBundle: ca.bundlePEM, legacyCommonName: true });
    // hand-placed files: a mismatched pair, a key alone, a certificate alone
    const a = await issueLeaf(mailNames('mismatch.example'));
    const b = await issueLeaf(mailNames('mismatch.example'));
    writeFileSync(join(root, 'certs', 'mismatch.example.crt'), a.chainPEM);
    writeFileSync(join(root, 'private', 'mismatch.example.key'), b.keyPEM, { mode: 0o600 });
    writeFileSync(join(root, 'private', 'orphankey.example.key'), b.keyPEM, { mode: 0o600 });
    writeFileSync(
      join(root, 'certs', 'lonely.example.crt'),
      (await issueLeaf(mailNames('lonely.example'))).chainPEM,
    );
    await store.createCSR({ subject: { commonName: 'pending.example' } });

    const report = await auditStore(store, {
      hostnames: { 'custom.example': ['custom.example', 'mx9.custom.example'] },
    });
    assert.deepEqual(byDomain(report.findings), {
      'partial.example': ['NAME_NOT_COVERED', 'NAME_NOT_COVERED'],
      'custom.example': ['NAME_NOT_COVERED'],
      'nochain.example': ['CHAIN_INCOMPLETE'],
      'expiring.example': ['CERT_EXPIRING'],
      'expired.example': ['CERT_EXPIRED'],
      'encrypted.example': ['KEY_ENCRYPTED'],
      'cnonly.example': ['CN_ONLY'],
      'mismatch.example': ['KEY_MISMATCH'],
      'orphankey.example': ['KEY_WITHOUT_CERT'],
      'lonely.example': ['CERT_WITHOUT_KEY'],
      'pending.example': ['CSR_PENDING'],
    });
    assert.equal(report.ok, false);
    assert.ok(report.domains.includes('good.example'));
    const find = (d: string, code: string) => report.findings.find((f) => f.domain === d && f.code === code)!;
    assert.deepEqual(
      report.findings
        .filter((f) => f.domain === 'partial.example')
        .map((f) => /server answers on (\S+),/.exec(f.message)?.[1]),
      ['smtp.partial.example', 'imap.partial.example'],
    );
    assert.match(find('custom.example', 'NAME_NOT_COVERED').message, /mx9\.custom\.example/);
    assert.equal(find('expiring.example', 'CERT_EXPIRING').severity, 'warning');
    assert.match(find('expiring.example', 'CERT_EXPIRING').message, /28 days left of 90/);
    assert.equal(find('expired.example', 'CERT_EXPIRED').severity, 'error');
    assert.equal(find('cnonly.example', 'CN_ONLY').severity, 'error');
    assert.match(
      find('mismatch.example', 'KEY_MISMATCH').message,
      /private\/mismatch\.example\.key does not belong to \S*certs\/mismatch\.example\.crt/,
    );
    assert.equal(find('pending.example', 'CSR_PENDING').severity, 'info');
    assert.match(find('nochain.example', 'CHAIN_INCOMPLETE').message, /Store Test Root Intermediate/);
    for (const f of report.findings)
      assert.ok(!f.message.includes('PRIVATE KEY') && !(f.fix ?? '').includes('PRIVATE KEY'));
    // an untrusted private root shows when the audit does not know it: the store's own trust applies unless
    // the options give their own
    assert.ok(!report.findings.some((f) => f.code === 'CHAIN_UNTRUSTED_ROOT'));
    const untrusted = await auditStore(store, { at: AT, hostnames: () => [], trust: [] });
    assert.ok(
      untrusted.findings.some((f) => f.domain === 'good.example' && f.code === 'CHAIN_UNTRUSTED_ROOT'),
    );
  });
});

describe('auditStore: modes, with the fix commands run for real', () => {
  it('key file 0644 is an error, 0640 a warning, private/ 0755 a warning; `fix` repairs each', async () => {
    const root = join(dir.path, 'modes');
    const store = new CertificateStore(root, { at: AT, trust: [ca.rootPEM] });
    const l = await issueLeaf(mailNames('example.com'));
    await store.install({ cert: l.certPEM, key: l.keyPEM, caBundle: ca.bundlePEM });
    const realKey = realpathSync(store.paths('example.com').key);
    const clean = await auditStore(store);
    assert.deepEqual(clean.findings, []);
    assert.equal(clean.ok, true);

    chmodSync(realKey, 0o644);
    chmodSync(join(root, 'private'), 0o755);
    const open = await auditStore(store);
    const file = open.findings.find((f) => f.code === 'KEY_FILE_TOO_OPEN')!;
    const dirF = open.findings.find((f) => f.code === 'KEY_DIR_TOO_OPEN')!;
    assert.equal(file.severity, 'error');
    assert.equal(file.fix, `chmod 600 ${realKey}`);
    assert.match(file.message, /mode 0644: every local user can read it/);
    assert.equal(dirF.severity, 'warning');
    assert.equal(dirF.fix, `chmod 700 ${join(root, 'private')}`);
    assert.equal(open.ok, false);
    for (const f of [file, dirF]) sh(f.fix!, root);
    assert.equal(statSync(realKey).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'private')).mode & 0o777, 0o700);

    chmodSync(realKey, 0o640);
    const group = (await auditStore(store)).findings;
    assert.deepEqual(
      group.map((f) => [f.code, f.severity]),
      [['KEY_FILE_TOO_OPEN', 'warning']],
    );
    sh(group[0]!.fix!, root);
    assert.deepEqual((await auditStore(store)).findings, []);
  });
});

describe('auditStore: an intermediate that expires before the leaf', () => {
  it('reports INTERMEDIATE_EXPIRES_FIRST and makes renewal due (openssl-made chain)', async () => {
    const work = join(dir.path, 'short-intermediate');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'root.pem'), ca.rootPEM);
    writeFileSync(join(work, 'root.key'), await encodePrivateKeyPEM(ca.ca.root.key));
    writeFileSync(
      join(work, 'ca.ext'),
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
    );
    writeFileSync(
      join(work, 'leaf.ext'),
      'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:short.example,DNS:mail.short.example,DNS:smtp.short.example,DNS:imap.short.example\n',
    );
    // dates relative to now: the intermediate lives 200 days, the leaf 400
    sh(
      [
        'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key -subj "/CN=Short Intermediate" -out int.csr',
        'openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 11 -days 200 -extfile ca.ext -out int.pem',
        'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -subj /CN=short.example -out leaf.csr',
        'openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 12 -days 400 -extfile leaf.ext -out leaf.pem',
      ].join(' 2>/dev/null && ') + ' 2>/dev/null',
      work,
    );
    const file = (n: string) => spawnSync('cat', [join(work, n)]).stdout.toString();
    const at = new Date(Date.now() + 184 * 86_400_000);
    const store = new CertificateStore(join(dir.path, 'short-store'), { at, trust: [ca.rootPEM] });
    const r = await store.install({
      cert: file('leaf.pem'),
      key: file('leaf.key'),
      caBundle: file('int.pem'),
    });
    assert.equal(r.chainComplete, true);
    const report = await auditStore(store);
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.severity]),
      [
        ['CERT_EXPIRING', 'warning'],
        ['INTERMEDIATE_EXPIRES_FIRST', 'warning'],
      ],
    );
    assert.match(report.findings[1]!.message, /CN=Short Intermediate expires on/);
  });
});

describe('auditStore over the Kubernetes adapter', () => {
  it('a secret mounted with the default mode 0644 is reported with the defaultMode fix', async () => {
    const mount = join(dir.path, 'k8s');
    const ts = '..2026_11_29_10_30_00.000000001';
    mkdirSync(join(mount, ts), { recursive: true });
    const l = await issueLeaf(['example.com', 'mail.example.com']);
    writeFileSync(join(mount, ts, 'tls.crt'), l.chainPEM, { mode: 0o644 });
    writeFileSync(join(mount, ts, 'tls.key'), l.keyPEM, { mode: 0o644 });
    writeFileSync(join(mount, ts, 'ca.crt'), ca.rootPEM, { mode: 0o644 });
    symlinkSync(ts, join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(join('..data', f), join(mount, f));
    const report = await auditStore(new KubernetesSecretSource(mount, { name: 'example.com' }), {
      at: AT,
      trust: [parseCertificate(ca.rootPEM)],
      hostnames: () => ['example.com', 'mail.example.com'],
    });
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.severity]),
      [['KEY_FILE_TOO_OPEN', 'error']],
    );
    assert.match(report.findings[0]!.fix!, /defaultMode: 0400/);
  });
});

describe('auditStore over a damaged store', () => {
  it('reports what it cannot read, and a store directory that is a file is ERR_STORE_LAYOUT (never a raw fs error)', async () => {
    const rows: {
      name: string;
      input: (root: string) => Promise<void>;
      want?: Record<string, string[]>;
      wantCode?: string;
    }[] = [
      {
        name: 'a directory where certs/<name>.crt should be',
        input: async (root) => {
          const l = await issueLeaf(['example.com']);
          mkdirSync(join(root, 'certs', 'example.com.crt'), { recursive: true });
          mkdirSync(join(root, 'private'), { mode: 0o700 });
          writeFileSync(join(root, 'private', 'example.com.key'), l.keyPEM, { mode: 0o600 });
        },
        want: { 'example.com': ['UNREADABLE'] },
      },
      {
        name: 'a file where private/ should be',
        input: async (root) => {
          mkdirSync(root);
          writeFileSync(join(root, 'private'), 'not a directory');
        },
        wantCode: 'ERR_STORE_LAYOUT',
      },
    ];
    for (const [i, row] of rows.entries()) {
      const root = join(dir.path, `damaged-${i}`);
      await row.input(root);
      const audit = auditStore(new CertificateStore(root, { at: AT }), { hostnames: () => [] });
      if (row.wantCode === undefined) assert.deepEqual(byDomain((await audit).findings), row.want, row.name);
      else
        await assert.rejects(audit, (e: unknown) => {
          assert.ok(e instanceof StoreError, `${row.name}: ${String(e)}`);
          assert.equal(e.code, row.wantCode, row.name);
          return true;
        });
    }
  });
});
