// XRPC-shaped error responses, so clients never see an HTML or plain-text error page from the edge.
import { CORS_HEADERS } from './cors.ts';

export function xrpcError(status: number, error: string, message: string): Response {
  return new Response(JSON.stringify({ error, message }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...CORS_HEADERS },
  });
}

/** Error names by status, as @atproto/xrpc names them (ResponseType), for errors that arrive without one. */
const NAME_BY_STATUS: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'InvalidRequest',
  406: 'NotAcceptable',
  408: 'UpstreamTimeout',
  413: 'PayloadTooLarge',
  414: 'InvalidRequest',
  415: 'UnsupportedMediaType',
  429: 'RateLimitExceeded',
  431: 'InvalidRequest',
  500: 'InternalServerError',
  501: 'MethodNotImplemented',
};

/**
 * An error the gateway in front of the canister produced as a non-JSON page (the canister itself answers
 * every error as XRPC JSON): the same status and an XRPC name for client errors (e.g. 413 PayloadTooLarge
 * for a body over the gateway's limit); a gateway that failed or timed out (502–504) is 502 UpstreamFailure.
 */
export function fromUpstreamPage(status: number, host: string): Response {
  if (status >= 502 && status <= 504) return xrpcError(502, 'UpstreamFailure', `upstream ${host} answered ${status}`);
  const name = NAME_BY_STATUS[status] ?? (status >= 500 ? 'InternalServerError' : 'InvalidRequest');
  return xrpcError(status, name, `upstream ${host} refused the request (${status})`);
}
