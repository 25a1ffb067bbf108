// The XRPC face bound to the project's own protocol code (atproto/ syntax + JSON, repo/ CAR
// export and proofs). main.ts wires handleHttp / handleStreamingCallback into http_request and
// http_request_streaming_callback.
import { dataToJson } from '../atproto/data-model.ts';
import { isValidDid, isValidHandle, isValidNsid, isValidRecordKey, isValidTid } from '../atproto/syntax/index.ts';
import { BlockMap, encodeCar, exportRepoChunk, recordProofBlocks } from '../repo/index.ts';
import type { XrpcDeps } from './deps.ts';
import { createXrpc } from './server.ts';

export const xrpcDeps: XrpcDeps = {
  dataToJson,
  isValidDid,
  isValidHandle,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  exportRepoChunk,
  recordProofCar: (store, commitCid, collection, rkey) => encodeCar([commitCid], recordProofBlocks(store, commitCid, collection, rkey)),
  blocksCar: (blocks) => {
    const map = new BlockMap();
    for (const b of blocks) map.set(b.cid, b.bytes);
    return encodeCar([], map);
  },
};

export const { handleHttp, handleStreamingCallback } = createXrpc(xrpcDeps);
export type { HttpRequest, HttpResponse, StreamingToken, StreamingChunk } from './http.ts';
export type { PdsReadModel } from './model.ts';
export { StreamingTokenError } from './streaming.ts';
