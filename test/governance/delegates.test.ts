import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Governance } from '../../canister/src/governance/governance.ts';
import type { DelegateScope } from '../../canister/src/governance/types.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { ALICE, ANON, BOB, DAVE, DAY, EVE, HOUR, MIN, RULES, T0, assertRefused, fakeEnv, setup } from './fixtures.ts';

const POST = 'app.bsky.feed.post';
const scope = (over: Partial<DelegateScope> = {}): DelegateScope => ({
  collections: [POST], actions: ['create', 'delete'], writesPerDay: 3, expiresAtNs: null, ...over,
});

function withDelegate(s: DelegateScope) {
  const ctx = setup({ members: [[ALICE, 1n]] });
  const id = ctx.gov.propose(ALICE, { action: { kind: 'grant_delegate', principal: DAVE, scope: s } }, T0);
  ctx.gov.vote(ALICE, id, 'yes', T0);
  assert.equal(ctx.gov.getProposal(id)!.status, 'executed');
  return { ...ctx, grantId: id };
}

describe('delegates', () => {
  it('are granted only by an adopted proposal, with the scope recorded', () => {
    const { gov, kv } = setup({ members: [[ALICE, 1n], [BOB, 1n]] });
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0), /not a delegate/);
    const id = gov.propose(ALICE, { action: { kind: 'grant_delegate', principal: DAVE, scope: scope() } }, T0);
    gov.vote(ALICE, id, 'yes', T0);
    assert.equal(gov.getDelegate(DAVE), null, 'not before adoption');
    gov.vote(BOB, id, 'yes', T0 + 1n);
    assert.deepEqual(gov.getDelegate(DAVE), { principal: DAVE, scope: scope(), grantedBy: id, grantedAtNs: T0 + 1n });
    assert.deepEqual(gov.listDelegates().map((d) => d.principal), [DAVE]);
  });

  it('writes within scope, refuses outside it (collection, operation, caller) without state change', () => {
    const { gov, kv } = withDelegate(scope());
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 1n);
    assert.equal(gov.delegateWritesToday(DAVE, T0 + 1n), 1);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: 'app.bsky.graph.follow' }, T0), /may not write to app.bsky.graph.follow/);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'put', collection: POST }, T0), /may not put records/);
    assertRefused(kv, () => gov.authorizeDelegateWrite(EVE, { action: 'create', collection: POST }, T0), /not a delegate/);
    assertRefused(kv, () => gov.authorizeDelegateWrite(ANON, { action: 'create', collection: POST }, T0), /anonymous/);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'erase' as never, collection: POST }, T0), /unknown write operation/);
    // members are not delegates by being members
    assertRefused(kv, () => gov.authorizeDelegateWrite(ALICE, { action: 'create', collection: POST }, T0), /not a delegate/);
  });

  it('enforces the budget over a rolling 24 hours: no reset at midnight, a write frees up 24-25 hours later', () => {
    const { gov, kv } = withDelegate(scope({ writesPerDay: 2 }));
    const dayStart = (T0 / DAY + 1n) * DAY; // next UTC midnight
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart - 2n * HOUR);
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart - HOUR);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart - 1n), /used its budget of 2 writes in 24 hours/);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart + 1n), /budget/);
    assert.equal(gov.delegateWritesToday(DAVE, dayStart + 1n), 2, 'midnight frees nothing');
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart + 22n * HOUR), /budget/);
    // a write counts until 25 hours after its hour began: the first one (dayStart - 2 h) until dayStart + 23 h
    assert.equal(gov.delegateWritesToday(DAVE, dayStart + 23n * HOUR), 1);
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, dayStart + 23n * HOUR);
    assert.equal(gov.delegateWritesToday(DAVE, dayStart + 23n * HOUR), 2);
  });

  it('no 24-hour span holds more than the budget, wherever it starts', () => {
    const { gov } = withDelegate(scope({ writesPerDay: 3 }));
    const times: bigint[] = [];
    for (let t = T0; t < T0 + 4n * DAY; t += 7n * MIN) {
      try {
        gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, t);
        times.push(t);
      } catch {
        /* over budget */
      }
    }
    assert.ok(times.length >= 9, `the budget is usable every day (${times.length} writes)`);
    for (const start of times) assert.ok(times.filter((t) => t >= start && t < start + DAY).length <= 3, 'at most 3 in any 24 hours');
  });

  it('put and delete touch only records the delegate wrote itself, unless its scope says put_any/delete_any', () => {
    const own = withDelegate(scope({ actions: ['create', 'put', 'delete'] }));
    const exists = () => true;
    gov_record(own.gov, DAVE, 'mine');
    own.gov.authorizeDelegateWrite(DAVE, { action: 'put', collection: POST, rkey: 'mine' }, T0 + 1n, exists);
    own.gov.authorizeDelegateWrite(DAVE, { action: 'delete', collection: POST, rkey: 'mine' }, T0 + 1n, exists);
    assertRefused(own.kv, () => own.gov.authorizeDelegateWrite(DAVE, { action: 'put', collection: POST, rkey: 'voted' }, T0 + 1n, exists), /may only put records it wrote itself/);
    assertRefused(own.kv, () => own.gov.authorizeDelegateWrite(DAVE, { action: 'delete', collection: POST, rkey: 'voted' }, T0 + 1n, exists), /may only delete records it wrote itself/);
    own.gov.authorizeDelegateWrite(DAVE, { action: 'put', collection: POST, rkey: 'new' }, T0 + 1n, () => false);
    const any = withDelegate(scope({ actions: ['create', 'put_any', 'delete_any'] }));
    any.gov.authorizeDelegateWrite(DAVE, { action: 'put', collection: POST, rkey: 'voted' }, T0 + 1n, exists);
    any.gov.authorizeDelegateWrite(DAVE, { action: 'delete', collection: POST, rkey: 'voted' }, T0 + 1n, exists);
  });

  it('a write that did not happen gives its reservation back', () => {
    const { gov } = withDelegate(scope({ writesPerDay: 1 }));
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 1n);
    gov.releaseDelegateWrite(DAVE, T0 + 2n);
    assert.equal(gov.delegateWritesToday(DAVE, T0 + 2n), 0);
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 3n);
    assert.throws(() => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 4n), /budget/);
  });

  it('expires at its expiry time', () => {
    const expiresAtNs = T0 + 2n * HOUR;
    const { gov, kv } = withDelegate(scope({ expiresAtNs }));
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, expiresAtNs - 1n);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, expiresAtNs), /has expired/);
  });

  it('a grant adopted after its own expiry fails instead of granting', () => {
    const { gov } = setup({ members: [[ALICE, 1n], [BOB, 1n]] });
    const id = gov.propose(ALICE, { action: { kind: 'grant_delegate', principal: DAVE, scope: scope({ expiresAtNs: T0 + HOUR }) } }, T0);
    gov.vote(ALICE, id, 'yes', T0);
    const p = gov.vote(BOB, id, 'yes', T0 + 2n * HOUR);
    assert.equal(p.status, 'failed');
    assert.match(p.failure!, /expired before it was adopted/);
    assert.equal(gov.getDelegate(DAVE), null);
  });

  it('is revoked by proposal', () => {
    const { gov, kv } = withDelegate(scope());
    const id = gov.propose(ALICE, { action: { kind: 'revoke_delegate', principal: DAVE } }, T0 + 1n);
    gov.vote(ALICE, id, 'yes', T0 + 1n);
    assertRefused(kv, () => gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 2n), /not a delegate/);
    const again = gov.propose(ALICE, { action: { kind: 'revoke_delegate', principal: DAVE } }, T0 + 3n);
    assert.match(gov.vote(ALICE, again, 'yes', T0 + 3n).failure!, /not a delegate/);
  });

  it('direct writes are audited: who, what, when, uri, cid and commit rev', () => {
    const { gov } = withDelegate(scope());
    gov.authorizeDelegateWrite(DAVE, { action: 'create', collection: POST }, T0 + 5n);
    gov.recordDelegateWrite(DAVE, { action: 'create', collection: POST, rkey: '3kabc' }, { uri: `at://did:web:x/${POST}/3kabc`, cid: 'bafyrei', rev: '3krev' }, T0 + 6n);
    const last = gov.auditLog({ limit: 1, reverse: true }).entries[0]!;
    assert.deepEqual(
      { actor: last.actor, event: last.event, detail: last.detail, atNs: last.atNs, uri: last.uri, cid: last.cid, rev: last.rev },
      { actor: DAVE, event: 'delegate_write', detail: `create ${POST}/3kabc`, atNs: T0 + 6n, uri: `at://did:web:x/${POST}/3kabc`, cid: 'bafyrei', rev: '3krev' },
    );
  });

  it('init may name initial delegates (the dev DAO posts directly)', () => {
    const gov = new Governance(new MemoryKv(), fakeEnv());
    gov.init({ members: [{ principal: ALICE, power: 1n }], rules: RULES, delegates: [{ principal: ALICE, scope: scope({ writesPerDay: 1000 }) }] }, T0);
    gov.authorizeDelegateWrite(ALICE, { action: 'create', collection: POST }, T0 + 1n);
    assert.equal(gov.getDelegate(ALICE)!.grantedBy, null);
    const bad = new Governance(new MemoryKv(), fakeEnv());
    assert.throws(() => bad.init({ members: [{ principal: ALICE, power: 1n }], rules: RULES, delegates: [{ principal: ANON, scope: scope() }] }, T0), /anonymous/);
    assert.equal(bad.isInitialized(), false);
  });
});

function gov_record(gov: Governance, delegate: string, rkey: string): void {
  gov.recordDelegateWrite(delegate, { action: 'create', collection: POST, rkey }, { uri: `at://did:web:x/${POST}/${rkey}`, cid: 'bafyrei', rev: '3krev' }, T0);
}
