/**
 * nodemailer's `smtp-server` with mailtls: certificates by SNI from a store (`smtpServerOptions`), and hot
 * reload (`updateSMTPServer` follows the registry's default; the store's version tells when to reload). The
 * example installs a certificate, receives one message over STARTTLS from a verifying nodemailer client,
 * renews the certificate in the store, reloads, and shows (with mailtls's probe) that the renewed one is served.
 *
 *   node build/examples/smtp-server.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from 'mailtls';
import {
  CertificateStore,
  createSNIRegistry,
  probe,
  type SNIRegistry,
  smtpServerOptions,
  updateSMTPServer,
} from 'mailtls/node';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';

const DOMAIN = 'example.test';
const HOSTS = ['mail.example.test', 'smtp.example.test'];
const dir = mkdtempSync(join(tmpdir(), 'mailtls-smtp-server-'));
const notBefore = new Date(Date.now() - 60_000);
const ca = await createCertificateAuthority({
  name: 'SMTP Example Root',
  intermediate: true,
  notBefore,
  days: 3650,
});
const store = new CertificateStore(join(dir, 'store'), { trust: [ca.root.certPEM] });

async function issueAndInstall(): Promise<string> {
  const request = await store.createCSR({ subject: { commonName: DOMAIN }, hostnames: HOSTS, replace: true });
  const issued = await issueCertificate(request.csrPEM, ca.issuer, { notBefore, days: 90 });
  const result = await store.install({ cert: issued.certPEM, caBundle: ca.intermediate!.certPEM });
  return result.leaf.fingerprint('sha256');
}

/** Registers every name the domain's certificate covers; answers the store version loaded. */
async function loadInto(registry: SNIRegistry): Promise<string> {
  const version = await store.version(DOMAIN);
  const c = await store.load(DOMAIN);
  const credential = { key: c.key, cert: c.cert };
  registry.setDefault(credential); // smtp-server follows through updateSMTPServer
  for (const name of c.leaf.dnsNames) registry.add(name, credential);
  return version;
}

let server: SMTPServer | undefined;
try {
  const first = await issueAndInstall();
  const c = await store.load(DOMAIN);
  const registry = createSNIRegistry({ key: c.key, cert: c.cert });
  let loaded = await loadInto(registry);

  const received: string[] = [];
  const smtp = new SMTPServer({
    secure: false,
    authOptional: true,
    logger: false,
    ...smtpServerOptions(registry),
    onData(stream, session, callback) {
      let bytes = 0;
      stream.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      stream.on('end', () => {
        received.push(
          `${bytes} bytes from ${session.envelope.mailFrom ? session.envelope.mailFrom.address : '?'} over ${session.secure ? 'TLS' : 'plaintext'}`,
        );
        callback();
      });
    },
  });
  server = smtp;
  const stopFollowing = updateSMTPServer(smtp, registry);
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as net.AddressInfo).port;

  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { servername: 'smtp.example.test', ca: ca.root.certPEM },
  });
  const info = await transport.sendMail({
    from: 'alice@example.test',
    to: 'bob@example.test',
    subject: 'hello',
    text: 'Sent over STARTTLS with the name verified.',
  });
  console.log(`delivered: ${info.response}; server got ${received.join(', ')}`);

  const before = await probe(`smtp://smtp.example.test:${port}`, {
    connect: '127.0.0.1',
    trust: ca.root.certPEM,
  });
  console.log(`served before renewal: ${before.servedChain[0]!.fingerprint('sha256')} (installed ${first})`);

  // Renewal: a new certificate lands in the store; a watcher (fs.watch on store.watchPaths) would notice
  // the version change; here we compare versions directly and reload.
  const renewed = await issueAndInstall();
  if ((await store.version(DOMAIN)) !== loaded) loaded = await loadInto(registry);
  const after = await probe(`smtp://smtp.example.test:${port}`, {
    connect: '127.0.0.1',
    trust: ca.root.certPEM,
  });
  const served = after.servedChain[0]!.fingerprint('sha256');
  console.log(`served after reload: ${served} (renewed ${renewed})`);
  if (served !== renewed || !after.chainValid || !after.namesMatch)
    throw new Error('the renewed certificate is not served');
  stopFollowing();
  console.log('OK');
} finally {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
}
