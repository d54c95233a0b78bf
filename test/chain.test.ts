/**
 * assembleChain and the chain encoders: the reseller cases (reversed bundle with CRLF and an unrelated
 * certificate, missing intermediate, same-name decoys listed first, expired intermediate with a valid
 * cross-signed alternative, root included, duplicates), cross-checked with `openssl verify` where OpenSSL
 * agrees, and the Postfix `smtpd_tls_chain_files` layout read back by openssl.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type AssembledChain,
  assembleChain,
  type ChainProblemCode,
  encodeChainPEM,
  encodePostfixChainFile,
} from '../src/chain/chain.js';
import { type ChainFailureReason, verifyChain } from '../src/chain/verify-chain.js';
import { ChainError, KeyError, MailTlsError } from '../src/errors.js';
import { encodePrivateKeyPEM } from '../src/keys/private-key.js';
import {
  AT,
  EXPIRED,
  type Made,
  makeCert,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  newKey,
} from './helpers/chain-pki.js';
import { assertNoKeyBytes, fuzzRuns, opensslStatus, TempDir } from './helpers/key-fixtures.js';
import { getTestPKI, TEST_TIME } from './helpers/pki.js';

const AIA_I1 = 'http://ca.example.test/i1.crt';
const AIA_I2 = 'http://ca.example.test/i2.crt';

const root = await makeRoot('Reseller Root');
const i1 = await makeIntermediate('Reseller CA 1', root);
const i2 = await makeIntermediate('Reseller CA 2', i1, { aia: AIA_I1 });
const leaf = await makeLeaf('mail.example.com', i2, { aia: AIA_I2 });
const other = await makeRoot('Unrelated Root');
const unrelated = await makeIntermediate('Unrelated CA', other);
// Same subject as i2, another key: a decoy with its own key identifier, and one that copies i2's.
const decoy = await makeCert({ subject: i2.cert.subject.toString(), issuer: i1, ca: true });
const forged = await makeCert({
  subject: i2.cert.subject.toString(),
  issuer: i1,
  ca: true,
  ski: Buffer.from(i2.cert.subjectKeyIdentifier!, 'hex'),
});
// i2's key and subject, once expired (under i1) and once cross-signed by another, valid root.
const root2 = await makeRoot('Cross Root');
const i2expired = await makeCert({
  subject: i2.cert.subject.toString(),
  issuer: i1,
  key: i2.key,
  ca: true,
  notAfter: EXPIRED,
});
const i2cross = await makeCert({ subject: i2.cert.subject.toString(), issuer: root2, key: i2.key, ca: true });

const dir = new TempDir('mailtls-chain-');
after(() => dir.cleanup());

function pems(...list: Made[]): string {
  return list.map((m) => m.pem).join('');
}

function codes(chain: AssembledChain): string[] {
  return chain.problems.map((p) => p.code).sort();
}

function subjects(list: readonly { subject: { toString(): string } }[]): string[] {
  return list.map((c) => c.subject.toString());
}

/** `openssl verify -CAfile roots -untrusted pool leaf`: whether OpenSSL builds a valid chain. */
function opensslVerify(roots: string, pool: string, leafPEM: string): { ok: boolean; stderr: string } {
  const tag = Math.random().toString(36).slice(2);
  const args = ['verify', '-attime', String(AT.getTime() / 1000), '-CAfile', dir.write(`r${tag}.pem`, roots)];
  if (pool !== '') args.push('-untrusted', dir.write(`p${tag}.pem`, pool));
  args.push(dir.write(`l${tag}.pem`, leafPEM));
  const r = opensslStatus(args);
  return { ok: r.ok, stderr: r.stderr + r.stdout.toString() };
}

describe('assembleChain: reseller bundles', () => {
  it('assembles and validates the chain of a CA made with createCertificateAuthority (src/x509/issue.ts)', async () => {
    const pki = await getTestPKI({ hostnames: ['mail.example.com', 'imap.example.com'] });
    const chain = await assembleChain(pki.leaf.certPEM, pki.rootPEM + pki.intermediate.certPEM, {
      at: TEST_TIME,
    });
    assert.equal(chain.complete, true);
    assert.deepEqual(codes(chain), ['root-included', 'wrong-order']);
    assert.equal(chain.pem, pki.leaf.chainPEM);
    const v = await verifyChain(chain.pem, { roots: pki.rootPEM, host: 'imap.example.com', at: TEST_TIME });
    assert.equal(v.certificates.length, 3);
  });

  it('orders a reversed CRLF bundle with an unrelated certificate and drops the root', async () => {
    const pool = pems(root, unrelated, i1, i2).replace(/\n/g, '\r\n');
    const chain = await assembleChain(leaf.pem, pool, { at: AT });
    assert.equal(chain.complete, true);
    assert.equal(chain.trusted, undefined);
    assert.deepEqual(subjects(chain.certificates), subjects([leaf.cert, i2.cert, i1.cert]));
    assert.equal(chain.root?.subject.toString(), root.cert.subject.toString());
    assert.deepEqual(codes(chain), ['root-included', 'unrelated-dropped', 'wrong-order']);
    assert.deepEqual(subjects(chain.dropped).sort(), subjects([root.cert, unrelated.cert]).sort());
    assert.equal(chain.pem, pems(leaf, i2, i1));
    assert.ok(!chain.pem.includes('\r'));
    // OpenSSL accepts the same input, and the assembled chain.
    assert.equal(opensslVerify(root.pem, pool, leaf.pem).ok, true);
    assert.equal(opensslVerify(root.pem, pems(i2, i1), leaf.pem).ok, true);
  });

  it('reports a missing intermediate with its name and the AIA URL to download it from', async () => {
    const withRoots = await assembleChain(leaf.pem, i2.pem, { at: AT, roots: root.pem });
    assert.equal(withRoots.complete, false);
    assert.equal(withRoots.trusted, false);
    assert.deepEqual(subjects(withRoots.certificates), subjects([leaf.cert, i2.cert]));
    const [p] = withRoots.problems;
    assert.equal(p?.code, 'unknown-issuer');
    assert.equal(p?.details?.issuer, i1.cert.subject.toString());
    assert.deepEqual(p?.details?.caIssuers, [AIA_I1]);
    assert.match(p!.message, /Reseller CA 1/);
    assert.ok(p!.message.includes(AIA_I1));
    // Without roots the gap is reported too, with the hint to pass roots.
    const noRoots = await assembleChain(leaf.pem, i2.pem, { at: AT });
    assert.equal(noRoots.complete, false);
    assert.deepEqual(codes(noRoots), ['unknown-issuer']);
    assert.match(noRoots.problems[0]!.message, /roots/);
    // OpenSSL cannot build it either.
    const o = opensslVerify(root.pem, i2.pem, leaf.pem);
    assert.equal(o.ok, false);
    assert.match(o.stderr, /unable to get local issuer certificate/);
  });

  it('never chooses a same-name decoy listed first, not even one that copies the key identifier', async () => {
    const pool = pems(forged, decoy, i2, i1, root);
    const chain = await assembleChain(leaf.pem, pool, { at: AT, roots: root.pem });
    assert.equal(chain.complete, true);
    assert.equal(chain.trusted, true);
    assert.deepEqual(subjects(chain.certificates), subjects([leaf.cert, i2.cert, i1.cert]));
    assert.deepEqual(chain.certificates[1]!.der, i2.der);
    const dropped = chain.problems.filter((p) => p.code === 'unrelated-dropped');
    assert.equal(dropped.length, 2);
    for (const p of dropped) {
      assert.equal(p.details?.sameNameAsIssuer, true);
      assert.match(p.message, /did not sign it/);
    }
    // OpenSSL follows the forged key identifier to the decoy listed first and gives up: it does not
    // backtrack to the real issuer (mailtls does).
    const o = opensslVerify(root.pem, pems(forged, i2, i1), leaf.pem);
    assert.equal(o.ok, false);
    assert.match(o.stderr, /signature failure/);
    // With the decoy's own key identifier OpenSSL skips it too.
    assert.equal(opensslVerify(root.pem, pems(decoy, i2, i1), leaf.pem).ok, true);
  });

  it('prefers a valid cross-signed issuer to an expired one listed first', async () => {
    const pool = pems(i2expired, i2cross, i1);
    const chain = await assembleChain(leaf.pem, pool, { at: AT, roots: pems(root, root2) });
    assert.equal(chain.complete, true);
    assert.equal(chain.trusted, true);
    assert.deepEqual(
      chain.certificates.map((c) => c.der),
      [leaf.der, i2cross.der],
    );
    assert.equal(chain.root?.subject.toString(), root2.cert.subject.toString());
    assert.deepEqual(codes(chain), ['unrelated-dropped', 'unrelated-dropped']);
    // verifyChain builds the same path, and OpenSSL agrees that a valid chain exists.
    const v = await verifyChain(leaf.pem, { roots: pems(root, root2), intermediates: pool, at: AT });
    assert.deepEqual(
      v.certificates.map((c) => c.der),
      [leaf.der, i2cross.der, root2.der],
    );
    assert.equal(opensslVerify(pems(root, root2), pool, leaf.pem).ok, true);
  });

  it('reports an expired intermediate when there is no alternative', async () => {
    const chain = await assembleChain(leaf.pem, pems(i2expired, i1), { at: AT, roots: root.pem });
    assert.equal(chain.complete, true);
    assert.deepEqual(
      chain.certificates.map((c) => c.der),
      [leaf.der, i2expired.der, i1.der],
    );
    const expired = chain.problems.find((p) => p.code === 'expired');
    assert.deepEqual(expired?.certificate?.der, i2expired.der);
    assert.match(expired!.message, /expired on 2027-01-01/);
    assert.ok(expired!.message.includes(AIA_I2), 'the message says where the current one is');
    const o = opensslVerify(root.pem, pems(i2expired, i1), leaf.pem);
    assert.equal(o.ok, false);
    assert.match(o.stderr, /certificate has expired/);
  });

  it('drops the root by default and keeps it with includeRoot', async () => {
    const pool = pems(i2, i1, root);
    const dropped = await assembleChain(leaf.pem, pool, { at: AT });
    assert.deepEqual(codes(dropped), ['root-included']);
    assert.equal(dropped.certificates.length, 3);
    const kept = await assembleChain(leaf.pem, pool, { at: AT, includeRoot: true });
    assert.deepEqual(codes(kept), []);
    assert.deepEqual(subjects(kept.certificates), subjects([leaf.cert, i2.cert, i1.cert, root.cert]));
    assert.equal(kept.pem, pems(leaf, i2, i1, root));
    // A root that comes from `roots` is added with includeRoot, and is no problem.
    const fromRoots = await assembleChain(leaf.pem, pems(i2, i1), {
      at: AT,
      roots: root.pem,
      includeRoot: true,
    });
    assert.deepEqual(codes(fromRoots), []);
    assert.equal(fromRoots.certificates.length, 4);
  });

  it('drops duplicates and a repeated leaf, and reads a fullchain given as the leaf', async () => {
    const chain = await assembleChain(pems(leaf, i1, i2), pems(i2, leaf, i1), { at: AT, roots: root.pem });
    assert.deepEqual(codes(chain), [
      'duplicate-dropped',
      'duplicate-dropped',
      'duplicate-dropped',
      'wrong-order',
    ]);
    assert.deepEqual(subjects(chain.certificates), subjects([leaf.cert, i2.cert, i1.cert]));
    assert.ok(chain.problems.some((p) => /repeats the certificate/.test(p.message)));
  });

  it('says when the chain ends at a root that is not trusted', async () => {
    const chain = await assembleChain(leaf.pem, pems(i2, i1, root), { at: AT, roots: other.pem });
    assert.equal(chain.complete, true);
    assert.equal(chain.trusted, false);
    assert.deepEqual(codes(chain), ['root-included', 'untrusted-root']);
  });

  it('accepts DER, certificate lists and a self-signed leaf', async () => {
    const fromDER = await assembleChain(leaf.der, [i2.der, i1.cert, root.pem], { at: AT });
    assert.deepEqual(subjects(fromDER.certificates), subjects([leaf.cert, i2.cert, i1.cert]));
    const self = await assembleChain(root.pem, [], { at: AT });
    assert.equal(self.complete, true);
    assert.deepEqual(
      self.certificates.map((c) => c.der),
      [root.der],
    );
    assert.deepEqual(codes(self), []);
  });

  it('stops with ERR_CHAIN_BUDGET on a pathological pool', async () => {
    const decoys = await Promise.all(
      Array.from({ length: 6 }, () =>
        makeCert({ subject: i2.cert.subject.toString(), issuer: i1, ca: true, ski: null }),
      ),
    );
    const noAKI = await makeLeaf('mail.example.com', i2, { aki: null });
    await assert.rejects(
      assembleChain(noAKI.pem, pems(...decoys, i2, i1), { at: AT, maxSignatureChecks: 3 }),
      (e: unknown) =>
        e instanceof ChainError && e.code === 'ERR_CHAIN_BUDGET' && e.details.reason === 'budget',
    );
  });

  it('rejects wrong argument types', async () => {
    await assert.rejects(assembleChain(leaf.pem, 42 as unknown as string), TypeError);
    await assert.rejects(assembleChain(42 as unknown as string, ''), TypeError);
    await assert.rejects(assembleChain(leaf.pem, '', { at: new Date(Number.NaN) }), TypeError);
    await assert.rejects(assembleChain(leaf.pem, '', { maxSignatureChecks: 0 }), RangeError);
  });

  it('finds the same chain whatever the order of the pool (property)', async () => {
    const items = [i2, i1, root, unrelated, decoy, forged];
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(items, { minLength: items.length }),
        fc.boolean(),
        async (order, dup) => {
          const list = dup ? [...order, order[0]!] : order;
          const chain = await assembleChain(leaf.pem, pems(...list), { at: AT });
          assert.deepEqual(
            chain.certificates.map((c) => c.der),
            [leaf.der, i2.der, i1.der],
          );
          assert.equal(chain.complete, true);
          assert.equal(chain.problems.filter((p) => p.code === 'unrelated-dropped').length, 3);
        },
      ),
      { numRuns: fuzzRuns(15) },
    );
  });
});

describe('assembleChain and verifyChain share one path builder', () => {
  it('both stop at the same default signature budget (100)', async () => {
    // 101 CA certificates with i2's name and key identifier but another key, listed before i2: the leaf's
    // issuer is the 102nd candidate, so finding it takes 102 signature checks. Assembly used to allow
    // 10,000 by default.
    const key = await newKey();
    const ski = Buffer.from(i2.cert.subjectKeyIdentifier!, 'hex');
    const decoys = await Promise.all(
      Array.from({ length: 101 }, () =>
        makeCert({ subject: i2.cert.subject.toString(), issuer: i1, key, ca: true, ski }),
      ),
    );
    const end = await makeLeaf('mail.example.com', i2);
    const pool = pems(...decoys, i2, i1);
    const budget = (e: unknown) =>
      e instanceof ChainError && e.code === 'ERR_CHAIN_BUDGET' && e.details.reason === 'budget';
    await assert.rejects(assembleChain(end.pem, pool, { at: AT, roots: root.pem }), budget);
    await assert.rejects(verifyChain(end.pem, { at: AT, roots: root.pem, intermediates: pool }), budget);
    // Raised, both find the chain.
    const chain = await assembleChain(end.pem, pool, { at: AT, roots: root.pem, maxSignatureChecks: 200 });
    assert.equal(chain.complete, true);
    assert.deepEqual(
      chain.certificates.map((c) => c.der),
      [end.der, i2.der, i1.der],
    );
    const path = await verifyChain(end.pem, {
      at: AT,
      roots: root.pem,
      intermediates: pool,
      maxSignatureChecks: 200,
    });
    assert.equal(path.signatureChecks, 104);
  });

  it('both follow a path of up to 32 certificates (assembly used to stop at 16)', async () => {
    const top = await makeRoot('Long Root');
    const cas: Made[] = [];
    let issuer = top;
    for (let i = 0; i < 20; i++) {
      issuer = await makeIntermediate(`Long CA ${i}`, issuer);
      cas.push(issuer);
    }
    const end = await makeLeaf('mail.example.com', issuer);
    const pool = pems(...[...cas].reverse());
    const chain = await assembleChain(end.pem, pool, { at: AT, roots: top.pem });
    assert.equal(chain.complete, true);
    assert.equal(chain.trusted, true);
    assert.equal(chain.certificates.length, 21);
    assert.deepEqual(codes(chain), []);
    const path = await verifyChain(end.pem, { at: AT, roots: top.pem, intermediates: pool, maxDepth: 20 });
    assert.deepEqual(
      path.certificates.map((c) => c.der),
      [...chain.certificates.map((c) => c.der), top.der],
    );
  });
});

describe('chain encoders', () => {
  it('encodeChainPEM writes the certificates in order, LF and 64 columns', async () => {
    const chain = await assembleChain(leaf.pem, pems(i1, i2), { at: AT });
    const pem = encodeChainPEM(chain);
    assert.equal(pem, encodeChainPEM(chain.certificates));
    assert.equal(pem, pems(leaf, i2, i1));
    for (const line of pem.split('\n')) assert.ok(line.length <= 64);
    assert.throws(() => encodeChainPEM({} as AssembledChain), TypeError);
  });

  it('encodePostfixChainFile puts the key first, then leaf and issuers, as openssl reads them', async () => {
    const chain = await assembleChain(leaf.pem, pems(i1, i2), { at: AT });
    const keyPEM = await encodePrivateKeyPEM(leaf.key);
    const file = encodePostfixChainFile(keyPEM.replace(/\n/g, '\r\n'), chain);
    assert.ok(file.startsWith('-----BEGIN PRIVATE KEY-----\n'));
    assert.ok(file.endsWith(pems(leaf, i2, i1)));
    const path = dir.write('postfix.pem', file);
    const key = opensslStatus(['pkey', '-in', path, '-pubout']);
    assert.equal(key.ok, true, key.stderr);
    const certs = opensslStatus(['crl2pkcs7', '-nocrl', '-certfile', path]);
    assert.equal(certs.ok, true, certs.stderr);
    const printed = opensslStatus(['pkcs7', '-print_certs', '-noout'], { input: certs.stdout });
    const order = [...printed.stdout.toString().matchAll(/subject=(.*)/g)].map((m) => m[1]);
    assert.deepEqual(order, [
      'CN = mail.example.com',
      'O = mailtls chain tests, CN = Reseller CA 2',
      'O = mailtls chain tests, CN = Reseller CA 1',
    ]);
  });

  it('encodePostfixChainFile refuses an encrypted key without leaking it', async () => {
    const chain = await assembleChain(leaf.pem, pems(i1, i2), { at: AT });
    const encrypted = await encodePrivateKeyPEM(leaf.key, { passphrase: 'correct horse' });
    assert.throws(
      () => encodePostfixChainFile(encrypted, chain),
      (e: unknown) => {
        assert.ok(e instanceof KeyError && e.code === 'ERR_KEY_ENCRYPTED');
        assertNoKeyBytes(`${e.message}${JSON.stringify(e)}`, leaf.key.exportPKCS8(), 'error');
        return true;
      },
    );
    assert.throws(() => encodePostfixChainFile(leaf.pem, chain), MailTlsError);
    assert.throws(() => encodePostfixChainFile(1 as unknown as string, chain), TypeError);
  });
});

describe('one chain-failure vocabulary', () => {
  it("assembly's failure problems are validation failure reasons, spelled alike", () => {
    type AssemblyNotes = 'root-included' | 'wrong-order' | 'unrelated-dropped' | 'duplicate-dropped';
    // fails to compile if assembly spells a failure that validation does not know (as 'missing-intermediate' did)
    const shared: [Exclude<ChainProblemCode, AssemblyNotes>] extends [ChainFailureReason] ? true : false =
      true;
    assert.equal(shared, true);
  });
});
