/**
 * What the server configuration emitters take: the store's layout (which files serve which names) and the
 * TLS choices (STARTTLS offered or required per service, the outgoing verification level, the TLS profile).
 * Plain data, checked here once so that every emitter refuses the same bad input the same way.
 *
 * The choices are a small type of their own ({@link MailTLSSettings}) so that a richer settings model (per
 * domain and service, edited in the web administrator) can be mapped onto it later without changing the
 * emitters.
 *
 * @module config/options
 */
import { ConfigError } from '../errors.js';
import { tryCanonicalizeHostname } from '../names/hostname.js';
import { INTERMEDIATE_PROFILE, type KeyType, type TLSProfile, verifyTLSProfile } from '../tls/profile.js';

/** The files that serve one certificate of the store, and the names they serve. */
export interface ServerCertificateFiles {
  /** The store's domain the files are filed under (`example.com`, `*.example.com`). */
  readonly domain: string;
  /**
   * The host names clients ask for (SNI) that this certificate answers: usually its DNS subjectAltNames
   * (`mail.example.com`, `imap.example.com`, `*.example.com`). Default: the domain alone.
   */
  readonly names?: readonly string[] | undefined;
  /** The served chain, PEM, leaf first (`certs/<domain>.crt`). */
  readonly cert: string;
  /** The private key, PEM (`private/<domain>.key`). */
  readonly key: string;
  /** The key type, for comments and for servers that keep one certificate per key type. */
  readonly keyType?: KeyType | undefined;
}

/** The store's layout as the emitters see it: absolute file paths per domain. */
export interface ServerTLSLayout {
  /** The store's root directory, named in comments. */
  readonly store?: string | undefined;
  /** The certificates to serve, at least one. The first is the default unless `defaultDomain` says otherwise. */
  readonly certificates: readonly ServerCertificateFiles[];
  /** The domain whose certificate answers clients that send no name or an unknown one. */
  readonly defaultDomain?: string | undefined;
}

/**
 * Whether a service offers TLS: `off` (never), `offered` (STARTTLS offered, plaintext allowed: the only
 * choice on a public MX on port 25, RFC 3207), `required` (no authentication or mail before TLS).
 */
export type StartTLSMode = 'off' | 'offered' | 'required';

/**
 * The outgoing (client) TLS level, in Postfix's words: `none`; `may` (opportunistic, unverified); `encrypt`
 * (TLS required, unverified); `verify` (chain verified, names from MX lookups trusted); `secure` (chain
 * verified and the peer's name checked against names that do not come from DNS).
 */
export type OutgoingTLSLevel = 'none' | 'may' | 'encrypt' | 'verify' | 'secure';

/** A per-destination outgoing policy: Postfix `smtp_tls_policy_maps` entry. */
export interface OutgoingTLSPolicy {
  /**
   * The next hop as the mail router names it: `example.com` (a domain, MX lookups), `[mx.example.com]:25`
   * (a host and port, no MX lookup), `[127.0.0.1]:2525`.
   */
  readonly destination: string;
  /** The level for this destination. */
  readonly level: OutgoingTLSLevel;
  /**
   * For `verify`/`secure`: the names the peer's certificate must carry (default: the destination's host
   * name, which Postfix calls `nexthop`). Needed for a destination given as an IP address.
   */
  readonly match?: readonly string[] | undefined;
  /** The name sent with SNI (default: the first `match` name when the destination is an IP address). */
  readonly servername?: string | undefined;
}

/**
 * The TLS choices for a mail server, independent of the server software. Every field has a safe default.
 *
 * @example
 * ```ts
 * const settings: MailTLSSettings = { smtp: 'offered', clients: 'required', outgoing: 'may' };
 * ```
 */
export interface MailTLSSettings {
  /** Inbound SMTP on port 25: default `offered` (requiring TLS there refuses mail from senders without it). */
  readonly smtp?: StartTLSMode | undefined;
  /** IMAP, POP3 and submission (587/465): default `required` (no password before TLS). */
  readonly clients?: StartTLSMode | undefined;
  /** The profile for IMAP, POP3, submission and every service where TLS is required: default `intermediate`. */
  readonly profile?: TLSProfile | undefined;
  /** The profile for opportunistic TLS on port 25: default the same as `profile`. */
  readonly smtpProfile?: TLSProfile | undefined;
  /** Outgoing mail's default level: default `may`. */
  readonly outgoing?: OutgoingTLSLevel | undefined;
  /** Outgoing levels per destination (Postfix's TLS policy table). */
  readonly outgoingPolicies?: readonly OutgoingTLSPolicy[] | undefined;
  /** A PEM file of the roots outgoing verification trusts (default: the system's, `/etc/ssl/certs`). */
  readonly outgoingCAFile?: string | undefined;
}

/** The settings with every default applied. (not public API) */
export interface ResolvedSettings {
  readonly smtp: StartTLSMode;
  readonly clients: StartTLSMode;
  readonly profile: TLSProfile;
  readonly smtpProfile: TLSProfile;
  readonly outgoing: OutgoingTLSLevel;
  readonly outgoingPolicies: readonly OutgoingTLSPolicy[];
  readonly outgoingCAFile: string | undefined;
}

/** A certificate with its names resolved and the default first. (not public API) */
export interface ResolvedCertificate {
  readonly domain: string;
  readonly names: readonly string[];
  readonly cert: string;
  readonly key: string;
  readonly keyType: KeyType | undefined;
}

const MODES: readonly StartTLSMode[] = ['off', 'offered', 'required'];
const LEVELS: readonly OutgoingTLSLevel[] = ['none', 'may', 'encrypt', 'verify', 'secure'];

function invalid(message: string, details: Record<string, unknown> = {}): ConfigError {
  return new ConfigError('ERR_CONFIG_INVALID', message, { details });
}

/**
 * Checks a file path for a configuration file: absolute, no control characters, and (for `strict` syntaxes
 * such as Postfix's lists) no white space or commas, which would split it.
 */
export function checkPath(path: unknown, what: string, strict: boolean): string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${what} must be a file path`);
  if (!path.startsWith('/'))
    throw invalid(
      `${what} (${JSON.stringify(path.slice(0, 200))}) must be an absolute path: servers do not start in the store's directory.`,
      { path: path.slice(0, 200) },
    );
  if (/[\0-\x1f\x7f]/.test(path))
    throw invalid(
      `${what} contains a control character (a line break would end the setting): rename the directory.`,
      { path: path.slice(0, 200) },
    );
  if (strict && /[\s,]/.test(path))
    throw invalid(
      `${what} (${JSON.stringify(path.slice(0, 200))}) contains white space or a comma, which split a list in the server's configuration: move the store to a path without them.`,
      { path: path.slice(0, 200) },
    );
  return path;
}

/** A host name or `*.` wildcard in canonical form. */
function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a host name`);
  const wildcard = name.startsWith('*.');
  const canonical = tryCanonicalizeHostname(wildcard ? name.slice(2) : name);
  if (canonical === undefined || !/^[a-z0-9_][a-z0-9_.-]*$/.test(canonical))
    throw invalid(`${what} ${JSON.stringify(name.slice(0, 200))} is not a host name.`, {
      name: name.slice(0, 200),
    });
  return wildcard ? `*.${canonical}` : canonical;
}

/** Applies defaults to the settings and checks them. (not public API) */
export function resolveSettings(settings: MailTLSSettings = {}): ResolvedSettings {
  if (settings === null || typeof settings !== 'object') throw new TypeError('settings must be an object');
  const smtp = settings.smtp ?? 'offered';
  const clients = settings.clients ?? 'required';
  const outgoing = settings.outgoing ?? 'may';
  if (!MODES.includes(smtp)) throw new RangeError(`settings.smtp must be one of ${MODES.join(', ')}`);
  if (!MODES.includes(clients)) throw new RangeError(`settings.clients must be one of ${MODES.join(', ')}`);
  if (!LEVELS.includes(outgoing))
    throw new RangeError(`settings.outgoing must be one of ${LEVELS.join(', ')}`);
  const profile = settings.profile ?? INTERMEDIATE_PROFILE;
  const smtpProfile = settings.smtpProfile ?? profile;
  verifyTLSProfile(profile);
  verifyTLSProfile(smtpProfile);
  const outgoingPolicies = (settings.outgoingPolicies ?? []).map((p, i) => {
    const what = `settings.outgoingPolicies[${i}]`;
    if (p === null || typeof p !== 'object') throw new TypeError(`${what} must be an object`);
    if (!LEVELS.includes(p.level)) throw new RangeError(`${what}.level must be one of ${LEVELS.join(', ')}`);
    if (
      typeof p.destination !== 'string' ||
      !/^(\[[A-Za-z0-9.:_-]+\](:\d{1,5})?|[A-Za-z0-9._-]+(:\d{1,5})?)$/.test(p.destination)
    )
      throw invalid(
        `${what}.destination ${JSON.stringify(String(p.destination).slice(0, 200))} is not a next hop: give a domain (example.com), [host]:port or [address]:port.`,
        { destination: String(p.destination).slice(0, 200) },
      );
    const match = p.match?.map((m, j) => checkName(m, `${what}.match[${j}]`));
    const servername = p.servername === undefined ? undefined : checkName(p.servername, `${what}.servername`);
    return {
      destination: p.destination,
      level: p.level,
      ...(match === undefined ? {} : { match }),
      ...(servername === undefined ? {} : { servername }),
    };
  });
  const ca = settings.outgoingCAFile;
  return {
    smtp,
    clients,
    profile,
    smtpProfile,
    outgoing,
    outgoingPolicies,
    outgoingCAFile: ca === undefined ? undefined : checkPath(ca, 'settings.outgoingCAFile', true),
  };
}

/**
 * Checks a layout and puts the default certificate first; names are canonical and each name is served by
 * the first certificate that lists it. (not public API)
 */
export function resolveLayout(layout: ServerTLSLayout, strictPaths: boolean): ResolvedCertificate[] {
  if (layout === null || typeof layout !== 'object' || !Array.isArray(layout.certificates))
    throw new TypeError('layout must be { certificates: [...] }');
  if (layout.certificates.length === 0)
    throw invalid(
      'The store holds no certificate to serve: install one first (mailtls install --store DIR ...).',
    );
  const seen = new Set<string>();
  const out: ResolvedCertificate[] = layout.certificates.map((c, i) => {
    const what = `certificate ${i + 1}`;
    if (c === null || typeof c !== 'object') throw new TypeError(`${what} must be an object`);
    const domain = checkName(c.domain, `${what}: the domain`);
    const names: string[] = [];
    for (const n of c.names ?? [domain]) {
      const name = checkName(n, `${what}: the name`);
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
    return {
      domain,
      names,
      cert: checkPath(c.cert, `the certificate file of ${domain}`, strictPaths),
      key: checkPath(c.key, `the key file of ${domain}`, strictPaths),
      keyType: c.keyType,
    };
  });
  if (layout.defaultDomain !== undefined) {
    const d = checkName(layout.defaultDomain, 'the default domain');
    const i = out.findIndex((c) => c.domain === d);
    if (i < 0)
      throw invalid(
        `The default domain ${d} is not among the certificates given (${out.map((c) => c.domain).join(', ')}).`,
        { domain: d },
      );
    out.unshift(...out.splice(i, 1));
  }
  return out;
}

/** The comment lines every emitted file starts with. (not public API) */
export function header(server: string, store: string | undefined, comment: string): string[] {
  if (store !== undefined) checkPath(store, 'the store directory', false);
  const lines = [
    `TLS for ${server}, written by mailtls${store === undefined ? '' : ` from the store ${store}`}.`,
    'Generated: edit the store or the settings and write it again rather than editing it by hand.',
  ];
  return lines.map((l) => `${comment} ${l}`);
}
