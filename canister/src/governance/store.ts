// Persistence helpers: every governance value is DAG-CBOR in the KvStore. DAG-CBOR has no
// `undefined` and returns small integers as numbers, so values are cleaned on the way in and
// bigints re-established on the way out by the typed decoders in codec.ts.
import { CID, decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import type { KvStore } from '../storage/kv.ts';

/** Drops undefined object fields (recursively) so DAG-CBOR can encode the value. */
export function clean<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => clean(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || CID.asCID(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = clean(v);
  }
  return out as T;
}

export function putValue(kv: KvStore, key: string, value: unknown): void {
  kv.set(key, encodeCbor(clean(value)));
}

export function getValue(kv: KvStore, key: string): unknown {
  const bytes = kv.get(key);
  return bytes === undefined ? undefined : decodeCbor(bytes);
}

export const decodeBytes = (bytes: Uint8Array): unknown => decodeCbor(bytes);

export const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));
export const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : big(v));

/** Zero-padded decimal so ids sort numerically as text keys. */
export const idKey = (id: bigint): string => id.toString().padStart(20, '0');

/** Walks every entry under a prefix in pages (the KvStore range is paged). */
export function* scan(kv: KvStore, prefix: string, pageSize = 200): Generator<[string, Uint8Array]> {
  let after: string | undefined;
  for (;;) {
    const page = kv.range({ prefix, after, limit: pageSize });
    for (const entry of page) yield entry;
    if (page.length < pageSize) return;
    after = page[page.length - 1]![0];
  }
}
