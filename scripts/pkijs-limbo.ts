/**
 * pkijs's CertificateChainValidationEngine against mailtls's verifyChain on the x509-limbo cases
 * (../shared/conformance/limbo.json.gz). pkijs validates a path (signatures, validity, basic constraints, key
 * usage, name constraints, policies, CRLs) but checks neither the peer's name, nor extendedKeyUsage, nor a
 * maximum depth, so the cases it can evaluate are the SERVER cases without `max_chain_depth`; on those each
 * disagreement is classified by re-running mailtls without the check pkijs lacks:
 *
 * - `peer-name`: mailtls agrees with pkijs once the expected peer name is not checked (pkijs has no name check);
 * - `eku`: mailtls agrees once any extendedKeyUsage is accepted (pkijs does not check EKU);
 * - `pkijs-wrong`: a path-validation difference where mailtls matches limbo's expected result;
 * - `mailtls-wrong`: a path-validation difference where pkijs matches limbo (mailtls's listed deviations);
 * - `both-wrong`: neither matches limbo.
 *
 * Usage: `npm run conformance:pkijs` (or `node build/scripts/pkijs-limbo.js [--limbo FILE] [--every N]
 * [--family PREFIX] [--not-family PREFIX] [--json]`). pkijs gets 2 s per case; a case it does not answer in time counts as FAILURE.
 * Prints the counts per class and family and every `pkijs-wrong`, `mailtls-wrong` and `both-wrong` case.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pkijs from 'pkijs';
import { type VerifyChainOptions, verifyChain } from '../src/chain/verify-chain.js';
import { decodePEMAll } from '../src/encoding/pem.js';
import { familyOf, type LimboCase, loadLimbo } from './limbo.js';

/** How a disagreement between pkijs and mailtls is explained. */
export type DisagreementClass = 'peer-name' | 'eku' | 'pkijs-wrong' | 'mailtls-wrong' | 'both-wrong';

/** One case evaluated by both. */
export interface PkijsComparison {
  readonly id: string;
  readonly family: string;
  readonly expected: 'SUCCESS' | 'FAILURE';
  readonly pkijs: 'SUCCESS' | 'FAILURE';
  readonly mailtls: 'SUCCESS' | 'FAILURE';
  /** Set when the two disagree. */
  readonly disagreement?: DisagreementClass;
  /** pkijs's result message, or mailtls's error code. */
  readonly detail: string;
}

/**
 * Cases on which pkijs's path search does not end within minutes (it goes on after the 2 s limit and keeps
 * the process busy): the test leaves them out, the script reports them as FAILURE after the limit.
 */
export const PKIJS_HANGS: Readonly<Record<string, string>> = {
  'cve::cve-2024-0567':
    'a cross-signed mesh of CAs; pkijs enumerates every path before choosing one (limbo expects SUCCESS)',
};

/** Whether pkijs's engine can evaluate the case at all (SERVER, no depth limit). */
export function pkijsCanEvaluate(t: LimboCase): boolean {
  return t.validation_kind === 'SERVER' && t.max_chain_depth === null;
}

function der(pem: string): pkijs.Certificate[] {
  return decodePEMAll(pem, 'CERTIFICATE').map((b) =>
    pkijs.Certificate.fromBER(b.bytes as Uint8Array<ArrayBuffer>),
  );
}

/** pkijs's answer: its engine with the trusted certificates, leaf and intermediates, time and CRLs. */
export async function pkijsVerify(t: LimboCase, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  try {
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: t.trusted_certs.flatMap(der),
      // pkijs takes the last certificate of `certs` as the end entity
      certs: [...t.untrusted_intermediates.flatMap(der), ...der(t.peer_certificate)],
      crls: t.crls.flatMap((pem) =>
        decodePEMAll(pem, 'X509 CRL').map((b) =>
          pkijs.CertificateRevocationList.fromBER(b.bytes as Uint8Array<ArrayBuffer>),
        ),
      ),
      ...(t.validation_time === null ? {} : { checkDate: new Date(t.validation_time) }),
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), timeoutMs);
    });
    const r = await Promise.race([engine.verify(), hang]).finally(() => clearTimeout(timer));
    if (r === undefined) return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    return { ok: r.result, detail: r.resultMessage };
  } catch (e) {
    return { ok: false, detail: `threw: ${e instanceof Error ? e.message : String(e)}` };
  }
}

async function mailtlsVerify(
  t: LimboCase,
  names: boolean,
  purpose: 'serverAuth' | 'any',
): Promise<{ ok: boolean; detail: string }> {
  const options: VerifyChainOptions = {
    roots: t.trusted_certs,
    intermediates: t.untrusted_intermediates,
    purpose,
    ...(t.validation_time === null ? {} : { at: new Date(t.validation_time) }),
    ...(t.crls.length === 0 ? {} : { crls: t.crls }),
  };
  const n = names ? t.expected_peer_name : null;
  if (n?.kind === 'DNS') options.host = n.value;
  else if (n?.kind === 'IP') options.ip = n.value;
  else if (n?.kind === 'RFC822') options.email = n.value;
  try {
    await verifyChain(t.peer_certificate, options);
    return { ok: true, detail: 'valid' };
  } catch (e) {
    return { ok: false, detail: (e as { code?: string }).code ?? String(e) };
  }
}

const word = (ok: boolean): 'SUCCESS' | 'FAILURE' => (ok ? 'SUCCESS' : 'FAILURE');

/** Evaluates one case with both and classifies a disagreement. */
export async function compareCase(t: LimboCase): Promise<PkijsComparison> {
  const [p, m] = await Promise.all([pkijsVerify(t), mailtlsVerify(t, true, 'serverAuth')]);
  const base = {
    id: t.id,
    family: familyOf(t.id),
    expected: t.expected_result,
    pkijs: word(p.ok),
    mailtls: word(m.ok),
  };
  if (p.ok === m.ok) return { ...base, detail: p.detail };
  let disagreement: DisagreementClass;
  if ((await mailtlsVerify(t, false, 'serverAuth')).ok === p.ok) disagreement = 'peer-name';
  else if ((await mailtlsVerify(t, false, 'any')).ok === p.ok) disagreement = 'eku';
  else if (word(m.ok) === t.expected_result) disagreement = 'pkijs-wrong';
  else if (word(p.ok) === t.expected_result) disagreement = 'mailtls-wrong';
  else disagreement = 'both-wrong';
  return { ...base, disagreement, detail: `pkijs: ${p.detail}; mailtls: ${m.detail}` };
}

/** The limbo file next to the package (../shared/conformance), if present. */
export function defaultLimboPath(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../../../shared/conformance/limbo.json.gz', '../../shared/conformance/limbo.json.gz']) {
    const p = resolve(here, up);
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const path = at('--limbo') ?? defaultLimboPath();
  if (path === undefined) throw new Error('limbo.json.gz not found; pass --limbo FILE');
  const every = Number(at('--every') ?? '1');
  const only = at('--family');
  const skip = at('--not-family');
  const cases = loadLimbo(path)
    .filter(pkijsCanEvaluate)
    .filter(
      (t) => (only === undefined || t.id.startsWith(only)) && (skip === undefined || !t.id.startsWith(skip)),
    )
    .filter((_, i) => i % every === 0);
  const results: PkijsComparison[] = [];
  for (const t of cases) results.push(await compareCase(t));
  if (args.includes('--json')) {
    console.log(
      JSON.stringify(
        results.filter((r) => r.disagreement !== undefined),
        null,
        2,
      ),
    );
    return;
  }
  const byClass = new Map<string, number>();
  const byFamily = new Map<string, number>();
  for (const r of results) {
    const k = r.disagreement ?? 'agree';
    byClass.set(k, (byClass.get(k) ?? 0) + 1);
    if (r.disagreement !== undefined)
      byFamily.set(`${r.family} ${k}`, (byFamily.get(`${r.family} ${k}`) ?? 0) + 1);
  }
  const pkijsRight = results.filter((r) => r.pkijs === r.expected).length;
  const mailtlsRight = results.filter((r) => r.mailtls === r.expected).length;
  console.log(`${results.length} cases pkijs can evaluate (SERVER, no max_chain_depth)`);
  console.log(`matches limbo's expected result: pkijs ${pkijsRight}, mailtls ${mailtlsRight}`);
  for (const [k, n] of [...byClass].sort()) console.log(`  ${k}: ${n}`);
  console.log('disagreements by family:');
  for (const [k, n] of [...byFamily].sort()) console.log(`  ${k}: ${n}`);
  for (const r of results)
    if (r.disagreement !== undefined && r.disagreement !== 'peer-name' && r.disagreement !== 'eku')
      console.log(
        `${r.disagreement} ${r.id} expected ${r.expected} pkijs ${r.pkijs} mailtls ${r.mailtls} (${r.detail})`,
      );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
  process.exit(0); // a pkijs search that timed out goes on in the background; do not wait for it
}
