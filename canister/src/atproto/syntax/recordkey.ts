import { ensurer, type Ensure } from './error.ts';

const RKEY_RE = /^[a-zA-Z0-9_~.:-]{1,512}$/;

export function recordKeyProblem(rkey: string): string | null {
  if (!RKEY_RE.test(rkey) || rkey === '.' || rkey === '..') return `invalid record key: ${JSON.stringify(rkey.slice(0, 300))}`;
  return null;
}

export const isValidRecordKey = (rkey: string): boolean => recordKeyProblem(rkey) === null;
export const ensureValidRecordKey: Ensure = ensurer(recordKeyProblem);
