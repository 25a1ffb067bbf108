import { ensurer, type Ensure } from './error.ts';

// Domain-name handle: 2+ labels of 1-63 chars [a-zA-Z0-9-], no edge hyphens; the last label starts with a letter.
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export function handleProblem(handle: string): string | null {
  if (handle.length > 253) return 'handle is longer than 253 characters';
  if (!HANDLE_RE.test(handle)) return `invalid handle: ${JSON.stringify(handle.slice(0, 300))}`;
  return null;
}

export const isValidHandle = (handle: string): boolean => handleProblem(handle) === null;
export const ensureValidHandle: Ensure = ensurer(handleProblem);

/**
 * Reserved TLDs an account may not take as its handle (atproto handle spec, "Additional Non-Syntax
 * Restrictions"). They stay valid handle *syntax* (a record may mention one); only the account's own
 * handle is refused, as the reference PDS refuses them at registration. `.test` is not on the list:
 * RFC 2606 reserves it so it never resolves on the public internet, and the spec and the reference keep
 * it usable for local development — the local stack's `community.test` relies on that.
 */
export const DISALLOWED_HANDLE_TLDS = ['.alt', '.arpa', '.example', '.internal', '.invalid', '.local', '.localhost', '.onion'] as const;

/** Syntax plus the reserved-TLD rule: the check for a handle this PDS's account takes. */
export function accountHandleProblem(handle: string): string | null {
  const syntax = handleProblem(handle);
  if (syntax) return syntax;
  const lower = handle.toLowerCase();
  const tld = DISALLOWED_HANDLE_TLDS.find((t) => lower.endsWith(t));
  return tld ? `handle uses the reserved TLD ${tld}: ${JSON.stringify(handle)}` : null;
}

export const isValidAccountHandle = (handle: string): boolean => accountHandleProblem(handle) === null;

/** Handles compare case-insensitively; this is the stored form. */
export const normalizeHandle = (handle: string): string => handle.toLowerCase();
