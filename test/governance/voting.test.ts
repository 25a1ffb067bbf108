import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Governance, MAX_EXECUTION_ATTEMPTS, MAX_OPEN_PER_PROPOSER, MAX_PAGE_BYTES } from '../../canister/src/governance/governance.ts';
import { decodeCbor, encodeCbor } from '../../canister/src/atproto/cbor.ts';
import { WRITE_STALL_NS } from '../../canister/src/pds/writer.ts';
import { EXECUTION_LEASE_NS } from '../../canister/src/api/executor.ts';
import { decide } from '../../canister/src/governance/rules.ts';
import type { Rules } from '../../canister/src/governance/types.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import {
  ALICE, ANON, BOB, CAROL, DAVE, DAY, EVE, HOUR, MIN, RULES, T0, assertRefused, fakeEnv, postAction, setup,
} from './fixtures.ts';

const rules = (quorumBps: number, thresholdBps: number): Rules => ({ votingPeriodNs: DAY, quorumBps, thresholdBps });
const t = (yes: bigint, no: bigint, abstain: bigint) => ({ yes, no, abstain });

describe('decide(): voting arithmetic', () => {
  it('quorum is reached exactly at the share, not below', () => {
    // total 10, quorum 30%: 3 voted reaches it, 2 do not
    assert.equal(decide(t(3n, 0n, 0n), 10n, rules(3000, 5000), true), 'adopted');
    assert.equal(decide(t(2n, 0n, 0n), 10n, rules(3000, 5000), true), 'expired');
    // abstentions count toward quorum but not toward the threshold
    assert.equal(decide(t(1n, 0n, 2n), 10n, rules(3000, 5000), true), 'adopted');
    assert.equal(decide(t(0n, 0n, 3n), 10n, rules(3000, 5000), true), 'rejected');
  });

  it('threshold must be strictly exceeded', () => {
    assert.equal(decide(t(5n, 5n, 0n), 10n, rules(0, 5000), true), 'rejected'); // tie at 50%
    assert.equal(decide(t(6n, 4n, 0n), 10n, rules(0, 5000), true), 'adopted');
    assert.equal(decide(t(2n, 1n, 0n), 3n, rules(0, 6666), true), 'adopted'); // 66.67% > 66.66%
    assert.equal(decide(t(2n, 1n, 0n), 3n, rules(0, 6667), true), 'rejected');
    assert.equal(decide(t(0n, 0n, 0n), 3n, rules(0, 0), true), 'rejected'); // nobody said yes
  });

  it('decides early only when the remaining power cannot change the outcome', () => {
    const r = rules(5000, 5000);
    assert.equal(decide(t(1n, 0n, 0n), 3n, r, false), null); // 2 remaining could vote no
    assert.equal(decide(t(2n, 0n, 0n), 3n, r, false), 'adopted'); // 2 > 1 even if the last votes no
    assert.equal(decide(t(0n, 2n, 0n), 3n, r, false), 'rejected'); // 1 yes can never beat 2 no
    assert.equal(decide(t(1n, 1n, 0n), 3n, r, false), null);
    // quorum not yet reached: never adopted early, however lopsided
    assert.equal(decide(t(3n, 0n, 0n), 10n, rules(5000, 0), false), null);
    assert.equal(decide(t(5n, 0n, 0n), 10n, rules(5000, 0), false), 'adopted');
  });
});

describe('Governance proposals and votes', () => {
  it('open -> adopted (early) -> executed, with a timer wake and effects', () => {
    const { gov, env } = setup();
    const id = gov.propose(ALICE, { action: postAction('hello'), summary: 'first' }, T0);
    assert.equal(id, 1n);
    assert.equal(gov.getProposal(id)!.status, 'open');
    assert.deepEqual(env.wakes, [T0 + DAY]);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    assert.equal(gov.getProposal(id)!.status, 'open');
    const p = gov.vote(BOB, id, 'yes', T0 + 2n);
    assert.equal(p.status, 'adopted');
    assert.equal(p.closedAtNs, T0 + 2n);
    assert.deepEqual(env.wakes.at(-1), T0 + 2n);
    const job = gov.claimExecution(T0 + 3n, EXECUTION_LEASE_NS)!;
    assert.equal(job.id, id);
    assert.equal(job.effects[0]!.type, 'writes');
    const done = gov.recordExecution(id, { ok: { rev: '3lbrev', records: [{ uri: 'at://x/y/z', cid: 'bafy' }] } }, T0 + 4n);
    assert.equal(done.status, 'executed');
    assert.deepEqual(done.result, { rev: '3lbrev', records: [{ uri: 'at://x/y/z', cid: 'bafy' }] });
    assert.equal(gov.claimExecution(T0 + 5n, EXECUTION_LEASE_NS), null);
  });

  it('open -> rejected early when no can no longer lose', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: postAction('no thanks') }, T0);
    gov.vote(BOB, id, 'no', T0 + 1n);
    assert.equal(gov.getProposal(id)!.status, 'open');
    assert.equal(gov.vote(CAROL, id, 'no', T0 + 2n).status, 'rejected');
    assert.equal(gov.claimExecution(T0 + 3n, EXECUTION_LEASE_NS), null, 'a rejected proposal is never executed');
  });

  it('open -> rejected at the deadline (quorum reached, threshold not)', () => {
    const { gov } = setup({ members: [[ALICE, 1n], [BOB, 1n], [CAROL, 1n], [DAVE, 1n]] });
    const id = gov.propose(ALICE, { action: postAction('tie') }, T0);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    gov.vote(BOB, id, 'no', T0 + 2n);
    assert.deepEqual(gov.tick(T0 + DAY - 1n), []);
    assert.equal(gov.getProposal(id)!.status, 'open');
    assert.deepEqual(gov.tick(T0 + DAY), [id]);
    assert.equal(gov.getProposal(id)!.status, 'rejected');
  });

  it('open -> adopted at the deadline when quorum and threshold are met by then', () => {
    const { gov } = setup({ members: [[ALICE, 1n], [BOB, 1n], [CAROL, 1n], [DAVE, 1n]] });
    const id = gov.propose(ALICE, { action: postAction('slow yes') }, T0);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    gov.vote(BOB, id, 'abstain', T0 + 2n);
    assert.equal(gov.getProposal(id)!.status, 'open');
    gov.tick(T0 + DAY + HOUR);
    assert.equal(gov.getProposal(id)!.status, 'adopted');
  });

  it('quorum edges with weighted power: exactly at the share passes, one short expires', () => {
    // total power 10, quorum 40%: 4 must vote
    const members: [string, bigint][] = [[ALICE, 3n], [BOB, 1n], [CAROL, 3n], [DAVE, 3n]];
    const r = { votingPeriodNs: DAY, quorumBps: 4000, thresholdBps: 5000 };
    const exact = setup({ members, rules: r });
    const a = exact.gov.propose(ALICE, { action: postAction('exact') }, T0);
    exact.gov.vote(ALICE, a, 'yes', T0 + 1n); // 3
    exact.gov.vote(BOB, a, 'abstain', T0 + 2n); // 4 = 40%
    assert.equal(exact.gov.getProposal(a)!.status, 'open', 'dave (3) and carol (3) could still outvote');
    exact.gov.tick(T0 + DAY);
    assert.equal(exact.gov.getProposal(a)!.status, 'adopted');
    const short = setup({ members, rules: r });
    const b = short.gov.propose(ALICE, { action: postAction('short') }, T0);
    short.gov.vote(ALICE, b, 'yes', T0 + 1n); // 3 of 10 < 40%
    short.gov.tick(T0 + DAY);
    assert.equal(short.gov.getProposal(b)!.status, 'expired');
  });

  it('open -> expired when the period ends without quorum', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: postAction('quiet') }, T0);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    assert.equal(gov.nextWakeNs(T0 + 2n), T0 + DAY);
    gov.tick(T0 + DAY);
    const p = gov.getProposal(id)!;
    assert.equal(p.status, 'expired');
    assert.equal(p.closedAtNs, T0 + DAY);
    assert.equal(gov.nextWakeNs(T0 + DAY), null);
  });

  it('adopted -> failed keeps the reason and is never retried or dropped', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: postAction('will fail') }, T0);
    gov.vote(ALICE, id, 'yes', T0);
    gov.vote(BOB, id, 'yes', T0);
    gov.claimExecution(T0, EXECUTION_LEASE_NS);
    const p = gov.recordExecution(id, { err: 'signing failed: no key' }, T0 + 1n);
    assert.equal(p.status, 'failed');
    assert.equal(p.failure, 'signing failed: no key');
    assert.equal(gov.claimExecution(T0 + DAY, EXECUTION_LEASE_NS), null);
    assert.deepEqual(gov.listProposals({ status: 'failed', limit: 10 }).proposals.map((x) => x.id), [id]);
  });

  it('recordExecution is idempotent once executed or failed, and refused before adoption', () => {
    const { gov, kv } = setup();
    const open = gov.propose(ALICE, { action: postAction('still open') }, T0);
    assertRefused(kv, () => gov.recordExecution(open, { ok: { rev: 'r', records: [] } }, T0), /open, not adopted/);
    const id = gov.propose(ALICE, { action: postAction('once') }, T0);
    gov.vote(ALICE, id, 'yes', T0);
    gov.vote(BOB, id, 'yes', T0);
    gov.recordExecution(id, { ok: { rev: 'r1', records: [{ uri: 'at://a/b/c', cid: 'c1' }] } }, T0);
    const again = gov.recordExecution(id, { err: 'late duplicate report' }, T0 + 1n);
    assert.equal(again.status, 'executed');
    assert.equal(again.result!.rev, 'r1');
  });

  it('a claimed execution is not handed out twice until its lease ends', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: postAction('lease') }, T0);
    gov.vote(ALICE, id, 'yes', T0);
    gov.vote(BOB, id, 'yes', T0);
    assert.equal(gov.claimExecution(T0, EXECUTION_LEASE_NS)!.attempt, 1);
    assert.equal(gov.claimExecution(T0 + MIN, EXECUTION_LEASE_NS), null);
    assert.equal(gov.nextWakeNs(T0 + MIN), T0 + EXECUTION_LEASE_NS, 'still pending: the timer comes back when the lease ends, not before');
    assert.equal(gov.claimExecution(T0 + WRITE_STALL_NS, EXECUTION_LEASE_NS), null, 'a write stalled this long is only now declared lost');
    const retry = gov.claimExecution(T0 + EXECUTION_LEASE_NS, EXECUTION_LEASE_NS)!;
    assert.equal(retry.id, id);
    assert.equal(retry.attempt, 2);
    assert.deepEqual(retry.effects, gov.getProposal(id)!.effects, 'same effects (same rkey) on retry');
  });

  it('an execution that never reports is marked failed after the last attempt, and the next proposal runs', () => {
    const { gov } = setup();
    const stuck = gov.propose(ALICE, { action: postAction('traps every time') }, T0);
    const next = gov.propose(ALICE, { action: postAction('fine') }, T0);
    for (const id of [stuck, next]) {
      gov.vote(ALICE, id, 'yes', T0);
      gov.vote(BOB, id, 'yes', T0);
    }
    let t = T0;
    for (let i = 1; i <= MAX_EXECUTION_ATTEMPTS; i++) {
      assert.equal(gov.claimExecution(t, EXECUTION_LEASE_NS)!.id, stuck, `attempt ${i}`);
      if (i === 1) {
        assert.equal(gov.claimExecution(t, EXECUTION_LEASE_NS)!.id, next, 'a held proposal never blocks the others');
        gov.recordExecution(next, { ok: { rev: null, records: [] } }, t);
      }
      t += EXECUTION_LEASE_NS;
    }
    assert.equal(gov.claimExecution(t, EXECUTION_LEASE_NS), null);
    const p = gov.getProposal(stuck)!;
    assert.equal(p.status, 'failed');
    assert.match(p.failure!, /did not complete after 3 attempts/);
    assert.equal(gov.nextWakeNs(t), null, 'nothing left to wake for');
  });

  it('a vote can be changed until the proposal closes', () => {
    const { gov } = setup({ members: [[ALICE, 3n], [BOB, 4n], [CAROL, 3n]] });
    const id = gov.propose(ALICE, { action: postAction('change') }, T0);
    gov.vote(CAROL, id, 'no', T0 + 1n);
    assert.deepEqual(gov.getProposal(id)!.tally, { yes: 0n, no: 3n, abstain: 0n });
    gov.vote(CAROL, id, 'abstain', T0 + 2n);
    assert.deepEqual(gov.getProposal(id)!.tally, { yes: 0n, no: 0n, abstain: 3n });
    assert.equal(gov.getVote(id, CAROL)!.vote, 'abstain');
    // bob yes: yes 4 vs worst case no 3 (alice) -> adopted
    assert.equal(gov.vote(BOB, id, 'yes', T0 + 3n).status, 'adopted');
    assertRefused(setupKv(gov), () => gov.vote(CAROL, id, 'yes', T0 + 4n), /closed \(adopted\)/);
  });

  it('the electorate is snapshotted at creation', () => {
    const { gov, kv } = setup({ members: [[ALICE, 1n]], rules: { votingPeriodNs: DAY, quorumBps: 0, thresholdBps: 5000 } });
    const early = gov.propose(ALICE, { action: postAction('before bob') }, T0);
    const add = gov.propose(ALICE, { action: { kind: 'add_member', principal: BOB, power: 5n } }, T0);
    gov.vote(ALICE, add, 'yes', T0 + 1n);
    assert.equal(gov.getProposal(add)!.status, 'executed');
    assert.equal(gov.getMember(BOB)!.power, 5n);
    // bob joined after `early` was created: he may not vote on it, and its total power stays 1
    assertRefused(kv, () => gov.vote(BOB, early, 'no', T0 + 2n), /not a member when proposal 1 was created/);
    assert.equal(gov.getProposal(early)!.electorate.totalPower, 1n);
    const later = gov.propose(BOB, { action: postAction('after bob') }, T0 + 3n);
    assert.equal(gov.getProposal(later)!.electorate.totalPower, 6n);
    // removing alice does not take away her vote on proposals created while she was a member
    const remove = gov.propose(BOB, { action: { kind: 'remove_member', principal: ALICE } }, T0 + 4n);
    gov.vote(BOB, remove, 'yes', T0 + 5n);
    assert.equal(gov.getProposal(remove)!.status, 'executed');
    assert.equal(gov.getMember(ALICE), null);
    assert.equal(gov.vote(ALICE, later, 'no', T0 + 6n).tally.no, 1n);
    assertRefused(kv, () => gov.propose(ALICE, { action: postAction('gone') }, T0 + 7n), /not a member/);
  });

  it('rules are snapshotted too: a rule change does not move open proposals', () => {
    const { gov } = setup({ members: [[ALICE, 1n]], rules: { votingPeriodNs: DAY, quorumBps: 0, thresholdBps: 5000 } });
    const open = gov.propose(ALICE, { action: postAction('old rules') }, T0);
    const change = gov.propose(ALICE, { action: { kind: 'set_rules', rules: { votingPeriodNs: HOUR, quorumBps: 9000, thresholdBps: 6000 } } }, T0);
    gov.vote(ALICE, change, 'yes', T0 + 1n);
    assert.equal(gov.rules().votingPeriodNs, HOUR);
    assert.equal(gov.getProposal(open)!.rules.votingPeriodNs, DAY);
    assert.equal(gov.getProposal(open)!.deadlineNs, T0 + DAY);
    const next = gov.propose(ALICE, { action: postAction('new rules') }, T0 + 2n);
    assert.equal(gov.getProposal(next)!.deadlineNs, T0 + 2n + HOUR);
  });

  it('expiry with time advanced across several proposals and deadlines', () => {
    const { gov, env } = setup();
    const a = gov.propose(ALICE, { action: postAction('a') }, T0);
    const b = gov.propose(BOB, { action: postAction('b') }, T0 + 6n * HOUR);
    assert.deepEqual(env.wakes, [T0 + DAY, T0 + 6n * HOUR + DAY]);
    assert.deepEqual(gov.tick(T0 + DAY), [a]);
    assert.equal(gov.getProposal(b)!.status, 'open');
    assert.equal(gov.nextWakeNs(T0 + DAY), T0 + 6n * HOUR + DAY);
    assertRefused(setupKv(gov), () => gov.vote(CAROL, a, 'yes', T0 + DAY + 1n), /closed \(expired\)/);
    // after the deadline but before the timer ran: still refused, state untouched
    assertRefused(setupKv(gov), () => gov.vote(CAROL, b, 'yes', T0 + 6n * HOUR + DAY), /voting on proposal 2 ended/);
    assert.deepEqual(gov.tick(T0 + 2n * DAY), [b]);
    assert.equal(gov.getProposal(b)!.status, 'expired');
  });
});

describe('membership, rules, delegates and upgrades by proposal', () => {
  it('add, re-power and remove a member; failures are recorded with the reason', () => {
    const { gov } = setup({ members: [[ALICE, 1n]], rules: { votingPeriodNs: DAY, quorumBps: 0, thresholdBps: 5000 } });
    const pass = (action: Parameters<Governance['propose']>[1]['action'], at: bigint) => {
      const id = gov.propose(ALICE, { action }, at);
      return gov.vote(ALICE, id, 'yes', at);
    };
    assert.equal(pass({ kind: 'add_member', principal: DAVE, power: 2n }, T0).status, 'executed');
    assert.equal(gov.listMembers({ limit: 10 }).totalPower, 3n);
    const dup = pass({ kind: 'add_member', principal: DAVE, power: 1n }, T0 + 1n);
    // dave (power 2) is now in the electorate, alice's yes alone (1 of 3) is not decisive
    assert.equal(dup.status, 'open');
    gov.vote(DAVE, dup.id, 'yes', T0 + 2n);
    const failed = gov.getProposal(dup.id)!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.failure!, /already a member/);
    const power = gov.propose(ALICE, { action: { kind: 'set_member_power', principal: DAVE, power: 7n } }, T0 + 3n);
    gov.vote(DAVE, power, 'yes', T0 + 4n);
    assert.equal(gov.getMember(DAVE)!.power, 7n);
    const removeLast = gov.propose(DAVE, { action: { kind: 'remove_member', principal: ALICE } }, T0 + 5n);
    gov.vote(DAVE, removeLast, 'yes', T0 + 6n);
    assert.equal(gov.getMember(ALICE), null);
    assert.deepEqual(gov.listMembers({ limit: 10 }), { members: [gov.getMember(DAVE)!], count: 1, totalPower: 7n, next: null });
    const last = gov.propose(DAVE, { action: { kind: 'remove_member', principal: DAVE } }, T0 + 7n);
    const p = gov.vote(DAVE, last, 'yes', T0 + 8n);
    assert.equal(p.status, 'failed');
    assert.match(p.failure!, /last member cannot be removed/);
  });

  it('approves an upgrade by wasm hash (recorded)', () => {
    const { gov } = setup({ members: [[ALICE, 1n]] });
    const hash = 'ab'.repeat(32);
    const id = gov.propose(ALICE, { action: { kind: 'approve_upgrade', wasmHash: hash } }, T0);
    assert.equal(gov.isUpgradeApproved(hash), false);
    gov.vote(ALICE, id, 'yes', T0);
    assert.equal(gov.getProposal(id)!.status, 'executed');
    assert.deepEqual(gov.upgradeApprovals(), [{ wasmHash: hash, proposalId: id, atNs: T0 }]);
    assert.equal(gov.isUpgradeApproved(hash), true);
  });
});

describe('refusals leave state unchanged', () => {
  it('anonymous principal, non-members, unknown proposal, repeated vote, bad choice', () => {
    const { gov, kv } = setup();
    const id = gov.propose(ALICE, { action: postAction('x') }, T0);
    assertRefused(kv, () => gov.propose(ANON, { action: postAction('anon') }, T0), /anonymous principal/);
    assertRefused(kv, () => gov.vote(ANON, id, 'yes', T0), /anonymous principal/);
    assertRefused(kv, () => gov.propose(EVE, { action: postAction('outsider') }, T0), /not a member/);
    assertRefused(kv, () => gov.vote(EVE, id, 'yes', T0), /was not a member/);
    assertRefused(kv, () => gov.vote(ALICE, 99n, 'yes', T0), /no proposal 99/);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    assertRefused(kv, () => gov.vote(ALICE, id, 'yes', T0 + 2n), /already voted yes.*counts once/);
    assert.deepEqual(gov.getProposal(id)!.tally, { yes: 1n, no: 0n, abstain: 0n });
    assertRefused(kv, () => gov.vote(BOB, id, 'maybe' as never, T0), /yes, no or abstain/);
  });

  it('no direct membership changes: only init, then proposals', () => {
    const { gov, kv } = setup();
    assertRefused(kv, () => gov.init({ members: [{ principal: EVE, power: 1n }], rules: RULES }, T0), /already initialized/);
    const fresh = new Governance(new MemoryKv(), fakeEnv());
    assert.throws(() => fresh.propose(ALICE, { action: postAction('x') }, T0), /not initialized/);
    assert.throws(() => fresh.init({ members: [], rules: RULES }, T0), /at least one founding member/);
    assert.throws(() => fresh.init({ members: [{ principal: ANON, power: 1n }], rules: RULES }, T0), /anonymous/);
    assert.throws(() => fresh.init({ members: [{ principal: ALICE, power: 0n }], rules: RULES }, T0), /voting power/);
    assert.throws(() => fresh.init({ members: [{ principal: ALICE, power: 1n }, { principal: ALICE, power: 1n }], rules: RULES }, T0), /twice/);
    assert.throws(() => fresh.init({ members: [{ principal: ALICE, power: 1n }], rules: { ...RULES, quorumBps: 10001 } }, T0), /quorum/);
    assert.equal(fresh.isInitialized(), false);
  });

  it('a member may have at most 20 open proposals', () => {
    const { gov, kv } = setup();
    for (let i = 0; i < 20; i++) gov.propose(ALICE, { action: postAction(`spam ${i}`) }, T0);
    assertRefused(kv, () => gov.propose(ALICE, { action: postAction('one more') }, T0), /already has 20 open proposals/);
    gov.propose(BOB, { action: postAction('others still can') }, T0);
    gov.tick(T0 + DAY);
    gov.propose(ALICE, { action: postAction('after they closed') }, T0 + DAY);
  });

  it('invalid proposals are refused before anyone votes', () => {
    const { gov, kv } = setup();
    const refuse = (action: unknown, reason: RegExp) =>
      assertRefused(kv, () => gov.propose(ALICE, { action: action as never }, T0), reason);
    refuse({ kind: 'add_member', principal: 'not a principal', power: 1n }, /not a principal/);
    refuse({ kind: 'add_member', principal: ANON, power: 1n }, /anonymous/);
    refuse({ kind: 'add_member', principal: BOB, power: 0n }, /voting power/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: SEC_(1), quorumBps: 0, thresholdBps: 0 } }, /voting period/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 0, thresholdBps: 10000 } }, /threshold/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 5000, thresholdBps: 0 } }, /threshold must be 5000\.\.6667/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 5000, thresholdBps: 4999 } }, /a majority at least/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 5000, thresholdBps: 6668 } }, /at most two thirds/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 10000, thresholdBps: 5000 } }, /one lost key/);
    // three members of power 1: a quorum a single member meets, or one only all three meet
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 3333, thresholdBps: 5000 } }, /reach the quorum of 3333 bps alone/);
    refuse({ kind: 'set_rules', rules: { votingPeriodNs: DAY, quorumBps: 6667, thresholdBps: 5000 } }, /could not be reached/);
    // membership changes that the current rules (quorum 50%) could no longer work with
    refuse({ kind: 'add_member', principal: DAVE, power: 4n }, /largest member \(4 of 7 power\) would reach the quorum/);
    refuse({ kind: 'set_member_power', principal: BOB, power: 2n }, /largest member \(2 of 4 power\)/);
    // per-kind size and structure limits, checked before the record is parsed
    const record = (json: string) => ({ kind: 'put_record', collection: 'com.example.thing', recordJson: json });
    refuse(record(JSON.stringify({ $type: 'com.example.thing', t: 'x'.repeat(17_000) })), /longer than 16384 bytes/);
    refuse(record(`{"$type":"com.example.thing","a":${'['.repeat(40)}${']'.repeat(40)}}`), /nested deeper than 32/);
    refuse(record(`{"$type":"com.example.thing","a":[${Array(2500).fill('0').join(',')}]}`), /more than 2000 values/);
    const mention = { handle: 'someone.example.com', did: 'did:web:someone.example.com' };
    refuse({ kind: 'post', post: { text: 'hi', mentions: Array(51).fill(mention) } }, /at most 50 mentions/);
    refuse({ kind: 'post', post: { text: 'hi', mentions: [{ ...mention, did: `did:web:${'x'.repeat(3001)}` }] } }, /longer than 3000 bytes/);
    refuse({ kind: 'set_handle', handle: 'not a handle' }, /invalid handle/);
    refuse({ kind: 'set_handle', handle: 'coop.example' }, /reserved TLD \.example/);
    refuse({ kind: 'set_handle', handle: 'canopy.onion' }, /reserved TLD \.onion/);
    refuse({ kind: 'delete_record', collection: 'app.bsky.feed.post', rkey: '..' }, /record key/);
    refuse({ kind: 'approve_upgrade', wasmHash: 'xyz' }, /64 lowercase hex/);
    refuse({ kind: 'grant_delegate', principal: DAVE, scope: { collections: [], actions: ['create'], writesPerDay: 1, expiresAtNs: null } }, /at least one collection/);
    refuse({ kind: 'grant_delegate', principal: DAVE, scope: { collections: ['app.bsky.feed.post'], actions: ['create'], writesPerDay: 1, expiresAtNs: T0 - 1n } }, /expiry is in the past/);
    refuse({ kind: 'nonsense' }, /unknown proposal kind/);
    assertRefused(kv, () => gov.propose(ALICE, { action: postAction('x'), summary: 'y'.repeat(5000) }, T0), /summary/);
    assert.equal(gov.listProposals({ limit: 10 }).proposals.length, 0);
  });
});

describe('queries', () => {
  it('lists proposals by status, newest first, paged', () => {
    const { gov } = setup({ members: [[ALICE, 1n], [BOB, 1n]], rules: { votingPeriodNs: DAY, quorumBps: 0, thresholdBps: 5000 } });
    const ids = [0, 1, 2, 3, 4].map((i) => gov.propose(ALICE, { action: postAction(`p${i}`) }, T0 + BigInt(i)));
    gov.vote(BOB, ids[1]!, 'no', T0 + 10n);
    const page1 = gov.listProposals({ limit: 2 });
    assert.deepEqual(page1.proposals.map((p) => p.id), [5n, 4n]);
    const page2 = gov.listProposals({ limit: 2, after: page1.next! });
    assert.deepEqual(page2.proposals.map((p) => p.id), [3n, 2n]);
    assert.deepEqual(gov.listProposals({ limit: 10, status: 'rejected' }).proposals.map((p) => p.id), [2n]);
    assert.deepEqual(gov.listProposals({ limit: 10, status: 'open', reverse: false }).proposals.map((p) => p.id), [1n, 3n, 4n, 5n]);
  });

  it('audit log records proposals, votes, closes and executions in order (paged)', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: postAction('audited') }, T0);
    gov.vote(ALICE, id, 'no', T0 + 1n);
    gov.vote(ALICE, id, 'yes', T0 + 2n);
    gov.vote(BOB, id, 'yes', T0 + 3n);
    gov.recordExecution(id, { ok: { rev: 'rev1', records: [{ uri: 'at://d/app.bsky.feed.post/k', cid: 'cid1' }] } }, T0 + 4n);
    const all = gov.auditLog({ limit: 100 }).entries;
    assert.deepEqual(all.map((e) => [e.event, e.actor, e.detail]), [
      ['init', 'init', '3 founding members, 0 delegates'],
      ['proposed', ALICE, 'post'],
      ['voted', ALICE, 'no'],
      ['voted', ALICE, 'yes (was no)'],
      ['voted', BOB, 'yes'],
      ['closed', 'governance', 'adopted'],
      ['executed', 'governance', 'post'],
    ]);
    assert.deepEqual([all[6]!.uri, all[6]!.cid, all[6]!.rev], ['at://d/app.bsky.feed.post/k', 'cid1', 'rev1']);
    const p1 = gov.auditLog({ limit: 3 });
    const p2 = gov.auditLog({ limit: 3, after: p1.next! });
    assert.deepEqual([...p1.entries, ...p2.entries].map((e) => e.seq), [1n, 2n, 3n, 4n, 5n, 6n]);
    assert.deepEqual(gov.listVotes(id, { limit: 10 }).votes.map((v) => [v.principal, v.vote]).sort(), [[ALICE, 'yes'], [BOB, 'yes']].sort());
  });

  it('keeps nothing on the heap: a new instance over the same store sees everything', () => {
    const { gov, kv, env } = setup();
    const id = gov.propose(ALICE, { action: postAction('persist') }, T0);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    const again = new Governance(kv, env);
    assert.deepEqual(again.getProposal(id), gov.getProposal(id));
    assert.equal(again.vote(BOB, id, 'yes', T0 + 2n).status, 'adopted');
    assert.equal(again.rules().votingPeriodNs, DAY);
    assert.equal(again.listMembers({ limit: 10 }).count, 3);
  });
});

function SEC_(n: number): bigint {
  return BigInt(n) * 1_000_000_000n;
}
function setupKv(gov: Governance): MemoryKv {
  return (gov as unknown as { kv: MemoryKv }).kv;
}

describe('bounded work: the proposal index', () => {
  it('one member at its limit of the largest proposals: votes, ticks, wakes and every page stay small', () => {
    const { gov, kv } = setup();
    const big = JSON.stringify({ $type: 'com.example.thing', t: 'x'.repeat(16_000) });
    const ids: bigint[] = [];
    for (let i = 0; i < MAX_OPEN_PER_PROPOSER; i++)
      ids.push(gov.propose(ALICE, { action: { kind: 'put_record', collection: 'com.example.thing', recordJson: big }, summary: 's'.repeat(4000) }, T0 + BigInt(i)));
    assertRefused(kv, () => gov.propose(ALICE, { action: postAction('one more') }, T0), /already has 20 open proposals/);
    // another member's post is still proposed, adopted and due for execution at once
    const post = gov.propose(BOB, { action: postAction('still heard') }, T0 + 100n);
    gov.vote(BOB, post, 'yes', T0 + 101n);
    gov.vote(CAROL, post, 'yes', T0 + 102n);
    assert.equal(gov.nextWakeNs(T0 + 103n), T0 + 103n);
    assert.equal(gov.claimExecution(T0 + 103n, EXECUTION_LEASE_NS)!.id, post);
    // the next wake-up and the due list come from the index: the earliest deadline, no payload read
    gov.recordExecution(post, { ok: { rev: null, records: [] } }, T0 + 104n);
    assert.equal(gov.nextWakeNs(T0 + 105n), T0 + DAY);
    assert.deepEqual(gov.tick(T0 + DAY + 5n, 4), ids.slice(0, 4), 'closes the earliest, at most the limit per run');
    // pages stay under the byte budget and together list every proposal once
    let after: bigint | undefined;
    const seen: bigint[] = [];
    for (let pages = 0; pages < 30; pages++) {
      const page = gov.listProposals({ limit: 100, after });
      const bytes = page.proposals.reduce((n, p) => n + kv.get(`p/${p.id.toString().padStart(20, '0')}`)!.length, 0);
      assert.ok(bytes <= MAX_PAGE_BYTES, `page of ${bytes} bytes`);
      seen.push(...page.proposals.map((p) => p.id));
      if (page.next === null) break;
      after = page.next;
    }
    assert.deepEqual(seen.sort((a, b) => Number(a - b)), [...ids, post]);
  });

  it('proposals stored before the index carried metadata are indexed by the timer, a few per run', () => {
    const { gov, kv } = setup();
    const ids = [0, 1, 2].map((i) => gov.propose(ALICE, { action: postAction(`old ${i}`) }, T0 + BigInt(i)));
    // the earlier layout: empty status entries, no deadline or proposer index, no `indexed` flag
    for (const id of ids) {
      const k = id.toString().padStart(20, '0');
      kv.set(`s/open/${k}`, new Uint8Array(0));
      for (const [key] of kv.range({ prefix: 'od/', limit: 100 })) if (key.endsWith(k)) kv.delete(key);
      kv.delete(`ob/${ALICE}/${k}`);
    }
    const config = decodeCbor(kv.get('config')!) as Record<string, unknown>;
    kv.set('config', encodeCbor({ ...config, indexed: false }));
    assert.equal(gov.nextWakeNs(T0), T0, 'not indexed yet: the timer comes back now');
    assert.equal(gov.completeIndex(2), false);
    assert.equal(gov.completeIndex(2), true);
    assert.equal(gov.nextWakeNs(T0), T0 + DAY);
    assert.deepEqual(gov.tick(T0 + DAY + 2n), ids);
  });
});
