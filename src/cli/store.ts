/**
 * `mailtls store list|versions|rollback|remove|export`: the certificate store from the command line.
 *
 * `list` reads only certificates (readable by everyone), never keys, so it works for any user; `export`
 * reads the key and needs the rights to do so.
 *
 * @module cli/store
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type Certificate,
  createPKCS12,
  encodeChainPEM,
  encodePostfixChainFile,
  parseCertificateBundle,
  renewalWindow,
} from '../index.js';
import { CertificateStore } from '../node/index.js';
import {
  examples,
  type PasswordOptions,
  parseAt,
  passwordHints,
  passwordOf,
  runCommand,
  secretOptions,
} from './common.js';
import { checkWritable, readInput, writeOutput } from './files.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';
import { terminalAsk } from './prompt.js';
import { forgetTrust } from './trust.js';

/** The store at DIR, which must exist (these commands never create one). */
export function existingStore(dir: string): CertificateStore {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir)
    throw new CLIError('ERR_CLI_READ', `The store ${dir} does not exist or is not a directory.`, {
      store: dir,
    });
  return new CertificateStore(dir);
}

/** What `store list` and `renew-check` say about a domain in service. */
export interface DomainStatus {
  domain: string;
  subject: string;
  issuer: string;
  keyType: string;
  names: string[];
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  renewAt: string;
  renewalDue: boolean;
  expired: boolean;
  warnings: string[];
}

/** Reads the served chain of a domain (certificates only) and judges it at `at`. */
export function domainStatus(
  store: CertificateStore,
  domain: string,
  at: Date,
  minDays?: number,
): DomainStatus {
  const file = store.paths(domain).cert;
  const chain: readonly Certificate[] = parseCertificateBundle(
    readInput(file, 'certificate file'),
  ).certificates;
  const leaf = chain[0]!;
  const w = renewalWindow(leaf, { at, chain: chain.slice(1) });
  const due = w.due || (minDays !== undefined && w.daysLeft < minDays);
  return {
    domain,
    subject: leaf.subject.toString(),
    issuer: leaf.issuer.commonName ?? leaf.issuer.toString(),
    keyType: leaf.publicKey?.describe() ?? leaf.publicKeyInfo.algorithm,
    names: [...leaf.dnsNames, ...leaf.ipAddresses],
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    daysLeft: w.daysLeft,
    renewAt: w.renewAt.toISOString(),
    renewalDue: due,
    expired: w.expired,
    warnings: w.warnings.map((x) => x.message),
  };
}

interface StoreOptions {
  store: string;
  json?: boolean;
}

async function list(opts: StoreOptions & { at?: Date }, out: Output): Promise<number> {
  const store = existingStore(opts.store);
  const at = opts.at ?? new Date();
  const rows = (await store.list()).map((d) => domainStatus(store, d, at));
  out.result({ store: opts.store, at: at.toISOString(), domains: rows });
  if (rows.length === 0) {
    out.line(`no certificates in service in ${opts.store}`);
    return 0;
  }
  const width = Math.max(6, ...rows.map((r) => r.domain.length));
  out.line(`${'DOMAIN'.padEnd(width)}  DAYS LEFT  EXPIRES     KEY          RENEWAL   ISSUER`);
  for (const r of rows)
    out.line(
      `${r.domain.padEnd(width)}  ${String(r.daysLeft).padStart(9)}  ${r.notAfter.slice(0, 10)}  ` +
        `${r.keyType.padEnd(11)}  ${(r.expired ? out.paint('red', 'EXPIRED') : r.renewalDue ? out.paint('yellow', 'due') : `${r.renewAt.slice(0, 10)}`).padEnd(8)}  ${r.issuer}`,
    );
  return 0;
}

async function versions(domain: string, opts: StoreOptions, out: Output): Promise<number> {
  const store = existingStore(opts.store);
  const list = await store.versions(domain);
  if (list.length === 0)
    throw new CLIError('ERR_CLI_USAGE', `The store ${opts.store} has no versions of ${domain}.`, { domain });
  out.result({
    domain,
    versions: list.map((v) => ({
      id: v.id,
      current: v.current,
      installedAt: v.installedAt?.toISOString() ?? null,
      notAfter: v.notAfter?.toISOString() ?? null,
      fingerprint: v.fingerprint ?? null,
    })),
  });
  for (const v of list)
    out.line(
      `${v.current ? '*' : ' '} ${v.id}  installed ${v.installedAt?.toISOString() ?? '?'}  ` +
        `expires ${v.notAfter?.toISOString() ?? '?'}  SHA-256 ${v.fingerprint ?? '?'}`,
    );
  if (!list.some((v) => v.current))
    out.line(`(none in service: "mailtls store rollback ${domain}" puts the newest back)`);
  return 0;
}

async function rollback(
  domain: string,
  version: string | undefined,
  opts: StoreOptions,
  out: Output,
): Promise<number> {
  const store = existingStore(opts.store);
  const r = await store.rollback(domain, version === undefined ? {} : { to: version });
  out.result({ domain: r.domain, from: r.from, to: r.to });
  out.line(`${r.domain}: ${r.from} -> ${r.to} (now in service; reload the mail server)`);
  return 0;
}

async function remove(
  domain: string,
  opts: StoreOptions & { purge?: boolean; yes?: boolean },
  out: Output,
): Promise<number> {
  const store = existingStore(opts.store);
  if (opts.yes !== true && !out.json && process.stdin.isTTY === true && process.stderr.isTTY === true) {
    const { ask, close } = terminalAsk();
    try {
      const answer = await ask(
        `Take ${domain} out of ${opts.store}${opts.purge === true ? ' and delete its history' : ' (its history is kept)'}? [y/N] `,
      );
      if (!/^y(es)?$/i.test(answer.trim())) {
        out.line('nothing removed');
        return 1;
      }
    } finally {
      close();
    }
  }
  await store.remove(domain, { keepHistory: opts.purge !== true });
  if (opts.purge === true) forgetTrust(opts.store, domain);
  out.result({ domain, removed: true, historyKept: opts.purge !== true });
  out.line(
    opts.purge === true
      ? `removed ${domain} and its history`
      : `removed ${domain} from service; its versions stay in history/ ("mailtls store rollback ${domain}" puts it back, --purge deletes them)`,
  );
  return 0;
}

interface ExportOptions extends StoreOptions, PasswordOptions {
  format?: string;
  out?: string;
  keyOut?: string;
  force?: boolean;
}

async function exportDomain(domain: string, opts: ExportOptions, out: Output): Promise<number> {
  const format = opts.format ?? 'pem';
  if (!['pem', 'pfx', 'postfix-chain'].includes(format))
    throw new CLIError('ERR_CLI_USAGE', `--format must be pem, pfx or postfix-chain, not ${format}.`);
  if (format !== 'pem' && opts.out === undefined)
    throw new CLIError(
      'ERR_CLI_USAGE',
      `--format ${format} holds the private key: give --out FILE (written with mode 0600).`,
    );
  if (format !== 'pem' && opts.keyOut !== undefined)
    throw new CLIError('ERR_CLI_USAGE', '--key-out goes with --format pem (the other formats hold the key).');
  const password = passwordOf(opts);
  if (format === 'pfx' && password === undefined)
    throw new CLIError(
      'ERR_CLI_USAGE',
      'Give the .pfx password with --password-file FILE or --password-env VAR.',
    );
  if (format !== 'pfx' && password !== undefined)
    throw new CLIError('ERR_CLI_USAGE', 'The password is for --format pfx.');
  if (opts.out !== undefined) checkWritable(opts.out, opts.force);
  if (opts.keyOut !== undefined) checkWritable(opts.keyOut, opts.force);
  const store = existingStore(opts.store);
  const force = opts.force === true;
  const files: Record<string, string> = {};
  if (format === 'pem' && opts.keyOut === undefined) {
    // The chain alone: readable by everyone, no key read.
    const chain = parseCertificateBundle(
      readInput(store.paths(domain).cert, 'certificate file'),
    ).certificates;
    const pem = encodeChainPEM(chain);
    if (opts.out === undefined) out.line(pem.trimEnd());
    else {
      writeOutput(opts.out, pem, { force });
      files.cert = opts.out;
    }
    out.result({
      domain,
      format,
      ...(opts.out === undefined ? { pem } : { files }),
      certificates: chain.length,
    });
    if (opts.out !== undefined) out.line(`wrote ${opts.out}: ${chain.length} certificates (leaf first)`);
    return 0;
  }
  const cred = await store.load(domain);
  if (format === 'pem') {
    if (opts.out === undefined) out.line(cred.cert.trimEnd());
    else {
      writeOutput(opts.out, cred.cert, { force });
      files.cert = opts.out;
    }
    writeOutput(opts.keyOut!, cred.key, { mode: 0o600, force });
    files.key = opts.keyOut!;
  } else if (format === 'pfx') {
    const pfx = await out.progress('writing the .pfx', () =>
      createPKCS12({
        key: cred.privateKey,
        certificates: cred.chain,
        password: password!,
        friendlyName: cred.domain,
      }),
    );
    writeOutput(opts.out!, pfx, { mode: 0o600, force });
    files.pfx = opts.out!;
  } else {
    writeOutput(opts.out!, encodePostfixChainFile(cred.key, cred.chain), { mode: 0o600, force });
    files.postfixChain = opts.out!;
  }
  out.result({ domain: cred.domain, format, files, certificates: cred.chain.length });
  out.note(
    `wrote ${Object.values(files).join(' and ')} (${cred.chain.length} certificates${format === 'pem' && opts.keyOut === undefined ? '' : ', key files mode 0600'})`,
  );
  if (format === 'postfix-chain') out.note(`main.cf: smtpd_tls_chain_files = ${opts.out!}`);
  return 0;
}

/** Adds `mailtls store ...` to the program. */
export function registerStore(program: Command): void {
  const store = program
    .command('store')
    .summary('list, roll back, remove and export what the certificate store holds')
    .description(
      'The certificate store from the command line: what is in service (list), the versions kept for a ' +
        'domain (versions), putting an earlier one back (rollback), taking a domain out (remove) and writing ' +
        'a domain out as PEM, .pfx or a Postfix chain file (export).',
    )
    .addHelpText(
      'after',
      examples(
        'mailtls store list --store /etc/mail/tls',
        'mailtls store versions example.com --store /etc/mail/tls',
        'mailtls store rollback example.com --store /etc/mail/tls',
        'mailtls store export example.com --store /etc/mail/tls --format postfix-chain --out /etc/postfix/example.pem',
      ) + EXIT_CODES_HELP,
    );
  store
    .command('list')
    .summary('the domains in service: days left, key, renewal, issuer')
    .description(
      'List the domains in service: days left, expiry, key type, when renewal is due (a third of the ' +
        'lifetime left, or an intermediate expiring within that margin) and the issuer. Reads only certificates.',
    )
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--at <iso-8601>', 'judge dates at this time instead of now', parseAt)
    .option('--json', 'print the list as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls store list --store /etc/mail/tls',
        'mailtls store list --store /etc/mail/tls --json',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: StoreOptions & { at?: Date }) => await runCommand(opts.json, (out) => list(opts, out)),
    );
  store
    .command('versions')
    .summary('the versions kept for a domain')
    .description('List the stored versions of DOMAIN, oldest first; * marks the one in service.')
    .argument('<domain>', 'the domain')
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--json', 'print the list as JSON')
    .addHelpText(
      'after',
      examples('mailtls store versions example.com --store /etc/mail/tls') + EXIT_CODES_HELP,
    )
    .action(
      async (domain: string, opts: StoreOptions) =>
        await runCommand(opts.json, (out) => versions(domain, opts, out)),
    );
  store
    .command('rollback')
    .summary('put an earlier version (or a removed domain) back in service')
    .description(
      'Put the version before the current one (or VERSION) back in service, atomically, after checking ' +
        'that its key and certificate belong together. A domain removed without --purge comes back from its ' +
        'newest version. Reload the mail server afterwards (or let it watch the store).',
    )
    .argument('<domain>', 'the domain')
    .argument('[version]', 'the version to put back (see "mailtls store versions"); default the one before')
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls store rollback example.com --store /etc/mail/tls',
        'mailtls store rollback example.com v000002-20270601T120000Z --store /etc/mail/tls',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (domain: string, version: string | undefined, opts: StoreOptions) =>
        await runCommand(opts.json, (out) => rollback(domain, version, opts, out)),
    );
  store
    .command('remove')
    .summary('take a domain out of service (history kept unless --purge)')
    .description(
      'Take DOMAIN out of service: its certificate, key and CA-bundle links, its CSR and pending key. Its ' +
        'versions stay in history/ (so "mailtls store rollback DOMAIN" puts it back) unless --purge. On a ' +
        'terminal it asks first (--yes does not ask).',
    )
    .argument('<domain>', 'the domain')
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--purge', 'also delete its stored versions')
    .option('--yes', 'do not ask')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls store remove old.example.com --store /etc/mail/tls',
        'mailtls store remove old.example.com --store /etc/mail/tls --purge --yes',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (domain: string, opts: StoreOptions & { purge?: boolean; yes?: boolean }) =>
        await runCommand(opts.json, (out) => remove(domain, opts, out)),
    );
  const exp = store
    .command('export')
    .summary('write a domain as PEM, .pfx or a Postfix chain file')
    .description(
      'Write what DOMAIN serves: --format pem (default) the chain, leaf first (to standard output without ' +
        '--out; with --key-out the key too, mode 0600); pfx a PKCS#12 file with the key and chain (mode 0600, ' +
        'AES-256, the password from --password-file or --password-env); postfix-chain the one file Postfix ' +
        '3.4+ reads with smtpd_tls_chain_files (key, then chain; mode 0600).',
    )
    .argument('<domain>', 'the domain')
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--format <format>', 'pem, pfx or postfix-chain (default pem)')
    .option('--out <file>', 'where to write (pem: default standard output)')
    .option('--key-out <file>', 'with --format pem: also write the key here (mode 0600)');
  secretOptions(exp, 'password', 'the .pfx password');
  exp
    .option('--force', 'replace existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls store export example.com --store /etc/mail/tls > fullchain.pem',
        'mailtls store export example.com --store /etc/mail/tls --format pfx --out example.pfx --password-file pass.txt',
        'mailtls store export example.com --store /etc/mail/tls --format postfix-chain --out /etc/postfix/example.pem',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (domain: string, opts: ExportOptions) =>
        await runCommand(opts.json, (out) => exportDomain(domain, opts, out), passwordHints('--password')),
    );
}
