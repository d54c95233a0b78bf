/**
 * generateKeyPair, the PrivateKey/PublicKey classes, signing with the WebCrypto keys they import (checked by
 * the openssl CLI), the event loop during RSA-4096 generation, and an injected WebCrypto provider.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  type GenerateKeyPairOptions,
  generateKeyPair,
  type PrivateKey,
  PublicKey,
} from '../src/keys/keys.js';
import { encodePrivateKeyPEM, parsePrivateKey } from '../src/keys/private-key.js';
import { encodePublicKeyPEM } from '../src/keys/public-key.js';
import { TempDir } from './helpers/key-fixtures.js';

let dir: TempDir;
before(() => {
  dir = new TempDir();
});
after(() => dir.cleanup());

describe('generateKeyPair', () => {
  const rows: Array<{
    name: string;
    input: GenerateKeyPairOptions;
    want: { describe: string; bits?: number; curve?: string; sig: string };
  }> = [
    {
      name: 'default is RSA 2048',
      input: {},
      want: { describe: 'RSA 2048', bits: 2048, sig: '1.2.840.113549.1.1.11' },
    },
    {
      name: 'RSA 2048 explicitly',
      input: { type: 'rsa', bits: 2048 },
      want: { describe: 'RSA 2048', bits: 2048, sig: '1.2.840.113549.1.1.11' },
    },
    {
      name: 'EC defaults to P-256',
      input: { type: 'ec' },
      want: { describe: 'EC P-256', curve: 'P-256', sig: '1.2.840.10045.4.3.2' },
    },
    {
      name: 'EC P-384',
      input: { type: 'ec', curve: 'P-384' },
      want: { describe: 'EC P-384', curve: 'P-384', sig: '1.2.840.10045.4.3.3' },
    },
    { name: 'Ed25519', input: { type: 'ed25519' }, want: { describe: 'Ed25519', sig: '1.3.101.112' } },
  ];
  for (const row of rows)
    it(row.name, async (t) => {
      const start = performance.now();
      const key = await generateKeyPair(row.input);
      t.diagnostic(`${row.want.describe} generated in ${(performance.now() - start).toFixed(1)} ms`);
      assert.equal(key.describe(), row.want.describe);
      assert.equal(key.bits, row.want.bits);
      assert.equal(key.curve, row.want.curve);
      assert.equal(key.signingAlgorithm().oid, row.want.sig);
      assert.equal(key.publicKey.describe(), row.want.describe);
      // openssl agrees on the key and derives the same public key
      const file = dir.write(`gen-${row.name}.pem`, await encodePrivateKeyPEM(key));
      const text = dir.openssl(['pkey', '-in', file, '-noout', '-text']).toString();
      const header = {
        rsa: /Private-Key: \(2048 bit, 2 primes\)/,
        ec: /NIST CURVE: P-(256|384)/,
        ed25519: /ED25519 Private-Key/,
      };
      assert.match(text, header[key.type]);
      const spki = dir.openssl(['pkey', '-in', file, '-pubout', '-outform', 'DER']);
      assert.deepEqual(Buffer.from(key.publicKey.spki), spki);
      // a fresh pair each time
      const other = await generateKeyPair(row.input);
      assert.equal(other.publicKey.equals(key.publicKey), false);
    });

  const bad: Array<{ name: string; input: unknown; want: typeof TypeError | typeof RangeError }> = [
    { name: 'unknown type', input: { type: 'dsa' }, want: RangeError },
    { name: 'bits for EC', input: { type: 'ec', bits: 2048 }, want: RangeError },
    { name: 'curve for RSA', input: { curve: 'P-256' }, want: RangeError },
    { name: 'RSA 1024', input: { bits: 1024 }, want: RangeError },
    { name: 'RSA 8192', input: { bits: 8192 }, want: RangeError },
    { name: 'P-521 (not offered for new keys)', input: { type: 'ec', curve: 'P-521' }, want: RangeError },
    { name: 'options not an object', input: 'rsa', want: TypeError },
    { name: 'a provider without subtle', input: { crypto: {} }, want: TypeError },
  ];
  for (const row of bad)
    it(`rejects ${row.name}`, async () => {
      await assert.rejects(generateKeyPair(row.input as GenerateKeyPairOptions), row.want);
    });
});

describe('RSA-4096 generation does not block the event loop', () => {
  // What is measured is the share of the time the event loop spends running rather than waiting
  // (event-loop utilization): a generator that blocks keeps it near 1 for the whole generation, one that runs
  // off the loop leaves it near 0. Unlike a delay in milliseconds, other processes on a busy machine do not
  // move it across the limit: the loop waits for the generation however long that takes.

  /** Runs `fn`; answers the event loop's utilization (0..1) meanwhile, and the milliseconds it took. */
  async function utilizationDuring(fn: () => Promise<unknown>): Promise<{ utilization: number; ms: number }> {
    const start = performance.eventLoopUtilization();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    return { utilization: performance.eventLoopUtilization(start).utilization, ms };
  }

  it('the probe sees a 200 ms synchronous block (control)', async () => {
    const r = await utilizationDuring(async () => {
      await new Promise((res) => setImmediate(res));
      const until = performance.now() + 200;
      while (performance.now() < until);
      await new Promise((res) => setImmediate(res));
    });
    assert.ok(r.utilization > 0.5, `the probe missed a 200 ms block (utilization ${r.utilization})`);
  });

  it('the event loop stays free (utilization under 50%) while a 4096-bit key is generated', async (t) => {
    let bits: number | undefined;
    const r = await utilizationDuring(async () => {
      bits = (await generateKeyPair({ bits: 4096 })).bits;
    });
    assert.equal(bits, 4096);
    t.diagnostic(
      `RSA-4096 generated in ${r.ms.toFixed(0)} ms, event-loop utilization ${r.utilization.toFixed(3)}`,
    );
    assert.ok(r.utilization < 0.5, `event loop busy ${(r.utilization * 100).toFixed(0)}% of ${r.ms} ms`);
  });
});

/** ECDSA signatures from WebCrypto are r||s; openssl wants a DER SEQUENCE of two INTEGERs. */
function rawToDER(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.of(0), v]) : Buffer.from(v);
    return Buffer.concat([Buffer.of(0x02), derLength(body.length), body]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([Buffer.of(0x30), derLength(body.length), body]);
}
function derLength(n: number): Buffer {
  return n < 128 ? Buffer.of(n) : Buffer.of(0x81, n);
}

describe('signing keys sign what openssl verifies', () => {
  const data = new TextEncoder().encode('EHLO mail.example.com\r\n');
  const rows: Array<{ name: string; input: () => Promise<PrivateKey>; want: { digest?: string } }> = [
    {
      name: 'RSA 2048, sha256WithRSAEncryption',
      input: () => generateKeyPair(),
      want: { digest: '-sha256' },
    },
    {
      name: 'EC P-256, ecdsa-with-SHA256',
      input: () => generateKeyPair({ type: 'ec' }),
      want: { digest: '-sha256' },
    },
    {
      name: 'EC P-384, ecdsa-with-SHA384',
      input: () => generateKeyPair({ type: 'ec', curve: 'P-384' }),
      want: { digest: '-sha384' },
    },
    {
      name: 'EC P-521 (openssl key), ecdsa-with-SHA512',
      input: async () =>
        parsePrivateKey(
          dir.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']).toString(),
        ),
      want: { digest: '-sha512' },
    },
    { name: 'Ed25519', input: () => generateKeyPair({ type: 'ed25519' }), want: {} },
  ];
  for (const row of rows)
    it(row.name, async () => {
      const key = await row.input();
      const alg = key.signingAlgorithm();
      const signingKey = await key.importSigningKey();
      assert.equal(signingKey.extractable, false);
      assert.deepEqual(signingKey.usages, ['sign']);
      const sig = new Uint8Array(await crypto.subtle.sign(alg, signingKey, data));
      // our own public key verifies it
      const verifyKey = await key.publicKey.importCryptoKey();
      assert.ok(await crypto.subtle.verify(alg, verifyKey, sig, data));
      // and so does openssl
      const tag = row.name.replace(/\W+/g, '_');
      dir.write(`${tag}.pub`, encodePublicKeyPEM(key.publicKey));
      dir.write(`${tag}.data`, data);
      if (key.type === 'ed25519') {
        dir.write(`${tag}.sig`, sig);
        const out = dir.openssl([
          'pkeyutl',
          '-verify',
          '-pubin',
          '-inkey',
          `${tag}.pub`,
          '-rawin',
          '-in',
          `${tag}.data`,
          '-sigfile',
          `${tag}.sig`,
        ]);
        assert.match(out.toString(), /Signature Verified Successfully/);
      } else {
        dir.write(`${tag}.sig`, key.type === 'ec' ? rawToDER(sig) : sig);
        const out = dir.openssl([
          'dgst',
          row.want.digest!,
          '-verify',
          `${tag}.pub`,
          '-signature',
          `${tag}.sig`,
          `${tag}.data`,
        ]);
        assert.match(out.toString(), /Verified OK/);
      }
    });
});

describe('injected WebCrypto provider (@peculiar/webcrypto)', () => {
  it('generates, exports, imports and signs EC P-256 with the provider; native crypto verifies', async () => {
    const { Crypto } = await import('@peculiar/webcrypto');
    const provider = new Crypto() as unknown as Crypto;
    const key = await generateKeyPair({ type: 'ec', crypto: provider });
    assert.equal(key.describe(), 'EC P-256');
    const pem = await encodePrivateKeyPEM(key, { crypto: provider, passphrase: 'pw', iterations: 1000 });
    const again = await parsePrivateKey(pem, { crypto: provider, passphrase: 'pw' });
    assert.ok(again.publicKey.equals(key.publicKey));
    const signingKey = await again.importSigningKey({ crypto: provider });
    const data = new TextEncoder().encode('provider');
    const sig = await provider.subtle.sign(again.signingAlgorithm(), signingKey, data);
    // cross-provider: Node's own WebCrypto verifies the provider's signature
    const verifyKey = await key.publicKey.importCryptoKey();
    assert.ok(await crypto.subtle.verify(key.signingAlgorithm(), verifyKey, sig, data));
    // and Node's WebCrypto reads what the provider encrypted
    const native = await parsePrivateKey(pem, { passphrase: 'pw' });
    assert.deepEqual(native.exportPKCS8(), key.exportPKCS8());
  });
});

describe('PublicKey and PrivateKey objects', () => {
  it('are frozen and hand out copies', async () => {
    const key = await generateKeyPair({ type: 'ed25519' });
    assert.ok(Object.isFrozen(key));
    assert.ok(Object.isFrozen(key.publicKey));
    const spki = key.publicKey.spki;
    spki.fill(0);
    assert.notDeepEqual(key.publicKey.spki, spki);
    const fp = key.publicKey.fingerprint();
    fp.sha256Hex = 'x';
    assert.notEqual(key.publicKey.fingerprint().sha256Hex, 'x');
  });

  it('equals compares key material and rejects non-keys', async () => {
    const a = await generateKeyPair({ type: 'ec' });
    const b = await generateKeyPair({ type: 'ec' });
    assert.ok(a.publicKey.equals(new PublicKey(a.publicKey.spki)));
    assert.equal(a.publicKey.equals(b.publicKey), false);
    assert.throws(() => a.publicKey.equals({} as PublicKey), TypeError);
  });

  it('show type, size and fingerprint', async () => {
    const key = await generateKeyPair({ type: 'ec', curve: 'P-384' });
    const fp = key.publicKey.fingerprint();
    assert.equal(String(key.publicKey), `PublicKey(EC P-384, SHA256:${fp.sha256Base64})`);
    assert.deepEqual(JSON.parse(JSON.stringify(key.publicKey)), {
      type: 'ec',
      curve: 'P-384',
      spkiSha256: fp.sha256Hex,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(key)), {
      type: 'ec',
      curve: 'P-384',
      spkiSha256: fp.sha256Hex,
    });
  });
});
