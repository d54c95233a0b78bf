/**
 * `mailtls bundle`: write the chain a server deploys, in the right order (the certificate, then each issuer;
 * the root left out), from a certificate and a CA bundle in any order, as PEM or as Postfix's single
 * `smtpd_tls_chain_files` file (key first).
 *
 * @module cli/bundle
 */
import type { Command } from 'commander';
import {
  assembleChain,
  ChainError,
  encodeChainPEM,
  encodePostfixChainFile,
  KeyError,
  keyMatchesCertificate,
  parseCertificateBundle,
  parsePrivateKey,
} from '../index.js';
import {
  DEFAULT_MAX_CERTIFICATES,
  examples,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  MAX_CERTIFICATES_HELP,
  MAX_CERTIFICATES_HINTS,
  parseAt,
  parseMaxCertificates,
  passphraseOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkWritable, readInput, readText, writeOutput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { trustOf } from './verify.js';

interface BundleOptions extends KeyPasswordOptions {
  cert: string;
  chain?: string;
  key?: string;
  out: string;
  format?: string;
  trust?: string;
  at?: Date;
  allowIncomplete?: boolean;
  maxCertificates?: number;
  force?: boolean;
  json?: boolean;
}

async function bundle(opts: BundleOptions, out: Output): Promise<number> {
  const format = opts.format ?? 'pem';
  if (format !== 'pem' && format !== 'postfix')
    throw new CLIError('ERR_CLI_USAGE', `--format must be pem or postfix, not ${format}.`);
  if (format === 'postfix' && opts.key === undefined)
    throw new CLIError('ERR_CLI_USAGE', '--format postfix puts the key first: give it with --key FILE.');
  checkWritable(opts.out, opts.force);
  const max = opts.maxCertificates ?? DEFAULT_MAX_CERTIFICATES;
  const certBytes = readInput(opts.cert, 'certificate file');
  const pool =
    opts.chain === undefined
      ? []
      : [
          ...parseCertificateBundle(readInput(opts.chain, 'chain file'), { maxCertificates: max })
            .certificates,
        ];
  const trust = trustOf(opts.trust, max);
  const chain = await assembleChain(certBytes, pool, { roots: trust.store, at: opts.at ?? new Date() });
  const keyText = opts.key === undefined ? undefined : readText(opts.key, 'key file');
  if (keyText !== undefined) {
    const key = await parsePrivateKey(keyText, passphraseOf(keyPasswordOf(opts)));
    if (!keyMatchesCertificate(key, chain.leaf.der))
      throw new KeyError(
        'ERR_KEY_MISMATCH',
        `The key in ${opts.key} does not belong to the certificate ${chain.leaf.subject.toString()} in ` +
          `${opts.cert}: give the key the CSR was made with.`,
        { details: { keyFile: opts.key, certFile: opts.cert } },
      );
  }
  const missing = chain.problems.filter((p) => p.code === 'unknown-issuer');
  if (missing.length > 0 && opts.allowIncomplete !== true)
    throw new ChainError(
      'ERR_CHAIN_UNKNOWN_ISSUER',
      `The chain is incomplete: ${missing.map((p) => p.message).join(' ')} Nothing was written; give the ` +
        "CA's intermediate bundle with --chain (or --allow-incomplete to write what there is).",
      { details: { problems: missing.map((p) => ({ code: p.code, message: p.message })) } },
    );
  const data = format === 'postfix' ? encodePostfixChainFile(keyText!, chain) : encodeChainPEM(chain);
  writeOutput(opts.out, data, { mode: format === 'postfix' ? 0o600 : 0o644, force: opts.force === true });
  const problems = chain.problems.map((p) => ({ code: p.code, message: p.message }));
  out.result({
    file: opts.out,
    format,
    mode: format === 'postfix' ? '0600' : '0644',
    complete: chain.complete,
    trusted: chain.trusted ?? null,
    certificates: chain.certificates.map((c) => ({
      subject: c.subject.toString(),
      issuer: c.issuer.toString(),
      notAfter: c.notAfter.toISOString(),
      sha256: c.fingerprint('sha256'),
    })),
    root: chain.root?.subject.toString() ?? null,
    problems,
  });
  out.line(`wrote ${opts.out}${format === 'postfix' ? ' (key first, mode 0600)' : ''}:`);
  for (const [i, c] of chain.certificates.entries()) out.line(`  ${i} ${c.subject.toString()}`);
  if (chain.root !== undefined)
    out.line(`  (root ${chain.root.subject.toString()} left out: clients hold it)`);
  for (const p of problems) out.line(`  note ${p.code}: ${p.message}`);
  if (format === 'postfix') out.note(`main.cf: smtpd_tls_chain_files = ${opts.out}`);
  return 0;
}

/** Adds `mailtls bundle` to the program. */
export function registerBundle(program: Command): void {
  const cmd = program
    .command('bundle')
    .summary('write the chain to deploy, in the right order (PEM or a Postfix chain file)')
    .description(
      "Write the chain a server sends: --cert's certificate, then each issuer found in --cert and --chain " +
        '(any order; duplicates, unrelated certificates and the root left out), as "mailtls verify" prints it. ' +
        '--format pem (default): the chain, for Dovecot ssl_cert, nginx, Node (fullchain.pem). --format ' +
        "postfix: the key, then the chain, for Postfix 3.4+'s smtpd_tls_chain_files (mode 0600; needs --key). " +
        'With --key the key must belong to the certificate. An incomplete chain (an issuer missing) is ' +
        'refused unless --allow-incomplete.',
    )
    .requiredOption(
      '--cert <file>',
      'the server certificate (PEM/DER; may hold the chain too; - for standard input)',
    )
    .option('--chain <file>', "the CA's bundle (.ca-bundle, .p7b), any order")
    .option('--key <file>', 'the private key: checked against the certificate; first in --format postfix')
    .requiredOption('--out <file>', 'where to write')
    .option('--format <format>', 'pem or postfix (default pem)')
    .option('--trust <file>', "trusted roots (default: Node's bundled roots)")
    .option('--at <iso-8601>', 'judge validity at this time instead of now', parseAt)
    .option('--allow-incomplete', 'write the chain even when an issuer is missing')
    .option('--max-certificates <n>', MAX_CERTIFICATES_HELP, parseMaxCertificates);
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted --key');
  cmd
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls bundle --cert example_com.crt --chain example_com.ca-bundle --out fullchain.pem',
        'mailtls bundle --cert example_com.crt --chain example_com.ca-bundle --key mail.key --format postfix --out /etc/postfix/mail.pem',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: BundleOptions) =>
        await runCommand(opts.json, (out) => bundle(opts, out), {
          ...KEY_PASSWORD_HINTS,
          ...MAX_CERTIFICATES_HINTS,
        }),
    );
}
