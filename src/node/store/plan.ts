/**
 * The install planner of the certificate store: every check of an install, as a function of what was given
 * and of the keys the store already holds, with no file access. `planInstall` decides which key goes with
 * which certificate, under which name the pair is filed, whether it covers that name and is valid now, and
 * which chain is served; the store reads the keys it needs, then writes what the plan says. This is the
 * split of Go's pure `X509KeyPair` under its file-reading `LoadX509KeyPair`: the decisions can be tested
 * table by table without a disk.
 *
 * It lives in `src/node/` rather than with the pure modules because it speaks the store's vocabulary (the
 * names and paths of `store-layout`, whose group lookup reads `/etc/group`), but it imports no `node:fs` and
 * reads nothing: the stored keys come in through {@link StoredKeys}.
 *
 * @module node/store/plan
 */
import { relative } from 'node:path';
import { assembleChain, type ChainProblem } from '../../chain/chain.js';
import type { TrustStore } from '../../chain/verify-chain.js';
import { parsePEM } from '../../encoding/pem.js';
import { ChainError, HostnameError, KeyError, MailTlsError, PEMError, StoreError } from '../../errors.js';
import { keyMatchesCertificate } from '../../keys/key-match.js';
import { type CryptoOptions, PrivateKey } from '../../keys/keys.js';
import { encodePrivateKeyPEM, parsePrivateKey } from '../../keys/private-key.js';
import { matchHostname, verifyHostname } from '../../names/hostname.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import { keyMismatchError } from './credential.js';
import { type StoreName, type StorePaths, storeName, storePaths } from './layout.js';

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

/** A key file the store holds, as read (not yet parsed). (not public API) */
export interface StoredKeyFile {
  /** The file's text (PEM). */
  readonly text: string;
  /** Where it was read, for messages and for removing a pending key once used. */
  readonly path: string;
  /** `pending` (a CSR's key), `current` (the key in service) or `unmanaged` (a hand-placed key). */
  readonly source: 'pending' | 'current' | 'unmanaged';
}

/**
 * The keys the store holds, asked for only when the install gives none. Either answer may be an array
 * (tests) or a promise (the store reading its files). Not public API.
 */
export interface StoredKeys {
  /** The keys filed under `name`: its pending CSR key, then the key in service (or a hand-placed key). */
  forName(name: StoreName): readonly StoredKeyFile[] | Promise<readonly StoredKeyFile[]>;
  /**
   * The pending CSR keys filed under names other than `name`, with those names; asked only when no domain
   * was given and none of `name`'s keys belongs to the certificate.
   */
  otherPending(
    name: StoreName,
  ):
    | readonly (StoredKeyFile & { readonly name: StoreName })[]
    | Promise<readonly (StoredKeyFile & { readonly name: StoreName })[]>;
}

/** What {@link planInstall} needs besides the install's options. (not public API) */
export interface PlanContext extends CryptoOptions {
  /** The store's root: the plan's paths are under it, and messages name files relative to it. */
  readonly root: string;
  /** The moment to validate at (the install's `at`, else the store's clock). */
  readonly at: Date;
  /** The roots chains may end at. */
  readonly roots: TrustStore;
}

/** What an install will write, decided by {@link planInstall}. (not public API) */
export interface InstallPlan {
  readonly name: StoreName;
  readonly paths: StorePaths;
  readonly leaf: Certificate;
  readonly chain: readonly Certificate[];
  readonly chainComplete: boolean;
  readonly chainProblems: readonly ChainProblem[];
  /** The served chain, PEM. */
  readonly certPEM: string;
  /** The key as it will be stored (as given when given as text; encrypted stays encrypted). */
  readonly keyText: string;
  /** The CA bundle as given, undefined when none or blank. */
  readonly caBundle: Uint8Array | undefined;
  readonly keySource: KeySource;
  /** The pending CSR key the install used, removed once the new pair is in service. */
  readonly consumedKey: string | undefined;
  readonly warnings: readonly InstallWarning[];
}

/** A parsed stored key. */
interface StoredKey extends StoredKeyFile {
  readonly key: PrivateKey;
  /** The name it is filed under, when not the name being installed. */
  readonly name?: StoreName;
}

type KeyOptions = CryptoOptions & { passphrase?: string };

/** Text as UTF-8 bytes; bytes as they are. */
export function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
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

/** What the install's arguments hold: certificates, maybe a key, and remarks on the way. */
interface GivenMaterial {
  certs: Certificate[];
  key: PrivateKey | undefined;
  keyText: string | undefined;
  keySource: KeySource;
  warnings: InstallWarning[];
}

/** Parses `pkcs12`, `cert` and `key` of an install. */
async function parseGiven(
  options: InstallOptions,
  crypto: CryptoOptions,
  keyOptions: KeyOptions,
): Promise<GivenMaterial> {
  const out: GivenMaterial = {
    certs: [],
    key: undefined,
    keyText: undefined,
    keySource: 'given',
    warnings: [],
  };
  if (options.pkcs12 !== undefined) {
    if (!(options.pkcs12 instanceof Uint8Array)) throw new TypeError('pkcs12 must be a Uint8Array');
    // Loaded on demand: readers of the store (a TLS server) never need the PKCS#12 code.
    const { parsePKCS12 } = await import('../../pkcs12/pkcs12.js');
    const p12 = await parsePKCS12(options.pkcs12, {
      password: options.password ?? '',
      requireKey: true,
      ...crypto,
    });
    out.key = p12.key;
    if (p12.leaf !== undefined) out.certs.push(p12.leaf);
    out.certs.push(...p12.chain);
    out.keySource = 'pkcs12';
  }
  if (options.cert !== undefined) {
    if (typeof options.cert !== 'string' && !(options.cert instanceof Uint8Array))
      throw new TypeError('cert must be PEM text or bytes');
    const cert = options.cert;
    const bundle = about('cert (the certificate)', () => parseCertificateBundle(cert));
    out.certs = [...bundle.certificates, ...out.certs];
    for (const s of bundle.skipped) {
      if (/PRIVATE KEY$/.test(s.label) && options.key === undefined && out.key === undefined) {
        const text = typeof cert === 'string' ? cert : new TextDecoder().decode(cert);
        out.key = await parsePrivateKey(text, keyOptions);
        out.keySource = 'cert-file';
      } else if (!/PRIVATE KEY$/.test(s.label))
        out.warnings.push({
          code: 'SKIPPED_ITEM',
          message: `Left out a ${s.label} found in the certificate file: ${s.reason}.`,
        });
    }
  }
  if (out.certs.length === 0)
    throw new StoreError(
      'ERR_STORE_INSTALL',
      'No certificate given: pass cert (PEM, DER or .p7b) or pkcs12.',
    );
  if (options.key !== undefined) {
    if (out.key !== undefined && out.keySource === 'pkcs12')
      throw new TypeError('give key or pkcs12, not both');
    if (options.key instanceof PrivateKey) out.key = options.key;
    else if (typeof options.key === 'string') {
      out.key = await parsePrivateKey(options.key, keyOptions);
      out.keyText = options.key;
      if (
        parsePEM(options.key).some(
          (b) => b.label === 'ENCRYPTED PRIVATE KEY' || b.headers['Proc-Type'] !== undefined,
        )
      )
        out.warnings.push({
          code: 'KEY_ENCRYPTED',
          message:
            'The key is stored encrypted: the mail server will need the pass phrase at every start and cannot ' +
            'start unattended. Store it decrypted (mode 0600) unless someone types the pass phrase.',
        });
    } else throw new TypeError('key must be PEM text or a PrivateKey');
    out.keySource = 'given';
  }
  return out;
}

/**
 * Decides an install: every check, no writes, no reads but the stored keys it asks `storedKeys` for (only
 * when the install gives no key). Nothing is decided from the disk's state beyond those keys.
 *
 * - the key (given, in the PKCS#12 file, in the certificate file, else the domain's pending CSR key or key
 *   in service, else another name's pending CSR key) must belong to the certificate (`ERR_KEY_MISMATCH`);
 * - the certificate must cover the name it is filed under (`ERR_HOSTNAME_MISMATCH`);
 * - it must be valid at `context.at` (`ERR_CHAIN_EXPIRED` / `ERR_CHAIN_NOT_YET_VALID`, unless `allowExpired`);
 * - the chain is assembled from the certificate file, the CA bundle and `context.roots`; gaps are warnings,
 *   or the error with `requireCompleteChain`.
 *
 * @throws As {@link CertificateStore.install}, except the store's I/O and lock errors.
 * @example
 * ```ts
 * const plan = await planInstall(
 *   { cert: crtText, key: keyText },
 *   { root: '/etc/mail/tls', at: new Date(), roots: createTrustStore([root]) },
 *   { forName: () => [], otherPending: () => [] },
 * );
 * console.log(plan.name.domain, plan.keySource, plan.chainComplete);
 * ```
 * Not public API: no subpath exports it.
 */
export async function planInstall(
  options: InstallOptions,
  context: PlanContext,
  storedKeys: StoredKeys,
): Promise<InstallPlan> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const crypto: CryptoOptions = context.crypto === undefined ? {} : { crypto: context.crypto };
  const keyOptions: KeyOptions = {
    ...crypto,
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
  };
  const rel = (path: string) => relative(context.root, path);
  const given = await parseGiven(options, crypto, keyOptions);
  const { certs, warnings } = given;
  let { key, keyText, keySource } = given;
  let consumedKey: string | undefined;

  const nonCA = certs.filter((c) => c.basicConstraints?.ca !== true);
  const leafCandidates = nonCA.length > 0 ? nonCA : certs;
  let leaf: Certificate | undefined;
  let name: StoreName;
  if (key !== undefined) {
    const k = key;
    leaf = certs.find((c) => keyMatchesCertificate(k, c.der));
    const shown = leaf ?? leafCandidates[0]!;
    name = nameFor(options.domain, shown);
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
    name = nameFor(options.domain, leafCandidates[0]!);
    const paths = storePaths(context.root, name.domain);
    const stored = await parseStoredKeys(await storedKeys.forName(name), name, keyOptions, rel);
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
      const others: StoredKey[] = [];
      for (const o of await storedKeys.otherPending(name)) {
        try {
          others.push({ ...o, key: await parsePrivateKey(o.text, keyOptions) });
        } catch (e) {
          if (e instanceof MailTlsError) continue;
          throw e;
        }
      }
      found = matching(others);
      if (found?.stored.name !== undefined && covers(found.leaf, found.stored.name, true))
        name = found.stored.name;
    }
    if (found === undefined) {
      const first = stored[0];
      if (first === undefined)
        throw new StoreError(
          'ERR_STORE_INSTALL',
          `No private key for ${name.domain}: neither a CSR made with this store (${rel(paths.pendingKey)}) ` +
            `nor a key in service (${rel(paths.key)}). Pass the key that the CSR was made with (key, or a .pfx as pkcs12).`,
          { details: { domain: name.domain } },
        );
      throw keyMismatchError(first.key, leafCandidates[0]!, rel(first.path), 'the certificate given (cert)');
    }
    leaf = found.leaf;
    key = found.stored.key;
    keyText = found.stored.text;
    keySource = found.stored.source;
    if (keySource === 'pending') consumedKey = found.stored.path;
    if (options.domain === undefined && found.stored.name === undefined) name = nameFor(undefined, leaf);
  }
  if (keyText === undefined) keyText = await encodePrivateKeyPEM(key, crypto);

  checkCovers(leaf, name, options.legacyCommonName === true);
  const at = context.at;
  checkDates(leaf, name, at, options.allowExpired === true, warnings);

  // An empty bundle (a CA without intermediates, e.g. a root-only CA's chainPEM '') means none.
  const caBundle = options.caBundle === undefined || isBlank(options.caBundle) ? undefined : options.caBundle;
  const bundleCerts =
    caBundle === undefined
      ? []
      : [...about('caBundle (the CA bundle)', () => parseCertificateBundle(caBundle)).certificates];
  const pool = [...certs.filter((c) => c !== leaf), ...bundleCerts];
  const assembled = await assembleChain(leaf, pool, { at, roots: context.roots, ...crypto });
  checkChain(assembled.problems, assembled.leaf, name, options, warnings);
  return {
    name,
    paths: storePaths(context.root, name.domain),
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
 * Parses the keys filed under the name being installed. An encrypted one is an error naming the file (the
 * install's passphrase is tried on it); an unreadable one is passed over.
 */
async function parseStoredKeys(
  files: readonly StoredKeyFile[],
  name: StoreName,
  keyOptions: KeyOptions,
  rel: (path: string) => string,
): Promise<StoredKey[]> {
  const out: StoredKey[] = [];
  for (const f of files) {
    try {
      out.push({ ...f, key: await parsePrivateKey(f.text, keyOptions) });
    } catch (e) {
      if (e instanceof KeyError && (e.code === 'ERR_KEY_ENCRYPTED' || e.code === 'ERR_KEY_PASSPHRASE'))
        throw new KeyError(
          e.code,
          `The stored key ${rel(f.path)} for ${name.domain} is encrypted: pass its passphrase. ${e.message}`,
          { cause: e, details: { file: rel(f.path) } },
        );
      if (e instanceof MailTlsError || e instanceof PEMError) continue;
      throw e;
    }
  }
  return out;
}

/**
 * Turns chain problems into refusals or warnings: an expired or not yet valid intermediate is refused
 * like the leaf (unless `allowExpired`); a gap or an untrusted root is a warning, or the error with
 * `requireCompleteChain`. Informational problems (root, duplicates or unrelated certificates left out, a
 * bundle in another order) stay in `chainProblems` only.
 */
function checkChain(
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
    if (p.code === 'unknown-issuer' || p.code === 'untrusted-root') {
      if (options.requireCompleteChain === true)
        throw new ChainError(
          p.code === 'unknown-issuer' ? 'ERR_CHAIN_UNKNOWN_ISSUER' : 'ERR_CHAIN_UNTRUSTED_ROOT',
          `${p.message} Refusing to install ${name.domain} (requireCompleteChain).`,
          { details: { domain: name.domain, ...(p.details ?? {}) } },
        );
      warnings.push({
        code: p.code === 'unknown-issuer' ? 'CHAIN_INCOMPLETE' : 'CHAIN_UNTRUSTED_ROOT',
        message: p.message,
      });
    }
  }
}

/** The name to file `leaf` under: `given`, else its Common Name or first DNS name that it covers. */
function nameFor(given: string | undefined, leaf: Certificate): StoreName {
  if (given !== undefined) return storeName(given);
  const cn = leaf.subject.commonName;
  const candidates = [...(cn === undefined ? [] : [cn]), ...leaf.dnsNames.filter((n) => n !== cn)];
  for (const c of candidates) {
    try {
      const n = storeName(c);
      if (covers(leaf, n, true)) return n;
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

/** Whether `leaf` covers the name: a wildcard name only by holding that very wildcard. */
function covers(leaf: Certificate, name: StoreName, legacyCommonName: boolean): boolean {
  if (name.domain.startsWith('*.')) {
    const want = name.domain;
    return (
      leaf.dnsNames.some((n) => n.toLowerCase() === want) ||
      (legacyCommonName && leaf.dnsNames.length === 0 && leaf.subject.commonName?.toLowerCase() === want)
    );
  }
  return matchHostname(leaf, name.domain, { legacyCommonName });
}

function checkCovers(leaf: Certificate, name: StoreName, legacyCommonName: boolean): void {
  if (covers(leaf, name, legacyCommonName)) return;
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

function checkDates(
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
