/**
 * verifyChain: one row per rule of the profile (valid paths and every error code with its reason), path
 * building over cross-signed and expired alternates, the signature algorithms (chains made by the openssl
 * CLI, accepted by `openssl verify`, and rejected once a signature byte is flipped), CRLs, the budget,
 * and the Node roots adapter.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import fc from 'fast-check';
import { createTrustStore, type VerifyChainOptions, verifyChain } from '../src/chain/verify-chain.js';
import { encodePEM } from '../src/encoding/pem.js';
import { ChainError, HostnameError, MailTlsError } from '../src/errors.js';
import { readCRLs } from '../src/internal/chain/crl.js';
import { profileFailure } from '../src/internal/chain/policy.js';
import { nodeRootCertificates, nodeTrustStore, verifyChainWithNodeRoots } from '../src/node/tls/roots.js';
import type { Certificate } from '../src/x509/certificate.js';
import {
  AT,
  EKU,
  EXPIRED,
  KU,
  type Made,
  makeCert,
  makeCRL,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  utf8Value,
} from './helpers/chain-pki.js';
import { fuzzRuns, opensslStatus, TempDir } from './helpers/key-fixtures.js';
import { cpuStopwatch } from './helpers/timing.js';

const AIA = 'http://ca.example.test/i2.crt';
const root = await makeRoot('Test Root');
const i1 = await makeIntermediate('Test CA 1', root);
const i2 = await makeIntermediate('Test CA 2', i1);
const leaf = await makeLeaf('mail.example.com', i2, {
  aia: AIA,
  san: [{ dns: 'mail.example.com' }, { dns: 'smtp.example.com' }, { ip: [192, 0, 2, 25] }],
});
const other = await makeRoot('Other Root');
const root2 = await makeRoot('Cross Root');
const i2expired = await makeCert({
  subject: i2.cert.subject.toString(),
  issuer: i1,
  key: i2.key,
  ca: true,
  notAfter: EXPIRED,
});
const i2cross = await makeCert({ subject: i2.cert.subject.toString(), issuer: root2, key: i2.key, ca: true });
const selfSigned = await makeCert({
  subject: 'CN=mail.lan',
  san: [{ dns: 'mail.lan' }],
  ca: false,
});
const caLeaf = await makeIntermediate('ca.example.com', i1, { san: [{ dns: 'ca.example.com' }] });
const rollover = await makeCert({ subject: i1.cert.subject.toString(), issuer: i1, ca: true });
const belowRollover = await makeIntermediate('Below Rollover', rollover, { ca: 0 });
const leafBelowRollover = await makeLeaf('mail.example.com', belowRollover);
const i1pathLen0 = await makeIntermediate('Test CA 1', root, { ca: 0, key: i1.key });
const i1pathLen1 = await makeIntermediate('Test CA 1', root, { ca: 1, key: i1.key });
const client = await makeLeaf('alice', i2, {
  subject: 'CN=Alice',
  san: [{ email: 'alice@example.com' }],
  eku: [EKU.clientAuth],
});
const ncCA = await makeIntermediate('Constrained CA', root, {
  nameConstraints: { permitted: [{ dns: 'example.org' }], excluded: [{ dns: 'bad.example.org' }] },
});
const ncGood = await makeLeaf('mail.example.org', ncCA);
const ncBad = await makeLeaf('mail.example.com', ncCA);
const ncExcluded = await makeLeaf('bad.example.org', ncCA);
const ncCNOnly = await makeCert({ subject: 'CN=mail.example.com', issuer: ncCA });
const forgedLeaf = await makeLeaf('mail.example.com', i2, { signWith: (await makeRoot('x')).key });
const notCA = await makeIntermediate('Not a CA', root, { ca: false, keyUsage: [KU.digitalSignature] });
const belowNotCA = await makeLeaf('mail.example.com', notCA);
const noCertSign = await makeIntermediate('No keyCertSign', root, { keyUsage: [KU.cRLSign] });
const belowNoCertSign = await makeLeaf('mail.example.com', noCertSign);
const emailOnlyCA = await makeIntermediate('E-mail CA', root, { eku: [EKU.emailProtection] });
const belowEmailOnly = await makeLeaf('mail.example.com', emailOnlyCA);
const clientOnlyLeaf = await makeLeaf('mail.example.com', i2, { eku: [EKU.clientAuth] });
const anyEKULeaf = await makeLeaf('mail.example.com', i2, { eku: [EKU.any] });
const noEKULeaf = await makeLeaf('mail.example.com', i2, { eku: null });
const criticalLeaf = await makeLeaf('mail.example.com', i2, {
  extra: [{ oid: '1.3.6.1.4.1.55738.666.1', critical: true, value: utf8Value('x') }],
});
const serialZero = await makeLeaf('mail.example.com', i2, { serial: 0 });
const oddCN = await makeLeaf('mail.example.com', i2, { subject: 'CN=Mail.Example.COM' });
const hexCN = await makeLeaf('mail', i2, { subject: 'CN=0xC0000219', san: [{ ip: [192, 0, 2, 25] }] });
const descriptiveCN = await makeLeaf('mail.example.com', i2, { subject: 'CN=Mail Server' });
const noAKILeaf = await makeLeaf('mail.example.com', i2, { aki: null });
const notYet = await makeLeaf('mail.example.com', i2, { notBefore: new Date('2028-01-01T00:00:00Z') });
const expiredLeaf = await makeLeaf('mail.example.com', i2, { notAfter: EXPIRED });
const crlRevoked = await makeCRL(i2, [{ serial: leaf.cert.serialNumber, reason: 1 }]);
const crlOther = await makeCRL(i2, [{ serial: 'abcdef' }]);
const crlNoNumber = await makeCRL(i2, [], { crlNumber: 'missing' });
const crlStale = await makeCRL(i2, [], { nextUpdate: new Date('2027-04-01T00:00:00Z') });
const decoys = await Promise.all(
  Array.from({ length: 6 }, () =>
    makeCert({ subject: i2.cert.subject.toString(), issuer: i1, ca: true, ski: null }),
  ),
);
const leafNoKid = await makeLeaf('mail.example.com', i2, {
  aki: Uint8Array.of(1, 2, 3),
});

function pems(...list: Made[]): string {
  return list.map((m) => m.pem).join('');
}

const base: VerifyChainOptions = { roots: root.pem, intermediates: pems(i1, i2), at: AT };

interface Row {
  name: string;
  leaf: Made | string;
  options: Partial<VerifyChainOptions>;
  /** Expected path, leaf first (subjects). */
  want?: readonly Made[];
  wantCode?: string;
  wantReason?: string;
  /** A text the error message must contain. */
  wantMessage?: RegExp;
}

const rows: Row[] = [
  {
    name: 'leaf → two intermediates → root',
    leaf,
    options: { host: 'mail.example.com' },
    want: [leaf, i2, i1, root],
  },
  {
    name: 'intermediates in any order, with duplicates and unrelated certificates',
    leaf,
    options: { intermediates: [pems(i2, other, i1, i2), decoys[0]!.der] },
    want: [leaf, i2, i1, root],
  },
  {
    name: 'a fullchain.pem as the leaf',
    leaf: pems(leaf, i1, i2),
    options: { intermediates: undefined },
    want: [leaf, i2, i1, root],
  },
  { name: 'IP host', leaf, options: { ip: '192.0.2.25' }, want: [leaf, i2, i1, root] },
  { name: 'IP given as host', leaf, options: { host: '192.0.2.25' }, want: [leaf, i2, i1, root] },
  {
    name: 'expired intermediate listed first, valid cross-signed one chosen',
    leaf,
    options: { roots: pems(root, root2), intermediates: pems(i2expired, i1, i2cross) },
    want: [leaf, i2cross, root2],
  },
  {
    name: 'a self-signed leaf that is itself trusted',
    leaf: selfSigned,
    options: { roots: selfSigned.pem, host: 'mail.lan' },
    want: [selfSigned],
  },
  {
    name: 'a CA certificate as the leaf (RFC 5280)',
    leaf: caLeaf,
    options: { host: 'ca.example.com', roots: root.pem, intermediates: i1.pem },
    want: [caLeaf, i1, root],
  },
  {
    name: 'self-issued (key rollover) intermediates do not count for pathLen',
    leaf: leafBelowRollover,
    options: { intermediates: pems(rollover, i1pathLen1, belowRollover) },
    want: [leafBelowRollover, belowRollover, rollover, i1pathLen1, root],
  },
  {
    name: 'a leaf with anyExtendedKeyUsage',
    leaf: anyEKULeaf,
    options: {},
    want: [anyEKULeaf, i2, i1, root],
  },
  { name: 'a leaf without extendedKeyUsage', leaf: noEKULeaf, options: {}, want: [noEKULeaf, i2, i1, root] },
  {
    name: 'a descriptive Common Name is not a host name',
    leaf: descriptiveCN,
    options: {},
    want: [descriptiveCN, i2, i1, root],
  },
  {
    name: 'client certificate for an e-mail address',
    leaf: client,
    options: { purpose: 'clientAuth', email: 'alice@EXAMPLE.com' },
    want: [client, i2, i1, root],
  },
  {
    name: 'name constraints permit',
    leaf: ncGood,
    options: { intermediates: ncCA.pem, host: 'mail.example.org' },
    want: [ncGood, ncCA, root],
  },
  {
    name: 'a CRL that does not list the leaf',
    leaf,
    options: { crls: crlOther.pem },
    want: [leaf, i2, i1, root],
  },
  {
    name: 'purpose any ignores extendedKeyUsage',
    leaf: clientOnlyLeaf,
    options: { purpose: 'any' },
    want: [clientOnlyLeaf, i2, i1, root],
  },

  {
    name: 'expired leaf',
    leaf: expiredLeaf,
    options: {},
    wantCode: 'ERR_CHAIN_EXPIRED',
    wantReason: 'expired',
    wantMessage: /expired on 2027-01-01T00:00:00.000Z.*Renew/,
  },
  {
    name: 'leaf not valid yet',
    leaf: notYet,
    options: {},
    wantCode: 'ERR_CHAIN_NOT_YET_VALID',
    wantReason: 'not-yet-valid',
  },
  {
    name: 'expired intermediate without alternative',
    leaf,
    options: { intermediates: pems(i2expired, i1) },
    wantCode: 'ERR_CHAIN_EXPIRED',
    wantMessage: /intermediate CA certificate "CN=Test CA 2/,
  },
  {
    name: 'missing intermediate',
    leaf,
    options: { intermediates: i1.pem },
    wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
    wantReason: 'unknown-issuer',
    wantMessage: /Test CA 2.*http:\/\/ca\.example\.test\/i2\.crt/,
  },
  {
    name: 'issuer known only under another key identifier',
    leaf: leafNoKid,
    options: {},
    wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
    wantMessage: /1 certificate has that name, but another key identifier/,
  },
  {
    name: 'chain to a root that is not trusted',
    leaf,
    options: { roots: other.pem, intermediates: pems(i1, i2, root) },
    wantCode: 'ERR_CHAIN_UNTRUSTED_ROOT',
    wantReason: 'untrusted-root',
  },
  {
    name: 'self-signed leaf not trusted',
    leaf: selfSigned,
    options: { host: 'mail.lan' },
    wantCode: 'ERR_CHAIN_UNTRUSTED_ROOT',
  },
  {
    name: 'forged signature',
    leaf: forgedLeaf,
    options: {},
    wantCode: 'ERR_CHAIN_SIGNATURE',
    wantReason: 'bad-signature',
  },
  {
    name: 'issuer that is not a CA',
    leaf: belowNotCA,
    options: { intermediates: notCA.pem },
    wantCode: 'ERR_CHAIN_NOT_CA',
    wantReason: 'not-ca',
  },
  {
    name: 'CA without keyCertSign',
    leaf: belowNoCertSign,
    options: { intermediates: noCertSign.pem },
    wantCode: 'ERR_CHAIN_KEY_USAGE',
    wantReason: 'key-usage',
  },
  {
    name: 'path length constraint',
    leaf,
    options: { intermediates: pems(i1pathLen0, i2) },
    wantCode: 'ERR_CHAIN_PATH_LENGTH',
    wantReason: 'path-length',
  },
  {
    name: 'leaf only for TLS clients',
    leaf: clientOnlyLeaf,
    options: {},
    wantCode: 'ERR_CHAIN_EXTENDED_KEY_USAGE',
    wantReason: 'extended-key-usage',
  },
  {
    name: 'server leaf used as client',
    leaf,
    options: { purpose: 'clientAuth' },
    wantCode: 'ERR_CHAIN_EXTENDED_KEY_USAGE',
  },
  {
    name: 'intermediate restricted to e-mail',
    leaf: belowEmailOnly,
    options: { intermediates: emailOnlyCA.pem },
    wantCode: 'ERR_CHAIN_EXTENDED_KEY_USAGE',
  },
  {
    name: 'name outside the permitted subtree',
    leaf: ncBad,
    options: { intermediates: ncCA.pem },
    wantCode: 'ERR_CHAIN_NAME_CONSTRAINTS',
    wantMessage: /outside the permitted subtrees \(DNS:example.org\)/,
  },
  {
    name: 'name in an excluded subtree',
    leaf: ncExcluded,
    options: { intermediates: ncCA.pem },
    wantCode: 'ERR_CHAIN_NAME_CONSTRAINTS',
    wantMessage: /excluded subtree DNS:bad.example.org/,
  },
  {
    name: 'unknown critical extension',
    leaf: criticalLeaf,
    options: {},
    wantCode: 'ERR_CHAIN_CRITICAL_EXTENSION',
    wantReason: 'critical-extension',
  },
  {
    name: 'host not covered',
    leaf,
    options: { host: 'imap.example.com' },
    wantCode: 'ERR_CHAIN_HOSTNAME',
    wantReason: 'hostname-mismatch',
    wantMessage: /valid for mail.example.com, smtp.example.com, 192.0.2.25/,
  },
  {
    name: 'IP not covered',
    leaf,
    options: { ip: '192.0.2.26' },
    wantCode: 'ERR_CHAIN_HOSTNAME',
    wantReason: 'ip-mismatch',
  },
  {
    name: 'e-mail not covered',
    leaf: client,
    options: { purpose: 'clientAuth', email: 'bob@example.com' },
    wantCode: 'ERR_CHAIN_HOSTNAME',
    wantReason: 'email-mismatch',
  },
  {
    name: 'revoked by a CRL',
    leaf,
    options: { crls: [crlOther.der, crlRevoked.pem] },
    wantCode: 'ERR_CHAIN_REVOKED',
    wantReason: 'revoked',
  },
  {
    name: 'CRL without CRL number',
    leaf,
    options: { crls: crlNoNumber.pem },
    wantCode: 'ERR_CHAIN_CRL',
    wantReason: 'crl-invalid',
  },
  {
    name: 'stale CRL',
    leaf,
    options: { crls: crlStale.der },
    wantCode: 'ERR_CHAIN_CRL',
    wantMessage: /out of date/,
  },
  {
    name: 'too many intermediates for maxDepth',
    leaf,
    options: { maxDepth: 1 },
    wantCode: 'ERR_CHAIN_TOO_DEEP',
    wantReason: 'too-deep',
  },
  {
    name: 'pathological pool stops at the signature budget',
    leaf: leafNoKid,
    options: { intermediates: pems(...decoys, i2, i1), maxSignatureChecks: 3 },
    wantCode: 'ERR_CHAIN_BUDGET',
    wantReason: 'budget',
  },
  {
    name: 'serial number 0',
    leaf: serialZero,
    options: {},
    wantCode: 'ERR_CHAIN_INVALID',
    wantReason: 'serial-number',
  },
  {
    name: 'leaf without authority key identifier',
    leaf: noAKILeaf,
    options: {},
    wantCode: 'ERR_CHAIN_INVALID',
    wantReason: 'key-identifier',
  },
  {
    name: 'Common Name spelled unlike the SAN',
    leaf: oddCN,
    options: {},
    wantCode: 'ERR_CHAIN_INVALID',
    wantReason: 'common-name',
  },
  {
    name: 'Common Name with a hex IP address',
    leaf: hexCN,
    options: {},
    wantCode: 'ERR_CHAIN_INVALID',
    wantReason: 'common-name',
  },
];

describe('verifyChain: the profile, row by row', () => {
  for (const row of rows)
    it(row.name, async () => {
      const input = typeof row.leaf === 'string' ? row.leaf : row.leaf.pem;
      const options = { ...base, ...row.options } as VerifyChainOptions;
      if (row.want !== undefined) {
        const chain = await verifyChain(input, options);
        assert.deepEqual(
          chain.certificates.map((c) => c.subject.toString()),
          row.want.map((m) => m.cert.subject.toString()),
        );
        assert.deepEqual(
          chain.certificates.map((c) => c.der),
          row.want.map((m) => m.der),
        );
        assert.equal(chain.trustAnchor, chain.certificates[chain.certificates.length - 1]);
        return;
      }
      await assert.rejects(verifyChain(input, options), (e: unknown) => {
        assert.ok(e instanceof ChainError, `a ChainError, not ${String(e)}`);
        assert.equal(e.code, row.wantCode, e.message);
        if (row.wantReason !== undefined) assert.equal(e.details.reason, row.wantReason);
        if (row.wantMessage !== undefined) assert.match(e.message, row.wantMessage);
        assert.doesNotThrow(() => JSON.stringify(e));
        return true;
      });
    });

  it('the leaf alone may be checked with the CN rule off', async () => {
    const chain = await verifyChain(oddCN.pem, { ...base, checkCommonName: false });
    assert.equal(chain.certificates.length, 4);
  });

  it('counts each signature once', async () => {
    const chain = await verifyChain(leaf.pem, base);
    assert.equal(chain.signatureChecks, 3);
    const store = createTrustStore([root.cert, root2.der]);
    const cross = await verifyChain(leaf.pem, {
      ...base,
      roots: store,
      intermediates: pems(i2expired, i2cross, i1),
    });
    assert.equal(cross.signatureChecks, 2);
    assert.equal(store.certificates.length, 2);
    assert.equal(store.has(root.cert), true);
  });

  it('accepts any object of the TrustStore shape as roots, not only createTrustStore', async () => {
    const own = createTrustStore([root.cert]);
    const custom = { certificates: own.certificates, has: (c: Certificate) => own.has(c) };
    const chain = await verifyChain(leaf.pem, { ...base, roots: custom });
    assert.equal(chain.trustAnchor.der.length, own.certificates[0]!.der.length);
    assert.equal(chain.certificates.length, 4);
  });

  it('refuses an invalid host name and bad options', async () => {
    await assert.rejects(
      verifyChain(leaf.pem, { ...base, host: 'a..example.com' }),
      (e: unknown) => e instanceof HostnameError && e.code === 'ERR_HOSTNAME_INVALID',
    );
    await assert.rejects(
      verifyChain(leaf.pem, { ...base, ip: 'mail.example.com' }),
      (e: unknown) => e instanceof HostnameError && e.details.reason === 'invalid-ip',
    );
    await assert.rejects(
      verifyChain(leaf.pem, { ...base, roots: undefined as unknown as string }),
      TypeError,
    );
    await assert.rejects(verifyChain(leaf.pem, { ...base, purpose: 'email' as 'any' }), RangeError);
    await assert.rejects(verifyChain(leaf.pem, { ...base, maxDepth: -1 }), RangeError);
    await assert.rejects(verifyChain(leaf.pem, { ...base, at: new Date(Number.NaN) }), TypeError);
    await assert.rejects(verifyChain(leaf.pem, null as unknown as VerifyChainOptions), TypeError);
  });
});

/** A root → leaf chain made by the openssl CLI with one signature algorithm. */
interface Algo {
  name: string;
  rootKey: string[];
  leafKey: string[];
  sign: string[];
}

const ALGOS: Algo[] = [
  {
    name: 'RSA PKCS#1 v1.5 SHA-256',
    rootKey: ['-newkey', 'rsa:2048'],
    leafKey: ['-newkey', 'rsa:2048'],
    sign: ['-sha256'],
  },
  {
    name: 'RSA PKCS#1 v1.5 SHA-512',
    rootKey: ['-newkey', 'rsa:3072'],
    leafKey: ['-newkey', 'rsa:2048'],
    sign: ['-sha512'],
  },
  {
    name: 'RSA-PSS SHA-256',
    rootKey: ['-newkey', 'rsa:2048'],
    leafKey: ['-newkey', 'rsa:2048'],
    sign: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
  },
  {
    name: 'ECDSA P-256',
    rootKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    leafKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    sign: ['-sha256'],
  },
  {
    name: 'ECDSA P-384',
    rootKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    leafKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    sign: ['-sha384'],
  },
  {
    name: 'ECDSA P-521',
    rootKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'],
    leafKey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    sign: ['-sha512'],
  },
  { name: 'Ed25519', rootKey: ['-newkey', 'ed25519'], leafKey: ['-newkey', 'ed25519'], sign: [] },
];

const ROOT_EXT = [
  '-addext',
  'basicConstraints=critical,CA:TRUE',
  '-addext',
  'keyUsage=critical,keyCertSign,cRLSign',
];

const EXT = `[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

describe('verifyChain: Common Names under name constraints, and mutated input', () => {
  it('a Common Name used as host name (legacyCommonName) is checked against name constraints', async () => {
    const options = { ...base, intermediates: ncCA.pem, host: 'mail.example.com' };
    await assert.rejects(
      verifyChain(ncCNOnly.pem, options),
      (e: unknown) => e instanceof ChainError && e.details.reason === 'hostname-mismatch',
    );
    await assert.rejects(
      verifyChain(ncCNOnly.pem, { ...options, hostname: { legacyCommonName: true } }),
      (e: unknown) =>
        e instanceof ChainError &&
        e.code === 'ERR_CHAIN_NAME_CONSTRAINTS' &&
        e.details.name === 'mail.example.com',
    );
  });

  it('a mutated leaf is refused with a MailTlsError, never anything else (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: leaf.der.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const der = leaf.der.slice();
          der[at]! ^= x;
          const elapsed = cpuStopwatch();
          await verifyChain(der, base).then(
            () => assert.fail(`byte ${at} ^ ${x} still validates`),
            (e: unknown) => assert.ok(e instanceof MailTlsError, String(e)),
          );
          assert.ok(elapsed() < 1000, `${elapsed().toFixed(1)} ms of CPU`);
        },
      ),
      { numRuns: fuzzRuns(60) },
    );
  });

  it('reads the CRLs it is given; mutated CRLs fail with ERR_CHAIN_CRL only, fast (property)', async () => {
    const [crl] = readCRLs(crlRevoked.pem);
    assert.equal(crl?.revoked.get(leaf.cert.serialNumber)?.reason, 1);
    assert.equal(crl?.issuer.toString(), i2.cert.subject.toString());
    assert.equal(crl?.nextUpdate?.toISOString(), '2027-09-01T00:00:00.000Z');
    assert.throws(() => readCRLs(42), TypeError);
    fc.assert(
      fc.property(fc.nat({ max: crlRevoked.der.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const der = crlRevoked.der.slice();
        der[at]! ^= x;
        const elapsed = cpuStopwatch();
        try {
          readCRLs(der);
        } catch (e) {
          assert.ok(e instanceof ChainError && e.code === 'ERR_CHAIN_CRL', String(e));
        }
        assert.ok(elapsed() < 100, `${elapsed().toFixed(1)} ms of CPU`);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe('verifyChain: signature algorithms (chains made by openssl)', () => {
  const dir = new TempDir('mailtls-verify-');
  after(() => dir.cleanup());
  dir.write('ext.cnf', EXT);
  for (const algo of ALGOS)
    it(algo.name, async () => {
      const id = algo.name.replace(/\W+/g, '_');
      dir.openssl([
        'req',
        '-x509',
        ...algo.rootKey,
        '-nodes',
        '-keyout',
        `${id}-rk.pem`,
        '-subj',
        `/CN=${algo.name} Root`,
        '-days',
        '3650',
        ...ROOT_EXT,
        ...algo.sign,
        '-out',
        `${id}-root.pem`,
      ]);
      dir.openssl([
        'req',
        '-new',
        ...algo.leafKey,
        '-nodes',
        '-keyout',
        `${id}-lk.pem`,
        '-subj',
        '/CN=mail.example.com',
        '-out',
        `${id}.csr`,
      ]);
      dir.openssl([
        'x509',
        '-req',
        '-in',
        `${id}.csr`,
        '-CA',
        `${id}-root.pem`,
        '-CAkey',
        `${id}-rk.pem`,
        '-set_serial',
        '4242',
        '-days',
        '365',
        '-extfile',
        'ext.cnf',
        '-extensions',
        'leaf',
        ...algo.sign,
        '-out',
        `${id}-leaf.pem`,
      ]);
      const rootPEM = dir.text(`${id}-root.pem`);
      const leafPEM = dir.text(`${id}-leaf.pem`);
      assert.equal(
        opensslStatus(['verify', '-CAfile', dir.file(`${id}-root.pem`), dir.file(`${id}-leaf.pem`)]).ok,
        true,
      );
      const chain = await verifyChain(leafPEM, { roots: rootPEM, host: 'mail.example.com' });
      assert.equal(chain.certificates.length, 2);
      assert.equal(chain.signatureChecks, 1);
      // Flip one bit of the signature: mailtls and openssl both refuse.
      const der = Uint8Array.from(Buffer.from(leafPEM.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      der[der.length - 5]! ^= 0x01;
      const bad = encodePEM('CERTIFICATE', der);
      dir.write(`${id}-bad.pem`, bad);
      assert.equal(
        opensslStatus(['verify', '-CAfile', dir.file(`${id}-root.pem`), dir.file(`${id}-bad.pem`)]).ok,
        false,
      );
      await assert.rejects(
        verifyChain(bad, { roots: rootPEM }),
        (e: unknown) => e instanceof ChainError && e.code === 'ERR_CHAIN_SIGNATURE',
      );
    });

  it('SHA-1 signatures are refused as weak', async () => {
    dir.openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'sha1-rk.pem',
      '-subj',
      '/CN=SHA1 Root',
      '-days',
      '3650',
      ...ROOT_EXT,
      '-out',
      'sha1-root.pem',
    ]);
    dir.openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'sha1-lk.pem',
      '-subj',
      '/CN=mail.example.com',
      '-out',
      'sha1.csr',
    ]);
    dir.openssl([
      'x509',
      '-req',
      '-in',
      'sha1.csr',
      '-CA',
      'sha1-root.pem',
      '-CAkey',
      'sha1-rk.pem',
      '-set_serial',
      '77',
      '-days',
      '365',
      '-extfile',
      'ext.cnf',
      '-extensions',
      'leaf',
      '-sha1',
      '-out',
      'sha1-leaf.pem',
    ]);
    await assert.rejects(
      verifyChain(dir.text('sha1-leaf.pem'), { roots: dir.text('sha1-root.pem') }),
      (e: unknown) => e instanceof ChainError && e.details.reason === 'weak-signature',
    );
  });
});

describe('node/roots', () => {
  it('parses every root Node trusts, and each is acceptable as a trust anchor', () => {
    const roots = nodeRootCertificates();
    assert.equal(roots.length, rootCertificates.length);
    assert.equal(nodeRootCertificates(), roots, 'cached');
    assert.equal(nodeTrustStore(), nodeTrustStore());
    const refused = roots
      .filter((r) => profileFailure(r, 'anchor') !== undefined)
      .map((r) => r.subject.toString());
    assert.deepEqual(refused, []);
  });

  it('verifyChainWithNodeRoots uses them by default', async () => {
    await assert.rejects(
      verifyChainWithNodeRoots(leaf.pem, { intermediates: base.intermediates, at: AT }),
      (e: unknown) => e instanceof ChainError && e.code === 'ERR_CHAIN_UNKNOWN_ISSUER',
    );
    const chain = await verifyChainWithNodeRoots(leaf.pem, { ...base, roots: root.pem });
    assert.equal(chain.certificates.length, 4);
  });
});
