// The PlcSubmitter's HTTP in Node tests: fetch, counting calls (the canister uses HTTPS outcalls).
import type { PlcHttp } from '../../canister/src/pds/plc-submit.ts';

export function fetchPlcHttp(calls = { post: 0, get: 0 }): PlcHttp & { calls: typeof calls } {
  return {
    calls,
    async post(url, json) {
      calls.post++;
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
      return { status: r.status, body: await r.text() };
    },
    async get(url) {
      calls.get++;
      const r = await fetch(url);
      return { status: r.status, body: await r.text() };
    },
  };
}
