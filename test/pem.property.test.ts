import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodePEM, parsePEM } from '../src/encoding/pem.js';
import { MailTlsError } from '../src/errors.js';
import { toBase64 } from '../src/internal/encoding/bytes.js';
import { cpuStopwatch, timeOrRetime } from './helpers/timing.js';

const RUNS = Number(process.env.MAILTLS_FUZZ_RUNS ?? '') || 200;

/** RFC 7468 labels: words of labelchar (%x21-2C / %x2E-7E) joined by one space or hyphen. */
const label = fc
  .array(fc.tuple(fc.stringMatching(/^[!-,.-~]{1,8}$/), fc.constantFrom(' ', '-')), {
    minLength: 1,
    maxLength: 4,
  })
  .map((words) => words.map(([w, sep], i) => (i === 0 ? w : sep + w)).join(''));

const headerName = fc
  .stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,15}$/)
  .filter((n) => n !== 'Proc-Type' && n !== 'DEK-Info');
const headerValue = fc.stringMatching(/^(?:[!-~](?:[ -~]{0,30}[!-~])?)?$/);
const encryption = fc.record({
  cipher: fc.constantFrom('AES-128-CBC', 'AES-256-CBC', 'DES-EDE3-CBC'),
  iv: fc.uint8Array({ minLength: 8, maxLength: 16 }),
});
const headers = fc.option(
  fc
    .tuple(fc.option(encryption, { nil: undefined }), fc.dictionary(headerName, headerValue, { maxKeys: 4 }))
    .map(([enc, rest]) => {
      const out: Record<string, string> = {};
      if (enc) {
        out['Proc-Type'] = '4,ENCRYPTED';
        out['DEK-Info'] = `${enc.cipher},${Buffer.from(enc.iv).toString('hex').toUpperCase()}`;
      }
      for (const [k, v] of Object.entries(rest))
        Object.defineProperty(out, k, { value: v, enumerable: true });
      return out;
    }),
  { nil: undefined },
);
/** Explanatory text: lines that can never be mistaken for a boundary. */
const prose = fc
  .array(fc.stringMatching(/^[a-zA-Z0-9 :=.]{0,30}$/), { maxLength: 3 })
  .map((l) => l.join('\n'));

describe('pem properties', () => {
  it('encodePEM -> parsePEM round-trips label, bytes and headers (LF, CRLF, CR; text around)', () => {
    fc.assert(
      fc.property(
        label,
        fc.uint8Array({ minLength: 1, maxLength: 1500 }),
        headers,
        prose,
        prose,
        fc.constantFrom('\n', '\r\n', '\r'),
        (lbl, der, hdrs, before, afterText, eol) => {
          const block = encodePEM(lbl, der, hdrs);
          assert.ok(block.endsWith(`-----END ${lbl}-----\n`));
          for (const line of block.split('\n'))
            assert.ok(line.length <= 64 || line.startsWith('-----') || line.includes(': '));
          const text = `${before}\n${block}${afterText}`.replace(/\n/g, eol);
          const [b, ...rest] = parsePEM(text);
          assert.equal(rest.length, 0);
          assert.equal(b!.label, lbl);
          assert.deepEqual(b!.bytes, der);
          assert.deepEqual({ ...b!.headers }, { ...(hdrs ?? {}) });
          if (hdrs?.['Proc-Type'] !== undefined) {
            assert.deepEqual(
              block
                .split('\n')
                .slice(1, 3)
                .map((l) => l.split(':')[0]),
              ['Proc-Type', 'DEK-Info'],
            );
          }
          assert.equal(text.slice(b!.start, b!.end), block.trimEnd().replace(/\n/g, eol));
          if (hdrs === undefined || Object.keys(hdrs).length === 0) {
            assert.deepEqual(parsePEM(text, { strict: true }), [b]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated PEM never throws anything but MailTlsError/TypeError, never leaks base64, and takes < 100 ms', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        ch: fc.constantFrom(...'-=: \t\r\n\u0000#AZaz09+/\u00e9\ufeff'),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        s: fc.constantFrom(
          '-',
          '=',
          '\n',
          '\r\n',
          ':',
          ' ',
          '-----END X-----\n',
          '-----BEGIN X-----\n',
          'Proc-Type: 4,ENCRYPTED\n',
          '\n\n',
        ),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 70 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('eol' as const), to: fc.constantFrom('\r\n', '\r', '\n\n', ' \n') }),
    );
    fc.assert(
      fc.property(
        label,
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        headers,
        fc.array(op, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (lbl, der, hdrs, ops, strict) => {
          let text = encodePEM(lbl, der, hdrs) + encodePEM('CERTIFICATE', der);
          for (const o of ops) {
            const at = 'at' in o ? o.at % (text.length + 1) : 0;
            if (o.kind === 'flip') text = text.slice(0, at) + o.ch + text.slice(at + 1);
            else if (o.kind === 'insert') text = text.slice(0, at) + o.s + text.slice(at);
            else if (o.kind === 'delete') text = text.slice(0, at) + text.slice(at + o.n);
            else if (o.kind === 'truncate') text = text.slice(0, at);
            else text = text.replace(/\n/g, o.to);
          }
          const elapsed = cpuStopwatch();
          try {
            for (const b of parsePEM(text, { strict })) assert.ok(b.bytes instanceof Uint8Array);
          } catch (e) {
            if (!(e instanceof MailTlsError || e instanceof TypeError)) throw e;
            if (e instanceof MailTlsError) {
              const shown = `${e.message} ${JSON.stringify(e)}`;
              const b64 = toBase64(der);
              for (let i = 0; i + 16 <= b64.length; i += 8)
                assert.ok(!shown.includes(b64.slice(i, i + 16)), shown);
            }
          }
          const ms = elapsed();
          assert.ok(ms < 100, `took ${ms.toFixed(1)} ms of CPU`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('10 MiB without a block finishes in linear time', () => {
    const size = 10 * 1024 * 1024;
    const shapes: [string, string][] = [
      ['letters', 'a'.repeat(size)],
      ['newlines', '\n'.repeat(size)],
      ['CRLF lines of dashes', '-----\r\n'.repeat(size / 7)],
      ['BEGIN-like prefixes on one line', '-----BEGIN '.repeat(size / 11)],
      ['malformed BEGIN lines', '-----BEGIN X----\n'.repeat(size / 17)],
      ['whitespace then a colon', `${' '.repeat(size)}:`],
      ['base64 without boundaries', 'QUJD'.repeat(size / 4)],
    ];
    for (const [name, text] of shapes) {
      const elapsed = cpuStopwatch();
      assert.throws(
        () => parsePEM(text),
        (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_PEM_NO_BLOCK',
        name,
      );
      const ms = elapsed();
      assert.ok(ms < 3000, `${name}: ${ms.toFixed(0)} ms of CPU for 10 MiB`);
    }
  });

  it('a 10 MiB block decodes in linear time, and an unterminated one fails fast', async () => {
    const der = new Uint8Array(7 * 1024 * 1024).map((_, i) => i & 0xff);
    const text = encodePEM('BIG', der);
    assert.equal(parsePEM(text)[0]!.bytes.length, der.length);
    assert.throws(
      () => parsePEM(text.slice(0, -20)),
      (e: unknown) => e instanceof MailTlsError && e.code === 'ERR_PEM_TRUNCATED',
    );
    // CPU time of this process, not wall time (other test files share the cores), measured once more when a
    // first measurement is over the limit (a collection or a descheduled GC thread on a loaded machine).
    assert.ok((await timeOrRetime(() => parsePEM(text), 3000)) < 3000);
    assert.ok((await timeOrRetime(() => parsePEM(text.slice(0, -20)), 3000)) < 3000);
  });
});
