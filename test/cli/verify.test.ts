// `mailtls verify`: chains made by openssl, a reseller bundle in the wrong order, missing and untrusted
// issuers, expiry, host names; verdicts cross-checked with `openssl verify`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { mailtls, mailtlsJSON, makeOpenSSLInputs, type OpenSSLInputs } from './helpers.js';

/** What `openssl verify` says about the leaf with these roots and untrusted intermediates. */
function opensslVerify(leaf: string, root: string, untrusted?: string, atEpoch?: number): boolean {
  const args = ['verify', '-CAfile', root, ...(untrusted === undefined ? [] : ['-untrusted', untrusted])];
  if (atEpoch !== undefined) args.push('-attime', String(atEpoch));
  const r = spawnSync('openssl', [...args, leaf], { encoding: 'utf8' });
  return r.status === 0;
}

type Problem = { code: string; message: string };

/** `--cert <leaf> --chain <intermediate> --trust <root> EXTRA...`: the complete chain, checked as EXTRA says. */
function withIntermediate(i: OpenSSLInputs, ...extra: string[]): string[] {
  return ['--cert', i.leafCert, '--chain', i.intermediateCert, '--trust', i.rootCert, ...extra];
}

/** What `openssl verify -attime` says about the complete chain at the instant `Date.parse(date)`. */
function opensslVerifyAt(i: OpenSSLInputs, date: string): boolean {
  return opensslVerify(i.leafCert, i.rootCert, i.intermediateCert, Date.parse(date) / 1000);
}

describe('mailtls verify', () => {
  let inputs: OpenSSLInputs;
  before(() => {
    inputs = makeOpenSSLInputs();
  });

  it('validates a leaf with a reseller bundle in the wrong order; prints the path and what to deploy', () => {
    assert.equal(opensslVerify(inputs.leafCert, inputs.rootCert, inputs.resellerBundle), true);
    const args = [
      'verify',
      '--cert',
      inputs.leafCert,
      '--chain',
      inputs.resellerBundle,
      '--trust',
      inputs.rootCert,
    ];
    const r = mailtlsJSON([...args, '--host', 'mail.example.com', '--host', 'IMAP.example.com']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.valid, true);
    assert.deepEqual(
      (r.json.path as { role: string; subject: string }[]).map((c) => `${c.role}: ${c.subject}`),
      [
        'leaf: CN=mail.example.com,O=Example Inc,C=US',
        'intermediate: CN=Test Intermediate CA,O=Test Reseller,C=US',
        'trust anchor: CN=Test Root CA,O=Test Reseller,C=US',
      ],
    );
    assert.deepEqual(r.json.served, [
      'CN=mail.example.com,O=Example Inc,C=US',
      'CN=Test Intermediate CA,O=Test Reseller,C=US',
    ]);
    assert.deepEqual(
      (r.json.hosts as { host: string; covered: boolean }[]).map((h) => [h.host, h.covered]),
      [
        ['mail.example.com', true],
        ['IMAP.example.com', true],
      ],
    );
    assert.ok((r.json.notes as { code: string }[]).some((n) => n.code === 'root-included'));
    const text = mailtls(args);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /^Certificate path \(validated\):\n {2}0 CN=mail\.example\.com/);
    assert.match(
      text.stdout,
      /Deploy these, in this order: CN=mail\.example\.com,O=Example Inc,C=US {2}-> {2}CN=Test Intermediate CA/,
    );
    assert.match(text.stdout, /OK: the certificate is valid\.\n$/);
  });

  it('accepts a full chain file in the wrong order as --cert, and says the order was wrong', () => {
    const r = mailtlsJSON(['verify', '--cert', inputs.wrongOrderFullchain, '--trust', inputs.rootCert]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.json.path as unknown[]).length, 3);
    const codes = (r.json.notes as { code: string }[]).map((n) => n.code);
    assert.ok(codes.includes('wrong-order') || codes.includes('root-included'), codes.join());
  });

  const failures = [
    {
      name: 'a missing intermediate',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--trust', i.rootCert],
      openssl: (i: OpenSSLInputs) => opensslVerify(i.leafCert, i.rootCert),
      wantCode: 'ERR_CHAIN_UNKNOWN_ISSUER',
    },
    {
      name: "a private root not among Node's roots",
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--chain', i.resellerBundle],
      openssl: undefined,
      wantCode: 'ERR_CHAIN_UNTRUSTED_ROOT',
    },
    {
      name: 'a certificate expired at --at',
      args: (i: OpenSSLInputs) => withIntermediate(i, '--at', '2099-01-01'),
      openssl: (i: OpenSSLInputs) => opensslVerifyAt(i, '2099-01-01'),
      wantCode: 'ERR_CHAIN_EXPIRED',
    },
    {
      name: 'a certificate not yet valid at --at',
      args: (i: OpenSSLInputs) => withIntermediate(i, '--at', '2001-01-01T00:00:00Z'),
      openssl: (i: OpenSSLInputs) => opensslVerifyAt(i, '2001-01-01'),
      wantCode: 'ERR_CHAIN_NOT_YET_VALID',
    },
    {
      name: 'a host name the certificate does not cover',
      args: (i: OpenSSLInputs) => withIntermediate(i, '--host', 'smtp.example.com'),
      openssl: undefined,
      wantCode: 'ERR_HOSTNAME_MISMATCH',
    },
  ];
  for (const row of failures) {
    it(`exits 1 for ${row.name} (${row.wantCode}) and explains it`, () => {
      if (row.openssl !== undefined) assert.equal(row.openssl(inputs), false, 'openssl verify agrees');
      const r = mailtlsJSON(['verify', ...row.args(inputs)]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.json.valid, false);
      const problems = r.json.problems as Problem[];
      assert.equal(problems[0]?.code, row.wantCode);
      assert.equal(problems.length, 1);
    });
  }

  it('prints the problems in words, and the path as far as it could be built', () => {
    const r = mailtls([
      'verify',
      '--cert',
      inputs.leafCert,
      '--trust',
      inputs.rootCert,
      '--host',
      'smtp.example.com',
    ]);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /^Certificate path \(as far as it could be built; not valid\):\n {2}0 CN=mail\.example\.com/,
    );
    assert.match(r.stdout, / {2}smtp\.example\.com: NOT covered\n/);
    assert.match(
      r.stdout,
      /INVALID: 2 problems:\n {2}ERR_CHAIN_UNKNOWN_ISSUER: .*\n {2}ERR_HOSTNAME_MISMATCH: .*valid for mail\.example\.com, imap\.example\.com/,
    );
  });

  const usage = [
    {
      name: 'an invalid --host',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--trust', i.rootCert, '--host', 'bad..name'],
      wantCode: 'ERR_HOSTNAME_INVALID',
    },
    {
      name: 'an invalid --at',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--at', 'tomorrow'],
      wantCode: 'ERR_CLI_USAGE',
    },
    {
      name: 'a key given as --cert',
      args: (i: OpenSSLInputs) => ['--cert', i.leafKey],
      wantCode: 'ERR_PEM_UNEXPECTED_LABEL',
    },
    {
      name: 'a missing --trust file',
      args: (i: OpenSSLInputs) => ['--cert', i.leafCert, '--trust', '/nonexistent/roots.pem'],
      wantCode: 'ERR_CLI_READ',
    },
  ];
  for (const row of usage) {
    it(`exits 2 for ${row.name} (${row.wantCode})`, () => {
      const r = mailtlsJSON(['verify', ...row.args(inputs)]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal((r.json.error as { code: string }).code, row.wantCode);
    });
  }
});
