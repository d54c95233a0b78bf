/**
 * The web administrator: server-rendered pages (no JavaScript) for the whole certificate chapter of a mail
 * server: domains and their certificates, create a CSR and its key, view a CSR or certificate (never a key),
 * install the CA's certificate and bundle (or a `.pfx`) after a preview, history and rollback, TLS settings per
 * domain and service, and "test now" probes of every enabled port.
 *
 * {@link createAdminHandler} returns a Node request listener (`(req, res)`), to mount into `http`/`https`
 * servers, Express or Connect, and a standard `fetch` handler. It is never loaded by `import 'mailtls'`.
 *
 * Security: login required (accounts made by {@link setAdminPassword} / `mailtls admin init`, scrypt hashes in
 * the store) unless an `authorize(request)` hook answers for the product's own login; a session cookie
 * `Secure; HttpOnly; SameSite=Strict` that expires; a CSRF token on every POST; a Content-Security-Policy
 * without `unsafe-inline` (one style sheet served as a file); every certificate or CSR value escaped; wrong
 * passwords slowed down per client address and per user name (a doubling delay, answered at once with 429 and
 * `Retry-After`, then a lockout); an audit log in the store of who changed what.
 *
 * Kept across restarts, in the store's `admin/` directory (0600, replaced atomically): the sessions (each under
 * the SHA-256 of its id; the CSRF token is derived from the id) and the last "test now" of each domain. Kept in
 * memory only: the failed-login counts, staged uploads, and the CSRF secret of `authorize`-hook users.
 *
 * @module admin
 */
import { getRequestListener } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import {
  appendAdminAudit,
  loadAdminProbes,
  loadAdminSessions,
  saveAdminProbe,
  saveAdminSessions,
  verifyAdminPassword,
} from '../node/settings/index.js';
import { MAIL_SERVICES, type MailService } from '../settings/index.js';
import type { AdminHandlerOptions } from './options.js';
import { registerPages } from './pages.js';
import { type AdminSession, LoginLimiter, randomToken, SessionStore, sameSecret } from './security.js';
import type { AdminEnv, AdminState } from './state.js';
import { ADMIN_CSS } from './style.js';
import { loginPage } from './views.js';

export {
  type AdminAuditRecord,
  hasAdminUsers,
  MIN_ADMIN_PASSWORD,
  readAdminAudit,
  type SetAdminPasswordOptions,
  setAdminPassword,
} from '../node/settings/index.js';
export type { AdminHandlerOptions, AdminProbeOptions } from './options.js';

/** A Node request listener with the standard `fetch` handler attached. */
export interface AdminHandler {
  /** Handles a Node request (mount it in `http.createServer`, `https.createServer`, Express...). */
  (...args: Parameters<NodeRequestListener>): Promise<void>;
  /** The same application as a `fetch` handler (for tests and fetch-style servers). */
  fetch: (request: Request) => Response | Promise<Response>;
}

/** The shape of a Node `(req, res)` listener, as `@hono/node-server` types it. */
type NodeRequestListener = ReturnType<typeof getRequestListener>;

const SESSION_COOKIE = 'mailtls_admin';
const LOGIN_COOKIE = 'mailtls_login';

function clientAddress(c: Context<AdminEnv>): string {
  return c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Creates the administrator's request handler.
 *
 * @throws TypeError when `store` is missing or `basePath` does not start with `/`.
 * @example
 * ```ts
 * import https from 'node:https';
 * import { CertificateStore } from 'mailtls/node';
 * import { createAdminHandler } from 'mailtls/admin';
 *
 * const handler = createAdminHandler({ store: new CertificateStore('/etc/mail/tls'), basePath: '/admin' });
 * https.createServer({ key, cert }, handler).listen(8443, '127.0.0.1');
 * ```
 */
export function createAdminHandler(options: AdminHandlerOptions): AdminHandler {
  if (options === null || typeof options !== 'object' || options.store === undefined)
    throw new TypeError('options.store (a CertificateStore) is required');
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) throw new TypeError('basePath must start with /');
  const now = options.now ?? (() => new Date());
  const ms = (): number => now().getTime();
  const root = options.store.root;
  const keep = options.persistSessions ?? true;
  const sessions = new SessionStore(
    options.sessionIdleMs ?? 30 * 60_000,
    options.sessionMaxAgeMs ?? 8 * 3_600_000,
    ms,
    keep ? { load: () => loadAdminSessions(root), save: (list) => saveAdminSessions(root, list) } : undefined,
  );
  const limiter = new LoginLimiter(
    options.maxLoginFailures ?? 5,
    options.loginWindowMs ?? 15 * 60_000,
    ms,
    options.loginDelayMs ?? 250,
    options.maxLoginDelayMs ?? 30_000,
  );
  const secure = options.secureCookie ?? true;
  const cookiePath = base === '' ? '/' : base;
  const services = new Set<string>(MAIL_SERVICES.map((m) => m.service));

  const state: AdminState = {
    options,
    base,
    now,
    sessions,
    uploads: new Map(),
    lastProbe: async (domain) => {
      const p = (await loadAdminProbes(root)).get(domain);
      if (p === undefined || Number.isNaN(Date.parse(p.at))) return undefined;
      const results = p.results
        .filter((r) => services.has(r.service))
        .map((r) => ({ ...r, service: r.service as MailService }));
      return { at: new Date(p.at), results };
    },
    saveProbe: (domain, at, results) => saveAdminProbe(root, domain, { at: at.toISOString(), results }),
    audit: (c, action, domain, detail) =>
      appendAdminAudit(root, {
        at: now(),
        user: c.get('user'),
        action,
        ...(domain === undefined ? {} : { domain }),
        ...(detail === undefined ? {} : { detail }),
      }),
  };

  const app = new Hono<AdminEnv>().basePath(base === '' ? '/' : base);

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginResourcePolicy: 'same-origin',
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });
  app.use(
    '*',
    bodyLimit({ maxSize: 1 << 20, onError: (c) => c.text('upload too large (at most 1 MiB)', 413) }),
  );

  app.get('/favicon.ico', (c) => c.body(null, 404));
  app.get('/static/admin.css', (c) => {
    c.header('cache-control', 'max-age=3600');
    return c.body(ADMIN_CSS, 200, { 'content-type': 'text/css; charset=utf-8' });
  });

  // One login token per browser for its lifetime: a second GET /login (another tab, or a redirected
  // favicon request) must not invalidate the form already shown.
  const loginToken = (c: Context<AdminEnv>): string => {
    const had = getCookie(c, LOGIN_COOKIE);
    const token = had !== undefined && /^[A-Za-z0-9_-]{43}$/.test(had) ? had : randomToken();
    setCookie(c, LOGIN_COOKIE, token, {
      path: cookiePath,
      httpOnly: true,
      secure,
      sameSite: 'Strict',
      maxAge: 600,
    });
    return token;
  };

  if (options.authorize === undefined) {
    app.get('/login', (c) => c.html(loginPage(base, loginToken(c))));
    app.post('/login', async (c) => {
      const body = await c.req.parseBody();
      const user = typeof body.user === 'string' ? body.user.slice(0, 64) : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const cookie = getCookie(c, LOGIN_COOKIE) ?? '';
      if (typeof body._csrf !== 'string' || !sameSecret(body._csrf, cookie))
        return c.html(loginPage(base, loginToken(c), 'The form expired: log in again.'), 403);
      const keys = [`ip:${clientAddress(c)}`, `user:${user.toLowerCase()}`];
      const gate = limiter.begin(keys);
      if (!gate.ok) {
        const wait = Math.max(1, Math.ceil(gate.retryAfterMs / 1000));
        c.header('retry-after', String(wait));
        const why =
          gate.reason === 'lockout'
            ? `Too many failed logins: wait ${wait} seconds.`
            : `Too soon after a failed login: wait ${wait} second${wait === 1 ? '' : 's'} and try again.`;
        return c.html(loginPage(base, loginToken(c), why), 429);
      }
      let right: boolean;
      try {
        right = await verifyAdminPassword(root, user, password);
        if (right) limiter.succeed(keys);
        else limiter.fail(keys);
      } finally {
        gate.release();
      }
      if (!right) {
        await appendAdminAudit(root, {
          at: now(),
          user: user === '' ? '(none)' : user,
          action: 'login-failed',
          detail: clientAddress(c),
        });
        return c.html(loginPage(base, loginToken(c), 'Wrong user name or password.'), 401);
      }
      await sessions.ready();
      const s = sessions.create(user);
      await sessions.flush();
      setCookie(c, SESSION_COOKIE, s.id, {
        path: cookiePath,
        httpOnly: true,
        secure,
        sameSite: 'Strict',
        maxAge: Math.floor(sessions.maxAgeMs / 1000),
      });
      deleteCookie(c, LOGIN_COOKIE, { path: cookiePath, secure });
      await appendAdminAudit(root, { at: now(), user, action: 'login', detail: clientAddress(c) });
      return c.redirect(`${base}/`, 303);
    });
  }

  // Everything else needs a user, and every POST its CSRF token.
  app.use('*', async (c, next) => {
    let user: string | undefined;
    let session: AdminSession | undefined;
    let csrf: string;
    if (options.authorize !== undefined) {
      user = await options.authorize(c.req.raw);
      if (user === undefined) return c.text('Forbidden: not authorised for the TLS administrator.', 403);
      csrf = sessions.userToken(user);
    } else {
      await sessions.ready();
      session = sessions.get(getCookie(c, SESSION_COOKIE));
      if (session === undefined) {
        if (c.req.method === 'GET' || c.req.method === 'HEAD') return c.redirect(`${base}/login`, 303);
        return c.text('Log in first.', 401);
      }
      user = session.user;
      csrf = session.csrf;
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== 'null') {
        let host: string | undefined;
        try {
          host = new URL(origin).host;
        } catch {
          host = undefined;
        }
        if (host !== c.req.header('host')) return c.text('Forbidden: cross-origin request.', 403);
      }
      const body = await c.req.parseBody();
      if (typeof body._csrf !== 'string' || !sameSecret(body._csrf, csrf))
        return c.text('Forbidden: the form has no valid CSRF token. Reload the page and try again.', 403);
    }
    c.set('user', user);
    c.set('csrf', csrf);
    c.set('session', session);
    await next();
  });

  app.post('/logout', async (c) => {
    sessions.delete(getCookie(c, SESSION_COOKIE));
    await sessions.flush();
    deleteCookie(c, SESSION_COOKIE, { path: cookiePath, secure });
    await state.audit(c, 'logout');
    return c.redirect(`${base}/login`, 303);
  });

  registerPages(app, state);

  app.onError((e, c) => {
    // Never echo a stack; MailTlsError messages are written for administrators and carry no key material.
    const message =
      e instanceof Error && 'code' in e ? `${(e as { code: string }).code}: ${e.message}` : 'internal error';
    return c.text(`Error: ${message}`, 500);
  });

  const listener = getRequestListener(app.fetch) as unknown as AdminHandler;
  listener.fetch = (request) => app.fetch(request);
  return listener;
}
