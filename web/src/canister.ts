// The one place the web app takes the canister's Candid interface from (the same IDL the CLI uses),
// and the Candid JS shapes it reads. Everything else in web/ imports from here.
export { canopyIdlFactory as idlFactory } from '../../canister/src/pds/candid.ts';
export type {
  ProposalView, ProposalActionC, ProposeArgs, DelegateViewC, ScopeC, RulesC,
} from '../../canister/src/governance/idl.ts';
export { actionToC, actionFromC, tag } from '../../canister/src/governance/idl.ts';

import type { ActorSubclass } from '@dfinity/agent';

/**
 * The actor as the app calls it. Results are read through the governance module's exported Candid
 * shapes where it has them; the canister's own methods (status, blobs, writes) are read field by field.
 */
export type CanopyActor = ActorSubclass<Record<string, (...args: any[]) => Promise<any>>>;
