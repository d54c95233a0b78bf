/**
 * `mailtls pfx export|import`: move a server identity (key, certificate, chain) into and out of a PKCS#12
 * (`.pfx`/`.p12`) file, as Windows/IIS/Exchange, macOS and Java use them.
 *
 * @module cli/pfx
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type Certificate,
  createPKCS12,
  encodePEM,
  encodePrivateKeyPEM,
  KeyError,
  keyMatchesCertificate,
  parseCertificateBundle,
  parsePKCS12,
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
  type PasswordOptions,
  parseAt,
  parseMaxCertificates,
  passphraseOf,
  passwordHints,
  passwordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkWritable, readInput, readText, writeOutput } from './files.js';
import { GROUP_HELP, openStore, rememberInstallTrust, reportInstall, trustCertificates } from './install.js';
import { keySummary } from './key.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';

function certSummary(c: Certificate): Record<string, unknown> {
  return {
    subject: c.subject.toString(),
    issuer: c.issuer.toString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.fingerprint('sha256'),
  };
}

function requirePassword(opts: PasswordOptions): string {
  const p = passwordOf(opts);
  if (p === undefined)
    throw new CLIError(
      'ERR_CLI_USAGE',
      'Give the .pfx password with --password-file FILE or --password-env VAR (use --password "" for none).',
    );
  return p;
}

interface ExportOptions extends PasswordOptions, KeyPasswordOptions {
  key: string;
  cert: string;
  chain?: string;
  out: string;
  maxCertificates?: number;
  friendlyName?: string;
  legacy?: boolean;
  force?: boolean;
  json?: boolean;
}

async function exportPfx(opts: ExportOptions, out: Output): Promise<number> {
  const password = requirePassword(opts);
  checkWritable(opts.out, opts.force);
  const key = await parsePrivateKey(readText(opts.key, 'key file'), passphraseOf(keyPasswordOf(opts)));
  const maxCertificates = opts.maxCertificates ?? DEFAULT_MAX_CERTIFICATES;
  const certs = [
    ...parseCertificateBundle(readInput(opts.cert, 'certificate file'), { maxCertificates }).certificates,
  ];
  if (opts.chain !== undefined)
    certs.push(
      ...parseCertificateBundle(readInput(opts.chain, 'chain file'), { maxCertificates }).certificates,
    );
  // The leaf is the certificate of the key, wherever it is in the files; the others follow in file order.
  const leafIndex = certs.findIndex((c) => keyMatchesCertificate(key, c.der));
  if (leafIndex < 0)
    throw new KeyError(
      'ERR_KEY_MISMATCH',
      `None of the certificates in ${opts.cert}${opts.chain === undefined ? '' : ` or ${opts.chain}`} belongs to ` +
        `the key in ${opts.key}: give the certificate that was issued for this key.`,
      { details: { key: key.describe(), certificates: certs.map((c) => c.subject.toString()) } },
    );
  const leaf = certs[leafIndex]!;
  const others = certs.filter((_, i) => i !== leafIndex);
  const pfx = await out.progress('writing the .pfx', () =>
    createPKCS12({
      key,
      certificates: [leaf, ...others],
      password,
      ...(opts.friendlyName === undefined ? {} : { friendlyName: opts.friendlyName }),
      ...(opts.legacy === true ? { encryption: 'pbe-sha1-3des' as const } : {}),
    }),
  );
  writeOutput(opts.out, pfx, { mode: 0o600, force: opts.force === true });
  out.result({
    file: opts.out,
    mode: '0600',
    encryption: opts.legacy === true ? 'pbe-sha1-3des' : 'aes-256-cbc',
    key: keySummary(key),
    certificate: certSummary(leaf),
    chain: others.map(certSummary),
  });
  out.line(
    `wrote ${opts.out} (mode 0600): ${key.describe()} key, certificate ${leaf.subject.toString()}` +
      `, ${others.length} more certificate${others.length === 1 ? '' : 's'}` +
      (opts.legacy === true ? ', 3DES/SHA-1 for Windows Server 2016 and older' : ', AES-256-CBC'),
  );
  return 0;
}

interface ImportOptions extends PasswordOptions {
  pfx: string;
  outDir?: string;
  store?: string;
  domain?: string;
  trust?: string;
  group?: string;
  at?: Date;
  force?: boolean;
  json?: boolean;
}

async function importToStore(opts: ImportOptions & { store: string }, out: Output): Promise<number> {
  const password = passwordOf(opts);
  const roots = opts.trust === undefined ? [] : trustCertificates(opts.trust);
  const store = openStore(opts.store, roots, opts.at, opts.group);
  const result = await out.progress('checking and installing', async () =>
    store.install({
      pkcs12: readInput(opts.pfx, '.pfx file'),
      ...(password === undefined ? {} : { password }),
      ...(opts.domain === undefined ? {} : { domain: opts.domain }),
      ...(opts.at === undefined ? {} : { at: opts.at }),
    }),
  );
  reportInstall(result, out);
  await rememberInstallTrust(opts.store, result, roots, out);
  return 0;
}

async function importPfx(opts: ImportOptions, out: Output): Promise<number> {
  if ((opts.outDir === undefined) === (opts.store === undefined))
    throw new CLIError('ERR_CLI_USAGE', 'Give either --out-dir DIR or --store DIR.');
  if (opts.store !== undefined) return importToStore({ ...opts, store: opts.store }, out);
  if ((opts.domain ?? opts.trust ?? opts.at) !== undefined)
    throw new CLIError('ERR_CLI_USAGE', '--domain, --trust and --at go with --store.');
  const outDir = opts.outDir!;
  const password = passwordOf(opts);
  const files = {
    key: join(outDir, 'privkey.pem'),
    cert: join(outDir, 'cert.pem'),
    chain: join(outDir, 'chain.pem'),
    fullchain: join(outDir, 'fullchain.pem'),
  };
  for (const f of Object.values(files)) checkWritable(f, opts.force);
  const p12 = await out.progress('opening the .pfx', async () =>
    parsePKCS12(readInput(opts.pfx, '.pfx file'), {
      requireKey: true,
      ...(password === undefined ? {} : { password }),
    }),
  );
  const key = p12.key!;
  const leaf = p12.leaf!;
  const certPEM = encodePEM('CERTIFICATE', leaf.der);
  const chainPEM = p12.chain.map((c) => encodePEM('CERTIFICATE', c.der)).join('');
  const force = opts.force === true;
  writeOutput(files.key, await encodePrivateKeyPEM(key), { mode: 0o600, force });
  writeOutput(files.cert, certPEM, { force });
  writeOutput(files.chain, chainPEM, { force });
  writeOutput(files.fullchain, certPEM + chainPEM, { force });
  for (const w of p12.warnings) out.warn(w);
  out.result({
    files,
    key: keySummary(key),
    certificate: certSummary(leaf),
    chain: p12.chain.map(certSummary),
    ...(p12.friendlyName === undefined ? {} : { friendlyName: p12.friendlyName }),
    macAlgorithm: p12.macAlgorithm,
    encryption: p12.encryption,
    warnings: p12.warnings,
  });
  out.line(`key:         ${files.key} (${key.describe()}, mode 0600)`);
  out.line(
    `certificate: ${files.cert} (${leaf.subject.toString()}, valid until ${leaf.notAfter.toISOString()})`,
  );
  out.line(
    `chain:       ${files.chain} (${p12.chain.length} certificate${p12.chain.length === 1 ? '' : 's'})`,
  );
  out.line(`full chain:  ${files.fullchain} (certificate + chain, what a mail server sends)`);
  return 0;
}

/** Adds `mailtls pfx export` and `mailtls pfx import` to the program. */
export function registerPfx(program: Command): void {
  const pfx = program
    .command('pfx')
    .summary('export to or import from a PKCS#12 (.pfx/.p12) file')
    .description(
      'Move a server identity (private key, certificate, chain) into or out of a PKCS#12 file (.pfx/.p12), ' +
        'as Windows/IIS/Exchange, macOS Keychain and Java use them.',
    )
    .addHelpText(
      'after',
      examples(
        'mailtls pfx export --key mail.key --cert mail.crt --chain ca-bundle.crt --out mail.pfx --password-file pass.txt',
        'mailtls pfx import --pfx mail.pfx --password-file pass.txt --out-dir /etc/ssl/mail',
      ) + EXIT_CODES_HELP,
    );
  const exp = pfx
    .command('export')
    .description(
      'Write the key, its certificate and the chain to a .pfx (mode 0600, atomically). The default ' +
        'encryption is what OpenSSL 3 writes (AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC); --legacy writes ' +
        '3DES with a SHA-1 MAC for Windows Server 2016 and older. The certificate that belongs to the key ' +
        'goes first, whichever file it is in.',
    )
    .requiredOption('--key <file>', 'the private key (PEM)')
    .requiredOption('--cert <file>', 'the certificate (PEM/DER; may hold the chain too)')
    .option('--chain <file>', 'the intermediate certificates (the CA bundle), any order')
    .requiredOption('--out <file>', 'the .pfx to write');
  secretOptions(exp, 'key-password', 'the pass phrase of an encrypted key');
  secretOptions(exp, 'password', 'the .pfx password ("" for none)');
  exp
    .option('--max-certificates <n>', MAX_CERTIFICATES_HELP, parseMaxCertificates)
    .option('--friendly-name <name>', 'the name Windows and macOS show')
    .option('--legacy', '3DES and SHA-1, for Windows Server 2016 and older')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls pfx export --key mail.key --cert mail.crt --chain ca-bundle.crt --out mail.pfx --password-file pass.txt',
        'PFX_PASS=... mailtls pfx export --key mail.key --cert fullchain.pem --out mail.pfx --password-env PFX_PASS',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: ExportOptions) =>
        await runCommand(opts.json, (out) => exportPfx(opts, out), {
          ...KEY_PASSWORD_HINTS,
          ...MAX_CERTIFICATES_HINTS,
        }),
    );
  const imp = pfx
    .command('import')
    .description(
      'Read a .pfx and write DIR/privkey.pem (the key, PKCS#8, mode 0600), DIR/cert.pem (its ' +
        'certificate), DIR/chain.pem (the other certificates, issuer order) and DIR/fullchain.pem (certificate ' +
        '+ chain, what a mail server sends); or, with --store DIR, install it into the certificate store ' +
        '(validated and atomic, as "mailtls install"). The file must hold a key and its certificate.',
    )
    .requiredOption('--pfx <file>', 'the .pfx/.p12 file (- for standard input)');
  secretOptions(imp, 'password', 'the .pfx password (leave out for none)');
  imp
    .option('--out-dir <dir>', 'where to write privkey.pem, cert.pem, chain.pem, fullchain.pem')
    .option('--store <dir>', 'install into this certificate store instead')
    .option(
      '--domain <name>',
      "with --store: file it under this domain (default: the certificate's Common Name)",
    )
    .option('--trust <file>', "with --store: more trusted roots (Node's bundled roots are trusted too)")
    .option('--group <group>', `with --store: ${GROUP_HELP}`)
    .option('--at <iso-8601>', 'with --store: validate at this time instead of now', parseAt)
    .option('--force', 'replace existing files (--out-dir)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples('mailtls pfx import --pfx mail.pfx --password-file pass.txt --out-dir /etc/ssl/mail') +
        EXIT_CODES_HELP,
    )
    .action(
      async (opts: ImportOptions) =>
        await runCommand(opts.json, (out) => importPfx(opts, out), passwordHints('--password')),
    );
}
