// Recent frames kept in memory so reconnecting clients replay without a canister round trip.
// The ring is contiguous: it holds every event with seq in (coversAfter, lastSeq] that the poller saw.
import type { SourceEvent } from './event-source.ts';
import { firstAfter } from './memory-source.ts';

export class FrameRing {
  private items: SourceEvent[] = [];
  private start = 0;
  private bytes = 0;
  /** Every event with seq > coversAfter (up to lastSeq) is in the ring. */
  coversAfter = 0;
  lastSeq = 0;

  constructor(private readonly maxEvents: number, private readonly maxBytes: number) {}

  /** Empties the ring, positioned right after `seq` (nothing older is known). */
  reset(seq: number): void {
    this.items = [];
    this.start = 0;
    this.bytes = 0;
    this.coversAfter = seq;
    this.lastSeq = seq;
  }

  push(ev: SourceEvent): void {
    if (ev.seq <= this.lastSeq) throw new Error(`ring: seq ${ev.seq} not after ${this.lastSeq}`);
    this.items.push(ev);
    this.bytes += ev.frame.length;
    this.lastSeq = ev.seq;
    while (this.size() > this.maxEvents || (this.bytes > this.maxBytes && this.size() > 1)) {
      const old = this.items[this.start++];
      this.bytes -= old.frame.length;
      this.coversAfter = old.seq;
    }
    // Compact lazily so eviction stays O(1) amortized.
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  size(): number {
    return this.items.length - this.start;
  }

  byteSize(): number {
    return this.bytes;
  }

  /** True if the ring alone can supply every event after `after`. */
  covers(after: number): boolean {
    return after >= this.coversAfter && after <= this.lastSeq;
  }

  /** Up to `max` events with seq > after, in order. Only meaningful when covers(after). */
  slice(after: number, max: number): SourceEvent[] {
    const i = firstAfter(this.items, after, this.start);
    return this.items.slice(i, i + max);
  }
}
