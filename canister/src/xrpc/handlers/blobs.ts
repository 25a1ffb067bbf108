// com.atproto.sync.listBlobs and getBlob (big blobs streamed).
import { requireActive, requireOwnDid, type Handler } from '../context.ts';
import { XrpcError } from '../errors.ts';
import { bytesResponse, jsonResponse } from '../http.ts';
import { parseCid } from '../params.ts';
import { BLOB_CHUNK_BYTES, blobChunk } from '../streaming.ts';

export const listBlobs: Handler = ({ model, params }) => {
  const did = params.did('did');
  const since = params.optionalTid('since');
  const limit = params.integer('limit', 1, 1000, 500);
  const rawCursor = params.string('cursor');
  const cursor = rawCursor === undefined ? undefined : parseCid('cursor', rawCursor).toString();
  requireOwnDid(model, did);
  requireActive(model);
  const cids = model.listBlobs({ since, limit, cursor }).map((c) => c.toString());
  return jsonResponse(cids.length === limit ? { cursor: cids[cids.length - 1], cids } : { cids });
};

export const getBlob: Handler = ({ model, params }) => {
  const did = params.did('did');
  const cid = parseCid('cid', params.requiredString('cid'));
  requireOwnDid(model, did);
  requireActive(model);
  const blob = model.getBlob(cid);
  if (!blob) throw new XrpcError('BlobNotFound', `Blob not found: ${cid}`);
  // Served bytes are user content: never let a browser interpret them in this origin (download, as
  // the reference PDS answers, plus nosniff and a sandboxing CSP).
  const headers: [string, string][] = [
    ['Content-Length', String(blob.size)],
    ['Content-Disposition', `attachment; filename="${cid}"`],
    ['X-Content-Type-Options', 'nosniff'],
    ['Content-Security-Policy', "default-src 'none'; sandbox"],
  ];
  if (blob.size <= BLOB_CHUNK_BYTES) return bytesResponse(blob.read(0, blob.size), blob.mimeType, headers);
  const first = blobChunk(blob, cid, 0);
  return { ...bytesResponse(first.body, blob.mimeType, headers), streaming_token: first.token };
};
