/**
 * The versions of the certificate store: each install writes a complete version directory
 * (`history/<name>/v000002-<time>/`) under a temporary name and renames it into place, then swaps the
 * `current` link; the stable paths `certs/<name>.crt` and `private/<name>.key` lead through `current`, so a
 * reader sees the old pair or the new pair, never a mix. This module also lists versions, rolls back,
 * prunes old versions, removes what dead writers left, and adopts files placed by hand (or an older
 * layout) into a version before replacing them with links.
 *
 * Every function here runs under the domain's lock, taken by the store.
 *
 * @module node/store/versions
 * Not public API: no subpath exports it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { MailTlsError, StoreError } from '../../errors.js';
import { keyMatchesCertificate } from '../../keys/key-match.js';
import type { CryptoOptions } from '../../keys/keys.js';
import { parsePrivateKey } from '../../keys/private-key.js';
import { parseCertificateBundle } from '../../x509/bundle.js';
import type { Certificate } from '../../x509/certificate.js';
import {
  isCode,
  isTemporaryName,
  saveSymlinkAtomic,
  syncDirectory,
  temporaryPath,
  temporaryTarget,
  writeNewFile,
} from './atomic-write.js';
import { loadConsistentPair } from './credential.js';
import { exists, ioError, readIfExists, readLinkIfExists, versionIds } from './io.js';
import {
  compactTime,
  linkTarget,
  STORE_DIRECTORIES,
  STORE_MODES,
  type StoreName,
  type StorePaths,
  VERSION_FILES,
  versionId,
  versionSeq,
} from './layout.js';
import { isProcessAlive } from './lock.js';
import { checkLayout, fixDomainModes } from './modes.js';
import { type InstallPlan, type KeySource, toBytes } from './plan.js';

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
  /** The version that was in service; `none` when the domain had been removed with its history kept. */
  readonly from: string;
  /** The version now in service. */
  readonly to: string;
}

/** What the version functions need of the store. (not public API) */
export interface VersionContext extends CryptoOptions {
  /** The store's root. */
  readonly root: string;
  /** The store's kind, for the credentials it loads (`mailtls`). */
  readonly kind: string;
  /** The group that may read the keys, if any (see `CertificateStore.keyGroup`). */
  keyGroup(): Promise<number | undefined>;
}

/** The `meta.json` of a version. */
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

/** What a new version holds. (not public API) */
export interface VersionContent {
  /** The served chain, PEM. */
  readonly certPEM: string;
  /** The key as stored. */
  readonly keyText: string;
  /** The CA bundle as given. */
  readonly caBundle: Uint8Array | undefined;
  /** The leaf, for `meta.json`. */
  readonly leaf: Certificate;
  /** Whether the chain reaches a root, for `meta.json`. */
  readonly chainComplete: boolean;
  /** Where the key came from, for `meta.json`. */
  readonly keySource: KeySource | 'adopted';
}

/** Whether `file` is `<fileName>.<ext>` (`example.com.crt` is, `mail.example.com.crt` is not). */
function isFileOf(file: string | undefined, fileName: string): boolean {
  return file !== undefined && file.slice(0, file.lastIndexOf('.')) === fileName;
}

/** The stored versions of a domain with what their `meta.json` says, oldest first. */
export async function listVersions(paths: StorePaths): Promise<StoreVersion[]> {
  const current = await readLinkIfExists(paths.current);
  const out: StoreVersion[] = [];
  for (const id of await versionIds(paths)) {
    let meta: Partial<Meta> = {};
    try {
      meta = JSON.parse(await readFile(join(paths.history, id, VERSION_FILES.meta), 'utf8')) as Partial<Meta>;
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

/** Writes a complete version directory under a temporary name, then renames it into place; its id. */
export async function newVersion(
  ctx: VersionContext,
  name: StoreName,
  paths: StorePaths,
  content: VersionContent,
): Promise<string> {
  const versions = await versionIds(paths);
  const seq = versions.reduce((m, v) => Math.max(m, versionSeq(v)), 0) + 1;
  const id = versionId(seq, new Date());
  const tmp = temporaryPath(join(paths.history, id));
  const gid = await ctx.keyGroup();
  const { leaf } = content;
  const meta: Meta = {
    domain: name.domain,
    version: id,
    installedAt: new Date().toISOString(),
    fingerprint: leaf.fingerprint('sha256'),
    spkiSha256: leaf.spkiFingerprint().sha256Hex,
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    chainComplete: content.chainComplete,
    keySource: content.keySource,
  };
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
    await writeNewFile(join(tmp, VERSION_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`, 0o644);
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

/**
 * The writes of an install, under the domain's lock: the domain's history directory, cleanup of dead
 * writers' temporaries, adoption of hand-placed files, the new version, the swap, the removal of the
 * pending key the install used, and pruning.
 */
export async function commitInstall(
  ctx: VersionContext,
  plan: InstallPlan,
  keep: number,
): Promise<{ previous: string | undefined; version: string }> {
  const { paths, name } = plan;
  await checkLayout(ctx.root, [relative(ctx.root, paths.history)]);
  try {
    await mkdir(paths.history, { mode: STORE_MODES.publicDir });
    await chmod(paths.history, STORE_MODES.publicDir);
  } catch (e) {
    if (!isCode(e, 'EEXIST')) throw ioError(e, 'create', paths.history);
  }
  await cleanTemporary(ctx.root, name, paths);
  await adoptUnmanaged(ctx, name, paths);
  await fixDomainModes(ctx, paths);
  const previous = await readLinkIfExists(paths.current);
  const id = await newVersion(ctx, name, paths, plan);
  await putInService(ctx, name, paths, id);
  if (plan.consumedKey !== undefined) {
    await unlink(plan.consumedKey).catch(() => undefined);
    await syncDirectory(join(ctx.root, STORE_DIRECTORIES.private, 'pending')).catch(() => undefined);
  }
  await prune(paths, id, keep);
  return { previous, version: id };
}

/** Puts version `id` in service: the stable links, then the atomic swap of `current`, then the CA link. */
export async function putInService(
  ctx: VersionContext,
  name: StoreName,
  paths: StorePaths,
  id: string,
): Promise<void> {
  await ensureLinks(name, paths);
  await saveSymlinkAtomic(paths.current, id);
  await syncCaLink(ctx, name, paths, id);
}

/** The stable links `certs/<name>.crt` and `private/<name>.key` into `current`. */
async function ensureLinks(name: StoreName, paths: StorePaths): Promise<void> {
  const want: [string, string][] = [
    [paths.cert, linkTarget(name.fileName, VERSION_FILES.cert)],
    [paths.key, linkTarget(name.fileName, VERSION_FILES.key)],
  ];
  for (const [link, target] of want)
    if ((await readLinkIfExists(link)) !== target) await saveSymlinkAtomic(link, target);
}

/** `certs/<name>.ca-bundle` links into `current` when version `id` has a CA bundle, and is gone otherwise. */
async function syncCaLink(
  ctx: VersionContext,
  name: StoreName,
  paths: StorePaths,
  id: string,
): Promise<void> {
  const has = await exists(join(paths.history, id, VERSION_FILES.caBundle));
  const target = linkTarget(name.fileName, VERSION_FILES.caBundle);
  if (has) {
    if ((await readLinkIfExists(paths.caBundle)) !== target) await saveSymlinkAtomic(paths.caBundle, target);
  } else if (await exists(paths.caBundle)) {
    await unlink(paths.caBundle);
    await syncDirectory(join(ctx.root, STORE_DIRECTORIES.certs));
  }
}

/** Keeps the newest `keep` versions, the current one and the one before it. */
export async function prune(paths: StorePaths, current: string, keep: number): Promise<void> {
  const ids = await versionIds(paths);
  const kept = new Set(ids.slice(-keep));
  kept.add(current);
  const i = ids.indexOf(current);
  if (i > 0) kept.add(ids[i - 1]!);
  for (const id of ids)
    if (!kept.has(id)) await rm(join(paths.history, id), { recursive: true, force: true });
}

/**
 * Puts the version before `current` (or the version `to`) back in service, after checking that its key
 * and certificate belong together. Without a `current` version (a domain removed with its history kept) the
 * newest version (or `to`) is put back, with the stable links.
 * @throws StoreError `ERR_STORE_NOT_FOUND` when there is no such version; KeyError `ERR_KEY_MISMATCH`.
 */
export async function rollbackVersion(
  ctx: VersionContext,
  name: StoreName,
  paths: StorePaths,
  current: string | undefined,
  to: string | undefined,
): Promise<RollbackResult> {
  const ids = await versionIds(paths);
  let target: string | undefined;
  if (to !== undefined) target = ids.includes(to) ? to : undefined;
  else if (current === undefined) target = ids.at(-1);
  else target = ids.filter((id) => versionSeq(id) < versionSeq(current)).pop();
  if (target === undefined)
    throw new StoreError(
      'ERR_STORE_NOT_FOUND',
      to === undefined
        ? `There is no version of ${name.domain} before ${current ?? 'none'} to roll back to.`
        : `${name.domain} has no version ${to}; versions: ${ids.join(', ')}.`,
      { details: { domain: name.domain, current, versions: ids } },
    );
  const dir = join(paths.history, target);
  const t = target;
  await loadConsistentPair(
    name.domain,
    ctx.kind,
    async () => ({
      certText: await readFile(join(dir, VERSION_FILES.cert), 'utf8'),
      keyText: await readFile(join(dir, VERSION_FILES.key), 'utf8'),
      version: t,
      files: { cert: join(dir, VERSION_FILES.cert), key: join(dir, VERSION_FILES.key) },
    }),
    { ...(ctx.crypto === undefined ? {} : { crypto: ctx.crypto }), attempts: 1 },
  );
  if (current === undefined) await putInService(ctx, name, paths, target);
  else {
    await saveSymlinkAtomic(paths.current, target);
    await syncCaLink(ctx, name, paths, target);
  }
  return { domain: name.domain, from: current ?? 'none', to: target };
}

/** Removes temporary files and directories left by writers that died (their pid is gone). */
export async function cleanTemporary(root: string, name: StoreName, paths: StorePaths): Promise<void> {
  const places = [
    paths.history,
    join(root, STORE_DIRECTORIES.certs),
    join(root, STORE_DIRECTORIES.private),
    join(root, STORE_DIRECTORIES.private, 'pending'),
    join(root, STORE_DIRECTORIES.csr),
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
 * Brings hand-placed files (`certs/<name>.crt` and `private/<name>.key` as regular files, as an
 * administrator copies them from the CA's mail) under management: a matching pair becomes a version and is
 * put in service before the files are replaced by links, so readers of those paths never see a mixed pair;
 * anything else is copied to `history/<name>/unmanaged-<time>/` before it is replaced.
 */
export async function adoptUnmanaged(ctx: VersionContext, name: StoreName, paths: StorePaths): Promise<void> {
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
      const key = await parsePrivateKey(keyText, ctx.crypto === undefined ? {} : { crypto: ctx.crypto });
      const leaf = certs[0];
      if (leaf !== undefined && keyMatchesCertificate(key, leaf.der)) {
        const id = await newVersion(ctx, name, paths, {
          certPEM: certText,
          keyText,
          caBundle: caText === undefined ? undefined : toBytes(caText),
          leaf,
          chainComplete: false,
          keySource: 'adopted',
        });
        await saveSymlinkAtomic(paths.current, id);
        adopted = true;
      }
    } catch (e) {
      if (!(e instanceof MailTlsError)) throw e;
    }
  }
  if (!adopted) {
    const dir = join(paths.history, `unmanaged-${compactTime(new Date())}-${randomBytes(3).toString('hex')}`);
    await mkdir(dir, { mode: 0o700 });
    for (const p of regular) {
      const data = await readFile(p);
      await writeNewFile(join(dir, basename(p)), data, p === paths.key ? 0o600 : 0o644);
    }
    await syncDirectory(dir);
    await syncDirectory(paths.history);
  }
  // The paths now show the same pair through `current` (adopted) or are about to be replaced (backed up).
  await ensureLinks(name, paths);
  const current = await readLinkIfExists(paths.current);
  if (current !== undefined) await syncCaLink(ctx, name, paths, current);
}
