// `canopy propose upgrade`: stage a wasm module in the canister (chunked upload, progress bar) and
// propose installing it on Canopy (through the steward) or on the steward.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command, Context } from '../cli.ts';
import { CliError, usageError } from '../errors.ts';
import { IDL } from '@dfinity/candid';
import { initArgs } from '../../../canister/src/api/interface.ts';
import { stewardInitArgs } from '../../../steward/src/interface.ts';
import { CandidTextError, parseCandidArgs } from '../candid-text.ts';
import { progressWriter } from '../post-input.ts';
import { proposeUpgrade } from '../wasm-staging.ts';

const TARGETS = ['canopy', 'steward'] as const;

/** The types the target's post_upgrade reads: Canopy's init arguments, or the steward's. */
const UPGRADE_ARG_TYPES: Record<(typeof TARGETS)[number], readonly IDL.Type[]> = {
  canopy: initArgs,
  steward: stewardInitArgs,
};

/**
 * The upgrade argument: Candid text checked against the target's init argument types
 * (`(record { canopy = principal "…" })`), `()` or nothing for none, or already-encoded Candid as hex
 * (starting 4449444c, "DIDL").
 */
export function parseUpgradeArg(text: string | undefined, target: (typeof TARGETS)[number] = 'canopy'): Uint8Array {
  if (text === undefined || text.replace(/\s/g, '') === '()') return new Uint8Array();
  const hex = text.trim().toLowerCase();
  if (/^4449444c([0-9a-f]{2})*$/.test(hex)) return Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));
  const types = UPGRADE_ARG_TYPES[target];
  try {
    return new Uint8Array(IDL.encode([...types], parseCandidArgs(types, text)));
  } catch (e) {
    if (e instanceof CandidTextError) throw usageError(`--arg for ${target}: ${e.message}`);
    throw usageError(`--arg for ${target} does not encode as (${types.map((t) => t.display()).join(', ')}): ${(e as Error).message}`);
  }
}

const isTarget = (t: string): t is (typeof TARGETS)[number] => (TARGETS as readonly string[]).includes(t);

function readWasm(ctx: Context, path: string): Uint8Array {
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(readFileSync(resolve(ctx.io.cwd, path)));
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  if (wasm.length < 8 || wasm[0] !== 0x00 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d)
    throw usageError(`${path} is not a wasm module (gzipped modules are not installed byte for byte; give the .wasm)`);
  return wasm;
}

export const upgradeCommands: Command[] = [
  {
    name: 'propose upgrade',
    summary: 'upload a wasm module and propose installing it on Canopy or the steward',
    options: {
      wasm: { type: 'string', value: 'file', desc: 'the module (.azle/canopy/canopy.wasm after `npm run build:canister`)' },
      target: { type: 'string', value: 'canopy|steward', desc: 'which canister (default canopy)' },
      arg: { type: 'string', value: 'candid', desc: 'upgrade argument as Candid text for the target\'s init types, e.g. `(record { canopy = principal "…" })`; `()` for none (default); or Candid bytes as hex' },
      commit: { type: 'string', value: 'sha', desc: 'the git commit the module is built from (voters check it with `canopy verify`)' },
      summary: { type: 'string', value: 'text', desc: 'why: shown to voters' },
    },
    examples: [
      'canopy propose upgrade --wasm .azle/canopy/canopy.wasm --commit $(git rev-parse HEAD)',
      'canopy propose upgrade --wasm .azle/steward/steward.wasm --target steward --json   # {"id":4,"wasmHash":"…"}',
    ],
    notes: 'Members only. The module is uploaded in 128 KiB chunks first (an interrupted upload resumes); the proposal names its SHA-256.',
    async run(ctx) {
      ctx.noMorePositionals(0);
      ctx.conn.identity(true);
      if (!ctx.values.wasm) throw usageError('give the module with --wasm <file>');
      const target = ctx.values.target ?? 'canopy';
      if (!isTarget(target)) throw usageError(`--target must be canopy or steward, not ${JSON.stringify(target)}`);
      const commit = ctx.values.commit as string | undefined;
      if (commit !== undefined && !/^[0-9a-f]{7,64}$/.test(commit)) throw usageError('--commit must be a git commit id (7..64 lowercase hex digits)');
      const wasm = readWasm(ctx, ctx.values.wasm);
      const arg = parseUpgradeArg(ctx.values.arg, target);
      const actor = await ctx.conn.actor();
      const { id, wasmHash } = await proposeUpgrade(
        actor,
        { wasm, target, arg, commit, summary: ctx.values.summary },
        ctx.io.isTTY && !ctx.json ? progressWriter(ctx) : undefined,
      );
      ctx.emit({ id, wasmHash }, `proposal ${id} created: install ${wasmHash} on ${target} — vote with: canopy vote ${id} yes`);
    },
  },
];
