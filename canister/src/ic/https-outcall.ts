// HTTPS outcalls through the management canister (used to submit did:plc operations and read them back).
// Replicas must agree on the response, so a transform query strips headers (main.ts's plc_transform,
// whose Candid types are HttpOutcallResponse/TransformArgs in api/interface.ts).
import { call, canisterSelf } from 'azle';
import { http_request_args, http_request_result } from 'azle/canisters/management/idl';
import type { MethodName } from '../api/interface.ts';

/** Enough for a small POST with a 64 KB response on a 13-node subnet; the rest is refunded. */
const OUTCALL_CYCLES = 3_000_000_000n;

export const TRANSFORM_METHOD = 'plc_transform' satisfies MethodName;

async function outcall(method: 'get' | 'post', url: string, json?: string): Promise<{ status: number; body: string }> {
  const res = await call<[any], { status: bigint; body: Uint8Array | number[] }>('aaaaa-aa', 'http_request', {
    paramIdlTypes: [http_request_args],
    returnIdlType: http_request_result,
    args: [
      {
        url,
        method: { [method]: null },
        max_response_bytes: [65_536n],
        body: json === undefined ? [] : [new TextEncoder().encode(json)],
        transform: [{ function: [canisterSelf(), TRANSFORM_METHOD], context: new Uint8Array() }],
        headers: json === undefined ? [] : [{ name: 'Content-Type', value: 'application/json' }],
      },
    ],
    cycles: OUTCALL_CYCLES,
  });
  return { status: Number(res.status), body: new TextDecoder().decode(Uint8Array.from(res.body)) };
}

export const httpPostJson = (url: string, json: string) => outcall('post', url, json);
export const httpGet = (url: string) => outcall('get', url);
