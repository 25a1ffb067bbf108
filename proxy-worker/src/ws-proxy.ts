// WebSocket relay to the bridge: frames both ways, close codes and reasons propagated.
// Bridges are tried in order so a second instance takes over when the first is down.
import { forwardedRequestHeaders } from './headers.ts';
import { upstreamUrl } from './config.ts';
import { xrpcError } from './errors.ts';

export async function proxyWebSocket(request: Request, bridges: URL[]): Promise<Response> {
  const url = new URL(request.url);
  const failures: string[] = [];
  for (const bridge of bridges) {
    const headers = forwardedRequestHeaders(request);
    headers.set('upgrade', 'websocket');
    let upstream: Response;
    try {
      upstream = await fetch(upstreamUrl(bridge, url).toString(), { headers });
    } catch (err) {
      failures.push(`${bridge.host}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const socket = upstream.webSocket;
    if (!socket) {
      failures.push(`${bridge.host}: answered ${upstream.status} without upgrading`);
      continue;
    }
    return relay(socket);
  }
  return xrpcError(502, 'UpstreamUnavailable', `no bridge accepted the subscription (${failures.join('; ')})`);
}

function relay(upstream: WebSocket): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  upstream.accept();
  server.accept();
  pipe(server, upstream);
  pipe(upstream, server);
  return new Response(null, { status: 101, webSocket: client });
}

function pipe(from: WebSocket, to: WebSocket): void {
  from.addEventListener('message', (event) => {
    try {
      to.send(event.data);
    } catch {
      closeQuietly(to, 1011, 'relay failed');
    }
  });
  from.addEventListener('close', (event) => closeQuietly(to, event.code, event.reason));
  from.addEventListener('error', () => closeQuietly(to, 1011, 'peer error'));
}

/** 1005/1006 mean "no code"/"abnormal" and may not be sent; anything else the peer sent is passed on. */
function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  try {
    if (code === 1005 || code === 1006) socket.close(1000, reason);
    else socket.close(code, reason);
  } catch {
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}
