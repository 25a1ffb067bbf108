// `canopy verify`: build a canister from this checkout (the build is reproducible) and compare its
// SHA-256 with the module hash the IC certifies for the running canister. Anyone can run it: the
// certified module_hash is read with read_state as the anonymous principal.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AnonymousIdentity, CanisterStatus, HttpAgent } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { buildCanisterWasm, isTarget, TARGETS, type Target } from '../../../scripts/build-canister.ts';
import type { Command, Context } from '../cli.ts';
import { CliError, usageError } from '../errors.ts';

export type VerifyResult = { target: Target; canisterId: string; localHash: string; moduleHash: string | null; match: boolean };

/** The certified SHA-256 of the canister's module (null: no module installed). */
export async function certifiedModuleHash(host: string, canisterId: string, local: boolean): Promise<string | null> {
  const agent = await HttpAgent.create({ host, identity: new AnonymousIdentity(), shouldFetchRootKey: local, retryTimes: 0 });
  const status = await CanisterStatus.request({ canisterId: Principal.fromText(canisterId), agent, paths: ['module_hash'] });
  const hash = status.get('module_hash');
  return typeof hash === 'string' ? hash : null;
}

/** The steward's id: CANOPY_STEWARD_ID, else `.canopy/stack.json` (local) or canister_ids.json (ic) upwards from cwd. */
function stewardId(ctx: Context): string {
  if (ctx.io.env.CANOPY_STEWARD_ID) return ctx.io.env.CANOPY_STEWARD_ID;
  for (let d = resolve(ctx.io.cwd); ; d = dirname(d)) {
    const file = ctx.conn.network === 'local' ? join(d, '.canopy', 'stack.json') : join(d, 'canister_ids.json');
    try {
      const j = JSON.parse(readFileSync(file, 'utf8'));
      const id = ctx.conn.network === 'local' ? j.stewardId : j.steward?.ic;
      if (typeof id === 'string') return id;
    } catch {
      /* not here */
    }
    if (dirname(d) === d) break;
  }
  throw new CliError('no steward canister id found: pass --canister <id> (or set CANOPY_STEWARD_ID)');
}

function localWasm(ctx: Context, target: Target): Uint8Array {
  if (ctx.values.wasm) return readFileSync(resolve(ctx.io.cwd, ctx.values.wasm));
  ctx.note(`building ${target} from this checkout…`);
  return readFileSync(buildCanisterWasm({ target }));
}

export const verifyCommands: Command[] = [
  {
    name: 'verify',
    summary: 'build a canister from this checkout and compare it with the module the IC certifies is running',
    options: {
      target: { type: 'string', value: 'canopy|steward', desc: 'which canister (default canopy); --canister names its id' },
      wasm: { type: 'string', value: 'file', desc: 'compare this wasm file instead of building' },
    },
    examples: [
      'canopy verify',
      'canopy verify --network ic --target steward --json   # {"target":"steward","localHash":"…","moduleHash":"…","match":true}',
    ],
    notes: 'Needs no identity. `match` is true only when the certified module hash equals the local build\'s SHA-256.',
    async run(ctx) {
      ctx.noMorePositionals(0);
      const target = ctx.values.target ?? 'canopy';
      if (!isTarget(target)) throw usageError(`--target must be ${Object.keys(TARGETS).join(' or ')}, not ${JSON.stringify(target)}`);
      const canisterId = target === 'canopy' || ctx.values.canister ? ctx.conn.canisterId() : stewardId(ctx);
      const localHash = createHash('sha256').update(localWasm(ctx, target)).digest('hex');
      let moduleHash: string | null;
      try {
        moduleHash = await certifiedModuleHash(ctx.conn.host, canisterId, ctx.conn.network === 'local');
      } catch (err) {
        throw new CliError(ctx.conn.explain(err));
      }
      const match = moduleHash === localHash;
      const result = { target, canisterId, localHash, moduleHash, match };
      ctx.emit(result, () =>
        [
          `${target} ${canisterId}`,
          `  built here:  ${localHash}`,
          `  certified:   ${moduleHash ?? '(no module installed)'}`,
          match ? 'match: the running module is this checkout' : 'MISMATCH: the running module is not this checkout',
        ].join('\n'),
      );
    },
  },
];
