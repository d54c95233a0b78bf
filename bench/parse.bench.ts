/**
 * Certificate parsing benchmark (a script, not a test):
 *
 *   npx tsc -p tsconfig.json && node build/bench/parse.bench.js [rounds]
 *
 * Over the certificates of `tls.rootCertificates` (DER, decoded once up front), it measures per certificate:
 * - mailtls `parseCertificate` alone, and parse + the fields SNI indexing and chain building read (subject and
 *   issuer strings, DNS/IP SANs, validity, SKI/AKI, public key object);
 * - node:crypto `X509Certificate`: construct + read subject, subjectAltName, validFrom/validTo, publicKey;
 * - @peculiar/x509: construct, and construct + subject, issuer, SAN, validity, SKI/AKI, public key;
 * - pkijs: `Certificate.fromBER`, and + subject/issuer values, extensions, validity.
 * Libraries run interleaved in each round (so that machine load hits them alike); the medians over the rounds
 * are printed with ratios against node:crypto, and the load average before and after.
 */
import 'reflect-metadata';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { rootCertificates } from 'node:tls';
import * as peculiar from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { parsePEM } from '../src/encoding/pem.js';
import { parseCertificate } from '../src/x509/certificate.js';

const rounds = Number(process.argv[2] ?? 25);
const ders: Uint8Array[] = rootCertificates.map((pem) => parsePEM(pem)[0]!.bytes);
const buffers = ders.map((d) => Buffer.from(d));
const arrayBuffers = ders.map(
  (d) => d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) as ArrayBuffer,
);
let sink = 0;

function touch(v: unknown): void {
  if (v !== undefined && v !== null) sink++;
}

const cases: Record<string, () => void> = {
  'mailtls parse': () => {
    for (const d of ders) touch(parseCertificate(d));
  },
  'mailtls parse+fields': () => {
    for (const d of ders) {
      const c = parseCertificate(d);
      touch(c.subject.toString());
      touch(c.issuer.toString());
      touch(c.dnsNames);
      touch(c.ipAddresses);
      touch(c.notBefore);
      touch(c.notAfter);
      touch(c.subjectKeyIdentifier);
      touch(c.authorityKeyIdentifier);
      touch(c.publicKey);
    }
  },
  'node:crypto X509Certificate': () => {
    for (const b of buffers) {
      const c = new NodeX509(b);
      touch(c.subject);
      touch(c.subjectAltName);
      touch(c.validFrom);
      touch(c.validTo);
      touch(c.publicKey);
    }
  },
  '@peculiar/x509 parse': () => {
    for (const b of arrayBuffers) touch(new peculiar.X509Certificate(b));
  },
  '@peculiar/x509 parse+fields': () => {
    for (const b of arrayBuffers) {
      const c = new peculiar.X509Certificate(b);
      touch(c.subject);
      touch(c.issuer);
      touch(c.getExtension(peculiar.SubjectAlternativeNameExtension));
      touch(c.notBefore);
      touch(c.notAfter);
      touch(c.getExtension(peculiar.SubjectKeyIdentifierExtension));
      touch(c.getExtension(peculiar.AuthorityKeyIdentifierExtension));
      touch(c.publicKey);
    }
  },
  'pkijs parse': () => {
    for (const b of arrayBuffers) touch(pkijs.Certificate.fromBER(b));
  },
  'pkijs parse+fields': () => {
    for (const b of arrayBuffers) {
      const c = pkijs.Certificate.fromBER(b);
      touch(c.subject.typesAndValues.map((t) => t.value.valueBlock.value));
      touch(c.issuer.typesAndValues.map((t) => t.value.valueBlock.value));
      touch(c.extensions?.map((e) => e.parsedValue));
      touch(c.notBefore.value);
      touch(c.notAfter.value);
      touch(c.subjectPublicKeyInfo);
    }
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const loadBefore = loadavg();
// Warm-up: JIT every path once.
for (const fn of Object.values(cases)) fn();
const times: Record<string, number[]> = {};
for (const name of Object.keys(cases)) times[name] = [];
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t0 = performance.now();
    fn();
    times[name]!.push(((performance.now() - t0) * 1000) / ders.length);
  }
}
const loadAfter = loadavg();
const base = median(times['node:crypto X509Certificate']!);
console.log(
  `certificates: ${ders.length} (tls.rootCertificates), rounds: ${rounds}, node ${process.version}`,
);
console.log(
  `load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
);
console.log('per certificate, median of rounds (min-max):');
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(
    `  ${name.padEnd(30)} ${m.toFixed(1).padStart(8)} µs  (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})  ` +
      `${(m / base).toFixed(2)}x node:crypto`,
  );
}
if (sink < 0) console.log(sink);
