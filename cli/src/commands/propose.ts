// `canopy propose <kind>`: one subcommand per proposal kind.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Command, Context, OptionSpec } from '../cli.ts';
import { CliError, usageError } from '../errors.ts';
import { tagged } from '../../../canister/src/api/candid.ts';
import type { ProposalActionC } from '../../../canister/src/api/interface.ts';
import { percent, duration } from '../format.ts';
import { ownAccount, POST_OPTIONS, postParts, progressWriter } from '../post-input.ts';
import { uploadFile } from '../upload.ts';
import {
  parseDuration, parseExpiry, parseOps, parsePercent, parsePositiveInt, parsePrincipal, parseRecordLocator,
} from '../values.ts';

const SUMMARY: Record<string, OptionSpec> = { summary: { type: 'string', value: 'text', desc: 'why: shown to voters' } };

async function submit(ctx: Context, action: ProposalActionC): Promise<void> {
  const actor = await ctx.conn.actor();
  const summary = ctx.values.summary as string | undefined;
  const id: bigint = await actor.propose({ action, summary: summary === undefined ? [] : [summary] });
  ctx.emit({ id }, `proposal ${id} created — vote with: canopy vote ${id} yes`);
}

export function kind(name: string, summary: string, spec: Omit<Command, 'name' | 'summary' | 'run'> & { action(ctx: Context): Promise<ProposalActionC> | ProposalActionC }): Command {
  return {
    name: `propose ${name}`,
    summary,
    args: spec.args,
    notes: spec.notes,
    options: { ...(spec.options ?? {}), ...SUMMARY },
    examples: spec.examples,
    async run(ctx) {
      ctx.conn.identity(true); // no identity: say so before any network call or upload
      const action = await spec.action(ctx);
      await submit(ctx, action);
    },
  };
}

/** A proposal kind whose one argument is a principal. */
function principalKind(name: string, summary: string, toAction: (principal: string) => ProposalActionC): Command {
  return kind(name, summary, {
    args: '<principal>',
    examples: [`canopy propose ${name} 2vxsx-…`],
    action(ctx) {
      const principal = parsePrincipal(ctx.positional(0, 'principal'));
      ctx.noMorePositionals(1);
      return toAction(principal);
    },
  });
}

/** A file is uploaded first; a CID is used as is; "" removes the image. */
async function blobArg(ctx: Context, value: string | undefined): Promise<[] | [string]> {
  if (value === undefined) return [];
  if (value === '' || /^b[a-z2-7]{20,}$/.test(value)) return [value];
  if (!existsSync(value)) throw usageError(`${JSON.stringify(value)} is neither a file nor a blob CID`);
  const blob = await uploadFile(await ctx.conn.actor(), value, { progress: ctx.io.isTTY && !ctx.json ? progressWriter(ctx) : undefined });
  return [blob.cid];
}

function recordJsonArg(ctx: Context): string {
  const v = ctx.values;
  if ((v.record === undefined) === (v['record-file'] === undefined)) throw usageError('give the record with --record <json> or --record-file <path>');
  let text = v.record as string | undefined;
  if (text === undefined) {
    try {
      text = readFileSync(v['record-file'], 'utf8');
    } catch {
      throw new CliError(`cannot read ${v['record-file']}`);
    }
  }
  try {
    JSON.parse(text);
  } catch {
    throw usageError('the record is not valid JSON');
  }
  return text;
}

export const RECORD_OPTIONS: Record<string, OptionSpec> = {
  collection: { type: 'string', value: 'nsid', desc: 'collection, e.g. app.bsky.graph.follow' },
  rkey: { type: 'string', value: 'key', desc: 'record key (default: a new TID)' },
  record: { type: 'string', value: 'json', desc: 'the record as atproto JSON ($type may be left out)' },
  'record-file': { type: 'string', value: 'path', desc: 'read the record JSON from a file' },
};

export const proposeCommands: Command[] = [
  kind('post', 'propose a post (text, languages, images, reply, quote)', {
    options: { ...POST_OPTIONS },
    notes: 'Links, #hashtags and @mentions in the text become facets. Mentions of this account\'s own handle resolve by\nthemselves; others resolve with --mention, or (on --network ic) through the Bluesky AppView.',
    examples: [
      'canopy propose post --text "Hello from our co-op 🌳 #canopy"',
      'canopy propose post --text "Meeting notes: https://example.org/notes" --lang en --summary "weekly notes"',
      'canopy propose post --text "Thanks @alice.example.com!" --mention alice.example.com=did:plc:abcd…',
      'canopy propose post --text "Our garden" --image garden.jpg --alt "Raised beds in spring"',
      'canopy propose post --text "Agreed." --reply at://did:plc:…/app.bsky.feed.post/3k…',
      'canopy propose post --text "Worth reading" --quote at://did:plc:…/app.bsky.feed.post/3k…#bafyrei…',
      'canopy propose post --text "Hello" --json        # {"id":1}',
    ],
    async action(ctx) {
      ctx.noMorePositionals(0);
      const p = await postParts(ctx, await ownAccount(ctx));
      return {
        post: {
          text: p.text, langs: p.langs, mentions: p.mentions,
          reply: p.reply ? [p.reply] : [],
          images: p.images.map((i) => ({ cid: i.cid, alt: i.alt, aspect_ratio: i.aspectRatio ? [i.aspectRatio] : [] })),
          quote: p.quote ? [p.quote] : [],
        },
      };
    },
  }),
  kind('delete', 'propose deleting a record of the account', {
    args: '<at-uri | collection/rkey>',
    examples: ['canopy propose delete at://did:web:example.com/app.bsky.feed.post/3kabc…', 'canopy propose delete app.bsky.feed.post/3kabc… --summary "typo"'],
    action(ctx) {
      const { collection, rkey } = parseRecordLocator(ctx.positional(0, 'record'));
      ctx.noMorePositionals(1);
      return { delete_record: { collection, rkey } };
    },
  }),
  kind('put', 'propose writing a record in any collection (validated before the vote)', {
    options: RECORD_OPTIONS,
    examples: [
      'canopy propose put --collection app.bsky.graph.follow --record \'{"subject":"did:plc:…","createdAt":"2026-01-01T00:00:00Z"}\'',
      'canopy propose put --collection app.bsky.feed.threadgate --rkey 3kabc… --record-file gate.json',
    ],
    action(ctx) {
      ctx.noMorePositionals(0);
      if (!ctx.values.collection) throw usageError('--collection is required');
      return { put_record: { collection: ctx.values.collection, rkey: ctx.values.rkey ? [ctx.values.rkey] : [], record_json: recordJsonArg(ctx) } };
    },
  }),
  kind('profile', 'propose profile changes (display name, description, avatar, banner)', {
    options: {
      'display-name': { type: 'string', value: 'text', desc: 'display name ("" removes it)' },
      description: { type: 'string', value: 'text', desc: 'bio ("" removes it)' },
      avatar: { type: 'string', value: 'file|cid', desc: 'avatar image, PNG or JPEG ("" removes it)' },
      banner: { type: 'string', value: 'file|cid', desc: 'banner image, PNG or JPEG ("" removes it)' },
    },
    notes: 'Fields you leave out stay as they are.',
    examples: ['canopy propose profile --display-name "Canopy Co-op" --description "A community account"', 'canopy propose profile --avatar logo.png --banner ""'],
    async action(ctx) {
      ctx.noMorePositionals(0);
      const v = ctx.values;
      const text = (x: string | undefined): [] | [string] => (x === undefined ? [] : [x]);
      const action = { display_name: text(v['display-name']), description: text(v.description), avatar: await blobArg(ctx, v.avatar), banner: await blobArg(ctx, v.banner) };
      if (Object.values(action).every((x) => x.length === 0)) throw usageError('nothing to change: give --display-name, --description, --avatar or --banner');
      return { update_profile: action };
    },
  }),
  kind('handle', 'propose a new handle for the account', {
    args: '<handle>',
    notes: 'The handle must resolve to the account\'s DID (DNS TXT _atproto.<handle> or https://<handle>/.well-known/atproto-did).',
    examples: ['canopy propose handle canopy.example.com'],
    action(ctx) {
      const handle = ctx.positional(0, 'handle');
      ctx.noMorePositionals(1);
      return { set_handle: { handle } };
    },
  }),
  kind('add-member', 'propose adding a member', {
    args: '<principal>',
    options: { power: { type: 'string', value: 'n', desc: 'voting power (default 1)' } },
    examples: ['canopy propose add-member 2vxsx-… --power 2 --summary "Dana joins the board"', 'canopy identity whoami   # the principal to give to the members'],
    action(ctx) {
      const principal = parsePrincipal(ctx.positional(0, 'principal'));
      ctx.noMorePositionals(1);
      return { add_member: { principal, power: BigInt(ctx.values.power ? parsePositiveInt(ctx.values.power, '--power') : 1) } };
    },
  }),
  principalKind('remove-member', 'propose removing a member', (principal) => ({ remove_member: { principal } })),
  kind('set-power', 'propose changing a member\'s voting power', {
    args: '<principal> <power>',
    examples: ['canopy propose set-power 2vxsx-… 3'],
    action(ctx) {
      const principal = parsePrincipal(ctx.positional(0, 'principal'));
      const power = parsePositiveInt(ctx.positional(1, 'power'), 'power');
      ctx.noMorePositionals(2);
      return { set_member_power: { principal, power: BigInt(power) } };
    },
  }),
  kind('rules', 'propose new voting rules (unchanged ones keep their value)', {
    options: {
      'voting-period': { type: 'string', value: 'duration', desc: 'how long a proposal is open, e.g. 24h, 3d' },
      quorum: { type: 'string', value: 'percent', desc: 'share of all voting power that must vote, e.g. 50%' },
      threshold: { type: 'string', value: 'percent', desc: 'yes must be above this share of yes+no, e.g. 50%' },
    },
    notes: 'Rules apply to proposals created after the change; open proposals keep the rules they started with.',
    examples: ['canopy propose rules --voting-period 3d', 'canopy propose rules --quorum 33% --threshold 66.66%'],
    async action(ctx) {
      ctx.noMorePositionals(0);
      const v = ctx.values;
      if (v['voting-period'] === undefined && v.quorum === undefined && v.threshold === undefined) throw usageError('give --voting-period, --quorum and/or --threshold');
      const current = await (await ctx.conn.actor()).get_rules();
      const rules = {
        voting_period_ns: v['voting-period'] === undefined ? current.voting_period_ns : parseDuration(v['voting-period'], '--voting-period'),
        quorum_bps: v.quorum === undefined ? current.quorum_bps : parsePercent(v.quorum, '--quorum'),
        threshold_bps: v.threshold === undefined ? current.threshold_bps : parsePercent(v.threshold, '--threshold'),
      };
      if (!ctx.json) ctx.note(`new rules: period ${duration(rules.voting_period_ns)}, quorum ${percent(rules.quorum_bps)}, threshold ${percent(rules.threshold_bps)}`);
      return { set_rules: rules };
    },
  }),
  kind('grant-delegate', 'propose letting a principal write directly, within a scope', {
    args: '<principal>',
    options: {
      collection: { type: 'string', multiple: true, value: 'nsid', desc: 'collection it may write (repeatable)' },
      allow: { type: 'string', value: 'ops', desc: 'operations: create,put,delete (default create)' },
      'per-day': { type: 'string', value: 'n', desc: 'writes per UTC day (default 50)' },
      expires: { type: 'string', value: 'date|duration', desc: 'end of the delegation: 2026-12-31 or 30d (default: none)' },
    },
    examples: [
      'canopy propose grant-delegate 2vxsx-… --collection app.bsky.feed.post --allow create,delete --per-day 20 --expires 30d',
      'canopy propose grant-delegate 2vxsx-… --collection app.bsky.feed.like --collection app.bsky.feed.repost',
    ],
    action(ctx) {
      const principal = parsePrincipal(ctx.positional(0, 'principal'));
      ctx.noMorePositionals(1);
      const collections: string[] = ctx.values.collection ?? [];
      if (collections.length === 0) throw usageError('give at least one --collection');
      return {
        grant_delegate: {
          principal,
          scope: {
            collections,
            actions: parseOps(ctx.values.allow ?? 'create').map((a) => tagged(a)),
            writes_per_day: ctx.values['per-day'] ? parsePositiveInt(ctx.values['per-day'], '--per-day', 100_000) : 50,
            expires_at_ns: ctx.values.expires ? [parseExpiry(ctx.values.expires)] : [],
          },
        },
      };
    },
  }),
  principalKind('revoke-delegate', 'propose ending a delegation', (principal) => ({ revoke_delegate: { principal } })),
  kind('deactivate', 'propose deactivating the account (relays and apps stop showing it)', {
    examples: ['canopy propose deactivate --summary "pause while we reorganise"'],
    action(ctx) {
      ctx.noMorePositionals(0);
      return { set_account_active: { active: false } };
    },
  }),
  kind('reactivate', 'propose reactivating the account', {
    examples: ['canopy propose reactivate'],
    action(ctx) {
      ctx.noMorePositionals(0);
      return { set_account_active: { active: true } };
    },
  }),
  kind('approve-upgrade', 'propose approving a canister upgrade by its wasm hash (recorded)', {
    args: '<sha256-hex | wasm-file>',
    notes: 'The approval is a public record; a controller installs the approved wasm (dfx canister install --mode upgrade).',
    examples: ['canopy propose approve-upgrade .azle/canopy/canopy.wasm.gz', 'canopy propose approve-upgrade 3f5a…(64 hex digits)'],
    action(ctx) {
      const arg = ctx.positional(0, 'wasm hash or file');
      ctx.noMorePositionals(1);
      let hash = arg.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) {
        if (!existsSync(arg)) throw usageError(`${JSON.stringify(arg)} is neither a 64-digit SHA-256 hex hash nor a file`);
        hash = createHash('sha256').update(readFileSync(arg)).digest('hex');
        if (!ctx.json) ctx.note(`sha256 ${hash}`);
      }
      return { approve_upgrade: { wasm_hash: hash } };
    },
  }),
];

