// The ingress policy (who may call each update, how large its argument may be), as both
// canister_inspect_message and every update apply it before reading the argument.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { methods } from '../../canister/src/api/interface.ts';
import { MAX_PROPOSE_ARG_BYTES, refusal, UPDATE_POLICY } from '../../canister/src/api/ingress-policy.ts';
import { ALICE, ANON, DAY, dump, EVE, principal, setup, T0 } from '../governance/fixtures.ts';

const DELEGATE = principal(40);
const EXPIRED = principal(41);

function withDelegates() {
  const scope = { collections: ['app.bsky.feed.post'], actions: ['create' as const], writesPerDay: 10, expiresAtNs: null };
  return setup({ delegates: [{ principal: DELEGATE, scope }, { principal: EXPIRED, scope: { ...scope, expiresAtNs: T0 + DAY } }] });
}

describe('ingress policy', () => {
  it('covers exactly the update methods of the method table', () => {
    const updates = Object.entries(methods).filter(([, m]) => m.mode === 'update').map(([n]) => n).sort();
    assert.deepEqual(Object.keys(UPDATE_POLICY).sort(), updates);
  });

  it('refuses the anonymous principal, non-members and unknown methods without reading the argument', () => {
    const { gov, kv } = withDelegates();
    const before = dump(kv);
    const argBytes = () => assert.fail('the argument must not be read for a caller without the role');
    for (const method of Object.keys(UPDATE_POLICY)) {
      assert.match(refusal(gov, method, ANON, argBytes, T0)!, /anonymous/);
      assert.match(refusal(gov, method, EVE, argBytes, T0)!, /is not/);
    }
    assert.match(refusal(gov, 'get_status', ALICE, argBytes, T0)!, /not an update method/);
    assert.match(refusal(gov, 'http_request_update', ALICE, argBytes, T0)!, /not an update method/);
    assert.deepEqual(dump(kv), before, 'checking changes nothing');
  });

  it('gives each method to its role only', () => {
    const { gov } = withDelegates();
    const small = () => 10;
    assert.equal(refusal(gov, 'propose', ALICE, small, T0), null);
    assert.equal(refusal(gov, 'vote', ALICE, small, T0), null);
    assert.match(refusal(gov, 'propose', DELEGATE, small, T0)!, /not a member/);
    assert.equal(refusal(gov, 'create_record', DELEGATE, small, T0), null);
    assert.match(refusal(gov, 'create_record', ALICE, small, T0)!, /not a delegate/);
    assert.equal(refusal(gov, 'blob_upload_start', ALICE, small, T0), null);
    assert.equal(refusal(gov, 'blob_upload_start', DELEGATE, small, T0), null);
    assert.equal(refusal(gov, 'create_record', EXPIRED, small, T0), null);
    assert.match(refusal(gov, 'create_record', EXPIRED, small, T0 + DAY)!, /not a delegate/, 'an expired delegation is no role');
  });

  it('refuses an argument above the method cap', () => {
    const { gov } = withDelegates();
    assert.equal(refusal(gov, 'propose', ALICE, () => MAX_PROPOSE_ARG_BYTES, T0), null);
    assert.match(refusal(gov, 'propose', ALICE, () => MAX_PROPOSE_ARG_BYTES + 1, T0)!, /more than the 32768 allowed/);
    assert.match(refusal(gov, 'vote', ALICE, () => 100_000, T0)!, /vote: the argument is 100000 bytes/);
    assert.match(refusal(gov, 'create_record', DELEGATE, () => 2_000_000, T0)!, /create_record: the argument/);
  });
});
