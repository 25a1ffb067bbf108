// `canopy vote`: a member's vote on an open proposal.
import type { Command } from '../cli.ts';
import { usageError } from '../errors.ts';
import { tagged, tagOf } from '../../../canister/src/api/candid.ts';
import { VOTE_CHOICES } from '../../../canister/src/governance/types.ts';
import { isOneOf, parseId } from '../values.ts';

export const voteCommands: Command[] = [
  {
    name: 'vote',
    summary: 'vote on an open proposal (you may change your vote until it closes)',
    args: '<id> yes|no|abstain',
    examples: ['canopy vote 3 yes', 'canopy vote 3 no --identity board-2', 'canopy vote 3 abstain --json   # {"id":3,"vote":"abstain","status":"open"}'],
    async run(ctx) {
      const id = parseId(ctx.positional(0, 'proposal id'));
      const choice = ctx.positional(1, 'vote (yes, no or abstain)');
      if (!isOneOf(VOTE_CHOICES, choice)) throw usageError(`a vote is yes, no or abstain, not ${JSON.stringify(choice)}`);
      ctx.noMorePositionals(2);
      const actor = await ctx.conn.actor();
      const p = await actor.vote({ id, vote: tagged(choice) });
      const status = tagOf(p.status);
      ctx.emit({ id, vote: choice, status }, `voted ${choice} on proposal ${id}: now ${status} (yes ${p.yes}, no ${p.no}, abstain ${p.abstain} of ${p.total_power})`);
    },
  },
];
