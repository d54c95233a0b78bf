/**
 * The options of the web administrator.
 *
 * @module admin/options
 */
import type { Certificate } from '../index.js';
import type { CertificateStore } from '../node/index.js';
import type { MailService } from '../settings/index.js';

/** Options of {@link createAdminHandler}. */
export interface AdminHandlerOptions {
  /** The certificate store to administer (its `trust` option also completes chains in previews). */
  store: CertificateStore;
  /** Where the handler is mounted, e.g. `/admin`; default the root. */
  basePath?: string | undefined;
  /**
   * A hook for products with their own login: return the user name for an authenticated request, or
   * undefined to refuse it (403). With the hook, the built-in login is off.
   */
  authorize?: ((request: Request) => string | undefined | Promise<string | undefined>) | undefined;
  /** A session ends after this long without a request; default 30 minutes. */
  sessionIdleMs?: number | undefined;
  /** A session ends this long after login in any case; default 8 hours. */
  sessionMaxAgeMs?: number | undefined;
  /**
   * Keep sessions in the store (`admin/sessions.json`, 0600, replaced atomically, each session under the
   * SHA-256 of its id, so a copy of the file logs nobody in), so that a restart of the administrator does not
   * log everyone out; expiry still counts from the login and the last request. Default true; false keeps them
   * in memory only.
   */
  persistSessions?: boolean | undefined;
  /**
   * Failed logins allowed per client address and per user name in `loginWindowMs`; default 5. At the limit,
   * every login for that address or name is refused, even with the right password, until the window passes.
   */
  maxLoginFailures?: number | undefined;
  /** The window of `maxLoginFailures`; default 15 minutes. */
  loginWindowMs?: number | undefined;
  /**
   * The delay after a first failed login before the same address or user name may try again; it doubles with
   * each further failure in the window, up to `maxLoginDelayMs`. An earlier attempt is answered at once with
   * 429 and `Retry-After` (the server never holds a connection open to wait). Default 250 ms.
   */
  loginDelayMs?: number | undefined;
  /** The longest delay between failed logins; default 30 seconds. */
  maxLoginDelayMs?: number | undefined;
  /**
   * Mark the session cookie `Secure` (only sent over HTTPS); default true. Turn off only behind a local
   * TLS-terminating proxy that forwards over plain HTTP on loopback.
   */
  secureCookie?: boolean | undefined;
  /** Trust anchors for previews and probes (PEM or DER), e.g. a private CA's root; default Node's roots. */
  trust?: readonly (string | Uint8Array | Certificate)[] | undefined;
  /** Where "test now" connects: an address instead of the names, and the port of each service. */
  probe?: AdminProbeOptions | undefined;
  /** Resolves a host name to its addresses; default `dns.lookup` (all addresses) with a 3 s limit. */
  resolve?: ((name: string) => Promise<readonly string[]>) | undefined;
  /** The clock; default the system clock. */
  now?: (() => Date) | undefined;
}

/** Where the administrator's "test now" connects. */
export interface AdminProbeOptions {
  /** The address to connect to instead of each name's own (e.g. `127.0.0.1`); names still go in SNI. */
  connect?: string | undefined;
  /** The port of each service; default the standard one (25, 587, 465, 110, 995, 143, 993, 443). */
  ports?: ((service: MailService) => number | undefined) | undefined;
  /** Time limit per port, in milliseconds; default 10,000. */
  timeoutMs?: number | undefined;
}
