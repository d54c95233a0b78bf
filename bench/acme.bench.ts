/**
 * ACME issuance against one Pebble (started here, on free ports, no rejected nonces, no authorization
 * reuse), http-01 for every client so the work is the same: time to issue one certificate, then N more (one
 * order each, one after the other), then to renew those N, for
 *
 * - mailtls in-process (`obtainCertificate`/`renewDue`, what a server running `createAcmeManager` does),
 * - the `mailtls acme` command (a process per certificate, as cron would run it; renew is one process),
 * - certbot (Debian, `certonly --standalone`; renew is one `certbot renew --force-renewal` for all, as certbot
 *   users run it, with `--no-random-sleep-on-renew`: without a terminal certbot otherwise sleeps a random 1 to
 *   480 s before its first renewal, a pause for real CAs' load that earlier runs of this bench counted as work),
 * - lego (Debian, `run` per certificate; renew is one `lego renew` per certificate).
 *
 * Memory: the largest resident set of each command's process (GNU time's %M), and of this process for the
 * in-process run. N is ACME_BENCH_N (default 50).
 *
 *   npm run bench -- acme
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createHttp01Responder,
  obtainCertificate,
  registerAcmeAccount,
  renewDue,
} from '../src/node/acme/index.js';
import { CertificateStore } from '../src/node/index.js';
import { findOnPath } from '../test/helpers/peers.js';
import { startPebble } from '../test/node/acme/pebble.js';

const N = Number(process.env.ACME_BENCH_N ?? 50);
const main = join(process.cwd(), 'build', 'src', 'cli', 'main.js');
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

for (const p of ['pebble', 'pebble-challtestsrv', 'certbot', 'lego']) {
  if (findOnPath(p, process.env.PATH ?? '') === undefined) {
    console.log(`${p} not installed: skipped (apt-get install pebble certbot lego)`);
    process.exit(0);
  }
}

const pebble = await startPebble({ nonceReject: 0 });
const dir = mkdtempSync(join(tmpdir(), 'mailtls-acme-bench-'));
const root = await pebble.root();
const rootFile = join(dir, 'root.pem');
writeFileSync(rootFile, root);
const hasTime = findOnPath('time', '/usr/bin') !== undefined;

interface Row {
  client: string;
  one: number;
  many: number;
  renew: number;
  rssMiB: number;
}
const rows: Row[] = [];

/** Runs a command under GNU time; answers wall seconds and max RSS in MiB. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { secs: number; rss: number } {
  const t0 = performance.now();
  const r = spawnSync(hasTime ? '/usr/bin/time' : cmd, hasTime ? ['-f', 'MAXRSS %M', cmd, ...args] : args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 16 * 2 ** 20,
  });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  return { secs, rss };
}

try {
  console.log(`load average before: ${load()}; N = ${N}; http-01 on port ${pebble.httpPort}`);

  // mailtls in-process
  {
    const store = new CertificateStore(join(dir, 'mailtls-lib'), { trust: [root] });
    const account = await registerAcmeAccount({
      store,
      directoryUrl: pebble.directoryUrl,
      directoryCA: pebble.directoryCA,
      agreeToTerms: true,
      email: 'bench@example.test',
    });
    const http01 = createHttp01Responder();
    const server = http.createServer(http01.listener);
    await new Promise<void>((r) => server.listen(pebble.httpPort, '127.0.0.1', () => r()));
    let peak = process.memoryUsage().rss;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const order = (d: string) =>
      obtainCertificate({ account, store, domain: d, challenge: 'http-01', http01, preflight: false });
    let t = performance.now();
    await order('lib-one.example.test');
    const one = (performance.now() - t) / 1000;
    t = performance.now();
    const domains: string[] = [];
    for (let i = 0; i < N; i++) {
      domains.push(`lib-${i}.example.test`);
      await order(`lib-${i}.example.test`);
    }
    const many = (performance.now() - t) / 1000;
    t = performance.now();
    const outcomes = await renewDue({ store, account, http01, domains, force: true });
    const renew = (performance.now() - t) / 1000;
    if (outcomes.some((o) => o.error)) throw new Error(String(outcomes.find((o) => o.error)?.error));
    clearInterval(sample);
    await new Promise<void>((r) => server.close(() => r()));
    rows.push({ client: 'mailtls (in-process)', one, many, renew, rssMiB: peak / 2 ** 20 });
  }

  // mailtls command
  {
    const store = join(dir, 'mailtls-cli');
    const common = [
      '--store',
      store,
      '--directory',
      pebble.directoryUrl,
      '--directory-ca',
      pebble.directoryCAFile,
    ];
    const issue = (d: string) =>
      timed(process.execPath, [
        main,
        'acme',
        'issue',
        d,
        ...common,
        '--email',
        'bench@example.test',
        '--agree-tos',
        '--challenge',
        'http-01',
        '--http-port',
        String(pebble.httpPort),
        '--no-preflight',
      ]);
    const first = issue('cli-one.example.test');
    let rss = first.rss;
    let many = 0;
    for (let i = 0; i < N; i++) {
      const r = issue(`cli-${i}.example.test`);
      many += r.secs;
      rss = Math.max(rss, r.rss);
    }
    const renew = timed(process.execPath, [
      main,
      'acme',
      'renew',
      '--store',
      store,
      '--directory-ca',
      pebble.directoryCAFile,
      '--http-port',
      String(pebble.httpPort),
      '--force',
    ]);
    rows.push({
      client: 'mailtls acme (command)',
      one: first.secs,
      many,
      renew: renew.secs,
      rssMiB: Math.max(rss, renew.rss),
    });
  }

  // certbot
  {
    const d = join(dir, 'certbot');
    const dirs = ['--config-dir', join(d, 'c'), '--work-dir', join(d, 'w'), '--logs-dir', join(d, 'l')];
    const env = { REQUESTS_CA_BUNDLE: pebble.directoryCAFile };
    const issue = (name: string) =>
      timed(
        'certbot',
        [
          'certonly',
          '--standalone',
          '--http-01-port',
          String(pebble.httpPort),
          '--http-01-address',
          '127.0.0.1',
          '--server',
          pebble.directoryUrl,
          '-d',
          name,
          '--agree-tos',
          '-m',
          'bench@example.test',
          '--non-interactive',
          ...dirs,
        ],
        env,
      );
    const first = issue('certbot-one.example.test');
    let rss = first.rss;
    let many = 0;
    for (let i = 0; i < N; i++) {
      const r = issue(`certbot-${i}.example.test`);
      many += r.secs;
      rss = Math.max(rss, r.rss);
    }
    const renew = timed(
      'certbot',
      ['renew', '--force-renewal', '--no-random-sleep-on-renew', '--non-interactive', ...dirs],
      env,
    );
    rows.push({
      client: 'certbot',
      one: first.secs,
      many,
      renew: renew.secs,
      rssMiB: Math.max(rss, renew.rss),
    });
  }

  // lego
  {
    const d = join(dir, 'lego');
    const env = { LEGO_CA_CERTIFICATES: pebble.directoryCAFile };
    const base = (name: string) => [
      '--server',
      pebble.directoryUrl,
      '--email',
      'bench@example.test',
      '--accept-tos',
      '--domains',
      name,
      '--http',
      '--http.port',
      `127.0.0.1:${pebble.httpPort}`,
      '--path',
      d,
    ];
    const first = timed('lego', [...base('lego-one.example.test'), 'run'], env);
    let rss = first.rss;
    let many = 0;
    for (let i = 0; i < N; i++) {
      const r = timed('lego', [...base(`lego-${i}.example.test`), 'run'], env);
      many += r.secs;
      rss = Math.max(rss, r.rss);
    }
    let renew = 0;
    for (let i = 0; i < N; i++) {
      const r = timed(
        'lego',
        [...base(`lego-${i}.example.test`), 'renew', '--days', '100000', '--no-random-sleep'],
        env,
      );
      renew += r.secs;
      rss = Math.max(rss, r.rss);
    }
    rows.push({ client: 'lego', one: first.secs, many, renew, rssMiB: rss });
  }

  console.log(`\nhttp-01, one order per certificate, seconds (wall clock); RSS = largest resident set`);
  console.log(
    `client                  | 1 cert | ${N} certs | per cert | renew ${N} | per renewal | RSS MiB`,
  );
  for (const r of rows)
    console.log(
      `${r.client.padEnd(23)} | ${r.one.toFixed(2).padStart(6)} | ${r.many.toFixed(1).padStart(8)} | ${(r.many / N).toFixed(2).padStart(8)} | ${r.renew.toFixed(1).padStart(8)} | ${(r.renew / N).toFixed(2).padStart(11)} | ${r.rssMiB.toFixed(0).padStart(7)}`,
    );
  const lib = rows[0]!;
  for (const other of rows.slice(2))
    console.log(
      `per certificate, ${other.client} / mailtls in-process: ×${(other.many / lib.many).toFixed(1)}; / mailtls command: ×${(other.many / rows[1]!.many).toFixed(1)}`,
    );
  console.log(`load average after: ${load()}`);
} finally {
  await pebble.stop();
  rmSync(dir, { recursive: true, force: true });
}
