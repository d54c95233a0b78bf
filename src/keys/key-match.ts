/**
 * Does a private (or public) key belong to a certificate?
 *
 * @module key-match
 */

import { parsePEM } from '../encoding/pem.js';
import { CertificateError, DERError, KeyError } from '../errors.js';
import { DerReader, parseDer, rawOf, Tag } from '../internal/encoding/der.js';
import { type ForeignCertificate, foreignCertificateDER } from '../internal/foreign.js';
import { PrivateKey, PublicKey } from './keys.js';

/**
 * The DER SubjectPublicKeyInfo of a DER X.509 certificate (tbsCertificate field 7, or 6 for a v1 certificate
 * without the version field). A view into `cert`, not a copy; nothing else of the certificate is checked.
 * @throws CertificateError ERR_CERT_INVALID when the certificate structure up to the SPKI is malformed
 * @example `const pub = parsePublicKeyDER(certificateSPKI(certDer));`
 */
export function certificateSPKI(cert: Uint8Array): Uint8Array {
  try {
    const root = parseDer(cert);
    if (root.tag !== Tag.SEQUENCE) throw new DERError('ERR_DER_INVALID', 'the certificate is not a SEQUENCE');
    const tbs = DerReader.of(root).expect(Tag.SEQUENCE, 'tbsCertificate');
    const r = DerReader.of(tbs);
    r.optional(0xa0); // version [0] EXPLICIT, absent for v1
    r.expect(Tag.INTEGER, 'serialNumber');
    r.expect(Tag.SEQUENCE, 'signature');
    r.expect(Tag.SEQUENCE, 'issuer');
    r.expect(Tag.SEQUENCE, 'validity');
    r.expect(Tag.SEQUENCE, 'subject');
    return rawOf(r.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo'));
  } catch (e) {
    if (e instanceof DERError)
      throw new CertificateError(
        'ERR_CERT_INVALID',
        `The certificate is not valid DER X.509: ${e.message}.`,
        {
          cause: e,
        },
      );
    throw e;
  }
}

/**
 * Tells whether `key` is the key of `cert`: compares the public key material (RSA modulus and exponent, EC
 * curve and point, Ed25519 bytes), not just the algorithm. Unlike `tls.createSecureContext`, which accepts an
 * RSA key with an EC certificate and fails only at the handshake, this catches every mismatch up front.
 *
 * `cert` is a PEM text (the first `CERTIFICATE` block is used), DER bytes, node:crypto's or @peculiar/x509's
 * `X509Certificate`, or anything with a `publicKey` (a parsed certificate). A certificate whose key mailtls does not support (e.g. DSA) matches nothing.
 *
 * @throws CertificateError ERR_CERT_INVALID when `cert` cannot be read; PEMError ERR_PEM_NO_BLOCK; TypeError
 * for wrong argument types
 * @example
 * ```ts
 * if (!keyMatchesCertificate(key, certPem)) throw new Error('mail.key does not belong to mail.crt');
 * ```
 */
export function keyMatchesCertificate(
  key: PrivateKey | PublicKey,
  cert: string | Uint8Array | { publicKey: PublicKey } | ForeignCertificate,
): boolean {
  const input = foreignCertificateDER(cert) ?? (cert as string | Uint8Array | { publicKey: PublicKey });
  let pub: PublicKey;
  if (key instanceof PrivateKey) pub = key.publicKey;
  else if (key instanceof PublicKey) pub = key;
  else throw new TypeError('key must be a PrivateKey or PublicKey');
  let certKey: PublicKey;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    let der: Uint8Array;
    if (typeof input === 'string') {
      const block = parsePEM(input).find((b) => b.label === 'CERTIFICATE');
      if (block === undefined)
        throw new CertificateError('ERR_CERT_INVALID', 'No "-----BEGIN CERTIFICATE-----" block found.');
      der = block.bytes;
    } else der = input;
    const spki = certificateSPKI(der);
    try {
      certKey = new PublicKey(spki);
    } catch (e) {
      if (e instanceof KeyError && e.code === 'ERR_KEY_UNSUPPORTED') return false;
      if (e instanceof KeyError)
        throw new CertificateError(
          'ERR_CERT_INVALID',
          `The certificate's public key is not valid: ${e.message}`,
          {
            cause: e,
          },
        );
      throw e;
    }
  } else if (input !== null && typeof input === 'object' && input.publicKey instanceof PublicKey) {
    certKey = input.publicKey;
  } else throw new TypeError('cert must be a PEM string, DER bytes or an object with a publicKey');
  return pub.equals(certKey);
}
