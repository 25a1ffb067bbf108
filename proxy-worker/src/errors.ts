// XRPC-shaped error responses, so clients never see an HTML error page from the edge.
import { CORS_HEADERS } from './cors.ts';

export function xrpcError(status: number, error: string, message: string): Response {
  return new Response(JSON.stringify({ error, message }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...CORS_HEADERS },
  });
}
