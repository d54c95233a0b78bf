/**
 * File names and paths of the certificate store (see docs/store.md for the layout).
 *
 * A domain is stored under its canonical name: lower-case A-labels without a trailing dot
 * (`Bücher.Example.` becomes `xn--bcher-kva.example`). A wildcard `*.example.com` is stored as
 * `_wildcard.example.com`: `*` is awkward in shells and not allowed on every file system, and `_` cannot
 * start a host-name label, so no real domain has that name. Anything else (`..`, `/`, spaces, IP
 * addresses, partial wildcards) is refused, so a domain can never name a path outside the store.
 *
 * @module node/store-layout
 */
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { tryCanonicalizeHostname } from '../hostname.js';

/** The prefix that stands for `*.` in file names. */
export const WILDCARD_PREFIX = '_wildcard.';

/** The directories of a store root. */
export const STORE_DIRECTORIES = {
  /** Certificate signing requests, `<name>.csr`: 0755. */
  csr: 'csr',
  /** Served chains `<name>.crt` and CA files `<name>.ca-bundle` (links into `history/`): 0755. */
  certs: 'certs',
  /** Private keys `<name>.key` (links into `history/`) and `pending/<name>.key`: 0700. */
  private: 'private',
  /** Versions of each pair, `history/<name>/<version>/`, and the `current` pointer: 0700. */
  history: 'history',
  /** Lock files of writers, `<name>.lock`: 0700. */
  locks: 'locks',
} as const;

/** File names inside a version directory. */
export const VERSION_FILES = {
  /** The served chain, PEM. */
  cert: 'cert.crt',
  /** The private key. */
  key: 'private.key',
  /** The CA file as given. */
  caBundle: 'ca-bundle',
  /** Fingerprints, dates and where the key came from, JSON. */
  meta: 'meta.json',
} as const;

/** The name of the pointer to the version in service. */
export const CURRENT_LINK = 'current';

/** A domain in canonical form with its file name. */
export interface StoreName {
  /** The domain: `example.com`, `*.example.com`. */
  readonly domain: string;
  /** Its file name: `example.com`, `_wildcard.example.com`. */
  readonly fileName: string;
}

function invalid(domain: unknown, why: string): StoreError {
  const shown = typeof domain === 'string' ? JSON.stringify(domain.slice(0, 100)) : String(domain);
  return new StoreError(
    'ERR_STORE_INVALID_DOMAIN',
    `${shown} is not a domain the store can hold: ${why}. Give a host name such as example.com or ` +
      'a wildcard such as *.example.com.',
    { details: { domain: typeof domain === 'string' ? domain.slice(0, 256) : null } },
  );
}

/**
 * Validates and canonicalises a domain (or a file name: `_wildcard.example.com` is read as
 * `*.example.com`) and gives its file name.
 *
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN` for anything that is not a host name or a `*.` wildcard
 *   (path separators, `..`, IP addresses, spaces, partial wildcards, over 253 characters).
 * @example
 * ```ts
 * storeName('*.Example.COM'); // { domain: '*.example.com', fileName: '_wildcard.example.com' }
 * storeName('../etc');        // throws ERR_STORE_INVALID_DOMAIN
 * ```
 */
export function storeName(domain: string): StoreName {
  if (typeof domain !== 'string') throw new TypeError('domain must be a string');
  let wildcard = false;
  let rest = domain;
  if (rest.startsWith('*.')) {
    wildcard = true;
    rest = rest.slice(2);
  } else if (rest.toLowerCase().startsWith(WILDCARD_PREFIX)) {
    wildcard = true;
    rest = rest.slice(WILDCARD_PREFIX.length);
  }
  if (/[/\\\0]/.test(rest)) throw invalid(domain, 'it contains a path separator');
  if (/^\d+(\.\d+){3}$/.test(rest) || rest.includes(':'))
    throw invalid(domain, 'IP addresses are not stored by name');
  const canonical = tryCanonicalizeHostname(rest);
  if (canonical === undefined) throw invalid(domain, 'it is not a valid host name');
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(canonical) || canonical.includes('..'))
    throw invalid(domain, 'it is not a valid host name');
  if (wildcard && !canonical.includes('.'))
    throw invalid(domain, 'a wildcard needs at least two labels after "*."');
  return wildcard
    ? { domain: `*.${canonical}`, fileName: `${WILDCARD_PREFIX}${canonical}` }
    : { domain: canonical, fileName: canonical };
}

/** Every path of one domain in a store. */
export interface StorePaths {
  /** `csr/<name>.csr` */
  readonly csr: string;
  /** `certs/<name>.crt`: the served chain (a link to the current version). */
  readonly cert: string;
  /** `certs/<name>.ca-bundle`: the CA file as given (a link to the current version). */
  readonly caBundle: string;
  /** `private/<name>.key` (a link to the current version). */
  readonly key: string;
  /** `private/pending/<name>.key`: the key of a CSR whose certificate has not been installed yet. */
  readonly pendingKey: string;
  /** `history/<name>/`: the versions. */
  readonly history: string;
  /** `history/<name>/current`: the pointer to the version in service. */
  readonly current: string;
  /** `locks/<name>.lock` */
  readonly lock: string;
}

/**
 * The paths of a domain under a store root.
 * @throws StoreError `ERR_STORE_INVALID_DOMAIN` (see {@link storeName}).
 * @example
 * ```ts
 * storePaths('/srv/tls', 'example.com').key; // '/srv/tls/private/example.com.key'
 * ```
 */
export function storePaths(root: string, domain: string): StorePaths {
  const { fileName } = storeName(domain);
  const d = STORE_DIRECTORIES;
  return {
    csr: join(root, d.csr, `${fileName}.csr`),
    cert: join(root, d.certs, `${fileName}.crt`),
    caBundle: join(root, d.certs, `${fileName}.ca-bundle`),
    key: join(root, d.private, `${fileName}.key`),
    pendingKey: join(root, d.private, 'pending', `${fileName}.key`),
    history: join(root, d.history, fileName),
    current: join(root, d.history, fileName, CURRENT_LINK),
    lock: join(root, d.locks, `${fileName}.lock`),
  };
}

/** The relative link targets, from `certs/` and `private/`, into the current version. @internal */
export function linkTarget(fileName: string, file: string): string {
  return join('..', STORE_DIRECTORIES.history, fileName, CURRENT_LINK, file);
}
