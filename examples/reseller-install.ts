/**
 * The reseller workflow: make a key and CSR in the store, send the CSR to the reseller (here a local CA
 * stands in for it), install what comes back with the reseller's CA bundle, and serve it. One round trip on
 * 127.0.0.1 with a client that verifies chain and name, then exit. Everything happens in a temporary directory.
 *
 *   node build/examples/reseller-install.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createCertificateAuthority, issueCertificate } from 'mailtls';
import { CertificateStore, createPeekingTLSServer, createSNIRegistry } from 'mailtls/node';

const dir = mkdtempSync(join(tmpdir(), 'mailtls-reseller-'));
try {
  // 1. On the mail server: a key and a CSR, kept by the store (the key never leaves private/).
  const store = new CertificateStore(join(dir, 'store'));
  const request = await store.createCSR({
    subject: { commonName: 'example.test', organization: 'Example Inc', country: 'US' },
    hostnames: ['mail.example.test', 'smtp.example.test'],
  });
  console.log(`CSR for ${request.dnsNames.join(', ')} in ${request.files.csr.replace(dir, '$TMP')}`);

  // 2. At the reseller (a local CA stands in for it): the certificate and the CA bundle.
  const notBefore = new Date(Date.now() - 60_000);
  const reseller = await createCertificateAuthority({
    name: 'Reseller Root',
    intermediate: true,
    notBefore,
    days: 3650,
  });
  const issued = await issueCertificate(request.csrPEM, reseller.issuer, { notBefore, days: 397 });
  const caBundle = reseller.intermediate!.certPEM + reseller.root.certPEM;

  // 3. Back on the server: install (the store finds the CSR's key, checks the pair, orders the chain).
  const trusted = new CertificateStore(join(dir, 'store'), { trust: [reseller.root.certPEM] });
  const installed = await trusted.install({ cert: issued.certPEM, caBundle });
  console.log(
    `installed ${installed.domain} ${installed.version}: ${installed.chain.length} certificates served, ` +
      `chain complete: ${installed.chainComplete}, key from: ${installed.keySource}`,
  );

  // 4. Serve it and connect once as a client that trusts the reseller's root.
  const credential = await trusted.load('example.test');
  const registry = createSNIRegistry({ key: credential.key, cert: credential.cert });
  const server = createPeekingTLSServer(registry, {}, (socket) =>
    socket.end('220 mail.example.test ESMTP\r\n'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const greeting = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'smtp.example.test',
      ca: reseller.root.certPEM,
    });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('end', () => resolve(text.trim()));
    socket.on('error', reject);
  });
  server.close();
  console.log(`client verified chain and name smtp.example.test, server said: ${greeting}`);
  console.log('OK');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
