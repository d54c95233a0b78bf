/**
 * The on-disk certificate store: the three things a mail server's TLS needs kept apart (CSRs waiting for
 * their certificate, certificates, and private keys in a directory only administrators can read) under one
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
 * @module node/store/store
 */
import { rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ChainProblem } from '../../chain/chain.js';
import { createTrustStore, type TrustStore } from '../../chain/verify-chain.js';
import { StoreError } from '../../errors.js';
import type { CryptoOptions, PrivateKey } from '../../keys/keys.js';
import { type Certificate, parseCertificate } from '../../x509/certificate.js';
import type { CreateCSROptions } from '../../x509/csr.js';
import type { CSRWarning } from '../../x509/subject.js';
import { type DeployHookOptions, type DeployOutcome, runStoreDeployHooks } from '../hooks/deploy.js';
import { nodeRootCertificates } from '../tls/roots.js';
import { isCode, saveFileAtomic, syncDirectory } from './atomic-write.js';
import {
  type Credential,
  type CredentialFiles,
  type CredentialSource,
  fileSignature,
  type LoadCredentialOptions,
  loadConsistentPair,
  pairOptions,
} from './credential.js';
import { registerStoreDefaults } from './defaults.js';
import { exists, ioError, readLinkIfExists, systemError, versionIds } from './io.js';
import { resolveGroup, STORE_DIRECTORIES, type StorePaths, storeName, storePaths } from './layout.js';
import { type LockOptions, withLock } from './lock.js';
import { checkLayout, ensureDirectories, fixPermissions, type PermissionFix } from './modes.js';
import { type InstallOptions, type InstallWarning, type KeySource, planInstall } from './plan.js';
import { hasPair, listDomains, notFoundError, readPair, type StoreListOptions, storedKeys } from './read.js';
import {
  commitInstall,
  listVersions,
  type RollbackResult,
  rollbackVersion,
  type StoreVersion,
  type VersionContext,
} from './versions.js';

export type { PermissionFix } from './modes.js';
export type { InstallOptions, InstallWarning, KeySource } from './plan.js';
export type { RollbackResult, StoreVersion } from './versions.js';

/** Options of a {@link CertificateStore}. */
export interface CertificateStoreOptions extends CryptoOptions, DeployHookOptions {
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

/** What {@link CertificateStore.install} did, and what the deploy hooks run after it did. */
export interface InstallResult extends DeployOutcome {
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
    registerStoreDefaults(this, {
      ...(options.at === undefined ? {} : { now: () => this.#now() }),
      trust: this.#trust,
      ...(options.nodeRoots === undefined ? {} : { nodeRoots: options.nodeRoots }),
    });
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

  /** What the modes and versions modules need of this store. */
  #context(): VersionContext {
    return { root: this.root, kind: this.kind, keyGroup: () => this.keyGroup(), ...this.#crypto() };
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
    await checkLayout(this.root);
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
    return fixPermissions(this.#context());
  }

  /** Runs a writer under the domain's lock; a file-system error on the way is `ERR_STORE_IO` naming its path. */
  async #locked<T>(paths: StorePaths, fn: () => Promise<T>): Promise<T> {
    await ensureDirectories(this.#context());
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
    const { createCSR } = await import('../../x509/csr.js');
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
    const plan = await planInstall(
      options,
      { root: this.root, at: this.#now(options?.at), roots: this.#roots(), ...this.#crypto() },
      storedKeys(this.root),
    );
    const { previous, version } = await this.#locked(plan.paths, () =>
      commitInstall(this.#context(), plan, this.#keep),
    );
    const hooks = { event: 'install', domain: plan.name.domain, from: previous, to: version } as const;
    return {
      deployHooks: await runStoreDeployHooks(this.root, this.#options, hooks),
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

  // ------------------------------------------------------------------------------------------------------
  // reading

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
      () => readPair(this.root, name, paths),
      pairOptions(this.#crypto(), options, { key: this.#rel(paths.key), cert: this.#rel(paths.cert) }),
    );
  }

  /**
   * The domains with a pair in service (managed, or placed by hand in `certs/` and `private/`), sorted;
   * wildcards as `*.example.com`. With `limit`, only the first `limit`, checking no more names than that.
   * @throws StoreError `ERR_STORE_IO` when the store cannot be read; RangeError for a bad `limit`.
   * @example `const [first] = await store.list({ limit: 1 }); // undefined for an empty store`
   */
  async list(options: StoreListOptions = {}): Promise<string[]> {
    return listDomains(this.root, options);
  }

  /**
   * Whether a domain has a pair in service, as `list()` counts it, in one `readlink` (two more `stat`s for
   * hand-placed files) instead of a listing; false for a name the store cannot hold (as clients may send).
   * @throws StoreError `ERR_STORE_IO` (`ERR_STORE_PERMISSIONS`) when the store cannot be read.
   * @example `if (await store.has(servername)) registry.add(servername, await store.load(servername));`
   */
  async has(domain: string): Promise<boolean> {
    return hasPair(this.root, domain);
  }

  /**
   * The stored versions of a domain, oldest first.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `(await store.versions('example.com')).map((v) => v.id)`
   */
  async versions(domain: string): Promise<StoreVersion[]> {
    return listVersions(this.paths(storeName(domain).domain));
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

  // ------------------------------------------------------------------------------------------------------
  // rollback and remove

  /**
   * Puts the version before the current one back in service (or the version `to`), atomically. The version
   * rolled back from stays in `history/`. A domain taken out with `remove(domain, { keepHistory: true })` is
   * put back in service from its newest stored version (or `to`).
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
  async rollback(domain: string, options: { to?: string } = {}): Promise<RollbackResult & DeployOutcome> {
    const name = storeName(domain);
    const paths = this.paths(name.domain);
    const r = await this.#locked(paths, async () => {
      const current = await readLinkIfExists(paths.current);
      // A domain removed with `keepHistory` comes back from its stored versions.
      if (current === undefined && (await versionIds(paths)).length === 0)
        throw notFoundError(this.root, name, paths);
      return rollbackVersion(this.#context(), name, paths, current, options.to);
    });
    const hooks = { event: 'rollback', domain: r.domain, from: r.from, to: r.to } as const;
    return { ...r, deployHooks: await runStoreDeployHooks(this.root, this.#options, hooks) };
  }

  /**
   * Takes a domain out of the store: the pair in service (readers get `ERR_STORE_NOT_FOUND` from the first
   * step on), its history, its CSR and pending key. With `keepHistory` the stored versions stay in
   * `history/<domain>/` (out of service: no `current` link), so that {@link CertificateStore.rollback} can
   * put the domain back.
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND` when the store has nothing for the domain; `ERR_STORE_LOCKED`,
   *   `ERR_STORE_IO` (`ERR_STORE_PERMISSIONS` for EACCES/EPERM).
   * @example `await store.remove('old.example.com')`
   */
  async remove(domain: string, options: { keepHistory?: boolean } = {}): Promise<void> {
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
    if (!any) throw notFoundError(this.root, name, paths);
    await this.#locked(paths, async () => {
      await rm(paths.current, { force: true });
      await syncDirectory(paths.history).catch(() => undefined);
      for (const p of [paths.cert, paths.caBundle, paths.key, paths.pendingKey, paths.csr])
        await rm(p, { force: true });
      if (options.keepHistory !== true) await rm(paths.history, { recursive: true, force: true });
      for (const dir of [STORE_DIRECTORIES.certs, STORE_DIRECTORIES.private, STORE_DIRECTORIES.history])
        await syncDirectory(join(this.root, dir)).catch(() => undefined);
    });
  }
}
