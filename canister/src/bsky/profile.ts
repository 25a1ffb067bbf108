// Profile proposals: a patch decided by vote and merged into app.bsky.actor.profile/self when executed,
// so fields nobody voted on (pinned post, labels, ...) stay as they are.
import { blobRef } from './post.ts';
import { stringLimitProblem } from './text.ts';
import { RecordInputError, type AccountEnv, type ProfileInput, type ProfilePatch } from './types.ts';

export const PROFILE_COLLECTION = 'app.bsky.actor.profile';
export const PROFILE_RKEY = 'self';
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg']);
const MAX_PROFILE_IMAGE_BYTES = 1_000_000;

function text(name: string, value: string | undefined, maxGraphemes: number): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === '') return null;
  const problem = stringLimitProblem(name, value, { maxGraphemes, maxBytes: maxGraphemes * 10 });
  if (problem) throw new RecordInputError(problem);
  return value;
}

function image(env: AccountEnv, name: string, cid: string | undefined): unknown | null | undefined {
  if (cid === undefined) return undefined;
  if (cid === '') return null;
  return blobRef(env, cid, name, (m) => IMAGE_TYPES.has(m), MAX_PROFILE_IMAGE_BYTES);
}

export function buildProfilePatch(env: AccountEnv, input: ProfileInput): ProfilePatch {
  const patch: ProfilePatch = {
    displayName: text('display name', input.displayName, 64),
    description: text('description', input.description, 256),
    avatar: image(env, 'avatar', input.avatar),
    banner: image(env, 'banner', input.banner),
  };
  if (Object.values(patch).every((v) => v === undefined)) throw new RecordInputError('the profile proposal changes nothing');
  return patch;
}

/** Merges a voted patch into the current profile record (data model); used by the executor. */
export function applyProfilePatch(existing: unknown, patch: ProfilePatch): Record<string, unknown> {
  const base = existing && typeof existing === 'object' ? { ...(existing as Record<string, unknown>) } : {};
  const out: Record<string, unknown> = { ...base, $type: PROFILE_COLLECTION };
  for (const key of ['displayName', 'description', 'avatar', 'banner'] as const) {
    const v = patch[key];
    if (v === null) delete out[key];
    else if (v !== undefined) out[key] = v;
  }
  return out;
}
