// Runs the effects of adopted governance proposals (timer-driven), then reports the outcome to
// Governance. Writes go through the same group-commit writer as delegate writes.
import type { Governance } from '../governance/governance.ts';
import type { Effect, ExecutionOutcome, ExecutionResult, GovWrite } from '../governance/types.ts';
import { applyProfilePatch, PROFILE_COLLECTION, PROFILE_RKEY } from '../bsky/profile.ts';
import { decodeCbor } from '../atproto/cbor.ts';
import type { Pds, WriteInput } from '../pds/pds.ts';
import { WRITE_STALL_NS } from '../pds/writer.ts';

/**
 * A claimed execution that has not reported back within this time may be claimed again. Longer than
 * the writer's stall timeout: a run waiting for a slow signature has had its write declared lost (and
 * settled) before a second run may take the proposal, so its effects are never applied twice.
 */
export const EXECUTION_LEASE_NS = WRITE_STALL_NS + 60n * 1_000_000_000n;
import { blobRefs } from '../pds/blobs.ts';
import { authorizeMigration, queueMigrationOperation } from '../pds/migration.ts';

function toInput(w: GovWrite): WriteInput {
  if (w.action === 'delete') return { action: 'delete', collection: w.collection, rkey: w.rkey };
  if (w.action === 'create') return { action: 'create', collection: w.collection, rkey: w.rkey, record: w.record };
  return { action: 'put', collection: w.collection, rkey: w.rkey, record: w.record };
}

async function runEffect(pds: Pds, effect: Effect, result: ExecutionResult): Promise<void> {
  switch (effect.type) {
    case 'writes': {
      if (effect.writes.length === 0) return;
      const out = await pds.write(effect.writes.map(toInput));
      result.rev = out.rev;
      for (const r of out.results) result.records.push({ uri: r.uri, cid: r.cid?.toString() ?? null });
      return;
    }
    case 'updateProfile': {
      const cur = pds.repo.getRecord(PROFILE_COLLECTION, PROFILE_RKEY);
      const record = applyProfilePatch(cur ? decodeCbor<Record<string, unknown>>(cur.bytes) : null, effect.patch);
      const out = await pds.write([{ action: 'put', collection: PROFILE_COLLECTION, rkey: PROFILE_RKEY, record, swapRecord: cur ? cur.cid : null }]);
      result.rev = out.rev;
      for (const r of out.results) result.records.push({ uri: r.uri, cid: r.cid?.toString() ?? null });
      return;
    }
    case 'setHandle':
      await pds.setHandle(effect.handle);
      return;
    case 'setAccountActive':
      pds.setActive(effect.active);
      return;
    case 'upgrade':
      throw new Error('an upgrade runs through the steward, not as a repository effect');
    case 'setRotationKeys':
      await pds.setRotationKeys(effect.keys);
      return;
    case 'setPdsEndpoint':
      await pds.setPdsEndpoint(effect.url);
      return;
    case 'authorizeMigration':
      authorizeMigration(pds, effect);
      return;
    case 'migrateOut':
      await queueMigrationOperation(pds, effect, effect.credentials);
      return;
  }
}

/** Runs an upgrade effect; null while the outcome is pending (reported later by the steward). */
export type RunUpgrade = (id: bigint, effect: Extract<Effect, { type: 'upgrade' }>) => Promise<ExecutionOutcome | null>;

export type ExecuteOptions = {
  /** Ends the current message (on the IC a yield; its state is committed). */
  commit?: () => Promise<void>;
  maxRuns?: number;
  runUpgrade?: RunUpgrade;
};

/**
 * One governance run: closes due proposals (a bounded number), then executes adopted ones, at most
 * `maxRuns`. Returns how many it executed. Never throws. `commit` puts each claim on record before its
 * effects run: if a run traps, only that proposal is held (until its lease ends; after
 * MAX_EXECUTION_ATTEMPTS it is marked failed) and the others go on.
 */
export async function executeAdopted(pds: Pds, gov: Governance, nowNs: () => bigint, { commit, maxRuns = 10, runUpgrade }: ExecuteOptions = {}): Promise<number> {
  let runs = 0;
  gov.completeIndex();
  gov.tick(nowNs());
  await commit?.();
  for (; runs < maxRuns; runs++) {
    const job = gov.claimExecution(nowNs(), EXECUTION_LEASE_NS);
    if (!job) break;
    const upgrade = job.effects.find((e) => e.type === 'upgrade');
    if (upgrade) {
      const outcome = runUpgrade ? await runUpgrade(job.id, upgrade) : { err: 'this canister cannot run upgrades' };
      if (outcome) gov.recordExecution(job.id, outcome, nowNs());
      continue;
    }
    const result: ExecutionResult = { rev: null, records: [] };
    try {
      await commit?.();
      for (const effect of job.effects) await runEffect(pds, effect, result);
      gov.recordExecution(job.id, { ok: result }, nowNs());
    } catch (err) {
      gov.recordExecution(job.id, { err: err instanceof Error ? err.message : String(err) }, nowNs());
    }
  }
  return runs;
}

/**
 * Blobs that open or adopted (not yet executed) proposals will reference: blob GC must keep them
 * even though no record references them yet (voting can outlast the grace period). Read from the
 * proposal index, not the proposals.
 */
export function pinnedBlobs(gov: Governance): Set<string> {
  const out = new Set<string>();
  for (const status of ['open', 'adopted'] as const) for (const m of gov.proposalMetas(status)) for (const c of m.blobs) out.add(c);
  return out;
}
