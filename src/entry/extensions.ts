/**
 * The public entry point `mailtls/extensions`: the names of `src/x509/extensions.ts` that users may rely on. The
 * module itself also exports helpers that sibling modules share (tagged internal in their TSDoc); listing the
 * public names here keeps those out of the package's subpath.
 *
 * @module extensions
 */
export {
  type AccessDescription,
  type AuthorityKeyIdentifier,
  type BasicConstraints,
  type DecodedExtensionValue,
  type DirectoryGeneralName,
  type DistributionPoint,
  decodeExtensionValue,
  type Extension,
  formatGeneralName,
  type GeneralName,
  type GeneralNameType,
  type GeneralSubtree,
  type IPGeneralName,
  KEY_USAGES,
  type KeyUsage,
  KNOWN_EXTENSIONS,
  type NameConstraints,
  type OpaqueGeneralName,
  type OtherGeneralName,
  type PolicyConstraints,
  type PolicyInformation,
  type PolicyQualifier,
  type RegisteredIDGeneralName,
  type SignedCertificateTimestamp,
  type TextGeneralName,
  toJSONSafe,
  type UserNotice,
} from '../x509/extensions.js';
