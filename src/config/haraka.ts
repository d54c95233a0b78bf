/**
 * Haraka's `config/tls.ini` from the store. Pure: the function takes file paths and settings and returns
 * text.
 *
 * Haraka serves the `[main]` key and certificate to every client; for several names it also loads every
 * PEM file in `config/tls/`, each holding a key followed by its chain, and answers each name the file's
 * certificate lists. The Node side (`saveCombinedKeyChain` in `mailtls/node`, `mailtls config haraka
 * --tls-dir`) writes those files from the store.
 *
 * @module config/haraka
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
 * The `tls.ini` of Haraka: `[main]` with the default key and chain, the profile's ciphers (TLS 1.3 suites
 * and TLS 1.2 ciphers in one OpenSSL list, as Node takes them), `minVersion`, `honorCipherOrder` and
 * `ecdhCurve`; `[outbound]` with the profile's minimum and, for outgoing `verify`/`secure`,
 * `rejectUnauthorized=true` (Haraka checks the chain but has no per-destination names: use Postfix for
 * `secure` delivery).
 *
 * @param layout - the store's files per domain (from `loadServerTLSLayout` in `mailtls/node`).
 * @param settings - the TLS choices: `profile` and `outgoing` are used here.
 * @returns `tls.ini` text (LF line endings), comments included.
 * @throws ConfigError `ERR_CONFIG_INVALID` as `encodePostfixConfig`; TLSError `ERR_TLS_PROFILE`.
 * @example
 * ```ts
 * import { encodeHarakaTLSConfig } from 'mailtls/config';
 * encodeHarakaTLSConfig({ certificates: [{ domain: 'example.com', cert: '/s/certs/example.com.crt', key: '/s/private/example.com.key' }] });
 * // [main]\nkey=/s/private/example.com.key\ncert=/s/certs/example.com.crt ...
 * ```
 */
export function encodeHarakaTLSConfig(layout: ServerTLSLayout, settings: MailTLSSettings = {}): string {
  const certs = resolveLayout(layout, true);
  const s = resolveSettings(settings);
  const p = s.profile;
  const first = certs[0] as ResolvedCertificate;
  const level = p.securityLevel === 1 ? [] : [`@SECLEVEL=${p.securityLevel}`];
  const ciphers = [...p.cipherSuites, ...p.ciphers, ...level].join(':');
  const lines = header('Haraka (config/tls.ini)', layout.store, ';');
  if (certs.length > 1)
    lines.push(
      `; The other ${certs.length - 1} certificate(s): one key+chain PEM file each in config/tls/`,
      ';   mailtls config haraka --store DIR --tls-dir /path/to/haraka/config/tls',
    );
  lines.push(
    '',
    '[main]',
    `key=${first.key}`,
    `cert=${first.cert}`,
    `ciphers=${ciphers}`,
    `minVersion=${p.minVersion}`,
    'honorCipherOrder=true',
    `ecdhCurve=${p.groups.join(':')}`,
    '',
    '[outbound]',
    `minVersion=${p.minVersion}`,
    `rejectUnauthorized=${s.outgoing === 'verify' || s.outgoing === 'secure' ? 'true' : 'false'}`,
  );
  return `${lines.join('\n')}\n`;
}
