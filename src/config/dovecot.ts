/**
 * Dovecot's TLS settings from the store (`conf.d/10-ssl.conf` or `dovecot.conf`): the default certificate,
 * one `local_name` block per served name, the minimum protocol and the ciphers from a TLS profile. Pure:
 * the function takes file paths and settings and returns text.
 *
 * Dovecot reads `ssl_cert = <file` and `ssl_key = <file` (the `<` means "the contents of") when it starts
 * and again on `doveadm reload`; the store's paths lead through its `current` link, so a reload after a
 * renewal serves the new pair. Dovecot 2.3 matches a `local_name` block against the name the client sent,
 * a `*.example.com` block against one label below example.com.
 *
 * @module config/dovecot
 */
import {
  header,
  type MailTLSSettings,
  type ResolvedCertificate,
  resolveLayout,
  resolveSettings,
  type ServerTLSLayout,
} from './options.js';

/**
 * The Dovecot TLS settings: `ssl` (`required`: no password before TLS; `yes`: offered), the default
 * certificate, `local_name` blocks for every other name, `ssl_min_protocol`, `ssl_cipher_list` (TLS 1.2),
 * `ssl_cipher_suites` (TLS 1.3), `ssl_curve_list` and server preference, all from the profile in
 * `settings.profile` (default `intermediate`).
 *
 * @param layout - the store's files per domain (from `loadServerTLSLayout` in `mailtls/node`).
 * @param settings - the TLS choices: `clients` (IMAP and POP3) and `profile` are used here.
 * @returns configuration text (LF line endings), comments included.
 * @throws ConfigError `ERR_CONFIG_INVALID` for a relative path, a path with white space, a comma or a
 *   control character, a name that is not a host name, an unknown default domain, or no certificate;
 *   TLSError `ERR_TLS_PROFILE` for a bad profile.
 * @example
 * ```ts
 * import { encodeDovecotConfig } from 'mailtls/config';
 * const text = encodeDovecotConfig({
 *   certificates: [{ domain: 'example.com', names: ['imap.example.com'], cert: '/etc/mail/tls/certs/example.com.crt', key: '/etc/mail/tls/private/example.com.key' }],
 * });
 * // ssl = required
 * // ssl_cert = </etc/mail/tls/certs/example.com.crt ...
 * ```
 */
export function encodeDovecotConfig(layout: ServerTLSLayout, settings: MailTLSSettings = {}): string {
  const certs = resolveLayout(layout, true);
  const s = resolveSettings(settings);
  const p = s.profile;
  const first = certs[0] as ResolvedCertificate;
  const lines = header('Dovecot', layout.store, '#');
  lines.push(
    '# Apply a renewal with: doveadm reload',
    '',
    `ssl = ${s.clients === 'off' ? 'no' : s.clients === 'offered' ? 'yes' : 'required'}`,
    `# The default certificate (${first.domain}): clients that send no name or an unknown one.`,
    `ssl_cert = <${first.cert}`,
    `ssl_key = <${first.key}`,
    `# TLS profile "${p.name}"${p.maxVersion === 'TLSv1.3' ? '' : ` (Dovecot 2.3 has no maximum: ${p.maxVersion} is not enforced)`}`,
    `ssl_min_protocol = ${p.minVersion}`,
  );
  const level = p.securityLevel === 1 ? [] : [`@SECLEVEL=${p.securityLevel}`];
  if (p.ciphers.length > 0) lines.push(`ssl_cipher_list = ${[...p.ciphers, ...level].join(':')}`);
  if (p.cipherSuites.length > 0) lines.push(`ssl_cipher_suites = ${p.cipherSuites.join(':')}`);
  lines.push(`ssl_curve_list = ${p.groups.join(':')}`, 'ssl_prefer_server_ciphers = yes');
  for (const c of certs) {
    const names = c === first ? c.names.filter((n) => n !== c.domain) : c.names;
    if (c === first && names.length === 0) continue;
    lines.push('', `# ${c.domain}${c.keyType === undefined ? '' : ` (${c.keyType.toUpperCase()})`}`);
    for (const n of names)
      lines.push(`local_name ${n} {`, `  ssl_cert = <${c.cert}`, `  ssl_key = <${c.key}`, '}');
  }
  return `${lines.join('\n')}\n`;
}
