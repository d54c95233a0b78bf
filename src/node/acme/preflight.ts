/**
 * The pre-flight check before an ACME order: a public CA validates a name by connecting to the addresses
 * it resolves to, so every name must resolve, and to internet addresses. A name that resolves to a
 * private, loopback, link-local or unique-local address (a LAN server) cannot get a certificate from a
 * public CA unless the domain is for the LAN only and the CA can reach it (an internal ACME server, or
 * dns-01).
 *
 * @module node/acme/preflight
 */
import { Resolver } from 'node:dns/promises';
import { BlockList } from 'node:net';
import { AcmeError } from '../../errors.js';
import { canonicalizeHostname } from '../../names/hostname.js';

/** What kind of address a name resolved to. */
export type AddressScope = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified';

/** One name's resolution. */
export interface NameResolution {
  /** The name, canonical. */
  readonly name: string;
  /** The A and AAAA addresses, with their scope. */
  readonly addresses: readonly {
    /** The address as resolved. */
    readonly address: string;
    /** Its scope: only `public` addresses can be reached by a public CA. */
    readonly scope: AddressScope;
  }[];
  /** `ok`, `unresolved` (no A or AAAA), or `lan` (some address is not public). */
  readonly status: 'ok' | 'unresolved' | 'lan';
  /** What to tell the administrator (empty when `ok`). */
  readonly message: string;
}

/** Options of {@link resolveNames}. */
export interface ResolveNamesOptions {
  /** DNS servers to ask (`['192.0.2.53', '127.0.0.1:8053']`); default the system's. */
  servers?: readonly string[] | undefined;
  /** A resolver of your own (anything with `resolve4` and `resolve6`), instead of `servers`. */
  resolver?: Pick<Resolver, 'resolve4' | 'resolve6'> | undefined;
  /** Time per query in milliseconds (default 5,000). */
  timeoutMs?: number | undefined;
}

/** Options of {@link verifyNamesResolve}. */
export interface VerifyNamesOptions extends ResolveNamesOptions {
  /** The domain serves the LAN only (its CA can reach private addresses): private addresses are fine. */
  lanOnly?: boolean | undefined;
  /** Order even for names that do not resolve or resolve to LAN addresses (the check still reports them). */
  insist?: boolean | undefined;
}

const scopes: readonly [AddressScope, BlockList][] = (() => {
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  const linkLocal = new BlockList();
  linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
  linkLocal.addSubnet('fe80::', 10, 'ipv6');
  const priv = new BlockList();
  for (const [net, bits] of [
    ['10.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['100.64.0.0', 10],
  ] as const)
    priv.addSubnet(net, bits, 'ipv4');
  priv.addSubnet('fc00::', 7, 'ipv6');
  const unspecified = new BlockList();
  unspecified.addSubnet('0.0.0.0', 8, 'ipv4');
  unspecified.addAddress('::', 'ipv6');
  return [
    ['loopback', loopback],
    ['link-local', linkLocal],
    ['private', priv],
    ['unspecified', unspecified],
  ];
})();

/**
 * The scope of an IP address: loopback, link-local, private (RFC 1918, shared 100.64/10, IPv6 unique-local)
 * or unspecified; everything else is public.
 * @example `addressScope('192.168.1.10') // 'private'`
 */
export function addressScope(address: string): AddressScope {
  const family = address.includes(':') ? 'ipv6' : 'ipv4';
  for (const [scope, list] of scopes) if (list.check(address, family)) return scope;
  return 'public';
}

function isNoData(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'ENODATA' || code === 'ENOTFOUND' || code === 'ESERVFAIL' || code === 'ENOTIMP';
}

/**
 * Resolves each name's A and AAAA records and says which would stop a public CA: no address at all, or an
 * address that is not public.
 *
 * @throws HostnameError `ERR_HOSTNAME_INVALID` for a name that is not a host name; AcmeError
 *   `ERR_ACME_PREFLIGHT` when the DNS servers cannot be asked at all (time-out, refused).
 * @example
 * ```ts
 * for (const r of await resolveNames(['example.com', 'mail.example.com']))
 *   console.log(r.name, r.addresses.map((a) => a.address).join(' '), r.message);
 * ```
 */
export async function resolveNames(
  names: readonly string[],
  options: ResolveNamesOptions = {},
): Promise<NameResolution[]> {
  let resolver = options.resolver;
  if (resolver === undefined) {
    const r = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
    if (options.servers !== undefined && options.servers.length > 0) r.setServers([...options.servers]);
    resolver = r;
  }
  const out: NameResolution[] = [];
  for (const given of names) {
    const name = canonicalizeHostname(given.replace(/^\*\./, ''));
    const addresses: { address: string; scope: AddressScope }[] = [];
    for (const family of [4, 6] as const) {
      try {
        const list = family === 4 ? await resolver.resolve4(name) : await resolver.resolve6(name);
        for (const address of list) addresses.push({ address, scope: addressScope(address) });
      } catch (e) {
        if (isNoData(e)) continue;
        throw new AcmeError(
          'ERR_ACME_PREFLIGHT',
          `Resolving ${name} failed (${String((e as { code?: unknown })?.code ?? e)}): check the DNS servers ` +
            'this host uses (or the ones given), then run again.',
          { cause: e, details: { name, servers: options.servers ?? [] } },
        );
      }
    }
    const lan = addresses.filter((a) => a.scope !== 'public');
    const status = addresses.length === 0 ? 'unresolved' : lan.length > 0 ? 'lan' : 'ok';
    const message =
      status === 'unresolved'
        ? `${name} does not resolve (no A or AAAA record): a CA cannot reach it. Publish its address first.`
        : status === 'lan'
          ? `${name} resolves to ${lan.map((a) => `${a.address} (${a.scope})`).join(', ')}: a public CA cannot ` +
            'reach a LAN address and no public CA issues for it. Publish an internet address, or mark the ' +
            'domain LAN-only for a CA on your network.'
          : '';
    out.push({ name, addresses, status, message });
  }
  return out;
}

/**
 * {@link resolveNames}, then refuses when a name does not resolve, or resolves to a LAN address (unless
 * `lanOnly`); `insist` orders anyway. Answers the resolutions.
 *
 * @throws AcmeError `ERR_ACME_PREFLIGHT` listing each name and why (`details.names`); HostnameError
 *   `ERR_HOSTNAME_INVALID`.
 * @example `await verifyNamesResolve(['example.com'], { servers: ['127.0.0.1:8053'] })`
 */
export async function verifyNamesResolve(
  names: readonly string[],
  options: VerifyNamesOptions = {},
): Promise<NameResolution[]> {
  const results = await resolveNames(names, options);
  const bad = results.filter(
    (r) => r.status === 'unresolved' || (r.status === 'lan' && options.lanOnly !== true),
  );
  if (bad.length > 0 && options.insist !== true)
    throw new AcmeError(
      'ERR_ACME_PREFLIGHT',
      `Not ordering: ${bad.map((r) => r.message).join(' ')} (To order anyway, insist; for a LAN-only domain, ` +
        'mark it LAN-only.)',
      {
        details: {
          names: bad.map((r) => ({
            name: r.name,
            status: r.status,
            addresses: r.addresses.map((a) => a.address),
          })),
        },
      },
    );
  return results;
}
