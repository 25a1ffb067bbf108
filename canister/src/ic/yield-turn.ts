// Ends the current message and resumes in a later one, so other messages (e.g. the commit
// that a queued write waits for) can run. raw_rand is the cheapest call every replica serves.
import { call } from 'azle';

export async function yieldTurn(): Promise<void> {
  await call('aaaaa-aa', 'raw_rand', { raw: true });
}
