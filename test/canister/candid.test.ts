// The Candid service agents use (canopyIdlFactory) matches the interface the build generated
// (canister/canopy.did): same methods, same query/update modes, same argument and result types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { canopyIdlFactory, canopyMethods, InitArgsIdl } from '../../canister/src/pds/candid.ts';

const did = readFileSync(new URL('../../canister/canopy.did', import.meta.url), 'utf8');

function didMethods(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s{4}([a-z_]+): (.*);$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

test('canopy.did declares exactly the methods of canopyIdlFactory, with the same types and modes', () => {
  const service = canopyIdlFactory({ IDL }) as IDL.ServiceClass;
  const fromDid = didMethods(did);
  const fromIdl = new Map(service._fields.map(([name, func]) => [name, func as IDL.FuncClass]));
  // plc_transform is the HTTPS-outcall transform: in the .did, not needed by agents.
  assert.deepEqual([...fromDid.keys()].filter((k) => k !== 'plc_transform').sort(), [...fromIdl.keys()].sort());
  for (const [name, func] of fromIdl) {
    const sig = fromDid.get(name)!;
    assert.equal(sig.endsWith(' query'), func.annotations.includes('query'), `${name} mode`);
    // Normalised comparison of argument/result type text (field order may differ).
    const norm = (s: string) => s.replace(/→/g, '->').replace(/func/g, '').replace(/\s+/g, '').replace(/"/g, '').split(/[;{}(),]/).filter(Boolean).sort().join('|');
    const argText = func.argTypes.map((t) => t.display()).join(', ');
    const retText = func.retTypes.map((t) => t.display()).join(', ');
    assert.equal(norm(sig.replace(/ query$/, '')), norm(`(${argText}) -> (${retText})`), `${name} types`);
  }
});

test('the service init argument is InitArgs', () => {
  const m = /^service: \((.*)\) -> \{$/m.exec(did);
  assert.ok(m, 'service has an init argument');
  const norm = (s: string) => s.replace(/\s+/g, '').replace(/"/g, '').split(/[;{}(),:]/).filter(Boolean).sort().join('|');
  assert.equal(norm(m![1]), norm(InitArgsIdl.display()));
  assert.ok(Object.keys(canopyMethods).includes('get_events'));
});
