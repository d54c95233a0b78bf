/**
 * Delivering mail with nodemailer and mailtls's client options: SNI, the peer's chain checked against a
 * given trust store and its name checked with mailtls's rules (`clientTLSOptions`). Against a local
 * smtp-server (STARTTLS, certificate from a local CA) started in this example: one delivery to the right
 * name succeeds, one to a name the certificate does not cover is refused before any mail is sent.
 *
 *   node build/examples/outgoing-smtp.js
 */
import type net from 'node:net';
import { createCertificateAuthority, createCSR, issueCertificate } from 'mailtls';
import { clientTLSOptions, createSNIRegistry, smtpServerOptions } from 'mailtls/node';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';

const MX = 'mx1.example.test';
const notBefore = new Date(Date.now() - 60_000);
const ca = await createCertificateAuthority({
  name: 'Outgoing Example Root',
  intermediate: true,
  notBefore,
  days: 3650,
});
const csr = await createCSR({ subject: { commonName: MX }, keyType: 'ec' });
const issued = await issueCertificate(csr.csrPEM, ca.issuer, { notBefore, days: 90 });
const registry = createSNIRegistry({ key: csr.keyPEM, cert: issued.chainPEM });

let delivered = 0;
const server = new SMTPServer({
  secure: false,
  authOptional: true,
  logger: false,
  ...smtpServerOptions(registry),
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      delivered++;
      callback();
    });
  },
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.server.address() as net.AddressInfo).port;

async function deliver(mxHost: string): Promise<string> {
  // Connect to 127.0.0.1 (standing in for the MX's address), but send and verify the MX host name.
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    name: 'client.example.test',
    tls: clientTLSOptions({ host: mxHost, trust: ca.root.certPEM }),
  });
  try {
    const info = await transport.sendMail({
      from: 'alice@example.org',
      to: 'bob@example.test',
      subject: 'outgoing',
      text: 'Delivered over verified TLS.',
    });
    return `delivered (${info.response})`;
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  } finally {
    transport.close();
  }
}

let ok = false;
try {
  const good = await deliver(MX);
  console.log(`to ${MX}: ${good}`);
  const bad = await deliver('mx2.example.test');
  console.log(`to mx2.example.test: ${bad}`);
  ok = good.startsWith('delivered') && bad.startsWith('refused') && delivered === 1;
  console.log(ok ? 'OK' : 'FAILED');
} finally {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
process.exitCode = ok ? 0 : 1;
