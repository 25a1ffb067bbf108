// Deploys the steward and a stand-in Canopy (test/fixtures/steward-peer) on a local replica, each
// the only controller of the other, and drives upgrades the way Canopy will: stage chunks in its
// own chunk store, one call to the steward, then wait for the outcome.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Actor, HttpAgent, type ActorSubclass } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import { cachedWasmPath, repoRoot, sourceHash, type Target } from '../../scripts/build-canister.ts';
import { InitArgsIdl, methods as S, ReportArgsIdl, stewardIdlFactory } from '../../steward/src/interface.ts';
import type { UpgradeView } from '../../steward/src/upgrades.ts';
import type { Replica } from '../../replica/src/index.ts';
import { buildAzleCanister } from '../helpers/azle-build.ts';

const run = promisify(execFile);
type AnyActor = ActorSubclass<Record<string, (...args: any[]) => Promise<any>>>;

export const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const phaseOf = (v: { phase: object }) => Object.keys(v.phase)[0];

/** Builds (or reuses) a target's wasm; concurrent test files serialize on a lock file. */
export async function buildTarget(target: Target): Promise<Uint8Array> {
  try {
    return readFileSync(cachedWasmPath(sourceHash(target), target));
  } catch {
    /* build below */
  }
  mkdirSync(join(repoRoot, '.azle'), { recursive: true });
  const { stdout } = await run(
    'flock',
    [join(repoRoot, `.azle/${target}-build.lock`), process.execPath, '--import', 'tsx', join(repoRoot, 'scripts/build-canister.ts'), '--target', target],
    { cwd: repoRoot, maxBuffer: 16 << 20 },
  );
  return readFileSync(stdout.trim().split('\n').pop()!);
}

export async function peerWasm(): Promise<Uint8Array> {
  const path = await buildAzleCanister({
    name: 'steward_peer',
    main: 'test/fixtures/steward-peer/main.ts',
    sourceDirs: ['test/fixtures/steward-peer', 'steward/src'],
  });
  return new Uint8Array(readFileSync(path));
}

/** The same module with a custom section appended: a different module hash, the same behaviour. */
export function withCustomSection(wasm: Uint8Array, note: string): Uint8Array {
  const name = new TextEncoder().encode('canopy:test');
  const body = [name.length, ...name, ...new TextEncoder().encode(note)];
  const size: number[] = [];
  for (let n = body.length; ; ) {
    const b = n & 0x7f;
    n >>>= 7;
    size.push(n ? b | 0x80 : b);
    if (!n) break;
  }
  return new Uint8Array([...wasm, 0, ...size, ...body]);
}

const Bytes = IDL.Vec(IDL.Nat8);
export const peerIdlFactory: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    get_note: I.Func([], [I.Text], ['query']),
    set_note: I.Func([I.Text], [], []),
    stage_chunk: I.Func([Bytes], [Bytes], []),
    request_upgrade: I.Func([S.upgrade_canopy.args[0]!], [S.upgrade_canopy.ret], []),
    get_report: I.Func([I.Nat64], [I.Opt(ReportArgsIdl)], ['query']),
    report_count: I.Func([I.Nat64], [I.Nat32], ['query']),
  });

export interface Pair {
  steward: Principal;
  canopy: Principal;
  stewardActor: AnyActor;
  canopyActor: AnyActor;
  agent: HttpAgent;
  /** stage `wasm` in Canopy's chunk store and ask the steward to install it for `proposalId` */
  request(proposalId: bigint, wasm: Uint8Array): Promise<UpgradeView>;
  /** advance time until the upgrade is done (outcome reported) */
  settle(proposalId: bigint): Promise<UpgradeView>;
}

const CHUNK = 1024 * 1024;

export async function deployPair(replica: Replica, opts: { stewardWasm: Uint8Array; canopyWasm: Uint8Array }): Promise<Pair> {
  const creator = Principal.anonymous();
  const steward = await replica.createCanister({ controllers: [creator] });
  const canopy = await replica.createCanister({ controllers: [steward] });
  await replica.installCode(steward, opts.stewardWasm, new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy }])), 'install');
  await replica.installCode(canopy, opts.canopyWasm, new Uint8Array(IDL.encode([IDL.Record({ steward: IDL.Principal })], [{ steward }])), 'install');
  // The creator hands the steward over to Canopy: from now on no person controls either canister.
  const settings = await replica.engine.update(
    Principal.managementCanister(),
    'update_settings',
    new Uint8Array(IDL.encode([M.update_settings_args], [{
      canister_id: steward,
      settings: {
        controllers: [[canopy]], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [],
        log_visibility: [], wasm_memory_limit: [],
      },
      sender_canister_version: [],
    }])),
    creator,
  );
  if ('reject' in settings) throw new Error(`update_settings: ${settings.reject.message}`);
  const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, retryTimes: 0 });
  const stewardActor = Actor.createActor(stewardIdlFactory, { agent, canisterId: steward }) as AnyActor;
  const canopyActor = Actor.createActor(peerIdlFactory, { agent, canisterId: canopy }) as AnyActor;
  return {
    steward,
    canopy,
    stewardActor,
    canopyActor,
    agent,
    async request(proposalId, wasm) {
      const chunkHashes: Uint8Array[] = [];
      for (let i = 0; i < wasm.length; i += CHUNK) chunkHashes.push(Uint8Array.from(await canopyActor.stage_chunk(wasm.subarray(i, i + CHUNK))));
      return canopyActor.request_upgrade({ proposal_id: proposalId, wasm_hash: sha256(wasm), arg: new Uint8Array(), chunk_hashes: chunkHashes });
    },
    async settle(proposalId) {
      for (let i = 0; i < 120; i++) {
        await replica.advanceTime(1_000);
        const [v] = (await stewardActor.get_upgrade(proposalId)) as [UpgradeView?];
        if (v && phaseOf(v) === 'done') return v;
      }
      const [v] = await stewardActor.get_upgrade(proposalId);
      throw new Error(`upgrade ${proposalId} did not finish: ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`);
    },
  };
}
