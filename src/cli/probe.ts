/**
 * `mailtls probe`: connect to a mail or web server, start TLS the way the URL says (STARTTLS for smtp://,
 * submission://, pop3://, imap://), and judge the chain it serves.
 *
 * @module cli/probe
 */
import { type Command, InvalidArgumentError } from 'commander';
import { canonicalizeHostname, parseCertificateBundle } from '../index.js';
import { probe } from '../node/index.js';
import {
  DEFAULT_MAX_CERTIFICATES,
  examples,
  MAX_CERTIFICATES_HELP,
  MAX_CERTIFICATES_HINTS,
  parseAt,
  parseMaxCertificates,
  runCommand,
} from './common.js';
import { readInput } from './files.js';
import { CLIError, EXIT_CODES_HELP, EXIT_OK, EXIT_PROBLEM, type Output } from './output.js';

interface ProbeCommandOptions {
  servername?: string | false;
  trust?: string;
  at?: Date;
  connect?: string;
  mxHost?: string;
  nextHop?: string;
  timeout?: number;
  transcript?: boolean;
  maxCertificates?: number;
  json?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 600)
    throw new InvalidArgumentError('expected a number of seconds from 0.1 to 600.');
  return n;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

async function run(url: string, opts: ProbeCommandOptions, out: Output): Promise<number> {
  if (opts.servername === '')
    throw new CLIError('ERR_CLI_USAGE', 'Give --servername NAME, or --no-servername.');
  // SNI carries a DNS host name only: an IP address or a malformed name is bad usage, refused with the
  // library's host-name error before anything connects.
  if (typeof opts.servername === 'string') canonicalizeHostname(opts.servername);
  const trust =
    opts.trust === undefined
      ? undefined
      : parseCertificateBundle(readInput(opts.trust, 'trust file'), {
          maxCertificates: opts.maxCertificates ?? DEFAULT_MAX_CERTIFICATES,
        }).certificates;
  const r = await out.progress(`probing ${url}`, () =>
    probe(url, {
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...(trust === undefined ? {} : { trust: [...trust] }),
      ...(opts.at === undefined ? {} : { at: opts.at }),
      ...(opts.connect === undefined ? {} : { connect: opts.connect }),
      ...(opts.mxHost === undefined ? {} : { mxHost: opts.mxHost }),
      ...(opts.nextHop === undefined ? {} : { nextHop: opts.nextHop }),
      ...(opts.timeout === undefined ? {} : { timeoutMs: Math.round(opts.timeout * 1000) }),
    }),
  );
  const ok = r.chainValid && r.namesMatch && r.problems.length === 0;
  out.result({
    ok,
    url: r.url,
    protocol: r.protocol,
    connectedTo: r.connectedTo,
    starttls: r.starttls,
    servername: r.servername ?? null,
    tlsVersion: r.tlsVersion,
    cipher: r.cipher,
    ...(r.alpn === undefined ? {} : { alpn: r.alpn }),
    servedChain: r.servedChain.map((c) => ({
      subject: c.subject.toString(),
      issuer: c.issuer.toString(),
      notAfter: c.notAfter.toISOString(),
      sha256: c.fingerprint('sha256'),
    })),
    servedChainSource: r.servedChainSource,
    chainValid: r.chainValid,
    ...(r.chainError === undefined
      ? {}
      : { chainError: { code: r.chainError.code, message: r.chainError.message } }),
    ...(r.verifiedChain === undefined
      ? {}
      : { verifiedChain: r.verifiedChain.map((c) => c.subject.toString()) }),
    namesMatch: r.namesMatch,
    ...(r.namesError === undefined
      ? {}
      : { namesError: { code: r.namesError.code, message: r.namesError.message } }),
    notAfter: r.notAfter.toISOString(),
    daysLeft: r.daysLeft,
    at: r.at.toISOString(),
    problems: r.problems.map((p) => ({ code: p.code, message: p.message })),
    capabilities: r.capabilities,
    transcript: r.transcript,
  });
  out.line(
    `${out.paint('bold', r.url)}: connected to ${r.connectedTo}${r.starttls ? ', STARTTLS' : ', TLS at once'}` +
      (r.servername === undefined ? ', no SNI' : `, SNI ${r.servername}`),
  );
  if (opts.transcript === true && r.transcript.length > 0) {
    out.line('  Plaintext before TLS:');
    for (const t of r.transcript) out.line(`    ${t.from === 'client' ? 'C:' : 'S:'} ${t.line}`);
  }
  out.line(`  TLS: ${r.tlsVersion}, ${r.cipher}${r.alpn === undefined ? '' : `, ALPN ${r.alpn}`}`);
  out.line(
    `  Served chain (${r.servedChainSource === 'handshake' ? 'as sent' : "rebuilt from node's issuer links; order not known"}):`,
  );
  for (const [i, c] of r.servedChain.entries())
    out.line(`    ${i} ${c.subject.toString()}  (issuer ${c.issuer.toString()}, until ${day(c.notAfter)})`);
  out.line(
    r.chainValid
      ? `  Chain: ${out.paint('green', 'valid')}${r.verifiedChain === undefined ? '' : ` (to ${r.verifiedChain[r.verifiedChain.length - 1]?.subject.toString() ?? '?'})`}`
      : `  Chain: ${out.paint('red', 'INVALID')}${r.chainError === undefined ? '' : `: ${r.chainError.message}`}`,
  );
  out.line(
    r.namesMatch
      ? `  Names: ${out.paint('green', 'match')}`
      : `  Names: ${out.paint('red', 'MISMATCH')}${r.namesError === undefined ? '' : `: ${r.namesError.message}`}`,
  );
  out.line(`  Expires: ${r.notAfter.toISOString()} (${r.daysLeft} days left at ${r.at.toISOString()})`);
  if (r.problems.length > 0) {
    out.line(out.paint('red', `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`));
    for (const p of r.problems) out.line(`  ${p.code}: ${p.message}`);
  } else if (ok) out.line(out.paint('green', 'OK'));
  return ok ? EXIT_OK : EXIT_PROBLEM;
}

/** Adds `mailtls probe` to the program. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .summary('check the certificate a mail or web server serves')
    .description(
      'Connect to URL, start TLS the way its scheme says (STARTTLS for smtp:// on 25, submission:// on 587, ' +
        'pop3:// on 110 and imap:// on 143; at once for smtps://, submissions:// on 465, pop3s:// on 995, ' +
        'imaps:// on 993 and https:// on 443), and report the chain as the server sends it: whether it ' +
        "validates (against --trust, default Node's bundled roots, at --at), whether the names match, the " +
        'days left, and every problem (missing intermediate, wrong order, root sent, expired, name mismatch, ' +
        'old protocol, weak cipher) in words. Only the greeting, capabilities, STARTTLS and QUIT are sent; ' +
        'never credentials or mail. Exit 1 when a problem was found or the server cannot be reached.',
    )
    .argument('<url>', 'e.g. smtp://mx1.example.com, imaps://imap.example.com:993, https://example.com')
    .option('--servername <name>', 'the SNI name to send (default: the URL host)')
    .option('--no-servername', 'send no SNI')
    .option('--trust <file>', "trusted roots (default: Node's bundled roots)")
    .option('--at <iso-8601>', 'judge validity at this time instead of now', parseAt)
    .option(
      '--connect <address>',
      'connect here instead of the URL host (names are still checked against it)',
    )
    .option('--mx-host <name>', 'the name to check the certificate against (default: the URL host)')
    .option(
      '--next-hop <domain>',
      "the next-hop domain, for Postfix's 'secure' matching (nexthop, dot-nexthop)",
    )
    .option('--timeout <seconds>', 'the most time the whole probe may take (default 10)', seconds)
    .option('--transcript', 'also print the plaintext exchange before TLS')
    .option('--max-certificates <n>', `${MAX_CERTIFICATES_HELP}, for --trust`, parseMaxCertificates)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls probe smtp://mx1.example.com',
        'mailtls probe submission://smtp.example.com --transcript',
        'mailtls probe imaps://imap.example.com --trust private-ca.pem --json',
        'mailtls probe smtp://mail.example.com --connect 192.0.2.25 --at 2027-01-01',
      ) + EXIT_CODES_HELP,
    )
    .action(
      async (url: string, opts: ProbeCommandOptions) =>
        await runCommand(opts.json, (out) => run(url, opts, out), {
          ...MAX_CERTIFICATES_HINTS,
          ERR_HOSTNAME_INVALID:
            '--servername takes a DNS host name such as mail.example.com; SNI never carries an IP address ' +
            '(leave --servername out, or give --no-servername, to send none).',
        }),
    );
}
