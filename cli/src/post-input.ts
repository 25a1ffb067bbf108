// Turning `--text/--image/--reply/--quote/--mention` into a post: uploads, strong references
// looked up when only an AT-URI is given, and mentions resolved to DIDs where possible.
import { existsSync, readFileSync } from 'node:fs';
import { detectFacets } from '../../canister/src/bsky/facets.ts';
import type { Context } from './cli.ts';
import { CliError, usageError } from './errors.ts';
import { uploadFile, type UploadedBlob } from './upload.ts';
import { parseMention, parseStrongRef } from './values.ts';

export const POST_OPTIONS = {
  text: { type: 'string', value: 'text', desc: 'the post text (links, #tags and @mentions become facets)' },
  'text-file': { type: 'string', value: 'path', desc: 'read the text from a file' },
  lang: { type: 'string', multiple: true, value: 'tag', desc: 'language of the text (repeatable, e.g. en, pt-BR)' },
  mention: { type: 'string', multiple: true, value: 'handle=did', desc: 'resolve a mention to a DID (repeatable)' },
  image: { type: 'string', multiple: true, value: 'file|cid', desc: 'attach an image: a file (uploaded first) or a blob CID (up to 4)' },
  alt: { type: 'string', multiple: true, value: 'text', desc: 'alt text for the image at the same position' },
  reply: { type: 'string', value: 'at-uri[#cid]', desc: 'reply to this post (root and parent looked up)' },
  quote: { type: 'string', value: 'at-uri[#cid]', desc: 'quote this record' },
} as const;

export type StrongRef = { uri: string; cid: string };
export type PostParts = {
  text: string;
  langs: string[];
  mentions: { handle: string; did: string }[];
  reply?: { root: StrongRef; parent: StrongRef };
  images: { cid: string; alt: string; aspectRatio?: { width: number; height: number } }[];
  quote?: StrongRef;
  uploaded: Map<string, UploadedBlob>;
};

const APPVIEW = 'https://public.api.bsky.app';

async function getJson(url: string, timeoutMs = 8000): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${res.status}`);
  return res.json();
}

/** Where this account's records can be read over HTTP: the canister's gateway on the replica or on ic. */
function gatewayXrpc(ctx: Context, path: string): string {
  const id = ctx.conn.canisterId();
  if (ctx.conn.network === 'local') return `${ctx.conn.host}${path}${path.includes('?') ? '&' : '?'}canisterId=${id}`;
  return `https://${id}.raw.icp0.io${path}`;
}

/** Reads a record (cid and value) of this account through the canister, or any public post through the AppView. */
async function fetchRecord(ctx: Context, uri: string, ownDid: string): Promise<{ cid: string; value: any }> {
  const [, , repo, collection, rkey] = uri.split('/');
  if (repo === ownDid) {
    const path = `/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(repo!)}&collection=${collection}&rkey=${rkey}`;
    try {
      const r = await getJson(gatewayXrpc(ctx, path));
      return { cid: r.cid, value: r.value };
    } catch {
      throw new CliError(`cannot read ${uri} from this account; give its CID as ${uri}#<cid>`);
    }
  }
  if (ctx.conn.network === 'ic' && collection === 'app.bsky.feed.post') {
    try {
      const r = await getJson(`${ctx.io.env.CANOPY_APPVIEW ?? APPVIEW}/xrpc/app.bsky.feed.getPosts?uris=${encodeURIComponent(uri)}`);
      const post = r.posts?.[0];
      if (post?.cid) return { cid: post.cid, value: post.record };
    } catch {
      /* fall through */
    }
  }
  throw new CliError(`cannot look up ${uri}; give its CID as ${uri}#<cid>`);
}

async function strongRef(ctx: Context, text: string, what: string, ownDid: string): Promise<{ ref: StrongRef; value?: any }> {
  const { uri, cid } = parseStrongRef(text, what);
  if (cid) return { ref: { uri, cid } };
  const rec = await fetchRecord(ctx, uri, ownDid);
  return { ref: { uri, cid: rec.cid }, value: rec.value };
}

async function resolveHandle(ctx: Context, handle: string): Promise<string | undefined> {
  if (ctx.conn.network !== 'ic' && !ctx.io.env.CANOPY_APPVIEW) return undefined;
  try {
    const r = await getJson(`${ctx.io.env.CANOPY_APPVIEW ?? APPVIEW}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`, 5000);
    return typeof r.did === 'string' && r.did.startsWith('did:') ? r.did : undefined;
  } catch {
    return undefined;
  }
}

/** Collects the post options into parts; uploads image files (needs a connection). */
export async function postParts(ctx: Context, own: { did: string; handle: string }): Promise<PostParts> {
  const v = ctx.values;
  if (v.text !== undefined && v['text-file'] !== undefined) throw usageError('give --text or --text-file, not both');
  let text: string = v.text ?? '';
  if (v['text-file'] !== undefined) {
    try {
      text = readFileSync(v['text-file'], 'utf8').replace(/\n$/, '');
    } catch {
      throw new CliError(`cannot read ${v['text-file']}`);
    }
  }
  const imagesIn: string[] = v.image ?? [];
  const alts: string[] = v.alt ?? [];
  if (alts.length > imagesIn.length) throw usageError('more --alt than --image');
  if (text === '' && imagesIn.length === 0 && !v.quote) throw usageError('a post needs --text (or --image / --quote); see --help');

  const mentions = new Map<string, string>();
  for (const m of (v.mention ?? []) as string[]) {
    const { handle, did } = parseMention(m);
    mentions.set(handle, did);
  }
  // mentions in the text that nothing maps yet: try to resolve them (network ic), else say so
  const wanted: string[] = [];
  detectFacets(text, (h) => {
    if (!mentions.has(h) && h !== own.handle.toLowerCase()) wanted.push(h);
    return undefined;
  });
  for (const h of [...new Set(wanted)]) {
    const did = await resolveHandle(ctx, h);
    if (did) mentions.set(h, did);
    else ctx.note(`note: @${h} is not resolved to a DID, so it stays plain text (pass --mention ${h}=did:…)`);
  }

  const uploaded = new Map<string, UploadedBlob>();
  const images: PostParts['images'] = [];
  for (const [i, img] of imagesIn.entries()) {
    const alt = alts[i] ?? '';
    if (existsSync(img)) {
      const actor = await ctx.conn.actor();
      const blob = await uploadFile(actor, img, { progress: ctx.io.isTTY && !ctx.json ? progressWriter(ctx) : undefined });
      uploaded.set(blob.cid, blob);
      images.push({ cid: blob.cid, alt, ...(blob.aspectRatio ? { aspectRatio: blob.aspectRatio } : {}) });
    } else if (/^b[a-z2-7]{20,}$/.test(img)) {
      images.push({ cid: img, alt });
    } else {
      throw usageError(`--image ${JSON.stringify(img)} is neither a file nor a blob CID`);
    }
  }

  let reply: PostParts['reply'];
  if (v.reply) {
    const parent = await strongRef(ctx, v.reply, '--reply', own.did);
    const root = parent.value?.reply?.root;
    reply = { root: root?.uri && root?.cid ? { uri: root.uri, cid: root.cid } : parent.ref, parent: parent.ref };
  }
  const quote = v.quote ? (await strongRef(ctx, v.quote, '--quote', own.did)).ref : undefined;
  return { text, langs: v.lang ?? [], mentions: [...mentions].map(([handle, did]) => ({ handle, did })), reply, images, quote, uploaded };
}

export function progressWriter(ctx: Context): (line: string, final: boolean) => void {
  return (line, final) => {
    process.stderr.write(`\r${line}${final ? '\n' : ''}`);
  };
}

export const ownAccount = async (ctx: Context): Promise<{ did: string; handle: string }> => {
  const s = await (await ctx.conn.actor(false)).get_status();
  return { did: s.did, handle: s.handle };
};

