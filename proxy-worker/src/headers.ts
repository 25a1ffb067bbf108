// Header rules for a transparent reverse proxy (RFC 9110 §7.6.1 hop-by-hop headers).

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Copy headers minus hop-by-hop ones, including any the Connection header names. */
export function endToEndHeaders(source: Headers): Headers {
  const out = new Headers(source);
  const named = (source.get('connection') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...named]) out.delete(name);
  return out;
}

/** Headers for the upstream request: end-to-end headers plus X-Forwarded-*. */
export function forwardedRequestHeaders(request: Request): Headers {
  const url = new URL(request.url);
  const headers = endToEndHeaders(request.headers);
  // Cloudflare puts the client address in CF-Connecting-IP; keep any chain a client proxy built.
  const client = request.headers.get('cf-connecting-ip');
  const prior = request.headers.get('x-forwarded-for');
  const chain = [prior, client].filter(Boolean).join(', ');
  if (chain) headers.set('x-forwarded-for', chain);
  headers.set('x-forwarded-host', request.headers.get('host') ?? url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
  // The origin's own host comes from the upstream URL, never from the client.
  headers.delete('host');
  return headers;
}
