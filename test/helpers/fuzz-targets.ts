/**
 * The parsers that fuzzing drives (`npm run fuzz` and test/fuzz.test.ts), their seed inputs (made with the
 * openssl CLI) and the mutation strategy. An input passes when the parser returns, or throws a MailTlsError
 * or a TypeError.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parsePEM } from '../../src/encoding/pem.js';
import { MailTlsError } from '../../src/errors.js';
import { parsePrivateKey, parsePrivateKeyDER } from '../../src/keys/private-key.js';
import { canonicalizeHostname, checkHostname } from '../../src/names/hostname.js';
import { parsePKCS12 } from '../../src/pkcs12/pkcs12.js';
import { parseCertificateBundle } from '../../src/x509/bundle.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { parseCSR } from '../../src/x509/csr-parse.js';
import { describeCertificate } from '../../src/x509/describe.js';

/** Seed groups, by the kind of input a target takes. */
export type SeedGroup = 'text' | 'certificate' | 'csr' | 'privateKey' | 'bundle' | 'pkcs12' | 'hostname';

/** One parser under fuzzing. */
export interface FuzzTarget {
  readonly name: string;
  readonly seeds: SeedGroup;
  run(input: Uint8Array): unknown;
}

const latin1 = new TextDecoder('latin1');

/** Every parser that takes outside input. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  { name: 'pem', seeds: 'text', run: (b) => parsePEM(latin1.decode(b)) },
  { name: 'pem-strict', seeds: 'text', run: (b) => parsePEM(latin1.decode(b), { strict: true }) },
  {
    name: 'certificate',
    seeds: 'certificate',
    run: (b) => {
      const cert = parseCertificate(b);
      describeCertificate(cert);
      JSON.stringify(cert);
    },
  },
  { name: 'csr', seeds: 'csr', run: (b) => JSON.stringify(parseCSR(b)) },
  { name: 'bundle', seeds: 'bundle', run: (b) => parseCertificateBundle(b) },
  { name: 'private-key-der', seeds: 'privateKey', run: (b) => parsePrivateKeyDER(b) },
  {
    name: 'private-key-pem',
    seeds: 'text',
    run: (b) => parsePrivateKey(latin1.decode(b), { passphrase: 'pw' }),
  },
  { name: 'pkcs12', seeds: 'pkcs12', run: (b) => parsePKCS12(b, { password: 'pw' }) },
  {
    name: 'hostname',
    seeds: 'hostname',
    run: (b) => {
      const s = latin1.decode(b);
      checkHostname({ dnsNames: ['*.mail.example.com', s] }, s);
      return canonicalizeHostname(s);
    },
  },
];

/** Whether an error is one a parser may throw for bad input. */
export function isAcceptedError(e: unknown): boolean {
  return e instanceof MailTlsError || e instanceof TypeError;
}

/** Seed inputs per group, made with the openssl CLI in a temporary directory. */
export function makeSeeds(): Record<SeedGroup, Uint8Array[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-fuzz-'));
  const openssl = (...a: string[]) => {
    const r = spawnSync('openssl', a, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${a.join(' ')}: ${r.stderr}`);
  };
  const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  try {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key');
    openssl('genrsa', '-traditional', '-out', 'rsa1.key', '1024');
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sec1.key');
    openssl('genpkey', '-algorithm', 'ED25519', '-out', 'ed.key');
    openssl(
      'pkcs8',
      '-topk8',
      '-in',
      'ec.key',
      '-v2',
      'aes-256-cbc',
      '-iter',
      '10',
      '-passout',
      'pass:pw',
      '-out',
      'enc.key',
    );
    openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'ec.key', '-outform', 'DER', '-out', 'ec.der');
    openssl(
      'req',
      '-x509',
      '-key',
      'ec.key',
      '-subj',
      '/C=DE/O=Example/CN=example.com',
      '-days',
      '30',
      '-out',
      'cert.pem',
      '-addext',
      'subjectAltName=DNS:mail.example.com,DNS:*.example.com,IP:192.0.2.1,email:postmaster@example.com',
      '-addext',
      'authorityInfoAccess=caIssuers;URI:http://ca.example/ca.crt,OCSP;URI:http://ocsp.example',
    );
    openssl('x509', '-in', 'cert.pem', '-outform', 'DER', '-out', 'cert.der');
    openssl(
      'req',
      '-new',
      '-key',
      'ed.key',
      '-subj',
      '/CN=example.com',
      '-addext',
      'subjectAltName=DNS:mail.example.com',
      '-out',
      'req.pem',
    );
    openssl('req', '-in', 'req.pem', '-outform', 'DER', '-out', 'req.der');
    openssl('crl2pkcs7', '-nocrl', '-certfile', 'cert.pem', '-outform', 'DER', '-out', 'bundle.p7b');
    openssl(
      'pkcs12',
      '-export',
      '-inkey',
      'ec.key',
      '-in',
      'cert.pem',
      '-passout',
      'pass:pw',
      '-iter',
      '10',
      '-maciter',
      '-out',
      'id.p12',
    );
    const text = new TextEncoder();
    return {
      text: ['cert.pem', 'req.pem', 'ec.key', 'rsa1.key', 'sec1.key', 'ed.key', 'enc.key'].map(file),
      certificate: [file('cert.der')],
      csr: [file('req.der')],
      privateKey: [file('ec.der')],
      bundle: [file('bundle.p7b'), file('cert.der')],
      pkcs12: [file('id.p12')],
      hostname: [
        text.encode('*.mail.example.com'),
        text.encode('[2001:db8::1]'),
        text.encode('xn--bcher-kva.example.'),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seeds mutated by bit flips, overwrites, truncation, insertions and duplicated ranges; some random bytes. */
export function mutated(seedList: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seedList);
  const edit = fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.nat({ max: 64 }) }),
  );
  const edited = fc.tuple(seed, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
    let b = s.slice();
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.k === 'flip') b[at] = (b[at] ?? 0) ^ (1 << e.bit);
      else if (e.k === 'set') b[at] = e.v;
      else if (e.k === 'cut') b = b.slice(0, at);
      else if (e.k === 'insert') b = Uint8Array.from([...b.slice(0, at), ...e.bytes, ...b.slice(at)]);
      else
        b = Uint8Array.from([...b.slice(0, at + e.len), ...b.slice(at, at + e.len), ...b.slice(at + e.len)]);
    }
    return b;
  });
  return fc.oneof(
    { weight: 9, arbitrary: edited },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  );
}
