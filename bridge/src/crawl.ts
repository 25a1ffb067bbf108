// Announces this host to relays with com.atproto.sync.requestCrawl: on start, every `intervalMs`, and again
// whenever no subscriber (i.e. no relay) has been connected for `relayIdleMs` (self-heal after a relay forgot us).
import { request } from 'undici';
import type { BridgeMetrics } from './metrics.ts';
import type { Logger } from './log.ts';

export type CrawlOptions = {
  relays: string[];
  hostname: string;
  intervalMs: number;
  relayIdleMs: number;
  timeoutMs: number;
};

export type CrawlOutcome = { relay: string; ok: boolean; status?: number; error?: string; ms: number };

export class CrawlRequester {
  private timers: NodeJS.Timeout[] = [];
  private lastIdleRequestAt = Date.now();
  private inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly opts: CrawlOptions,
    private readonly lastSubscriberAt: () => number,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.opts.relays.length === 0) return;
    this.track(this.requestAll('start'));
    this.timers.push(setInterval(() => this.track(this.requestAll('periodic')), this.opts.intervalMs).unref());
    const checkEvery = Math.max(50, Math.min(60_000, Math.floor(this.opts.relayIdleMs / 4)));
    this.timers.push(setInterval(() => this.checkIdle(), checkEvery).unref());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.inflight]);
  }

  private checkIdle(): void {
    const now = Date.now();
    const quietSince = Math.max(this.lastSubscriberAt(), this.lastIdleRequestAt);
    if (now - quietSince < this.opts.relayIdleMs) return;
    this.lastIdleRequestAt = now;
    this.log.warn('no relay subscribed recently; re-requesting crawl', { idleMs: now - this.lastSubscriberAt() });
    this.track(this.requestAll('idle'));
  }

  private track<T>(p: Promise<T>): void {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => {});
  }

  requestAll(reason: string): Promise<CrawlOutcome[]> {
    return Promise.all(this.opts.relays.map((relay) => this.requestOne(relay, reason)));
  }

  private async requestOne(relay: string, reason: string): Promise<CrawlOutcome> {
    const t0 = Date.now();
    const url = new URL('/xrpc/com.atproto.sync.requestCrawl', relay).toString();
    let outcome: CrawlOutcome;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: this.opts.hostname }),
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      const text = (await res.body.text()).slice(0, 300);
      outcome = { relay, ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, ms: Date.now() - t0 };
      if (!outcome.ok) outcome.error = text;
    } catch (err) {
      outcome = { relay, ok: false, error: String((err as Error)?.message ?? err), ms: Date.now() - t0 };
    }
    this.metrics.crawlRequests.inc(1, { relay, result: outcome.ok ? 'ok' : 'error' });
    const fields = { reason, hostname: this.opts.hostname, ...outcome };
    if (outcome.ok) this.log.info('requestCrawl accepted', fields);
    else this.log.warn('requestCrawl failed', fields);
    return outcome;
  }
}
