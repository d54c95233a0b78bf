/**
 * Who may read and write the store: certificates and their history readable by everyone, keys by the owner
 * and the store's key group only; the store refuses redirected directories; the audit judges exactly the
 * pair servers load and who could replace it; names the file system cannot hold are refused up front.
 * The unprivileged-server tests create a real group and users (as root) and read the store with setpriv.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreError } from '../../src/errors.js';
import { type AuditFinding, auditStore } from '../../src/node/store/audit.js';
import { storeName } from '../../src/node/store/layout.js';
import { CertificateStore } from '../../src/node/store/store.js';
import { mailtls } from '../cli/helpers.js';
import { repoRoot } from '../helpers/paths.js';
import { AT, issueLeaf, modeOf, scratch, type TestCA, testCA, treeHash } from './helpers/store-fixtures.js';

const NAMES = ['example.test', 'mail.example.test', 'smtp.example.test', 'imap.example.test'];
const isRoot = process.geteuid?.() === 0;
const ROOT_ONLY = isRoot ? false : 'needs root (chown to other users, groupadd/useradd, setpriv)';

let ca: TestCA;
const dirs: { cleanup(): void }[] = [];
function newRoot(): string {
  const d = scratch();
  dirs.push(d);
  // mkdtemp makes 0700: let other users reach the store, as /etc does.
  chmodSync(d.path, 0o755);
  return join(d.path, 'tls');
}

before(async () => {
  ca = await testCA();
});
after(() => {
  for (const d of dirs) d.cleanup();
});

function codes(findings: readonly AuditFinding[]): string[] {
  return findings.map((f) => `${f.code}:${f.severity}`).sort();
}

describe('CertificateStore: certificates readable by everyone, keys restricted', () => {
  it('every directory on the way to certs/<d>.crt is 0755 and the certificate 0644; the key 0600 in a 0700 private/', async () => {
    const store = new CertificateStore(newRoot(), { at: AT, trust: [ca.rootPEM] });
    const l = await issueLeaf(NAMES);
    const r = await store.install({ cert: l.chainPEM, key: l.keyPEM, caBundle: ca.bundlePEM });
    const p = store.paths('example.test');
    for (const dir of [
      store.root,
      join(store.root, 'certs'),
      join(store.root, 'history'),
      p.history,
      join(p.history, r.version),
    ])
      assert.equal(modeOf(dir), 0o755, dir);
    assert.equal(modeOf(p.cert), 0o644);
    assert.equal(modeOf(p.caBundle), 0o644);
    assert.equal(modeOf(join(store.root, 'private')), 0o700);
    assert.equal(modeOf(p.key), 0o600);
    assert.deepEqual((await auditStore(store, { hostnames: () => [] })).findings, []);
  });

  it('group option: private/ 0750 and keys 0640 owned by the group; a later install without it keeps the group', async () => {
    // root's own group (0) is never taken for a key group: use nogroup as root
    const gid = isRoot ? 65534 : process.getgid!();
    const store = new CertificateStore(newRoot(), { at: AT, trust: [ca.rootPEM], group: gid });
    const l = await issueLeaf(NAMES);
    await store.install({ cert: l.chainPEM, key: l.keyPEM });
    const p = store.paths('example.test');
    const priv = statSync(join(store.root, 'private'));
    assert.equal(priv.mode & 0o777, 0o750);
    assert.equal(priv.gid, gid);
    assert.equal(modeOf(p.key), 0o640);
    assert.equal(statSync(p.key).gid, gid);
    assert.deepEqual(
      (await auditStore(store, { hostnames: () => [] })).findings,
      [],
      'the group rule is no finding',
    );
    // renewal without the option: the server in the group must still read the new key
    const plain = new CertificateStore(store.root, { at: AT, trust: [ca.rootPEM] });
    assert.equal(await plain.keyGroup(), gid);
    const l2 = await issueLeaf(NAMES);
    await plain.install({ cert: l2.chainPEM, key: l2.keyPEM });
    assert.equal(modeOf(p.key), 0o640);
    assert.equal(statSync(p.key).gid, gid);
  });

  it('an existing store with the old modes (history/ and versions 0700) is opened by the next install and by fixPermissions', async () => {
    const root = newRoot();
    const store = new CertificateStore(root, { at: AT });
    const l = await issueLeaf(NAMES);
    const first = await store.install({ cert: l.chainPEM, key: l.keyPEM, allowExpired: true });
    const p = store.paths('example.test');
    const old = () => {
      for (const dir of [join(root, 'history'), p.history, join(p.history, first.version)])
        chmodSync(dir, 0o700);
    };
    old();
    const fixes = await store.fixPermissions();
    assert.deepEqual(
      fixes.map((f) => f.path).sort(),
      [join(root, 'history'), p.history, join(p.history, first.version)].sort(),
    );
    assert.equal(modeOf(join(p.history, first.version)), 0o755);
    assert.deepEqual(await store.fixPermissions(), [], 'nothing left to fix');
    old();
    const second = await store
      .install({ cert: (await issueLeaf(NAMES)).chainPEM, key: (await issueLeaf(NAMES)).keyPEM })
      .catch(() => undefined);
    assert.equal(second, undefined, 'a mismatched pair is refused (and fixes nothing)');
    const l2 = await issueLeaf(NAMES);
    const r2 = await store.install({ cert: l2.chainPEM, key: l2.keyPEM });
    for (const dir of [
      join(root, 'history'),
      p.history,
      join(p.history, first.version),
      join(p.history, r2.version),
    ])
      assert.equal(modeOf(dir), 0o755, dir);
    assert.equal(modeOf(join(p.history, first.version, 'private.key')), 0o600);
  });

  it('an unknown group name is ERR_STORE_INVALID_GROUP before anything is written', async () => {
    const root = newRoot();
    const store = new CertificateStore(root, { at: AT, group: 'no-such-group-mailtls' });
    const l = await issueLeaf(NAMES);
    await assert.rejects(store.install({ cert: l.chainPEM, key: l.keyPEM }), {
      code: 'ERR_STORE_INVALID_GROUP',
    });
    assert.equal(existsSync(join(root, 'private')), false);
  });
});

describe('CertificateStore: redirected store directories are refused', () => {
  for (const dir of ['private', 'certs', 'csr', 'history', 'locks']) {
    it(`${dir}/ as a symbolic link: ERR_STORE_LAYOUT, nothing written, and check refuses it too`, async () => {
      const root = newRoot();
      const elsewhere = `${root}-elsewhere`;
      mkdirSync(root, { recursive: true });
      mkdirSync(elsewhere, { mode: 0o700 });
      symlinkSync(elsewhere, join(root, dir));
      const before = treeHash(root) + treeHash(elsewhere);
      const store = new CertificateStore(root, { at: AT });
      const l = await issueLeaf(NAMES);
      await assert.rejects(store.install({ cert: l.chainPEM, key: l.keyPEM }), (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.code, 'ERR_STORE_LAYOUT');
        assert.match(
          e.message,
          new RegExp(`${dir} is a symbolic link \\(to ${elsewhere}\\).*Make it a real directory`),
        );
        return true;
      });
      assert.equal(treeHash(root) + treeHash(elsewhere), before);
      await assert.rejects(auditStore(store), { code: 'ERR_STORE_LAYOUT' });
    });
  }

  it('private/ as a file: ERR_STORE_LAYOUT from install and createCSR', async () => {
    const root = newRoot();
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'private'), 'x');
    const store = new CertificateStore(root, { at: AT });
    await assert.rejects(store.createCSR({ subject: { commonName: 'example.test' } }), {
      code: 'ERR_STORE_LAYOUT',
    });
  });
});

describe('audit: the pair servers load, and who could replace it', () => {
  async function installed(): Promise<{ store: CertificateStore; root: string }> {
    const root = newRoot();
    const store = new CertificateStore(root, { at: AT, trust: [ca.rootPEM] });
    const l = await issueLeaf(NAMES);
    await store.install({ cert: l.chainPEM, key: l.keyPEM, caBundle: ca.bundlePEM });
    return { store, root };
  }

  it('a key moved over private/<d>.key (mv) is KEY_MISMATCH, an error', async () => {
    const { store, root } = await installed();
    const other = await issueLeaf(NAMES);
    const t = join(root, 't');
    writeFileSync(t, other.keyPEM, { mode: 0o600 });
    renameSync(t, join(root, 'private', 'example.test.key'));
    const report = await auditStore(store, { hostnames: () => [] });
    assert.deepEqual(codes(report.findings), ['KEY_MISMATCH:error']);
    assert.equal(report.ok, false);
    assert.match(
      report.findings[0]!.message,
      /private\/example\.test\.key does not belong to \S*certs\/example\.test\.crt/,
    );
  });

  it('an expired certificate moved over certs/<d>.crt is CERT_EXPIRED and KEY_MISMATCH', async () => {
    const { store, root } = await installed();
    const expired = await issueLeaf(NAMES, {
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2027-01-01Z'),
    });
    const t = join(root, 't');
    writeFileSync(t, expired.chainPEM);
    renameSync(t, join(root, 'certs', 'example.test.crt'));
    const report = await auditStore(store, { hostnames: () => [] });
    assert.deepEqual(codes(report.findings), ['CERT_EXPIRED:error', 'KEY_MISMATCH:error']);
  });

  it('private/ or history/ writable by others is an error with the chmod that fixes it (run for real)', async () => {
    for (const dir of ['private', 'history']) {
      const { store, root } = await installed();
      chmodSync(join(root, dir), 0o777);
      const report = await auditStore(store, { hostnames: () => [] });
      const f = report.findings.find((x) => x.code === 'WRITABLE_BY_OTHERS');
      assert.ok(f, `${dir}: ${JSON.stringify(report.findings)}`);
      assert.equal(f.severity, 'error');
      assert.match(f.message, /other users can replace the key/);
      assert.equal(f.fix, `chmod go-w ${join(root, dir)}`);
      spawnSync('sh', ['-c', f.fix!]);
      assert.equal(
        (await auditStore(store, { hostnames: () => [] })).findings.some(
          (x) => x.code === 'WRITABLE_BY_OTHERS',
        ),
        false,
      );
    }
  });

  it('a key, private/, history/ or the root owned by another non-root user is an error with the chown; fixPermissions takes it back', {
    skip: ROOT_ONLY,
  }, async () => {
    for (const which of ['key', 'private', 'history', 'root'] as const) {
      const { store, root } = await installed();
      const path =
        which === 'key'
          ? realpathSync(store.paths('example.test').key)
          : which === 'root'
            ? root
            : join(root, which);
      chownSync(path, 65534, -1);
      const report = await auditStore(store, { hostnames: () => [] });
      const f = report.findings.find((x) => x.code === 'UNTRUSTED_OWNER');
      assert.ok(f, `${which}: ${JSON.stringify(report.findings)}`);
      assert.equal(f.severity, 'error');
      assert.equal(f.fix, `chown root ${path}`);
      assert.equal(report.ok, false);
      if (which !== 'root') {
        await store.fixPermissions();
        assert.equal(statSync(path).uid, 0);
        assert.deepEqual((await auditStore(store, { hostnames: () => [] })).findings, []);
      }
    }
  });
});

describe('store names the file system cannot hold, and the reasons for refused names', () => {
  const label = 'a'.repeat(63);
  const long = `${label}.${label}.${label}.${'b'.repeat(61)}`; // 253 characters: a valid DNS name
  it('a 253-character name is refused up front by every method with ERR_STORE_INVALID_DOMAIN (never ENAMETOOLONG)', async () => {
    assert.equal(long.length, 253);
    const store = new CertificateStore(newRoot(), { at: AT });
    const calls: [string, () => Promise<unknown>][] = [
      ['load', () => store.load(long)],
      ['remove', () => store.remove(long)],
      ['versions', () => store.versions(long)],
      ['rollback', () => store.rollback(long)],
      ['version', () => store.version(long)],
      ['files', () => store.files(long)],
      ['createCSR', () => store.createCSR({ subject: { commonName: long } })],
      [
        'install',
        async () => store.install({ cert: (await issueLeaf(['example.test'])).chainPEM, domain: long }),
      ],
    ];
    for (const [name, call] of calls)
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof StoreError, `${name}: ${String(e)}`);
        assert.equal(e.code, 'ERR_STORE_INVALID_DOMAIN', name);
        assert.match(e.message, /255-byte file-name limit.*up to 219 characters.*shorter name/, name);
        return true;
      });
    // the longest name it holds works end to end (every derived file name fits)
    const longest = `${'c'.repeat(63)}.${'c'.repeat(63)}.${'c'.repeat(63)}.${'c'.repeat(219 - 192)}`;
    assert.equal(storeName(longest).fileName.length, 219);
    const l = await issueLeaf(['short.test', longest]);
    await store.install({ cert: l.chainPEM, key: l.keyPEM, caBundle: ca.bundlePEM, domain: longest });
    assert.equal((await store.load(longest)).domain, longest);
    await store.remove(longest);
  });

  it('gives the right reason: NUL is a control character, :25 is a port, an IPv6 address is an address', () => {
    const rows = [
      { input: 'example.test\0', want: /control character/ },
      {
        input: 'example.test:25',
        want: /a port is not part of a domain \(give "example.test" without ":25"\)/,
      },
      { input: '2001:db8::1', want: /IP addresses are not stored by name/ },
      { input: '192.0.2.1', want: /IP addresses are not stored by name/ },
      { input: 'a/b', want: /path separator/ },
    ];
    for (const r of rows)
      assert.throws(
        () => storeName(r.input),
        (e: unknown) => {
          assert.ok(e instanceof StoreError);
          assert.match(e.message, r.want, JSON.stringify(r.input));
          return true;
        },
      );
  });
});

describe('install arguments are named in errors', () => {
  it("an empty caBundle (a root-only CA's chainPEM '') means no intermediates", async () => {
    const store = new CertificateStore(newRoot(), { at: AT, trust: [ca.rootPEM] });
    const l = await issueLeaf(NAMES);
    for (const caBundle of ['', '\n', new Uint8Array(0)]) {
      const r = await store.install({ cert: l.chainPEM, key: l.keyPEM, caBundle });
      assert.equal(r.files.ca, undefined);
      assert.equal(r.chainComplete, true);
    }
    await assert.rejects(
      store.install({ cert: l.chainPEM, key: l.keyPEM, caBundle: 'garbage' }),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /^caBundle \(the CA bundle\): /);
        return true;
      },
    );
    await assert.rejects(
      store.install({ cert: '', key: l.keyPEM }),
      /^Error: cert \(the certificate\): |cert \(the certificate\)/,
    );
  });

  it('ERR_STORE_NOT_FOUND names a command that exists', async () => {
    const store = new CertificateStore(newRoot(), { at: AT });
    await assert.rejects(store.load('example.test'), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'ERR_STORE_NOT_FOUND');
      const cmd = /mailtls (\S+)/.exec(e.message);
      assert.ok(cmd, e.message);
      assert.ok(commands().has(cmd[1]!), `${cmd[0]}: not a command`);
      return true;
    });
  });

  it('every "mailtls <command>" hint in src/ names a real command', () => {
    const bad: string[] = [];
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    for (const file of walk(join(repoRoot, 'src')))
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue; // comments are not hints
        for (const m of line.matchAll(/mailtls ([A-Za-z][\w-]*)(\(|(?: ([\w-]+|<)))?/g)) {
          const [word, paren, next] = [m[1]!, m[2], m[3]];
          // "mailtls does not..." is prose and "mailtls generateKeyPair()" the API; a command hint is
          // followed by options, a placeholder or a subcommand, or names an API function (camelCase, no
          // parentheses) as if it were a command.
          const hintLike =
            (/[A-Z]/.test(word) && paren !== '(') ||
            next === '<' ||
            next?.startsWith('-') ||
            commands().has(next ?? '');
          if (hintLike && !commands().has(word)) bad.push(`${file}:${i + 1}: ${m[0]}`);
        }
      }
    assert.deepEqual(bad, []);
  });
});

let commandSet: Set<string> | undefined;
/** The commands `mailtls --help` lists. */
function commands(): Set<string> {
  commandSet ??= new Set(
    [
      ...mailtls(['--help'])
        .stdout.split(/\nCommands:\n/)[1]!
        .split('\n\n')[0]!
        .matchAll(/^ {2}([a-z][a-z-]*)/gm),
    ].map((m) => m[1]!),
  );
  return commandSet;
}

describe('a mail server running as an unprivileged member of the store group', { skip: ROOT_ONLY }, () => {
  const tag = `mt${process.pid}`;
  const group = `${tag}g`;
  const member = `${tag}m`;
  const outsider = `${tag}o`;
  const id = (args: string[]) => Number(spawnSync('id', args).stdout.toString().trim());
  const groupId = () => Number(spawnSync('getent', ['group', group]).stdout.toString().split(':')[2]);
  before(() => {
    for (const cmd of [
      ['groupadd', '--system', group],
      ['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '-N', '-G', group, member],
      ['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '-N', outsider],
    ]) {
      const r = spawnSync(cmd[0]!, cmd.slice(1));
      assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
    }
  });
  after(() => {
    spawnSync('userdel', [member]);
    spawnSync('userdel', [outsider]);
    spawnSync('groupdel', [group]);
  });
  /** Runs a command as `user` with only the groups of its account. */
  function as(user: string, inGroup: boolean, cmd: string[]) {
    const uid = id(['-u', user]);
    const gid = id(['-g', user]);
    const groups = inGroup ? ['--groups', String(groupId())] : ['--clear-groups'];
    return spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), ...groups, ...cmd]);
  }

  it('mailtls install --group G: the member reads key and certificate, an outsider only certificates; a TLS server run as the member serves it (openssl s_client)', async () => {
    const root = newRoot();
    const d = scratch();
    dirs.push(d);
    const l = await issueLeaf(NAMES);
    const certFile = join(d.path, 'leaf.crt');
    const keyFile = join(d.path, 'leaf.key');
    const bundleFile = join(d.path, 'bundle.crt');
    const trustFile = join(d.path, 'root.crt');
    writeFileSync(certFile, l.certPEM);
    writeFileSync(keyFile, l.keyPEM, { mode: 0o600 });
    writeFileSync(bundleFile, ca.bundlePEM);
    writeFileSync(trustFile, ca.rootPEM);
    const r = mailtls([
      'install',
      '--store',
      root,
      '--cert',
      certFile,
      '--key',
      keyFile,
      '--chain',
      bundleFile,
      '--trust',
      trustFile,
      '--at',
      AT.toISOString(),
      '--group',
      group,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const key = join(root, 'private', 'example.test.key');
    const cert = join(root, 'certs', 'example.test.crt');
    const bundle = join(root, 'certs', 'example.test.ca-bundle');
    const realKey = realpathSync(key);
    const readAs = (user: string, inGroup: boolean, file: string) =>
      as(user, inGroup, ['cat', file]).status === 0;
    assert.equal(readAs(member, true, key), true, 'the member reads the key');
    assert.equal(readAs(member, true, cert), true, 'the member reads the certificate');
    assert.equal(readAs(outsider, false, cert), true, 'everyone reads the certificate');
    assert.equal(readAs(outsider, false, bundle), true, 'everyone reads the CA bundle');
    assert.equal(readAs(outsider, false, key), false, 'an outsider cannot read the key');
    assert.equal(readAs(outsider, false, realKey), false, 'nor the key file inside history/');
    assert.equal(readAs(member, false, key), false, 'the member without the group cannot read the key');
    assert.deepEqual(
      (await auditStore(new CertificateStore(root, { at: AT, trust: [ca.rootPEM] }), { hostnames: () => [] }))
        .findings,
      [],
    );

    // a server that opens the files as Postfix or Dovecot would, started as the member
    const script =
      "const fs=require('fs'),tls=require('tls');" +
      `const s=tls.createServer({key:fs.readFileSync(${JSON.stringify(key)}),cert:fs.readFileSync(${JSON.stringify(cert)})},(c)=>c.end('ok\\n'));` +
      "s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port+' uid '+process.getuid()));";
    const uid = id(['-u', member]);
    const gid = id(['-g', member]);
    const ggid = groupId();
    const server = spawn(
      'setpriv',
      [
        '--reuid',
        String(uid),
        '--regid',
        String(gid),
        '--groups',
        String(ggid),
        process.execPath,
        '-e',
        script,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        server.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(out);
        });
        server.stderr.on('data', (b: Buffer) => {
          err += b.toString();
        });
        server.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
        server.on('error', reject);
      });
      const m = /port (\d+) uid (\d+)/.exec(line);
      assert.ok(m, line);
      assert.equal(Number(m[2]), uid, 'the server runs as the unprivileged member');
      const s = spawnSync(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${m[1]}`, '-servername', 'mail.example.test', '-showcerts'],
        { input: '', timeout: 20_000 },
      );
      const served = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(s.stdout.toString());
      assert.ok(served, s.stderr.toString());
      assert.equal(
        new X509Certificate(served[0]).fingerprint256,
        new X509Certificate(l.certPEM).fingerprint256,
      );
    } finally {
      server.kill();
    }
  });
});
