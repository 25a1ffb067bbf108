// The one place the web app takes anything from the canister's code: its Candid interface (the same
// IDL the CLI uses), the Candid JS shapes it reads, and the canister's own proposal checks and record
// builders (so the app refuses what the canister refuses and previews exactly what it writes).
// Everything else in web/ imports from here.
export { canopyIdlFactory as idlFactory } from '../../canister/src/pds/candid.ts';
export type { ProposalView, DelegateViewC, RulesC } from '../../canister/src/governance/idl.ts';
export { actionToC, tag } from '../../canister/src/governance/idl.ts';

export { checkAction } from '../../canister/src/governance/actions.ts';
export { POST_COLLECTION, POST_MAX_GRAPHEMES, POST_MAX_BYTES } from '../../canister/src/governance/post.ts';
export { countGraphemes, utf8Length } from '../../canister/src/governance/text.ts';
export type { GovernanceEnv, ProposalAction, StrongRef, WriteAction } from '../../canister/src/governance/types.ts';
export { dataToJson } from '../../canister/src/atproto/data-model.ts';

import type { ActorSubclass } from '@dfinity/agent';

/**
 * The actor as the app calls it. Results are read through the governance module's exported Candid
 * shapes where it has them; the canister's own methods (status, blobs, writes) are read field by field.
 */
export type CanopyActor = ActorSubclass<Record<string, (...args: any[]) => Promise<any>>>;
