// Plain HTTP forwarding to the canister: method, path, query, headers and body pass through;
// bodies stream both ways (a CAR or blob is never buffered whole here).
import { forwardedRequestHeaders, endToEndHeaders } from './headers.ts';
import { upstreamUrl } from './config.ts';
import { fromUpstreamPage, xrpcError } from './errors.ts';

export async function proxyHttp(request: Request, origin: URL): Promise<Response> {
  const url = new URL(request.url);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  let upstream: Response;
  try {
    upstream = await fetch(upstreamUrl(origin, url).toString(), {
      method: request.method,
      headers: forwardedRequestHeaders(request),
      body: hasBody ? request.body : undefined,
      redirect: 'manual',
    });
  } catch (err) {
    return upstreamDown(origin, err);
  }
  if (isEdgeErrorPage(upstream)) {
    await upstream.body?.cancel();
    return fromUpstreamPage(upstream.status, origin.host);
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: endToEndHeaders(upstream.headers),
  });
}

export function upstreamDown(origin: URL, err: unknown): Response {
  const reason = err instanceof Error ? err.message : String(err);
  return xrpcError(502, 'UpstreamUnavailable', `upstream ${origin.host} is unreachable: ${reason}`);
}

/** Errors of the gateway in front of the canister come back as HTML or text; the canister's own errors are JSON. */
function isEdgeErrorPage(res: Response): boolean {
  const type = res.headers.get('content-type') ?? '';
  return res.status >= 400 && !type.includes('json');
}
