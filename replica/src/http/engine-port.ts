// What the HTTP side needs from the execution engine. index.ts adapts replica/src/exec's Engine to
// this port, so the HTTP layer (and its unit tests with a fake engine) depend only on this shape.
import type { Principal } from '@dfinity/principal';

export type ExecOutcome =
  | { status: 'replied'; reply: Uint8Array; instructions?: bigint }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode?: string; instructions?: bigint };

/**
 * The time certificates, query signatures and ingress expiry checks use: wall-clock nanoseconds,
 * never going backwards. Deliberately NOT the engine's clock: advanceTime moves what canisters see
 * (ic0.time, timers) but agents compare certificate times and expiries with their own wall clock,
 * and on the IC both agree. Keeping the interface on wall time lets agents survive advanceTime.
 */
export function wallClock(): () => bigint {
  let last = 0n;
  return () => {
    let t = BigInt(Date.now()) * 1_000_000n;
    if (t <= last) t = last + 1n;
    last = t;
    return t;
  };
}

export interface CanisterView {
  /** sha256 of the installed module; undefined while empty */
  moduleHash?: Uint8Array;
  controllers: Principal[];
  certifiedData: Uint8Array;
}

export type Refusal = Extract<ExecOutcome, { status: 'rejected' }>;

export interface EnginePort {
  query(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): Promise<ExecOutcome>;
  /**
   * Whether an ingress update may be submitted (the IC's ingress filter: canister_inspect_message, the
   * management canister's controller checks); a refusal is answered on the call endpoint, uncertified.
   */
  acceptIngress?(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): Refusal | undefined;
  /** an ingress update (to a canister or to the management canister `aaaaa-aa`) that passed acceptIngress */
  update(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): Promise<ExecOutcome>;
  canisterIds(): Principal[];
  canister(id: Principal): CanisterView | undefined;
  /** the canister a management call (`aaaaa-aa`) acts on, if the engine can tell */
  managementTarget?(method: string, arg: Uint8Array): Principal | undefined;
}

/**
 * The IC error code ("IC0503" etc.) for a reject, from its code and message when the engine gives
 * none (the agent shows it, and the IC certifies it under request_status/<id>/error_code).
 */
export function defaultErrorCode(rejectCode: number, message = ''): string {
  switch (rejectCode) {
    case 1:
      return 'IC0101';
    case 2:
      return 'IC0201';
    case 3:
      return /no (query|update) method/i.test(message) ? 'IC0536' : 'IC0301';
    case 4:
      return 'IC0406';
    case 5:
      if (/exceeded the limit of \d+ instructions/i.test(message)) return 'IC0522';
      if (/is empty|no wasm module/i.test(message)) return 'IC0537';
      if (/is stopped/i.test(message)) return 'IC0508';
      if (/did not reply/i.test(message)) return 'IC0506';
      return 'IC0503';
    default:
      return 'IC0500';
  }
}
