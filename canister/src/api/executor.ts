// Runs the effects of adopted governance proposals (timer-driven), then reports the outcome to
// Governance. Writes go through the same group-commit writer as delegate writes.
import type { Governance } from '../governance/governance.ts';
import type { Effect, ExecutionResult, GovWrite } from '../governance/types.ts';
import { applyProfilePatch, PROFILE_COLLECTION, PROFILE_RKEY } from '../bsky/profile.ts';
import { decodeCbor } from '../atproto/cbor.ts';
import type { Pds, WriteInput } from '../pds/pds.ts';
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

/** Executes every adopted proposal that is due; returns how many it ran. Never throws. */
export async function executeAdopted(pds: Pds, gov: Governance, nowNs: () => bigint, maxRuns = 10): Promise<number> {
  let runs = 0;
  gov.tick(nowNs());
  for (; runs < maxRuns; runs++) {
    const job = gov.claimExecution(nowNs());
    if (!job) break;
    const result: ExecutionResult = { rev: null, records: [] };
    try {
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
 * even though no record references them yet (voting can outlast the grace period).
 */
export function pinnedBlobs(gov: Governance): Set<string> {
  const out = new Set<string>();
  for (const status of ['open', 'adopted'] as const) {
    let after: bigint | undefined;
    for (;;) {
      const page = gov.listProposals({ status, after, limit: 100 });
      for (const p of page.proposals) {
        for (const ref of blobRefs([p.preview, p.effects])) out.add(ref.cid.toString());
        if (p.action.kind === 'update_profile') {
          for (const c of [p.action.profile.avatar, p.action.profile.banner]) if (c) out.add(c);
        }
        if (p.action.kind === 'post') for (const img of p.action.post.images ?? []) out.add(img.cid);
      }
      if (page.next === null) break;
      after = page.next;
    }
  }
  return out;
}
