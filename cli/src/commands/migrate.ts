// `canopy propose migrate-out` and `canopy migrate out`: moving the account to another PDS by vote.
import type { Command } from '../cli.ts';
import { json } from '../format.ts';
import { usageError } from '../errors.ts';
import { kind } from './propose.ts';
import { migrateOut } from '../migrate-out.ts';

function destination(value: string | undefined): string {
  if (!value) throw usageError('give the destination PDS with --to <url>');
  try {
    return new URL(value).origin;
  } catch {
    throw usageError(`--to ${JSON.stringify(value)} is not a URL`);
  }
}

export const migrateCommands: Command[] = [
  kind('migrate-out', 'propose moving the account to another PDS (names the destination; allows creating the account there)', {
    options: { to: { type: 'string', value: 'pds-url', desc: 'the destination PDS' } },
    notes: 'The destination\'s DID is read from its describeServer. `canopy migrate out` runs the whole move and makes this proposal itself.',
    examples: ['canopy propose migrate-out --to https://pds.example.com'],
    async action(ctx) {
      ctx.noMorePositionals(0);
      const to = destination(ctx.values.to);
      const res = await fetch(`${to}/xrpc/com.atproto.server.describeServer`);
      if (!res.ok) throw usageError(`${to} does not answer describeServer (${res.status})`);
      const { did } = (await res.json()) as { did: string };
      return { migrate_out: { pds_url: to, pds_did: did, credentials: [] } };
    },
  }),
  {
    name: 'migrate out',
    summary: 'move the account to another PDS, step by step (resumable: run it again after a failure or once votes are in)',
    options: {
      to: { type: 'string', value: 'pds-url', desc: 'the destination PDS' },
      handle: { type: 'string', value: 'handle', desc: 'the account\'s handle there' },
      email: { type: 'string', value: 'email', desc: 'the account\'s email there' },
      password: { type: 'string', value: 'password', desc: 'the account\'s password there' },
      'invite-code': { type: 'string', value: 'code', desc: 'if the destination requires one' },
      from: { type: 'string', value: 'url', desc: 'where this account\'s repo is read (default: its PDS URL)' },
    },
    notes:
      'Steps: a migrate_out proposal naming the destination (voted yes); createAccount there with a service-auth token the canister signs; ' +
      'the repo and missing blobs copied; a migrate_out proposal with the destination\'s recommended DID credentials (voted yes); ' +
      'the canister\'s PLC operation accepted by the directory, which deactivates the account here; the account activated there. ' +
      'When a proposal needs other members\' votes it stops and says which; run it again once adopted.',
    examples: ['canopy migrate out --to https://pds.example.com --handle coop.pds.example.com --email board@coop.example --password …', 'canopy migrate out … --json   # last line {"did":…,"pds":…,"status":"migrated"}'],
    async run(ctx) {
      ctx.noMorePositionals(0);
      const v = ctx.values;
      const to = destination(v.to);
      for (const name of ['handle', 'email', 'password'] as const) if (!v[name]) throw usageError(`give --${name}`);
      const { identity } = ctx.conn.identity(true)!;
      const actor = await ctx.conn.actor();
      const result = await migrateOut(
        actor, identity.getPrincipal().toText(),
        { to, handle: v.handle, email: v.email, password: v.password, inviteCode: v['invite-code'], from: v.from },
        (step, detail) => (ctx.json ? ctx.io.stdout(json({ step, detail })) : ctx.note(`${step.padEnd(11)} ${detail}`)),
      );
      ctx.emit(result, result.status === 'migrated'
        ? `${result.did} now lives at ${result.pds}; the account here is deactivated (its records and event log stay readable here)`
        : `waiting for ${result.waitingFor}: ask the members to vote (canopy vote ${result.proposal} yes), then run this again`);
    },
  },
];
