import { ensurer, type Ensure } from './error.ts';

// did:<lowercase method>:<id chars, ':' allowed inside but not last, '%' allowed but not last>
const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;

export function didProblem(did: string): string | null {
  if (did.length > 2048) return 'DID is longer than 2048 characters';
  if (!DID_RE.test(did)) return `invalid DID: ${JSON.stringify(did.slice(0, 300))}`;
  return null;
}

export const isValidDid = (did: string): boolean => didProblem(did) === null;
export const ensureValidDid: Ensure = ensurer(didProblem);
