/**
 * `mailtls install`: the certificate store's validated, atomic install of a certificate with its key and
 * CA bundle (or a .pfx). Nothing is written when anything is wrong.
 *
 * @module cli/install
 */
import type { Command } from 'commander';
import { type Certificate, isMailTlsError, KeyError, parseCertificateBundle } from '../index.js';
import {
  addDeployHook,
  CertificateStore,
  type CertificateStoreOptions,
  type DeployHookResult,
  type InstallResult,
} from '../node/index.js';
import {
  examples,
  hasPassword,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  type PasswordOptions,
  parseAt,
  passphraseOf,
  passwordHints,
  passwordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { readInput, readText } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { rememberTrust } from './trust.js';

/**
 * A store over DIR that trusts Node's bundled roots and --trust, validates at --at, and gives the keys to
 * --group (the group a mail server that drops privileges runs in).
 */
export function openStore(
  dir: string,
  trust: string | readonly Certificate[] | undefined,
  at: Date | undefined,
  group?: string,
  more: CertificateStoreOptions = {},
): CertificateStore {
  const roots: readonly Certificate[] = typeof trust === 'string' ? trustCertificates(trust) : (trust ?? []);
  return new CertificateStore(dir, {
    trust: roots,
    ...(at === undefined ? {} : { at }),
    ...(group === undefined ? {} : { group }),
    ...more,
  });
}

/** The certificates of a `--trust` file. */
export function trustCertificates(file: string): readonly Certificate[] {
  return parseCertificateBundle(readInput(file, 'trust file')).certificates;
}

/**
 * After an install with `--trust`: remembers the root the chain ends at for the domain (see trust.ts), and
 * says so.
 */
export async function rememberInstallTrust(
  store: string,
  result: InstallResult,
  trust: readonly Certificate[],
  out: Output,
): Promise<void> {
  const file = await rememberTrust(store, result, trust);
  if (file !== undefined)
    out.note(`  trusted root:     ${file} (remembered: "mailtls check" uses it for ${result.domain})`);
}

/**
 * Prints what the deploy hooks did; a failed hook is a warning with its exit code and output (the change
 * stays in service). Returns 1 when one failed, else 0.
 */
export function reportDeployHooks(results: readonly DeployHookResult[], out: Output): number {
  let status = 0;
  for (const h of results) {
    if (h.ok) {
      out.note(`deploy hook ran: ${h.command}`);
      continue;
    }
    status = 1;
    const why = h.error ?? (h.signal === null ? `exit ${h.exitCode}` : `signal ${h.signal}`);
    out.warn(
      `deploy hook failed (${why}); the new certificate stays in service: ${h.command}` +
        (h.output.trim() === '' ? '' : `\n${h.output.trimEnd().split('\n').slice(-20).join('\n')}`),
      'DEPLOY_HOOK_FAILED',
    );
  }
  return status;
}

/** The help text of `--group`, shared by the commands that write the store. */
export const GROUP_HELP =
  'the group that may read the keys (private/ 0750, keys 0640 owned by it), e.g. ssl-cert or mail, for a ' +
  'mail server that drops privileges to a member of it; default: the group private/ already has, if any';

/** Prints what an install did (text and JSON). */
export function reportInstall(r: InstallResult, out: Output): void {
  for (const w of r.warnings) out.warn(w.message, w.code);
  out.result({
    domain: r.domain,
    version: r.version,
    previousVersion: r.previousVersion ?? null,
    keySource: r.keySource,
    chainComplete: r.chainComplete,
    chain: r.chain.map((c) => ({
      subject: c.subject.toString(),
      notAfter: c.notAfter.toISOString(),
      sha256: c.fingerprint('sha256'),
    })),
    files: r.files,
    warnings: r.warnings.map((w) => ({ code: w.code, message: w.message })),
    deployHooks: r.deployHooks,
  });
  out.line(
    `${out.paint('green', 'installed')} ${r.domain}: version ${r.version}` +
      (r.previousVersion === undefined ? '' : ` (replaces ${r.previousVersion}, kept for rollback)`),
  );
  out.line(`  certificate: ${r.leaf.subject.toString()}, valid until ${r.leaf.notAfter.toISOString()}`);
  out.line(`  served chain (${r.chainComplete ? 'complete' : 'INCOMPLETE'}):`);
  for (const [i, c] of r.chain.entries()) out.line(`    ${i} ${c.subject.toString()}`);
  out.line(`  certificate file: ${r.files.cert}`);
  out.line(`  key file:         ${r.files.key} (key from: ${r.keySource})`);
  if (r.files.ca !== undefined) out.line(`  CA bundle:        ${r.files.ca}`);
}

/** A key mismatch that names the files the user gave (--key, --cert), not the store's argument names. */
function namedMismatch(e: unknown, opts: InstallCommandOptions): unknown {
  if (!isMailTlsError(e, 'ERR_KEY_MISMATCH')) return e;
  const d = e.details as { keyFile?: unknown; certFile?: unknown };
  let message = e.message;
  const details: Record<string, unknown> = { ...e.details };
  if (opts.key !== undefined && d.keyFile === 'the key given (key)') {
    message = message.replace(/^The key given \(key\)/, `The key in ${opts.key}`);
    details.keyFile = opts.key;
  }
  if (opts.cert !== undefined && d.certFile === 'the certificate given (cert)') {
    message = message.replace('the certificate given (cert)', opts.cert);
    details.certFile = opts.cert;
  }
  return new KeyError('ERR_KEY_MISMATCH', message, { cause: e, details });
}

interface InstallCommandOptions extends PasswordOptions, KeyPasswordOptions {
  store: string;
  cert?: string;
  chain?: string;
  key?: string;
  pfx?: string;
  domain?: string;
  trust?: string;
  at?: Date;
  allowExpired?: boolean;
  requireCompleteChain?: boolean;
  group?: string;
  deployHook?: string;
  json?: boolean;
}

async function install(opts: InstallCommandOptions, out: Output): Promise<number> {
  if (opts.pfx === undefined && opts.cert === undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give the certificate with --cert FILE (or a .pfx with --pfx FILE).');
  if (opts.pfx !== undefined && (opts.cert ?? opts.key ?? opts.chain) !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --pfx or --cert/--chain/--key, not both.');
  if (hasPassword(opts) && opts.pfx === undefined)
    throw new CLIError(
      'ERR_CLI_USAGE',
      '--password is the password of --pfx; for an encrypted --key use --key-password.',
    );
  const roots = opts.trust === undefined ? [] : trustCertificates(opts.trust);
  const hook = opts.deployHook === undefined ? {} : { deployHooks: [opts.deployHook] };
  const store = openStore(opts.store, roots, opts.at, opts.group, hook);
  const password = passwordOf(opts);
  const keyPassword = keyPasswordOf(opts);
  const result = await out.progress('checking and installing', () =>
    store
      .install({
        ...(opts.domain === undefined ? {} : { domain: opts.domain }),
        ...(opts.cert === undefined ? {} : { cert: readInput(opts.cert, 'certificate file') }),
        ...(opts.chain === undefined ? {} : { caBundle: readInput(opts.chain, 'chain file') }),
        ...(opts.key === undefined ? {} : { key: readText(opts.key, 'key file') }),
        ...passphraseOf(keyPassword),
        ...(opts.pfx === undefined ? {} : { pkcs12: readInput(opts.pfx, '.pfx file') }),
        ...(password === undefined ? {} : { password }),
        ...(opts.allowExpired === true ? { allowExpired: true } : {}),
        ...(opts.requireCompleteChain === true ? { requireCompleteChain: true } : {}),
        ...(opts.at === undefined ? {} : { at: opts.at }),
      })
      .catch((e: unknown) => {
        throw namedMismatch(e, opts);
      }),
  );
  reportInstall(result, out);
  await rememberInstallTrust(opts.store, result, roots, out);
  // Kept for later installs, rollbacks and renewals (certbot keeps --deploy-hook the same way).
  if (opts.deployHook !== undefined && (await addDeployHook(store.root, opts.deployHook)))
    out.note(`deploy hook kept in ${store.root}/settings.json: ${opts.deployHook}`);
  return reportDeployHooks(result.deployHooks, out);
}

/** Adds `mailtls install` to the program. */
export function registerInstall(program: Command): void {
  const cmd = program
    .command('install')
    .summary('install a certificate into the store (validated, atomic)')
    .description(
      'Install the certificate the CA sent into the certificate store at --store: it is checked first (the ' +
        'key belongs to it, it covers the domain, it is valid at --at, the chain from --chain and --trust) ' +
        'and then put in service atomically together with its key; the previous version is kept for rollback. ' +
        'Without --key the key of the CSR made with "mailtls csr --store" is used (or the key in service, ' +
        'for a renewal that keeps the key). Nothing is written when anything is wrong (exit 1, or 2 for an ' +
        'unreadable file).',
    )
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--cert <file>', 'the certificate (PEM/DER/.p7b; may hold the chain, in any order)')
    .option('--chain <file>', "the CA's intermediate bundle (.ca-bundle, .p7b)")
    .option('--key <file>', 'the private key (PEM)')
    .option('--pfx <file>', 'a .pfx/.p12 with the key and certificates, instead of --cert/--key');
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted --key (kept encrypted)');
  secretOptions(cmd, 'password', 'the password of --pfx');
  cmd
    .option('--domain <name>', "file it under this domain (default: the certificate's Common Name)")
    .option(
      '--trust <file>',
      "more trusted roots, e.g. a private CA (Node's bundled roots are trusted too); the root the chain ends at " +
        'is remembered for the domain, for "mailtls check"',
    )
    .option('--at <iso-8601>', 'validate at this time instead of now', parseAt)
    .option('--allow-expired', 'install an expired or not yet valid certificate (with a warning)')
    .option('--require-complete-chain', 'refuse a chain that does not reach a trusted root (default: warn)')
    .option('--group <group>', GROUP_HELP)
    .option(
      '--deploy-hook <command>',
      'run this shell command after the install (with MAILTLS_DOMAIN, MAILTLS_CERT_FILE, ... in its environment) ' +
        'and keep it in the store for later installs, rollbacks and renewals (mailtls config hooks)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls install --store /etc/mail/tls --cert example_com.crt --chain example_com.ca-bundle',
        'mailtls install --store /etc/mail/tls --cert mail.crt --key mail.key --domain example.com',
        'mailtls install --store /etc/mail/tls --pfx mail.pfx --password-file pass.txt',
        'mailtls install --store /etc/mail/tls --cert example_com.crt --group ssl-cert   # server runs in ssl-cert',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: InstallCommandOptions) =>
        await runCommand(opts.json, (out) => install(opts, out), {
          ...KEY_PASSWORD_HINTS,
          ERR_PKCS12_PASSWORD: passwordHints('--password').ERR_PKCS12_PASSWORD!,
        }),
    );
}
