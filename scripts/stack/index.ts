// The whole local stack, as `npm start` runs it and the full-stack test drives it:
// replica (real canister wasm) → Canopy and its steward, controlling each other; code changes by
// an upgrade proposal the founding member makes and votes → bridge → Worker (wrangler dev).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { IDL } from '@dfinity/candid';
import { idlFactory, InitArgs, type CanopyService, type InitArgsC, type StatusC } from '../../canister/src/api/interface.ts';
import { repoRoot } from '../build-canister.ts';
import { startWorkerDev } from '../../proxy-worker/dev.ts';
import { canisterWasmPath } from './build.ts';
import { deployStack } from './upgrade-by-vote.ts';
import { ensurePortFree, PortInUseError, spawnNode, StackAborted, waitUntil, type Child, type Log } from './processes.ts';
import { startPlcDirectory, type PlcDirectory } from './plc-directory.ts';
import { replayPlcLog } from './plc-replay.ts';

export interface StackPorts {
  replica: number;
  pds: number;
  bridge: number;
}

export interface StackOptions {
  /** Where the replica keeps canisters and the stack remembers its canister id (`.canopy/`). */
  stateDir: string;
  ports: StackPorts;
  /** Deployer (until the canisters control each other), founding member and `app.bsky.feed.post` delegate of the dev DAO. */
  identity: Identity;
  handle?: string;
  /** did:web (default) or did:plc against `plcUrl`, else a PLC directory the stack runs in memory on `plcPort`. */
  didMethod?: 'web' | 'plc';
  plcUrl?: string;
  plcPort?: number;
  log: Log;
  /** Aborting stops whatever has started and makes startStack reject with StackAborted. */
  signal?: AbortSignal;
}

export interface RunningStack {
  pdsUrl: string;
  replicaUrl: string;
  bridgeUrl: string;
  canisterId: string;
  stewardId: string;
  did: string;
  handle: string;
  /** The PLC directory (did:plc only). */
  plcUrl: string | null;
  /** Resolves with a message if a part exits on its own (not through stop()). */
  crashed: Promise<string>;
  /** Stops the Worker, the bridge, then the replica (which saves its state). Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_PORTS: StackPorts = { replica: 4943, pds: 2583, bridge: 2584 };
export const DEFAULT_PLC_PORT = 2582;
/** How a port is named in messages (PortInUseError.what). */
export const PORT_ROLES: Record<keyof StackPorts, string> = { replica: 'replica', pds: 'PDS / Worker', bridge: 'bridge' };
export { PortInUseError, StackAborted };

/** What `.canopy/stack.json` remembers between starts. */
interface StackState {
  canisterId?: string;
  /** the steward: the only controller of the Canopy canister (`canopy verify --target steward` reads it) */
  stewardId?: string;
  /** The did:web names this port: a restart on another port would serve a DID that is not its own. */
  pdsPort?: number;
  didMethod?: 'web' | 'plc';
  /** The directory the canister was installed with (its init argument), and whether the stack runs it. */
  plcUrl?: string;
  plcInMemory?: boolean;
}

/** Init arguments of the dev DAO: one member who passes proposals alone and may post directly. */
export function devInitArgs(member: Principal, pdsPort: number, handle: string, plcUrl?: string): InitArgsC {
  const host = `localhost:${pdsPort}`;
  return {
    ecdsa_key_name: 'dfx_test_key',
    did_method: plcUrl ? { plc: { plc_url: plcUrl } } : { web: { hostname: host } },
    handle,
    pds_url: `http://${host}`,
    governance: {
      members: [{ principal: member.toText(), power: 1n }],
      rules: { voting_period_ns: 24n * 3600n * 1_000_000_000n, quorum_bps: 5000, threshold_bps: 5000 },
      delegates: [
        {
          principal: member.toText(),
          scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }, { delete: null }], writes_per_day: 1000, expires_at_ns: [] },
        },
      ],
    },
    event_retention: [],
    blob_max_bytes: [],
    blob_grace_ns: [],
  };
}

/** The reason of an agent error (its "Reject text" line when the canister or replica refused). */
function rejectReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reject = /Reject text: (.*)/.exec(message);
  return (reject ? reject[1] : message.split('\n')[0]).trim();
}

/** The replica logs every message; the bridge's poll and successful reads would drown the rest. */
function replicaLogFilter(line: string): boolean {
  if (/\] query \S+ \S+ ok /.test(line)) return false; // [exec] successful queries (the [http] line remains)
  if (/ get_events (ok|from) /.test(line)) return false; // the bridge's poll
  return true;
}

export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const { ports, log, signal } = opts;
  const handle = opts.handle ?? 'canopy.test';
  for (const part of ['replica', 'pds', 'bridge'] as const) {
    await ensurePortFree(ports[part], PORT_ROLES[part]).catch((err: unknown) => {
      if (err instanceof PortInUseError) err.part = part;
      throw err;
    });
  }
  mkdirSync(opts.stateDir, { recursive: true });
  const statePath = join(opts.stateDir, 'stack.json');
  const state: StackState = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
  const didMethod = opts.didMethod ?? 'web';
  if (state.canisterId && (state.didMethod ?? 'web') !== didMethod) {
    throw new Error(`${opts.stateDir} holds a did:${state.didMethod ?? 'web'} account: start it with CANOPY_DID_METHOD=${state.didMethod ?? 'web'}, or choose another CANOPY_STATE_DIR`);
  }
  if (state.canisterId && didMethod === 'web' && state.pdsPort !== undefined && state.pdsPort !== ports.pds) {
    throw new Error(
      `${opts.stateDir} holds an account whose DID is did:web:localhost%3A${state.pdsPort}: start it on PDS port ${state.pdsPort} ` +
        `(CANOPY_PDS_PORT=${state.pdsPort}) or remove ${opts.stateDir} to start over`,
    );
  }

  // Stopped newest first. Calls chain, so a part started while a stop was under way (start-up
  // interrupted) is stopped too.
  const parts: Child[] = [];
  let stopping = Promise.resolve();
  const stop = () =>
    (stopping = stopping.then(async () => {
      for (let part = parts.pop(); part; part = parts.pop()) await part.stop().catch(() => undefined);
    }));
  let reportCrash: (message: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => (reportCrash = resolve));
  const watch = (part: Child) => {
    parts.push(part);
    void part.exited.then((code) => {
      if (!part.stopping) reportCrash(`${part.name} exited unexpectedly (${code ?? part.process.signalCode})`);
    });
  };
  let directory: PlcDirectory | undefined;
  const stopAll = async () => {
    await stop();
    await directory?.close().catch(() => undefined);
    directory = undefined;
  };
  const onAbort = () => void stopAll();
  signal?.addEventListener('abort', onAbort);
  try {
    // did:plc: the directory the canister was installed with, else CANOPY_PLC_URL, else one run here in memory.
    let plcUrl: string | null = null;
    if (didMethod === 'plc') {
      const external = opts.plcUrl ?? (state.plcInMemory === false ? state.plcUrl : undefined);
      if (external) {
        plcUrl = external;
      } else {
        const port = state.plcUrl ? Number(new URL(state.plcUrl).port) : (opts.plcPort ?? DEFAULT_PLC_PORT);
        await ensurePortFree(port, 'PLC directory');
        directory = await startPlcDirectory({ port });
        plcUrl = directory.url;
        log('plc', `PLC directory (in memory) at ${plcUrl}`);
      }
      if (state.plcUrl && state.plcUrl !== plcUrl) {
        throw new Error(`${opts.stateDir} holds an account registered at the PLC directory ${state.plcUrl}, not ${plcUrl}: use that one or another CANOPY_STATE_DIR`);
      }
    }

    const wasm = readFileSync(await canisterWasmPath({ log: (l) => log('build', l), signal }));
    const stewardWasm = readFileSync(await canisterWasmPath({ target: 'steward', log: (l) => log('build', l), signal }));
    if (signal?.aborted) throw new StackAborted();

    const replicaUrl = `http://127.0.0.1:${ports.replica}`;
    const replica = spawnNode(
      'replica',
      ['replica/src/main.ts', '--port', String(ports.replica), '--state-dir', join(opts.stateDir, 'replica')],
      { cwd: repoRoot, log, filter: replicaLogFilter, graceMs: 60_000 },
    );
    watch(replica);
    await waitUntil('replica', async () => (await fetch(`${replicaUrl}/api/v2/status`)).ok, { child: replica, signal });

    const agent = await HttpAgent.create({ host: replicaUrl, identity: opts.identity, shouldFetchRootKey: true });
    const member = opts.identity.getPrincipal();
    const initArg = new Uint8Array(IDL.encode([InitArgs], [devInitArgs(member, ports.pds, handle, plcUrl ?? undefined)]));
    const deployed = await deployStack({
      agent,
      canopyWasm: wasm,
      stewardWasm,
      initArg,
      existing: state,
      log: (l) => log('deploy', l),
      waitUntil: (what, done) => waitUntil(what, done, { child: replica, signal, timeoutMs: 300_000 }),
    }).catch((err: unknown) => {
      throw new Error(`deploying the canisters as ${member.toText()} failed: ${rejectReason(err)}`);
    });
    const { canisterId, stewardId } = deployed;
    writeFileSync(statePath, JSON.stringify({ ...state, canisterId, stewardId, pdsPort: ports.pds, didMethod, ...(plcUrl ? { plcUrl, plcInMemory: !!directory } : {}) }, null, 2) + '\n');
    log('deploy', `canister ${canisterId} ${deployed.action}; steward ${stewardId}; each is the only controller of the other`);
    if (signal?.aborted) throw new StackAborted();

    // Keys, DID and genesis commit appear once the canister's bootstrap timer has run.
    const canister = Actor.createActor<CanopyService>(idlFactory, { agent, canisterId });
    let status: StatusC | undefined;
    await waitUntil(
      'canister bootstrap',
      async () => {
        status = await canister.get_status();
        return !!status && status.rev.length > 0;
      },
      { child: replica, signal },
    );

    if (plcUrl) {
      // An in-memory directory forgot the DID when the stack stopped: give it the accepted operations again.
      if (directory && deployed.action !== 'created') log('plc', `replayed ${await replayPlcLog(canister, plcUrl)} accepted PLC operation(s)`);
      await waitUntil('DID in the PLC directory', async () => (await fetch(`${plcUrl}/${status!.did}`)).ok, { child: replica, signal });
    }

    // A state directory made with another identity keeps its own DAO: say so rather than print a
    // member who cannot vote.
    const members = await canister.list_members({ after: [], limit: [100] });
    if (!members.members.some((m) => m.principal === member.toText())) {
      log('deploy', `warning: ${member.toText()} is not a member of this DAO (${opts.stateDir} was set up with another identity); remove it to start over`);
    }

    const bridgeUrl = `http://127.0.0.1:${ports.bridge}`;
    const bridge = spawnNode(
      'bridge',
      [
        'bridge/src/main.ts',
        '--port', String(ports.bridge),
        '--ic-host', replicaUrl,
        '--canister-id', canisterId,
        '--public-hostname', `localhost:${ports.pds}`,
      ],
      { cwd: repoRoot, log },
    );
    watch(bridge);
    await waitUntil('bridge', async () => (await fetch(`${bridgeUrl}/_health`)).ok, { child: bridge, signal });

    const worker = await startWorkerDev({
      port: ports.pds,
      canisterUrl: `${replicaUrl}/?canisterId=${canisterId}`,
      bridgeUrls: bridgeUrl,
      log: (line) => log('worker', line),
      signal,
    });
    watch(worker.child);
    if (signal?.aborted) throw new StackAborted();

    // The well-known DID through the Worker proves the whole HTTP path (Worker → gateway → canister).
    let did = '';
    await waitUntil(
      'PDS through the Worker',
      async () => {
        const res = await fetch(`${worker.url}/.well-known/atproto-did`);
        did = res.ok ? (await res.text()).trim() : '';
        return did.startsWith('did:');
      },
      { child: worker.child, signal },
    );
    if (did !== status!.did) throw new Error(`the Worker serves ${did} but the canister reports ${status!.did}`);
    signal?.removeEventListener('abort', onAbort);
    return { pdsUrl: `http://localhost:${ports.pds}`, replicaUrl, bridgeUrl, canisterId, stewardId, did, handle: status!.handle, plcUrl, crashed, stop: stopAll };
  } catch (err) {
    signal?.removeEventListener('abort', onAbort);
    await stopAll();
    throw signal?.aborted ? new StackAborted() : err;
  }
}
