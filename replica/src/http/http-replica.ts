// Assembles the HTTP side of the replica around an engine: keys, certification, request statuses,
// IC interface, gateway and metrics, listening on host:port.
import type { Server } from 'node:http';
import type { Principal } from '@dfinity/principal';
import { wallClock, type EnginePort } from './engine-port.ts';
import { loadOrCreateKeys, type ReplicaKeys } from './keys.ts';
import { Certifier } from './certification.ts';
import { RequestStatusStore } from './request-status.ts';
import { Metrics, type EngineMessage } from './metrics.ts';
import { IcApi } from './ic-api.ts';
import { Gateway } from './gateway.ts';
import { createReplicaServer, listen } from './server.ts';

export const IMPL_VERSION = 'canopy-replica 0.1.0';

export interface HttpReplicaOptions {
  engine: EnginePort;
  host?: string;
  port?: number;
  stateDir?: string;
  log?: (line: string) => void;
  /** the engine's recent executed messages, for per-method instruction metrics */
  messageSource?: () => EngineMessage[];
}

export interface HttpReplica {
  url: string;
  port: number;
  keys: ReplicaKeys;
  rootKey: Uint8Array;
  certifier: Certifier;
  metrics: Metrics;
  dataCertificate(canisterId: Principal): Uint8Array;
  close(): Promise<void>;
}

export async function startHttpReplica(o: HttpReplicaOptions): Promise<HttpReplica> {
  const log = o.log ?? (() => {});
  const host = o.host ?? '127.0.0.1';
  const keys = loadOrCreateKeys(o.stateDir);
  const statuses = new RequestStatusStore();
  const now = wallClock();
  const certifier = new Certifier(keys, o.engine, statuses, now);
  const metrics = new Metrics(log);
  if (o.messageSource) metrics.setMessageSource(o.messageSource);
  const api = new IcApi({ engine: o.engine, keys, certifier, statuses, metrics, implVersion: IMPL_VERSION, now });
  const gateway = new Gateway(o.engine, metrics);
  const server: Server = createReplicaServer({ api, gateway, metrics, log });
  const port = await listen(server, host, o.port ?? 4943);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    keys,
    rootKey: keys.rootKeyDer,
    certifier,
    metrics,
    dataCertificate: (id) => certifier.dataCertificate(id),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await keys.close();
    }
  };
}
