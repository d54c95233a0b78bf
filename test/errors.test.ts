import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CertificateError,
  ChainError,
  ConfigError,
  CSRError,
  DERError,
  HostnameError,
  isMailTlsError,
  KeyError,
  MailTlsError,
  PEMError,
  PKCS12Error,
  ProbeError,
  StoreError,
  TLSError,
} from '../src/errors.js';

const rows = [
  { name: 'MailTlsError', make: () => new MailTlsError('ERR_PEM_NO_BLOCK', 'm'), code: 'ERR_PEM_NO_BLOCK' },
  { name: 'PEMError', make: () => new PEMError('ERR_PEM_BASE64', 'm'), code: 'ERR_PEM_BASE64' },
  { name: 'DERError', make: () => new DERError('ERR_DER_INVALID', 'm'), code: 'ERR_DER_INVALID' },
  { name: 'KeyError', make: () => new KeyError('ERR_KEY_PASSPHRASE', 'm'), code: 'ERR_KEY_PASSPHRASE' },
  {
    name: 'CertificateError',
    make: () => new CertificateError('ERR_CERT_INVALID', 'm'),
    code: 'ERR_CERT_INVALID',
  },
  { name: 'CSRError', make: () => new CSRError('ERR_CSR_COUNTRY', 'm'), code: 'ERR_CSR_COUNTRY' },
  {
    name: 'HostnameError',
    make: () => new HostnameError('ERR_HOSTNAME_MISMATCH', 'm'),
    code: 'ERR_HOSTNAME_MISMATCH',
  },
  {
    name: 'ChainError',
    make: () => new ChainError('ERR_CHAIN_UNKNOWN_ISSUER', 'm'),
    code: 'ERR_CHAIN_UNKNOWN_ISSUER',
  },
  {
    name: 'PKCS12Error',
    make: () => new PKCS12Error('ERR_PKCS12_PASSWORD', 'm'),
    code: 'ERR_PKCS12_PASSWORD',
  },
  { name: 'StoreError', make: () => new StoreError('ERR_STORE_NOT_FOUND', 'm'), code: 'ERR_STORE_NOT_FOUND' },
  { name: 'TLSError', make: () => new TLSError('ERR_TLS_STARTTLS', 'm'), code: 'ERR_TLS_STARTTLS' },
  { name: 'ConfigError', make: () => new ConfigError('ERR_CONFIG_INVALID', 'm'), code: 'ERR_CONFIG_INVALID' },
] as const;

describe('errors', () => {
  for (const row of rows) {
    it(`${row.name} has its name, code and is a MailTlsError`, () => {
      const e = row.make();
      assert.equal(e.name, row.name);
      assert.equal(e.code, row.code);
      assert.ok(e instanceof MailTlsError);
      assert.ok(e instanceof Error);
      assert.ok(isMailTlsError(e, row.code));
      assert.equal(String(e), `${row.name}: m`);
    });
  }

  it('keeps cause and freezes details; JSON leaves the cause out', () => {
    const cause = new Error('inner secret');
    const e = new KeyError('ERR_KEY_INVALID', 'bad key', { cause, details: { file: 'a.key' } });
    assert.equal(e.cause, cause);
    assert.ok(Object.isFrozen(e.details));
    const json = JSON.parse(JSON.stringify(e));
    assert.deepEqual(json, {
      name: 'KeyError',
      code: 'ERR_KEY_INVALID',
      message: 'bad key',
      details: { file: 'a.key' },
    });
  });

  it('isMailTlsError rejects other errors and other codes', () => {
    assert.equal(isMailTlsError(new TypeError('x')), false);
    assert.equal(isMailTlsError(new PEMError('ERR_PEM_BASE64', 'x'), 'ERR_PEM_NO_BLOCK'), false);
    assert.equal(isMailTlsError('ERR_PEM_BASE64'), false);
  });
});

describe('typed details per code', () => {
  it('narrowing by code types the details: no cast to read validNames or reason', () => {
    let names: readonly string[] = [];
    try {
      throw new HostnameError('ERR_HOSTNAME_MISMATCH', 'not covered', {
        details: { host: 'smtp.example.com', validNames: ['mail.example.com'] },
      });
    } catch (e) {
      // validNames is declared readonly string[] for this code: assigning it compiles without a cast
      if (isMailTlsError(e, 'ERR_HOSTNAME_MISMATCH')) names = e.details.validNames;
    }
    assert.deepEqual(names, ['mail.example.com']);
    const chain = new ChainError('ERR_CHAIN_UNKNOWN_ISSUER', 'missing intermediate', {
      details: {
        reason: 'unknown-issuer',
        issuer: 'CN=Intermediate',
        caIssuers: ['http://ca.example/i.crt'],
      },
    });
    const urls: readonly string[] | undefined = chain.details.caIssuers;
    assert.deepEqual(urls, ['http://ca.example/i.crt']);
    assert.equal(chain.details.reason, 'unknown-issuer');
  });

  it('the probe has its own error class and codes', () => {
    const e = new ProbeError('ERR_PROBE_CONNECT', 'refused', { details: { url: 'smtp://mail.example.com' } });
    assert.ok(e instanceof MailTlsError && !(e instanceof TLSError));
    assert.equal(e.details.url, 'smtp://mail.example.com');
    assert.deepEqual(e.toJSON(), {
      name: 'ProbeError',
      code: 'ERR_PROBE_CONNECT',
      message: 'refused',
      details: { url: 'smtp://mail.example.com' },
    });
  });
});
