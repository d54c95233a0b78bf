/**
 * Audit of a certificate store (or any {@link CredentialSource}): per domain, what would stop the mail
 * server from starting or make clients refuse it, and what to do about it.
 *
 * It judges exactly what servers are configured with: the certificate file and the key file of each name
 * (`certs/<name>.crt` and `private/<name>.key` in the store), read through their links as a server reads
 * them, never the store's own idea of the version in service.
 *
 * Checks: key file or key directory readable by others (with the `chmod` that fixes it; a key readable by
 * the store's key group is fine, by another group a warning), a key, key directory, store root or
 * `history/` owned by another user than root or the auditing user, or writable by others (they could
 * replace the key: an error, with the `chown`/`chmod` that fixes it), key without certificate, certificate
 * without key, key and certificate that do not belong together, an encrypted key (the server cannot start
 * unattended), an incomplete chain or one ending at an untrusted root, an expired or not yet valid
 * certificate, renewal due (a third of the lifetime left, see {@link renewalWindow}), an intermediate that
 * expires before the leaf, a certificate that names its host only in the Common Name, and the names the
 * server answers on that the certificate does not cover (default: the usual mail names of
 * {@link suggestMailHostnames}).
 *
 * @module node/store/audit
 */
import type { Stats } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assembleChain } from '../../chain/chain.js';
import { createTrustStore, type TrustStore } from '../../chain/verify-chain.js';
import { MailTlsError, StoreError } from '../../errors.js';
import { keyMatchesCertificate } from '../../keys/key-match.js';
import { parsePrivateKey } from '../../keys/private-key.js';
import { coverage, type MailHostnameOptions, suggestMailHostnames } from '../../names/coverage.js';
import { tryCanonicalizeHostname } from '../../names/hostname.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import { renewalWindow } from '../../x509/renewal.js';
import { nodeRootCertificates } from '../tls/roots.js';
import { isCode } from './atomic-write.js';
import { type CredentialFiles, type CredentialSource, keyMismatchError } from './credential.js';
import { storeDefaults } from './defaults.js';
import { STORE_DIRECTORIES, storeName } from './layout.js';
import { CertificateStore } from './store.js';

/** How bad a finding is: `error` breaks mail now or leaks the key; `warning` needs attention; `info` is news. */
export type AuditSeverity = 'error' | 'warning' | 'info';

/** What an audit finding is about. */
export type AuditCode =
  | 'KEY_FILE_TOO_OPEN'
  | 'KEY_DIR_TOO_OPEN'
  | 'UNTRUSTED_OWNER'
  | 'WRITABLE_BY_OTHERS'
  | 'KEY_WITHOUT_CERT'
  | 'CERT_WITHOUT_KEY'
  | 'KEY_MISMATCH'
  | 'KEY_ENCRYPTED'
  | 'UNREADABLE'
  | 'CHAIN_INCOMPLETE'
  | 'CHAIN_UNTRUSTED_ROOT'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRING'
  | 'INTERMEDIATE_EXPIRES_FIRST'
  | 'CN_ONLY'
  | 'NAME_NOT_COVERED'
  | 'CSR_PENDING';

/** One finding. */
export interface AuditFinding {
  /** The domain (or source name) it is about. */
  readonly domain: string;
  /** What the finding is about. */
  readonly code: AuditCode;
  /** How bad it is. */
  readonly severity: AuditSeverity;
  /** What is wrong, for an administrator. */
  readonly message: string;
  /** A command or step that fixes it, when there is one. */
  readonly fix?: string | undefined;
  /** The file or directory concerned. */
  readonly path?: string | undefined;
}

/** Options of {@link auditStore}. */
export interface AuditOptions {
  /** The moment to judge at; default now. */
  at?: Date | undefined;
  /**
   * The host names the server answers on, per domain (a map or a function). Default: the bare domain,
   * `mail.`, `smtp.` and `imap.` (see {@link suggestMailHostnames} and `mailHostnames`).
   */
  hostnames?:
    | Readonly<Record<string, readonly string[]>>
    | ((domain: string) => readonly string[])
    | undefined;
  /** Options of the default host names (`pop3`, `mtaSts`, `autoconfig`, `extraLabels`). */
  mailHostnames?: MailHostnameOptions | undefined;
  /** Renew when this fraction of the lifetime is left; default 1/3. */
  remainingFraction?: number | undefined;
  /** More trusted roots (e.g. a private CA); Node's bundled roots are used unless `nodeRoots` is false. */
  trust?: readonly Certificate[] | undefined;
  /** Trust Node's bundled roots; default true. */
  nodeRoots?: boolean | undefined;
  /**
   * The group id that may read keys (0640 keys owned by it are fine). Default: for a
   * {@link CertificateStore}, its key group (`keyGroup()`); otherwise none.
   */
  keyGroup?: number | undefined;
}

/** The outcome of {@link auditStore}. */
export interface AuditReport {
  /** The moment of the audit. */
  readonly at: Date;
  /** The domains looked at. */
  readonly domains: readonly string[];
  /** Every finding, by domain in list order. */
  readonly findings: readonly AuditFinding[];
  /** True when no finding has severity `error`. */
  readonly ok: boolean;
}

const DAY = 86_400_000;

function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

async function statOf(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR') || isCode(e, 'ELOOP')) return undefined;
    throw new StoreError(
      isCode(e, 'EACCES') || isCode(e, 'EPERM') ? 'ERR_STORE_PERMISSIONS' : 'ERR_STORE_IO',
      `Cannot read ${path} (${(e as { code?: string }).code ?? String(e)}): audit the store as its owner (root).`,
      { cause: e, details: { path } },
    );
  }
}

async function modeOf(path: string): Promise<number | undefined> {
  const s = await statOf(path);
  return s === undefined ? undefined : s.mode & 0o777;
}

/** Owners whose files may hold keys: root, and the user running the audit (a store of one's own). */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

function mode4(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}

async function realOrSelf(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

class Auditor {
  readonly findings: AuditFinding[] = [];
  readonly at: Date;
  keyGroup: number | undefined;
  #roots: TrustStore | undefined;
  #checkedDirs = new Set<string>();

  constructor(
    readonly source: CredentialSource,
    readonly options: AuditOptions,
  ) {
    this.at = options.at ?? new Date();
    this.keyGroup = options.keyGroup;
  }

  add(f: AuditFinding): void {
    this.findings.push(f);
  }

  roots(): TrustStore {
    this.#roots ??= createTrustStore([
      ...(this.options.nodeRoots === false ? [] : nodeRootCertificates()),
      ...(this.options.trust ?? []),
    ]);
    return this.#roots;
  }

  hostnamesFor(domain: string, leaf: Certificate): readonly string[] {
    const h = this.options.hostnames;
    if (typeof h === 'function') return h(domain);
    if (h !== undefined && h !== null && typeof h === 'object' && Object.hasOwn(h, domain))
      return h[domain] ?? [];
    // The mail domain: the stored domain (a wildcard's parent), else the certificate's first name.
    const base =
      tryCanonicalizeHostname(domain.replace(/^\*\./, '')) ??
      tryCanonicalizeHostname((leaf.subject.commonName ?? leaf.dnsNames[0] ?? '').replace(/^\*\./, ''));
    if (base === undefined) return [];
    try {
      return suggestMailHostnames(base, this.options.mailHostnames ?? {});
    } catch (e) {
      if (e instanceof MailTlsError) return [];
      throw e;
    }
  }

  /** Reports a file or directory owned by someone who could replace the key. */
  checkOwner(domain: string, path: string, st: Stats, what: string): void {
    if (this.source.kind === 'kubernetes' || trustedOwner(st.uid)) return;
    this.add({
      domain,
      code: 'UNTRUSTED_OWNER',
      severity: 'error',
      message:
        `${what} ${path} is owned by uid ${st.uid}, another user than root: that user can replace the key ` +
        'the mail server loads.',
      fix: `chown root ${shellQuote(path)}`,
      path,
    });
  }

  /**
   * File and directory modes and owners of a key. `keyDirs` are the directories whose listing is private
   * (the store's `private/`); `pathDirs` the others a server passes through to the key, which nobody but
   * the owner may write.
   */
  async checkKeyModes(
    domain: string,
    keyPath: string,
    keyDirs: readonly string[],
    pathDirs: readonly string[] = [],
  ): Promise<void> {
    const kubernetes = this.source.kind === 'kubernetes';
    const store = this.source instanceof CertificateStore;
    const real = await realOrSelf(keyPath);
    const st = await statOf(real);
    const group = this.keyGroup;
    if (st !== undefined) {
      const mode = st.mode & 0o777;
      const others = (mode & 0o007) !== 0;
      // A key readable (not writable) by the store's key group is the configured rule, not a finding.
      const groupRule = group !== undefined && st.gid === group && (mode & 0o030) === 0;
      if (others || ((mode & 0o070) !== 0 && !groupRule))
        this.add({
          domain,
          code: 'KEY_FILE_TOO_OPEN',
          severity: others || (mode & 0o020) !== 0 ? 'error' : 'warning',
          message:
            `The private key ${keyPath} has mode ${mode4(mode)}: ` +
            (others
              ? 'every local user can read it.'
              : (mode & 0o020) !== 0
                ? `its group (gid ${st.gid}) can replace it.`
                : `its group (gid ${st.gid}) can read it (fine only for a dedicated group such as ssl-cert: give it as the store's group).`),
          fix: kubernetes
            ? 'Set defaultMode: 0400 (or items[].mode) on the secret volume; the mounted files are read-only.'
            : group !== undefined && store
              ? `chgrp ${group} ${shellQuote(real)} && chmod 640 ${shellQuote(real)}`
              : `chmod 600 ${shellQuote(real)}`,
          path: real,
        });
      this.checkOwner(domain, real, st, 'The private key');
    }
    const listed = store ? keyDirs : [...new Set([dirname(keyPath), dirname(real), ...keyDirs])];
    const passed = store ? [...keyDirs, dirname(real), ...pathDirs] : listed;
    for (const dir of new Set(passed)) {
      if (this.#checkedDirs.has(`w:${dir}`) || kubernetes) continue;
      this.#checkedDirs.add(`w:${dir}`);
      const ds = await statOf(dir);
      if (ds === undefined) continue;
      this.checkOwner(domain, dir, ds, 'The directory');
      const m = ds.mode & 0o777;
      if ((m & 0o022) !== 0)
        this.add({
          domain,
          code: 'WRITABLE_BY_OTHERS',
          severity: 'error',
          message:
            `The directory ${dir}, on the way to the private key, has mode ${mode4(m)}: ` +
            `${(m & 0o002) !== 0 ? 'other users' : `its group (gid ${ds.gid})`} can replace the key (or the link to it) ` +
            'that the mail server loads.',
          fix: `chmod go-w ${shellQuote(dir)}`,
          path: dir,
        });
    }
    for (const dir of new Set(listed)) {
      if (this.#checkedDirs.has(dir)) continue;
      this.#checkedDirs.add(dir);
      const ds = await statOf(dir);
      if (ds === undefined) continue;
      const m = ds.mode & 0o777;
      if ((m & 0o055) === 0) continue;
      // Kubernetes mounts and certbot's live/ are managed by their tools: only report what the key file shows.
      if (kubernetes) continue;
      const others = (m & 0o005) !== 0;
      // The store's key group may enter private/ (0750); that is the configured rule.
      if (!others && group !== undefined && ds.gid === group) continue;
      this.add({
        domain,
        code: 'KEY_DIR_TOO_OPEN',
        severity: others ? 'warning' : 'info',
        message:
          `The directory ${dir}, which holds private keys, has mode ${mode4(m)}: ` +
          (others ? 'other users can list it.' : 'its group can enter it.'),
        fix:
          group !== undefined && store
            ? `chgrp ${group} ${shellQuote(dir)} && chmod 750 ${shellQuote(dir)}`
            : `chmod 700 ${shellQuote(dir)}`,
        path: dir,
      });
    }
  }

  /** Everything about one name of the source. */
  async checkName(
    domain: string,
    extraKeyDirs: readonly string[],
    pathDirs: (domain: string) => readonly string[] = () => [],
  ): Promise<void> {
    let files: CredentialFiles;
    try {
      files = await this.source.files(domain);
    } catch (e) {
      if (e instanceof MailTlsError) {
        this.add({ domain, code: 'UNREADABLE', severity: 'error', message: e.message });
        return;
      }
      throw e;
    }
    const keyExists = (await modeOf(files.key)) !== undefined;
    const certExists = (await modeOf(files.cert)) !== undefined;
    if (keyExists) await this.checkKeyModes(domain, files.key, extraKeyDirs, pathDirs(domain));
    if (!certExists && keyExists) {
      this.add({
        domain,
        code: 'KEY_WITHOUT_CERT',
        severity: 'warning',
        message: `${files.key} has no certificate: ${files.cert} is missing.`,
        fix: 'Install the certificate the CA issued for this key, or remove the key if it is no longer needed.',
        path: files.key,
      });
      return;
    }
    if (certExists && !keyExists) {
      this.add({
        domain,
        code: 'CERT_WITHOUT_KEY',
        severity: 'error',
        message: `${files.cert} has no private key: ${files.key} is missing; the server cannot use it.`,
        fix: 'Restore the key the CSR was made with, or make a new key and CSR and have the certificate reissued.',
        path: files.cert,
      });
    }
    if (!certExists) return;

    let chain: readonly Certificate[];
    try {
      chain = parseCertificateBundle(await readFile(files.cert, 'utf8')).certificates;
    } catch (e) {
      if (!(e instanceof MailTlsError) && !isSystemError(e)) throw e;
      this.add({
        domain,
        code: 'UNREADABLE',
        severity: 'error',
        message: `${files.cert} cannot be read: ${(e as Error).message}`,
        path: files.cert,
      });
      return;
    }
    const leaf = chain[0];
    if (leaf === undefined) return;
    if (keyExists) await this.checkPair(domain, files);
    this.checkDates(domain, leaf, chain.slice(1));
    await this.checkChain(domain, leaf, chain.slice(1), files);
    this.checkNames(domain, leaf);
  }

  /**
   * Judges the pair a server is configured with: the key file and the certificate file, read through their
   * links as a server opens them (not the source's own idea of the version in service). A pair that
   * disagrees is read once more, in case an install swapped it between the two reads.
   */
  async checkPair(domain: string, files: CredentialFiles): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let certText: string;
      let keyText: string;
      try {
        [certText, keyText] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
      } catch (e) {
        if (!isSystemError(e)) throw e;
        this.add({
          domain,
          code: 'UNREADABLE',
          severity: 'error',
          message: `The pair ${files.cert} and ${files.key} cannot be read (${(e as { code?: string }).code}): a server configured with them cannot start.`,
          path: (e as { path?: string }).path ?? files.key,
        });
        return;
      }
      let done = true;
      try {
        const leaf = parseCertificateBundle(certText).certificates[0];
        if (leaf === undefined) return;
        const key = await parsePrivateKey(keyText);
        if (keyMatchesCertificate(key, leaf.der)) return;
        done = attempt > 0;
        if (done)
          this.add({
            domain,
            code: 'KEY_MISMATCH',
            severity: 'error',
            message: keyMismatchError(key, leaf, files.key, files.cert).message,
            fix: 'Install the certificate with the key its CSR was made from (or roll back to the previous version).',
            path: files.key,
          });
      } catch (e) {
        if (!(e instanceof MailTlsError)) throw e;
        if (e.code === 'ERR_KEY_ENCRYPTED' || e.code === 'ERR_KEY_PASSPHRASE')
          this.add({
            domain,
            code: 'KEY_ENCRYPTED',
            severity: 'error',
            message: `The private key ${files.key} is encrypted: the mail server cannot start unattended (it would wait for a pass phrase).`,
            fix: `openssl pkey -in ${shellQuote(files.key)} -out key.new && chmod 600 key.new, then install key.new in its place`,
            path: files.key,
          });
        else this.add({ domain, code: 'UNREADABLE', severity: 'error', message: e.message, path: files.key });
      }
      if (done) return;
    }
  }

  checkDates(domain: string, leaf: Certificate, chain: readonly Certificate[]): void {
    const at = this.at;
    if (leaf.notAfter.getTime() < at.getTime()) {
      this.add({
        domain,
        code: 'CERT_EXPIRED',
        severity: 'error',
        message: `The certificate expired on ${leaf.notAfter.toISOString()}; clients refuse it.`,
        fix: 'Renew it with the CA and install the new certificate.',
      });
      return;
    }
    if (leaf.notBefore.getTime() > at.getTime()) {
      this.add({
        domain,
        code: 'CERT_NOT_YET_VALID',
        severity: 'error',
        message: `The certificate is not valid before ${leaf.notBefore.toISOString()}; clients refuse it until then.`,
        fix: 'Check the system clock; roll back to the previous version until the new one is valid.',
      });
      return;
    }
    const w = renewalWindow(leaf, {
      at,
      chain,
      ...(this.options.remainingFraction === undefined
        ? {}
        : { remainingFraction: this.options.remainingFraction }),
    });
    if (w.due)
      this.add({
        domain,
        code: 'CERT_EXPIRING',
        severity: w.expiresAt.getTime() - at.getTime() < 7 * DAY ? 'error' : 'warning',
        message:
          `The certificate expires on ${w.expiresAt.toISOString()} (${w.daysLeft} days left of ` +
          `${Math.round(w.lifetimeDays)}); renewal was due on ${w.renewAt.toISOString()}.`,
        fix: 'Renew it now: make a CSR (or reuse the key) and install the new certificate.',
      });
    for (const warning of w.warnings)
      this.add({ domain, code: 'INTERMEDIATE_EXPIRES_FIRST', severity: 'warning', message: warning.message });
  }

  async checkChain(
    domain: string,
    leaf: Certificate,
    rest: readonly Certificate[],
    files: CredentialFiles,
  ): Promise<void> {
    const pool = [...rest];
    if (files.ca !== undefined) {
      try {
        pool.push(...parseCertificateBundle(await readFile(files.ca)).certificates);
      } catch (e) {
        if (!(e instanceof MailTlsError) && !isCode(e, 'ENOENT')) throw e;
      }
    }
    const chain = await assembleChain(leaf, pool, { at: this.at, roots: this.roots() });
    for (const p of chain.problems) {
      if (p.code === 'unknown-issuer')
        this.add({
          domain,
          code: 'CHAIN_INCOMPLETE',
          severity: 'error',
          message: `${files.cert}: ${p.message}`,
          fix: "Add the CA's intermediate certificates after the certificate (install it again with the CA's bundle).",
          path: files.cert,
        });
      else if (p.code === 'untrusted-root')
        this.add({
          domain,
          code: 'CHAIN_UNTRUSTED_ROOT',
          severity: 'warning',
          message: p.message,
          fix: 'For a private CA, give its root to the clients (and to the audit as trust); otherwise use a public CA.',
        });
    }
  }

  checkNames(domain: string, leaf: Certificate): void {
    if (leaf.dnsNames.length === 0 && leaf.ipAddresses.length === 0) {
      this.add({
        domain,
        code: 'CN_ONLY',
        severity: 'error',
        message:
          `The certificate names its host only in the Common Name (${leaf.subject.commonName ?? 'none'}) and has no ` +
          'subjectAltName: current clients (RFC 9525, browsers, most mail clients) reject it.',
        fix: 'Have it reissued from a CSR with the host names in subjectAltName (mailtls csr --store, or store.createCSR(), does that).',
      });
      return;
    }
    const names = this.hostnamesFor(domain, leaf);
    if (names.length === 0) return;
    const c = coverage(leaf, names);
    for (const host of c.uncovered)
      this.add({
        domain,
        code: 'NAME_NOT_COVERED',
        severity: 'warning',
        message:
          `The server answers on ${host}, which the certificate does not cover (it covers ${c.validNames.join(', ') || 'nothing'}): ` +
          'clients connecting under that name will refuse it.',
        fix: `Add ${host} to the next CSR's host names, or stop using that name for this server.`,
      });
  }
}

/** An error from the file system (it carries an errno `code` such as `EACCES` or `EISDIR`). */
function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw new StoreError(
      'ERR_STORE_IO',
      `Cannot read the store directory ${dir} (${(e as { code?: string }).code ?? String(e)}): check that it is a directory this process may read.`,
      { cause: e, details: { path: dir } },
    );
  }
}

/**
 * Audits every domain of a store (or of any {@link CredentialSource}: the certbot and Kubernetes adapters
 * too) and reports structured findings. A store's own clock (`at`) and trusted roots (`trust`, `nodeRoots`)
 * apply unless `options` gives its own. For a {@link CertificateStore} it also finds keys without
 * certificates and certificates without keys in `private/` and `certs/`, and CSRs waiting for their
 * certificate.
 *
 * @param source - the store or adapter.
 * @param options - the clock, the host names per domain, trusted roots, the renewal fraction.
 * @returns the findings, with `ok` false when any is an `error`.
 * @throws StoreError `ERR_STORE_IO` when the store itself cannot be read; TypeError for bad options.
 * @example
 * ```ts
 * const report = await auditStore(new CertificateStore('/etc/mail/tls'), {
 *   hostnames: { 'example.com': ['example.com', 'mail.example.com', 'mx1.example.com'] },
 * });
 * for (const f of report.findings) console.log(`${f.severity} ${f.domain} ${f.code}: ${f.message}${f.fix ? `\n  fix: ${f.fix}` : ''}`);
 * ```
 */
export async function auditStore(source: CredentialSource, options: AuditOptions = {}): Promise<AuditReport> {
  if (source === null || typeof source !== 'object' || typeof source.list !== 'function')
    throw new TypeError('source must be a CertificateStore or another CredentialSource');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  // A store's own clock and trusted roots apply unless the options say otherwise.
  const defaults = storeDefaults(source);
  if (defaults !== undefined)
    options = {
      ...(defaults.now === undefined ? {} : { at: defaults.now() }),
      trust: defaults.trust,
      ...(defaults.nodeRoots === undefined ? {} : { nodeRoots: defaults.nodeRoots }),
      ...options,
    };
  const auditor = new Auditor(source, options);
  const extraDirs: string[] = [];
  let pathDirs: (domain: string) => readonly string[] = () => [];
  const pending: string[] = [];
  if (source instanceof CertificateStore) {
    // A store whose own directories are links is refused, as its writers refuse it.
    await source.checkLayout();
    if (options.keyGroup === undefined) auditor.keyGroup = await source.keyGroup();
    const history = join(source.root, STORE_DIRECTORIES.history);
    extraDirs.push(join(source.root, STORE_DIRECTORIES.private));
    pathDirs = (domain) => [source.root, history, source.paths(domain).history];
  }
  const domains = new Set(await source.list());
  if (source instanceof CertificateStore) {
    // keys and certificates placed by hand without their other half
    for (const [dir, ext] of [
      [STORE_DIRECTORIES.private, '.key'],
      [STORE_DIRECTORIES.certs, '.crt'],
    ] as const)
      for (const entry of await listDir(join(source.root, dir))) {
        if (!entry.endsWith(ext) || entry.startsWith('.')) continue;
        try {
          domains.add(storeName(entry.slice(0, -ext.length)).domain);
        } catch (e) {
          if (!(e instanceof MailTlsError)) throw e;
        }
      }
    for (const entry of await listDir(join(source.root, STORE_DIRECTORIES.private, 'pending')))
      if (entry.endsWith('.key') && !entry.startsWith('.')) pending.push(entry.slice(0, -4));
  }
  const list = [...domains].sort();
  for (const domain of list) await auditor.checkName(domain, extraDirs, pathDirs);
  for (const fileName of pending) {
    let domain: string;
    try {
      domain = storeName(fileName).domain;
    } catch (e) {
      if (e instanceof MailTlsError) continue;
      throw e;
    }
    const store = source as CertificateStore;
    const p = store.paths(domain);
    await auditor.checkKeyModes(domain, p.pendingKey, [...extraDirs, dirname(p.pendingKey)]);
    const since = await stat(p.pendingKey).then(
      (s) => s.mtime,
      () => undefined,
    );
    auditor.add({
      domain,
      code: 'CSR_PENDING',
      severity: 'info',
      message: `A CSR for ${domain} (${p.csr}) is waiting for its certificate${since === undefined ? '' : ` since ${since.toISOString()}`}.`,
      fix: 'Send the CSR to the CA and install the certificate when it arrives.',
      path: p.csr,
    });
  }
  return {
    at: auditor.at,
    domains: list,
    findings: auditor.findings,
    ok: !auditor.findings.some((f) => f.severity === 'error'),
  };
}
