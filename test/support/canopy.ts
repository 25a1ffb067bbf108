// Build the Canopy canister wasm once (cached by source hash), deploy it on a local replica, and
// read from it the way the end-to-end tests do (records through the gateway, proposals until executed).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Actor, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { idlFactory, InitArgs, type CanopyService, type InitArgsC } from '../../canister/src/api/interface.ts';
import { scopeToC } from '../../canister/src/api/governance-methods.ts';
import type { WriteAction } from '../../canister/src/governance/types.ts';
import { cachedWasmPath, repoRoot, sourceHash } from '../../scripts/build-canister.ts';
import { startReplica, type Replica, type ReplicaOptions } from '../../replica/src/index.ts';

const run = promisify(execFile);

/** Builds (or reuses) the canister wasm. Concurrent test files serialize on a lock file. */
export async function buildCanister(): Promise<Uint8Array> {
  const hash = sourceHash();
  let path = cachedWasmPath(hash);
  try {
    return readFileSync(path);
  } catch {
    /* build below */
  }
  mkdirSync(join(repoRoot, '.azle'), { recursive: true });
  const node = join(repoRoot, 'node_modules/.bin/node');
  const { stdout } = await run(
    'flock',
    [join(repoRoot, '.azle/canopy-build.lock'), node, '--import', 'tsx', join(repoRoot, 'scripts/build-canister.ts')],
    { cwd: repoRoot, maxBuffer: 16 << 20, env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` } },
  );
  path = stdout.trim().split('\n').pop()!;
  return readFileSync(path);
}

export type CanopyInitArgs = InitArgsC;

/** Init arguments for a local test deployment; override any field. */
export function testInitArgs(opts: {
  members: Principal[];
  hostname?: string;
  handle?: string;
  pdsUrl?: string;
  votingPeriodNs?: bigint;
  delegates?: InitArgsC['governance']['delegates'];
  plcUrl?: string;
  eventRetention?: { min_events: number; min_age_ns: bigint };
}): InitArgsC {
  const hostname = opts.hostname ?? 'localhost';
  return {
    ecdsa_key_name: 'dfx_test_key',
    did_method: opts.plcUrl ? { plc: { plc_url: opts.plcUrl } } : { web: { hostname } },
    handle: opts.handle ?? 'community.test',
    pds_url: opts.pdsUrl ?? `http://${hostname}`,
    governance: {
      members: opts.members.map((p) => ({ principal: p.toText(), power: 1n })),
      rules: { voting_period_ns: opts.votingPeriodNs ?? 3_600_000_000_000n, quorum_bps: 5000, threshold_bps: 5000 },
      delegates: opts.delegates ?? [],
    },
    event_retention: opts.eventRetention ? [opts.eventRetention] : [],
    blob_max_bytes: [],
    blob_grace_ns: [],
  };
}

export type CanopyActor = ActorSubclass<CanopyService>;

export interface DeployedCanopy {
  canisterId: Principal;
  /** An actor for this canister calling as `identity` (anonymous when omitted). */
  actor(identity?: Identity): Promise<CanopyActor>;
  /** Gateway base URL (`/xrpc/...` paths go after it). */
  url(path?: string): string;
  /** Resolves once keys, DID and genesis commit exist (bootstrap timer done). */
  ready(): Promise<{ did: string; signing_key: string }>;
}

export function encodeInitArgs(args: InitArgsC): Uint8Array {
  return new Uint8Array(IDL.encode([InitArgs], [args]));
}

export async function deployCanopy(
  replica: Replica,
  initArgs: InitArgsC,
  opts: { controllers?: Principal[]; wasm?: Uint8Array } = {},
): Promise<DeployedCanopy> {
  const wasm = opts.wasm ?? (await buildCanister());
  const canisterId = await replica.createCanister({ controllers: opts.controllers });
  await replica.installCode(canisterId, wasm, encodeInitArgs(initArgs), 'install');
  const actor = async (identity?: Identity) => {
    const agent = await HttpAgent.create({ host: replica.url, identity, shouldFetchRootKey: true, retryTimes: 0 });
    return Actor.createActor<CanopyService>(idlFactory, { agent, canisterId });
  };
  const deployed: DeployedCanopy = {
    canisterId,
    actor,
    url: (path = '/') => replica.gatewayUrl(canisterId, path),
    async ready() {
      const a = await actor();
      for (let i = 0; i < 50; i++) {
        const s = await a.get_status();
        if (s.did && s.rev.length) return s;
        await replica.advanceTime(1_000);
      }
      throw new Error('canister did not finish bootstrapping');
    },
  };
  return deployed;
}

export interface DelegatedCanopy {
  canopy: DeployedCanopy;
  did: string;
  signingKey: string;
  /** Calls as the delegate. */
  delegateActor: CanopyActor;
  /** Calls as the anonymous principal. */
  anonActor: CanopyActor;
}

/**
 * The usual write-path set-up: Canopy with `members` and one never-expiring delegate allowed `actions`
 * on `collections`, bootstrapped, with actors for the delegate and for anonymous reads.
 */
export type DelegateDeployOptions = {
  members: Principal[];
  delegate: Identity;
  collections: string[];
  actions: WriteAction[];
  writesPerDay: number;
  wasm?: Uint8Array;
};

export async function deployWithDelegate(replica: Replica, opts: DelegateDeployOptions): Promise<DelegatedCanopy> {
  const canopy = await deployCanopy(
    replica,
    testInitArgs({
      members: opts.members,
      delegates: [
        {
          principal: opts.delegate.getPrincipal().toText(),
          scope: scopeToC({ collections: opts.collections, actions: opts.actions, writesPerDay: opts.writesPerDay, expiresAtNs: null }),
        },
      ],
    }),
    { wasm: opts.wasm },
  );
  const { did, signing_key: signingKey } = await canopy.ready();
  return { canopy, did, signingKey, delegateActor: await canopy.actor(opts.delegate), anonActor: await canopy.actor() };
}

/** A fresh local replica (free port) with Canopy deployed by `deployWithDelegate`; the caller stops the replica. */
export async function startWithDelegate(
  opts: DelegateDeployOptions & { replica?: ReplicaOptions },
): Promise<CanopyFixture> {
  const replica = await startReplica({ port: 0, ...opts.replica });
  try {
    return { replica, ...(await deployWithDelegate(replica, opts)) };
  } catch (err) {
    await replica.stop();
    throw err;
  }
}

/** A record read through the gateway (com.atproto.repo.getRecord): HTTP status and JSON body. */
export async function getRecord(canopy: DeployedCanopy, uri: string): Promise<{ status: number; body: any }> {
  const [, , repo, collection, rkey] = uri.split('/');
  const res = await fetch(canopy.url(`/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(repo!)}&collection=${collection}&rkey=${rkey}`));
  return { status: res.status, body: await res.json() };
}

/**
 * Lets the canister's timers run (execution after adoption): advances replica time while `read()`
 * still says `pending`, at most `rounds` seconds, and returns the last reading.
 */
export async function settle<T>(replica: Replica, read: () => Promise<T>, pending: (v: T) => boolean, rounds = 20): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const v = await read();
    if (!pending(v)) return v;
    await replica.advanceTime(1_000);
  }
  return read();
}

/** What `startWithDelegate` gives a test file: the replica and the deployed, bootstrapped Canopy. */
export type CanopyFixture = DelegatedCanopy & { replica: Replica };
