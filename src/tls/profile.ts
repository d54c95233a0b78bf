/**
 * TLS server profiles as plain data: protocol versions, cipher suites, key-exchange groups and signature
 * algorithms, in server preference order. Node adapters (`src/node/tls/secure-context.ts`) turn a profile into
 * `tls.createSecureContext` options; nothing here touches sockets or files.
 *
 * Three profiles ship:
 * - `intermediate` (the default for 465/587/993/995/443): Mozilla's "intermediate" guideline without DHE:
 *   TLS 1.2 and 1.3, ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only (no CBC, no static RSA).
 * - `modern`: TLS 1.3 only.
 * - `legacy-port-25`: for opportunistic inbound SMTP on port 25 only, where the alternative for an old sender
 *   is plaintext, not a better TLS. TLS 1.0 to 1.3, adds ECDHE and static-RSA AES-CBC suites, OpenSSL security
 *   level 0 (needed by OpenSSL 3 for TLS 1.0/1.1). Still no SSLv3, RC4, 3DES, export or NULL suites.
 *
 * Every profile asks for server cipher preference and forbids client-initiated renegotiation.
 *
 * @module profile
 */
import { TLSError } from '../errors.js';
import type { KeyType } from '../internal/keys/crypto.js';

export type { KeyType };

/** A TLS protocol version as node:tls spells it. */
export type TLSVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** The names of the built-in profiles. */
export type TLSProfileName = 'modern' | 'intermediate' | 'legacy-port-25';

/** A TLS server profile: what a server offers, in its order of preference. */
export interface TLSProfile {
  /** A short name (`intermediate`, `modern`, `legacy-port-25`, or your own). */
  readonly name: string;
  /** What the profile is for, for an administrator. */
  readonly description: string;
  /** Lowest protocol version accepted. */
  readonly minVersion: TLSVersion;
  /** Highest protocol version accepted. */
  readonly maxVersion: TLSVersion;
  /** TLS 1.3 cipher suites (e.g. `TLS_AES_128_GCM_SHA256`), in preference order. */
  readonly cipherSuites: readonly string[];
  /** TLS 1.2 and older cipher suites in OpenSSL names (e.g. `ECDHE-RSA-AES128-GCM-SHA256`), in preference order. */
  readonly ciphers: readonly string[];
  /** Key-exchange groups in OpenSSL names (e.g. `X25519`, `prime256v1`), in preference order. */
  readonly groups: readonly string[];
  /** Signature algorithms in OpenSSL names (e.g. `ecdsa_secp256r1_sha256`), in preference order. */
  readonly signatureAlgorithms: readonly string[];
  /** The OpenSSL security level (`@SECLEVEL=n`); 1 is OpenSSL's default, 0 allows TLS 1.0/1.1 in OpenSSL 3. */
  readonly securityLevel: 0 | 1 | 2 | 3;
  /** Always true: the server's order wins (`honorCipherOrder`). */
  readonly honorCipherOrder: true;
  /** Always true: client-initiated renegotiation is refused (`SSL_OP_NO_RENEGOTIATION`). */
  readonly disableRenegotiation: true;
}

const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

// Mozilla intermediate (v5.7) order, DHE removed.
const AEAD_ECDHE = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

// Mozilla "old" order minus DHE and 3DES.
const LEGACY_EXTRA = [
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
];

const GROUPS = ['X25519', 'prime256v1', 'secp384r1'];

const SIGALGS = [
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'ecdsa_secp521r1_sha512',
  'ed25519',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
  'rsa_pss_pss_sha256',
  'rsa_pss_pss_sha384',
  'rsa_pss_pss_sha512',
  'rsa_pkcs1_sha256',
  'rsa_pkcs1_sha384',
  'rsa_pkcs1_sha512',
];

function freeze(profile: TLSProfile): TLSProfile {
  return Object.freeze({
    ...profile,
    cipherSuites: Object.freeze([...profile.cipherSuites]),
    ciphers: Object.freeze([...profile.ciphers]),
    groups: Object.freeze([...profile.groups]),
    signatureAlgorithms: Object.freeze([...profile.signatureAlgorithms]),
  });
}

/**
 * Mozilla "intermediate" without DHE: TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305.
 * The default for ports 465, 587, 993, 995, 143/110 after STARTTLS, and 443.
 *
 * @example
 * ```ts
 * import { INTERMEDIATE_PROFILE } from 'mailtls';
 * INTERMEDIATE_PROFILE.minVersion; // 'TLSv1.2'
 * ```
 */
export const INTERMEDIATE_PROFILE: TLSProfile = freeze({
  name: 'intermediate',
  description:
    'Mozilla intermediate without DHE: TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305 only. ' +
    'The default for submission (465/587), IMAP, POP3 and HTTPS.',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  cipherSuites: TLS13_SUITES,
  ciphers: AEAD_ECDHE,
  groups: GROUPS,
  signatureAlgorithms: SIGALGS,
  securityLevel: 1,
  honorCipherOrder: true,
  disableRenegotiation: true,
});

/**
 * Mozilla "modern": TLS 1.3 only. For services whose clients are all recent.
 *
 * @example
 * ```ts
 * import { MODERN_PROFILE } from 'mailtls';
 * MODERN_PROFILE.ciphers.length; // 0: TLS 1.3 suites only
 * ```
 */
export const MODERN_PROFILE: TLSProfile = freeze({
  name: 'modern',
  description: 'Mozilla modern: TLS 1.3 only.',
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  cipherSuites: TLS13_SUITES,
  ciphers: [],
  groups: GROUPS,
  signatureAlgorithms: SIGALGS,
  securityLevel: 1,
  honorCipherOrder: true,
  disableRenegotiation: true,
});

/**
 * For opportunistic inbound SMTP on port 25 only. A sending MTA that cannot negotiate TLS falls back to
 * plaintext (RFC 3207 opportunistic TLS), so refusing its old TLS makes mail less private, not more. Accepts
 * TLS 1.0 to 1.3, ECDHE and static-RSA AES (GCM and CBC) suites, and sets OpenSSL security level 0, which
 * OpenSSL 3 needs for TLS 1.0/1.1. Never SSLv3, RC4, 3DES, export, NULL or anonymous suites. Do not use it for
 * submission, IMAP, POP3 or HTTPS, where clients can and should be told to upgrade.
 *
 * @example
 * ```ts
 * import { LEGACY_PORT_25_PROFILE } from 'mailtls';
 * LEGACY_PORT_25_PROFILE.minVersion; // 'TLSv1'
 * ```
 */
export const LEGACY_PORT_25_PROFILE: TLSProfile = freeze({
  name: 'legacy-port-25',
  description:
    'Opportunistic inbound SMTP on port 25 only: TLS 1.0 to 1.3 with ECDHE and RSA AES suites (GCM and CBC), ' +
    'OpenSSL security level 0. No SSLv3, RC4 or 3DES. The alternative for old senders is plaintext.',
  minVersion: 'TLSv1',
  maxVersion: 'TLSv1.3',
  cipherSuites: TLS13_SUITES,
  ciphers: [...AEAD_ECDHE, ...LEGACY_EXTRA],
  groups: GROUPS,
  signatureAlgorithms: [...SIGALGS, 'ECDSA+SHA1', 'RSA+SHA1'],
  securityLevel: 0,
  honorCipherOrder: true,
  disableRenegotiation: true,
});

/**
 * The built-in profiles by name.
 *
 * @example
 * ```ts
 * import { TLS_PROFILES } from 'mailtls';
 * Object.keys(TLS_PROFILES); // ['modern', 'intermediate', 'legacy-port-25']
 * ```
 */
export const TLS_PROFILES: Readonly<Record<TLSProfileName, TLSProfile>> = Object.freeze({
  modern: MODERN_PROFILE,
  intermediate: INTERMEDIATE_PROFILE,
  'legacy-port-25': LEGACY_PORT_25_PROFILE,
});

/**
 * Returns a built-in profile by name.
 *
 * @throws {TLSError} `ERR_TLS_PROFILE` when the name is not a built-in profile.
 * @example
 * ```ts
 * import { getTLSProfile } from 'mailtls';
 * getTLSProfile('modern').minVersion; // 'TLSv1.3'
 * ```
 */
export function getTLSProfile(name: string): TLSProfile {
  if (typeof name !== 'string') throw new TypeError('profile name must be a string');
  if (!Object.hasOwn(TLS_PROFILES, name)) {
    throw new TLSError(
      'ERR_TLS_PROFILE',
      `unknown TLS profile "${name}": use one of ${Object.keys(TLS_PROFILES).join(', ')}`,
      { details: { name } },
    );
  }
  return TLS_PROFILES[name as TLSProfileName];
}

const VERSION_ORDER: readonly TLSVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const TOKEN = /^[A-Za-z0-9_.+-]+$/;
// Substrings that never belong in a server profile, whatever it is for.
const FORBIDDEN_CIPHER =
  /(^|-)(RC4|DES|3DES|NULL|EXP|EXPORT|ADH|AECDH|anon|MD5|PSK|SRP|IDEA|SEED|CAMELLIA|ARIA)(-|$)/i;

function profileError(profile: TLSProfile, message: string): TLSError {
  return new TLSError('ERR_TLS_PROFILE', `TLS profile "${profile.name}": ${message}`, {
    details: { name: profile.name },
  });
}

/**
 * Checks a profile (your own or a built-in one) before it is used: versions in order and at least TLS 1.0
 * (never SSLv3), TLS 1.2 or higher unless the profile is the documented `legacy-port-25` one, names that are
 * plain OpenSSL tokens, no RC4/DES/3DES/NULL/export/anonymous/MD5 suites, suites present for every enabled
 * version, renegotiation disabled and server preference on.
 *
 * @throws {TLSError} `ERR_TLS_PROFILE` naming the first problem.
 * @example
 * ```ts
 * import { INTERMEDIATE_PROFILE, verifyTLSProfile } from 'mailtls';
 * verifyTLSProfile({ ...INTERMEDIATE_PROFILE, name: 'mine', groups: ['X25519'] });
 * ```
 */
export function verifyTLSProfile(profile: TLSProfile): void {
  if (profile === null || typeof profile !== 'object') throw new TypeError('profile must be an object');
  if (typeof profile.name !== 'string' || profile.name === '')
    throw new TypeError('profile.name must be a string');
  const min = VERSION_ORDER.indexOf(profile.minVersion);
  const max = VERSION_ORDER.indexOf(profile.maxVersion);
  if (min < 0)
    throw profileError(profile, `minVersion must be one of ${VERSION_ORDER.join(', ')} (never SSLv3)`);
  if (max < 0) throw profileError(profile, `maxVersion must be one of ${VERSION_ORDER.join(', ')}`);
  if (min > max) throw profileError(profile, 'minVersion is above maxVersion');
  if (min < 2 && profile.name !== LEGACY_PORT_25_PROFILE.name) {
    throw profileError(
      profile,
      'TLS 1.0/1.1 are allowed only in the "legacy-port-25" profile (opportunistic SMTP); set minVersion to TLSv1.2',
    );
  }
  if (profile.honorCipherOrder !== true) throw profileError(profile, 'honorCipherOrder must be true');
  if (profile.disableRenegotiation !== true) throw profileError(profile, 'disableRenegotiation must be true');
  if (![0, 1, 2, 3].includes(profile.securityLevel))
    throw profileError(profile, 'securityLevel must be 0 to 3');
  const lists: [string, readonly string[]][] = [
    ['cipherSuites', profile.cipherSuites],
    ['ciphers', profile.ciphers],
    ['groups', profile.groups],
    ['signatureAlgorithms', profile.signatureAlgorithms],
  ];
  for (const [field, list] of lists) {
    if (!Array.isArray(list)) throw new TypeError(`profile.${field} must be an array of strings`);
    for (const item of list) {
      if (typeof item !== 'string' || !TOKEN.test(item)) {
        throw profileError(profile, `${field} contains "${String(item)}", which is not a plain OpenSSL name`);
      }
    }
  }
  for (const c of [...profile.cipherSuites, ...profile.ciphers]) {
    if (FORBIDDEN_CIPHER.test(c)) throw profileError(profile, `cipher "${c}" is insecure; remove it`);
  }
  for (const s of profile.cipherSuites) {
    if (!s.startsWith('TLS_'))
      throw profileError(profile, `"${s}" is not a TLS 1.3 suite; put it in ciphers`);
  }
  for (const c of profile.ciphers) {
    if (c.startsWith('TLS_'))
      throw profileError(profile, `"${c}" is a TLS 1.3 suite; put it in cipherSuites`);
  }
  if (max === 3 && profile.cipherSuites.length === 0)
    throw profileError(profile, 'TLS 1.3 is on but cipherSuites is empty');
  if (min < 3 && profile.ciphers.length === 0)
    throw profileError(profile, 'TLS 1.2 or older is on but ciphers is empty');
  if (profile.groups.length === 0) throw profileError(profile, 'groups is empty');
  if (profile.signatureAlgorithms.length === 0) throw profileError(profile, 'signatureAlgorithms is empty');
}

function cipherKeyType(cipher: string): 'rsa' | 'ecdsa' | 'any' {
  if (/^ECDHE-ECDSA-/.test(cipher)) return 'ecdsa';
  if (/^(ECDHE-RSA-|DHE-RSA-|AES|RSA-)/.test(cipher)) return 'rsa';
  return 'any';
}

function sigalgKeyType(sigalg: string): KeyType | 'other' {
  const s = sigalg.toLowerCase();
  if (s.startsWith('ecdsa_') || s.startsWith('ecdsa+')) return 'ec';
  if (s === 'ed25519') return 'ed25519';
  if (s.startsWith('rsa_') || s.startsWith('rsa+') || s.startsWith('rsa-pss+')) return 'rsa';
  return 'other';
}

function stableRank<T>(items: readonly T[], rank: (item: T) => number): T[] {
  return items
    .map((item, i) => ({ item, i, r: rank(item) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}

/**
 * Reorders a profile's TLS 1.2 ciphers and its signature algorithms so that certificates of any key type other
 * than `defaultKeyType` are preferred over certificates of `defaultKeyType` (order within each family kept).
 *
 * Why: when a node:tls server selects a per-name context through `SNICallback`, node copies that context's
 * certificate into the connection, which still holds the server's default certificate in the slot of the other
 * key type (nodejs/node#54235). OpenSSL then picks whichever slot the negotiated cipher (TLS 1.2) or signature
 * algorithm (TLS 1.3) prefers, and may send the default certificate. With server preference on and the
 * default's key type ranked last, the only other filled slot (the name's own certificate) always wins, and the
 * default certificate is chosen only when it is the sole one (no SNI, or a name with the same key type).
 *
 * @example
 * ```ts
 * import { INTERMEDIATE_PROFILE, orderProfileForDefaultKeyType } from 'mailtls';
 * orderProfileForDefaultKeyType(INTERMEDIATE_PROFILE, 'ec').ciphers[0]; // 'ECDHE-RSA-AES128-GCM-SHA256'
 * ```
 */
export function orderProfileForDefaultKeyType(profile: TLSProfile, defaultKeyType: KeyType): TLSProfile {
  if (!['rsa', 'ec', 'ed25519'].includes(defaultKeyType))
    throw new RangeError('defaultKeyType must be rsa, ec or ed25519');
  const defaultCipherFamily = defaultKeyType === 'rsa' ? 'rsa' : 'ecdsa';
  // TLS 1.2: Ed25519 and EC certificates share the ECDSA suites; the signature algorithm then decides.
  const ciphers = stableRank(profile.ciphers, (c) => (cipherKeyType(c) === defaultCipherFamily ? 1 : 0));
  // Other key types first (RSA, then EC, then Ed25519, minus the default), the default's own last.
  const familyRank: Record<KeyType, number> =
    defaultKeyType === 'rsa'
      ? { ec: 0, ed25519: 1, rsa: 2 }
      : defaultKeyType === 'ec'
        ? { rsa: 0, ed25519: 1, ec: 2 }
        : { rsa: 0, ec: 1, ed25519: 2 };
  const signatureAlgorithms = stableRank(profile.signatureAlgorithms, (s) => {
    const t = sigalgKeyType(s);
    return t === 'other' ? 3 : familyRank[t];
  });
  return freeze({ ...profile, ciphers, signatureAlgorithms });
}
