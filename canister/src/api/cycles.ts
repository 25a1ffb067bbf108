// The canister's cycle balance over time: housekeeping samples the balance, the burn rate is read
// from the samples since the last top-up, and a balance that would last fewer than LOW_DAYS at that
// rate (or is below LOW_BALANCE) is a warning that reaches the audit log (at most once a day) and
// `get_cycles` (the CLI's `canopy status`). The canister cannot read its own freezing threshold
// (canister_status answers controllers only): `canopy status` asks the management canister when the
// caller is a controller, and the days shown here are until the balance is spent, not until it
// freezes (which happens a freezing threshold earlier; the IC's default is 30 days).
import type { KvStore } from '../storage/kv.ts';
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import { some } from './candid.ts';
import type { Result } from './interface.ts';

const NS_PER_DAY = 86_400n * 1_000_000_000n;
/** Samples kept: one per housekeeping run (10 minutes), about a day. */
const MAX_SAMPLES = 144;
/** A burn rate needs at least this span of samples. */
const MIN_SPAN_NS = 3_600n * 1_000_000_000n;
export const LOW_DAYS = 60;
export const LOW_BALANCE = 1_000_000_000_000n;

type Sample = [timeNs: bigint, balance: bigint];
export type CyclesReport = { balance: bigint; burnPerDay: bigint | null; daysLeft: number | null; warning: string | null; sinceNs: bigint | null };

const big = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(v as number));

function samples(kv: KvStore): Sample[] {
  const bytes = kv.get('cycles/samples');
  return bytes ? (decodeCbor(bytes) as unknown[][]).map(([t, b]) => [big(t), big(b)] as Sample) : [];
}

/** The report for `balance` now, from the stored samples. */
export function cyclesReport(kv: KvStore, nowNs: bigint, balance: bigint): CyclesReport {
  const list = [...samples(kv), [nowNs, balance] as Sample];
  // only the samples since the last top-up (a rise in the balance) describe the burn
  let start = list.length - 1;
  while (start > 0 && list[start - 1]![1] >= list[start]![1]) start--;
  const [t0, b0] = list[start]!;
  const span = nowNs - t0;
  const burnPerDay = span >= MIN_SPAN_NS ? ((b0 - balance) * NS_PER_DAY) / span : null;
  const daysLeft = burnPerDay && burnPerDay > 0n ? Number((balance * 100n) / burnPerDay) / 100 : null;
  const warning =
    balance < LOW_BALANCE ? `cycle balance ${balance} is below ${LOW_BALANCE}; top up the canister`
    : daysLeft !== null && daysLeft < LOW_DAYS ? `at the recent burn rate the cycles last ${daysLeft.toFixed(1)} days; top up the canister`
    : null;
  return { balance, burnPerDay, daysLeft, warning, sinceNs: span >= MIN_SPAN_NS ? t0 : null };
}

/**
 * Records a sample (housekeeping). Returns the warning to put in the audit log, if there is one and
 * none was logged in the last day.
 */
export function sampleCycles(kv: KvStore, nowNs: bigint, balance: bigint): string | null {
  const report = cyclesReport(kv, nowNs, balance);
  const list = [...samples(kv), [nowNs, balance] as Sample].slice(-MAX_SAMPLES);
  kv.set('cycles/samples', encodeCbor(list));
  if (!report.warning) return null;
  const last = kv.get('cycles/warned');
  if (last && nowNs - big(decodeCbor(last)) < NS_PER_DAY) return null;
  kv.set('cycles/warned', encodeCbor(nowNs));
  return report.warning;
}

/** The report as the Candid `get_cycles` result. */
export function cyclesC(kv: KvStore, nowNs: bigint, balance: bigint): Result<'get_cycles'> {
  const r = cyclesReport(kv, nowNs, balance);
  return { balance: r.balance, burn_per_day: some(r.burnPerDay), days_left: some(r.daysLeft), warning: some(r.warning), sampled_since_ns: some(r.sinceNs) };
}
