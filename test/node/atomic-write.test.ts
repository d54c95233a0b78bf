/**
 * Atomic file and link replacement: modes set exactly (checked with stat, whatever the umask), no temporary
 * file left on success or failure, readers never see a missing link or a partial file while writers
 * replace them in a loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  isTemporaryName,
  saveFileAtomic,
  saveSymlinkAtomic,
  syncDirectory,
} from '../../src/node/store/atomic-write.js';
import { scratch } from './helpers/store-fixtures.js';

let dir: { path: string; cleanup(): void };
before(() => {
  dir = scratch('mailtls-atomic-');
});
after(() => dir.cleanup());

const ATOMIC_JS = fileURLToPath(new URL('../../src/node/store/atomic-write.js', import.meta.url));

describe('saveFileAtomic', () => {
  it('creates and replaces files with the exact mode, leaving no temporary file', async () => {
    const rows = [
      { name: 'key', input: { file: 'k.key', mode: 0o600 }, want: 0o600 },
      { name: 'certificate', input: { file: 'c.crt', mode: 0o644 }, want: 0o644 },
      { name: 'default', input: { file: 'd.txt', mode: undefined }, want: 0o644 },
      { name: 'wider than umask', input: { file: 'w.txt', mode: 0o664 }, want: 0o664 },
    ];
    const old = process.umask(0o077);
    try {
      for (const row of rows) {
        const p = join(dir.path, row.input.file);
        await saveFileAtomic(p, 'one', row.input.mode === undefined ? {} : { mode: row.input.mode });
        assert.equal(statSync(p).mode & 0o777, row.want, row.name);
        await saveFileAtomic(
          p,
          new TextEncoder().encode('two'),
          row.input.mode === undefined ? {} : { mode: row.input.mode },
        );
        assert.equal(readFileSync(p, 'utf8'), 'two');
        assert.equal(statSync(p).mode & 0o777, row.want, `${row.name} (replaced)`);
      }
    } finally {
      process.umask(old);
    }
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.startsWith('.tmp-')),
      [],
    );
  });

  it('on failure leaves the target and the directory as they were', async () => {
    const target = join(dir.path, 'is-a-dir');
    mkdirSync(target);
    const before = readdirSync(dir.path).sort();
    await assert.rejects(saveFileAtomic(target, 'x'), { code: 'EISDIR' });
    assert.deepEqual(readdirSync(dir.path).sort(), before);
    await assert.rejects(saveFileAtomic(join(dir.path, 'missing', 'f'), 'x'), { code: 'ENOENT' });
    await assert.rejects(saveFileAtomic(join(dir.path, 'f'), 42 as never), TypeError);
  });

  it('a reader in another process never sees a partial or empty file while a writer replaces it', async () => {
    const p = join(dir.path, 'busy.pem');
    const big = (c: string) => `${c.repeat(256 * 1024)}\n`;
    writeFileSync(p, big('a'));
    const writer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { saveFileAtomic } = await import(${JSON.stringify(ATOMIC_JS)});
         for (let i = 0; i < 150; i++) await saveFileAtomic(${JSON.stringify(p)}, (i % 2 ? 'a' : 'b').repeat(256 * 1024) + '\\n', { fsync: i % 10 === 0 });`,
      ],
      { stdio: 'inherit' },
    );
    const exited = new Promise<number | null>((r) => writer.once('exit', r));
    let reads = 0;
    let running = true;
    void exited.then(() => {
      running = false;
    });
    while (running) {
      const text = await readFile(p, 'utf8');
      assert.ok(text === big('a') || text === big('b'), `read ${text.length} bytes`);
      reads++;
    }
    assert.equal(await exited, 0);
    assert.ok(reads > 5, `${reads} reads`);
  });
});

describe('saveSymlinkAtomic', () => {
  it('replaces a link (and a regular file) without a moment where the path is missing', async () => {
    const link = join(dir.path, 'current');
    symlinkSync('v1', link);
    let stop = false;
    let seen = 0;
    const reader = (async () => {
      while (!stop) {
        const t = await readlink(link);
        assert.ok(t === 'v1' || t === 'v2', t);
        seen++;
      }
    })();
    for (let i = 0; i < 300; i++) await saveSymlinkAtomic(link, i % 2 ? 'v1' : 'v2');
    stop = true;
    await reader;
    assert.ok(seen > 10);
    const file = join(dir.path, 'was-a-file.crt');
    writeFileSync(file, 'x');
    await saveSymlinkAtomic(file, '../elsewhere/cert.crt');
    assert.equal(readlinkSync(file), '../elsewhere/cert.crt');
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => isTemporaryName(n) !== undefined),
      [],
    );
  });
});

describe('helpers', () => {
  it("isTemporaryName recognises only this module's temporary names", () => {
    const rows = [
      { name: 'temporary', input: '.tmp-4242-a1b2c3d4e5f6-cert.pem', want: { pid: 4242 } },
      { name: 'plain', input: 'cert.pem', want: undefined },
      { name: 'no pid', input: '.tmp-x-a1-cert.pem', want: undefined },
      { name: 'hidden', input: '.tmpfile', want: undefined },
    ];
    for (const row of rows) assert.deepEqual(isTemporaryName(row.input), row.want, row.name);
  });

  it('syncDirectory syncs a directory and reports a missing one', async () => {
    await syncDirectory(dir.path);
    await assert.rejects(syncDirectory(join(dir.path, 'nope')), { code: 'ENOENT' });
  });
});
