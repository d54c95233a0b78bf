/**
 * `mailtls csr`: make a certificate signing request the way `openssl req -new -newkey` does for a reseller, and write
 * `req.pem` (the CSR) and `req.key` (the key, mode 0600).
 *
 * @module cli/csr
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type CreateCSROptions,
  type CSRWarning,
  createCSR,
  describeCSR,
  type KeyType,
  parseIPAddress,
  parsePrivateKey,
  type SubjectFields,
} from '../index.js';
import { CertificateStore } from '../node/index.js';
import {
  collect,
  examples,
  hasKeyPassword,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  passphraseOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkOutputDirectory, checkWritable, readText, writeOutput } from './files.js';
import { GROUP_HELP } from './install.js';
import { keySummary, keyTypeOptions, newKey } from './key.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { promptSubject, terminalAsk } from './prompt.js';
import { parseSubjectOption } from './subject.js';

interface CSRCommandOptions extends KeyPasswordOptions {
  subject?: SubjectFields;
  cn?: string;
  country?: string;
  state?: string;
  locality?: string;
  org?: string;
  unit?: string;
  email?: string;
  san?: string[];
  key?: string;
  type?: string;
  bits?: string;
  curve?: string;
  outDir?: string;
  store?: string;
  domain?: string;
  group?: string;
  force?: boolean;
  json?: boolean;
}

const SUBJECT_FLAGS = ['cn', 'country', 'state', 'locality', 'org', 'unit', 'email'] as const;

async function subjectOf(
  opts: CSRCommandOptions,
  out: Output,
): Promise<{ subject: SubjectFields; names: string[] }> {
  const given = SUBJECT_FLAGS.some((f) => opts[f] !== undefined);
  if (opts.subject !== undefined) {
    if (given)
      throw new CLIError(
        'ERR_CLI_USAGE',
        'Give the subject either with --subject or with the field options (--cn, --country, ...), not both.',
      );
    if (opts.subject.commonName === undefined)
      throw new CLIError(
        'ERR_CLI_USAGE',
        '--subject needs a CN, e.g. --subject "/O=Example Inc/CN=example.com".',
      );
    return { subject: opts.subject, names: opts.san ?? [] };
  }
  if (given || out.json || process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
    if (opts.cn === undefined)
      throw new CLIError(
        'ERR_CLI_USAGE',
        'Give the Common Name with --cn (your bare domain, e.g. --cn example.com); the questions are asked ' +
          'only on a terminal when no subject option is given.',
      );
    const subject: SubjectFields = {
      commonName: opts.cn,
      ...(opts.country === undefined ? {} : { country: opts.country }),
      ...(opts.state === undefined ? {} : { state: opts.state }),
      ...(opts.locality === undefined ? {} : { locality: opts.locality }),
      ...(opts.org === undefined ? {} : { organization: opts.org }),
      ...(opts.unit === undefined ? {} : { organizationalUnit: opts.unit }),
      ...(opts.email === undefined ? {} : { emailAddress: opts.email }),
    };
    return { subject, names: opts.san ?? [] };
  }
  const { ask, close } = terminalAsk();
  try {
    const answers = await promptSubject(ask, (s) => process.stderr.write(s));
    return { subject: answers.subject, names: [...answers.hostnames, ...(opts.san ?? [])] };
  } finally {
    close();
  }
}

function checkOptions(opts: CSRCommandOptions): void {
  if ((opts.outDir === undefined) === (opts.store === undefined))
    throw new CLIError('ERR_CLI_USAGE', 'Give either --out-dir DIR or --store DIR.');
  if (opts.key !== undefined && (opts.type ?? opts.bits ?? opts.curve) !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --key or --type/--bits/--curve, not both.');
  if (hasKeyPassword(opts) && opts.key === undefined)
    throw new CLIError('ERR_CLI_USAGE', '--key-password needs --key.');
  if (opts.store !== undefined && opts.key !== undefined)
    throw new CLIError(
      'ERR_CLI_USAGE',
      'With --store a new key is always made (the store keeps it); leave out --key.',
    );
  if (opts.store === undefined && opts.domain !== undefined)
    throw new CLIError('ERR_CLI_USAGE', '--domain goes with --store.');
}

function splitNames(names: readonly string[]): { hostnames: string[]; ipAddresses: string[] } {
  return {
    hostnames: names.filter((n) => parseIPAddress(n) === undefined),
    ipAddresses: names.filter((n) => parseIPAddress(n) !== undefined),
  };
}

function warningsOf(list: readonly CSRWarning[], out: Output): Record<string, unknown>[] {
  const warnings = list.map((w) => ({
    code: w.code,
    message: w.message,
    ...(w.name === undefined ? {} : { name: w.name }),
  }));
  for (const w of warnings) out.warn(w.message, w.code);
  return warnings;
}

async function toDirectory(opts: CSRCommandOptions, out: Output): Promise<number> {
  checkOptions(opts);
  const outDir = opts.outDir!;
  const csrFile = join(outDir, 'req.pem');
  const keyFile = join(outDir, 'req.key');
  checkOutputDirectory(outDir);
  checkWritable(csrFile, opts.force);
  if (opts.key === undefined) checkWritable(keyFile, opts.force);
  const key =
    opts.key === undefined
      ? undefined
      : await parsePrivateKey(readText(opts.key, 'key file'), passphraseOf(keyPasswordOf(opts)));
  const { subject, names } = await subjectOf(opts, out);
  const request: CreateCSROptions = { subject, ...splitNames(names), key: key ?? (await newKey(opts, out)) };
  const result = await createCSR(request);
  writeOutput(csrFile, result.csrPEM, { force: opts.force === true });
  const files: Record<string, string> = { csr: csrFile };
  if (opts.key === undefined) {
    writeOutput(keyFile, result.keyPEM, { mode: 0o600, force: opts.force === true });
    files.key = keyFile;
  }
  const warnings = warningsOf(result.warnings, out);
  out.result({
    files,
    key: keySummary(result.key),
    csr: describeCSR(result.csrPEM, { format: 'json' }),
    warnings,
  });
  out.line(describeCSR(result.csrPEM).trimEnd());
  out.note(
    `wrote ${csrFile} (send it to the CA)` +
      (files.key === undefined
        ? ''
        : ` and ${keyFile} (${result.key.describe()}, mode 0600: keep it secret)`),
  );
  return 0;
}

async function toStore(opts: CSRCommandOptions, out: Output): Promise<number> {
  checkOptions(opts);
  const { subject, names } = await subjectOf(opts, out);
  const store = new CertificateStore(opts.store!, opts.group === undefined ? {} : { group: opts.group });
  const type = opts.type as KeyType | undefined;
  const result = await out.progress('making the key and the CSR', () =>
    store.createCSR({
      subject,
      ...splitNames(names),
      ...(opts.domain === undefined ? {} : { domain: opts.domain }),
      ...(type === undefined ? {} : { keyType: type }),
      ...(opts.bits === undefined ? {} : { bits: Number(opts.bits) as 2048 | 3072 | 4096 }),
      ...(opts.curve === undefined ? {} : { curve: opts.curve as 'P-256' | 'P-384' }),
      ...(opts.force === true ? { replace: true } : {}),
    }),
  );
  const warnings = warningsOf(result.warnings, out);
  out.result({
    domain: result.domain,
    files: result.files,
    key: keySummary(result.key),
    csr: describeCSR(result.csrPEM, { format: 'json' }),
    warnings,
  });
  out.line(describeCSR(result.csrPEM).trimEnd());
  out.note(
    `wrote ${result.files.csr} (send it to the CA) and ${result.files.key} (${result.key.describe()}, mode 0600); ` +
      `then: mailtls install --store ${opts.store!} --cert <the certificate> --chain <the CA bundle>`,
  );
  return 0;
}

/** Adds `mailtls csr` to the program. */
export function registerCSR(program: Command): void {
  const cmd = program
    .command('csr')
    .summary('make a certificate signing request (req.pem) and its key (req.key)')
    .description(
      'Make a certificate signing request (PKCS#10) like "openssl req -new" does. ' +
        'The Common Name is your bare domain (example.com, not mail.example.com); every host name the ' +
        'server answers on goes into --san (the CN is always added to the subjectAltName first). ' +
        'Without subject options on a terminal, the fields are asked for one by one, as openssl req does. ' +
        'With --out-dir DIR it writes DIR/req.pem (the CSR, for the CA) and DIR/req.key (a new key, mode ' +
        '0600, no pass phrase so the server starts unattended); with --key the existing key is used and ' +
        'only req.pem is written. With --store DIR the CSR goes to DIR/csr/<domain>.csr and the new key to ' +
        'DIR/private/pending/<domain>.key (0600) until "mailtls install --store DIR" puts the certificate with ' +
        'it. Prints the CSR as text, and warnings on stderr.',
    )
    .option(
      '--subject <dn>',
      'the whole subject in one line, as openssl req -subj: "/C=US/ST=California/O=Example Inc/CN=example.com"',
      parseSubjectOption,
    )
    .option('--cn <domain>', 'Common Name: the bare domain, e.g. example.com')
    .option('--country <cc>', 'Country Name: 2-letter ISO code (US, DE, GB; not UK or USA)')
    .option('--state <name>', 'State or Province Name, written out')
    .option('--locality <city>', 'Locality Name (city)')
    .option('--org <name>', 'Organization Name')
    .option('--unit <name>', 'Organizational Unit Name')
    .option('--email <address>', 'Email Address of the administrator')
    .option('--san <name>', 'a host name or IP address for the subjectAltName (repeatable)', collect)
    .option('--key <file>', 'use this private key (PEM) instead of making a new one');
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted --key');
  for (const o of keyTypeOptions()) cmd.addOption(o);
  cmd
    .option('--out-dir <dir>', 'directory for req.pem and req.key')
    .option('--store <dir>', "write into the certificate store's CSR and private-key directories instead")
    .option('--domain <name>', 'with --store: file it under this domain (default: the Common Name)')
    .option('--group <group>', `with --store: ${GROUP_HELP}`)
    .option(
      '--force',
      'replace existing req.pem / req.key (with --store: a CSR still waiting for its certificate)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls csr --cn example.com --country US --state California --locality "Los Angeles" \\\n' +
          '      --org "Example Inc" --email hostmaster@example.com \\\n' +
          '      --san mail.example.com --san smtp.example.com --san imap.example.com --out-dir .',
        'mailtls csr --subject "/C=US/ST=California/O=Example Inc/CN=example.com" --san mail.example.com --out-dir .',
        'mailtls csr --out-dir .          # asks for each field on a terminal',
        'mailtls csr --cn example.com --san mail.example.com --key mail.key --out-dir /tmp --json',
        'mailtls csr --cn example.com --san mail.example.com --san imap.example.com --store /etc/mail/tls',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: CSRCommandOptions) =>
        await runCommand(
          opts.json,
          (out) => (opts.store === undefined ? toDirectory(opts, out) : toStore(opts, out)),
          KEY_PASSWORD_HINTS,
        ),
    );
}
