/**
 * When to renew a certificate: {@link renewalWindow}.
 *
 * The rule is the one certmagic (Caddy) and Let's Encrypt's own guidance use: renew when a third of the
 * certificate's lifetime is left (step-cli's "66 % of the lifetime used" is the same point). A rule based on
 * the lifetime, rather than a fixed "30 days before expiry", keeps working as maximum lifetimes shrink under
 * CA/Browser Forum ballot SC-081 (398 days today, then 200 days from March 2026, 100 days from March 2027 and
 * 47 days from March 2029): a 47-day certificate is renewed after about 31 days, a 90-day one after 60 days,
 * whereas a fixed 30-day margin would renew a 47-day certificate after 17 days and a 6-day certificate never
 * in time.
 *
 * The intermediates a server sends can expire before the leaf (a CA rolls its intermediates): a chain
 * certificate that expires before the leaf is reported, and when it expires within the renewal margin the
 * certificate is due (renewing fetches the CA's current chain).
 *
 * Pure: no clock is read unless `at` is left out (then `new Date()`).
 *
 * @module renewal
 */
import { validDate } from '../internal/assert.js';

/** The validity dates of a certificate (a parsed `Certificate` view has them). */
export interface CertificateValidity {
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity (inclusive). */
  readonly notAfter: Date;
  /** For messages: the certificate's subject (RFC 4514 text via `toString()`). */
  readonly subject?:
    | {
        /** The RFC 4514 text of the name. */
        toString(): string;
      }
    | undefined;
}

/** Options of {@link renewalWindow}. */
export interface RenewalOptions {
  /** The moment to judge at; default now. */
  at?: Date | undefined;
  /**
   * The fraction of the lifetime left at which to renew, between 0 and 1; default `1/3` (certmagic, Let's
   * Encrypt). `0.5` renews at half-life.
   */
  remainingFraction?: number | undefined;
  /** The CA certificates served after the leaf (intermediates; a root here is checked too). */
  chain?: readonly CertificateValidity[] | undefined;
}

/** Something about the chain that should be looked at. */
export interface RenewalWarning {
  /** `INTERMEDIATE_EXPIRES_FIRST`: a chain certificate expires before the leaf. */
  readonly code: 'INTERMEDIATE_EXPIRES_FIRST';
  /** What to do, for an administrator. */
  readonly message: string;
  /** Position in `chain` (0 = the certificate right after the leaf). */
  readonly index: number;
  /** Its subject, when known. */
  readonly subject: string | undefined;
  /** When it expires. */
  readonly notAfter: Date;
}

/** The outcome of {@link renewalWindow}. */
export interface RenewalWindow {
  /** When to renew: `notAfter - remainingFraction * lifetime`, rounded down to the second. */
  readonly renewAt: Date;
  /** The leaf's notAfter. */
  readonly expiresAt: Date;
  /** The leaf's notBefore. */
  readonly notBefore: Date;
  /** Lifetime in days (fractional), notBefore to notAfter. */
  readonly lifetimeDays: number;
  /** Whole days until `expiresAt` (negative once expired; 0 in the last day). */
  readonly daysLeft: number;
  /** Whether renewal is due at `at`: past `renewAt`, or a chain certificate expires within the margin. */
  readonly due: boolean;
  /** `at` is after `expiresAt`. */
  readonly expired: boolean;
  /** `at` is before `notBefore`. */
  readonly notYetValid: boolean;
  /** The earliest notAfter of the leaf and the chain: when the served chain stops working. */
  readonly chainExpiresAt: Date;
  /** Chain certificates that expire before the leaf. */
  readonly warnings: readonly RenewalWarning[];
}

const DAY = 86_400_000;

/**
 * Tells when to renew a certificate: when `remainingFraction` (default a third) of its lifetime is left.
 * Also reports intermediates that expire before the leaf; when one expires within the renewal margin,
 * renewal is due at once.
 *
 * @param cert - the leaf (a parsed `Certificate` or anything with `notBefore`/`notAfter`).
 * @param options - `at` (default now), `remainingFraction`, `chain`.
 * @throws TypeError when dates are missing or invalid; RangeError when `remainingFraction` is not in (0, 1)
 *   or notAfter is before notBefore.
 * @example
 * ```ts
 * import { parseCertificate, renewalWindow } from 'mailtls';
 * const cert = parseCertificate(pem);
 * const w = renewalWindow(cert, { at: new Date() });
 * if (w.due) console.log(`renew now: ${w.daysLeft} days left, expires ${w.expiresAt.toISOString()}`);
 * else console.log(`renew on ${w.renewAt.toISOString()}`);
 * ```
 */
export function renewalWindow(cert: CertificateValidity, options: RenewalOptions = {}): RenewalWindow {
  if (cert === null || typeof cert !== 'object') throw new TypeError('cert must be a certificate');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const notBefore = validDate(cert.notBefore, 'cert.notBefore');
  const notAfter = validDate(cert.notAfter, 'cert.notAfter');
  const at = options.at === undefined ? new Date() : validDate(options.at, 'options.at');
  const fraction = options.remainingFraction ?? 1 / 3;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))
    throw new RangeError('remainingFraction must be a number between 0 and 1 (exclusive)');
  const lifetime = notAfter.getTime() - notBefore.getTime();
  if (lifetime < 0) throw new RangeError('the certificate ends (notAfter) before it starts (notBefore)');
  const margin = lifetime * fraction;
  const renewAt = new Date(Math.floor((notAfter.getTime() - margin) / 1000) * 1000);
  const chain = options.chain ?? [];
  if (!Array.isArray(chain)) throw new TypeError('options.chain must be an array of certificates');
  const warnings: RenewalWarning[] = [];
  let chainExpires = notAfter.getTime();
  let chainDue = false;
  chain.forEach((c: CertificateValidity, index: number) => {
    const end = validDate(c?.notAfter, `options.chain[${index}].notAfter`);
    if (end.getTime() < chainExpires) chainExpires = end.getTime();
    if (end.getTime() < notAfter.getTime()) {
      const subject = c.subject === undefined ? undefined : String(c.subject);
      if (end.getTime() - margin <= at.getTime()) chainDue = true;
      warnings.push({
        code: 'INTERMEDIATE_EXPIRES_FIRST',
        message:
          `The chain certificate${subject === undefined ? '' : ` ${subject}`} expires on ${end.toISOString()}, ` +
          `before the certificate (${notAfter.toISOString()}): clients will reject the chain from then on. ` +
          "Renew before that date or fetch the CA's current intermediate.",
        index,
        subject,
        notAfter: new Date(end.getTime()),
      });
    }
  });
  const left = notAfter.getTime() - at.getTime();
  return {
    renewAt,
    expiresAt: new Date(notAfter.getTime()),
    notBefore: new Date(notBefore.getTime()),
    lifetimeDays: lifetime / DAY,
    daysLeft: Math.floor(left / DAY),
    due: at.getTime() >= renewAt.getTime() || chainDue,
    expired: left < 0,
    notYetValid: at.getTime() < notBefore.getTime(),
    chainExpiresAt: new Date(chainExpires),
    warnings,
  };
}
