// Prometheus text exposition, hand-rolled: a handful of counters, gauges and one histogram.
type Labels = Record<string, string>;

function labelKey(labels?: Labels): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Family {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge') {}
  inc(by = 1, labels?: Labels): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(v: number, labels?: Labels): void {
    this.values.set(labelKey(labels), v);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

class Histogram {
  private counts: number[];
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class BridgeMetrics {
  readonly connections = new Family('bridge_connections', 'Open subscribeRepos connections', 'gauge');
  readonly connectionsTotal = new Family('bridge_connections_total', 'Accepted subscribeRepos connections', 'counter');
  readonly rejected = new Family('bridge_connections_rejected_total', 'Upgrades refused, by reason', 'counter');
  readonly framesSent = new Family('bridge_frames_sent_total', 'Frames written to clients', 'counter');
  readonly bytesSent = new Family('bridge_bytes_sent_total', 'Frame bytes written to clients', 'counter');
  readonly replays = new Family('bridge_replays_total', 'Cursor replays started, by kind', 'counter');
  readonly replayedFrames = new Family('bridge_replayed_frames_total', 'Frames sent during replays, by origin', 'counter');
  readonly slowDrops = new Family('bridge_slow_consumer_drops_total', 'Clients cut off with ConsumerTooSlow', 'counter');
  readonly deadPeers = new Family('bridge_dead_peers_total', 'Clients dropped for not answering pings', 'counter');
  readonly polls = new Family('bridge_polls_total', 'get_events calls made by the shared poller', 'counter');
  readonly pollErrors = new Family('bridge_poll_errors_total', 'Failed event source calls', 'counter');
  readonly pollLatency = new Histogram('bridge_poll_duration_seconds', 'Latency of event source calls',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  readonly headSeq = new Family('bridge_canister_head_seq', 'Last seq the canister reported', 'gauge');
  readonly lastSeq = new Family('bridge_last_seq', 'Last seq the bridge relayed', 'gauge');
  readonly lag = new Family('bridge_lag_events', 'Events the canister has that the bridge has not relayed yet', 'gauge');
  readonly lastEventAge = new Family('bridge_last_event_age_seconds', 'Now minus the canister time of the last relayed event', 'gauge');
  readonly reachable = new Family('bridge_canister_reachable', '1 if the last event source call succeeded', 'gauge');
  readonly ringEvents = new Family('bridge_ring_events', 'Events held in the replay ring', 'gauge');
  readonly crawlRequests = new Family('bridge_crawl_requests_total', 'requestCrawl calls, by relay and outcome', 'counter');

  render(): string {
    const rss = new Family('process_resident_memory_bytes', 'Resident set size', 'gauge');
    rss.set(process.memoryUsage.rss());
    const all = [this.connections, this.connectionsTotal, this.rejected, this.framesSent, this.bytesSent, this.replays,
      this.replayedFrames, this.slowDrops, this.deadPeers, this.polls, this.pollErrors, this.pollLatency, this.headSeq,
      this.lastSeq, this.lag, this.lastEventAge, this.reachable, this.ringEvents, this.crawlRequests, rss];
    return all.map((f) => f.render()).join('\n') + '\n';
  }
}
