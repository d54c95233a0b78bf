/**
 * File names and paths of the certificate store (see docs/store.md for the layout).
 *
 * A domain is stored under its canonical name: lower-case A-labels without a trailing dot
 * (`Bücher.Example.` becomes `xn--bcher-kva.example`). A wildcard `*.example.com` is stored as
 * `_wildcard.example.com`: `*` is awkward in shells and not allowed on every file system, and `_` cannot
 * start a host-name label, so no real domain has that name. Anything else (`..`, `/`, spaces, IP
 * addresses, partial wildcards) is refused, so a domain can never name a path outside the store.
 *
 * @module node/store/layout
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { StoreError } from '../../errors.js';
import { tryCanonicalizeHostname } from '../../names/hostname.js';

/** The prefix that stands for `*.` in file names. */
export const WILDCARD_PREFIX = '_wildcard.';

/** The directories of a store root. */
export const STORE_DIRECTORIES = {
  /** Certificate signing requests, `<name>.csr`: 0755. */
  csr: 'csr',
  /** Served chains `<name>.crt` and CA files `<name>.ca-bundle` (links into `history/`): 0755. */
  certs: 'certs',
  /** Private keys `<name>.key` (links into `history/`) and `pending/<name>.key`: 0700 (0750 with a group). */
  private: 'private',
  /**
   * Versions of each pair, `history/<name>/<version>/`, and the `current` pointer: 0755, so that everyone can
   * follow `certs/<name>.crt`; the key files in it are 0600 (0640 with a group).
   */
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

/**
 * The modes of the store. Certificates, chains, CSRs and the directories that hold them are readable by
 * everyone: a mail server that runs as its own user must be able to open `certs/<name>.crt`, which leads
 * through `history/`. Only keys are restricted: 0600, or 0640 owned by the store's group (`group` option),
 * so that a server that drops privileges to a member of that group reads its key and nobody else does.
 * `private/` is 0700, or 0750 owned by the group; `private/pending/` (keys of CSRs, which no server needs) and
 * `locks/` stay 0700.
 */
export const STORE_MODES = {
  /** The root, `csr/`, `certs/`, `history/`, `history/<name>/` and every version directory. */
  publicDir: 0o755,
  /** Certificates, chains, CA bundles, CSRs, `meta.json`. */
  publicFile: 0o644,
  /** `private/` without a group. */
  keyDir: 0o700,
  /** `private/` with a group. */
  keyDirGroup: 0o750,
  /** A key without a group. */
  key: 0o600,
  /** A key with a group. */
  keyGroup: 0o640,
  /** `private/pending/` and `locks/`. */
  ownerDir: 0o700,
} as const;

/**
 * The longest file name (in the store's own spelling, `_wildcard.` included) the store can hold: the
 * longest name it derives, the temporary name of `certs/<name>.ca-bundle`
 * (`.tmp-<pid>-<12 hex>-<name>.ca-bundle`), must stay within the 255-byte limit of file names.
 */
export const MAX_FILE_NAME = 255 - '.tmp-4194304-000000000000-'.length - '.ca-bundle'.length;

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
  if (/[\0-\x1f\x7f]/.test(rest)) throw invalid(domain, 'it contains a control character (such as NUL)');
  if (/[/\\]/.test(rest)) throw invalid(domain, 'it contains a path separator');
  // isIP is asked only about a name with a colon or a bracket (an IPv4 address is caught by the pattern):
  // a plain name spares compiling isIP's large IPv6 pattern, which every process start would pay.
  if (/^\d+(\.\d+){3}$/.test(rest) || (/[:[]/.test(rest) && isIP(rest.replace(/^\[(.*)\]$/, '$1')) !== 0))
    throw invalid(domain, 'IP addresses are not stored by name');
  const port = /^([^:]*):(\d*)$/.exec(rest);
  if (port !== null)
    throw invalid(
      domain,
      `a port is not part of a domain (give ${JSON.stringify(port[1])} without ":${port[2]}")`,
    );
  if (rest.includes(':')) throw invalid(domain, 'it contains ":", which no host name has');
  const canonical = tryCanonicalizeHostname(rest);
  if (canonical === undefined) throw invalid(domain, 'it is not a valid host name');
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(canonical) || canonical.includes('..'))
    throw invalid(domain, 'it is not a valid host name');
  if (wildcard && !canonical.includes('.'))
    throw invalid(domain, 'a wildcard needs at least two labels after "*."');
  const fileName = wildcard ? `${WILDCARD_PREFIX}${canonical}` : canonical;
  if (fileName.length > MAX_FILE_NAME)
    throw invalid(
      domain,
      `it is ${canonical.length} characters long, and its files (${fileName.slice(0, 20)}...ca-bundle and the ` +
        `temporary names written next to them) would exceed the 255-byte file-name limit; the store holds names ` +
        `of up to ${MAX_FILE_NAME} characters (${MAX_FILE_NAME - WILDCARD_PREFIX.length} after "*."). File the ` +
        'certificate under a shorter name it covers (the domain option, or --domain), for example its wildcard ' +
        'or parent domain',
    );
  return wildcard ? { domain: `*.${canonical}`, fileName } : { domain: canonical, fileName };
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

/** The relative link targets, from `certs/` and `private/`, into the current version. (not public API) */
export function linkTarget(fileName: string, file: string): string {
  return join('..', STORE_DIRECTORIES.history, fileName, CURRENT_LINK, file);
}

/**
 * The group id of a group given by name or number: a number is taken as is; a name is looked up in
 * `/etc/group`, then with `getent group` (LDAP and other name services).
 * @throws StoreError `ERR_STORE_INVALID_GROUP` when there is no such group.
 * Not public API: no subpath exports it.
 */
export async function resolveGroup(group: string | number): Promise<number> {
  if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0) throw new RangeError('group must be a group name or id');
    return group;
  }
  if (/^\d+$/.test(group)) return Number(group);
  const line = (text: string) =>
    text.split('\n').find((l) => l.split(':')[0] === group && l.split(':').length >= 3);
  const fromLine = (l: string | undefined) => {
    const gid = l === undefined ? Number.NaN : Number(l.split(':')[2]);
    return Number.isInteger(gid) && gid >= 0 ? gid : undefined;
  };
  let gid = fromLine(line(await readFile('/etc/group', 'utf8').catch(() => '')));
  if (gid === undefined && /^[\w.-]+$/.test(group))
    gid = fromLine(
      line(
        await new Promise<string>((done) =>
          execFile('getent', ['group', group], { timeout: 5000 }, (_e, out) => done(String(out ?? ''))),
        ),
      ),
    );
  if (gid === undefined)
    throw new StoreError(
      'ERR_STORE_INVALID_GROUP',
      `There is no group ${JSON.stringify(group.slice(0, 64))} on this system: give the group the mail server ` +
        'runs in (for example ssl-cert or mail; create one with groupadd), or its number.',
      { details: { group: group.slice(0, 64) } },
    );
  return gid;
}

const VERSION_RE = /^v(\d{6,})-\d{8}T\d{6}Z$/;

/**
 * The sequence number of a version directory's name (`v000002-20270601T120000Z` is 2); -1 for a name that
 * is not a version (`current`, `unmanaged-...`, a temporary name).
 * @example `versionSeq('v000002-20270601T120000Z') // 2`
 */
export function versionSeq(id: string): number {
  const m = VERSION_RE.exec(id);
  return m === null ? -1 : Number(m[1]);
}

/**
 * The name of a new version directory: `v` and the sequence number in six digits or more, `-`, the UTC time.
 * @example `versionId(2, new Date('2027-06-01T12:00:00Z')) // 'v000002-20270601T120000Z'`
 */
export function versionId(seq: number, at: Date): string {
  return `v${String(seq).padStart(6, '0')}-${compactTime(at)}`;
}

/** A time as `20270601T120000Z`, for names of directories. */
export function compactTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}
