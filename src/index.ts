/**
 * mailtls: TLS certificates for mail servers.
 *
 * The package root re-exports every public module; subpath exports (`mailtls/pem`, ...) give the same
 * functions one module at a time.
 *
 * @module mailtls
 */
import 'reflect-metadata';

export * from './errors.js';
