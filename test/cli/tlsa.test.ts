// `mailtls tlsa`: DANE records equal to what the openssl pipeline of RFC 7671 computes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  mailtls,
  mailtlsJSON,
  makeOpenSSLInputs,
  type OpenSSLInputs,
  openssl,
  opensslBytes,
  opensslSPKISha256,
} from './helpers.js';

describe('mailtls tlsa', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('prints the 3 1 1 line for each MX host, with the hash openssl computes', () => {
    const hash = opensslSPKISha256(inputs.leafCert, 'cert');
    const r = mailtls([
      'tlsa',
      '--cert',
      inputs.leafCert,
      '--mx',
      'mx1.example.com',
      '--mx',
      'MX2.example.com.',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `_25._tcp.mx1.example.com. IN TLSA 3 1 1 ${hash}\n_25._tcp.mx2.example.com. IN TLSA 3 1 1 ${hash}\n`,
    );
  });

  const rows = [
    {
      name: 'DER input, no MX (RDATA only)',
      args: (i: OpenSSLInputs) => ['--cert', i.leafDER],
      want: (h: { spki: string }) => `3 1 1 ${h.spki}\n`,
    },
    {
      name: '3 0 1 on port 465 with a TTL',
      args: (i: OpenSSLInputs) => [
        '--cert',
        i.leafCert,
        '--selector',
        '0',
        '--mx',
        'mx.example.com',
        '--port',
        '465',
        '--ttl',
        '3600',
      ],
      want: (h: { cert: string }) => `_465._tcp.mx.example.com. 3600 IN TLSA 3 0 1 ${h.cert}\n`,
    },
    {
      name: 'a private key (selector 1)',
      args: (i: OpenSSLInputs) => ['--cert', i.leafKey],
      want: (h: { spki: string }) => `3 1 1 ${h.spki}\n`,
    },
  ];
  for (const row of rows) {
    it(`handles ${row.name}`, () => {
      const certDER = opensslBytes(['x509', '-in', inputs.leafCert, '-outform', 'DER']);
      const h = {
        spki: opensslSPKISha256(inputs.leafCert, 'cert'),
        cert: openssl(['dgst', '-sha256', '-r'], certDER).split(' ')[0]!,
      };
      const r = mailtls(['tlsa', ...row.args(inputs)]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, row.want(h));
    });
  }

  it('prints the current and the next record for a key rollover, as JSON too', () => {
    const r = mailtlsJSON([
      'tlsa',
      '--cert',
      inputs.leafCert,
      '--next',
      inputs.pkcs1Key,
      '--mx',
      'mx.example.com',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const records = r.json.records as { line: string; data: string; owner: string }[];
    assert.deepEqual(
      records.map((x) => x.data),
      [opensslSPKISha256(inputs.leafCert, 'cert'), opensslSPKISha256(inputs.pkcs1Key, 'key')],
    );
    assert.equal(records[0]?.owner, '_25._tcp.mx.example.com.');
  });

  const bad = [
    {
      name: 'selector 0 for a bare key',
      args: (i: OpenSSLInputs) => ['--cert', i.leafKey, '--selector', '0'],
      wantCode: 'ERR_CLI_USAGE',
    },
    {
      name: 'an invalid MX host',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--mx', 'bad..host'],
      wantCode: 'ERR_HOSTNAME_INVALID',
    },
    {
      name: 'usage 4',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--usage', '4'],
      wantCode: 'ERR_CLI_USAGE',
    },
    {
      name: 'a CSR instead of a certificate',
      args: (i: OpenSSLInputs) => ['--cert', i.csr],
      wantCode: 'ERR_CLI_FORMAT',
    },
  ];
  for (const row of bad) {
    it(`exits 2 for ${row.name} (${row.wantCode})`, () => {
      const r = mailtlsJSON(['tlsa', ...row.args(inputs)]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
    });
  }
});
