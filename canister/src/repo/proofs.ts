// Inclusion / exclusion proofs for com.atproto.sync.getRecord: the commit, the MST nodes on
// the record's search path, and the record itself when present.
import { CID } from '../atproto/cbor.ts';
import { BlockMap, type BlockReader, requireBlock } from './block-map.ts';
import { decodeCommit } from './commit.ts';
import { Mst } from './mst.ts';

export function recordProofBlocks(store: BlockReader, commitCid: CID, collection: string, rkey: string): BlockMap {
  const out = new BlockMap();
  const commitBytes = requireBlock(store, commitCid, 'commit');
  out.set(commitCid, commitBytes);
  const mst = Mst.load(store, decodeCommit(commitBytes).data);
  const key = `${collection}/${rkey}`;
  mst.pathProof(key, out);
  const value = mst.get(key);
  if (value) out.set(value, requireBlock(store, value, `record ${key}`));
  return out;
}
