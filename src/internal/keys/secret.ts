/** Keeping private-key text out of logs and JSON. Internal. */

/**
 * Adds `keyPEM` as a read-only, non-enumerable property and freezes the object: private-key text never
 * shows in `JSON.stringify`, `util.inspect`/`console.log` or `{ ...spread }` copies.
 */
export function withHiddenKeyPEM<T extends object>(
  value: T,
  keyPEM: string,
): T & { readonly keyPEM: string } {
  Object.defineProperty(value, 'keyPEM', {
    value: keyPEM,
    enumerable: false,
    writable: false,
    configurable: false,
  });
  return Object.freeze(value) as T & { readonly keyPEM: string };
}
