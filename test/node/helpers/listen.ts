/** Listening on 127.0.0.1 port 0 and closing again, for servers under test. */
import type net from 'node:net';

/** Listens on 127.0.0.1 with an ephemeral port and answers the port. */
export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Closes a server and every connection still open on it. */
export function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** Runs `fn` with the server listening, then closes it. */
export async function withServer<T>(server: net.Server, fn: (port: number) => Promise<T>): Promise<T> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  try {
    return await fn(port);
  } finally {
    for (const s of sockets) s.destroy();
    await close(server);
  }
}
