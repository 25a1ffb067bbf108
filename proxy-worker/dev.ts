// Runs the Worker locally with `wrangler dev` (real workerd, offline), as `npm start` and the
// tests do. Resolves once the Worker answers HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerDevOptions {
  port: number;
  canisterUrl: string;
  bridgeUrls: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface WorkerDev {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startWorkerDev(opts: WorkerDevOptions): Promise<WorkerDev> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child = spawn(
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
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  forwardLines(child, opts.log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      // The CORS preflight is answered by the Worker itself, so it proves the Worker is up
      // without touching the origins.
      const res = await fetch(`${url}/xrpc/_health`, { method: 'OPTIONS' });
      if (res.status === 204) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url} in time`);
}

function forwardLines(child: ChildProcess, log?: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trimEnd();
        buf = buf.slice(i + 1);
        if (line) log?.(line);
      }
    });
  }
}
