/**
 * A hosting provider's restart: N domains (default 10,000; MAILTLS_BENCH_DOMAINS), one certificate each,
 * served by examples/mail-server.ts (mailtls), by Dovecot with N `local_name` blocks and by Postfix with an
 * N-entry `tls_server_sni_maps` (built with `postmap -F`, which is counted). For each: the time from process
 * start (for Postfix: from `postmap -F`) until the first handshake for any name succeeds, until every name has
 * been served once (8 clients in parallel, each checking that the certificate carries the name it asked for),
 * and the memory of the whole process tree then. Key types: P-256 and RSA 2048 (one key per key type
 * shared by all certificates: key generation is not what is measured; MAILTLS_BENCH_KEYS=ec limits the runs).
 * Each server is told its default domain (the store's first), as a configuration names it.
 *
 * The memory is taken right after the first handshake and again after the last, as RSS summed over the
 * processes and as PSS (proportional set size: a page several processes share, such as Postfix's indexed SNI
 * table read by each `smtpd`, is counted once, divided among them); PSS is the figure to compare between a
 * server of one process and one of many. "added per name served" is the difference divided by the names
 * served (the cost of a domain once it is in use).
 * examples/mail-server.ts loads names on demand; its `--eager` row (every domain loaded before it listens,
 * the behaviour before) runs only when asked for. Dovecot runs with `default_vsz_limit` and the config
 * service's `vsz_limit` raised (MAILTLS_BENCH_DOVECOT_VSZ, default 4G): with the default 256 MB its config
 * process cannot hold 10,000 local_name blocks.
 *
 * The example keeps at most 1000 TLS contexts built by default (the least recently used are rebuilt when
 * asked for again); a row with `--max-contexts 0` (or MAILTLS_BENCH_MAX_CONTEXTS) shows it without a bound.
 *
 * MAILTLS_BENCH_SERVERS=lazy,max-contexts,eager,dovecot,postfix runs only those (matched against the row's
 * label; `lazy` alone leaves out the --max-contexts row).
 * Needs root (Postfix and Dovecot), postfix, postmap and dovecot; a server that is missing is reported as such.
 * Prints figures; asserts nothing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { encodeDovecotConfig, encodePostfixConfig, encodePostfixSNIMap } from '../src/config/index.js';
import { createCertificateAuthority, createCSR, generateKeyPair, issueCertificate } from '../src/index.js';
import { CertificateStore, loadServerTLSLayout } from '../src/node/index.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const N = Number(process.env.MAILTLS_BENCH_DOMAINS ?? 10_000);
const KEYS = (process.env.MAILTLS_BENCH_KEYS ?? 'ec,rsa').split(',') as ('ec' | 'rsa')[];
const PARALLEL = 8;
const name = (i: number): string => `d${String(i).padStart(5, '0')}.bench.test`;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A store of N hand-placed pairs (certs/<d>.crt, private/<d>.key), one certificate per domain. */
async function makeStore(dir: string, keyType: 'ec' | 'rsa'): Promise<CertificateStore> {
  const notBefore = new Date(Date.now() - 3_600_000);
  const ca = await createCertificateAuthority({ name: 'Bench Root', keyType: 'ec', notBefore, days: 30 });
  writeFileSync(join(dir, 'root.pem'), ca.root.certPEM);
  const key = await generateKeyPair({ type: keyType });
  const csr = await createCSR({ key, subject: { commonName: 'bench.test' } });
  const root = join(dir, 'store');
  for (const d of ['certs', 'private']) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  chmodSync(join(root, 'private'), 0o700);
  const keyPEM = csr.keyPEM;
  for (let i = 0; i < N; i++) {
    const issued = await issueCertificate(csr.csrPEM, ca.issuer, {
      hostnames: [name(i)],
      notBefore,
      days: 20,
    });
    writeFileSync(join(root, 'certs', `${name(i)}.crt`), issued.certPEM);
    writeFileSync(join(root, 'private', `${name(i)}.key`), keyPEM, { mode: 0o600 });
  }
  return new CertificateStore(root);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** One handshake for `servername` (implicit TLS, or SMTP STARTTLS); whether the certificate carries the name. */
function handshake(port: number, servername: string, starttls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean, s?: net.Socket): void => {
      s?.destroy();
      resolve(ok);
    };
    const secure = (socket?: net.Socket): void => {
      const t = tls.connect({
        ...(socket === undefined ? { host: '127.0.0.1', port } : { socket }),
        servername,
        rejectUnauthorized: false,
      });
      t.once('secureConnect', () =>
        done(String(t.getPeerCertificate().subjectaltname).includes(`DNS:${servername}`), t),
      );
      t.once('error', () => done(false, t));
    };
    if (!starttls) return secure();
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let step = 0;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (!/\r\n$/.test(buf) || /^\d{3}-/m.test(buf.split('\r\n').slice(-2)[0] ?? '')) return;
      const reply = buf;
      buf = '';
      if (step === 0 && reply.startsWith('220')) s.write('EHLO bench.test\r\n');
      else if (step === 1 && /^250 /m.test(reply)) s.write('STARTTLS\r\n');
      else if (step === 2 && reply.startsWith('220')) {
        s.removeAllListeners('data');
        return secure(s);
      } else return done(false, s);
      step++;
    });
    s.once('error', () => done(false, s));
  });
}

/**
 * Memory of every process in the process group `pgid`, in MiB: resident (RSS, summed: pages several processes
 * share are counted in each) and proportional (PSS: a shared page counted once, divided among its sharers).
 */
function memoryOfGroup(pgid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

interface Figures {
  firstMs: number;
  /** Resident memory of the process tree right after the first handshake. */
  firstRssMiB: number;
  /** Proportional memory of the process tree right after the first handshake. */
  firstPssMiB: number;
  allMs: number;
  rssMiB: number;
  pssMiB: number;
  wrong: number;
  /** Names served before the time cap (N when all were). */
  served: number;
}

/** The bound of the `--max-contexts` row (MAILTLS_BENCH_MAX_CONTEXTS, default 0: no bound). */
const MAX_CONTEXTS = Number(process.env.MAILTLS_BENCH_MAX_CONTEXTS ?? 0);

/** Dovecot's vsz_limit for its config and login processes (MAILTLS_BENCH_DOVECOT_VSZ, default 4G). */
const DOVECOT_VSZ = process.env.MAILTLS_BENCH_DOVECOT_VSZ ?? '4G';

/** The longest the "every name once" phase may run (MAILTLS_BENCH_CAP_S, default 300 s). */
const CAP_MS = Number(process.env.MAILTLS_BENCH_CAP_S ?? 300) * 1000;

/** Polls for the first successful handshake for any name, then serves every name once. */
async function measure(
  t0: number,
  port: number,
  starttls: boolean,
  pgid: () => number,
  failed: () => string | undefined,
): Promise<Figures> {
  for (;;) {
    const why = failed();
    if (why !== undefined) throw new Error(why);
    if (await handshake(port, name(0), starttls)) break;
    if (performance.now() - t0 > 600_000) throw new Error('no handshake in 10 minutes');
    await new Promise((r) => setTimeout(r, 5));
  }
  const firstMs = performance.now() - t0;
  const first = memoryOfGroup(pgid());
  const end = performance.now() + CAP_MS;
  let next = 0;
  let wrong = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < N && performance.now() < end)
        if (!(await handshake(port, name(next++), starttls))) wrong++;
    }),
  );
  const allMs = performance.now() - t0;
  const last = memoryOfGroup(pgid());
  return {
    firstMs,
    firstRssMiB: first.rss,
    firstPssMiB: first.pss,
    allMs,
    rssMiB: last.rss,
    pssMiB: last.pss,
    wrong,
    served: next,
  };
}

function stopGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      resolve();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 10_000).unref();
  });
}

async function runMailtls(store: CertificateStore, extra: readonly string[]): Promise<Figures> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    // The default domain is named, as the Postfix and Dovecot configurations name their default certificate
    // (the store's first domain): none of the three servers lists the store to find it.
    [
      join(repo, 'build/examples/mail-server.js'),
      ...['--store', store.root, '--base-port', '0', '--default', name(0), ...extra],
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let exited: string | undefined;
  child.once('exit', (c) => (exited = `mail-server exited ${c}`));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', () => reject(new Error(exited)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('ready '))
        resolve((JSON.parse(l.slice(6)) as { ports: { smtps: number } }).ports.smtps);
    });
  });
  try {
    return await measure(
      t0,
      port,
      false,
      () => child.pid!,
      () => exited,
    );
  } finally {
    await stopGroup(child);
  }
}

async function runDovecot(dir: string, store: CertificateStore): Promise<Figures> {
  const base = join(dir, 'dovecot');
  mkdirSync(base);
  const port = await freePort();
  const conf = join(base, 'dovecot.conf');
  const emitted = encodeDovecotConfig(await loadServerTLSLayout(store));
  writeFileSync(
    conf,
    `base_dir = ${join(base, 'run')}\nstate_dir = ${join(base, 'state')}\nlog_path = ${join(base, 'log')}\nprotocols = imap\nlisten = 127.0.0.1\n` +
      `service imap-login {\n  chroot =\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ${port}\n    ssl = yes\n  }\n}\nservice anvil {\n  chroot =\n}\n` +
      // The config process parses every local_name block and hands the whole configuration to each login
      // process: with thousands of blocks both need more than the default 256 MB of address space.
      `default_vsz_limit = ${DOVECOT_VSZ}\nservice config {\n  vsz_limit = ${DOVECOT_VSZ}\n}\n` +
      `passdb {\n  driver = static\n  args = password=x\n}\nuserdb {\n  driver = static\n  args = uid=dovecot gid=dovecot home=${base}\n}\n${emitted}`,
  );
  const t0 = performance.now();
  const child = spawn('dovecot', ['-F', '-c', conf], { detached: true, stdio: 'ignore' });
  let exited: string | undefined;
  child.once(
    'exit',
    (c) =>
      (exited = `dovecot exited ${c}: ${existsSync(join(base, 'log')) ? readFileSync(join(base, 'log'), 'utf8').slice(-500) : ''}`),
  );
  try {
    return await measure(
      t0,
      port,
      false,
      () => child.pid!,
      () => exited,
    );
  } finally {
    await stopGroup(child);
  }
}

async function runPostfix(dir: string, store: CertificateStore): Promise<Figures> {
  const base = join(dir, 'postfix');
  const conf = join(base, 'conf');
  for (const d of [conf, join(base, 'queue'), join(base, 'data')]) mkdirSync(d, { recursive: true });
  chownSync(
    join(base, 'data'),
    Number(/^postfix:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1] ?? 0),
    0,
  );
  const port = await freePort();
  const layout = await loadServerTLSLayout(store);
  const sni = join(conf, 'mailtls-sni');
  writeFileSync(sni, encodePostfixSNIMap(layout));
  writeFileSync(
    join(conf, 'main.cf'),
    `compatibility_level = 3.6\nqueue_directory = ${join(base, 'queue')}\ndata_directory = ${join(base, 'data')}\nmail_owner = postfix\nsetgid_group = postdrop\ninet_interfaces = loopback-only\ninet_protocols = ipv4\nmyhostname = bench.test\nmydestination =\nmaillog_file_prefixes = ${base}\nmaillog_file = ${join(base, 'maillog')}\n` +
      encodePostfixConfig(layout, {}, { sniMap: sni }),
  );
  writeFileSync(
    join(conf, 'master.cf'),
    `127.0.0.1:${port} inet n - n - - smtpd\n${['pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr', 'tlsmgr unix - - n 1000? 1 tlsmgr', 'rewrite unix - - n - - trivial-rewrite', 'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify', 'proxymap unix - - n - - proxymap', 'smtp unix - - n - - smtp', 'showq unix n - n - - showq', 'error unix - - n - - error', 'anvil unix - - n - 1 anvil', 'scache unix - - n - 1 scache', 'postlog unix-dgram n - n - 1 postlogd'].join('\n')}\n`,
  );
  const t0 = performance.now();
  const postmap = spawnSync('postmap', ['-c', conf, '-F', `hash:${sni}`], { encoding: 'utf8' });
  if (postmap.status !== 0) throw new Error(`postmap: ${postmap.stderr}`);
  const postmapMs = performance.now() - t0;
  const child = spawn('postfix', ['-c', conf, 'start-fg'], { detached: true, stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (c) => (exited = `postfix exited ${c}`));
  try {
    // master puts itself in a session of its own: its process group is its pid
    const masterPid = (): number =>
      Number(readFileSync(join(base, 'queue', 'pid', 'master.pid'), 'utf8').trim());
    const f = await measure(t0, port, true, masterPid, () => exited);
    console.log(`    (postmap -F of ${N} entries: ${(postmapMs / 1000).toFixed(2)} s of the above)`);
    return f;
  } finally {
    spawnSync('postfix', ['-c', conf, 'stop']);
    await stopGroup(child);
  }
}

function row(server: string, f: Figures | string): string {
  if (typeof f === 'string') return `| ${server} | ${f} | | | | |`;
  const all =
    f.served === N
      ? `${(f.allMs / 1000).toFixed(1)} s`
      : `stopped at ${(f.allMs / 1000).toFixed(0)} s: ${f.served} of ${N} served`;
  // Per domain: what serving the names added to the memory held at the first handshake, per name served.
  const added = (after: number, before: number): string =>
    (((after - before) * 1024) / Math.max(1, f.served)).toFixed(1);
  return (
    `| ${server} | ${(f.firstMs / 1000).toFixed(2)} s (${f.firstRssMiB.toFixed(0)} / ${f.firstPssMiB.toFixed(0)} MiB) | ${all} | ` +
    `${f.rssMiB.toFixed(0)} / ${f.pssMiB.toFixed(0)} MiB | ` +
    `${added(f.rssMiB, f.firstRssMiB)} / ${added(f.pssMiB, f.firstPssMiB)} KiB | ${f.wrong} |`
  );
}

if (!existsSync(join(repo, 'build/examples/mail-server.js'))) {
  spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: repo,
  });
  spawnSync(
    process.execPath,
    [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'examples/tsconfig.json'],
    { cwd: repo },
  );
}

for (const keyType of KEYS) {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-bench-servers-'));
  chmodSync(dir, 0o755);
  try {
    const t = performance.now();
    const store = await makeStore(dir, keyType);
    console.log(
      `\n${N} domains, ${keyType === 'ec' ? 'P-256' : 'RSA 2048'} (store made in ${((performance.now() - t) / 1000).toFixed(0)} s)\n`,
    );
    console.log(
      '| server | first handshake (RSS / PSS then) | every name once | RSS / PSS then | added per name served (RSS / PSS) | wrong certificate |',
    );
    console.log('|---|---|---|---|---|---|');
    const runs: [string, () => Promise<Figures>, string[]][] = [
      ['examples/mail-server.ts (mailtls, lazy, at most 1000 contexts)', () => runMailtls(store, []), []],
      [
        `examples/mail-server.ts --max-contexts ${MAX_CONTEXTS} (mailtls, lazy${MAX_CONTEXTS === 0 ? ', no bound' : ''})`,
        () => runMailtls(store, ['--max-contexts', String(MAX_CONTEXTS)]),
        [],
      ],
      ['examples/mail-server.ts --eager (mailtls, before)', () => runMailtls(store, ['--eager']), []],
      [`Dovecot ${N} local_name blocks`, () => runDovecot(dir, store), ['dovecot']],
      [
        `Postfix ${N}-entry SNI table (incl. postmap -F)`,
        () => runPostfix(dir, store),
        ['postfix', 'postmap'],
      ],
    ];
    // The --eager row (minutes at 10,000 domains) runs only when MAILTLS_BENCH_SERVERS names it.
    const only = process.env.MAILTLS_BENCH_SERVERS?.split(',');
    for (const [label, fn, needs] of runs) {
      if (only === undefined && label.includes('--eager')) continue;
      if (only?.includes('lazy') === true && !only.includes('max-contexts') && label.includes('--max-'))
        continue;
      if (only !== undefined && !only.some((w) => label.toLowerCase().includes(w))) continue;
      const missing = needs.filter((c) => !has(c));
      if (missing.length > 0) {
        console.log(row(label, `not run: ${missing.join(', ')} not installed`));
        continue;
      }
      try {
        console.log(row(label, await fn()));
      } catch (e) {
        console.log(row(label, `failed: ${(e as Error).message.slice(0, 200).replace(/\n/g, ' ')}`));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
