// Programmatic API of the local replica (docs/contracts.md section 5): the execution engine
// (replica/src/exec) behind the IC HTTP interface and gateway (replica/src/http).
import { Principal } from '@dfinity/principal';
import { Engine, type InstallMode } from './exec/engine.ts';
import { startHttpReplica } from './http/http-replica.ts';
import { enginePort, cachedDataCertificates } from './http/exec-adapter.ts';

export type { InstallMode };

export interface ReplicaOptions {
  host?: string;
  /** 0 picks a free port; default 4943 */
  port?: number;
  /** keeps canisters (wasm, settings, stable memory) and the root key across restarts */
  stateDir?: string;
  log?: (line: string) => void;
  /** lower the IC's instruction limits (tests that exercise the limit without burning 40 B instructions) */
  instructionLimits?: { update?: bigint; query?: bigint; install?: bigint; inspect?: bigint };
  /** real-time delay of each sign_with_ecdsa reply (default 0; a threshold signature takes seconds on mainnet) */
  ecdsaLatencyMs?: number;
}

export interface Replica {
  /** e.g. 'http://127.0.0.1:4943': IC HTTP interface and gateway */
  url: string;
  /** DER-encoded BLS root key (agents may also fetchRootKey) */
  rootKey: Uint8Array;
  engine: Engine;
  createCanister(opts?: { controllers?: Principal[]; cycles?: bigint }): Promise<Principal>;
  installCode(canisterId: Principal, wasm: Uint8Array, arg: Uint8Array, mode: InstallMode): Promise<void>;
  /** moves the clock and runs due timers to quiescence */
  advanceTime(ms: number): Promise<void>;
  /**
   * Gateway URL for a canister: `${url}/?canisterId=ID`, or with `path` (may carry its own query)
   * the full URL for that path. The canisterId parameter is removed before the canister sees the URL.
   */
  gatewayUrl(canisterId: Principal | string, path?: string): string;
  /** Prometheus text of /_/metrics */
  metricsText(): string;
  stop(): Promise<void>;
}

export async function startReplica(opts: ReplicaOptions = {}): Promise<Replica> {
  const log = opts.log ?? (() => {});
  const engine = await Engine.create({ stateDir: opts.stateDir, log, instructionLimits: opts.instructionLimits, ecdsaLatencyMs: opts.ecdsaLatencyMs });
  let http;
  try {
    http = await startHttpReplica({
      engine: enginePort(engine),
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 4943,
      stateDir: opts.stateDir,
      log,
      messageSource: () => engine.metrics().messages
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  engine.setDataCertificateProvider(cachedDataCertificates(engine, http.certifier));
  const url = http.url;
  let stopped = false;
  return {
    url,
    rootKey: http.rootKey,
    engine,
    createCanister: (o = {}) => engine.createCanister(o),
    installCode: (id, wasm, arg, mode) => engine.installCode(id, wasm, arg, mode),
    advanceTime: (ms) => engine.advanceTime(ms),
    gatewayUrl(canisterId, path = '/') {
      const id = typeof canisterId === 'string' ? canisterId : canisterId.toText();
      const p = path.startsWith('/') ? path : `/${path}`;
      return `${url}${p}${p.includes('?') ? '&' : '?'}canisterId=${id}`;
    },
    metricsText: () => http.metrics.render(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close();
      await engine.close();
    }
  };
}
