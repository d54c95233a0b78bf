// The calls the browser test makes in headless Chromium and again under Node, with the same fixtures; both
// answers must be equal. Only pure entry points are used, passed in as modules so that the same code runs
// against the Node build and against the esbuild bundle in the page.
import type * as Mailtls from '../../src/index.js';
import type * as Tlsa from '../../src/tls/tlsa.js';

/** Material made under Node by the test (PEM and base64 strings, so that it crosses into the page as JSON). */
export interface ScenarioFixtures {
  /** An RSA key: its PKCS#1 v1.5 signatures are deterministic, so the CSR bytes can be compared. */
  readonly keyPEM: string;
  /** The reseller's leaf certificate for example.com. */
  readonly leafPEM: string;
  /** The reseller's CA bundle: root, unrelated CA and intermediate, shuffled. */
  readonly bundlePEM: string;
  /** The root the chain ends at. */
  readonly rootPEM: string;
  /** A PKCS#12 file (base64) with the leaf, its key and the intermediate. */
  readonly pfxBase64: string;
  /** Its password. */
  readonly password: string;
  /** Validation time (ISO). */
  readonly at: string;
}

/** The manual's subject: country, state, locality, organisation, unit, the bare domain and an e-mail address. */
export const MANUAL_SUBJECT = {
  country: 'DE',
  state: 'Bayern',
  locality: 'München',
  organization: 'Example GmbH',
  organizationalUnit: 'IT',
  commonName: 'example.com',
  emailAddress: 'hostmaster@example.com',
} as const;

const HOSTS = [
  'example.com',
  'mail.example.com',
  'MAIL.Example.COM.',
  'smtp.example.com',
  'a.mail.example.com',
  'example.net',
];

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Runs every call and answers a JSON-safe summary of the results. */
export async function runScenario(
  m: typeof Mailtls,
  tlsa: typeof Tlsa,
  fx: ScenarioFixtures,
): Promise<unknown> {
  const at = new Date(fx.at);

  // A fresh key (random, so only its kind and the validity of what it signs are compared).
  const fresh = await m.generateKeyPair({ type: 'ec' });
  const freshCSR = await m.createCSR({
    key: fresh,
    subject: MANUAL_SUBJECT,
    hostnames: ['mail.example.com'],
  });
  await m.verifyCSRSignature(freshCSR.csrPEM);

  // A CSR with the manual's subject from a fixed RSA key: byte for byte the same in both.
  const key = await m.parsePrivateKey(fx.keyPEM);
  const csr = await m.createCSR({
    key,
    subject: MANUAL_SUBJECT,
    hostnames: ['mail.example.com', 'smtp.example.com'],
  });
  const csrView = m.parseCSR(csr.csrPEM);

  // Parse the reseller's certificate; assemble and verify its chain from the shuffled bundle.
  const cert = m.parseCertificate(fx.leafPEM);
  const chain = await m.assembleChain(fx.leafPEM, fx.bundlePEM, { at, roots: [fx.rootPEM] });
  const verified = await m.verifyChain(fx.leafPEM, { roots: [fx.rootPEM], intermediates: fx.bundlePEM, at });

  const pfx = await m.parsePKCS12(fromBase64(fx.pfxBase64), { password: fx.password });

  return {
    freshKey: {
      type: fresh.type,
      curve: fresh.curve,
      csrSubject: m.parseCSR(freshCSR.csrPEM).subject.toString(),
    },
    csr: {
      pem: csr.csrPEM,
      subject: csrView.subject.toString(),
      dnsNames: csrView.dnsNames,
      warnings: csr.warnings.map((w) => w.code),
    },
    certificate: cert.toJSON(),
    chain: {
      complete: chain.complete,
      trusted: chain.trusted,
      pem: chain.pem,
      dropped: chain.dropped.map((c) => c.subject.toString()),
      problems: chain.problems.map((p) => p.code),
    },
    verified: verified.certificates.map((c) => c.subject.toString()),
    hostnames: HOSTS.map((h) => [h, m.matchHostname(cert, h)]),
    pkcs12: {
      leaf: pfx.leaf?.subject.toString(),
      certificates: pfx.certificates.length,
      keyMatches: pfx.key === undefined ? false : m.keyMatchesCertificate(pfx.key, fx.leafPEM),
    },
    tlsa: tlsa.tlsaRecord(cert, { mxHost: 'mail.example.com' }).rdata,
  };
}
