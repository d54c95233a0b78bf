/**
 * The one-line forms of `mailtls show`: `--fingerprint` and `--short`, and the escaping of values taken
 * from a file.
 *
 * @module cli/show-lines
 */
import type {
  Certificate,
  CertificateSigningRequest,
  PKCS12Contents,
  PrivateKey,
  PublicKey,
} from '../index.js';

/** One thing found in the file. */
export type Item =
  | { kind: 'certificate'; source: string; cert: Certificate }
  | { kind: 'csr'; source: string; csr: CertificateSigningRequest; signature: string | null }
  | {
      kind: 'private-key';
      source: string;
      format: string;
      encrypted: boolean;
      encryption?: string;
      key?: PrivateKey;
    }
  | { kind: 'public-key'; source: string; key: PublicKey }
  | { kind: 'pkcs12'; source: string; contents: PKCS12Contents }
  | { kind: 'skipped'; source: string; label: string; reason: string };

/**
 * A value taken from the file (a .pfx friendly name, a PEM label, a warning quoting either) with its control
 * characters written as `\XX`, as the certificate descriptions do: it can neither drive a terminal nor forge a
 * line of the output.
 */
export function visible(value: string): string {
  return value.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** One line per item for `--fingerprint`: what identifies it (see {@link registerShow}). */
export function fingerprintOf(
  item: Item,
): { kind: string; source: string; type: string; value: string } | undefined {
  switch (item.kind) {
    case 'certificate':
      return { kind: item.kind, source: item.source, type: 'sha256', value: item.cert.fingerprint('sha256') };
    case 'csr':
      return {
        kind: item.kind,
        source: item.source,
        type: 'spki-sha256',
        value: item.csr.spkiFingerprint().sha256Hex,
      };
    case 'private-key':
      return item.key === undefined
        ? undefined
        : {
            kind: item.kind,
            source: item.source,
            type: 'spki-sha256',
            value: item.key.publicKey.fingerprint().sha256Hex,
          };
    case 'public-key':
      return {
        kind: item.kind,
        source: item.source,
        type: 'spki-sha256',
        value: item.key.fingerprint().sha256Hex,
      };
    default:
      return undefined;
  }
}

const DAY_MS = 86_400_000;

/** The names of a certificate or CSR, for `--short`. */
function namesOf(dns: readonly string[], ips: readonly string[]): string {
  const all = [...dns, ...ips];
  return all.length === 0 ? 'no subjectAltName' : all.join(', ');
}

/** One line per item for `--short`, like `step certificate inspect --short`. */
export function shortLine(item: Item, at: Date): string | undefined {
  switch (item.kind) {
    case 'certificate': {
      const c = item.cert;
      const left = Math.floor((c.notAfter.getTime() - at.getTime()) / DAY_MS);
      const when =
        left < 0 ? `EXPIRED ${-left} days ago` : at < c.notBefore ? 'not yet valid' : `${left} days left`;
      return (
        `certificate ${visible(c.subject.commonName ?? c.subject.toString())} [${visible(namesOf(c.dnsNames, c.ipAddresses))}] ` +
        `until ${c.notAfter.toISOString()} (${when}), issuer ${visible(c.issuer.commonName ?? c.issuer.toString())}` +
        `${c.selfIssued ? ' (self-signed)' : ''}, SHA-256 ${c.fingerprint('sha256')}`
      );
    }
    case 'csr': {
      const r = item.csr;
      return (
        `csr ${visible(r.subject.commonName ?? r.subject.toString())} [${visible(namesOf(r.dnsNames, r.ipAddresses))}] ` +
        `${r.publicKey?.describe() ?? 'unsupported key'}, self-signature ${item.signature === null ? 'valid' : 'INVALID'}`
      );
    }
    case 'private-key':
      return `private-key ${item.format}${item.key === undefined ? ', encrypted (give --password-file)' : `, ${item.key.describe()}, SPKI SHA-256 ${item.key.publicKey.fingerprint().sha256Hex}`}`;
    case 'public-key':
      return `public-key ${item.key.describe()}, SPKI SHA-256 ${item.key.fingerprint().sha256Hex}`;
    case 'pkcs12':
      return `pkcs12 ${item.contents.certificates.length} certificates, ${item.contents.key === undefined ? 'no key' : `key ${item.contents.key.describe()}`}`;
    case 'skipped':
      return undefined;
  }
}
