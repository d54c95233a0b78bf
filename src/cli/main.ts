#!/usr/bin/env node
/**
 * The `mailtls` command: keys, CSRs, viewing, verifying and installing mail-server certificates.
 * One file per sub-command; they use only the public API (`../index.js`, `../node/index.js`).
 *
 * @module cli/main
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAcme } from './acme.js';
import { registerAdmin } from './admin.js';
import { registerBundle } from './bundle.js';
import { registerCA } from './ca.js';
import { registerCheck } from './check.js';
import { registerConfig } from './config.js';
import { registerConvert } from './convert.js';
import { registerCSR } from './csr.js';
import { registerInstall } from './install.js';
import { registerKey } from './key.js';
import { EXIT_CODES_HELP, EXIT_USAGE } from './output.js';
import { registerPfx } from './pfx.js';
import { registerProbe } from './probe.js';
import { registerRenewCheck } from './renew-check.js';
import { registerSelfSigned } from './selfsigned.js';
import { registerShow } from './show.js';
import { registerSign } from './sign.js';
import { registerStore } from './store.js';
import { registerTLSA } from './tlsa.js';
import { registerVerify } from './verify.js';

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

/** Builds the program with every sub-command. */
function createProgram(argv: readonly string[]): Command {
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
  registerKey(program);
  registerCSR(program);
  registerShow(program);
  registerVerify(program);
  registerInstall(program);
  registerCheck(program);
  registerProbe(program);
  registerTLSA(program);
  registerPfx(program);
  registerAcme(program);
  registerCA(program);
  registerSign(program);
  registerSelfSigned(program);
  registerStore(program);
  registerRenewCheck(program);
  registerBundle(program);
  registerConvert(program);
  registerAdmin(program);
  registerConfig(program);
  return program;
}

async function main(): Promise<void> {
  // "mailtls show x.pem | head": a closed pipe ends the output quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const program = createProgram(process.argv);
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
