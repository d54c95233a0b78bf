/**
 * `mailtls/config`: the TLS part of Postfix, Dovecot and Haraka configurations, written from the store's
 * layout and a few TLS choices. Pure functions that return text; `loadServerTLSLayout` in `mailtls/node`
 * reads a store into the layout they take, and `mailtls config postfix|dovecot|haraka` prints them.
 *
 * @module config
 */
export { encodeDovecotConfig } from './dovecot.js';
export { encodeHarakaTLSConfig } from './haraka.js';
export type {
  MailTLSSettings,
  OutgoingTLSLevel,
  OutgoingTLSPolicy,
  ServerCertificateFiles,
  ServerTLSLayout,
  StartTLSMode,
} from './options.js';
export {
  encodePostfixConfig,
  encodePostfixPolicyMap,
  encodePostfixSNIMap,
  POSTFIX_POLICY_MAP,
  POSTFIX_SNI_MAP,
  type PostfixConfigOptions,
  type PostfixTableType,
} from './postfix.js';
