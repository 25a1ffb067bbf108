// In-memory EventSource with the same paging semantics as the canister's get_events: used by unit tests and
// by the benchmark when no canister is available. Failure and latency can be injected.
import type { EventSource, EventsPage, EventsRequest, SourceEvent, SourceStatus } from './event-source.ts';

export class MemoryEventSource implements EventSource {
  private events: SourceEvent[] = [];
  private head = 0;
  /** When set, every call rejects with this error (simulates the canister or network being down). */
  failure: Error | null = null;
  /** Artificial latency per call, in ms. */
  latencyMs = 0;
  calls = 0;

  constructor(private readonly did = 'did:web:example.test') {}

  /** Appends one event; `build` receives the assigned seq and returns the frame bytes. */
  append(build: (seq: number) => Uint8Array, timeNs: bigint = BigInt(Date.now()) * 1_000_000n): SourceEvent {
    const seq = ++this.head;
    const ev = { seq, timeNs, frame: build(seq) };
    this.events.push(ev);
    return ev;
  }

  /** Drops retained events with seq < oldest (the log's retention window moving on). */
  trimBefore(oldest: number): void {
    this.events = this.events.filter((e) => e.seq >= oldest);
  }

  headSeq(): number {
    return this.head;
  }

  async getEvents(req: EventsRequest): Promise<EventsPage> {
    await this.enter();
    const out: SourceEvent[] = [];
    let bytes = 0;
    for (let i = firstAfter(this.events, req.after); i < this.events.length; i++) {
      const e = this.events[i];
      if (out.length >= req.limit) break;
      if (out.length > 0 && bytes + e.frame.length > req.maxBytes) break;
      out.push(e);
      bytes += e.frame.length;
    }
    return { events: out, head: this.head, oldest: this.events.length ? this.events[0].seq : 0 };
  }

  async getStatus(): Promise<SourceStatus> {
    await this.enter();
    return { did: this.did, handle: 'example.test', headSeq: this.head, active: true };
  }

  private async enter(): Promise<void> {
    this.calls++;
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.failure) throw this.failure;
  }
}

/** Index of the first event with seq > after (events are sorted by seq). */
export function firstAfter(events: readonly { seq: number }[], after: number, from = 0): number {
  let lo = from;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
