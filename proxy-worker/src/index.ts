// The Worker on the account's custom domain: the firehose WebSocket goes to the bridge,
// everything else (XRPC, well-known files, blobs) to the canister's raw URL.
import { Router, type IRequest } from 'itty-router';
import { readOrigins, type Env } from './config.ts';
import { preflight } from './cors.ts';
import { xrpcError } from './errors.ts';
import { proxyHttp } from './http-proxy.ts';
import { proxyWebSocket } from './ws-proxy.ts';

const SUBSCRIBE_REPOS = '/xrpc/com.atproto.sync.subscribeRepos';

const router = Router<IRequest, [Env]>({
  catch: (err: unknown) => xrpcError(500, 'InternalServerError', err instanceof Error ? err.message : String(err)),
});

router.options('*', (request: IRequest) => preflight(request));

router.get(SUBSCRIBE_REPOS, (request: IRequest, env: Env) => {
  if ((request.headers.get('upgrade') ?? '').toLowerCase() !== 'websocket') {
    return xrpcError(426, 'InvalidRequest', 'subscribeRepos is a WebSocket endpoint: connect with Upgrade: websocket');
  }
  return proxyWebSocket(request, readOrigins(env).bridges);
});

router.all('*', (request: IRequest, env: Env) => proxyHttp(request, readOrigins(env).canister));

export default { fetch: router.fetch };
