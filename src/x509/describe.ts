/**
 * Human-readable and JSON descriptions of certificates and CSRs, laid out like `openssl x509 -text` and
 * `openssl req -text` (same sections, names and order), with mailtls additions at the end (fingerprints,
 * SPKI pin, problems found while parsing).
 *
 * @module describe
 */

import { toHex } from '../internal/encoding/bytes.js';
import { oidLongName, oidOf, oidShortName } from '../internal/encoding/oids.js';
import { type ForeignCertificate, foreignCSRDER, type PeculiarCSRObject } from '../internal/foreign.js';
import type { SignatureAlgorithm } from '../internal/keys/signature.js';
import { type PublicKeyInfo, spkiNumbers } from '../internal/keys/spki-info.js';
import { type Certificate, type CertificateJSON, isCertificate, parseCertificate } from './certificate.js';
import { type CertificateSigningRequest, type CSRJSON, parseCSR } from './csr-parse.js';
import {
  type AccessDescription,
  type AuthorityKeyIdentifier,
  type BasicConstraints,
  type DistributionPoint,
  type Extension,
  formatGeneralName,
  type GeneralName,
  type KeyUsage,
  type NameConstraints,
  type PolicyInformation,
  type SignedCertificateTimestamp,
} from './extensions.js';
import { formatNameOneLine } from './name.js';

/** Options of {@link describeCertificate} and {@link describeCSR}. */
export interface DescribeOptions {
  /** `text` (default): an `openssl -text`-like report; `json`: a JSON-safe plain object. */
  format?: 'text' | 'json';
  /**
   * Text only: also dump the key numbers (modulus, EC point) and the signature bytes as OpenSSL does.
   * Default `false`: those long hex blocks are left out.
   */
  verbose?: boolean;
}

const KEY_USAGE_TEXT: Readonly<Record<KeyUsage, string>> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign',
  encipherOnly: 'Encipher Only',
  decipherOnly: 'Decipher Only',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Jun  4 11:04:38 2035 GMT`, as OpenSSL prints times. */
function opensslDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`
  );
}

/** Colon hex in rows of `perLine` bytes, as OpenSSL dumps keys and signatures. */
function hexBlock(bytes: Uint8Array, indent: number, perLine: number): string[] {
  const out: string[] = [];
  const pad = ' '.repeat(indent);
  for (let i = 0; i < bytes.length; i += perLine) {
    const chunk = toHex(bytes.subarray(i, i + perLine), ':');
    out.push(pad + chunk + (i + perLine < bytes.length ? ':' : ''));
  }
  return out;
}

function upperColon(hex: string): string {
  return (hex.match(/../g) ?? []).join(':').toUpperCase();
}

function formatNames(names: readonly GeneralName[]): string {
  return names.map(formatGeneralName).join(', ');
}

/** The text lines of one extension value (without the header line), indented by `indent`. */
function extensionLines(ext: Extension, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (ext.error !== undefined) return [`${pad}<malformed: ${ext.error}>`, ...hexBlock(ext.value, indent, 18)];
  const v = ext.parsed;
  if (v === undefined) return hexBlock(ext.value, indent, 18);
  switch (ext.name) {
    case 'basicConstraints': {
      const bc = v as BasicConstraints;
      return [
        `${pad}CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength === undefined ? '' : `, pathlen:${bc.pathLength}`}`,
      ];
    }
    case 'keyUsage':
      return [`${pad}${(v as KeyUsage[]).map((k) => KEY_USAGE_TEXT[k]).join(', ')}`];
    case 'extendedKeyUsage':
      return [`${pad}${(v as string[]).map((n) => oidLongName(oidOf(n) ?? n)).join(', ')}`];
    case 'subjectKeyIdentifier':
      return [`${pad}${upperColon(v as string)}`];
    case 'authorityKeyIdentifier': {
      const aki = v as AuthorityKeyIdentifier;
      const out: string[] = [];
      // OpenSSL 3.0 writes the bare key id alone, and "keyid:" when issuer and serial follow.
      const prefix = aki.issuer === undefined && aki.serialNumber === undefined ? '' : 'keyid:';
      if (aki.keyIdentifier !== undefined) out.push(`${pad}${prefix}${upperColon(aki.keyIdentifier)}`);
      for (const n of aki.issuer ?? []) out.push(`${pad}${formatGeneralName(n)}`);
      if (aki.serialNumber !== undefined) out.push(`${pad}serial:${upperColon(aki.serialNumber)}`);
      return out;
    }
    case 'subjectAltName':
    case 'issuerAltName':
      return [`${pad}${formatNames(v as GeneralName[])}`];
    case 'authorityInfoAccess':
    case 'subjectInfoAccess':
      return (v as AccessDescription[]).map((a) => {
        const method = a.methodName === 'OCSP' ? 'OCSP' : oidLongName(a.method);
        return `${pad}${method} - ${formatGeneralName(a.location)}`;
      });
    case 'crlDistributionPoints':
    case 'freshestCRL': {
      const out: string[] = [];
      for (const dp of v as DistributionPoint[]) {
        if (dp.fullName !== undefined) {
          out.push(`${pad}Full Name:`);
          for (const n of dp.fullName) out.push(`${pad}  ${formatGeneralName(n)}`);
        }
        if (dp.relativeName !== undefined) out.push(`${pad}Relative Name:`, `${pad}  ${dp.relativeName}`);
        if (dp.reasons !== undefined) out.push(`${pad}Reasons: ${dp.reasons.join(', ')}`);
        if (dp.crlIssuer !== undefined) out.push(`${pad}CRL Issuer:`, `${pad}  ${formatNames(dp.crlIssuer)}`);
      }
      return out;
    }
    case 'certificatePolicies': {
      const out: string[] = [];
      for (const p of v as PolicyInformation[]) {
        out.push(`${pad}Policy: ${p.oid === '2.5.29.32.0' ? 'X509v3 Any Policy' : p.oid}`);
        for (const q of p.qualifiers) {
          if (q.cps !== undefined) out.push(`${pad}  CPS: ${q.cps}`);
          else if (q.userNotice !== undefined) {
            out.push(`${pad}  User Notice:`);
            const un = q.userNotice;
            if (un.organization !== undefined) out.push(`${pad}    Organization: ${un.organization}`);
            if (un.noticeNumbers !== undefined) out.push(`${pad}    Numbers: ${un.noticeNumbers.join(', ')}`);
            if (un.explicitText !== undefined) out.push(`${pad}    Explicit Text: ${un.explicitText}`);
          } else out.push(`${pad}  Qualifier: ${q.oid}`);
        }
      }
      return out;
    }
    case 'nameConstraints': {
      const nc = v as NameConstraints;
      const out: string[] = [];
      const fmt = (n: GeneralName) =>
        n.type === 'directoryName' ? `DirName:${formatNameOneLine(n.name)}` : formatGeneralName(n);
      if (nc.permitted.length > 0) {
        out.push(`${pad}Permitted:`);
        for (const s of nc.permitted) out.push(`${pad}  ${fmt(s.base)}`);
      }
      if (nc.excluded.length > 0) {
        out.push(`${pad}Excluded:`);
        for (const s of nc.excluded) out.push(`${pad}  ${fmt(s.base)}`);
      }
      return out;
    }
    case 'policyConstraints': {
      const pc = v as { requireExplicitPolicy?: number; inhibitPolicyMapping?: number };
      const out: string[] = [];
      if (pc.requireExplicitPolicy !== undefined)
        out.push(`${pad}Require Explicit Policy:${pc.requireExplicitPolicy}`);
      if (pc.inhibitPolicyMapping !== undefined)
        out.push(`${pad}Inhibit Policy Mapping:${pc.inhibitPolicyMapping}`);
      return out;
    }
    case 'policyMappings':
      return (v as { issuerDomainPolicy: string; subjectDomainPolicy: string }[]).map(
        (m) => `${pad}${m.issuerDomainPolicy}:${m.subjectDomainPolicy}`,
      );
    case 'privateKeyUsagePeriod': {
      const p = v as { notBefore?: Date; notAfter?: Date };
      const parts: string[] = [];
      if (p.notBefore !== undefined) parts.push(`Not Before: ${opensslDate(p.notBefore)}`);
      if (p.notAfter !== undefined) parts.push(`Not After: ${opensslDate(p.notAfter)}`);
      return [`${pad}${parts.join(', ')}`];
    }
    case 'inhibitAnyPolicy':
      return [`${pad}${v as number}`];
    case 'tlsfeature':
      return (v as (string | number)[]).map((f) => `${pad}${f}`);
    case 'ct_precert_scts': {
      const out: string[] = [];
      for (const s of v as SignedCertificateTimestamp[]) {
        out.push(`${pad}Signed Certificate Timestamp:`);
        out.push(`${pad}    Version   : v${s.version + 1} (0x${s.version.toString(16)})`);
        out.push(`${pad}    Log ID    : ${upperColon(s.logId)}`);
        out.push(`${pad}    Timestamp : ${opensslDate(s.timestamp)}`);
      }
      return out;
    }
    case 'ct_precert_poison':
      return [`${pad}NULL`];
    case 'noCheck':
      return [`${pad}<EMPTY>`];
    case 'nsComment':
    case 'msCertificateTemplateName':
      return [`${pad}${v as string}`];
    case 'nsCertType':
      return [`${pad}${(v as string[]).join(', ')}`];
    case 'msCertificateTemplate': {
      const t = v as { templateId: string; majorVersion?: number; minorVersion?: number };
      return [
        `${pad}Template: ${t.templateId}${t.majorVersion === undefined ? '' : `, major ${t.majorVersion}`}${
          t.minorVersion === undefined ? '' : `, minor ${t.minorVersion}`
        }`,
      ];
    }
    default:
      return hexBlock(ext.value, indent, 18);
  }
}

/**
 * A line with its control characters (C0 including CR and LF, DEL, C1) written as `\XX`, as distinguished
 * names are: a hostile value (a subjectAltName with an escape sequence or a line break) can neither drive a
 * terminal nor forge a line of the description. A deviation from `openssl -text`, which prints them raw.
 */
function printable(line: string): string {
  return line.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

function extensionBlock(extensions: readonly Extension[], indent: number): string[] {
  const out: string[] = [];
  const pad = ' '.repeat(indent);
  for (const e of extensions) {
    out.push(`${pad}${oidLongName(e.oid)}: ${e.critical ? 'critical' : ''}`.trimEnd());
    for (const line of extensionLines(e, indent + 4)) out.push(printable(line));
  }
  return out;
}

function keyLines(info: PublicKeyInfo, spki: Uint8Array, indent: number, verbose: boolean): string[] {
  const pad = ' '.repeat(indent);
  const out = [`${pad}Public Key Algorithm: ${info.algorithm}`];
  const inner = ' '.repeat(indent + 4);
  const nums = spkiNumbers(spki);
  if (info.type === 'rsa') {
    out.push(`${inner}Public-Key: (${info.bits ?? '?'} bit)`);
    if (verbose && nums.modulus !== undefined) {
      out.push(`${inner}Modulus:`, ...hexBlock(nums.modulus, indent + 8, 15));
    }
    if (nums.exponent !== undefined)
      out.push(`${inner}Exponent: ${nums.exponent} (0x${nums.exponent.toString(16)})`);
  } else if (info.type === 'ec') {
    out.push(`${inner}Public-Key: (${info.bits ?? '?'} bit)`);
    if (verbose && nums.publicBytes !== undefined)
      out.push(`${inner}pub:`, ...hexBlock(nums.publicBytes, indent + 8, 15));
    if (info.curveOid !== undefined) out.push(`${inner}ASN1 OID: ${oidShortName(info.curveOid)}`);
    if (info.curve !== undefined && /^P-\d+$/.test(info.curve)) out.push(`${inner}NIST CURVE: ${info.curve}`);
  } else if (info.type === 'ed25519') {
    out.push(`${inner}ED25519 Public-Key:`);
    if (nums.publicBytes !== undefined)
      out.push(`${inner}pub:`, ...hexBlock(nums.publicBytes, indent + 8, 15));
  } else {
    out.push(`${inner}Unsupported key algorithm ${info.algorithm} (${info.oid})`);
    if (verbose && nums.publicBytes !== undefined) out.push(...hexBlock(nums.publicBytes, indent + 8, 15));
  }
  return out;
}

/** RSA-PSS parameter lines as OpenSSL prints them under a Signature Algorithm line. */
function pssLines(alg: SignatureAlgorithm): string[] {
  if (alg.name !== 'rsassaPss') return [];
  if (alg.hash === undefined || alg.saltLength === undefined) return ['        (INVALID PSS PARAMETERS)'];
  const h = (name: string | undefined) => (name ?? '?').replace('-', '').toLowerCase();
  return [
    `        Hash Algorithm: ${h(alg.hash)}`,
    `        Mask Algorithm: mgf1 with ${h(alg.mgfHash)}`,
    `         Salt Length: 0x${alg.saltLength.toString(16).toUpperCase()}`,
    '        Trailer Field: 0x01 (default)',
  ];
}

function signatureLines(alg: SignatureAlgorithm, value: Uint8Array, verbose: boolean): string[] {
  // OpenSSL prints the RSA-PSS parameters after the "Signature Value:" label of the outer algorithm.
  const out = [`    Signature Algorithm: ${alg.name}`];
  if (verbose) out.push('    Signature Value:');
  out.push(...pssLines(alg));
  if (verbose) out.push(...hexBlock(value, 8, 18));
  return out;
}

function serialLines(serialHex: string): string[] {
  const bytes = serialHex.length / 2;
  if (bytes <= 8) {
    const n = BigInt(`0x${serialHex}`);
    // A leading byte >= 0x80 with no 00 prefix is a negative INTEGER.
    if (Number.parseInt(serialHex.slice(0, 2), 16) < 0x80 || serialHex.length < 2)
      return [`        Serial Number: ${n} (0x${n.toString(16)})`];
  }
  return ['        Serial Number:', `            ${(serialHex.match(/../g) ?? []).join(':')}`];
}

function certificateText(cert: Certificate, verbose: boolean): string {
  const lines: string[] = ['Certificate:', '    Data:'];
  lines.push(`        Version: ${cert.version} (0x${(cert.version - 1).toString(16)})`);
  lines.push(...serialLines(cert.serialNumber));
  lines.push(
    `        Signature Algorithm: ${cert.signatureAlgorithm.name}`,
    ...pssLines(cert.signatureAlgorithm),
  );
  lines.push(`        Issuer: ${formatNameOneLine(cert.issuer)}`);
  lines.push('        Validity');
  lines.push(`            Not Before: ${opensslDate(cert.notBefore)}`);
  lines.push(`            Not After : ${opensslDate(cert.notAfter)}`);
  lines.push(`        Subject: ${formatNameOneLine(cert.subject)}`);
  lines.push('        Subject Public Key Info:');
  lines.push(...keyLines(cert.publicKeyInfo, cert.spki, 12, verbose));
  if (cert.extensions.length > 0) {
    lines.push('        X509v3 extensions:');
    lines.push(...extensionBlock(cert.extensions, 12));
  }
  lines.push(...signatureLines(cert.signatureAlgorithm, cert.signatureValue, verbose));
  lines.push('    Fingerprints:');
  lines.push(`        SHA-256: ${cert.fingerprint('sha256')}`);
  lines.push(`        SHA-1: ${cert.fingerprint('sha1')}`);
  lines.push(`        SPKI SHA-256 (pin): ${cert.spkiFingerprint().sha256Base64}`);
  if (cert.problems.length > 0) {
    lines.push('    Problems:');
    for (const p of cert.problems) lines.push(`        - ${p}`);
  }
  return `${lines.join('\n')}\n`;
}

function csrText(csr: CertificateSigningRequest, verbose: boolean): string {
  const lines: string[] = ['Certificate Request:', '    Data:'];
  lines.push(`        Version: ${csr.version} (0x${(csr.version - 1).toString(16)})`);
  lines.push(`        Subject: ${formatNameOneLine(csr.subject)}`);
  lines.push('        Subject Public Key Info:');
  lines.push(...keyLines(csr.publicKeyInfo, csr.spki, 12, verbose));
  lines.push('        Attributes:');
  const others = csr.attributes.filter((a) => a.name !== 'extReq' && a.name !== 'msExtReq');
  if (csr.attributes.length === 0) lines.push('            (none)');
  for (const a of others) {
    if (a.name === 'challengePassword')
      lines.push('            challengePassword        :<present, not shown>');
    else if (a.name === 'unstructuredName' && csr.unstructuredName !== undefined)
      lines.push(printable(`            unstructuredName         :${csr.unstructuredName}`));
    else lines.push(`            ${a.name.padEnd(25)}:<${a.values.length} value(s)>`);
  }
  if (csr.attributes.some((a) => a.name === 'extReq' || a.name === 'msExtReq')) {
    lines.push('            Requested Extensions:');
    lines.push(...extensionBlock(csr.extensions, 16));
  }
  lines.push(...signatureLines(csr.signatureAlgorithm, csr.signatureValue, verbose));
  lines.push('    Public Key Pin:');
  lines.push(`        SPKI SHA-256: ${csr.spkiFingerprint().sha256Base64}`);
  if (csr.problems.length > 0) {
    lines.push('    Problems:');
    for (const p of csr.problems) lines.push(`        - ${p}`);
  }
  return `${lines.join('\n')}\n`;
}

function checkOptions(options: DescribeOptions): { json: boolean; verbose: boolean } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const format = options.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new RangeError("format must be 'text' or 'json'");
  return { json: format === 'json', verbose: options.verbose === true };
}

/**
 * Describes a certificate like `openssl x509 -noout -text` (same sections and names: Version, Serial Number,
 * Signature Algorithm, Issuer, Validity, Subject, Subject Public Key Info, X509v3 extensions, Signature
 * Algorithm), followed by its SHA-256 and SHA-1 fingerprints, the SPKI pin and any problems found while
 * parsing; or, with `format: 'json'`, as a JSON-safe plain object ({@link Certificate.toJSON}).
 *
 * Differences from OpenSSL: names keep non-ASCII text as is (OpenSSL prints `\C3\BC`), IPv6 addresses are in
 * RFC 5952 form, unknown extensions are dumped as hex, and key/signature dumps need `verbose: true`.
 *
 * @param input - A parsed certificate, PEM text, DER bytes, or node:crypto's or @peculiar/x509's `X509Certificate`.
 * @throws CertificateError `ERR_CERT_INVALID` and PEMError codes as {@link parseCertificate} when `input` must be
 *   parsed first.
 * @throws TypeError for a wrong input type; RangeError for an unknown `format`.
 * @example
 * ```ts
 * console.log(describeCertificate(pem));
 * const json = describeCertificate(pem, { format: 'json' });
 * console.log(json.fingerprints.sha256);
 * ```
 */
export function describeCertificate(
  input: Certificate | string | Uint8Array | ForeignCertificate,
  options?: DescribeOptions & { format?: 'text' },
): string;
export function describeCertificate(
  input: Certificate | string | Uint8Array | ForeignCertificate,
  options: DescribeOptions & { format: 'json' },
): CertificateJSON;
export function describeCertificate(
  input: Certificate | string | Uint8Array | ForeignCertificate,
  options: DescribeOptions = {},
): string | CertificateJSON {
  const { json, verbose } = checkOptions(options);
  const cert = isCertificate(input)
    ? input
    : parseCertificate(input as string | Uint8Array | ForeignCertificate);
  return json ? cert.toJSON() : certificateText(cert, verbose);
}

/**
 * Describes a CSR like `openssl req -noout -text` (Version, Subject, Subject Public Key Info, Attributes with
 * Requested Extensions, Signature Algorithm) plus the SPKI pin and any problems; or, with `format: 'json'`,
 * as a JSON-safe plain object. A challenge password is reported as present, never shown.
 *
 * @param input - A parsed CSR, PEM text, DER bytes, or @peculiar/x509's `Pkcs10CertificateRequest`.
 * @throws CSRError `ERR_CSR_INVALID` and PEMError codes as {@link parseCSR} when `input` must be parsed first.
 * @throws TypeError for a wrong input type; RangeError for an unknown `format`.
 * @example
 * ```ts
 * console.log(describeCSR(await readFile('mail.csr', 'utf8')));
 * ```
 */
export function describeCSR(
  input: CertificateSigningRequest | string | Uint8Array | PeculiarCSRObject,
  options?: DescribeOptions & { format?: 'text' },
): string;
export function describeCSR(
  input: CertificateSigningRequest | string | Uint8Array | PeculiarCSRObject,
  options: DescribeOptions & { format: 'json' },
): CSRJSON;
export function describeCSR(
  input: CertificateSigningRequest | string | Uint8Array | PeculiarCSRObject,
  options: DescribeOptions = {},
): string | CSRJSON {
  const { json, verbose } = checkOptions(options);
  const csr =
    typeof input === 'string' || input instanceof Uint8Array || foreignCSRDER(input) !== undefined
      ? parseCSR(input as string | Uint8Array | PeculiarCSRObject)
      : (input as CertificateSigningRequest);
  if (csr === null || typeof csr !== 'object' || typeof (csr as { toJSON?: unknown }).toJSON !== 'function')
    throw new TypeError('describeCSR expects a CSR from parseCSR, PEM text or DER bytes');
  return json ? csr.toJSON() : csrText(csr, verbose);
}
