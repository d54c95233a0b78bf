/**
 * `mailtls sign`: issue a server certificate from a CSR with a private CA (`mailtls ca init`, or a CA
 * certificate and key), like `openssl x509 -req -CA` and `step certificate sign`. Only the names the CSR asks
 * for are certified (its Common Name and subjectAltName DNS names and IP addresses); every other requested
 * extension is ignored: the certificate gets basicConstraints CA:FALSE, keyUsage for its key type and the
 * serverAuth extended key usage. Whatever the library's `issueCertificate` refuses is refused.
 *
 * @module cli/sign
 */
import type { Command } from 'commander';
import { issueCertificate, parseCertificate, parseCSR } from '../index.js';
import { loadCA, parseDays } from './ca.js';
import {
  examples,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkWritable, looksLikeText, readInput, writeOutput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';

/** The longest validity Apple's clients accept for a TLS server certificate from a private CA, in days. */
const APPLE_MAX_DAYS = 825;

interface SignOptions extends KeyPasswordOptions {
  ca?: string;
  caCert?: string;
  caKey?: string;
  csr: string;
  days?: number;
  out?: string;
  leafOnly?: boolean;
  clientAuth?: boolean;
  force?: boolean;
  json?: boolean;
}

async function sign(opts: SignOptions, out: Output): Promise<number> {
  if (opts.out !== undefined) checkWritable(opts.out, opts.force);
  const days = opts.days ?? 397;
  const ca = await loadCA({ dir: opts.ca, cert: opts.caCert, key: opts.caKey }, keyPasswordOf(opts));
  const bytes = readInput(opts.csr, 'CSR');
  const csrBytes = looksLikeText(bytes) ? new TextDecoder('utf-8').decode(bytes) : bytes;
  const request = parseCSR(csrBytes);
  const issued = await out.progress('signing', () =>
    issueCertificate(
      csrBytes,
      { cert: ca.cert.der, key: ca.key, chainPEM: ca.chainPEM },
      {
        at: new Date(),
        days,
        ...(opts.clientAuth === true ? { clientAuth: true } : {}),
      },
    ),
  );
  const pem = opts.leafOnly === true ? issued.certPEM : issued.chainPEM;
  if (days > APPLE_MAX_DAYS)
    out.warn(
      `${days} days is longer than the ${APPLE_MAX_DAYS} days Apple's clients accept for a server certificate ` +
        'even from a private CA: macOS and iOS mail clients will refuse it. Give --days 825 or less.',
      'LONG_VALIDITY',
    );
  if (opts.out !== undefined) writeOutput(opts.out, pem, { force: opts.force === true });
  const leaf = parseCertificate(issued.certDER);
  const requested = [...request.dnsNames, ...request.ipAddresses];
  out.result({
    ...(opts.out === undefined ? { pem } : { file: opts.out }),
    subject: leaf.subject.toString(),
    issuer: leaf.issuer.toString(),
    serialNumber: issued.serialNumber,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
    dnsNames: issued.dnsNames,
    ipAddresses: issued.ipAddresses,
    requested,
    sha256: leaf.fingerprint('sha256'),
    chainCertificates: (pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 1) - 1,
    ...(ca.rootFile === undefined ? {} : { root: ca.rootFile }),
  });
  if (opts.out === undefined) out.line(pem.trimEnd());
  else {
    out.line(`wrote ${opts.out}: ${leaf.subject.toString()}, serial ${issued.serialNumber}`);
    out.line(`  names: ${[...issued.dnsNames, ...issued.ipAddresses].join(', ')}`);
    out.line(`  valid ${issued.notBefore.toISOString()} to ${issued.notAfter.toISOString()} (${days} days)`);
    out.line(`  issuer: ${leaf.issuer.toString()}`);
    if (ca.rootFile !== undefined) out.line(`  clients must trust ${ca.rootFile}`);
  }
  return 0;
}

/** Adds `mailtls sign` to the program. */
export function registerSign(program: Command): void {
  const cmd = program
    .command('sign')
    .summary('issue a server certificate from a CSR with a private CA')
    .description(
      'Issue a server certificate for --csr with the CA of --ca DIR (made by "mailtls ca init": its ' +
        'intermediate when it has one, else its root) or of --ca-cert and --ca-key, like "openssl x509 -req ' +
        '-CA" and "step certificate sign". The CSR\'s self-signature is checked; only the names it asks for ' +
        '(Common Name, DNS names, IP addresses) are certified; the certificate gets CA:FALSE, keyUsage for its ' +
        'key and extendedKeyUsage serverAuth, whatever else the CSR requests. Validity: from now, --days ' +
        "(default 397; never past the CA's own end). Writes (or prints) the certificate followed by the CA " +
        'certificates a server sends (--leaf-only: the certificate alone).',
    )
    .option('--ca <dir>', 'the CA directory of "mailtls ca init"')
    .option(
      '--ca-cert <file>',
      'the CA certificate (instead of --ca; may hold its own intermediates after it)',
    )
    .option('--ca-key <file>', 'the CA private key (with --ca-cert)')
    .requiredOption('--csr <file>', 'the certificate signing request (PEM or DER; - for standard input)')
    .option('--days <n>', 'validity in days (default 397)', parseDays)
    .option('--out <file>', 'where to write the certificate (default: standard output)')
    .option('--leaf-only', 'write the certificate alone, without the CA chain')
    .option('--client-auth', 'also allow TLS client authentication (extendedKeyUsage clientAuth)');
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted CA key');
  cmd
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls sign --ca lab-ca --csr req.pem --out mail.crt',
        'mailtls sign --ca-cert ca.crt --ca-key ca.key --key-password-file ca-pass.txt --csr req.pem --days 90 --out mail.crt',
        'mailtls csr --cn mail.lan --san mail.lan --out-dir . && mailtls sign --ca lab-ca --csr - < req.pem > mail.crt',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: SignOptions) => {
      await runCommand(
        opts.json,
        (out) => {
          if (opts.ca === undefined && opts.caCert === undefined)
            throw new CLIError(
              'ERR_CLI_USAGE',
              'Give the CA with --ca DIR (made by "mailtls ca init") or with --ca-cert FILE and --ca-key FILE.',
            );
          return sign(opts, out);
        },
        KEY_PASSWORD_HINTS,
      );
    });
}
