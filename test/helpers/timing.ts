/**
 * Time limits in property tests ("no input takes over 100 ms") on a shared, loaded machine: an input that
 * takes too long is timed once more, and the lesser time counts. A slow input is slow twice; a pause of the
 * machine (garbage collection, another process, the thread pool busy with another test) is not.
 */

/** Milliseconds `fn` took (errors ignored: the caller judges the outcome), re-timed once when over `limitMs`. */
export async function timeOrRetime(fn: () => unknown, limitMs: number): Promise<number> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    return performance.now() - t0;
  };
  const first = await once();
  return first < limitMs ? first : Math.min(first, await once());
}
