/**
 * The OID ↔ name table of the certificate views. Internal: the parsers name what they find with it, the
 * describers print its long names.
 *
 * Short names follow OpenSSL (`sn`), so that `describeCertificate` output and RFC 4514 strings read like the
 * `openssl` tools administrators know; long names follow OpenSSL's `ln` where OpenSSL prints them.
 */

/** One row of the table. */
export interface OIDInfo {
  /** OpenSSL short name (e.g. `CN`, `subjectAltName`, `serverAuth`). */
  readonly short: string;
  /** Long name as `openssl x509 -text` prints it (e.g. `X509v3 Subject Alternative Name`). */
  readonly long: string;
}

/** Distinguished-name attribute types. */
export const AttributeOID = {
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  streetAddress: '2.5.4.9',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  title: '2.5.4.12',
  description: '2.5.4.13',
  businessCategory: '2.5.4.15',
  postalCode: '2.5.4.17',
  name: '2.5.4.41',
  givenName: '2.5.4.42',
  initials: '2.5.4.43',
  generationQualifier: '2.5.4.44',
  dnQualifier: '2.5.4.46',
  pseudonym: '2.5.4.65',
  organizationIdentifier: '2.5.4.97',
  domainComponent: '0.9.2342.19200300.100.1.25',
  userId: '0.9.2342.19200300.100.1.1',
  emailAddress: '1.2.840.113549.1.9.1',
  jurisdictionLocalityName: '1.3.6.1.4.1.311.60.2.1.1',
  jurisdictionStateOrProvinceName: '1.3.6.1.4.1.311.60.2.1.2',
  jurisdictionCountryName: '1.3.6.1.4.1.311.60.2.1.3',
} as const;

/** X.509 v3 extension identifiers. */
export const ExtensionOID = {
  subjectDirectoryAttributes: '2.5.29.9',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  privateKeyUsagePeriod: '2.5.29.16',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extendedKeyUsage: '2.5.29.37',
  freshestCRL: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  ctPrecertificateSCTs: '1.3.6.1.4.1.11129.2.4.2',
  ctPrecertificatePoison: '1.3.6.1.4.1.11129.2.4.3',
  netscapeCertType: '2.16.840.1.113730.1.1',
  netscapeComment: '2.16.840.1.113730.1.13',
  msCertificateTemplate: '1.3.6.1.4.1.311.21.7',
  msCertificateTemplateName: '1.3.6.1.4.1.311.20.2',
  msCAVersion: '1.3.6.1.4.1.311.21.1',
  msApplicationPolicies: '1.3.6.1.4.1.311.21.10',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

/** Signature algorithm identifiers. */
export const SignatureAlgorithmOID = {
  md5WithRSAEncryption: '1.2.840.113549.1.1.4',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  sha224WithRSAEncryption: '1.2.840.113549.1.1.14',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA224: '1.2.840.10045.4.3.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  dsaWithSHA1: '1.2.840.10040.4.3',
  dsaWithSHA256: '2.16.840.1.101.3.4.3.2',
} as const;

/** Hash algorithm identifiers (RSA-PSS parameters, MGF1). */
export const HashOID = {
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  mgf1: '1.2.840.113549.1.1.8',
} as const;

/** WebCrypto hash names of hash OIDs. */
export const HASH_NAMES: Readonly<Record<string, string>> = {
  [HashOID.sha1]: 'SHA-1',
  [HashOID.sha224]: 'SHA-224',
  [HashOID.sha256]: 'SHA-256',
  [HashOID.sha384]: 'SHA-384',
  [HashOID.sha512]: 'SHA-512',
};

/** Signature algorithm → key family and WebCrypto hash name. */
export const SIGNATURE_ALGORITHMS: Readonly<
  Record<string, { readonly key: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'other'; readonly hash?: string }>
> = {
  [SignatureAlgorithmOID.md5WithRSAEncryption]: { key: 'rsa', hash: 'MD5' },
  [SignatureAlgorithmOID.sha1WithRSAEncryption]: { key: 'rsa', hash: 'SHA-1' },
  [SignatureAlgorithmOID.sha224WithRSAEncryption]: { key: 'rsa', hash: 'SHA-224' },
  [SignatureAlgorithmOID.sha256WithRSAEncryption]: { key: 'rsa', hash: 'SHA-256' },
  [SignatureAlgorithmOID.sha384WithRSAEncryption]: { key: 'rsa', hash: 'SHA-384' },
  [SignatureAlgorithmOID.sha512WithRSAEncryption]: { key: 'rsa', hash: 'SHA-512' },
  [SignatureAlgorithmOID.rsassaPss]: { key: 'rsa-pss' },
  [SignatureAlgorithmOID.ecdsaWithSHA1]: { key: 'ec', hash: 'SHA-1' },
  [SignatureAlgorithmOID.ecdsaWithSHA224]: { key: 'ec', hash: 'SHA-224' },
  [SignatureAlgorithmOID.ecdsaWithSHA256]: { key: 'ec', hash: 'SHA-256' },
  [SignatureAlgorithmOID.ecdsaWithSHA384]: { key: 'ec', hash: 'SHA-384' },
  [SignatureAlgorithmOID.ecdsaWithSHA512]: { key: 'ec', hash: 'SHA-512' },
  [SignatureAlgorithmOID.ed25519]: { key: 'ed25519' },
  [SignatureAlgorithmOID.ed448]: { key: 'other' },
  [SignatureAlgorithmOID.dsaWithSHA1]: { key: 'other', hash: 'SHA-1' },
  [SignatureAlgorithmOID.dsaWithSHA256]: { key: 'other', hash: 'SHA-256' },
};

/** Extended key usage purposes. */
export const EKUOID = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Access methods of AIA/SIA. */
export const AccessMethodOID = {
  ocsp: '1.3.6.1.5.5.7.48.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  caRepository: '1.3.6.1.5.5.7.48.5',
  timeStamping: '1.3.6.1.5.5.7.48.3',
} as const;

/** PKCS#9 attributes of certification requests. */
export const CSRAttributeOID = {
  challengePassword: '1.2.840.113549.1.9.7',
  unstructuredName: '1.2.840.113549.1.9.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  msExtensionRequest: '1.3.6.1.4.1.311.2.1.14',
} as const;

/** Other names of GeneralName.otherName we decode. */
export const OtherNameOID = {
  smtpUTF8Mailbox: '1.3.6.1.5.5.7.8.9',
  userPrincipalName: '1.3.6.1.4.1.311.20.2.3',
  permanentIdentifier: '1.3.6.1.5.5.7.8.3',
} as const;

/** PKCS#7 / CMS content types. */
export const ContentTypeOID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
} as const;

const rows: ReadonlyArray<readonly [string, string, string]> = [
  // attributes
  [AttributeOID.commonName, 'CN', 'commonName'],
  [AttributeOID.surname, 'SN', 'surname'],
  [AttributeOID.serialNumber, 'serialNumber', 'serialNumber'],
  [AttributeOID.countryName, 'C', 'countryName'],
  [AttributeOID.localityName, 'L', 'localityName'],
  [AttributeOID.stateOrProvinceName, 'ST', 'stateOrProvinceName'],
  [AttributeOID.streetAddress, 'street', 'streetAddress'],
  [AttributeOID.organizationName, 'O', 'organizationName'],
  [AttributeOID.organizationalUnitName, 'OU', 'organizationalUnitName'],
  [AttributeOID.title, 'title', 'title'],
  [AttributeOID.description, 'description', 'description'],
  [AttributeOID.businessCategory, 'businessCategory', 'businessCategory'],
  [AttributeOID.postalCode, 'postalCode', 'postalCode'],
  [AttributeOID.name, 'name', 'name'],
  [AttributeOID.givenName, 'GN', 'givenName'],
  [AttributeOID.initials, 'initials', 'initials'],
  [AttributeOID.generationQualifier, 'generationQualifier', 'generationQualifier'],
  [AttributeOID.dnQualifier, 'dnQualifier', 'dnQualifier'],
  [AttributeOID.pseudonym, 'pseudonym', 'pseudonym'],
  [AttributeOID.organizationIdentifier, 'organizationIdentifier', 'organizationIdentifier'],
  [AttributeOID.domainComponent, 'DC', 'domainComponent'],
  [AttributeOID.userId, 'UID', 'userId'],
  [AttributeOID.emailAddress, 'emailAddress', 'emailAddress'],
  [AttributeOID.jurisdictionLocalityName, 'jurisdictionL', 'jurisdictionLocalityName'],
  [AttributeOID.jurisdictionStateOrProvinceName, 'jurisdictionST', 'jurisdictionStateOrProvinceName'],
  [AttributeOID.jurisdictionCountryName, 'jurisdictionC', 'jurisdictionCountryName'],
  // extensions
  [
    ExtensionOID.subjectDirectoryAttributes,
    'subjectDirectoryAttributes',
    'X509v3 Subject Directory Attributes',
  ],
  [ExtensionOID.subjectKeyIdentifier, 'subjectKeyIdentifier', 'X509v3 Subject Key Identifier'],
  [ExtensionOID.keyUsage, 'keyUsage', 'X509v3 Key Usage'],
  [ExtensionOID.privateKeyUsagePeriod, 'privateKeyUsagePeriod', 'X509v3 Private Key Usage Period'],
  [ExtensionOID.subjectAltName, 'subjectAltName', 'X509v3 Subject Alternative Name'],
  [ExtensionOID.issuerAltName, 'issuerAltName', 'X509v3 Issuer Alternative Name'],
  [ExtensionOID.basicConstraints, 'basicConstraints', 'X509v3 Basic Constraints'],
  [ExtensionOID.nameConstraints, 'nameConstraints', 'X509v3 Name Constraints'],
  [ExtensionOID.crlDistributionPoints, 'crlDistributionPoints', 'X509v3 CRL Distribution Points'],
  [ExtensionOID.certificatePolicies, 'certificatePolicies', 'X509v3 Certificate Policies'],
  [ExtensionOID.policyMappings, 'policyMappings', 'X509v3 Policy Mappings'],
  [ExtensionOID.authorityKeyIdentifier, 'authorityKeyIdentifier', 'X509v3 Authority Key Identifier'],
  [ExtensionOID.policyConstraints, 'policyConstraints', 'X509v3 Policy Constraints'],
  [ExtensionOID.extendedKeyUsage, 'extendedKeyUsage', 'X509v3 Extended Key Usage'],
  [ExtensionOID.freshestCRL, 'freshestCRL', 'X509v3 Freshest CRL'],
  [ExtensionOID.inhibitAnyPolicy, 'inhibitAnyPolicy', 'X509v3 Inhibit Any Policy'],
  [ExtensionOID.authorityInfoAccess, 'authorityInfoAccess', 'Authority Information Access'],
  [ExtensionOID.subjectInfoAccess, 'subjectInfoAccess', 'Subject Information Access'],
  [ExtensionOID.tlsFeature, 'tlsfeature', 'TLS Feature'],
  [ExtensionOID.ctPrecertificateSCTs, 'ct_precert_scts', 'CT Precertificate SCTs'],
  [ExtensionOID.ctPrecertificatePoison, 'ct_precert_poison', 'CT Precertificate Poison'],
  [ExtensionOID.netscapeCertType, 'nsCertType', 'Netscape Cert Type'],
  [ExtensionOID.netscapeComment, 'nsComment', 'Netscape Comment'],
  [ExtensionOID.msCertificateTemplate, 'msCertificateTemplate', 'Microsoft Certificate Template'],
  [
    ExtensionOID.msCertificateTemplateName,
    'msCertificateTemplateName',
    'Microsoft Certificate Template Name',
  ],
  [ExtensionOID.msCAVersion, 'msCAVersion', 'Microsoft CA Version'],
  [ExtensionOID.msApplicationPolicies, 'msApplicationPolicies', 'Microsoft Application Policies'],
  [ExtensionOID.ocspNoCheck, 'noCheck', 'OCSP No Check'],
  ['2.23.42.7.0', 'setCext-hashedRoot', 'setCext-hashedRoot'],
  // signature algorithms
  [SignatureAlgorithmOID.md5WithRSAEncryption, 'RSA-MD5', 'md5WithRSAEncryption'],
  [SignatureAlgorithmOID.sha1WithRSAEncryption, 'RSA-SHA1', 'sha1WithRSAEncryption'],
  [SignatureAlgorithmOID.rsassaPss, 'RSASSA-PSS', 'rsassaPss'],
  [SignatureAlgorithmOID.sha224WithRSAEncryption, 'RSA-SHA224', 'sha224WithRSAEncryption'],
  [SignatureAlgorithmOID.sha256WithRSAEncryption, 'RSA-SHA256', 'sha256WithRSAEncryption'],
  [SignatureAlgorithmOID.sha384WithRSAEncryption, 'RSA-SHA384', 'sha384WithRSAEncryption'],
  [SignatureAlgorithmOID.sha512WithRSAEncryption, 'RSA-SHA512', 'sha512WithRSAEncryption'],
  [SignatureAlgorithmOID.ecdsaWithSHA1, 'ecdsa-with-SHA1', 'ecdsa-with-SHA1'],
  [SignatureAlgorithmOID.ecdsaWithSHA224, 'ecdsa-with-SHA224', 'ecdsa-with-SHA224'],
  [SignatureAlgorithmOID.ecdsaWithSHA256, 'ecdsa-with-SHA256', 'ecdsa-with-SHA256'],
  [SignatureAlgorithmOID.ecdsaWithSHA384, 'ecdsa-with-SHA384', 'ecdsa-with-SHA384'],
  [SignatureAlgorithmOID.ecdsaWithSHA512, 'ecdsa-with-SHA512', 'ecdsa-with-SHA512'],
  [SignatureAlgorithmOID.ed25519, 'ED25519', 'ED25519'],
  [SignatureAlgorithmOID.ed448, 'ED448', 'ED448'],
  [SignatureAlgorithmOID.dsaWithSHA1, 'DSA-SHA1', 'dsaWithSHA1'],
  [SignatureAlgorithmOID.dsaWithSHA256, 'dsa_with_SHA256', 'dsa_with_SHA256'],
  // key algorithms
  ['1.2.840.113549.1.1.1', 'rsaEncryption', 'rsaEncryption'],
  ['1.2.840.10045.2.1', 'id-ecPublicKey', 'id-ecPublicKey'],
  ['1.3.101.110', 'X25519', 'X25519'],
  ['1.3.101.111', 'X448', 'X448'],
  ['1.2.840.10040.4.1', 'DSA', 'dsaEncryption'],
  ['1.2.840.113549.1.3.1', 'dhKeyAgreement', 'dhKeyAgreement'],
  ['1.2.840.10046.2.1', 'dhpublicnumber', 'X9.42 DH'],
  ['1.2.156.10197.1.301', 'SM2', 'sm2'],
  // curves
  ['1.2.840.10045.3.1.7', 'prime256v1', 'P-256'],
  ['1.3.132.0.34', 'secp384r1', 'P-384'],
  ['1.3.132.0.35', 'secp521r1', 'P-521'],
  ['1.3.132.0.10', 'secp256k1', 'secp256k1'],
  ['1.2.840.10045.3.1.1', 'prime192v1', 'P-192'],
  ['1.3.132.0.33', 'secp224r1', 'P-224'],
  ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1', 'brainpoolP256r1'],
  ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1', 'brainpoolP384r1'],
  ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1', 'brainpoolP512r1'],
  // hashes
  [HashOID.sha1, 'SHA1', 'sha1'],
  [HashOID.sha224, 'SHA224', 'sha224'],
  [HashOID.sha256, 'SHA256', 'sha256'],
  [HashOID.sha384, 'SHA384', 'sha384'],
  [HashOID.sha512, 'SHA512', 'sha512'],
  [HashOID.mgf1, 'MGF1', 'mgf1'],
  // extended key usages
  [EKUOID.serverAuth, 'serverAuth', 'TLS Web Server Authentication'],
  [EKUOID.clientAuth, 'clientAuth', 'TLS Web Client Authentication'],
  [EKUOID.codeSigning, 'codeSigning', 'Code Signing'],
  [EKUOID.emailProtection, 'emailProtection', 'E-mail Protection'],
  [EKUOID.timeStamping, 'timeStamping', 'Time Stamping'],
  [EKUOID.OCSPSigning, 'OCSPSigning', 'OCSP Signing'],
  [EKUOID.anyExtendedKeyUsage, 'anyExtendedKeyUsage', 'Any Extended Key Usage'],
  ['1.3.6.1.4.1.311.10.3.4', 'msEFS', 'Microsoft Encrypted File System'],
  ['1.3.6.1.4.1.311.20.2.2', 'msSmartcardLogin', 'Microsoft Smartcard Login'],
  ['1.3.6.1.5.5.7.3.17', 'ipsecIKE', 'ipsec Internet Key Exchange'],
  // access methods
  [AccessMethodOID.ocsp, 'OCSP', 'OCSP'],
  [AccessMethodOID.caIssuers, 'caIssuers', 'CA Issuers'],
  [AccessMethodOID.caRepository, 'caRepository', 'CA Repository'],
  [AccessMethodOID.timeStamping, 'ad_timestamping', 'AD Time Stamping'],
  // policies
  ['2.5.29.32.0', 'anyPolicy', 'X509v3 Any Policy'],
  ['2.23.140.1.1', 'ev-guidelines', 'CA/Browser Forum Extended Validation'],
  ['2.23.140.1.2.1', 'domain-validated', 'CA/Browser Forum Domain Validated'],
  ['2.23.140.1.2.2', 'organization-validated', 'CA/Browser Forum Organization Validated'],
  ['2.23.140.1.2.3', 'individual-validated', 'CA/Browser Forum Individual Validated'],
  ['1.3.6.1.5.5.7.2.1', 'id-qt-cps', 'Policy Qualifier CPS'],
  ['1.3.6.1.5.5.7.2.2', 'id-qt-unotice', 'Policy Qualifier User Notice'],
  // CSR attributes
  [CSRAttributeOID.challengePassword, 'challengePassword', 'challengePassword'],
  [CSRAttributeOID.unstructuredName, 'unstructuredName', 'unstructuredName'],
  [CSRAttributeOID.extensionRequest, 'extReq', 'Extension Request'],
  [CSRAttributeOID.msExtensionRequest, 'msExtReq', 'Microsoft Extension Request'],
  // other names
  [OtherNameOID.smtpUTF8Mailbox, 'SmtpUTF8Mailbox', 'SmtpUTF8Mailbox'],
  [OtherNameOID.userPrincipalName, 'msUPN', 'Microsoft User Principal Name'],
  [OtherNameOID.permanentIdentifier, 'permanentIdentifier', 'Permanent Identifier'],
  // CMS
  [ContentTypeOID.data, 'pkcs7-data', 'pkcs7-data'],
  [ContentTypeOID.signedData, 'pkcs7-signedData', 'pkcs7-signedData'],
];

const BY_OID = new Map<string, OIDInfo>();
const BY_NAME = new Map<string, string>();
for (const [oid, short, long] of rows) {
  BY_OID.set(oid, { short, long });
  if (!BY_NAME.has(short.toLowerCase())) BY_NAME.set(short.toLowerCase(), oid);
  if (!BY_NAME.has(long.toLowerCase())) BY_NAME.set(long.toLowerCase(), oid);
}
// RFC 4514 / LDAP spellings that differ from OpenSSL's short names.
for (const [alias, oid] of [
  ['street', AttributeOID.streetAddress],
  ['email', AttributeOID.emailAddress],
  ['e', AttributeOID.emailAddress],
  ['s', AttributeOID.stateOrProvinceName],
  ['uid', AttributeOID.userId],
  ['g', AttributeOID.givenName],
] as const)
  if (!BY_NAME.has(alias)) BY_NAME.set(alias, oid);

/** The table row of an OID, or undefined. */
export function oidInfo(oid: string): OIDInfo | undefined {
  return BY_OID.get(oid);
}

/** The short name of an OID, or the dotted OID itself when unknown. */
export function oidShortName(oid: string): string {
  return BY_OID.get(oid)?.short ?? oid;
}

/** The long name of an OID, or the dotted OID itself when unknown. */
export function oidLongName(oid: string): string {
  return BY_OID.get(oid)?.long ?? oid;
}

/** The OID of a short or long name (case-insensitive), or of a dotted OID; undefined when unknown. */
export function oidOf(name: string): string | undefined {
  if (/^[0-2](\.(0|[1-9]\d*))+$/.test(name)) return name;
  return BY_NAME.get(name.toLowerCase());
}
