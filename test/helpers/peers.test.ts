// The peer helper itself: a missing program skips its tests with the reason and the install command, or fails
// them with MAILTLS_REQUIRE_PEERS=1; scripts/peers.sh installs every peer; a client that cannot be started
// fails its test at once instead of hanging or passing as a refused handshake.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run, runGnuTLS } from '../node/helpers/clients.js';
import { close, listen } from '../node/helpers/listen.js';
import { repoRoot } from './paths.js';
import { findOnPath, PEERS, peerOptions } from './peers.js';

const dir = mkdtempSync(join(tmpdir(), 'mailtls-peers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A directory holding one executable `gnutls-cli` (a shell script) and a non-executable `sslscan`. */
const fakeBin = join(dir, 'bin');
const emptyBin = join(dir, 'empty');
spawnSync('mkdir', ['-p', fakeBin, emptyBin]);
writeFileSync(join(fakeBin, 'gnutls-cli'), '#!/bin/sh\nexit 0\n');
chmodSync(join(fakeBin, 'gnutls-cli'), 0o755);
writeFileSync(join(fakeBin, 'sslscan'), 'not a program\n');
chmodSync(join(fakeBin, 'sslscan'), 0o644);

describe('peerOptions', () => {
  it('finds an executable on PATH, not a file without the execute bit', () => {
    assert.equal(findOnPath('gnutls-cli', `${emptyBin}:${fakeBin}`), join(fakeBin, 'gnutls-cli'));
    assert.equal(findOnPath('sslscan', fakeBin), undefined);
    assert.equal(findOnPath('gnutls-cli', `relative/dir:${emptyBin}`), undefined);
    assert.deepEqual(peerOptions(['gnutls-cli'], { PATH: fakeBin }), {});
  });

  it('skips with the reason and the install command when a peer is missing', () => {
    assert.deepEqual(peerOptions(['gnutls-cli'], { PATH: emptyBin }), {
      skip: 'gnutls-cli not installed: apt-get install gnutls-bin',
    });
    assert.deepEqual(peerOptions(['testssl', 'gnutls-cli', 'sslscan'], { PATH: fakeBin }), {
      skip: 'sslscan not installed: apt-get install sslscan; testssl not installed: apt-get install testssl.sh',
    });
  });

  it('notes each skip in MAILTLS_PEERS_LOG, for the summary at the end of the run', () => {
    const log = join(dir, 'skips.log');
    peerOptions(['gnutls-cli', 'danetool'], { PATH: emptyBin, MAILTLS_PEERS_LOG: log });
    peerOptions(['curl'], { PATH: emptyBin, MAILTLS_PEERS_LOG: log });
    peerOptions(['gnutls-cli'], { PATH: fakeBin, MAILTLS_PEERS_LOG: log });
    assert.equal(readFileSync(log, 'utf8'), 'gnutls-cli danetool\ncurl\n');
  });

  it('throws the reason with MAILTLS_REQUIRE_PEERS=1', () => {
    assert.throws(() => peerOptions(['gnutls-cli'], { PATH: emptyBin, MAILTLS_REQUIRE_PEERS: '1' }), {
      message:
        /^gnutls-cli not installed: apt-get install gnutls-bin \(MAILTLS_REQUIRE_PEERS=1 .*npm run peers\)$/,
    });
    assert.deepEqual(peerOptions(['gnutls-cli'], { PATH: fakeBin, MAILTLS_REQUIRE_PEERS: '1' }), {});
  });

  it('scripts/peers.sh installs the package of every peer', () => {
    const script = readFileSync(join(repoRoot, 'scripts/peers.sh'), 'utf8');
    for (const [peer, pkg] of Object.entries(PEERS)) {
      assert.match(script, new RegExp(`\\b${peer}:${pkg.replace(/[.+]/g, '\\$&')}\\b`), `${peer} (${pkg})`);
    }
  });
});

describe('node --test with a missing peer', () => {
  // Test files as the suite writes them, run by node's runner with a PATH that lacks gnutls-cli and danetool:
  // one checks when its test is defined (needs), one from inside the running test (skipWithout).
  const peers = JSON.stringify(new URL('./peers.js', import.meta.url).href);
  const defined = join(dir, 'defined.test.mjs');
  writeFileSync(
    defined,
    `import { it } from 'node:test';\nimport { needs } from ${peers};\n` +
      `it('talks to gnutls-cli', needs('gnutls-cli'), () => { throw new Error('ran'); });\n` +
      `it('needs nothing', () => {});\n`,
  );
  const running = join(dir, 'running.test.mjs');
  writeFileSync(
    running,
    `import { it } from 'node:test';\nimport { skipWithout } from ${peers};\n` +
      `it('runs danetool', (t) => { if (skipWithout(t, 'danetool')) return; throw new Error('ran'); });\n` +
      `it('needs nothing', () => {});\n`,
  );
  const runner = (file: string, extra: Record<string, string>) =>
    spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], {
      encoding: 'utf8',
      env: { PATH: emptyBin, ...extra },
      timeout: 60_000,
    });

  it('skips the test with the reason and passes', () => {
    const r = runner(defined, {});
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /ok 1 - talks to gnutls-cli # SKIP gnutls-cli not installed: apt-get install gnutls-bin\n/,
    );
    assert.match(r.stdout, /ok 2 - needs nothing\n/);
    const s = runner(running, {});
    assert.equal(s.status, 0, s.stdout + s.stderr);
    assert.match(
      s.stdout,
      /ok 1 - runs danetool # SKIP danetool not installed: apt-get install gnutls-bin\n/,
    );
    assert.match(s.stdout, /ok 2 - needs nothing\n/);
  });

  it('fails with MAILTLS_REQUIRE_PEERS=1', () => {
    const r = runner(defined, { MAILTLS_REQUIRE_PEERS: '1' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /gnutls-cli not installed: apt-get install gnutls-bin \(MAILTLS_REQUIRE_PEERS=1/);
    const s = runner(running, { MAILTLS_REQUIRE_PEERS: '1' });
    assert.equal(s.status, 1, s.stdout + s.stderr);
    assert.match(s.stdout, /not ok 1 - runs danetool\n/);
    assert.match(s.stdout, /danetool not installed: apt-get install gnutls-bin \(MAILTLS_REQUIRE_PEERS=1/);
    assert.match(s.stdout, /ok 2 - needs nothing\n/);
  });
});

describe('a client that cannot be started, or never answers', () => {
  it('rejects at once, with the program named', async () => {
    const started = process.hrtime.bigint();
    await assert.rejects(run('mailtls-no-such-program', ['x'], 'input'), {
      message: /^mailtls-no-such-program could not be started: spawn mailtls-no-such-program ENOENT$/,
    });
    assert.ok(process.hrtime.bigint() - started < 5_000_000_000n, 'rejected within seconds');
  });

  it('a program that never exits is killed after its time limit', async () => {
    const started = process.hrtime.bigint();
    const r = await run(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], '', 500);
    assert.equal(r.code, null);
    assert.ok(process.hrtime.bigint() - started < 10_000_000_000n, 'ended within seconds');
  });

  it('fails a handshake test instead of looking like a refused handshake', async () => {
    // A listening server that never answers: the missing client must not wait for it.
    const server = net.createServer(() => {});
    const port = await listen(server);
    try {
      // spawn looks the program up on process.env.PATH synchronously, so PATH is changed only around the call.
      const path = process.env.PATH;
      let attempt: Promise<unknown>;
      try {
        process.env.PATH = emptyBin;
        attempt = runGnuTLS({ port, host: 'mail.example.test', verify: false });
      } finally {
        process.env.PATH = path;
      }
      const started = process.hrtime.bigint();
      await assert.rejects(attempt, /gnutls-cli could not be started: spawn gnutls-cli ENOENT/);
      assert.ok(process.hrtime.bigint() - started < 5_000_000_000n, 'rejected within seconds');
    } finally {
      await close(server);
    }
  });
});
