/**
 * What a {@link CertificateStore} was configured with that its audit needs too (the clock, the private roots it
 * trusts, whether Node's roots count), kept beside the store instead of exposed on it: the store registers its
 * settings here when it is made, and `auditStore` reads them. Neither file imports the other for it.
 *
 * @module node/store/defaults
 */
import type { Certificate } from '../../x509/certificate.js';

/** The audit-relevant settings of one store. */
export interface StoreAuditDefaults {
  /** The store's clock, when it was given one. */
  readonly now?: () => Date;
  /** The private roots the store trusts beside Node's (already parsed). */
  readonly trust: readonly Certificate[];
  /** Whether Node's bundled roots count as trusted, when the store was told. */
  readonly nodeRoots?: boolean;
}

const defaults = new WeakMap<object, StoreAuditDefaults>();

/** Registers the settings of a store (called by its constructor). */
export function registerStoreDefaults(store: object, settings: StoreAuditDefaults): void {
  defaults.set(store, settings);
}

/** The settings a store registered, or undefined for any other object. */
export function storeDefaults(store: object): StoreAuditDefaults | undefined {
  return defaults.get(store);
}
