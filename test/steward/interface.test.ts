// steward/steward.did is the interface Azle derives from the steward's method table; this keeps the committed
// file true after a change to steward/src/interface.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtCandidPath } from '../../scripts/build-canister.ts';
import { parseDid } from '../support/candid-did.ts';
import { buildTarget } from './deploy.ts';

test('steward.did equals the interface of the built steward wasm, structurally', async () => {
  await buildTarget('steward');
  const built = parseDid(readFileSync(builtCandidPath(undefined, 'steward'), 'utf8'));
  const committed = parseDid(readFileSync(new URL('../../steward/steward.did', import.meta.url), 'utf8'));
  assert.deepStrictEqual(committed, built, 'copy the built interface: cp .azle/steward/steward.did steward/steward.did');
});
