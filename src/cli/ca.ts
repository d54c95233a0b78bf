/**
 * `mailtls ca init`: a private certificate authority in a directory (a root, optionally an intermediate),
 * for LAN-only mail servers, tests and labs; `mailtls sign` issues server certificates with it.
 *
 * Layout of the directory (made 0700 when it does not exist):
 * - `root.crt` (0644): the root certificate, for clients to trust (`openssl -CAfile`, the OS trust store);
 * - `root.key` (0600): its key;
 * - with `--intermediate`: `intermediate.crt` (0644) and `intermediate.key` (0600), the CA that signs;
 *   the root key can then go offline.
 *
 * @module cli/ca
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import {
  type Certificate,
  createCertificateAuthority,
  encodeChainPEM,
  encodePrivateKeyPEM,
  type KeyType,
  type PrivateKey,
  parseCertificate,
  parseCertificateBundle,
  parsePrivateKey,
  type SubjectFields,
} from '../index.js';
import {
  examples,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  passphraseOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkOutputDirectory, checkWritable, readInput, readText, writeOutput } from './files.js';
import { keySummary } from './key.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { parseSubjectOption } from './subject.js';

/** The file names of a CA directory. */
export const CA_FILES = {
  rootCert: 'root.crt',
  rootKey: 'root.key',
  intermediateCert: 'intermediate.crt',
  intermediateKey: 'intermediate.key',
} as const;

/** A commander option parser for `--days`: a whole number of days from 1 to 36500. */
export function parseDays(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 36_500)
    throw new CLIError(
      'ERR_CLI_USAGE',
      `--days: expected a whole number of days from 1 to 36500, not ${value}.`,
    );
  return n;
}

interface CAInitOptions extends KeyPasswordOptions {
  out: string;
  name?: string;
  subject?: SubjectFields;
  intermediate?: boolean;
  intermediateName?: string;
  days?: number;
  type?: string;
  bits?: string;
  curve?: string;
  force?: boolean;
  json?: boolean;
}

function certSummary(pem: string): Record<string, unknown> {
  const c = parseCertificate(pem);
  return {
    subject: c.subject.toString(),
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.fingerprint('sha256'),
  };
}

/** Makes the output directory (0700) when it does not exist, then checks it can be written. */
function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700, recursive: true });
  } catch {
    // checkOutputDirectory says what is wrong
  }
  checkOutputDirectory(dir, '--out');
}

async function init(opts: CAInitOptions, out: Output): Promise<number> {
  if (opts.name !== undefined && opts.subject !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --name or --subject, not both.');
  if (opts.intermediateName !== undefined && opts.intermediate !== true)
    throw new CLIError('ERR_CLI_USAGE', '--intermediate-name goes with --intermediate.');
  if (opts.type === undefined && (opts.bits !== undefined || opts.curve !== undefined))
    throw new CLIError('ERR_CLI_USAGE', '--bits needs --type rsa and --curve needs --type ec.');
  if ((opts.bits !== undefined && opts.type !== 'rsa') || (opts.curve !== undefined && opts.type !== 'ec'))
    throw new CLIError('ERR_CLI_USAGE', '--bits goes with --type rsa and --curve with --type ec.');
  const passphrase = keyPasswordOf(opts);
  ensureDirectory(opts.out);
  const files = {
    rootCert: join(opts.out, CA_FILES.rootCert),
    rootKey: join(opts.out, CA_FILES.rootKey),
    ...(opts.intermediate === true
      ? {
          intermediateCert: join(opts.out, CA_FILES.intermediateCert),
          intermediateKey: join(opts.out, CA_FILES.intermediateKey),
        }
      : {}),
  };
  for (const f of Object.values(files)) checkWritable(f, opts.force);
  const name: string | SubjectFields = opts.subject ?? opts.name ?? 'Private Root CA (mailtls)';
  const at = new Date();
  // EC P-256 by default: small, fast, accepted by every current mail client.
  const type = (opts.type ?? 'ec') as KeyType;
  const hierarchy = await out.progress('making the CA', () =>
    createCertificateAuthority({
      name,
      at,
      days: opts.days ?? 3650,
      keyType: type,
      ...(opts.bits === undefined ? {} : { bits: Number(opts.bits) as 2048 | 3072 | 4096 }),
      ...(opts.curve === undefined ? {} : { curve: opts.curve as 'P-256' | 'P-384' }),
      ...(opts.intermediate === true ? { intermediate: true } : {}),
      ...(opts.intermediateName === undefined ? {} : { intermediateName: opts.intermediateName }),
    }),
  );
  const force = opts.force === true;
  const keyPEM = (k: PrivateKey) => encodePrivateKeyPEM(k, passphraseOf(passphrase));
  writeOutput(files.rootKey, await keyPEM(hierarchy.root.key), { mode: 0o600, force });
  writeOutput(files.rootCert, hierarchy.root.certPEM, { force });
  const inter = hierarchy.intermediate;
  if (inter !== undefined && files.intermediateKey !== undefined && files.intermediateCert !== undefined) {
    writeOutput(files.intermediateKey, await keyPEM(inter.key), { mode: 0o600, force });
    writeOutput(files.intermediateCert, inter.certPEM, { force });
  }
  out.result({
    dir: opts.out,
    files,
    keyMode: '0600',
    encrypted: passphrase !== undefined,
    root: { ...certSummary(hierarchy.root.certPEM), key: keySummary(hierarchy.root.key) },
    ...(inter === undefined
      ? {}
      : { intermediate: { ...certSummary(inter.certPEM), key: keySummary(inter.key) } }),
  });
  const root = certSummary(hierarchy.root.certPEM);
  out.line(
    `root CA:         ${files.rootCert} (${root.subject as string}, until ${root.notAfter as string})`,
  );
  out.line(`root key:        ${files.rootKey} (mode 0600${passphrase === undefined ? '' : ', encrypted'})`);
  if (inter !== undefined) {
    out.line(`intermediate CA: ${files.intermediateCert} (signs the server certificates)`);
    out.line(`intermediate key: ${files.intermediateKey} (mode 0600; keep ${files.rootKey} offline)`);
  }
  out.line(
    `clients trust ${files.rootCert}; sign a CSR with: mailtls sign --ca ${opts.out} --csr req.pem --out mail.crt`,
  );
  return 0;
}

/** The issuing CA of `sign`: from a CA directory, or from `--ca-cert` and `--ca-key`. */
export interface LoadedCA {
  cert: Certificate;
  certPEM: string;
  key: PrivateKey;
  /** Intermediates above this CA that a server sends after the CA's own certificate, PEM; usually empty. */
  chainPEM: string;
  /** The root clients trust, when known (a CA directory). */
  rootFile: string | undefined;
}

/**
 * Reads the CA that signs: `dir`'s intermediate when it has one, else its root; or the certificate and key
 * files given.
 * @throws CLIError ERR_CLI_READ / ERR_CLI_USAGE; key and certificate parse errors
 */
export async function loadCA(
  from: { dir?: string | undefined; cert?: string | undefined; key?: string | undefined },
  passphrase: string | undefined,
): Promise<LoadedCA> {
  let certFile: string;
  let keyFile: string;
  let rootFile: string | undefined;
  if (from.dir !== undefined) {
    if (from.cert !== undefined || from.key !== undefined)
      throw new CLIError('ERR_CLI_USAGE', 'Give either --ca DIR or --ca-cert and --ca-key, not both.');
    rootFile = join(from.dir, CA_FILES.rootCert);
    const intermediate = existsSync(join(from.dir, CA_FILES.intermediateCert));
    certFile = join(from.dir, intermediate ? CA_FILES.intermediateCert : CA_FILES.rootCert);
    keyFile = join(from.dir, intermediate ? CA_FILES.intermediateKey : CA_FILES.rootKey);
  } else {
    if (from.cert === undefined || from.key === undefined)
      throw new CLIError(
        'ERR_CLI_USAGE',
        'Give the CA with --ca DIR (made by "mailtls ca init") or with --ca-cert FILE and --ca-key FILE.',
      );
    certFile = from.cert;
    keyFile = from.key;
  }
  const certs = parseCertificateBundle(readInput(certFile, 'CA certificate')).certificates;
  const cert = certs[0]!;
  const key = await parsePrivateKey(readText(keyFile, 'CA key'), passphraseOf(passphrase));
  const certPEM = encodeChainPEM([cert]);
  // The CA file may hold the CA's own issuers after it: intermediates go into the served chain, a root not.
  const chainPEM = encodeChainPEM(certs.slice(1).filter((c) => !c.selfIssued));
  return { cert, certPEM, key, chainPEM, rootFile };
}

/** Adds `mailtls ca init` to the program. */
export function registerCA(program: Command): void {
  const ca = program
    .command('ca')
    .summary('a private certificate authority for LAN-only servers, tests and labs')
    .description(
      'A private certificate authority: "mailtls ca init" makes it, "mailtls sign" issues server certificates ' +
        'from CSRs with it. Only clients given its root trust it: use it for LAN-only servers, tests and labs, ' +
        'never instead of a public CA for mail from the Internet.',
    )
    .addHelpText(
      'after',
      examples(
        'mailtls ca init --out /etc/mail/lab-ca --name "Example Lab Root CA" --intermediate',
        'mailtls sign --ca /etc/mail/lab-ca --csr req.pem --out mail.crt',
      ) + EXIT_CODES_HELP,
    );
  const cmd = ca
    .command('init')
    .summary('make a root CA (and an intermediate) in a directory')
    .description(
      'Make a root CA (and with --intermediate an intermediate CA, pathLen 0, that signs instead) in --out ' +
        'DIR: root.crt (give it to the clients), root.key (mode 0600), intermediate.crt and intermediate.key. ' +
        'Keys are EC P-256 unless --type says otherwise; validity 3650 days unless --days. Files are written ' +
        'atomically and never replaced without --force.',
    )
    .requiredOption('--out <dir>', 'the CA directory (made with mode 0700 when missing)')
    .option('--name <cn>', 'Common Name of the root (default "Private Root CA (mailtls)")')
    .option(
      '--subject <dn>',
      'the root\'s whole subject, as openssl -subj: "/O=Example Inc/CN=Example Root CA"',
      parseSubjectOption,
    )
    .option('--intermediate', 'also make an intermediate CA that signs (keep the root key offline)')
    .option(
      '--intermediate-name <cn>',
      'Common Name of the intermediate (default: the root\'s + " Intermediate")',
    )
    .option('--days <n>', 'validity in days (default 3650)', parseDays);
  cmd
    .addOption(new Option('--type <type>', 'key type (default ec)').choices(['rsa', 'ec', 'ed25519']))
    .addOption(new Option('--bits <n>', 'RSA modulus size (default 2048)').choices(['2048', '3072', '4096']))
    .addOption(new Option('--curve <curve>', 'EC curve (default P-256)').choices(['P-256', 'P-384']));
  secretOptions(cmd, 'key-password', 'a pass phrase to encrypt the CA keys with (PKCS#8, AES-256)');
  cmd
    .option('--force', 'replace existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls ca init --out lab-ca',
        'mailtls ca init --out lab-ca --subject "/O=Example Inc/CN=Example Lab Root CA" --intermediate --key-password-file ca-pass.txt',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: CAInitOptions) =>
        await runCommand(opts.json, (out) => init(opts, out), KEY_PASSWORD_HINTS),
    );
}
