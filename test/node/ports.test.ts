// The port table as data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getPortInfo, PORTS } from '../../src/node/tls/ports.js';
import { getTLSProfile } from '../../src/tls/profile.js';

describe('PORTS', () => {
  const rows: { name: string; input: number; want: [string, string, string | undefined, string, string] }[] =
    [
      { name: 'SMTP relay', input: 25, want: ['smtp', 'starttls', 'STARTTLS', 'smtp', 'legacy-port-25'] },
      { name: 'submission', input: 587, want: ['smtp', 'starttls', 'STARTTLS', 'smtp', 'intermediate'] },
      { name: 'submissions', input: 465, want: ['smtp', 'implicit', undefined, 'smtps', 'intermediate'] },
      { name: 'POP3', input: 110, want: ['pop3', 'starttls', 'STLS', 'pop3', 'intermediate'] },
      { name: 'POP3S', input: 995, want: ['pop3', 'implicit', undefined, 'pop3s', 'intermediate'] },
      { name: 'IMAP', input: 143, want: ['imap', 'starttls', 'STARTTLS', 'imap', 'intermediate'] },
      { name: 'IMAPS', input: 993, want: ['imap', 'implicit', undefined, 'imaps', 'intermediate'] },
      { name: 'HTTPS', input: 443, want: ['https', 'implicit', undefined, 'https', 'intermediate'] },
    ];
  for (const row of rows) {
    it(`${row.input} ${row.name}`, () => {
      const p = getPortInfo(row.input)!;
      assert.deepEqual([p.protocol, p.tls, p.command, p.scheme, p.profile], row.want);
      assert.equal(p.port, row.input);
      assert.ok(getTLSProfile(p.profile));
    });
  }
  it('has exactly these eight ports and is frozen', () => {
    assert.deepEqual(
      Object.keys(PORTS)
        .map(Number)
        .sort((a, b) => a - b),
      [25, 110, 143, 443, 465, 587, 993, 995],
    );
    assert.ok(Object.isFrozen(PORTS) && Object.isFrozen(PORTS[25]));
  });
  it('unknown ports and bad input', () => {
    assert.equal(getPortInfo(2525), undefined);
    assert.throws(() => getPortInfo(70000), RangeError);
    assert.throws(() => getPortInfo(1.5), RangeError);
  });
});
