/**
 * The ACME manager a long-running mail server starts once: it issues what is missing, renews what is due
 * (checking on a timer), answers tls-alpn-01 through the responder its TLS port serves, registers every new
 * certificate in the server's SNI registry under its names (served from the next handshake, no restart),
 * and emits events.
 *
 * Several processes (or hosts sharing one store over a network file system) can run a manager on the same
 * store: each order takes the domain's lock file (`locks/<domain>.acme.lock`), a manager that finds it held
 * skips the domain for this round (`skipped`), and every manager serves whatever version the store holds
 * at its next check. In a cluster, the challenge must reach the node that ordered: use dns-01, or route
 * port 443/80 of every node to one responder.
 *
 * @module node/acme/manager
 */
import { EventEmitter } from 'node:events';
import { MailTlsError, StoreError } from '../../errors.js';
import type { CertificateStore } from '../store/store.js';
import type { SNIRegistry } from '../tls/sni-registry.js';
import type { AcmeAccount } from './account.js';
import type { DnsProvider, Http01Responder, TlsAlpnResponder } from './challenges.js';
import { type ObtainCertificateOptions, type ObtainResult, obtainCertificate } from './obtain.js';
import { type AcmeRenewalStatus, acmeRenewalStatus, type RenewalStatusOptions } from './renew.js';
import type { AcmeChallengeType } from './state.js';

/** A domain the manager keeps a certificate for. */
export interface ManagedDomain {
  /** The bare domain (Common Name). */
  readonly domain: string;
  /** The mail host names. */
  readonly names?: readonly string[] | undefined;
  /** Its challenge (default the manager's). */
  readonly challenge?: AcmeChallengeType | undefined;
  /** Its ACME profile (default the manager's `obtain.profile`, else the one it was ordered with). */
  readonly profile?: string | null | undefined;
}

/** Options of {@link createAcmeManager}. */
export interface AcmeManagerOptions {
  /** The store the certificates are installed into. */
  store: CertificateStore;
  /** The ACME account orders are made with. */
  account: AcmeAccount;
  /** The domains to keep certificates for. */
  domains: readonly ManagedDomain[];
  /** The default challenge (default `tls-alpn-01`). */
  challenge?: AcmeChallengeType | undefined;
  /** The tls-alpn-01 responder the server's TLS port answers through. */
  tlsAlpn?: TlsAlpnResponder | undefined;
  /** The http-01 responder the server's port 80 answers through. */
  http01?: Http01Responder | undefined;
  /** The dns-01 TXT record provider. */
  dns?: DnsProvider | undefined;
  /** The registry the server serves: new certificates are registered in it under their names. */
  registry?: SNIRegistry | undefined;
  /**
   * Longest time between checks in milliseconds (default one hour). A check comes earlier when a time drawn
   * in a CA's renewal window, or the CA's `Retry-After` for asking again, falls before (RFC 9773 section 4.3:
   * renew at the selected time).
   */
  checkIntervalMs?: number | undefined;
  /** How long to wait for another process's lock on a domain before skipping it this round (default 100 ms). */
  lockWaitMs?: number | undefined;
  /** More options of every order (pre-flight, key policy, profile...). */
  obtain?: Partial<Omit<ObtainCertificateOptions, 'account' | 'store' | 'domain' | 'names'>> | undefined;
  /** Renewal timing (fraction, jitter); the account's CA's renewal information (RFC 9773) is used when offered. */
  renewal?: Omit<RenewalStatusOptions, 'at' | 'account'> | undefined;
}

/** What one domain's check did. */
export interface ManagerOutcome {
  /** The domain. */
  readonly domain: string;
  /**
   * `issued` (it had none), `renewed`, `served` (the registry now serves a version another process
   * installed), `not-due`, `skipped` (another process holds its lock), `failed` (see `error`).
   */
  readonly action: 'issued' | 'renewed' | 'served' | 'not-due' | 'skipped' | 'failed';
  /** The renewal decision before the check. */
  readonly status: AcmeRenewalStatus;
  /** The issuance, when one was made. */
  readonly result?: ObtainResult;
  /** The failure of the order (the old certificate still serves). */
  readonly error?: MailTlsError;
}

/** Events of an {@link AcmeManager}. */
export interface AcmeManagerEvents {
  /** A certificate was obtained for a domain that had none. */
  issued: [result: ObtainResult];
  /** A certificate was renewed and put in service. */
  renewed: [result: ObtainResult];
  /** The registry now serves a version another process installed. */
  served: [domain: string, version: string];
  /** Another process holds the domain's lock: skipped this round. */
  skipped: [domain: string];
  /** An order failed (the old certificate still serves). */
  error: [error: MailTlsError, domain: string];
  /** A certificate will expire without a successful renewal: an administrator must look. */
  atRisk: [status: AcmeRenewalStatus];
}

/**
 * The manager. Create it with {@link createAcmeManager}; `start()` runs a first check and then one every
 * `checkIntervalMs`; `stop()` ends the timer and waits for a running check.
 *
 * @example
 * ```ts
 * const manager = createAcmeManager({ store, account, registry, tlsAlpn, domains: [{ domain: 'example.com', names: ['mail.example.com'] }] });
 * manager.on('renewed', (r) => log(`${r.domain} renewed, expires ${r.install.leaf.notAfter.toISOString()}`));
 * manager.on('error', (e, domain) => log(`${domain}: ${e.code} ${e.message}`));
 * await manager.start();
 * ```
 */
export class AcmeManager extends EventEmitter<AcmeManagerEvents> {
  readonly #o: AcmeManagerOptions;
  #timer: NodeJS.Timeout | undefined;
  /** The earliest renewal time or renewal-information check still to come (epoch ms), from the last check. */
  #wakeAt: number | undefined;
  #running: Promise<ManagerOutcome[]> | undefined;
  #stopped = false;
  readonly #served = new Map<string, string>();

  /** Prefer {@link createAcmeManager}. */
  constructor(options: AcmeManagerOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    if (!Array.isArray(options.domains)) throw new TypeError('options.domains must be an array');
    this.#o = options;
  }

  /** Runs a first check, then checks every `checkIntervalMs`. Answers the first check's outcomes. */
  async start(): Promise<ManagerOutcome[]> {
    this.#stopped = false;
    const first = await this.check();
    if (!this.#stopped) this.#schedule();
    return first;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.check()
        .catch(() => undefined)
        .finally(() => {
          if (!this.#stopped) this.#schedule();
        });
    }, this.#delay());
    this.#timer.unref();
  }

  /** Time to the next check: the interval, or sooner for a renewal time or a renewal-information check. */
  #delay(): number {
    const interval = this.#o.checkIntervalMs ?? 3_600_000;
    if (this.#wakeAt === undefined) return interval;
    return Math.max(1000, Math.min(interval, this.#wakeAt - Date.now()));
  }

  /** Stops checking; waits for a check in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /**
   * One pass over the domains now (checks do not overlap: a call during a check waits for it and answers
   * its outcomes). `force` renews even what is not due.
   */
  check(options: { force?: boolean; at?: Date } = {}): Promise<ManagerOutcome[]> {
    this.#running ??= this.#check(options).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(options: { force?: boolean; at?: Date }): Promise<ManagerOutcome[]> {
    const out: ManagerOutcome[] = [];
    for (const d of this.#o.domains) out.push(await this.#one(d, options));
    const now = (options.at ?? new Date()).getTime();
    const times = out
      .filter((x) => x.action === 'not-due' || x.action === 'served')
      .flatMap((x) => [x.status.renewAt?.getTime(), x.status.renewalInfoCheckAt?.getTime()])
      .filter((t): t is number => t !== undefined && t > now);
    this.#wakeAt = times.length === 0 ? undefined : Math.min(...times);
    return out;
  }

  async #one(d: ManagedDomain, options: { force?: boolean; at?: Date }): Promise<ManagerOutcome> {
    const o = this.#o;
    const at = options.at ?? new Date();
    const status = await acmeRenewalStatus(o.store, d.domain, { ...o.renewal, at, account: o.account });
    if (status.atRisk) this.emit('atRisk', status);
    if (!status.due && options.force !== true) {
      const served = await this.#serve(d.domain);
      return { domain: d.domain, action: served ? 'served' : 'not-due', status };
    }
    try {
      const result = await obtainCertificate({
        ...o.obtain,
        account: o.account,
        store: o.store,
        domain: d.domain,
        names: d.names ?? [],
        challenge: d.challenge ?? o.obtain?.challenge ?? o.challenge ?? 'tls-alpn-01',
        ...(d.profile === undefined ? {} : { profile: d.profile }),
        tlsAlpn: o.tlsAlpn,
        http01: o.http01,
        dns: o.dns,
        lock: { timeoutMs: o.lockWaitMs ?? 100 },
        at,
      });
      await this.#serve(d.domain, true);
      const action = status.expiresAt === undefined ? 'issued' : 'renewed';
      this.emit(action, result);
      return { domain: d.domain, action, status, result };
    } catch (e) {
      if (!(e instanceof MailTlsError)) throw e;
      if (e instanceof StoreError && e.code === 'ERR_STORE_LOCKED') {
        this.emit('skipped', d.domain);
        return { domain: d.domain, action: 'skipped', status };
      }
      if (this.listenerCount('error') > 0) this.emit('error', e, d.domain);
      return { domain: d.domain, action: 'failed', status, error: e };
    }
  }

  /** Registers the store's pair of a domain in the registry when its version changed; answers whether it did. */
  async #serve(domain: string, own = false): Promise<boolean> {
    const registry = this.#o.registry;
    if (registry === undefined) return false;
    const version = await this.#o.store.version(domain);
    if (version === 'none' || this.#served.get(domain) === version) return false;
    const credential = await this.#o.store.load(domain);
    // Built once here: a broken pair throws before any name switches to it.
    registry.prepare(credential);
    for (const name of credential.leaf.dnsNames) registry.add(name, credential);
    const first = !this.#served.has(domain);
    this.#served.set(domain, version);
    if (!first && !own) this.emit('served', domain, version);
    return !first && !own;
  }
}

/**
 * Creates an {@link AcmeManager}.
 * @throws TypeError for bad options.
 * @example
 * ```ts
 * const manager = createAcmeManager({ store, account, registry, tlsAlpn, domains: [{ domain: 'example.com' }] });
 * await manager.start();
 * ```
 */
export function createAcmeManager(options: AcmeManagerOptions): AcmeManager {
  return new AcmeManager(options);
}
