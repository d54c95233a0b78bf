/**
 * `mailtls admin`: the web administrator over HTTPS, and `mailtls admin init` to create its login.
 *
 * @module cli/admin
 */
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createAdminHandler, hasAdminUsers, setAdminPassword } from '../admin/index.js';
import { createSelfSignedCertificate, parseCertificateBundle } from '../index.js';
import { CertificateStore, createHTTPSServer, createSNIRegistry } from '../node/index.js';
import { examples, runCommand } from './common.js';
import { readFirstLine, readInput } from './files.js';
import { CLIError, type Output } from './output.js';

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(question);
    out._writeToOutput = () => undefined;
    rl.once('line', (line) => {
      rl.close();
      process.stderr.write('\n');
      resolve(line);
    });
    rl.once('close', () =>
      reject(new CLIError('ERR_CLI_USAGE', 'Input ended before the password was given.')),
    );
  });
}

async function init(
  opts: { store: string; user?: string; passwordFile?: string },
  out: Output,
): Promise<number> {
  let password: string;
  if (opts.passwordFile !== undefined) password = readFirstLine(opts.passwordFile, 'password file');
  else if (process.stdin.isTTY) {
    password = await askHidden(`Password for ${opts.user ?? 'admin'}: `);
    if ((await askHidden('Again: ')) !== password)
      throw new CLIError('ERR_CLI_USAGE', 'The two passwords differ: nothing was changed.');
  } else
    throw new CLIError(
      'ERR_CLI_USAGE',
      'Give the password with --password-file FILE (or run on a terminal to be asked).',
    );
  await setAdminPassword(opts.store, { ...(opts.user === undefined ? {} : { user: opts.user }), password });
  out.note(
    `administrator ${opts.user ?? 'admin'} can log in (password hash in ${opts.store}/admin/users.json)`,
  );
  out.result({ user: opts.user ?? 'admin', store: opts.store });
  return 0;
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || port > 65535)
    throw new CLIError(
      'ERR_CLI_USAGE',
      `--listen ${value}: write HOST:PORT, e.g. 127.0.0.1:8443 (port 0 picks a free one).`,
    );
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

async function serve(
  opts: { store: string; listen: string; host?: string; trust?: string },
  out: Output,
): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const trust =
    opts.trust === undefined ? [] : parseCertificateBundle(readInput(opts.trust, 'trust file')).certificates;
  const store = new CertificateStore(opts.store, { trust });
  if (!(await hasAdminUsers(opts.store)))
    throw new CLIError(
      'ERR_CLI_USAGE',
      `No administrator yet: run "mailtls admin init --store ${opts.store}" first.`,
    );
  const name = (opts.host ?? hostname()).toLowerCase();
  let credential: { key: string; cert: string };
  const domains = await store.list();
  const own = domains.find((d) => d === name || (d.startsWith('*.') && name.endsWith(d.slice(1))));
  if (own !== undefined) {
    const c = await store.load(own);
    credential = { key: c.key, cert: c.cert };
    out.note(`serving with the store's certificate for ${own}`);
  } else {
    const self = await createSelfSignedCertificate({
      commonName: name.includes('.') ? name : 'localhost',
      ipAddresses: ['127.0.0.1', '::1'],
      keyType: 'ec',
      days: 30,
      at: new Date(),
    });
    credential = { key: self.keyPEM, cert: self.certPEM };
    const fp = parseCertificateBundle(self.certPEM).certificates[0]?.fingerprint('sha256') ?? '';
    out.warn(
      `THE STORE HAS NO CERTIFICATE FOR ${name}: serving a SELF-SIGNED certificate made for this run only.\n` +
        `  Your browser will warn; accept it only if its SHA-256 fingerprint is\n  ${fp}\n` +
        `  Install a certificate for ${name} into the store (or pass --host NAME) to end this.`,
    );
  }
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost')
    out.warn(`listening on ${host}, not on loopback: anyone who reaches this address sees the login page.`);
  const handler = createAdminHandler({ store, trust });
  const registry = createSNIRegistry(credential);
  const server = createHTTPSServer(registry, {}, (req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actual = typeof bound === 'object' && bound !== null ? bound.port : port;
  process.stdout.write(`listening https://${host.includes(':') ? `[${host}]` : host}:${actual}/\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Registers `mailtls admin` and `mailtls admin init`. */
export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      'the web administrator: CSRs, certificates, installs and TLS settings in a browser, over HTTPS',
    );
  admin
    .command('serve', { isDefault: true })
    .description('serve the administrator over HTTPS (the default sub-command)')
    .requiredOption('--store <dir>', 'the certificate store')
    .option('--listen <host:port>', 'where to listen (loopback by default)', '127.0.0.1:8443')
    .option(
      '--host <name>',
      "the host name whose certificate the store serves it with (default this machine's name)",
    )
    .option('--trust <file>', 'more trusted roots (PEM) for chains and probes, e.g. a private CA')
    .option('--json', 'errors as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls admin --store /etc/mail/tls',
        'mailtls admin --store /etc/mail/tls --listen 127.0.0.1:9443',
      ),
    )
    .action((opts: { store: string; listen: string; host?: string; trust?: string; json?: boolean }) =>
      runCommand(opts.json, (out) => serve(opts, out)),
    );
  admin
    .command('init')
    .description('create the administrator login (or set a new password): an scrypt hash in the store')
    .requiredOption('--store <dir>', 'the certificate store')
    .option('--user <name>', 'the user name', 'admin')
    .option(
      '--password-file <file>',
      'read the password from the first line of a file (default: ask on the terminal)',
    )
    .option('--json', 'output as JSON')
    .addHelpText(
      'after',
      examples(
        'mailtls admin init --store /etc/mail/tls',
        'mailtls admin init --store /srv/tls --user alice --password-file pw.txt',
      ),
    )
    .action((opts: { store: string; user?: string; passwordFile?: string; json?: boolean }) =>
      runCommand(opts.json, (out) => init(opts, out)),
    );
}
