/**
 * Credentials (a private key with its certificate chain) and the {@link CredentialSource} interface that
 * the mailtls store and the read-only certbot and Kubernetes adapters share.
 *
 * A {@link Credential} is what a TLS server needs: `key` (PEM) and `cert` (PEM: the leaf, then the
 * intermediates, root left out), plus the parsed views. Its `key` property is not enumerable and the
 * object's `toString()`, `toJSON()` and `util.inspect` view leave the key out, so logging a credential never
 * prints key material. Pass it to Node by name: `tls.createSecureContext({ key: c.key, cert: c.cert })`.
 *
 * Every source checks that the key belongs to the certificate when it loads a pair and, since files can be
 * replaced while they are read (a renewal, a Kubernetes secret update, certbot re-pointing its links one by
 * one), reads again a short moment later before it reports a mismatch.
 *
 * @module node/store/credential
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { encodePEM } from '../../encoding/pem.js';
import { KeyError, MailTlsError, StoreError } from '../../errors.js';
import { keyMatchesCertificate } from '../../keys/key-match.js';
import type { CryptoOptions, PrivateKey } from '../../keys/keys.js';
import { parsePrivateKey } from '../../keys/private-key.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import { isCode } from './atomic-write.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The files a credential was read from. */
export interface CredentialFiles {
  /** The certificate chain file. */
  readonly cert: string;
  /** The private key file. */
  readonly key: string;
  /** A CA file beside them (the reseller's bundle, Kubernetes `ca.crt`), when there is one. */
  readonly ca?: string | undefined;
}

/** A private key with its certificate chain, ready for a TLS server. */
export interface Credential {
  /** The name it was loaded under (a domain for the store; the lineage or secret name for adapters). */
  readonly domain: string;
  /** The private key, PEM, as stored. Not enumerable: never in JSON, `toString()` or `inspect`. */
  readonly key: string;
  /** The certificate chain, PEM: leaf first, then intermediates, as servers send them. */
  readonly cert: string;
  /** The leaf certificate. */
  readonly leaf: Certificate;
  /** Every certificate of `cert`, leaf first. */
  readonly chain: readonly Certificate[];
  /** The parsed private key (it hides its own bytes too). */
  readonly privateKey: PrivateKey;
  /** An identifier of this pair that changes whenever the pair changes (see {@link CredentialSource.version}). */
  readonly version: string;
  /** Which kind of source it came from: `mailtls`, `certbot` or `kubernetes`. */
  readonly source: string;
  /** The files it was read from. */
  readonly files: CredentialFiles;
}

/** Options of {@link CredentialSource.load}. */
export interface LoadCredentialOptions {
  /** Pass phrase of an encrypted key (a server that starts unattended should not have one). */
  passphrase?: string | undefined;
}

/**
 * Something credentials can be loaded from: the mailtls store, a certbot directory, a Kubernetes secret
 * mount. The TLS hot-reload helper watches {@link CredentialSource.watchPaths} and compares
 * {@link CredentialSource.version} to decide when to load again.
 */
export interface CredentialSource {
  /** `mailtls`, `certbot` or `kubernetes`. */
  readonly kind: string;
  /** The names that can be loaded, sorted. */
  list(): Promise<string[]>;
  /**
   * Whether a name can be loaded, without listing every name (optional: `watchCredentials` with `domains:
   * 'on-demand'` asks it of each name a client sends, and falls back to `list()` without it). False for a
   * name the source cannot hold.
   */
  has?(name: string): Promise<boolean>;
  /**
   * Loads a consistent pair (the key matches the leaf).
   * @throws StoreError `ERR_STORE_NOT_FOUND`; KeyError `ERR_KEY_MISMATCH`, `ERR_KEY_ENCRYPTED`; parse errors.
   */
  load(name: string, options?: LoadCredentialOptions): Promise<Credential>;
  /**
   * A cheap identifier of the pair's current state (no parsing): it changes when the key or the certificate
   * is replaced, by a rename, a symbolic-link swap or an in-place write.
   */
  version(name: string): Promise<string>;
  /**
   * Paths to watch for changes: directories whose entries change when the pair is swapped, and the files
   * themselves. Some may not exist yet; a watcher should treat any event as a hint to compare
   * {@link CredentialSource.version}.
   */
  watchPaths(name: string): Promise<string[]>;
  /** The files of a name (they may not exist). */
  files(name: string): Promise<CredentialFiles>;
}

/** The raw texts of one read of a pair. (not public API) */
export interface RawPair {
  readonly certText: string;
  readonly keyText: string;
  readonly version: string;
  readonly files: CredentialFiles;
}

/**
 * Builds a credential object with a hidden `key`.
 * Not public API: no subpath exports it.
 */
export function createCredential(fields: Omit<Credential, 'key'>, key: string): Credential {
  const view = {
    domain: fields.domain,
    cert: fields.cert,
    leaf: fields.leaf,
    chain: fields.chain,
    privateKey: fields.privateKey,
    version: fields.version,
    source: fields.source,
    files: fields.files,
  };
  const describe = () =>
    `Credential(${fields.domain}, ${fields.privateKey.describe()}, ${fields.leaf.fingerprint('sha256').slice(0, 23)}..., ${fields.source} ${fields.version})`;
  Object.defineProperties(view, {
    key: { value: key, enumerable: false },
    toJSON: {
      value: () => ({
        domain: fields.domain,
        source: fields.source,
        version: fields.version,
        files: fields.files,
        key: fields.privateKey.toJSON(),
        leaf: {
          subject: fields.leaf.subject.toString(),
          dnsNames: [...fields.leaf.dnsNames],
          notBefore: fields.leaf.notBefore.toISOString(),
          notAfter: fields.leaf.notAfter.toISOString(),
          sha256: fields.leaf.fingerprint('sha256'),
        },
        chainLength: fields.chain.length,
      }),
      enumerable: false,
    },
    toString: { value: describe, enumerable: false },
    [INSPECT]: { value: describe, enumerable: false },
  });
  return Object.freeze(view) as unknown as Credential;
}

/**
 * A fingerprint of the current state of some files: device, inode, size and times of what each path leads
 * to. `stat` follows symbolic links, so a link swap changes it (another file is another inode); one `stat`
 * per file, as the poll of thousands of names runs it for each. Missing files count as `missing`.
 * Not public API: no subpath exports it.
 */
export async function fileSignature(paths: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const p of paths) {
    try {
      const s = await stat(p, { bigint: true });
      h.update(`${p}\0${s.dev}\0${s.ino}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\n`);
    } catch (e) {
      if (!isCode(e, 'ENOENT') && !isCode(e, 'ENOTDIR')) throw e;
      h.update(`${p}\0missing\n`);
    }
  }
  return h.digest('hex').slice(0, 32);
}

/** Options of {@link loadConsistentPair}. (not public API) */
export interface ConsistentPairOptions extends CryptoOptions, LoadCredentialOptions {
  /** Reads attempted before a mismatch is reported; default 3. */
  attempts?: number;
  /** Pause between attempts; default 50 ms. */
  delayMs?: number;
  /** How to name the key and certificate files in a mismatch message; default their paths. */
  labels?: { key: string; cert: string };
}

/**
 * Reads a pair with `read` and checks that the key belongs to the leaf; when it does not (or a file
 * vanished), the pair may be in the middle of a swap: reads again after a short pause.
 * Not public API: no subpath exports it.
 */
export async function loadConsistentPair(
  name: string,
  source: string,
  read: () => Promise<RawPair>,
  options: ConsistentPairOptions = {},
): Promise<Credential> {
  const attempts = options.attempts ?? 3;
  const delayMs = options.delayMs ?? 50;
  let lastError: unknown;
  let mismatches = 0;
  let vanished = 0;
  while (mismatches < attempts) {
    if (mismatches > 0) await new Promise((r) => setTimeout(r, delayMs * mismatches));
    let raw: RawPair;
    try {
      raw = await read();
    } catch (e) {
      // A file vanished between resolving the pair and reading it: a swap happened; read again at once.
      if (isCode(e, 'ENOENT') && vanished < 2 * attempts) {
        vanished++;
        lastError = e;
        continue;
      }
      throw systemError(e, name);
    }
    const bundle = parseCertificateBundle(raw.certText);
    const chain = bundle.certificates;
    const leaf = chain[0];
    if (leaf === undefined)
      throw new StoreError('ERR_STORE_NOT_FOUND', `${raw.files.cert} holds no certificate.`, {
        details: { file: raw.files.cert },
      });
    const privateKey = await parsePrivateKey(raw.keyText, {
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
      ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
    });
    if (keyMatchesCertificate(privateKey, leaf.der)) {
      const cert = chain.map((c) => encodePEM('CERTIFICATE', c.der)).join('');
      return createCredential(
        { domain: name, cert, leaf, chain, privateKey, version: raw.version, source, files: raw.files },
        raw.keyText,
      );
    }
    const f = options.labels ?? { key: raw.files.key, cert: raw.files.cert };
    mismatches++;
    lastError = keyMismatchError(privateKey, leaf, f.key, f.cert);
  }
  throw systemError(lastError, name);
}

/**
 * `ERR_KEY_MISMATCH` naming both files (as the administrator should see them) and both public keys by
 * their SPKI SHA-256; never any key material.
 * Not public API: no subpath exports it.
 */
export function keyMismatchError(
  key: PrivateKey,
  cert: Certificate,
  keyFile: string,
  certFile: string,
): KeyError {
  const certSPKI = cert.spkiFingerprint().sha256Hex;
  const keySPKI = key.publicKey.fingerprint().sha256Hex;
  return new KeyError(
    'ERR_KEY_MISMATCH',
    // A label that is not a path ("the key given (key)") is said as it is.
    `${keyFile.startsWith('the ') ? `T${keyFile.slice(1)}` : `The key in ${keyFile}`} does not belong to ${certFile}: ` +
      `the certificate (${cert.subject.toString()}) ` +
      `holds a ${cert.publicKeyInfo.algorithm} key with SPKI SHA-256 ${certSPKI.slice(0, 16)}..., ` +
      `the key is ${key.describe()} with ${keySPKI.slice(0, 16)}.... ` +
      'Install the certificate with the key its CSR was made from.',
    { details: { keyFile, certFile, certificateSPKISha256: certSPKI, keySPKISha256: keySPKI } },
  );
}

/**
 * The options of {@link loadConsistentPair} for a source's `load`: its crypto provider, the caller's pass
 * phrase and how to name the files in a mismatch.
 * Not public API: no subpath exports it.
 */
export function pairOptions(
  crypto: CryptoOptions,
  options: LoadCredentialOptions,
  labels: { key: string; cert: string },
): ConsistentPairOptions {
  return {
    ...crypto,
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    labels,
  };
}

/** A file-system error as a StoreError (MailTlsErrors pass through). */
function systemError(e: unknown, name: string): unknown {
  if (e instanceof MailTlsError || e === null || typeof e !== 'object') return e;
  const code = (e as { code?: unknown }).code;
  const path = (e as { path?: unknown }).path;
  if (typeof code !== 'string') return e;
  return new StoreError(
    code === 'EACCES' || code === 'EPERM' ? 'ERR_STORE_PERMISSIONS' : 'ERR_STORE_IO',
    code === 'ENOENT'
      ? `The files of ${name} kept changing while they were read (${String(path)}); try again.`
      : `Cannot read ${typeof path === 'string' ? path : `the files of ${name}`} (${code}): check the permissions of the files and their directories.`,
    { cause: e, details: { name, code, ...(typeof path === 'string' ? { path } : {}) } },
  );
}
