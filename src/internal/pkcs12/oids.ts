/**
 * Object identifiers of PKCS#12 (RFC 7292), PKCS#7 content types, the MAC digests and RFC 9579 PBMAC1,
 * with the names OpenSSL's `openssl pkcs12 -info` prints for them (used in diagnostics). Internal.
 */
import type { PKCS12Hash } from './kdf.js';

/** PKCS#7 / CMS content types used by PKCS#12. */
export const P12ContentOID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
} as const;

/** SafeBag types (RFC 7292 section 4.2). */
export const BagOID = {
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
} as const;

/** Human names of the bag types, for messages. */
export const BAG_NAMES: Readonly<Record<string, string>> = {
  [BagOID.keyBag]: 'keyBag',
  [BagOID.pkcs8ShroudedKeyBag]: 'pkcs8ShroudedKeyBag',
  [BagOID.certBag]: 'certBag',
  [BagOID.crlBag]: 'crlBag',
  [BagOID.secretBag]: 'secretBag',
  [BagOID.safeContentsBag]: 'safeContentsBag',
};

/** Certificate and CRL types inside a certBag / crlBag. */
export const CertTypeOID = {
  x509Certificate: '1.2.840.113549.1.9.22.1',
  sdsiCertificate: '1.2.840.113549.1.9.22.2',
} as const;

/** Bag attributes. */
export const P12AttributeOID = {
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

/** PBMAC1 (RFC 8018 / RFC 9579). */
export const PBMAC1_OID = '1.2.840.113549.1.5.14';

/** MAC digest algorithms of the classic PKCS#12 MAC: OID to KDF hash and OpenSSL's name. */
export const MAC_DIGESTS: Readonly<Record<string, { hash: PKCS12Hash; name: string }>> = {
  '1.3.14.3.2.26': { hash: 'SHA-1', name: 'sha1' },
  '2.16.840.1.101.3.4.2.4': { hash: 'SHA-224', name: 'sha224' },
  '2.16.840.1.101.3.4.2.1': { hash: 'SHA-256', name: 'sha256' },
  '2.16.840.1.101.3.4.2.2': { hash: 'SHA-384', name: 'sha384' },
  '2.16.840.1.101.3.4.2.3': { hash: 'SHA-512', name: 'sha512' },
  '2.16.840.1.101.3.4.2.5': { hash: 'SHA-512/224', name: 'sha512-224' },
  '2.16.840.1.101.3.4.2.6': { hash: 'SHA-512/256', name: 'sha512-256' },
  '1.3.6.1.4.1.1722.12.2.1.16': { hash: 'BLAKE2b-512', name: 'blake2b512' },
};

/** The OID of a MAC digest by hash (for writing). */
export const MAC_DIGEST_OID: Readonly<Partial<Record<PKCS12Hash, string>>> = {
  'SHA-1': '1.3.14.3.2.26',
  'SHA-256': '2.16.840.1.101.3.4.2.1',
};

/** Digests OpenSSL knows but mailtls does not run as a PKCS#12 MAC. */
export const UNSUPPORTED_MAC_DIGESTS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.5': 'md5',
  '1.2.840.113549.2.2': 'md2',
  '2.16.840.1.101.3.4.2.7': 'sha3-224',
  '2.16.840.1.101.3.4.2.8': 'sha3-256',
  '2.16.840.1.101.3.4.2.9': 'sha3-384',
  '2.16.840.1.101.3.4.2.10': 'sha3-512',
  '1.2.643.7.1.1.2.2': 'md_gost12_256',
  '1.2.643.7.1.1.2.3': 'md_gost12_512',
};

/** HMAC algorithm identifiers (PBES2 PRF, PBMAC1 MAC) with the hash and OpenSSL's name. */
export const HMAC_ALGORITHMS: Readonly<
  Record<string, { hash: 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512'; name: string }>
> = {
  '1.2.840.113549.2.7': { hash: 'SHA-1', name: 'hmacWithSHA1' },
  '1.2.840.113549.2.8': { hash: 'SHA-224', name: 'hmacWithSHA224' },
  '1.2.840.113549.2.9': { hash: 'SHA-256', name: 'hmacWithSHA256' },
  '1.2.840.113549.2.10': { hash: 'SHA-384', name: 'hmacWithSHA384' },
  '1.2.840.113549.2.11': { hash: 'SHA-512', name: 'hmacWithSHA512' },
};

/** The PKCS#12 PBE schemes (RFC 7292 appendix C) with OpenSSL's names. */
export const PKCS12_PBE: Readonly<
  Record<string, { name: string; cipher: '3DES' | '2DES' | 'RC2-40' | 'RC2-128' | 'RC4-40' | 'RC4-128' }>
> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHA1And128BitRC4', cipher: 'RC4-128' },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHA1And40BitRC4', cipher: 'RC4-40' },
  '1.2.840.113549.1.12.1.3': { name: 'pbeWithSHA1And3-KeyTripleDES-CBC', cipher: '3DES' },
  '1.2.840.113549.1.12.1.4': { name: 'pbeWithSHA1And2-KeyTripleDES-CBC', cipher: '2DES' },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHA1And128BitRC2-CBC', cipher: 'RC2-128' },
  '1.2.840.113549.1.12.1.6': { name: 'pbeWithSHA1And40BitRC2-CBC', cipher: 'RC2-40' },
};

/** PKCS#5 v1.5 PBES1 schemes (single DES or RC2; never supported) with OpenSSL's names. */
export const PBES1_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.5.1': 'pbeWithMD2AndDES-CBC',
  '1.2.840.113549.1.5.3': 'pbeWithMD5AndDES-CBC',
  '1.2.840.113549.1.5.4': 'pbeWithMD2AndRC2-CBC',
  '1.2.840.113549.1.5.6': 'pbeWithMD5AndRC2-CBC',
  '1.2.840.113549.1.5.10': 'pbeWithSHA1AndDES-CBC',
  '1.2.840.113549.1.5.11': 'pbeWithSHA1AndRC2-CBC',
};

/** PBES2 cipher names as OpenSSL prints them. */
export const PBES2_CIPHER_NAMES: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC',
  '2.16.840.1.101.3.4.1.22': 'AES-192-CBC',
  '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC',
  '1.3.14.3.2.7': 'DES-CBC',
  '1.2.840.113549.3.2': 'RC2-CBC',
  '2.16.840.1.101.3.4.1.6': 'id-aes128-GCM',
  '2.16.840.1.101.3.4.1.46': 'id-aes256-GCM',
  '1.2.643.7.1.1.5.1.1': 'kuznyechik-ctr-acpkm',
};
