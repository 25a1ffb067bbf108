import { ensurer, type Ensure } from './error.ts';

// TID: 64-bit integer (top bit 0, 53 bits of microseconds since the epoch, 10 bits of clock id) in
// base32-sortable, always 13 characters.
const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const MAX_MICROS = 2 ** 53 - 1;

export function tidProblem(tid: string): string | null {
  return TID_RE.test(tid) ? null : `invalid TID: ${JSON.stringify(tid.slice(0, 300))}`;
}
export const isValidTid = (tid: string): boolean => tidProblem(tid) === null;
export const ensureValidTid: Ensure = ensurer(tidProblem);

export function tidFromTime(micros: number, clockId: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError('TID timestamp must be a non-negative safe integer');
  if (!Number.isInteger(clockId) || clockId < 0 || clockId > 1023) throw new RangeError('TID clock id must be 0..1023');
  let n = (BigInt(micros) << 10n) | BigInt(clockId);
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = ALPHABET[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}

function tidValue(tid: string): bigint {
  ensureValidTid(tid);
  let n = 0n;
  for (const ch of tid) n = (n << 5n) | BigInt(ALPHABET.indexOf(ch));
  return n;
}

/** Microseconds since the Unix epoch encoded in a TID. */
export const tidTimestamp = (tid: string): number => Number(tidValue(tid) >> 10n);
export const tidClockId = (tid: string): number => Number(tidValue(tid) & 1023n);

export type TidClockState = { lastMicros: number; clockId: number };

/**
 * Issues TIDs that strictly increase even if the wall clock stalls or steps back: each TID uses
 * max(now, last + 1) microseconds. The state is two small integers so the canister can persist it.
 */
export class TidClock {
  #lastMicros: number;
  readonly clockId: number;

  constructor(state: TidClockState = { lastMicros: 0, clockId: 0 }) {
    if (!Number.isSafeInteger(state.lastMicros) || state.lastMicros < 0) throw new RangeError('invalid lastMicros');
    if (!Number.isInteger(state.clockId) || state.clockId < 0 || state.clockId > 1023) throw new RangeError('invalid clockId');
    this.#lastMicros = state.lastMicros;
    this.clockId = state.clockId;
  }

  next(nowMicros: number | bigint): string {
    const now = Number(nowMicros);
    const micros = Math.max(Math.floor(now), this.#lastMicros + 1);
    if (micros > MAX_MICROS) throw new RangeError('TID clock overflow');
    this.#lastMicros = micros;
    return tidFromTime(micros, this.clockId);
  }

  /** Never issue a TID at or below `tid` (e.g. the current repo rev after a restore). */
  observe(tid: string): void {
    this.#lastMicros = Math.max(this.#lastMicros, tidTimestamp(tid));
  }

  state(): TidClockState {
    return { lastMicros: this.#lastMicros, clockId: this.clockId };
  }
}
