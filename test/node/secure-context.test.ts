// createServerContext with real handshakes (openssl s_client and gnutls-cli): profile versions and suites,
// server cipher preference and refused renegotiation, each contrasted with plain tls.createSecureContext;
// profiles cross-checked with `openssl ciphers`; credential errors and summaries against `openssl x509`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { isMailTlsError } from '../../src/errors.js';
import {
  createServerContext,
  profileContextOptions,
  summarizeCredential,
} from '../../src/node/tls/secure-context.js';
import {
  INTERMEDIATE_PROFILE,
  LEGACY_PORT_25_PROFILE,
  MODERN_PROFILE,
  type TLSProfile,
} from '../../src/tls/profile.js';
import { skipWithout } from '../helpers/peers.js';
import { runGnuTLS, runOpenSSL } from './helpers/clients.js';
import { withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const H = 'mail.example.test';
const rsa = pki.leaf([H], { keyType: 'rsa' });
const ec = pki.leaf([H], { keyType: 'ec' });
const ed = pki.leaf([H], { keyType: 'ed25519' });

/** A server whose every connection uses one context; echoes lines. */
function contextServer(secureContext: tls.SecureContext): net.Server {
  return net.createServer((raw) => {
    raw.on('error', () => {});
    const s = new tls.TLSSocket(raw, { isServer: true, secureContext });
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(`echo ${d.toString()}`));
  });
}

function cipherOf(output: string): string | undefined {
  return /Cipher is (\S+)/.exec(output)?.[1];
}

function protocolOf(output: string): string | undefined {
  // "Protocol  :" of the session block; TLS 1.3 sessions arrive later, so also "New, TLSv1.3, Cipher is".
  return /^\s*Protocol\s*:\s*(\S+)/m.exec(output)?.[1] ?? /New, (TLSv1\.3), Cipher/.exec(output)?.[1];
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('profiles cross-checked with openssl ciphers', () => {
  const rows: { name: string; input: TLSProfile; want: { cbc: boolean } }[] = [
    { name: 'intermediate', input: INTERMEDIATE_PROFILE, want: { cbc: false } },
    { name: 'legacy-port-25', input: LEGACY_PORT_25_PROFILE, want: { cbc: true } },
  ];
  for (const row of rows) {
    it(`${row.name}: every suite is known to OpenSSL, ECDHE or RSA key exchange, no RC4/3DES/DHE`, () => {
      const suites =
        row.input.ciphers.join(':') +
        (row.input.securityLevel === 1 ? '' : `:@SECLEVEL=${row.input.securityLevel}`);
      const lines = openssl(['ciphers', '-v', '-s', '-tls1_2', suites]).trim().split('\n');
      assert.equal(lines.length, row.input.ciphers.length, 'OpenSSL knows every name');
      for (const line of lines) {
        const [name, , kx, , enc] = line.trim().split(/\s+/);
        assert.ok(row.input.ciphers.includes(name!), name);
        assert.match(kx!, /^Kx=(ECDH|RSA)$/, line);
        assert.doesNotMatch(enc!, /RC4|3DES|DES|NULL/, line);
        if (!row.want.cbc) assert.match(enc!, /^Enc=(AESGCM|CHACHA20\/POLY1305)/, line);
      }
      // OpenSSL lists them in the profile's order (server preference order).
      assert.deepEqual(
        lines.map((l) => l.trim().split(/\s+/)[0]),
        [...row.input.ciphers],
      );
    });
  }
  it('TLS 1.3 suites are the three AEAD suites', () => {
    const out = openssl([
      'ciphers',
      '-v',
      '-s',
      '-tls1_3',
      '-ciphersuites',
      MODERN_PROFILE.cipherSuites.join(':'),
    ]);
    const names = out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0]);
    assert.deepEqual(names, [
      'TLS_AES_128_GCM_SHA256',
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
    ]);
  });
  it('profileContextOptions maps versions, suites, groups and options', () => {
    const o = profileContextOptions(INTERMEDIATE_PROFILE);
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.maxVersion, 'TLSv1.3');
    assert.equal(o.honorCipherOrder, true);
    assert.ok(
      o.ciphers.startsWith(
        'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-',
      ),
    );
    assert.equal(o.ecdhCurve, 'X25519:prime256v1:secp384r1');
    const { SSL_OP_NO_RENEGOTIATION, SSL_OP_NO_SSLv3 } = cryptoConstants;
    assert.equal(o.secureOptions & SSL_OP_NO_RENEGOTIATION, SSL_OP_NO_RENEGOTIATION);
    assert.equal(o.secureOptions & SSL_OP_NO_SSLv3, SSL_OP_NO_SSLv3);
    assert.match(profileContextOptions(LEGACY_PORT_25_PROFILE).ciphers, /:@SECLEVEL=0$/);
  });
});

describe('createServerContext in real handshakes', () => {
  const twoSuites = ['-cipher', 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256'];

  it('server cipher preference: ours picks AES-128-GCM; plain createSecureContext follows the client (ChaCha20)', async () => {
    const ours = await withServer(contextServer(createServerContext(rsa.credential)), (port) =>
      runOpenSSL({ port, host: H, version: '1.2', verify: false, args: twoSuites }),
    );
    const plain = await withServer(contextServer(tls.createSecureContext(rsa.credential)), (port) =>
      runOpenSSL({ port, host: H, version: '1.2', verify: false, args: twoSuites }),
    );
    assert.equal(cipherOf(ours.output), 'ECDHE-RSA-AES128-GCM-SHA256');
    assert.equal(cipherOf(plain.output), 'ECDHE-RSA-CHACHA20-POLY1305');
  });

  it('client-initiated renegotiation is refused ("no renegotiation"); plain createSecureContext accepts it', async () => {
    // s_client renegotiates on a line "R" (read on its own); a refused renegotiation ends the session before
    // "after" is echoed. Each line is sent once s_client has shown what the previous step did, not on a clock.
    const drive = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2']);
        child.on('error', reject);
        let out = '';
        let closed = false;
        const waiting: (() => boolean)[] = [];
        const progress = (): void => {
          for (const w of [...waiting]) if (w()) waiting.splice(waiting.indexOf(w), 1);
        };
        /** Resolves when the output matches, or when s_client has ended. */
        const until = (test: (text: string) => boolean): Promise<void> =>
          new Promise((done) => {
            const w = (): boolean => {
              if (!closed && !test(out)) return false;
              done();
              return true;
            };
            if (!w()) waiting.push(w);
          });
        const collect = (d: Buffer): void => {
          out += d;
          progress();
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.stdin.on('error', () => {}); // s_client gone: the session ended
        // only turns a hang into a failure (the assertions below then fail): far above any plausible run
        const safety = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.on('close', () => {
          closed = true;
          clearTimeout(safety);
          progress();
          resolve(out);
        });
        void (async () => {
          await until((t) => /SSL-Session:[\s\S]*\n---\n/.test(t));
          child.stdin.write('hello\n');
          await until((t) => t.includes('echo hello'));
          child.stdin.write('R\n');
          // renegotiated (the server's certificate verified a second time) or refused
          await until((t) => t.split('depth=0').length > 2 || t.includes('no renegotiation'));
          if (!closed) child.stdin.write('after\n');
          await until((t) => t.includes('echo after'));
          child.stdin.end();
        })();
      });
    const ours = await withServer(contextServer(createServerContext(rsa.credential)), drive);
    const plain = await withServer(contextServer(tls.createSecureContext(rsa.credential)), drive);
    assert.match(ours, /echo hello/);
    assert.match(ours, /RENEGOTIATING/);
    assert.match(ours, /no renegotiation/);
    assert.doesNotMatch(ours, /echo after/);
    assert.match(plain, /RENEGOTIATING/);
    assert.match(plain, /echo after/, 'Node accepts client renegotiation unless told otherwise');
  });

  const versionRows: { name: string; profile: TLSProfile; args: string[]; want: string | null }[] = [
    { name: 'intermediate: TLS 1.3', profile: INTERMEDIATE_PROFILE, args: ['-tls1_3'], want: 'TLSv1.3' },
    { name: 'intermediate: TLS 1.2', profile: INTERMEDIATE_PROFILE, args: ['-tls1_2'], want: 'TLSv1.2' },
    {
      name: 'intermediate: TLS 1.1 refused',
      profile: INTERMEDIATE_PROFILE,
      args: ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
      want: null,
    },
    {
      name: 'intermediate: CBC refused',
      profile: INTERMEDIATE_PROFILE,
      args: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-SHA256'],
      want: null,
    },
    {
      name: 'intermediate: DHE refused',
      profile: INTERMEDIATE_PROFILE,
      args: ['-tls1_2', '-cipher', 'DHE-RSA-AES128-GCM-SHA256'],
      want: null,
    },
    {
      name: 'intermediate: static RSA key exchange refused',
      profile: INTERMEDIATE_PROFILE,
      args: ['-tls1_2', '-cipher', 'AES128-GCM-SHA256'],
      want: null,
    },
    { name: 'modern: TLS 1.2 refused', profile: MODERN_PROFILE, args: ['-tls1_2'], want: null },
    { name: 'modern: TLS 1.3', profile: MODERN_PROFILE, args: ['-tls1_3'], want: 'TLSv1.3' },
    {
      name: 'legacy-port-25: TLS 1.0 with CBC',
      profile: LEGACY_PORT_25_PROFILE,
      args: ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'],
      want: 'TLSv1',
    },
    {
      name: 'legacy-port-25: static RSA AES-CBC',
      profile: LEGACY_PORT_25_PROFILE,
      args: ['-tls1_2', '-cipher', 'AES128-SHA'],
      want: 'TLSv1.2',
    },
    {
      name: 'legacy-port-25: 3DES refused',
      profile: LEGACY_PORT_25_PROFILE,
      args: ['-tls1', '-cipher', 'DES-CBC3-SHA@SECLEVEL=0'],
      want: null,
    },
    {
      name: 'legacy-port-25: SSLv3 refused',
      profile: LEGACY_PORT_25_PROFILE,
      args: ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0', '-no_tls1'],
      want: null,
    },
  ];
  for (const row of versionRows) {
    it(row.name, async () => {
      const r = await withServer(contextServer(createServerContext(rsa.credential, row.profile)), (port) =>
        runOpenSSL({ port, host: H, verify: false, args: row.args }),
      );
      if (row.want === null) {
        assert.notEqual(r.code, 0, r.output.slice(-300));
        assert.equal(cipherOf(r.output) ?? '(NONE)', '(NONE)');
      } else {
        assert.equal(r.code, 0, r.output.slice(-300));
        assert.equal(protocolOf(r.output), row.want, r.output.slice(-300));
      }
    });
  }

  it('gnutls-cli agrees: intermediate refuses TLS 1.1 and accepts TLS 1.2 with an EC key', async (t) => {
    if (skipWithout(t, 'gnutls-cli')) return;
    await withServer(contextServer(createServerContext(ec.credential)), async (port) => {
      const old = await runGnuTLS({
        port,
        host: H,
        verify: false,
        args: ['--priority', 'NORMAL:-VERS-ALL:+VERS-TLS1.1'],
      });
      const ok = await runGnuTLS({ port, host: H, version: '1.2', caFile: pki.rootPath });
      assert.notEqual(old.code, 0);
      assert.equal(ok.code, 0, ok.output.slice(-300));
      assert.match(ok.output, /\(TLS1\.2-X\.509\)-\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(AES-128-GCM\)/);
    });
  });

  it('an Ed25519 credential is served with TLS 1.3', async () => {
    const r = await withServer(contextServer(createServerContext(ed.credential)), (port) =>
      runOpenSSL({ port, host: H, version: '1.3', caFile: pki.rootPath }),
    );
    assert.equal(r.code, 0, r.output.slice(-300));
    assert.equal(r.fingerprint, ed.fingerprint256);
  });
});

describe('createServerContext errors', () => {
  const encrypted = spawnSync(
    'openssl',
    ['pkey', '-in', rsa.keyPath, '-aes-256-cbc', '-passout', 'pass:secret-pass'],
    { encoding: 'utf8' },
  ).stdout;
  const ecSec1 = spawnSync('openssl', ['ec', '-in', ec.keyPath], { encoding: 'utf8' }).stdout;
  const rsaPkcs1 = spawnSync('openssl', ['rsa', '-in', rsa.keyPath, '-traditional'], {
    encoding: 'utf8',
  }).stdout;
  const rows: {
    name: string;
    input: { key: string; cert: string; passphrase?: string };
    wantCode: string;
    want: RegExp;
  }[] = [
    {
      name: 'key of another certificate',
      input: { key: ec.key, cert: rsa.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /does not belong to the certificate/,
    },
    {
      name: 'key of another certificate of the same type',
      input: { key: pki.leaf(['other.example.test'], { keyType: 'rsa' }).key, cert: rsa.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /does not belong to the certificate/,
    },
    {
      name: 'EC key in SEC1 form for an RSA certificate',
      input: { key: ecSec1, cert: rsa.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /does not belong to the certificate/,
    },
    {
      name: 'RSA key in PKCS#1 form for an EC certificate',
      input: { key: rsaPkcs1, cert: ec.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /does not belong to the certificate/,
    },
    {
      name: 'Ed25519 key for an EC certificate',
      input: { key: ed.key, cert: ec.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /does not belong to the certificate/,
    },
    {
      name: 'not a certificate',
      input: { key: rsa.key, cert: 'hello' },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /certificate chain could not be read/,
    },
    {
      name: 'not a key',
      input: { key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', cert: rsa.cert },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /private key could not be read/,
    },
    {
      name: 'encrypted key, wrong pass phrase',
      input: { key: encrypted, cert: rsa.cert, passphrase: 'wrong' },
      wantCode: 'ERR_TLS_CONTEXT',
      want: /private key could not be read/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(
        () => createServerContext(row.input),
        (e: unknown) => {
          assert.ok(isMailTlsError(e, row.wantCode as 'ERR_TLS_CONTEXT'), String(e));
          assert.match((e as Error).message, row.want);
          const text = `${(e as Error).message} ${JSON.stringify(e)} ${String(e)}`;
          assert.doesNotMatch(text, /PRIVATE KEY|MII[A-Za-z0-9+/]{20}/, 'no key material in the error');
          return true;
        },
      );
    });
  }
  it('an encrypted key with its pass phrase works; SEC1 and PKCS#1 keys work', () => {
    assert.ok(createServerContext({ key: encrypted, cert: rsa.cert, passphrase: 'secret-pass' }));
    assert.match(ecSec1, /BEGIN EC PRIVATE KEY/);
    assert.match(rsaPkcs1, /BEGIN RSA PRIVATE KEY/);
    assert.ok(createServerContext({ key: ecSec1, cert: ec.cert }));
    assert.ok(createServerContext({ key: rsaPkcs1, cert: rsa.cert }));
  });
  it('wrong argument types are TypeErrors', () => {
    assert.throws(() => createServerContext(null as never), TypeError);
    assert.throws(() => createServerContext({ key: 1, cert: 'x' } as never), TypeError);
  });
});

describe('summarizeCredential matches openssl x509', () => {
  for (const leaf of [rsa, ec, ed]) {
    it(leaf.keyType, () => {
      const s = summarizeCredential(leaf.credential);
      assert.equal(s.keyType, leaf.keyType);
      const fp = openssl(['x509', '-in', leaf.leafPath, '-noout', '-fingerprint', '-sha256']).trim();
      assert.equal(`sha256 Fingerprint=${s.fingerprint256}`, fp);
      const end = openssl(['x509', '-in', leaf.leafPath, '-noout', '-enddate'])
        .trim()
        .replace('notAfter=', '');
      assert.equal(s.notAfter.getTime(), new Date(end).getTime());
    });
  }
});

describe('scanners agree (sslscan, testssl.sh)', () => {
  function scan(lines: string, kind: 'Accepted|Preferred', version: string): string[] {
    const re = new RegExp(`^(?:${kind})\\s+TLSv${version.replace('.', '\\.')}\\s+\\d+ bits\\s+(\\S+)`, 'gm');
    return [...lines.matchAll(re)].map((m) => m[1]!);
  }
  const rows: { name: string; profile: TLSProfile; leaf: typeof rsa; protocols: string[] }[] = [
    {
      name: 'intermediate, RSA',
      profile: INTERMEDIATE_PROFILE,
      leaf: rsa,
      protocols: ['TLSv1.2', 'TLSv1.3'],
    },
    { name: 'intermediate, EC', profile: INTERMEDIATE_PROFILE, leaf: ec, protocols: ['TLSv1.2', 'TLSv1.3'] },
    { name: 'modern, RSA', profile: MODERN_PROFILE, leaf: rsa, protocols: ['TLSv1.3'] },
    {
      name: 'legacy-port-25, RSA',
      profile: LEGACY_PORT_25_PROFILE,
      leaf: rsa,
      protocols: ['TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
    },
  ];
  for (const row of rows) {
    it(`sslscan: ${row.name}: exactly the profile's protocols and suites, server order`, async (t) => {
      if (skipWithout(t, 'sslscan')) return;
      const out = await withServer(
        contextServer(createServerContext(row.leaf.credential, row.profile)),
        (port) =>
          new Promise<string>((resolve, reject) => {
            const child = spawn('sslscan', ['--no-colour', '--no-check-certificate', `127.0.0.1:${port}`]);
            child.on('error', reject);
            let text = '';
            child.stdout.on('data', (d: Buffer) => {
              text += d;
            });
            child.on('close', () => resolve(text));
          }),
      );
      const enabled = [...out.matchAll(/^(SSLv\d|TLSv1\.\d)\s+enabled/gm)].map((m) => m[1]);
      assert.deepEqual(enabled, row.protocols, out);
      assert.deepEqual(scan(out, 'Accepted|Preferred', '1.3'), [...row.profile.cipherSuites]);
      // TLS 1.2 suites usable with this key type, in the profile's order (the server's preference).
      const auth =
        row.leaf.keyType === 'rsa' ? (c: string) => !c.includes('ECDSA') : (c: string) => c.includes('ECDSA');
      assert.deepEqual(scan(out, 'Accepted|Preferred', '1.2'), row.profile.ciphers.filter(auth));
      assert.doesNotMatch(out, /RC4|DES-CBC3|NULL|EXP/);
    });
  }

  it('testssl.sh: server cipher order and no client-initiated renegotiation; node defaults flagged', async (t) => {
    if (skipWithout(t, 'testssl')) return;
    const testssl = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn('testssl', [
          '--quiet',
          '--color',
          '0',
          '--warnings',
          'off',
          '-P',
          '-R',
          `127.0.0.1:${port}`,
        ]);
        child.on('error', reject);
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d;
        });
        child.on('close', () => resolve(text));
      });
    const [ours, plain] = await Promise.all([
      withServer(contextServer(createServerContext(rsa.credential)), testssl),
      withServer(contextServer(tls.createSecureContext(rsa.credential)), testssl),
    ]);
    assert.match(ours, /Has server cipher order\?\s+yes \(OK\)/);
    assert.match(ours, /Secure Client-Initiated Renegotiation\s+not vulnerable \(OK\)/);
    assert.match(plain, /Has server cipher order\?\s+no \(NOT ok\)/);
    assert.match(
      plain,
      /Secure Client-Initiated Renegotiation\s+VULNERABLE \(NOT ok\), potential DoS threat/,
    );
  });
});
