// CORS as the reference PDS sends it (express `cors` middleware with a one-day preflight max-age):
// every response allows any origin; an OPTIONS preflight answers 204 with the allowed methods, the
// requested headers reflected back, and Access-Control-Max-Age.
import { headerValue, type HttpRequest, type HttpResponse } from './http.ts';

const ALLOWED_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';
const PREFLIGHT_MAX_AGE_SECONDS = '86400';

export function withCors(res: HttpResponse): HttpResponse {
  return { ...res, headers: [['Access-Control-Allow-Origin', '*'], ...res.headers] };
}

export function preflight(req: HttpRequest): HttpResponse {
  const headers: [string, string][] = [
    ['Access-Control-Allow-Origin', '*'],
    ['Access-Control-Allow-Methods', ALLOWED_METHODS],
  ];
  const requested = headerValue(req, 'access-control-request-headers');
  if (requested !== undefined) {
    headers.push(['Access-Control-Allow-Headers', requested], ['Vary', 'Access-Control-Request-Headers']);
  }
  headers.push(['Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS], ['Content-Length', '0']);
  return { status_code: 204, headers, body: new Uint8Array(0) };
}
