// Submits queued PLC operations to the directory, in order, until each is accepted: a failure is
// retried with exponential backoff; an operation whose answer was lost counts as accepted when the
// directory's last operation for the DID is it. The canister's timer and the manual
// `submit_plc_operation` both run through here (one submission at a time).
import type { Pds } from './pds.ts';
import type { PlcEntry } from './plc-log.ts';
import { plcOperationCid } from './plc-operation.ts';

export type HttpAnswer = { status: number; body: string };
export interface PlcHttp {
  post(url: string, json: string): Promise<HttpAnswer>;
  get(url: string): Promise<HttpAnswer>;
}

const SECOND_NS = 1_000_000_000n;
export const RETRY_FIRST_NS = 10n * SECOND_NS;
export const RETRY_MAX_NS = 3600n * SECOND_NS;
/** A member may ask for a submission at most this often (each is an HTTPS outcall paid in cycles). */
export const MANUAL_INTERVAL_NS = 30n * SECOND_NS;
/** Operations submitted per run (each is one or two outcalls). */
const MAX_PER_RUN = 5;

export class PlcSubmitError extends Error {
  override name = 'PlcSubmitError';
}

/** 10 s after the first failure, doubling, at most one hour. */
export function retryDelayNs(failures: number): bigint {
  const d = RETRY_FIRST_NS << BigInt(Math.min(Math.max(failures - 1, 0), 20));
  return d > RETRY_MAX_NS ? RETRY_MAX_NS : d;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class PlcSubmitter {
  private busy = false;

  constructor(
    private pds: Pds,
    private http: PlcHttp,
  ) {}

  /** When the next queued operation is due (null: nothing waits). */
  nextDueNs(): bigint | null {
    return this.pds.identity.plcLog.nextPending()?.nextAttemptNs ?? null;
  }

  /**
   * Submits due operations in order. `manual`: a member asked; it ignores the backoff but is refused
   * within MANUAL_INTERVAL_NS of the previous attempt. Returns when the next attempt is due.
   */
  async run(manual = false): Promise<bigint | null> {
    const log = this.pds.identity.plcLog;
    const first = log.nextPending();
    if (!first) return null; // nothing waits: idempotent
    if (manual && first.lastAttemptNs !== null && this.pds.env.nowNs() - first.lastAttemptNs < MANUAL_INTERVAL_NS) {
      const wait = (first.lastAttemptNs + MANUAL_INTERVAL_NS - this.pds.env.nowNs()) / SECOND_NS + 1n;
      throw new PlcSubmitError(`the operation was submitted less than ${MANUAL_INTERVAL_NS / SECOND_NS} s ago; retry in ${wait} s`);
    }
    if (this.busy) return this.nextDueNs();
    this.busy = true;
    try {
      for (let i = 0; i < MAX_PER_RUN; i++) {
        const e = log.nextPending();
        if (!e) break;
        if (!(manual && i === 0) && e.nextAttemptNs > this.pds.env.nowNs()) break;
        const error = await this.attempt(e);
        const now = this.pds.env.nowNs();
        if (error !== null) {
          log.recordAttempt(e.index, now, { ok: false, error, retryAtNs: now + retryDelayNs(e.attempts + 1) });
          break;
        }
        this.pds.plcAccepted(log.recordAttempt(e.index, now, { ok: true }));
      }
    } finally {
      this.busy = false;
    }
    return this.nextDueNs();
  }

  /** One submission: null when the directory has the operation, else the reason. */
  private async attempt(e: PlcEntry): Promise<string | null> {
    const s = this.pds.identity.require();
    const url = `${s.plcUrl!.replace(/\/$/, '')}/${s.did}`;
    let error: string;
    try {
      const res = await this.http.post(url, e.op);
      if (res.status >= 200 && res.status < 300) return null;
      error = `PLC directory answered ${res.status}: ${res.body.slice(0, 300)}`;
    } catch (err) {
      error = errorText(err);
    }
    // The directory may hold the operation though its answer was lost (or it refuses a duplicate).
    try {
      const last = await this.http.get(`${url}/log/last`);
      if (last.status === 200 && plcOperationCid(JSON.parse(last.body) as object) === e.cid) return null;
    } catch {
      // keep the submission's error
    }
    return error;
  }
}
