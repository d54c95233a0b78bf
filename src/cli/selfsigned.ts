/**
 * `mailtls selfsigned`: a self-signed server certificate and its key, for a LAN-only mail server that no
 * public CA can certify (like `openssl req -x509 -newkey` and `step certificate create --profile
 * self-signed`). Clients must be given the certificate itself as a trust anchor.
 *
 * @module cli/selfsigned
 */
import type { Command } from 'commander';
import {
  createSelfSignedCertificate,
  parseIPAddress,
  parsePrivateKey,
  type SubjectFields,
} from '../index.js';
import { parseDays } from './ca.js';
import {
  collect,
  examples,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  passphraseOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkWritable, readText, writeOutput } from './files.js';
import { keySummary, keyTypeOptions } from './key.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { parseSubjectOption } from './subject.js';

interface SelfSignedOptions extends KeyPasswordOptions {
  cn?: string;
  subject?: SubjectFields;
  san?: string[];
  days?: number;
  key?: string;
  type?: string;
  bits?: string;
  curve?: string;
  out: string;
  keyOut?: string;
  force?: boolean;
  json?: boolean;
}

async function selfSigned(opts: SelfSignedOptions, out: Output): Promise<number> {
  if ((opts.cn === undefined) === (opts.subject === undefined))
    throw new CLIError(
      'ERR_CLI_USAGE',
      'Give the name with --cn NAME or --subject "/O=.../CN=NAME" (one of them).',
    );
  if (opts.subject !== undefined && opts.subject.commonName === undefined)
    throw new CLIError('ERR_CLI_USAGE', '--subject needs a CN, e.g. --subject "/O=Example Inc/CN=mail.lan".');
  if ((opts.key === undefined) === (opts.keyOut === undefined))
    throw new CLIError(
      'ERR_CLI_USAGE',
      'Give either --key-out FILE (a new key is made and written there) or --key FILE (an existing key).',
    );
  if (opts.key !== undefined && (opts.type ?? opts.bits ?? opts.curve) !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --key or --type/--bits/--curve, not both.');
  if (
    (opts.bits !== undefined && (opts.type ?? 'rsa') !== 'rsa') ||
    (opts.curve !== undefined && opts.type !== 'ec')
  )
    throw new CLIError('ERR_CLI_USAGE', '--bits goes with --type rsa and --curve with --type ec.');
  checkWritable(opts.out, opts.force);
  if (opts.keyOut !== undefined) checkWritable(opts.keyOut, opts.force);
  const key =
    opts.key === undefined
      ? undefined
      : await parsePrivateKey(readText(opts.key, 'key file'), passphraseOf(keyPasswordOf(opts)));
  const names = opts.san ?? [];
  const days = opts.days ?? 397;
  const made = await out.progress('making the certificate', () =>
    createSelfSignedCertificate({
      subject: opts.subject ?? { commonName: opts.cn },
      hostnames: names.filter((n) => parseIPAddress(n) === undefined),
      ipAddresses: names.filter((n) => parseIPAddress(n) !== undefined),
      at: new Date(),
      days,
      ...(key === undefined
        ? {
            ...(opts.type === undefined ? {} : { keyType: opts.type as 'rsa' | 'ec' | 'ed25519' }),
            ...(opts.bits === undefined ? {} : { bits: Number(opts.bits) as 2048 | 3072 | 4096 }),
            ...(opts.curve === undefined ? {} : { curve: opts.curve as 'P-256' | 'P-384' }),
          }
        : { key }),
    }),
  );
  const force = opts.force === true;
  if (opts.keyOut !== undefined) writeOutput(opts.keyOut, made.keyPEM, { mode: 0o600, force });
  writeOutput(opts.out, made.certPEM, { force });
  for (const w of made.warnings) out.warn(w.message, w.code);
  out.result({
    files: { cert: opts.out, ...(opts.keyOut === undefined ? {} : { key: opts.keyOut }) },
    subject: made.subject,
    dnsNames: made.dnsNames,
    ipAddresses: made.ipAddresses,
    serialNumber: made.serialNumber,
    notBefore: made.notBefore.toISOString(),
    notAfter: made.notAfter.toISOString(),
    key: keySummary(made.key),
    warnings: made.warnings.map((w) => ({ code: w.code, message: w.message })),
  });
  out.line(`wrote ${opts.out}: self-signed for ${[...made.dnsNames, ...made.ipAddresses].join(', ')}`);
  out.line(`  valid ${made.notBefore.toISOString()} to ${made.notAfter.toISOString()} (${days} days)`);
  if (opts.keyOut !== undefined) out.line(`  key: ${opts.keyOut} (${made.key.describe()}, mode 0600)`);
  out.line(`  clients must be given ${opts.out} as a trusted certificate`);
  return 0;
}

/** Adds `mailtls selfsigned` to the program. */
export function registerSelfSigned(program: Command): void {
  const cmd = program
    .command('selfsigned')
    .summary('make a self-signed server certificate (LAN-only servers)')
    .description(
      'Make a self-signed server certificate for --cn and every --san (the Common Name is always in the ' +
        'subjectAltName), with CA:FALSE and extendedKeyUsage serverAuth, valid from now for --days (default ' +
        '397), like "openssl req -x509 -newkey" and "step certificate create --profile self-signed". A new key ' +
        'is written to --key-out (mode 0600, unencrypted so the server starts unattended), or --key is used. ' +
        'Only for a LAN-only server: clients must be given the certificate as a trusted certificate.',
    )
    .option('--cn <name>', 'the host name clients connect to, e.g. mail.lan')
    .option(
      '--subject <dn>',
      'the whole subject, as openssl -subj: "/O=Example Inc/CN=mail.lan"',
      parseSubjectOption,
    )
    .option('--san <name>', 'another host name or IP address (repeatable)', collect)
    .option('--days <n>', 'validity in days (default 397)', parseDays)
    .requiredOption('--out <file>', 'where to write the certificate')
    .option('--key-out <file>', 'where to write the new key (mode 0600)')
    .option('--key <file>', 'use this existing key instead of making one');
  for (const o of keyTypeOptions()) cmd.addOption(o);
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted --key');
  cmd
    .option('--force', 'replace existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls selfsigned --cn mail.lan --san 192.168.1.10 --out mail.crt --key-out mail.key',
        'mailtls selfsigned --subject "/O=Example Inc/CN=mail.lan" --type ec --days 825 --out mail.crt --key-out mail.key',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: SelfSignedOptions) =>
        await runCommand(opts.json, (out) => selfSigned(opts, out), KEY_PASSWORD_HINTS),
    );
}
