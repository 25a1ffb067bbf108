// Public reads through the PDS's own XRPC (same origin: the Worker forwards /xrpc/ to the canister).
export class XrpcError extends Error {
  constructor(readonly status: number, readonly error: string, message: string) {
    super(message);
  }
}

async function get<T>(nsid: string, params: Record<string, string | number | undefined>): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const res = await fetch(`/xrpc/${nsid}?${q}`);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new XrpcError(res.status, body.error ?? 'Error', body.message ?? `${nsid} answered ${res.status}`);
  return body as T;
}

export type RecordEntry<T = Record<string, unknown>> = { uri: string; cid: string; value: T };

export const describeRepo = (repo: string) =>
  get<{ did: string; handle: string; collections: string[]; handleIsCorrect: boolean }>('com.atproto.repo.describeRepo', { repo });

export const listRecords = <T = Record<string, unknown>>(repo: string, collection: string, limit = 20, cursor?: string) =>
  get<{ records: RecordEntry<T>[]; cursor?: string }>('com.atproto.repo.listRecords', { repo, collection, limit, cursor });

export const getRecord = <T = Record<string, unknown>>(repo: string, collection: string, rkey: string) =>
  get<RecordEntry<T>>('com.atproto.repo.getRecord', { repo, collection, rkey });

export const blobUrl = (did: string, cid: string): string =>
  `/xrpc/com.atproto.sync.getBlob?${new URLSearchParams({ did, cid })}`;

/** at://did/collection/rkey → its parts (undefined if it is not a record URI). */
export function parseRecordUri(uri: string): { repo: string; collection: string; rkey: string } | undefined {
  const m = /^at:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
  return m ? { repo: m[1]!, collection: m[2]!, rkey: m[3]! } : undefined;
}
