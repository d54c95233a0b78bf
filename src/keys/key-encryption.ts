/**
 * Password-based encryption of private keys:
 *
 * - PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958) with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA1/256/384/512 and
 *   AES-128/192/256-CBC or DES-EDE3-CBC; and PBES1 `pbeWithSHAAnd3-KeyTripleDES-CBC` with the PKCS#12 KDF
 *   (what `openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES` writes).
 * - Legacy OpenSSL PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`), key from EVP_BytesToKey with MD5,
 *   AES-128/192/256-CBC or DES-EDE3-CBC.
 *
 * A wrong pass phrase is detected by the CBC padding check and then by DER-parsing the plaintext, and is
 * always `ERR_KEY_PASSPHRASE`. RC2, RC4, single DES and scrypt are `ERR_KEY_UNSUPPORTED` with the OpenSSL
 * command that re-encrypts the key. KDF work is bounded ({@link MAX_PBKDF2_ITERATIONS},
 * {@link MAX_PKCS12_KDF_ITERATIONS}) so that a hostile file cannot stall the process.
 *
 * @module key-encryption
 */
export * from '../internal/keys/key-encryption.js';
