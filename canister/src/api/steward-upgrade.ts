// Canopy upgrading its steward (Canopy is the steward's only controller): the steward's own
// procedure run the other way round (docs/contracts.md "Steward", item 6). Stop the steward,
// snapshot it, install exactly the voted module from Canopy's chunk store, start it, check its
// health and its module hash; after any failure past the snapshot, stop it, load the snapshot and
// start it again. Each step is persisted before its call, so an interrupted run resumes where it
// was (every step is safe to repeat).
import type { ExecutionOutcome } from '../governance/types.ts';
import { getValue, putValue } from '../governance/store.ts';
import type { KvStore } from '../storage/kv.ts';
import type { ManagementPort } from './management-port.ts';

export type { ManagementPort } from './management-port.ts';

export interface StewardPorts {
  /** the steward's get_config().active is set: it is upgrading Canopy */
  busy(steward: string): Promise<boolean>;
  health(steward: string): Promise<{ ok: boolean; detail: string }>;
}

type Phase = 'stop' | 'snapshot' | 'install' | 'start' | 'health' | 'rollback_stop' | 'rollback_load' | 'rollback_start';
type Run = { phase: Phase; snapshot: Uint8Array | null; failure: string | null };

export type StewardUpgrade = { id: bigint; steward: string; self: string; wasmHash: string; chunkHashes: string[]; arg: Uint8Array };

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs (or resumes) the steward's upgrade for proposal `u.id`. Returns the outcome, or null when it
 * must be tried again later (the steward is busy, or a rollback step failed and is retried).
 */
export async function upgradeSteward(kv: KvStore, mgmt: ManagementPort, steward: StewardPorts, u: StewardUpgrade): Promise<ExecutionOutcome | null> {
  const key = `steward-run/${u.id}`;
  const saved = getValue(kv, key) as Run | undefined;
  let run: Run = saved ? { phase: saved.phase, snapshot: saved.snapshot ? new Uint8Array(saved.snapshot) : null, failure: saved.failure ?? null } : { phase: 'stop', snapshot: null, failure: null };
  const save = (next: Partial<Run>) => {
    run = { ...run, ...next };
    putValue(kv, key, run);
  };
  if (!saved) {
    if (await steward.busy(u.steward)) return null;
    save({});
  }
  const fail = (failure: string): ExecutionOutcome => {
    kv.delete(key);
    return { err: failure };
  };
  const rollback = (phase: Phase, failure: string) => save({ phase, failure });

  for (;;) {
    try {
      switch (run.phase) {
        case 'stop':
          try {
            await mgmt.stop(u.steward);
          } catch (err) {
            await mgmt.start(u.steward).catch(() => undefined);
            return fail(`stop_canister of the steward failed: ${reasonOf(err)}`);
          }
          save({ phase: 'snapshot' });
          break;
        case 'snapshot':
          try {
            const [previous] = await mgmt.listSnapshots(u.steward);
            save({ phase: 'install', snapshot: await mgmt.takeSnapshot(u.steward, previous) });
          } catch (err) {
            await mgmt.start(u.steward).catch(() => undefined);
            return fail(`take_canister_snapshot of the steward failed: ${reasonOf(err)}`);
          }
          break;
        case 'install':
          try {
            await mgmt.installChunked({ target: u.steward, store: u.self, chunkHashes: u.chunkHashes.map(unhex), wasmHash: unhex(u.wasmHash), arg: u.arg });
            save({ phase: 'start' });
          } catch (err) {
            rollback('rollback_load', `install_chunked_code failed: ${reasonOf(err)}`);
          }
          break;
        case 'start':
          try {
            await mgmt.start(u.steward);
            save({ phase: 'health' });
          } catch (err) {
            rollback('rollback_stop', `start_canister failed: ${reasonOf(err)}`);
          }
          break;
        case 'health':
          try {
            const h = await steward.health(u.steward);
            if (!h.ok) throw new Error(`not healthy: ${h.detail}`);
            const installed = await mgmt.moduleHash(u.steward);
            if (!installed || hex(installed) !== u.wasmHash) throw new Error(`the installed module is ${installed ? hex(installed) : 'none'}, not ${u.wasmHash}`);
            kv.delete(key);
            return { ok: { rev: null, records: [], moduleHash: hex(installed) } };
          } catch (err) {
            rollback('rollback_stop', `health check failed: ${reasonOf(err)}`);
          }
          break;
        case 'rollback_stop':
          await mgmt.stop(u.steward);
          save({ phase: 'rollback_load' });
          break;
        case 'rollback_load':
          if (!run.snapshot) throw new Error('no snapshot to load');
          await mgmt.loadSnapshot(u.steward, run.snapshot);
          save({ phase: 'rollback_start' });
          break;
        case 'rollback_start':
          await mgmt.start(u.steward);
          return fail(run.failure ?? 'the upgrade failed');
      }
    } catch {
      // A rollback step failed: the steward must come back, so the next claim of the proposal retries it.
      return null;
    }
  }
}
