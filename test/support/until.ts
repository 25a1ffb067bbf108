// The one polling helper of the tests: wait until a probe has an answer, or fail with what was awaited.

export type UntilOptions = {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between probes (default 25 ms; 0 waits one event-loop turn, for in-process work). */
  intervalMs?: number;
};

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and returns that.
 * A probe that throws counts as "not yet"; after `timeoutMs` the error says what was awaited (and
 * the probe's last error, if any).
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 25 }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    }
    await new Promise((r) => (intervalMs > 0 ? setTimeout(r, intervalMs) : setImmediate(r)));
  }
}
