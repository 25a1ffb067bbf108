import { ensurer, type Ensure } from './error.ts';

// String-level check only (any multibase CIDv1 spelling); CIDv0 ("Qm..." base58, 46 chars) is not allowed.
const CID_RE = /^[a-zA-Z0-9+=]{8,256}$/;

export function cidProblem(cid: string): string | null {
  if (!CID_RE.test(cid)) return `invalid CID: ${JSON.stringify(cid.slice(0, 300))}`;
  if (cid.length === 46 && cid.startsWith('Qm')) return 'CIDv0 is not supported';
  return null;
}

export const isValidCid = (cid: string): boolean => cidProblem(cid) === null;
export const ensureValidCid: Ensure = ensurer(cidProblem);
