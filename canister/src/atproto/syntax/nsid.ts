import { ensurer, type Ensure } from './error.ts';

// Reversed domain authority (first label starts with a letter) then a name of letters/digits starting with a letter.
const NSID_RE =
  /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\.[a-zA-Z][a-zA-Z0-9]{0,62}$/;

export function nsidProblem(nsid: string): string | null {
  if (nsid.length > 317) return 'NSID is longer than 317 characters';
  if (!NSID_RE.test(nsid)) return `invalid NSID: ${JSON.stringify(nsid.slice(0, 300))}`;
  return null;
}

export const isValidNsid = (nsid: string): boolean => nsidProblem(nsid) === null;
export const ensureValidNsid: Ensure = ensurer(nsidProblem);
