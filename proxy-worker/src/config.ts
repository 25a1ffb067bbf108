// Origins come from wrangler vars/secrets. CANISTER_URL may carry query parameters
// (the local replica is addressed as http://127.0.0.1:4943/?canisterId=<id>); they are
// merged into every forwarded URL.

export interface Env {
  /** e.g. https://<canister-id>.raw.icp0.io, or http://127.0.0.1:4943/?canisterId=<id> locally */
  CANISTER_URL: string;
  /** One bridge URL or several, comma-separated, tried in order (failover). */
  BRIDGE_URLS: string;
}

export interface Origins {
  canister: URL;
  bridges: URL[];
}

export function readOrigins(env: Env): Origins {
  if (!env.CANISTER_URL) throw new Error('CANISTER_URL is not configured');
  const bridges = (env.BRIDGE_URLS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => new URL(s.replace(/^ws/, 'http')));
  if (bridges.length === 0) throw new Error('BRIDGE_URLS is not configured');
  return { canister: new URL(env.CANISTER_URL), bridges };
}

/** The request's path and query re-rooted on an origin, keeping the origin's own query params. */
export function upstreamUrl(origin: URL, requestUrl: URL): URL {
  const target = new URL(origin.toString());
  const basePath = origin.pathname.replace(/\/$/, '');
  target.pathname = basePath + requestUrl.pathname;
  // Raw string join: re-serializing through URLSearchParams would re-encode the client's query.
  target.search = [origin.search.slice(1), requestUrl.search.slice(1)].filter(Boolean).join('&');
  return target;
}
