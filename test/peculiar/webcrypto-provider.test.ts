// The crypto option with another WebCrypto provider: key generation, CSR signing, certificate issuing and
// PKCS#12 with @peculiar/webcrypto's Crypto, each result checked with node's own WebCrypto and with openssl,
// and the event loop watched meanwhile. @peculiar/webcrypto runs on node:crypto's synchronous calls (key
// generation with generateKeyPairSync), so a provider's work is on the event loop: the test measures how long
// each step holds it, and says so for RSA key generation, which holds it for the whole generation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Crypto } from '@peculiar/webcrypto';
import {
  assembleChain,
  createCertificateAuthority,
  createCSR,
  createPKCS12,
  generateKeyPair,
  issueCertificate,
  type KeyType,
  keyMatchesCertificate,
  parseCertificate,
  parsePKCS12,
  verifyChain,
  verifyCSRSignature,
} from '../../src/index.js';
import { skipWithout } from '../helpers/peers.js';

const peculiar = new Crypto();
const at = new Date('2026-06-01T00:00:00Z');
const validity = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };

/** The event loop during `fn`: utilisation (0..1) and the longest stretch without a timer turn, in ms. */
async function watchLoop<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; utilization: number; longestMs: number; ms: number }> {
  let last = performance.now();
  let longestMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestMs = Math.max(longestMs, now - last);
    last = now;
  }, 1);
  const start = performance.eventLoopUtilization();
  const t0 = performance.now();
  try {
    const value = await fn();
    await new Promise((r) => setTimeout(r, 2)); // one more turn, so a block at the very end is counted
    longestMs = Math.max(longestMs, performance.now() - last);
    return {
      value,
      utilization: performance.eventLoopUtilization(start).utilization,
      longestMs,
      ms: performance.now() - t0,
    };
  } finally {
    clearInterval(timer);
  }
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailtls-webcrypto-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const types: { keyType: KeyType; curve?: 'P-256' | 'P-384' }[] = [
  { keyType: 'ec' },
  { keyType: 'ec', curve: 'P-384' },
  { keyType: 'ed25519' },
  { keyType: 'rsa' },
];

describe('@peculiar/webcrypto as the crypto option', () => {
  for (const { keyType, curve } of types) {
    const label = `${keyType}${curve ? ` ${curve}` : ''}`;
    it(`${label}: key, CSR, CA, issued certificate and PKCS#12 made with it check out with node's WebCrypto and openssl`, async (t) => {
      const options = { crypto: peculiar };
      const steps: string[] = [];
      const step = async <T>(name: string, fn: () => Promise<T>, boundMs: number | undefined): Promise<T> => {
        const r = await watchLoop(fn);
        steps.push(
          `${name} ${r.ms.toFixed(0)} ms (loop held at most ${r.longestMs.toFixed(0)} ms, utilisation ${r.utilization.toFixed(2)})`,
        );
        if (boundMs !== undefined)
          assert.ok(r.longestMs < boundMs, `${name} held the event loop for ${r.longestMs.toFixed(0)} ms`);
        return r.value;
      };
      // RSA key generation is one synchronous call in @peculiar/webcrypto: no bound on it (see below).
      const keyBound = keyType === 'rsa' ? undefined : 1000;
      const key = await step(
        'key',
        () => generateKeyPair({ type: keyType, ...(curve ? { curve } : {}), ...options }),
        keyBound,
      );
      const csr = await step(
        'CSR',
        () =>
          createCSR({
            key,
            subject: {
              country: 'DE',
              state: 'Berlin',
              locality: 'Berlin',
              organization: 'Example GmbH',
              organizationalUnit: 'IT',
              commonName: 'example.com',
              emailAddress: 'hostmaster@example.com',
            },
            hostnames: ['mail.example.com'],
            ...options,
          }),
        1000,
      );
      const ca = await step(
        'CA',
        () =>
          createCertificateAuthority({
            name: { commonName: `Provider Test CA (${label})` },
            keyType,
            ...validity,
            ...options,
          }),
        keyBound,
      );
      const issued = await step(
        'issue',
        () => issueCertificate(csr.csrPEM, ca.issuer, { ...validity, ...options }),
        1000,
      );
      const pfx = await step(
        'PKCS#12',
        () =>
          createPKCS12({
            key,
            certificates: [issued.certPEM, ca.root.certPEM],
            password: 'secret',
            ...options,
          }),
        1000,
      );
      const opened = await step(
        'PKCS#12 read',
        () => parsePKCS12(pfx, { password: 'secret', ...options }),
        1000,
      );
      t.diagnostic(`${label} with @peculiar/webcrypto: ${steps.join('; ')}`);

      // The same material judged by node's own WebCrypto.
      await verifyCSRSignature(csr.csrPEM);
      const cert = parseCertificate(issued.certPEM);
      assert.equal(keyMatchesCertificate(key, issued.certPEM), true);
      const chain = await verifyChain(cert, { roots: [ca.root.certPEM], at });
      assert.equal(chain.certificates.length, 2);
      const native = await parsePKCS12(pfx, { password: 'secret' });
      assert.equal(native.key?.publicKey.equals(key.publicKey), true);
      assert.deepEqual(opened.leaf?.der, cert.der);

      // And by openssl.
      if (skipWithout(t, 'openssl')) return;
      const f = (name: string, text: string | Uint8Array) => {
        const p = join(dir, `${label.replace(' ', '-')}-${name}`);
        writeFileSync(p, text);
        return p;
      };
      const req = openssl(['req', '-in', f('req.pem', csr.csrPEM), '-noout', '-verify']);
      assert.equal(req.status, 0, req.out);
      const ver = openssl([
        'verify',
        '-attime',
        String(at.getTime() / 1000),
        '-CAfile',
        f('ca.pem', ca.root.certPEM),
        f('leaf.pem', issued.certPEM),
      ]);
      assert.equal(ver.status, 0, ver.out);
      const p12 = openssl([
        'pkcs12',
        '-in',
        f('site.p12', pfx),
        '-passin',
        'pass:secret',
        '-nokeys',
        '-noenc',
      ]);
      assert.equal(p12.status, 0, p12.out);
      assert.match(p12.out, /BEGIN CERTIFICATE/);
    });
  }

  it('assembles a chain with it the same as with node (signature checks through the provider)', async () => {
    const ca = await createCertificateAuthority({
      name: { commonName: 'Provider Chain CA' },
      intermediate: true,
      ...validity,
    });
    const csr = await createCSR({ subject: { commonName: 'example.com' } });
    const issued = await issueCertificate(csr.csrPEM, ca.issuer, validity);
    const pool = [ca.root.certPEM, ca.intermediate!.certPEM];
    const viaPeculiar = await assembleChain(issued.certPEM, pool, {
      at,
      roots: [ca.root.certPEM],
      crypto: peculiar,
    });
    const viaNode = await assembleChain(issued.certPEM, pool, { at, roots: [ca.root.certPEM] });
    assert.equal(viaPeculiar.pem, viaNode.pem);
    assert.equal(viaPeculiar.trusted, true);
  });

  it('RSA key generation runs on the event loop with @peculiar/webcrypto, off it with node (the reason to prefer the default)', async (t) => {
    const viaPeculiar = await watchLoop(() => generateKeyPair({ type: 'rsa', bits: 3072, crypto: peculiar }));
    const viaNode = await watchLoop(() => generateKeyPair({ type: 'rsa', bits: 3072 }));
    t.diagnostic(
      `RSA-3072: @peculiar/webcrypto ${viaPeculiar.ms.toFixed(0)} ms, loop held ${viaPeculiar.longestMs.toFixed(0)} ms, utilisation ${viaPeculiar.utilization.toFixed(2)}; ` +
        `node ${viaNode.ms.toFixed(0)} ms, loop held ${viaNode.longestMs.toFixed(0)} ms, utilisation ${viaNode.utilization.toFixed(2)}`,
    );
    assert.equal(viaPeculiar.value.bits, 3072);
    assert.ok(
      viaPeculiar.utilization > 0.5,
      `utilisation ${viaPeculiar.utilization}: generation no longer blocks?`,
    );
    assert.ok(viaNode.utilization < 0.5, `utilisation ${viaNode.utilization} with node's WebCrypto`);
  });
});
