// The replica's HTTP server: /api/v2|v3 → IC interface, /_/metrics → Prometheus text, anything
// addressed to a canister (Host `<id>.localhost` / `<id>.raw.localhost`, or `?canisterId=`) → gateway.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IcApi, textReply, type HttpReply } from './ic-api.ts';
import { Gateway, GatewayError, canisterFromHost, stripCanisterIdParam, rawHeaderPairs, MAX_GATEWAY_REQUEST_BODY } from './gateway.ts';
import type { Metrics } from './metrics.ts';

/** The IC replica's limit on HTTP request bodies for the API endpoints. */
export const MAX_API_REQUEST_BODY = 5 * 1024 * 1024;

export interface HttpServerDeps {
  api: IcApi;
  gateway: Gateway;
  metrics: Metrics;
  log: (line: string) => void;
}

export class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`Request body larger than ${limit} bytes`));
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
    req.on('error', reject);
  });
}

// CORS as the IC's boundary nodes answer it, so a web app on another origin (a dev server, a canister's
// <id>.localhost) can call the API with @dfinity/agent: every answer allows any origin and exposes the
// headers below; a preflight (OPTIONS) is answered 200 with the methods of that endpoint, the request
// headers browsers and agents send, and a max age of two hours.
const CORS_ANSWER = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Accept-Ranges,Content-Length,Content-Range,X-Request-Id,X-Ic-Canister-Id'
};
const CORS_PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers':
    'DNT,User-Agent,X-Requested-With,If-None-Match,If-Modified-Since,Cache-Control,Content-Type,Range,Cookie,X-Ic-Canister-Id',
  'access-control-max-age': '7200'
};
const STATUS_PATH = '/api/v2/status';

/** the methods an API path accepts: status is read with GET (and HEAD), the other endpoints take POST */
function apiMethods(path: string): string {
  return path === STATUS_PATH ? 'HEAD, GET' : 'POST';
}

/** XRPC error names of the reference PDS (@atproto/xrpc ResponseType) for the statuses the replica answers with */
const XRPC_ERROR_NAMES: Record<number, string> = {
  400: 'InvalidRequest',
  404: 'NotFound',
  405: 'InvalidRequest',
  413: 'PayloadTooLarge',
  500: 'InternalServerError',
  502: 'UpstreamFailure',
  503: 'NotEnoughResources',
  504: 'UpstreamTimeout'
};

/**
 * The replica's own error for a request: XRPC JSON `{error, message}` when it was for an /xrpc/ path (what
 * clients of a PDS expect), plain text otherwise.
 */
export function errorReply(status: number, message: string, path: string): HttpReply {
  if (!path.startsWith('/xrpc/')) return textReply(status, message);
  const error = XRPC_ERROR_NAMES[status] ?? (status < 500 ? 'InvalidRequest' : 'InternalServerError');
  return { status, contentType: 'application/json; charset=utf-8', body: new TextEncoder().encode(JSON.stringify({ error, message })) };
}

function reply(res: ServerResponse, r: HttpReply, cors = false): void {
  res.writeHead(r.status, { 'content-type': r.contentType, 'content-length': String(r.body.length), ...(cors ? CORS_ANSWER : {}) });
  res.end(r.body);
}

const API_PATH = /^\/api\/(v2|v3)\/(canister|subnet)\/([^/]+)\/(query|call|read_state)$/;

export function createReplicaServer(d: HttpServerDeps): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    d.metrics.countHttpRequest();
    const url = req.url ?? '/';
    if (path.startsWith('/api/')) {
      if (req.method === 'OPTIONS') {
        res.writeHead(200, { ...CORS_PREFLIGHT, 'access-control-allow-methods': apiMethods(path), 'content-length': '0' });
        res.end();
        return;
      }
      if (path === STATUS_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, textReply(405, `${path} only accepts GET`), true);
        return reply(res, d.api.status(), true);
      }
      const m = API_PATH.exec(path);
      if (!m) return reply(res, textReply(404, `Unknown API endpoint ${path}`), true);
      if (req.method !== 'POST') return reply(res, textReply(405, `${path} only accepts POST`), true);
      const body = await readBody(req, MAX_API_REQUEST_BODY);
      return reply(res, await d.api.handle(m[1]!, m[2]!, m[3]!, m[4]!, body), true);
    }
    const stripped = stripCanisterIdParam(url);
    const canister = canisterFromHost(req.headers.host) ?? stripped.canisterId;
    if (!canister) {
      if (path === '/_/metrics') {
        return reply(res, { status: 200, contentType: 'text/plain; version=0.0.4', body: new TextEncoder().encode(d.metrics.render()) });
      }
      return reply(
        res,
        errorReply(400, 'Could not find a canister id to forward to: use Host <canister-id>.localhost or ?canisterId=<canister-id>', path)
      );
    }
    const body = await readBody(req, MAX_GATEWAY_REQUEST_BODY);
    await d.gateway.serve(
      canister,
      { method: req.method ?? 'GET', url: stripped.url, headers: rawHeaderPairs(req), body },
      res
    );
  };

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    handle(req, res, path).catch((err: unknown) => {
      const status = err instanceof GatewayError ? err.status : err instanceof BodyTooLarge ? 413 : 500;
      if (status === 500) d.log(`http error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      reply(res, errorReply(status, (err as Error)?.message ?? String(err), path), path.startsWith('/api/'));
    });
  });
}

export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use (is another replica or dfx running?); pick another with --port`)
          : err
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
