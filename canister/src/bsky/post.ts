// Builds the app.bsky.feed.post record a post proposal will write, refusing what the lexicon
// would refuse (sizes, counts, syntax) before anyone votes on it.
import { CID } from '../atproto/cbor.ts';
import { isValidAtUri, isValidCid, isValidDid, isValidHandle, isValidLanguage } from '../atproto/syntax/index.ts';
import { detectFacets, type Facet } from './facets.ts';
import { stringLimitProblem } from './text.ts';
import { RecordInputError, type AccountEnv, type ImageInput, type PostInput, type StrongRef } from './types.ts';

export const POST_COLLECTION = 'app.bsky.feed.post';
export const POST_MAX_GRAPHEMES = 300;
export const POST_MAX_BYTES = 3000;
const MAX_LANGS = 3;
const MAX_IMAGES = 4;
const MAX_IMAGE_BYTES = 1_000_000;
const MAX_ALT_BYTES = 10_000;

const fail = (message: string): never => {
  throw new RecordInputError(message);
};

/** atproto data-model blob reference for a stored blob (refused if not uploaded or wrong type/size). */
export function blobRef(
  env: AccountEnv,
  cid: string,
  what: string,
  accept: (mime: string) => boolean,
  maxBytes: number,
): { $type: 'blob'; ref: CID; mimeType: string; size: number } {
  if (!isValidCid(cid)) fail(`${what}: invalid CID ${JSON.stringify(cid)}`);
  const meta = env.blob(cid);
  if (!meta) fail(`${what}: blob ${cid} has not been uploaded`);
  if (!accept(meta!.mimeType)) fail(`${what}: blob ${cid} has type ${meta!.mimeType}, which is not accepted here`);
  if (meta!.size > maxBytes) fail(`${what}: blob ${cid} is ${meta!.size} bytes; the limit is ${maxBytes}`);
  return { $type: 'blob', ref: CID.parse(cid), mimeType: meta!.mimeType, size: meta!.size };
}

function strongRef(ref: StrongRef, what: string): StrongRef {
  if (!isValidAtUri(ref.uri) || ref.uri.split('/').length !== 5) fail(`${what}: ${JSON.stringify(ref.uri)} is not a record AT-URI`);
  if (!isValidCid(ref.cid)) fail(`${what}: invalid CID ${JSON.stringify(ref.cid)}`);
  return { uri: ref.uri, cid: ref.cid };
}

function imagesEmbed(env: AccountEnv, images: ImageInput[]) {
  if (images.length > MAX_IMAGES) fail(`a post can carry at most ${MAX_IMAGES} images`);
  return {
    $type: 'app.bsky.embed.images',
    images: images.map((img, i) => {
      const what = `image ${i + 1}`;
      if (typeof img.alt !== 'string') fail(`${what}: alt text is required (may be empty)`);
      const altProblem = stringLimitProblem(`${what} alt text`, img.alt, { maxBytes: MAX_ALT_BYTES });
      if (altProblem) fail(altProblem);
      const image = blobRef(env, img.cid, what, (m) => m.startsWith('image/'), MAX_IMAGE_BYTES);
      const out: Record<string, unknown> = { image, alt: img.alt };
      if (img.aspectRatio) {
        const { width, height } = img.aspectRatio;
        if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
          fail(`${what}: aspect ratio must be positive integers`);
        out.aspectRatio = { width, height };
      }
      return out;
    }),
  };
}

/** The resolver for mentions: the account's own handle, then the mappings passed in the proposal. */
function mentionResolver(env: AccountEnv, input: PostInput): (handle: string) => string | undefined {
  const map = new Map<string, string>();
  for (const m of input.mentions ?? []) {
    if (!isValidHandle(m.handle)) fail(`mention mapping: invalid handle ${JSON.stringify(m.handle)}`);
    if (!isValidDid(m.did)) fail(`mention mapping: invalid DID ${JSON.stringify(m.did)}`);
    map.set(m.handle.toLowerCase(), m.did);
  }
  const own = env.handle().toLowerCase();
  return (handle) => map.get(handle) ?? (handle === own ? env.did() : undefined);
}

/**
 * Returns the post record without createdAt (added when the post is written) plus the mentions that
 * could not be resolved to a DID (they stay plain text).
 */
export function buildPost(env: AccountEnv, input: PostInput): { record: Record<string, unknown>; unresolvedMentions: string[] } {
  if (typeof input.text !== 'string') fail('post text must be a string');
  const sizeProblem = stringLimitProblem('post text', input.text, { maxBytes: POST_MAX_BYTES, maxGraphemes: POST_MAX_GRAPHEMES });
  if (sizeProblem) fail(sizeProblem);
  const images = input.images ?? [];
  if (input.text.trim() === '' && images.length === 0 && !input.quote) fail('a post needs text, images or a quoted record');

  const langs = input.langs ?? [];
  if (langs.length > MAX_LANGS) fail(`a post lists at most ${MAX_LANGS} languages`);
  for (const l of langs) if (!isValidLanguage(l)) fail(`invalid language tag ${JSON.stringify(l)}`);

  const { facets, unresolvedMentions } = detectFacets(input.text, mentionResolver(env, input));
  const record: Record<string, unknown> = { $type: POST_COLLECTION, text: input.text };
  if (facets.length > 0) record.facets = facets satisfies Facet[];
  if (langs.length > 0) record.langs = [...langs];
  if (input.reply) {
    record.reply = { root: strongRef(input.reply.root, 'reply root'), parent: strongRef(input.reply.parent, 'reply parent') };
  }
  const media = images.length > 0 ? imagesEmbed(env, images) : null;
  const quote = input.quote ? { $type: 'app.bsky.embed.record', record: strongRef(input.quote, 'quoted record') } : null;
  if (media && quote) record.embed = { $type: 'app.bsky.embed.recordWithMedia', record: quote, media };
  else if (media) record.embed = media;
  else if (quote) record.embed = quote;
  return { record, unresolvedMentions };
}
