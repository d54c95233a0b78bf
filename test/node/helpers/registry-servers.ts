/** The two ways a registry is served, listening on 127.0.0.1, for tests of what a handshake gets. */
import type net from 'node:net';
import type tls from 'node:tls';
import { createPeekingTLSServer, createTLSServer } from '../../../src/node/tls/servers.js';
import type { SNIRegistry } from '../../../src/node/tls/sni-registry.js';
import { close, listen } from './listen.js';

/**
 * Servers on a registry: node's SNI path (createTLSServer) first, then the peeking server; each echoes what it
 * reads. `stop` destroys the open connections and closes both.
 */
export async function startServers(
  registry: SNIRegistry,
): Promise<{ ports: number[]; stop(): Promise<void> }> {
  const echo = (socket: tls.TLSSocket): void => {
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => socket.write(d));
  };
  const servers: net.Server[] = [
    createTLSServer(registry, {}, echo),
    createPeekingTLSServer(registry, {}, echo),
  ];
  const sockets = new Set<net.Socket>();
  for (const s of servers)
    s.on('connection', (c: net.Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
  const ports: number[] = [];
  for (const s of servers) ports.push(await listen(s));
  return {
    ports,
    stop: async () => {
      for (const c of sockets) c.destroy();
      for (const s of servers) await close(s);
    },
  };
}
