/**
 * Serving the store's TLS settings per domain: a {@link TLSContextSource} that, for each ClientHello, finds
 * the domain of the SNI name in the settings, takes that domain's profile for the listener's service, and
 * answers the context from the registry of that profile. The peeking servers (`acceptTLS`,
 * `createPeekingTLSServer`, `createPeekingHTTPSServer`, and `upgradeToTLS` after STARTTLS) read the
 * ClientHello before the TLS socket exists, so the whole profile (versions, suites, groups) applies per domain:
 * two domains on one port can have different minimum versions. A domain whose settings turn the service off
 * is refused on that port (its handshake fails), while other domains are served.
 *
 * node's own SNI path (`tls.createServer` with `SNICallback`: `createTLSServer`, `createHTTPSServer`,
 * smtp-server) cannot do this: OpenSSL has chosen the version and keeps the listener's suites before the
 * callback runs, and only the certificate comes from the name's context. There the profile is per listener;
 * `listenerTLSProfile` of `mailtls/settings` names the one to use.
 *
 * @module node/tls/settings-source
 */
import { TLSError } from '../../errors.js';
import { canonicalizeServername } from '../../names/sni.js';
import {
  type DomainTLSSettings,
  MAIL_SERVICES,
  type MailService,
  resolveDomainTLSSettings,
  type TLSSettings,
} from '../../settings/index.js';
import type { TLSProfileName } from '../../tls/profile.js';
import type { ResolvedContext, SNIRegistry } from './sni-registry.js';

/**
 * What the peeking servers need to secure a connection: a context for the SNI name. An {@link SNIRegistry} is
 * one (every name with the registry's profile); {@link createSettingsContextSource} makes one that follows the
 * TLS settings per domain.
 */
export interface TLSContextSource {
  /**
   * The context for a name (or none), waiting for a loader if needed.
   * @throws {TLSError} (rejects) when the name cannot be served.
   */
  resolve(servername: string | null | undefined): Promise<ResolvedContext>;
  /**
   * The context for a name if it can be had without waiting, else undefined (then `resolve` answers).
   * @throws {TLSError} when the name cannot be served.
   */
  resolveIfReady(servername: string | null | undefined): ResolvedContext | undefined;
}

/** Options of {@link createSettingsContextSource}. */
export interface SettingsContextSourceOptions {
  /** The service of the listener: each domain's settings for it give the profile and whether it is on. */
  service: MailService;
  /**
   * The settings, or a function answering the current ones (read at every handshake, so a new revision, e.g.
   * from `watchTLSSettings`, applies to the next connection without re-making the listener).
   */
  settings: TLSSettings | (() => TLSSettings);
  /**
   * The registry serving each profile (one registry per profile, all with the same credentials). A map, or a
   * function; a profile without a registry fails the handshake with `ERR_TLS_CONTEXT`.
   */
  registries:
    | Readonly<Partial<Record<TLSProfileName, SNIRegistry>>>
    | ((profile: TLSProfileName) => SNIRegistry | undefined);
  /**
   * The settings domain of a name (e.g. `example.com` for `mail.example.com`), when the caller knows it (from
   * the store: the domain whose certificate carries the name). By default the name itself, else its closest
   * parent with an entry in the settings, else a wildcard entry, else the defaults.
   */
  domainOf?: ((name: string) => string | undefined) | undefined;
  /** The domain whose settings apply to a client that sends no SNI name; default the settings' defaults. */
  defaultDomain?: string | undefined;
}

/**
 * The settings of the domain a served name belongs to: the name's own entry, else the closest parent domain
 * with an entry (`example.com` for `mail.example.com`), else `resolveDomainTLSSettings` (wildcard, defaults).
 *
 * @example
 * ```ts
 * settingsForServedName(settings, 'imap.example.com').services.imaps.profile;
 * ```
 */
export function settingsForServedName(settings: TLSSettings, name: string): DomainTLSSettings {
  const n = name.toLowerCase().replace(/\.$/, '');
  for (let d = n; d.includes('.'); d = d.slice(d.indexOf('.') + 1)) {
    const own = settings.domains[d];
    if (own !== undefined) return own;
  }
  return resolveDomainTLSSettings(settings, n);
}

/**
 * A {@link TLSContextSource} that applies the TLS settings per domain on one listener (see the module
 * description): pass it to `createPeekingTLSServer`, `createPeekingHTTPSServer`, `acceptTLS` or
 * `upgradeToTLS` instead of a registry.
 *
 * @throws TypeError for an unknown `service` or missing `settings`/`registries`. The source's methods throw
 *   (or reject with) {@link TLSError} `ERR_TLS_SERVICE_DISABLED` when the name's domain has the service turned
 *   off, `ERR_TLS_CONTEXT` when no registry serves the domain's profile, and the registry's own errors.
 * @example
 * ```ts
 * import {
 *   createPeekingTLSServer, createSettingsContextSource, createSNIRegistry, loadTLSSettings, watchTLSSettings,
 * } from 'mailtls/node';
 * import { getTLSProfile } from 'mailtls/profile';
 * const registries = {
 *   intermediate: createSNIRegistry(cred, { profile: getTLSProfile('intermediate') }),
 *   modern: createSNIRegistry(cred, { profile: getTLSProfile('modern') }),
 * };
 * // The store's settings, kept current by watchTLSSettings: each new revision applies to the next handshake.
 * let current = await loadTLSSettings(root);
 * watchTLSSettings(root, (next) => { current = next; }, (error) => log(error.message));
 * const source = createSettingsContextSource({ service: 'imaps', settings: () => current, registries });
 * createPeekingTLSServer(source, {}, (socket) => socket.end('* OK IMAP ready\r\n')).listen(993);
 * ```
 */
export function createSettingsContextSource(options: SettingsContextSourceOptions): TLSContextSource {
  const { service } = options;
  if (!MAIL_SERVICES.some((s) => s.service === service)) throw new TypeError(`unknown service "${service}"`);
  if (options.settings === undefined || options.registries === undefined)
    throw new TypeError('settings and registries are required');
  const current =
    typeof options.settings === 'function' ? options.settings : () => options.settings as TLSSettings;
  const registries = options.registries;
  const registryOf =
    typeof registries === 'function'
      ? registries
      : (p: TLSProfileName) => registries[p] as SNIRegistry | undefined;

  const pick = (servername: string | null | undefined): SNIRegistry => {
    const settings = current();
    const name = canonicalizeServername(servername);
    const domain = name === undefined ? options.defaultDomain : (options.domainOf?.(name) ?? name);
    const d = domain === undefined ? settings.defaults : settingsForServedName(settings, domain);
    const s = d.services[service];
    if (!s.enabled)
      throw new TLSError(
        'ERR_TLS_SERVICE_DISABLED',
        `${service} is turned off for ${domain ?? 'clients without SNI'} in the TLS settings; the handshake was refused`,
        { details: { servername: name, service } },
      );
    const registry = registryOf(s.profile);
    if (registry === undefined)
      throw new TLSError(
        'ERR_TLS_CONTEXT',
        `no SNI registry serves the TLS profile "${s.profile}" that the settings give ${domain ?? 'clients without SNI'} for ${service}: create one for it`,
        { details: { servername: name, service, profile: s.profile } },
      );
    return registry;
  };
  return {
    resolveIfReady: (servername) => pick(servername).resolveIfReady(servername),
    resolve: async (servername) => pick(servername).resolve(servername),
  };
}
