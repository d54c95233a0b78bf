/**
 * Postfix's TLS settings from the store: `main.cf` lines, the SNI table (`tls_server_sni_maps`) and the
 * outgoing TLS policy table (`smtp_tls_policy_maps`). Pure: the functions take file paths and settings and
 * return text.
 *
 * What Postfix needs, as written here:
 * - `smtpd_tls_chain_files` lists the key file first, then the chain file (leaf first): Postfix pairs each
 *   key with the certificates that follow it.
 * - Several domains are served through `tls_server_sni_maps`, a table from the name the client sends to the
 *   key and chain files. Built with `postmap -F`, the table holds a copy of the files' contents (base64), so
 *   after every renewal it must be built again, then `postfix reload` makes the servers use it; the deploy
 *   hook in docs/postfix.md does both. A wildcard certificate's names are listed under `.example.com`, the
 *   key Postfix tries for a name below example.com that is not listed itself.
 * - Protocols use the `>=TLSv1.2` form (Postfix 3.6 and later); the profile's TLS 1.2 ciphers become the
 *   "high" grade (`tls_high_cipherlist`), which both the opportunistic and the mandatory server settings
 *   use; TLS 1.3 suites stay OpenSSL's, which are all AEAD. The server's cipher order wins
 *   (`tls_preempt_cipherlist`) and client-initiated renegotiation is off (`tls_ssl_options`).
 * - Outgoing `secure` for a next hop given as an address needs `match=` (the names to check) and
 *   `servername=` (the SNI name); Postfix would otherwise check the address and send no name.
 *
 * @module config/postfix
 */
import type { TLSProfile, TLSVersion } from '../tls/profile.js';
import {
  checkPath,
  header,
  type MailTLSSettings,
  type OutgoingTLSPolicy,
  type ResolvedCertificate,
  resolveLayout,
  resolveSettings,
  type ServerTLSLayout,
  type StartTLSMode,
} from './options.js';

/** A Postfix lookup table type that `postmap` builds (Debian ships `hash`, `btree`, `cdb` and `lmdb`). */
export type PostfixTableType = 'hash' | 'btree' | 'cdb' | 'lmdb';

/** Where the Postfix tables are and how they are built. */
export interface PostfixConfigOptions {
  /** The SNI table's source file (postmap writes `<file>.db` beside it): default `/etc/postfix/mailtls-sni`. */
  readonly sniMap?: string | undefined;
  /** The outgoing policy table's source file: default `/etc/postfix/mailtls-tls-policy`. */
  readonly policyMap?: string | undefined;
  /** The table type of both: default `hash`. */
  readonly tableType?: PostfixTableType | undefined;
}

/** The default SNI table of {@link encodePostfixConfig}. */
export const POSTFIX_SNI_MAP = '/etc/postfix/mailtls-sni';
/** The default outgoing policy table of {@link encodePostfixConfig}. */
export const POSTFIX_POLICY_MAP = '/etc/postfix/mailtls-tls-policy';

const TABLE_TYPES: readonly PostfixTableType[] = ['hash', 'btree', 'cdb', 'lmdb'];
const VERSIONS: readonly TLSVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function tables(options: PostfixConfigOptions): { sni: string; policy: string; type: PostfixTableType } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const type = options.tableType ?? 'hash';
  if (!TABLE_TYPES.includes(type)) throw new RangeError(`tableType must be one of ${TABLE_TYPES.join(', ')}`);
  return {
    sni: checkPath(options.sniMap ?? POSTFIX_SNI_MAP, 'the SNI table', true),
    policy: checkPath(options.policyMap ?? POSTFIX_POLICY_MAP, 'the TLS policy table', true),
    type,
  };
}

/** `>=TLSv1.2` (and `<=TLSv1.2` when TLS 1.3 is off). */
function protocols(profile: TLSProfile): string {
  const out = [`>=${profile.minVersion}`];
  if (VERSIONS.indexOf(profile.maxVersion) < VERSIONS.length - 1) out.push(`<=${profile.maxVersion}`);
  return out.join(', ');
}

/** The OpenSSL cipher list of a profile's TLS 1.2 (and older) suites, with its security level. */
function cipherList(profile: TLSProfile): string {
  const level = profile.securityLevel === 1 ? [] : [`@SECLEVEL=${profile.securityLevel}`];
  return [...profile.ciphers, ...level].join(':');
}

function serverLevel(mode: StartTLSMode): string {
  return mode === 'off' ? 'none' : mode === 'offered' ? 'may' : 'encrypt';
}

/** The SNI table key of a name: a wildcard is looked up by Postfix as `.parent`. */
function sniKey(name: string): string {
  return name.startsWith('*.') ? name.slice(1) : name;
}

/**
 * The `main.cf` lines for TLS: the default certificate (`smtpd_tls_chain_files`, key first), the SNI table
 * when there is more than one certificate, the server level, protocols and ciphers from the profile, and
 * the outgoing level, trust and policy table.
 *
 * @param layout - the store's files per domain (from `loadServerTLSLayout` in `mailtls/node`).
 * @param settings - the TLS choices; see {@link MailTLSSettings}.
 * @param options - where the tables are.
 * @returns `main.cf` text (LF line endings), comments included.
 * @throws ConfigError `ERR_CONFIG_INVALID` for a relative path, a path with white space, a comma or a
 *   control character, a name that is not a host name, an unknown default domain, or no certificate;
 *   TLSError `ERR_TLS_PROFILE` for a bad profile.
 * @example
 * ```ts
 * import { encodePostfixConfig } from 'mailtls/config';
 * const text = encodePostfixConfig({
 *   certificates: [
 *     { domain: 'example.com', names: ['mail.example.com'], cert: '/etc/mail/tls/certs/example.com.crt', key: '/etc/mail/tls/private/example.com.key' },
 *     { domain: 'example.net', names: ['mail.example.net'], cert: '/etc/mail/tls/certs/example.net.crt', key: '/etc/mail/tls/private/example.net.key' },
 *   ],
 * });
 * // smtpd_tls_chain_files = /etc/mail/tls/private/example.com.key, /etc/mail/tls/certs/example.com.crt
 * // tls_server_sni_maps = hash:/etc/postfix/mailtls-sni ...
 * ```
 */
export function encodePostfixConfig(
  layout: ServerTLSLayout,
  settings: MailTLSSettings = {},
  options: PostfixConfigOptions = {},
): string {
  const certs = resolveLayout(layout, true);
  const s = resolveSettings(settings);
  const t = tables(options);
  const first = certs[0] as ResolvedCertificate;
  const lines = header('Postfix (main.cf)', layout.store, '#');
  lines.push(
    '',
    '# Incoming: the default certificate (clients that send no name or an unknown one), key file first.',
    `smtpd_tls_chain_files = ${first.key}, ${first.cert}`,
  );
  if (certs.length > 1) {
    lines.push(
      `# One entry per name in ${t.sni}; build it with the files' contents, again after every renewal:`,
      `#   postmap -F ${t.type}:${t.sni} && postfix reload`,
      `tls_server_sni_maps = ${t.type}:${t.sni}`,
    );
  }
  const same = s.smtpProfile === s.profile;
  lines.push(
    '',
    `# Port 25: STARTTLS ${s.smtp}; submission (587/465) requires TLS in master.cf:`,
    '#   submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes',
    '#   smtps      inet n - y - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes',
    `smtpd_tls_security_level = ${serverLevel(s.smtp)}`,
    `smtpd_tls_auth_only = ${s.clients === 'off' ? 'no' : 'yes'}`,
    `# TLS profile "${s.profile.name}"${same ? '' : ` (port 25: "${s.smtpProfile.name}")`}`,
    `smtpd_tls_protocols = ${protocols(s.smtpProfile)}`,
    `smtpd_tls_mandatory_protocols = ${protocols(s.profile)}`,
    `smtpd_tls_ciphers = ${same ? 'high' : 'medium'}`,
    'smtpd_tls_mandatory_ciphers = high',
    `tls_high_cipherlist = ${cipherList(s.profile)}`,
    ...(same ? [] : [`tls_medium_cipherlist = ${cipherList(s.smtpProfile)}`]),
    `tls_eecdh_auto_curves = ${s.profile.groups.join(' ')}`,
    'tls_preempt_cipherlist = yes',
    'tls_ssl_options = NO_RENEGOTIATION',
    'smtpd_tls_loglevel = 1',
    '',
    `# Outgoing: ${s.outgoing} by default${s.outgoingPolicies.length > 0 ? `, per destination in ${t.policy}` : ''}.`,
    `smtp_tls_security_level = ${s.outgoing}`,
    s.outgoingCAFile === undefined
      ? 'smtp_tls_CApath = /etc/ssl/certs'
      : `smtp_tls_CAfile = ${s.outgoingCAFile}`,
    `smtp_tls_mandatory_protocols = ${protocols(s.profile)}`,
    'smtp_tls_loglevel = 1',
  );
  if (s.outgoingPolicies.length > 0)
    lines.push(
      `#   postmap ${t.type}:${t.policy} && postfix reload`,
      `smtp_tls_policy_maps = ${t.type}:${t.policy}`,
    );
  return `${lines.join('\n')}\n`;
}

/**
 * The source of the SNI table: one line per served name, `name key-file chain-file` (a wildcard as
 * `.example.com`). Build it with `postmap -F hash:FILE`, which stores the files' contents, after writing it
 * and after every renewal.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` as {@link encodePostfixConfig}.
 * @example
 * ```ts
 * import { encodePostfixSNIMap } from 'mailtls/config';
 * encodePostfixSNIMap({ certificates: [{ domain: 'example.net', names: ['mail.example.net'], cert: '/s/certs/example.net.crt', key: '/s/private/example.net.key' }] });
 * // 'mail.example.net /s/private/example.net.key /s/certs/example.net.crt\n' (after a comment)
 * ```
 */
export function encodePostfixSNIMap(layout: ServerTLSLayout): string {
  const certs = resolveLayout(layout, true);
  const lines = header('Postfix (tls_server_sni_maps, build with postmap -F)', layout.store, '#');
  for (const c of certs) for (const n of c.names) lines.push(`${sniKey(n)} ${c.key} ${c.cert}`);
  return `${lines.join('\n')}\n`;
}

/** The `match=` and `servername=` attributes an outgoing policy needs. */
function policyLine(p: OutgoingTLSPolicy): string {
  const parts = [p.destination, p.level];
  const verified = p.level === 'verify' || p.level === 'secure';
  if (verified && p.match !== undefined && p.match.length > 0) parts.push(`match=${p.match.join(':')}`);
  const host = /^\[([^\]]+)\]/.exec(p.destination)?.[1];
  const isAddress = host !== undefined && /^[\d.]+$|:/.test(host);
  const servername = p.servername ?? (verified && isAddress ? p.match?.[0] : undefined);
  if (servername !== undefined && p.level !== 'none') parts.push(`servername=${servername}`);
  return parts.join(' ');
}

/**
 * The source of the outgoing TLS policy table (`smtp_tls_policy_maps`): one line per destination,
 * `[127.0.0.1]:2525 secure match=mail.example.test servername=mail.example.test`. Build it with
 * `postmap hash:FILE`.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a destination or name that is not one.
 * @example
 * ```ts
 * import { encodePostfixPolicyMap } from 'mailtls/config';
 * encodePostfixPolicyMap({ outgoingPolicies: [{ destination: 'example.net', level: 'secure' }] });
 * ```
 */
export function encodePostfixPolicyMap(settings: MailTLSSettings): string {
  const s = resolveSettings(settings);
  const lines = header('Postfix (smtp_tls_policy_maps, build with postmap)', undefined, '#');
  for (const p of s.outgoingPolicies) lines.push(policyLine(p));
  return `${lines.join('\n')}\n`;
}
