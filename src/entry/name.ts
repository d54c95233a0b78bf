/**
 * The public entry point `mailtls/name`: the names of `src/x509/name.ts` that users may rely on. The module itself
 * also exports helpers that sibling modules share (tagged internal in their TSDoc); listing the public names
 * here keeps those out of the package's subpath.
 *
 * @module name
 */
export {
  type DistinguishedName,
  escapeRFC4514Value,
  formatNameOneLine,
  formatNameSlashes,
  type NameAttribute,
  nameEquals,
  nameKey,
  parseDistinguishedName,
  type RelativeDistinguishedName,
} from '../x509/name.js';
