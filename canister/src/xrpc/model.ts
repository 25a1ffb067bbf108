// The read model the HTTP face serves from (docs/contracts.md section 4). pds/read-model.ts implements
// it over stable storage; tests implement it in memory. Keep this file and the contract in sync.
import type { CID } from '../atproto/cbor.ts';
import type { BlockReader, RepoHead } from '../repo/index.ts';

export type { BlockReader, RepoHead };

export interface BlobView {
  mimeType: string;
  size: number;
  read(offset: number, length: number): Uint8Array;
}

export type AccountStatus = { active: boolean; status?: 'deactivated' | 'takendown' | 'suspended' };

export interface PdsReadModel {
  did(): string;
  handle(): string;
  /** The account's DID document (did:web is served at /.well-known/did.json; also used by describeRepo), or null. */
  didDocument(): object | null;
  /** Public base URL of this PDS, e.g. "https://pds.example.com" (its host names the service did:web). */
  pdsUrl(): string;
  head(): RepoHead | null;
  blocks: BlockReader;
  getRecord(collection: string, rkey: string): { cid: CID; bytes: Uint8Array } | undefined;
  /**
   * Records of one collection ordered by rkey: DESCENDING when reverse=false (newest TIDs first, as the
   * reference PDS), ascending when reverse=true. `cursor` is an rkey, exclusive, in the same direction.
   */
  listRecords(
    collection: string,
    opts: { limit: number; cursor?: string; reverse: boolean },
  ): { rkey: string; cid: CID; bytes: Uint8Array }[];
  collections(): string[];
  /** Rev of the commit that first wrote the block (getRepo `since`); undefined if unknown. */
  blockRev(cid: CID): string | undefined;
  getBlob(cid: CID): BlobView | undefined;
  /** Blob CIDs in a stable order; `cursor` is the last CID (string) of the previous page, exclusive; `since` a rev. */
  listBlobs(opts: { since?: string; limit: number; cursor?: string }): CID[];
  accountStatus(): AccountStatus;
}
