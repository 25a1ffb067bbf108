// Bridge configuration: defaults, overridden by BRIDGE_* environment variables, overridden by --flags.
// One table drives parsing and the reference in bridge/README.md.
import type { LogLevel } from './log.ts';

export type BridgeConfig = {
  host: string;
  port: number;
  icHost: string;
  canisterId: string;
  fetchRootKey: boolean | 'auto';
  verifyQuerySignatures: boolean;
  pollMinMs: number;
  pollMaxMs: number;
  pollHotMs: number;
  pollGrowth: number;
  errorBackoffMinMs: number;
  errorBackoffMaxMs: number;
  pageLimit: number;
  pageMaxBytes: number;
  ringMaxEvents: number;
  ringMaxBytes: number;
  maxConnections: number;
  bufferBudgetBytes: number;
  replayHighWaterBytes: number;
  pingIntervalMs: number;
  shutdownGraceMs: number;
  publicHostname: string;
  relays: string[];
  crawlIntervalMs: number;
  relayIdleMs: number;
  crawlTimeoutMs: number;
  logLevel: LogLevel;
};

type Kind = 'string' | 'int' | 'float' | 'bool' | 'bool|auto' | 'list' | 'level';
type Option = { key: keyof BridgeConfig; env: string; flag: string; kind: Kind; doc: string };

export const OPTIONS: Option[] = [
  { key: 'host', env: 'BRIDGE_HOST', flag: '--host', kind: 'string', doc: 'Interface to listen on' },
  { key: 'port', env: 'BRIDGE_PORT', flag: '--port', kind: 'int', doc: 'TCP port (0 = any free port)' },
  { key: 'icHost', env: 'BRIDGE_IC_HOST', flag: '--ic-host', kind: 'string', doc: 'IC HTTP endpoint (replica URL locally)' },
  { key: 'canisterId', env: 'BRIDGE_CANISTER_ID', flag: '--canister-id', kind: 'string', doc: 'Canopy canister id (required)' },
  { key: 'fetchRootKey', env: 'BRIDGE_FETCH_ROOT_KEY', flag: '--fetch-root-key', kind: 'bool|auto', doc: 'Fetch the replica root key; auto = only for loopback hosts' },
  { key: 'verifyQuerySignatures', env: 'BRIDGE_VERIFY_QUERY_SIGNATURES', flag: '--verify-query-signatures', kind: 'bool', doc: 'Verify node signatures on query replies' },
  { key: 'pollMinMs', env: 'BRIDGE_POLL_MIN_MS', flag: '--poll-min-ms', kind: 'int', doc: 'Poll interval while events flow' },
  { key: 'pollMaxMs', env: 'BRIDGE_POLL_MAX_MS', flag: '--poll-max-ms', kind: 'int', doc: 'Longest poll interval when idle' },
  { key: 'pollHotMs', env: 'BRIDGE_POLL_HOT_MS', flag: '--poll-hot-ms', kind: 'int', doc: 'Stay at the minimum interval this long after the last event' },
  { key: 'pollGrowth', env: 'BRIDGE_POLL_GROWTH', flag: '--poll-growth', kind: 'float', doc: 'Interval multiplier per empty poll once idle' },
  { key: 'errorBackoffMinMs', env: 'BRIDGE_ERROR_BACKOFF_MIN_MS', flag: '--error-backoff-min-ms', kind: 'int', doc: 'First retry delay after a failed canister call' },
  { key: 'errorBackoffMaxMs', env: 'BRIDGE_ERROR_BACKOFF_MAX_MS', flag: '--error-backoff-max-ms', kind: 'int', doc: 'Retry delay ceiling' },
  { key: 'pageLimit', env: 'BRIDGE_PAGE_LIMIT', flag: '--page-limit', kind: 'int', doc: 'get_events limit per call' },
  { key: 'pageMaxBytes', env: 'BRIDGE_PAGE_MAX_BYTES', flag: '--page-max-bytes', kind: 'int', doc: 'get_events max_bytes per call' },
  { key: 'ringMaxEvents', env: 'BRIDGE_RING_MAX_EVENTS', flag: '--ring-max-events', kind: 'int', doc: 'Recent frames kept in memory for replay' },
  { key: 'ringMaxBytes', env: 'BRIDGE_RING_MAX_BYTES', flag: '--ring-max-bytes', kind: 'int', doc: 'Byte cap of the replay ring' },
  { key: 'maxConnections', env: 'BRIDGE_MAX_CONNECTIONS', flag: '--max-connections', kind: 'int', doc: 'Further upgrades get HTTP 503' },
  { key: 'bufferBudgetBytes', env: 'BRIDGE_BUFFER_BUDGET_BYTES', flag: '--buffer-budget-bytes', kind: 'int', doc: 'Unsent bytes per live client before ConsumerTooSlow' },
  { key: 'replayHighWaterBytes', env: 'BRIDGE_REPLAY_HIGH_WATER_BYTES', flag: '--replay-high-water-bytes', kind: 'int', doc: 'Replay pauses while this many bytes are unsent' },
  { key: 'pingIntervalMs', env: 'BRIDGE_PING_INTERVAL_MS', flag: '--ping-interval-ms', kind: 'int', doc: 'Keepalive ping period; a peer missing one pong is dropped' },
  { key: 'shutdownGraceMs', env: 'BRIDGE_SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms', kind: 'int', doc: 'Wait for clients to close (code 1001) before terminating' },
  { key: 'publicHostname', env: 'BRIDGE_PUBLIC_HOSTNAME', flag: '--public-hostname', kind: 'string', doc: 'Hostname sent in requestCrawl (the PDS hostname relays connect to)' },
  { key: 'relays', env: 'BRIDGE_RELAYS', flag: '--relays', kind: 'list', doc: 'Comma-separated relay base URLs to send requestCrawl to' },
  { key: 'crawlIntervalMs', env: 'BRIDGE_CRAWL_INTERVAL_MS', flag: '--crawl-interval-ms', kind: 'int', doc: 'Periodic requestCrawl' },
  { key: 'relayIdleMs', env: 'BRIDGE_RELAY_IDLE_MS', flag: '--relay-idle-ms', kind: 'int', doc: 'Re-request a crawl when no subscriber has been connected this long' },
  { key: 'crawlTimeoutMs', env: 'BRIDGE_CRAWL_TIMEOUT_MS', flag: '--crawl-timeout-ms', kind: 'int', doc: 'Timeout of one requestCrawl call' },
  { key: 'logLevel', env: 'BRIDGE_LOG_LEVEL', flag: '--log-level', kind: 'level', doc: 'debug | info | warn | error | silent' },
];

export const DEFAULTS: BridgeConfig = {
  host: '127.0.0.1',
  port: 2583,
  icHost: 'https://icp-api.io',
  canisterId: '',
  fetchRootKey: 'auto',
  verifyQuerySignatures: true,
  pollMinMs: 50,
  pollMaxMs: 250,
  pollHotMs: 5000,
  pollGrowth: 1.5,
  errorBackoffMinMs: 250,
  errorBackoffMaxMs: 10_000,
  pageLimit: 500,
  pageMaxBytes: 1_500_000,
  ringMaxEvents: 10_000,
  ringMaxBytes: 64 * 1024 * 1024,
  maxConnections: 2000,
  bufferBudgetBytes: 8 * 1024 * 1024,
  replayHighWaterBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
  shutdownGraceMs: 2000,
  publicHostname: '',
  relays: [],
  crawlIntervalMs: 6 * 3600_000,
  relayIdleMs: 30 * 60_000,
  crawlTimeoutMs: 10_000,
  logLevel: 'info',
};

function parseValue(opt: Option, raw: string): unknown {
  const fail = () => {
    throw new Error(`invalid value for ${opt.flag} / ${opt.env}: ${JSON.stringify(raw)}`);
  };
  switch (opt.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw)) fail();
      return Number(raw);
    }
    case 'float': {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) fail();
      return n;
    }
    case 'bool':
    case 'bool|auto':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      if (opt.kind === 'bool|auto' && raw === 'auto') return 'auto';
      return fail();
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'level':
      if (!['debug', 'info', 'warn', 'error', 'silent'].includes(raw)) fail();
      return raw;
  }
}

/** Builds the config from env vars then argv flags (`--name value` or `--name=value`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): BridgeConfig {
  const cfg: Record<string, unknown> = { ...DEFAULTS };
  for (const opt of OPTIONS) {
    const v = env[opt.env];
    if (v !== undefined && v !== '') cfg[opt.key] = parseValue(opt, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const opt = OPTIONS.find((o) => o.flag === flag);
    if (!opt) throw new Error(`unknown flag ${flag}`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new Error(`missing value for ${flag}`);
    cfg[opt.key] = parseValue(opt, raw);
  }
  return validateConfig(cfg as BridgeConfig);
}

export function validateConfig(cfg: BridgeConfig): BridgeConfig {
  if (cfg.pollMinMs < 1 || cfg.pollMaxMs < cfg.pollMinMs) throw new Error('need 1 <= pollMinMs <= pollMaxMs');
  if (cfg.errorBackoffMaxMs < cfg.errorBackoffMinMs) throw new Error('need errorBackoffMinMs <= errorBackoffMaxMs');
  if (cfg.pageLimit < 1 || cfg.pageMaxBytes < 1) throw new Error('pageLimit and pageMaxBytes must be positive');
  if (cfg.maxConnections < 1) throw new Error('maxConnections must be positive');
  if (cfg.relays.length > 0 && !cfg.publicHostname) throw new Error('BRIDGE_PUBLIC_HOSTNAME is required when BRIDGE_RELAYS is set');
  for (const r of cfg.relays) {
    const u = new URL(r); // throws on garbage
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`relay must be an http(s) URL: ${r}`);
  }
  return cfg;
}

export function isLoopbackUrl(url: string): boolean {
  const h = new URL(url).hostname;
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h.endsWith('.localhost');
}
