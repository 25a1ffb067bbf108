// com.atproto.sync.subscribeRepos messages and their binary frames (event-stream spec): each
// frame is two concatenated DAG-CBOR objects, a header ({op: 1, t: '#commit'} or {op: -1})
// and the payload (no $type). Bodies follow the sync spec + lexicon field by field.
import { CID, decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import { encodeCar, concatBytes } from './car.ts';
import type { CommitResult } from './writes.ts';

export type FrameHeader = { op: 1; t: string } | { op: -1 };
export type EventMeta = { seq: number; time: string; did?: string };

export function encodeFrame(header: FrameHeader, body: Record<string, unknown>): Uint8Array {
  return concatBytes([encodeCbor(header), encodeCbor(body)]);
}

/** A regular message frame, e.g. `eventFrame('#commit', commitEventBody(...))`. */
export function eventFrame(type: '#commit' | '#sync' | '#identity' | '#account' | '#info', body: Record<string, unknown>): Uint8Array {
  return encodeFrame({ op: 1, t: type }, body);
}

/** Error frame: header {op: -1}, payload {error, message?}; the stream closes after it. */
export function encodeErrorFrame(error: string, message?: string): Uint8Array {
  const body: Record<string, unknown> = { error };
  if (message !== undefined) body.message = message;
  return encodeFrame({ op: -1 }, body);
}

/** Byte length of the first (definite-length, DAG-CBOR) item in `bytes`. */
function firstItemLength(bytes: Uint8Array): number {
  let offset = 0;
  let pending = 1;
  while (pending > 0) {
    if (offset >= bytes.length) throw new Error('truncated CBOR item');
    const first = bytes[offset++];
    const major = first >> 5;
    const info = first & 31;
    let value = info;
    if (info >= 24) {
      if (info > 27) throw new Error('indefinite-length CBOR is not allowed');
      const size = 1 << (info - 24);
      value = 0;
      for (let i = 0; i < size; i++) value = value * 256 + bytes[offset++];
    }
    pending--;
    if (major === 2 || major === 3) offset += value;
    else if (major === 4) pending += value;
    else if (major === 5) pending += 2 * value;
    else if (major === 6) pending += 1;
  }
  if (offset > bytes.length) throw new Error('truncated CBOR item');
  return offset;
}

export function decodeFrame(bytes: Uint8Array): { header: FrameHeader; body: Record<string, unknown> } {
  const headerLen = firstItemLength(bytes);
  const header = decodeCbor<FrameHeader>(bytes.subarray(0, headerLen));
  const body = decodeCbor<Record<string, unknown>>(bytes.subarray(headerLen));
  return { header, body };
}

/** #commit payload for a finished commit (blocks = CAR slice rooted at the commit). */
export function commitEventBody(result: CommitResult, meta: EventMeta): Record<string, unknown> {
  const ops = result.ops.map((op) => {
    const o: Record<string, unknown> = { action: op.action, path: op.path, cid: op.cid };
    if (op.prev) o.prev = op.prev;
    return o;
  });
  const body: Record<string, unknown> = {
    seq: meta.seq,
    rebase: false,
    tooBig: false,
    repo: meta.did ?? result.did,
    commit: result.commitCid,
    rev: result.rev,
    since: result.since,
    blocks: encodeCar([result.commitCid], result.eventBlocks),
    ops,
    blobs: [],
    time: meta.time,
  };
  // Omitted (not null) only for an account's first commit, as the lexicon marks it optional.
  if (result.prevData) body.prevData = result.prevData;
  return body;
}

/** #sync payload: asserts the current commit; blocks holds only the commit block. */
export function syncEventBody(commit: { commitCid: CID; commitBytes: Uint8Array; rev: string; did?: string }, meta: EventMeta): Record<string, unknown> {
  const did = meta.did ?? commit.did;
  if (!did) throw new Error('syncEventBody needs a did');
  return {
    seq: meta.seq,
    did,
    rev: commit.rev,
    blocks: encodeCar([commit.commitCid], [[commit.commitCid, commit.commitBytes]]),
    time: meta.time,
  };
}

export function identityEventBody(e: { seq: number; did: string; time: string; handle?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = { seq: e.seq, did: e.did, time: e.time };
  if (e.handle !== undefined) body.handle = e.handle;
  return body;
}

export type AccountStatus = 'takendown' | 'suspended' | 'deleted' | 'deactivated' | 'desynchronized' | 'throttled';

export function accountEventBody(e: { seq: number; did: string; time: string; active: boolean; status?: AccountStatus }): Record<string, unknown> {
  const body: Record<string, unknown> = { seq: e.seq, did: e.did, time: e.time, active: e.active };
  if (e.status !== undefined) body.status = e.status;
  return body;
}

/** #info payload (not persisted, no seq), e.g. name 'OutdatedCursor'. */
export function infoEventBody(name: string, message?: string): Record<string, unknown> {
  const body: Record<string, unknown> = { name };
  if (message !== undefined) body.message = message;
  return body;
}
