/**
 * The decisions of hot reload ({@link watchCredentials}) with no file, watch, timer or registry: whether a
 * newly read pair may be served, the error that reports a refusal, what a check does with the stamp of the
 * files it read, and how check requests coalesce. `reload.ts` reads the files, watches them, runs the timers
 * and swaps the registry entries; it asks this module (and `reload-names.ts`, `reload-options.ts`,
 * `reload-results.ts`) what to do. This is the split of Go's pure `X509KeyPair` under its file-reading
 * `LoadX509KeyPair`.
 *
 * Pure: it imports no `node:*` module (the credential types are imported for their shape only), so every
 * rule here is tested without a disk, a watch or a socket.
 *
 * @module node/tls/reload-policy
 */
import { TLSError } from '../../errors.js';
import type { Credential } from '../store/credential.js';
import { covers, selfPatternOf, servedPatterns } from './reload-names.js';

/**
 * The code an error reports in `details.reason`: its string `code` (`ERR_KEY_MISMATCH`, `ENOENT`), else its
 * class name, else `UNKNOWN`.
 *
 * @example
 * ```ts
 * codeOf(Object.assign(new Error('gone'), { code: 'ENOENT' })); // 'ENOENT'
 * ```
 */
export function codeOf(e: unknown): string {
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'UNKNOWN';
}

/**
 * An error's message on one line, cut at 400 characters, to quote in a reload error or warning.
 *
 * @example
 * ```ts
 * messageOf(new Error('a\n  b')); // 'a b'
 * ```
 */
export function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 400);
}

/** The parts of a credential the reload checks read. */
export type ReloadCandidate = Pick<Credential, 'cert' | 'key' | 'version' | 'leaf' | 'chain'>;

/** Why a newly read pair is refused by the checks of {@link judgeCandidate}. */
export type ReloadRefusalReason = 'CERT_EXPIRED' | 'CERT_NOT_YET_VALID' | 'NO_DNS_NAMES' | 'NAME_NOT_COVERED';

/** What {@link judgeCandidate} decides about a newly read pair. */
export type ReloadVerdict =
  | {
      /** The same certificate and key as the pair in service (a touch, a re-install): nothing to swap. */
      readonly kind: 'same';
    }
  | {
      /** The pair must not be served; the one in service stays. */
      readonly kind: 'refuse';
      /** The reason reported in `details.reason`. */
      readonly reason: ReloadRefusalReason;
      /** What is wrong and what to do, for the administrator. */
      readonly message: string;
    }
  | {
      /** The pair passes every check that needs no TLS context; the registry builds its context next. */
      readonly kind: 'accept';
      /** The SNI patterns it is to be served for ({@link servedPatterns}). */
      readonly patterns: readonly string[];
    };

/** What {@link judgeCandidate} judges against. */
export interface ReloadRules {
  /** The pair in service for the domain, if any. */
  readonly served: Pick<Credential, 'cert' | 'key'> | undefined;
  /** The clock of the validity check; undefined to serve expired and not yet valid certificates too. */
  readonly clock: (() => Date) | undefined;
  /** The name the leaf must cover (the mailtls store's domain as an SNI pattern), if any. */
  readonly mustCover: string | undefined;
}

/**
 * The checks a newly read pair must pass before the registry builds its context: not the pair in service
 * already; every certificate of the chain valid now (the leaf first, then each intermediate); at least one
 * DNS name a client can ask for; and the name it must cover, covered. The clock is read only when the
 * validity is checked.
 *
 * @example
 * ```ts
 * const verdict = judgeCandidate(credential, { served: undefined, clock: () => new Date(), mustCover: undefined });
 * if (verdict.kind === 'refuse') console.error(verdict.reason, verdict.message);
 * ```
 */
export function judgeCandidate(candidate: ReloadCandidate, rules: ReloadRules): ReloadVerdict {
  const served = rules.served;
  if (served !== undefined && served.cert === candidate.cert && served.key === candidate.key)
    return { kind: 'same' };
  if (rules.clock !== undefined) {
    const now = rules.clock().getTime();
    for (const [i, c] of candidate.chain.entries()) {
      const what = i === 0 ? 'the certificate' : `intermediate ${i} (${c.subject.toString()})`;
      if (now > c.notAfter.getTime())
        return {
          kind: 'refuse',
          reason: 'CERT_EXPIRED',
          message: `${what} expired on ${c.notAfter.toISOString()}; install a renewed certificate`,
        };
      if (now < c.notBefore.getTime())
        return {
          kind: 'refuse',
          reason: 'CERT_NOT_YET_VALID',
          message: `${what} is not valid before ${c.notBefore.toISOString()}; check the clock or wait until then`,
        };
    }
  }
  const patterns = servedPatterns(candidate.leaf);
  if (patterns.length === 0)
    return {
      kind: 'refuse',
      reason: 'NO_DNS_NAMES',
      message: 'the certificate has no DNS name in its subjectAltName, so no client can ask for it by name',
    };
  if (rules.mustCover !== undefined && !covers(patterns, rules.mustCover))
    return {
      kind: 'refuse',
      reason: 'NAME_NOT_COVERED',
      message: `the certificate does not cover ${rules.mustCover}; it names ${patterns.join(', ')}`,
    };
  return { kind: 'accept', patterns };
}

/** What {@link reloadError} reports. */
export interface ReloadFailure {
  /** The name in the source. */
  readonly domain: string;
  /** The kind of source (`mailtls`, `certbot`, `kubernetes`). */
  readonly sourceKind: string;
  /** The original error (kept as `cause`; its message is quoted). */
  readonly cause: unknown;
  /** The reason in `details.reason`: the cause's code or a {@link ReloadRefusalReason}. */
  readonly reason: string;
  /** The pair that was refused, when one was read. */
  readonly candidate: { readonly version: string; readonly fingerprint: string } | undefined;
  /** The pair that stays in service, if any. */
  readonly served: { readonly version: string | undefined; readonly fingerprint: string } | undefined;
}

/**
 * The `ERR_TLS_RELOAD` error of a refused pair or a source that could not be read: it says which certificate
 * stays in service and why the new one was refused. It never quotes the key.
 *
 * @example
 * ```ts
 * const error = reloadError({ domain, sourceKind: 'mailtls', cause, reason: 'CERT_EXPIRED', candidate, served });
 * error.details.servedFingerprint;
 * ```
 */
export function reloadError(failure: ReloadFailure): TLSError {
  const { domain, served, candidate } = failure;
  const keeps =
    served === undefined
      ? 'nothing is served for it yet'
      : `the certificate in service (SHA-256 ${served.fingerprint.slice(0, 23)}..., version ${String(served.version)}) stays in service`;
  return new TLSError(
    'ERR_TLS_RELOAD',
    `Reloading the TLS certificate of ${domain} from the ${failure.sourceKind} source failed and ${keeps}: ` +
      `${messageOf(failure.cause)}`,
    {
      cause: failure.cause,
      details: {
        domain,
        reason: failure.reason,
        ...(candidate === undefined
          ? {}
          : { version: candidate.version, fingerprint: candidate.fingerprint }),
        ...(served === undefined
          ? {}
          : { servedFingerprint: served.fingerprint, servedVersion: served.version }),
      },
    },
  );
}

/**
 * The `ERR_TLS_RELOAD` error of a source whose names could not be listed (what is loaded stays in service).
 *
 * @example
 * ```ts
 * watcher.emit('error', listError('certbot', cause));
 * ```
 */
export function listError(sourceKind: string, cause: unknown): TLSError {
  return new TLSError(
    'ERR_TLS_RELOAD',
    `Listing the credentials of the ${sourceKind} source failed; what is loaded stays in service: ${messageOf(cause)}`,
    { cause, details: { reason: codeOf(cause) } },
  );
}

/**
 * Runs a task one at a time and coalesces requests: a request made while a run is going starts one more run
 * after it, and every request made before that run starts shares it. `force` is sticky until the run that
 * takes it. The watcher keeps one for each name and one for the listing of the source, so a burst of file
 * events costs one check after the running one, never a queue of them.
 *
 * @example
 * ```ts
 * const checks = new CoalescedRuns((force) => check(domain, force));
 * await Promise.all([checks.request(false), checks.request(true)]); // one run after any running one, forced
 * ```
 */
export class CoalescedRuns<T> {
  readonly #task: (force: boolean) => Promise<T>;
  #last: Promise<T> | undefined;
  #queued: Promise<T> | undefined;
  #force = false;
  #busy = false;

  /** @param task - the run; called with whether any request it answers asked for `force`. */
  constructor(task: (force: boolean) => Promise<T>) {
    this.#task = task;
  }

  /** The last run requested (settled or not), to wait for. */
  get last(): Promise<T> | undefined {
    return this.#last;
  }

  /** Whether a run is requested or going. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Requests a run: the one not yet started if there is one, else a new one after the last. */
  request(force: boolean): Promise<T> {
    this.#force ||= force;
    if (this.#queued) return this.#queued;
    const run = async (): Promise<T> => {
      this.#queued = undefined;
      const f = this.#force;
      this.#force = false;
      try {
        return await this.#task(f);
      } finally {
        if (this.#last === queued) this.#busy = false;
      }
    };
    const queued: Promise<T> = (this.#last ?? Promise.resolve()).then(run, run);
    this.#queued = queued;
    this.#last = queued;
    this.#busy = true;
    return queued;
  }
}

/** What the watcher remembers of one name's files between checks. */
export interface StampMemory {
  /** Version and file signature of the files of the pair in service. */
  stamp: string | undefined;
  /** Stamp of the files last refused: they are not judged again until they change. */
  failedStamp: string | undefined;
  /** The last refusal, until a later pair goes into service. */
  lastError: TLSError | undefined;
}

/** What a check does after reading the stamp of a name's files ({@link checkStep}). */
export type CheckStep =
  | {
      /** The files of the pair in service: nothing to do. */
      readonly kind: 'unchanged';
    }
  | {
      /** The files last refused: the same refusal, not reported again. */
      readonly kind: 'failed';
      /** The refusal. */
      readonly error: TLSError;
    }
  | {
      /** New files (or `force`): load and judge them. */
      readonly kind: 'load';
    };

/**
 * What a check does with the stamp it read: nothing for the files in service, the remembered refusal for the
 * files last refused, else load them; `force` always loads.
 *
 * @example
 * ```ts
 * checkStep({ stamp: 'v1|sig', failedStamp: undefined, lastError: undefined }, 'v1|sig', false); // unchanged
 * ```
 */
export function checkStep(memory: Readonly<StampMemory>, stamp: string, force: boolean): CheckStep {
  if (force) return { kind: 'load' };
  if (stamp === memory.stamp) return { kind: 'unchanged' };
  if (stamp === memory.failedStamp && memory.lastError) return { kind: 'failed', error: memory.lastError };
  return { kind: 'load' };
}

/**
 * Remembers the files of `stamp` as those of the pair in service, and forgets the last refusal.
 *
 * @example
 * ```ts
 * rememberServed(state, stamp);
 * ```
 */
export function rememberServed(memory: StampMemory, stamp: string): void {
  memory.stamp = stamp;
  memory.failedStamp = undefined;
  memory.lastError = undefined;
}

/**
 * Remembers a refusal of the files of `stamp`. Answers whether it is news, to count and report: the same
 * files refused again (a poll, a forced refresh) are reported once.
 *
 * @example
 * ```ts
 * if (rememberRefusal(state, stamp, error)) watcher.emit('error', error);
 * ```
 */
export function rememberRefusal(memory: StampMemory, stamp: string, error: TLSError): boolean {
  const news = memory.failedStamp !== stamp;
  memory.failedStamp = stamp;
  memory.lastError = error;
  return news;
}

/**
 * What the watcher keeps of the pair in service: the texts the registry serves and the leaf's end of
 * validity. The parsed certificates are not kept (a server loading thousands of domains holds only this per
 * domain); the key text is not enumerable, so it never appears in a log of the object or in JSON.
 */
export interface ServedPair {
  /** The certificate chain, PEM. */
  readonly cert: string;
  /** The private key, PEM (not enumerable). */
  readonly key: string;
  /** When the leaf expires. */
  readonly notAfter: Date;
}

/**
 * The {@link ServedPair} of a credential that passed the checks.
 *
 * @example
 * ```ts
 * registry.add('mail.example.org', servedPair(credential));
 * ```
 */
export function servedPair(credential: Pick<Credential, 'cert' | 'key' | 'leaf'>): ServedPair {
  const pair = { cert: credential.cert, notAfter: credential.leaf.notAfter } as ServedPair;
  Object.defineProperty(pair, 'key', { value: credential.key, enumerable: false });
  return Object.freeze(pair);
}

/**
 * Whether a credential is a pair loaded from a source of `kind` for `domain` at the version a stamp starts
 * with (`${version}|...`): the registry made from `store.load(domain)` holds the pair in service, which the
 * watcher need not read again (the caller also compares the files' paths).
 *
 * @example
 * ```ts
 * isLoadedAt(registry.defaultCredential, 'example.org', 'mailtls', stamp);
 * ```
 */
export function isLoadedAt(given: object, domain: string, kind: string, stamp: string): given is Credential {
  const c = given as Partial<Credential>;
  return (
    c.domain === domain &&
    c.source === kind &&
    c.files !== undefined &&
    c.leaf !== undefined &&
    c.chain !== undefined &&
    stamp.startsWith(`${c.version}|`)
  );
}

/** What the watcher knows of one name between checks. */
export interface WatchedName extends StampMemory {
  /** The name in the source. */
  readonly domain: string;
  /** The name as an SNI pattern ({@link selfPatternOf}), which its own certificate serves first. */
  readonly selfPattern: string | undefined;
  /** The pair in service, if any. */
  credential: ServedPair | undefined;
  /** The version in service. */
  version: string | undefined;
  /** SHA-256 fingerprint of the leaf in service. */
  fingerprint: string | undefined;
  /** When the pair in service went into service. */
  reloadedAt: Date | undefined;
  /** Whether the name left the source (its record is no longer used). */
  removed: boolean;
  /** A watch of this name broke: add watches again at the next check. */
  rearm: boolean;
}

/**
 * The record of a name not loaded yet.
 *
 * @example
 * ```ts
 * watchedName('mail.example.org').selfPattern; // 'mail.example.org'
 * ```
 */
export function watchedName(domain: string): WatchedName {
  return {
    domain,
    selfPattern: selfPatternOf(domain),
    credential: undefined,
    version: undefined,
    fingerprint: undefined,
    stamp: undefined,
    failedStamp: undefined,
    lastError: undefined,
    reloadedAt: undefined,
    removed: false,
    rearm: false,
  };
}
