// The replica in a child process of its own, driven over IPC with the same programmatic API (minus
// `engine`). Benchmarks use it so that work in the caller's process (an agent verifying certificates,
// subscribers, a reference server) does not stall the replica, as with a real replica; and so the
// replica's CPU can be profiled on its own (`execArgv: ['--cpu-prof']`).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Principal } from '@dfinity/principal';
import type { InstallMode, Replica, ReplicaOptions } from './index.ts';

export type ReplicaProcess = Omit<Replica, 'engine' | 'metricsText'> & {
  metricsText(): Promise<string>;
  pid: number;
};

type Request = { id: number; cmd: 'createCanister' | 'installCode' | 'advanceTime' | 'metricsText' | 'stop'; args: unknown[] };
type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string } | { log: string } | { ready: { url: string; rootKey: Uint8Array } };
type ChildOptions = Omit<ReplicaOptions, 'log' | 'instructionLimits'> & { log: boolean };

const ROLE = 'CANOPY_REPLICA_PROCESS';

export async function startReplicaProcess(
  opts: Omit<ReplicaOptions, 'instructionLimits'> & { execArgv?: string[] } = {}
): Promise<ReplicaProcess> {
  const { log, execArgv = [], ...rest } = opts;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, [ROLE]: JSON.stringify({ ...rest, log: Boolean(log) } satisfies ChildOptions) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const ready = new Promise<{ url: string; rootKey: Uint8Array }>((resolve, reject) => {
    child.on('message', (m: Response) => {
      if ('ready' in m) resolve(m.ready);
      else if ('log' in m) log?.(m.log);
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) p?.resolve(m.value);
        else p?.reject(new Error(m.error));
      }
    });
    child.once('exit', (code) => {
      exited = true;
      reject(new Error(`replica process exited (${code}) before it was ready`));
      for (const p of pending.values()) p.reject(new Error(`replica process exited (${code})`));
      pending.clear();
    });
  });
  const ask = (cmd: Request['cmd'], ...args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error('replica process has exited'));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args } satisfies Request);
    });
  let info: { url: string; rootKey: Uint8Array };
  try {
    info = await ready;
  } catch (e) {
    child.kill();
    throw e;
  }
  const url = info.url;
  return {
    url,
    rootKey: info.rootKey,
    pid: child.pid!,
    createCanister: async (o = {}) =>
      Principal.fromText(
        (await ask('createCanister', { controllers: o.controllers?.map((p) => p.toText()), cycles: o.cycles })) as string
      ),
    installCode: async (id, wasm, arg, mode: InstallMode) => void (await ask('installCode', id.toText(), wasm, arg, mode)),
    advanceTime: async (ms) => void (await ask('advanceTime', ms)),
    gatewayUrl(canisterId, path = '/') {
      const id = typeof canisterId === 'string' ? canisterId : canisterId.toText();
      const p = path.startsWith('/') ? path : `/${path}`;
      return `${url}${p}${p.includes('?') ? '&' : '?'}canisterId=${id}`;
    },
    metricsText: async () => (await ask('metricsText')) as string,
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      await ask('stop').catch(() => {});
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) child.kill('SIGKILL');
    }
  };
}

async function childMain(o: ChildOptions): Promise<void> {
  const { startReplica } = await import('./index.ts');
  const send = (m: Response) => process.send!(m);
  const replica = await startReplica({ ...o, log: o.log ? (line) => send({ log: line }) : undefined });
  process.on('message', async (m: Request) => {
    try {
      let value: unknown;
      if (m.cmd === 'createCanister') {
        const a = m.args[0] as { controllers?: string[]; cycles?: bigint };
        value = (await replica.createCanister({ controllers: a.controllers?.map((p) => Principal.fromText(p)), cycles: a.cycles })).toText();
      } else if (m.cmd === 'installCode') {
        const [id, wasm, arg, mode] = m.args as [string, Uint8Array, Uint8Array, InstallMode];
        await replica.installCode(Principal.fromText(id), wasm, arg, mode);
      } else if (m.cmd === 'advanceTime') await replica.advanceTime(m.args[0] as number);
      else if (m.cmd === 'metricsText') value = replica.metricsText();
      else if (m.cmd === 'stop') {
        await replica.stop();
        send({ id: m.id, ok: true, value: undefined });
        process.disconnect();
        return;
      }
      send({ id: m.id, ok: true, value });
    } catch (e) {
      send({ id: m.id, ok: false, error: (e as Error)?.message ?? String(e) });
    }
  });
  // the parent went away: nothing is left to serve
  process.on('disconnect', () => void replica.stop().then(() => process.exit(0)));
  send({ ready: { url: replica.url, rootKey: replica.rootKey } });
}

if (process.env[ROLE] && process.send) await childMain(JSON.parse(process.env[ROLE]) as ChildOptions);
