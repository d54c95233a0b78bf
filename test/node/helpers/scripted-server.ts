/**
 * A plaintext server that follows a script, for the client side of STARTTLS: a greeting, then for each line
 * the client sends, the reply the script gives (anything at all: malformed, oversized, with control
 * characters, or nothing). Unlike `line-responder.ts` it never starts TLS itself; when the script says
 * `tls`, the server hands the socket to a callback (e.g. `upgradeToTLS`) after writing the reply.
 * Every line received is recorded, and every connection's close is counted, so tests can prove what the
 * client sent and that it hung up.
 */
import net from 'node:net';

/** What the server does after a client line. */
export type ScriptStep =
  | string
  | { readonly reply: string; readonly after: 'close' }
  | { readonly reply: string; readonly after: 'tls' }
  | { readonly reply: string; readonly after: 'silence' };

/** The script: greeting and a reply function. */
export interface Script {
  /** Written on connect (may be '' to say nothing). */
  readonly greeting: string | Buffer;
  /** The reply to a client line; undefined = say nothing. */
  readonly reply: (line: string, index: number) => ScriptStep | undefined;
  /** Called with the plain socket when a step says `tls` (after its reply is written). */
  readonly onTLS?: (socket: net.Socket) => void;
}

/** A scripted server and what it saw. */
export interface ScriptedServer {
  readonly server: net.Server;
  /** Lines received, over all connections. */
  readonly lines: string[];
  /** Connections accepted. */
  connections: number;
  /** Connections closed. */
  closed: number;
}

/** Creates (does not start) a scripted server; listen with `listen()` / `withServer()` from listen.ts. */
export function createScriptedServer(script: Script): ScriptedServer {
  const state: ScriptedServer = { server: net.createServer(), lines: [], connections: 0, closed: 0 };
  state.server.on('connection', (socket) => {
    state.connections++;
    socket.on('error', () => {});
    socket.on('close', () => {
      state.closed++;
    });
    if (script.greeting.length > 0) socket.write(script.greeting);
    let buffer = Buffer.alloc(0);
    let index = 0;
    let stopped = false;
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let nl = buffer.indexOf(0x0a); nl >= 0 && !stopped; nl = buffer.indexOf(0x0a)) {
        const line = buffer.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buffer = buffer.subarray(nl + 1);
        state.lines.push(line);
        const step = script.reply(line, index++);
        if (step === undefined) continue;
        if (typeof step === 'string') {
          socket.write(step);
          continue;
        }
        stopped = true;
        if (step.after === 'close') socket.end(step.reply);
        else if (step.after === 'silence') socket.write(step.reply);
        else {
          socket.removeListener('data', onData);
          socket.pause();
          socket.write(step.reply, () => script.onTLS?.(socket));
        }
      }
    };
    socket.on('data', onData);
  });
  return state;
}
