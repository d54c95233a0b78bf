/**
 * `mailtls key`: generate a private key and write it as PKCS#8 PEM with mode 0600, atomically, never
 * replacing an existing file without `--force`.
 *
 * @module cli/key
 */
import { type Command, Option } from 'commander';
import { encodePrivateKeyPEM, generateKeyPair, type KeyType, type PrivateKey } from '../index.js';
import { examples, runCommand } from './common.js';
import { checkWritable, writeOutput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';

/** Options of {@link newKey} (from `--type`, `--bits`, `--curve`). */
export interface KeyOptions {
  type?: string;
  bits?: string;
  curve?: string;
}

/**
 * Checks the key options and generates the key (with a spinner on a TTY: RSA-4096 takes seconds).
 * @throws CLIError ERR_CLI_USAGE for `--bits` without RSA or `--curve` without EC
 */
export async function newKey(opts: KeyOptions, out: Output): Promise<PrivateKey> {
  const type = (opts.type ?? 'rsa') as KeyType;
  if (opts.bits !== undefined && type !== 'rsa')
    throw new CLIError('ERR_CLI_USAGE', `--bits applies to RSA keys only (--type rsa), not to ${type}.`);
  if (opts.curve !== undefined && type !== 'ec')
    throw new CLIError('ERR_CLI_USAGE', `--curve applies to EC keys only (--type ec), not to ${type}.`);
  const bits = opts.bits === undefined ? undefined : (Number(opts.bits) as 2048 | 3072 | 4096);
  const curve = opts.curve as 'P-256' | 'P-384' | undefined;
  const label = type === 'rsa' ? `RSA ${bits ?? 2048}` : type === 'ec' ? `EC ${curve ?? 'P-256'}` : 'Ed25519';
  return out.progress(`generating an ${label} key`, () =>
    generateKeyPair({
      type,
      ...(bits === undefined ? {} : { bits }),
      ...(curve === undefined ? {} : { curve }),
    }),
  );
}

/** `--type`, `--bits`, `--curve` as commander options (shared with `mailtls csr`). */
export function keyTypeOptions(): Option[] {
  return [
    new Option('--type <type>', 'key type (default rsa)').choices(['rsa', 'ec', 'ed25519']),
    new Option('--bits <n>', 'RSA modulus size (default 2048)').choices(['2048', '3072', '4096']),
    new Option('--curve <curve>', 'EC curve (default P-256)').choices(['P-256', 'P-384']),
  ];
}

/** A JSON-safe summary of a key: never key bytes. */
export function keySummary(key: PrivateKey): Record<string, unknown> {
  const fp = key.publicKey.fingerprint();
  return {
    type: key.type,
    ...(key.bits === undefined ? {} : { bits: key.bits }),
    ...(key.curve === undefined ? {} : { curve: key.curve }),
    description: key.describe(),
    spkiSha256: fp.sha256Hex,
    spkiSha256Base64: fp.sha256Base64,
  };
}

/** Adds `mailtls key` to the program. */
export function registerKey(program: Command): void {
  const cmd = program
    .command('key')
    .summary('generate a private key (PKCS#8 PEM, mode 0600)')
    .description(
      'Generate a private key and write it as unencrypted PKCS#8 PEM ("PRIVATE KEY") with mode 0600. ' +
        'The file is written atomically (a temporary file in the same directory, then renamed) and an ' +
        'existing file is never replaced unless --force is given. RSA-2048 is what every CA and mail ' +
        'client accepts; EC P-256 is smaller and faster where your CA takes ECDSA.',
    );
  for (const o of keyTypeOptions()) cmd.addOption(o);
  cmd
    .requiredOption('--out <file>', 'where to write the key')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls key --type rsa --bits 2048 --out /etc/ssl/private/mail.key',
        'mailtls key --type ec --curve P-384 --out mail-ec.key --json',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: KeyOptions & { out: string; force?: boolean; json?: boolean }) =>
        await runCommand(opts.json, async (out) => {
          checkWritable(opts.out, opts.force);
          const key = await newKey(opts, out);
          const pem = await encodePrivateKeyPEM(key);
          writeOutput(opts.out, pem, { mode: 0o600, force: opts.force === true });
          const summary = keySummary(key);
          out.result({ file: opts.out, mode: '0600', key: summary });
          out.line(`wrote ${opts.out} (${key.describe()}, mode 0600)`);
          out.line(`public key SHA-256: ${summary.spkiSha256 as string}`);
          return 0;
        }),
    );
}
