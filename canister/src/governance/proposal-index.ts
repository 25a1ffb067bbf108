// Small index entries beside each proposal, so the recurring work (closing due proposals, computing
// the next wake-up, counting a member's open proposals, pinning blobs) reads a few bytes per proposal
// and never decodes a whole payload.
//
//   s/<status>/<id>              ProposalMeta (every status)
//   od/<deadline>/<id>           '' while open: open proposals in deadline order
//   ob/<proposer>/<id>           '' while open: a member's open proposals
import { blobRefs } from '../atproto/data-model.ts';
import type { KvStore } from '../storage/kv.ts';
import { big, decodeBytes, idKey, putValue } from './store.ts';
import type { Proposal, ProposalStatus } from './types.ts';

/** leaseEndNs: while an adopted proposal's execution is leased, when the lease ends. */
export type ProposalMeta = { id: bigint; proposer: string; deadlineNs: bigint; blobs: string[]; leaseEndNs?: bigint };

/** Blobs a pending proposal will reference (kept by blob GC while it is open or adopted). */
export function proposalBlobs(p: Proposal): string[] {
  const out = new Set<string>();
  for (const ref of blobRefs([p.preview, p.effects])) out.add(ref.cid.toString());
  if (p.action.kind === 'update_profile') for (const c of [p.action.profile.avatar, p.action.profile.banner]) if (c) out.add(c);
  if (p.action.kind === 'post') for (const img of p.action.post.images ?? []) out.add(img.cid);
  return [...out];
}

export const metaOf = (p: Proposal): ProposalMeta => ({ id: p.id, proposer: p.proposer, deadlineNs: p.deadlineNs, blobs: proposalBlobs(p) });

export function decodeMeta(bytes: Uint8Array): ProposalMeta | null {
  if (bytes.length === 0) return null; // written before the index carried metadata
  const v = decodeBytes(bytes) as Record<string, unknown>;
  const meta: ProposalMeta = { id: big(v.id), proposer: String(v.proposer), deadlineNs: big(v.deadlineNs), blobs: (v.blobs as string[]) ?? [] };
  if (v.leaseEndNs !== undefined) meta.leaseEndNs = big(v.leaseEndNs);
  return meta;
}

const deadlineKey = (m: ProposalMeta) => `od/${idKey(m.deadlineNs)}/${idKey(m.id)}`;
const proposerKey = (m: ProposalMeta) => `ob/${m.proposer}/${idKey(m.id)}`;
export const statusKey = (status: ProposalStatus, id: bigint) => `s/${status}/${idKey(id)}`;

/** Moves the proposal's index entries from `previous` (null: new) to its current status. */
export function reindex(kv: KvStore, p: Proposal, previous: ProposalStatus | null): void {
  const meta = metaOf(p);
  if (previous !== null && previous !== p.status) kv.delete(statusKey(previous, p.id));
  if (previous === p.status) return;
  putValue(kv, statusKey(p.status, p.id), meta);
  if (p.status === 'open') {
    kv.set(deadlineKey(meta), new Uint8Array(0));
    kv.set(proposerKey(meta), new Uint8Array(0));
  } else if (previous === 'open') {
    kv.delete(deadlineKey(meta));
    kv.delete(proposerKey(meta));
  }
}

/** Records on an adopted proposal's index entry when its execution lease ends. */
export function markLeased(kv: KvStore, p: Proposal, leaseEndNs: bigint): void {
  putValue(kv, statusKey('adopted', p.id), { ...metaOf(p), leaseEndNs });
}

/** Open proposals due at `nowNs`, earliest deadline first, at most `limit`. */
export function dueOpen(kv: KvStore, nowNs: bigint, limit: number): bigint[] {
  const out: bigint[] = [];
  for (const [key] of kv.range({ prefix: 'od/', limit })) {
    const [deadline, id] = key.slice('od/'.length).split('/');
    if (BigInt(deadline!) > nowNs) break;
    out.push(BigInt(id!));
  }
  return out;
}

/** The earliest deadline of an open proposal, or null. */
export function earliestDeadline(kv: KvStore): bigint | null {
  const first = kv.range({ prefix: 'od/', limit: 1 })[0];
  return first ? BigInt(first[0].slice('od/'.length).split('/')[0]!) : null;
}

/** How many open proposals `proposer` has (counting stops at `cap`). */
export const openBy = (kv: KvStore, proposer: string, cap: number): number => kv.range({ prefix: `ob/${proposer}/`, limit: cap }).length;

/** How many proposals are open (counting stops at `cap`). */
export const openCount = (kv: KvStore, cap: number): number => kv.range({ prefix: 'od/', limit: cap }).length;
