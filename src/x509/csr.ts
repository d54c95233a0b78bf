/**
 * Building certificate signing requests (PKCS#10, RFC 2986) the way an administrator's `openssl req`
 * workflow for a reseller does: a key (`req.key`), a subject with the fields resellers ask for, and the host names the mail server
 * answers on in a subjectAltName extension request (`req.pem`).
 *
 * The request is assembled with the package's own DER encoders and signed with WebCrypto rather than with
 * `@peculiar/x509`'s `Pkcs10CertificateRequestGenerator`. That gives exact control of every byte that
 * OpenSSL compatibility depends on (PrintableString country, IA5String e-mail, UTF8String elsewhere, the
 * RDN order C, ST, L, O, OU, CN, emailAddress, NULL parameters for RSA signature algorithms, DER
 * Ecdsa-Sig-Value signatures), needs no global crypto provider or `reflect-metadata`, and keeps the output
 * byte-for-byte reproducible for a given key and (for RSA and Ed25519) signature.
 *
 * @module csr
 */

import { encodePEM } from '../encoding/pem.js';
import { CSRError } from '../errors.js';
import {
  encodeExplicit,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeSet,
} from '../internal/encoding/der.js';
import { withHiddenKeyPEM } from '../internal/keys/secret.js';
import { signStructure } from '../internal/keys/sign.js';
import type { CryptoOptions, KeyType, PrivateKey } from '../keys/keys.js';
import { generateKeyPair, PrivateKey as PrivateKeyClass } from '../keys/keys.js';
import { encodePrivateKeyPEM } from '../keys/private-key.js';
import {
  type CSRWarning,
  encodeSubject,
  encodeSubjectAltName,
  type NormalizedSubject,
  normalizeSubject,
  normalizeSubjectAltNames,
  type SubjectFields,
} from './subject.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';

/** Options of {@link createCSR}. */
export interface CreateCSROptions extends CryptoOptions {
  /** The subject fields (C, ST, L, O, OU, CN, emailAddress); `commonName` (the bare domain, e.g. `example.com`) is required. */
  subject: SubjectFields;
  /** The server's private key; when absent a new one is generated (see `keyType`). */
  key?: PrivateKey | undefined;
  /** Type of the generated key: `'rsa'` (default, 2048 bits), `'ec'` (P-256 default) or `'ed25519'`. */
  keyType?: KeyType | undefined;
  /** RSA modulus size of the generated key: 2048 (default), 3072 or 4096. */
  bits?: 2048 | 3072 | 4096 | undefined;
  /** Curve of a generated EC key: `'P-256'` (default) or `'P-384'`. */
  curve?: 'P-256' | 'P-384' | undefined;
  /**
   * The host names the server really answers on (MX host, SMTP submission, IMAP/POP, webmail), e.g.
   * `['mail.example.com', 'imap.example.com']`. All go into the subjectAltName, after the Common Name.
   */
  hostnames?: readonly string[] | undefined;
  /** IP addresses the server is reached on (LAN servers), IPv4 or IPv6. */
  ipAddresses?: readonly string[] | undefined;
  /**
   * When given, `keyPEM` is encrypted with this pass phrase. Leave it out for a server that must start
   * unattended (the default: an unencrypted `req.key`, to be stored with mode 0600).
   */
  passphrase?: string | Uint8Array | undefined;
}

/** What {@link createCSR} returns. */
export interface CSRResult {
  /** The request as PEM (`-----BEGIN CERTIFICATE REQUEST-----`): the `req.pem` to send to the CA. */
  readonly csrPEM: string;
  /** The request as DER. */
  readonly csrDER: Uint8Array;
  /** The private key the request belongs to. */
  readonly key: PrivateKey;
  /**
   * The private key as PEM (`req.key`): PKCS#8, unencrypted unless a pass phrase was given. Not enumerable,
   * so that `JSON.stringify`, `console.log` and object spreads never copy it: read it by name.
   */
  readonly keyPEM: string;
  /** The subject as encoded (normalised; the Common Name in A-label form). */
  readonly subject: NormalizedSubject;
  /** DNS names in the subjectAltName, Common Name first. */
  readonly dnsNames: readonly string[];
  /** IP addresses in the subjectAltName, canonical text. */
  readonly ipAddresses: readonly string[];
  /** Advice: the CSR is valid, but maybe not what was meant (see {@link CSRWarning}). */
  readonly warnings: readonly CSRWarning[];
}

/**
 * Builds a certificate signing request for a mail server, signed with the server's key (generated when not
 * given: RSA-2048 by default).
 *
 * The subject is encoded as `openssl req` does (see {@link encodeSubject}). The Common Name should be the
 * bare domain (`example.com`); it is always repeated as the first subjectAltName entry, because modern
 * clients ignore the CN, followed by `hostnames` and `ipAddresses`. Internationalised names become A-labels.
 * The signature is sha256WithRSAEncryption (PKCS#1 v1.5) for RSA, ecdsa-with-SHA256 for P-256,
 * ecdsa-with-SHA384 for P-384, and Ed25519 for Ed25519 keys.
 *
 * The result's `warnings` list advice such as a CN starting with `mail.` (`WARN_CN_HOST_PREFIX`) or a
 * request that names only the CN (`WARN_CN_ONLY`).
 *
 * @throws {CSRError} `ERR_CSR_SUBJECT` (no Common Name, unknown field, too long, control characters),
 *   `ERR_CSR_COUNTRY` (not an ISO 3166-1 alpha-2 code, e.g. `USA` or `UK`), `ERR_CSR_DNS_NAME`,
 *   `ERR_CSR_IP_ADDRESS`, `ERR_CSR_EMAIL`.
 * @throws {KeyError} `ERR_KEY_GENERATION` when the crypto provider cannot make the key, `ERR_KEY_UNSUPPORTED`
 *   when it cannot sign with the given key.
 * @throws {TypeError | RangeError} for malformed options (e.g. `key` together with `keyType`).
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { createCSR } from 'mailtls';
 *
 * const { csrPEM, keyPEM, warnings } = await createCSR({
 *   subject: {
 *     country: 'US',
 *     state: 'California',
 *     locality: 'Los Angeles',
 *     organization: 'Example Inc',
 *     commonName: 'example.com',
 *     emailAddress: 'hostmaster@example.com',
 *   },
 *   hostnames: ['mail.example.com', 'smtp.example.com', 'imap.example.com'],
 * });
 * for (const w of warnings) console.warn(w.message);
 * await writeFile('req.pem', csrPEM);
 * await writeFile('req.key', keyPEM, { mode: 0o600 });
 * ```
 */
export async function createCSR(options: CreateCSROptions): Promise<CSRResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.key !== undefined && !(options.key instanceof PrivateKeyClass))
    throw new TypeError('key must be a PrivateKey (from generateKeyPair or parsePrivateKey)');
  if (
    options.key !== undefined &&
    (options.keyType !== undefined || options.bits !== undefined || options.curve !== undefined)
  )
    throw new TypeError('give either key or keyType/bits/curve, not both');

  const subject = normalizeSubject(options.subject);
  if (subject.commonName === undefined)
    throw new CSRError(
      'ERR_CSR_SUBJECT',
      'the Common Name is missing: type the bare domain of the mail server, e.g. example.com, and list the ' +
        'host names it answers on (mail.example.com, ...) in hostnames',
      { details: { field: 'commonName' } },
    );
  const san = normalizeSubjectAltNames({
    commonName: subject.commonName,
    hostnames: options.hostnames,
    ipAddresses: options.ipAddresses,
  });
  // The CN in its canonical form: the first SAN entry it produced.
  const cn = san.dnsNames[0] ?? san.ipAddresses[0]!;
  const finalSubject: NormalizedSubject = Object.freeze({ ...subject, commonName: cn });

  const key =
    options.key ??
    (await generateKeyPair({
      type: options.keyType ?? 'rsa',
      ...(options.bits === undefined ? {} : { bits: options.bits }),
      ...(options.curve === undefined ? {} : { curve: options.curve }),
      ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
    }));

  const info = encodeSequence(
    encodeInteger(0),
    encodeSubject(finalSubject),
    key.publicKey.spki,
    // attributes [0] IMPLICIT SET OF Attribute: one attribute, so the [0] wrapper is the whole SET.
    encodeExplicit(0, encodeExtensionRequest(encodeSubjectAltName(san))),
  );
  const csrDER = await signStructure(
    info,
    key,
    options.crypto === undefined ? {} : { crypto: options.crypto },
  );
  const keyPEM = await encodePrivateKeyPEM(
    key,
    options.passphrase === undefined ? {} : { passphrase: options.passphrase },
  );
  return withHiddenKeyPEM(
    {
      csrPEM: encodePEM('CERTIFICATE REQUEST', csrDER),
      csrDER,
      key,
      subject: finalSubject,
      dnsNames: san.dnsNames,
      ipAddresses: san.ipAddresses,
      warnings: san.warnings,
    },
    keyPEM,
  );
}

/** The PKCS#9 extensionRequest attribute holding one non-critical subjectAltName extension. */
function encodeExtensionRequest(sanValue: Uint8Array): Uint8Array {
  const extension = encodeSequence(encodeOID(SUBJECT_ALT_NAME), encodeOctetString(sanValue));
  return encodeSequence(encodeOID(EXTENSION_REQUEST), encodeSet(encodeSequence(extension)));
}
