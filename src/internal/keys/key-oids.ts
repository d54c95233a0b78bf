/**
 * Object identifiers of key algorithms, named curves, signature algorithms and password-based encryption.
 * Internal: shared by the key modules (and later the PKCS#12 module).
 */

/** Key algorithm identifiers (AlgorithmIdentifier.algorithm of SPKI / PKCS#8). */
export const KeyOID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPSS: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecDH: '1.3.132.1.12',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  x25519: '1.3.101.110',
  x448: '1.3.101.111',
  dsa: '1.2.840.10040.4.1',
  dhKeyAgreement: '1.2.840.113549.1.3.1',
  dhPublicNumber: '1.2.840.10046.2.1',
  sm2: '1.2.156.10197.1.301',
} as const;

/** Named-curve identifiers (RFC 5480). */
export const CurveOID = {
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  'P-521': '1.3.132.0.35',
} as const;

/** Human names of algorithms we recognise but do not support, for error messages. */
export const UNSUPPORTED_KEY_ALGORITHMS: Readonly<Record<string, string>> = {
  [KeyOID.ed448]: 'Ed448',
  [KeyOID.x25519]: 'X25519',
  [KeyOID.x448]: 'X448',
  [KeyOID.dsa]: 'DSA',
  [KeyOID.dhKeyAgreement]: 'Diffie-Hellman',
  [KeyOID.dhPublicNumber]: 'X9.42 Diffie-Hellman',
  [KeyOID.ecDH]: 'ECDH-only EC',
  [KeyOID.sm2]: 'SM2',
  [KeyOID.rsassaPSS]: 'RSA-PSS',
};

/** Curve names for well-known curves we do not support (for messages). */
export const UNSUPPORTED_CURVES: Readonly<Record<string, string>> = {
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'P-192 (prime192v1)',
  '1.3.132.0.33': 'P-224 (secp224r1)',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.2.156.10197.1.301': 'SM2',
};

/** X.509 signature algorithm identifiers a mailtls key signs with. */
export const SignatureOID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
} as const;

/** Password-based encryption identifiers (PKCS#5 v2.1 / RFC 8018, PKCS#12 / RFC 7292). */
export const PBEOID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  hmacWithSHA1: '1.2.840.113549.2.7',
  hmacWithSHA224: '1.2.840.113549.2.8',
  hmacWithSHA256: '1.2.840.113549.2.9',
  hmacWithSHA384: '1.2.840.113549.2.10',
  hmacWithSHA512: '1.2.840.113549.2.11',
  aes128CBC: '2.16.840.1.101.3.4.1.2',
  aes192CBC: '2.16.840.1.101.3.4.1.22',
  aes256CBC: '2.16.840.1.101.3.4.1.42',
  desEDE3CBC: '1.2.840.113549.3.7',
  desCBC: '1.3.14.3.2.7',
  rc2CBC: '1.2.840.113549.3.2',
  // PKCS#5 v1.5 PBES1
  pbeWithMD2AndDESCBC: '1.2.840.113549.1.5.1',
  pbeWithMD5AndDESCBC: '1.2.840.113549.1.5.3',
  pbeWithMD2AndRC2CBC: '1.2.840.113549.1.5.4',
  pbeWithMD5AndRC2CBC: '1.2.840.113549.1.5.6',
  pbeWithSHA1AndDESCBC: '1.2.840.113549.1.5.10',
  pbeWithSHA1AndRC2CBC: '1.2.840.113549.1.5.11',
  // PKCS#12 PBE
  pbeWithSHAAnd128BitRC4: '1.2.840.113549.1.12.1.1',
  pbeWithSHAAnd40BitRC4: '1.2.840.113549.1.12.1.2',
  pbeWithSHAAnd3KeyTripleDESCBC: '1.2.840.113549.1.12.1.3',
  pbeWithSHAAnd2KeyTripleDESCBC: '1.2.840.113549.1.12.1.4',
  pbeWithSHAAnd128BitRC2CBC: '1.2.840.113549.1.12.1.5',
  pbeWithSHAAnd40BitRC2CBC: '1.2.840.113549.1.12.1.6',
} as const;

/** Human names of PBE/cipher OIDs, for error messages. */
export const PBE_NAMES: Readonly<Record<string, string>> = {
  [PBEOID.scrypt]: 'scrypt',
  [PBEOID.hmacWithSHA224]: 'PBKDF2-HMAC-SHA224',
  [PBEOID.desCBC]: 'DES-CBC (single DES)',
  [PBEOID.rc2CBC]: 'RC2-CBC',
  [PBEOID.pbeWithMD2AndDESCBC]: 'pbeWithMD2AndDES-CBC',
  [PBEOID.pbeWithMD5AndDESCBC]: 'pbeWithMD5AndDES-CBC',
  [PBEOID.pbeWithMD2AndRC2CBC]: 'pbeWithMD2AndRC2-CBC',
  [PBEOID.pbeWithMD5AndRC2CBC]: 'pbeWithMD5AndRC2-CBC',
  [PBEOID.pbeWithSHA1AndDESCBC]: 'pbeWithSHA1AndDES-CBC',
  [PBEOID.pbeWithSHA1AndRC2CBC]: 'pbeWithSHA1AndRC2-CBC',
  [PBEOID.pbeWithSHAAnd128BitRC4]: 'pbeWithSHAAnd128BitRC4',
  [PBEOID.pbeWithSHAAnd40BitRC4]: 'pbeWithSHAAnd40BitRC4',
  [PBEOID.pbeWithSHAAnd2KeyTripleDESCBC]: 'pbeWithSHAAnd2-KeyTripleDES-CBC',
  [PBEOID.pbeWithSHAAnd128BitRC2CBC]: 'pbeWithSHAAnd128BitRC2-CBC',
  [PBEOID.pbeWithSHAAnd40BitRC2CBC]: 'pbeWithSHAAnd40BitRC2-CBC',
};
