/**
 * A minimal SMTP / POP3 / IMAP responder for TLS tests: enough protocol for openssl s_client -starttls, curl,
 * gnutls-cli --starttls-proto and Python's smtplib/imaplib/poplib to get through greeting, capabilities,
 * STARTTLS/STLS, a login or a message, and QUIT/LOGOUT. Multi-line replies go out in one socket write.
 * TLS comes from mailtls: `acceptTLS` for implicit TLS, `upgradeToTLS` after STARTTLS.
 *
 * Every command executed is recorded with whether it arrived over TLS, and NOOP replies carry a counter
 * (`noop 1`, `noop 2`...), so a test can prove an injected command was never executed.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { acceptTLS } from '../../../src/node/tls/servers.js';
import type { SNIRegistry } from '../../../src/node/tls/sni-registry.js';
import { formatStartTLSReply, type UpgradedTLSInfo, upgradeToTLS } from '../../../src/node/tls/starttls.js';

/** The protocols the responder speaks. */
export type ResponderProtocol = 'smtp' | 'pop3' | 'imap';

/** One executed command. */
export interface ResponderEvent {
  /** The command line as received (without CRLF). */
  readonly line: string;
  /** Whether it arrived over TLS. */
  readonly secure: boolean;
}

/** Options of {@link createLineResponder}. */
export interface LineResponderOptions {
  protocol: ResponderProtocol;
  registry: SNIRegistry;
  /** Implicit TLS from the first byte (465/993/995) instead of STARTTLS. */
  implicit?: boolean;
  /** The server name in greetings (default mail.example.test). */
  hostname?: string;
}

/** A running responder's server and what it saw. */
export interface LineResponder {
  readonly server: net.Server;
  /** Commands executed, in order. */
  readonly events: ResponderEvent[];
  /** Errors from TLS setup (ClientHello, handshake). */
  readonly errors: unknown[];
  /** Details of each STARTTLS upgrade. */
  readonly upgrades: UpgradedTLSInfo[];
}

interface Session {
  secure: boolean;
  inData: boolean;
  noops: number;
}

type Reply = string | { reply: string; upgrade: true; tag?: string } | { reply: string; close: true };

function smtp(line: string, s: Session, host: string): Reply {
  if (s.inData) {
    if (line === '.') {
      s.inData = false;
      return '250 2.0.0 Ok: queued\r\n';
    }
    return '';
  }
  const verb = line.split(' ')[0]!.toUpperCase();
  switch (verb) {
    case 'EHLO':
      return (
        `250-${host}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n` +
        (s.secure ? '250 AUTH PLAIN\r\n' : '250 STARTTLS\r\n')
      );
    case 'HELO':
      return `250 ${host}\r\n`;
    case 'STARTTLS':
      if (s.secure) return '503 5.5.1 TLS already active\r\n';
      return { reply: formatStartTLSReply('smtp'), upgrade: true };
    case 'NOOP':
      return `250 2.0.0 Ok noop ${++s.noops}\r\n`;
    case 'MAIL':
    case 'RCPT':
    case 'RSET':
      return '250 2.1.0 Ok\r\n';
    case 'AUTH':
      return '235 2.7.0 Authentication successful\r\n';
    case 'DATA':
      s.inData = true;
      return '354 End data with <CR><LF>.<CR><LF>\r\n';
    case 'HELP':
      return '214 2.0.0 mailtls test responder\r\n';
    case 'QUIT':
      return { reply: '221 2.0.0 Bye\r\n', close: true };
    default:
      return '502 5.5.2 Error: command not recognized\r\n';
  }
}

function pop3(line: string, s: Session): Reply {
  const verb = line.split(' ')[0]!.toUpperCase();
  switch (verb) {
    case 'CAPA':
      return `+OK Capability list follows\r\nUSER\r\nUIDL\r\n${s.secure ? '' : 'STLS\r\n'}.\r\n`;
    case 'STLS':
      if (s.secure) return '-ERR TLS already active\r\n';
      return { reply: formatStartTLSReply('pop3'), upgrade: true };
    case 'NOOP':
      return `+OK noop ${++s.noops}\r\n`;
    case 'USER':
    case 'PASS':
      return '+OK\r\n';
    case 'STAT':
      return '+OK 0 0\r\n';
    case 'LIST':
    case 'UIDL':
      return '+OK 0 messages\r\n.\r\n';
    case 'QUIT':
      return { reply: '+OK Bye\r\n', close: true };
    default:
      return '-ERR unknown command\r\n';
  }
}

function imap(line: string, s: Session): Reply {
  const [tag = '*', rawVerb = ''] = line.split(' ');
  const verb = rawVerb.toUpperCase();
  switch (verb) {
    case 'CAPABILITY':
      return (
        `* CAPABILITY IMAP4rev1${s.secure ? '' : ' STARTTLS'}\r\n` + `${tag} OK CAPABILITY completed\r\n`
      );
    case 'STARTTLS':
      if (s.secure) return `${tag} BAD TLS already active\r\n`;
      return { reply: formatStartTLSReply('imap', tag), upgrade: true, tag };
    case 'NOOP':
      return `${tag} OK noop ${++s.noops} completed\r\n`;
    case 'LOGIN':
    case 'AUTHENTICATE':
      return `${tag} OK LOGIN completed\r\n`;
    case 'LIST':
      return `* LIST () "/" INBOX\r\n${tag} OK LIST completed\r\n`;
    case 'SELECT':
    case 'EXAMINE':
      return `* 0 EXISTS\r\n* FLAGS ()\r\n${tag} OK [READ-ONLY] completed\r\n`;
    case 'LOGOUT':
      return { reply: `* BYE logging out\r\n${tag} OK LOGOUT completed\r\n`, close: true };
    default:
      return `${tag} BAD unknown command\r\n`;
  }
}

function greeting(protocol: ResponderProtocol, host: string): string {
  switch (protocol) {
    case 'smtp':
      return `220 ${host} ESMTP mailtls test responder\r\n`;
    case 'pop3':
      return '+OK mailtls test responder ready\r\n';
    case 'imap':
      return '* OK [CAPABILITY IMAP4rev1 STARTTLS] mailtls test responder ready\r\n';
  }
}

/**
 * Creates (does not start) a responder. Listen with `listen(responder.server)` from `listen.ts`.
 */
export function createLineResponder(options: LineResponderOptions): LineResponder {
  const host = options.hostname ?? 'mail.example.test';
  const events: ResponderEvent[] = [];
  const errors: unknown[] = [];
  const upgrades: UpgradedTLSInfo[] = [];
  const handle = (line: string, s: Session): Reply =>
    options.protocol === 'smtp'
      ? smtp(line, s, host)
      : options.protocol === 'pop3'
        ? pop3(line, s)
        : imap(line, s);

  function serve(socket: net.Socket | tls.TLSSocket, secure: boolean, greet: boolean): void {
    const session: Session = { secure, inData: false, noops: 0 };
    let buffer = Buffer.alloc(0);
    let stopped = false;
    socket.on('error', () => {});
    if (greet) socket.write(greeting(options.protocol, host));
    const onData = (chunk: Buffer): void => {
      if (stopped) return;
      buffer = Buffer.concat([buffer, chunk]);
      for (let nl = buffer.indexOf(0x0a); nl >= 0 && !stopped; nl = buffer.indexOf(0x0a)) {
        const line = buffer.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buffer = buffer.subarray(nl + 1);
        if (!session.inData) events.push({ line, secure: session.secure });
        const reply = handle(line, session);
        if (typeof reply === 'string') {
          if (reply) socket.write(reply);
        } else if ('close' in reply) {
          stopped = true;
          socket.end(reply.reply);
        } else {
          stopped = true;
          socket.removeListener('data', onData);
          upgradeToTLS(socket as net.Socket, options.registry, {
            reply: reply.reply,
            pipelined: buffer,
          }).then(
            (secureSocket) => {
              upgrades.push(secureSocket.mailtls);
              serve(secureSocket, true, false);
            },
            (e: unknown) => errors.push(e),
          );
        }
      }
    };
    socket.on('data', onData);
  }

  const server = net.createServer((raw) => {
    raw.on('error', () => {});
    if (options.implicit) {
      acceptTLS(raw, options.registry).then(
        (secureSocket) => serve(secureSocket, true, true),
        (e: unknown) => errors.push(e),
      );
    } else {
      serve(raw, false, true);
    }
  });
  return { server, events, errors, upgrades };
}
