// upgradeToTLS from a typical line-based server: the socket has setEncoding('utf8') and the server calls
// upgradeToTLS from inside its own 'data' handler, leaving that handler attached. The TLS bytes that follow must
// still reach the handshake as bytes, and plaintext pipelined after STARTTLS must still be discarded.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createSNIRegistry } from '../../src/node/tls/sni-registry.js';
import { upgradeToTLS } from '../../src/node/tls/starttls.js';
import { runOpenSSL } from './helpers/clients.js';
import { withServer } from './helpers/listen.js';
import { testPKI } from './helpers/openssl-pki.js';

const HOST = 'mail.example.test';

function lineServer(encoding: BufferEncoding | undefined, upgrades: string[]): net.Server {
  const pki = testPKI();
  const leaf = pki.leaf([HOST], { keyType: 'ec' });
  const registry = createSNIRegistry(leaf.credential);
  return net.createServer((socket) => {
    if (encoding) socket.setEncoding(encoding);
    socket.write('220 mail.example.test ESMTP\r\n');
    socket.on('data', (chunk: string | Buffer) => {
      const text = chunk.toString();
      if (/^EHLO/i.test(text)) socket.write('250-mail.example.test\r\n250 STARTTLS\r\n');
      else if (/^STARTTLS/i.test(text)) {
        upgradeToTLS(socket, registry, { reply: '220 2.0.0 Ready to start TLS\r\n', timeoutMs: 5000 }).then(
          (tls) => {
            upgrades.push(`${tls.getProtocol()} discarded=${tls.mailtls.discardedPlaintextBytes}`);
            tls.on('data', (d: Buffer) => {
              if (/QUIT/i.test(d.toString())) tls.end('221 2.0.0 Bye\r\n');
              else tls.write('250 2.0.0 OK\r\n');
            });
          },
          (e: Error) => upgrades.push(`failed: ${e.message}`),
        );
      } else socket.write('250 2.0.0 OK\r\n');
    });
  });
}

describe('upgradeToTLS on a socket with setEncoding and its data handler attached', () => {
  for (const encoding of [undefined, 'utf8', 'latin1'] as const) {
    it(`openssl s_client -starttls smtp completes and verifies (${encoding ?? 'no encoding'})`, async () => {
      const upgrades: string[] = [];
      const pki = testPKI();
      const r = await withServer(lineServer(encoding, upgrades), (port) =>
        runOpenSSL({ port, host: HOST, caFile: pki.rootPath, starttls: 'smtp', input: 'QUIT\r\n' }),
      );
      assert.ok(r.ok, r.output);
      assert.match(r.output, /Verification: OK|Verify return code: 0/);
      assert.equal(upgrades.length, 1);
      assert.match(upgrades[0]!, /^TLSv1\.[23] discarded=0$/);
    });
  }

  it('discards plaintext pipelined after STARTTLS on a utf8 socket', async () => {
    const upgrades: string[] = [];
    await withServer(lineServer('utf8', upgrades), async (port) => {
      const socket = net.connect(port, '127.0.0.1');
      const replies: string[] = [];
      socket.on('data', (d) => replies.push(d.toString('latin1')));
      await new Promise((r) => socket.once('connect', r));
      await new Promise((r) => setTimeout(r, 100));
      socket.write('STARTTLS\r\nNOOP\r\n');
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      const text = replies.join('');
      assert.match(text, /220 2\.0\.0 Ready to start TLS/);
      assert.doesNotMatch(text, /250 2\.0\.0 OK/, 'the pipelined NOOP was answered in plaintext');
    });
  });
});
