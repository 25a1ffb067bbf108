// HTTP side of the bridge: the subscribeRepos upgrade, /_health, /metrics, and XRPC-style errors elsewhere.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Hub } from './hub.ts';
import type { Poller } from './poller.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { Logger } from './log.ts';

export const SUBSCRIBE_PATH = '/xrpc/com.atproto.sync.subscribeRepos';

export type ServerDeps = { hub: Hub; poller: Poller; metrics: BridgeMetrics; log: Logger; maxConnections: number; startedAt: number };

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An XRPC JSON error written straight to a raw socket (refused upgrades, requests Node could not parse). */
function refuseOnSocket(socket: Duplex, status: number, error: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error, message });
  const head = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`, 'Connection: close', 'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`, ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)];
  socket.end(head.join('\r\n') + '\r\n\r\n' + body);
}

/** What the reference answers for a path nobody serves: 501 for an XRPC method, 404 elsewhere. */
function notServed(path: string): { status: number; error: string; message: string } {
  return path.startsWith('/xrpc/')
    ? { status: 501, error: 'MethodNotImplemented', message: `${path} is not served by the firehose bridge` }
    : { status: 404, error: 'NotFound', message: `no route at ${path}` };
}

/** A request Node's parser refused (oversized headers, malformed request line, timeouts). */
function clientErrorStatus(err: NodeJS.ErrnoException): { status: number; message: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'request headers too large' };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'request timed out' };
  return { status: 400, message: 'malformed HTTP request' };
}

/** The reference (xrpc-server) answers a wrong method with 400 InvalidRequest. */
const WRONG_METHOD = { status: 400, error: 'InvalidRequest', message: 'Incorrect HTTP method: subscribeRepos expects GET' };

/** `cursor` query parameter: absent, or a non-negative safe integer. */
export function parseCursor(url: URL): { ok: true; cursor: number | undefined } | { ok: false; message: string } {
  const all = url.searchParams.getAll('cursor');
  if (all.length === 0) return { ok: true, cursor: undefined };
  if (all.length > 1 || !/^\d+$/.test(all[0])) return { ok: false, message: 'cursor must be a non-negative integer' };
  const n = Number(all[0]);
  if (!Number.isSafeInteger(n)) return { ok: false, message: 'cursor out of range' };
  return { ok: true, cursor: n };
}

export function healthBody(deps: ServerDeps): { status: number; body: Record<string, unknown> } {
  const { poller, hub } = deps;
  const healthy = poller.reachable && poller.isReady();
  return {
    status: healthy ? 200 : 503,
    body: {
      status: healthy ? 'ok' : 'degraded',
      canisterReachable: poller.reachable,
      headSeq: poller.head,
      lastSeq: poller.lastSeq,
      lagEvents: poller.lagEvents(),
      lastPollOkAt: poller.lastOkAt ? new Date(poller.lastOkAt).toISOString() : null,
      consecutiveErrors: poller.consecutiveErrors,
      pollIntervalMs: poller.interval,
      connections: hub.size(),
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
    },
  };
}

export function createServer(deps: ServerDeps): { server: http.Server; wss: WebSocketServer } {
  const { hub, metrics, log } = deps;
  // maxPayload: clients have nothing to send us; keep their frames tiny.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bridge.invalid');
    if (url.pathname === '/_health') {
      const { status, body } = healthBody(deps);
      return sendJson(res, status, body, { 'cache-control': 'no-store' });
    }
    if (url.pathname === '/metrics') {
      const text = metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      return res.end(text);
    }
    if (url.pathname === SUBSCRIBE_PATH) {
      if (req.method !== 'GET') return sendJson(res, WRONG_METHOD.status, { error: WRONG_METHOD.error, message: WRONG_METHOD.message }, { allow: 'GET' });
      return sendJson(res, 426, { error: 'InvalidRequest', message: 'subscribeRepos is a WebSocket endpoint: connect with Upgrade: websocket' }, { upgrade: 'websocket' });
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(`Canopy firehose bridge. Subscribe at ${SUBSCRIBE_PATH}\n`);
    }
    const { status, error, message } = notServed(url.pathname);
    sendJson(res, status, { error, message });
  });

  // Node answers these with a bare status line and no body; answer XRPC JSON like every other error.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, message } = clientErrorStatus(err);
    refuseOnSocket(socket, status, 'InvalidRequest', message);
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://bridge.invalid');
    if (url.pathname !== SUBSCRIBE_PATH) {
      metrics.rejected.inc(1, { reason: 'path' });
      const { status, error, message } = notServed(url.pathname);
      return refuseOnSocket(socket, status, error, message);
    }
    if (req.method !== 'GET') {
      metrics.rejected.inc(1, { reason: 'method' });
      return refuseOnSocket(socket, WRONG_METHOD.status, WRONG_METHOD.error, WRONG_METHOD.message);
    }
    const parsed = parseCursor(url);
    if (!parsed.ok) {
      metrics.rejected.inc(1, { reason: 'bad_request' });
      return refuseOnSocket(socket, 400, 'InvalidRequest', parsed.message);
    }
    if (hub.size() >= deps.maxConnections) {
      metrics.rejected.inc(1, { reason: 'max_connections' });
      log.warn('connection refused: at max connections', { max: deps.maxConnections });
      // 503 NotEnoughResources, as @atproto/xrpc names that status.
      return refuseOnSocket(socket, 503, 'NotEnoughResources', 'too many connections', { 'Retry-After': '10' });
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      hub.add(ws, parsed.cursor, remote);
    });
  });

  return { server, wss };
}
