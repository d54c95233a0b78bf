/**
 * Builders for PKCS#12 test files that no tool writes on demand: files with chosen bags, plain or
 * encrypted parts, a MAC over a chosen password encoding (or none), an RFC 9579 PBMAC1 computed with
 * node:crypto (an implementation independent of mailtls), and BER re-encodings (indefinite lengths,
 * chunked OCTET STRINGs) as Firefox/NSS and Java write them.
 */
import { createHmac, pbkdf2Sync } from 'node:crypto';
import {
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeSet,
  encodeString,
  Tag,
} from '../../src/internal/encoding/der.js';
import { passwordCandidates } from '../../src/internal/pkcs12/context.js';
import { createMacData } from '../../src/internal/pkcs12/mac.js';
import { encryptBag } from '../../src/internal/pkcs12/pbe.js';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbmac1: '1.2.840.113549.1.5.14',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  hmacWithSHA512: '1.2.840.113549.2.11',
} as const;

/** Bag attributes. */
export function attributes(a: { friendlyName?: string; localKeyId?: Uint8Array }): Uint8Array {
  const items: Uint8Array[] = [];
  if (a.localKeyId !== undefined)
    items.push(encodeSequence(encodeOID(OID.localKeyId), encodeSet(encodeOctetString(a.localKeyId))));
  if (a.friendlyName !== undefined)
    items.push(
      encodeSequence(encodeOID(OID.friendlyName), encodeSet(encodeString(Tag.BMP_STRING, a.friendlyName))),
    );
  return encodeSet(...items);
}

function bag(oid: string, value: Uint8Array, attrs?: Uint8Array): Uint8Array {
  return encodeSequence(encodeOID(oid), encodeExplicit(0, value), ...(attrs === undefined ? [] : [attrs]));
}

/** A certBag with an X.509 certificate. */
export function certBag(der: Uint8Array, attrs?: Uint8Array): Uint8Array {
  return bag(
    OID.certBag,
    encodeSequence(encodeOID(OID.x509Certificate), encodeExplicit(0, encodeOctetString(der))),
    attrs,
  );
}

/** An unencrypted keyBag. */
export function keyBag(pkcs8: Uint8Array, attrs?: Uint8Array): Uint8Array {
  return bag(OID.keyBag, pkcs8, attrs);
}

/** A pkcs8ShroudedKeyBag encrypted by mailtls' writer. */
export async function shroudedKeyBag(
  pkcs8: Uint8Array,
  password: string,
  options: { encryption?: 'aes-256-cbc' | 'pbe-sha1-3des'; iterations?: number; attrs?: Uint8Array } = {},
): Promise<Uint8Array> {
  const enc = await encryptBag(
    pkcs8,
    passwordCandidates(password),
    options.encryption ?? 'aes-256-cbc',
    options.iterations ?? 1,
    {},
  );
  return bag(
    OID.shroudedKeyBag,
    encodeSequence(enc.algorithm, encodeOctetString(enc.ciphertext)),
    options.attrs,
  );
}

/** A bag of any type with raw value bytes. */
export function rawBag(oid: string, value: Uint8Array, attrs?: Uint8Array): Uint8Array {
  return bag(oid, value, attrs);
}

/** A safeContentsBag holding other bags. */
export function nestedBag(bags: readonly Uint8Array[]): Uint8Array {
  return bag(OID.safeContentsBag, encodeSequence(...bags));
}

/** A part of the AuthenticatedSafe. */
export type Part =
  | { kind: 'data'; bags: readonly Uint8Array[] }
  | {
      kind: 'encrypted';
      bags: readonly Uint8Array[];
      password: string;
      encryption?: 'aes-256-cbc' | 'pbe-sha1-3des';
      iterations?: number;
    }
  | { kind: 'raw'; contentInfo: Uint8Array };

/** The ContentInfo of a part. */
export async function contentInfo(part: Part): Promise<Uint8Array> {
  if (part.kind === 'raw') return part.contentInfo;
  const safe = encodeSequence(...part.bags);
  if (part.kind === 'data')
    return encodeSequence(encodeOID(OID.data), encodeExplicit(0, encodeOctetString(safe)));
  const enc = await encryptBag(
    safe,
    passwordCandidates(part.password),
    part.encryption ?? 'aes-256-cbc',
    part.iterations ?? 1,
    {},
  );
  return encodeSequence(
    encodeOID(OID.encryptedData),
    encodeExplicit(
      0,
      encodeSequence(
        encodeInteger(0),
        encodeSequence(encodeOID(OID.data), enc.algorithm, encodeImplicit(0, enc.ciphertext)),
      ),
    ),
  );
}

/** How the MAC of a built file is made. */
export type MacChoice =
  | { kind: 'none' }
  /** Classic MAC; `password` is the raw PKCS#12 KDF input (e.g. BMPString + NUL, or empty bytes). */
  | { kind: 'pkcs12'; password: Uint8Array; iterations?: number; hash?: 'SHA-256' | 'SHA-1' }
  /** RFC 9579 PBMAC1 computed with node:crypto; `keyLength: undefined` leaves the field out. */
  | {
      kind: 'pbmac1';
      password: string;
      iterations?: number;
      keyLength: number | undefined;
      prf?: 'sha256' | 'sha512';
      mac?: 'sha256' | 'sha512';
    };

/** PBMAC1 MacData over `content`, computed with node:crypto. */
export function pbmac1MacData(content: Uint8Array, m: Extract<MacChoice, { kind: 'pbmac1' }>): Uint8Array {
  const salt = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const iterations = m.iterations ?? 2048;
  const prf = m.prf ?? 'sha256';
  const mac = m.mac ?? 'sha256';
  const derive = m.keyLength ?? 32;
  const key = pbkdf2Sync(Buffer.from(m.password, 'utf8'), salt, iterations, derive, prf);
  const digest = createHmac(mac, key).update(content).digest();
  const oidOf = (h: string) => (h === 'sha256' ? OID.hmacWithSHA256 : OID.hmacWithSHA512);
  const kdfParams = encodeSequence(
    encodeOctetString(salt),
    encodeInteger(iterations),
    ...(m.keyLength === undefined ? [] : [encodeInteger(m.keyLength)]),
    encodeSequence(encodeOID(oidOf(prf)), encodeNull()),
  );
  const alg = encodeSequence(
    encodeOID(OID.pbmac1),
    encodeSequence(
      encodeSequence(encodeOID(OID.pbkdf2), kdfParams),
      encodeSequence(encodeOID(oidOf(mac)), encodeNull()),
    ),
  );
  return encodeSequence(
    encodeSequence(alg, encodeOctetString(digest)),
    encodeOctetString(new TextEncoder().encode('NOT USED')),
    encodeInteger(1),
  );
}

/** A PFX around an AuthenticatedSafe (given as its encoded bytes), with the chosen MAC. */
export async function wrapPFX(authSafe: Uint8Array, mac: MacChoice, version = 3): Promise<Uint8Array> {
  const outer = encodeSequence(encodeOID(OID.data), encodeExplicit(0, encodeOctetString(authSafe)));
  let macData: Uint8Array[] = [];
  if (mac.kind === 'pkcs12')
    macData = [await createMacData(mac.hash ?? 'SHA-256', authSafe, mac.password, mac.iterations ?? 1, {})];
  else if (mac.kind === 'pbmac1') macData = [pbmac1MacData(authSafe, mac)];
  return encodeSequence(encodeInteger(version), outer, ...macData);
}

/** A whole PFX from parts. */
export async function buildPFX(parts: readonly Part[], mac: MacChoice): Promise<Uint8Array> {
  const infos: Uint8Array[] = [];
  for (const p of parts) infos.push(await contentInfo(p));
  return wrapPFX(encodeSequence(...infos), mac);
}

/** The RFC 7292 password encoding: BMPString with a NUL terminator. */
export function bmp(password: string): Uint8Array {
  return passwordCandidates(password).pkcs12[0]!;
}

// ---- BER re-encoding ----

interface Elem {
  id: Uint8Array;
  constructed: boolean;
  start: number;
  end: number;
}

function readElem(b: Uint8Array, o: number): Elem {
  const begin = o;
  const first = b[o++]!;
  if ((first & 0x1f) === 0x1f) while (b[o++]! & 0x80);
  const id = b.slice(begin, o);
  let len = b[o++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[o++]!;
  }
  return { id, constructed: (first & 0x20) !== 0, start: o, end: o + len };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function defLen(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/**
 * Re-encodes one DER layer as BER: every constructed element with an indefinite length (or, when
 * `choose()` says so, a non-minimal 4-byte definite length), and every primitive OCTET STRING of 2+ bytes
 * as a constructed OCTET STRING of segments of `chunk` bytes. Primitive contents are kept, so a MAC over
 * the contents of an OCTET STRING stays valid.
 */
export function toBER(der: Uint8Array, chunk = 7, choose: () => boolean = () => true): Uint8Array {
  const walk = (o: number): { out: Uint8Array; end: number } => {
    const e = readElem(der, o);
    if (!e.constructed) {
      const value = der.subarray(e.start, e.end);
      if (e.id.length === 1 && e.id[0] === 0x04 && value.length >= 2) {
        const segs: Uint8Array[] = [];
        for (let i = 0; i < value.length; i += chunk) {
          const s = value.subarray(i, Math.min(value.length, i + chunk));
          segs.push(concat([Uint8Array.of(0x04), defLen(s.length), s]));
        }
        return { out: concat([Uint8Array.of(0x24, 0x80), ...segs, Uint8Array.of(0, 0)]), end: e.end };
      }
      return { out: der.slice(o, e.end), end: e.end };
    }
    const kids: Uint8Array[] = [];
    for (let p = e.start; p < e.end; ) {
      const k = walk(p);
      kids.push(k.out);
      p = k.end;
    }
    const body = concat(kids);
    if (choose()) return { out: concat([e.id, Uint8Array.of(0x80), body, Uint8Array.of(0, 0)]), end: e.end };
    const n = body.length;
    const long = Uint8Array.of(0x84, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    return { out: concat([e.id, long, body]), end: e.end };
  };
  return walk(0).out;
}
