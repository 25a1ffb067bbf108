// The PdsReadModel (contracts.md section 4) over the persisted PDS state, for the HTTP layer.
import { CID } from '../atproto/cbor.ts';
import type { PdsReadModel } from '../xrpc/model.ts';
import type { Pds } from './pds.ts';

export function pdsReadModel(pds: Pds): PdsReadModel {
  const id = () => pds.identity.state();
  return {
    did: () => id()?.did ?? '',
    handle: () => id()?.handle ?? '',
    didDocument: () => pds.identity.didDocument(),
    pdsUrl: () => id()?.pdsUrl ?? '',
    head: () => pds.repo.head(),
    blocks: { get: (cid: CID) => pds.repo.blocks.get(cid) },
    getRecord: (collection, rkey) => pds.repo.getRecord(collection, rkey),
    listRecords: (collection, opts) => pds.repo.listRecords(collection, opts),
    collections: () => pds.repo.collections(),
    blockRev: (cid) => pds.repo.blocks.rev(cid),
    getBlob: (cid) => {
      const meta = pds.blobs.getMeta(cid);
      if (!meta || meta.refs === 0) return undefined;
      return { mimeType: meta.mimeType, size: meta.size, read: (offset, length) => pds.blobs.read(meta, offset, length) };
    },
    listBlobs: (opts) => pds.blobs.list(opts),
    accountStatus: () => {
      const s = id();
      if (!s) return { active: false };
      return s.active ? { active: true } : { active: false, status: s.status ?? 'deactivated' };
    },
  };
}
