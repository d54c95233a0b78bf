/**
 * Temporary PEM bridge for the key modules until src/pem.ts lands: the same call shapes as
 * `parsePEM`/`encodePEM` there, so swapping is a one-line import change. Internal.
 */
import { PEMError } from '../errors.js';
import { fromBase64, toBase64 } from './bytes.js';

/** One PEM block. */
export interface PEMBlock {
  label: string;
  bytes: Uint8Array;
  headers: Record<string, string>;
  start: number;
  end: number;
}

const BLOCK =
  /-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----\r?\n([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in a text. */
export function parsePEM(text: string): PEMBlock[] {
  const out: PEMBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!;
    const headers: Record<string, string> = {};
    let b64 = body;
    const split = body.search(/\r?\n\r?\n/);
    if (/^[A-Za-z-]+:/.test(body) && split >= 0) {
      for (const line of body.slice(0, split).split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      b64 = body.slice(split);
    }
    const bytes = fromBase64(b64.replace(/\s+/g, ''));
    if (bytes === undefined) throw new PEMError('ERR_PEM_BASE64', `invalid base64 in the ${m[1]} PEM block`);
    out.push({ label: m[1] ?? '', bytes, headers, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** PEM text for DER bytes: LF, 64 columns, optional RFC 1421 headers. */
export function encodePEM(label: string, der: Uint8Array, headers?: Record<string, string>): string {
  const b64 = toBase64(der);
  let out = `-----BEGIN ${label}-----\n`;
  if (headers && Object.keys(headers).length > 0) {
    for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\n`;
    out += '\n';
  }
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${label}-----\n`;
}
