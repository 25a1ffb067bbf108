// Refusals by the ingress policy on the compiled canister (local replica): through the ingress filter
// (canister_inspect_message: the agent gets the reason) and with the filter skipped (as an
// inter-canister call would), the anonymous principal and a non-member are refused for every update
// method whatever the payload, members and delegates for arguments over the cap, and nothing changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { deployCanopy, testInitArgs, type DeployedCanopy } from '../support/canopy.ts';
import { UPDATE_POLICY, type GuardedMethod } from '../../canister/src/api/ingress-policy.ts';

const POST = 'app.bsky.feed.post';
const member = Ed25519KeyIdentity.generate();
const delegate = Ed25519KeyIdentity.generate();
let replica: Replica;
let canopy: DeployedCanopy;

before(async () => {
  replica = await startReplica({ port: 0 });
  canopy = await deployCanopy(replica, testInitArgs({
    members: [member.getPrincipal()],
    delegates: [{ principal: delegate.getPrincipal().toText(), scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 10, expires_at_ns: [] } }],
  }));
  await canopy.ready();
});
after(async () => {
  await replica?.stop();
});

/** Everything a refused call could have changed. */
async function snapshot() {
  const a = await canopy.actor();
  const status = await a.get_status();
  const audit = await a.get_audit_log({ after: [], limit: [100], newest_first: [true] });
  const proposals = await a.list_proposals({ status: [], after: [], limit: [100], oldest_first: [] });
  return { head: status.head_seq, rev: status.rev, audit: audit.entries.length && audit.entries[0]!.seq, proposals: proposals.proposals.length };
}

/**
 * An argument of `size` bytes. A canister that refuses before decoding never reads past the size, so
 * any bytes do (a Candid header and zeros); one that decoded first would fail on them differently.
 */
function bigArg(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode('DIDL'));
  return bytes;
}

describe('ingress policy on the replica', () => {
  it('refuses the anonymous principal and a non-member on every update method, with or without the filter, changing nothing', async () => {
    const before = await snapshot();
    const outsider = Ed25519KeyIdentity.generate().getPrincipal();
    for (const method of Object.keys(UPDATE_POLICY) as GuardedMethod[]) {
      for (const [who, sender] of [['anonymous', Principal.anonymous()], ['non-member', outsider]] as const) {
        for (const skipFilter of [false, true]) {
          const r = await replica.engine.update(canopy.canisterId, method, bigArg(2_000_000), sender, { accepted: skipFilter });
          assert.ok('reject' in r, `${method} from ${who} ${skipFilter ? 'without' : 'through'} the filter is refused`);
          assert.match(r.reject.message, who === 'anonymous' ? /anonymous principal cannot take part/ : /is not (a member|a delegate|a member or a delegate|the steward|the steward or a member|a controller);/, method);
        }
      }
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('refuses callers with the role when the argument is over the cap, before decoding it', async () => {
    const before = await snapshot();
    const cases: [GuardedMethod, Principal][] = [['propose', member.getPrincipal()], ['vote', member.getPrincipal()], ['create_record', delegate.getPrincipal()], ['apply_writes', delegate.getPrincipal()]];
    for (const [method, sender] of cases) {
      for (const skipFilter of [false, true]) {
        const r = await replica.engine.update(canopy.canisterId, method, bigArg(UPDATE_POLICY[method].maxArgBytes + 1), sender, { accepted: skipFilter });
        assert.ok('reject' in r);
        assert.match(r.reject.message, new RegExp(`${method}: the argument is \\d+ bytes, more than the ${UPDATE_POLICY[method].maxArgBytes} allowed`));
      }
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('the agent sees the reason of a refusal by the ingress filter', async () => {
    const anon = await canopy.actor();
    await assert.rejects(anon.create_record({ collection: POST, rkey: [], record_json: '{}' }), /anonymous principal cannot take part/);
    const m = await canopy.actor(member);
    const ok = await m.propose({ action: { set_account_active: { active: true } }, summary: [] });
    assert.equal(typeof ok, 'bigint', 'a member within the cap is admitted');
  });
});
