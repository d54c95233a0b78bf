/**
 * `--subject "/C=US/ST=California/L=Los Angeles/O=Example Inc/CN=example.com"`: the one-line subject that
 * `openssl req -subj` takes, as an alternative to the field flags (`--cn`, `--country`, ...).
 *
 * @module cli/subject
 */
import { InvalidArgumentError } from 'commander';
import type { SubjectFields } from '../index.js';

/** The attribute names `openssl req -subj` uses, and the field each fills. */
const ATTRIBUTES: Readonly<Record<string, keyof SubjectFields>> = {
  c: 'country',
  st: 'state',
  s: 'state',
  l: 'locality',
  o: 'organization',
  ou: 'organizationalUnit',
  cn: 'commonName',
  emailaddress: 'emailAddress',
  email: 'emailAddress',
};

/**
 * A commander option parser for `--subject`: `/TYPE=value/...` with the types C, ST, L, O, OU, CN and
 * emailAddress (case-insensitive); `\/` is a slash inside a value. Each type at most once (a certificate
 * for a mail server has one of each); an empty value leaves the field out.
 */
export function parseSubjectOption(value: string): SubjectFields {
  if (!value.startsWith('/'))
    throw new InvalidArgumentError(
      'expected the form /C=US/ST=California/L=Los Angeles/O=Example Inc/CN=example.com (as openssl req -subj).',
    );
  const parts: string[] = [];
  let cur = '';
  for (let i = 1; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[++i]!;
      continue;
    }
    if (ch === '/') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  const fields: SubjectFields = {};
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`"${part}" is not TYPE=value (e.g. CN=example.com).`);
    const type = part.slice(0, eq).trim();
    const field = ATTRIBUTES[type.toLowerCase()];
    if (field === undefined)
      throw new InvalidArgumentError(
        `unknown attribute type ${type}: use C, ST, L, O, OU, CN or emailAddress.`,
      );
    if (fields[field] !== undefined) throw new InvalidArgumentError(`${type} is given twice.`);
    const v = part.slice(eq + 1).trim();
    if (v !== '') fields[field] = v;
  }
  return fields;
}
