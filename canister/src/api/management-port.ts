// The management-canister operations an upgrade needs, as both canisters drive them: the steward
// upgrading Canopy and Canopy upgrading the steward. The IC implementation is ic/management-calls.ts.
export interface ManagementPort {
  stop(canister: string): Promise<void>;
  start(canister: string): Promise<void>;
  /** ids of the canister's snapshots */
  listSnapshots(canister: string): Promise<Uint8Array[]>;
  takeSnapshot(canister: string, replace: Uint8Array | undefined): Promise<Uint8Array>;
  loadSnapshot(canister: string, snapshot: Uint8Array): Promise<void>;
  /** install_chunked_code, mode upgrade, chunks from `store` */
  installChunked(a: { target: string; store: string; chunkHashes: Uint8Array[]; wasmHash: Uint8Array; arg: Uint8Array }): Promise<void>;
  /** canister_status's module_hash */
  moduleHash(canister: string): Promise<Uint8Array | undefined>;
}
