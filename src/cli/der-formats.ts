/**
 * Recognising binary inputs of the `mailtls` command: a DER file carries no label, so the commands that read
 * one (`show`, `convert`) try each format in turn. This module holds the rules both follow.
 *
 * @module cli/der-formats
 */
import {
  isMailTlsError,
  type MailTlsError,
  type PrivateKey,
  type PrivateKeyDERFormat,
  parsePrivateKeyDER,
} from '../index.js';

/**
 * Whether an error means "these bytes are not in that format", so the next format is tried: one of the
 * given codes, or any DER structure error.
 */
export function notThisFormat(e: unknown, codes: readonly string[]): boolean {
  return isMailTlsError(e) && (codes.includes(e.code) || e.code.startsWith('ERR_DER_'));
}

/** The DER private-key formats, in the order they are tried. */
export const PRIVATE_KEY_DER_FORMATS: readonly PrivateKeyDERFormat[] = [
  'pkcs8',
  'pkcs1',
  'sec1',
  'encrypted-pkcs8',
];

/** What {@link findPrivateKeyDER} found. */
export type PrivateKeyDERMatch =
  /** A key read in `format`. */
  | { readonly found: 'key'; readonly format: PrivateKeyDERFormat; readonly key: PrivateKey }
  /** An encrypted PKCS#8 key and no password to open it: `error` is the `ERR_KEY_ENCRYPTED` error. */
  | {
      readonly found: 'encrypted';
      readonly format: 'encrypted-pkcs8';
      readonly error: MailTlsError<'ERR_KEY_ENCRYPTED'>;
    }
  /**
   * No format fits. `unsupported` is the first "unsupported key" answer, which the caller reports when
   * nothing else fits either; `tried` says why each format failed, in the caller's order.
   */
  | {
      readonly found: 'none';
      readonly unsupported: MailTlsError | undefined;
      readonly tried: readonly { readonly format: PrivateKeyDERFormat; readonly message: string }[];
    };

/**
 * Reads `bytes` as a private key in each DER format in turn (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8).
 *
 * A key of one format read as another can look unsupported (SEC1 version 1 reads as multi-prime PKCS#1),
 * so such an answer counts only when no format fits. A wrong pass phrase is an answer, not a miss: it is
 * thrown.
 *
 * @throws the `ERR_KEY_PASSPHRASE` error of an encrypted key whose pass phrase is wrong, and any error that
 *   is not "not this format".
 */
export async function findPrivateKeyDER(
  bytes: Uint8Array,
  password: string | undefined,
): Promise<PrivateKeyDERMatch> {
  let unsupported: MailTlsError | undefined;
  const tried: { format: PrivateKeyDERFormat; message: string }[] = [];
  for (const format of PRIVATE_KEY_DER_FORMATS) {
    try {
      const key = await parsePrivateKeyDER(bytes, {
        format,
        ...(password === undefined ? {} : { passphrase: password }),
      });
      return { found: 'key', format, key };
    } catch (e) {
      if (format === 'encrypted-pkcs8' && isMailTlsError(e, 'ERR_KEY_ENCRYPTED')) {
        return { found: 'encrypted', format, error: e };
      }
      if (isMailTlsError(e, 'ERR_KEY_PASSPHRASE')) throw e;
      if (isMailTlsError(e, 'ERR_KEY_UNSUPPORTED')) unsupported ??= e;
      else if (!notThisFormat(e, ['ERR_KEY_INVALID'])) throw e;
      tried.push({ format, message: (e as Error).message });
    }
  }
  return { found: 'none', unsupported, tried };
}
