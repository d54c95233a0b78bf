/**
 * Host-name matching benchmark (a script, not a test):
 *
 *   npx tsc -p tsconfig.json && node build/bench/hostname.bench.js [rounds]
 *
 * At start it makes four certificates with the `openssl` CLI in a temporary directory (wildcards, a bare
 * domain, many names, IP addresses) and a list of hosts per certificate (hits, misses, wildcard hits,
 * wildcard near-misses, upper case, IDN A-labels). It then measures matches per second of
 * mailtls `matchHostname` (on the certificate's names, extracted once) and of node:crypto
 * `X509Certificate.checkHost`/`checkIP` (OpenSSL's X509_check_host/X509_check_ip on the parsed
 * certificate), on the same certificates and hosts, interleaved in each round, and prints the medians and
 * their ratio. Before timing it checks that both give the same answers on these inputs (they are chosen
 * where the policies coincide: no partial wildcards, no public-suffix wildcards, no Common Name fallback).
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CertificateNames, matchHostname } from '../src/names/hostname.js';
import { parseIPAddress } from '../src/names/ip-address.js';

const rounds = Number(process.argv[2] ?? 9);

interface Fixture {
  readonly label: string;
  readonly san: string;
  readonly hosts: readonly string[];
}

const many = Array.from({ length: 24 }, (_, i) => `mx${i}.provider.example`);
const fixtures: Fixture[] = [
  {
    label: 'bare + wildcard',
    san: 'DNS:example.com,DNS:*.example.com',
    hosts: [
      'example.com',
      'mail.example.com',
      'SMTP.Example.COM',
      'imap.example.com',
      'a.b.example.com',
      'example.org',
    ],
  },
  {
    label: 'mail names',
    san: 'DNS:mail.example.net,DNS:smtp.example.net,DNS:imap.example.net,DNS:pop.example.net,DNS:mta-sts.example.net',
    hosts: [
      'mail.example.net',
      'pop.example.net',
      'webmail.example.net',
      'example.net',
      'mta-sts.example.net',
    ],
  },
  {
    label: `${many.length} names + wildcards`,
    san: [...many.map((n) => `DNS:${n}`), 'DNS:*.eu.provider.example', 'DNS:*.xn--bcher-kva.example'].join(
      ',',
    ),
    hosts: [
      'mx0.provider.example',
      'mx23.provider.example',
      'mx99.provider.example',
      'a.eu.provider.example',
      'www.xn--bcher-kva.example',
      'xn--bcher-kva.example',
    ],
  },
  {
    label: 'IP addresses',
    san: 'DNS:relay.example.org,IP:192.0.2.25,IP:198.51.100.7,IP:2001:db8::25',
    hosts: ['192.0.2.25', '198.51.100.8', '2001:db8::25', '2001:db8:0:0::26', 'relay.example.org'],
  },
];

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** The names the way a certificate view has them, from Node's subjectAltName text. */
function namesOf(cert: X509Certificate): CertificateNames {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ipAddresses.push(part.slice(11));
  }
  return { dnsNames, ipAddresses };
}

const dir = mkdtempSync(join(tmpdir(), 'mailtls-bench-'));
const loaded: { fixture: Fixture; cert: X509Certificate; names: CertificateNames }[] = [];
try {
  fixtures.forEach((fixture, i) => {
    const out = join(dir, `cert${i}.pem`);
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, `key${i}.pem`),
      '-out',
      out,
      '-days',
      '30',
      '-subj',
      '/O=mailtls bench',
      '-addext',
      `subjectAltName=${fixture.san}`,
    ]);
    const cert = new X509Certificate(readFileSync(out));
    loaded.push({ fixture, cert, names: namesOf(cert) });
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

interface Pair {
  readonly cert: X509Certificate;
  readonly names: CertificateNames;
  readonly host: string;
  readonly ip: boolean;
}
const pairs: Pair[] = loaded.flatMap(({ fixture, cert, names }) =>
  fixture.hosts.map((host) => ({ cert, names, host, ip: parseIPAddress(host) !== undefined })),
);

function nodeMatch(p: Pair): boolean {
  return (p.ip ? p.cert.checkIP(p.host) : p.cert.checkHost(p.host)) !== undefined;
}

let disagreements = 0;
let hits = 0;
for (const p of pairs) {
  const ours = matchHostname(p.names, p.host);
  const theirs = nodeMatch(p);
  if (ours) hits++;
  if (ours !== theirs) {
    disagreements++;
    console.log(`  disagreement: ${p.host}: mailtls ${ours}, node ${theirs}`);
  }
}

let sink = 0;
const impls: Record<string, () => void> = {
  'mailtls matchHostname': () => {
    for (const p of pairs) if (matchHostname(p.names, p.host)) sink++;
  },
  'node X509Certificate.checkHost/checkIP': () => {
    for (const p of pairs) if (nodeMatch(p)) sink++;
  },
};

/** Matches per second of one implementation, timing enough repetitions for about 150 ms. */
function measure(run: () => void): number {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    const ms = performance.now() - t0;
    if (ms >= 150) return (reps * pairs.length) / (ms / 1000);
    reps = Math.max(reps * 2, Math.ceil((reps * 160) / Math.max(ms, 1)));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const load0 = loadavg()[0]!;
for (const run of Object.values(impls)) measure(run); // warm-up
const results: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
const names = Object.keys(impls);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  for (const name of order) results[name]!.push(measure(impls[name]!));
}
const load1 = loadavg()[0]!;

console.log(
  `hostname matching: ${loaded.length} certificates (openssl CLI), ${pairs.length} (certificate, host) pairs`,
);
console.log(`  ${hits} of ${pairs.length} pairs match; mailtls and node disagree on ${disagreements}`);
console.log(`  ${rounds} rounds, load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
for (const name of names) {
  const xs = results[name]!;
  console.log(
    `  ${name.padEnd(40)} median ${(median(xs) / 1e6).toFixed(3)} M matches/s  (min ${(Math.min(...xs) / 1e6).toFixed(3)}, max ${(Math.max(...xs) / 1e6).toFixed(3)})`,
  );
}
const ratio =
  median(results['mailtls matchHostname']!) / median(results['node X509Certificate.checkHost/checkIP']!);
console.log(`  ratio mailtls / node: ${ratio.toFixed(2)}x`);
if (sink < 0) console.log(sink);
if (disagreements > 0) process.exitCode = 1;
