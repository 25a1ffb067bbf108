// A budget over a rolling 24 hours (a delegate's writes, a principal's upload bytes): writes are counted in hourly buckets, and a
// write stays counted for the 24 hours after its bucket ends (between 24 and 25 hours), so no
// 24-hour span, wherever it starts, holds more than the budget. A budget that reset at a fixed
// hour would allow twice the budget within seconds around the reset.
const NS_PER_HOUR = 3_600n * 1_000_000_000n;
const WINDOW_HOURS = 25n;

/** [hour, writes] pairs, oldest first. */
export type Buckets = [number, number][];

const hourOf = (nowNs: bigint): number => Number(nowNs / NS_PER_HOUR);

/** Buckets still inside the window at `nowNs`. */
export const live = (buckets: Buckets, nowNs: bigint): Buckets => {
  const first = hourOf(nowNs) - Number(WINDOW_HOURS) + 1;
  return buckets.filter(([h]) => h >= first);
};

export const used = (buckets: Buckets, nowNs: bigint): number => live(buckets, nowNs).reduce((n, [, c]) => n + c, 0);

/** The buckets after `amount` more at `nowNs` (delta 1: one write), or one write given back (delta -1). */
export function addWrite(buckets: Buckets, nowNs: bigint, delta: 1 | -1, amount = 1): Buckets {
  const out = live(buckets, nowNs).map(([h, c]) => [h, c] as [number, number]);
  const hour = hourOf(nowNs);
  if (delta === 1) {
    const last = out[out.length - 1];
    if (last && last[0] === hour) last[1] += amount;
    else out.push([hour, amount]);
    return out;
  }
  // give back the most recent reservation
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]![1] > 0) {
      out[i]![1]--;
      break;
    }
  }
  return out.filter(([, c]) => c > 0);
}
