/**
 * `mailtls acme status`: each ACME-managed domain's expiry, renewal window and its source (the CA's renewal
 * information, RFC 9773, or the lifetime rule, and why), profile, failures and the TLSA records of its keys.
 *
 * @module cli/acme-status
 */
import type { Command } from 'commander';
import { isMailTlsError, parsePrivateKey } from '../index.js';
import type { AcmeAccount } from '../node/acme/index.js';
import type { CertificateStore } from '../node/index.js';
import { tlsaRecord } from '../tls/tlsa.js';
import { account, acme, addCommon, type CommonOptions, loadAcme } from './acme-common.js';
import { runCommand } from './common.js';
import { openStore } from './install.js';
import { EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';

function printTLSA(out: Output, domain: string, current: string, next: string | undefined): void {
  out.line(`  TLSA 3 1 1 ${current}  (key in service)`);
  if (next !== undefined) out.line(`  TLSA 3 1 1 ${next}  (next key: publish it before the switch)`);
  void domain;
}

async function nextKeyTLSA(store: CertificateStore, domain: string): Promise<string | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    return tlsaRecord(await parsePrivateKey(await readFile(acme.nextKeyPath(store, domain), 'utf8'))).data;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Adds `mailtls acme status` to the `acme` command group. */
export function registerAcmeStatus(group: Command): void {
  addCommon(
    group
      .command('status')
      .description(
        'show each ACME-managed domain: expiry, renewal window and time (from the CA’s renewal information, ' +
          'RFC 9773, or the lifetime rule), profile, failures, TLSA records of the keys',
      )
      .argument('[domains...]', 'only these domains')
      .option(
        '--no-renewal-info',
        'do not ask the CA for renewal windows (RFC 9773): the stored window, or the lifetime rule',
      ),
    false,
  ).action((domains: string[], o: CommonOptions & { renewalInfo: boolean }) =>
    runCommand(o.json, async (out) => {
      await loadAcme();
      const store = openStore(o.store, o.trust, undefined);
      const chosen = domains.length > 0 ? domains : await acme.listAcmeDomains(store);
      let status = EXIT_OK;
      const report: unknown[] = [];
      // The account of each directory (read from the store, no request) asks its CA for renewal windows.
      const accounts = new Map<string, AcmeAccount | string>();
      const accountFor = async (directoryUrl: string): Promise<AcmeAccount | string> => {
        const known = accounts.get(directoryUrl);
        if (known !== undefined) return known;
        let a: AcmeAccount | string;
        try {
          // One attempt: a status must not wait for a CA that is down (it says so in the note instead).
          a = await account(store, { ...o, directory: directoryUrl }, false, { attempts: 1 });
        } catch (e) {
          if (!isMailTlsError(e)) throw e;
          a = `no account for ${directoryUrl} in the store to ask its CA with (${e.code})`;
        }
        accounts.set(directoryUrl, a);
        return a;
      };
      for (const d of chosen) {
        const state = await acme.loadAcmeState(store, d);
        const acct =
          state === undefined || !o.renewalInfo
            ? undefined
            : await accountFor(o.directory ?? state.directoryUrl);
        const s = await acme.acmeRenewalStatus(store, d, typeof acct === 'object' ? { account: acct } : {});
        const note = s.note ?? (typeof acct === 'string' && s.source === 'lifetime' ? acct : undefined);
        let current: string | undefined;
        try {
          current = tlsaRecord((await store.load(d)).privateKey).data;
        } catch (e) {
          if (!isMailTlsError(e)) throw e;
        }
        const next = await nextKeyTLSA(store, d);
        if (s.atRisk) status = EXIT_PROBLEM;
        out.line(
          `${d}: ${s.expiresAt ? `expires ${s.expiresAt.toISOString()}, renews ${s.renewAt?.toISOString()}` : 'no certificate'}` +
            `${s.due ? ' (due now)' : ''}${s.failures > 0 ? `, ${s.failures} failed attempt(s), last ${s.lastError?.code}, next not before ${s.nextAttemptAt?.toISOString()}` : ''}`,
        );
        if (s.window !== undefined)
          out.line(
            `  renewal window ${s.window.start.toISOString()} .. ${s.window.end.toISOString()} (${
              s.source === 'ari'
                ? 'the CA’s renewal information, RFC 9773'
                : 'lifetime rule: a third left, with jitter'
            })${s.explanationUrl ? `, see ${s.explanationUrl}` : ''}`,
          );
        if (note !== undefined) out.line(`  ${note}`);
        if (state?.profile !== undefined) out.line(`  profile ${state.profile}`);
        if (s.atRisk)
          out.warn(
            `${d} will expire without a successful renewal: ${s.lastError?.message ?? 'no certificate'}`,
            'ACME_AT_RISK',
          );
        if (current !== undefined) printTLSA(out, d, current, next);
        report.push({
          domain: d,
          names: state?.names ?? [],
          challenge: state?.challenge ?? null,
          keyRollover: state?.keyRollover ?? null,
          expiresAt: s.expiresAt?.toISOString() ?? null,
          renewAt: s.renewAt?.toISOString() ?? null,
          window:
            s.window === undefined
              ? null
              : { start: s.window.start.toISOString(), end: s.window.end.toISOString() },
          source: s.source,
          note: note ?? null,
          explanationUrl: s.explanationUrl ?? null,
          renewalInfoCheckAt: s.renewalInfoCheckAt?.toISOString() ?? null,
          profile: state?.profile ?? null,
          due: s.due,
          reason: s.reason,
          failures: s.failures,
          nextAttemptAt: s.nextAttemptAt?.toISOString() ?? null,
          lastError: s.lastError ?? null,
          atRisk: s.atRisk,
          tlsa: [current, next].filter((x) => x !== undefined).map((x) => `3 1 1 ${x}`),
        });
      }
      out.result({ domains: report });
      return status;
    }),
  );
}
