// TLS settings per domain on one port, seen by real clients (openssl s_client and node:tls):
// - on a peeking server with createSettingsContextSource, two domains with different profiles get different
//   minimum versions on the same port, a domain that turns the service off is refused, a client without SNI
//   gets the defaults, and a new settings revision applies to the next handshake;
// - on node's own SNI path the context handed to SNICallback cannot raise the version (OpenSSL chose it before
//   the callback): the per-listener rule of listenerTLSProfile, documented in mailtls/settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import type { MailTlsError } from '../../src/errors.js';
import { createPeekingTLSServer, tlsServerOptions } from '../../src/node/tls/servers.js';
import { createSettingsContextSource, settingsForServedName } from '../../src/node/tls/settings-source.js';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { listenerTLSProfile, type TLSSettings, validateTLSSettings } from '../../src/settings/index.js';
import { getTLSProfile } from '../../src/tls/profile.js';
import { skipWithout } from '../helpers/peers.js';
import { runNodeClient, runOpenSSL } from './helpers/clients.js';
import { withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const pki = testPKI();
const STRICT = 'mail.strict.example.test';
const OPEN = 'mail.open.example.test';
const OFF = 'mail.off.example.test';
const leaves = {
  strict: pki.leaf([STRICT], { keyType: 'ec' }),
  open: pki.leaf([OPEN], { keyType: 'ec' }),
  off: pki.leaf([OFF], { keyType: 'ec' }),
};

function settingsWith(strictProfile: 'modern' | 'intermediate'): TLSSettings {
  return validateTLSSettings({
    format: 1,
    revision: 1,
    domains: {
      'strict.example.test': { services: { imaps: { profile: strictProfile } } },
      'open.example.test': { services: { imaps: { profile: 'intermediate' } } },
      'off.example.test': { services: { imaps: { enabled: false } } },
    },
  });
}

/** One registry per profile, each serving every name (the default is the open domain's certificate). */
function registries() {
  const make = (profile: 'intermediate' | 'modern') => {
    const r = createSNIRegistry(leaves.open.credential, { profile: getTLSProfile(profile) });
    r.add(STRICT, leaves.strict.credential);
    r.add(OPEN, leaves.open.credential);
    r.add(OFF, leaves.off.credential);
    return r;
  };
  return { intermediate: make('intermediate'), modern: make('modern') };
}

describe('TLS settings per domain on one listener', () => {
  it('the settings domain of a served name: own entry, closest parent, then the defaults', () => {
    const s = settingsWith('modern');
    assert.equal(settingsForServedName(s, 'Mail.Strict.Example.Test.').services.imaps.profile, 'modern');
    assert.equal(settingsForServedName(s, 'strict.example.test').services.imaps.profile, 'modern');
    assert.equal(settingsForServedName(s, 'other.example.test').services.imaps.profile, 'intermediate');
    assert.equal(settingsForServedName(s, OFF).services.imaps.enabled, false);
    // The per-listener rule: the loosest profile of the domains that serve imaps.
    assert.equal(listenerTLSProfile(s, 'imaps'), 'intermediate');
    assert.equal(listenerTLSProfile(s, 'smtp'), 'legacy-port-25');
    const none = validateTLSSettings({ format: 1, defaults: { services: { pop3: { enabled: false } } } });
    assert.equal(listenerTLSProfile(none, 'pop3'), undefined);
  });

  it('a peeking server: TLS 1.2 is refused for the modern domain and served for the other, on one port', async (t) => {
    if (skipWithout(t, 'openssl')) return;
    let settings = settingsWith('modern');
    const source = createSettingsContextSource({
      service: 'imaps',
      settings: () => settings,
      registries: registries(),
    });
    const refused: string[] = [];
    const server = createPeekingTLSServer(source, { timeoutMs: 30_000 }, (socket) => socket.end('* OK\r\n'));
    server.on('tlsClientError', (e: MailTlsError) => refused.push(e.code));
    await withServer(server, async (port) => {
      const o = (host: string, version: '1.2' | '1.3') => ({ port, host, version, verify: false });
      const [strict12, strict13, open12, off13, strictNode12, openNode12, noSNI12] = await Promise.all([
        runOpenSSL(o(STRICT, '1.2')),
        runOpenSSL(o(STRICT, '1.3')),
        runOpenSSL(o(OPEN, '1.2')),
        runOpenSSL(o(OFF, '1.3')),
        runNodeClient(o(STRICT, '1.2')),
        runNodeClient(o(OPEN, '1.2')),
        runNodeClient({ ...o(STRICT, '1.2'), sni: false }),
      ]);
      assert.equal(strict12.ok, false, `openssl -tls1_2 to the modern domain: ${strict12.output}`);
      assert.match(strict12.output, /protocol version|alert/i);
      assert.equal(strict13.ok, true, strict13.output);
      assert.equal(strict13.fingerprint, leaves.strict.fingerprint256);
      assert.equal(open12.ok, true, open12.output);
      assert.equal(open12.fingerprint, leaves.open.fingerprint256);
      assert.equal(strictNode12.ok, false, strictNode12.output);
      assert.equal(openNode12.ok, true, openNode12.output);
      assert.equal(openNode12.output, 'TLSv1.2');
      // No SNI: the defaults (intermediate) and the default certificate.
      assert.equal(noSNI12.ok, true, noSNI12.output);
      assert.equal(noSNI12.fingerprint, leaves.open.fingerprint256);
      // The domain that turned imaps off is refused before any certificate is sent.
      assert.equal(off13.ok, false);
      assert.equal(off13.fingerprint, undefined);
      assert.ok(refused.includes('ERR_TLS_SERVICE_DISABLED'), refused.join(' '));

      // A new revision applies to the next handshake, on the same listener.
      settings = settingsWith('intermediate');
      const after = await runOpenSSL(o(STRICT, '1.2'));
      assert.equal(after.ok, true, after.output);
      assert.equal(after.fingerprint, leaves.strict.fingerprint256);
    });
  });

  it("node's SNI path: the listener's version wins even when SNICallback hands over a modern context", async () => {
    const regs = registries();
    const source = createSettingsContextSource({
      service: 'imaps',
      settings: settingsWith('modern'),
      registries: regs,
    });
    const seen: string[] = [];
    const server = tls.createServer(
      {
        ...tlsServerOptions(regs.intermediate),
        SNICallback: (name, cb) => {
          source.resolve(name).then(
            (r) => {
              seen.push(`${name} ${r.credential === leaves.strict.credential ? 'strict' : 'other'}`);
              cb(null, r.context);
            },
            (e: Error) => cb(e),
          );
        },
      },
      (socket) => socket.end(),
    );
    await withServer(server, async (port) => {
      const r = await runNodeClient({ port, host: STRICT, version: '1.2', verify: false });
      // The modern domain's certificate, yet TLS 1.2: only the certificate follows the name on this path.
      assert.equal(r.ok, true, r.output);
      assert.equal(r.output, 'TLSv1.2');
      assert.equal(r.fingerprint, leaves.strict.fingerprint256);
      assert.deepEqual(seen, [`${STRICT} strict`]);
    });
  });
});
