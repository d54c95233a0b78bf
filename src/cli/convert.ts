/**
 * `mailtls convert`: certificates, CSRs, keys and .pfx files between the formats servers want: DER to PEM
 * and back, traditional PKCS#1 (`RSA PRIVATE KEY`) and SEC1 (`EC PRIVATE KEY`) keys to PKCS#8, an encrypted
 * key to a plain one, a .pfx to PEM (key, certificate, chain).
 *
 * Like `mailtls show`, the input format is recognised (the library itself never guesses): PEM by its labels;
 * binary input as DER certificate(s) or PKCS#7, DER CSR, PKCS#12, DER private key (PKCS#8, PKCS#1, SEC1,
 * encrypted PKCS#8), DER public key, the first that parses.
 *
 * @module cli/convert
 */
import type { Command } from 'commander';
import {
  type Certificate,
  type CertificateSigningRequest,
  encodeChainPEM,
  encodePEM,
  encodePrivateKeyPEM,
  encodePublicKeyPEM,
  type PrivateKey,
  type PrivateKeyDERFormat,
  type PublicKey,
  parseCertificateBundle,
  parseCSR,
  parsePEM,
  parsePKCS12,
  parsePrivateKey,
  parsePublicKeyDER,
} from '../index.js';
import {
  examples,
  type PasswordOptions,
  passwordHints,
  passwordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { findPrivateKeyDER, notThisFormat } from './der-formats.js';
import { checkWritable, looksLikeText, readInput, writeOutput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';

/** What the input holds. */
type Input =
  | { kind: 'certificates'; from: string; certs: readonly Certificate[] }
  | { kind: 'csr'; from: string; csr: CertificateSigningRequest }
  | { kind: 'private-key'; from: string; key: PrivateKey }
  | { kind: 'public-key'; from: string; key: PublicKey }
  | { kind: 'pkcs12'; from: string; key: PrivateKey | undefined; certs: readonly Certificate[] };

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE', 'PKCS7', 'CMS']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const KEY_LABELS: Readonly<Record<string, string>> = {
  'PRIVATE KEY': 'PKCS#8 PEM',
  'ENCRYPTED PRIVATE KEY': 'encrypted PKCS#8 PEM',
  'RSA PRIVATE KEY': 'PKCS#1 PEM',
  'EC PRIVATE KEY': 'SEC1 PEM',
};

async function fromText(text: string, password: string | undefined): Promise<Input> {
  const blocks = parsePEM(text);
  const first = blocks.find(
    (b) =>
      CERT_LABELS.has(b.label) ||
      CSR_LABELS.has(b.label) ||
      b.label in KEY_LABELS ||
      b.label === 'PUBLIC KEY',
  );
  if (first === undefined)
    throw new CLIError(
      'ERR_CLI_FORMAT',
      `The input holds no certificate, CSR or key in PEM (labels: ${blocks.map((b) => b.label).join(', ')}).`,
    );
  if (CERT_LABELS.has(first.label))
    return { kind: 'certificates', from: 'PEM', certs: parseCertificateBundle(text).certificates };
  if (CSR_LABELS.has(first.label)) return { kind: 'csr', from: 'PEM', csr: parseCSR(first.bytes) };
  if (first.label === 'PUBLIC KEY')
    return { kind: 'public-key', from: 'PEM', key: parsePublicKeyDER(first.bytes) };
  const key = await parsePrivateKey(
    text.slice(first.start, first.end),
    password === undefined ? {} : { passphrase: password },
  );
  return { kind: 'private-key', from: KEY_LABELS[first.label] ?? first.label, key };
}

async function fromDER(bytes: Uint8Array, password: string | undefined): Promise<Input> {
  try {
    const b = parseCertificateBundle(bytes);
    return { kind: 'certificates', from: b.format === 'der' ? 'DER' : b.format, certs: b.certificates };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_CERT_INVALID', 'ERR_CERT_UNSUPPORTED'])) throw e;
  }
  try {
    return { kind: 'csr', from: 'DER', csr: parseCSR(bytes) };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_CSR_INVALID'])) throw e;
  }
  try {
    const p = await parsePKCS12(bytes, {
      requireCertificate: false,
      ...(password === undefined ? {} : { password }),
    });
    const certs = p.leaf === undefined ? p.certificates : [p.leaf, ...p.chain];
    return { kind: 'pkcs12', from: 'PKCS#12', key: p.key, certs };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_PKCS12_INVALID'])) throw e;
  }
  const names: Record<PrivateKeyDERFormat, string> = {
    pkcs8: 'PKCS#8 DER',
    pkcs1: 'PKCS#1 DER',
    sec1: 'SEC1 DER',
    'encrypted-pkcs8': 'encrypted PKCS#8 DER',
  };
  const match = await findPrivateKeyDER(bytes, password);
  if (match.found === 'key') return { kind: 'private-key', from: names[match.format], key: match.key };
  if (match.found === 'encrypted') throw match.error;
  const unsupported = match.unsupported;
  try {
    return { kind: 'public-key', from: 'DER', key: parsePublicKeyDER(bytes) };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_KEY_INVALID', 'ERR_KEY_UNSUPPORTED'])) throw e;
  }
  if (unsupported !== undefined) throw unsupported;
  throw new CLIError(
    'ERR_CLI_FORMAT',
    'The input is binary but none of the formats mailtls converts: not a DER certificate, PKCS#7 bundle, CSR, ' +
      '.pfx, private key or public key. Check that the file is complete.',
  );
}

/** The output bytes or text, whether it holds a private key, and what it is in words. */
async function convertTo(
  input: Input,
  to: string,
): Promise<{ data: string | Uint8Array; secret: boolean; what: string }> {
  const refuse = (why: string): never => {
    throw new CLIError('ERR_CLI_USAGE', why, { kind: input.kind, to });
  };
  switch (input.kind) {
    case 'certificates':
      if (to === 'pkcs8')
        refuse('--to pkcs8 is for private keys; the input holds certificates (use --to pem or der).');
      if (to === 'der') {
        if (input.certs.length !== 1)
          refuse(
            `DER holds one certificate and the input holds ${input.certs.length}: split it, or keep PEM (--to pem).`,
          );
        return { data: input.certs[0]!.der, secret: false, what: 'DER certificate' };
      }
      return {
        data: encodeChainPEM(input.certs),
        secret: false,
        what: `${input.certs.length} PEM certificate(s)`,
      };
    case 'csr':
      if (to === 'pkcs8') refuse('--to pkcs8 is for private keys; the input is a CSR (use --to pem or der).');
      return to === 'der'
        ? { data: input.csr.der, secret: false, what: 'DER CSR' }
        : { data: encodePEM('CERTIFICATE REQUEST', input.csr.der), secret: false, what: 'PEM CSR' };
    case 'public-key':
      if (to === 'pkcs8')
        refuse('--to pkcs8 is for private keys; the input is a public key (use --to pem or der).');
      return to === 'der'
        ? { data: input.key.spki, secret: false, what: 'DER public key' }
        : { data: encodePublicKeyPEM(input.key), secret: false, what: 'PEM public key' };
    case 'private-key':
      if (to === 'der')
        return { data: input.key.exportPKCS8(), secret: true, what: 'PKCS#8 DER private key' };
      return { data: await encodePrivateKeyPEM(input.key), secret: true, what: 'PKCS#8 PEM private key' };
    case 'pkcs12': {
      if (to !== 'pem') refuse('A .pfx converts to PEM only (--to pem): the key, then the certificates.');
      const key = input.key === undefined ? '' : await encodePrivateKeyPEM(input.key);
      return {
        data: key + encodeChainPEM(input.certs),
        secret: input.key !== undefined,
        what: `PEM${input.key === undefined ? '' : ' key and'} ${input.certs.length} certificate(s)`,
      };
    }
  }
}

interface ConvertOptions extends PasswordOptions {
  to: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

async function convert(file: string, opts: ConvertOptions, out: Output): Promise<number> {
  if (!['pem', 'der', 'pkcs8'].includes(opts.to))
    throw new CLIError('ERR_CLI_USAGE', `--to must be pem, der or pkcs8, not ${opts.to}.`);
  if (opts.out === undefined && out.json)
    throw new CLIError(
      'ERR_CLI_USAGE',
      'With --json the result goes to --out FILE (standard output holds the JSON).',
    );
  if (opts.out !== undefined) checkWritable(opts.out, opts.force);
  const password = passwordOf(opts);
  const bytes = readInput(file, 'input');
  const input = looksLikeText(bytes)
    ? await fromText(new TextDecoder('utf-8').decode(bytes), password)
    : await fromDER(bytes, password);
  const { data, secret, what } = await convertTo(input, opts.to);
  try {
    if (opts.out === undefined) process.stdout.write(data);
    else writeOutput(opts.out, data, { mode: secret ? 0o600 : 0o644, force: opts.force === true });
  } finally {
    // A DER key is a copy made for this output: wiped once written (stdout has copied it).
    if (secret && data instanceof Uint8Array) data.fill(0);
  }
  out.result({
    file: opts.out ?? null,
    input: input.kind,
    from: input.from,
    to: opts.to,
    output: what,
    mode: secret ? '0600' : '0644',
  });
  if (opts.out !== undefined)
    out.note(`wrote ${opts.out}: ${what} (from ${input.from}${secret ? ', mode 0600' : ''})`);
  return 0;
}

/** Adds `mailtls convert` to the program. */
export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .summary('convert certificates, CSRs and keys between PEM, DER and PKCS#8')
    .description(
      'Convert FILE (- for standard input): --to pem writes certificates, CSRs and public keys as PEM and ' +
        'private keys as unencrypted PKCS#8 PEM ("PRIVATE KEY"); --to der writes DER (one certificate, a CSR, ' +
        'a public key, or a PKCS#8 key); --to pkcs8 turns a PKCS#1 ("RSA PRIVATE KEY"), SEC1 ("EC PRIVATE ' +
        'KEY") or encrypted key into PKCS#8 PEM. A .pfx becomes PEM: the key, then the certificates. Private ' +
        'keys are written with mode 0600. Without --out the result goes to standard output.',
    )
    .argument('<file>', 'the input (PEM or DER; - for standard input)')
    .requiredOption('--to <format>', 'pem, der or pkcs8')
    .option('--out <file>', 'where to write (default: standard output)');
  secretOptions(cmd, 'password', 'the pass phrase of an encrypted key, or the password of a .pfx');
  cmd
    .option('--force', 'replace an existing file')
    .option('--json', 'print what was done as JSON (needs --out)')
    .addHelpText(
      'after',
      examples(
        'mailtls convert rsa.key --to pkcs8 --out rsa-pkcs8.key',
        'mailtls convert mail.der --to pem --out mail.pem',
        'mailtls convert mail.pem --to der > mail.der',
        'mailtls convert mail.pfx --to pem --password-file pass.txt --out mail-all.pem',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (file: string, opts: ConvertOptions) =>
        await runCommand(opts.json, (out) => convert(file, opts, out), passwordHints('--password')),
    );
}
