/**
 * Starts Pebble (the ACME test CA) and pebble-challtestsrv (its DNS server) on loopback, on free ports chosen
 * at run time (Pebble needs its ports in its config file: a port is taken from 20000-32767, below the
 * ephemeral range, checked free, and the start is retried on a collision), with `-strict`,
 * `PEBBLE_VA_NOSLEEP=1` and a share of good nonces rejected (`PEBBLE_WFE_NONCEREJECT`). Pebble's own HTTPS
 * certificate is made here with openssl for 127.0.0.1 and localhost.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Pebble with its DNS server. */
export interface Pebble {
  /** Scratch directory (config, certificate). */
  readonly dir: string;
  /** The ACME directory URL. */
  readonly directoryUrl: string;
  /** Pebble's HTTPS certificate (PEM): trust it to talk to Pebble. */
  readonly directoryCA: string;
  /** Where `directoryCA` is on disk. */
  readonly directoryCAFile: string;
  /** The port Pebble validates http-01 on. */
  readonly httpPort: number;
  /** The port Pebble validates tls-alpn-01 on. */
  readonly tlsPort: number;
  /** pebble-challtestsrv's DNS server, `127.0.0.1:PORT`. */
  readonly dnsServer: string;
  /** pebble-challtestsrv's management URL. */
  readonly challtestsrvUrl: string;
  /** The root that issues (new at every Pebble start). */
  root(): Promise<string>;
  /** POSTs JSON to pebble-challtestsrv's management API (`/add-a`, `/set-txt`...). */
  manage(path: string, body: unknown): Promise<void>;
  /** Stops Pebble only (the CA goes down; the DNS server stays). */
  stopCA(): Promise<void>;
  /** Starts Pebble again on the same ports (a new, empty CA: accounts and orders are gone). */
  startCA(): Promise<void>;
  /** Stops everything and removes the scratch directory. */
  stop(): Promise<void>;
}

/** Options of {@link startPebble}. */
export interface PebbleOptions {
  /** Percentage of good nonces Pebble rejects (default 15). */
  nonceReject?: number;
  /**
   * The ports this Pebble validates http-01 and tls-alpn-01 on (default: free ones chosen here). Two Pebbles
   * given the same ports validate against the same responders (a staging and a production CA).
   */
  validationPorts?: { httpPort: number; tlsPort: number };
}

const used = new Set<number>();

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port from 20000-32767 that is free now (the caller retries if another program takes it first). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (used.has(port)) continue;
    if (await isFree(port)) {
      used.add(port);
      return port;
    }
  }
}

/**
 * Spawns a program with its output going to a log file (never a pipe: a pipe nobody drains while the
 * caller blocks in spawnSync would fill up and stop the program) and resolves once the log matches `ready`;
 * rejects if the program exits first or does not get ready within 20 s.
 */
function startProgram(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  ready: RegExp,
  log: string,
): Promise<ChildProcess> {
  const fd = openSync(log, 'w');
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    let done = false;
    const output = (): string => {
      try {
        return readFileSync(log, 'utf8');
      } catch {
        return '';
      }
    };
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(limit);
      if (error) reject(error);
      else resolve(child);
    };
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`${command} did not start within 20 s:\n${output()}`));
    }, 20_000);
    child.once('error', (e) => finish(e));
    child.once('exit', (code) =>
      finish(
        Object.assign(new Error(`${command} exited (${code}) before it was ready:\n${output()}`), {
          output: output(),
        }),
      ),
    );
    // Wait for the state "the log says it is ready", looking again at growing intervals.
    const look = (wait: number): void => {
      if (done) return;
      if (ready.test(output())) finish();
      else setTimeout(() => look(Math.min(wait * 2, 200)), wait);
    };
    look(10);
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function request(url: string, ca: string, method = 'GET', body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    const onResponse = (res: http.IncomingMessage): void => {
      let data = '';
      res.on('data', (c: Buffer) => {
        data += c.toString();
      });
      res.on('end', () =>
        (res.statusCode ?? 500) < 300
          ? resolve(data)
          : reject(new Error(`${method} ${url}: ${res.statusCode} ${data}`)),
      );
    };
    const req = url.startsWith('https:')
      ? https.request(url, { method, ca, headers }, onResponse)
      : http.request(url, { method, headers }, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts pebble-challtestsrv and Pebble; retries with new ports when one was taken meanwhile. */
export async function startPebble(options: PebbleOptions = {}): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-pebble-'));
  const keyFile = join(dir, 'pk.key');
  const certFile = join(dir, 'pk.crt');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make Pebble's certificate: ${made.stderr}`);
  const directoryCA = readFileSync(certFile, 'utf8');
  for (let attempt = 1; ; attempt++) {
    const [acmePort, mgmtPort, dnsPort, ctsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ] as [number, number, number, number];
    const httpPort = options.validationPorts?.httpPort ?? (await freePort());
    const tlsPort = options.validationPorts?.tlsPort ?? (await freePort());
    const config = join(dir, 'pebble.json');
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${mgmtPort}`,
          certificate: certFile,
          privateKey: keyFile,
          httpPort,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const env = {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: String(options.nonceReject ?? 15),
      PEBBLE_AUTHZREUSE: '0',
    };
    let cts: ChildProcess | undefined;
    let starts = 0;
    let ca: ChildProcess | undefined;
    const startCA = async (): Promise<void> => {
      ca = await startProgram(
        'pebble',
        ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict'],
        env,
        dir,
        /ACME directory available at/,
        join(dir, `pebble-${++starts}.log`),
      );
    };
    try {
      cts = await startProgram(
        'pebble-challtestsrv',
        [
          '-defaultIPv4',
          '127.0.0.1',
          '-defaultIPv6',
          '',
          '-dns01',
          `127.0.0.1:${dnsPort}`,
          '-http01',
          '',
          '-tlsalpn01',
          '',
          '-https01',
          '',
          '-management',
          `127.0.0.1:${ctsPort}`,
        ],
        env,
        dir,
        /Starting management server/,
        join(dir, 'challtestsrv.log'),
      );
      await startCA();
    } catch (e) {
      await stopChild(ca);
      await stopChild(cts);
      if (attempt < 5 && /address already in use/.test(String((e as { output?: string }).output))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const mgmt = `https://127.0.0.1:${mgmtPort}`;
    const challtestsrvUrl = `http://127.0.0.1:${ctsPort}`;
    return {
      dir,
      directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
      directoryCA,
      directoryCAFile: certFile,
      httpPort,
      tlsPort,
      dnsServer: `127.0.0.1:${dnsPort}`,
      challtestsrvUrl,
      root: () => request(`${mgmt}/roots/0`, directoryCA),
      manage: async (path, body) => {
        await request(`${challtestsrvUrl}${path}`, directoryCA, 'POST', JSON.stringify(body));
      },
      stopCA: () => stopChild(ca),
      startCA,
      stop: async () => {
        await stopChild(ca);
        await stopChild(cts);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
