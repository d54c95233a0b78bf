/**
 * The store's lock file: mutual exclusion within a process and across processes (a read-modify-write
 * counter incremented by four processes loses no update), waiting and ERR_STORE_LOCKED, and breaking stale
 * locks (dead owner, too old, unreadable) without ever breaking a live one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StoreError } from '../../src/errors.js';
import { acquireLock, withLock } from '../../src/node/store/lock.js';
import { scratch } from './helpers/store-fixtures.js';

let dir: { path: string; cleanup(): void };
before(() => {
  dir = scratch('mailtls-lock-');
});
after(() => dir.cleanup());

const LOCK_JS = fileURLToPath(new URL('../../src/node/store/lock.js', import.meta.url));

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  return pid;
}

describe('acquireLock', () => {
  it('holds the file with owner facts, removes it on release, and release twice is harmless', async () => {
    const path = join(dir.path, 'a.lock');
    const lock = await acquireLock(path);
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.host, hostname());
    await lock.release();
    assert.equal(existsSync(path), false);
    await lock.release();
  });

  it('excludes concurrent holders in one process (never two inside at once)', async () => {
    const path = join(dir.path, 'b.lock');
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(path, { retryMs: 1 }, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
          done++;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.equal(done, 20);
  });

  it('excludes holders across processes: 4 processes x 50 read-modify-write increments lose nothing', async () => {
    const path = join(dir.path, 'counter.lock');
    const counter = join(dir.path, 'counter');
    writeFileSync(counter, '0');
    const script = `
      const { acquireLock } = await import(${JSON.stringify(LOCK_JS)});
      const fs = await import('node:fs');
      for (let i = 0; i < 50; i++) {
        const lock = await acquireLock(${JSON.stringify(path)}, { retryMs: 1, timeoutMs: 60000 });
        const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8'));
        await new Promise((r) => setImmediate(r));
        fs.writeFileSync(${JSON.stringify(counter)}, String(n + 1));
        await lock.release();
      }`;
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const codes = await Promise.all(
      children.map(
        (c) =>
          new Promise<number | null>((resolve) => {
            let err = '';
            c.stderr!.on('data', (d: Buffer) => {
              err += d.toString();
            });
            c.once('exit', (code) => {
              if (code !== 0) console.error(err);
              resolve(code);
            });
          }),
      ),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    assert.equal(readFileSync(counter, 'utf8'), '200');
  });

  it('times out with ERR_STORE_LOCKED naming the holder while a live process holds it', async () => {
    const path = join(dir.path, 'c.lock');
    const held = await acquireLock(path);
    const t0 = Date.now();
    await assert.rejects(acquireLock(path, { timeoutMs: 150 }), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'ERR_STORE_LOCKED');
      assert.equal(e.details.pid, process.pid);
      assert.match(e.message, new RegExp(`locked by process ${process.pid} on `));
      return true;
    });
    assert.ok(Date.now() - t0 >= 140);
    // the holder is untouched
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    await held.release();
  });

  it('breaks stale locks: a dead owner, an owner older than staleMs, an unreadable file over a second old', async () => {
    const rows = [
      {
        name: 'dead owner on this host',
        input: async (p: string) =>
          writeFileSync(
            p,
            JSON.stringify({ pid: await deadPid(), host: hostname(), created: Date.now(), token: 't' }),
          ),
        options: {},
      },
      {
        name: 'owner on another host, too old',
        input: async (p: string) =>
          writeFileSync(
            p,
            JSON.stringify({ pid: 1, host: 'elsewhere', created: Date.now() - 10_000, token: 't' }),
          ),
        options: { staleMs: 5_000 },
      },
      {
        name: 'unreadable (empty) and two seconds old',
        input: async (p: string) => {
          writeFileSync(p, '');
          const past = new Date(Date.now() - 2000);
          utimesSync(p, past, past);
        },
        options: {},
      },
    ];
    for (const row of rows) {
      const path = join(dir.path, `stale-${rows.indexOf(row)}.lock`);
      await row.input(path);
      const t0 = Date.now();
      const lock = await acquireLock(path, { ...row.options, timeoutMs: 1000 });
      assert.ok(Date.now() - t0 < 900, row.name);
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid, row.name);
      await lock.release();
    }
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.includes('.stale-')),
      [],
      'no stale copies left behind',
    );
  });

  it('does not break a live lock on another host before staleMs, nor a fresh empty file', async () => {
    const path = join(dir.path, 'live.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', created: Date.now(), token: 't' }));
    await assert.rejects(acquireLock(path, { timeoutMs: 100 }), { code: 'ERR_STORE_LOCKED' });
    const empty = join(dir.path, 'empty.lock');
    writeFileSync(empty, '');
    await assert.rejects(acquireLock(empty, { timeoutMs: 100 }), { code: 'ERR_STORE_LOCKED' });
  });

  it('release leaves a lock that is no longer its own', async () => {
    const path = join(dir.path, 'mine.lock');
    const lock = await acquireLock(path);
    const other = JSON.stringify({ pid: 1, host: 'elsewhere', created: Date.now(), token: 'other' });
    writeFileSync(path, other);
    await lock.release();
    assert.equal(readFileSync(path, 'utf8'), other);
  });

  it('withLock releases when the function throws; a missing directory is ERR_STORE_IO', async () => {
    const path = join(dir.path, 'throw.lock');
    await assert.rejects(
      withLock(path, {}, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(existsSync(path), false);
    await assert.rejects(acquireLock(join(dir.path, 'no', 'such', 'dir.lock')), { code: 'ERR_STORE_IO' });
    await assert.rejects(acquireLock(path, { timeoutMs: -1 }), RangeError);
  });

  it('a lock path that cannot be created or read is ERR_STORE_IO naming the path, not a raw fs error', async () => {
    const rows = [
      {
        name: 'missing directory',
        input: () => join(dir.path, 'nowhere', 'x.lock'),
        wantCode: 'ERR_STORE_IO',
      },
      {
        name: 'a directory in its place',
        input: () => {
          const p = join(dir.path, 'is-a-dir.lock');
          mkdirSync(p);
          return p;
        },
        wantCode: 'ERR_STORE_IO',
      },
    ];
    for (const row of rows) {
      const path = row.input();
      await assert.rejects(acquireLock(path, { timeoutMs: 100 }), (e: unknown) => {
        assert.ok(e instanceof StoreError, row.name);
        assert.equal(e.code, row.wantCode, row.name);
        assert.equal(e.details.path, path, row.name);
        return true;
      });
    }
  });
});
