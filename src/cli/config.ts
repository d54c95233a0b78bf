/**
 * `mailtls config postfix|dovecot|haraka|hooks`: the TLS part of each server's configuration, pointing at
 * the store's files, and the store's deploy hooks.
 *
 * @module cli/config
 */
import type { Command } from 'commander';
import {
  encodeDovecotConfig,
  encodeHarakaTLSConfig,
  encodePostfixConfig,
  encodePostfixPolicyMap,
  encodePostfixSNIMap,
  type MailTLSSettings,
  type OutgoingTLSLevel,
  type OutgoingTLSPolicy,
  type StartTLSMode,
} from '../config/index.js';
import {
  addDeployHook,
  CertificateStore,
  loadServerTLSLayout,
  loadStoreSettings,
  removeDeployHook,
  saveCombinedKeyChain,
  saveFileAtomic,
} from '../node/index.js';
import { getTLSProfile } from '../tls/profile.js';
import { collect, examples, runCommand } from './common.js';
import { CLIError, EXIT_CODES_HELP, type Output } from './output.js';

interface ConfigOptions {
  store: string;
  domain?: string[];
  default?: string;
  profile?: string;
  smtpProfile?: string;
  smtp?: string;
  clients?: string;
  outgoing?: string;
  secure?: string[];
  caFile?: string;
  sniMap?: string;
  policyMap?: string;
  writeMaps?: boolean;
  tlsDir?: string;
  json?: boolean;
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new CLIError(
      'ERR_CLI_USAGE',
      `${option} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)}).`,
    );
  return value as T;
}

/** `--secure NEXTHOP=NAME[,NAME]`: a `secure` policy checking NAME for NEXTHOP. */
function securePolicy(spec: string): OutgoingTLSPolicy {
  const i = spec.lastIndexOf('=');
  if (i <= 0 || i === spec.length - 1)
    throw new CLIError(
      'ERR_CLI_USAGE',
      `--secure takes NEXTHOP=NAME (for example "[192.0.2.1]:25=mx.example.net"), not ${JSON.stringify(spec)}.`,
    );
  return { destination: spec.slice(0, i), level: 'secure', match: spec.slice(i + 1).split(',') };
}

function settingsOf(opts: ConfigOptions): MailTLSSettings {
  const smtp = oneOf<StartTLSMode>(opts.smtp, ['off', 'offered', 'required'], '--smtp');
  const clients = oneOf<StartTLSMode>(opts.clients, ['off', 'offered', 'required'], '--clients');
  const outgoing = oneOf<OutgoingTLSLevel>(
    opts.outgoing,
    ['none', 'may', 'encrypt', 'verify', 'secure'],
    '--outgoing',
  );
  return {
    ...(smtp === undefined ? {} : { smtp }),
    ...(clients === undefined ? {} : { clients }),
    ...(outgoing === undefined ? {} : { outgoing }),
    ...(opts.profile === undefined ? {} : { profile: getTLSProfile(opts.profile) }),
    ...(opts.smtpProfile === undefined ? {} : { smtpProfile: getTLSProfile(opts.smtpProfile) }),
    ...(opts.caFile === undefined ? {} : { outgoingCAFile: opts.caFile }),
    ...(opts.secure === undefined ? {} : { outgoingPolicies: opts.secure.map(securePolicy) }),
  };
}

async function layoutOf(opts: ConfigOptions) {
  return loadServerTLSLayout(new CertificateStore(opts.store), {
    ...(opts.domain === undefined ? {} : { domains: opts.domain }),
    ...(opts.default === undefined ? {} : { defaultDomain: opts.default }),
  });
}

async function postfix(opts: ConfigOptions, out: Output): Promise<number> {
  const layout = await layoutOf(opts);
  const settings = settingsOf(opts);
  const tables = {
    ...(opts.sniMap === undefined ? {} : { sniMap: opts.sniMap }),
    ...(opts.policyMap === undefined ? {} : { policyMap: opts.policyMap }),
  };
  const text = encodePostfixConfig(layout, settings, tables);
  if (opts.writeMaps === true) {
    const sni = opts.sniMap ?? '/etc/postfix/mailtls-sni';
    await saveFileAtomic(sni, encodePostfixSNIMap(layout), { mode: 0o644 });
    out.note(`wrote ${sni}: now run postmap -F hash:${sni}`);
    if ((settings.outgoingPolicies ?? []).length > 0) {
      const policy = opts.policyMap ?? '/etc/postfix/mailtls-tls-policy';
      await saveFileAtomic(policy, encodePostfixPolicyMap(settings), { mode: 0o644 });
      out.note(`wrote ${policy}: now run postmap hash:${policy}`);
    }
  }
  out.result({ mainCf: text });
  out.line(text.trimEnd());
  return 0;
}

async function dovecot(opts: ConfigOptions, out: Output): Promise<number> {
  const text = encodeDovecotConfig(await layoutOf(opts), settingsOf(opts));
  out.result({ config: text });
  out.line(text.trimEnd());
  return 0;
}

async function haraka(opts: ConfigOptions, out: Output): Promise<number> {
  const layout = await layoutOf(opts);
  const text = encodeHarakaTLSConfig(layout, settingsOf(opts));
  const written: string[] = [];
  if (opts.tlsDir !== undefined) {
    const store = new CertificateStore(opts.store);
    for (const c of layout.certificates)
      written.push(await saveCombinedKeyChain(store, c.domain, opts.tlsDir));
    for (const w of written) out.note(`wrote ${w}`);
  }
  out.result({ tlsIni: text, written });
  out.line(text.trimEnd());
  return 0;
}

async function hooks(opts: { store: string; add?: string; remove?: string }, out: Output): Promise<number> {
  if (opts.add !== undefined)
    out.note(
      (await addDeployHook(opts.store, opts.add)) ? `added: ${opts.add}` : `already there: ${opts.add}`,
    );
  if (opts.remove !== undefined)
    out.note(
      (await removeDeployHook(opts.store, opts.remove))
        ? `removed: ${opts.remove}`
        : `not there: ${opts.remove}`,
    );
  const { deployHooks } = await loadStoreSettings(opts.store);
  out.result({ deployHooks });
  for (const h of deployHooks) out.line(h);
  return 0;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--domain <name>', 'a domain to serve (repeatable; default every domain in the store)', collect)
    .option('--default <name>', 'the domain for clients that send no name (default the first)')
    .option('--profile <name>', 'TLS profile: intermediate (default), modern, legacy-port-25')
    .option('--json', 'print the result as JSON');
}

/** Adds `mailtls config` to the program. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .summary('print Postfix, Dovecot or Haraka TLS settings for the store; manage deploy hooks')
    .description(
      "Print the TLS part of a mail server's configuration, pointing at the store's files (they lead through " +
        "each domain's current version, so a renewal needs no new configuration, only the server's reload: " +
        'see the deploy hooks), or list and change the deploy hooks kept in the store.',
    );
  common(config.command('postfix'))
    .description(
      'main.cf lines: smtpd_tls_chain_files (key first), tls_server_sni_maps for several domains, levels, ' +
        'protocols and ciphers from the profile, outgoing level and policy table.',
    )
    .option('--smtp <mode>', 'STARTTLS on port 25: offered (default), required, off')
    .option('--clients <mode>', 'submission with AUTH: required (default: AUTH only after TLS), offered, off')
    .option('--smtp-profile <name>', 'TLS profile of port 25 (default: --profile)')
    .option('--outgoing <level>', 'outgoing TLS: may (default), encrypt, verify, secure, none')
    .option(
      '--secure <nexthop=name>',
      'a secure outgoing policy, e.g. "[192.0.2.1]:25=mx.example.net" (repeatable)',
      collect,
    )
    .option('--ca-file <file>', 'roots for verified outgoing TLS (default /etc/ssl/certs)')
    .option('--sni-map <file>', 'the SNI table source (default /etc/postfix/mailtls-sni)')
    .option('--policy-map <file>', 'the TLS policy table source (default /etc/postfix/mailtls-tls-policy)')
    .option(
      '--write-maps',
      'also write the SNI table (and the policy table) sources, atomically; then run postmap',
    )
    .addHelpText(
      'after',
      examples(
        'mailtls config postfix --store /etc/mail/tls --write-maps >> /etc/postfix/main.cf && postmap -F hash:/etc/postfix/mailtls-sni && postfix reload',
        'mailtls config postfix --store /etc/mail/tls --secure "[relay.example.net]:587=relay.example.net" --write-maps',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: ConfigOptions) => await runCommand(opts.json, (out) => postfix(opts, out)));
  common(config.command('dovecot'))
    .description('ssl, ssl_cert = <, ssl_key = <, a local_name block per name, ssl_min_protocol and ciphers.')
    .option('--clients <mode>', 'IMAP/POP3: required (default: no login before TLS), offered, off')
    .addHelpText(
      'after',
      examples(
        'mailtls config dovecot --store /etc/mail/tls > /etc/dovecot/conf.d/99-mailtls.conf && doveadm reload',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: ConfigOptions) => await runCommand(opts.json, (out) => dovecot(opts, out)));
  common(config.command('haraka'))
    .description(
      "tls.ini; with --tls-dir, one key+chain PEM per domain for Haraka's config/tls/ (0600, atomic).",
    )
    .option('--outgoing <level>', 'outgoing TLS: may (default), verify/secure (rejectUnauthorized)')
    .option('--tls-dir <dir>', 'write one key+chain PEM file per domain into this directory')
    .addHelpText(
      'after',
      examples(
        'mailtls config haraka --store /etc/mail/tls --tls-dir /etc/haraka/config/tls > /etc/haraka/config/tls.ini',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: ConfigOptions) => await runCommand(opts.json, (out) => haraka(opts, out)));
  config
    .command('hooks')
    .description(
      'List the deploy hooks kept in the store (run after every install, rollback and renewal, with MAILTLS_* ' +
        'variables), or add and remove one.',
    )
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--add <command>', 'keep this command as a deploy hook')
    .option('--remove <command>', 'remove this deploy hook')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        `mailtls config hooks --store /etc/mail/tls --add 'postmap -F hash:/etc/postfix/mailtls-sni && postfix reload'`,
        "mailtls config hooks --store /etc/mail/tls --add 'doveadm reload'",
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: { store: string; add?: string; remove?: string; json?: boolean }) =>
        await runCommand(opts.json, (out) => hooks(opts, out)),
    );
}
