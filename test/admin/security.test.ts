/**
 * The web administrator's protections over raw HTTP: no access without login, sessions that expire, a CSRF
 * token on every POST, a CSP without unsafe-inline, escaped certificate values, never a key in a response, and
 * wrong passwords slowed down. Each test fails when its protection is taken out.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAdminHandler } from '../../src/admin/index.js';
import {
  type CertificateAuthorityHierarchy,
  createCertificateAuthority,
  issueCertificate,
} from '../../src/index.js';
import { CertificateStore } from '../../src/node/index.js';
import { listStoreCSRs, readAdminAudit, setAdminPassword } from '../../src/node/settings/index.js';

const PASSWORD = 'correct horse battery staple';
const dir = mkdtempSync(join(tmpdir(), 'mailtls-admin-sec-'));
const root = join(dir, 'store');
let ca: CertificateAuthorityHierarchy;
let server: http.Server;
let base: string;
let offsetMs = 0;
/** A stopped clock for the login-delay test (undefined: the real clock plus `offsetMs`). */
let frozenMs: number | undefined;
const bodies: string[] = [];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

async function call(
  path: string,
  init: { method?: string; cookie?: string | undefined; form?: Record<string, string>; origin?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  if (init.origin !== undefined) headers.origin = init.origin;
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.form === undefined ? 'GET' : 'POST'),
    headers,
    redirect: 'manual',
    ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form) }),
  });
  const text = await res.text();
  const h: string[] = [];
  res.headers.forEach((v, k) => {
    h.push(`${k}: ${v}`);
  });
  bodies.push(text, h.join('\n'));
  return { status: res.status, headers: res.headers, text };
}

function cookieOf(r: Reply, name: string): string | undefined {
  for (const c of r.headers.getSetCookie()) if (c.startsWith(`${name}=`)) return c;
  return undefined;
}

function csrfOf(text: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(text);
  assert.ok(m, 'the page has a CSRF field');
  return m[1]!;
}

async function login(user = 'admin', password = PASSWORD): Promise<{ reply: Reply; cookie?: string }> {
  const page = await call('/login');
  const pre = cookieOf(page, 'mailtls_login')!.split(';')[0]!;
  const reply = await call('/login', { cookie: pre, form: { _csrf: csrfOf(page.text), user, password } });
  const set = cookieOf(reply, 'mailtls_admin');
  return set === undefined ? { reply } : { reply, cookie: set.split(';')[0]! };
}

before(async () => {
  ca = await createCertificateAuthority({
    name: 'Admin Test Root',
    intermediate: true,
    days: 3650,
    notBefore: new Date(Date.now() - 3_600_000),
  });
  const store = new CertificateStore(root, { trust: [ca.root.certPEM] });
  await setAdminPassword(root, { user: 'admin', password: PASSWORD });
  const handler = createAdminHandler({
    store,
    trust: [ca.root.certPEM],
    resolve: async () => ['192.0.2.10'],
    now: () => new Date(frozenMs ?? Date.now() + offsetMs),
  });
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('admin: security over raw HTTP', () => {
  it('nothing without login: pages redirect to /login, actions are 401, req.pem is not served', async () => {
    for (const path of [
      '/',
      '/csr/new',
      '/install',
      '/audit',
      '/d/example.test',
      '/d/example.test/req.pem',
      '/d/example.test/cert.json',
    ]) {
      const r = await call(path);
      assert.equal(r.status, 303, path);
      assert.equal(r.headers.get('location'), '/login');
    }
    const r = await call('/csr/new', { form: { _csrf: 'x', domain: 'example.test' } });
    assert.equal(r.status, 401);
    assert.deepEqual(await listStoreCSRs(root), []);
    const forged = await call('/', { cookie: 'mailtls_admin=forged-session-id' });
    assert.equal(forged.status, 303);
  });

  it('the session cookie is Secure, HttpOnly, SameSite=Strict with a Max-Age; a login needs the login token', async () => {
    const noToken = await call('/login', { form: { user: 'admin', password: PASSWORD } });
    assert.equal(noToken.status, 403);
    assert.equal(cookieOf(noToken, 'mailtls_admin'), undefined);
    const { reply } = await login();
    assert.equal(reply.status, 303);
    const set = cookieOf(reply, 'mailtls_admin')!;
    assert.match(set, /; Secure/);
    assert.match(set, /; HttpOnly/);
    assert.match(set, /; SameSite=Strict/);
    assert.match(set, /; Max-Age=\d+/);
  });

  it('sessions expire after 30 minutes without a request', async () => {
    const { cookie } = await login();
    assert.equal((await call('/', { cookie })).status, 200);
    offsetMs += 31 * 60_000;
    try {
      assert.equal((await call('/', { cookie })).status, 303);
    } finally {
      offsetMs -= 31 * 60_000;
    }
  });

  it('every page has a CSP without unsafe-inline, and no script or inline style', async () => {
    const { cookie } = await login();
    for (const path of ['/login', '/', '/csr/new?domain=example.test', '/install', '/audit']) {
      const r = await call(path, { cookie });
      assert.equal(r.status, 200, path);
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /style-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.doesNotMatch(r.text, /<script|style="/i, path);
      assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN');
    }
  });

  it('a POST without its CSRF token is refused and changes nothing; with it, it works', async () => {
    const { cookie } = await login();
    const form = { domain: 'csrf.example.test', hostnames: 'mail.csrf.example.test', keyType: 'ec' };
    const none = await call('/csr/new', { cookie, form });
    assert.equal(none.status, 403);
    const wrong = await call('/csr/new', { cookie, form: { ...form, _csrf: 'A'.repeat(43) } });
    assert.equal(wrong.status, 403);
    const page = await call('/csr/new?domain=csrf.example.test', { cookie });
    const token = csrfOf(page.text);
    const crossSite = await call('/csr/new', {
      cookie,
      form: { ...form, _csrf: token },
      origin: 'https://evil.example',
    });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(await listStoreCSRs(root), []);
    const ok = await call('/csr/new', { cookie, form: { ...form, _csrf: token } });
    assert.equal(ok.status, 303);
    assert.deepEqual(
      (await listStoreCSRs(root)).map((x) => x.domain),
      ['csrf.example.test'],
    );
    assert.equal((await readAdminAudit(root))[0]?.action, 'create-csr');
  });

  it('a subject with <script> and " is shown as text in every view; no key in any response', async () => {
    const { cookie } = await login();
    const page = await call('/csr/new?domain=xss.example.test', { cookie });
    const r = await call('/csr/new', {
      cookie,
      form: {
        _csrf: csrfOf(page.text),
        domain: 'xss.example.test',
        organization: '<script>alert(1)</script>"q',
        hostnames: 'mail.xss.example.test',
        keyType: 'ec',
      },
    });
    assert.equal(r.status, 303, r.text);
    const csrPage = await call('/d/xss.example.test/csr', { cookie });
    const store = new CertificateStore(root, { trust: [ca.root.certPEM] });
    const csrPEM = readFileSync(join(root, 'csr/xss.example.test.csr'), 'utf8');
    const issued = await issueCertificate(csrPEM, ca.issuer, {
      days: 30,
      notBefore: new Date(Date.now() - 60_000),
    });
    await store.install({ cert: issued.certPEM, caBundle: ca.intermediate!.certPEM });
    const views = [
      csrPage,
      await call('/d/xss.example.test', { cookie }),
      await call('/d/xss.example.test/cert', { cookie }),
    ];
    for (const v of views) {
      assert.equal(v.status, 200);
      assert.doesNotMatch(v.text, /<script>alert/);
      assert.match(v.text, /&lt;script\\?&gt;alert\(1\)\\?&lt;\/script\\?&gt;/);
    }
    assert.match(views[2]!.text, /&quot;q|\\&quot;q/);
    const json = await call('/d/xss.example.test/cert.json', { cookie });
    assert.equal(json.headers.get('content-type'), 'application/json');
    // The key in service: no line of its base64 appears in anything the administrator sent.
    const keyPEM = readFileSync(join(root, 'private/xss.example.test.key'), 'utf8');
    const lines = keyPEM.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    assert.ok(lines.length > 0);
    for (const b of bodies) {
      assert.doesNotMatch(b, /PRIVATE KEY/);
      for (const l of lines) assert.ok(!b.includes(l), 'a line of the private key appeared in a response');
    }
  });

  it('wrong passwords are slowed down: each failure doubles the wait, reported by 429 and Retry-After', async () => {
    // The handler's clock stands still, so "right after" does not depend on how busy the machine is.
    frozenMs = Date.now() + offsetMs;
    const at = (ms: number) => {
      frozenMs = (frozenMs as number) + ms;
    };
    try {
      const first = await login('admin', 'wrong password 0');
      assert.equal(first.reply.status, 401);
      assert.match(first.reply.text, /Wrong user name or password/);
      // Right after the first failure: refused at once, even with the right password; nothing is checked.
      const early = await login();
      assert.equal(early.reply.status, 429);
      assert.equal(early.cookie, undefined);
      assert.equal(early.reply.headers.get('retry-after'), '1');
      assert.match(early.reply.text, /Too soon after a failed login/);
      // From another user name, the client address alone still has to wait.
      assert.equal((await login('someone-else', 'wrong password x')).reply.status, 429);
      at(250);
      assert.equal((await login('admin', 'wrong password 1')).reply.status, 401);
      // The second failure doubled the delay: 250 ms later is still too early, 500 ms is not.
      at(250);
      assert.equal((await login('admin', 'wrong password 2')).reply.status, 429);
      at(250);
      assert.equal((await login('admin', 'wrong password 2')).reply.status, 401);
      at(999);
      assert.equal((await login('admin', 'wrong password 3')).reply.status, 429);
      at(1);
      // Two at once: one is checked, the other refused (the delay cannot be got around in parallel).
      const both = await Promise.all([
        login('admin', 'wrong password 3'),
        login('admin', 'wrong password 4'),
      ]);
      assert.deepEqual(both.map((b) => b.reply.status).sort(), [401, 429]);
      const failures = (await readAdminAudit(root)).filter((e) => e.action === 'login-failed').length;
      assert.equal(failures, 4, 'refused attempts never reached the password check');
      at(2000);
      assert.equal((await login('admin', 'wrong password 4')).reply.status, 401);
      // Five failures in the window: the lockout, whatever the delay.
      at(60_000);
      const locked = await login();
      assert.equal(locked.reply.status, 429);
      assert.match(locked.reply.text, /Too many failed logins/);
      assert.ok(Number(locked.reply.headers.get('retry-after')) > 600);
      at(16 * 60_000);
      const later = await login();
      assert.equal(later.reply.status, 303);
      assert.ok(later.cookie);
      // A success clears the delay: the next failure is checked at once, not refused.
      assert.equal((await login('admin', 'wrong password 5')).reply.status, 401);
      at(250);
      assert.equal((await login()).reply.status, 303);
    } finally {
      frozenMs = undefined;
    }
  });
});

describe('admin: the authorize hook', () => {
  it('replaces the login; a refused request is 403; POSTs still need the CSRF token', async () => {
    const store = new CertificateStore(root, { trust: [ca.root.certPEM] });
    const handler = createAdminHandler({
      store,
      basePath: '/tls',
      authorize: (req) => (req.headers.get('x-sso-user') === 'carol' ? 'carol' : undefined),
    });
    const get = (path: string, user?: string) =>
      handler.fetch(
        new Request(`http://admin.local${path}`, {
          headers: user === undefined ? {} : { 'x-sso-user': user },
        }),
      );
    assert.equal((await get('/tls/')).status, 403);
    assert.equal((await get('/tls/login')).status, 403);
    const page = await get('/tls/csr/new?domain=sso.example.test', 'carol');
    assert.equal(page.status, 200);
    const token = csrfOf(await page.text());
    const post = (form: Record<string, string>) =>
      handler.fetch(
        new Request('http://admin.local/tls/csr/new', {
          method: 'POST',
          headers: { 'x-sso-user': 'carol' },
          body: new URLSearchParams(form),
        }),
      );
    assert.equal((await post({ domain: 'sso.example.test', keyType: 'ec' })).status, 403);
    const ok = await post({
      _csrf: token,
      domain: 'sso.example.test',
      keyType: 'ec',
      hostnames: 'mail.sso.example.test',
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/tls/d/sso.example.test/csr');
    assert.equal((await readAdminAudit(root))[0]?.user, 'carol');
  });
});

describe('admin: sessions and probe results outlive a restart of the handler', () => {
  const STATE_PASSWORD = 'restart proof password';
  const make = (clockMs = 0) =>
    createAdminHandler({
      store: new CertificateStore(root, { trust: [ca.root.certPEM] }),
      resolve: async () => ['192.0.2.10'],
      now: () => new Date(Date.now() + clockMs),
      probe: { connect: '127.0.0.1', ports: () => closedPort, timeoutMs: 5000 },
    });
  let closedPort = 0;
  const send = async (
    handler: ReturnType<typeof make>,
    path: string,
    init: { cookie?: string | undefined; form?: Record<string, string> } = {},
  ) => {
    const res = await handler.fetch(
      new Request(`https://admin.local${path}`, {
        method: init.form === undefined ? 'GET' : 'POST',
        headers: init.cookie === undefined ? {} : { cookie: init.cookie },
        redirect: 'manual',
        ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form) }),
      }),
    );
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  it('a logged-in browser stays logged in, its CSRF token still works, and the last probe is still shown', async () => {
    const probeServer = net.createServer();
    await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
    closedPort = (probeServer.address() as AddressInfo).port;
    await new Promise((resolve) => probeServer.close(resolve));
    await setAdminPassword(root, { user: 'restarter', password: STATE_PASSWORD });

    const first = make();
    const page = await send(first, '/login');
    const pre = page.headers
      .getSetCookie()
      .find((c) => c.startsWith('mailtls_login='))!
      .split(';')[0]!;
    const done = await send(first, '/login', {
      cookie: pre,
      form: { _csrf: csrfOf(page.text), user: 'restarter', password: STATE_PASSWORD },
    });
    assert.equal(done.status, 303);
    const cookie = done.headers
      .getSetCookie()
      .find((c) => c.startsWith('mailtls_admin='))!
      .split(';')[0]!;
    const id = cookie.slice('mailtls_admin='.length);
    const domainPage = await send(first, '/d/restart.example.test', { cookie });
    assert.equal(domainPage.status, 200);
    assert.match(domainPage.text, /Not tested yet/);
    const tested = await send(first, '/d/restart.example.test/probe', {
      cookie,
      form: { _csrf: csrfOf(domainPage.text) },
    });
    assert.equal(tested.status, 303);

    // The file holds the hash of the session id, never the id (nor the CSRF token), and only its owner reads it.
    const file = join(root, 'admin/sessions.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const kept = readFileSync(file, 'utf8');
    assert.ok(!kept.includes(id), 'the session id is not in the file');
    assert.ok(!kept.includes(csrfOf(domainPage.text)), 'the CSRF token is not in the file');
    assert.ok(kept.includes(createHash('sha256').update(id).digest('base64url')));
    assert.equal(statSync(join(root, 'admin/probes.json')).mode & 0o777, 0o600);

    // A new handler on the same store: the same cookie is still logged in, with the same CSRF token.
    const second = make();
    const again = await send(second, '/d/restart.example.test', { cookie });
    assert.equal(again.status, 200);
    assert.equal(csrfOf(again.text), csrfOf(domainPage.text));
    assert.match(again.text, /Tested \d{4}-\d\d-\d\dT/);
    const rows = [...again.text.matchAll(/<tr data-service="([a-z0-9]+)">/g)].map((m) => m[1]);
    assert.deepEqual(rows.sort(), ['https', 'imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'smtps', 'submission']);
    assert.match(again.text, /failed/);
    // A cookie whose session the file holds a hash of cannot be forged from the hash.
    const hashCookie = `mailtls_admin=${createHash('sha256').update(id).digest('base64url')}`;
    assert.equal((await send(second, '/', { cookie: hashCookie })).status, 303);

    // Expiry is honoured across the restart: 31 minutes later, a new handler refuses the cookie.
    assert.equal((await send(make(31 * 60_000), '/', { cookie })).status, 303);

    // A logout is kept too: after it, another restart does not bring the session back.
    const loggedOut = await send(second, '/logout', { cookie, form: { _csrf: csrfOf(again.text) } });
    assert.equal(loggedOut.status, 303);
    assert.equal((await send(make(), '/', { cookie })).status, 303);
  });

  it('without persistence a restart logs the browser out (the test above depends on the store)', async () => {
    const handler = (keep: boolean) =>
      createAdminHandler({
        store: new CertificateStore(root, { trust: [ca.root.certPEM] }),
        persistSessions: keep,
      });
    const a = handler(false);
    const page = await send(a, '/login');
    const pre = page.headers
      .getSetCookie()
      .find((c) => c.startsWith('mailtls_login='))!
      .split(';')[0]!;
    const done = await send(a, '/login', {
      cookie: pre,
      form: { _csrf: csrfOf(page.text), user: 'restarter', password: STATE_PASSWORD },
    });
    const cookie = done.headers
      .getSetCookie()
      .find((c) => c.startsWith('mailtls_admin='))!
      .split(';')[0]!;
    assert.equal((await send(a, '/', { cookie })).status, 200);
    assert.equal((await send(handler(true), '/', { cookie })).status, 303);
  });
});
