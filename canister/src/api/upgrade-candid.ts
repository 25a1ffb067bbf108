// Candid ⇄ domain conversions of the `upgrade` proposal kind.
import type { UpgradeAction } from '../governance/types.ts';
import { fromOpt, some, tagged, tagOf } from './candid.ts';
import type { ProposalActionC } from './interface.ts';

type UpgradeC = Extract<ProposalActionC, { upgrade: unknown }>['upgrade'];

export const upgradeActionFromC = (c: UpgradeC): UpgradeAction => ({
  kind: 'upgrade',
  wasmHash: c.wasm_hash,
  target: tagOf(c.target),
  arg: Uint8Array.from(fromOpt(c.arg) ?? []),
  commit: fromOpt(c.commit) ?? null,
});

export const upgradeActionToC = (a: UpgradeAction): UpgradeC => ({
  wasm_hash: a.wasmHash,
  target: tagged(a.target),
  arg: a.arg.length ? [a.arg] : [],
  commit: some(a.commit),
});
