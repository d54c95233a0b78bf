/**
 * Read-only adapters for layouts that other tools maintain, with the same {@link CredentialSource} surface
 * as the mailtls store: certbot's `live/` directory and a Kubernetes TLS secret mounted as files.
 *
 * **certbot** keeps every issued file in `archive/<name>/` (`cert1.pem`, `privkey1.pem`, `fullchain1.pem`,
 * ...) and points `live/<name>/{cert,chain,fullchain,privkey}.pem` at the newest ones with relative symbolic
 * links. A renewal re-points those links one after the other, so for a moment `fullchain.pem` and
 * `privkey.pem` can belong to different versions: {@link CertbotSource.load} checks the pair and reads
 * again a little later when it does not match.
 *
 * **Kubernetes** (kubelet's atomic writer) mounts a `kubernetes.io/tls` secret as a directory holding a
 * timestamped directory `..2026_11_29_10_30_00.123456789/` with the real files, a link `..data` to it, and
 * links `tls.crt -> ..data/tls.crt`, `tls.key -> ..data/tls.key` (and `ca.crt`). An update writes a new
 * timestamped directory and renames a new `..data` link over the old one: one atomic swap.
 * {@link KubernetesSecretSource.load} resolves `..data` once and reads both files from that one directory, so
 * it always gets one consistent snapshot; a mount without `..data` (plain files) is read directly.
 *
 * @module node/store/layouts
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { StoreError } from '../../errors.js';
import type { CryptoOptions } from '../../keys/keys.js';
import { isCode } from './atomic-write.js';
import {
  type Credential,
  type CredentialFiles,
  type CredentialSource,
  fileSignature,
  type LoadCredentialOptions,
  loadConsistentPair,
  pairOptions,
} from './credential.js';

function checkName(name: string, what: string): string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string`);
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.startsWith('..'))
    throw new StoreError(
      'ERR_STORE_INVALID_DOMAIN',
      `${JSON.stringify(name.slice(0, 100))} is not a ${what}: give a plain name without path separators.`,
      { details: { name: name.slice(0, 256) } },
    );
  return name;
}

/** Whether an fs error means the path does not exist (a missing file, or a file where a directory should be). */
function isMissing(e: unknown): boolean {
  return isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

function notFound(kind: string, name: string, where: string): StoreError {
  return new StoreError(
    'ERR_STORE_NOT_FOUND',
    `${kind} has no certificate and key named ${JSON.stringify(name)} (looked in ${where}).`,
    { details: { name, where } },
  );
}

/** Options of {@link CertbotSource}. */
export interface CertbotSourceOptions extends CryptoOptions {}

/**
 * certbot's certificates, read from `<configDir>/live/<name>/fullchain.pem` and `privkey.pem`. Names are
 * certbot's lineage names (`certbot certificates` lists them; usually the first domain, sometimes with a
 * `-0001` suffix).
 *
 * @example
 * ```ts
 * const certbot = new CertbotSource('/etc/letsencrypt');
 * for (const name of await certbot.list()) {
 *   const { key, cert } = await certbot.load(name);
 * }
 * ```
 */
export class CertbotSource implements CredentialSource {
  /** Always `certbot`. */
  readonly kind = 'certbot';
  /** certbot's configuration directory, `/etc/letsencrypt` by default. */
  readonly configDir: string;
  readonly #crypto: CryptoOptions;

  /**
   * @param configDir - certbot's `--config-dir`; default `/etc/letsencrypt`.
   * @throws TypeError for a wrong argument type.
   */
  constructor(configDir = '/etc/letsencrypt', options: CertbotSourceOptions = {}) {
    if (typeof configDir !== 'string' || configDir === '')
      throw new TypeError('configDir must be a directory path');
    this.configDir = configDir;
    this.#crypto = options.crypto === undefined ? {} : { crypto: options.crypto };
  }

  #live(name: string): string {
    return join(this.configDir, 'live', checkName(name, 'certbot lineage name'));
  }

  /**
   * The lineages in `live/` that have a `fullchain.pem`, sorted.
   * @throws StoreError `ERR_STORE_IO` when `live/` cannot be read.
   * @example `await new CertbotSource().list() // ['example.com', 'example.org']`
   */
  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(join(this.configDir, 'live'));
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw new StoreError('ERR_STORE_IO', `Cannot read ${join(this.configDir, 'live')}: ${String(e)}`, {
        cause: e,
      });
    }
    const out: string[] = [];
    for (const e of entries) {
      if (e.startsWith('.') || e === 'README') continue;
      if (await isFile(join(this.configDir, 'live', e, 'fullchain.pem'))) out.push(e);
    }
    return out.sort();
  }

  /**
   * Loads `fullchain.pem` with `privkey.pem` of a lineage, checked to match (read again if certbot is
   * in the middle of re-pointing its links).
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND`, `ERR_STORE_INVALID_DOMAIN` (a name with a path separator);
   *   KeyError `ERR_KEY_MISMATCH` when the pair stays mismatched; parse errors.
   * @example `const c = await certbot.load('example.com')`
   */
  async load(name: string, options: LoadCredentialOptions = {}): Promise<Credential> {
    const files = await this.files(name);
    return loadConsistentPair(
      name,
      this.kind,
      async () => {
        try {
          const [certText, keyText] = await Promise.all([
            readFile(files.cert, 'utf8'),
            readFile(files.key, 'utf8'),
          ]);
          return { certText, keyText, version: await this.version(name), files };
        } catch (e) {
          if (isMissing(e) && !(await isFile(files.cert)) && !(await isFile(files.key)))
            throw notFound('certbot', name, this.#live(name));
          throw e;
        }
      },
      pairOptions(this.#crypto, options, { key: files.key, cert: files.cert }),
    );
  }

  /**
   * A signature of where `fullchain.pem` and `privkey.pem` point and of those files (inode, size, times):
   * it changes when certbot renews.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `const v = await certbot.version('example.com')`
   */
  async version(name: string): Promise<string> {
    const live = this.#live(name);
    return fileSignature([join(live, 'fullchain.pem'), join(live, 'privkey.pem')]);
  }

  /**
   * `live/<name>/` and `archive/<name>/` (where certbot re-points links and adds files) and the two files.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `await certbot.watchPaths('example.com')`
   */
  async watchPaths(name: string): Promise<string[]> {
    const live = this.#live(name);
    return [
      live,
      join(this.configDir, 'archive', name),
      join(live, 'fullchain.pem'),
      join(live, 'privkey.pem'),
    ];
  }

  /**
   * `live/<name>/fullchain.pem`, `privkey.pem` and `chain.pem`.
   * @throws StoreError `ERR_STORE_INVALID_DOMAIN`.
   * @example `(await certbot.files('example.com')).key`
   */
  async files(name: string): Promise<CredentialFiles> {
    const live = this.#live(name);
    return { cert: join(live, 'fullchain.pem'), key: join(live, 'privkey.pem'), ca: join(live, 'chain.pem') };
  }
}

/** Options of {@link KubernetesSecretSource}. */
export interface KubernetesSecretSourceOptions extends CryptoOptions {
  /** The name of a single mount given as a string; default the directory's base name. */
  name?: string | undefined;
}

/**
 * Kubernetes TLS secrets mounted as volumes (`tls.crt`, `tls.key`, optional `ca.crt`). Give one mount
 * directory, or several as `{ name: directory }`.
 *
 * @example
 * ```ts
 * const secrets = new KubernetesSecretSource({ 'example.com': '/etc/tls/example-com' });
 * const c = await secrets.load('example.com');
 * ```
 */
export class KubernetesSecretSource implements CredentialSource {
  /** Always `kubernetes`. */
  readonly kind = 'kubernetes';
  readonly #mounts: ReadonlyMap<string, string>;
  readonly #crypto: CryptoOptions;

  /**
   * @param mounts - a mount directory, or `{ name: directory }`.
   * @throws TypeError for wrong argument types.
   */
  constructor(
    mounts: string | Readonly<Record<string, string>>,
    options: KubernetesSecretSourceOptions = {},
  ) {
    const map = new Map<string, string>();
    if (typeof mounts === 'string') {
      if (mounts === '') throw new TypeError('the mount directory must not be empty');
      map.set(options.name ?? basename(mounts), mounts);
    } else if (mounts !== null && typeof mounts === 'object') {
      for (const [name, dir] of Object.entries(mounts)) {
        if (typeof dir !== 'string' || dir === '')
          throw new TypeError(`mount directory of ${name} must be a path`);
        map.set(name, dir);
      }
    } else throw new TypeError('mounts must be a directory or an object of name: directory');
    this.#mounts = map;
    this.#crypto = options.crypto === undefined ? {} : { crypto: options.crypto };
  }

  #dir(name: string): string {
    const dir = this.#mounts.get(name);
    if (dir === undefined)
      throw new StoreError(
        'ERR_STORE_NOT_FOUND',
        `No Kubernetes secret mount is named ${JSON.stringify(name)}; known: ${[...this.#mounts.keys()].join(', ')}.`,
        { details: { name } },
      );
    return dir;
  }

  /**
   * The configured names whose mount holds a `tls.crt`, sorted.
   * @throws Never for missing mounts (they are left out).
   * @example `await secrets.list()`
   */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, dir] of this.#mounts) if (await isFile(join(dir, 'tls.crt'))) out.push(name);
    return out.sort();
  }

  /**
   * Loads `tls.crt` and `tls.key` from one snapshot of the secret (the directory `..data` points to).
   *
   * @throws StoreError `ERR_STORE_NOT_FOUND`; KeyError `ERR_KEY_MISMATCH`; parse errors.
   * @example `const { key, cert } = await secrets.load('example.com')`
   */
  async load(name: string, options: LoadCredentialOptions = {}): Promise<Credential> {
    const dir = this.#dir(name);
    const files = await this.files(name);
    return loadConsistentPair(
      name,
      this.kind,
      async () => {
        const data = await readDataLink(dir);
        const base = data === undefined ? dir : join(dir, data);
        try {
          const [certText, keyText] = await Promise.all([
            readFile(join(base, 'tls.crt'), 'utf8'),
            readFile(join(base, 'tls.key'), 'utf8'),
          ]);
          return {
            certText,
            keyText,
            version: data ?? (await fileSignature([files.cert, files.key])),
            files,
          };
        } catch (e) {
          if (isMissing(e) && data === undefined) throw notFound('The Kubernetes secret mount', name, dir);
          throw e;
        }
      },
      pairOptions(this.#crypto, options, { key: files.key, cert: files.cert }),
    );
  }

  /**
   * The timestamped directory `..data` points to (it changes with every secret update), or for a mount
   * without `..data` a signature of the files.
   * @throws StoreError `ERR_STORE_NOT_FOUND` for an unknown name.
   * @example `const v = await secrets.version('example.com') // '..2026_11_29_10_30_00.123456789'`
   */
  async version(name: string): Promise<string> {
    const dir = this.#dir(name);
    const data = await readDataLink(dir);
    return data ?? fileSignature([join(dir, 'tls.crt'), join(dir, 'tls.key')]);
  }

  /**
   * The mount directory (where kubelet swaps `..data`), `..data` itself and the two files.
   * @throws StoreError `ERR_STORE_NOT_FOUND` for an unknown name.
   * @example `await secrets.watchPaths('example.com')`
   */
  async watchPaths(name: string): Promise<string[]> {
    const dir = this.#dir(name);
    return [dir, join(dir, '..data'), join(dir, 'tls.crt'), join(dir, 'tls.key')];
  }

  /**
   * `tls.crt`, `tls.key`, and `ca.crt` when the secret has one.
   * @throws StoreError `ERR_STORE_NOT_FOUND` for an unknown name.
   * @example `(await secrets.files('example.com')).cert`
   */
  async files(name: string): Promise<CredentialFiles> {
    const dir = this.#dir(name);
    const ca = join(dir, 'ca.crt');
    return {
      cert: join(dir, 'tls.crt'),
      key: join(dir, 'tls.key'),
      ...((await isFile(ca)) ? { ca } : {}),
    };
  }
}

/**
 * The target of `<dir>/..data` when it is a link to a directory beside it (kubelet's `..<timestamp>`);
 * undefined when there is no such link (plain files) or it points elsewhere (then the files are read
 * through their own links).
 */
async function readDataLink(dir: string): Promise<string | undefined> {
  try {
    const target = await readlink(join(dir, '..data'));
    if (target === '' || target === '.' || target === '..' || /[/\\\0]/.test(target)) return undefined;
    return target;
  } catch (e) {
    if (isMissing(e) || isCode(e, 'EINVAL')) return undefined;
    throw e;
  }
}
