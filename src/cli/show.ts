/**
 * `mailtls show`: print what a file holds (certificates, bundles, CSRs, keys, public keys) readably, like
 * `openssl x509 -text` / `openssl req -text`, never printing private key material.
 *
 * The library never guesses formats; this command does, as a convenience. PEM text: each block by its label.
 * Binary (DER) files are tried in this order, the first that parses wins: (1) DER certificate, several
 * concatenated, or PKCS#7 (.p7b); (2) DER CSR; (3) PKCS#12 (.pfx/.p12); (4) DER private key: PKCS#8,
 * PKCS#1 (RSA), SEC1 (EC), encrypted PKCS#8; (5) DER public key (SubjectPublicKeyInfo).
 *
 * @module cli/show
 */
import type { Command } from 'commander';
import { nameEquals } from '../entry/name.js';
import {
  type CertificateSigningRequest,
  describeCertificate,
  describeCSR,
  isMailTlsError,
  MailTlsError,
  type PEMBlock,
  type PrivateKey,
  type PrivateKeyDERFormat,
  type PublicKey,
  parseCertificate,
  parseCertificateBundle,
  parseCSR,
  parsePEM,
  parsePKCS12,
  parsePrivateKey,
  parsePublicKeyDER,
  verifyCSRSignature,
} from '../index.js';
import {
  DEFAULT_MAX_CERTIFICATES,
  examples,
  MAX_CERTIFICATES_HELP,
  MAX_CERTIFICATES_HINTS,
  type PasswordOptions,
  parseMaxCertificates,
  passwordHints,
  passwordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { findPrivateKeyDER, notThisFormat } from './der-formats.js';
import { looksLikeText, readInput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { fingerprintOf, type Item, shortLine, visible } from './show-lines.js';

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'PKCS #7 SIGNED DATA', 'CMS']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const KEY_FORMATS: Readonly<Record<string, string>> = {
  'PRIVATE KEY': 'PKCS#8',
  'ENCRYPTED PRIVATE KEY': 'PKCS#8, encrypted',
  'RSA PRIVATE KEY': 'PKCS#1 (traditional RSA)',
  'EC PRIVATE KEY': 'SEC1 (traditional EC)',
};
const UNSUPPORTED_KEYS = new Set(['DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY']);

async function csrItem(source: string, csr: CertificateSigningRequest): Promise<Item> {
  let signature: string | null = null;
  try {
    await verifyCSRSignature(csr);
  } catch (e) {
    if (!isMailTlsError(e)) throw e;
    signature = e.message;
  }
  return { kind: 'csr', source, csr, signature };
}

async function pemKeyItem(source: string, block: PEMBlock, text: string, password?: string): Promise<Item> {
  const legacy = block.headers['Proc-Type']?.includes('ENCRYPTED') === true;
  const encrypted = legacy || block.label === 'ENCRYPTED PRIVATE KEY';
  const format = `${KEY_FORMATS[block.label] ?? block.label}${legacy ? ', encrypted (legacy Proc-Type)' : ''}`;
  const dek = block.headers['DEK-Info']?.split(',')[0];
  if (encrypted && password === undefined) {
    let encryption: string | undefined = dek;
    try {
      await parsePrivateKey(text.slice(block.start, block.end));
    } catch (e) {
      if (!isMailTlsError(e, 'ERR_KEY_ENCRYPTED')) throw e;
      const enc = e.details.encryption;
      if (typeof enc === 'string') encryption = enc;
    }
    return {
      kind: 'private-key',
      source,
      format,
      encrypted,
      ...(encryption === undefined ? {} : { encryption }),
    };
  }
  const key = await parsePrivateKey(
    text.slice(block.start, block.end),
    password === undefined ? {} : { passphrase: password },
  );
  return {
    kind: 'private-key',
    source,
    format,
    encrypted,
    ...(dek === undefined ? {} : { encryption: dek }),
    key,
  };
}

/**
 * Refuses a file with more than `max` certificates before any is parsed (the same limit as
 * `parseCertificateBundle` and `mailtls install`).
 */
function tooManyCertificates(max: number): never {
  throw new MailTlsError(
    'ERR_CERT_TOO_MANY',
    `The file holds more than ${max} certificates; this is not an ordinary chain or CA bundle. ` +
      'Give --max-certificates N to show a larger one.',
    { details: { maxCertificates: max } },
  );
}

async function fromPEM(text: string, password: string | undefined, max: number): Promise<Item[]> {
  let blocks: PEMBlock[];
  try {
    blocks = parsePEM(text);
  } catch (e) {
    if (isMailTlsError(e, 'ERR_PEM_NO_BLOCK') && /^\s*MI[I-M][A-Za-z0-9+/]{8}/.test(text))
      throw new CLIError(
        'ERR_CLI_FORMAT',
        'The file looks like base64 without PEM lines: decode it first (base64 -d FILE > FILE.der) and show that.',
      );
    throw e;
  }
  if (blocks.filter((b) => CERT_LABELS.has(b.label)).length > max) tooManyCertificates(max);
  const items: Item[] = [];
  let certificates = 0;
  for (const [i, b] of blocks.entries()) {
    const source = `PEM block ${i + 1}: ${b.label}`;
    if (CERT_LABELS.has(b.label)) {
      certificates++;
      items.push({ kind: 'certificate', source, cert: parseCertificate(b.bytes) });
    } else if (PKCS7_LABELS.has(b.label)) {
      const bundle = parseCertificateBundle(text.slice(b.start, b.end), {
        maxCertificates: Math.max(1, max - certificates),
      });
      certificates += bundle.certificates.length;
      if (certificates > max) tooManyCertificates(max);
      for (const [j, cert] of bundle.certificates.entries())
        items.push({ kind: 'certificate', source: `${source}, certificate ${j + 1}`, cert });
      for (const s of bundle.skipped)
        items.push({
          kind: 'skipped',
          source: `${source}, item ${s.index + 1}`,
          label: s.label,
          reason: s.reason,
        });
    } else if (CSR_LABELS.has(b.label)) items.push(await csrItem(source, parseCSR(b.bytes)));
    else if (b.label in KEY_FORMATS) items.push(await pemKeyItem(source, b, text, password));
    else if (UNSUPPORTED_KEYS.has(b.label)) {
      // parsePrivateKey explains what to do with DSA and OpenSSH keys.
      await parsePrivateKey(text.slice(b.start, b.end));
    } else if (b.label === 'PUBLIC KEY')
      items.push({ kind: 'public-key', source, key: parsePublicKeyDER(b.bytes) });
    else if (b.label === 'EC PARAMETERS')
      items.push({
        kind: 'skipped',
        source,
        label: b.label,
        reason: 'the curve name that "openssl ecparam -genkey" writes before the key; not needed',
      });
    else
      items.push({
        kind: 'skipped',
        source,
        label: b.label,
        reason: 'not a certificate, CSR or key; mailtls show does not describe it',
      });
  }
  return items;
}

async function fromDER(
  bytes: Uint8Array,
  password: string | undefined,
  max: number,
): Promise<{ items: Item[]; format: string }> {
  const tried: string[] = [];
  try {
    const bundle = parseCertificateBundle(bytes, { maxCertificates: max });
    const items: Item[] = bundle.certificates.map((cert, i) => ({
      kind: 'certificate',
      source: bundle.certificates.length === 1 ? 'DER' : `${bundle.format} certificate ${i + 1}`,
      cert,
    }));
    for (const s of bundle.skipped)
      items.push({ kind: 'skipped', source: `item ${s.index + 1}`, label: s.label, reason: s.reason });
    return { items, format: bundle.format === 'der' ? 'der-certificate' : bundle.format };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_CERT_INVALID', 'ERR_CERT_UNSUPPORTED'])) throw e;
    tried.push(`certificate/PKCS#7: ${(e as Error).message}`);
  }
  try {
    const csr = parseCSR(bytes);
    return { items: [await csrItem('DER', csr)], format: 'der-csr' };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_CSR_INVALID'])) throw e;
    tried.push(`CSR: ${(e as Error).message}`);
  }
  try {
    const contents = await parsePKCS12(bytes, {
      requireCertificate: false,
      ...(password === undefined ? {} : { password }),
    });
    const items: Item[] = [{ kind: 'pkcs12', source: 'PKCS#12', contents }];
    if (contents.leaf !== undefined)
      items.push({ kind: 'certificate', source: 'PKCS#12: the certificate of the key', cert: contents.leaf });
    for (const [i, cert] of contents.chain.entries())
      items.push({ kind: 'certificate', source: `PKCS#12: other certificate ${i + 1}`, cert });
    return { items, format: 'pkcs12' };
  } catch (e) {
    // A wrong or missing password, or an unsupported algorithm, is a PKCS#12 file: report it.
    if (!notThisFormat(e, ['ERR_PKCS12_INVALID'])) throw e;
    tried.push(`PKCS#12: ${(e as Error).message}`);
  }
  const keyFormats: Record<PrivateKeyDERFormat, string> = {
    pkcs8: 'PKCS#8',
    pkcs1: 'PKCS#1 (traditional RSA)',
    sec1: 'SEC1 (traditional EC)',
    'encrypted-pkcs8': 'PKCS#8, encrypted',
  };
  const match = await findPrivateKeyDER(bytes, password);
  if (match.found === 'key') {
    const { format, key } = match;
    return {
      items: [
        {
          kind: 'private-key',
          source: 'DER',
          format: keyFormats[format],
          encrypted: format === 'encrypted-pkcs8',
          key,
        },
      ],
      format: 'der-private-key',
    };
  }
  if (match.found === 'encrypted') {
    const enc = match.error.details.encryption;
    return {
      items: [
        {
          kind: 'private-key',
          source: 'DER',
          format: keyFormats[match.format],
          encrypted: true,
          ...(typeof enc === 'string' ? { encryption: enc } : {}),
        },
      ],
      format: 'der-private-key',
    };
  }
  for (const t of match.tried) tried.push(`${keyFormats[t.format]} key: ${t.message}`);
  const unsupported = match.unsupported;
  try {
    return {
      items: [{ kind: 'public-key', source: 'DER', key: parsePublicKeyDER(bytes) }],
      format: 'der-public-key',
    };
  } catch (e) {
    if (!notThisFormat(e, ['ERR_KEY_INVALID', 'ERR_KEY_UNSUPPORTED'])) throw e;
    tried.push(`public key: ${(e as Error).message}`);
  }
  if (unsupported !== undefined) throw unsupported;
  throw new CLIError(
    'ERR_CLI_FORMAT',
    'The file is binary but none of the formats mailtls reads: not a DER certificate, PKCS#7 bundle, CSR, ' +
      'private key or public key. Check that the file is complete.',
    { tried },
  );
}

function keyLines(key: PrivateKey | PublicKey): string[] {
  const fp = 'publicKey' in key ? key.publicKey.fingerprint() : key.fingerprint();
  return [
    `    Type: ${key.describe()}`,
    `    Public Key SHA-256 (hex, DANE 3 1 1): ${fp.sha256Hex}`,
    `    Public Key SHA-256 (base64): ${fp.sha256Base64}`,
  ];
}

function itemJSON(item: Item): Record<string, unknown> {
  switch (item.kind) {
    case 'certificate':
      return { kind: item.kind, source: item.source, certificate: item.cert.toJSON() };
    case 'csr':
      return {
        kind: item.kind,
        source: item.source,
        csr: item.csr.toJSON(),
        signatureValid: item.signature === null,
        ...(item.signature === null ? {} : { signatureProblem: item.signature }),
      };
    case 'private-key':
      return {
        kind: item.kind,
        source: item.source,
        format: item.format,
        encrypted: item.encrypted,
        ...(item.encryption === undefined ? {} : { encryption: item.encryption }),
        ...(item.key === undefined ? {} : { key: item.key.toJSON(), description: item.key.describe() }),
      };
    case 'public-key': {
      const fp = item.key.fingerprint();
      return {
        kind: item.kind,
        source: item.source,
        type: item.key.type,
        description: item.key.describe(),
        ...(item.key.bits === undefined ? {} : { bits: item.key.bits }),
        ...(item.key.curve === undefined ? {} : { curve: item.key.curve }),
        spkiSha256: fp.sha256Hex,
      };
    }
    case 'skipped':
      return { kind: item.kind, source: item.source, label: item.label, reason: item.reason };
    case 'pkcs12': {
      const c = item.contents;
      return {
        kind: item.kind,
        source: item.source,
        ...(c.key === undefined ? {} : { key: c.key.toJSON(), keyDescription: c.key.describe() }),
        certificates: c.certificates.length,
        hasLeaf: c.leaf !== undefined,
        ...(c.friendlyName === undefined ? {} : { friendlyName: c.friendlyName }),
        macAlgorithm: c.macAlgorithm,
        ...(c.macIterations === undefined ? {} : { macIterations: c.macIterations }),
        encryption: c.encryption,
        warnings: c.warnings,
      };
    }
  }
}

function itemText(item: Item, verbose: boolean, out: Output): string {
  const head = (title: string) => `${out.paint('bold', `# ${visible(item.source)}`)}\n${title}:`;
  switch (item.kind) {
    case 'certificate':
      return `${out.paint('bold', `# ${item.source}`)}\n${describeCertificate(item.cert, { verbose }).trimEnd()}`;
    case 'csr':
      return [
        out.paint('bold', `# ${item.source}`),
        describeCSR(item.csr, { verbose }).trimEnd(),
        item.signature === null
          ? `    Self-signature: ${out.paint('green', 'valid')}`
          : `    Self-signature: ${out.paint('red', 'INVALID')}: ${item.signature}`,
      ].join('\n');
    case 'private-key':
      return [
        head('Private Key'),
        `    Format: ${item.format}`,
        `    Encrypted: ${item.encrypted ? `yes${item.encryption === undefined ? '' : ` (${item.encryption})`}` : 'no'}`,
        ...(item.key === undefined
          ? ['    (give --password-file FILE or --password-env VAR to see the key type and fingerprint)']
          : keyLines(item.key)),
        ...(item.encrypted ? ['    Note: a mail server cannot start unattended with an encrypted key.'] : []),
      ].join('\n');
    case 'public-key':
      return [head('Public Key'), ...keyLines(item.key)].join('\n');
    case 'skipped':
      return `${head('Skipped')}\n    ${visible(item.label)}: ${visible(item.reason)}`;
    case 'pkcs12': {
      const c = item.contents;
      return [
        head('PKCS#12'),
        `    Integrity: ${c.macAlgorithm}${c.macIterations === undefined ? '' : `, Iteration ${c.macIterations}`}`,
        ...c.encryption.map((e) => `    Encryption: ${e}`),
        ...(c.friendlyName === undefined ? [] : [`    Friendly Name: ${visible(c.friendlyName)}`]),
        `    Certificates: ${c.certificates.length}${c.leaf === undefined ? '' : ' (one belongs to the key)'}`,
        ...(c.key === undefined
          ? ['    Private Key: none']
          : ['    Private Key:', ...keyLines(c.key).map((l) => `    ${l}`)]),
        ...c.warnings.map((w) => `    Warning: ${visible(w)}`),
      ].join('\n');
    }
  }
}

/** Advice about the certificates of a file: chain order, leaf position. */
function certificateNotes(items: readonly Item[]): string[] {
  const certs = items.flatMap((i) => (i.kind === 'certificate' ? [i.cert] : []));
  if (certs.length < 2) return [];
  const inOrder = certs.every((c, i) => {
    const next = certs[i + 1];
    return next === undefined || nameEquals(c.issuer, next.subject);
  });
  if (inOrder) return [];
  return [
    `The ${certs.length} certificates are not in chain order (the server certificate first, each followed by ` +
      'its issuer). Servers send them in file order; "mailtls verify" and "mailtls install" sort them.',
  ];
}

interface ShowOptions extends PasswordOptions {
  verbose?: boolean;
  fingerprint?: boolean;
  short?: boolean;
  maxCertificates?: number;
  json?: boolean;
}

async function show(file: string, opts: ShowOptions, out: Output): Promise<number> {
  if (opts.fingerprint === true && opts.short === true)
    throw new CLIError('ERR_CLI_USAGE', 'Give either --fingerprint or --short, not both.');
  const password = passwordOf(opts);
  const bytes = readInput(file);
  const max = opts.maxCertificates ?? DEFAULT_MAX_CERTIFICATES;
  let items: Item[];
  let format: string;
  if (looksLikeText(bytes)) {
    items = await fromPEM(new TextDecoder('utf-8').decode(bytes), password, max);
    format = 'pem';
  } else ({ items, format } = await fromDER(bytes, password, max));
  if (opts.fingerprint === true) {
    const fps = items.flatMap((i) => {
      const f = fingerprintOf(i);
      return f === undefined ? [] : [f];
    });
    out.result({ file, format, fingerprints: fps });
    for (const f of fps)
      out.line(f.type === 'sha256' ? `SHA256 Fingerprint=${f.value}` : `SPKI SHA256=${f.value}`);
    return 0;
  }
  if (opts.short === true) {
    const at = new Date();
    const lines = items.flatMap((i) => {
      const l = shortLine(i, at);
      return l === undefined ? [] : [l];
    });
    out.result({ file, format, lines });
    for (const l of lines) out.line(l);
    return 0;
  }
  const notes = certificateNotes(items);
  out.result({ file, format, items: items.map(itemJSON), notes });
  out.line(items.map((i) => itemText(i, opts.verbose === true, out)).join('\n\n'));
  for (const n of notes) out.line(`\n${out.paint('yellow', 'Note:')} ${n}`);
  return 0;
}

/** Adds `mailtls show` to the program. */
export function registerShow(program: Command): void {
  const cmd = program
    .command('show')
    .summary('print a certificate, bundle, CSR or key readably')
    .description(
      'Print what FILE holds (- for standard input), like "openssl x509 -text" / "openssl req -text": ' +
        'certificates and bundles (PEM, DER, PKCS#7), CSRs (with their self-signature check), private keys ' +
        '(format, encrypted or not, type, size and public key fingerprint: never the private key itself) and ' +
        'public keys. PEM files: each block by its label. Binary files are tried in this order, the first ' +
        'that parses wins: DER certificate(s) or PKCS#7, DER CSR, PKCS#12 (.pfx/.p12, --password-file), DER ' +
        'private key (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8), DER public key. --fingerprint prints one line ' +
        'per item: a certificate\'s SHA-256 fingerprint (as "openssl x509 -noout -fingerprint -sha256"), the ' +
        'public key SHA-256 (DANE 3 1 1 data) of a key or CSR. --short prints one line per item: names, ' +
        'expiry, issuer.',
    )
    .argument('<file>', 'the file to show (- for standard input)');
  secretOptions(cmd, 'password', 'the pass phrase of an encrypted key, or the password of a .pfx');
  cmd
    .option('--fingerprint', 'one line per item: SHA-256 fingerprint (keys and CSRs: of the public key)')
    .option('--short', 'one line per item: names, expiry, issuer')
    .option('--verbose', 'also dump key numbers and signatures, as OpenSSL does')
    .option('--max-certificates <n>', MAX_CERTIFICATES_HELP, parseMaxCertificates)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls show /etc/ssl/certs/mail.pem',
        'mailtls show reseller-bundle.crt --json',
        'mailtls show req.pem',
        'mailtls show mail.key --password-file pass.txt',
        'mailtls show mail.crt --fingerprint',
        'openssl s_client -connect mail.example.com:465 </dev/null | mailtls show - --short',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (file: string, opts: ShowOptions) =>
        await runCommand(opts.json, (out) => show(file, opts, out), {
          ...passwordHints('--password'),
          ...MAX_CERTIFICATES_HINTS,
        }),
    );
}
