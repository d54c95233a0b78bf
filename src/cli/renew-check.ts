/**
 * `mailtls renew-check`: for cron and monitoring, list the certificates of a store that are due for renewal
 * and exit 1 when any is, so that a job can act (`mailtls renew-check --store DIR || notify`).
 *
 * @module cli/renew-check
 */
import { type Command, InvalidArgumentError } from 'commander';
import { examples, parseAt, runCommand } from './common.js';
import { describeError, EXIT_CODES_HELP, EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';
import { type DomainStatus, domainStatus, existingStore } from './store.js';

interface RenewCheckOptions {
  store: string;
  days?: number;
  at?: Date;
  quiet?: boolean;
  json?: boolean;
}

function parseMinDays(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 36_500)
    throw new InvalidArgumentError('expected a whole number of days, such as 14.');
  return n;
}

async function renewCheck(opts: RenewCheckOptions, out: Output): Promise<number> {
  const store = existingStore(opts.store);
  const at = opts.at ?? new Date();
  const rows: DomainStatus[] = [];
  const unreadable: { domain: string; code: string; message: string }[] = [];
  for (const domain of await store.list()) {
    try {
      rows.push(domainStatus(store, domain, at, opts.days));
    } catch (e) {
      const d = describeError(e);
      if (d.code === 'ERR_CLI_INTERNAL') throw e;
      unreadable.push({ domain, code: d.code, message: d.message });
    }
  }
  const due = rows.filter((r) => r.renewalDue);
  out.result({
    store: opts.store,
    at: at.toISOString(),
    ...(opts.days === undefined ? {} : { minDays: opts.days }),
    due: due.map((r) => r.domain),
    domains: rows,
    unreadable,
  });
  for (const r of due)
    out.line(
      `${out.paint(r.expired ? 'red' : 'yellow', r.expired ? 'EXPIRED' : 'due')} ${r.domain}: ${r.daysLeft} days left ` +
        `(expires ${r.notAfter}; renewal was due ${r.renewAt}), issuer ${r.issuer}`,
    );
  for (const u of unreadable)
    out.line(`${out.paint('red', 'unreadable')} ${u.domain}: ${u.code}: ${u.message}`);
  if (opts.quiet !== true)
    for (const r of rows.filter((x) => !x.renewalDue))
      out.line(`ok ${r.domain}: ${r.daysLeft} days left, renew from ${r.renewAt}`);
  const problem = due.length > 0 || unreadable.length > 0;
  if (!problem && rows.length === 0) out.line(`no certificates in service in ${opts.store}`);
  return problem ? EXIT_PROBLEM : EXIT_OK;
}

/** Adds `mailtls renew-check` to the program. */
export function registerRenewCheck(program: Command): void {
  program
    .command('renew-check')
    .summary('list the certificates due for renewal; exit 1 when any is (for cron)')
    .description(
      'Check every certificate in service in the store: renewal is due when a third of its lifetime is left ' +
        "(the rule of Let's Encrypt and Caddy: a 90-day certificate after 60 days, a 397-day one after 265), " +
        'when an intermediate it is served with expires within that margin, or, with --days N, when fewer ' +
        'than N days are left. Exit 1 when anything is due (or a certificate cannot be read), 0 otherwise, so ' +
        'a cron job or a monitoring check can act on it. Reads only certificates, never keys.',
    )
    .requiredOption('--store <dir>', 'the certificate store directory')
    .option('--days <n>', 'also due when fewer than N days are left', parseMinDays)
    .option('--at <iso-8601>', 'judge at this time instead of now', parseAt)
    .option('--quiet', 'print only what is due')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls renew-check --store /etc/mail/tls --days 14',
        '# crontab: mail the administrator when something is due',
        '17 6 * * * mailtls renew-check --store /etc/mail/tls --quiet || echo renew | mail -s TLS root',
      ) + EXIT_CODES_HELP,
    )
    .action(async (opts: RenewCheckOptions) => await runCommand(opts.json, (out) => renewCheck(opts, out)));
}
