import type { Hono } from 'hono';
import { html } from 'hono/html';
import { describeCertificate, describeCSR, type KeyType, parseCSR, suggestMailHostnames } from '../index.js';
import { auditStore } from '../node/index.js';
import {
  listStoreCSRs,
  loadTLSSettings,
  readAdminAudit,
  readStoreCSR,
  saveTLSSettings,
} from '../node/settings/index.js';
import {
  type DomainTLSSettings,
  MAIL_SERVICES,
  type MailService,
  resolveDomainTLSSettings,
  type ServiceTLSSettings,
  withDomainTLSSettings,
} from '../settings/index.js';
import { isPrivateAddress, probeDomain, servedSummary } from './inspect.js';
import { type C, certRows, errorText, flash, page, resolveNames } from './page-helpers.js';
import { registerInstallPages } from './pages-install.js';
import type { AdminEnv, AdminState } from './state.js';
import { badge, csrfField, daysLeft, domainURL, layout, type Markup, settingsForm } from './views.js';

/** Registers every page and action. */
export function registerPages(app: Hono<AdminEnv>, s: AdminState): void {
  const store = s.options.store;

  // ---------------------------------------------------------------------------------------------------
  // Domains

  app.get('/', async (c) => {
    const at = s.now();
    const [domains, csrs, settings] = await Promise.all([
      store.list(),
      listStoreCSRs(store.root),
      loadTLSSettings(store.root),
    ]);
    const audit = await auditStore(store, { at }).catch(() => undefined);
    const all = [
      ...new Set([...domains, ...csrs.map((x) => x.domain), ...Object.keys(settings.domains)]),
    ].sort();
    const rows = await Promise.all(
      all.map(async (d) => ({
        domain: d,
        served: await servedSummary(store, d, at).catch(() => undefined),
        pending: csrs.some((x) => x.domain === d && x.pending),
        findings: audit?.findings.filter((f) => f.domain === d && f.severity !== 'info').length ?? 0,
      })),
    );
    return c.html(
      layout(
        page(c, s),
        'Domains',
        html`<div class="card"><table><thead><tr><th>Domain</th><th>Certificate</th><th>Issuer</th><th>Expires</th><th>Renewal</th><th>Status</th></tr></thead><tbody>
${
  rows.length === 0
    ? html`<tr><td colspan="6" class="muted">No domain yet: <a href="${s.base}/csr/new">create a CSR</a> or <a href="${s.base}/install">install a certificate</a>.</td></tr>`
    : rows.map((r) => {
        const days = r.served === undefined ? undefined : daysLeft(r.served.leaf.notAfter, at);
        return html`<tr><td><a href="${domainURL(s.base, r.domain)}">${r.domain}</a></td>
<td>${r.served === undefined ? html`<span class="muted">none</span>` : r.served.leaf.dnsNames.join(', ')}</td>
<td>${r.served?.leaf.issuer.commonName ?? ''}</td>
<td>${days === undefined ? '' : badge(days < 0 ? 'bad' : days < 30 ? 'warn' : 'ok', `${days} days`)}</td>
<td>${r.served === undefined ? '' : r.served.due ? badge('warn', 'due now') : r.served.renewAt.toISOString().slice(0, 10)}</td>
<td>${r.pending ? badge('warn', 'CSR pending') : ''} ${r.findings > 0 ? badge('bad', `${r.findings} findings`) : r.served === undefined ? '' : badge('ok', 'ok')}</td></tr>`;
      })
}</tbody></table></div>
<div class="actions"><a href="${s.base}/csr/new"><button type="button">Create a CSR</button></a><a href="${s.base}/install"><button type="button" class="secondary">Install a certificate</button></a></div>`,
      ),
    );
  });

  app.get('/d/:domain', async (c) => {
    const domain = c.req.param('domain');
    const at = s.now();
    let served: Awaited<ReturnType<typeof servedSummary>>;
    try {
      served = await servedSummary(store, domain, at);
    } catch (e) {
      return c.html(layout(page(c, s), domain, html``, errorText(e)), 400);
    }
    const [settings, csrPEM, versions, audit] = await Promise.all([
      loadTLSSettings(store.root),
      readStoreCSR(store.root, domain).catch(() => undefined),
      served === undefined ? Promise.resolve([]) : store.versions(domain),
      auditStore(store, { at }).catch(() => undefined),
    ]);
    const csrs = await listStoreCSRs(store.root);
    const pending = csrs.some((x) => x.domain === domain && x.pending);
    const names = served?.leaf.dnsNames ?? (csrPEM === undefined ? [] : parseCSR(csrPEM).dnsNames);
    const addresses = await resolveNames(s, names);
    const lanOnly = resolveDomainTLSSettings(settings, domain).lanOnly;
    const findings = audit?.findings.filter((f) => f.domain === domain) ?? [];
    const probe = await s.lastProbe(domain);
    const p = page(c, s);
    return c.html(
      layout(
        p,
        domain,
        html`<div class="card"><h2>Certificate in service</h2>${
          served === undefined
            ? html`<p class="muted">None yet.</p>`
            : html`${certRows(served.leaf, served.chain.length > 1 || served.leaf.selfIssued, at)}
<div class="actions"><a href="${domainURL(s.base, domain, '/cert')}">View certificate and chain</a><a href="${domainURL(s.base, domain, '/cert.json')}">JSON</a><span class="muted">version ${served.version}</span></div>`
        }</div>
${
  csrPEM === undefined
    ? ''
    : html`<div class="card"><h2>CSR</h2><p>${pending ? badge('warn', 'waiting for its certificate') : badge('ok', 'certificate installed')} <a href="${domainURL(s.base, domain, '/csr')}">View CSR</a> · <a href="${domainURL(s.base, domain, '/req.pem')}">Download req.pem</a> · <a href="${s.base}/install?domain=${encodeURIComponent(domain)}">Install its certificate</a></p></div>`
}
<div class="card"><h2>Names and addresses</h2><table><thead><tr><th>Name</th><th>Addresses</th></tr></thead><tbody>
${[...addresses].map(([n, a]) => {
  const lan = typeof a !== 'string' && a.some(isPrivateAddress);
  return html`<tr><td>${n}</td><td>${typeof a === 'string' ? html`<span class="bad">${a}</span>` : a.join(', ')}${
    lan && !lanOnly
      ? html`<p class="advice warn">A private (LAN) address: clients on the Internet cannot reach it and a public CA cannot validate it. Fix the DNS record, or mark the domain LAN-only in its TLS settings.</p>`
      : ''
  }</td></tr>`;
})}</tbody></table></div>
<div class="card"><h2>Audit findings</h2>${
          findings.length === 0
            ? html`<p class="ok">No findings.</p>`
            : html`<table><tbody>${findings.map(
                (f) =>
                  html`<tr><td>${badge(f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'ok', f.severity)}</td><td>${f.message}${f.fix === undefined ? '' : html`<p class="advice">Fix: ${f.fix}</p>`}</td></tr>`,
              )}</tbody></table>`
        }</div>
<div class="card"><h2>Ports</h2>${
          probe === undefined
            ? html`<p class="muted">Not tested yet.</p>`
            : html`<p class="muted">Tested ${probe.at.toISOString()}</p><table><thead><tr><th>Service</th><th>URL</th><th>Result</th></tr></thead><tbody>${probe.results.map(
                (r) =>
                  html`<tr data-service="${r.service}"><td>${r.service}</td><td class="mono">${r.url}</td><td>${badge(r.ok ? 'ok' : 'bad', r.ok ? 'verified' : 'failed')} ${r.summary}</td></tr>`,
              )}</tbody></table>`
        }
<form method="post" action="${domainURL(s.base, domain, '/probe')}">${csrfField(p)}<div class="actions"><button type="submit">Test now</button></div></form></div>
<div class="card"><h2>TLS settings</h2>${settingsForm(p, domain, settings, Object.hasOwn(settings.domains, domain))}</div>
${
  versions.length === 0
    ? ''
    : html`<div class="card"><h2>History</h2><table><thead><tr><th>Version</th><th>Installed</th><th>Expires</th><th>SHA-256</th><th></th></tr></thead><tbody>${[
        ...versions,
      ]
        .reverse()
        .map(
          (v) =>
            html`<tr><td>${v.id}</td><td>${v.installedAt?.toISOString().slice(0, 19) ?? ''}</td><td>${v.notAfter?.toISOString().slice(0, 10) ?? ''}</td><td class="mono">${(v.fingerprint ?? '').slice(0, 23)}…</td><td>${
              v.current
                ? badge('ok', 'in service')
                : html`<form class="inline" method="post" action="${domainURL(s.base, domain, '/rollback')}">${csrfField(p)}<input type="hidden" name="to" value="${v.id}"><button class="secondary" type="submit">Roll back to this</button></form>`
            }</td></tr>`,
        )}</tbody></table></div>`
}`,
      ),
    );
  });

  // ---------------------------------------------------------------------------------------------------
  // Viewing

  app.get('/d/:domain/csr', async (c) => {
    const domain = c.req.param('domain');
    const pem = await readStoreCSR(store.root, domain).catch(() => undefined);
    if (pem === undefined)
      return c.html(layout(page(c, s), `CSR of ${domain}`, html``, 'This domain has no CSR.'), 404);
    return c.html(
      layout(
        page(c, s),
        `CSR of ${domain}`,
        html`<div class="card"><div class="actions"><a href="${domainURL(s.base, domain, '/req.pem')}"><button type="button">Download req.pem</button></a></div>
<h2 class="spaced">As openssl req -text shows it</h2><pre>${describeCSR(pem)}</pre><h2>PEM</h2><pre>${pem}</pre></div>`,
      ),
    );
  });

  app.get('/d/:domain/req.pem', async (c) => {
    const pem = await readStoreCSR(store.root, c.req.param('domain')).catch(() => undefined);
    if (pem === undefined) return c.text('no CSR', 404);
    return c.body(pem, 200, {
      'content-type': 'application/pkcs10',
      'content-disposition': 'attachment; filename="req.pem"',
    });
  });

  const loadServed = async (c: C) => {
    const domain = c.req.param('domain') ?? '';
    try {
      return { domain, served: await servedSummary(store, domain, s.now()) };
    } catch (e) {
      return { domain, error: errorText(e) };
    }
  };

  app.get('/d/:domain/cert', async (c) => {
    const { domain, served, error } = await loadServed(c);
    if (served === undefined)
      return c.html(
        layout(page(c, s), domain, html``, error ?? 'This domain has no certificate in service.'),
        404,
      );
    return c.html(
      layout(
        page(c, s),
        `Certificate of ${domain}`,
        html`${served.chain.map(
          (cert, i) =>
            html`<div class="card"><h2>${i === 0 ? 'Server certificate' : `Issuer ${i}`}: ${cert.subject.toString()}</h2><pre>${describeCertificate(cert)}</pre></div>`,
        )}`,
      ),
    );
  });

  app.get('/d/:domain/cert.json', async (c) => {
    const { served } = await loadServed(c);
    if (served === undefined) return c.json({ error: 'no certificate in service' }, 404);
    return c.json({
      version: served.version,
      chain: served.chain.map((x) => describeCertificate(x, { format: 'json' })),
    });
  });

  // ---------------------------------------------------------------------------------------------------
  // Create a CSR

  const csrForm = (c: C, values: Record<string, string>, error?: string): Markup => {
    const p = page(c, s);
    const domain = values.domain ?? '';
    let suggested = values.hostnames;
    if (suggested === undefined && domain !== '') {
      try {
        suggested = suggestMailHostnames(domain).join('\n');
      } catch {
        suggested = '';
      }
    }
    const field = (name: string, label: string, advice: string, type = 'text', required = false) =>
      html`<label for="${name}">${label}</label><input id="${name}" type="${type}" name="${name}" value="${values[name] ?? ''}"${required ? ' required' : ''}><p class="advice">${advice}</p>`;
    return layout(
      p,
      'Create a CSR and key',
      html`<div class="card"><form class="stack" method="${domain === '' ? 'get' : 'post'}" action="${s.base}/csr/new">${domain === '' ? '' : csrfField(p)}
${field('domain', 'Common Name (domain)', 'The bare domain, e.g. example.com: not mail.example.com or www.example.com. The mail host names go below.', 'text', true)}
${
  domain === ''
    ? html`<div class="actions"><button type="submit">Next</button></div>`
    : html`${field('country', 'Country', 'The two-letter ISO code: DE, US, GB (not UK).')}
${field('state', 'State or province', 'Written out, e.g. California, not CA.')}
${field('locality', 'City', '')}
${field('organization', 'Organisation', 'The legal name of your organisation, as the CA will check it.')}
${field('organizationalUnit', 'Organisational unit', 'Optional, e.g. IT.')}
${field('emailAddress', 'Administrator e-mail', 'Who is responsible for the certificate.', 'email')}
<label for="hostnames">Mail host names</label><textarea id="hostnames" name="hostnames">${suggested ?? ''}</textarea>
<p class="advice">One per line: the names clients and other servers use (MX host, SMTP, IMAP, POP3, webmail). Suggested from the domain.</p>
<label for="keyType">Key type</label><select id="keyType" name="keyType"><option value="rsa">RSA 2048 (every client)</option><option value="ec"${values.keyType === 'ec' ? ' selected' : ''}>EC P-256 (smaller, modern clients)</option></select>
<p class="advice">The key is made here and stays in the store (never shown, no pass phrase, mode 0600).</p>
<label><input type="checkbox" name="replace"> Replace a CSR still waiting for its certificate</label>
<div class="actions"><button type="submit">Create CSR</button></div>`
}</form></div>`,
      error,
    );
  };

  app.get('/csr/new', (c) => {
    const domain = c.req.query('domain');
    return c.html(csrForm(c, domain === undefined ? {} : { domain }));
  });

  app.post('/csr/new', async (c) => {
    const body = await c.req.parseBody();
    const v: Record<string, string> = {};
    for (const k of [
      'domain',
      'country',
      'state',
      'locality',
      'organization',
      'organizationalUnit',
      'emailAddress',
      'hostnames',
      'keyType',
    ])
      if (typeof body[k] === 'string') v[k] = (body[k] as string).trim().slice(0, 4096);
    const opt = (k: string) => (v[k] === undefined || v[k] === '' ? {} : { [k]: v[k] });
    try {
      const r = await store.createCSR({
        subject: {
          commonName: v.domain ?? '',
          ...opt('country'),
          ...opt('state'),
          ...opt('locality'),
          ...opt('organization'),
          ...opt('organizationalUnit'),
          ...opt('emailAddress'),
        },
        hostnames: (v.hostnames ?? '').split(/[\s,]+/).filter((n) => n !== ''),
        keyType: (v.keyType === 'ec' ? 'ec' : 'rsa') as KeyType,
        replace: body.replace === 'on',
      });
      await s.audit(c, 'create-csr', r.domain, r.dnsNames.join(' '));
      flash(c, `CSR created for ${r.dnsNames.join(', ')}. Download req.pem and send it to the CA.`);
      for (const w of r.warnings) flash(c, `Note: ${w.message}`);
      return c.redirect(domainURL(s.base, r.domain, '/csr'), 303);
    } catch (e) {
      return c.html(csrForm(c, v, errorText(e)), 400);
    }
  });

  registerInstallPages(app, s);

  // ---------------------------------------------------------------------------------------------------
  // TLS settings and "test now"

  app.post('/d/:domain/settings', async (c) => {
    const domain = c.req.param('domain');
    const body = await c.req.parseBody();
    const settings = await loadTLSSettings(store.root);
    const current = resolveDomainTLSSettings(settings, domain);
    const services = Object.fromEntries(
      MAIL_SERVICES.map((m) => {
        const st = body[`${m.service}.starttls`];
        const pr = body[`${m.service}.profile`];
        const v: ServiceTLSSettings = {
          enabled: body[`${m.service}.enabled`] === 'on',
          starttls:
            m.tls === 'implicit'
              ? 'offered'
              : st === 'offered'
                ? 'offered'
                : st === 'required'
                  ? 'required'
                  : current.services[m.service].starttls,
          profile: (typeof pr === 'string'
            ? pr
            : current.services[m.service].profile) as ServiceTLSSettings['profile'],
        };
        return [m.service, v];
      }),
    ) as Record<MailService, ServiceTLSSettings>;
    const next: DomainTLSSettings = {
      services,
      outgoing: {
        tls: body['outgoing.tls'] === 'required' ? 'required' : 'opportunistic',
        sni: body['outgoing.sni'] === 'on',
        verify:
          (['none', 'mx-host', 'next-hop'] as const).find((x) => x === body['outgoing.verify']) ?? 'none',
      },
      lanOnly: body.lanOnly === 'on',
    };
    try {
      const saved = await saveTLSSettings(store.root, withDomainTLSSettings(settings, domain, next), {
        by: c.get('user'),
        expectRevision: Number(body.revision),
      });
      await s.audit(c, 'settings', domain, `revision ${saved.revision}`);
      flash(
        c,
        `TLS settings saved (revision ${saved.revision}); servers watching the store apply them without a restart.`,
      );
      return c.redirect(domainURL(s.base, domain), 303);
    } catch (e) {
      return c.html(
        layout(
          page(c, s),
          domain,
          html`<p><a href="${domainURL(s.base, domain)}">Back to ${domain}</a></p>`,
          errorText(e),
        ),
        400,
      );
    }
  });

  app.post('/d/:domain/probe', async (c) => {
    const domain = c.req.param('domain');
    const at = s.now();
    const [settings, served] = await Promise.all([
      loadTLSSettings(store.root),
      servedSummary(store, domain, at).catch(() => undefined),
    ]);
    const results = await probeDomain(
      domain,
      settings,
      { ...(s.options.probe ?? {}), ...(s.options.trust === undefined ? {} : { trust: s.options.trust }) },
      served?.leaf,
    );
    await s.saveProbe(domain, at, results);
    const good = results.filter((r) => r.ok).length;
    await s.audit(c, 'probe', domain, `${good}/${results.length} verified`);
    flash(c, `${good} of ${results.length} ports verified.`);
    return c.redirect(domainURL(s.base, domain), 303);
  });

  // ---------------------------------------------------------------------------------------------------
  // Audit log

  app.get('/audit', async (c) => {
    const log = await readAdminAudit(store.root, { limit: 200 });
    return c.html(
      layout(
        page(c, s),
        'Audit log',
        html`<div class="card"><table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Domain</th><th>Detail</th></tr></thead><tbody>${log.map(
          (e) =>
            html`<tr><td>${e.at.slice(0, 19).replace('T', ' ')}</td><td>${e.user}</td><td>${e.action}</td><td>${e.domain ?? ''}</td><td class="mono">${e.detail ?? ''}</td></tr>`,
        )}</tbody></table></div>`,
      ),
    );
  });
}
