// Child processes of the local stack, each with its output line-prefixed into one log.
// Every child runs in its own process group: Ctrl-C reaches only `npm start`, which then stops the
// parts in order (Worker, bridge, replica), and stopping a part also stops what it spawned
// (wrangler's workerd). Children still running when this process exits are killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export type Log = (source: string, line: string) => void;

export interface Child {
  name: string;
  process: ChildProcess;
  /** Settles when the process has exited, with its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** True once stop() was called: an exit after that is expected. */
  readonly stopping: boolean;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

export interface SpawnOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  log: Log;
  /** Lines for which this returns false are not logged. */
  filter?: (line: string) => boolean;
  /** How long stop() waits after SIGTERM before SIGKILL (a replica flushes its state on SIGTERM). */
  graceMs?: number;
}

export function spawnChild(name: string, command: string, args: string[], opts: SpawnOptions): Child {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  const filter = opts.filter ?? (() => true);
  pipeLines(child, (line) => {
    if (filter(line)) opts.log(name, line);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      // The leader is gone; take down anything it left in its group.
      killGroup(child, 'SIGKILL');
      live.delete(child);
      resolve(code);
    });
    child.once('error', (err) => {
      opts.log(name, `could not start: ${err.message}`);
      live.delete(child);
      resolve(-1);
    });
  });
  let stopping = false;
  return {
    name,
    process: child,
    exited,
    get stopping() {
      return stopping;
    },
    async stop() {
      stopping = true;
      if (!live.has(child)) return;
      // The leader first, so it can stop its own children in order (wrangler reaps workerd);
      // whatever is left in the group is killed once the leader has exited.
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), opts.graceMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TypeScript entry point of this repository, run with the same Node and tsx. */
export function spawnNode(name: string, args: string[], opts: SpawnOptions): Child {
  return spawnChild(name, process.execPath, ['--import', 'tsx', ...args], opts);
}

export function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trimEnd();
        buf = buf.slice(i + 1);
        if (line) onLine(line);
      }
    });
    stream?.on('end', () => {
      if (buf.trim()) onLine(buf.trimEnd());
      buf = '';
    });
  }
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

export class PortInUseError extends Error {
  /** Which port of the stack (set by startStack), for messages naming the setting to change. */
  part?: string;
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(`port ${port} (${what}) is already in use on 127.0.0.1: stop whatever holds it (\`lsof -i :${port}\`) or choose another port`);
  }
}

/** Throws a clear one-line error when a port is taken (checked before anything starts). */
export async function ensurePortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, what) : new Error(`cannot listen on 127.0.0.1:${port} (${what}): ${err.message}`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

export class StackAborted extends Error {
  constructor() {
    super('start-up interrupted');
  }
}

/** Polls until `probe` resolves true, or fails with the child's exit, an abort, or a timeout. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { child?: Child; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (opts.signal?.aborted) throw new StackAborted();
    const proc = opts.child?.process;
    if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready; see its log above`);
    }
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
}
