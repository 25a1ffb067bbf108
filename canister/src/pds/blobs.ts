// Blobs: chunked upload (Candid, ≤ 1.9 MiB per chunk) up to a size limit, content type sniffed
// and checked against the declared one, hashed in bounded steps (resumable SHA-256), stored by
// raw-codec CID. Records reference blobs; unreferenced blobs are collected after a grace period.
import { CID, decodeCbor, encodeCbor, RAW } from '../atproto/cbor.ts';
import * as Digest from 'multiformats/hashes/digest';
import type { KvStore } from '../storage/kv.ts';
import { sha256Final, sha256Init, sha256Update, type Sha256State } from './resumable-sha256.ts';

export const MAX_CHUNK_BYTES = Math.floor(1.9 * 1024 * 1024);
/** Bytes hashed per message: ~9.4 k instructions per byte (measured) keeps a step near 1.2 B instructions. */
export const HASH_STEP_BYTES = 128 * 1024;

export interface BlobLimits {
  maxBytes: number;
  graceNs: bigint;
}

export class BlobError extends Error {
  override name = 'BlobError';
}

type Upload = {
  owner: string;
  declaredMime: string;
  size: number;
  received: number;
  pieces: number[];
  createdNs: bigint;
  hashed: number;
  hash: Sha256State;
};

export type BlobMeta = {
  mimeType: string;
  size: number;
  dataId: string;
  pieces: number[];
  createdNs: bigint;
  refs: number;
  /** When refs last dropped to 0 (or creation); the grace period counts from here. */
  unrefNs: bigint;
  /** Rev of the commit that first referenced it (listBlobs `since`). */
  firstRev: string | null;
};

const uploadKey = (id: string) => `u/${id}`;
const metaKey = (cid: string) => `b/${cid}`;
const refsKey = (path: string) => `rb/${path}`;
const pieceKey = (dataId: string, i: number) => `d/${dataId}/${i.toString().padStart(6, '0')}`;

/** Recognizes common media by magic bytes. Returns undefined when unknown. */
export function sniffMime(head: Uint8Array): string | undefined {
  const at = (off: number, s: string) => s.split('').every((c, i) => head[off + i] === c.charCodeAt(0));
  if (head.length >= 8 && head[0] === 0x89 && at(1, 'PNG\r\n\x1a\n')) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'image/gif';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'image/webp';
  if (at(4, 'ftyp')) {
    const brand = String.fromCharCode(...head.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'image/avif';
    if (brand === 'heic' || brand === 'heix' || brand === 'mif1') return 'image/heic';
    if (brand === 'qt  ') return 'video/quicktime';
    return 'video/mp4';
  }
  if (at(0, '\x1aE\xdf\xa3')) return 'video/webm';
  if (at(0, '%PDF-')) return 'application/pdf';
  return undefined;
}

const MIME_RE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

export function normalizeMime(declared: string): string {
  const d = declared.trim().toLowerCase().split(';')[0].trim() || 'application/octet-stream';
  if (!MIME_RE.test(d)) throw new BlobError(`invalid content type: ${declared}`);
  return d;
}

/** The stored content type: the sniffed one must agree with the declared one when both are known. */
export function checkMime(declared: string, sniffed: string | undefined): string {
  const d = normalizeMime(declared);
  if (sniffed) {
    const same = d === sniffed || (sniffed === 'video/mp4' && d.startsWith('video/')) || (d === 'image/jpg' && sniffed === 'image/jpeg');
    if (!same && d !== 'application/octet-stream') throw new BlobError(`content type mismatch: declared ${d}, content is ${sniffed}`);
    return sniffed;
  }
  if (d.startsWith('image/') || d.startsWith('video/')) throw new BlobError(`content is not ${d}`);
  return d;
}

import { blobRefs } from '../atproto/data-model.ts';

export { blobRefs };

export class BlobStore {
  constructor(
    private meta: KvStore,
    private data: KvStore,
    private limits: () => BlobLimits,
  ) {}

  private nextId(): string {
    const v = this.meta.get('next-id');
    const n = v ? Number(decodeCbor<number>(v)) : 1;
    this.meta.set('next-id', encodeCbor(n + 1));
    return n.toString().padStart(12, '0');
  }

  private upload(id: string, owner: string): Upload {
    const v = this.meta.get(uploadKey(id));
    if (!v) throw new BlobError(`unknown upload ${id}`);
    const u = decodeCbor<Upload>(v);
    if (u.owner !== owner) throw new BlobError('upload belongs to another principal');
    return u;
  }

  start(owner: string, declaredMime: string, size: number, nowNs: bigint): string {
    const { maxBytes } = this.limits();
    if (!Number.isSafeInteger(size) || size <= 0) throw new BlobError('size must be positive');
    if (size > maxBytes) throw new BlobError(`blob too large: ${size} > ${maxBytes} bytes`);
    normalizeMime(declaredMime);
    const id = this.nextId();
    const u: Upload = { owner, declaredMime, size, received: 0, pieces: [], createdNs: nowNs, hashed: 0, hash: sha256Init() };
    this.meta.set(uploadKey(id), encodeCbor(u));
    return id;
  }

  putChunk(owner: string, id: string, offset: number, bytes: Uint8Array): { received: number } {
    const u = this.upload(id, owner);
    if (bytes.length === 0) throw new BlobError('empty chunk');
    if (bytes.length > MAX_CHUNK_BYTES) throw new BlobError(`chunk too large: ${bytes.length} > ${MAX_CHUNK_BYTES}`);
    if (offset !== u.received) throw new BlobError(`expected offset ${u.received}, got ${offset}`);
    if (u.received + bytes.length > u.size) throw new BlobError(`chunk exceeds declared size ${u.size}`);
    if (u.pieces.length === 0) checkMime(u.declaredMime, sniffMime(bytes));
    this.data.set(pieceKey(id, u.pieces.length), bytes);
    u.pieces.push(bytes.length);
    u.received += bytes.length;
    this.meta.set(uploadKey(id), encodeCbor(u));
    return { received: u.received };
  }

  /** Hashes up to `budget` more bytes. Returns true when the whole blob is hashed. */
  hashStep(owner: string, id: string, budget = HASH_STEP_BYTES): boolean {
    const u = this.upload(id, owner);
    if (u.received !== u.size) throw new BlobError(`upload incomplete: ${u.received} of ${u.size} bytes`);
    let pos = 0;
    let spent = 0;
    for (let i = 0; i < u.pieces.length && spent < budget; i++) {
      const end = pos + u.pieces[i];
      if (end > u.hashed) {
        const piece = this.data.get(pieceKey(id, i))!;
        const from = u.hashed - pos;
        const to = Math.min(piece.length, from + (budget - spent));
        u.hash = sha256Update(u.hash, piece.subarray(from, to));
        spent += to - from;
        u.hashed += to - from;
      }
      pos = end;
    }
    this.meta.set(uploadKey(id), encodeCbor(u));
    return u.hashed === u.size;
  }

  /** Completes a fully hashed upload; an identical existing blob is reused. */
  finish(owner: string, id: string, nowNs: bigint): { cid: CID; mimeType: string; size: number } {
    const u = this.upload(id, owner);
    if (u.hashed !== u.size) throw new BlobError('upload not fully hashed yet');
    const cid = CID.createV1(RAW, Digest.create(0x12, sha256Final(u.hash)));
    const mimeType = checkMime(u.declaredMime, sniffMime(this.data.get(pieceKey(id, 0))!.subarray(0, 64)));
    this.meta.delete(uploadKey(id));
    const existing = this.getMeta(cid);
    if (existing) {
      this.dropData(id, u.pieces.length);
      return { cid, mimeType: existing.mimeType, size: existing.size };
    }
    const m: BlobMeta = { mimeType, size: u.size, dataId: id, pieces: u.pieces, createdNs: nowNs, refs: 0, unrefNs: nowNs, firstRev: null };
    this.meta.set(metaKey(cid.toString()), encodeCbor(m));
    return { cid, mimeType, size: u.size };
  }

  getMeta(cid: CID): BlobMeta | undefined {
    const v = this.meta.get(metaKey(cid.toString()));
    return v ? decodeCbor<BlobMeta>(v) : undefined;
  }

  read(m: BlobMeta, offset: number, length: number): Uint8Array {
    const end = Math.min(m.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    let pos = 0;
    for (let i = 0; i < m.pieces.length && pos < end; i++) {
      const pend = pos + m.pieces[i];
      if (pend > offset) {
        const piece = this.data.get(pieceKey(m.dataId, i))!;
        const from = Math.max(offset, pos);
        const to = Math.min(end, pend);
        out.set(piece.subarray(from - pos, to - pos), from - offset);
      }
      pos = pend;
    }
    return out;
  }

  /** Referenced blobs in CID order, optionally only those first referenced after rev `since`. */
  list(opts: { since?: string; limit: number; cursor?: string }): CID[] {
    const out: CID[] = [];
    let after = opts.cursor === undefined ? undefined : metaKey(opts.cursor);
    while (out.length < opts.limit) {
      const rows = this.meta.range({ prefix: 'b/', after, limit: 100 });
      for (const [k, v] of rows) {
        const m = decodeCbor<BlobMeta>(v);
        if (m.refs > 0 && (opts.since === undefined || (m.firstRev !== null && m.firstRev > opts.since))) out.push(CID.parse(k.slice(2)));
        if (out.length >= opts.limit) break;
      }
      if (rows.length < 100) break;
      after = rows[rows.length - 1][0];
    }
    return out;
  }

  /** Throws unless every blob a record references is stored with matching type and size. */
  checkRefs(record: unknown): void {
    for (const ref of blobRefs(record)) {
      const m = this.getMeta(ref.cid);
      if (!m) throw new BlobError(`blob not found: ${ref.cid.toString()}`);
      if (m.size !== ref.size) throw new BlobError(`blob ${ref.cid.toString()} size is ${m.size}, record says ${ref.size}`);
      if (m.mimeType !== ref.mimeType) throw new BlobError(`blob ${ref.cid.toString()} is ${m.mimeType}, record says ${ref.mimeType}`);
    }
  }

  /** Updates references after a record at `path` was written (record) or deleted (undefined). */
  setRecordRefs(path: string, record: unknown | undefined, rev: string, nowNs: bigint): void {
    const prevV = this.meta.get(refsKey(path));
    const prev = prevV ? decodeCbor<string[]>(prevV) : [];
    const next = record === undefined ? [] : [...new Set(blobRefs(record).map((r) => r.cid.toString()))];
    if (prev.length === 0 && next.length === 0) return;
    for (const c of next) if (!prev.includes(c)) this.bump(c, +1, rev, nowNs);
    for (const c of prev) if (!next.includes(c)) this.bump(c, -1, rev, nowNs);
    if (next.length > 0) this.meta.set(refsKey(path), encodeCbor(next));
    else this.meta.delete(refsKey(path));
  }

  private bump(cid: string, delta: number, rev: string, nowNs: bigint) {
    const v = this.meta.get(metaKey(cid));
    if (!v) return;
    const m = decodeCbor<BlobMeta>(v);
    m.refs = Math.max(0, m.refs + delta);
    if (m.refs === 0) m.unrefNs = nowNs;
    if (delta > 0 && m.firstRev === null) m.firstRev = rev;
    this.meta.set(metaKey(cid), encodeCbor(m));
  }

  private dropData(dataId: string, pieces: number) {
    for (let i = 0; i < pieces; i++) this.data.delete(pieceKey(dataId, i));
  }

  /**
   * Deletes unreferenced blobs and abandoned uploads older than the grace period. Bounded per
   * call: scans at most `maxScan` entries of each kind, resuming where the previous call stopped.
   */
  collect(nowNs: bigint, maxScan = 500, isPinned: (cid: string) => boolean = () => false): { blobs: number; uploads: number } {
    const { graceNs } = this.limits();
    let blobs = 0;
    let uploads = 0;
    for (const [prefix, cursorKey] of [['b/', 'gc-cursor/b'], ['u/', 'gc-cursor/u']] as const) {
      const cursor = this.meta.get(cursorKey);
      const rows = this.meta.range({ prefix, after: cursor ? new TextDecoder().decode(cursor) : undefined, limit: maxScan });
      for (const [k, v] of rows) {
        if (prefix === 'b/') {
          const m = decodeCbor<BlobMeta>(v);
          if (m.refs === 0 && nowNs - BigInt(m.unrefNs) >= graceNs && !isPinned(k.slice(2))) {
            this.dropData(m.dataId, m.pieces.length);
            this.meta.delete(k);
            blobs++;
          }
        } else {
          const u = decodeCbor<Upload>(v);
          if (nowNs - BigInt(u.createdNs) >= graceNs) {
            this.dropData(k.slice(2), u.pieces.length);
            this.meta.delete(k);
            uploads++;
          }
        }
      }
      // Wrap around once the end is reached.
      if (rows.length < maxScan) this.meta.delete(cursorKey);
      else this.meta.set(cursorKey, new TextEncoder().encode(rows[rows.length - 1][0]));
    }
    return { blobs, uploads };
  }
}
