// Bodies too big for one IC response (a repo export, a large blob) go out in bounded chunks through the
// gateway's streaming callback. The token names an immutable source (a commit CID, a blob CID) plus a
// position, so every callback is a pure function of (token, stored blocks). Blocks that commits drop stay
// stored for a grace period, oldest commit block first (pds/repo-store.ts DROPPED_BLOCK_GRACE_NS): while the
// token's commit block is stored, every block of that commit is, so a download either completes whole or
// its token is refused at the first callback after the grace, never part-way with a hole.
import { CID } from '../atproto/cbor.ts';
import type { XrpcDeps } from './deps.ts';
import type { StreamingChunk, StreamingToken } from './http.ts';
import type { PdsReadModel } from './model.ts';

/**
 * Bytes per repo chunk. exportRepoChunk stays under it except when a single record (at most
 * 1,000,000 bytes) plus its MST nodes is bigger, so a chunk never nears the IC's response limit.
 */
export const REPO_CHUNK_BYTES = 500_000;
/**
 * Blocks a repo chunk may walk (nodes and records, emitted or skipped for `since`): bounds a
 * chunk's work as well as its bytes. Measured on the replica at 10,000 records: a 500 kB chunk
 * walks ~2,500 blocks for ~0.85 B instructions (MST nodes ~0.9 M each, records ~0.1 M), so even a
 * node-heavy walk of 3,000 blocks stays far below the 5 B query limit.
 */
export const REPO_CHUNK_BLOCKS = 3_000;
/** Bytes per blob chunk (exact). */
export const BLOB_CHUNK_BYTES = 1_000_000;

/** A callback whose token cannot be honoured; the canister rejects the callback with this reason. */
export class StreamingTokenError extends Error {}

function skipOlderThan(model: PdsReadModel, since: string | undefined) {
  if (!since) return undefined;
  // A block first written at or before `since` is one the caller already has; for an MST node that
  // holds for its whole subtree too (content addressing), so exportRepoChunk prunes there.
  return {
    skip(cid: CID): boolean {
      const rev = model.blockRev(cid);
      return rev !== undefined && rev <= since;
    },
  };
}

export function repoChunk(
  model: PdsReadModel,
  deps: XrpcDeps,
  commitCid: CID,
  cursor: string | null,
  since: string | undefined,
): StreamingChunk {
  const { bytes, cursor: next } = deps.exportRepoChunk(model.blocks, commitCid, cursor, REPO_CHUNK_BYTES, {
    ...skipOlderThan(model, since),
    maxBlocks: REPO_CHUNK_BLOCKS,
  });
  return {
    body: bytes,
    token: next === null ? undefined : { kind: 'repo', ref: commitCid.toString(), cursor: next, since: since ?? '' },
  };
}

export function blobChunk(blob: { size: number; read(offset: number, length: number): Uint8Array }, cid: CID, offset: number): StreamingChunk {
  const length = Math.min(BLOB_CHUNK_BYTES, blob.size - offset);
  const body = blob.read(offset, length);
  if (body.length !== length) throw new StreamingTokenError(`blob ${cid} returned ${body.length} bytes, expected ${length}`);
  const next = offset + length;
  return { body, token: next < blob.size ? { kind: 'blob', ref: cid.toString(), cursor: String(next), since: '' } : undefined };
}

function tokenCid(token: StreamingToken): CID {
  try {
    return CID.parse(token.ref);
  } catch {
    throw new StreamingTokenError(`streaming token has an invalid CID: ${String(token.ref).slice(0, 100)}`);
  }
}

export function continueStream(token: StreamingToken, model: PdsReadModel, deps: XrpcDeps): StreamingChunk {
  if (!model.accountStatus().active) throw new StreamingTokenError('repo is no longer active');
  if (token.kind === 'repo') {
    const commitCid = tokenCid(token);
    if (typeof token.cursor !== 'string' || token.cursor === '') throw new StreamingTokenError('repo streaming token has no cursor');
    if (token.since !== '' && !deps.isValidTid(token.since)) throw new StreamingTokenError('repo streaming token has an invalid since');
    if (!model.blocks.get(commitCid)) {
      throw new StreamingTokenError(`commit ${commitCid} is no longer stored; restart the getRepo download`);
    }
    return repoChunk(model, deps, commitCid, token.cursor, token.since || undefined);
  }
  if (token.kind === 'blob') {
    const cid = tokenCid(token);
    if (!/^[0-9]{1,15}$/.test(token.cursor)) throw new StreamingTokenError('blob streaming token has an invalid offset');
    const blob = model.getBlob(cid);
    if (!blob) throw new StreamingTokenError(`blob ${cid} is no longer stored`);
    const offset = Number(token.cursor);
    if (offset <= 0 || offset >= blob.size) throw new StreamingTokenError('blob streaming token offset out of range');
    return blobChunk(blob, cid, offset);
  }
  throw new StreamingTokenError(`unknown streaming token kind: ${String(token.kind).slice(0, 50)}`);
}
