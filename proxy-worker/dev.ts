// Runs the Worker locally with `wrangler dev` (real workerd, offline), as `npm start` and the
// tests do. Resolves once the Worker answers HTTP.
import { fileURLToPath } from 'node:url';
import { freePort, spawnChild, type Child } from '../scripts/stack/processes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerDevOptions {
  port: number;
  canisterUrl: string;
  bridgeUrls: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

export { freePort };

export interface WorkerDev {
  url: string;
  child: Child;
  stop(): Promise<void>;
}

export async function startWorkerDev(opts: WorkerDevOptions): Promise<WorkerDev> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child = spawnChild(
    'worker',
    process.execPath,
    [
      fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url)),
      'dev',
      '-c', 'proxy-worker/wrangler.toml',
      '--ip', '127.0.0.1',
      '--port', String(opts.port),
      '--inspector-port', String(await freePort()),
      '--var', `CANISTER_URL:${opts.canisterUrl}`,
      '--var', `BRIDGE_URLS:${opts.bridgeUrls}`,
      '--show-interactive-dev-session=false',
      '--log-level', 'warn',
    ],
    {
      cwd: root,
      // Offline: no metrics, and no fetch of Cloudflare's `Request.cf` sample (it fails without DNS
      // and prints a stack trace); the Worker does not read `request.cf`.
      env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true', NO_COLOR: '1' },
      log: (_name, line) => opts.log?.(line),
      graceMs: 5000,
    },
  );
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  while (Date.now() < deadline && !opts.signal?.aborted) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`wrangler dev exited (${child.process.exitCode ?? child.process.signalCode}) before the Worker answered`);
    }
    try {
      // The CORS preflight is answered by the Worker itself, so it proves the Worker is up
      // without touching the origins.
      const res = await fetch(`${url}/xrpc/_health`, { method: 'OPTIONS' });
      if (res.status === 204) return { url, child, stop: () => child.stop() };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await child.stop();
  throw new Error(opts.signal?.aborted ? 'start-up interrupted' : `wrangler dev did not answer on ${url} in time`);
}
