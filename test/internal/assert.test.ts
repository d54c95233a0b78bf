// The shared option checks: one wording per mistake, the value returned when it is fine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  integerAtLeast,
  optionalIntegerAtLeast,
  positiveMilliseconds,
  validDate,
} from '../../src/internal/assert.js';

describe('internal/assert', () => {
  it('validDate returns a real Date and refuses anything else with a TypeError naming the option', () => {
    const d = new Date('2026-01-01T00:00:00Z');
    assert.equal(validDate(d, 'options.at'), d);
    for (const bad of [new Date('x'), '2026-01-01', 0, null, undefined, {}])
      assert.throws(() => validDate(bad, 'options.at'), {
        name: 'TypeError',
        message: 'options.at must be a valid Date',
      });
  });

  it('integerAtLeast words the minimum: positive, non-negative or >= n', () => {
    assert.equal(integerAtLeast(1, 'n'), 1);
    assert.equal(integerAtLeast(0, 'n', 0), 0);
    assert.equal(integerAtLeast(64, 'n', 64), 64);
    const cases: [unknown, number, string][] = [
      [0, 1, 'n must be a positive integer'],
      [1.5, 1, 'n must be a positive integer'],
      ['3', 1, 'n must be a positive integer'],
      [2 ** 53, 1, 'n must be a positive integer'],
      [Number.NaN, 1, 'n must be a positive integer'],
      [-1, 0, 'n must be a non-negative integer'],
      [63, 64, 'n must be an integer >= 64'],
    ];
    for (const [value, min, message] of cases)
      assert.throws(() => integerAtLeast(value, 'n', min), { name: 'RangeError', message });
  });

  it('optionalIntegerAtLeast gives the fallback for undefined only', () => {
    assert.equal(optionalIntegerAtLeast(undefined, 'n', 1, 8), 8);
    assert.equal(optionalIntegerAtLeast(undefined, 'n', 1, undefined), undefined);
    assert.equal(optionalIntegerAtLeast(3, 'n', 1, 8), 3);
    assert.throws(() => optionalIntegerAtLeast(null, 'n', 1, 8), RangeError);
  });

  it('positiveMilliseconds takes a finite number above zero', () => {
    assert.equal(positiveMilliseconds(0.5, 't'), 0.5);
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '5'])
      assert.throws(() => positiveMilliseconds(bad, 't'), {
        name: 'RangeError',
        message: 't must be a positive number of milliseconds',
      });
  });
});
