// Size and structure limits per proposal kind, checked before an action is parsed or built. They
// keep the largest proposal small next to the IC's limits: every member can hold MAX_OPEN_PER_PROPOSER
// of them open, and each is decoded again by votes, queries and its execution.
import { jsonShapeProblem, type JsonShapeLimits } from '../atproto/json-shape.ts';
import { GovernanceError, type ProposalAction } from './types.ts';

/** A put_record proposal's record JSON. */
export const PROPOSAL_RECORD_LIMITS: JsonShapeLimits = { maxBytes: 16 * 1024, maxDepth: 32, maxNodes: 2_000 };
export const MAX_TEXT_FIELD_BYTES = 3_000;
/** Text, languages, images and alt texts are bounded by the post builder (bsky/post.ts); mentions here. */
export const MAX_POST_MENTIONS = 50;
export const MAX_SCOPE_COLLECTIONS = 20;

const bytesOf = (s: string | undefined): number => (s === undefined ? 0 : s.length * 3 <= MAX_TEXT_FIELD_BYTES ? s.length : new TextEncoder().encode(s).length);

function textProblem(name: string, s: string | undefined): string | null {
  return typeof s === 'string' && bytesOf(s) > MAX_TEXT_FIELD_BYTES ? `${name} is longer than ${MAX_TEXT_FIELD_BYTES} bytes` : null;
}

/** Why `action` is too large for a proposal, or null. */
export function proposalSizeProblem(action: ProposalAction): string | null {
  switch (action.kind) {
    case 'put_record':
      return jsonShapeProblem(action.recordJson, PROPOSAL_RECORD_LIMITS, 'the record');
    case 'post': {
      const p = action.post;
      if ((p.mentions?.length ?? 0) > MAX_POST_MENTIONS) return `a post names at most ${MAX_POST_MENTIONS} mentions`;
      const texts = [...(p.mentions ?? []).flatMap((m) => [m.handle, m.did]), ...(p.images ?? []).map((i) => i.cid),
        p.reply?.root.uri, p.reply?.parent.uri, p.quote?.uri];
      for (const t of texts) {
        const problem = textProblem('a field of the post', t);
        if (problem) return problem;
      }
      return null;
    }
    case 'update_profile':
      return textProblem('the display name', action.profile.displayName ?? undefined) ?? textProblem('the description', action.profile.description ?? undefined);
    case 'grant_delegate':
      return action.scope.collections.length > MAX_SCOPE_COLLECTIONS ? `a delegate scope names at most ${MAX_SCOPE_COLLECTIONS} collections` : null;
    default:
      return null;
  }
}

export function ensureProposalSize(action: ProposalAction): void {
  const problem = proposalSizeProblem(action);
  if (problem) throw new GovernanceError(problem);
}
