/**
 * `mailtls verify`: assemble and validate a certificate's chain (RFC 5280) and check the host names; print
 * the path and every problem in words; exit 1 when anything is wrong.
 *
 * @module cli/verify
 */
import type { Command } from 'commander';
import {
  assembleChain,
  type Certificate,
  checkHostname,
  createTrustStore,
  isMailTlsError,
  parseCertificateBundle,
  type TrustStore,
  verifyChain,
  verifyHostname,
} from '../index.js';
import { nodeTrustStore } from '../node/index.js';
import {
  collect,
  DEFAULT_MAX_CERTIFICATES,
  examples,
  MAX_CERTIFICATES_HELP,
  MAX_CERTIFICATES_HINTS,
  parseAt,
  parseMaxCertificates,
  runCommand,
} from './common.js';
import { readInput } from './files.js';
import { EXIT_CODES_HELP, EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';

interface VerifyOptions {
  cert: string;
  chain?: string;
  trust?: string;
  host?: string[];
  at?: Date;
  maxCertificates?: number;
  json?: boolean;
}

/** A problem, as printed and as JSON. */
interface Problem {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

function problemOf(e: unknown): Problem {
  if (!isMailTlsError(e)) throw e;
  return {
    code: e.code,
    message: e.message,
    details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown>,
  };
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The certificates of a file (PEM bundle, DER, PKCS#7). */
function certificatesOf(file: string, what: string, max: number): readonly Certificate[] {
  return parseCertificateBundle(readInput(file, what), { maxCertificates: max }).certificates;
}

/** The trust anchors: `--trust FILE`, or Node's bundled roots. */
export function trustOf(
  file: string | undefined,
  max = DEFAULT_MAX_CERTIFICATES,
): { store: TrustStore; source: string } {
  if (file === undefined) return { store: nodeTrustStore(), source: "Node's bundled roots" };
  return { store: createTrustStore([...certificatesOf(file, 'trust file', max)]), source: file };
}

function certJSON(c: Certificate, role: string): Record<string, unknown> {
  return {
    role,
    subject: c.subject.toString(),
    issuer: c.issuer.toString(),
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.fingerprint('sha256'),
  };
}

async function verify(opts: VerifyOptions, out: Output): Promise<number> {
  const certBytes = readInput(opts.cert, 'certificate file');
  const max = opts.maxCertificates ?? DEFAULT_MAX_CERTIFICATES;
  const pool = opts.chain === undefined ? [] : [...certificatesOf(opts.chain, 'chain file', max)];
  const trust = trustOf(opts.trust, max);
  const at = opts.at ?? new Date();
  const problems: Problem[] = [];

  const assembled = await assembleChain(certBytes, pool, { roots: trust.store, at });
  const notes = assembled.problems.map((p) => ({ code: p.code, message: p.message }));
  let path: readonly Certificate[] = assembled.certificates;
  let validated = false;
  try {
    const chain = await verifyChain(certBytes, { roots: trust.store, intermediates: pool, at });
    path = chain.certificates;
    validated = true;
  } catch (e) {
    problems.push(problemOf(e));
  }
  const leaf = assembled.leaf;
  const hosts: Record<string, unknown>[] = [];
  for (const host of opts.host ?? []) {
    try {
      verifyHostname(leaf, host);
      hosts.push({ host, covered: true, matchedName: checkHostname(leaf, host).matchedName });
    } catch (e) {
      if (isMailTlsError(e, 'ERR_HOSTNAME_INVALID')) throw e;
      const p = problemOf(e);
      problems.push(p);
      hosts.push({ host, covered: false });
    }
  }
  const roles = (i: number, n: number) =>
    i === 0 ? 'leaf' : validated && i === n - 1 ? 'trust anchor' : 'intermediate';
  const valid = problems.length === 0;
  out.result({
    valid,
    at: at.toISOString(),
    trust: trust.source,
    path: path.map((c, i) => certJSON(c, roles(i, path.length))),
    pathValidated: validated,
    served: assembled.certificates.map((c) => c.subject.toString()),
    hosts,
    problems,
    notes,
  });

  out.line(
    validated
      ? 'Certificate path (validated):'
      : 'Certificate path (as far as it could be built; not valid):',
  );
  path.forEach((c, i) => {
    out.line(`  ${i} ${out.paint('bold', c.subject.toString())}  [${roles(i, path.length)}]`);
    out.line(`      issuer: ${c.issuer.toString()}`);
    out.line(`      valid ${day(c.notBefore)} to ${day(c.notAfter)}, SHA-256 ${c.fingerprint('sha256')}`);
  });
  out.line(`Trust anchors: ${trust.source}; checked at ${at.toISOString()}`);
  if (hosts.length > 0) {
    out.line('Host names:');
    for (const h of hosts)
      out.line(
        h.covered === true
          ? `  ${h.host as string}: ${out.paint('green', 'covered')} (by ${h.matchedName as string})`
          : `  ${h.host as string}: ${out.paint('red', 'NOT covered')}`,
      );
  }
  if (notes.length > 0) {
    out.line('About the files given:');
    for (const n of notes) out.line(`  ${n.code}: ${n.message}`);
    out.line(
      `  Deploy these, in this order: ${assembled.certificates.map((c) => c.subject.toString()).join('  ->  ')}`,
    );
  }
  if (valid) {
    out.line(out.paint('green', 'OK: the certificate is valid.'));
    return EXIT_OK;
  }
  out.line(out.paint('red', `INVALID: ${problems.length} problem${problems.length === 1 ? '' : 's'}:`));
  for (const p of problems) out.line(`  ${p.code}: ${p.message}`);
  return EXIT_PROBLEM;
}

/** Adds `mailtls verify` to the program. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .summary('validate a certificate, its chain and its host names')
    .description(
      'Assemble the chain of --cert from the certificates in --cert and --chain (in any order, duplicates ' +
        "and unrelated certificates allowed) and validate it (RFC 5280) against --trust (default: Node's " +
        'bundled roots) at --at (default: now), then check that the certificate covers every --host. Prints ' +
        'the path, what was wrong with the files given (wrong order, root included, ...), the certificates to ' +
        'deploy in order, and every problem in words. Exit 1 when the certificate is not valid.',
    )
    .requiredOption('--cert <file>', 'the server certificate (PEM/DER; may hold the chain too)')
    .option('--chain <file>', 'the intermediate certificates (the CA bundle), any order')
    .option('--trust <file>', "trusted root certificates (default: Node's bundled roots)")
    .option('--host <name>', 'a host name or IP address the certificate must cover (repeatable)', collect)
    .option('--at <iso-8601>', 'validate at this time instead of now', parseAt)
    .option('--max-certificates <n>', MAX_CERTIFICATES_HELP, parseMaxCertificates)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls verify --cert mail.crt --chain ca-bundle.crt --host mail.example.com --host imap.example.com',
        'mailtls verify --cert fullchain.pem --trust private-ca.pem --at 2027-01-01T00:00:00Z --json',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (opts: VerifyOptions) =>
        await runCommand(opts.json, (out) => verify(opts, out), MAX_CERTIFICATES_HINTS),
    );
}
