/**
 * PKCS#12 properties (fast-check): mutated files (with a MAC, without one, and with the MAC recomputed
 * over a mutated AuthenticatedSafe so that the damage reaches the bags) never throw anything but a
 * MailTlsError or TypeError and never take 100 ms; any BER re-encoding reads like the DER original;
 * createPKCS12 -> parsePKCS12 round-trips any password and friendlyName; the BER normaliser keeps DER
 * unchanged; the event-loop-friendly KDF equals the synchronous one. MAILTLS_FUZZ_RUNS raises the runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { MailTlsError } from '../src/errors.js';
import {
  DerReader,
  encodeExplicit,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDer,
  Tag,
  valueBytes,
} from '../src/internal/encoding/der.js';
import { normalizeBER } from '../src/internal/pkcs12/ber.js';
import { type PKCS12Hash, pkcs12KDF, pkcs12KDFAsync } from '../src/internal/pkcs12/kdf.js';
import type { PrivateKey } from '../src/keys/keys.js';
import { createPKCS12, type ParsePKCS12Options, parsePKCS12 } from '../src/pkcs12/pkcs12.js';
import { fuzzRuns } from './helpers/key-fixtures.js';
import { conformanceDir } from './helpers/paths.js';
import { bmp, buildPFX, certBag, keyBag, shroudedKeyBag, toBER, wrapPFX } from './helpers/pkcs12-fixtures.js';
import { getTestPKI } from './helpers/pki.js';
import { cpuStopwatch } from './helpers/timing.js';

const PW = 'fuzz-pw';
/** Bounded so that a mutated iteration count stays cheap; the limit itself is part of what is tested. */
const OPTIONS: ParsePKCS12Options = { password: PW, maxIterations: 10_000 };
const LIMIT_MS = 100;

interface Fixture {
  name: string;
  bytes: Uint8Array;
  options: ParsePKCS12Options;
}

let fixtures: Fixture[];
let key: PrivateKey;
let certDER: Uint8Array;
let chainDER: Uint8Array[];
/** A plain (unencrypted) AuthenticatedSafe with a key and two certificates, for re-MACed mutation. */
let plainAuthSafe: Uint8Array;

before(async () => {
  const pki = await getTestPKI({ keyType: 'ec' });
  key = pki.leaf.key;
  certDER = pki.leaf.certDER;
  chainDER = [pki.leaf.certDER, pki.intermediate.certDER];
  const pkcs8 = key.exportPKCS8();
  const aes = await createPKCS12({
    key,
    certificates: [pki.leaf.certPEM, pki.intermediate.certPEM],
    password: PW,
    iterations: 1,
    friendlyName: 'f',
  });
  const tdes = await createPKCS12({
    key,
    certificates: [pki.leaf.certPEM],
    password: PW,
    iterations: 1,
    encryption: 'pbe-sha1-3des',
  });
  const noMac = await buildPFX(
    [
      {
        kind: 'encrypted',
        bags: [certBag(certDER), certBag(pki.intermediate.certDER)],
        password: PW,
        iterations: 1,
      },
      {
        kind: 'data',
        bags: [await shroudedKeyBag(pkcs8, PW, { encryption: 'pbe-sha1-3des', iterations: 1 })],
      },
    ],
    { kind: 'none' },
  );
  const safe = encodeSequence(certBag(certDER), certBag(pki.intermediate.certDER), keyBag(pkcs8));
  plainAuthSafe = encodeSequence(
    encodeSequence(encodeOID('1.2.840.113549.1.7.1'), encodeExplicit(0, encodeOctetString(safe))),
  );
  const example6 = new Uint8Array(
    readFileSync(join(conformanceDir, 'pkcs12', 'rustcrypto-formats', 'example6.pfx')),
  );
  fixtures = [
    { name: 'createPKCS12 AES', bytes: aes, options: OPTIONS },
    { name: 'createPKCS12 3DES', bytes: tdes, options: OPTIONS },
    { name: 'no MAC, encrypted parts', bytes: noMac, options: OPTIONS },
    { name: 'BER form of the AES file', bytes: toBER(aes, 9), options: OPTIONS },
    {
      name: 'RustCrypto example6.pfx (1 iteration)',
      bytes: example6,
      options: { password: '1234', maxIterations: 10_000 },
    },
  ];
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'set') b[at] = m.byte;
    else if (m.kind === 'flip') b[at]! ^= 1 << m.bit;
    else if (m.kind === 'cut') b = b.slice(0, at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]);
  }
  return b;
}

/**
 * Parses; only MailTlsError/TypeError may escape; returns the CPU milliseconds it took (this process's, thread
 * pool included), which other processes on a busy machine do not inflate.
 */
async function parseTimed(bytes: Uint8Array, options: ParsePKCS12Options): Promise<number> {
  const elapsed = cpuStopwatch();
  try {
    await parsePKCS12(bytes, options);
  } catch (e) {
    if (!(e instanceof MailTlsError) && !(e instanceof TypeError))
      throw new Error(`unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  return elapsed();
}

/** The slowest of up to three attempts must be under the limit (a busy CI core can stall one run). */
async function assertFast(bytes: Uint8Array, options: ParsePKCS12Options): Promise<void> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3 && best >= LIMIT_MS; i++) best = Math.min(best, await parseTimed(bytes, options));
  assert.ok(best < LIMIT_MS, `parse took ${best.toFixed(1)} ms`);
}

describe('PKCS#12 properties', () => {
  it('mutated files fail only with MailTlsError/TypeError, each under 100 ms', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, ms) => {
        const f = fixtures[which % fixtures.length]!;
        await assertFast(mutate(f.bytes, ms), f.options);
      }),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('a mutated AuthenticatedSafe under a valid MAC reaches the bags and still fails cleanly, under 100 ms', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const pfx = await wrapPFX(mutate(plainAuthSafe, ms), { kind: 'pkcs12', password: bmp(PW) });
        await assertFast(pfx, OPTIONS);
      }),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('every BER re-encoding (indefinite or long-form lengths, any chunking) reads like the DER file', async () => {
    const der = fixtures[0]!.bytes;
    const want = await parsePKCS12(der, OPTIONS);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        async (chunk, bits) => {
          let i = 0;
          const ber = toBER(der, chunk, () => bits[i++ % bits.length]!);
          const got = await parsePKCS12(ber, OPTIONS);
          assert.ok(got.key!.publicKey.equals(want.key!.publicKey));
          assert.deepEqual(
            [got.leaf!, ...got.chain].map((c) => Buffer.from(c.der).toString('hex')),
            chainDER.map((d) => Buffer.from(d).toString('hex')),
          );
          assert.equal(got.friendlyName, 'f');
          assert.deepEqual(Buffer.from(normalizeBER(ber)), Buffer.from(der));
        },
      ),
      { numRuns: fuzzRuns(25) },
    );
  });

  it('createPKCS12 -> parsePKCS12 round-trips any password and friendlyName', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 24 }),
        fc.option(fc.string({ unit: 'binary', maxLength: 24 }), { nil: undefined }),
        fc.constantFrom('aes-256-cbc' as const, 'pbe-sha1-3des' as const),
        async (password, friendlyName, encryption) => {
          const pfx = await createPKCS12({
            key,
            certificates: [certDER],
            password,
            iterations: 1,
            encryption,
            ...(friendlyName === undefined ? {} : { friendlyName }),
          });
          const p = await parsePKCS12(pfx, { password, requireKey: true });
          assert.ok(p.key!.publicKey.equals(key.publicKey));
          assert.deepEqual(Buffer.from(p.leaf!.der), Buffer.from(certDER));
          assert.equal(p.friendlyName, friendlyName);
          if (password !== '') {
            const wrong = `${password}x`;
            await assert.rejects(
              parsePKCS12(pfx, { password: wrong }),
              (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_PKCS12_PASSWORD',
            );
          }
        },
      ),
      { numRuns: fuzzRuns(25) },
    );
  });

  it('normalizeBER leaves DER unchanged (same bytes object) for every element of a real file', () => {
    const walk = (bytes: Uint8Array): void => {
      assert.equal(normalizeBER(bytes), bytes);
      const node = parseDer(bytes);
      if (node.constructed) for (const c of DerReader.of(node).rest()) walk(bytes.slice(c.start, c.end));
      else if (node.tag === Tag.OCTET_STRING) {
        const v = valueBytes(node);
        try {
          parseDer(v);
        } catch {
          return;
        }
        walk(v.slice());
      }
    };
    walk(fixtures[0]!.bytes);
  });

  it('the async PKCS#12 KDF equals the synchronous one for any input and slice size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<PKCS12Hash>(
          'SHA-1',
          'SHA-224',
          'SHA-256',
          'SHA-384',
          'SHA-512',
          'SHA-512/224',
          'SHA-512/256',
          'BLAKE2b-512',
        ),
        fc.uint8Array({ maxLength: 150 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 150 }),
        fc.integer({ min: 1, max: 50 }),
        async (hash, password, salt, iterations, id, length, slice) => {
          const a = pkcs12KDF(hash, password, salt, iterations, id, length);
          const b = await pkcs12KDFAsync(hash, password, salt, iterations, id, length, slice);
          assert.deepEqual(Buffer.from(b), Buffer.from(a));
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });
});
