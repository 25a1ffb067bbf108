// The Worker on the account's custom domain: the firehose WebSocket goes to the bridge, the IC HTTP
// interface (/api/) to the IC for the web app's agent, everything else (XRPC, well-known files,
// blobs) to the canister's raw URL. The web app's files are static assets, served before this runs.
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

/** The web app's agent talks to the IC through the page's own origin: no CORS, one domain. */
type AppEnv = Env & { IC_API_URL?: string; II_DERIVATION_ORIGIN?: string; II_ALTERNATIVE_ORIGINS?: string };
const icApi = (env: AppEnv): URL => new URL(env.IC_API_URL || readOrigins(env).canister.origin);
const isLoopback = (url: URL): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

router.all('/api/*', (request: IRequest, env: AppEnv) => proxyHttp(request, icApi(env)));

/** What the web app needs to find its canister: its id and whether the IC is a local replica (root key). */
router.get('/app-config.json', (_request: IRequest, env: AppEnv) => {
  const canister = readOrigins(env).canister;
  const canisterId = canister.searchParams.get('canisterId') ?? canister.hostname.split('.')[0];
  const local = isLoopback(icApi(env));
  const derivationOrigin = env.II_DERIVATION_ORIGIN || undefined;
  return new Response(JSON.stringify({ canisterId, network: local ? 'local' : 'ic', derivationOrigin }), {
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
});

/** Internet Identity asks the derivation origin which other origins may sign in as it. */
router.get('/.well-known/ii-alternative-origins', (request: IRequest, env: AppEnv) => {
  const alternativeOrigins = (env.II_ALTERNATIVE_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (alternativeOrigins.length === 0) return proxyHttp(request, readOrigins(env).canister);
  return new Response(JSON.stringify({ alternativeOrigins }), {
    headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
  });
});

router.all('*', (request: IRequest, env: Env) => proxyHttp(request, readOrigins(env).canister));

export default { fetch: router.fetch };
