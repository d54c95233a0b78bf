/**
 * `mailtls acme register|issue|renew|status|run`: certificates from an ACME CA (Let's Encrypt, a private
 * ACME server) into a certificate store, renewed from cron or a systemd timer. For http-01 and tls-alpn-01
 * the command answers the challenge itself on `--http-port` / `--tls-port` while it runs (on `--listen`,
 * loopback unless told otherwise: a public CA needs a public address, e.g. `--listen 0.0.0.0`, or a port
 * forward).
 *
 * @module cli/acme
 */
import http from 'node:http';
import type net from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type * as AcmeLibrary from '../node/acme/index.js';
import type {
  AcmeChallengeType,
  DnsProvider,
  Http01Responder,
  KeyRollover,
  TlsAlpnResponder,
} from '../node/acme/index.js';
import {
  account,
  acme,
  addCommon,
  addStaging,
  type CommonOptions,
  directoryCA,
  dryRunJSON,
  dryRunLine,
  loadAcme,
  requireDirectory,
  type StagingOptions,
  stagingDirectory,
  TERMS_HINTS,
} from './acme-common.js';
import { registerAcmeStatus } from './acme-status.js';
import { collect, examples, parsePort, runCommand } from './common.js';
import { openStore } from './install.js';
import { CLIError, EXIT_CODES_HELP, EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';

interface ChallengeOptions {
  challenge?: AcmeChallengeType;
  httpPort?: number;
  tlsPort?: number;
  listen: string;
  dnsHook?: string;
  dnsResolver?: string[];
  dnsWait?: number;
}

interface IssueOptions extends CommonOptions, ChallengeOptions, StagingOptions {
  san?: string[];
  email?: string;
  agreeTos?: boolean;
  keyType?: 'ec' | 'rsa';
  keyRollover?: KeyRollover;
  dane?: boolean;
  nextKeyWait?: number;
  preflight: boolean;
  resolver?: string[];
  lanOnly?: boolean;
  insist?: boolean;
}

/** Seconds, minutes, hours or days: `90s`, `30m`, `48h`, `2d`. */
function parseDuration(value: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 48h or 2d.');
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** The responders of a run, with the servers the command listens on while it runs. */
interface Responders {
  tlsAlpn?: TlsAlpnResponder;
  http01?: Http01Responder;
  dns?: DnsProvider;
  close(): Promise<void>;
}

function listenOn(server: net.Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new CLIError(
          'ERR_CLI_USAGE',
          `Cannot listen on ${host}:${port} for ${what} (${e.code ?? e.message}): stop what uses the port, ` +
            'or give another port (the CA must reach it, e.g. through a port forward).',
          { host, port },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}

async function startResponders(
  types: readonly AcmeChallengeType[],
  o: ChallengeOptions,
): Promise<Responders> {
  const servers: net.Server[] = [];
  const r: Responders = {
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              (s as http.Server).closeAllConnections?.();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
  try {
    if (types.includes('tls-alpn-01')) {
      r.tlsAlpn = acme.createTlsAlpnResponder();
      const server = r.tlsAlpn.createServer();
      server.on('tlsClientError', () => undefined);
      servers.push(server);
      await listenOn(server, o.tlsPort ?? 443, o.listen, 'tls-alpn-01');
    }
    if (types.includes('http-01')) {
      r.http01 = acme.createHttp01Responder();
      const server = http.createServer(r.http01.listener);
      servers.push(server);
      await listenOn(server, o.httpPort ?? 80, o.listen, 'http-01');
    }
    if (types.includes('dns-01')) {
      if (o.dnsHook === undefined)
        throw new CLIError(
          'ERR_CLI_USAGE',
          'dns-01 needs --dns-hook CMD (a command that sets and removes the TXT record).',
        );
      r.dns = acme.createHookDnsProvider({
        command: o.dnsHook,
        ...(o.dnsResolver === undefined ? {} : { resolvers: o.dnsResolver }),
        ...(o.dnsWait === undefined ? {} : { propagationTimeoutMs: o.dnsWait }),
      });
    }
  } catch (e) {
    await r.close();
    throw e;
  }
  return r;
}

function progress(out: Output): (step: string, detail: string) => void {
  return (step, detail) => {
    if (!out.json && process.stderr.isTTY === true)
      process.stderr.write(`  ${step}${detail ? `: ${detail}` : ''}\n`);
  };
}

/** The options `renew` and `run` share: an override of the challenge, and the staging terms for a dry run. */
function addRenewSelection(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--challenge <type>', 'override the challenge the domain was ordered with').choices([
        'tls-alpn-01',
        'http-01',
        'dns-01',
      ]),
    )
    .option('--agree-tos', "agree to the staging CA's terms of service for the throwaway account");
}

function addChallenge(cmd: Command): Command {
  return cmd
    .option('--http-port <n>', 'the port the http-01 responder listens on (default 80)', parsePort)
    .option('--tls-port <n>', 'the port the tls-alpn-01 responder listens on (default 443)', parsePort)
    .option(
      '--listen <address>',
      'the address the responders listen on (a public CA needs 0.0.0.0 or ::)',
      '127.0.0.1',
    )
    .option(
      '--dns-hook <cmd>',
      'dns-01: a command run with "set|remove NAME VALUE" that publishes the TXT record',
    )
    .option(
      '--dns-resolver <ip[:port]>',
      'dns-01: wait until this DNS server shows the record (repeatable)',
      collect,
    )
    .option(
      '--dns-wait <duration>',
      'dns-01: longest wait for the record to appear (default 120s)',
      parseDuration,
    );
}

/** Adds `mailtls acme` to the program. */
export function registerAcme(program: Command): void {
  const group = program
    .command('acme')
    .summary('obtain and renew certificates from an ACME CA (Let’s Encrypt) into a store')
    .description(
      'Obtain certificates from an ACME certificate authority into a certificate store and renew them: ' +
        'register an account, issue for a domain and its mail host names, renew what is due (from cron or a ' +
        'systemd timer: "acme run"), and show the state.',
    )
    .addHelpText('after', `${EXIT_CODES_HELP}`);

  addCommon(
    group
      .command('register')
      .description('register an ACME account; its key is kept in the store (private/acme/, 0600)')
      .option('--email <addr>', 'the administrator’s address (the CA writes there)')
      .option('--agree-tos', 'agree to the CA’s terms of service (read them first)'),
    true,
  )
    .addHelpText(
      'after',
      examples(
        'mailtls acme register --store /etc/mail/tls --directory https://acme-v02.api.letsencrypt.org/directory --email postmaster@example.com --agree-tos',
      ),
    )
    .action((o: CommonOptions & { email?: string; agreeTos?: boolean }) =>
      runCommand(
        o.json,
        async (out) => {
          await loadAcme();
          const store = openStore(o.store, o.trust, undefined);
          const a = await acme.registerAcmeAccount({
            store,
            directoryUrl: requireDirectory(o),
            ...(o.directoryCa === undefined ? {} : { directoryCA: directoryCA(o.directoryCa) }),
            ...(o.email === undefined ? {} : { email: o.email }),
            ...(o.agreeTos === undefined ? {} : { agreeToTerms: o.agreeTos }),
          });
          out.line(`account ${a.info.url}`);
          out.result({ account: a.info });
          return EXIT_OK;
        },
        TERMS_HINTS,
      ),
    );

  addChallenge(
    addCommon(
      addStaging(
        group
          .command('issue')
          .description('order a certificate for DOMAIN (the Common Name) and --san names, and install it')
          .argument('<domain>', 'the bare domain, e.g. example.com')
          .option(
            '--san <name>',
            'another name on the certificate, e.g. mail.example.com (repeatable)',
            collect,
          )
          .option('--email <addr>', 'register with this address if the store has no account yet')
          .option('--agree-tos', 'agree to the terms of service when registering')
          .addOption(
            new Option('--challenge <type>', 'how to prove control')
              .choices(['tls-alpn-01', 'http-01', 'dns-01'])
              .makeOptionMandatory(),
          )
          .addOption(new Option('--key-type <type>', 'type of a new key (default ec)').choices(['ec', 'rsa']))
          .addOption(
            new Option(
              '--key-rollover <policy>',
              'key of renewals (default reuse with --dane, else fresh)',
            ).choices(['reuse', 'next-published', 'fresh']),
          )
          .option('--dane', 'the domain publishes TLSA records: keep the key across renewals by default')
          .option(
            '--next-key-wait <duration>',
            'next-published: how long the next key’s TLSA record must be published (default 2d)',
            parseDuration,
          )
          .option('--no-preflight', 'do not resolve the names before ordering')
          .option(
            '--resolver <ip[:port]>',
            'pre-flight: ask this DNS server (repeatable; default the system’s)',
            collect,
          )
          .option('--lan-only', 'the domain is for the LAN only: LAN addresses are fine')
          .option('--insist', 'order even when a name does not resolve or resolves to a LAN address'),
        'order',
      ),
      true,
    ),
  )
    .addHelpText(
      'after',
      examples(
        'mailtls acme issue example.com --san mail.example.com --store /etc/mail/tls --directory https://acme-v02.api.letsencrypt.org/directory --email postmaster@example.com --agree-tos --challenge tls-alpn-01 --listen 0.0.0.0',
        'mailtls acme issue example.com --san mx.example.com --store DIR --directory URL --challenge dns-01 --dns-hook /etc/mail/dns-hook',
        'mailtls acme issue example.com --san mail.example.com --store DIR --directory https://acme-v02.api.letsencrypt.org/directory --staging-directory https://acme-staging-v02.api.letsencrypt.org/directory --agree-tos --challenge http-01 --dry-run',
        'mailtls acme issue example.com --store DIR --directory URL --challenge tls-alpn-01 --profile shortlived',
      ),
    )
    .action((domain: string, o: IssueOptions) =>
      runCommand(
        o.json,
        async (out) => {
          await loadAcme();
          const store = openStore(o.store, o.trust, undefined);
          const staging = stagingDirectory(o);
          requireDirectory(o);
          // A dry run needs no production account: none is registered, nothing is written.
          const acct = o.dryRun === true ? undefined : await account(store, o, true);
          const r = await startResponders([o.challenge!], o);
          try {
            const settings: Omit<AcmeLibrary.ObtainCertificateOptions, 'account'> = {
              store,
              domain,
              names: o.san ?? [],
              challenge: o.challenge!,
              ...(r.tlsAlpn ? { tlsAlpn: r.tlsAlpn } : {}),
              ...(r.http01 ? { http01: r.http01 } : {}),
              ...(r.dns ? { dns: r.dns } : {}),
              ...(o.keyType === undefined ? {} : { keyType: o.keyType }),
              ...(o.keyRollover === undefined ? {} : { keyRollover: o.keyRollover }),
              ...(o.dane === undefined ? {} : { dane: o.dane }),
              ...(o.nextKeyWait === undefined ? {} : { nextKeyPublishedForMs: o.nextKeyWait }),
              preflight: o.preflight
                ? {
                    ...(o.resolver === undefined ? {} : { servers: o.resolver }),
                    ...(o.lanOnly === undefined ? {} : { lanOnly: o.lanOnly }),
                    ...(o.insist === undefined ? {} : { insist: o.insist }),
                  }
                : false,
              ...(o.profile === undefined ? {} : { profile: o.profile }),
              onProgress: progress(out),
            };
            if (o.dryRun === true && staging !== undefined) {
              const dry = await out.progress(`dry run for ${domain} at ${staging.url}`, () =>
                acme.dryRunCertificate({ ...settings, stagingDirectory: staging }),
              );
              dryRunLine(out, dry, 'dry run');
              out.result({ domain: dry.domain, dryRun: dryRunJSON(dry) });
              return EXIT_OK;
            }
            const result = await out.progress(`ordering a certificate for ${domain}`, () =>
              acme.obtainCertificate({
                ...settings,
                account: acct!,
                ...(staging === undefined ? {} : { stagingDirectory: staging }),
              }),
            );
            if (result.staging) dryRunLine(out, result.staging, 'staging order');
            for (const w of result.install.warnings) out.warn(w.message, w.code);
            out.line(
              `${result.domain}: version ${result.install.version} in service, ${result.names.join(', ')}, ` +
                `expires ${result.install.leaf.notAfter.toISOString()} (${result.key} key, ${result.durationMs} ms)`,
            );
            out.result({
              domain: result.domain,
              names: result.names,
              version: result.install.version,
              notAfter: result.install.leaf.notAfter.toISOString(),
              key: result.key,
              fingerprint: result.install.leaf.fingerprint('sha256'),
              durationMs: result.durationMs,
              profile: result.profile ?? null,
              staging: result.staging === undefined ? null : dryRunJSON(result.staging),
            });
            return EXIT_OK;
          } finally {
            await r.close();
          }
        },
        TERMS_HINTS,
      ),
    );

  const renewAction =
    (mode: 'renew' | 'run') =>
    (domains: string[], o: CommonOptions & ChallengeOptions & StagingOptions & { force?: boolean }) =>
      runCommand(
        o.json,
        async (out) => {
          await loadAcme();
          const store = openStore(o.store, o.trust, undefined);
          const staging = stagingDirectory(o);
          const chosen = domains.length > 0 ? domains : await acme.listAcmeDomains(store);
          // The domains grouped by the directory they were ordered from (or --directory for all).
          const groups = new Map<string, { domains: string[]; challenges: Set<AcmeChallengeType> }>();
          for (const d of chosen) {
            const s = await acme.loadAcmeState(store, d);
            if (s === undefined)
              throw new CLIError(
                'ERR_CLI_USAGE',
                `${d} is not ACME-managed in ${o.store}: issue it first (mailtls acme issue).`,
                { domain: d },
              );
            const dir = o.directory ?? s.directoryUrl;
            const g = groups.get(dir) ?? { domains: [], challenges: new Set() };
            g.domains.push(d);
            g.challenges.add(o.challenge ?? s.challenge);
            groups.set(dir, g);
          }
          let status = EXIT_OK;
          const report: unknown[] = [];
          for (const [directory, g] of groups) {
            const acct = await account(store, { ...o, directory }, false);
            const r = await startResponders([...g.challenges], o);
            try {
              const outcomes = await acme.renewDue({
                store,
                account: acct,
                domains: g.domains,
                ...(o.force ? { force: true } : {}),
                ...(r.tlsAlpn ? { tlsAlpn: r.tlsAlpn } : {}),
                ...(r.http01 ? { http01: r.http01 } : {}),
                ...(r.dns ? { dns: r.dns } : {}),
                ...(staging === undefined ? {} : { stagingDirectory: staging }),
                ...(o.dryRun === true ? { dryRun: true } : {}),
                obtain: {
                  onProgress: progress(out),
                  ...(o.challenge ? { challenge: o.challenge } : {}),
                  ...(o.profile === undefined ? {} : { profile: o.profile }),
                },
              });
              for (const x of outcomes) {
                if (x.error) {
                  status = EXIT_PROBLEM;
                  out.warn(`${x.domain}: ${x.error.message}`, x.error.code);
                } else if (x.dryRun) {
                  dryRunLine(out, x.dryRun, 'dry run');
                } else if (x.result) {
                  if (x.result.staging) dryRunLine(out, x.result.staging, 'staging order');
                  out.line(
                    `${x.domain}: renewed, version ${x.result.install.version}, expires ${x.result.install.leaf.notAfter.toISOString()}`,
                  );
                } else {
                  out.line(
                    `${x.domain}: not due (renews ${x.status.renewAt?.toISOString() ?? 'when possible'}${x.status.reason === 'backoff' ? `, after a failure not before ${x.status.nextAttemptAt?.toISOString()}` : ''})`,
                  );
                  if (mode === 'run' && x.status.atRisk) {
                    status = EXIT_PROBLEM;
                    out.warn(
                      `${x.domain}: expires ${x.status.expiresAt?.toISOString() ?? '(no certificate)'} and the last renewal failed: ${x.status.lastError?.message ?? ''}`,
                      'ACME_AT_RISK',
                    );
                  }
                }
                report.push({
                  domain: x.domain,
                  renewed: x.result !== undefined,
                  ...(x.dryRun ? { dryRun: dryRunJSON(x.dryRun) } : {}),
                  ...(x.result
                    ? { profile: x.result.profile ?? null, replaces: x.result.replaces ?? null }
                    : {}),
                  ...(x.result
                    ? {
                        version: x.result.install.version,
                        notAfter: x.result.install.leaf.notAfter.toISOString(),
                      }
                    : {}),
                  ...(x.error ? { error: x.error.toJSON() } : {}),
                  due: x.status.due,
                  reason: x.status.reason,
                  source: x.status.source,
                  atRisk: x.status.atRisk,
                });
              }
            } finally {
              await r.close();
            }
          }
          out.result({ domains: report });
          return status;
        },
        TERMS_HINTS,
      );

  addChallenge(
    addCommon(
      addStaging(
        addRenewSelection(
          group
            .command('renew')
            .description('renew the ACME-managed domains that are due (all, or the ones named)')
            .argument('[domains...]', 'only these domains')
            .option('--force', 'renew even when not due'),
        ),
        'renew',
      ),
      false,
    ),
  )
    .addHelpText(
      'after',
      examples(
        'mailtls acme renew --store /etc/mail/tls --listen 0.0.0.0',
        'mailtls acme renew --store /etc/mail/tls --staging-directory https://acme-staging-v02.api.letsencrypt.org/directory --agree-tos --dry-run',
      ),
    )
    .action(renewAction('renew'));

  addChallenge(
    addCommon(
      addStaging(
        addRenewSelection(
          group
            .command('run')
            .description(
              'for cron or a systemd timer: renew what is due; exit 1 when a renewal failed or a certificate will ' +
                'expire before its next attempt',
            )
            .argument('[domains...]', 'only these domains'),
        ),
        'renew',
      ),
      false,
    ),
  )
    .addHelpText(
      'after',
      examples('mailtls acme run --store /etc/mail/tls --listen 0.0.0.0   # daily from a systemd timer'),
    )
    .action(renewAction('run'));

  registerAcmeStatus(group);
}
