/**
 * TLS settings as data: for each mail service (SMTP in on 25, 587 and 465, POP3 on 110 and 995, IMAP on 143
 * and 993, HTTPS on 443) whether it is served, how TLS starts and which TLS profile it uses, and how outgoing
 * SMTP uses TLS; one set of defaults for the server and optional overrides per domain.
 *
 * This module is pure: it validates, reads and writes the JSON form. The certificate store keeps the file
 * (`settings/tls.json`, atomic and versioned) through `loadTLSSettings`/`saveTLSSettings` of `mailtls/node`;
 * a server applies it (see examples/mail-server.ts) and the web administrator (`mailtls/admin`) edits it.
 *
 * The choices an administrator has:
 * - a STARTTLS service (25, 587, 110, 143) is `enabled` or not, and TLS there is `offered` (clients may stay
 *   in plaintext) or `required` (nothing but STARTTLS, EHLO/CAPA, NOOP and QUIT before TLS; passwords are
 *   never accepted in plaintext either way);
 * - an implicit-TLS service (465, 995, 993, 443) is `enabled` or not;
 * - each service has a TLS profile from `mailtls/profile` (`intermediate`, `modern`, `legacy-port-25`);
 *   `legacy-port-25` is accepted on port 25 only, where the alternative for an old sender is plaintext;
 * - outgoing SMTP: TLS `opportunistic` (use it when the peer offers it) or `required` (never send in
 *   plaintext); send the destination's name in SNI or not; verify the peer's certificate names: `none`
 *   (encryption only), `mx-host` (the MX host name, Postfix `verify`) or `next-hop` (the recipient domain,
 *   Postfix `secure`).
 *
 * Where each setting applies, per domain or per listener (one port serves every domain):
 * - whether a service is served: the port listens when the defaults or any domain turn it on; a domain that
 *   turns it off is refused on that port once its name is known (the SNI name of the ClientHello, read by the
 *   peeking servers of `mailtls/node` before the handshake; a client without SNI gets the defaults);
 * - the TLS profile (versions, suites, groups): per domain on the peeking servers (`createPeekingTLSServer`,
 *   `createPeekingHTTPSServer`, `acceptTLS`, and `upgradeToTLS` after STARTTLS) through
 *   `createSettingsContextSource`, which chooses the context from the SNI name before the TLS socket exists;
 *   per listener on node's own SNI path (`SNICallback`: `createTLSServer`, `createHTTPSServer`, smtp-server),
 *   where OpenSSL has already chosen the version and keeps the listener's suites when the name arrives: use
 *   {@link listenerTLSProfile} there (the loosest profile of the domains on that service);
 * - STARTTLS `offered` or `required`: per domain where the server knows the domain in plaintext (SMTP `RCPT
 *   TO`), else by the defaults;
 * - outgoing SMTP: per sending domain, read by the client for each delivery.
 *
 * @module settings
 */
import { SettingsError } from '../errors.js';
import type { TLSProfileName } from '../tls/profile.js';

/** The format version this module writes and reads. */
export const TLS_SETTINGS_FORMAT = 1;

/** The most bytes a settings file may have (a thousand domains fit easily). */
export const MAX_TLS_SETTINGS_BYTES = 1 << 20;

/** The services a mail server offers over TLS, named like the IANA service names of their ports. */
export type MailService = 'smtp' | 'submission' | 'smtps' | 'pop3' | 'pop3s' | 'imap' | 'imaps' | 'https';

/** How TLS is used on a STARTTLS port. */
export type StartTLSPolicy = 'offered' | 'required';

/** One row of {@link MAIL_SERVICES}. */
export interface MailServiceInfo {
  /** The service. */
  readonly service: MailService;
  /** Its standard port. */
  readonly port: 25 | 587 | 465 | 110 | 995 | 143 | 993 | 443;
  /** The application protocol. */
  readonly protocol: 'smtp' | 'pop3' | 'imap' | 'https';
  /** TLS from the first byte, or after STARTTLS/STLS. */
  readonly tls: 'implicit' | 'starttls';
  /** For an administrator: what the service is. */
  readonly label: string;
}

/** Every service, in the order an administrator reads them. */
export const MAIL_SERVICES: readonly MailServiceInfo[] = Object.freeze(
  (
    [
      { service: 'smtp', port: 25, protocol: 'smtp', tls: 'starttls', label: 'SMTP in (relay), STARTTLS' },
      {
        service: 'submission',
        port: 587,
        protocol: 'smtp',
        tls: 'starttls',
        label: 'SMTP submission, STARTTLS',
      },
      {
        service: 'smtps',
        port: 465,
        protocol: 'smtp',
        tls: 'implicit',
        label: 'SMTP submission, implicit TLS',
      },
      { service: 'pop3', port: 110, protocol: 'pop3', tls: 'starttls', label: 'POP3, STLS' },
      { service: 'pop3s', port: 995, protocol: 'pop3', tls: 'implicit', label: 'POP3, implicit TLS' },
      { service: 'imap', port: 143, protocol: 'imap', tls: 'starttls', label: 'IMAP, STARTTLS' },
      { service: 'imaps', port: 993, protocol: 'imap', tls: 'implicit', label: 'IMAP, implicit TLS' },
      {
        service: 'https',
        port: 443,
        protocol: 'https',
        tls: 'implicit',
        label: 'HTTPS (webmail, administrator)',
      },
    ] as const
  ).map((r) => Object.freeze({ ...r })),
);

/** The settings of one service. */
export interface ServiceTLSSettings {
  /** Whether the service is served. */
  readonly enabled: boolean;
  /** On a STARTTLS port: `offered` or `required`. Ignored (and written as `offered`) on implicit ports. */
  readonly starttls: StartTLSPolicy;
  /** The TLS profile. */
  readonly profile: TLSProfileName;
}

/** How outgoing SMTP uses TLS. */
export interface OutgoingTLSSettings {
  /** `opportunistic`: TLS when the peer offers STARTTLS; `required`: never deliver in plaintext. */
  readonly tls: 'opportunistic' | 'required';
  /** Send the destination's name in SNI. */
  readonly sni: boolean;
  /** Which names the peer's certificate must carry: `none`, `mx-host` or `next-hop`. */
  readonly verify: 'none' | 'mx-host' | 'next-hop';
}

/** The TLS settings of one domain (or the server's defaults). */
export interface DomainTLSSettings {
  /** Every service. */
  readonly services: Readonly<Record<MailService, ServiceTLSSettings>>;
  /** Outgoing SMTP. */
  readonly outgoing: OutgoingTLSSettings;
  /** The domain's names resolve to private (LAN) addresses on purpose: no warning for that. */
  readonly lanOnly: boolean;
}

/** The whole settings file. */
export interface TLSSettings {
  /** Always {@link TLS_SETTINGS_FORMAT}. */
  readonly format: 1;
  /** Incremented by every save; a save that started from an older revision is refused. */
  readonly revision: number;
  /** When the revision was saved (ISO 8601), if known. */
  readonly savedAt?: string | undefined;
  /** Who saved it, if known. */
  readonly savedBy?: string | undefined;
  /** The server's defaults: what every domain without its own entry uses. */
  readonly defaults: DomainTLSSettings;
  /** Per-domain settings, by canonical domain name (lower case, no trailing dot). */
  readonly domains: Readonly<Record<string, DomainTLSSettings>>;
}

const SERVICE_NAMES = new Set<string>(MAIL_SERVICES.map((s) => s.service));
const PROFILE_NAMES = new Set<string>(['intermediate', 'modern', 'legacy-port-25']);

function service(s: MailServiceInfo): ServiceTLSSettings {
  return Object.freeze({
    enabled: true,
    starttls: s.service === 'smtp' || s.tls === 'implicit' ? 'offered' : 'required',
    profile: s.service === 'smtp' ? 'legacy-port-25' : 'intermediate',
  });
}

/**
 * The defaults: every service enabled; STARTTLS offered on 25 (a relay must accept senders without TLS) and
 * required on 587, 110 and 143; profile `legacy-port-25` on 25 and `intermediate` elsewhere; outgoing TLS
 * opportunistic with SNI and no name check (what works with every MX today).
 */
export const DEFAULT_DOMAIN_TLS_SETTINGS: DomainTLSSettings = Object.freeze({
  services: Object.freeze(
    Object.fromEntries(MAIL_SERVICES.map((s) => [s.service, service(s)])) as Record<
      MailService,
      ServiceTLSSettings
    >,
  ),
  outgoing: Object.freeze({ tls: 'opportunistic', sni: true, verify: 'none' }),
  lanOnly: false,
});

/**
 * Settings with nothing but the defaults (revision 0: never saved).
 *
 * @example
 * ```ts
 * import { createDefaultTLSSettings } from 'mailtls/settings';
 * createDefaultTLSSettings().defaults.services.imaps.enabled; // true
 * ```
 */
export function createDefaultTLSSettings(): TLSSettings {
  return Object.freeze({
    format: 1,
    revision: 0,
    defaults: DEFAULT_DOMAIN_TLS_SETTINGS,
    domains: Object.freeze({}),
  });
}

function fail(path: string, message: string, value?: unknown): never {
  throw new SettingsError('ERR_SETTINGS_INVALID', `TLS settings: ${path}: ${message}`, {
    details: {
      path,
      ...(value === undefined
        ? {}
        : { value: typeof value === 'string' ? value.slice(0, 100) : typeof value }),
    },
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function noExtraKeys(v: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(v))
    if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown setting (known: ${allowed.join(', ')})`);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  return v as T;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'must be true or false', v);
  return v;
}

function validateService(
  v: unknown,
  info: MailServiceInfo,
  base: ServiceTLSSettings,
  path: string,
): ServiceTLSSettings {
  if (v === undefined) return base;
  if (!isRecord(v)) fail(path, 'must be an object { enabled, starttls, profile }');
  noExtraKeys(v, ['enabled', 'starttls', 'profile'], path);
  const enabled = v.enabled === undefined ? base.enabled : bool(v.enabled, `${path}.enabled`);
  const starttls =
    v.starttls === undefined ? base.starttls : oneOf(v.starttls, ['offered', 'required'], `${path}.starttls`);
  if (info.tls === 'implicit' && starttls !== 'offered' && v.starttls !== undefined)
    fail(
      `${path}.starttls`,
      `port ${info.port} uses implicit TLS: TLS is always on there, leave starttls out`,
    );
  if (v.profile !== undefined && (typeof v.profile !== 'string' || !PROFILE_NAMES.has(v.profile)))
    fail(`${path}.profile`, `unknown TLS profile (known: ${[...PROFILE_NAMES].join(', ')})`, v.profile);
  const profile = (v.profile ?? base.profile) as TLSProfileName;
  if (profile === 'legacy-port-25' && info.port !== 25)
    fail(
      `${path}.profile`,
      `the legacy-port-25 profile allows TLS 1.0 and CBC suites and is only for port 25, where the alternative is plaintext; use intermediate on port ${info.port}`,
    );
  return Object.freeze({ enabled, starttls: info.tls === 'implicit' ? 'offered' : starttls, profile });
}

function validateDomain(v: unknown, base: DomainTLSSettings, path: string): DomainTLSSettings {
  if (!isRecord(v)) fail(path, 'must be an object { services, outgoing, lanOnly }');
  noExtraKeys(v, ['services', 'outgoing', 'lanOnly'], path);
  const services = v.services ?? {};
  if (!isRecord(services)) fail(`${path}.services`, 'must be an object keyed by service name');
  for (const k of Object.keys(services))
    if (!SERVICE_NAMES.has(k))
      fail(`${path}.services.${k}`, `unknown service (known: ${[...SERVICE_NAMES].join(', ')})`);
  const out = v.outgoing ?? {};
  if (!isRecord(out)) fail(`${path}.outgoing`, 'must be an object { tls, sni, verify }');
  noExtraKeys(out, ['tls', 'sni', 'verify'], `${path}.outgoing`);
  const outgoing: OutgoingTLSSettings = Object.freeze({
    tls:
      out.tls === undefined
        ? base.outgoing.tls
        : oneOf(out.tls, ['opportunistic', 'required'], `${path}.outgoing.tls`),
    sni: out.sni === undefined ? base.outgoing.sni : bool(out.sni, `${path}.outgoing.sni`),
    verify:
      out.verify === undefined
        ? base.outgoing.verify
        : oneOf(out.verify, ['none', 'mx-host', 'next-hop'], `${path}.outgoing.verify`),
  });
  if (outgoing.verify !== 'none' && outgoing.tls !== 'required')
    fail(
      `${path}.outgoing.verify`,
      'checking the peer certificate names only protects mail when TLS is required; set outgoing.tls to "required" or verify to "none"',
    );
  return Object.freeze({
    services: Object.freeze(
      Object.fromEntries(
        MAIL_SERVICES.map((s) => [
          s.service,
          validateService(services[s.service], s, base.services[s.service], `${path}.services.${s.service}`),
        ]),
      ) as Record<MailService, ServiceTLSSettings>,
    ),
    outgoing,
    lanOnly: v.lanOnly === undefined ? base.lanOnly : bool(v.lanOnly, `${path}.lanOnly`),
  });
}

/** A canonical DNS domain name for a key of `domains`: lower-case LDH labels, no trailing dot. */
function domainKey(name: string, path: string): string {
  const d = name.toLowerCase().replace(/\.$/, '');
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  const labels = d.startsWith('*.') ? d.slice(2).split('.') : d.split('.');
  if (d.length > 253 || labels.length < 2 || !labels.every((l) => label.test(l)))
    fail(path, 'is not a domain name (write it like example.com, A-labels for international names)', name);
  return d;
}

/**
 * Checks settings given as a plain object (parsed JSON or built by a program) and returns them complete and
 * frozen: a missing field takes the value of the defaults (for `defaults`, the built-in
 * {@link DEFAULT_DOMAIN_TLS_SETTINGS}); domain keys become canonical.
 *
 * @throws SettingsError `ERR_SETTINGS_INVALID` naming the first bad field and what to write instead;
 *   `ERR_SETTINGS_VERSION` when the format is newer than this version of mailtls reads.
 * @example
 * ```ts
 * import { validateTLSSettings } from 'mailtls/settings';
 * const s = validateTLSSettings({ format: 1, revision: 3, defaults: { services: { pop3: { enabled: false } } } });
 * s.defaults.services.pop3.enabled; // false
 * ```
 */
export function validateTLSSettings(input: unknown): TLSSettings {
  if (!isRecord(input)) fail('(top)', 'must be a JSON object { format, revision, defaults, domains }');
  noExtraKeys(input, ['format', 'revision', 'savedAt', 'savedBy', 'defaults', 'domains'], '(top)');
  if (input.format !== TLS_SETTINGS_FORMAT) {
    if (typeof input.format === 'number' && input.format > TLS_SETTINGS_FORMAT)
      throw new SettingsError(
        'ERR_SETTINGS_VERSION',
        `TLS settings: format ${input.format} was written by a newer mailtls; upgrade mailtls to read it.`,
        { details: { format: input.format } },
      );
    fail('format', `must be ${TLS_SETTINGS_FORMAT}`, input.format);
  }
  const revision = input.revision ?? 0;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
    fail('revision', 'must be a whole number from 0', revision);
  if (
    input.savedAt !== undefined &&
    (typeof input.savedAt !== 'string' || Number.isNaN(Date.parse(input.savedAt)))
  )
    fail('savedAt', 'must be an ISO 8601 date', input.savedAt);
  if (input.savedBy !== undefined && (typeof input.savedBy !== 'string' || input.savedBy.length > 200))
    fail('savedBy', 'must be a name of at most 200 characters', input.savedBy);
  const defaults = validateDomain(input.defaults ?? {}, DEFAULT_DOMAIN_TLS_SETTINGS, 'defaults');
  const domainsIn = input.domains ?? {};
  if (!isRecord(domainsIn)) fail('domains', 'must be an object keyed by domain name');
  const domains: Record<string, DomainTLSSettings> = {};
  for (const [name, value] of Object.entries(domainsIn)) {
    const key = domainKey(name, `domains.${name}`);
    if (Object.hasOwn(domains, key)) fail(`domains.${name}`, `is listed twice (as ${key})`);
    domains[key] = validateDomain(value, defaults, `domains.${key}`);
  }
  return Object.freeze({
    format: 1,
    revision,
    ...(input.savedAt === undefined ? {} : { savedAt: input.savedAt as string }),
    ...(input.savedBy === undefined ? {} : { savedBy: input.savedBy as string }),
    defaults,
    domains: Object.freeze(domains),
  });
}

/**
 * Parses the JSON text of a settings file and validates it ({@link validateTLSSettings}).
 *
 * @throws SettingsError `ERR_SETTINGS_TOO_LARGE` over {@link MAX_TLS_SETTINGS_BYTES}; `ERR_SETTINGS_INVALID`
 *   for text that is not JSON or a bad field; `ERR_SETTINGS_VERSION`.
 * @example
 * ```ts
 * const s = parseTLSSettingsJSON('{"format":1,"revision":1}');
 * ```
 */
export function parseTLSSettingsJSON(text: string): TLSSettings {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length > MAX_TLS_SETTINGS_BYTES)
    throw new SettingsError(
      'ERR_SETTINGS_TOO_LARGE',
      `TLS settings: the file has ${text.length} characters, more than the ${MAX_TLS_SETTINGS_BYTES} allowed; it is not a settings file.`,
      { details: { length: text.length, max: MAX_TLS_SETTINGS_BYTES } },
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SettingsError(
      'ERR_SETTINGS_INVALID',
      `TLS settings: not JSON (${(e as Error).message}); fix the file or restore a saved revision.`,
      {
        cause: e,
        details: { path: '(top)' },
      },
    );
  }
  return validateTLSSettings(value);
}

function sameDomain(a: DomainTLSSettings, b: DomainTLSSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The JSON text of settings, stable (services in {@link MAIL_SERVICES} order, domains sorted), two-space
 * indented, ending in a newline. A domain entry equal to the defaults is kept (it pins the domain's settings
 * when the defaults change later).
 *
 * @throws SettingsError `ERR_SETTINGS_INVALID` for settings that do not validate.
 * @example
 * ```ts
 * const text = encodeTLSSettingsJSON(createDefaultTLSSettings());
 * ```
 */
export function encodeTLSSettingsJSON(settings: TLSSettings): string {
  const s = validateTLSSettings(settings);
  const domain = (d: DomainTLSSettings) => ({
    services: Object.fromEntries(MAIL_SERVICES.map((m) => [m.service, { ...d.services[m.service] }])),
    outgoing: { ...d.outgoing },
    lanOnly: d.lanOnly,
  });
  const out = {
    format: s.format,
    revision: s.revision,
    ...(s.savedAt === undefined ? {} : { savedAt: s.savedAt }),
    ...(s.savedBy === undefined ? {} : { savedBy: s.savedBy }),
    defaults: domain(s.defaults),
    domains: Object.fromEntries(
      Object.keys(s.domains)
        .sort()
        .map((k) => [k, domain(s.domains[k] as DomainTLSSettings)]),
    ),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * The settings that apply to a domain: its own entry, else the entry of its wildcard (`*.example.com` for
 * `mail.example.com`), else the defaults.
 *
 * @example
 * ```ts
 * resolveDomainTLSSettings(settings, 'Mail.Example.com.').services.smtp.starttls;
 * ```
 */
export function resolveDomainTLSSettings(settings: TLSSettings, domain: string): DomainTLSSettings {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const own = settings.domains[d];
  if (own !== undefined) return own;
  const dot = d.indexOf('.');
  const wild = dot > 0 ? settings.domains[`*${d.slice(dot)}`] : undefined;
  return wild ?? settings.defaults;
}

/**
 * Returns new settings with one domain's entry replaced (or, with `undefined`, removed so that the domain
 * follows the defaults again), validated. Pass the domain `'*'` to replace the defaults.
 *
 * @throws SettingsError `ERR_SETTINGS_INVALID` for a bad domain name or bad values.
 * @example
 * ```ts
 * const next = withDomainTLSSettings(s, 'example.com', { ...s.defaults, lanOnly: true });
 * ```
 */
export function withDomainTLSSettings(
  settings: TLSSettings,
  domain: string,
  value: DomainTLSSettings | undefined,
): TLSSettings {
  if (domain === '*') {
    if (value === undefined) throw new TypeError('the defaults cannot be removed');
    return validateTLSSettings({ ...settings, defaults: value });
  }
  const key = domainKey(domain, 'domain');
  const domains: Record<string, DomainTLSSettings> = { ...settings.domains };
  if (value === undefined) delete domains[key];
  else domains[key] = value;
  return validateTLSSettings({ ...settings, domains });
}

/**
 * Whether two domain settings are the same (every service, outgoing and `lanOnly`).
 * @example `matchDomainTLSSettings(a, b)`
 */
export function matchDomainTLSSettings(a: DomainTLSSettings, b: DomainTLSSettings): boolean {
  return sameDomain(
    validateDomain(a, DEFAULT_DOMAIN_TLS_SETTINGS, 'a'),
    validateDomain(b, DEFAULT_DOMAIN_TLS_SETTINGS, 'b'),
  );
}

/**
 * The services a server must listen for: a service is served when the defaults or any domain enable it
 * (one port serves every domain; the certificate is chosen by SNI).
 *
 * @example
 * ```ts
 * enabledServices(settings); // ['smtp', 'submission', ...]
 * ```
 */
export function enabledServices(settings: TLSSettings): MailService[] {
  const all = [settings.defaults, ...Object.values(settings.domains)];
  return MAIL_SERVICES.filter((s) => all.some((d) => d.services[s.service].enabled)).map((s) => s.service);
}

/** Profiles from the loosest to the strictest (a looser one accepts every client a stricter one accepts). */
const PROFILE_LOOSENESS: readonly TLSProfileName[] = ['legacy-port-25', 'intermediate', 'modern'];

/**
 * The profile one listener of `service` must use where the profile cannot follow the domain: on node's own
 * SNI path (`tls.createServer` with `SNICallback`, smtp-server), OpenSSL picks the version and the suites from
 * the listener's context before it learns the name, so only the certificate can differ per domain. The rule
 * is the loosest profile among the defaults and the domains that turn the service on, so that no domain's
 * clients are refused; a domain with a stricter profile then gets it only on the peeking servers of
 * `mailtls/node` (see `createSettingsContextSource`), which read the ClientHello first and apply every
 * domain's own profile. Undefined when no domain serves the service.
 *
 * @example
 * ```ts
 * listenerTLSProfile(settings, 'imaps'); // 'intermediate' when one domain is intermediate and one modern
 * ```
 */
export function listenerTLSProfile(settings: TLSSettings, service: MailService): TLSProfileName | undefined {
  let best: number | undefined;
  for (const d of [settings.defaults, ...Object.values(settings.domains)]) {
    const s = d.services[service];
    if (!s.enabled) continue;
    const rank = PROFILE_LOOSENESS.indexOf(s.profile);
    if (best === undefined || rank < best) best = rank;
  }
  return best === undefined ? undefined : PROFILE_LOOSENESS[best];
}

/** Client options for outgoing SMTP derived from {@link OutgoingTLSSettings} (see {@link outgoingTLSOptions}). */
export interface OutgoingTLSOptions {
  /** Refuse to deliver when the peer offers no STARTTLS or the handshake fails. */
  readonly requireTLS: boolean;
  /** The `verify` mode of `clientTLSOptions` in `mailtls/node`: `none` or `hostname`. */
  readonly verify: 'none' | 'hostname';
  /** The SNI name to send, or false. */
  readonly servername: string | false;
  /** The next-hop domain to match (`next-hop` verification), else undefined. */
  readonly nextHop: string | undefined;
}

/**
 * Turns outgoing settings and one delivery (the MX host and the recipient's domain) into the options of
 * `clientTLSOptions` in `mailtls/node`.
 *
 * @example
 * ```ts
 * const o = outgoingTLSOptions(settings.defaults.outgoing, { mxHost: 'mx1.example.net', nextHop: 'example.net' });
 * ```
 */
export function outgoingTLSOptions(
  outgoing: OutgoingTLSSettings,
  delivery: { mxHost: string; nextHop: string },
): OutgoingTLSOptions {
  return Object.freeze({
    requireTLS: outgoing.tls === 'required',
    verify: outgoing.verify === 'none' ? 'none' : 'hostname',
    servername: outgoing.sni ? delivery.mxHost : false,
    nextHop: outgoing.verify === 'next-hop' ? delivery.nextHop : undefined,
  });
}
