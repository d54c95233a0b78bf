/**
 * The well-known mail and web ports, as data: which protocol each speaks and whether TLS starts at once
 * (implicit TLS) or after a STARTTLS command, and the TLS profile each gets by default.
 *
 * @module node/tls/ports
 */
import type { TLSProfileName } from '../../tls/profile.js';

/** How a port starts TLS. */
export type TLSMode = 'implicit' | 'starttls';

/** The application protocol on a port. */
export type PortProtocol = 'smtp' | 'pop3' | 'imap' | 'https';

/** One row of {@link PORTS}. */
export interface PortInfo {
  /** The port number. */
  readonly port: number;
  /** The application protocol. */
  readonly protocol: PortProtocol;
  /** TLS from the first byte, or after a STARTTLS/STLS command. */
  readonly tls: TLSMode;
  /** The STARTTLS command (`STARTTLS` or `STLS`), for `tls: 'starttls'`. */
  readonly command?: 'STARTTLS' | 'STLS';
  /** The URL scheme clients such as curl use. */
  readonly scheme: 'smtp' | 'smtps' | 'pop3' | 'pop3s' | 'imap' | 'imaps' | 'https';
  /** The default TLS profile. */
  readonly profile: TLSProfileName;
  /** What the port is for. */
  readonly description: string;
}

function row(info: PortInfo): PortInfo {
  return Object.freeze(info);
}

/**
 * The port table: 25 SMTP relay (STARTTLS, opportunistic, `legacy-port-25` profile), 587 submission
 * (STARTTLS), 465 submission over implicit TLS (RFC 8314), 110 POP3 (STLS), 995 POP3S, 143 IMAP (STARTTLS),
 * 993 IMAPS, 443 HTTPS.
 *
 * @example
 * ```ts
 * import { PORTS } from 'mailtls/node';
 * PORTS[465]; // { port: 465, protocol: 'smtp', tls: 'implicit', scheme: 'smtps', ... }
 * ```
 */
export const PORTS: Readonly<Record<25 | 587 | 465 | 110 | 995 | 143 | 993 | 443, PortInfo>> = Object.freeze({
  25: row({
    port: 25,
    protocol: 'smtp',
    tls: 'starttls',
    command: 'STARTTLS',
    scheme: 'smtp',
    profile: 'legacy-port-25',
    description: 'SMTP relay between mail servers; TLS is opportunistic (RFC 3207)',
  }),
  587: row({
    port: 587,
    protocol: 'smtp',
    tls: 'starttls',
    command: 'STARTTLS',
    scheme: 'smtp',
    profile: 'intermediate',
    description: 'message submission with STARTTLS (RFC 6409)',
  }),
  465: row({
    port: 465,
    protocol: 'smtp',
    tls: 'implicit',
    scheme: 'smtps',
    profile: 'intermediate',
    description: 'message submission over implicit TLS (RFC 8314)',
  }),
  110: row({
    port: 110,
    protocol: 'pop3',
    tls: 'starttls',
    command: 'STLS',
    scheme: 'pop3',
    profile: 'intermediate',
    description: 'POP3 with STLS (RFC 2595)',
  }),
  995: row({
    port: 995,
    protocol: 'pop3',
    tls: 'implicit',
    scheme: 'pop3s',
    profile: 'intermediate',
    description: 'POP3 over implicit TLS (RFC 8314)',
  }),
  143: row({
    port: 143,
    protocol: 'imap',
    tls: 'starttls',
    command: 'STARTTLS',
    scheme: 'imap',
    profile: 'intermediate',
    description: 'IMAP with STARTTLS (RFC 9051)',
  }),
  993: row({
    port: 993,
    protocol: 'imap',
    tls: 'implicit',
    scheme: 'imaps',
    profile: 'intermediate',
    description: 'IMAP over implicit TLS (RFC 8314)',
  }),
  443: row({
    port: 443,
    protocol: 'https',
    tls: 'implicit',
    scheme: 'https',
    profile: 'intermediate',
    description: 'HTTPS (webmail, autoconfig, MTA-STS policy)',
  }),
});

/**
 * The row for a port number, or undefined for a port not in {@link PORTS}.
 *
 * @example
 * ```ts
 * import { getPortInfo } from 'mailtls/node';
 * getPortInfo(993)?.tls; // 'implicit'
 * ```
 */
export function getPortInfo(port: number): PortInfo | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError('port must be an integer 0-65535');
  return Object.hasOwn(PORTS, port) ? PORTS[port as keyof typeof PORTS] : undefined;
}
