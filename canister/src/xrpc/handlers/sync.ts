// com.atproto.sync.* reads over the repo: getRepo (streamed CAR), getLatestCommit, getRepoStatus,
// getRecord (proof CAR), getBlocks, listRepos.
import type { CID } from '../../atproto/cbor.ts';
import { requireActive, requireHead, requireOwnDid, type Handler } from '../context.ts';
import { XrpcError, invalidRequest } from '../errors.ts';
import { CAR_TYPE, bytesResponse, jsonResponse } from '../http.ts';
import { parseCid } from '../params.ts';
import { repoChunk } from '../streaming.ts';

/** getBlocks answers in one response, so what it may return is bounded. */
export const MAX_GET_BLOCKS_CIDS = 1000;
export const MAX_GET_BLOCKS_BYTES = 1_400_000;

export const getRepo: Handler = ({ model, deps, params }) => {
  const did = params.did('did');
  const since = params.optionalTid('since');
  requireOwnDid(model, did);
  requireActive(model);
  const head = requireHead(model);
  const first = repoChunk(model, deps, head.commitCid, null, since);
  return { ...bytesResponse(first.body, CAR_TYPE), streaming_token: first.token };
};

export const getLatestCommit: Handler = ({ model, params }) => {
  requireOwnDid(model, params.did('did'));
  requireActive(model);
  const head = requireHead(model);
  return jsonResponse({ cid: head.commitCid.toString(), rev: head.rev });
};

export const getRepoStatus: Handler = ({ model, params }) => {
  const did = params.did('did');
  requireOwnDid(model, did);
  const { active, status } = model.accountStatus();
  const head = model.head();
  return jsonResponse({
    did,
    active,
    ...(active ? {} : { status: status ?? 'deactivated' }),
    ...(active && head ? { rev: head.rev } : {}),
  });
};

export const getRecord: Handler = ({ model, deps, params }) => {
  const did = params.did('did');
  const collection = params.nsid('collection');
  const rkey = params.recordKey('rkey');
  requireOwnDid(model, did);
  requireActive(model);
  const head = requireHead(model);
  // Proves existence or non-existence of the record at the current commit.
  return bytesResponse(deps.recordProofCar(model.blocks, head.commitCid, collection, rkey), CAR_TYPE);
};

export const getBlocks: Handler = ({ model, deps, params }) => {
  const did = params.did('did');
  const raw = params.array('cids');
  if (raw.length === 0) throw invalidRequest('missing required parameter: cids');
  if (raw.length > MAX_GET_BLOCKS_CIDS) throw invalidRequest(`at most ${MAX_GET_BLOCKS_CIDS} cids per request`);
  const cids = raw.map((s) => parseCid('cids', s));
  requireOwnDid(model, did);
  requireActive(model);
  const blocks: { cid: CID; bytes: Uint8Array }[] = [];
  const missing: string[] = [];
  let total = 0;
  for (const cid of cids) {
    const bytes = model.blocks.get(cid);
    if (!bytes) {
      missing.push(cid.toString());
      continue;
    }
    total += bytes.length;
    blocks.push({ cid, bytes });
  }
  if (missing.length > 0) throw new XrpcError('BlockNotFound', `Could not find cids: ${missing.slice(0, 20).join(', ')}`);
  if (total > MAX_GET_BLOCKS_BYTES) {
    throw invalidRequest(`requested blocks total ${total} bytes, over ${MAX_GET_BLOCKS_BYTES}; ask for fewer cids per request`);
  }
  return bytesResponse(deps.blocksCar(blocks), CAR_TYPE);
};

/**
 * listRepos cursors have the reference's shape, `<sort key>::<did>` (it uses the account's creation time):
 * opaque to clients, returned after every non-empty page, and a malformed one is a 400. This PDS hosts one
 * account, whose sort key is 0, so any well-formed cursor at or past it ends the listing.
 */
const REPOS_CURSOR = /^([0-9]{1,16})::(did:[a-z]+:[a-zA-Z0-9._:%-]+)$/;
const ACCOUNT_SORT_KEY = 0;

function afterCursor(cursor: string | undefined, did: string): boolean {
  if (cursor === undefined) return false;
  const m = REPOS_CURSOR.exec(cursor);
  if (!m) throw invalidRequest('Malformed cursor');
  const key = Number(m[1]);
  return key > ACCOUNT_SORT_KEY || (key === ACCOUNT_SORT_KEY && m[2] >= did);
}

export const listRepos: Handler = ({ model, params }) => {
  params.integer('limit', 1, 1000, 500);
  const cursor = params.string('cursor');
  const did = model.did();
  const past = afterCursor(cursor, did);
  const head = model.head();
  if (!head || past) return jsonResponse({ repos: [] });
  const { active, status } = model.accountStatus();
  return jsonResponse({
    cursor: `${ACCOUNT_SORT_KEY}::${did}`,
    repos: [{ did, head: head.commitCid.toString(), rev: head.rev, active, ...(active ? {} : { status: status ?? 'deactivated' }) }],
  });
};
