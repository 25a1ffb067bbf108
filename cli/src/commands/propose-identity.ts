// `canopy propose rotation-keys|pds-endpoint`: did:plc identity changes, each a PLC operation the
// canister signs with its rotation key once the proposal is adopted.
import type { Command } from '../cli.ts';
import { usageError } from '../errors.ts';
import { kind } from './propose.ts';

export const proposeIdentityCommands: Command[] = [
  kind('rotation-keys', 'propose the did:plc rotation keys that follow the canister\'s own key (e.g. a recovery key)', {
    args: '[did:key…]',
    notes:
      'The canister\'s own rotation key always stays first; up to 4 more did:keys follow in the order given. ' +
      'Whoever holds one of them can change the DID without the canister (recovery if the canister is lost). ' +
      'No key: only the canister\'s own key remains. did:web accounts have no rotation keys (the proposal is refused).',
    examples: ['canopy propose rotation-keys did:key:zQ3sh… --summary "the board\'s recovery key"', 'canopy propose rotation-keys   # remove the extra keys'],
    action(ctx) {
      const keys = ctx.positionals.slice();
      for (const k of keys) if (!k.startsWith('did:key:')) throw usageError(`${JSON.stringify(k)} is not a did:key`);
      return { set_rotation_keys: { keys } };
    },
  }),
  kind('pds-endpoint', 'propose the PDS endpoint the DID document names (did:plc)', {
    args: '<url>',
    notes: 'Use `canopy propose migrate-out` to move the account to another PDS; this only changes where the DID document points.',
    examples: ['canopy propose pds-endpoint https://pds.example.com'],
    action(ctx) {
      const url = ctx.positional(0, 'url');
      ctx.noMorePositionals(1);
      return { set_pds_endpoint: { url } };
    },
  }),
];
