// Renders an app.bsky.feed.post record the way Bluesky shows it: text with its facets (links,
// mentions, tags) as links, images with their alt text, and replies and quotes marked as such.
import { h, type Child } from './dom.ts';
import { blobUrl, getRecord, parseRecordUri } from './xrpc.ts';

export type Facet = { index: { byteStart: number; byteEnd: number }; features: { $type: string; uri?: string; did?: string; tag?: string }[] };
type BlobJson = { ref: { $link: string }; mimeType: string; size: number };
type ImageJson = { image: BlobJson; alt: string; aspectRatio?: { width: number; height: number } };
type StrongRef = { uri: string; cid: string };
export type PostJson = {
  text: string;
  facets?: Facet[];
  reply?: { root: StrongRef; parent: StrongRef };
  embed?: { $type: string; images?: ImageJson[]; record?: StrongRef | { record: StrongRef }; media?: { images?: ImageJson[] } };
  langs?: string[];
  createdAt?: string;
};

export type Author = { did: string; handle: string; displayName?: string; avatarCid?: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** https://bsky.app link for an at:// record URI or a DID. */
export function bskyLink(uriOrDid: string): string {
  const r = parseRecordUri(uriOrDid);
  if (r && r.collection === 'app.bsky.feed.post') return `https://bsky.app/profile/${r.repo}/post/${r.rkey}`;
  return `https://bsky.app/profile/${r ? r.repo : uriOrDid}`;
}

export type Segment = { text: string; feature?: 'link' | 'mention' | 'tag'; href?: string };

/** The text split at facet boundaries (UTF-8 byte offsets); overlapping or out-of-range facets stay plain text. */
export function segments(text: string, facets: Facet[] = []): Segment[] {
  const bytes = encoder.encode(text);
  const out: Segment[] = [];
  let at = 0;
  const sorted = [...facets].sort((a, b) => a.index.byteStart - b.index.byteStart);
  for (const f of sorted) {
    const { byteStart, byteEnd } = f.index;
    if (byteStart < at || byteEnd > bytes.length || byteEnd <= byteStart) continue;
    if (byteStart > at) out.push({ text: decoder.decode(bytes.subarray(at, byteStart)) });
    const label = decoder.decode(bytes.subarray(byteStart, byteEnd));
    const feature = f.features[0];
    const kind = feature?.$type.split('#')[1];
    const href =
      kind === 'link' ? feature!.uri
      : kind === 'mention' ? bskyLink(feature!.did ?? '')
      : kind === 'tag' ? `https://bsky.app/hashtag/${encodeURIComponent(feature!.tag ?? '')}`
      : undefined;
    out.push(href && /^https?:\/\//.test(href) ? { text: label, feature: kind as Segment['feature'], href } : { text: label });
    at = byteEnd;
  }
  if (at < bytes.length) out.push({ text: decoder.decode(bytes.subarray(at)) });
  return out;
}

/** Segments as DOM: facets become links (only http(s) targets). */
export const richText = (text: string, facets: Facet[] = []): Child[] =>
  segments(text, facets).map((s) => (s.href ? h('a', { href: s.href, class: `facet ${s.feature}`, rel: 'noopener noreferrer', target: '_blank' }, s.text) : s.text));

function images(did: string, list: ImageJson[], localUrl?: (cid: string) => string | undefined): HTMLElement {
  return h('div', { class: `images n${list.length}` },
    list.map((img) => {
      const cid = img.image.ref.$link;
      const src = localUrl?.(cid) ?? blobUrl(did, cid);
      const ratio = img.aspectRatio ? `${img.aspectRatio.width} / ${img.aspectRatio.height}` : undefined;
      const el = h('img', { src, alt: img.alt, loading: 'lazy', ...(ratio ? { style: `aspect-ratio: ${ratio}` } : {}) });
      // A blob no record references yet (an open proposal's image) is not served by getBlob.
      el.addEventListener('error', () => el.replaceWith(h('div', { class: 'img-pending', role: 'img', 'aria-label': img.alt || 'image' },
        h('span', {}, 'Image ', h('span', { class: 'mono small' }, cid.slice(0, 12) + '…'), ' — served once the post is written'))), { once: true });
      return h('figure', {},
        el,
        img.alt ? h('figcaption', { class: 'alt' }, h('span', { class: 'badge' }, 'ALT'), ' ', img.alt) : null);
    }));
}

function quoteCard(ref: StrongRef, ownDid: string): HTMLElement {
  const card = h('blockquote', { class: 'quote' }, h('a', { href: bskyLink(ref.uri), target: '_blank', rel: 'noopener noreferrer', class: 'mono' }, ref.uri));
  const r = parseRecordUri(ref.uri);
  // The quoted post is fetched when it is this account's own (this PDS holds it).
  if (r && r.repo === ownDid) {
    getRecord<PostJson>(r.repo, r.collection, r.rkey)
      .then((rec) => card.prepend(h('p', { class: 'text' }, richText(rec.value.text ?? '', rec.value.facets))))
      .catch(() => undefined);
  }
  return card;
}

export function postView(post: PostJson, author: Author, opts: { uri?: string; localBlobUrl?: (cid: string) => string | undefined; preview?: boolean } = {}): HTMLElement {
  const embed = post.embed;
  const imgs = embed?.images ?? embed?.media?.images;
  const quoted = embed?.$type === 'app.bsky.embed.record' ? (embed.record as StrongRef)
    : embed?.$type === 'app.bsky.embed.recordWithMedia' ? (embed.record as { record: StrongRef }).record : undefined;
  const when = post.createdAt ? new Date(post.createdAt) : undefined;
  return h('article', { class: `post${opts.preview ? ' preview' : ''}` },
    h('div', { class: 'avatar', 'aria-hidden': 'true' },
      author.avatarCid ? h('img', { src: blobUrl(author.did, author.avatarCid), alt: '' }) : (author.displayName || author.handle).slice(0, 1).toUpperCase()),
    h('div', { class: 'body' },
      h('header', {},
        h('strong', {}, author.displayName || author.handle), ' ',
        h('span', { class: 'muted' }, `@${author.handle}`),
        when ? h('time', { datetime: when.toISOString(), class: 'muted' }, ' · ', when.toLocaleString()) : opts.preview ? h('span', { class: 'muted' }, ' · when executed') : null),
      post.reply ? h('p', { class: 'reply-to muted' }, '↪ Reply to ', h('a', { href: bskyLink(post.reply.parent.uri), target: '_blank', rel: 'noopener noreferrer' }, post.reply.parent.uri)) : null,
      post.text ? h('p', { class: 'text' }, richText(post.text, post.facets)) : null,
      imgs?.length ? images(author.did, imgs, opts.localBlobUrl) : null,
      quoted ? quoteCard(quoted, author.did) : null,
      opts.uri ? h('a', { class: 'uri mono', href: bskyLink(opts.uri), target: '_blank', rel: 'noopener noreferrer' }, opts.uri) : null));
}
