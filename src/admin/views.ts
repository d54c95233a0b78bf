/**
 * The administrator's pages, rendered on the server with Hono's `html` template: every interpolated value is
 * HTML-escaped (a subject such as `O=<script>` is shown as text); nothing is marked raw but other templates.
 * No page has a script; forms post to the server.
 *
 * @module admin/views
 */
import { html } from 'hono/html';
import type { Certificate } from '../index.js';
import { MAIL_SERVICES, type MailService, type TLSSettings } from '../settings/index.js';

/** Markup produced by {@link html}. */
export type Markup = ReturnType<typeof html>;

/** What every page needs. */
export interface PageContext {
  readonly base: string;
  readonly user: string | undefined;
  readonly csrf: string | undefined;
  readonly flash: readonly string[];
}

/** A hidden CSRF field. */
export function csrfField(p: PageContext): Markup {
  return html`<input type="hidden" name="_csrf" value="${p.csrf ?? ''}">`;
}

/** The frame of every page. */
export function layout(p: PageContext, title: string, body: Markup, error?: string): Markup {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mailtls administrator</title><link rel="stylesheet" href="${p.base}/static/admin.css"></head>
<body><header><span class="brand">mailtls</span>${
    p.user === undefined
      ? ''
      : html`<nav><a href="${p.base}/">Domains</a><a href="${p.base}/csr/new">Create CSR</a><a href="${p.base}/install">Install certificate</a><a href="${p.base}/audit">Audit log</a></nav>
<span class="user">${p.user}</span>${
          p.csrf === undefined
            ? ''
            : html`<form method="post" action="${p.base}/logout">${csrfField(p)}<button class="link" type="submit">Log out</button></form>`
        }`
  }</header>
<main>${p.flash.map((f) => html`<div class="flash">${f}</div>`)}${error === undefined ? '' : html`<div class="error" role="alert">${error}</div>`}
<h1>${title}</h1>${body}</main></body></html>`;
}

/** The login form. */
export function loginPage(base: string, token: string, error?: string): Markup {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · mailtls administrator</title>
<link rel="stylesheet" href="${base}/static/admin.css"></head><body>
<header><span class="brand">mailtls</span></header>
<main class="login"><div class="card"><h1>Log in</h1>
${error === undefined ? '' : html`<div class="error" role="alert">${error}</div>`}
<form class="stack" method="post" action="${base}/login">
<input type="hidden" name="_csrf" value="${token}">
<label for="user">User</label><input id="user" type="text" name="user" autocomplete="username" required>
<label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Log in</button></div></form></div></main></body></html>`;
}

/** A badge. */
export function badge(kind: 'ok' | 'warn' | 'bad', text: string): Markup {
  return html`<span class="badge ${kind}">${text}</span>`;
}

/** Whole days from `at` to `d`. */
export function daysLeft(d: Date, at: Date): number {
  return Math.floor((d.getTime() - at.getTime()) / 86_400_000);
}

/** A key's type as an administrator reads it: `RSA 2048`, `EC P-256`, `Ed25519`. */
export function keyLabel(c: Certificate): string {
  const k = c.publicKeyInfo as { type?: string; bits?: number; curve?: string };
  if (k.type === 'rsa') return `RSA ${k.bits ?? ''}`.trim();
  if (k.type === 'ec') return `EC ${k.curve ?? k.bits ?? ''}`.trim();
  if (k.type === 'ed25519') return 'Ed25519';
  return 'unsupported key type';
}

/** `path` relative to the base, for a domain. */
export function domainURL(base: string, domain: string, rest = ''): string {
  return `${base}/d/${encodeURIComponent(domain)}${rest}`;
}

/** The settings form of one domain. */
export function settingsForm(p: PageContext, domain: string, settings: TLSSettings, own: boolean): Markup {
  const d = own ? (settings.domains[domain] ?? settings.defaults) : settings.defaults;
  const profiles = (service: MailService, current: string): Markup =>
    html`<select name="${service}.profile" aria-label="${service} profile">${[
      'intermediate',
      'modern',
      ...(service === 'smtp' ? ['legacy-port-25'] : []),
    ].map((n) => html`<option value="${n}"${n === current ? ' selected' : ''}>${n}</option>`)}</select>`;
  return html`<form method="post" action="${domainURL(p.base, domain, '/settings')}">${csrfField(p)}
<input type="hidden" name="revision" value="${settings.revision}">
<p class="muted">${own ? 'This domain has its own settings.' : 'This domain follows the server defaults; saving gives it its own settings.'} Revision ${settings.revision}${settings.savedBy === undefined ? '' : html` by ${settings.savedBy}`}.</p>
<table><thead><tr><th>Service</th><th>Port</th><th>Enabled</th><th>TLS</th><th>Profile</th></tr></thead><tbody>
${MAIL_SERVICES.map((s) => {
  const v = d.services[s.service];
  return html`<tr><td>${s.label}</td><td>${s.port}</td>
<td><input type="checkbox" name="${s.service}.enabled" aria-label="enable ${s.service}"${v.enabled ? ' checked' : ''}></td>
<td>${
    s.tls === 'implicit'
      ? html`<span class="muted">implicit</span>`
      : html`<select name="${s.service}.starttls" aria-label="${s.service} starttls"><option value="offered"${v.starttls === 'offered' ? ' selected' : ''}>STARTTLS offered</option><option value="required"${v.starttls === 'required' ? ' selected' : ''}>STARTTLS required</option></select>`
  }</td><td>${profiles(s.service, v.profile)}</td></tr>`;
})}
</tbody></table>
<p class="muted">Enabled and Profile apply to this domain's names on a shared port when the server reads the TLS hello before choosing (mailtls's peeking servers, as in examples/mail-server.ts): another domain on the same port keeps its own. A server on node's SNICallback path can only vary the certificate per name; there the profile of a port is the loosest of the domains that serve it.</p>
<h2 class="spaced">Outgoing SMTP</h2>
<div class="grid"><dt>TLS</dt><dd><select name="outgoing.tls"><option value="opportunistic"${d.outgoing.tls === 'opportunistic' ? ' selected' : ''}>opportunistic (when offered)</option><option value="required"${d.outgoing.tls === 'required' ? ' selected' : ''}>required (never plaintext)</option></select></dd>
<dt>Send name (SNI)</dt><dd><input type="checkbox" name="outgoing.sni"${d.outgoing.sni ? ' checked' : ''}></dd>
<dt>Verify names</dt><dd><select name="outgoing.verify"><option value="none"${d.outgoing.verify === 'none' ? ' selected' : ''}>none (encryption only)</option><option value="mx-host"${d.outgoing.verify === 'mx-host' ? ' selected' : ''}>MX host name</option><option value="next-hop"${d.outgoing.verify === 'next-hop' ? ' selected' : ''}>next-hop domain</option></select>
<p class="advice">Checking names only protects mail when TLS is required.</p></dd>
<dt>LAN only</dt><dd><input type="checkbox" name="lanOnly"${d.lanOnly ? ' checked' : ''}> <span class="advice">the names resolve to private addresses on purpose</span></dd></div>
<div class="actions"><button type="submit">Save TLS settings</button></div></form>`;
}
