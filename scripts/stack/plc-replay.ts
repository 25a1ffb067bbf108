// Gives a fresh PLC directory the operations the canister's directory had accepted, oldest first: the
// stack's in-memory directory forgets everything when the stack stops, the canister does not.
import type { ActorSubclass } from '@dfinity/agent';
import type { CanopyService } from '../../canister/src/api/interface.ts';

export async function replayPlcLog(canister: ActorSubclass<CanopyService>, plcUrl: string): Promise<number> {
  const [status, plc] = await Promise.all([canister.get_status(), canister.get_plc_status()]);
  const accepted = plc.history.filter((e) => e.accepted).sort((a, b) => a.index - b.index);
  if (accepted.length > 0 && accepted[0].index !== 0) {
    throw new Error(`get_plc_status lists only the newest ${plc.history.length} operations: run a persistent directory and set CANOPY_PLC_URL`);
  }
  for (const e of accepted) {
    const res = await fetch(`${plcUrl}/${status.did}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: e.operation_json });
    if (!res.ok) throw new Error(`the PLC directory refused accepted operation ${e.index} (${e.cid}): ${res.status} ${await res.text()}`);
  }
  return accepted.length;
}
