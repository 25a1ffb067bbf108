// Programmatic entry: startBridge(config) wires source → poller → ring/hub → WebSocket server, plus keepalive,
// crawl requests and graceful shutdown. Used by main.ts, the tests and the local stack.
import type { AddressInfo } from 'node:net';
import { DEFAULTS, isLoopbackUrl, validateConfig, type BridgeConfig } from './config.ts';
import type { EventSource } from './event-source.ts';
import { AgentEventSource } from './agent-source.ts';
import { FrameRing } from './ring.ts';
import { Poller } from './poller.ts';
import { Hub, CloseCode } from './hub.ts';
import { BridgeMetrics } from './metrics.ts';
import { createLogger, type Logger } from './log.ts';
import { CrawlRequester } from './crawl.ts';
import { createServer, SUBSCRIBE_PATH } from './server.ts';

export type { BridgeConfig } from './config.ts';
export type { EventSource, SourceEvent, EventsPage } from './event-source.ts';
export { MemoryEventSource } from './memory-source.ts';
export { AgentEventSource } from './agent-source.ts';
export { SUBSCRIBE_PATH } from './server.ts';

export type StartOptions = Partial<BridgeConfig> & {
  /** Use this source instead of an agent-backed one (tests, benchmarks). */
  source?: EventSource;
  /** Where JSON log lines go (default stderr). */
  logSink?: (line: string) => void;
};

export type RunningBridge = {
  /** ws:// base URL (the `service` a firehose client connects to). */
  url: string;
  /** http:// base URL (/_health, /metrics). */
  httpUrl: string;
  port: number;
  metrics: BridgeMetrics;
  poller: Poller;
  hub: Hub;
  crawl: CrawlRequester;
  log: Logger;
  close(): Promise<void>;
};

export async function startBridge(options: StartOptions = {}): Promise<RunningBridge> {
  const { source: givenSource, logSink, ...rest } = options;
  const cfg = validateConfig({ ...DEFAULTS, ...rest });
  const log = createLogger(cfg.logLevel, logSink);
  const metrics = new BridgeMetrics();

  let source = givenSource;
  if (!source) {
    if (!cfg.canisterId) throw new Error('canisterId (BRIDGE_CANISTER_ID) is required');
    source = new AgentEventSource({
      host: cfg.icHost,
      canisterId: cfg.canisterId,
      fetchRootKey: cfg.fetchRootKey === 'auto' ? isLoopbackUrl(cfg.icHost) : cfg.fetchRootKey,
      verifyQuerySignatures: cfg.verifyQuerySignatures,
    });
  }

  const ring = new FrameRing(cfg.ringMaxEvents, cfg.ringMaxBytes);
  let hub!: Hub;
  const poller = new Poller(source, ring, {
    minMs: cfg.pollMinMs, maxMs: cfg.pollMaxMs, hotMs: cfg.pollHotMs, growth: cfg.pollGrowth,
    errorMinMs: cfg.errorBackoffMinMs, errorMaxMs: cfg.errorBackoffMaxMs, pageLimit: cfg.pageLimit, pageMaxBytes: cfg.pageMaxBytes,
  }, (events) => hub.broadcast(events), () => hub.resetAll(), metrics, log);
  hub = new Hub(source, ring, poller, {
    bufferBudgetBytes: cfg.bufferBudgetBytes, replayHighWaterBytes: cfg.replayHighWaterBytes, pageLimit: cfg.pageLimit,
    pageMaxBytes: cfg.pageMaxBytes, errorMinMs: cfg.errorBackoffMinMs, errorMaxMs: cfg.errorBackoffMaxMs,
    closeTimeoutMs: cfg.shutdownGraceMs,
  }, metrics, log);

  const startedAt = Date.now();
  const { server, wss } = createServer({ hub, poller, metrics, log, maxConnections: cfg.maxConnections, startedAt });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host;

  poller.start();
  const keepalive = setInterval(() => hub.keepalive(), cfg.pingIntervalMs);
  keepalive.unref();
  const crawl = new CrawlRequester({
    relays: cfg.relays, hostname: cfg.publicHostname, intervalMs: cfg.crawlIntervalMs,
    relayIdleMs: cfg.relayIdleMs, timeoutMs: cfg.crawlTimeoutMs,
  }, () => hub.lastSubscriberAt(), metrics, log);
  crawl.start();
  log.info('bridge listening', { host: cfg.host, port, path: SUBSCRIBE_PATH, canisterId: cfg.canisterId || null, relays: cfg.relays });

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      log.info('bridge shutting down', { connections: hub.size() });
      clearInterval(keepalive);
      // Stop taking connections first, then stop polling, then say goodbye to clients with 1001.
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      await crawl.stop();
      await poller.stop();
      await hub.closeAll(CloseCode.GoingAway, 'bridge shutting down', cfg.shutdownGraceMs);
      wss.close();
      server.closeAllConnections();
      await serverClosed;
      log.info('bridge stopped');
    })());

  return { url: `ws://${hostPart}:${port}`, httpUrl: `http://${hostPart}:${port}`, port, metrics, poller, hub, crawl, log, close };
}
