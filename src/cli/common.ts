/**
 * Helpers every `mailtls` sub-command shares: running an action with error handling and exit codes,
 * repeatable options, times and passwords.
 *
 * @module cli/common
 */
import { InvalidArgumentError } from 'commander';
import { readFirstLine } from './files.js';
import { CLIError, EXIT_OK, Output } from './output.js';

/**
 * Runs a command's work with an {@link Output} for `--json`; an error is printed and turned into the exit
 * status (see output.ts). The work returns its own status (0 or 1).
 */
export async function runCommand(
  json: boolean | undefined,
  work: (out: Output) => Promise<number | undefined>,
  hints: Readonly<Record<string, string>> = {},
): Promise<void> {
  const out = new Output({ json });
  let status: number;
  try {
    status = (await work(out)) ?? EXIT_OK;
  } catch (e) {
    status = out.error(e, hints);
  }
  process.exitCode = status;
}

/** Hints for password errors: which options give the password. */
export function passwordHints(option: string): Record<string, string> {
  const how = `give it with ${option} P or ${option}-file FILE.`;
  return {
    ERR_KEY_ENCRYPTED: `The key is encrypted: ${how}`,
    ERR_KEY_PASSPHRASE: `Check the pass phrase given with ${option} / ${option}-file.`,
    ERR_PKCS12_PASSWORD: `Check the .pfx password given with ${option} / ${option}-file (passwords are case-sensitive).`,
  };
}

/** Hints for an encrypted `--key`. */
export const KEY_PASSWORD_HINTS: Readonly<Record<string, string>> = {
  ERR_KEY_ENCRYPTED: 'The key is encrypted: give its pass phrase with --key-password P.',
  ERR_KEY_PASSPHRASE: 'Check the pass phrase given with --key-password.',
};

/** A commander option parser that collects a repeatable option into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A commander option parser for `--at`: an ISO-8601 time. */
export function parseAt(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
    throw new InvalidArgumentError('expected an ISO-8601 time such as 2026-06-01 or 2026-06-01T12:00:00Z.');
  return d;
}

/** A commander option parser for a positive port number. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  return n;
}

/** The most certificates a bundle may hold unless `--max-certificates` raises it (the library's default). */
export const DEFAULT_MAX_CERTIFICATES = 1000;

/** The help text of `--max-certificates`. */
export const MAX_CERTIFICATES_HELP = `the most certificates a file may hold (default ${DEFAULT_MAX_CERTIFICATES})`;

/** The hint for a file with too many certificates. */
export const MAX_CERTIFICATES_HINTS: Readonly<Record<string, string>> = {
  ERR_CERT_TOO_MANY: 'Give --max-certificates N to accept a larger file.',
};

/** A commander option parser for `--max-certificates`: a positive whole number. */
export function parseMaxCertificates(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected a positive whole number of certificates, such as 5000.');
  return n;
}

/**
 * The password of `--password P` or `--password-file FILE` (its first line, read only that far), or undefined.
 * @throws CLIError ERR_CLI_USAGE when both are given; ERR_CLI_READ when the file cannot be read
 */
export function passwordOf(opts: { password?: string; passwordFile?: string }): string | undefined {
  if (opts.password !== undefined && opts.passwordFile !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --password or --password-file, not both.');
  if (opts.passwordFile !== undefined) return readFirstLine(opts.passwordFile, 'password file');
  return opts.password;
}

/** The "Example:" help section. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
