// The one shared poller: pages the canister's event log and hands each new event, in seq order, to the ring
// and to the broadcaster. Its interval adapts: `minMs` while events are flowing (and for `hotMs` after the last
// one), then growing by `growth` per empty poll up to `maxMs`. Failures back off exponentially; clients stay
// connected meanwhile.
import type { EventSource, SourceEvent } from './event-source.ts';
import { AFTER_EVERYTHING } from './event-source.ts';
import type { FrameRing } from './ring.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { Logger } from './log.ts';
import { backoffDelay, Sleeper } from './backoff.ts';

export type PollerOptions = {
  minMs: number;
  maxMs: number;
  hotMs: number;
  growth: number;
  errorMinMs: number;
  errorMaxMs: number;
  pageLimit: number;
  pageMaxBytes: number;
};

export class Poller {
  /** Last seq handed to listeners (everything up to it has been relayed). */
  lastSeq = 0;
  /** Last head the canister reported. */
  head = 0;
  oldest = 0;
  reachable = false;
  lastOkAt = 0;
  lastEventTimeNs = 0n;
  consecutiveErrors = 0;
  /** Current idle interval (exposed for tests and /_health). */
  interval: number;
  private initialized = false;
  private stopped = false;
  private lastActivityAt = 0;
  private sleeper = new Sleeper();
  private loop: Promise<void> | null = null;
  private readyResolve!: () => void;
  readonly ready: Promise<void>;

  constructor(
    private readonly source: EventSource,
    private readonly ring: FrameRing,
    private readonly opts: PollerOptions,
    private readonly onEvents: (events: SourceEvent[]) => void,
    private readonly onReset: (head: number) => void,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {
    this.interval = opts.minMs;
    this.ready = new Promise((r) => (this.readyResolve = r));
  }

  isReady(): boolean {
    return this.initialized;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    await this.loop;
  }

  /** Polls now instead of waiting out the current interval. */
  poke(): void {
    this.sleeper.wake();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay: number;
      try {
        delay = await this.pollOnce();
        if (this.consecutiveErrors > 0) this.log.info('event source reachable again', { afterErrors: this.consecutiveErrors });
        this.consecutiveErrors = 0;
      } catch (err) {
        this.consecutiveErrors++;
        this.reachable = false;
        this.metrics.reachable.set(0);
        this.metrics.pollErrors.inc();
        delay = backoffDelay(this.consecutiveErrors, this.opts.errorMinMs, this.opts.errorMaxMs);
        this.log.warn('event source poll failed', { error: String((err as Error)?.message ?? err), attempt: this.consecutiveErrors, retryInMs: delay });
      }
      if (this.stopped) break;
      if (delay > 0) await this.sleeper.sleep(delay);
    }
  }

  /** One get_events call; returns the delay before the next one. */
  private async pollOnce(): Promise<number> {
    const t0 = performance.now();
    const after = this.initialized ? this.lastSeq : AFTER_EVERYTHING;
    const page = await this.source.getEvents({ after, limit: this.opts.pageLimit, maxBytes: this.opts.pageMaxBytes });
    this.metrics.polls.inc();
    this.metrics.pollLatency.observe((performance.now() - t0) / 1000);
    this.reachable = true;
    this.lastOkAt = Date.now();
    this.metrics.reachable.set(1);
    this.head = page.head;
    this.oldest = page.oldest;
    this.metrics.headSeq.set(page.head);

    if (!this.initialized) {
      // Live-only start: nothing before the current head is relayed by the poller itself.
      this.initialized = true;
      this.lastSeq = page.head;
      this.ring.reset(page.head);
      this.updateLag();
      this.log.info('poller started', { head: page.head, oldest: page.oldest });
      this.readyResolve();
      return this.opts.minMs;
    }

    if (page.head < this.lastSeq) {
      // The log went backwards (state lost / reinstalled): nothing we relayed can be trusted to continue.
      this.log.error('event log head went backwards; resetting', { head: page.head, lastSeq: this.lastSeq });
      this.lastSeq = page.head;
      this.ring.reset(page.head);
      this.onReset(page.head);
      this.updateLag();
      return this.opts.minMs;
    }

    const fresh = page.events.filter((e) => e.seq > this.lastSeq);
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i].seq <= fresh[i - 1].seq) throw new Error('event source returned events out of order');
    }
    if (fresh.length > 0) {
      for (const e of fresh) this.ring.push(e);
      this.lastSeq = fresh[fresh.length - 1].seq;
      this.lastEventTimeNs = fresh[fresh.length - 1].timeNs;
      this.lastActivityAt = Date.now();
      this.metrics.lastSeq.set(this.lastSeq);
      this.metrics.ringEvents.set(this.ring.size());
      this.onEvents(fresh);
    }
    this.updateLag();

    if (fresh.length > 0 && this.lastSeq < page.head) return 0; // more pages waiting: keep draining
    if (fresh.length > 0 || Date.now() - this.lastActivityAt < this.opts.hotMs) {
      this.interval = this.opts.minMs;
    } else {
      this.interval = Math.min(this.opts.maxMs, Math.max(this.opts.minMs, this.interval * this.opts.growth));
    }
    return this.interval;
  }

  lagEvents(): number {
    return Math.max(0, this.head - this.lastSeq);
  }

  private updateLag(): void {
    this.metrics.lag.set(this.lagEvents());
    if (this.lastEventTimeNs > 0n) {
      this.metrics.lastEventAge.set(Math.max(0, Date.now() / 1000 - Number(this.lastEventTimeNs / 1_000_000n) / 1000));
    }
  }
}
