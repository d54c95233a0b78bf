/**
 * The store's install planner without a disk: every row gives the install's arguments and the keys the
 * store holds (in memory), and wants a decision (key source, name, chain) or an error code. The store root
 * named in the context does not exist: a planner that touched the file system would fail here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createTrustStore, type TrustStore } from '../../src/chain/verify-chain.js';
import { MailTlsError } from '../../src/errors.js';
import type { PrivateKey } from '../../src/keys/keys.js';
import { encodePrivateKeyPEM } from '../../src/keys/private-key.js';
import { type StoreName, storeName } from '../../src/node/store/layout.js';
import {
  type InstallOptions,
  type InstallPlan,
  type KeySource,
  planInstall,
  type StoredKeyFile,
  type StoredKeys,
} from '../../src/node/store/plan.js';
import { createPKCS12 } from '../../src/pkcs12/pkcs12.js';
import { repoRoot } from '../helpers/paths.js';
import { AT, issueLeaf, type TestCA, type TestLeafCert, testCA } from './helpers/store-fixtures.js';

const ROOT = '/nonexistent/mailtls-plan-test';
const PENDING = `${ROOT}/private/pending/example.com.key`;
const CURRENT = `${ROOT}/history/example.com/v000001-20270101T000000Z/private.key`;
const HANDPLACED = `${ROOT}/private/example.com.key`;

let ca: TestCA;
let roots: TrustStore;
/** example.com and its mail names, issued by the test CA. */
let leaf: TestLeafCert;
/** Another certificate for the same names with its own key. */
let other: TestLeafCert;
/** A certificate whose Common Name is mail.example.com (its CSR filed under example.com). */
let mailLeaf: TestLeafCert;
let expired: TestLeafCert;
let pfx: Uint8Array;
let encryptedKeyPEM: string;

before(async () => {
  ca = await testCA();
  roots = createTrustStore(ca.rootPEM);
  leaf = await issueLeaf(['example.com', 'mail.example.com']);
  other = await issueLeaf(['example.com', 'mail.example.com']);
  mailLeaf = await issueLeaf(['mail.example.com', 'example.com']);
  expired = await issueLeaf(['example.com'], {
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2021-01-01T00:00:00Z'),
  });
  pfx = await createPKCS12({
    key: leaf.key,
    certificates: [leaf.certPEM, ca.intermediatePEM],
    password: 'pw',
    iterations: 1000,
  });
  encryptedKeyPEM = await encodePrivateKeyPEM(leaf.key, { passphrase: 'secret', iterations: 1000 });
});

/** Keys held by the store, in memory; records which questions the planner asked. */
function held(
  own: readonly StoredKeyFile[] = [],
  others: readonly (StoredKeyFile & { name: StoreName })[] = [],
): StoredKeys & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    forName: (name) => {
      asked.push(`forName ${name.domain}`);
      return own;
    },
    otherPending: async (name) => {
      asked.push(`otherPending ${name.domain}`);
      return others;
    },
  };
}

const pending = (text: string, path = PENDING): StoredKeyFile => ({ text, path, source: 'pending' });
const current = (text: string): StoredKeyFile => ({ text, path: CURRENT, source: 'current' });

function plan(options: InstallOptions, keys: StoredKeys = held()): Promise<InstallPlan> {
  return planInstall(options, { root: ROOT, at: AT, roots }, keys);
}

interface Row {
  name: string;
  input: () => { options: InstallOptions; keys?: StoredKeys & { asked: string[] } };
  want?: {
    domain?: string;
    keySource?: KeySource;
    consumedKey?: string | undefined;
    chainComplete?: boolean;
    chainLength?: number;
    warnings?: readonly string[];
    caBundle?: 'none' | 'kept';
    asked?: readonly string[];
  };
  wantCode?: string;
  wantError?: RegExp;
  wantType?: typeof TypeError;
}

const rows: Row[] = [
  // where the key comes from
  {
    name: 'key given as PEM, chain from the bundle',
    input: () => ({
      options: { cert: leaf.certPEM, caBundle: ca.bundlePEM, key: leaf.keyPEM },
      keys: held(),
    }),
    want: {
      domain: 'example.com',
      keySource: 'given',
      chainComplete: true,
      chainLength: 2,
      warnings: [],
      caBundle: 'kept',
      asked: [],
    },
  },
  {
    name: 'key given as a PrivateKey',
    input: () => ({ options: { cert: leaf.chainPEM, key: leaf.key } }),
    want: { keySource: 'given', chainComplete: true, chainLength: 2, caBundle: 'none' },
  },
  {
    name: 'key in the certificate file',
    input: () => ({ options: { cert: leaf.keyPEM + leaf.chainPEM } }),
    want: { keySource: 'cert-file', chainComplete: true },
  },
  {
    name: 'a given key wins over the stored ones, which are not asked for',
    input: () => ({
      options: { cert: leaf.chainPEM, key: leaf.keyPEM },
      keys: held([pending(other.keyPEM)]),
    }),
    want: { keySource: 'given', asked: [] },
  },
  {
    name: 'pending CSR key: used and consumed',
    input: () => ({ options: { cert: leaf.chainPEM }, keys: held([pending(leaf.keyPEM)]) }),
    want: { keySource: 'pending', consumedKey: PENDING, asked: ['forName example.com'] },
  },
  {
    name: 'key in service (a renewal that keeps the key): not consumed',
    input: () => ({ options: { cert: leaf.chainPEM }, keys: held([current(leaf.keyPEM)]) }),
    want: { keySource: 'current', consumedKey: undefined },
  },
  {
    name: 'pending key of another CSR and the current key: the matching one is taken',
    input: () => ({
      options: { cert: leaf.chainPEM },
      keys: held([pending(other.keyPEM), current(leaf.keyPEM)]),
    }),
    want: { keySource: 'current', consumedKey: undefined },
  },
  {
    name: 'hand-placed key',
    input: () => ({
      options: { cert: leaf.chainPEM },
      keys: held([{ text: leaf.keyPEM, path: HANDPLACED, source: 'unmanaged' }]),
    }),
    want: { keySource: 'unmanaged' },
  },
  {
    name: 'an unreadable stored key is passed over',
    input: () => ({
      options: { cert: leaf.chainPEM },
      keys: held([pending('garbage'), current(leaf.keyPEM)]),
    }),
    want: { keySource: 'current' },
  },
  {
    name: 'CSR filed under the bare domain, certificate named mail.example.com: filed under example.com',
    input: () => ({
      options: { cert: mailLeaf.chainPEM },
      keys: held([], [{ ...pending(mailLeaf.keyPEM), name: storeName('example.com') }]),
    }),
    want: {
      domain: 'example.com',
      keySource: 'pending',
      consumedKey: PENDING,
      asked: ['forName mail.example.com', 'otherPending mail.example.com'],
    },
  },
  {
    name: 'with a domain given, other names are not searched',
    input: () => ({
      options: { cert: mailLeaf.chainPEM, domain: 'mail.example.com' },
      keys: held([], [{ ...pending(mailLeaf.keyPEM), name: storeName('example.com') }]),
    }),
    wantCode: 'ERR_STORE_INSTALL',
  },
  {
    name: 'encrypted key given with its passphrase: kept encrypted, with a warning',
    input: () => ({ options: { cert: leaf.chainPEM, key: encryptedKeyPEM, passphrase: 'secret' } }),
    want: { keySource: 'given', warnings: ['KEY_ENCRYPTED'] },
  },
  {
    name: 'PKCS#12 with key and chain',
    input: () => ({ options: { pkcs12: pfx, password: 'pw' } }),
    want: { keySource: 'pkcs12', chainComplete: true, chainLength: 2 },
  },
  // mismatches and missing keys
  {
    name: 'given key does not belong to the certificate',
    input: () => ({ options: { cert: leaf.chainPEM, key: other.keyPEM } }),
    wantCode: 'ERR_KEY_MISMATCH',
    wantError: /^The key given \(key\) does not belong/,
  },
  {
    name: 'stored key does not belong to the certificate: the message names its file',
    input: () => ({ options: { cert: leaf.chainPEM }, keys: held([pending(other.keyPEM)]) }),
    wantCode: 'ERR_KEY_MISMATCH',
    wantError: /private\/pending\/example\.com\.key/,
  },
  {
    name: 'no key anywhere',
    input: () => ({ options: { cert: leaf.chainPEM } }),
    wantCode: 'ERR_STORE_INSTALL',
    wantError: /No private key for example\.com.*private\/pending\/example\.com\.key/,
  },
  {
    name: 'stored key encrypted, no passphrase: the message names its file',
    input: () => ({ options: { cert: leaf.chainPEM }, keys: held([pending(encryptedKeyPEM)]) }),
    wantCode: 'ERR_KEY_ENCRYPTED',
    wantError: /private\/pending\/example\.com\.key/,
  },
  {
    name: 'PKCS#12 with a wrong password',
    input: () => ({ options: { pkcs12: pfx, password: 'wrong' } }),
    wantCode: 'ERR_PKCS12_PASSWORD',
  },
  {
    name: 'key and pkcs12 together',
    input: () => ({ options: { pkcs12: pfx, password: 'pw', key: leaf.keyPEM } }),
    wantType: TypeError,
  },
  {
    name: 'no certificate',
    input: () => ({ options: { key: leaf.keyPEM } }),
    wantCode: 'ERR_STORE_INSTALL',
  },
  // names and dates
  {
    name: 'certificate does not cover the domain given',
    input: () => ({ options: { cert: leaf.chainPEM, key: leaf.keyPEM, domain: 'example.org' } }),
    wantCode: 'ERR_HOSTNAME_MISMATCH',
  },
  {
    name: 'expired leaf',
    input: () => ({ options: { cert: expired.chainPEM, key: expired.keyPEM } }),
    wantCode: 'ERR_CHAIN_EXPIRED',
  },
  {
    name: 'expired leaf with allowExpired: a warning',
    input: () => ({ options: { cert: expired.chainPEM, key: expired.keyPEM, allowExpired: true } }),
    want: { warnings: ['EXPIRED'] },
  },
  // chain problems and the CA bundle
  {
    name: 'leaf alone: chain incomplete is a warning',
    input: () => ({ options: { cert: leaf.certPEM, key: leaf.keyPEM } }),
    want: { chainComplete: false, chainLength: 1, warnings: ['CHAIN_INCOMPLETE'] },
  },
  {
    name: 'leaf alone with requireCompleteChain: refused',
    input: () => ({ options: { cert: leaf.certPEM, key: leaf.keyPEM, requireCompleteChain: true } }),
    wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
  },
  {
    name: 'empty caBundle means no bundle',
    input: () => ({ options: { cert: leaf.chainPEM, key: leaf.keyPEM, caBundle: '' } }),
    want: { chainComplete: true, caBundle: 'none', warnings: [] },
  },
  {
    name: 'blank caBundle bytes mean no bundle',
    input: () => ({
      options: { cert: leaf.chainPEM, key: leaf.keyPEM, caBundle: new TextEncoder().encode(' \n\t\n') },
    }),
    want: { caBundle: 'none' },
  },
  {
    name: 'caBundle that is not certificates: the error names the argument',
    input: () => ({ options: { cert: leaf.certPEM, key: leaf.keyPEM, caBundle: 'not a bundle' } }),
    wantError: /^caBundle \(the CA bundle\): /,
  },
];

describe('planInstall (no disk)', () => {
  for (const row of rows)
    it(row.name, async () => {
      const { options, keys = held() } = row.input();
      if (row.want === undefined) {
        await assert.rejects(plan(options, keys), (e: unknown) => {
          if (row.wantType !== undefined) assert.ok(e instanceof row.wantType, String(e));
          else assert.ok(e instanceof MailTlsError, String(e));
          if (row.wantCode !== undefined) assert.equal((e as MailTlsError).code, row.wantCode);
          if (row.wantError !== undefined) assert.match((e as Error).message, row.wantError);
          return true;
        });
        return;
      }
      const p = await plan(options, keys);
      const w = row.want;
      assert.ok(p.paths.cert.startsWith(ROOT));
      assert.equal(p.leaf.dnsNames.length > 0, true);
      if (w.domain !== undefined) assert.equal(p.name.domain, w.domain);
      if (w.keySource !== undefined) assert.equal(p.keySource, w.keySource);
      if ('consumedKey' in w) assert.equal(p.consumedKey, w.consumedKey);
      if (w.chainComplete !== undefined) assert.equal(p.chainComplete, w.chainComplete);
      if (w.chainLength !== undefined) assert.equal(p.chain.length, w.chainLength);
      if (w.warnings !== undefined)
        assert.deepEqual(
          p.warnings.map((x) => x.code),
          w.warnings,
        );
      if (w.caBundle !== undefined) assert.equal(p.caBundle === undefined ? 'none' : 'kept', w.caBundle);
      if (w.asked !== undefined) assert.deepEqual(keys.asked, w.asked);
      // The key to store belongs to the chosen certificate, and a given PEM key is stored as given.
      assert.match(p.keyText, /PRIVATE KEY-----/);
      if (typeof options.key === 'string') assert.equal(p.keyText, options.key);
    });

  it('the planner module reads no files (imports no node:fs)', () => {
    const text = readFileSync(join(repoRoot, 'src', 'node', 'store', 'plan.ts'), 'utf8');
    assert.doesNotMatch(text, /from ['"](node:)?fs(\/promises)?['"]/);
  });

  it('a key made for the certificate is stored as PEM even when given parsed', async () => {
    const p = await plan({ cert: leaf.chainPEM, key: leaf.key as PrivateKey });
    assert.equal(p.keyText, await encodePrivateKeyPEM(leaf.key));
  });
});
