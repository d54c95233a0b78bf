/**
 * The lines a spawned server prints, and waiting for one: tests wait for the state a server reports (its
 * `ready` line, a reload), never for a span of time.
 */

/** The lines seen so far, and a wait for the first line (seen or to come) that matches. */
export interface LineLog {
  /** Every line pushed, in order. */
  readonly lines: string[];
  /** Records a line and wakes the waits it matches. */
  push(line: string): void;
  /**
   * Resolves with the first line that matches `re`, already seen or to come; rejects after `ms` (a bound
   * only a hung server reaches) with every line seen and `context()`.
   */
  waitFor(re: RegExp, ms: number): Promise<string>;
}

/** A new, empty line log; `context` adds to a time-out's message (e.g. the server's stderr). */
export function lineLog(context: () => string = () => ''): LineLog {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  return {
    lines,
    push(line) {
      lines.push(line);
      for (const w of [...waiters])
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    },
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const seen = lines.find((l) => re.test(l));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error(`no line ${re} in ${ms} ms: ${lines.join(' | ')} ${context()}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}
