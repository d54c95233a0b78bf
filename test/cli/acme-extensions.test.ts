/**
 * `mailtls acme` with ACME profiles, renewal information (RFC 9773) and staging dry runs, as a child
 * process against two real Pebbles (production and staging, validating on the same ports). Pebble 2.4
 * offers neither renewal information nor profiles, so each is reached through a front (see
 * test/node/acme/acme-front.ts) that adds them, answers the renewal windows the test sets, and records
 * every order. A dry run leaves the store byte-identical (every path, mode and byte compared).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCertificate } from '../../src/index.js';
import { needs } from '../helpers/peers.js';
import { type AcmeFront, startAcmeFront } from '../node/acme/acme-front.js';
import { type Pebble, startPebble } from '../node/acme/pebble.js';
import { snapshot } from '../node/acme/store-snapshot.js';
import { mailtlsAsync, scratch } from './helpers.js';

const DAY = 86_400_000;
const PROFILES = { classic: 'the default profile', shortlived: 'six days' };

interface StatusEntry {
  domain: string;
  source: string;
  window: { start: string; end: string } | null;
  renewAt: string;
  due: boolean;
  profile: string | null;
  note: string | null;
}

describe(
  'mailtls acme: profiles, renewal information, dry runs',
  needs('pebble', 'pebble-challtestsrv'),
  () => {
    let production: Pebble;
    let stagingCA: Pebble;
    let prodFront: AcmeFront;
    let stagingFront: AcmeFront;
    let dir: string;
    let store: string;
    let rootFile: string;
    let common: string[];
    let stagingArgs: string[];
    let challenge: string[];

    const status = async (...more: string[]) => {
      const s = await mailtlsAsync([
        'acme',
        'status',
        'cli-ext.example.test',
        '--store',
        store,
        '--directory-ca',
        production.directoryCAFile,
        '--json',
        ...more,
      ]);
      assert.equal(s.status, 0, s.stderr);
      return (s.json!.domains as StatusEntry[])[0]!;
    };
    const currentCertId = (): string => {
      const pem = join(store, 'certs', 'cli-ext.example.test.crt');
      const serial = parseCertificate(readFileSync(pem, 'utf8')).serialNumber;
      const seen = prodFront.issued.find((c) => parseCertificate(c.pem).serialNumber === serial);
      assert.ok(seen, 'the front saw the certificate in service issued');
      return seen.certId;
    };

    before(async () => {
      production = await startPebble();
      stagingCA = await startPebble({
        validationPorts: { httpPort: production.httpPort, tlsPort: production.tlsPort },
      });
      prodFront = await startAcmeFront(production, { profiles: PROFILES });
      stagingFront = await startAcmeFront(stagingCA, { renewalInfo: false, profiles: PROFILES });
      dir = scratch();
      store = join(dir, 'store');
      rootFile = join(dir, 'root.pem');
      writeFileSync(rootFile, await production.root());
      common = [
        '--store',
        store,
        '--directory',
        prodFront.directoryUrl,
        '--directory-ca',
        production.directoryCAFile,
        '--trust',
        rootFile,
      ];
      stagingArgs = [
        '--staging-directory',
        stagingFront.directoryUrl,
        '--staging-directory-ca',
        stagingCA.directoryCAFile,
        '--agree-tos',
      ];
      challenge = [
        '--challenge',
        'tls-alpn-01',
        '--tls-port',
        String(production.tlsPort),
        '--resolver',
        production.dnsServer,
        '--lan-only',
      ];
    });
    after(async () => {
      await prodFront?.close();
      await stagingFront?.close();
      await stagingCA?.stop();
      await production?.stop();
    });

    it('issue --profile with --staging-directory: staging first, then production, both with the profile', async () => {
      const r = await mailtlsAsync([
        'acme',
        'issue',
        'cli-ext.example.test',
        '--san',
        'mail.cli-ext.example.test',
        ...common,
        '--email',
        'postmaster@example.test',
        ...stagingArgs,
        ...challenge,
        '--profile',
        'shortlived',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.json!.profile, 'shortlived');
      assert.equal((r.json!.staging as { directoryUrl: string }).directoryUrl, stagingFront.directoryUrl);
      assert.deepEqual(
        stagingFront.orders.map((o) => o.profile),
        ['shortlived'],
      );
      assert.deepEqual(
        prodFront.orders.map((o) => o.profile),
        ['shortlived'],
      );
      assert.equal(prodFront.issued.length, 1);
      assert.equal((await status()).profile, 'shortlived');
    });

    it('issue --profile with a profile the CA does not offer: ERR_ACME_PROFILE naming the offered ones, nothing ordered', async () => {
      const r = await mailtlsAsync([
        'acme',
        'issue',
        'other.example.test',
        ...common,
        ...challenge,
        '--profile',
        'nope',
        '--json',
      ]);
      assert.equal(r.status, 1, r.stderr);
      const error = r.json!.error as { code: string; message: string; details: { offered: string[] } };
      assert.equal(error.code, 'ERR_ACME_PROFILE');
      assert.deepEqual([...error.details.offered].sort(), ['classic', 'shortlived']);
      assert.match(error.message, /offers classic, shortlived/);
      assert.equal(prodFront.orders.length, 1);
    });

    it('status shows the CA’s window as the source; a window in the past makes it due, and renew names the certificate in replaces', async () => {
      const certId = currentCertId();
      const now = Date.now();
      prodFront.setWindow(certId, {
        start: new Date(now - 2 * DAY),
        end: new Date(now - DAY),
        retryAfter: 3600,
      });
      const s = await status();
      assert.equal(s.source, 'ari', s.note ?? '');
      assert.equal(s.due, true);
      assert.deepEqual(s.window, {
        start: new Date(now - 2 * DAY).toISOString(),
        end: new Date(now - DAY).toISOString(),
      });
      const text = await mailtlsAsync([
        'acme',
        'status',
        'cli-ext.example.test',
        '--store',
        store,
        '--directory-ca',
        production.directoryCAFile,
      ]);
      assert.match(text.stdout, /renewal window .* \(the CA’s renewal information, RFC 9773\)/);
      assert.match(text.stdout, /profile shortlived/);
      const r = await mailtlsAsync([
        'acme',
        'renew',
        'cli-ext.example.test',
        '--store',
        store,
        '--directory-ca',
        production.directoryCAFile,
        '--trust',
        rootFile,
        '--tls-port',
        String(production.tlsPort),
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const [d] = r.json!.domains as {
        renewed: boolean;
        replaces: string;
        profile: string;
        source: string;
      }[];
      assert.deepEqual([d?.renewed, d?.replaces, d?.profile, d?.source], [true, certId, 'shortlived', 'ari']);
      assert.equal(prodFront.orders.at(-1)?.replaces, certId);
    });

    it('a future window: not due; --no-renewal-info does not ask the CA', async () => {
      const certId = currentCertId();
      const now = Date.now();
      prodFront.setWindow(certId, {
        start: new Date(now + 5 * DAY),
        end: new Date(now + 6 * DAY),
        retryAfter: 3600,
      });
      const s = await status();
      assert.equal(s.source, 'ari');
      assert.equal(s.due, false);
      const renewAt = Date.parse(s.renewAt);
      assert.ok(renewAt >= now + 5 * DAY - 1000 && renewAt <= now + 6 * DAY);
      const asked = prodFront.renewalInfoRequests.length;
      const offline = await status('--no-renewal-info');
      assert.equal(prodFront.renewalInfoRequests.length, asked);
      assert.equal(offline.source, 'ari', 'the window kept in the store');
      assert.match(offline.note ?? '', /as fetched at/);
    });

    it('renew --dry-run orders at staging only and leaves the store byte-identical', async () => {
      const before = snapshot(store);
      const prodOrders = prodFront.orders.length;
      const stagingOrders = stagingFront.orders.length;
      const r = await mailtlsAsync([
        'acme',
        'renew',
        'cli-ext.example.test',
        '--store',
        store,
        '--directory-ca',
        production.directoryCAFile,
        '--tls-port',
        String(production.tlsPort),
        ...stagingArgs,
        '--dry-run',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const [d] = r.json!.domains as {
        renewed: boolean;
        dryRun: { directoryUrl: string; profile: string };
      }[];
      assert.equal(d?.renewed, false);
      assert.deepEqual(
        [d?.dryRun.directoryUrl, d?.dryRun.profile],
        [stagingFront.directoryUrl, 'shortlived'],
      );
      assert.equal(prodFront.orders.length, prodOrders);
      assert.equal(stagingFront.orders.length, stagingOrders + 1);
      assert.deepEqual(snapshot(store), before);
    });

    it('issue --dry-run in an empty store registers nothing and writes nothing; without --staging-directory it is refused', async () => {
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      const r = await mailtlsAsync([
        'acme',
        'issue',
        'dry.example.test',
        '--store',
        empty,
        '--directory',
        prodFront.directoryUrl,
        '--directory-ca',
        production.directoryCAFile,
        ...stagingArgs,
        ...challenge,
        '--dry-run',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((r.json!.dryRun as { directoryUrl: string }).directoryUrl, stagingFront.directoryUrl);
      assert.deepEqual(snapshot(empty), []);
      const refused = await mailtlsAsync([
        'acme',
        'issue',
        'dry.example.test',
        ...common,
        ...challenge,
        '--dry-run',
        '--json',
      ]);
      assert.equal(refused.status, 2, refused.stderr);
      assert.equal((refused.json!.error as { code: string }).code, 'ERR_CLI_USAGE');
    });
  },
);
