/**
 * x509-limbo conformance harness: runs mailtls's verifyChain over every case of the C2SP x509-limbo suite
 * (../shared/conformance/limbo.json.gz) and writes a LimboResult JSON
 * (`{version: 1, harness: "mailtls", results: [{id, actual_result, context}]}`).
 *
 * Usage: `node build/scripts/limbo.js [--out FILE] [--limbo FILE] [--filter TEXT] [--quiet] [--json-summary]`
 * (default output conformance/results/limbo.json). Prints per family `N passed, N failed, N skipped`, the
 * pass rate of evaluated cases, the BetterTLS count, the hostname families the hostname issue tracks, the
 * skips with their reasons and every failure.
 *
 * Case mapping: SERVER cases validate for `serverAuth` with `expected_peer_name` as host (DNS), ip (IP)
 * or email (RFC822); CLIENT cases validate for `clientAuth` and require every `expected_peer_names`
 * e-mail address; `max_chain_depth` → maxDepth; `crls` → crls; `validation_time` → at (now when null).
 * Skips are by feature only (SKIPPED_FEATURES, with the reason). Each case has 5 s; a case that takes
 * longer is recorded as HANG. Parsed certificates are cached by PEM across cases (the BetterTLS root
 * recurs), which the validator itself does not do.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createTrustStore, type VerifyChainOptions, verifyChain } from '../src/chain/verify-chain.js';
import { MailTlsError } from '../src/errors.js';
import { type Certificate, parseCertificate } from '../src/x509/certificate.js';

/** One x509-limbo test case (the fields the harness reads). */
export interface LimboCase {
  id: string;
  features: string[];
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  expected_peer_names: { kind: 'DNS' | 'IP' | 'RFC822'; value: string }[];
  extended_key_usage: string[];
  max_chain_depth: number | null;
  crls: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
}

export type ActualResult = 'SUCCESS' | 'FAILURE' | 'SKIPPED' | 'HANG';

/** One result of the LimboResult format. */
export interface LimboResult {
  id: string;
  actual_result: ActualResult;
  context: string | null;
}

/**
 * Features whose cases are skipped, with the reason. Only features mailtls deliberately does not follow
 * are listed; every other feature (CRLs, max chain depth, DN constraints, denial of service, pedantic
 * serial numbers, subscriber keys and RFC 5280 readings) is evaluated.
 */
export const SKIPPED_FEATURES: Readonly<Record<string, string>> = {
  'pedantic-webpki-eku':
    'mailtls follows RFC 5280 §4.2.1.12 for extendedKeyUsage: a leaf without the extension, or with ' +
    'anyExtendedKeyUsage, is valid for every purpose (private mail CAs issue such leaves), and a critical ' +
    'EKU or an EKU in a root is not an error; the CA/Browser Forum profile these cases test says otherwise ' +
    '(webpki::eku::ee-without-eku conflicts with rfc5280::eku::ee-without-eku)',
  'pedantic-rfc5280':
    'the one case (rfc5280::aki::cross-signed-root-missing-aki) wants a trust anchor that is not self-signed ' +
    'rejected for lacking an authority key identifier, while cve::cve-2024-0567 must succeed with a trust ' +
    'anchor of exactly that shape; mailtls does not apply the AKI rule to trust anchors',
  'rfc5280-incompatible-with-webpki':
    'where RFC 5280 and the CA/Browser Forum profile conflict, mailtls follows the CA/Browser Forum: a ' +
    'non-critical nameConstraints extension is enforced, not rejected (the webpki:: counterpart passes)',
};

/** The family a case is counted under: the first id component (two for BetterTLS). */
export function familyOf(id: string): string {
  const parts = id.split('::');
  return parts[0] === 'bettertls' ? `${parts[0]}::${parts[1]}` : parts[0]!;
}

/** Families the hostname issue asks to count separately. */
export const HOSTNAME_FAMILIES = ['webpki::san::', 'webpki::cn::', 'rfc5280::san::'] as const;

const certCache = new Map<string, Certificate>();
function cert(pem: string): Certificate {
  let c = certCache.get(pem);
  if (c === undefined) {
    c = parseCertificate(pem);
    certCache.set(pem, c);
  }
  return c;
}

/** Options of {@link runCase}. */
export interface RunCaseOptions {
  /** Host-name options passed to verifyChain (e.g. `{ privateSuffixWildcards: false }`). */
  hostname?: VerifyChainOptions['hostname'];
  /** Per-case time limit in ms; default 5000. */
  timeoutMs?: number;
}

async function evaluate(t: LimboCase, options: RunCaseOptions): Promise<{ ok: boolean; context: string }> {
  let roots: ReturnType<typeof createTrustStore>;
  let leaf: Certificate;
  let intermediates: Certificate[];
  try {
    roots = createTrustStore(t.trusted_certs.map(cert));
    leaf = cert(t.peer_certificate);
    intermediates = t.untrusted_intermediates.map(cert);
  } catch (e) {
    if (e instanceof MailTlsError) return { ok: false, context: `${e.code}: ${e.message}` };
    throw e;
  }
  const base: VerifyChainOptions = {
    roots,
    intermediates,
    purpose: t.validation_kind === 'CLIENT' ? 'clientAuth' : 'serverAuth',
    ...(t.validation_time === null ? {} : { at: new Date(t.validation_time) }),
    ...(t.max_chain_depth === null ? {} : { maxDepth: t.max_chain_depth }),
    ...(t.crls.length === 0 ? {} : { crls: t.crls }),
    ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
  };
  const names =
    t.validation_kind === 'CLIENT'
      ? t.expected_peer_names
      : t.expected_peer_name
        ? [t.expected_peer_name]
        : [];
  const runs: VerifyChainOptions[] =
    names.length === 0
      ? [base]
      : names.map((n) =>
          n.kind === 'DNS'
            ? { ...base, host: n.value }
            : n.kind === 'IP'
              ? { ...base, ip: n.value }
              : { ...base, email: n.value },
        );
  try {
    let context = '';
    for (const o of runs) {
      const chain = await verifyChain(leaf, o);
      context = `path of ${chain.certificates.length}, ${chain.signatureChecks} signature checks`;
    }
    return { ok: true, context };
  } catch (e) {
    if (e instanceof MailTlsError)
      return {
        ok: false,
        context: `${e.code}${typeof e.details.reason === 'string' ? ` (${e.details.reason})` : ''}: ${e.message}`,
      };
    return { ok: false, context: `CRASH ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

/** Runs one case: SKIPPED by feature, HANG after the time limit, else SUCCESS or FAILURE. */
export async function runCase(t: LimboCase, options: RunCaseOptions = {}): Promise<LimboResult> {
  for (const f of t.features ?? [])
    if (SKIPPED_FEATURES[f] !== undefined)
      return { id: t.id, actual_result: 'SKIPPED', context: `feature ${f}: ${SKIPPED_FEATURES[f]}` };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<'HANG'>((r) => {
    timer = setTimeout(() => r('HANG'), options.timeoutMs ?? 5000);
  });
  try {
    const r = await Promise.race([evaluate(t, options), hang]);
    if (r === 'HANG') return { id: t.id, actual_result: 'HANG', context: 'no result within the time limit' };
    return { id: t.id, actual_result: r.ok ? 'SUCCESS' : 'FAILURE', context: r.context };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the gzipped limbo file. */
export function loadLimbo(path: string): LimboCase[] {
  const data = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as { testcases: LimboCase[] };
  return data.testcases;
}

/** Whether a result agrees with the expectation. */
export function passed(t: LimboCase, r: LimboResult): boolean {
  return r.actual_result === t.expected_result;
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function count(map: Map<string, Counts>, key: string, r: LimboResult, ok: boolean): void {
  let c = map.get(key);
  if (c === undefined) {
    c = { passed: 0, failed: 0, skipped: 0 };
    map.set(key, c);
  }
  if (r.actual_result === 'SKIPPED') c.skipped++;
  else if (ok) c.passed++;
  else c.failed++;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const limboPath = arg('--limbo') ?? resolve(root, '..', 'shared', 'conformance', 'limbo.json.gz');
  const out = resolve(arg('--out') ?? resolve(root, 'conformance', 'results', 'limbo.json'));
  const filter = arg('--filter');
  const quiet = args.includes('--quiet');
  const cases = loadLimbo(limboPath).filter((t) => filter === undefined || t.id.includes(filter));
  const started = performance.now();
  const results: LimboResult[] = [];
  const families = new Map<string, Counts>();
  const hostFamilies = new Map<string, Counts>();
  const failures: [LimboCase, LimboResult][] = [];
  const skipReasons = new Map<string, number>();
  let slowest = { id: '', ms: 0 };
  for (const t of cases) {
    const t0 = performance.now();
    const r = await runCase(t);
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { id: t.id, ms };
    results.push(r);
    const ok = passed(t, r);
    count(families, familyOf(t.id), r, ok);
    for (const h of HOSTNAME_FAMILIES) if (t.id.startsWith(h)) count(hostFamilies, h.slice(0, -2), r, ok);
    if (r.actual_result === 'SKIPPED') {
      const f = r.context!.slice(0, r.context!.indexOf(':'));
      skipReasons.set(f, (skipReasons.get(f) ?? 0) + 1);
    } else if (!ok) failures.push([t, r]);
  }
  const seconds = (performance.now() - started) / 1000;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ version: 1, harness: 'mailtls', results }, null, 1)}\n`);

  const total = { passed: 0, failed: 0, skipped: 0 };
  console.log('x509-limbo, mailtls harness');
  for (const [name, c] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    console.log(`  ${name.padEnd(28)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  }
  const evaluated = total.passed + total.failed;
  const pct = evaluated === 0 ? 0 : (100 * total.passed) / evaluated;
  console.log(
    `total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped of ${cases.length}; ` +
      `${pct.toFixed(2)}% of ${evaluated} evaluated cases (${seconds.toFixed(1)} s; slowest ${slowest.id} ${slowest.ms.toFixed(0)} ms)`,
  );
  const better = [...families].filter(([k]) => k.startsWith('bettertls'));
  const bp = better.reduce((a, [, c]) => a + c.passed, 0);
  const bt = better.reduce((a, [, c]) => a + c.passed + c.failed + c.skipped, 0);
  console.log(`BetterTLS: ${bp} of ${bt} passed`);
  const sidecar = resolve(dirname(limboPath), 'bettertls-sidecar.json.gz');
  if (existsSync(sidecar)) {
    const soft = (JSON.parse(gunzipSync(readFileSync(sidecar)).toString('utf8')) as { softIds: string[] })
      .softIds;
    const byId = new Map(cases.map((t, i) => [t.id, [t, results[i]!] as const]));
    const present = soft.filter((id) => byId.has(id));
    const agree = present.filter((id) => passed(...byId.get(id)!)).length;
    console.log(
      `BetterTLS soft cases (either answer acceptable to BetterTLS, hard in limbo): ${present.length} of ${soft.length} run, ${agree} agree with limbo`,
    );
  }
  for (const [name, c] of hostFamilies)
    console.log(`hostname family ${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  for (const [f, n] of skipReasons)
    console.log(`skipped ${n} by ${f}: ${SKIPPED_FEATURES[f.replace('feature ', '')]}`);
  console.log(`${failures.length} failure(s):`);
  for (const [t, r] of failures)
    console.log(
      `  ${t.id}: expected ${t.expected_result}, got ${r.actual_result}${quiet ? '' : ` — ${(r.context ?? '').slice(0, 300)}`}`,
    );
  console.log(`results written to ${out}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
