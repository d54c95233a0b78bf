/**
 * Every certificate of the C2SP x509-limbo suite (shared conformance data, see its README) through
 * parseCertificate: none may throw (the suite's broken certificates are well-formed DER whose defects are for
 * a validator to reject), the structural defects the suite tests must show up in `problems`, and a sample
 * must agree with node:crypto.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type Certificate, parseCertificate } from '../src/x509/certificate.js';
import { conformanceDir } from './helpers/paths.js';

interface LimboCase {
  id: string;
  expected_result: 'SUCCESS' | 'FAILURE';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
}

const limbo: { testcases: LimboCase[] } = JSON.parse(
  gunzipSync(readFileSync(join(conformanceDir, 'limbo.json.gz'))).toString('utf8'),
);

const parsed = new Map<string, Certificate>();
for (const tc of limbo.testcases)
  for (const pem of [...tc.trusted_certs, ...tc.untrusted_intermediates, tc.peer_certificate])
    if (!parsed.has(pem)) parsed.set(pem, parseCertificate(pem));

/**
 * Intended: problems recorded on certificates of SUCCESS cases. The parser reports an unknown critical
 * extension on every certificate; the validator only rejects it when the certificate is on the path.
 */
const SUCCESS_WITH_PROBLEMS: Record<string, RegExp> = {
  'rfc5280::unknown-critical-extension-unrelated-root':
    /^critical extension 1\.3\.6\.1\.4\.1\.55738\.666\.1 /,
  'rfc5280::unknown-critical-extension-unrelated-intermediate':
    /^critical extension 1\.3\.6\.1\.4\.1\.55738\.666\.1 /,
};

/** Cases whose peer (or a chain certificate) carries a defect the parser must record. */
const MUST_RECORD: { id: string; problem: RegExp }[] = [
  { id: 'rfc5280::duplicate-extensions', problem: /duplicate extension/ },
  { id: 'rfc5280::mismatching-signature-algorithm', problem: /differs from the outer one/ },
  { id: 'rfc5280::serial::too-long', problem: /serial number has 22 octets/ },
  { id: 'rfc5280::serial::negative', problem: /serial number is negative/ },
  { id: 'rfc5280::eku::ee-eku-empty', problem: /extendedKeyUsage must not be empty/ },
  { id: 'rfc5280::unknown-critical-extension-ee', problem: /critical extension .* not understood/ },
  { id: 'webpki::forbidden-p192-leaf', problem: /P-192/ },
  { id: 'webpki::explicit-curve', problem: /explicit curve parameters/ },
  { id: 'webpki::malformed-aia', problem: /authorityInfoAccess/ },
];

describe('x509-limbo certificates', () => {
  it(`all ${parsed.size} distinct certificates of ${limbo.testcases.length} cases parse`, () => {
    assert.ok(parsed.size > 30000);
    let withProblems = 0;
    let i = 0;
    for (const cert of parsed.values()) {
      if (cert.problems.length > 0) withProblems++;
      // Every lazy field is safe (on a sample: the JSON view hashes and validates keys).
      if (i++ % 10 === 0) JSON.stringify(cert);
    }
    assert.ok(withProblems > 0 && withProblems < parsed.size / 10, `${withProblems} with problems`);
  });

  it('no certificate of a SUCCESS case has problems, apart from the listed intended ones', () => {
    for (const tc of limbo.testcases) {
      if (tc.expected_result !== 'SUCCESS') continue;
      for (const pem of [...tc.trusted_certs, ...tc.untrusted_intermediates, tc.peer_certificate]) {
        const problems = parsed.get(pem)!.problems;
        const allowed = SUCCESS_WITH_PROBLEMS[tc.id];
        for (const p of problems) assert.ok(allowed?.test(p), `${tc.id}: ${p}`);
      }
    }
  });

  for (const row of MUST_RECORD) {
    it(`${row.id}: the defect is in problems`, () => {
      const tc = limbo.testcases.find((t) => t.id === row.id);
      assert.ok(tc, `no case ${row.id}`);
      assert.equal(tc.expected_result, 'FAILURE');
      const all = [tc.peer_certificate, ...tc.untrusted_intermediates, ...tc.trusted_certs].flatMap(
        (pem) => parsed.get(pem)!.problems,
      );
      assert.ok(
        all.some((p) => row.problem.test(p)),
        `problems: ${JSON.stringify(all)}`,
      );
    });
  }

  it('every 40th certificate agrees with node:crypto (serial, validity, fingerprint, CA flag, key type)', () => {
    let compared = 0;
    let nodeRejects = 0;
    [...parsed.entries()].forEach(([pem, mine], i) => {
      if (i % 40 !== 0) return;
      let node: X509Certificate;
      try {
        node = new X509Certificate(pem);
      } catch {
        nodeRejects++;
        return;
      }
      assert.equal(BigInt(`0x${mine.serialNumber}`), BigInt(`0x${node.serialNumber}`));
      assert.equal(mine.notBefore.getTime(), Date.parse(node.validFrom));
      assert.equal(mine.notAfter.getTime(), Date.parse(node.validTo));
      assert.equal(mine.fingerprint('sha256'), node.fingerprint256);
      // node's ca is OpenSSL's X509_check_ca: CA:TRUE, and keyCertSign when keyUsage is present.
      const ca = mine.basicConstraints?.ca === true && (mine.keyUsage?.includes('keyCertSign') ?? true);
      if (mine.getExtension('keyUsage')?.error === undefined)
        assert.equal(ca, node.ca, mine.subject.toString());
      let nodeKey: string | undefined;
      try {
        nodeKey = node.publicKey.asymmetricKeyType;
      } catch {
        nodeKey = undefined;
      }
      if (nodeKey !== undefined && mine.publicKeyInfo.type !== 'other')
        assert.equal(mine.publicKeyInfo.type, nodeKey);
      compared++;
    });
    assert.ok(compared > 700, `compared ${compared}, node rejected ${nodeRejects}`);
  });
});
