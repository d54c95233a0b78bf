/**
 * The outside programs the tests run as independent peers (TLS clients, scanners, GnuTLS's danetool, a pseudo
 * terminal), each looked up on PATH once per test process.
 *
 * A test that runs one starts with `if (skipWithout(t, 'gnutls-cli')) return;` (or a suite passes
 * `needs('gnutls-cli')` as its node:test options). When the program is missing the test is skipped with the
 * reason and the command that installs it; with `MAILTLS_REQUIRE_PEERS=1` (CI) a missing program is an error
 * instead, so CI never passes by skipping. Each skip is noted in the file named by
 * `MAILTLS_PEERS_LOG` (scripts/test.mjs sets it), so the run can end with one line naming every missing peer.
 */
import { accessSync, appendFileSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Each peer program and the Debian package that installs it (scripts/peers.sh installs them all). */
export const PEERS = {
  openssl: 'openssl',
  curl: 'curl',
  'gnutls-cli': 'gnutls-bin',
  danetool: 'gnutls-bin',
  faketime: 'faketime',
  sslscan: 'sslscan',
  testssl: 'testssl.sh',
  script: 'bsdutils',
  python3: 'python3',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  certbot: 'certbot',
  lego: 'lego',
  chromium: 'chromium',
  postfix: 'postfix',
  postmap: 'postfix',
  dovecot: 'dovecot-imapd+dovecot-pop3d',
  doveadm: 'dovecot-imapd+dovecot-pop3d',
} as const;

/** A peer program's name. */
export type Peer = keyof typeof PEERS;

/** The one command that installs every peer. */
export const INSTALL_ALL = 'npm run peers';

/** The environment variable that turns a missing peer into a failure. */
export const REQUIRE_VARIABLE = 'MAILTLS_REQUIRE_PEERS';

/** The environment variable naming the file where skips are noted. */
export const LOG_VARIABLE = 'MAILTLS_PEERS_LOG';

/** The node:test options `needs` returns: nothing, or a skip with its reason. */
export interface PeerTestOptions {
  skip?: string;
}

/** The environment the lookups read (process.env by default; the peer tests pass their own). */
export type PeerEnv = Readonly<Record<string, string | undefined>>;

/** Where `command` is on `path` (a PATH value): the first executable regular file, or undefined. */
export function findOnPath(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable: try the next directory
    }
  }
  return undefined;
}

const found = new Map<string, boolean>();

/** Whether a peer is installed (on the environment's PATH); each lookup is done once per process. */
export function hasPeer(peer: Peer, env: PeerEnv = process.env): boolean {
  const path = env.PATH ?? '';
  const key = `${peer}\0${path}`;
  let ok = found.get(key);
  if (ok === undefined) {
    ok = findOnPath(peer, path) !== undefined;
    found.set(key, ok);
  }
  return ok;
}

/** The peers among `peers` that are not installed, in table order. */
export function missingPeers(
  peers: readonly Peer[] = Object.keys(PEERS) as Peer[],
  env: PeerEnv = process.env,
): Peer[] {
  return (Object.keys(PEERS) as Peer[]).filter((p) => peers.includes(p) && !hasPeer(p, env));
}

/** Why a test cannot run without `peer`, with the command that installs it. */
export function peerReason(peer: Peer): string {
  return `${peer} not installed: apt-get install ${PEERS[peer].replaceAll('+', ' ')}`;
}

/**
 * node:test options for a test that runs `peers`: `{}` when all are installed, else `{ skip: reason }` naming
 * each missing one and its install command. With MAILTLS_REQUIRE_PEERS=1 a missing peer throws instead (the
 * test file or suite fails with the reason).
 */
export function peerOptions(peers: readonly Peer[], env: PeerEnv = process.env): PeerTestOptions {
  const missing = missingPeers(peers, env);
  if (missing.length === 0) return {};
  const reason = missing.map(peerReason).join('; ');
  if (env[REQUIRE_VARIABLE] === '1') {
    throw new Error(`${reason} (${REQUIRE_VARIABLE}=1 makes a missing test peer a failure; ${INSTALL_ALL})`);
  }
  const log = env[LOG_VARIABLE];
  if (log) appendFileSync(log, `${missing.join(' ')}\n`);
  return { skip: reason };
}

/** `peerOptions` for this process, as a test's or suite's options: `describe('...', needs('curl'), () => ...)`. */
export function needs(...peers: Peer[]): PeerTestOptions {
  return peerOptions(peers);
}

/**
 * The same check from inside a running test: when a peer is missing, marks the test skipped with the reason
 * and answers true, so the test returns at once (`if (skipWithout(t, 'gnutls-cli')) return;`). With
 * MAILTLS_REQUIRE_PEERS=1 it throws the reason instead, which fails the test.
 */
export function skipWithout(t: { skip(message?: string): void }, ...peers: Peer[]): boolean {
  const { skip } = peerOptions(peers);
  if (skip === undefined) return false;
  t.skip(skip);
  return true;
}
