/**
 * The shared path builder (src/internal/chain/path-builder.ts) on its own, with real certificates and real
 * signatures: candidate order (trust anchors first, valid before expired, the order given otherwise), the
 * loop check, the signature cache and both budgets, and the dead ends it reports to a policy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertificateIndex, sameEntity } from '../../src/internal/chain/certificate-index.js';
import {
  type DeadEnd,
  PATH_BUILDER_DEFAULTS,
  PathBudgetExceeded,
  PathBuilder,
  type PathPolicy,
} from '../../src/internal/chain/path-builder.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { AT, EXPIRED, makeCert, makeIntermediate, makeLeaf, makeRoot } from '../helpers/chain-pki.js';

const root = await makeRoot('Builder Root');
const ca = await makeIntermediate('Builder CA', root);
const leaf = await makeLeaf('mail.example.com', ca);
// The CA's name and key: expired under the root, and cross-signed by a second root.
const caExpired = await makeCert({
  subject: ca.cert.subject.toString(),
  issuer: root,
  key: ca.key,
  ca: true,
  notAfter: EXPIRED,
});
const root2 = await makeRoot('Builder Cross Root');
const caCross = await makeCert({ subject: ca.cert.subject.toString(), issuer: root2, key: ca.key, ca: true });

function builder(anchors: Certificate[] | undefined, pool: Certificate[], maxSignatureChecks?: number) {
  return new PathBuilder<Certificate>({
    anchors: anchors === undefined ? undefined : new CertificateIndex(anchors),
    pool: new CertificateIndex(pool),
    sameEntity,
    atMs: AT.getTime(),
    maxSignatureChecks,
    crypto: {},
  });
}

/** A policy that accepts every candidate whose signature verifies and records what the builder did. */
class Recorder implements PathPolicy<Certificate> {
  readonly links: string[] = [];
  readonly ends: [number, DeadEnd][] = [];
  readonly found: Certificate[][] = [];
  constructor(
    readonly b: PathBuilder<Certificate>,
    readonly stopAtFirst = true,
    readonly verify = true,
  ) {}
  done(): boolean {
    return this.stopAtFirst && this.found.length > 0;
  }
  arrive(): boolean {
    return false;
  }
  async link(path: readonly Certificate[], c: Certificate, anchor: boolean): Promise<boolean> {
    this.links.push(
      `${path.length}:${c.subject.getAll('CN')[0]}${anchor ? ' (anchor)' : ''}${this.b.valid(c) ? '' : ' (invalid)'}`,
    );
    if (this.verify && !(await this.b.signature(path[path.length - 1]!, c)).valid) return false;
    if (anchor) this.found.push([...path, c]);
    return true;
  }
  deadEnd(path: readonly Certificate[], why: DeadEnd): void {
    this.ends.push([path.length, why]);
  }
}

describe('PathBuilder', () => {
  it('tries trust anchors first, then valid before expired candidates, and caches signatures', async () => {
    const b = builder([root.cert], [caExpired.cert, ca.cert, root.cert]);
    const order = b.candidates([leaf.cert]).map(([c, anchor]) => [c.der, anchor]);
    assert.deepEqual(order, [
      [ca.der, false],
      [caExpired.der, false],
    ]);
    // The root in the pool is tried as an anchor only.
    assert.deepEqual(
      b.candidates([leaf.cert, ca.cert]).map(([c, anchor]) => [c.der, anchor]),
      [[root.der, true]],
    );
    const p = new Recorder(b);
    await b.build(leaf.cert, p);
    assert.deepEqual(
      p.found[0]!.map((c) => c.der),
      [leaf.der, ca.der, root.der],
    );
    assert.deepEqual(p.links, ['1:Builder CA', '2:Builder Root (anchor)']);
    assert.equal(b.signatureChecks, 2);
    assert.equal(b.steps, 2);
    // The same pair again: from the cache, not counted.
    assert.equal((await b.signature(leaf.cert, ca.cert)).valid, true);
    assert.equal(b.signatureChecks, 2);
  });

  it('never puts the same subject and key on a path twice (loop check)', async () => {
    // Two CAs that certify each other: x ("A", signed by B's key) and y ("B", signed by A's key).
    const b0 = await makeRoot('Builder B');
    const x = await makeCert({ subject: 'CN=Builder A', issuer: b0, ca: true });
    const y = await makeCert({ subject: b0.cert.subject.toString(), issuer: x, key: b0.key, ca: true });
    const end = await makeLeaf('mail.example.com', x);
    const b = builder(undefined, [x.cert, y.cert]);
    // Above y, x is the issuer by name and key, but it is already on the path.
    assert.deepEqual(b.candidates([end.cert, x.cert, y.cert]), []);
    const p = new Recorder(b, false);
    await b.build(end.cert, p);
    assert.deepEqual(p.ends, [[3, 'no-issuer']]);
    assert.deepEqual(p.links, ['1:Builder A', '2:Builder B']);
  });

  it('reports a leaf without candidates, and one whose candidates are all refused', async () => {
    const none = builder([root2.cert], [root.cert]);
    const p1 = new Recorder(none);
    await none.build(leaf.cert, p1);
    assert.deepEqual(p1.ends, [[1, 'no-issuer']]);
    const refused = builder([root.cert], [caCross.cert]);
    const signedByRoot2 = await makeLeaf('mail.example.com', caCross);
    const p2 = new Recorder(refused);
    // caCross is accepted, but its issuer (root2) is not given.
    await refused.build(signedByRoot2.cert, p2);
    assert.deepEqual(p2.ends, [[2, 'no-issuer']]);
    const wrongKey = await makeCert({
      subject: ca.cert.subject.toString(),
      issuer: root,
      ca: true,
      ski: null,
    });
    const noAKI = await makeLeaf('mail.example.com', ca, { aki: null });
    const b3 = builder([root.cert], [wrongKey.cert]);
    const p3 = new Recorder(b3);
    await b3.build(noAKI.cert, p3);
    assert.deepEqual(p3.ends, [[1, 'rejected']]);
  });

  it('stops past maxSignatureChecks (default 100, as for assembly and validation)', async () => {
    assert.equal(PATH_BUILDER_DEFAULTS.maxSignatureChecks, 100);
    const b = builder([root.cert], [caExpired.cert, ca.cert], 1);
    const p = new Recorder(b);
    await assert.rejects(
      b.build(leaf.cert, p),
      (e: unknown) => e instanceof PathBudgetExceeded && e.what === 'signatures',
    );
    assert.equal(b.signatureChecks, 2);
  });

  it('stops past maxSteps when many certificates with one name make the paths many', async () => {
    // Eight CA certificates named as their own issuer (different keys): every order of them is a path,
    // far more than 20,000 steps; signatures are not looked at, so only the step budget can stop it.
    const name = 'CN=Builder Mesh';
    const mesh = await Promise.all(
      Array.from({ length: 8 }, () =>
        makeCert({ subject: name, issuer: undefined, ca: true, ski: null, aki: null }),
      ),
    );
    const start = await makeCert({ subject: 'CN=mesh.example.com', issuer: mesh[0]!, ca: false, aki: null });
    const b = builder(
      undefined,
      mesh.map((m) => m.cert),
    );
    const p = new Recorder(b, false, false);
    await assert.rejects(
      b.build(start.cert, p),
      (e: unknown) => e instanceof PathBudgetExceeded && e.what === 'steps',
    );
    assert.equal(b.steps, PATH_BUILDER_DEFAULTS.maxSteps + 1);
    assert.equal(b.signatureChecks, 0);
  });
});
