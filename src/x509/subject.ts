/**
 * The subject fields of a certificate signing request that resellers ask for (country, state, locality,
 * organisation, optional unit, Common Name, administrator e-mail), and the names a mail
 * server certificate must cover (subjectAltName): validation with messages an administrator can act on, and
 * DER encoding that matches what `openssl req` writes.
 *
 * Encodings (as OpenSSL's default `string_mask = utf8only` and its attribute table produce them):
 * countryName is a PrintableString, emailAddress an IA5String, every other attribute a UTF8String. The
 * relative distinguished names come in the order C, ST, L, O, OU, CN, emailAddress, one attribute each.
 * Upper bounds are OpenSSL's (RFC 5280 `ub-*`): C exactly 2, ST and L 128, O, OU and CN 64, e-mail 128
 * characters.
 *
 * @module subject
 */

import { getPublicSuffix } from 'tldts/dist/index.esm.min.js';
import { CSRError, HostnameError } from '../errors.js';
import {
  encodeImplicit,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeString,
  Tag,
} from '../internal/encoding/der.js';
import { canonicalizeHostname } from '../names/hostname.js';
import { formatIPAddress, parseIPAddress } from '../names/ip-address.js';

/**
 * The subject fields resellers ask for (C, ST, L, O, OU, CN, emailAddress). Every field is optional here; {@link csr!createCSR} requires
 * `commonName`. Leading and trailing white space is removed and an empty field is left out (never encoded
 * as an empty string).
 */
export interface SubjectFields {
  /** Country Name: the ISO 3166-1 alpha-2 code, e.g. `DE`, `US`, `GB` (not `UK`, not `USA`). */
  country?: string | undefined;
  /** State or Province Name, written out (e.g. `California`, not `CA`). */
  state?: string | undefined;
  /** Locality Name: the city. */
  locality?: string | undefined;
  /** Organization Name: the legal name of the organisation. */
  organization?: string | undefined;
  /** Organizational Unit Name (optional; e.g. `IT`). */
  organizationalUnit?: string | undefined;
  /** Common Name: for a server certificate the bare domain, e.g. `example.com`. */
  commonName?: string | undefined;
  /** E-mail address of the administrator responsible for the certificate. */
  emailAddress?: string | undefined;
}

/** Stable codes of the advisory {@link CSRWarning}s. */
export type CSRWarningCode =
  /** The Common Name starts with a host label such as `mail.`; the bare domain belongs there. */
  | 'WARN_CN_HOST_PREFIX'
  /** An internationalised name was converted to its A-label (xn--) form. */
  | 'WARN_IDN_CONVERTED'
  /** A name was given twice (after canonicalisation) and is listed once. */
  | 'WARN_DUPLICATE_NAME'
  /** Only the Common Name is in the SAN: the mail host names (MX, submission, IMAP) are not covered. */
  | 'WARN_CN_ONLY';

/** Advice about a request that is valid but probably not what the administrator wants. */
export interface CSRWarning {
  /** Stable, machine-readable code. */
  readonly code: CSRWarningCode;
  /** What to do, in words for an administrator. */
  readonly message: string;
  /** The name the warning is about, when there is one. */
  readonly name?: string;
}

/** Subject fields after {@link normalizeSubject}: trimmed, validated, empty ones removed. */
export type NormalizedSubject = Readonly<SubjectFields>;

/** The names a certificate covers, after {@link normalizeSubjectAltNames}. */
export interface SubjectAltNames {
  /** DNS names: lower-case A-labels, the Common Name first when it is a host name; no duplicates. */
  readonly dnsNames: readonly string[];
  /** IP addresses in their canonical text form (IPv4 dotted quad, IPv6 RFC 5952). */
  readonly ipAddresses: readonly string[];
  /** The IP addresses as 4 or 16 bytes, in the same order as {@link SubjectAltNames.ipAddresses}. */
  readonly ipAddressBytes: readonly Uint8Array[];
  /** Advice collected while normalising. */
  readonly warnings: readonly CSRWarning[];
}

/**
 * The officially assigned ISO 3166-1 alpha-2 country codes (249 codes), the values the Country Name field
 * accepts. Reserved codes such as `UK` (the United Kingdom is `GB`) and `EU`, and user-assigned ones such
 * as `XK`, are not in the list.
 *
 * @example
 * ```ts
 * import { COUNTRY_CODES } from 'mailtls';
 * COUNTRY_CODES.has('GB'); // true
 * COUNTRY_CODES.has('UK'); // false
 * ```
 */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV ' +
    'BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ' +
    'ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE ' +
    'IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY ' +
    'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU ' +
    'NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM ' +
    'SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE ' +
    'VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

/** Codes people type that are not ISO 3166-1 alpha-2, with the code they mean. */
const COUNTRY_HINTS: Readonly<Record<string, string>> = {
  UK: 'GB',
  EL: 'GR',
  EU: '',
  USA: 'US',
  GBR: 'GB',
  DEU: 'DE',
  GER: 'DE',
  FRA: 'FR',
  CAN: 'CA',
  AUS: 'AU',
  AUT: 'AT',
  CHE: 'CH',
  NLD: 'NL',
  BEL: 'BE',
  ESP: 'ES',
  ITA: 'IT',
  IRL: 'IE',
  SWE: 'SE',
  NOR: 'NO',
  DNK: 'DK',
  FIN: 'FI',
  POL: 'PL',
  PRT: 'PT',
  CZE: 'CZ',
  JPN: 'JP',
  CHN: 'CN',
  IND: 'IN',
  BRA: 'BR',
  MEX: 'MX',
  NZL: 'NZ',
  ZAF: 'ZA',
  RUS: 'RU',
  UKR: 'UA',
  KOR: 'KR',
};

interface AttributeSpec {
  readonly field: keyof SubjectFields;
  readonly oid: string;
  readonly label: string;
  readonly short: string;
  readonly max: number;
  readonly tag: number;
}

/** The attributes in the order `openssl req` writes them. */
const ATTRIBUTES: readonly AttributeSpec[] = [
  { field: 'country', oid: '2.5.4.6', label: 'Country Name', short: 'C', max: 2, tag: Tag.PRINTABLE_STRING },
  {
    field: 'state',
    oid: '2.5.4.8',
    label: 'State or Province Name',
    short: 'ST',
    max: 128,
    tag: Tag.UTF8_STRING,
  },
  { field: 'locality', oid: '2.5.4.7', label: 'Locality Name', short: 'L', max: 128, tag: Tag.UTF8_STRING },
  {
    field: 'organization',
    oid: '2.5.4.10',
    label: 'Organization Name',
    short: 'O',
    max: 64,
    tag: Tag.UTF8_STRING,
  },
  {
    field: 'organizationalUnit',
    oid: '2.5.4.11',
    label: 'Organizational Unit Name',
    short: 'OU',
    max: 64,
    tag: Tag.UTF8_STRING,
  },
  { field: 'commonName', oid: '2.5.4.3', label: 'Common Name', short: 'CN', max: 64, tag: Tag.UTF8_STRING },
  {
    field: 'emailAddress',
    oid: '1.2.840.113549.1.9.1',
    label: 'Email Address',
    short: 'emailAddress',
    max: 128,
    tag: Tag.IA5_STRING,
  },
];

const FIELD_NAMES = ATTRIBUTES.map((a) => a.field);

/** Host labels that mark a host name rather than the bare domain (the CN should be the bare domain). */
const HOST_PREFIXES = new Set(['mail', 'www', 'smtp', 'imap', 'pop', 'pop3']);

function subjectError(
  code: 'ERR_CSR_SUBJECT' | 'ERR_CSR_COUNTRY' | 'ERR_CSR_EMAIL',
  message: string,
  details: Record<string, unknown>,
): CSRError {
  return new CSRError(code, message, { details });
}

/** A short, safe rendering of untrusted text for messages (JSON-quoted, cut to 80 characters). */
function quote(text: string): string {
  const cut = [...text];
  return JSON.stringify(cut.length > 80 ? `${cut.slice(0, 80).join('')}...` : text);
}

// C0 and C1 control characters, DEL, and unpaired UTF-16 surrogates (with the u flag a valid pair is one
// code point, so \p{Cs} only matches a lone surrogate).
const BAD_TEXT = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;

function normalizeCountry(value: string): string {
  const upper = value.toUpperCase();
  if (COUNTRY_CODES.has(upper)) return upper;
  const hint = COUNTRY_HINTS[upper];
  let advice: string;
  if (hint === undefined)
    advice = /^[A-Za-z]{2}$/.test(value)
      ? `${quote(value)} is not an assigned ISO 3166-1 alpha-2 code; look up your country's two-letter code (e.g. US, GB, DE)`
      : `type the two-letter ISO 3166-1 alpha-2 code of your country (e.g. US, GB, DE), not ${quote(value)}`;
  else if (hint === '') advice = `${quote(value)} is not a country; type your country's two-letter code`;
  else if (upper === 'UK') advice = 'UK is not an ISO 3166-1 code: the United Kingdom is GB';
  else advice = `type ${hint}, the two-letter ISO 3166-1 alpha-2 code, not ${quote(value)}`;
  throw subjectError('ERR_CSR_COUNTRY', `Country Name: ${advice}`, {
    field: 'country',
    ...(hint ? { suggestion: hint } : {}),
  });
}

// RFC 5322 dot-atom local part (ASCII only: IA5String cannot carry anything else).
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Validates an e-mail address and returns it with its domain in canonical (lower-case A-label) form. */
function normalizeEmailAddress(value: string): string {
  const at = value.lastIndexOf('@');
  const fail = (why: string): never => {
    throw subjectError('ERR_CSR_EMAIL', `Email Address ${quote(value)}: ${why}`, { field: 'emailAddress' });
  };
  if (at <= 0 || at === value.length - 1)
    fail('type a full address such as hostmaster@example.com (local part, @, domain)');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64) fail('the part before @ is longer than 64 characters');
  if (!LOCAL_PART.test(local))
    fail(
      'the part before @ may hold only ASCII letters, digits, dots (not at the ends, not doubled) and ' +
        "!#$%&'*+/=?^_`{|}~- ; use a plain address such as hostmaster@example.com",
    );
  let host: string;
  try {
    host = canonicalizeHostname(domain);
  } catch (e) {
    if (!(e instanceof HostnameError)) throw e;
    return fail(`${quote(domain)} is not a valid domain; type the mail domain, e.g. example.com`);
  }
  if (!host.includes('.')) fail(`the domain ${quote(domain)} has no dot; type the full mail domain`);
  return `${local}@${host}`;
}

/**
 * Checks and normalises subject fields: trims white space, drops empty fields, upper-cases the country
 * and checks it against the ISO 3166-1 alpha-2 list, checks lengths (OpenSSL's upper bounds) and characters
 * (no control characters), and canonicalises the e-mail domain. The Common Name is checked as text here;
 * {@link normalizeSubjectAltNames} checks it as a host name.
 *
 * @param fields - the subject fields (C, ST, L, O, OU, CN, emailAddress).
 * @returns a frozen copy holding only the non-empty fields.
 * @throws {CSRError} `ERR_CSR_COUNTRY` (not a 2-letter ISO code, e.g. `USA`, `UK`), `ERR_CSR_EMAIL`
 *   (not a usable address), `ERR_CSR_SUBJECT` (unknown field, too long, control characters).
 * @throws {TypeError} when `fields` is not an object or a field is neither a string nor undefined.
 * @example
 * ```ts
 * import { normalizeSubject } from 'mailtls';
 * normalizeSubject({ country: 'de', organizationalUnit: '', commonName: 'example.com' });
 * // => { country: 'DE', commonName: 'example.com' }
 * ```
 */
export function normalizeSubject(fields: SubjectFields): NormalizedSubject {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw new TypeError('subject must be an object of subject fields');
  for (const key of Object.keys(fields)) {
    if (!(FIELD_NAMES as string[]).includes(key))
      throw subjectError(
        'ERR_CSR_SUBJECT',
        `unknown subject field ${quote(key)}; the fields are ${FIELD_NAMES.join(', ')}`,
        { field: key },
      );
  }
  const out: SubjectFields = {};
  for (const spec of ATTRIBUTES) {
    const raw: unknown = fields[spec.field];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') throw new TypeError(`subject.${spec.field} must be a string`);
    const value = raw.trim();
    if (value === '') continue;
    if (BAD_TEXT.test(value))
      throw subjectError(
        'ERR_CSR_SUBJECT',
        `${spec.label} contains a control character or broken Unicode; type plain text`,
        { field: spec.field },
      );
    let normalized = value;
    if (spec.field === 'country') normalized = normalizeCountry(value);
    else if (spec.field === 'emailAddress') normalized = normalizeEmailAddress(value);
    const length = [...normalized].length;
    if (length > spec.max)
      throw subjectError(
        'ERR_CSR_SUBJECT',
        spec.field === 'commonName'
          ? `Common Name is ${length} characters long, over the limit of ${spec.max}; use the bare domain ` +
              '(e.g. example.com) as the Common Name and list longer host names in hostnames'
          : `${spec.label} is ${length} characters long, over the limit of ${spec.max}; shorten it`,
        { field: spec.field, length, max: spec.max },
      );
    out[spec.field] = normalized;
  }
  return Object.freeze(out);
}

/**
 * Encodes subject fields as a DER `Name` (RFC 5280), after {@link normalizeSubject}: one attribute per
 * RDN in the order C, ST, L, O, OU, CN, emailAddress; the country as PrintableString, the e-mail address as
 * IA5String, everything else as UTF8String (what `openssl req` writes).
 *
 * @param fields - the subject fields; empty ones are left out.
 * @returns the DER bytes of the Name (an empty SEQUENCE when no field is set).
 * @throws {CSRError} the codes of {@link normalizeSubject}.
 * @throws {TypeError} see {@link normalizeSubject}.
 * @example
 * ```ts
 * import { encodeSubject } from 'mailtls';
 * const der = encodeSubject({ country: 'US', organization: 'Example Inc', commonName: 'example.com' });
 * ```
 */
export function encodeSubject(fields: SubjectFields): Uint8Array {
  const subject = normalizeSubject(fields);
  const rdns: Uint8Array[] = [];
  for (const spec of ATTRIBUTES) {
    const value = subject[spec.field];
    if (value === undefined) continue;
    rdns.push(encodeSet(encodeSequence(encodeOID(spec.oid), encodeString(spec.tag, value))));
  }
  return encodeSequence(...rdns);
}

/**
 * Formats subject fields the way `openssl ... -subject -nameopt RFC2253` prints them (most significant
 * RDN last, `,` between RDNs, RFC 4514 escaping). Useful to show an administrator what will be requested.
 *
 * @throws {CSRError} the codes of {@link normalizeSubject}.
 * @throws {TypeError} see {@link normalizeSubject}.
 * @example
 * ```ts
 * import { formatSubject } from 'mailtls';
 * formatSubject({ country: 'US', commonName: 'example.com' }); // => 'CN=example.com,C=US'
 * ```
 */
export function formatSubject(fields: SubjectFields): string {
  const subject = normalizeSubject(fields);
  const parts: string[] = [];
  for (const spec of ATTRIBUTES) {
    const value = subject[spec.field];
    if (value === undefined) continue;
    parts.unshift(`${spec.short}=${escapeRFC4514(value)}`);
  }
  return parts.join(',');
}

function escapeRFC4514(value: string): string {
  let out = value.replace(/[\\"+,;<=>]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Options of {@link normalizeSubjectAltNames}. */
export interface SubjectAltNameOptions {
  /** The Common Name; when it is a host name or an IP address it is listed first in the SAN. */
  commonName?: string | undefined;
  /** Host names the server answers on (MX host, submission, IMAP/POP, webmail); `*.` wildcards allowed. */
  hostnames?: readonly string[] | undefined;
  /** IP addresses the server is reached on (IPv4 or IPv6 text). */
  ipAddresses?: readonly string[] | undefined;
}

/**
 * Checks and canonicalises the names a server certificate must cover. Host names become lower-case
 * A-labels (internationalised names are converted, with a warning), a trailing dot is dropped, a leftmost
 * `*` label is allowed (not over a public suffix such as `*.co.uk`); IP addresses are parsed and written in
 * canonical form. The Common Name, when given, is always included (first): modern clients ignore the CN,
 * so a certificate whose CN is not in the SAN does not cover it. Duplicates are listed once.
 *
 * Warnings: `WARN_CN_HOST_PREFIX` when the CN starts with `mail.`, `www.`, `smtp.`, `imap.`, `pop.` (the
 * bare domain belongs in the CN and the host names in the SAN), `WARN_IDN_CONVERTED`,
 * `WARN_DUPLICATE_NAME`, and `WARN_CN_ONLY` when the CN is the only name.
 *
 * @throws {CSRError} `ERR_CSR_DNS_NAME` (a host name or the CN is not a valid DNS name),
 *   `ERR_CSR_IP_ADDRESS` (not an IPv4/IPv6 address), `ERR_CSR_SUBJECT` (no name at all).
 * @throws {TypeError} when the lists are not arrays of strings.
 * @example
 * ```ts
 * import { normalizeSubjectAltNames } from 'mailtls';
 * const san = normalizeSubjectAltNames({
 *   commonName: 'example.com',
 *   hostnames: ['mail.example.com', 'imap.example.com'],
 * });
 * san.dnsNames; // => ['example.com', 'mail.example.com', 'imap.example.com']
 * ```
 */
export function normalizeSubjectAltNames(options: SubjectAltNameOptions): SubjectAltNames {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const hostnames = stringList(options.hostnames, 'hostnames');
  const ips = stringList(options.ipAddresses, 'ipAddresses');
  if (options.commonName !== undefined && typeof options.commonName !== 'string')
    throw new TypeError('commonName must be a string');
  const warnings: CSRWarning[] = [];
  const dnsNames: string[] = [];
  const ipTexts: string[] = [];
  const ipBytes: Uint8Array[] = [];
  const seen = new Set<string>();

  const addIP = (text: string, bytes: Uint8Array, source: string): void => {
    const canonical = formatIPAddress(bytes);
    if (seen.has(`ip:${canonical}`)) {
      if (source !== 'commonName')
        warnings.push({
          code: 'WARN_DUPLICATE_NAME',
          message: `${text} is listed more than once; it is included once`,
          name: canonical,
        });
      return;
    }
    seen.add(`ip:${canonical}`);
    ipTexts.push(canonical);
    ipBytes.push(bytes);
  };
  const addHost = (text: string, source: string): string => {
    const host = canonicalizeSANHostname(text, source);
    if (/[^\x00-\x7f]/.test(text))
      warnings.push({
        code: 'WARN_IDN_CONVERTED',
        message: `${text} was converted to its ASCII form ${host}, which is what certificates hold`,
        name: host,
      });
    if (seen.has(`dns:${host}`)) {
      warnings.push({
        code: 'WARN_DUPLICATE_NAME',
        message:
          source === 'hostnames' && dnsNames[0] === host && options.commonName !== undefined
            ? `${host} is the Common Name, which is always in the SAN; it is listed once`
            : `${host} is listed more than once; it is included once`,
        name: host,
      });
      return host;
    }
    seen.add(`dns:${host}`);
    dnsNames.push(host);
    return host;
  };

  const cn = options.commonName?.trim();
  if (cn !== undefined && cn !== '') {
    const ip = parseIPAddress(cn);
    if (ip !== undefined) addIP(cn, ip, 'commonName');
    else {
      const host = addHost(cn, 'commonName');
      const first = host.split('.')[0]!;
      if (HOST_PREFIXES.has(first) && host.split('.').length > 2)
        warnings.push({
          code: 'WARN_CN_HOST_PREFIX',
          message:
            `the Common Name ${host} starts with "${first}."; use the bare domain ` +
            `(${host.slice(first.length + 1)}) as Common Name, with ${host} and the other host names ` +
            'listed in hostnames',
          name: host,
        });
    }
  }
  for (const h of hostnames) {
    if (parseIPAddress(h.trim()) !== undefined)
      throw new CSRError(
        'ERR_CSR_DNS_NAME',
        `${quote(h)} is an IP address, not a host name; list it in ipAddresses instead of hostnames`,
        { details: { name: h } },
      );
    addHost(h, 'hostnames');
  }
  for (const text of ips) {
    const bytes = parseIPAddress(text.trim());
    if (bytes === undefined)
      throw new CSRError(
        'ERR_CSR_IP_ADDRESS',
        `${quote(text)} is not an IP address; type an IPv4 address such as 192.0.2.10 or an IPv6 address ` +
          'such as 2001:db8::10 (host names go in hostnames)',
        { details: { address: text } },
      );
    addIP(text, bytes, 'ipAddresses');
  }
  if (dnsNames.length + ipTexts.length === 0)
    throw new CSRError(
      'ERR_CSR_SUBJECT',
      'no name to certify: give the Common Name (the bare domain, e.g. example.com) and the host names ' +
        'the server answers on',
      { details: {} },
    );
  if (dnsNames.length + ipTexts.length === 1 && cn !== undefined && cn !== '')
    warnings.push({
      code: 'WARN_CN_ONLY',
      message:
        `the certificate will only be valid for ${dnsNames[0] ?? ipTexts[0]}; add the host names your mail ` +
        'server answers on (MX host, submission, IMAP/POP, webmail, e.g. mail.example.com) to hostnames',
      name: dnsNames[0] ?? ipTexts[0]!,
    });
  return Object.freeze({
    dnsNames: Object.freeze(dnsNames),
    ipAddresses: Object.freeze(ipTexts),
    ipAddressBytes: Object.freeze(ipBytes),
    warnings: Object.freeze(warnings),
  });
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of strings`);
  for (const v of value)
    if (typeof v !== 'string') throw new TypeError(`${name} must be an array of strings`);
  return value as string[];
}

/**
 * Canonicalises one SAN host name: a leftmost `*` label is allowed when at least two labels follow and
 * the rest is not a bare top-level domain.
 */
function canonicalizeSANHostname(text: string, source: string): string {
  const trimmed = text.trim();
  const wildcard = trimmed.startsWith('*.');
  const rest = wildcard ? trimmed.slice(2) : trimmed;
  const what = source === 'commonName' ? 'the Common Name' : 'host name';
  let host: string;
  try {
    host = canonicalizeHostname(rest);
  } catch (e) {
    if (!(e instanceof HostnameError)) throw e;
    throw new CSRError(
      'ERR_CSR_DNS_NAME',
      `${what} ${quote(text)} is not a valid DNS name; type a name such as mail.example.com (letters, ` +
        'digits and hyphens, dots between labels, a leading *. for a wildcard)',
      { details: { name: text, source } },
    );
  }
  if (wildcard && (!host.includes('.') || getPublicSuffix(host) === host))
    throw new CSRError(
      'ERR_CSR_DNS_NAME',
      `${what} ${quote(text)}: a wildcard must stand for one label under a registered domain, e.g. ` +
        '*.example.com',
      { details: { name: text, source } },
    );
  return wildcard ? `*.${host}` : host;
}

/**
 * Encodes the value of a subjectAltName extension (`GeneralNames`): `dNSName` entries then `iPAddress`
 * entries, in order. The names must already be normalised ({@link normalizeSubjectAltNames}).
 *
 * @throws {TypeError} when a name is not ASCII or an address is not 4 or 16 bytes.
 * @example
 * ```ts
 * import { encodeSubjectAltName, normalizeSubjectAltNames } from 'mailtls';
 * const san = normalizeSubjectAltNames({ commonName: 'example.com', hostnames: ['mail.example.com'] });
 * const extnValue = encodeSubjectAltName(san);
 * ```
 */
export function encodeSubjectAltName(
  names: Pick<SubjectAltNames, 'dnsNames' | 'ipAddressBytes'>,
): Uint8Array {
  const items: Uint8Array[] = [];
  for (const name of names.dnsNames) {
    const bytes = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c > 0x7e || c < 0x21) throw new TypeError('dNSName must be printable ASCII (an A-label)');
      bytes[i] = c;
    }
    items.push(encodeImplicit(2, bytes));
  }
  for (const ip of names.ipAddressBytes) {
    if (ip.length !== 4 && ip.length !== 16) throw new TypeError('iPAddress must be 4 or 16 bytes');
    items.push(encodeImplicit(7, ip));
  }
  return encodeSequence(...items);
}
