// CORS as the reference PDS answers it (the `cors` middleware with maxAge one day):
// any origin, the usual methods, requested headers reflected.

export const CORS_HEADERS: Record<string, string> = { 'access-control-allow-origin': '*' };

const ALLOWED_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';
const MAX_AGE_SECONDS = '86400';

export function preflight(request: Request): Response {
  const headers = new Headers({
    ...CORS_HEADERS,
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-max-age': MAX_AGE_SECONDS,
    vary: 'Access-Control-Request-Headers',
    'content-length': '0',
  });
  const requested = request.headers.get('access-control-request-headers');
  if (requested) headers.set('access-control-allow-headers', requested);
  return new Response(null, { status: 204, headers });
}
