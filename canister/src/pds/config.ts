// Canister configuration from init arguments, persisted so upgrades keep it.
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import type { KvStore } from '../storage/kv.ts';
import { DEFAULT_RETENTION, type RetentionPolicy } from './event-log.ts';
import type { BlobLimits } from './blobs.ts';

export interface PdsConfig {
  /** Threshold ECDSA key: `dfx_test_key` locally, `key_1` on mainnet. */
  ecdsaKeyName: string;
  retention: RetentionPolicy;
  blobs: BlobLimits;
}

export const DEFAULT_BLOB_LIMITS: BlobLimits = { maxBytes: 5_000_000, graceNs: 3600n * 1_000_000_000n };

export function makeConfig(partial: Partial<PdsConfig> & { ecdsaKeyName: string }): PdsConfig {
  const retention = { ...DEFAULT_RETENTION, ...partial.retention };
  const blobs = { ...DEFAULT_BLOB_LIMITS, ...partial.blobs };
  if (!partial.ecdsaKeyName) throw new Error('ecdsa key name is required');
  if (!Number.isInteger(retention.minEvents) || retention.minEvents < 1) throw new Error('retention.minEvents must be ≥ 1');
  if (retention.minAgeNs < 0n) throw new Error('retention.minAgeNs must be ≥ 0');
  if (!Number.isSafeInteger(blobs.maxBytes) || blobs.maxBytes < 1) throw new Error('blob limit must be ≥ 1 byte');
  return { ecdsaKeyName: partial.ecdsaKeyName, retention, blobs };
}

export class ConfigStore {
  private cached: PdsConfig | null = null;
  constructor(private kv: KvStore) {}

  set(cfg: PdsConfig): void {
    this.kv.set('config', encodeCbor({ ...cfg, retention: { ...cfg.retention }, blobs: { ...cfg.blobs } }));
    this.cached = cfg;
  }

  get(): PdsConfig {
    if (this.cached) return this.cached;
    const v = this.kv.get('config');
    if (!v) throw new Error('canister not configured');
    const c = decodeCbor<PdsConfig>(v);
    // Small bigints decode as numbers; normalise.
    this.cached = {
      ecdsaKeyName: c.ecdsaKeyName,
      retention: { minEvents: Number(c.retention.minEvents), minAgeNs: BigInt(c.retention.minAgeNs) },
      blobs: { maxBytes: Number(c.blobs.maxBytes), graceNs: BigInt(c.blobs.graceNs) },
    };
    return this.cached;
  }
}
