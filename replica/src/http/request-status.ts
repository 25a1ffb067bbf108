// Ingress request statuses as certified under /request_status/<request id>. Entries are kept until
// their ingress expiry has passed (plus a margin), as the IC keeps them until then.
import type { ExecOutcome } from './engine-port.ts';
import { defaultErrorCode } from './engine-port.ts';
import { toHex } from './request-id.ts';

export type RequestStatus = {
  requestId: Uint8Array;
  sender: Uint8Array;
  canisterId: Uint8Array;
  expiryNs: bigint;
  status: 'received' | 'processing' | 'replied' | 'rejected';
  reply?: Uint8Array;
  rejectCode?: number;
  rejectMessage?: string;
  errorCode?: string;
  /** resolves when the call completed */
  done: Promise<void>;
};

const KEEP_AFTER_EXPIRY_NS = 60n * 1_000_000_000n;
const MAX_ENTRIES = 50_000;
const MAX_REPLY_BYTES = 256 * 1024 * 1024;

export class RequestStatusStore {
  private readonly entries = new Map<string, RequestStatus>();
  /** bumped on every change, so the certified subtree can be cached between changes */
  version = 0;
  private replyBytes = 0;

  get(requestId: Uint8Array): RequestStatus | undefined {
    return this.entries.get(toHex(requestId));
  }

  all(): Iterable<RequestStatus> {
    return this.entries.values();
  }

  /** Records a new request and runs it; the entry is completed with the outcome. */
  start(
    init: Omit<RequestStatus, 'status' | 'done'>,
    run: () => Promise<ExecOutcome>,
    nowNs: bigint
  ): RequestStatus {
    this.prune(nowNs);
    let resolve!: () => void;
    const entry: RequestStatus = { ...init, status: 'processing', done: new Promise<void>((r) => (resolve = r)) };
    this.entries.set(toHex(init.requestId), entry);
    this.version++;
    run()
      .then((out) => {
        complete(entry, out);
        this.replyBytes += entry.reply?.length ?? 0;
      })
      .catch((err: unknown) =>
        complete(entry, { status: 'rejected', rejectCode: 5, rejectMessage: `replica error: ${String(err)}`, errorCode: 'IC0500' })
      )
      .finally(() => {
        this.version++;
        resolve();
      });
    return entry;
  }

  private prune(nowNs: bigint): void {
    for (const [k, e] of this.entries) {
      const settled = e.status === 'replied' || e.status === 'rejected';
      const crowded = this.entries.size > MAX_ENTRIES || this.replyBytes > MAX_REPLY_BYTES;
      if (settled && (e.expiryNs + KEEP_AFTER_EXPIRY_NS < nowNs || crowded)) {
        this.entries.delete(k);
        this.replyBytes -= e.reply?.length ?? 0;
        this.version++;
      }
    }
  }
}

function complete(entry: RequestStatus, out: ExecOutcome): void {
  if (out.status === 'replied') {
    entry.status = 'replied';
    entry.reply = out.reply;
  } else {
    entry.status = 'rejected';
    entry.rejectCode = out.rejectCode;
    entry.rejectMessage = out.rejectMessage;
    entry.errorCode = out.errorCode ?? defaultErrorCode(out.rejectCode, out.rejectMessage);
  }
}
