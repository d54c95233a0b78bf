/**
 * renewalWindow: renew with a third of the lifetime left, for today's and SC-081's shrinking maximum
 * lifetimes, intermediates that expire first, errors, and properties over random validity periods.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCertificate } from '../src/x509/certificate.js';
import { createCSR } from '../src/x509/csr.js';
import { createCertificateAuthority, issueCertificate } from '../src/x509/issue.js';
import { renewalWindow } from '../src/x509/renewal.js';

const runs = Number(process.env.MAILTLS_FUZZ_RUNS ?? 300);
const DAY = 86_400_000;
const START = new Date('2026-03-15T00:00:00Z');

function cert(days: number) {
  return { notBefore: START, notAfter: new Date(START.getTime() + days * DAY) };
}

describe('renewalWindow', () => {
  // The SC-081 schedule: 398 days now, 200 from 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15; plus
  // Let's Encrypt's 90 days and its 6-day short-lived certificates.
  const rows = [
    { name: '398 days', input: 398, want: { renewAt: '2026-12-05T08:00:00.000Z', leftAtRenew: 132 } },
    {
      name: '200 days (SC-081, 2026)',
      input: 200,
      want: { renewAt: '2026-07-26T08:00:00.000Z', leftAtRenew: 66 },
    },
    {
      name: '100 days (SC-081, 2027)',
      input: 100,
      want: { renewAt: '2026-05-20T16:00:00.000Z', leftAtRenew: 33 },
    },
    {
      name: "90 days (Let's Encrypt)",
      input: 90,
      want: { renewAt: '2026-05-14T00:00:00.000Z', leftAtRenew: 30 },
    },
    {
      name: '47 days (SC-081, 2029)',
      input: 47,
      want: { renewAt: '2026-04-15T08:00:00.000Z', leftAtRenew: 15 },
    },
    { name: '6 days (short-lived)', input: 6, want: { renewAt: '2026-03-19T00:00:00.000Z', leftAtRenew: 2 } },
  ];
  for (const row of rows)
    it(`${row.name}: renews after two thirds of the lifetime (step-cli's 66 %)`, () => {
      const c = cert(row.input);
      const w = renewalWindow(c, { at: START });
      assert.equal(w.renewAt.toISOString(), row.want.renewAt);
      assert.equal(w.lifetimeDays, row.input);
      assert.equal(w.daysLeft, row.input);
      assert.equal(w.due, false);
      const before = renewalWindow(c, { at: new Date(w.renewAt.getTime() - 1000) });
      assert.equal(before.due, false);
      const at = renewalWindow(c, { at: w.renewAt });
      assert.equal(at.due, true);
      assert.equal(at.daysLeft, row.want.leftAtRenew);
      assert.equal(at.expired, false);
      // used share at renewal: two thirds
      const used = (w.renewAt.getTime() - START.getTime()) / (c.notAfter.getTime() - START.getTime());
      assert.ok(Math.abs(used - 2 / 3) < 1e-6, String(used));
    });

  it('a fixed 30-day margin would be wrong for short lifetimes; the fraction keeps working', () => {
    // 47 days: renew with 15.7 days left, not 30 (which would renew after 17 days of 47)
    const w = renewalWindow(cert(47), { at: START });
    assert.ok(w.expiresAt.getTime() - w.renewAt.getTime() < 16 * DAY);
  });

  it('expired, not yet valid, daysLeft negative after expiry; at = notAfter is still valid', () => {
    const c = cert(90);
    assert.equal(renewalWindow(c, { at: c.notAfter }).expired, false);
    const late = renewalWindow(c, { at: new Date(c.notAfter.getTime() + 1.5 * DAY) });
    assert.equal(late.expired, true);
    assert.equal(late.due, true);
    assert.equal(late.daysLeft, -2);
    const early = renewalWindow(c, { at: new Date(START.getTime() - DAY) });
    assert.equal(early.notYetValid, true);
    assert.equal(early.due, false);
  });

  it('remainingFraction moves the point: half-life', () => {
    const w = renewalWindow(cert(90), { at: START, remainingFraction: 0.5 });
    assert.equal(w.renewAt.toISOString(), '2026-04-29T00:00:00.000Z');
  });

  it('warns about intermediates expiring before the leaf; due once one is inside the margin', () => {
    const leaf = cert(90);
    const intermediate = {
      notBefore: new Date('2020-01-01Z'),
      notAfter: new Date(START.getTime() + 70 * DAY),
      subject: { toString: () => 'CN=Example Intermediate R3' },
    };
    const root = { notBefore: new Date('2015-01-01Z'), notAfter: new Date('2035-01-01Z') };
    const w = renewalWindow(leaf, { at: START, chain: [intermediate, root] });
    assert.equal(w.warnings.length, 1);
    assert.equal(w.warnings[0]!.code, 'INTERMEDIATE_EXPIRES_FIRST');
    assert.equal(w.warnings[0]!.index, 0);
    assert.match(w.warnings[0]!.message, /CN=Example Intermediate R3 expires on 2026-05-24/);
    assert.equal(w.chainExpiresAt.toISOString(), intermediate.notAfter.toISOString());
    assert.equal(w.due, false);
    // 30-day margin: due from day 40 on, before the leaf's own renewal point (day 60)
    assert.equal(
      renewalWindow(leaf, { at: new Date(START.getTime() + 39 * DAY), chain: [intermediate] }).due,
      false,
    );
    assert.equal(
      renewalWindow(leaf, { at: new Date(START.getTime() + 40 * DAY), chain: [intermediate] }).due,
      true,
    );
  });

  it('works on a parsed certificate (notBefore/notAfter of the view)', async () => {
    const ca = await createCertificateAuthority({
      name: 'Renewal Test CA',
      keyType: 'ec',
      notBefore: START,
      days: 3650,
    });
    const csr = await createCSR({ subject: { commonName: 'mail.example.com' }, keyType: 'ec' });
    const issued = await issueCertificate(csr.csrPEM, ca.issuer, { notBefore: START, days: 90 });
    const w = renewalWindow(parseCertificate(issued.certPEM), { at: START });
    assert.equal(w.renewAt.toISOString(), '2026-05-14T00:00:00.000Z');
  });

  it('throws TypeError/RangeError for bad input', () => {
    const rows: { name: string; input: () => unknown; want: new (...a: never[]) => Error }[] = [
      { name: 'no cert', input: () => renewalWindow(null as never), want: TypeError },
      {
        name: 'invalid date',
        input: () => renewalWindow({ notBefore: new Date('x'), notAfter: START }),
        want: TypeError,
      },
      {
        name: 'reversed',
        input: () => renewalWindow({ notBefore: START, notAfter: new Date('2020-01-01Z') }),
        want: RangeError,
      },
      { name: 'fraction 0', input: () => renewalWindow(cert(9), { remainingFraction: 0 }), want: RangeError },
      { name: 'fraction 1', input: () => renewalWindow(cert(9), { remainingFraction: 1 }), want: RangeError },
      {
        name: 'fraction NaN',
        input: () => renewalWindow(cert(9), { remainingFraction: Number.NaN }),
        want: RangeError,
      },
      {
        name: 'chain not array',
        input: () => renewalWindow(cert(9), { chain: {} as never }),
        want: TypeError,
      },
      { name: 'chain item', input: () => renewalWindow(cert(9), { chain: [{} as never] }), want: TypeError },
      {
        name: 'at invalid',
        input: () => renewalWindow(cert(9), { at: new Date(Number.NaN) }),
        want: TypeError,
      },
    ];
    for (const row of rows) assert.throws(row.input, row.want, row.name);
  });

  it('properties: renewAt inside the validity; due exactly from renewAt on; daysLeft consistent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4000 * 86400 }),
        fc.integer({ min: -100 * 86400, max: 5000 * 86400 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (lifetimeS, offsetS, fraction) => {
          const c = { notBefore: START, notAfter: new Date(START.getTime() + lifetimeS * 1000) };
          const at = new Date(START.getTime() + offsetS * 1000);
          const w = renewalWindow(c, { at, remainingFraction: fraction });
          assert.ok(w.renewAt.getTime() >= START.getTime() - 1000 && w.renewAt <= c.notAfter);
          assert.equal(w.due, at.getTime() >= w.renewAt.getTime());
          assert.equal(w.expired, at > c.notAfter);
          assert.equal(w.daysLeft, Math.floor((c.notAfter.getTime() - at.getTime()) / DAY));
          assert.equal(w.warnings.length, 0);
        },
      ),
      { numRuns: runs },
    );
  });
});
