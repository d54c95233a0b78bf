/**
 * `mailtls admin init` and `mailtls admin`: the login is created from a password file (hash only on disk), the
 * administrator refuses to start without it, and serves over HTTPS on loopback: with the store's certificate
 * for --host when there is one, else with a self-signed one announced loudly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import { createCertificateAuthority, issueCertificate } from '../../src/index.js';
import { CertificateStore } from '../../src/node/index.js';
import { mailtls, mainJs, scratch } from './helpers.js';

const dir = scratch();
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `mailtls admin`, resolves with the URL it prints, the served leaf's fingerprint and its stderr. */
async function serve(
  args: string[],
): Promise<{ url: string; fingerprint: string; stderr: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [mainJs, 'admin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
    });
  });
  const { port } = new URL(url);
  const fingerprint = await new Promise<string>((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, servername: 'admin.example.test' },
      () => {
        s.write(`GET /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
      },
    );
    let response = '';
    s.on('data', (b: Buffer) => {
      response += b.toString();
    });
    s.on('end', () => {
      assert.match(response, /^HTTP\/1\.1 200/);
      assert.match(response, /content-security-policy: default-src 'none'/i);
      assert.match(response, /name="password"/);
      resolve(s.getPeerCertificate().fingerprint256);
    });
    s.on('error', reject);
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  return { url, fingerprint, stderr, stop };
}

describe('mailtls admin', () => {
  const store = join(dir, 'store');
  const pw = join(dir, 'pw.txt');

  it('refuses to serve before init, and init refuses a short password', () => {
    const r = mailtls(['admin', '--store', store, '--listen', '127.0.0.1:0']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /mailtls admin init --store/);
    writeFileSync(pw, 'short\n');
    const bad = mailtls(['admin', 'init', '--store', store, '--password-file', pw]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /ERR_SETTINGS_ADMIN/);
  });

  it('init stores an scrypt hash, never the password', () => {
    writeFileSync(pw, 'a long admin password\n');
    const r = mailtls(['admin', 'init', '--store', store, '--user', 'alice', '--password-file', pw]);
    assert.equal(r.status, 0, r.stderr);
    const users = readFileSync(join(store, 'admin/users.json'), 'utf8');
    assert.match(users, /"alice"/);
    assert.match(users, /"scrypt"/);
    assert.ok(!users.includes('a long admin password'));
  });

  it('serves over HTTPS on loopback with a self-signed certificate, said loudly, and stops on SIGTERM', async () => {
    const s = await serve(['--store', store, '--listen', '127.0.0.1:0', '--host', 'admin.example.test']);
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(s.stderr, /SELF-SIGNED/);
    assert.match(s.stderr, new RegExp(s.fingerprint.replace(/:/g, ':')));
    assert.equal(await s.stop(), 0);
  });

  it("serves with the store's certificate for --host when the store has one", async () => {
    const ca = await createCertificateAuthority({
      name: 'CLI Admin Root',
      days: 365,
      notBefore: new Date(Date.now() - 60_000),
    });
    const certStore = new CertificateStore(store, { trust: [ca.root.certPEM] });
    const req = await certStore.createCSR({ subject: { commonName: 'admin.example.test' }, keyType: 'ec' });
    const issued = await issueCertificate(req.csrPEM, ca.issuer, {
      days: 30,
      notBefore: new Date(Date.now() - 60_000),
    });
    await certStore.install({ cert: issued.certPEM, caBundle: ca.root.certPEM });
    const want = (await certStore.load('admin.example.test')).leaf.fingerprint('sha256');
    const s = await serve(['--store', store, '--listen', '127.0.0.1:0', '--host', 'admin.example.test']);
    assert.doesNotMatch(s.stderr, /SELF-SIGNED/);
    assert.equal(s.fingerprint, want);
    assert.equal(await s.stop(), 0);
  });
});
