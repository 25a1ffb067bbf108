// The sequenced event log the bridge pages through (contracts.md section 3). Each event is kept
// as its ready-to-send frame bytes with the time it was sequenced; seqs start at 1, only grow,
// and are never reused. Events are keyed by seq, so a page is a run of direct lookups.
import type { KvStore } from '../storage/kv.ts';

export interface RetentionPolicy {
  /** Always keep at least this many of the newest events. */
  minEvents: number;
  /** Always keep events younger than this. */
  minAgeNs: bigint;
}

export const DEFAULT_RETENTION: RetentionPolicy = { minEvents: 10_000, minAgeNs: 72n * 3600n * 1_000_000_000n };

export interface StoredEvent {
  seq: bigint;
  timeNs: bigint;
  frame: Uint8Array;
}

export interface EventsPage {
  events: StoredEvent[];
  head: bigint;
  oldest: bigint;
}

/** Bounds work per append so a burst of old events never makes one message expensive. */
const PRUNE_PER_CALL = 64;

const eventKey = (seq: bigint) => `e/${seq.toString().padStart(20, '0')}`;

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

function readU64(bytes: Uint8Array, offset: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset);
}

export function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

export class EventLog {
  constructor(
    private kv: KvStore,
    private retention: () => RetentionPolicy = () => DEFAULT_RETENTION,
  ) {}

  /** Last assigned seq (0 if none). */
  head(): bigint {
    const v = this.kv.get('head');
    return v ? readU64(v, 0) : 0n;
  }

  /** Smallest retained seq (0 if none). */
  oldest(): bigint {
    const v = this.kv.get('oldest');
    return v ? readU64(v, 0) : 0n;
  }

  /**
   * Sequences one event. `build` receives the seq and the ISO time to embed in the frame
   * (the frame must carry them, so it is built here, not by the caller).
   */
  append(nowNs: bigint, build: (seq: bigint, time: string) => Uint8Array): bigint {
    const seq = this.head() + 1n;
    const frame = build(seq, nsToIso(nowNs));
    const value = new Uint8Array(8 + frame.length);
    value.set(u64(nowNs), 0);
    value.set(frame, 8);
    this.kv.set(eventKey(seq), value);
    this.kv.set('head', u64(seq));
    if (this.oldest() === 0n) this.kv.set('oldest', u64(seq));
    this.prune(nowNs);
    return seq;
  }

  get(seq: bigint): StoredEvent | undefined {
    const v = this.kv.get(eventKey(seq));
    if (!v) return undefined;
    return { seq, timeNs: readU64(v, 0), frame: v.subarray(8) };
  }

  /**
   * Events with seq > after, in order, at most `limit`, stopping before `maxBytes` of frames
   * would be exceeded — but always at least one event if any exists.
   */
  page(after: bigint, limit: number, maxBytes: number): EventsPage {
    const head = this.head();
    const oldest = this.oldest();
    const events: StoredEvent[] = [];
    let bytes = 0;
    let seq = after + 1n;
    if (oldest > 0n && seq < oldest) seq = oldest;
    for (; seq <= head && events.length < limit; seq++) {
      const ev = this.get(seq);
      if (!ev) continue; // cannot happen below head once retained; tolerate anyway
      if (events.length > 0 && bytes + ev.frame.length > maxBytes) break;
      bytes += ev.frame.length;
      events.push(ev);
    }
    return { events, head, oldest };
  }

  /**
   * Drops the oldest events that are both outside the newest `minEvents` and older than
   * `minAgeNs` (so whichever rule keeps more wins). Bounded per call; returns how many it dropped.
   */
  prune(nowNs: bigint, maxDrops = PRUNE_PER_CALL): number {
    const { minEvents, minAgeNs } = this.retention();
    const head = this.head();
    let oldest = this.oldest();
    if (oldest === 0n) return 0;
    let dropped = 0;
    while (dropped < maxDrops && oldest <= head && head - oldest + 1n > BigInt(minEvents)) {
      const ev = this.get(oldest);
      if (ev && nowNs - ev.timeNs < minAgeNs) break;
      this.kv.delete(eventKey(oldest));
      oldest++;
      dropped++;
    }
    if (dropped > 0) this.kv.set('oldest', u64(oldest));
    return dropped;
  }
}
