/**
 * Reads a certificate store into the layout the server configuration emitters (`mailtls/config`) take:
 * for each domain, the public paths of its chain and key and the names its certificate covers. Also
 * writes the combined key+chain files some servers read (Haraka's `config/tls/`, or a Postfix that is given
 * one file per certificate), atomically and 0600.
 *
 * @module node/config/layout
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePostfixChainFile } from '../../chain/chain.js';
import type { ServerCertificateFiles, ServerTLSLayout } from '../../config/options.js';
import { StoreError } from '../../errors.js';
import { parseCertificate } from '../../x509/certificate.js';
import { saveFileAtomic } from '../store/atomic-write.js';
import { storeName } from '../store/layout.js';
import type { CertificateStore } from '../store/store.js';

/** Options of {@link loadServerTLSLayout}. */
export interface LoadServerTLSLayoutOptions {
  /** The domains to include, in this order (the first is the default); default every domain of the store. */
  domains?: readonly string[] | undefined;
  /** The default domain (clients without SNI); default the first. */
  defaultDomain?: string | undefined;
}

/** The largest certificate file read. */
const MAX_CERT_BYTES = 1024 * 1024;

/**
 * The store's layout for the emitters: each domain's `certs/<d>.crt` and `private/<d>.key` (the stable
 * paths through `current`, so a renewal needs no new configuration) and the DNS names of its certificate.
 * Only certificates are read, not keys.
 *
 * @throws StoreError `ERR_STORE_NOT_FOUND` for a requested domain without a certificate,
 *   `ERR_STORE_INVALID_DOMAIN`; CertificateError codes for an unreadable certificate.
 * @example
 * ```ts
 * import { encodePostfixConfig } from 'mailtls/config';
 * import { CertificateStore, loadServerTLSLayout } from 'mailtls/node';
 * const layout = await loadServerTLSLayout(new CertificateStore('/etc/mail/tls'));
 * process.stdout.write(encodePostfixConfig(layout));
 * ```
 */
export async function loadServerTLSLayout(
  store: CertificateStore,
  options: LoadServerTLSLayoutOptions = {},
): Promise<ServerTLSLayout> {
  const domains = options.domains?.map((d) => storeName(d).domain) ?? (await store.list());
  const certificates: ServerCertificateFiles[] = [];
  for (const domain of domains) {
    const files = await store.files(domain);
    let text: string;
    try {
      text = await readFile(files.cert, 'utf8');
    } catch (e) {
      throw new StoreError(
        'ERR_STORE_NOT_FOUND',
        `${domain} has no certificate in service in the store ${store.root} (${files.cert} cannot be read): ` +
          'install one first (mailtls install --store DIR ...), or leave the domain out.',
        { details: { domain, path: files.cert }, cause: e },
      );
    }
    const leaf = parseCertificate(text.slice(0, MAX_CERT_BYTES));
    const type = leaf.publicKeyInfo.type;
    certificates.push({
      domain,
      names: leaf.dnsNames.length > 0 ? leaf.dnsNames : [domain],
      cert: files.cert,
      key: files.key,
      ...(type === 'other' ? {} : { keyType: type }),
    });
  }
  return {
    store: store.root,
    certificates,
    ...(options.defaultDomain === undefined
      ? {}
      : { defaultDomain: storeName(options.defaultDomain).domain }),
  };
}

/**
 * Writes one domain's key followed by its chain into one PEM file, atomically and 0600 (the key is in it):
 * the form Haraka reads from `config/tls/` and Postfix accepts as a single `smtpd_tls_chain_files` entry.
 * Reading one file, a server can never pair a new key with an old chain. Write it again after every renewal
 * (a deploy hook).
 *
 * @returns the path written.
 * @throws As `CertificateStore.load`; KeyError `ERR_KEY_ENCRYPTED` for an encrypted key; the `fs` error
 *   when the directory cannot be written.
 * @example `await saveCombinedKeyChain(store, 'example.com', '/etc/haraka/config/tls')`
 */
export async function saveCombinedKeyChain(
  store: CertificateStore,
  domain: string,
  directory: string,
): Promise<string> {
  const c = await store.load(domain);
  const path = join(directory, `${storeName(domain).fileName}.pem`);
  await saveFileAtomic(path, encodePostfixChainFile(c.key, c.chain), { mode: 0o600 });
  return path;
}
