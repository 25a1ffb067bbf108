// What an `upgrade` proposal must name when it is made: a staged module (so voters can verify the
// exact bytes before they vote), a target, a bounded upgrade argument and an optional commit.
import { GovernanceError, type GovernanceEnv, type UpgradeAction } from './types.ts';

/** The upgrade argument travels in one inter-canister call to the steward (its own limit is 2 MiB). */
export const MAX_UPGRADE_ARG_BYTES = 64 * 1024;

export function checkUpgradeAction(env: GovernanceEnv, a: UpgradeAction): UpgradeAction {
  const fail = (m: string): never => {
    throw new GovernanceError(m);
  };
  if (!/^[0-9a-f]{64}$/.test(a.wasmHash)) fail('the wasm hash must be 64 lowercase hex digits (SHA-256 of the module)');
  if (a.target !== 'canopy' && a.target !== 'steward') fail(`unknown upgrade target ${JSON.stringify(a.target)}`);
  if (a.arg.length > MAX_UPGRADE_ARG_BYTES) fail(`the upgrade argument is ${a.arg.length} bytes; at most ${MAX_UPGRADE_ARG_BYTES}`);
  if (a.commit !== null && !/^[0-9a-f]{7,64}$/.test(a.commit)) fail('the commit must be 7..64 lowercase hex digits (a git object id)');
  if (!env.wasmStaged?.(a.wasmHash)) fail(`no complete wasm module with hash ${a.wasmHash} is staged; upload it with stage_wasm_chunk first`);
  return a;
}
