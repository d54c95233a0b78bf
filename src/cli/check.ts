/**
 * `mailtls check`: audit a certificate store (key modes, orphans, mismatched pairs, encrypted keys, chains,
 * dates and renewal, names not covered, CSRs waiting) and say how to fix each finding.
 *
 * @module cli/check
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type AuditFinding, auditStore, type CertificateStore } from '../node/index.js';
import { collect, examples, parseAt, runCommand } from './common.js';
import { GROUP_HELP, openStore, trustCertificates } from './install.js';
import { CLIError, type Colour, EXIT_CODES_HELP, EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';
import { rememberedTrust } from './trust.js';

interface CheckOptions {
  store: string;
  trust?: string;
  at?: Date;
  pop3?: boolean;
  mtaSts?: boolean;
  autoconfig?: boolean;
  errorsOnly?: boolean;
  fix?: boolean;
  group?: string;
  resolve?: boolean;
  resolver?: string[];
  lanOnly?: boolean;
  json?: boolean;
}

/** A finding of the audit, or of the checks this command adds (name resolution, ACME renewals). */
type Finding = Omit<AuditFinding, 'code'> & { readonly code: string };

/**
 * The command's own findings: with --resolve, each certificate name that does not resolve or resolves to a
 * LAN address (a CA cannot reach it; the pre-flight of `mailtls acme`); and each ACME-managed domain whose
 * certificate will expire without a successful renewal.
 */
async function extraFindings(
  store: CertificateStore,
  domains: readonly string[],
  opts: CheckOptions,
): Promise<Finding[]> {
  const out: Finding[] = [];
  // The ACME library (and acme-client, slow to load) only when there is something for it to do.
  if (opts.resolve !== true && !existsSync(join(opts.store, 'acme'))) return out;
  const { acmeRenewalStatus, listAcmeDomains, resolveNames } = await import('../node/acme/index.js');
  if (opts.resolve === true)
    for (const domain of domains) {
      let names: readonly string[];
      try {
        names = (await store.load(domain)).leaf.dnsNames;
      } catch {
        continue; // the audit reports why the pair cannot be read
      }
      const results = await resolveNames(
        names,
        opts.resolver === undefined ? {} : { servers: opts.resolver },
      );
      for (const r of results) {
        if (r.status === 'ok')
          out.push({
            domain,
            severity: 'info',
            code: 'NAME_RESOLVES',
            message: `${r.name}: ${r.addresses.map((a) => a.address).join(', ')}`,
          });
        else if (r.status === 'unresolved' || opts.lanOnly !== true)
          out.push({
            domain,
            severity: 'warning',
            code: r.status === 'lan' ? 'NAME_LAN_ADDRESS' : 'NAME_UNRESOLVED',
            message: r.message,
          });
        else
          out.push({
            domain,
            severity: 'info',
            code: 'NAME_LAN_ADDRESS',
            message: `${r.name}: ${r.addresses.map((a) => a.address).join(', ')} (LAN-only)`,
          });
      }
    }
  for (const domain of await listAcmeDomains(store)) {
    const s = await acmeRenewalStatus(store, domain, opts.at === undefined ? {} : { at: opts.at });
    if (s.atRisk)
      out.push({
        domain,
        severity: 'error',
        code: 'ACME_AT_RISK',
        message:
          `${s.expiresAt ? `expires ${s.expiresAt.toISOString()}` : 'has no certificate'} and its last ACME renewal ` +
          `failed (${s.lastError?.code ?? 'unknown'}: ${s.lastError?.message ?? ''})`,
        fix: `mailtls acme status --store ${opts.store}; then mailtls acme renew ${domain} --store ${opts.store}`,
      });
  }
  return out;
}

const SEVERITY_COLOUR: Readonly<Record<string, Colour>> = { error: 'red', warning: 'yellow', info: 'cyan' };

async function check(opts: CheckOptions, out: Output): Promise<number> {
  let isDir = false;
  try {
    isDir = statSync(opts.store).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir)
    throw new CLIError('ERR_CLI_READ', `The store ${opts.store} does not exist or is not a directory.`, {
      store: opts.store,
    });
  if (opts.group !== undefined && opts.fix !== true)
    throw new CLIError('ERR_CLI_USAGE', '--group goes with --fix (it sets the group of the keys).');
  const roots = opts.trust === undefined ? [] : trustCertificates(opts.trust);
  const store = openStore(opts.store, roots, opts.at, opts.group);
  // --fix first applies the store's modes, owners and key group, then audits the result.
  const fixed =
    opts.fix === true ? await out.progress('fixing modes and owners', () => store.fixPermissions()) : [];
  let report = await out.progress('auditing the store', () =>
    auditStore(store, {
      ...(opts.at === undefined ? {} : { at: opts.at }),
      mailHostnames: {
        ...(opts.pop3 === true ? { pop3: true } : {}),
        ...(opts.mtaSts === true ? { mtaSts: true } : {}),
        ...(opts.autoconfig === true ? { autoconfig: true } : {}),
      },
    }),
  );
  // Domains installed with --trust are judged against the root remembered for them (and only they are).
  const remembered = rememberedTrust(opts.store);
  if (remembered.size > 0) {
    const again = await auditStore(store, {
      ...(opts.at === undefined ? {} : { at: opts.at }),
      trust: [...roots, ...[...remembered.values()].flat()],
      mailHostnames: {
        ...(opts.pop3 === true ? { pop3: true } : {}),
        ...(opts.mtaSts === true ? { mtaSts: true } : {}),
        ...(opts.autoconfig === true ? { autoconfig: true } : {}),
      },
    });
    report = {
      ...report,
      findings: [
        ...report.findings.filter((f) => !remembered.has(f.domain)),
        ...again.findings.filter((f) => remembered.has(f.domain)),
      ],
    };
  }
  const findings: Finding[] = [...report.findings, ...(await extraFindings(store, report.domains, opts))];
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const problem = counts.error > 0 || (opts.errorsOnly !== true && counts.warning > 0);
  out.result({
    ok: !problem,
    at: report.at.toISOString(),
    store: opts.store,
    domains: report.domains,
    rememberedTrust: [...remembered.keys()],
    counts,
    ...(opts.fix === true ? { fixed: fixed.map((f) => ({ path: f.path, change: f.change })) } : {}),
    findings: findings.map((f) => ({
      domain: f.domain,
      severity: f.severity,
      code: f.code,
      message: f.message,
      ...(f.fix === undefined ? {} : { fix: f.fix }),
      ...(f.path === undefined ? {} : { path: f.path }),
    })),
  });
  for (const f of fixed) out.line(`${out.paint('cyan', 'fixed')} ${f.path}: ${f.change}`);
  const names = [...new Set([...report.domains, ...findings.map((f) => f.domain)])];
  for (const domain of names) {
    const found = findings.filter((f) => f.domain === domain);
    if (found.length === 0) {
      out.line(`${out.paint('bold', domain)}: ${out.paint('green', 'OK')}`);
      continue;
    }
    out.line(out.paint('bold', domain));
    for (const f of found) {
      out.line(
        `  ${out.paint(SEVERITY_COLOUR[f.severity] ?? 'bold', f.severity.padEnd(7))} ${f.code}: ${f.message}`,
      );
      if (f.fix !== undefined) out.line(`          fix: ${f.fix}`);
    }
  }
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  out.line(
    `${plural(report.domains.length, 'domain')} checked at ${report.at.toISOString()}: ` +
      `${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.info} info`,
  );
  return problem ? EXIT_PROBLEM : EXIT_OK;
}

/** Adds `mailtls check` to the program. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .summary('audit a certificate store')
    .description(
      'Audit every domain of the certificate store at --store: private keys readable by others (with the ' +
        'chmod that fixes it), keys without certificates and certificates without keys, pairs that do not ' +
        'belong together, encrypted keys (the server cannot start unattended), incomplete or untrusted ' +
        'chains, expired, not yet valid or soon expiring certificates, intermediates expiring first, ' +
        'Common-Name-only certificates, mail host names not covered (the domain, mail., smtp., imap.; more ' +
        'with --pop3, --mta-sts, --autoconfig) and CSRs waiting for their certificate. It reads exactly the ' +
        'files servers are configured with (certs/<domain>.crt and private/<domain>.key, through their links). ' +
        'Keys, private/, history/ or the store owned by another user than root, or writable by others, are ' +
        "errors. --fix first gives everything the store's modes (certificates and history 0644/0755, keys " +
        '0600, or 0640 with --group) and, as root, takes back what other users own. Exit 1 when there is an ' +
        'error or a warning (with --errors-only: an error); info findings do not count. An ACME-managed domain ' +
        'whose last renewal failed and that will expire before its next attempt is an error (ACME_AT_RISK); ' +
        '--resolve also resolves every certificate name and warns about names without an address or with a LAN ' +
        'address (what `mailtls acme issue` checks before it orders).',
    )
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--trust <file>', "more trusted roots, e.g. a private CA (Node's bundled roots are trusted too)")
    .option('--at <iso-8601>', 'judge dates at this time instead of now', parseAt)
    .option('--pop3', 'the server also answers POP3 on pop.<domain>')
    .option('--mta-sts', 'the domain publishes MTA-STS on mta-sts.<domain>')
    .option('--autoconfig', 'the domain serves autoconfig./autodiscover.<domain>')
    .option('--errors-only', 'exit 1 only for errors, not for warnings')
    .option('--fix', "apply the store's modes, owners and key group, then audit")
    .option('--group <group>', `with --fix: ${GROUP_HELP}`)
    .option(
      '--resolve',
      'also resolve every certificate name (A, AAAA) and warn about missing or LAN addresses',
    )
    .option(
      '--resolver <ip[:port]>',
      'with --resolve: ask this DNS server (repeatable; default the system’s)',
      collect,
    )
    .option('--lan-only', 'with --resolve: the domains are for the LAN only (LAN addresses are fine)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls check --store /etc/mail/tls',
        'mailtls check --store /etc/mail/tls --at 2027-01-01 --json',
        'mailtls check --store /etc/mail/tls --fix --group ssl-cert',
        'mailtls check --store /etc/mail/tls --resolve',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: CheckOptions) => await runCommand(opts.json, (out) => check(opts, out)));
}
