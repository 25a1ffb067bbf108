// Public surface of the repo layer (see docs/contracts.md section 2).
export { BlockMap, type BlockReader, overlayReader, MissingBlockError, requireBlock } from './block-map.ts';
export { Mst, MstError, MstNodeCache, defaultNodeCache, leadingZerosOnHash, countPrefixLen, isValidMstKey } from './mst.ts';
export {
  type UnsignedCommit,
  type SignedCommit,
  type RepoHead,
  unsignedCommitBytes,
  commitDigest,
  normalizeLowS,
  signedCommitBlock,
  decodeCommit,
  readCommit,
  headFromCommit,
  InvalidCommitError,
} from './commit.ts';
export {
  type WriteOp,
  type CommitOp,
  type PreparedCommit,
  type CommitResult,
  prepareCommit,
  finishCommit,
  RepoWriteError,
  type RepoWriteErrorCode,
  MAX_OPS_PER_COMMIT,
  MAX_RECORD_BYTES,
  MAX_DIFF_BYTES,
  collectionProblem,
  rkeyProblem,
  recordObjectProblem,
  recordWithType,
} from './writes.ts';
export { encodeCar, readCar, carLength, exportRepoChunk, exportRepoCar, CarError, type ExportChunk } from './car.ts';
export { recordProofBlocks } from './proofs.ts';
export {
  encodeFrame,
  eventFrame,
  encodeErrorFrame,
  decodeFrame,
  commitEventBody,
  syncEventBody,
  identityEventBody,
  accountEventBody,
  infoEventBody,
  type FrameHeader,
  type EventMeta,
  type AccountStatus,
} from './events.ts';
