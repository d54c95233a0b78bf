/**
 * TLS settings as data (src/settings) and their file in the store (src/node/settings): validation with typed
 * codes, defaults, per-domain resolution, the outgoing mapping, and atomic, versioned saves with conflicts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  listTLSSettingsRevisions,
  loadTLSSettings,
  loadTLSSettingsRevision,
  saveTLSSettings,
  tlsSettingsPaths,
  watchTLSSettings,
} from '../../src/node/index.js';
import {
  appendAdminAudit,
  hasAdminUsers,
  readAdminAudit,
  setAdminPassword,
  verifyAdminPassword,
} from '../../src/node/settings/index.js';
import {
  createDefaultTLSSettings,
  enabledServices,
  encodeTLSSettingsJSON,
  MAIL_SERVICES,
  outgoingTLSOptions,
  parseTLSSettingsJSON,
  resolveDomainTLSSettings,
  validateTLSSettings,
  withDomainTLSSettings,
} from '../../src/settings/index.js';

const bad = [
  { name: 'not an object', input: [], wantCode: 'ERR_SETTINGS_INVALID', path: '(top)' },
  { name: 'newer format', input: { format: 2 }, wantCode: 'ERR_SETTINGS_VERSION' },
  { name: 'format missing', input: {}, wantCode: 'ERR_SETTINGS_INVALID', path: 'format' },
  {
    name: 'negative revision',
    input: { format: 1, revision: -1 },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'revision',
  },
  {
    name: 'unknown top key',
    input: { format: 1, colour: 'red' },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: '(top).colour',
  },
  {
    name: 'unknown service',
    input: { format: 1, defaults: { services: { gopher: {} } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.gopher',
  },
  {
    name: 'bad STARTTLS policy',
    input: { format: 1, defaults: { services: { smtp: { starttls: 'maybe' } } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.smtp.starttls',
  },
  {
    name: 'starttls on an implicit port',
    input: { format: 1, defaults: { services: { imaps: { starttls: 'required' } } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.imaps.starttls',
  },
  {
    name: 'unknown profile',
    input: { format: 1, defaults: { services: { imaps: { profile: 'fast' } } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.imaps.profile',
  },
  {
    name: 'legacy profile off port 25',
    input: { format: 1, defaults: { services: { submission: { profile: 'legacy-port-25' } } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.submission.profile',
  },
  {
    name: 'enabled not boolean',
    input: { format: 1, defaults: { services: { pop3: { enabled: 'yes' } } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.services.pop3.enabled',
  },
  {
    name: 'verify names without required TLS',
    input: { format: 1, defaults: { outgoing: { verify: 'mx-host' } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.outgoing.verify',
  },
  {
    name: 'bad outgoing tls',
    input: { format: 1, defaults: { outgoing: { tls: 'always' } } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'defaults.outgoing.tls',
  },
  {
    name: 'bad domain name',
    input: { format: 1, domains: { 'not a domain': {} } },
    wantCode: 'ERR_SETTINGS_INVALID',
    path: 'domains.not a domain',
  },
  {
    name: 'domain listed twice',
    input: { format: 1, domains: { 'Example.com': {}, 'example.com.': {} } },
    wantCode: 'ERR_SETTINGS_INVALID',
  },
];

describe('settings: validation', () => {
  for (const row of bad)
    it(`refuses ${row.name} with ${row.wantCode}`, () => {
      assert.throws(
        () => validateTLSSettings(row.input),
        (e: { code?: string; details?: { path?: string }; message: string }) => {
          assert.equal(e.code, row.wantCode);
          if (row.path !== undefined) assert.equal(e.details?.path, row.path);
          assert.match(e.message, /TLS settings/);
          return true;
        },
      );
    });

  it('JSON that is not JSON, or too large, is typed', () => {
    assert.throws(() => parseTLSSettingsJSON('{'), { code: 'ERR_SETTINGS_INVALID' });
    assert.throws(() => parseTLSSettingsJSON(' '.repeat((1 << 20) + 1)), { code: 'ERR_SETTINGS_TOO_LARGE' });
  });

  it('fills the defaults: STARTTLS offered on 25, required on 587/110/143, legacy profile on 25 only', () => {
    const s = validateTLSSettings({ format: 1 });
    assert.equal(s.revision, 0);
    assert.equal(s.defaults.services.smtp.starttls, 'offered');
    assert.equal(s.defaults.services.smtp.profile, 'legacy-port-25');
    for (const name of ['submission', 'pop3', 'imap'] as const) {
      assert.equal(s.defaults.services[name].starttls, 'required');
      assert.equal(s.defaults.services[name].profile, 'intermediate');
    }
    assert.deepEqual(
      enabledServices(s),
      MAIL_SERVICES.map((m) => m.service),
    );
    assert.ok(Object.isFrozen(s.defaults.services.smtp));
  });

  it('a domain entry starts from the defaults; resolution falls back to a wildcard, then the defaults', () => {
    const s = validateTLSSettings({
      format: 1,
      defaults: { services: { pop3: { enabled: false }, pop3s: { enabled: false } } },
      domains: {
        'Example.COM.': { services: { pop3s: { enabled: true } } },
        '*.example.net': { lanOnly: true },
      },
    });
    assert.deepEqual(Object.keys(s.domains).sort(), ['*.example.net', 'example.com']);
    assert.equal(resolveDomainTLSSettings(s, 'example.com').services.pop3.enabled, false);
    assert.equal(resolveDomainTLSSettings(s, 'EXAMPLE.com').services.pop3s.enabled, true);
    assert.equal(resolveDomainTLSSettings(s, 'mail.example.net').lanOnly, true);
    assert.equal(resolveDomainTLSSettings(s, 'other.org').services.pop3s.enabled, false);
    assert.ok(enabledServices(s).includes('pop3s'));
    assert.ok(!enabledServices(s).includes('pop3'));
  });

  it('encodes stably and round-trips', () => {
    const s = withDomainTLSSettings(createDefaultTLSSettings(), 'b.example', {
      ...createDefaultTLSSettings().defaults,
      lanOnly: true,
    });
    const t = withDomainTLSSettings(s, 'a.example', createDefaultTLSSettings().defaults);
    const text = encodeTLSSettingsJSON(t);
    assert.deepEqual(Object.keys(JSON.parse(text).domains), ['a.example', 'b.example']);
    assert.equal(encodeTLSSettingsJSON(parseTLSSettingsJSON(text)), text);
    assert.equal(withDomainTLSSettings(t, 'b.example', undefined).domains['b.example'], undefined);
  });

  it('maps outgoing settings to client options', () => {
    const d = { mxHost: 'mx1.example.net', nextHop: 'example.net' };
    assert.deepEqual(outgoingTLSOptions({ tls: 'opportunistic', sni: true, verify: 'none' }, d), {
      requireTLS: false,
      verify: 'none',
      servername: 'mx1.example.net',
      nextHop: undefined,
    });
    assert.deepEqual(outgoingTLSOptions({ tls: 'required', sni: false, verify: 'next-hop' }, d), {
      requireTLS: true,
      verify: 'hostname',
      servername: false,
      nextHop: 'example.net',
    });
  });
});

describe('settings: the store file', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'mailtls-settings-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a store without the file has the defaults; saves number revisions and keep the old ones', async () => {
    const root = tmp();
    const s0 = await loadTLSSettings(root);
    assert.equal(s0.revision, 0);
    const s1 = await saveTLSSettings(root, s0, { by: 'alice', at: new Date('2027-01-01T00:00:00Z') });
    assert.equal(s1.revision, 1);
    assert.equal(s1.savedBy, 'alice');
    const s2 = await saveTLSSettings(
      root,
      withDomainTLSSettings(s1, 'example.com', { ...s1.defaults, lanOnly: true }),
      { by: 'bob' },
    );
    assert.equal(s2.revision, 2);
    assert.equal((await loadTLSSettings(root)).domains['example.com']?.lanOnly, true);
    assert.deepEqual(await listTLSSettingsRevisions(root), [1]);
    assert.equal((await loadTLSSettingsRevision(root, 1)).savedBy, 'alice');
    // Only the settings file and the history: no temporary file left behind.
    assert.deepEqual(readdirSync(tlsSettingsPaths(root).dir).sort(), ['history', 'tls.json']);
  });

  it('a save from an old revision is ERR_SETTINGS_CONFLICT and writes nothing', async () => {
    const root = tmp();
    const s0 = await loadTLSSettings(root);
    await saveTLSSettings(root, s0);
    const before = readFileSync(tlsSettingsPaths(root).file, 'utf8');
    await assert.rejects(saveTLSSettings(root, s0), { code: 'ERR_SETTINGS_CONFLICT' });
    assert.equal(readFileSync(tlsSettingsPaths(root).file, 'utf8'), before);
  });

  it('bad settings are refused before anything is written', async () => {
    const root = tmp();
    const broken = {
      ...createDefaultTLSSettings(),
      defaults: { ...createDefaultTLSSettings().defaults, lanOnly: 'x' },
    };
    await assert.rejects(saveTLSSettings(root, broken as never), { code: 'ERR_SETTINGS_INVALID' });
    assert.throws(() => statSync(tlsSettingsPaths(root).file), { code: 'ENOENT' });
  });

  it('a damaged file is reported with its path; the watcher keeps the old settings and reports the error', async () => {
    const root = tmp();
    const s1 = await saveTLSSettings(root, await loadTLSSettings(root));
    const seen: number[] = [];
    const errors: string[] = [];
    const w = watchTLSSettings(
      root,
      (s) => void seen.push(s.revision),
      (e) => void errors.push(e.message),
      {
        since: s1.revision,
        pollIntervalMs: 60_000,
      },
    );
    try {
      await w.check();
      assert.deepEqual(seen, []);
      await saveTLSSettings(root, s1);
      await w.check();
      assert.deepEqual(seen, [2]);
      writeFileSync(tlsSettingsPaths(root).file, '{"format":1,"revision":3,"defaults":{"lanOnly":1}}');
      await w.check();
      assert.deepEqual(seen, [2]);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /tls\.json.*lanOnly/);
      await assert.rejects(loadTLSSettings(root), { code: 'ERR_SETTINGS_INVALID' });
    } finally {
      w.close();
    }
  });

  it('administrator accounts: scrypt hash, no password on disk, wrong password false, audit log', async () => {
    const root = tmp();
    assert.equal(await hasAdminUsers(root), false);
    await assert.rejects(setAdminPassword(root, { password: 'short' }), { code: 'ERR_SETTINGS_ADMIN' });
    await setAdminPassword(root, { user: 'alice', password: 'correct horse battery' });
    assert.equal(await hasAdminUsers(root), true);
    const file = readFileSync(join(root, 'admin/users.json'), 'utf8');
    assert.ok(!file.includes('correct horse'));
    assert.match(file, /"N": 32768/);
    assert.equal(statSync(join(root, 'admin/users.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'admin')).mode & 0o777, 0o700);
    assert.equal(await verifyAdminPassword(root, 'alice', 'correct horse battery'), true);
    assert.equal(await verifyAdminPassword(root, 'alice', 'correct horse batterY'), false);
    assert.equal(await verifyAdminPassword(root, 'mallory', 'correct horse battery'), false);
    await appendAdminAudit(root, { user: 'alice', action: 'install', domain: 'example.com', detail: 'v2' });
    const log = await readAdminAudit(root);
    assert.deepEqual(
      log.map((e) => e.action),
      ['install', 'set-password'],
    );
    assert.equal(log[0]?.domain, 'example.com');
  });
});
