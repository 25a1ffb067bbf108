// The steward's BytesMap in stable memory (survives its own upgrades).
import { StableBTreeMap } from 'azle';
import type { BytesMap } from '../upgrades.ts';

const text = { toBytes: (s: string) => new TextEncoder().encode(s), fromBytes: (b: Uint8Array) => new TextDecoder().decode(b) };
const raw = { toBytes: (b: Uint8Array) => b, fromBytes: (b: Uint8Array) => b };

export function stableBytesMap(memoryId: number): BytesMap {
  const map = new StableBTreeMap<string, Uint8Array>(memoryId, text, raw);
  return {
    get: (k) => map.get(k) ?? undefined,
    set: (k, v) => void map.insert(k, v),
  };
}
