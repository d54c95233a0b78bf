/**
 * Node's https server with mailtls: an admin page for two names, each with its own certificate (RSA for
 * mail.example.test, ECDSA for admin.example.test), chosen by SNI through `createHTTPSServer`, which also
 * guards against node serving the wrong key type's certificate (nodejs/node#54235). One request per name on
 * 127.0.0.1 with a verifying client, then exit.
 *
 *   node build/examples/https-admin.js
 */
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { createCertificateAuthority, createCSR, issueCertificate } from 'mailtls';
import { createHTTPSServer, createSNIRegistry } from 'mailtls/node';

const notBefore = new Date(Date.now() - 60_000);
const ca = await createCertificateAuthority({ name: 'Admin Test Root', notBefore, days: 3650 });

async function credentialFor(host: string, keyType: 'rsa' | 'ec'): Promise<{ key: string; cert: string }> {
  const csr = await createCSR({ subject: { commonName: host }, keyType });
  const issued = await issueCertificate(csr.csrPEM, ca.issuer, { notBefore, days: 90 });
  return { key: csr.keyPEM, cert: issued.chainPEM };
}

const registry = createSNIRegistry(await credentialFor('mail.example.test', 'rsa'));
registry.add('admin.example.test', await credentialFor('admin.example.test', 'ec'));

const server = createHTTPSServer(registry, {}, (req, res) => {
  const socket = req.socket as tls.TLSSocket;
  res.setHeader('content-type', 'text/plain');
  res.end(`admin page for ${String(socket.servername)} over ${socket.getProtocol()}\n`);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as net.AddressInfo).port;

function get(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: name,
        ca: ca.root.certPEM,
        headers: { host: name },
        agent: false,
      },
      (res) => {
        const cert = (res.socket as tls.TLSSocket).getPeerX509Certificate();
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () =>
          resolve(
            `${res.statusCode} ${body.trim()} (served ${cert?.subject.replace(/\n/g, ', ')}, ${cert?.publicKey.asymmetricKeyType})`,
          ),
        );
      },
    );
    req.on('error', reject);
  });
}

try {
  for (const name of ['mail.example.test', 'admin.example.test']) console.log(`${name}: ${await get(name)}`);
  console.log('OK');
} finally {
  server.close();
}
