// `canopy write …`: a delegate's direct writes, within the scope its delegation allows.
import { dataToJson } from '../../../canister/src/atproto/data-model.ts';
import { buildPost } from '../../../canister/src/bsky/post.ts';
import type { Command, Context } from '../cli.ts';
import { usageError } from '../errors.ts';
import { fromOpt } from '../../../canister/src/api/candid.ts';
import type { RecordWriteResultC } from '../../../canister/src/api/interface.ts';
import { ownAccount, POST_OPTIONS, postParts } from '../post-input.ts';
import { parseRecordLocator } from '../values.ts';
import { RECORD_OPTIONS } from './propose.ts';

function emitWrite(ctx: Context, r: RecordWriteResultC, verb: string): void {
  const out = { uri: r.uri, cid: fromOpt(r.cid) ?? null, rev: r.rev };
  ctx.emit(out, `${verb} ${r.uri}${out.cid ? `\n  cid ${out.cid}` : ''}\n  rev ${r.rev}`);
}

export const writeCommands: Command[] = [
  {
    name: 'write post',
    summary: 'post directly (delegates with create rights on app.bsky.feed.post)',
    options: { ...POST_OPTIONS },
    examples: [
      'canopy write post --text "Doors open at 6pm today #events"',
      'canopy write post --text "Photos from today" --image a.jpg --alt "The crowd" --image b.jpg --alt "The stage"',
      'canopy write post --text "Hello" --json      # {"uri":"at://…","cid":"bafyrei…","rev":"3k…"}',
    ],
    async run(ctx) {
      ctx.noMorePositionals(0);
      ctx.conn.identity(true);
      const own = await ownAccount(ctx);
      const p = await postParts(ctx, own);
      for (const img of p.images) {
        if (!p.uploaded.has(img.cid)) throw usageError('a direct post takes images as files (uploaded with it), not CIDs');
      }
      const { record } = buildPost(
        { did: () => own.did, handle: () => own.handle, blob: (cid) => p.uploaded.get(cid) },
        { text: p.text, langs: p.langs, mentions: p.mentions, reply: p.reply, images: p.images, quote: p.quote },
      );
      const json = JSON.stringify(dataToJson({ ...record, createdAt: new Date().toISOString() }));
      const actor = await ctx.conn.actor();
      emitWrite(ctx, await actor.create_record({ collection: 'app.bsky.feed.post', rkey: [], record_json: json }), 'posted');
    },
  },
  {
    name: 'write put',
    summary: 'create or replace a record directly (delegates with put/create rights)',
    options: RECORD_OPTIONS,
    examples: [
      'canopy write put --collection app.bsky.feed.like --record \'{"subject":{"uri":"at://…","cid":"bafyrei…"},"createdAt":"2026-01-01T00:00:00Z"}\'',
      'canopy write put --collection app.bsky.actor.profile --rkey self --record-file profile.json',
    ],
    async run(ctx) {
      ctx.noMorePositionals(0);
      const v = ctx.values;
      if (!v.collection) throw usageError('--collection is required');
      if ((v.record === undefined) === (v['record-file'] === undefined)) throw usageError('give the record with --record <json> or --record-file <path>');
      const { readFileSync } = await import('node:fs');
      let text: string = v.record ?? '';
      if (v['record-file'] !== undefined) {
        try {
          text = readFileSync(v['record-file'], 'utf8');
        } catch {
          throw usageError(`cannot read ${v['record-file']}`);
        }
      }
      try {
        JSON.parse(text);
      } catch {
        throw usageError('the record is not valid JSON');
      }
      const actor = await ctx.conn.actor();
      const r = v.rkey
        ? await actor.put_record({ collection: v.collection, rkey: v.rkey, record_json: text, swap_record: [] })
        : await actor.create_record({ collection: v.collection, rkey: [], record_json: text });
      emitWrite(ctx, r, 'wrote');
    },
  },
  {
    name: 'write delete',
    summary: 'delete a record directly (delegates with delete rights)',
    args: '<at-uri | collection/rkey>',
    examples: ['canopy write delete at://did:web:example.com/app.bsky.feed.post/3kabc…', 'canopy write delete app.bsky.feed.post/3kabc… --json'],
    async run(ctx) {
      const { collection, rkey } = parseRecordLocator(ctx.positional(0, 'record'));
      ctx.noMorePositionals(1);
      const actor = await ctx.conn.actor();
      emitWrite(ctx, await actor.delete_record({ collection, rkey, swap_record: [] }), 'deleted');
    },
  },
];
