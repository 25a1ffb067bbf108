// The account's PLC operations in signing order, each with its submission state. Operations are
// submitted strictly in order: an operation's `prev` is the CID of the one before it, so it is only
// sent once that one was accepted, and a later change never replaces an operation still waiting.
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import type { KvStore } from '../storage/kv.ts';

export type PlcEntry = {
  index: number;
  /** Why it was signed: genesis, handle, rotation_keys, pds_endpoint, migrate_out. */
  reason: string;
  /** The signed operation as JSON text (what is POSTed). */
  op: string;
  cid: string;
  signedAtNs: bigint;
  accepted: boolean;
  acceptedAtNs: bigint | null;
  attempts: number;
  lastAttemptNs: bigint | null;
  lastError: string | null;
  /** Earliest time the submitter tries again (backoff after a failure). */
  nextAttemptNs: bigint;
};

const key = (i: number) => `op/${String(i).padStart(10, '0')}`;

export class PlcLog {
  constructor(private kv: KvStore) {}

  count(): number {
    const v = this.kv.get('count');
    return v ? decodeCbor<number>(v) : 0;
  }

  /** Index of the first operation not yet accepted (== count when none waits). */
  private firstPendingIndex(): number {
    const v = this.kv.get('pending');
    return v ? decodeCbor<number>(v) : 0;
  }

  get(index: number): PlcEntry | null {
    const v = this.kv.get(key(index));
    return v ? decodeCbor<PlcEntry>(v) : null;
  }

  /** The newest operation (accepted or not): the next operation chains from it. */
  tip(): PlcEntry | null {
    const n = this.count();
    return n === 0 ? null : this.get(n - 1);
  }

  lastAccepted(): PlcEntry | null {
    const i = this.firstPendingIndex();
    return i === 0 ? null : this.get(i - 1);
  }

  nextPending(): PlcEntry | null {
    const i = this.firstPendingIndex();
    return i < this.count() ? this.get(i) : null;
  }

  append(e: Omit<PlcEntry, 'index' | 'accepted' | 'acceptedAtNs' | 'attempts' | 'lastAttemptNs' | 'lastError' | 'nextAttemptNs'>): PlcEntry {
    const index = this.count();
    const entry: PlcEntry = {
      ...e, index, accepted: false, acceptedAtNs: null, attempts: 0, lastAttemptNs: null, lastError: null, nextAttemptNs: e.signedAtNs,
    };
    this.kv.set(key(index), encodeCbor(entry));
    this.kv.set('count', encodeCbor(index + 1));
    return entry;
  }

  /** Records an attempt's outcome for the first pending operation (only that one is ever submitted). */
  recordAttempt(index: number, nowNs: bigint, outcome: { ok: true } | { ok: false; error: string; retryAtNs: bigint }): PlcEntry {
    const e = this.get(index);
    if (!e || index !== this.firstPendingIndex()) throw new Error(`PLC operation ${index} is not the next to submit`);
    const next: PlcEntry = outcome.ok
      ? { ...e, attempts: e.attempts + 1, lastAttemptNs: nowNs, accepted: true, acceptedAtNs: nowNs, lastError: null }
      : { ...e, attempts: e.attempts + 1, lastAttemptNs: nowNs, lastError: outcome.error, nextAttemptNs: outcome.retryAtNs };
    this.kv.set(key(index), encodeCbor(next));
    if (outcome.ok) this.kv.set('pending', encodeCbor(index + 1));
    return next;
  }

  /** Newest first, at most `limit`. */
  history(limit: number): PlcEntry[] {
    const out: PlcEntry[] = [];
    for (let i = this.count() - 1; i >= 0 && out.length < limit; i--) out.push(this.get(i)!);
    return out;
  }
}
