// The protocol helpers the HTTP face needs from atproto/ and repo/, gathered in one interface so
// the handlers stay pure and can be exercised with any implementation of them (index.ts binds the real ones).
import type { CID } from '../atproto/cbor.ts';
import type { BlockReader } from './model.ts';

export interface XrpcDeps {
  dataToJson(value: unknown): unknown;
  isValidDid(s: string): boolean;
  isValidHandle(s: string): boolean;
  isValidNsid(s: string): boolean;
  isValidRecordKey(s: string): boolean;
  isValidTid(s: string): boolean;
  /** repo/ exportRepoChunk: first chunk = CAR header + commit; concatenation of all chunks = one CAR. */
  exportRepoChunk(
    store: BlockReader,
    commitCid: CID,
    cursor: string | null,
    maxBytes: number,
    opts?: { skip?(cid: CID): boolean; maxBlocks?: number },
  ): { bytes: Uint8Array; cursor: string | null };
  /** CAR rooted at the commit holding recordProofBlocks(store, commitCid, collection, rkey). */
  recordProofCar(store: BlockReader, commitCid: CID, collection: string, rkey: string): Uint8Array;
  /** CAR with no roots holding exactly these blocks (sync.getBlocks). */
  blocksCar(blocks: { cid: CID; bytes: Uint8Array }[]): Uint8Array;
}
