// Manual Candid replies: a method's failure becomes a reject carrying its reason instead of a
// trap. A trap would also roll back bookkeeping done in the same message (e.g. the group-commit
// writer settling a batch after a failed signature), so update methods reply explicitly.
import { IDL, msgArgData, msgReject, msgReply } from 'azle';

export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === 'object' && 'rejectMessage' in err) return String((err as { rejectMessage: unknown }).rejectMessage);
  return String(err);
}

export function decodeArgs<T extends unknown[]>(types: IDL.Type[]): T {
  return IDL.decode(types, msgArgData()) as unknown as T;
}

export async function replyWith(ret: IDL.Type, work: () => unknown | Promise<unknown>): Promise<void> {
  let value: unknown;
  try {
    value = await work();
  } catch (err) {
    msgReject(reasonOf(err));
    return;
  }
  msgReply(new Uint8Array(IDL.encode([ret], [value])));
}
