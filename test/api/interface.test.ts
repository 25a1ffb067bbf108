// canister/canopy.did is what scripts/gen-did.ts prints from the method table, and it describes
// exactly the interface of the built canister (the .did Azle derives from the wasm's decorators)
// and of the agents' idlFactory: same methods and modes, same types field by field, compared
// structurally (nesting, field names and types; order and type names do not matter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { idlFactory, initArgs } from '../../canister/src/api/interface.ts';
import { didText } from '../../scripts/gen-did.ts';
import { builtCandidPath } from '../../scripts/build-canister.ts';
import { buildCanister } from '../support/canopy.ts';
import { parseDid, type DidFunc, type DidService, type DidType } from '../support/candid-did.ts';

const committed = readFileSync(new URL('../../canister/canopy.did', import.meta.url), 'utf8');

/** The structural form of an IDL value (what the agents encode and decode with). */
function fromIdl(t: IDL.Type): DidType {
  if (t instanceof IDL.VecClass) return { vec: fromIdl((t as IDL.VecClass<unknown>)._type) };
  if (t instanceof IDL.OptClass) return { opt: fromIdl((t as IDL.OptClass<unknown>)._type) };
  if (t instanceof IDL.TupleClass) {
    const parts = (t as unknown as { _components: IDL.Type[] })._components;
    return { record: Object.fromEntries(parts.map((p, i) => [String(i), fromIdl(p)])) };
  }
  if (t instanceof IDL.RecordClass) return { record: Object.fromEntries(t._fields.map(([k, v]) => [k, fromIdl(v)])) };
  if (t instanceof IDL.VariantClass) return { variant: Object.fromEntries(t._fields.map(([k, v]) => [k, fromIdl(v)])) };
  if (t instanceof IDL.FuncClass) return { func: funcFromIdl(t) };
  return { prim: t.display() };
}
const funcFromIdl = (f: IDL.FuncClass): DidFunc => ({ args: f.argTypes.map(fromIdl), rets: f.retTypes.map(fromIdl), modes: [...f.annotations].sort() });

test('canister/canopy.did is what scripts/gen-did.ts generates from the method table', () => {
  assert.equal(committed, didText(), 'run: node --import tsx scripts/gen-did.ts > canister/canopy.did');
});

test('canopy.did describes the agents\' idlFactory and init argument, structurally', () => {
  const service = idlFactory({ IDL }) as IDL.ServiceClass;
  const fromFactory: DidService = {
    init: initArgs.map(fromIdl),
    methods: Object.fromEntries(service._fields.map(([name, f]) => [name, funcFromIdl(f)])),
  };
  assert.deepStrictEqual(parseDid(committed), fromFactory);
});

test('canopy.did equals the interface of the built canister wasm, structurally', async () => {
  await buildCanister();
  const built = parseDid(readFileSync(builtCandidPath(), 'utf8'));
  const ours = parseDid(committed);
  assert.deepStrictEqual(Object.keys(ours.methods).sort(), Object.keys(built.methods).sort(), 'same methods');
  for (const name of Object.keys(ours.methods)) assert.deepStrictEqual(ours.methods[name], built.methods[name], `method ${name}`);
  assert.deepStrictEqual(ours.init, built.init, 'init argument');
});

test('the structural comparison sees a swapped field type, a moved field and a changed mode', () => {
  const base = parseDid(committed);
  const variants = [
    // swap two field types in a nested record
    committed.replace('quorum_bps : nat32; threshold_bps : nat32', 'quorum_bps : nat64; threshold_bps : nat32'),
    // move a field from a nested record to its parent (the same tokens, another shape)
    committed
      .replace('type Event = record { seq : nat64; frame : blob; time_ns : nat64 };', 'type Event = record { seq : nat64; frame : blob };')
      .replace('type EventsPage = record { head : nat64;', 'type EventsPage = record { time_ns : nat64; head : nat64;'),
    // a query becomes an update
    committed.replace('get_status : () -> (Status) query;', 'get_status : () -> (Status);'),
  ];
  for (const text of variants) {
    assert.notEqual(text, committed, 'the edit applies');
    assert.notDeepStrictEqual(parseDid(text), base);
  }
});
