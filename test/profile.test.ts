// TLS profiles as data: the built-in profiles' content, verifyTLSProfile's refusals, and the key-type ordering
// that makes node serve the SNI certificate (nodejs/node#54235). Real handshakes are in
// test/node/secure-context.test.ts and test/node/servers.test.ts; the suite names are cross-checked with
// `openssl ciphers` here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMailTlsError, TLSError } from '../src/errors.js';
import {
  getTLSProfile,
  INTERMEDIATE_PROFILE,
  type KeyType,
  LEGACY_PORT_25_PROFILE,
  MODERN_PROFILE,
  orderProfileForDefaultKeyType,
  TLS_PROFILES,
  type TLSProfile,
  verifyTLSProfile,
} from '../src/tls/profile.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? '') || 200;

describe('built-in profiles', () => {
  it('intermediate: TLS 1.2-1.3, ECDHE AEAD only, no CBC, no DHE', () => {
    const p = INTERMEDIATE_PROFILE;
    assert.equal(p.minVersion, 'TLSv1.2');
    assert.equal(p.maxVersion, 'TLSv1.3');
    for (const c of p.ciphers) {
      assert.match(c, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    }
    assert.equal(p.ciphers.length, 6);
    assert.deepEqual(
      [...p.cipherSuites],
      ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'],
    );
  });
  it('modern: TLS 1.3 only', () => {
    assert.equal(MODERN_PROFILE.minVersion, 'TLSv1.3');
    assert.equal(MODERN_PROFILE.ciphers.length, 0);
  });
  it('legacy-port-25: TLS 1.0+, CBC allowed, never RC4/3DES/DHE, security level 0', () => {
    const p = LEGACY_PORT_25_PROFILE;
    assert.equal(p.minVersion, 'TLSv1');
    assert.equal(p.securityLevel, 0);
    assert.ok(p.ciphers.some((c) => /-SHA$/.test(c)));
    for (const c of p.ciphers) assert.doesNotMatch(c, /RC4|DES|^DHE-|NULL|EXP/);
  });
  it('every profile sets server preference and refuses renegotiation, and passes verifyTLSProfile', () => {
    for (const p of Object.values(TLS_PROFILES)) {
      assert.equal(p.honorCipherOrder, true);
      assert.equal(p.disableRenegotiation, true);
      verifyTLSProfile(p);
      assert.ok(Object.isFrozen(p) && Object.isFrozen(p.ciphers));
    }
  });
  it('OpenSSL knows every TLS 1.2 suite and signature algorithm name', () => {
    for (const p of Object.values(TLS_PROFILES)) {
      if (p.ciphers.length === 0) continue;
      const r = spawnSync('openssl', ['ciphers', '-s', '-tls1_2', `${p.ciphers.join(':')}:@SECLEVEL=0`], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split(':'), [...p.ciphers]);
    }
  });
  it('getTLSProfile', () => {
    assert.equal(getTLSProfile('modern'), MODERN_PROFILE);
    assert.equal(getTLSProfile('legacy-port-25'), LEGACY_PORT_25_PROFILE);
    assert.throws(
      () => getTLSProfile('old'),
      (e: unknown) => isMailTlsError(e, 'ERR_TLS_PROFILE'),
    );
    assert.throws(
      () => getTLSProfile('toString'),
      (e: unknown) => isMailTlsError(e, 'ERR_TLS_PROFILE'),
    );
    assert.throws(() => getTLSProfile(1 as never), TypeError);
  });
});

describe('verifyTLSProfile refuses', () => {
  const base = INTERMEDIATE_PROFILE;
  const rows: { name: string; input: TLSProfile; wantCode: 'ERR_TLS_PROFILE'; want: RegExp }[] = [
    {
      name: 'TLS 1.0 outside legacy-port-25',
      input: { ...base, name: 'mine', minVersion: 'TLSv1' },
      wantCode: 'ERR_TLS_PROFILE',
      want: /only in the "legacy-port-25"/,
    },
    {
      name: 'SSLv3',
      input: { ...base, minVersion: 'SSLv3' as never },
      wantCode: 'ERR_TLS_PROFILE',
      want: /never SSLv3/,
    },
    {
      name: 'min above max',
      input: { ...base, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' },
      wantCode: 'ERR_TLS_PROFILE',
      want: /above/,
    },
    {
      name: 'RC4',
      input: { ...base, ciphers: ['ECDHE-RSA-RC4-SHA'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /insecure/,
    },
    {
      name: '3DES',
      input: { ...base, ciphers: ['DES-CBC3-SHA'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /insecure/,
    },
    {
      name: 'NULL',
      input: { ...base, ciphers: ['ECDHE-RSA-NULL-SHA'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /insecure/,
    },
    {
      name: 'anonymous',
      input: { ...base, ciphers: ['ADH-AES128-SHA'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /insecure/,
    },
    {
      name: 'cipher string syntax smuggled in',
      input: { ...base, ciphers: ['ALL:!aNULL'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /plain OpenSSL name/,
    },
    {
      name: 'TLS 1.3 suite among TLS 1.2 ciphers',
      input: { ...base, ciphers: ['TLS_AES_128_GCM_SHA256'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /cipherSuites/,
    },
    {
      name: 'TLS 1.2 cipher among TLS 1.3 suites',
      input: { ...base, cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256'] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /not a TLS 1.3 suite/,
    },
    {
      name: 'TLS 1.2 on with no ciphers',
      input: { ...base, ciphers: [] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /ciphers is empty/,
    },
    {
      name: 'TLS 1.3 on with no suites',
      input: { ...base, cipherSuites: [] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /cipherSuites is empty/,
    },
    {
      name: 'no groups',
      input: { ...base, groups: [] },
      wantCode: 'ERR_TLS_PROFILE',
      want: /groups is empty/,
    },
    {
      name: 'client preference',
      input: { ...base, honorCipherOrder: false as never },
      wantCode: 'ERR_TLS_PROFILE',
      want: /honorCipherOrder/,
    },
    {
      name: 'renegotiation on',
      input: { ...base, disableRenegotiation: false as never },
      wantCode: 'ERR_TLS_PROFILE',
      want: /disableRenegotiation/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(
        () => verifyTLSProfile(row.input),
        (e: unknown) => e instanceof TLSError && e.code === row.wantCode && row.want.test(e.message),
      );
    });
  }
  it('programmer mistakes are TypeErrors', () => {
    assert.throws(() => verifyTLSProfile(null as never), TypeError);
    assert.throws(() => verifyTLSProfile({ ...base, ciphers: 'x' as never }), TypeError);
  });
  it('never throws anything but TLSError or TypeError for mutated profiles', () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(undefined),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(base)), anyValue, (field, value) => {
        try {
          verifyTLSProfile({ ...base, [field]: value } as TLSProfile);
        } catch (e) {
          assert.ok(e instanceof TLSError || e instanceof TypeError, String(e));
        }
      }),
      { numRuns: runs },
    );
  });
});

describe('orderProfileForDefaultKeyType', () => {
  const family = (sigalg: string): string =>
    /^ecdsa/i.test(sigalg) ? 'ec' : sigalg === 'ed25519' ? 'ed25519' : /^rsa/i.test(sigalg) ? 'rsa' : 'other';
  const rows: {
    name: string;
    input: KeyType;
    want: { firstCipher: string; lastSigalgFamily: string };
  }[] = [
    {
      name: 'RSA default: ECDSA first',
      input: 'rsa',
      want: { firstCipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', lastSigalgFamily: 'rsa' },
    },
    {
      name: 'EC default: RSA first',
      input: 'ec',
      want: { firstCipher: 'ECDHE-RSA-AES128-GCM-SHA256', lastSigalgFamily: 'ec' },
    },
    {
      name: 'Ed25519 default: RSA first',
      input: 'ed25519',
      want: { firstCipher: 'ECDHE-RSA-AES128-GCM-SHA256', lastSigalgFamily: 'ed25519' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const p = orderProfileForDefaultKeyType(INTERMEDIATE_PROFILE, row.input);
      assert.equal(p.ciphers[0], row.want.firstCipher);
      assert.equal(family(p.signatureAlgorithms.at(-1)!), row.want.lastSigalgFamily);
      // The default's family comes after every other family.
      const fams = p.signatureAlgorithms.map(family);
      const firstDefault = fams.indexOf(row.input);
      assert.ok(fams.slice(firstDefault).every((f) => f === row.input));
      // Same members, order within a family kept.
      assert.deepEqual([...p.ciphers].sort(), [...INTERMEDIATE_PROFILE.ciphers].sort());
      for (const f of ['rsa', 'ec', 'ed25519']) {
        assert.deepEqual(
          p.signatureAlgorithms.filter((s) => family(s) === f),
          INTERMEDIATE_PROFILE.signatureAlgorithms.filter((s) => family(s) === f),
        );
      }
      verifyTLSProfile(p);
    });
  }
  it('keeps legacy SHA-1 algorithms and refuses an unknown key type', () => {
    const p = orderProfileForDefaultKeyType(LEGACY_PORT_25_PROFILE, 'ec');
    assert.ok(p.signatureAlgorithms.includes('ECDSA+SHA1'));
    assert.equal(p.signatureAlgorithms.at(-1), 'ECDSA+SHA1');
    assert.throws(() => orderProfileForDefaultKeyType(INTERMEDIATE_PROFILE, 'dsa' as never), RangeError);
  });
});
