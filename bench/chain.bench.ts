/**
 * Chain assembly and validation against pools of 10, 100, 1,000 and 10,000 intermediates (a script, not a
 * test):
 *
 *   npx tsc -p tsconfig.json && node build/bench/chain.bench.js [rounds]
 *
 * One EC P-256 root signs 10,000 intermediates (distinct names and keys, made once with WebCrypto at the
 * start); one of them, placed last in every pool, signs the leaf. For each pool size it times, from PEM text
 * (parsing included): mailtls `assembleChain` + `verifyChain`, and `openssl verify -untrusted pool.pem
 * -CAfile root.pem leaf.pem` (a process per run, so its start-up is included). Medians over the rounds, the
 * growth factor from 1,000 to 10,000 (about 10 for linear time; the issue allows at most 12), and the load
 * average before and after are printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleChain } from '../src/chain/chain.js';
import { verifyChain } from '../src/chain/verify-chain.js';
import { encodePEM } from '../src/encoding/pem.js';
import { toArrayBuffer } from '../src/internal/encoding/bytes.js';
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeTime,
} from '../src/internal/encoding/der.js';
import { ecdsaRawToDER } from '../src/internal/keys/sign.js';
import { parseDistinguishedName } from '../src/x509/name.js';

const rounds = Number(process.argv[2] ?? 5);
const SIZES = [10, 100, 1000, 10000];
const subtle = globalThis.crypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const ALG = encodeSequence(encodeOID('1.2.840.10045.4.3.2'));
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const NOT_AFTER = new Date('2036-01-01T00:00:00Z');
const AT = new Date('2027-06-01T12:00:00Z');

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? encodeSequence(encodeOID(oid), encodeBoolean(true), encodeOctetString(value))
    : encodeSequence(encodeOID(oid), encodeOctetString(value));
}

async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest('SHA-256', toArrayBuffer(spki))).subarray(0, 20);
}

interface Made {
  pem: string;
  subject: Uint8Array;
  ski: Uint8Array;
  key: CryptoKey;
}

let serial = 1;

async function make(
  subject: string,
  issuer: Made | undefined,
  pair: CryptoKeyPair,
  ca: boolean,
  san?: string,
): Promise<Made> {
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  const ski = await keyId(spki);
  const subjectDER = parseDistinguishedName(subject).der;
  const exts = [
    ext('2.5.29.19', true, ca ? encodeSequence(encodeBoolean(true)) : encodeSequence()),
    ext('2.5.29.15', true, ca ? Uint8Array.of(3, 2, 1, 6) : Uint8Array.of(3, 2, 7, 0x80)),
    ext('2.5.29.14', false, encodeOctetString(ski)),
    ext('2.5.29.35', false, encodeSequence(encodeImplicit(0, issuer?.ski ?? ski))),
  ];
  if (san !== undefined)
    exts.push(ext('2.5.29.17', false, encodeSequence(encodeImplicit(2, new TextEncoder().encode(san)))));
  const tbs = encodeSequence(
    encodeExplicit(0, encodeInteger(2)),
    encodeInteger(serial++),
    ALG,
    issuer?.subject ?? subjectDER,
    encodeSequence(encodeTime(NOT_BEFORE), encodeTime(NOT_AFTER)),
    subjectDER,
    spki,
    encodeExplicit(3, encodeSequence(...exts)),
  );
  const signer = issuer?.key ?? pair.privateKey;
  const sig = ecdsaRawToDER(new Uint8Array(await subtle.sign(SIG, signer, toArrayBuffer(tbs))));
  const der = encodeSequence(tbs, ALG, encodeBitString(sig));
  return { pem: encodePEM('CERTIFICATE', der), subject: subjectDER, ski, key: pair.privateKey };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const t0 = performance.now();
  const root = await make(
    'CN=Bench Root,O=mailtls bench',
    undefined,
    (await subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair,
    true,
  );
  const intermediates: Made[] = [];
  const total = SIZES[SIZES.length - 1]!;
  for (let i = 0; i < total; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, total - i) }, async (_, j) =>
        make(
          `CN=Bench Intermediate ${i + j},O=mailtls bench`,
          root,
          (await subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair,
          true,
        ),
      ),
    );
    intermediates.push(...batch);
  }
  const issuer = intermediates[intermediates.length - 1]!;
  const leaf = await make(
    'CN=mail.example.com',
    issuer,
    (await subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair,
    false,
    'mail.example.com',
  );
  console.log(
    `generated 1 root, ${total} intermediates and a leaf in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'mailtls-chain-bench-'));
  const rootFile = join(dir, 'root.pem');
  const leafFile = join(dir, 'leaf.pem');
  writeFileSync(rootFile, root.pem);
  writeFileSync(leafFile, leaf.pem);
  const rows: { n: number; assemble: number; verify: number; openssl: number }[] = [];
  try {
    for (const n of SIZES) {
      // The issuer is the last certificate of every pool: a linear scan would pay for the whole pool.
      const poolPEM = [...intermediates.slice(0, n - 1), issuer].map((m) => m.pem).join('');
      const poolFile = join(dir, `pool-${n}.pem`);
      writeFileSync(poolFile, poolPEM);
      const a: number[] = [];
      const v: number[] = [];
      const o: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let s = performance.now();
        const chain = await assembleChain(leaf.pem, poolPEM, { roots: root.pem, at: AT });
        a.push(performance.now() - s);
        if (!chain.complete || chain.certificates.length !== 2) throw new Error('assembly failed');
        s = performance.now();
        const path = await verifyChain(leaf.pem, {
          roots: root.pem,
          intermediates: poolPEM,
          at: AT,
          host: 'mail.example.com',
        });
        v.push(performance.now() - s);
        if (path.certificates.length !== 3) throw new Error('validation failed');
        s = performance.now();
        const res = spawnSync('openssl', [
          'verify',
          '-attime',
          String(AT.getTime() / 1000),
          '-untrusted',
          poolFile,
          '-CAfile',
          rootFile,
          leafFile,
        ]);
        o.push(performance.now() - s);
        if (res.status !== 0) throw new Error(`openssl verify failed: ${res.stderr}`);
      }
      rows.push({ n, assemble: median(a), verify: median(v), openssl: median(o) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nmedians of ${rounds} rounds, ms (from PEM text, parsing included)`);
  console.log('pool size | assembleChain | verifyChain | both | openssl verify');
  for (const r of rows)
    console.log(
      `${String(r.n).padStart(9)} | ${r.assemble.toFixed(1).padStart(13)} | ${r.verify.toFixed(1).padStart(11)} | ${(r.assemble + r.verify).toFixed(1).padStart(6)} | ${r.openssl.toFixed(1).padStart(14)}`,
    );
  const k = rows.find((r) => r.n === 1000)!;
  const m = rows.find((r) => r.n === 10000)!;
  const growth = (m.assemble + m.verify) / (k.assemble + k.verify);
  console.log(
    `growth 1,000 → 10,000: mailtls ×${growth.toFixed(2)} (limit ×12: ${growth <= 12 ? 'ok' : 'TOO HIGH'}), openssl ×${(m.openssl / k.openssl).toFixed(2)}`,
  );
  console.log(
    `at 10,000: mailtls ${((m.assemble + m.verify) / 1000).toFixed(2)} s, openssl ${(m.openssl / 1000).toFixed(2)} s`,
  );
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
