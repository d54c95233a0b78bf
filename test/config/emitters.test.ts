/**
 * The configuration emitters (mailtls/config): what they write for Postfix, Dovecot and Haraka from a
 * layout and settings, what they refuse, and that the real `postconf -n` and `doveconf -n` accept every
 * emitted configuration without a warning.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  encodeDovecotConfig,
  encodeHarakaTLSConfig,
  encodePostfixConfig,
  encodePostfixPolicyMap,
  encodePostfixSNIMap,
  type MailTLSSettings,
  type ServerTLSLayout,
} from '../../src/config/index.js';
import { isMailTlsError } from '../../src/index.js';
import { LEGACY_PORT_25_PROFILE, MODERN_PROFILE } from '../../src/tls/profile.js';
import { skipWithout } from '../helpers/peers.js';
import { dovecotBase, postfixBase, run, writePostfixConfig } from './servers.js';

const S = '/etc/mail/tls';
const layout: ServerTLSLayout = {
  store: S,
  certificates: [
    {
      domain: 'a.example.test',
      names: ['a.example.test', 'mail.a.example.test'],
      cert: `${S}/certs/a.example.test.crt`,
      key: `${S}/private/a.example.test.key`,
      keyType: 'rsa',
    },
    {
      domain: 'b.example.test',
      names: ['mail.b.example.test', '*.b.example.test'],
      cert: `${S}/certs/b.example.test.crt`,
      key: `${S}/private/b.example.test.key`,
      keyType: 'ec',
    },
  ],
};

/** The `name = value` settings of a configuration text (comments and blocks left out). */
function settingsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

describe('encodePostfixConfig', () => {
  const rows: { name: string; settings: MailTLSSettings; want: Record<string, string | undefined> }[] = [
    {
      name: 'defaults: opportunistic port 25, intermediate profile, outgoing may',
      settings: {},
      want: {
        smtpd_tls_chain_files: `${S}/private/a.example.test.key, ${S}/certs/a.example.test.crt`,
        tls_server_sni_maps: 'hash:/etc/postfix/mailtls-sni',
        smtpd_tls_security_level: 'may',
        smtpd_tls_auth_only: 'yes',
        smtpd_tls_protocols: '>=TLSv1.2',
        smtpd_tls_mandatory_protocols: '>=TLSv1.2',
        smtpd_tls_ciphers: 'high',
        tls_high_cipherlist:
          'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
        tls_medium_cipherlist: undefined,
        tls_preempt_cipherlist: 'yes',
        smtp_tls_security_level: 'may',
        smtp_tls_CApath: '/etc/ssl/certs',
        smtp_tls_policy_maps: undefined,
      },
    },
    {
      name: 'legacy port 25 profile, TLS required, verified outgoing with a policy table',
      settings: {
        smtp: 'required',
        smtpProfile: LEGACY_PORT_25_PROFILE,
        outgoing: 'verify',
        outgoingCAFile: '/etc/mail/roots.pem',
        outgoingPolicies: [
          { destination: '[127.0.0.1]:2525', level: 'secure', match: ['mail.example.test'] },
        ],
      },
      want: {
        smtpd_tls_security_level: 'encrypt',
        smtpd_tls_protocols: '>=TLSv1',
        smtpd_tls_mandatory_protocols: '>=TLSv1.2',
        smtpd_tls_ciphers: 'medium',
        smtp_tls_security_level: 'verify',
        smtp_tls_CAfile: '/etc/mail/roots.pem',
        smtp_tls_CApath: undefined,
        smtp_tls_policy_maps: 'hash:/etc/postfix/mailtls-tls-policy',
      },
    },
    {
      name: 'modern profile: TLS 1.3 only',
      settings: { profile: MODERN_PROFILE, clients: 'off', smtp: 'off' },
      want: { smtpd_tls_protocols: '>=TLSv1.3', smtpd_tls_security_level: 'none', smtpd_tls_auth_only: 'no' },
    },
  ];
  for (const row of rows)
    it(row.name, () => {
      const got = settingsOf(encodePostfixConfig(layout, row.settings));
      for (const [k, v] of Object.entries(row.want)) assert.equal(got.get(k), v, k);
    });

  it('a single certificate needs no SNI table', () => {
    const one = { certificates: [layout.certificates[0]!] };
    assert.equal(settingsOf(encodePostfixConfig(one)).get('tls_server_sni_maps'), undefined);
  });

  it('the default domain comes first', () => {
    const got = settingsOf(encodePostfixConfig({ ...layout, defaultDomain: 'b.example.test' }));
    assert.equal(
      got.get('smtpd_tls_chain_files'),
      `${S}/private/b.example.test.key, ${S}/certs/b.example.test.crt`,
    );
  });

  it('the SNI table lists every name, key first, a wildcard as .parent', () => {
    const lines = encodePostfixSNIMap(layout)
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(lines, [
      `a.example.test ${S}/private/a.example.test.key ${S}/certs/a.example.test.crt`,
      `mail.a.example.test ${S}/private/a.example.test.key ${S}/certs/a.example.test.crt`,
      `mail.b.example.test ${S}/private/b.example.test.key ${S}/certs/b.example.test.crt`,
      `.b.example.test ${S}/private/b.example.test.key ${S}/certs/b.example.test.crt`,
    ]);
  });

  it('the policy table has match= and servername= for an address, match= only for a name', () => {
    const lines = encodePostfixPolicyMap({
      outgoingPolicies: [
        { destination: '[127.0.0.1]:2525', level: 'secure', match: ['mail.example.test'] },
        { destination: 'example.net', level: 'secure', match: ['mx1.example.net', 'mx2.example.net'] },
        { destination: 'example.org', level: 'may' },
      ],
    })
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(lines, [
      '[127.0.0.1]:2525 secure match=mail.example.test servername=mail.example.test',
      'example.net secure match=mx1.example.net:mx2.example.net',
      'example.org may',
    ]);
  });

  const bad: { name: string; layout: ServerTLSLayout; settings?: MailTLSSettings; wantCode: string }[] = [
    { name: 'no certificate', layout: { certificates: [] }, wantCode: 'ERR_CONFIG_INVALID' },
    {
      name: 'a relative path',
      layout: { certificates: [{ domain: 'a.test', cert: 'certs/a.crt', key: '/k' }] },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'a path with a space',
      layout: { certificates: [{ domain: 'a.test', cert: '/my store/a.crt', key: '/k' }] },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'a line break (would inject a setting)',
      layout: { certificates: [{ domain: 'a.test', cert: '/a.crt\nrelayhost = evil', key: '/k' }] },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'a name that is not a host name',
      layout: { certificates: [{ domain: 'a.test', names: ['a b'], cert: '/a.crt', key: '/k' }] },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'an unknown default',
      layout: { ...layout, defaultDomain: 'c.example.test' },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'a bad next hop',
      layout,
      settings: { outgoingPolicies: [{ destination: 'a b', level: 'secure' }] },
      wantCode: 'ERR_CONFIG_INVALID',
    },
    {
      name: 'a weak profile',
      layout,
      settings: { profile: { ...MODERN_PROFILE, name: 'x', minVersion: 'TLSv1' } },
      wantCode: 'ERR_TLS_PROFILE',
    },
  ];
  for (const row of bad)
    it(`refuses ${row.name} (${row.wantCode}), in every emitter`, () => {
      for (const encode of [encodePostfixConfig, encodeDovecotConfig, encodeHarakaTLSConfig])
        assert.throws(
          () => encode(row.layout, row.settings ?? {}),
          (e: unknown) => isMailTlsError(e) && e.code === row.wantCode,
        );
    });
});

describe('encodeDovecotConfig and encodeHarakaTLSConfig', () => {
  it('Dovecot: ssl required, the default pair, one local_name block per other name, profile settings', () => {
    const text = encodeDovecotConfig(layout);
    const got = settingsOf(text);
    assert.equal(got.get('ssl'), 'required');
    assert.equal(got.get('ssl_cert'), `<${S}/certs/a.example.test.crt`);
    assert.equal(got.get('ssl_key'), `<${S}/private/a.example.test.key`);
    assert.equal(got.get('ssl_min_protocol'), 'TLSv1.2');
    assert.match(got.get('ssl_cipher_list') ?? '', /^ECDHE-ECDSA-AES128-GCM-SHA256:/);
    assert.equal(got.get('ssl_prefer_server_ciphers'), 'yes');
    const blocks = [
      ...text.matchAll(/^local_name (\S+) \{\n {2}ssl_cert = <(\S+)\n {2}ssl_key = <(\S+)\n\}$/gm),
    ].map((m) => [m[1], m[2], m[3]]);
    assert.deepEqual(blocks, [
      ['mail.a.example.test', `${S}/certs/a.example.test.crt`, `${S}/private/a.example.test.key`],
      ['mail.b.example.test', `${S}/certs/b.example.test.crt`, `${S}/private/b.example.test.key`],
      ['*.b.example.test', `${S}/certs/b.example.test.crt`, `${S}/private/b.example.test.key`],
    ]);
    assert.equal(settingsOf(encodeDovecotConfig(layout, { clients: 'offered' })).get('ssl'), 'yes');
  });

  it('Haraka: [main] key and cert, Node cipher list, minimum version', () => {
    const text = encodeHarakaTLSConfig(layout, { outgoing: 'secure' });
    const got = settingsOf(text.replace(/=/g, ' = '));
    assert.equal(got.get('key'), `${S}/private/a.example.test.key`);
    assert.equal(got.get('cert'), `${S}/certs/a.example.test.crt`);
    assert.match(got.get('ciphers') ?? '', /^TLS_AES_128_GCM_SHA256:.*ECDHE-RSA-CHACHA20-POLY1305$/);
    assert.equal(got.get('honorCipherOrder'), 'true');
    assert.match(text, /^\[outbound\]\nminVersion=TLSv1\.2\nrejectUnauthorized=true$/m);
    assert.match(text, /^\[main\]$/m);
  });
});

describe('the real servers accept the emitted configuration without warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-config-accept-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const variants: { name: string; settings: MailTLSSettings }[] = [
    { name: 'defaults', settings: {} },
    {
      name: 'legacy port 25, secure outgoing with a policy table',
      settings: {
        smtpProfile: LEGACY_PORT_25_PROFILE,
        outgoing: 'secure',
        outgoingCAFile: '/etc/ssl/certs/ca-certificates.crt',
        outgoingPolicies: [
          { destination: '[127.0.0.1]:2525', level: 'secure', match: ['mail.example.test'] },
        ],
      },
    },
    { name: 'modern, TLS required everywhere', settings: { profile: MODERN_PROFILE, smtp: 'required' } },
  ];

  for (const [i, v] of variants.entries())
    it(`postconf -n: ${v.name}`, async (t) => {
      if (skipWithout(t, 'postfix')) return;
      const base = join(dir, `postfix-${i}`);
      mkdirSync(base);
      const emitted = encodePostfixConfig(layout, v.settings);
      const conf = writePostfixConfig(base, postfixBase(base) + emitted, 2525);
      const r = await run('postconf', ['-c', conf, '-n']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '', 'postconf printed warnings');
      const shown = settingsOf(r.out);
      for (const [k, value] of settingsOf(emitted)) assert.equal(shown.get(k), value, k);
    });

  for (const [i, v] of variants.entries())
    it(`doveconf -n: ${v.name}`, async (t) => {
      if (skipWithout(t, 'dovecot')) return;
      const conf = join(dir, `dovecot-${i}.conf`);
      const emitted = encodeDovecotConfig(layout, v.settings);
      writeFileSync(conf, dovecotBase(dir, { imap: 1143, imaps: 1993, pop3: 1110, pop3s: 1995 }) + emitted);
      const r = await run('doveconf', ['-c', conf, '-n']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '', 'doveconf printed warnings');
      assert.equal((r.out.match(/^local_name /gm) ?? []).length, 3);
      // -n leaves out values equal to the defaults: ask for each emitted setting by name.
      const want = settingsOf(emitted);
      const keys = [...want.keys()].filter((k) => k !== 'ssl_cert' && k !== 'ssl_key');
      const values = await run('doveconf', ['-c', conf, ...keys]);
      assert.equal(values.err, '');
      assert.deepEqual(settingsOf(values.out), new Map(keys.map((k) => [k, want.get(k)])));
    });
});
