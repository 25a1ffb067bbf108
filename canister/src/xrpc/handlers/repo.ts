// com.atproto.repo.describeRepo / getRecord / listRecords.
import { cidToString, decodeCbor } from '../../atproto/cbor.ts';
import { atUri, requireActive, requireOwnRepo, type Handler } from '../context.ts';
import { XrpcError } from '../errors.ts';
import { jsonResponse } from '../http.ts';
import type { PdsReadModel } from '../model.ts';

/**
 * Whether the handle resolves back to the DID, as far as the canister can know without HTTPS outcalls
 * or DNS: it cannot look up `_atproto.<handle>` TXT records nor fetch another host's
 * /.well-known/atproto-did. What it can vouch for is the one host it serves itself: when the handle is
 * the PDS host, its /.well-known/atproto-did (served from this same state) answers this DID. Any other
 * handle answers false until a resolution check recorded in the identity state exists.
 */
export function handleIsCorrect(model: PdsReadModel): boolean {
  const host = /^https?:\/\/([^/:?#@]+)/i.exec(model.pdsUrl())?.[1]?.toLowerCase();
  return host !== undefined && host === model.handle().toLowerCase();
}

export const describeRepo: Handler = ({ model, params }) => {
  requireOwnRepo(model, params.atIdentifier('repo'));
  requireActive(model);
  return jsonResponse({
    handle: model.handle(),
    did: model.did(),
    didDoc: model.didDocument() ?? {},
    collections: model.collections(),
    handleIsCorrect: handleIsCorrect(model),
  });
};

export const getRecord: Handler = ({ model, deps, params }) => {
  const repo = params.atIdentifier('repo');
  const collection = params.nsid('collection');
  const rkey = params.recordKey('rkey');
  const wanted = params.optionalCid('cid');
  requireOwnRepo(model, repo);
  requireActive(model);
  const uri = atUri(model.did(), collection, rkey);
  const record = model.getRecord(collection, rkey);
  if (!record || (wanted && !wanted.equals(record.cid))) {
    throw new XrpcError('RecordNotFound', `Could not locate record: ${uri}${wanted ? ` with cid ${wanted}` : ''}`);
  }
  return jsonResponse({ uri, cid: cidToString(record.cid), value: deps.dataToJson(decodeCbor(record.bytes)) });
};

export const listRecords: Handler = ({ model, deps, params }) => {
  const repo = params.atIdentifier('repo');
  const collection = params.nsid('collection');
  const limit = params.integer('limit', 1, 100, 50);
  const cursor = params.optionalRecordKey('cursor');
  const reverse = params.boolean('reverse', false);
  requireOwnRepo(model, repo);
  requireActive(model);
  const did = model.did();
  const rows = model.listRecords(collection, { limit, cursor, reverse });
  const records = rows.map((r) => ({
    uri: atUri(did, collection, r.rkey),
    cid: cidToString(r.cid),
    value: deps.dataToJson(decodeCbor(r.bytes)),
  }));
  const next = rows.length === limit ? rows[rows.length - 1].rkey : undefined;
  return jsonResponse(next === undefined ? { records } : { cursor: next, records });
};
