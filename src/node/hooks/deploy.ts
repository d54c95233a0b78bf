/**
 * Deploy hooks: after the pair in service changes (install, rollback, renewal), run the commands configured
 * for the store so that servers which copy or cache the files (Postfix's SNI table, Dovecot, Haraka) pick
 * up the new pair at once. Modelled on certbot's `--deploy-hook` (`RENEWED_LINEAGE`, `RENEWED_DOMAINS`);
 * the environment names are mailtls's own:
 *
 * | variable | value |
 * |---|---|
 * | `MAILTLS_EVENT` | `install`, `rollback` or `renewal` |
 * | `MAILTLS_STORE` | the store's root directory |
 * | `MAILTLS_DOMAIN` | the domain the pair is filed under (`example.com`, `*.example.com`) |
 * | `MAILTLS_DOMAINS` | the DNS names the new certificate covers, space-separated |
 * | `MAILTLS_CERT_FILE`, `MAILTLS_KEY_FILE`, `MAILTLS_CA_FILE` | the public paths (`certs/<d>.crt`, ...); CA file empty when none |
 * | `MAILTLS_OLD_FINGERPRINT`, `MAILTLS_NEW_FINGERPRINT` | SHA-256 of the leaf before and after (`AB:CD:...`; old empty on a first install) |
 * | `MAILTLS_OLD_VERSION`, `MAILTLS_NEW_VERSION` | the store's version ids |
 *
 * Each command runs with `/bin/sh -c`, one after the other, after the change is complete and its lock
 * released. A failing hook (non-zero exit, a signal, a timeout, a command that cannot start) is reported with
 * its exit code and the tail of its output, and never undoes the change: the new pair stays in service.
 *
 * @module node/hooks/deploy
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseCertificate } from '../../x509/certificate.js';
import { exists } from '../store/io.js';
import { storeName, storePaths } from '../store/layout.js';
import { listVersions } from '../store/versions.js';
import { loadStoreSettings } from './settings.js';

/** What changed the pair in service. */
export type DeployEvent = 'install' | 'rollback' | 'renewal';

/** One change of the pair in service, as the hooks see it. */
export interface DeployChange {
  /** What happened. */
  readonly event: DeployEvent;
  /** The store's root. */
  readonly store: string;
  /** The domain, canonical. */
  readonly domain: string;
  /** The DNS names the new certificate covers. */
  readonly names: readonly string[];
  /** The public paths of the pair. */
  readonly files: {
    /** `certs/<domain>.crt`: the served chain. */
    readonly cert: string;
    /** `private/<domain>.key`: the key. */
    readonly key: string;
    /** `certs/<domain>.ca-bundle`, when there is one. */
    readonly ca?: string | undefined;
  };
  /** The version in service before (undefined on a first install). */
  readonly oldVersion: string | undefined;
  /** The version in service now. */
  readonly newVersion: string;
  /** SHA-256 fingerprint of the leaf before. */
  readonly oldFingerprint: string | undefined;
  /** SHA-256 fingerprint of the leaf now. */
  readonly newFingerprint: string | undefined;
}

/** What one hook did. */
export interface DeployHookResult {
  /** The command line. */
  readonly command: string;
  /** True when it exited with status 0. */
  readonly ok: boolean;
  /** Its exit status, or null when a signal ended it or it did not start. */
  readonly exitCode: number | null;
  /** The signal that ended it (a timeout sends SIGTERM), or null. */
  readonly signal: string | null;
  /** The last 64 KiB of its standard output and error, interleaved. */
  readonly output: string;
  /** Why it did not start or was stopped, when that happened. */
  readonly error?: string | undefined;
  /** How long it ran, in milliseconds. */
  readonly durationMs: number;
}

/** The deploy hook options of a `CertificateStore` (and of {@link runDeployHooks}). */
export interface DeployHookOptions {
  /**
   * Commands run after every install and rollback besides those kept in the store's `settings.json`
   * (a command in both runs once); `false` runs none, not even the settings' ones. Default: the settings'.
   */
  deployHooks?: readonly string[] | false | undefined;
  /** How long one hook may run before it is stopped (SIGTERM) and reported as failed; default 300,000 ms. */
  deployHookTimeoutMs?: number | undefined;
}

/** The result every store change carries. */
export interface DeployOutcome {
  /** What each deploy hook did, in order (empty when none is configured). */
  readonly deployHooks: readonly DeployHookResult[];
}

const MAX_OUTPUT = 64 * 1024;

/**
 * The environment variables a hook gets for a change (added to the process's own, whose MAILTLS_* ones are left out).
 * @example `deployHookEnvironment(change).MAILTLS_NEW_FINGERPRINT`
 */
export function deployHookEnvironment(change: DeployChange): Record<string, string> {
  return {
    MAILTLS_EVENT: change.event,
    MAILTLS_STORE: change.store,
    MAILTLS_DOMAIN: change.domain,
    MAILTLS_DOMAINS: change.names.join(' '),
    MAILTLS_CERT_FILE: change.files.cert,
    MAILTLS_KEY_FILE: change.files.key,
    MAILTLS_CA_FILE: change.files.ca ?? '',
    MAILTLS_OLD_VERSION: change.oldVersion ?? '',
    MAILTLS_NEW_VERSION: change.newVersion,
    MAILTLS_OLD_FINGERPRINT: change.oldFingerprint ?? '',
    MAILTLS_NEW_FINGERPRINT: change.newFingerprint ?? '',
  };
}

function runOne(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<DeployHookResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let output = '';
    let error: string | undefined;
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT);
    };
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      error = `stopped after ${timeoutMs} ms`;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (e) => {
      error = e.message;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        ok: code === 0 && error === undefined,
        exitCode: code,
        signal,
        output,
        ...(error === undefined ? {} : { error }),
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/**
 * Runs deploy hooks for a change, one after the other. Never throws for a failing hook: each result says
 * what happened.
 *
 * @param commands - shell command lines (run with `/bin/sh -c`).
 * @param change - what changed; its fields become `MAILTLS_*` variables.
 * @param options - `deployHookTimeoutMs`.
 * @throws TypeError for bad arguments.
 * @example
 * ```ts
 * for (const r of await runDeployHooks(['doveadm reload'], change))
 *   if (!r.ok) console.error(`${r.command}: exit ${r.exitCode}: ${r.output}`);
 * ```
 */
export async function runDeployHooks(
  commands: readonly string[],
  change: DeployChange,
  options: DeployHookOptions = {},
): Promise<DeployHookResult[]> {
  if (!Array.isArray(commands) || commands.some((c) => typeof c !== 'string'))
    throw new TypeError('commands must be an array of command lines');
  const timeoutMs = options.deployHookTimeoutMs ?? 300_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new RangeError('deployHookTimeoutMs must be a positive integer');
  // The hook sees this change's MAILTLS_* variables and none inherited from the process that ran it (a hook
  // run from another hook, or from a shell that exported one, must not read a stale domain or file).
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MAILTLS_')),
  );
  const env = { ...inherited, ...deployHookEnvironment(change) };
  const out: DeployHookResult[] = [];
  for (const command of commands) out.push(await runOne(command, env, timeoutMs));
  return out;
}

/**
 * Runs the hooks of a store after the pair of `domain` changed from `from` to `to`: the commands in its
 * `settings.json` and those of `options.deployHooks`. The fingerprints come from the versions' metadata,
 * the names from the new certificate. (What `CertificateStore` calls after install and rollback.)
 *
 * @returns one result per hook; a settings file that is not trusted or not readable gives one failed
 *   result named `(settings.json)` with the reason (the change itself is done by then).
 * @throws TypeError for bad arguments.
 * @example `await runStoreDeployHooks('/etc/mail/tls', { event: 'renewal', domain: 'example.com', from, to })`
 */
export async function runStoreDeployHooks(
  root: string,
  options: DeployHookOptions,
  what: { event: DeployEvent; domain: string; from: string | undefined; to: string },
): Promise<DeployHookResult[]> {
  if (options.deployHooks === false) return [];
  let kept: readonly string[];
  try {
    kept = (await loadStoreSettings(root)).deployHooks;
  } catch (e) {
    // The change is done: an untrusted or broken settings file is reported like a failed hook.
    const error = e instanceof Error ? e.message : String(e);
    return [
      {
        command: '(settings.json)',
        ok: false,
        exitCode: null,
        signal: null,
        output: '',
        error,
        durationMs: 0,
      },
    ];
  }
  const commands = [...new Set([...kept, ...(options.deployHooks ?? [])])];
  if (commands.length === 0) return [];
  const paths = storePaths(root, what.domain);
  const versions = await listVersions(paths);
  const fingerprint = (id: string | undefined) => versions.find((v) => v.id === id)?.fingerprint;
  let names: readonly string[] = [];
  try {
    names = parseCertificate(await readFile(paths.cert, 'utf8')).dnsNames;
  } catch {
    // the hooks still run; MAILTLS_DOMAINS is empty
  }
  const change: DeployChange = {
    event: what.event,
    store: root,
    domain: storeName(what.domain).domain,
    names,
    files: {
      cert: paths.cert,
      key: paths.key,
      ...((await exists(paths.caBundle)) ? { ca: paths.caBundle } : {}),
    },
    oldVersion: what.from,
    newVersion: what.to,
    oldFingerprint: fingerprint(what.from),
    newFingerprint: fingerprint(what.to),
  };
  return runDeployHooks(commands, change, options);
}
