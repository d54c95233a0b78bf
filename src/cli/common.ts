/**
 * Helpers every `mailtls` sub-command shares: running an action with error handling and exit codes,
 * repeatable options, times and passwords.
 *
 * @module cli/common
 */
import { type Command, InvalidArgumentError } from 'commander';
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
  const how = `give it with ${option}-file FILE or ${option}-env VAR (or ${option} P).`;
  return {
    ERR_KEY_ENCRYPTED: `The key is encrypted: ${how}`,
    ERR_KEY_PASSPHRASE: `Check the pass phrase given with ${option} / ${option}-file / ${option}-env.`,
    ERR_PKCS12_PASSWORD: `Check the .pfx password given with ${option} / ${option}-file / ${option}-env (passwords are case-sensitive).`,
  };
}

/** Hints for an encrypted `--key`. */
export const KEY_PASSWORD_HINTS: Readonly<Record<string, string>> = {
  ERR_KEY_ENCRYPTED:
    'The key is encrypted: give its pass phrase with --key-password-file FILE or --key-password-env VAR.',
  ERR_KEY_PASSPHRASE:
    'Check the pass phrase given with --key-password / --key-password-file / --key-password-env.',
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

/** A secret as the three options give it: `--X P`, `--X-file FILE`, `--X-env VAR`. */
export interface SecretSources {
  /** The value itself (visible to `ps`: for tests and throw-away secrets only). */
  value?: string | undefined;
  /** A file whose first line is the secret (`-` for standard input). */
  file?: string | undefined;
  /** The name of an environment variable that holds the secret. */
  env?: string | undefined;
}

/**
 * The secret of `--X P`, `--X-file FILE` (its first line, read only that far; `-` reads standard input) or
 * `--X-env VAR`, or undefined when none is given. The value never appears in an error.
 * @throws CLIError ERR_CLI_USAGE when more than one is given or the variable is not set; ERR_CLI_READ when
 *   the file cannot be read
 */
export function secretOf(flag: string, given: SecretSources): string | undefined {
  const count = [given.value, given.file, given.env].filter((v) => v !== undefined).length;
  if (count > 1)
    throw new CLIError('ERR_CLI_USAGE', `Give only one of ${flag}, ${flag}-file and ${flag}-env.`);
  if (given.file !== undefined) return readFirstLine(given.file, `${flag.replace(/^--/, '')} file`);
  if (given.env !== undefined) {
    const v = process.env[given.env];
    if (v === undefined)
      throw new CLIError(
        'ERR_CLI_USAGE',
        `The environment variable ${given.env} (${flag}-env) is not set: export it before running mailtls.`,
        { variable: given.env },
      );
    return v;
  }
  return given.value;
}

/** The options of a password: `--password`, `--password-file`, `--password-env`. */
export interface PasswordOptions {
  password?: string;
  passwordFile?: string;
  passwordEnv?: string;
}

/** The options of a key pass phrase: `--key-password`, `--key-password-file`, `--key-password-env`. */
export interface KeyPasswordOptions {
  keyPassword?: string;
  keyPasswordFile?: string;
  keyPasswordEnv?: string;
}

/**
 * The password of `--password P`, `--password-file FILE` or `--password-env VAR`, or undefined.
 * @throws CLIError ERR_CLI_USAGE when more than one is given; ERR_CLI_READ when the file cannot be read
 */
export function passwordOf(opts: PasswordOptions): string | undefined {
  return secretOf('--password', { value: opts.password, file: opts.passwordFile, env: opts.passwordEnv });
}

/** Whether any of `--password`, `--password-file`, `--password-env` was given. */
export function hasPassword(opts: PasswordOptions): boolean {
  return (opts.password ?? opts.passwordFile ?? opts.passwordEnv) !== undefined;
}

/**
 * The pass phrase of `--key-password P`, `--key-password-file FILE` or `--key-password-env VAR`, or
 * undefined.
 * @throws CLIError ERR_CLI_USAGE when more than one is given; ERR_CLI_READ when the file cannot be read
 */
export function keyPasswordOf(opts: KeyPasswordOptions): string | undefined {
  return secretOf('--key-password', {
    value: opts.keyPassword,
    file: opts.keyPasswordFile,
    env: opts.keyPasswordEnv,
  });
}

/** Whether any of `--key-password`, `--key-password-file`, `--key-password-env` was given. */
export function hasKeyPassword(opts: KeyPasswordOptions): boolean {
  return (opts.keyPassword ?? opts.keyPasswordFile ?? opts.keyPasswordEnv) !== undefined;
}

/**
 * Adds `--FLAG <p>`, `--FLAG-file <file>` and `--FLAG-env <var>` to a command: the same secret three ways,
 * the last two keeping it out of the command line, where `ps` and /proc/<pid>/cmdline show it.
 */
export function secretOptions(cmd: Command, flag: 'password' | 'key-password', what: string): Command {
  return cmd
    .option(`--${flag} <p>`, `${what} (visible to ps: prefer --${flag}-file or --${flag}-env)`)
    .option(`--${flag}-file <file>`, `read ${what} from the first line of this file (- for standard input)`)
    .option(`--${flag}-env <var>`, `read ${what} from this environment variable`);
}

/** The "Example:" help section. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** `{ passphrase }` for the library's key parsers, or nothing when no pass phrase was given. */
export function passphraseOf(secret: string | undefined): { passphrase?: string } {
  return secret === undefined ? {} : { passphrase: secret };
}
