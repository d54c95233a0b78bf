/**
 * A minimal X.509 CRL reader (RFC 5280 §5) and the revocation check of one path step, for CRLs the caller
 * passes to verifyChain. No network: CRLs are never fetched. Delta CRLs and indirect CRLs are not
 * supported; a CRL that uses them fails the validation instead of being ignored.
 *
 * @module internal/chain/crl
 */

import {
  DerReader,
  decodeBitString,
  decodeBoolean,
  decodeSmallInt,
  decodeTime,
  parseDer,
  rawOf,
  Tag,
  valueBytes,
} from '../encoding/der.js';
import { decodePEMAll } from '../encoding/pem.js';
import { ChainError, DERError, MailTlsError } from '../errors.js';
import { readSignatureAlgorithm, type SignatureAlgorithm } from '../keys/signature.js';
import type { Certificate } from '../x509/certificate.js';
import { type Extension, readExtensions, serialHex } from '../x509/extensions.js';
import { type DistinguishedName, nameEquals, readName } from '../x509/name.js';
import { describe, type Failure } from './policy.js';

/** A parsed certificate revocation list. */
export interface CRL {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly version: 1 | 2;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date | undefined;
  /** Revoked serial numbers (lower-case hex as {@link Certificate.serialNumber}) and their entries. */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  readonly extensions: readonly Extension[];
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signatureValue: Uint8Array;
}

/** One revoked certificate. */
export interface RevokedEntry {
  readonly revocationDate: Date;
  /** CRLReason code (RFC 5280 §5.3.1), when given. */
  readonly reason?: number | undefined;
  readonly extensions: readonly Extension[];
}

const CRL_NUMBER = '2.5.29.20';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
const ISSUER_ALT_NAME = '2.5.29.18';
const FRESHEST_CRL = '2.5.29.46';
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const REASON_CODE = '2.5.29.21';
const INVALIDITY_DATE = '2.5.29.24';
const CERTIFICATE_ISSUER = '2.5.29.29';
const REMOVE_FROM_CRL = 8;

/** Reads one DER CRL. Throws ChainError ERR_CHAIN_CRL when it is malformed. */
export function crlFromDER(der: Uint8Array, index: number): CRL {
  try {
    const outer = DerReader.of(parseDer(der), 'CertificateList');
    const tbsNode = outer.expect(Tag.SEQUENCE, 'tbsCertList');
    const signatureAlgorithm = readSignatureAlgorithm(outer.expect(Tag.SEQUENCE, 'signatureAlgorithm'));
    const signatureValue = decodeBitString(outer.expect(Tag.BIT_STRING, 'signatureValue')).bytes;
    outer.done('CertificateList');
    const t = DerReader.of(tbsNode, 'tbsCertList');
    let version: 1 | 2 = 1;
    const v = t.optional(Tag.INTEGER);
    if (v !== undefined) {
      if (decodeSmallInt(v, 1) !== 1) throw new DERError('ERR_DER_INVALID', 'unknown CRL version');
      version = 2;
    }
    t.expect(Tag.SEQUENCE, 'signature');
    const issuer = readName(t.expect(Tag.SEQUENCE, 'issuer'));
    const thisUpdate = decodeTime(t.next('thisUpdate'));
    let nextUpdate: Date | undefined;
    const peek = t.peek();
    if (peek !== undefined && (peek.tag === Tag.UTC_TIME || peek.tag === Tag.GENERALIZED_TIME))
      nextUpdate = decodeTime(t.next('nextUpdate'));
    const revoked = new Map<string, RevokedEntry>();
    const list = t.optional(Tag.SEQUENCE);
    if (list !== undefined) {
      const r = DerReader.of(list, 'revokedCertificates');
      while (!r.atEnd) {
        const e = DerReader.of(r.expect(Tag.SEQUENCE, 'revokedCertificate'), 'revokedCertificate');
        const serial = serialHex(valueBytes(e.expect(Tag.INTEGER, 'userCertificate')));
        const revocationDate = decodeTime(e.next('revocationDate'));
        const extNode = e.optional(Tag.SEQUENCE);
        e.done('revokedCertificate');
        const extensions = extNode === undefined ? [] : readExtensions(extNode);
        let reason: number | undefined;
        const rc = extensions.find((x) => x.oid === REASON_CODE);
        if (rc !== undefined) {
          const node = parseDer(rc.value);
          if (node.tag !== Tag.ENUMERATED)
            throw new DERError('ERR_DER_INVALID', 'reasonCode must be ENUMERATED');
          reason = decodeSmallInt({ ...node, tag: Tag.INTEGER }, 255);
        }
        revoked.set(serial, { revocationDate, reason, extensions });
      }
    }
    let extensions: Extension[] = [];
    const ext = t.optional(0xa0);
    if (ext !== undefined) {
      const er = DerReader.of(ext, 'crlExtensions');
      extensions = readExtensions(er.expect(Tag.SEQUENCE, 'crlExtensions'));
      er.done('crlExtensions');
    }
    t.done('tbsCertList');
    return {
      der,
      tbs: rawOf(tbsNode),
      version,
      issuer,
      thisUpdate,
      nextUpdate,
      revoked,
      extensions,
      signatureAlgorithm,
      signatureValue,
    };
  } catch (e) {
    if (e instanceof MailTlsError)
      throw new ChainError(
        'ERR_CHAIN_CRL',
        `CRL #${index + 1} is malformed (${e.message}); pass complete, unmodified CRLs (PEM "X509 CRL" or DER).`,
        { cause: e, details: { reason: 'crl-invalid', index } },
      );
    throw e;
  }
}

/** Reads CRLs given as PEM text (any number of `X509 CRL` blocks), DER bytes, or a list of those. */
export function readCRLs(input: unknown): CRL[] {
  const items: unknown[] = Array.isArray(input) ? input : [input];
  const out: CRL[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      for (const block of decodePEMAll(item, ['X509 CRL'])) out.push(crlFromDER(block.bytes, out.length));
    } else if (item instanceof Uint8Array) out.push(crlFromDER(item.slice(), out.length));
    else throw new TypeError('crls must be PEM text, DER bytes (Uint8Array) or a list of those');
  }
  return out;
}

function crlFail(cert: Certificate, message: string, details: Record<string, unknown> = {}): Failure {
  return {
    code: 'ERR_CHAIN_CRL',
    reason: 'crl-invalid',
    message,
    certificate: cert,
    details: { subject: cert.subject.toString(), ...details },
  };
}

/** Whether an IssuingDistributionPoint leaves `cert` out of the CRL's scope; throws for unsupported scopes. */
function outOfScope(idp: Extension, cert: Certificate): boolean | 'unsupported' {
  const r = DerReader.of(parseDer(idp.value), 'IssuingDistributionPoint');
  let userOnly = false;
  let caOnly = false;
  while (!r.atEnd) {
    const n = r.next();
    const flag = () => decodeBoolean({ ...n, tag: Tag.BOOLEAN });
    if (n.tag === 0x81) userOnly = flag();
    else if (n.tag === 0x82) caOnly = flag();
    else if (n.tag === 0x83 || n.tag === 0x84 || n.tag === 0x85) {
      if (n.tag === 0x83 || flag()) return 'unsupported';
    }
  }
  const isCA = cert.basicConstraints?.ca === true;
  return (userOnly && isCA) || (caOnly && !isCA);
}

/**
 * The revocation check of `cert`, issued by `issuer`, against the CRLs given. CRLs of other issuers (by
 * name, or whose signature the issuer's key does not verify) are ignored; a CRL of this issuer that is
 * malformed for RFC 5280 §5, stale, or uses unsupported features fails the step.
 */
export async function crlFailure(
  cert: Certificate,
  issuer: Certificate,
  crls: readonly CRL[],
  atMs: number,
  verify: (crl: CRL, issuer: Certificate) => Promise<boolean>,
): Promise<Failure | undefined> {
  for (const crl of crls) {
    if (!nameEquals(crl.issuer, cert.issuer)) continue;
    if (!(await verify(crl, issuer))) continue;
    const from = `The CRL of ${describe(issuer)}`;
    const ku = issuer.keyUsage;
    if (ku !== undefined && !ku.includes('cRLSign'))
      return crlFail(
        cert,
        `${from} is signed by a key whose keyUsage lacks cRLSign (RFC 5280 §4.2.1.3); it cannot be used. Get the CRL from the CA's CRL signer.`,
      );
    const seen = new Set<string>();
    let number: Extension | undefined;
    let skip = false;
    for (const e of crl.extensions) {
      if (seen.has(e.oid)) return crlFail(cert, `${from} has two ${e.name} extensions.`);
      seen.add(e.oid);
      if (e.oid === CRL_NUMBER) number = e;
      else if (e.oid === DELTA_CRL_INDICATOR)
        return crlFail(
          cert,
          `${from} is a delta CRL, which mailtls does not support; pass the complete CRL.`,
        );
      else if (e.oid === ISSUING_DISTRIBUTION_POINT) {
        let scope: boolean | 'unsupported';
        try {
          scope = outOfScope(e, cert);
        } catch {
          return crlFail(cert, `${from} has a malformed issuingDistributionPoint extension.`);
        }
        if (scope === 'unsupported')
          return crlFail(
            cert,
            `${from} is partitioned by reasons or indirect, which mailtls does not support.`,
          );
        if (scope) skip = true;
      } else if (
        e.critical &&
        e.oid !== AUTHORITY_KEY_IDENTIFIER &&
        e.oid !== ISSUER_ALT_NAME &&
        e.oid !== FRESHEST_CRL &&
        e.oid !== AUTHORITY_INFO_ACCESS
      )
        return crlFail(cert, `${from} has a critical ${e.name} extension that mailtls does not process.`);
    }
    if (skip) continue;
    if (number === undefined)
      return crlFail(cert, `${from} has no CRL number, which RFC 5280 §5.2.3 requires.`);
    if (number.critical)
      return crlFail(cert, `${from} marks its CRL number critical, which RFC 5280 §5.2.3 forbids.`);
    if (crl.version !== 2) return crlFail(cert, `${from} is a version 1 CRL with extensions.`);
    if (crl.thisUpdate.getTime() > atMs)
      return crlFail(cert, `${from} was issued after the validation time (${crl.thisUpdate.toISOString()}).`);
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < atMs)
      return crlFail(
        cert,
        `${from} is out of date (next update was due ${crl.nextUpdate.toISOString()}); fetch a current CRL.`,
        { nextUpdate: crl.nextUpdate.toISOString() },
      );
    const entry = crl.revoked.get(cert.serialNumber);
    if (entry === undefined) continue;
    for (const x of entry.extensions)
      if (x.oid === CERTIFICATE_ISSUER || (x.critical && x.oid !== REASON_CODE && x.oid !== INVALIDITY_DATE))
        return crlFail(cert, `${from} has an entry extension (${x.name}) that mailtls does not support.`);
    if (entry.reason === REMOVE_FROM_CRL) continue;
    return {
      code: 'ERR_CHAIN_REVOKED',
      reason: 'revoked',
      message: `The certificate ${describe(cert)} was revoked by its CA on ${entry.revocationDate.toISOString()}${
        entry.reason === undefined ? '' : ` (reason code ${entry.reason})`
      }. It must be replaced: get a new certificate.`,
      certificate: cert,
      details: {
        subject: cert.subject.toString(),
        serialNumber: cert.serialNumber,
        revocationDate: entry.revocationDate.toISOString(),
        ...(entry.reason === undefined ? {} : { reasonCode: entry.reason }),
      },
    };
  }
  return undefined;
}
