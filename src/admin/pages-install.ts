import type { Hono } from 'hono';
import { html } from 'hono/html';
import { previewInstall, type StagedUpload } from './inspect.js';
import { type C, certRows, errorText, flash, page } from './page-helpers.js';
import { randomToken } from './security.js';
import type { AdminEnv, AdminState } from './state.js';
import { badge, csrfField, domainURL, layout, type Markup } from './views.js';

/** Registers the install and rollback pages. */
export function registerInstallPages(app: Hono<AdminEnv>, s: AdminState): void {
  const store = s.options.store;
  const trust = s.options.trust ?? [];

  // ---------------------------------------------------------------------------------------------------
  // Install

  const installForm = (c: C, domain: string, error?: string): Markup => {
    const p = page(c, s);
    return layout(
      p,
      'Install a certificate',
      html`<div class="card"><form class="stack" method="post" action="${s.base}/install" enctype="multipart/form-data">${csrfField(p)}
<label for="domain">Domain</label><input id="domain" type="text" name="domain" value="${domain}"><p class="advice">Leave empty to use the certificate's Common Name.</p>
<label for="cert">Certificate (paste)</label><textarea id="cert" name="cert" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
<label for="certFile">or certificate file (.crt, .pem, .cer, .p7b)</label><input id="certFile" type="file" name="certFile">
<label for="caBundle">CA bundle (paste, any order)</label><textarea id="caBundle" name="caBundle"></textarea>
<label for="caFile">or CA bundle file (.ca-bundle)</label><input id="caFile" type="file" name="caFile">
<label for="pfx">or a .pfx / .p12 file with key and chain</label><input id="pfx" type="file" name="pfx">
<label for="pfxPassword">.pfx password</label><input id="pfxPassword" type="password" name="pfxPassword" autocomplete="off">
<div class="actions"><button type="submit">Preview</button></div></form></div>`,
      error,
    );
  };

  app.get('/install', (c) => c.html(installForm(c, c.req.query('domain') ?? '')));

  app.post('/install', async (c) => {
    const body = await c.req.parseBody();
    const text = async (paste: unknown, file: unknown): Promise<string | undefined> => {
      if (file instanceof File && file.size > 0)
        return Buffer.from(await file.arrayBuffer()).toString('latin1');
      return typeof paste === 'string' && paste.trim() !== '' ? paste : undefined;
    };
    const domain =
      typeof body.domain === 'string' && body.domain.trim() !== '' ? body.domain.trim() : undefined;
    const pfx =
      body.pfx instanceof File && body.pfx.size > 0
        ? new Uint8Array(await body.pfx.arrayBuffer())
        : undefined;
    const upload: StagedUpload = {
      id: randomToken(),
      user: c.get('user'),
      expires: s.now().getTime() + 15 * 60_000,
      domain,
      ...(pfx === undefined
        ? { cert: await text(body.cert, body.certFile), caBundle: await text(body.caBundle, body.caFile) }
        : { pkcs12: pfx, password: typeof body.pfxPassword === 'string' ? body.pfxPassword : '' }),
    };
    if (upload.pkcs12 === undefined && upload.cert === undefined)
      return c.html(
        installForm(c, domain ?? '', 'Paste or upload the certificate the CA sent (or a .pfx file).'),
        400,
      );
    let preview: Awaited<ReturnType<typeof previewInstall>>;
    try {
      preview = await previewInstall(store, upload, trust, s.now());
    } catch (e) {
      return c.html(installForm(c, domain ?? '', errorText(e)), 400);
    }
    const now = s.now().getTime();
    for (const [id, u] of s.uploads) if (u.expires < now) s.uploads.delete(id);
    s.uploads.set(upload.id, { ...upload, domain: preview.domain });
    const p = page(c, s);
    const reordered =
      preview.givenOrder.join('\n') !== preview.chain.map((x) => x.subject.toString()).join('\n');
    return c.html(
      layout(
        p,
        `Preview: ${preview.domain}`,
        html`<div class="card"><h2>Certificate</h2>${certRows(preview.leaf, preview.complete, s.now())}
<dl class="grid"><dt>Private key</dt><dd>${preview.keyMatch === undefined ? badge('bad', 'no key in the store matches this certificate: the install will be refused') : badge('ok', `matches ${preview.keyMatch}`)}</dd></dl></div>
<div class="card"><h2>Chain as it will be served</h2><ol>${preview.chain.map((x) => html`<li class="mono">${x.subject.toString()}</li>`)}</ol>
${reordered ? html`<p class="muted">The upload listed them in another order; mailtls put them in order.</p>` : ''}
${preview.problems.map((x) => html`<p class="${x.code === 'missing-intermediate' || x.code === 'untrusted-root' ? 'warn' : 'muted'}">${x.message}</p>`)}</div>
<form method="post" action="${s.base}/install/confirm">${csrfField(p)}<input type="hidden" name="upload" value="${upload.id}">
<div class="actions"><button type="submit">Install</button><a href="${s.base}/install">Cancel</a></div></form>`,
      ),
    );
  });

  app.post('/install/confirm', async (c) => {
    const body = await c.req.parseBody();
    const id = typeof body.upload === 'string' ? body.upload : '';
    const upload = s.uploads.get(id);
    if (upload === undefined || upload.user !== c.get('user') || upload.expires < s.now().getTime())
      return c.html(installForm(c, '', 'The preview expired: upload the certificate again.'), 400);
    s.uploads.delete(id);
    try {
      const r = await store.install({
        ...(upload.domain === undefined ? {} : { domain: upload.domain }),
        ...(upload.pkcs12 === undefined
          ? { cert: upload.cert, ...(upload.caBundle === undefined ? {} : { caBundle: upload.caBundle }) }
          : { pkcs12: upload.pkcs12, password: upload.password ?? '' }),
      });
      await s.audit(c, 'install', r.domain, `${r.version} ${r.leaf.fingerprint('sha256')}`);
      flash(c, `Installed version ${r.version}; servers watching the store serve it to the next connection.`);
      for (const w of r.warnings) flash(c, `Note: ${w.message}`);
      return c.redirect(domainURL(s.base, r.domain), 303);
    } catch (e) {
      return c.html(installForm(c, upload.domain ?? '', errorText(e)), 400);
    }
  });

  app.post('/d/:domain/rollback', async (c) => {
    const domain = c.req.param('domain');
    const body = await c.req.parseBody();
    try {
      const r = await store.rollback(
        domain,
        typeof body.to === 'string' && body.to !== '' ? { to: body.to } : {},
      );
      await s.audit(c, 'rollback', r.domain, `${r.from} -> ${r.to}`);
      flash(c, `Rolled back from ${r.from} to ${r.to}.`);
      return c.redirect(domainURL(s.base, r.domain), 303);
    } catch (e) {
      return c.html(layout(page(c, s), domain, html``, errorText(e)), 400);
    }
  });
}
