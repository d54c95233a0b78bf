/**
 * Shared output of the `mailtls` command: plain or coloured text (colour only on a TTY, never with
 * `NO_COLOR`), `--json`, a spinner on a TTY for slow work, errors as `error [CODE]: message` and the exit
 * codes.
 *
 * Exit codes: 0 success; 1 the check found a problem (an invalid chain, a name not covered, a key that does
 * not match, a failed handshake, a store audit with findings); 2 bad usage or unreadable input (a missing
 * or malformed file, a wrong password, an invalid option value).
 *
 * @module cli/output
 */
import { MailTlsError } from '../errors.js';

/** Exit status: success. */
export const EXIT_OK = 0;
/** Exit status: the check found a problem. */
export const EXIT_PROBLEM = 1;
/** Exit status: bad usage or unreadable input. */
export const EXIT_USAGE = 2;

/** The help section every command shows about exit codes and errors. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the check found a problem: ERR_CHAIN_*, ERR_TLS_*, ERR_PROBE_* (except ERR_PROBE_URL), ERR_ACME_*
     (except ERR_ACME_TERMS),
     ERR_HOSTNAME_MISMATCH, ERR_KEY_MISMATCH, ERR_CERT_SIGNATURE, ERR_CSR_SIGNATURE, ERR_STORE_INSTALL,
     ERR_STORE_PERMISSIONS, ERR_STORE_LOCKED, ERR_KEY_GENERATION, ERR_CERT_ISSUE, or a report with problems
  2  bad usage or unreadable input: every other code (ERR_PEM_*, ERR_DER_*, ERR_KEY_INVALID,
     ERR_KEY_PASSPHRASE, ERR_CERT_INVALID, ERR_CSR_COUNTRY, ERR_PKCS12_PASSWORD, ...) and the
     command's own ERR_CLI_USAGE, ERR_CLI_READ, ERR_CLI_WRITE, ERR_CLI_EXISTS, ERR_CLI_FORMAT

Errors go to stderr as "error [CODE]: message"; with --json as {"error": {"code", "message", "details"}}.`;

/** Codes of the command's own errors (files and usage), besides the library's MailTlsError codes. */
export type CLIErrorCode =
  /** Bad options (e.g. `--bits` with an EC key) or a missing required value. */
  | 'ERR_CLI_USAGE'
  /** An input file cannot be read. */
  | 'ERR_CLI_READ'
  /** An output file cannot be written. */
  | 'ERR_CLI_WRITE'
  /** An output file exists and `--force` was not given. */
  | 'ERR_CLI_EXISTS'
  /** A file is none of the formats the command understands. */
  | 'ERR_CLI_FORMAT'
  /** An unexpected failure (a bug): exit 1. */
  | 'ERR_CLI_INTERNAL';

/** An error of the command itself (usage, files); printed like a MailTlsError. */
export class CLIError extends Error {
  /** Stable code, e.g. `ERR_CLI_EXISTS`. */
  readonly code: CLIErrorCode;
  /** JSON-safe facts (never key material). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Exit status: 2 (every CLI error is bad usage or unreadable input). */
  readonly exitCode: number;

  constructor(code: CLIErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CLIError';
    this.code = code;
    this.details = Object.freeze({ ...details });
    this.exitCode = EXIT_USAGE;
  }
}

/** Codes (besides the prefixes below) that mean "the check found a problem" (exit 1). */
const PROBLEM_CODES = new Set([
  'ERR_HOSTNAME_MISMATCH',
  'ERR_KEY_MISMATCH',
  'ERR_KEY_GENERATION',
  'ERR_CERT_SIGNATURE',
  'ERR_CERT_ISSUE',
  'ERR_CSR_SIGNATURE',
  'ERR_STORE_INSTALL',
  'ERR_STORE_PERMISSIONS',
  'ERR_STORE_LOCKED',
]);

/**
 * The exit status for an error code: 1 when the check found a problem, 2 for bad usage or unreadable
 * input (see {@link EXIT_CODES_HELP}).
 */
export function exitCodeFor(code: string): number {
  if (code === 'ERR_PROBE_URL') return EXIT_USAGE;
  if (
    code.startsWith('ERR_CHAIN_') ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_PROBE_') ||
    (code.startsWith('ERR_ACME_') && code !== 'ERR_ACME_TERMS')
  )
    return EXIT_PROBLEM;
  return PROBLEM_CODES.has(code) ? EXIT_PROBLEM : EXIT_USAGE;
}

const ANSI = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2, cyan: 36 } as const;
/** A colour name of {@link Output.paint}. */
export type Colour = keyof typeof ANSI;

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

function colourAllowed(stream: Stream): boolean {
  if (stream.isTTY !== true) return false;
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

/** How long slow work runs before the spinner appears: `MAILTLS_PROGRESS_DELAY_MS` (0 to 60000), or 300 ms. */
function progressDelay(): number {
  const v = process.env.MAILTLS_PROGRESS_DELAY_MS;
  const n = v === undefined || !/^\d+$/.test(v) ? Number.NaN : Number(v);
  return Number.isFinite(n) && n <= 60_000 ? n : 300;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Where a command writes: text or JSON on stdout, warnings, errors and progress on stderr. */
export class Output {
  /** `--json` was given: stdout gets one JSON document, no colour, no spinner. */
  readonly json: boolean;
  readonly #out: Stream;
  readonly #err: Stream;
  readonly #outColour: boolean;
  readonly #errColour: boolean;

  constructor(options: { json?: boolean | undefined; stdout?: Stream; stderr?: Stream } = {}) {
    this.json = options.json === true;
    this.#out = options.stdout ?? process.stdout;
    this.#err = options.stderr ?? process.stderr;
    this.#outColour = !this.json && colourAllowed(this.#out);
    this.#errColour = !this.json && colourAllowed(this.#err);
  }

  /** `text` in a colour when stdout is a TTY, plain otherwise. */
  paint(colour: Colour, text: string): string {
    return this.#outColour ? `\x1b[${ANSI[colour]}m${text}\x1b[0m` : text;
  }

  /** A line of text on stdout (nothing in JSON mode). */
  line(text = ''): void {
    if (!this.json) this.#out.write(`${text}\n`);
  }

  /** Writes the JSON document on stdout (JSON mode only). */
  result(value: unknown): void {
    if (this.json) this.#out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** `warning [CODE]: message` on stderr (also in JSON mode, where the JSON document lists them too). */
  warn(message: string, code?: string): void {
    const head = code === undefined ? 'warning' : `warning [${code}]`;
    const painted = this.#errColour ? `\x1b[${ANSI.yellow}m${head}\x1b[0m` : head;
    this.#err.write(`${painted}: ${message}\n`);
  }

  /** A note on stderr (text mode only), e.g. where a file was written. */
  note(message: string): void {
    if (!this.json) this.#err.write(`${message}\n`);
  }

  /**
   * Runs slow work; on a TTY (text mode) a spinner with `label` appears on stderr when the work takes longer
   * than a moment (300 ms, or `MAILTLS_PROGRESS_DELAY_MS`), and is wiped when it ends.
   */
  async progress<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (this.json || this.#err.isTTY !== true) return work();
    let frame = 0;
    let shown = false;
    const draw = () => {
      shown = true;
      this.#err.write(`\r${SPINNER[frame++ % SPINNER.length]} ${label}`);
    };
    let timer: NodeJS.Timeout | undefined;
    const delay = setTimeout(() => {
      draw();
      timer = setInterval(draw, 80);
    }, progressDelay());
    try {
      return await work();
    } finally {
      clearTimeout(delay);
      if (timer !== undefined) clearInterval(timer);
      if (shown) this.#err.write('\r\x1b[2K');
    }
  }

  /**
   * Prints an error to stderr (`error [CODE]: message`, or `{"error": {...}}` in JSON mode) and returns the
   * exit status for it. `hints` add the command's own advice for some codes (which option to use), as a
   * second line (JSON: `error.hint`).
   */
  error(e: unknown, hints: Readonly<Record<string, string>> = {}): number {
    const { code, message: apiMessage, details, exitCode } = describeError(e);
    const message = inCLIWords(code, apiMessage);
    const hint = hints[code];
    if (this.json) {
      const error = { code, message, details, ...(hint === undefined ? {} : { hint }) };
      this.#err.write(`${JSON.stringify({ error }, null, 2)}\n`);
    } else {
      const head = `error [${code}]`;
      const painted = this.#errColour ? `\x1b[${ANSI.red}m${head}\x1b[0m` : head;
      this.#err.write(`${painted}: ${message}\n${hint === undefined ? '' : `hint: ${hint}\n`}`);
    }
    return exitCode;
  }
}

/**
 * Library messages that name an API option, in the words of the command line: every command that opens a
 * .pfx takes its password as `--password-file FILE`, `--password-env VAR` or `--password P`.
 */
const CLI_WORDS: readonly { code: string; api: string; cli: string }[] = [
  {
    code: 'ERR_PKCS12_PASSWORD',
    api: 'pass { password }',
    cli: 'give it with --password-file FILE or --password-env VAR (or --password P)',
  },
  {
    code: 'ERR_PKCS12_PASSWORD',
    api: 'pass the password it was exported with',
    cli: 'give the password it was exported with (--password-file FILE, --password-env VAR or --password P)',
  },
];

/** A library message with the API's option names replaced by the command's flags. */
export function inCLIWords(code: string, message: string): string {
  let out = message;
  for (const w of CLI_WORDS) if (w.code === code) out = out.replace(w.api, w.cli);
  return out;
}

/** Code, message, JSON-safe details and exit status of any thrown value. */
export function describeError(e: unknown): {
  code: string;
  message: string;
  details: Readonly<Record<string, unknown>>;
  exitCode: number;
} {
  if (e instanceof MailTlsError)
    return { code: e.code, message: e.message, details: jsonSafe(e.details), exitCode: exitCodeFor(e.code) };
  if (e instanceof CLIError)
    return { code: e.code, message: e.message, details: e.details, exitCode: e.exitCode };
  if (e instanceof RangeError)
    // Option values the library refuses as out of range are usage errors.
    return { code: 'ERR_CLI_USAGE', message: e.message, details: {}, exitCode: EXIT_USAGE };
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'ERR_CLI_INTERNAL', message, details: {}, exitCode: EXIT_PROBLEM };
}

function jsonSafe(details: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
