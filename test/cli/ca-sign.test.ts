// `mailtls ca init`, `sign`, `selfsigned` and `csr --subject`: a private CA whose certificates openssl
// verifies, signing an openssl-made CSR with only the names it asks for, refusals, encrypted CA keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  mainJs,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  scratch,
} from './helpers.js';

/** `openssl verify` of CERT against ROOT (with the intermediates in UNTRUSTED): its output. */
function opensslVerify(root: string, cert: string, untrusted?: string): string {
  return openssl([
    'verify',
    '-CAfile',
    root,
    ...(untrusted === undefined ? [] : ['-untrusted', untrusted]),
    cert,
  ]);
}

/** The text openssl prints for a certificate. */
function text(cert: string): string {
  return openssl(['x509', '-in', cert, '-noout', '-text']);
}

describe('mailtls ca init, sign, selfsigned', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('ca init --intermediate + sign: openssl verifies the chain; only the names the CSR asks for, serverAuth, CA:FALSE', () => {
    const dir = scratch();
    const ca = join(dir, 'lab-ca');
    const init = mailtlsJSON([
      'ca',
      'init',
      '--out',
      ca,
      '--subject',
      '/O=Example Lab/CN=Example Lab Root',
      '--intermediate',
    ]);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(statSync(ca).mode & 0o777, 0o700);
    for (const f of ['root.key', 'intermediate.key']) assert.equal(statSync(join(ca, f)).mode & 0o777, 0o600);
    for (const f of ['root.crt', 'intermediate.crt']) assert.equal(statSync(join(ca, f)).mode & 0o777, 0o644);
    assert.match(opensslVerify(join(ca, 'root.crt'), join(ca, 'intermediate.crt')), /: OK/);
    assert.match(text(join(ca, 'root.crt')), /Subject: O ?= ?Example Lab, CN ?= ?Example Lab Root/);
    assert.match(text(join(ca, 'intermediate.crt')), /CA:TRUE, pathlen:0/);

    // A CSR from openssl that also asks for CA:TRUE and clientAuth: the CA decides, neither is granted.
    const csr = join(dir, 'greedy.csr');
    openssl([
      ...['req', '-new', '-key', inputs.leafKey, '-subj', '/O=Example Inc/CN=example.com'],
      ...['-addext', 'subjectAltName=DNS:example.com,DNS:mail.example.com,IP:192.0.2.25'],
      ...[
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'extendedKeyUsage=serverAuth,clientAuth',
      ],
      ...['-out', csr],
    ]);
    const out = join(dir, 'mail.crt');
    const r = mailtlsJSON(['sign', '--ca', ca, '--csr', csr, '--days', '90', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(opensslVerify(join(ca, 'root.crt'), out, out), /: OK/);
    const t = text(out);
    assert.match(t, /CA:FALSE/);
    assert.match(t, /X509v3 Extended Key Usage: *\n *TLS Web Server Authentication\n/);
    assert.doesNotMatch(t, /Client Authentication/);
    assert.match(t, /DNS:example\.com, DNS:mail\.example\.com, IP Address:192\.0\.2\.25\n/);
    assert.match(t, /Issuer: O ?= ?Example Lab, CN ?= ?Example Lab Root Intermediate/);
    // The file is the certificate then the intermediate (what a server sends); 90 days from now.
    assert.equal((readFileSync(out, 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    const j = r.json as {
      notBefore: string;
      notAfter: string;
      dnsNames: string[];
      chainCertificates: number;
    };
    assert.equal((Date.parse(j.notAfter) - Date.parse(j.notBefore)) / 86_400_000, 90);
    assert.deepEqual(j.dnsNames, ['example.com', 'mail.example.com']);
    assert.equal(j.chainCertificates, 1);
    // The key of the CSR is the key of the certificate.
    assert.equal(
      openssl(['x509', '-in', out, '-noout', '-pubkey']),
      openssl(['pkey', '-in', inputs.leafKey, '-pubout']),
    );
    // An existing file is not replaced without --force.
    const again = mailtls(['sign', '--ca', ca, '--csr', csr, '--out', out]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /ERR_CLI_EXISTS/);
  });

  it('sign with --ca-cert/--ca-key (openssl-made intermediate), the CSR from standard input, to standard output', () => {
    const csr = readFileSync(inputs.csr, 'utf8');
    const r = mailtls(
      [
        'sign',
        '--ca-cert',
        inputs.intermediateCert,
        '--ca-key',
        inputs.intermediateKey,
        '--csr',
        '-',
        '--leaf-only',
      ],
      { input: csr },
    );
    assert.equal(r.status, 0, r.stderr);
    const file = join(scratch(), 'leaf.pem');
    writeFileSync(file, r.stdout);
    assert.equal((r.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    assert.match(opensslVerify(inputs.rootCert, file, inputs.intermediateCert), /: OK/);
    assert.match(text(file), /DNS:example\.com, DNS:mail\.example\.com, DNS:imap\.example\.com/);
    // The subject is the CSR's, as openssl req wrote it.
    assert.match(
      openssl(['x509', '-in', file, '-noout', '-subject']),
      /CN ?= ?example\.com, emailAddress ?= ?hostmaster@example\.com/,
    );
  });

  it('sign refuses what issueCertificate refuses: past the CA, not a CA, a key that is not the CA key', () => {
    const dir = scratch();
    const ca = join(dir, 'short-ca');
    assert.equal(mailtls(['ca', 'init', '--out', ca, '--days', '30']).status, 0);
    const out = join(dir, 'x.crt');
    const late = mailtlsJSON(['sign', '--ca', ca, '--csr', inputs.csr, '--days', '90', '--out', out]);
    assert.equal(late.status, 1);
    assert.equal((late.json.error as { code: string }).code, 'ERR_CERT_ISSUE');
    assert.ok(!existsSync(out), 'nothing written');
    const notCA = mailtlsJSON([
      'sign',
      '--ca-cert',
      inputs.leafCert,
      '--ca-key',
      inputs.leafKey,
      '--csr',
      inputs.csr,
    ]);
    assert.equal(notCA.status, 1);
    assert.equal((notCA.json.error as { code: string }).code, 'ERR_CERT_ISSUE');
    const wrongKey = mailtlsJSON([
      'sign',
      '--ca-cert',
      inputs.intermediateCert,
      '--ca-key',
      inputs.leafKey,
      '--csr',
      inputs.csr,
    ]);
    assert.equal(wrongKey.status, 1);
    assert.equal((wrongKey.json.error as { code: string }).code, 'ERR_KEY_MISMATCH');
    const noCA = mailtls(['sign', '--csr', inputs.csr]);
    assert.equal(noCA.status, 2);
    assert.match(noCA.stderr, /Give the CA with --ca DIR/);
  });

  it('ca init --key-password-file encrypts the CA keys; sign needs the pass phrase (file or env)', () => {
    const dir = scratch();
    const pass = join(dir, 'ca-pass.txt');
    writeFileSync(pass, 'ca secret\n');
    const ca = join(dir, 'ca');
    const init = mailtls(['ca', 'init', '--out', ca, '--key-password-file', pass, '--type', 'rsa']);
    assert.equal(init.status, 0, init.stderr);
    assert.match(readFileSync(join(ca, 'root.key'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.match(
      openssl(['pkey', '-in', join(ca, 'root.key'), '-passin', `file:${pass}`, '-noout', '-text']),
      /2048 bit/,
    );
    const locked = mailtls(['sign', '--ca', ca, '--csr', inputs.csr]);
    assert.equal(locked.status, 2);
    assert.match(locked.stderr, /ERR_KEY_ENCRYPTED/);
    const ok = spawnSync(
      process.execPath,
      [mainJs, 'sign', '--ca', ca, '--csr', inputs.csr, '--key-password-env', 'CA_PW'],
      {
        encoding: 'utf8',
        env: { ...process.env, CA_PW: 'ca secret' },
      },
    );
    assert.equal(ok.status, 0, ok.stderr);
    const leaf = join(dir, 'leaf.pem');
    writeFileSync(leaf, ok.stdout);
    // Signed by a root directly: the output is the certificate alone.
    assert.match(opensslVerify(join(ca, 'root.crt'), leaf), /: OK/);
  });

  it('selfsigned: openssl trusts it as its own anchor; names and IPs in the SAN; key 0600; --subject', () => {
    const dir = scratch();
    const cert = join(dir, 'mail.crt');
    const key = join(dir, 'mail.key');
    const r = mailtlsJSON([
      ...[
        'selfsigned',
        '--subject',
        '/O=Example Inc/CN=mail.lan',
        '--san',
        '192.168.1.10',
        '--san',
        'imap.lan',
      ],
      ...['--type', 'ec', '--days', '825', '--out', cert, '--key-out', key],
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(opensslVerify(cert, cert), /: OK/);
    assert.match(text(cert), /DNS:mail\.lan, DNS:imap\.lan, IP Address:192\.168\.1\.10/);
    assert.match(text(cert), /CA:FALSE/);
    openssl(['x509', '-in', cert, '-noout', '-checkip', '192.168.1.10']);
    assert.equal(
      openssl(['x509', '-in', cert, '-noout', '-pubkey']),
      openssl(['pkey', '-in', key, '-pubout']),
    );
    assert.equal(mailtls(['selfsigned', '--cn', 'mail.lan', '--out', join(dir, 'x.crt')]).status, 2);
  });

  it('csr --subject: the subject openssl -subj would give', () => {
    const dir = scratch();
    const r = mailtls([
      ...['csr', '--subject', '/C=US/ST=California/L=Los Angeles/O=Example\\/Inc/CN=example.com'],
      ...['--san', 'mail.example.com', '--type', 'ec', '--out-dir', dir],
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      openssl(['req', '-in', join(dir, 'req.pem'), '-noout', '-subject']),
      /C ?= ?US, ST ?= ?California, L ?= ?Los Angeles, O ?= ?Example\/Inc, CN ?= ?example\.com/,
    );
    const both = mailtls([
      'csr',
      '--subject',
      '/CN=example.com',
      '--cn',
      'example.com',
      '--out-dir',
      scratch(),
    ]);
    assert.equal(both.status, 2);
    const bad = mailtls(['csr', '--subject', '/XX=1/CN=example.com', '--out-dir', scratch()]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown attribute type XX/);
  });
});
