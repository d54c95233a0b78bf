/**
 * The 709 host-name cases restated from the test tables of Go, CPython 3.11 and 2.7, Node, rustls-webpki,
 * curl and OpenSSL (../shared/conformance/hostname-cases.json). Every case runs; each either agrees with
 * its source or is listed in test/hostname-deviations.ts with the policy rule that explains it, and the
 * list is asserted exactly in both directions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type CertificateNames,
  checkHostname,
  type HostnameMatchOptions,
  matchHostname,
} from '../src/names/hostname.js';
import { conformanceDir } from './helpers/paths.js';
import { type DeviationRule, HOSTNAME_DEVIATIONS } from './hostname-deviations.js';

interface Case {
  readonly id: string;
  readonly source: string;
  readonly host: string;
  readonly cert: {
    readonly dnsNames?: string[] | null;
    readonly ipAddresses?: string[] | null;
    readonly commonName?: string | null;
  };
  readonly expected: boolean;
  readonly tags: readonly string[];
}

const cases = JSON.parse(readFileSync(join(conformanceDir, 'hostname-cases.json'), 'utf8')) as Case[];
const deviations = new Map(HOSTNAME_DEVIATIONS.map((d) => [d.id, d]));

/** Node's table calls checkServerIdentity(undefined, cert); the file spells that host "__undefined__". */
const UNDEFINED_HOST = '__undefined__';

function namesOf(c: Case): CertificateNames {
  return {
    dnsNames: c.cert.dnsNames ?? [],
    ipAddresses: c.cert.ipAddresses ?? [],
    commonName: c.cert.commonName ?? undefined,
  };
}

function verdict(c: Case, options?: HostnameMatchOptions): boolean {
  if (c.host === UNDEFINED_HOST) {
    // A missing host is a programmer error: TypeError, and certainly no match.
    assert.throws(() => matchHostname(namesOf(c), undefined as unknown as string, options), TypeError);
    return false;
  }
  return matchHostname(namesOf(c), c.host, options);
}

function cnOnly(c: Case): boolean {
  return (c.cert.dnsNames ?? []).length === 0 && typeof c.cert.commonName === 'string';
}

/** Whether checkHostname's own explanation of the refusal is the listed rule. */
function explains(rule: DeviationRule, c: Case): boolean {
  const names = namesOf(c);
  const plain = checkHostname(names, c.host);
  const legacy = checkHostname(names, c.host, { legacyCommonName: true });
  const ignored = new Set(legacy.ignoredNames.map((n) => n.reason));
  switch (rule) {
    case 'common-name-ignored':
      return plain.commonNameWouldMatch && legacy.via === 'common-name';
    case 'reference-wildcard':
      return plain.hostProblem === 'invalid-character' && c.host.includes('*');
    case 'reference-leading-dot':
      return plain.hostProblem === 'empty-label' && c.host.startsWith('.');
    case 'empty-label':
    case 'hyphen':
    case 'a-label':
    case 'control-character':
    case 'invalid-character':
      return plain.hostProblem === rule;
    case 'trailing-dot':
    case 'partial-wildcard':
    case 'wildcard-single-label':
    case 'wildcard-public-suffix':
      return plain.hostProblem === null && ignored.has(rule);
    case 'ip-host-dns-name':
      return plain.hostType === 'ip' && legacy.ignoredNames.some((n) => n.source === 'dns-san');
  }
}

const tally = new Map<string, { agree: number; differ: number }>();
const sources = [...new Set(cases.map((c) => c.source))];

describe('hostname conformance: 709 cases from seven implementations', () => {
  after(() => {
    for (const source of sources) {
      const t = tally.get(source) ?? { agree: 0, differ: 0 };
      console.log(`${source}: ${t.agree} agree, ${t.differ} differ by policy`);
    }
  });

  it('reads all 709 cases with unique ids, and lists only existing cases, once each', () => {
    assert.equal(cases.length, 709);
    const ids = new Set(cases.map((c) => c.id));
    assert.equal(ids.size, cases.length);
    assert.equal(deviations.size, HOSTNAME_DEVIATIONS.length, 'a case is listed twice');
    for (const d of HOSTNAME_DEVIATIONS) assert.ok(ids.has(d.id), `listed deviation ${d.id} is not a case`);
  });

  for (const source of sources) {
    describe(source, () => {
      for (const c of cases.filter((x) => x.source === source)) {
        const listed = deviations.get(c.id);
        const title = `${c.id}: ${JSON.stringify(c.host)} vs ${JSON.stringify(c.cert.dnsNames ?? [])}${
          c.cert.commonName == null ? '' : ` CN=${JSON.stringify(c.cert.commonName)}`
        } → ${c.expected}${listed === undefined ? '' : ` (mailtls: false, ${listed.rule})`}`;
        it(title, () => {
          const got = verdict(c);
          const t = tally.get(source) ?? { agree: 0, differ: 0 };
          tally.set(source, t);
          if (listed === undefined) {
            assert.equal(
              got,
              c.expected,
              `${c.id}: mailtls says ${got}, ${source} says ${c.expected}; not listed`,
            );
            t.agree++;
          } else {
            assert.notEqual(got, c.expected, `${c.id} is listed as a deviation but now agrees: remove it`);
            // Direction: the source accepts, mailtls refuses. mailtls never accepts what a source refuses.
            assert.equal(c.expected, true, `${c.id}: a deviation must be a refusal by mailtls`);
            assert.ok(
              explains(listed.rule, c),
              `${c.id}: checkHostname does not give "${listed.rule}" as the cause`,
            );
            if (cnOnly(c)) {
              const legacy = verdict(c, { legacyCommonName: true });
              assert.equal(
                legacy === c.expected,
                listed.rule === 'common-name-ignored',
                `${c.id}: with legacyCommonName the verdict is ${legacy}`,
              );
            }
            t.differ++;
          }
          // No option makes mailtls accept a name the source refuses.
          if (!c.expected) {
            for (const options of [
              { legacyCommonName: true },
              { privateSuffixWildcards: false },
              { wildcards: false },
            ] as const) {
              assert.equal(verdict(c, options), false, `${c.id} with ${JSON.stringify(options)}`);
            }
          }
        });
      }
    });
  }
});
