// Every open subscribeRepos connection: cursor replay, the switch to live, broadcast with a per-connection
// buffered-bytes budget, keepalive and closing. All frames are the canister's bytes, sent unchanged.
import type { WebSocket } from 'ws';
import type { EventSource, EventsPage, SourceEvent } from './event-source.ts';
import type { FrameRing } from './ring.ts';
import type { Poller } from './poller.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { Logger } from './log.ts';
import { errorFrame, infoFrame } from './frames.ts';
import { backoffDelay } from './backoff.ts';

export type HubOptions = {
  /** A live client whose unsent bytes would exceed this is cut off with ConsumerTooSlow. */
  bufferBudgetBytes: number;
  /** During replay, paging pauses while this many bytes are unsent (replay is paced, never cut off for it). */
  replayHighWaterBytes: number;
  pageLimit: number;
  pageMaxBytes: number;
  errorMinMs: number;
  errorMaxMs: number;
  /** After close() a peer that does not finish the closing handshake in time is terminated. */
  closeTimeoutMs: number;
};

/** WebSocket close codes used by the bridge. */
export const CloseCode = { Normal: 1000, GoingAway: 1001, Policy: 1008, InternalError: 1011 } as const;

type Sub = {
  id: number;
  ws: WebSocket;
  remote: string;
  /** Seq of the last event frame sent (or the position the client asked to start after). */
  lastSent: number;
  live: boolean;
  alive: boolean;
  closing: boolean;
  closed: Promise<void>;
};

export class Hub {
  private readonly subs = new Set<Sub>();
  private readonly live = new Set<Sub>();
  private nextId = 1;
  private lastPresentAt = Date.now();

  constructor(
    private readonly source: EventSource,
    private readonly ring: FrameRing,
    private readonly poller: Poller,
    private readonly opts: HubOptions,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  size(): number {
    return this.subs.size;
  }

  /** Last time at least one subscriber was connected (now, if one is). */
  lastSubscriberAt(): number {
    return this.subs.size > 0 ? Date.now() : this.lastPresentAt;
  }

  add(ws: WebSocket, cursor: number | undefined, remote: string): void {
    let onClosed!: () => void;
    const sub: Sub = {
      id: this.nextId++, ws, remote, lastSent: 0, live: false, alive: true, closing: false,
      closed: new Promise<void>((r) => (onClosed = r)),
    };
    this.subs.add(sub);
    this.metrics.connections.set(this.subs.size);
    this.metrics.connectionsTotal.inc();
    this.log.info('subscriber connected', { sub: sub.id, remote, cursor: cursor ?? null, connections: this.subs.size });
    ws.on('pong', () => (sub.alive = true));
    ws.on('message', () => {}); // the spec says servers ignore client frames
    ws.on('error', (err) => this.log.debug('subscriber socket error', { sub: sub.id, error: err.message }));
    ws.on('close', (code) => {
      sub.closing = true;
      this.subs.delete(sub);
      this.live.delete(sub);
      this.lastPresentAt = Date.now();
      this.metrics.connections.set(this.subs.size);
      this.log.info('subscriber disconnected', { sub: sub.id, code, lastSent: sub.lastSent, connections: this.subs.size });
      onClosed();
    });
    const start = cursor === undefined ? this.startLive(sub) : this.replay(sub, cursor);
    start.catch((err) => {
      this.log.error('subscriber setup failed', { sub: sub.id, error: String(err?.message ?? err) });
      this.close(sub, CloseCode.InternalError, 'internal error');
    });
  }

  /** Relays freshly polled events to every live subscriber. */
  broadcast(events: SourceEvent[]): void {
    for (const sub of this.live) {
      for (const e of events) {
        if (e.seq <= sub.lastSent) continue;
        const buffered = sub.ws.bufferedAmount;
        if (buffered > 0 && buffered + e.frame.length > this.opts.bufferBudgetBytes) {
          this.tooSlow(sub, buffered);
          break;
        }
        this.send(sub, e);
      }
    }
  }

  /** Drops peers that did not answer the previous ping; pings the rest. */
  keepalive(): void {
    for (const sub of this.subs) {
      if (!sub.alive) {
        this.metrics.deadPeers.inc();
        this.log.info('dropping unresponsive subscriber', { sub: sub.id });
        sub.ws.terminate();
        continue;
      }
      sub.alive = false;
      try {
        sub.ws.ping();
      } catch {
        /* socket already closing */
      }
    }
  }

  /** The log was reset under us: every position clients hold is meaningless now. */
  resetAll(): void {
    for (const sub of this.subs) this.close(sub, CloseCode.InternalError, 'event log reset');
  }

  /** Closes every connection with `code`, waiting up to `graceMs` before terminating stragglers. */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    const subs = [...this.subs];
    for (const sub of subs) this.close(sub, code, reason);
    const timeout = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(subs.map((s) => s.closed)), timeout]);
    for (const sub of this.subs) sub.ws.terminate();
  }

  private send(sub: Sub, e: SourceEvent, onWritten?: () => void): void {
    sub.ws.send(e.frame, onWritten);
    sub.lastSent = e.seq;
    this.metrics.framesSent.inc();
    this.metrics.bytesSent.inc(e.frame.length);
  }

  private async startLive(sub: Sub): Promise<void> {
    if (!(await this.untilReady(sub))) return;
    sub.lastSent = this.poller.lastSeq;
    this.goLive(sub);
  }

  private goLive(sub: Sub): void {
    if (sub.closing) return;
    sub.live = true;
    this.live.add(sub);
  }

  private async replay(sub: Sub, cursor: number): Promise<void> {
    if (!(await this.untilReady(sub))) return;
    let pending: EventsPage | null = null;
    if (cursor > 0 && this.ring.covers(cursor)) {
      this.metrics.replays.inc(1, { kind: 'ring' });
      sub.lastSent = cursor;
    } else {
      const first = await this.fetch(sub, cursor);
      if (!first) return;
      if (cursor > first.head) {
        this.log.info('future cursor', { sub: sub.id, cursor, head: first.head });
        this.sendError(sub, 'FutureCursor', `Cursor ${cursor} is ahead of the stream head ${first.head}`);
        return;
      }
      // Seqs start at 1, so events were dropped before the window only when its first retained seq is past
      // cursor + 1. cursor=0 on a log that never pruned replays everything with no #info (the spec's
      // OutdatedCursor means "events you asked for are gone").
      const firstRetained = first.oldest > 0 ? first.oldest : first.head + 1;
      if (cursor + 1 < firstRetained) {
        this.metrics.replays.inc(1, { kind: 'outdated' });
        this.sendFrame(sub, infoFrame('OutdatedCursor', 'Requested cursor exceeded limit. Possibly missing events'));
        sub.lastSent = firstRetained - 1;
      } else {
        this.metrics.replays.inc(1, { kind: 'source' });
        sub.lastSent = cursor;
      }
      pending = first;
    }

    while (!sub.closing) {
      if (sub.lastSent >= this.poller.lastSeq) return this.goLive(sub);
      let batch: SourceEvent[];
      let origin: 'ring' | 'source';
      if (this.ring.covers(sub.lastSent)) {
        batch = this.ring.slice(sub.lastSent, this.opts.pageLimit);
        origin = 'ring';
      } else {
        const page: EventsPage | null = pending ?? (await this.fetch(sub, sub.lastSent));
        pending = null;
        if (!page || sub.closing) return;
        if (sub.lastSent + 1 < page.oldest) {
          // The retention window moved past this client while it was replaying.
          this.tooSlow(sub, sub.ws.bufferedAmount);
          return;
        }
        batch = page.events;
        origin = 'source';
        if (batch.length === 0 || batch[batch.length - 1].seq <= sub.lastSent) return this.goLive(sub);
      }
      const fresh = batch.filter((e) => e.seq > sub.lastSent);
      // The last frame's write callback tells when the kernel has taken everything queued so far.
      let written: Promise<void> | null = null;
      fresh.forEach((e, i) => {
        if (i < fresh.length - 1) return this.send(sub, e);
        written = new Promise<void>((r) => this.send(sub, e, () => r()));
      });
      this.metrics.replayedFrames.inc(fresh.length, { origin });
      if (written && sub.ws.bufferedAmount > this.opts.replayHighWaterBytes) await Promise.race([written, sub.closed]);
    }
  }

  private async untilReady(sub: Sub): Promise<boolean> {
    await Promise.race([this.poller.ready, sub.closed]);
    return !sub.closing;
  }

  /** get_events for one replaying client, retried with backoff while the client stays connected. */
  private async fetch(sub: Sub, after: number): Promise<EventsPage | null> {
    for (let attempt = 1; !sub.closing; attempt++) {
      try {
        return await this.source.getEvents({ after, limit: this.opts.pageLimit, maxBytes: this.opts.pageMaxBytes });
      } catch (err) {
        this.metrics.pollErrors.inc();
        const delay = backoffDelay(attempt, this.opts.errorMinMs, this.opts.errorMaxMs);
        this.log.warn('replay fetch failed', { sub: sub.id, after, attempt, retryInMs: delay, error: String((err as Error)?.message ?? err) });
        await Promise.race([new Promise((r) => setTimeout(r, delay).unref()), sub.closed]);
      }
    }
    return null;
  }

  private sendFrame(sub: Sub, frame: Uint8Array): void {
    sub.ws.send(frame);
    this.metrics.framesSent.inc();
    this.metrics.bytesSent.inc(frame.length);
  }

  private sendError(sub: Sub, error: string, message: string): void {
    if (sub.closing) return;
    this.sendFrame(sub, errorFrame(error, message));
    this.close(sub, CloseCode.Policy, error);
  }

  private tooSlow(sub: Sub, buffered: number): void {
    this.metrics.slowDrops.inc();
    this.log.warn('subscriber too slow; dropping', { sub: sub.id, bufferedBytes: buffered, lastSent: sub.lastSent });
    this.live.delete(sub);
    this.sendError(sub, 'ConsumerTooSlow', 'Stream consumer too slow');
  }

  private close(sub: Sub, code: number, reason: string): void {
    if (sub.closing) return;
    sub.closing = true;
    this.live.delete(sub);
    try {
      sub.ws.close(code, reason);
    } catch {
      sub.ws.terminate();
    }
    setTimeout(() => sub.ws.terminate(), this.opts.closeTimeoutMs).unref();
  }
}
