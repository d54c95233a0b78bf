/**
 * The one place that checks caller-supplied options (dates, counts, limits, time-outs). Every public
 * function checks its options with these helpers, so the same mistake gets the same error everywhere:
 * a `TypeError` for a value that is not a valid `Date`, a `RangeError` for a number out of range, each
 * naming the option. The helpers return the checked value so that a call reads as an assignment.
 *
 * @module internal/assert
 */

/**
 * Checks that `value` is a `Date` holding a real time (not `new Date('x')`).
 * @throws TypeError `<name> must be a valid Date`.
 */
export function validDate(value: unknown, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new TypeError(`${name} must be a valid Date`);
  return value;
}

/**
 * Checks that `value` is a safe integer of at least `min` (1 by default): a count, a size limit or a
 * budget. The message says "positive" for a minimum of 1, "non-negative" for 0, `>= min` otherwise.
 * @throws RangeError `<name> must be a positive integer` (or the wording for `min`).
 */
export function integerAtLeast(value: unknown, name: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const wording =
      min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new RangeError(`${name} must be ${wording}`);
  }
  return value;
}

/**
 * {@link integerAtLeast} for an optional option: `fallback` when `value` is `undefined`.
 * @throws RangeError as {@link integerAtLeast}.
 */
export function optionalIntegerAtLeast<F extends number | undefined>(
  value: unknown,
  name: string,
  min: number,
  fallback: F,
): number | F {
  return value === undefined ? fallback : integerAtLeast(value, name, min);
}

/**
 * Checks that `value` is a finite number of milliseconds above zero (a time-out or an interval).
 * @throws RangeError `<name> must be a positive number of milliseconds`.
 */
export function positiveMilliseconds(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}
