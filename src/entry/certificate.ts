/**
 * The public entry point `mailtls/certificate`: the names of `src/x509/certificate.ts` that users may rely on. The
 * module itself also exports helpers that sibling modules share (tagged internal in their TSDoc); listing the
 * public names here keeps those out of the package's subpath.
 *
 * @module certificate
 */
export {
  type AuthorityInfoAccessURIs,
  type BasicConstraintsJSON,
  type Certificate,
  type CertificateBasicConstraints,
  type CertificateJSON,
  type CertificateNameConstraints,
  type FingerprintAlgorithm,
  type ForeignCertificate,
  type GeneralNameJSON,
  isCertificate,
  type NodeX509CertificateObject,
  type ParseCertificateOptions,
  type PeculiarCSRObject,
  type PeculiarX509CertificateObject,
  type PublicKeyInfo,
  type PublicKeyJSON,
  parseCertificate,
  type SignatureAlgorithm,
  type SignatureAlgorithmJSON,
} from '../x509/certificate.js';
