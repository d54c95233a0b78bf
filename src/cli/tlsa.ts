/**
 * `mailtls tlsa`: the DANE TLSA record (RFC 7672: `3 1 1` for SMTP) of a certificate or key, as a zone-file
 * line.
 *
 * @module cli/tlsa
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  isCertificate,
  isMailTlsError,
  parseCertificate,
  parsePEM,
  parsePrivateKey,
  parsePublicKey,
  parsePublicKeyDER,
} from '../index.js';
import { type TLSARecord, type TLSASubject, tlsaRecords } from '../tls/tlsa.js';
import {
  collect,
  examples,
  KEY_PASSWORD_HINTS,
  type KeyPasswordOptions,
  keyPasswordOf,
  parsePort,
  runCommand,
  secretOptions,
} from './common.js';
import { looksLikeText, readInput } from './files.js';
import { CLIError, EXIT_CODES_HELP } from './output.js';

const KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** A certificate (the first of the file), a private key or a public key, PEM or DER. */
async function readSubject(file: string, keyPassword?: string): Promise<TLSASubject> {
  const bytes = readInput(file);
  if (!looksLikeText(bytes)) {
    try {
      return parseCertificate(bytes);
    } catch (e) {
      if (!isMailTlsError(e)) throw e;
      try {
        return parsePublicKeyDER(bytes);
      } catch {
        throw e;
      }
    }
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  const first = parsePEM(text).find(
    (b) => b.label === 'CERTIFICATE' || b.label === 'PUBLIC KEY' || KEY_LABELS.has(b.label),
  );
  if (first === undefined)
    throw new CLIError('ERR_CLI_FORMAT', `${file} holds no certificate, public key or private key in PEM.`, {
      file,
    });
  if (first.label === 'CERTIFICATE') return parseCertificate(text);
  if (first.label === 'PUBLIC KEY') return parsePublicKey(text);
  return parsePrivateKey(text, keyPassword === undefined ? {} : { passphrase: keyPassword });
}

function digit<T extends number>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    const n = Number(value);
    if (!/^\d$/.test(value) || !allowed.includes(n as T))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}.`);
    return n as T;
  };
}

interface TLSACommandOptions extends KeyPasswordOptions {
  cert: string;
  next?: string;
  mx?: string[];
  port?: number;
  usage?: 0 | 1 | 2 | 3;
  selector?: 0 | 1;
  matchingType?: 0 | 1 | 2;
  ttl?: number;
  json?: boolean;
}

/** Adds `mailtls tlsa` to the program. */
export function registerTLSA(program: Command): void {
  const cmd = program
    .command('tlsa')
    .summary('print the DANE TLSA record of a certificate or key')
    .description(
      'Print the DANE TLSA record (RFC 7672) for a mail server: by default "3 1 1" (DANE-EE, the public ' +
        'key, SHA-256), which stays valid across renewals that keep the key. The owner name is ' +
        '_<port>._tcp.<MX host>.: the host the MX record names, not the mail domain. --cert may also be a ' +
        'private or public key (selector 1 only), e.g. a new key before its certificate exists. For a key ' +
        'rollover give --next: publish both records, wait twice the TTL, then switch the server.',
    )
    .requiredOption('--cert <file>', 'the certificate (PEM/DER; the first of the file), or a key')
    .option('--next <file>', 'the next certificate or key (rollover): its record is printed too');
  secretOptions(cmd, 'key-password', 'the pass phrase of an encrypted key file');
  cmd
    .option('--mx <host>', 'the MX host name (repeatable): one line per host', collect)
    .option('--port <n>', 'the port (default 25; 465/587 submission, 993 IMAP)', parsePort)
    .addOption(
      new Option(
        '--usage <n>',
        'certificate usage: 3 DANE-EE (default), 2 DANE-TA, 1 PKIX-EE, 0 PKIX-TA',
      ).argParser(digit([0, 1, 2, 3] as const)),
    )
    .addOption(
      new Option('--selector <n>', 'selector: 1 public key (default), 0 full certificate').argParser(
        digit([0, 1] as const),
      ),
    )
    .addOption(
      new Option(
        '--matching-type <n>',
        'matching type: 1 SHA-256 (default), 2 SHA-512, 0 full data',
      ).argParser(digit([0, 1, 2] as const)),
    )
    .option('--ttl <seconds>', 'a TTL for the zone-file line', (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a number of seconds.');
      return Number(v);
    })
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls tlsa --cert /etc/ssl/mail/fullchain.pem --mx mx1.example.com --mx mx2.example.com',
        'mailtls tlsa --cert current.pem --next new.key --mx mx.example.com --ttl 3600',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: TLSACommandOptions) =>
        await runCommand(
          opts.json,
          async (out) => {
            const keyPassword = keyPasswordOf(opts);
            const current = await readSubject(opts.cert, keyPassword);
            const next = opts.next === undefined ? undefined : await readSubject(opts.next, keyPassword);
            if (opts.selector === 0 && [current, next].some((s) => s !== undefined && !isCertificate(s)))
              throw new CLIError(
                'ERR_CLI_USAGE',
                'Selector 0 (the full certificate) needs certificates, not keys: give certificates, or use selector 1.',
              );
            const base = {
              ...(opts.usage === undefined ? {} : { usage: opts.usage }),
              ...(opts.selector === undefined ? {} : { selector: opts.selector }),
              ...(opts.matchingType === undefined ? {} : { matchingType: opts.matchingType }),
              ...(opts.port === undefined ? {} : { port: opts.port }),
              ...(opts.ttl === undefined ? {} : { ttl: opts.ttl }),
            };
            const records: TLSARecord[] = [];
            for (const mx of opts.mx ?? [undefined])
              records.push(...tlsaRecords(current, next, mx === undefined ? base : { ...base, mxHost: mx }));
            out.result({
              records: records.map((r) => ({
                owner: r.owner ?? null,
                usage: r.usage,
                selector: r.selector,
                matchingType: r.matchingType,
                data: r.data,
                rdata: r.rdata,
                line: r.line,
              })),
            });
            for (const r of records) out.line(r.line);
            return 0;
          },
          KEY_PASSWORD_HINTS,
        ),
    );
}
