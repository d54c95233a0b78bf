/**
 * What the `mailtls acme` commands share: the ACME library (loaded by the acme commands only), the common
 * options, the account of a store and directory, and the options of profiles and staging dry runs.
 *
 * @module cli/acme-common
 */
import type { Command } from 'commander';
import { isMailTlsError } from '../index.js';
import type * as AcmeLibrary from '../node/acme/index.js';
import type { AcmeAccount } from '../node/acme/index.js';
import type { CertificateStore } from '../node/index.js';
import { readInput } from './files.js';
import { CLIError, type Output } from './output.js';

/**
 * The ACME library, loaded by the acme commands only: acme-client and what it loads take about two seconds
 * to import on a busy machine, which no other command should pay at start-up.
 */
export let acme: typeof AcmeLibrary;
/** Loads the ACME library once. */
export async function loadAcme(): Promise<void> {
  acme ??= await import('../node/acme/index.js');
}

/** Options every acme command has. */
export interface CommonOptions {
  store: string;
  directory?: string;
  directoryCa?: string;
  trust?: string;
  json?: boolean;
}

/** Options of a profile and a staging dry run (issue, renew, run). */
export interface StagingOptions {
  profile?: string;
  stagingDirectory?: string;
  stagingDirectoryCa?: string;
  dryRun?: boolean;
  agreeTos?: boolean;
}

/** What to do next, by error code. */
export const TERMS_HINTS: Readonly<Record<string, string>> = {
  ERR_ACME_TERMS: 'Read the terms, then give --agree-tos.',
  ERR_ACME_ACCOUNT:
    'Register first: mailtls acme register --store DIR --directory URL --email ADDR --agree-tos.',
  ERR_ACME_UNAVAILABLE: 'For a private ACME server, give its HTTPS root with --directory-ca FILE.',
  ERR_ACME_PREFLIGHT: 'Give --lan-only for a LAN-only domain, or --insist to order anyway.',
  ERR_ACME_PROFILE: 'Give --profile with one of the offered profiles, or leave it out.',
};

/** The text of a `--directory-ca` file, if given. */
export function directoryCA(file: string | undefined): string | undefined {
  return file === undefined ? undefined : new TextDecoder().decode(readInput(file, 'directory CA file'));
}

/** The `--directory` URL; a usage error without it. */
export function requireDirectory(o: CommonOptions): string {
  if (o.directory === undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give the ACME directory URL with --directory URL.');
  return o.directory;
}

/** The store's account for the directory; with `register`, registered when missing (given --email or --agree-tos). */
export async function account(
  store: CertificateStore,
  o: CommonOptions & { email?: string; agreeTos?: boolean },
  register: boolean,
  retry?: AcmeLibrary.AcmeRetryOptions,
): Promise<AcmeAccount> {
  const base = {
    store,
    directoryUrl: requireDirectory(o),
    ...(o.directoryCa === undefined ? {} : { directoryCA: directoryCA(o.directoryCa) }),
    ...(retry === undefined ? {} : { retry }),
  };
  if (!register) return acme.loadAcmeAccount(base);
  try {
    return await acme.loadAcmeAccount(base);
  } catch (e) {
    if (!isMailTlsError(e, 'ERR_ACME_ACCOUNT') || (o.agreeTos !== true && o.email === undefined)) throw e;
    return acme.registerAcmeAccount({
      ...base,
      ...(o.email === undefined ? {} : { email: o.email }),
      ...(o.agreeTos === undefined ? {} : { agreeToTerms: o.agreeTos }),
    });
  }
}

/** Adds the options every acme command has. */
export function addCommon(cmd: Command, directoryRequired: boolean): Command {
  return cmd
    .requiredOption('--store <dir>', 'the certificate store')
    .option(
      '--directory <url>',
      `the ACME directory URL${directoryRequired ? '' : ' (default: the one each domain was ordered from)'}`,
    )
    .option('--directory-ca <file>', "trust this root (PEM) for the ACME server's own HTTPS certificate")
    .option('--trust <file>', 'roots the installed chain may end at besides the system roots (a private CA)')
    .option('--json', 'print JSON');
}

/** Adds `--profile`, `--staging-directory`, `--staging-directory-ca` and `--dry-run`. */
export function addStaging(cmd: Command, what: string): Command {
  return cmd
    .option('--profile <name>', `the ACME profile to ${what} with (one the CA lists; kept for renewals)`)
    .option(
      '--staging-directory <url>',
      'first run a complete order at this staging directory (throwaway account), then the real one',
    )
    .option(
      '--staging-directory-ca <file>',
      "trust this root (PEM) for the staging server's HTTPS certificate (default: --directory-ca)",
    )
    .option('--dry-run', 'only the order at --staging-directory: nothing in the store changes');
}

/** The staging directory of the options, or undefined; `--dry-run` without one is a usage error. */
export function stagingDirectory(
  o: StagingOptions & CommonOptions,
): AcmeLibrary.StagingDirectory | undefined {
  if (o.stagingDirectory === undefined) {
    if (o.dryRun === true)
      throw new CLIError(
        'ERR_CLI_USAGE',
        '--dry-run needs --staging-directory URL (e.g. https://acme-staging-v02.api.letsencrypt.org/directory).',
      );
    return undefined;
  }
  const ca = directoryCA(o.stagingDirectoryCa ?? o.directoryCa);
  return {
    url: o.stagingDirectory,
    ...(ca === undefined ? {} : { directoryCA: ca }),
    ...(o.agreeTos === undefined ? {} : { agreeToTerms: o.agreeTos }),
  };
}

/** Prints what a dry run did. */
export function dryRunLine(out: Output, d: AcmeLibrary.DryRunResult, what: string): void {
  out.line(
    `${d.domain}: ${what} at ${d.directoryUrl} passed (${d.names.join(', ')}${d.profile ? `, profile ${d.profile}` : ''}; ` +
      `staging serial ${d.serialNumber}, ${d.chainLength} certificate(s), ${d.durationMs} ms; discarded)`,
  );
}

/** A dry run in the JSON result. */
export function dryRunJSON(d: AcmeLibrary.DryRunResult): Record<string, unknown> {
  return {
    directoryUrl: d.directoryUrl,
    names: d.names,
    profile: d.profile ?? null,
    serialNumber: d.serialNumber,
    notAfter: d.notAfter.toISOString(),
    chainLength: d.chainLength,
    durationMs: d.durationMs,
  };
}
