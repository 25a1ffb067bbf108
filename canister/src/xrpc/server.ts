// The PDS's HTTP face: one pure function from (request, read model) to response, plus the streaming
// callback. Only GET/HEAD reads are served; nothing here writes, so no request is ever upgraded.
import type { Ctx } from './context.ts';
import { preflight, withCors } from './cors.ts';
import type { XrpcDeps } from './deps.ts';
import { XrpcError, errorResponse, invalidRequest } from './errors.ts';
import type { HttpRequest, HttpResponse, StreamingChunk, StreamingToken } from './http.ts';
import type { PdsReadModel } from './model.ts';
import { Params, parseTarget } from './params.ts';
import { PAGES, WRITES_CLOSED_MESSAGE, XRPC_QUERIES, isClosed } from './routes.ts';
import { continueStream } from './streaming.ts';
import { MAX_GET_BLOCKS_CIDS } from './handlers/sync.ts';

/** Nothing served takes a body; anything bigger than this is refused unread. */
export const MAX_BODY_BYTES = 256 * 1024;
/**
 * Long enough for the longest request served: getBlocks with MAX_GET_BLOCKS_CIDS cids, each `&cids=` plus
 * a CID string (59 characters for a sha-256 CIDv1 in base32; 96 leaves room for other hashes), plus the
 * path and DID.
 */
export const MAX_URL_LENGTH = MAX_GET_BLOCKS_CIDS * ('&cids='.length + 96) + 2048;

const READ_METHODS = new Set(['GET', 'HEAD']);

function requireRead(method: string): void {
  if (!READ_METHODS.has(method)) {
    // The reference answers 400 here (xrpc-server's InvalidRequest), not 405.
    throw new XrpcError('InvalidRequest', `Incorrect HTTP method (${method}) expected GET`, 400, [['Allow', 'GET, HEAD']]);
  }
}

function route(req: HttpRequest, method: string, model: PdsReadModel, deps: XrpcDeps): HttpResponse {
  if (req.url.length > MAX_URL_LENGTH) throw invalidRequest(`request URL longer than ${MAX_URL_LENGTH} characters`);
  if (req.body.length > MAX_BODY_BYTES) {
    throw new XrpcError('PayloadTooLarge', `request body of ${req.body.length} bytes exceeds ${MAX_BODY_BYTES}`);
  }
  const { path, query } = parseTarget(req.url);
  const ctx: Ctx = { req, model, deps, params: new Params(query, deps) };
  if (path.startsWith('/xrpc/')) {
    const nsid = path.slice('/xrpc/'.length);
    if (nsid !== '_health' && !deps.isValidNsid(nsid)) throw invalidRequest('invalid xrpc path');
    if (isClosed(nsid)) {
      // The reference names a request without credentials AuthMissing (401).
      throw new XrpcError('AuthMissing', WRITES_CLOSED_MESSAGE, 401, [['WWW-Authenticate', 'Bearer realm="canopy"']]);
    }
    const handler = XRPC_QUERIES[nsid];
    if (!handler || !Object.prototype.hasOwnProperty.call(XRPC_QUERIES, nsid)) {
      throw new XrpcError('MethodNotImplemented', `Method not implemented: ${nsid}`);
    }
    requireRead(method);
    return handler(ctx);
  }
  const page = Object.prototype.hasOwnProperty.call(PAGES, path) ? PAGES[path] : undefined;
  if (!page) throw new XrpcError('NotFound', `Not found: ${path.slice(0, 200)}`);
  requireRead(method);
  return page(ctx);
}

export function createXrpc(deps: XrpcDeps) {
  return {
    handleHttp(req: HttpRequest, model: PdsReadModel): HttpResponse {
      const method = req.method.toUpperCase();
      if (method === 'OPTIONS') return preflight(req);
      let res: HttpResponse;
      try {
        res = route(req, method, model, deps);
      } catch (err) {
        // Unexpected failures get a generic 500 (no internals leak); the canister still answers.
        res = errorResponse(err instanceof XrpcError ? err : new XrpcError('InternalServerError', 'Internal Server Error', 500));
      }
      if (method === 'HEAD') res = { status_code: res.status_code, headers: res.headers, body: new Uint8Array(0) };
      return withCors(res);
    },

    /** Throws StreamingTokenError when the token cannot be honoured (the canister rejects the callback). */
    handleStreamingCallback(token: StreamingToken, model: PdsReadModel): StreamingChunk {
      return continueStream(token, model, deps);
    },
  };
}
