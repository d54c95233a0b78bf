/**
 * Helpers the administrator's pages share (not public API).
 *
 * @module admin/page-helpers
 */
import { lookup } from 'node:dns/promises';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { type Certificate, isMailTlsError } from '../index.js';
import type { AdminEnv, AdminState } from './state.js';
import { badge, daysLeft, keyLabel, type Markup, type PageContext } from './views.js';

export type C = Context<AdminEnv>;

export function page(c: C, s: AdminState): PageContext {
  const session = c.get('session');
  const flash = session?.flash.splice(0) ?? [];
  return { base: s.base, user: c.get('user'), csrf: c.get('csrf'), flash };
}

export function flash(c: C, text: string): void {
  c.get('session')?.flash.push(text);
}

export function errorText(e: unknown): string {
  if (isMailTlsError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof TypeError) return e.message;
  throw e;
}

export async function resolveNames(
  s: AdminState,
  names: readonly string[],
): Promise<Map<string, readonly string[] | string>> {
  const resolve =
    s.options.resolve ??
    (async (name: string) => {
      const timer = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer in 3 s')), 3000).unref(),
      );
      const r = await Promise.race([lookup(name, { all: true }), timer]);
      return r.map((a) => a.address);
    });
  const out = new Map<string, readonly string[] | string>();
  await Promise.all(
    names
      .filter((n) => !n.startsWith('*.'))
      .slice(0, 20)
      .map(async (n) => {
        try {
          out.set(n, await resolve(n));
        } catch (e) {
          out.set(n, e instanceof Error ? e.message : String(e));
        }
      }),
  );
  return out;
}

export function certRows(leaf: Certificate, chainComplete: boolean | undefined, at: Date): Markup {
  const days = daysLeft(leaf.notAfter, at);
  return html`<dl class="grid">
<dt>Subject</dt><dd class="mono">${leaf.subject.toString()}</dd>
<dt>Names</dt><dd>${leaf.dnsNames.join(', ')}${leaf.ipAddresses.length > 0 ? `, ${leaf.ipAddresses.join(', ')}` : ''}</dd>
<dt>Issuer</dt><dd class="mono">${leaf.issuer.toString()}</dd>
<dt>Valid</dt><dd>${leaf.notBefore.toISOString().slice(0, 10)} to ${leaf.notAfter.toISOString().slice(0, 10)} ${badge(days < 0 ? 'bad' : days < 30 ? 'warn' : 'ok', days < 0 ? 'expired' : `${days} days left`)}</dd>
<dt>Key</dt><dd>${keyLabel(leaf)}</dd>
${chainComplete === undefined ? '' : html`<dt>Chain</dt><dd>${chainComplete ? badge('ok', 'complete') : badge('warn', 'incomplete')}</dd>`}
<dt>SHA-256</dt><dd class="mono">${leaf.fingerprint('sha256')}</dd></dl>`;
}
