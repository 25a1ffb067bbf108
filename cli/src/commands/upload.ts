// `canopy upload`: a blob for proposals and posts.
import type { Command } from '../cli.ts';
import { progressWriter } from '../post-input.ts';
import { uploadFile } from '../upload.ts';

export const uploadCommands: Command[] = [
  {
    name: 'upload',
    summary: 'upload a blob (image, video) for use in proposals and posts; prints its CID',
    args: '<file>',
    options: { mime: { type: 'string', value: 'type', desc: 'MIME type (default: detected from the content)' } },
    examples: ['canopy upload garden.jpg', 'canopy upload logo.png --json   # {"cid":"bafkrei…","mimeType":"image/png","size":12345}'],
    async run(ctx) {
      const path = ctx.positional(0, 'file');
      ctx.noMorePositionals(1);
      const actor = await ctx.conn.actor();
      const blob = await uploadFile(actor, path, { mime: ctx.values.mime, progress: ctx.io.isTTY && !ctx.json ? progressWriter(ctx) : undefined });
      ctx.emit({ cid: blob.cid, mimeType: blob.mimeType, size: blob.size }, `${blob.cid}  (${blob.mimeType}, ${blob.size} bytes)`);
    },
  },
];
