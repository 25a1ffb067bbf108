// The one place the web app takes anything from the canister's code: its Candid interface (written
// once in canister/src/api/interface.ts, the same one the CLI uses), the Candid shapes derived from
// it, and the canister's own proposal checks and record builders (so the app refuses what the
// canister refuses and previews exactly what it writes). Everything else in web/ imports from here.
import type { ActorSubclass } from '@dfinity/agent';
import type { CanopyService } from '../../canister/src/api/interface.ts';

export { idlFactory } from '../../canister/src/api/interface.ts';
export type {
  CanopyService, ProposalViewC as ProposalView, DelegateViewC, RulesC, StatusC, AuditEntryC, Result,
} from '../../canister/src/api/interface.ts';
export { actionToC } from '../../canister/src/api/governance-methods.ts';
export { tagOf as tag, tagged } from '../../canister/src/api/candid.ts';

export { checkAction } from '../../canister/src/governance/actions.ts';
export type { GovernanceEnv, ProposalAction, WriteAction } from '../../canister/src/governance/types.ts';
export { POST_COLLECTION, POST_MAX_GRAPHEMES, POST_MAX_BYTES } from '../../canister/src/bsky/post.ts';
export { countGraphemes, utf8Length } from '../../canister/src/bsky/text.ts';
export type { StrongRef } from '../../canister/src/bsky/types.ts';
export { dataToJson } from '../../canister/src/atproto/data-model.ts';

/** The typed actor: every call's arguments and result come from the interface. */
export type CanopyActor = ActorSubclass<CanopyService>;
