// Adapts replica/src/exec's Engine to the EnginePort the HTTP side uses, and caches the data
// certificates the engine asks for on every query (a BLS signature costs ~15 ms).
import type { Principal } from '@dfinity/principal';
import type { Engine, CallResult } from '../exec/engine.ts';
import type { Reject } from '../exec/errors.ts';
import { defaultErrorCode, type EnginePort, type ExecOutcome, type Refusal } from './engine-port.ts';
import type { Certifier } from './certification.ts';

function refusal(r: Reject, instructions?: bigint): Refusal {
  return {
    status: 'rejected',
    rejectCode: r.code,
    rejectMessage: r.message,
    errorCode: r.errorCode ?? defaultErrorCode(r.code, r.message),
    instructions
  };
}

function outcome(r: CallResult, instructions?: bigint): ExecOutcome {
  if ('reply' in r) return { status: 'replied', reply: r.reply, instructions };
  return refusal(r.reject, instructions);
}

export function enginePort(engine: Engine): EnginePort {
  return {
    async query(id, method, arg, sender) {
      const r = await engine.query(id, method, arg, sender);
      // A query runs to completion before query() resolves, so the newest metric is this one.
      const last = engine.metrics().messages.at(-1);
      const mine = last && last.kind === 'query' && last.canisterId === id.toText() && last.method === method;
      return outcome(r, mine ? last.instructions : undefined);
    },
    acceptIngress(id, method, arg, sender) {
      const refused = engine.acceptIngress(id, method, arg, sender);
      return refused ? refusal(refused) : undefined;
    },
    async update(id, method, arg, sender) {
      return outcome(await engine.update(id, method, arg, sender, { accepted: true }));
    },
    canisterIds: () => engine.canisterIds(),
    canister(id) {
      if (!engine.hasCanister(id)) return undefined;
      return { moduleHash: engine.moduleHash(id), controllers: engine.controllers(id), certifiedData: engine.certifiedData(id) };
    },
    managementTarget(method, arg) {
      try {
        return engine.effectiveCanisterId(method, arg);
      } catch {
        return undefined;
      }
    }
  };
}

const CERT_MAX_AGE_MS = 1000;

/** Data certificates per canister, reused while certified_data is unchanged and the time is fresh. */
export function cachedDataCertificates(engine: Engine, certifier: Certifier): (id: Principal) => Uint8Array {
  const cache = new Map<string, { data: string; at: number; cert: Uint8Array }>();
  return (id) => {
    const key = id.toText();
    const data = Buffer.from(engine.certifiedData(id)).toString('hex');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.data === data && now - hit.at < CERT_MAX_AGE_MS && now >= hit.at) return hit.cert;
    const cert = certifier.dataCertificate(id);
    cache.set(key, { data, at: now, cert });
    return cert;
  };
}
