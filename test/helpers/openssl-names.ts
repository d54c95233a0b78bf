/**
 * Certificates made by the `openssl` CLI, and the names in them read straight from the DER, for the
 * host-name tests: OpenSSL encodes the subjectAltName (its own IP parser, its own IA5String encoding) and
 * these tests compare mailtls with what OpenSSL wrote and with what OpenSSL and Node decide.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childrenOf,
  decodeOID,
  decodeString,
  parseDer,
  readNode,
  Tag,
  valueBytes,
} from '../../src/internal/encoding/der.js';

/** The names of a certificate as raw as the DER has them. */
export interface OpenSSLNames {
  readonly dnsNames: string[];
  /** iPAddress entries: the octets OpenSSL wrote. */
  readonly ipBytes: Uint8Array[];
  readonly commonName: string | undefined;
}

/** A certificate made by `openssl req -x509`. */
export interface OpenSSLCertificate {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  readonly names: OpenSSLNames;
}

/** Runs openssl and returns stdout; throws with stderr on failure. */
export function openssl(args: readonly string[], input?: string): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Makes a self-signed EC certificate with the given subject CN and subjectAltName value (OpenSSL syntax:
 * `DNS:a.example,IP:192.0.2.1`).
 */
export function opensslCertificate(options: {
  commonName?: string;
  subjectAltName?: string;
}): OpenSSLCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'mailtls-names-'));
  try {
    const args = [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '30',
      '-subj',
      options.commonName === undefined ? '/O=mailtls test' : `/CN=${options.commonName}`,
    ];
    if (options.subjectAltName !== undefined)
      args.push('-addext', `subjectAltName=${options.subjectAltName}`);
    openssl(args);
    const pem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const x509 = new X509Certificate(pem);
    const der = new Uint8Array(x509.raw);
    return { pem, der, x509, names: readNames(der) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads subjectAltName dNSName/iPAddress entries and the subject CN from a certificate's DER. */
export function readNames(der: Uint8Array): OpenSSLNames {
  const cert = parseDer(der);
  const [tbs] = childrenOf(cert);
  const fields = childrenOf(tbs!);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const subject = fields[4 + offset]!;
  let commonName: string | undefined;
  for (const rdn of childrenOf(subject)) {
    for (const atv of childrenOf(rdn)) {
      const [oid, value] = childrenOf(atv);
      if (decodeOID(oid!) === '2.5.4.3') commonName = decodeString(value!);
    }
  }
  const dnsNames: string[] = [];
  const ipBytes: Uint8Array[] = [];
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions !== undefined) {
    for (const ext of childrenOf(childrenOf(extensions)[0]!)) {
      const parts = childrenOf(ext);
      if (decodeOID(parts[0]!) !== '2.5.29.17') continue;
      const octets = parts[parts.length - 1]!;
      if (octets.tag !== Tag.OCTET_STRING) throw new Error('subjectAltName is not an OCTET STRING');
      const inner = valueBytes(octets);
      const seq = readNode(inner, 0);
      for (const gn of childrenOf(seq)) {
        if (gn.tag === 0x82) dnsNames.push(String.fromCharCode(...valueBytes(gn)));
        else if (gn.tag === 0x87) ipBytes.push(valueBytes(gn).slice());
      }
    }
  }
  return { dnsNames, ipBytes, commonName };
}
