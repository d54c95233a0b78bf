#!/usr/bin/env node
/**
 * The `mailtls` command: keys, CSRs, viewing, verifying and installing mail-server certificates.
 * One file per sub-command; they use only the public API (`../index.js`, `../node/index.js`).
 *
 * Start-up is kept short (a cron job runs `mailtls acme run` or `mailtls renew-check` often, and scripts call
 * the command once per file): only the module of the sub-command named on the command line is loaded, and a
 * sub-command loads its heavy parts (the ACME client, the admin server) when its action runs. `--version`
 * loads no sub-command; `--help`, `help`, no command or an unknown one load them all, so the list and the
 * suggestions are complete.
 *
 * @module cli/main
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { EXIT_CODES_HELP, EXIT_USAGE } from './output.js';

/** The version in the package.json above this file (dist/cli/ or build/src/cli/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mailtls' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

type Register = (program: Command) => void;

/** Every sub-command, in the order `--help` lists them, with the module that adds it. */
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ['key', async () => (await import('./key.js')).registerKey],
  ['csr', async () => (await import('./csr.js')).registerCSR],
  ['show', async () => (await import('./show.js')).registerShow],
  ['verify', async () => (await import('./verify.js')).registerVerify],
  ['install', async () => (await import('./install.js')).registerInstall],
  ['check', async () => (await import('./check.js')).registerCheck],
  ['probe', async () => (await import('./probe.js')).registerProbe],
  ['tlsa', async () => (await import('./tlsa.js')).registerTLSA],
  ['pfx', async () => (await import('./pfx.js')).registerPfx],
  ['acme', async () => (await import('./acme.js')).registerAcme],
  ['ca', async () => (await import('./ca.js')).registerCA],
  ['sign', async () => (await import('./sign.js')).registerSign],
  ['selfsigned', async () => (await import('./selfsigned.js')).registerSelfSigned],
  ['store', async () => (await import('./store.js')).registerStore],
  ['renew-check', async () => (await import('./renew-check.js')).registerRenewCheck],
  ['bundle', async () => (await import('./bundle.js')).registerBundle],
  ['convert', async () => (await import('./convert.js')).registerConvert],
  ['admin', async () => (await import('./admin.js')).registerAdmin],
  ['config', async () => (await import('./config.js')).registerConfig],
];

/**
 * The sub-commands this command line needs: the one it names; none for a bare `--version`; all of them
 * when it asks for help, names none or names one that does not exist (the program has no option that takes
 * a value before the sub-command, so the first word not starting with "-" is the sub-command).
 */
function commandsFor(argv: readonly string[]): (typeof COMMANDS)[number][] {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  const named = COMMANDS.find(([name]) => name === first);
  if (named !== undefined) return [named];
  const asksHelp = args.some((a) => a === '-h' || a === '--help');
  if (first === undefined && !asksHelp && args.some((a) => a === '-V' || a === '--version')) return [];
  return [...COMMANDS];
}

/** Builds the program with the sub-commands this command line needs. */
async function createProgram(argv: readonly string[]): Promise<Command> {
  const json = argv.includes('--json');
  const program = new Command('mailtls')
    .description(
      'TLS certificates for mail servers: make keys and CSRs, view certificates, bundles, CSRs and keys, ' +
        'verify chains, and install certificates into a certificate store.',
    )
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      // Commander's own usage errors (an unknown command or option, a missing value) in the format of every
      // other error: "error [ERR_CLI_USAGE]: ..." (JSON with --json); exit 2.
      outputError: (str, write) => {
        const message = str.replace(/^error: /, '').trim();
        if (!json) {
          write(`error [ERR_CLI_USAGE]: ${message}\n`);
          return;
        }
        write(`${JSON.stringify({ error: { code: 'ERR_CLI_USAGE', message, details: {} } }, null, 2)}\n`);
      },
    })
    .exitOverride()
    .addHelpText(
      'after',
      `\nRun "mailtls <command> --help" for a command's options and examples.\n${EXIT_CODES_HELP}\n\n` +
        'Inputs: every file that is read may be - for standard input (one per command), and every secret\n' +
        'comes three ways: --password-file FILE (first line), --password-env VAR, or --password P (shown by ps).\n\n' +
        'Environment:\n' +
        '  NO_COLOR                   no colour even on a terminal (colour is used only on a terminal anyway)\n' +
        '  MAILTLS_PROGRESS_DELAY_MS  how long slow work runs before a spinner appears on a terminal (default 300)\n',
    );
  const registers = await Promise.all(commandsFor(argv).map(([, load]) => load()));
  for (const register of registers) register(program);
  return program;
}

async function main(): Promise<void> {
  // "mailtls show x.pem | head": a closed pipe ends the output quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const program = await createProgram(process.argv);
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every parsing error is bad usage.
      process.exitCode =
        e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
          ? 0
          : EXIT_USAGE;
      return;
    }
    throw e;
  }
}

await main();
