// A governance timer run that traps (here: forced over a lowered instruction limit on the local
// replica) is rolled back, and yet the next runs happen: the proposal still closes and executes
// once the trap is gone, and no later proposal is held up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { deployCanopy, testInitArgs, type CanopyActor } from '../support/canopy.ts';
import { tagOf } from '../../canister/src/api/candid.ts';

const [alice, bob] = [0, 1].map(() => Ed25519KeyIdentity.generate());
const logs: string[] = [];
let replica: Replica;
let act: CanopyActor;

/** The engine's instruction limits (tests only): lowering the update limit makes the governance run trap. */
const limits = () => (replica.engine as unknown as { limits: { update: bigint } }).limits;
const post = (text: string) => ({ post: { text, langs: [], mentions: [], reply: [] as [], images: [], quote: [] as [] } });
const statusOf = async (id: bigint) => tagOf((await act.get_proposal(id))[0]!.status);

before(async () => {
  replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  // two members, quorum 0: one yes stays open until the deadline, then is adopted there (by the timer)
  const args = testInitArgs({ members: [alice, bob].map((i) => i.getPrincipal()), votingPeriodNs: 60_000_000_000n });
  args.governance.rules.quorum_bps = 0;
  const canopy = await deployCanopy(replica, args);
  await canopy.ready();
  act = await canopy.actor(alice);
});
after(async () => {
  await replica?.stop();
});

describe('governance timers survive a trap', () => {
  it('a run that traps at the deadline is followed by runs that close and execute the proposal', async () => {
    const id = await act.propose({ action: post('closed by the timer after a trap'), summary: [] });
    await act.vote({ id, vote: { yes: null } });
    assert.equal(await statusOf(id), 'open');

    const normal = limits().update;
    const mark = logs.length;
    limits().update = 10_000_000n; // the timer library's own messages fit; a governance run does not
    try {
      await replica.advanceTime(61_000);
    } finally {
      limits().update = normal;
    }
    const trapped = logs.slice(mark).filter((l) => /timer_executor limit/.test(l));
    assert.ok(trapped.length >= 1, 'a governance run was forced over the limit');
    assert.equal(await statusOf(id), 'open', 'the trapped run was rolled back');

    let status = 'open';
    for (let i = 0; i < 10 && status !== 'executed'; i++) {
      await replica.advanceTime(30_000);
      status = await statusOf(id);
    }
    assert.equal(status, 'executed', 'a later run closed and executed it');

    // and the timer still serves new proposals afterwards
    const next = await act.propose({ action: post('after the trap'), summary: [] });
    await act.vote({ id: next, vote: { yes: null } });
    for (let i = 0; i < 10 && (await statusOf(next)) !== 'executed'; i++) await replica.advanceTime(30_000);
    assert.equal(await statusOf(next), 'executed');
  });
});
