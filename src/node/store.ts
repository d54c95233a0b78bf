/**
 * The on-disk certificate store: the manual's three places (CSRs, certificates, private keys) under one
 * root, with validated, atomic, versioned installs. See docs/store.md for the layout.
 *
 * ```text
 * <root>/
 *   csr/example.com.csr                 the CSR to send to the CA                      0644
 *   certs/example.com.crt          ->   ../history/example.com/current/cert.crt        (served chain)
 *   certs/example.com.ca-bundle    ->   ../history/example.com/current/ca-bundle       (CA file as given)
 *   private/                                                            0700 (0750 root:<group>)
 *   private/example.com.key        ->   ../history/example.com/current/private.key
 *   private/pending/example.com.key     the key of a CSR awaiting its certificate      0600
 *   history/                                                                            0755
 *   history/example.com/current    ->   v000002-20270601T120000Z   (swapped atomically)
 *   history/example.com/v000002-.../{cert.crt 0644, private.key 0600 (0640 root:<group>), ca-bundle, meta.json}
 *   history/example.com/v000001-.../   the previous version, for rollback()
 *   locks/example.com.lock              held by a writer                                0700 dir
 * ```
 *
 * Key and certificate live in one version directory and are switched together by renaming one symbolic
 * link (`current`), so a reader sees the old pair or the new pair, never a new certificate with an old key,
 * and a crash at any point leaves one complete pair in service.
 *
 * @module node/store
 */
import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parseCertificateBundle } from '../bundle.js';
import { type Certificate, parseCertificate } from '../certificate.js';
import { assembleChain, type ChainProblem } from '../chain.js';
import type { CreateCSROptions } from '../csr.js';
import { ChainError, HostnameError, KeyError, MailTlsError, PEMError, StoreError } from '../errors.js';
import { matchHostname, verifyHostname } from '../hostname.js';
import { keyMatchesCertificate } from '../key-match.js';
import { type CryptoOptions, PrivateKey } from '../keys.js';
import { parsePEM } from '../pem.js';
import { encodePrivateKeyPEM, parsePrivateKey } from '../private-key.js';
import type { CSRWarning } from '../subject.js';
import { createTrustStore, type TrustStore } from '../verify-chain.js';
import {
  isCode,
  isTemporaryName,
  saveFileAtomic,
  saveSymlinkAtomic,
  syncDirectory,
  temporaryPath,
  temporaryTarget,
  writeNewFile,
} from './atomic-write.js';
import type { AuditOptions, AuditReport } from './audit.js';
import {
  type Credential,
  type CredentialFiles,
  type CredentialSource,
  fileSignature,
  keyMismatchError,
  type LoadCredentialOptions,
  loadConsistentPair,
  pairOptions,
  type RawPair,
} from './credential.js';
import { isProcessAlive, type LockOptions, withLock } from './lock.js';
import { nodeRootCertificates } from './roots.js';
import {
  CURRENT_LINK,
  linkTarget,
  resolveGroup,
  STORE_DIRECTORIES,
  STORE_MODES,
  type StoreName,
  type StorePaths,
  storeName,
  storePaths,
  VERSION_FILES,
} from './store-layout.js';

/** Options of a {@link CertificateStore}. */
export interface CertificateStoreOptions extends CryptoOptions {
  /** The clock: a fixed moment or a function; default the system clock. Used to refuse expired certificates. */
  at?: Date | (() => Date) | undefined;
  /**
   * More trusted roots (PEM text, DER or parsed) that may end the chains of installed certificates, e.g. a
   * private CA's root. Node's bundled roots are trusted too unless `nodeRoots` is false.
   */
  trust?: readonly (Certificate | string | Uint8Array)[] | undefined;
  /** Also accept chains ending at one of Node's bundled roots (`tls.rootCertificates`); default true. */
  nodeRoots?: boolean | undefined;
  /** Versions kept per domain (the current one and the ones before it); default 3, at least 2. */
  keepVersions?: number | undefined;
  /** Lock timing for writers; see {@link LockOptions}. */
  lock?: LockOptions | undefined;
  /**
   * The group that may read the private keys (name or id), for a mail server that drops privileges to a
   * member of it (Debian's `ssl-cert`, or `mail`): writers make `private/` 0750 and every key 0640, owned by
   * that group. Without it a store keeps the group its `private/` already has when that directory lets its
   * group in (so a later install without the option does not lock the server out); otherwise keys are 0600
   * in a 0700 `private/`. Setting the group needs root (or membership of the group).
   */
  group?: string | number | undefined;
}

/** What {@link CertificateStore.fixPermissions} changed. */
export interface PermissionFix {
  /** The file or directory. */
  readonly path: string;
  /** What was done, e.g. `chmod 0755 (was 0700)`. */
  readonly change: string;
}

/** Options of {@link CertificateStore.createCSR}: those of `createCSR` (the key is always generated). */
export interface StoreCSROptions extends Omit<CreateCSROptions, 'crypto' | 'key'> {
  /** The domain to file it under; default the subject's Common Name. */
  domain?: string | undefined;
  /** Replace a CSR (and its key) that is still waiting for its certificate; default false. */
  replace?: boolean | undefined;
}

/** What {@link CertificateStore.createCSR} returns. */
export interface StoreCSRResult {
  /** The domain, canonical. */
  readonly domain: string;
  /** The CSR to send to the CA. */
  readonly csrPEM: string;
  /** The generated key (stored in `files.key`). */
  readonly key: PrivateKey;
  /** DNS names the CSR asks for. */
  readonly dnsNames: readonly string[];
  /** Advice about the request (see `createCSR`). */
  readonly warnings: readonly CSRWarning[];
  /** Where the CSR and the pending key were written. */
  readonly files: {
    /** `csr/<domain>.csr` */
    readonly csr: string;
    /** `private/pending/<domain>.key` */
    readonly key: string;
  };
}

/** What {@link CertificateStore.install} takes. Give `cert` or `pkcs12`. */
export interface InstallOptions {
  /** The domain to file it under; default the certificate's Common Name (or first DNS name). */
  domain?: string | undefined;
  /**
   * The certificate as the CA sent it: PEM (the leaf, optionally followed by intermediates, in any order;
   * a private key in the same PEM is used as the key), DER, or PKCS#7 (`.p7b`).
   */
  cert?: string | Uint8Array | undefined;
  /** The CA's intermediate bundle (`.ca-bundle`, `.p7b`...); kept as given and used to build the chain. */
  caBundle?: string | Uint8Array | undefined;
  /**
   * The private key, PEM or parsed. Default: the key of the CSR made with {@link CertificateStore.createCSR},
   * or the key in service (a renewal that keeps the key).
   */
  key?: string | PrivateKey | undefined;
  /** Pass phrase of an encrypted `key` (stored encrypted; the server then needs it at every start). */
  passphrase?: string | undefined;
  /** A PKCS#12 (`.pfx`/`.p12`) file with the key and certificates, instead of `cert`/`key`. */
  pkcs12?: Uint8Array | undefined;
  /** Password of `pkcs12`; default empty. */
  password?: string | undefined;
  /** Install an expired or not yet valid certificate (with a warning) instead of refusing it. */
  allowExpired?: boolean | undefined;
  /** Refuse a certificate whose chain cannot be completed from the bundle (default: warn). */
  requireCompleteChain?: boolean | undefined;
  /** Accept a certificate that names the domain only in its Common Name (no subjectAltName). */
  legacyCommonName?: boolean | undefined;
  /** The moment to validate at; default the store's clock. */
  at?: Date | undefined;
}

/** A remark about an install that did not stop it. */
export interface InstallWarning {
  /**
   * `EXPIRED`, `NOT_YET_VALID` (the leaf, with `allowExpired`), `CHAIN_EXPIRED`, `CHAIN_NOT_YET_VALID` (an
   * intermediate, with `allowExpired`), `CHAIN_INCOMPLETE`, `CHAIN_UNTRUSTED_ROOT`, `KEY_ENCRYPTED`, `SKIPPED_ITEM`.
   */
  readonly code: string;
  /** What happened and what to do, for an administrator. */
  readonly message: string;
}

/** Where the key of an install came from. */
export type KeySource = 'given' | 'pkcs12' | 'cert-file' | 'pending' | 'current' | 'unmanaged';

/** What {@link CertificateStore.install} did. */
export interface InstallResult {
  /** The domain it was filed under, canonical (`*.example.com` for a wildcard). */
  readonly domain: string;
  /** The new version, now in service. */
  readonly version: string;
  /** The version it replaced, kept for {@link CertificateStore.rollback}. */
  readonly previousVersion: string | undefined;
  /** The installed certificate. */
  readonly leaf: Certificate;
  /** The served chain: leaf, then intermediates (root left out). */
  readonly chain: readonly Certificate[];
  /** Whether the chain reaches a root (from the bundle, the store's `trust` or Node's roots). */
  readonly chainComplete: boolean;
  /**
   * Everything chain assembly noticed (see `assembleChain`): missing intermediates, an untrusted root, the
   * root or unrelated certificates left out, a bundle in the wrong order. The actionable ones are also
   * in `warnings`.
   */
  readonly chainProblems: readonly ChainProblem[];
  /** Where the key came from. */
  readonly keySource: KeySource;
  /** Remarks that did not stop the install (expired with `allowExpired`, chain gaps, an encrypted key). */
  readonly warnings: readonly InstallWarning[];
  /** The public paths of the pair now in service. */
  readonly files: CredentialFiles;
}

/** One stored version of a domain. */
export interface StoreVersion {
  /** `v000002-20270601T120000Z` */
  readonly id: string;
  /** Whether it is the version in service. */
  readonly current: boolean;
  /** When it was written. */
  readonly installedAt: Date | undefined;
  /** The leaf's SHA-256 fingerprint (`AB:CD:...`). */
  readonly fingerprint: string | undefined;
  /** The leaf's notAfter. */
  readonly notAfter: Date | undefined;
}

/** What {@link CertificateStore.rollback} did. */
export interface RollbackResult {
  /** The domain, canonical. */
  readonly domain: string;
  /** The version that was in service. */
  readonly from: string;
  /** The version now in service. */
  readonly to: string;
}

interface Meta {
  domain: string;
  version: string;
  installedAt: string;
  fingerprint: string;
  spkiSha256: string;
  notBefore: string;
  notAfter: string;
  chainComplete: boolean;
  keySource: KeySource | 'adopted';
}

/** A key found in the store. */
interface StoredKey {
  key: PrivateKey;
  text: string;
  path: string;
  source: KeySource;
  /** The name it is filed under, when not the name being installed. */
  name?: StoreName;
}

interface Plan {
  name: StoreName;
  paths: StorePaths;
  leaf: Certificate;
  chain: readonly Certificate[];
  chainComplete: boolean;
  chainProblems: readonly ChainProblem[];
  certPEM: string;
  keyText: string;
  caBundle: Uint8Array | undefined;
  keySource: KeySource;
  /** The pending CSR key the install used, removed once the new pair is in service. */
  consumedKey: string | undefined;
  warnings: InstallWarning[];
}

/** The `meta.json` of a new version of `leaf`, given the version id once it is chosen. */
function metaOf(
  name: StoreName,
  leaf: Certificate,
  chainComplete: boolean,
  keySource: Meta['keySource'],
): (version: string) => Meta {
  return (version) => ({
    domain: name.domain,
    version,
    installedAt: new Date().toISOString(),
    fingerprint: leaf.fingerprint('sha256'),
    spkiSha256: leaf.spkiFingerprint().sha256Hex,
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    chainComplete,
    keySource,
  });
}

const VERSION_RE = /^v(\d{6,})-\d{8}T\d{6}Z$/;

function versionSeq(id: string): number {
  const m = VERSION_RE.exec(id);
  return m === null ? -1 : Number(m[1]);
}

function compactTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return false;
    throw ioError(e, 'read', path);
  }
}

/** Whether a path leads to something, following symbolic links (a dangling link does not). */
async function resolves(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return false;
    throw e;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return undefined;
    throw ioError(e, 'read', path); // EISDIR, EACCES: a read error names no path by itself
  }
}

async function readLinkIfExists(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'EINVAL') || isCode(e, 'ENOTDIR')) return undefined;
    throw ioError(e, 'read', path);
  }
}

/**
 * Runs a parser over one argument of an install and makes its error name that argument: "caBundle: ...".
 * The error keeps its class, code and details.
 */
function about<T>(argument: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof MailTlsError)) throw e;
    const Class = e.constructor as new (
      code: MailTlsError['code'],
      message: string,
      options: { cause: unknown; details: Readonly<Record<string, unknown>> },
    ) => MailTlsError;
    throw new Class(e.code, `${argument}: ${e.message}`, {
      cause: e,
      details: { ...e.details, argument },
    });
  }
}

/** Whether a CA bundle holds nothing but white space (a root-only CA's chain is empty: no intermediates). */
function isBlank(input: string | Uint8Array): boolean {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  return text.trim() === '';
}

/** The octal form of a mode, `0755`. */
function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Whether `file` is `<fileName>.<ext>` (`example.com.crt` is, `mail.example.com.crt` is not). */
function isFileOf(file: string | undefined, fileName: string): boolean {
  return file !== undefined && file.slice(0, file.lastIndexOf('.')) === fileName;
}

/** A file-system error (one with an errno `code`) as {@link ioError} naming its own path; others as they are. */
function systemError(e: unknown, fallbackPath: string): unknown {
  if (e instanceof MailTlsError || !(e instanceof Error)) return e;
  const { code, path } = e as { code?: unknown; path?: unknown };
  if (typeof code !== 'string') return e;
  return ioError(e, 'update', typeof path === 'string' ? path : fallbackPath);
}

function ioError(e: unknown, what: string, path: string): StoreError {
  const code = (e as { code?: string }).code ?? 'error';
  return new StoreError(
    code === 'EACCES' || code === 'EPERM' ? 'ERR_STORE_PERMISSIONS' : 'ERR_STORE_IO',
    `Cannot ${what} ${path} (${code}): check that ${
      what === 'read'
        ? 'it is a file or directory this process may read'
        : 'the store directory exists and that this process may write it'
    }.`,
    { cause: e, details: { path, code } },
  );
}

/**
 * A certificate store over a root directory. Readers ({@link CertificateStore.load},
 * {@link CertificateStore.list}) take no lock; writers ({@link CertificateStore.install},
 * {@link CertificateStore.createCSR}, {@link CertificateStore.rollback}, {@link CertificateStore.remove})
 * take a per-domain lock file.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { CertificateStore } from 'mailtls';
 *
 * const store = new CertificateStore('/etc/mail/tls');
 * const { csrPEM } = await store.createCSR({
 *   subject: { commonName: 'example.com', organization: 'Example Inc', country: 'US' },
 *   hostnames: ['mail.example.com', 'smtp.example.com', 'imap.example.com'],
 * });
 * // ... send csrPEM to the CA; later:
 * await store.install({ cert: await readFile('example_com.crt'), caBundle: await readFile('example_com.ca-bundle') });
 * const { key, cert } = await store.load('example.com'); // for tls.createSecureContext
 * ```
 */
export class CertificateStore implements CredentialSource {
  /** Always `mailtls`. */
  readonly kind = 'mailtls';
  /** The store's root directory. */
  readonly root: string;
  /** The `group` option as given: the group that may read the keys. */
  readonly group: string | number | undefined;
  #gid: number | undefined;
  readonly #options: CertificateStoreOptions;
  readonly #trust: readonly Certificate[];
  #trustStore: TrustStore | undefined;
  readonly #keep: number;

  /**
   * @param root - the store directory (created with its subdirectories on the first write).
   * @param options - clock, trusted roots, versions kept, lock timing, crypto provider.
   * @throws TypeError / RangeError for bad options; certificate parse errors for a bad `trust` entry.
   */
  constructor(root: string, options: CertificateStoreOptions = {}) {
    if (typeof root !== 'string' || root === '') throw new TypeError('root must be a directory path');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const keep = options.keepVersions ?? 3;
    if (!Number.isInteger(keep) || keep < 2) throw new RangeError('keepVersions must be an integer >= 2');
    const group = options.group;
    if (
      group !== undefined &&
      !(typeof group === 'string' && group !== '') &&
      !(typeof group === 'number' && Number.isInteger(group) && group >= 0)
    )
      throw new TypeError('group must be a group name or a group id');
    this.group = group;
    this.root = root;
    this.#options = options;
    this.#keep = keep;
    this.#trust = (options.trust ?? []).map((t) =>
      typeof t === 'string' || t instanceof Uint8Array ? parseCertificate(t) : t,
    );
  }

  /** The roots chains may end at: `trust` plus (by default) Node's bundled roots; built once. */
  #roots(): TrustStore {
    if (this.#trustStore === undefined)
      this.#trustStore = createTrustStore([
        ...(this.#options.nodeRoots === false ? [] : nodeRootCertificates()),
        ...this.#trust,
      ]);
    return this.#trustStore;
  }

  #now(at?: Date): Date {
    if (at !== undefined) return at;
    const c = this.#options.at;
    return c === undefined ? new Date() : typeof c === 'function' ? c() : c;
  }

  #crypto(): CryptoOptions {
    return this.#options.crypto === undefined ? {} : { crypto: this.#options.crypto };
  }

  #rel(path: string): string {
    return relative(this.root, path);
  }

  /**
   * The paths of a domain (whether or not it exists).
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `store.paths('example.com').key // '<root>/private/example.com.key'`
   */
  paths(domain: string): StorePaths {
    return storePaths(this.root, domain);
  }

  /**
   * The group that may read the keys: the `group` option, else the group of `private/` when that directory
   * lets its group in (and the group is not root's); undefined when keys are for the owner only.
   * @throws StoreError `ERR_STORE_INVALID_GROUP`.
   */
  async keyGroup(): Promise<number | undefined> {
    if (this.group !== undefined) {
      this.#gid ??= await resolveGroup(this.group);
      return this.#gid;
    }
    try {
      const s = await stat(join(this.root, STORE_DIRECTORIES.private));
      return s.isDirectory() && (s.mode & 0o010) !== 0 && s.gid !== 0 ? s.gid : undefined;
    } catch (e) {
      if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return undefined;
      throw ioError(e, 'read', join(this.root, STORE_DIRECTORIES.private));
    }
  }

  /**
   * Refuses a store whose own directories (`csr/`, `certs/`, `private/`, `private/pending/`, `history/`,
   * `locks/`) are symbolic links or not directories: the links the store writes (`../history/...`) would
   * resolve from the link's target, where there is nothing, so a server could not open its key; and a
   * redirected `private/` or `history/` puts keys where the store does not control who may write. Writers
   * and the audit call it first; missing directories are fine.
   * @throws StoreError `ERR_STORE_LAYOUT` naming the directory and what to do; `ERR_STORE_IO`.
   * @example `await store.checkLayout()`
   */
  async checkLayout(): Promise<void> {
    await this.#checkLayout();
  }

  async #checkLayout(extra: readonly string[] = []): Promise<void> {
    const d = STORE_DIRECTORIES;
    const dirs = [d.csr, d.certs, d.private, join(d.private, 'pending'), d.history, d.locks, ...extra];
    for (const rel of dirs) {
      const path = join(this.root, rel);
      let s: Awaited<ReturnType<typeof lstat>>;
      try {
        s = await lstat(path);
      } catch (e) {
        if (isCode(e, 'ENOENT')) continue;
        throw ioError(e, 'read', path);
      }
      if (s.isDirectory()) continue;
      const what = s.isSymbolicLink()
        ? `a symbolic link (to ${await readlink(path).catch(() => '?')})`
        : 'not a directory';
      throw new StoreError(
        'ERR_STORE_LAYOUT',
        `${path} is ${what}; the store refuses it: the links it writes there point into ../history/ and would ` +
          'not resolve, and keys would live where the store does not control who may write. Make it a real ' +
          `directory (move what it points to into ${path}, or give the store a root on the other file system), ` +
          'then run the command again.',
        { details: { path, kind: s.isSymbolicLink() ? 'symlink' : 'not-directory' } },
      );
    }
  }

  /**
   * Creates the store's directories when missing and gives them their modes (see `STORE_MODES`): a store
   * made before certificates were readable by everyone (`history/` 0700) is opened up, and `private/` gets
   * the key group. The root keeps its mode once it exists.
   */
  async #ensureDirectories(fixes?: PermissionFix[]): Promise<void> {
    await this.#checkLayout();
    const gid = await this.keyGroup();
    const d = STORE_DIRECTORIES;
    const m = STORE_MODES;
    const dirs: [string, number, number | undefined][] = [
      [this.root, m.publicDir, undefined],
      [join(this.root, d.csr), m.publicDir, undefined],
      [join(this.root, d.certs), m.publicDir, undefined],
      [join(this.root, d.private), gid === undefined ? m.keyDir : m.keyDirGroup, gid],
      [join(this.root, d.private, 'pending'), m.ownerDir, undefined],
      [join(this.root, d.history), m.publicDir, undefined],
      [join(this.root, d.locks), m.ownerDir, undefined],
    ];
    for (const [dir, mode, group] of dirs) {
      try {
        await mkdir(dir, { mode: mode & 0o700 });
        if (group !== undefined) await chown(dir, -1, group);
        await chmod(dir, mode);
        continue;
      } catch (e) {
        if (isCode(e, 'ENOENT') && dir === this.root) {
          // The umask narrows the mode of a new directory: set it, as for the others.
          await mkdir(dir, { recursive: true, mode })
            .then(() => chmod(dir, mode))
            .catch((e2: unknown) => {
              throw ioError(e2, 'create the directory', dir);
            });
          continue;
        }
        if (!isCode(e, 'EEXIST')) throw ioError(e, 'create the directory', dir);
      }
      // An existing root keeps its mode (it may be a shared directory); the audit reports it when others
      // may write into it.
      if (dir !== this.root) await this.#fixMode(dir, mode, group, fixes);
    }
  }

  /**
   * Gives an existing file or directory its mode and group, and records what changed. With `fixes` (a
   * repair, not an install) root also takes back what another user owns.
   */
  async #fixMode(
    path: string,
    mode: number,
    gid: number | undefined,
    fixes?: PermissionFix[],
  ): Promise<void> {
    try {
      const s = await lstat(path);
      if (s.isSymbolicLink()) return;
      if (gid !== undefined && s.gid !== gid) {
        await chown(path, -1, gid);
        fixes?.push({ path, change: `chgrp ${gid} (was ${s.gid})` });
      }
      const euid = process.geteuid?.();
      if (fixes !== undefined && euid === 0 && s.uid !== 0) {
        // Owned by another user, who could replace what servers load: root takes it back.
        await chown(path, 0, -1);
        fixes?.push({ path, change: `chown root (was uid ${s.uid})` });
      }
      const want = mode;
      if ((s.mode & 0o7777) !== want) {
        await chmod(path, want);
        fixes?.push({ path, change: `chmod ${octal(want)} (was ${octal(s.mode)})` });
      }
    } catch (e) {
      if (isCode(e, 'ENOENT')) return;
      throw ioError(e, 'set the mode of', path);
    }
  }

  /**
   * Gives one domain's history its modes: `history/<name>/` and every version directory 0755 (servers
   * follow `certs/<name>.crt` through them), certificates 0644, each version's key 0600, or 0640 owned by
   * the key group.
   */
  async #fixDomainModes(paths: StorePaths, fixes?: PermissionFix[]): Promise<void> {
    const gid = await this.keyGroup();
    const m = STORE_MODES;
    await this.#fixMode(paths.history, m.publicDir, undefined, fixes);
    for (const id of await this.#versionIds(paths)) {
      const dir = join(paths.history, id);
      await this.#fixMode(dir, m.publicDir, undefined, fixes);
      await this.#fixMode(join(dir, VERSION_FILES.key), gid === undefined ? m.key : m.keyGroup, gid, fixes);
      for (const f of [VERSION_FILES.cert, VERSION_FILES.caBundle, VERSION_FILES.meta])
        await this.#fixMode(join(dir, f), m.publicFile, undefined, fixes);
    }
  }

  /**
   * Applies the store's modes and key group to everything in it (what `mailtls check --fix` does): the
   * directories, every domain's history and versions, keys placed by hand in `private/` (0600, or 0640 with
   * the group), pending CSR keys (0600), CSRs and hand-placed certificates (0644); run as root, it also
   * gives back to root what another user owns there. Installs apply the modes (not the owners) for the
   * domain they write, so an existing store made with older modes (`history/` 0700) is opened up by the
   * next install too. The root directory keeps its mode (the audit reports it when others may write it).
   *
   * @returns what was changed, in order.
   * @throws StoreError `ERR_STORE_LAYOUT` (a store directory is a symbolic link), `ERR_STORE_INVALID_GROUP`,
   *   `ERR_STORE_PERMISSIONS` (setting a group needs root or membership of it), `ERR_STORE_IO`.
   * @example
   * ```ts
   * const store = new CertificateStore('/etc/mail/tls', { group: 'ssl-cert' });
   * for (const f of await store.fixPermissions()) console.log(`${f.path}: ${f.change}`);
   * ```
   */
  async fixPermissions(): Promise<PermissionFix[]> {
    const fixes: PermissionFix[] = [];
    await this.#ensureDirectories(fixes);
    const gid = await this.keyGroup();
    const m = STORE_MODES;
    for (const entry of await this.#readdir(join(this.root, STORE_DIRECTORIES.history))) {
      if (isTemporaryName(entry) !== undefined) continue;
      let name: StoreName;
      try {
        name = storeName(entry);
      } catch (e) {
        if (e instanceof StoreError) continue;
        throw e;
      }
      const paths = this.paths(name.domain);
      if ((await lstat(paths.history).catch(() => undefined))?.isDirectory() !== true) continue;
      await this.#fixDomainModes(paths, fixes);
    }
    const files: [string, string, number, number | undefined][] = [
      [STORE_DIRECTORIES.private, '.key', gid === undefined ? m.key : m.keyGroup, gid],
      [join(STORE_DIRECTORIES.private, 'pending'), '.key', m.key, undefined],
      [STORE_DIRECTORIES.certs, '', m.publicFile, undefined],
      [STORE_DIRECTORIES.csr, '.csr', m.publicFile, undefined],
    ];
    for (const [dir, ext, mode, group] of files)
      for (const entry of await this.#readdir(join(this.root, dir))) {
        if (!entry.endsWith(ext) || isTemporaryName(entry) !== undefined) continue;
        const path = join(this.root, dir, entry);
        if ((await lstat(path).catch(() => undefined))?.isFile() === true)
          await this.#fixMode(path, mode, group, fixes);
      }
    return fixes;
  }

  /** Runs a writer under the domain's lock; a file-system error on the way is `ERR_STORE_IO` naming its path. */
  async #locked<T>(paths: StorePaths, fn: () => Promise<T>): Promise<T> {
    await this.#ensureDirectories();
    return withLock(paths.lock, this.#options.lock ?? {}, async () => {
      try {
        return await fn();
      } catch (e) {
        throw systemError(e, paths.history);
      }
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // CSR

  /**
   * Generates a key and a CSR for a domain and stores them: the CSR in `csr/<domain>.csr`, the key in
   * `private/pending/<domain>.key` (0600) until {@link CertificateStore.install} puts the certificate with it.
   *
   * @throws StoreError `ERR_STORE_EXISTS` when a CSR is still waiting for its certificate (pass
   *   `replace: true` to make a new one), `ERR_STORE_INVALID_DOMAIN`, `ERR_STORE_LOCKED`, `ERR_STORE_IO`
   *   (`ERR_STORE_PERMISSIONS` for EACCES/EPERM);
   *   CSRError and KeyError codes of `createCSR`.
   * @example
   * ```ts
   * const r = await store.createCSR({ subject: { commonName: 'example.com' }, hostnames: ['mail.example.com'] });
   * console.log(r.csrPEM);
   * ```
   */
  async createCSR(options: StoreCSROptions): Promise<StoreCSRResult> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { domain: given, replace, ...csrOptions } = options;
    const domain = given ?? options.subject?.commonName;
    if (domain === undefined)
      throw new StoreError(
        'ERR_STORE_INVALID_DOMAIN',
        'No domain: give subject.commonName (the bare domain, e.g. example.com) or domain.',
      );
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    const { createCSR } = await import('../csr.js');
    const csr = await createCSR({ ...csrOptions, ...this.#crypto() });
    await this.#locked(paths, async () => {
      if (replace !== true && (await exists(paths.pendingKey)))
        throw new StoreError(
          'ERR_STORE_EXISTS',
          `A CSR for ${name.domain} is still waiting for its certificate (${this.#rel(paths.csr)}, key in ` +
            `${this.#rel(paths.pendingKey)}). Install its certificate first, or pass replace: true to make a new ` +
            'key and CSR (the certificate of the old CSR will then not install).',
          { details: { domain: name.domain, csr: paths.csr, key: paths.pendingKey } },
        );
      for (const [path, data, mode] of [
        [paths.pendingKey, csr.keyPEM, 0o600],
        [paths.csr, csr.csrPEM, 0o644],
      ] as const) {
        try {
          await saveFileAtomic(path, data, { mode });
        } catch (e) {
          throw ioError(e, 'write', path);
        }
      }
    });
    return {
      domain: name.domain,
      csrPEM: csr.csrPEM,
      key: csr.key,
      dnsNames: csr.dnsNames,
      warnings: csr.warnings,
      files: { csr: paths.csr, key: paths.pendingKey },
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // install

  /**
   * Validates a certificate with its key and chain and puts it in service atomically. Nothing is written
   * unless every check passes:
   *
   * - the key is present and belongs to the certificate (`ERR_KEY_MISMATCH` names both files);
   * - the certificate covers the domain (`ERR_HOSTNAME_MISMATCH` lists the names it covers);
   * - it is valid now (`ERR_CHAIN_EXPIRED` / `ERR_CHAIN_NOT_YET_VALID`, unless `allowExpired`);
   * - the chain is assembled from the certificate file, the CA bundle and the store's trusted roots;
   *   problems are warnings (or, with `requireCompleteChain`, the error).
   *
   * The previous version stays in `history/` for {@link CertificateStore.rollback}.
   *
   * @throws KeyError `ERR_KEY_MISMATCH`, `ERR_KEY_ENCRYPTED`, `ERR_KEY_PASSPHRASE`, `ERR_KEY_INVALID`;
   *   HostnameError `ERR_HOSTNAME_MISMATCH`; ChainError `ERR_CHAIN_EXPIRED`, `ERR_CHAIN_NOT_YET_VALID`,
   *   `ERR_CHAIN_UNKNOWN_ISSUER`, `ERR_CHAIN_UNTRUSTED_ROOT` (with `requireCompleteChain`); StoreError
   *   `ERR_STORE_INSTALL` (no key, no certificate), `ERR_STORE_INVALID_DOMAIN`, `ERR_STORE_LOCKED`,
   *   `ERR_STORE_IO` (`ERR_STORE_PERMISSIONS` for EACCES/EPERM), naming the file; PKCS12Error codes;
   *   CertificateError and PEMError codes for unreadable input.
   * @example
   * ```ts
   * const r = await store.install({ cert: crtText, caBundle: bundleText });
   * for (const w of r.warnings) console.warn(w.message);
   * console.log(`${r.domain}: version ${r.version} in service`);
   * ```
   */
  async install(options: InstallOptions): Promise<InstallResult> {
    const plan = await this.#plan(options);
    const { previous, version } = await this.#locked(plan.paths, () => this.#commit(plan));
    return {
      domain: plan.name.domain,
      version,
      previousVersion: previous,
      leaf: plan.leaf,
      chain: plan.chain,
      chainComplete: plan.chainComplete,
      chainProblems: plan.chainProblems,
      keySource: plan.keySource,
      warnings: plan.warnings,
      files: {
        cert: plan.paths.cert,
        key: plan.paths.key,
        ...(plan.caBundle === undefined ? {} : { ca: plan.paths.caBundle }),
      },
    };
  }

  /** Every check of an install, reading but never writing. */
  async #plan(options: InstallOptions): Promise<Plan> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const warnings: InstallWarning[] = [];
    const crypto = this.#crypto();
    const keyOptions = {
      ...crypto,
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    };
    let certs: Certificate[] = [];
    let key: PrivateKey | undefined;
    let keyText: string | undefined;
    let keySource: KeySource = 'given';
    let consumedKey: string | undefined;
    if (options.pkcs12 !== undefined) {
      if (!(options.pkcs12 instanceof Uint8Array)) throw new TypeError('pkcs12 must be a Uint8Array');
      // Loaded on demand: readers of the store (a TLS server) never need the PKCS#12 code.
      const { parsePKCS12 } = await import('../pkcs12.js');
      const p12 = await parsePKCS12(options.pkcs12, {
        password: options.password ?? '',
        requireKey: true,
        ...crypto,
      });
      key = p12.key;
      if (p12.leaf !== undefined) certs.push(p12.leaf);
      certs.push(...p12.chain);
      keySource = 'pkcs12';
    }
    if (options.cert !== undefined) {
      if (typeof options.cert !== 'string' && !(options.cert instanceof Uint8Array))
        throw new TypeError('cert must be PEM text or bytes');
      const cert = options.cert;
      const bundle = about('cert (the certificate)', () => parseCertificateBundle(cert));
      certs = [...bundle.certificates, ...certs];
      for (const s of bundle.skipped) {
        if (/PRIVATE KEY$/.test(s.label) && options.key === undefined && key === undefined) {
          const text =
            typeof options.cert === 'string' ? options.cert : new TextDecoder().decode(options.cert);
          key = await parsePrivateKey(text, keyOptions);
          keySource = 'cert-file';
        } else if (!/PRIVATE KEY$/.test(s.label))
          warnings.push({
            code: 'SKIPPED_ITEM',
            message: `Left out a ${s.label} found in the certificate file: ${s.reason}.`,
          });
      }
    }
    if (certs.length === 0)
      throw new StoreError(
        'ERR_STORE_INSTALL',
        'No certificate given: pass cert (PEM, DER or .p7b) or pkcs12.',
      );
    if (options.key !== undefined) {
      if (key !== undefined && keySource === 'pkcs12') throw new TypeError('give key or pkcs12, not both');
      if (options.key instanceof PrivateKey) key = options.key;
      else if (typeof options.key === 'string') {
        key = await parsePrivateKey(options.key, keyOptions);
        keyText = options.key;
        if (
          parsePEM(options.key).some(
            (b) => b.label === 'ENCRYPTED PRIVATE KEY' || b.headers['Proc-Type'] !== undefined,
          )
        )
          warnings.push({
            code: 'KEY_ENCRYPTED',
            message:
              'The key is stored encrypted: the mail server will need the pass phrase at every start and cannot ' +
              'start unattended. Store it decrypted (mode 0600) unless someone types the pass phrase.',
          });
      } else throw new TypeError('key must be PEM text or a PrivateKey');
      keySource = 'given';
    }

    const nonCA = certs.filter((c) => c.basicConstraints?.ca !== true);
    const leafCandidates = nonCA.length > 0 ? nonCA : certs;
    let leaf: Certificate | undefined;
    let name: StoreName;
    let paths: StorePaths;
    if (key !== undefined) {
      const k = key;
      leaf = certs.find((c) => keyMatchesCertificate(k, c.der));
      const shown = leaf ?? leafCandidates[0]!;
      name = this.#nameFor(options.domain, shown);
      paths = this.paths(name.domain);
      // Name what was given: neither file of the store is involved yet.
      if (leaf === undefined)
        throw keyMismatchError(
          k,
          shown,
          keySource === 'pkcs12'
            ? 'the PKCS#12 file given (pkcs12)'
            : keySource === 'cert-file'
              ? 'the certificate file given (cert)'
              : 'the key given (key)',
          keySource === 'pkcs12' && options.cert === undefined
            ? 'the certificate in the PKCS#12 file given (pkcs12)'
            : 'the certificate given (cert)',
        );
    } else {
      name = this.#nameFor(options.domain, leafCandidates[0]!);
      paths = this.paths(name.domain);
      const stored = await this.#storedKeys(name, paths, keyOptions);
      const matching = (list: readonly StoredKey[]) => {
        for (const s of list) {
          const l = leafCandidates.find((c) => keyMatchesCertificate(s.key, c.der));
          if (l !== undefined) return { stored: s, leaf: l };
        }
        return undefined;
      };
      let found = matching(stored);
      if (found === undefined && options.domain === undefined) {
        // The CSR may be filed under another name the certificate covers (the bare domain when the
        // certificate's Common Name is mail.example.com, say): look at the other pending keys.
        const others = await this.#otherPendingKeys(name, keyOptions);
        found = matching(others);
        if (found?.stored.name !== undefined && this.#covers(found.leaf, found.stored.name, true)) {
          name = found.stored.name;
          paths = this.paths(name.domain);
        }
      }
      if (found === undefined) {
        const first = stored[0];
        if (first === undefined)
          throw new StoreError(
            'ERR_STORE_INSTALL',
            `No private key for ${name.domain}: neither a CSR made with this store (${this.#rel(paths.pendingKey)}) ` +
              `nor a key in service (${this.#rel(paths.key)}). Pass the key that the CSR was made with (key, or a .pfx as pkcs12).`,
            { details: { domain: name.domain } },
          );
        throw keyMismatchError(
          first.key,
          leafCandidates[0]!,
          this.#rel(first.path),
          'the certificate given (cert)',
        );
      }
      leaf = found.leaf;
      key = found.stored.key;
      keyText = found.stored.text;
      keySource = found.stored.source;
      if (keySource === 'pending') consumedKey = found.stored.path;
      if (options.domain === undefined && found.stored.name === undefined) {
        name = this.#nameFor(undefined, leaf);
        paths = this.paths(name.domain);
      }
    }
    if (keyText === undefined) keyText = await encodePrivateKeyPEM(key, crypto);

    this.#checkCovers(leaf, name, options.legacyCommonName === true);
    const at = this.#now(options.at);
    this.#checkDates(leaf, name, at, options.allowExpired === true, warnings);

    // An empty bundle (a CA without intermediates, e.g. a root-only CA's chainPEM '') means none.
    const caBundle =
      options.caBundle === undefined || isBlank(options.caBundle) ? undefined : options.caBundle;
    const bundleCerts =
      caBundle === undefined
        ? []
        : [...about('caBundle (the CA bundle)', () => parseCertificateBundle(caBundle)).certificates];
    const pool = [...certs.filter((c) => c !== leaf), ...bundleCerts];
    const assembled = await assembleChain(leaf, pool, {
      at,
      roots: this.#roots(),
      ...crypto,
    });
    this.#checkChain(assembled.problems, assembled.leaf, name, options, warnings);
    return {
      name,
      paths,
      leaf,
      chain: assembled.certificates,
      chainComplete: assembled.complete,
      chainProblems: assembled.problems,
      certPEM: assembled.pem,
      keyText,
      caBundle: caBundle === undefined ? undefined : toBytes(caBundle).slice(),
      keySource,
      consumedKey,
      warnings,
    };
  }

  /**
   * Turns chain problems into refusals or warnings: an expired or not yet valid intermediate is refused
   * like the leaf (unless `allowExpired`); a gap or an untrusted root is a warning, or the error with
   * `requireCompleteChain`. Informational problems (root, duplicates or unrelated certificates left out, a
   * bundle in another order) stay in `chainProblems` only.
   */
  #checkChain(
    problems: readonly ChainProblem[],
    leaf: Certificate,
    name: StoreName,
    options: InstallOptions,
    warnings: InstallWarning[],
  ): void {
    for (const p of problems) {
      if (p.certificate === leaf && (p.code === 'expired' || p.code === 'not-yet-valid')) continue;
      if (p.code === 'expired' || p.code === 'not-yet-valid') {
        if (options.allowExpired === true) {
          warnings.push({
            code: p.code === 'expired' ? 'CHAIN_EXPIRED' : 'CHAIN_NOT_YET_VALID',
            message: p.message,
          });
          continue;
        }
        throw new ChainError(
          p.code === 'expired' ? 'ERR_CHAIN_EXPIRED' : 'ERR_CHAIN_NOT_YET_VALID',
          `${p.message} Refusing to install ${name.domain} with this chain; pass allowExpired: true to install it anyway.`,
          { details: { domain: name.domain, ...(p.details ?? {}) } },
        );
      }
      if (p.code === 'missing-intermediate' || p.code === 'untrusted-root') {
        if (options.requireCompleteChain === true)
          throw new ChainError(
            p.code === 'missing-intermediate' ? 'ERR_CHAIN_UNKNOWN_ISSUER' : 'ERR_CHAIN_UNTRUSTED_ROOT',
            `${p.message} Refusing to install ${name.domain} (requireCompleteChain).`,
            { details: { domain: name.domain, ...(p.details ?? {}) } },
          );
        warnings.push({
          code: p.code === 'missing-intermediate' ? 'CHAIN_INCOMPLETE' : 'CHAIN_UNTRUSTED_ROOT',
          message: p.message,
        });
      }
    }
  }

  #nameFor(given: string | undefined, leaf: Certificate): StoreName {
    if (given !== undefined) return storeName(given);
    const cn = leaf.subject.commonName;
    const candidates = [...(cn === undefined ? [] : [cn]), ...leaf.dnsNames.filter((n) => n !== cn)];
    for (const c of candidates) {
      try {
        const n = storeName(c);
        if (this.#covers(leaf, n, true)) return n;
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
      }
    }
    throw new StoreError(
      'ERR_STORE_INVALID_DOMAIN',
      `The certificate (${leaf.subject.toString()}) names no domain the store can file it under: pass domain.`,
      { details: { subject: leaf.subject.toString(), dnsNames: [...leaf.dnsNames] } },
    );
  }

  #covers(leaf: Certificate, name: StoreName, legacyCommonName: boolean): boolean {
    if (name.domain.startsWith('*.')) {
      const want = name.domain;
      return (
        leaf.dnsNames.some((n) => n.toLowerCase() === want) ||
        (legacyCommonName && leaf.dnsNames.length === 0 && leaf.subject.commonName?.toLowerCase() === want)
      );
    }
    return matchHostname(leaf, name.domain, { legacyCommonName });
  }

  #checkCovers(leaf: Certificate, name: StoreName, legacyCommonName: boolean): void {
    if (this.#covers(leaf, name, legacyCommonName)) return;
    if (!name.domain.startsWith('*.')) {
      try {
        verifyHostname(leaf, name.domain, { legacyCommonName });
      } catch (e) {
        if (e instanceof HostnameError)
          throw new HostnameError(
            'ERR_HOSTNAME_MISMATCH',
            `The certificate does not cover ${name.domain}; refusing to install it under that name. ${e.message}`,
            { cause: e, details: e.details },
          );
        throw e;
      }
    }
    throw new HostnameError(
      'ERR_HOSTNAME_MISMATCH',
      `The certificate does not hold the wildcard ${name.domain}; it names ${leaf.dnsNames.join(', ') || 'no DNS names'}.`,
      { details: { host: name.domain, validNames: [...leaf.dnsNames] } },
    );
  }

  #checkDates(
    leaf: Certificate,
    name: StoreName,
    at: Date,
    allow: boolean,
    warnings: InstallWarning[],
  ): void {
    const expired = leaf.notAfter.getTime() < at.getTime();
    const early = leaf.notBefore.getTime() > at.getTime();
    if (!expired && !early) return;
    const message = expired
      ? `The certificate for ${name.domain} expired on ${leaf.notAfter.toISOString()}`
      : `The certificate for ${name.domain} is not valid before ${leaf.notBefore.toISOString()}`;
    if (allow) {
      warnings.push({
        code: expired ? 'EXPIRED' : 'NOT_YET_VALID',
        message: `${message}; installed anyway (allowExpired). Clients will reject it.`,
      });
      return;
    }
    throw new ChainError(
      expired ? 'ERR_CHAIN_EXPIRED' : 'ERR_CHAIN_NOT_YET_VALID',
      `${message} (checked at ${at.toISOString()}); refusing to install it. ${
        expired ? 'Renew it with the CA' : 'Check the system clock, or wait'
      }; pass allowExpired: true to install it anyway.`,
      {
        details: {
          domain: name.domain,
          notBefore: leaf.notBefore.toISOString(),
          notAfter: leaf.notAfter.toISOString(),
          at: at.toISOString(),
        },
      },
    );
  }

  /** Keys already in the store for a domain: pending CSR key, key in service, hand-placed key file. */
  async #storedKeys(
    name: StoreName,
    paths: StorePaths,
    keyOptions: CryptoOptions & { passphrase?: string },
  ): Promise<StoredKey[]> {
    const out: StoredKey[] = [];
    const current = await readLinkIfExists(paths.current);
    const places: [string, KeySource][] = [[paths.pendingKey, 'pending']];
    if (current !== undefined) places.push([join(paths.history, current, VERSION_FILES.key), 'current']);
    else places.push([paths.key, 'unmanaged']);
    for (const [path, source] of places) {
      const text = await readIfExists(path);
      if (text === undefined) continue;
      try {
        out.push({ key: await parsePrivateKey(text, keyOptions), text, path, source });
      } catch (e) {
        if (e instanceof KeyError && (e.code === 'ERR_KEY_ENCRYPTED' || e.code === 'ERR_KEY_PASSPHRASE'))
          throw new KeyError(
            e.code,
            `The stored key ${this.#rel(path)} for ${name.domain} is encrypted: pass its passphrase. ${e.message}`,
            { cause: e, details: { file: this.#rel(path) } },
          );
        if (e instanceof MailTlsError || e instanceof PEMError) continue;
        throw e;
      }
    }
    return out;
  }

  /** The pending CSR keys of other names (unreadable or encrypted ones are skipped). */
  async #otherPendingKeys(
    name: StoreName,
    keyOptions: CryptoOptions & { passphrase?: string },
  ): Promise<StoredKey[]> {
    const dir = join(this.root, STORE_DIRECTORIES.private, 'pending');
    const out: StoredKey[] = [];
    for (const entry of await this.#readdir(dir)) {
      if (!entry.endsWith('.key') || entry === `${name.fileName}.key` || isTemporaryName(entry) !== undefined)
        continue;
      let other: StoreName;
      try {
        other = storeName(entry.slice(0, -4));
      } catch (e) {
        if (e instanceof StoreError) continue;
        throw e;
      }
      const path = join(dir, entry);
      const text = await readIfExists(path);
      if (text === undefined) continue;
      try {
        out.push({
          key: await parsePrivateKey(text, keyOptions),
          text,
          path,
          source: 'pending',
          name: other,
        });
      } catch (e) {
        if (e instanceof MailTlsError) continue;
        throw e;
      }
    }
    return out;
  }

  /** The writes of an install, under the domain's lock. */
  async #commit(plan: Plan): Promise<{ previous: string | undefined; version: string }> {
    const { paths, name } = plan;
    await this.#checkLayout([this.#rel(paths.history)]);
    try {
      await mkdir(paths.history, { mode: STORE_MODES.publicDir });
      await chmod(paths.history, STORE_MODES.publicDir);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw ioError(e, 'create', paths.history);
    }
    await this.#cleanTemporary(name, paths);
    await this.#adoptUnmanaged(name, paths);
    await this.#fixDomainModes(paths);
    const previous = await readLinkIfExists(paths.current);
    const id = await this.#newVersion(paths, {
      certPEM: plan.certPEM,
      keyText: plan.keyText,
      caBundle: plan.caBundle,
      meta: metaOf(name, plan.leaf, plan.chainComplete, plan.keySource),
    });
    await this.#ensureLinks(name, paths);
    await saveSymlinkAtomic(paths.current, id);
    await this.#syncCaLink(name, paths, id);
    if (plan.consumedKey !== undefined) {
      await unlink(plan.consumedKey).catch(() => undefined);
      await syncDirectory(join(this.root, STORE_DIRECTORIES.private, 'pending')).catch(() => undefined);
    }
    await this.#prune(paths, id);
    return { previous, version: id };
  }

  /** Writes a complete version directory under a temporary name, then renames it into place. */
  async #newVersion(
    paths: StorePaths,
    content: {
      certPEM: string;
      keyText: string;
      caBundle: Uint8Array | undefined;
      meta: (id: string) => Meta;
    },
  ): Promise<string> {
    const versions = await this.#versionIds(paths);
    const seq = versions.reduce((m, v) => Math.max(m, versionSeq(v)), 0) + 1;
    const id = `v${String(seq).padStart(6, '0')}-${compactTime(new Date())}`;
    const tmp = temporaryPath(join(paths.history, id));
    const gid = await this.keyGroup();
    try {
      // Written under a name no link points to, opened to readers (0755) only when complete.
      await mkdir(tmp, { mode: 0o700 });
      await writeNewFile(
        join(tmp, VERSION_FILES.key),
        content.keyText,
        gid === undefined ? STORE_MODES.key : STORE_MODES.keyGroup,
        true,
        gid,
      );
      await writeNewFile(join(tmp, VERSION_FILES.cert), content.certPEM, 0o644);
      if (content.caBundle !== undefined)
        await writeNewFile(join(tmp, VERSION_FILES.caBundle), content.caBundle, 0o644);
      await writeNewFile(
        join(tmp, VERSION_FILES.meta),
        `${JSON.stringify(content.meta(id), null, 2)}\n`,
        0o644,
      );
      await chmod(tmp, STORE_MODES.publicDir);
      await syncDirectory(tmp);
      await rename(tmp, join(paths.history, id));
      await syncDirectory(paths.history);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw ioError(e, 'write the new version in', paths.history);
    }
    return id;
  }

  async #versionIds(paths: StorePaths): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(paths.history);
    } catch (e) {
      if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return [];
      throw ioError(e, 'read', paths.history);
    }
    return names.filter((n) => VERSION_RE.test(n)).sort((a, b) => versionSeq(a) - versionSeq(b));
  }

  /** The stable links `certs/<name>.crt` and `private/<name>.key` into `current`. */
  async #ensureLinks(name: StoreName, paths: StorePaths): Promise<void> {
    const want: [string, string][] = [
      [paths.cert, linkTarget(name.fileName, VERSION_FILES.cert)],
      [paths.key, linkTarget(name.fileName, VERSION_FILES.key)],
    ];
    for (const [link, target] of want)
      if ((await readLinkIfExists(link)) !== target) await saveSymlinkAtomic(link, target);
  }

  async #syncCaLink(name: StoreName, paths: StorePaths, id: string): Promise<void> {
    const has = await exists(join(paths.history, id, VERSION_FILES.caBundle));
    const target = linkTarget(name.fileName, VERSION_FILES.caBundle);
    if (has) {
      if ((await readLinkIfExists(paths.caBundle)) !== target)
        await saveSymlinkAtomic(paths.caBundle, target);
    } else if (await exists(paths.caBundle)) {
      await unlink(paths.caBundle);
      await syncDirectory(join(this.root, STORE_DIRECTORIES.certs));
    }
  }

  /** Removes temporary files and directories left by writers that died (their pid is gone). */
  async #cleanTemporary(name: StoreName, paths: StorePaths): Promise<void> {
    const places = [
      paths.history,
      join(this.root, STORE_DIRECTORIES.certs),
      join(this.root, STORE_DIRECTORIES.private),
      join(this.root, STORE_DIRECTORIES.private, 'pending'),
      join(this.root, STORE_DIRECTORIES.csr),
    ];
    for (const dir of places) {
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch (e) {
        if (isCode(e, 'ENOENT')) continue;
        throw e;
      }
      for (const entry of entries) {
        const t = isTemporaryName(entry);
        if (t === undefined || t.pid === process.pid || isProcessAlive(t.pid)) continue;
        // Outside the domain's own history, only files that stand for `<name>.<ext>`: the lock covers no more.
        if (dir !== paths.history && !isFileOf(temporaryTarget(entry), name.fileName)) continue;
        await rm(join(dir, entry), { recursive: true, force: true });
      }
    }
  }

  /**
   * Brings hand-placed files (`certs/<name>.crt` and `private/<name>.key` as regular files, the manual's
   * workflow) under management: a matching pair becomes a version and is put in service before the files
   * are replaced by links, so readers of those paths never see a mixed pair; anything else is copied to
   * `history/<name>/unmanaged-<time>/` before it is replaced.
   */
  async #adoptUnmanaged(name: StoreName, paths: StorePaths): Promise<void> {
    const regular: string[] = [];
    for (const p of [paths.cert, paths.key, paths.caBundle]) {
      try {
        const s = await lstat(p);
        if (!s.isSymbolicLink()) regular.push(p);
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw e;
      }
    }
    if (regular.length === 0) return;
    const certText = await readIfExists(paths.cert);
    const keyText = await readIfExists(paths.key);
    const caText = await readIfExists(paths.caBundle);
    let adopted = false;
    if (certText !== undefined && keyText !== undefined) {
      try {
        const certs = parseCertificateBundle(certText).certificates;
        const key = await parsePrivateKey(keyText, this.#crypto());
        const leaf = certs[0];
        if (leaf !== undefined && keyMatchesCertificate(key, leaf.der)) {
          const id = await this.#newVersion(paths, {
            certPEM: certText,
            keyText,
            caBundle: caText === undefined ? undefined : toBytes(caText),
            meta: metaOf(name, leaf, false, 'adopted'),
          });
          await saveSymlinkAtomic(paths.current, id);
          adopted = true;
        }
      } catch (e) {
        if (!(e instanceof MailTlsError)) throw e;
      }
    }
    if (!adopted) {
      const dir = join(
        paths.history,
        `unmanaged-${compactTime(new Date())}-${randomBytes(3).toString('hex')}`,
      );
      await mkdir(dir, { mode: 0o700 });
      for (const p of regular) {
        const data = await readFile(p);
        await writeNewFile(join(dir, basename(p)), data, p === paths.key ? 0o600 : 0o644);
      }
      await syncDirectory(dir);
      await syncDirectory(paths.history);
    }
    // The paths now show the same pair through `current` (adopted) or are about to be replaced (backed up).
    await this.#ensureLinks(name, paths);
    const current = await readLinkIfExists(paths.current);
    if (current !== undefined) await this.#syncCaLink(name, paths, current);
  }

  /** Keeps the newest `keepVersions` versions, the current one and the one before it. */
  async #prune(paths: StorePaths, current: string): Promise<void> {
    const ids = await this.#versionIds(paths);
    const keep = new Set(ids.slice(-this.#keep));
    keep.add(current);
    const i = ids.indexOf(current);
    if (i > 0) keep.add(ids[i - 1]!);
    for (const id of ids)
      if (!keep.has(id)) await rm(join(paths.history, id), { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------------------------------------
  // reading

  async #readRaw(name: StoreName, paths: StorePaths): Promise<RawPair> {
    const current = await readLinkIfExists(paths.current);
    if (current !== undefined) {
      const dir = join(paths.history, current);
      const [certText, keyText] = await Promise.all([
        readFile(join(dir, VERSION_FILES.cert), 'utf8'),
        readFile(join(dir, VERSION_FILES.key), 'utf8'),
      ]);
      const hasCa = await exists(join(dir, VERSION_FILES.caBundle));
      return {
        certText,
        keyText,
        version: current,
        files: { cert: paths.cert, key: paths.key, ...(hasCa ? { ca: paths.caBundle } : {}) },
      };
    }
    const certText = await readIfExists(paths.cert);
    const keyText = await readIfExists(paths.key);
    if (certText === undefined || keyText === undefined) throw this.#notFound(name, paths, certText, keyText);
    return {
      certText,
      keyText,
      version: await fileSignature([paths.cert, paths.key]),
      files: { cert: paths.cert, key: paths.key },
    };
  }

  #notFound(name: StoreName, paths: StorePaths, certText?: string, keyText?: string): StoreError {
    const what =
      certText === undefined && keyText === undefined
        ? `no certificate and key for ${name.domain}`
        : certText === undefined
          ? `a key but no certificate for ${name.domain} (${this.#rel(paths.cert)} is missing)`
          : `a certificate but no key for ${name.domain} (${this.#rel(paths.key)} is missing)`;
    return new StoreError(
      'ERR_STORE_NOT_FOUND',
      `The store at ${this.root} has ${what}. Install it with store.install() or ` +
        `mailtls install --store ${this.root} --cert <certificate> --chain <CA bundle>.`,
      { details: { domain: name.domain } },
    );
  }

  /**
   * Loads the pair in service for a domain: `{ key, cert }` for the TLS layer, with the parsed leaf, chain
   * and key. The key is checked against the certificate; if a swap happened while reading, the pair is read
   * again.
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND`, `ERR_STORE_INVALID_DOMAIN`; KeyError `ERR_KEY_MISMATCH` (a
   *   hand-placed pair that does not belong together), `ERR_KEY_ENCRYPTED`, `ERR_KEY_PASSPHRASE`; parse errors.
   * @example
   * ```ts
   * const c = await store.load('example.com');
   * tls.createSecureContext({ key: c.key, cert: c.cert });
   * console.log(String(c)); // no key material
   * ```
   */
  async load(domain: string, options: LoadCredentialOptions = {}): Promise<Credential> {
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    return loadConsistentPair(
      name.domain,
      this.kind,
      () => this.#readRaw(name, paths),
      pairOptions(this.#crypto(), options, { key: this.#rel(paths.key), cert: this.#rel(paths.cert) }),
    );
  }

  /**
   * The domains with a certificate and key in service (managed, or placed by hand in `certs/` and
   * `private/`), sorted; wildcards as `*.example.com`.
   *
   * @throws StoreError `ERR_STORE_IO` when the store cannot be read.
   * @example `for (const d of await store.list()) console.log(d)`
   */
  async list(): Promise<string[]> {
    const found = new Set<string>();
    for (const entry of await this.#readdir(join(this.root, STORE_DIRECTORIES.history))) {
      if (isTemporaryName(entry) !== undefined) continue;
      if (
        (await readLinkIfExists(join(this.root, STORE_DIRECTORIES.history, entry, CURRENT_LINK))) ===
        undefined
      )
        continue;
      try {
        found.add(storeName(entry).domain);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
      }
    }
    for (const entry of await this.#readdir(join(this.root, STORE_DIRECTORIES.certs))) {
      if (!entry.endsWith('.crt') || isTemporaryName(entry) !== undefined) continue;
      try {
        const name = storeName(entry.slice(0, -4));
        if (found.has(name.domain)) continue;
        // Both files must be there through their links: dangling links (a remove() half-way, after `current`
        // went) are no pair, as load() says.
        const paths = this.paths(name.domain);
        if ((await resolves(paths.cert)) && (await resolves(paths.key))) found.add(name.domain);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
      }
    }
    return [...found].sort();
  }

  /**
   * Every file name in a store directory (empty when it does not exist). @internal
   */
  async #readdir(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw ioError(e, 'read', dir);
    }
  }

  /**
   * The stored versions of a domain, oldest first.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `(await store.versions('example.com')).map((v) => v.id)`
   */
  async versions(domain: string): Promise<StoreVersion[]> {
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    const current = await readLinkIfExists(paths.current);
    const out: StoreVersion[] = [];
    for (const id of await this.#versionIds(paths)) {
      let meta: Partial<Meta> = {};
      try {
        meta = JSON.parse(
          await readFile(join(paths.history, id, VERSION_FILES.meta), 'utf8'),
        ) as Partial<Meta>;
      } catch {
        // a version without readable metadata is still listed
      }
      out.push({
        id,
        current: id === current,
        installedAt: meta.installedAt === undefined ? undefined : new Date(meta.installedAt),
        fingerprint: meta.fingerprint,
        notAfter: meta.notAfter === undefined ? undefined : new Date(meta.notAfter),
      });
    }
    return out;
  }

  /**
   * An identifier of the pair in service that changes with every install or rollback (the current version
   * id; for hand-placed files, a signature of their inode, size and times); `none` when there is no pair.
   * Cheap: no parsing.
   *
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `if ((await store.version(d)) !== seen) reload()`
   */
  async version(domain: string): Promise<string> {
    const paths = this.paths(storeName(domain).domain);
    const current = await readLinkIfExists(paths.current);
    if (current !== undefined) return current;
    if (!(await exists(paths.cert)) && !(await exists(paths.key))) return 'none';
    return fileSignature([paths.cert, paths.key]);
  }

  /**
   * Paths a watcher should follow for a domain: `history/<name>/` (where `current` is swapped), the
   * `history/` directory (for a first install), `certs/<name>.crt` and `private/<name>.key`.
   *
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `for (const p of await store.watchPaths('example.com')) fs.watch(p, onChange)`
   */
  async watchPaths(domain: string): Promise<string[]> {
    const paths = this.paths(storeName(domain).domain);
    return [paths.history, join(this.root, STORE_DIRECTORIES.history), paths.cert, paths.key];
  }

  /**
   * The files of a domain: `certs/<name>.crt`, `private/<name>.key`, and the CA bundle when there is one.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `(await store.files('example.com')).key`
   */
  async files(domain: string): Promise<CredentialFiles> {
    const paths = this.paths(storeName(domain).domain);
    return {
      cert: paths.cert,
      key: paths.key,
      ...((await exists(paths.caBundle)) ? { ca: paths.caBundle } : {}),
    };
  }

  /**
   * Audits the store: modes, orphans, mismatches, chains, dates, names (see `auditStore`).
   *
   * @throws As `auditStore`.
   * @example
   * ```ts
   * const { ok, findings } = await store.audit();
   * if (!ok) for (const f of findings) console.error(`${f.domain}: ${f.message}`);
   * ```
   */
  async audit(options: AuditOptions = {}): Promise<AuditReport> {
    const { auditStore } = await import('./audit.js');
    return auditStore(this, {
      ...(this.#options.at === undefined ? {} : { at: this.#now() }),
      trust: this.#trust,
      ...(this.#options.nodeRoots === undefined ? {} : { nodeRoots: this.#options.nodeRoots }),
      ...options,
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // rollback and remove

  /**
   * Puts the version before the current one back in service (or the version `to`), atomically. The version
   * rolled back from stays in `history/`.
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND` when there is no earlier version (or no version `to`);
   *   KeyError `ERR_KEY_MISMATCH` when that version's pair is damaged; `ERR_STORE_LOCKED`, `ERR_STORE_IO`
   *   (`ERR_STORE_PERMISSIONS` for EACCES/EPERM).
   * @example
   * ```ts
   * const r = await store.rollback('example.com');
   * console.log(`${r.domain}: ${r.from} -> ${r.to}`);
   * ```
   */
  async rollback(domain: string, options: { to?: string } = {}): Promise<RollbackResult> {
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    return this.#locked(paths, async () => {
      const current = await readLinkIfExists(paths.current);
      const ids = await this.#versionIds(paths);
      if (current === undefined) throw this.#notFound(name, paths);
      let target: string | undefined;
      if (options.to !== undefined) target = ids.includes(options.to) ? options.to : undefined;
      else target = ids.filter((id) => versionSeq(id) < versionSeq(current)).pop();
      if (target === undefined)
        throw new StoreError(
          'ERR_STORE_NOT_FOUND',
          options.to === undefined
            ? `There is no version of ${name.domain} before ${current} to roll back to.`
            : `${name.domain} has no version ${options.to}; versions: ${ids.join(', ')}.`,
          { details: { domain: name.domain, current, versions: ids } },
        );
      const dir = join(paths.history, target);
      const t = target;
      await loadConsistentPair(
        name.domain,
        this.kind,
        async () => ({
          certText: await readFile(join(dir, VERSION_FILES.cert), 'utf8'),
          keyText: await readFile(join(dir, VERSION_FILES.key), 'utf8'),
          version: t,
          files: { cert: join(dir, VERSION_FILES.cert), key: join(dir, VERSION_FILES.key) },
        }),
        { ...this.#crypto(), attempts: 1 },
      );
      await saveSymlinkAtomic(paths.current, target);
      await this.#syncCaLink(name, paths, target);
      return { domain: name.domain, from: current, to: target };
    });
  }

  /**
   * Takes a domain out of the store: the pair in service (readers get `ERR_STORE_NOT_FOUND` from the first
   * step on), its history, its CSR and pending key.
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND` when the store has nothing for the domain; `ERR_STORE_LOCKED`,
   *   `ERR_STORE_IO` (`ERR_STORE_PERMISSIONS` for EACCES/EPERM).
   * @example `await store.remove('old.example.com')`
   */
  async remove(domain: string): Promise<void> {
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    const all = [
      paths.current,
      paths.cert,
      paths.caBundle,
      paths.key,
      paths.pendingKey,
      paths.csr,
      paths.history,
    ];
    let any = false;
    for (const p of all) if (await exists(p)) any = true;
    if (!any) throw this.#notFound(name, paths);
    await this.#locked(paths, async () => {
      await rm(paths.current, { force: true });
      await syncDirectory(paths.history).catch(() => undefined);
      for (const p of [paths.cert, paths.caBundle, paths.key, paths.pendingKey, paths.csr])
        await rm(p, { force: true });
      await rm(paths.history, { recursive: true, force: true });
      for (const dir of [STORE_DIRECTORIES.certs, STORE_DIRECTORIES.private, STORE_DIRECTORIES.history])
        await syncDirectory(join(this.root, dir)).catch(() => undefined);
    });
  }
}
