/**
 * Shared state of one PKCS#12 read: the password in its encodings, the key-derivation work budget and the
 * error helpers that give every failure a PKCS#12 code, the place where it broke and advice. Internal.
 */

import { derErrorParts } from '../encoding/der.js';
import { DERError, PKCS12Error } from '../errors.js';
import { pkcs12PasswordBytes } from './kdf.js';

/**
 * The conversion an administrator can run when a file uses an algorithm mailtls does not read (checked with
 * OpenSSL 3.0: a pipe between the two commands fails when the certificate comes before the key, so the PEM
 * goes through a file).
 */
export const REEXPORT_COMMAND =
  'openssl pkcs12 -legacy -in old.pfx -nodes -out tmp.pem && openssl pkcs12 -export -in tmp.pem -out new.pfx';

/** The advice that follows {@link REEXPORT_COMMAND} in messages. */
export const REEXPORT_ADVICE =
  `convert the file with OpenSSL 3: \`${REEXPORT_COMMAND}\` (with OpenSSL 1.1 leave out -legacy), ` +
  'then delete tmp.pem, which holds the unencrypted private key. The new file uses AES-256 and SHA-256.';

/** Throws ERR_PKCS12_INVALID: the structure at `path` is malformed. */
export function invalid(path: string, message: string, cause?: unknown, offset?: number): never {
  throw new PKCS12Error(
    'ERR_PKCS12_INVALID',
    `The PKCS#12 (.pfx/.p12) file is malformed at ${path}${offset === undefined ? '' : path === 'PFX' ? ` (byte ${offset})` : ` (byte ${offset} of that part)`}: ${message}. ` +
      'Check that the file was copied completely and as binary (not as text, not base64), or export it again.',
    {
      ...(cause === undefined ? {} : { cause }),
      details: { path, ...(offset === undefined ? {} : { offset }) },
    },
  );
}

/** Throws ERR_PKCS12_UNSUPPORTED naming the algorithm or feature, with the re-export command. */
export function unsupported(what: string, details: Record<string, unknown> = {}, advice?: string): never {
  throw new PKCS12Error(
    'ERR_PKCS12_UNSUPPORTED',
    `${what}, which mailtls does not read: ${advice ?? REEXPORT_ADVICE}`,
    { details },
  );
}

/** Runs a DER-reading function; DER errors become ERR_PKCS12_INVALID at `path`. */
export function withPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DERError) {
      const { offset, detail } = derErrorParts(e);
      return invalid(path, detail, e, offset);
    }
    throw e;
  }
}

/** The password in every encoding a PKCS#12 writer may have used. */
export interface Passwords {
  /** Whether the caller gave a password (`undefined` is tried as the empty password). */
  readonly given: boolean;
  /** UTF-8 bytes: the PBKDF2 input of PBES2 and PBMAC1. */
  readonly utf8: Uint8Array;
  /**
   * PKCS#12 KDF inputs to try, in order: the BMPString with its NUL terminator (RFC 7292), then for the
   * empty password the empty byte string (what writers that treat "" as "no password" use), and for a
   * non-ASCII password OpenSSL 1.0's form (each UTF-8 byte as one BMP character), as OpenSSL itself tries.
   */
  readonly pkcs12: readonly Uint8Array[];
}

/** Builds the password encodings (see {@link Passwords}). */
export function passwordCandidates(password: string | undefined): Passwords {
  const text = password ?? '';
  const utf8 = new TextEncoder().encode(text);
  const pkcs12: Uint8Array[] = [pkcs12PasswordBytes(text)];
  if (text === '') pkcs12.push(new Uint8Array(0));
  else if (utf8.length !== text.length) {
    let latin = '';
    for (const b of utf8) latin += String.fromCharCode(b);
    pkcs12.push(pkcs12PasswordBytes(latin));
  }
  return { given: password !== undefined, utf8, pkcs12 };
}

/** Wipes the password bytes. */
export function wipePasswords(p: Passwords): void {
  p.utf8.fill(0);
  for (const b of p.pkcs12) b.fill(0);
}

/**
 * Bounds the key-derivation work of one file: no single derivation above `maxIterations`, and all
 * derivations together (MAC attempts, every encrypted bag) at most `maxTotal` iterations.
 */
export class KDFBudget {
  #spent = 0;
  constructor(
    readonly maxIterations: number,
    readonly maxTotal: number,
  ) {}

  /** Checks one derivation's iteration count against the per-derivation limit (before any work). */
  check(iterations: number, what: string): void {
    if (iterations > this.maxIterations)
      throw new PKCS12Error(
        'ERR_PKCS12_UNSUPPORTED',
        `The ${what} uses ${iterations.toLocaleString('en-US')} iterations, more than the limit of ` +
          `${this.maxIterations.toLocaleString('en-US')}. A hostile file can use huge counts to stall the process; ` +
          `if you trust this file, pass { maxIterations: ${iterations} }.`,
        { details: { iterations, maxIterations: this.maxIterations, what } },
      );
  }

  /**
   * Charges one derivation of `iterations` rounds that costs `work` hash rounds in all (for example three
   * SHA-1 blocks for a 3DES key and IV); throws when the file as a whole needs too much work.
   */
  charge(iterations: number, work: number, what: string): void {
    this.check(iterations, what);
    this.#spent += work;
    if (this.#spent > this.maxTotal)
      throw new PKCS12Error(
        'ERR_PKCS12_UNSUPPORTED',
        `The file needs more than ${this.maxTotal.toLocaleString('en-US')} key-derivation iterations in total ` +
          `(the ${what} went over), ${this.maxTotal / this.maxIterations} times the per-derivation limit; it has ` +
          'too many encrypted parts for its ' +
          `iteration counts. If you trust it, raise { maxIterations }.`,
        { details: { spent: this.#spent, maxTotal: this.maxTotal, what } },
      );
  }

  /** Iterations charged so far. */
  get spent(): number {
    return this.#spent;
  }
}
