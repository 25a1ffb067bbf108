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

/** Handles compare case-insensitively; this is the stored form. */
export const normalizeHandle = (handle: string): string => handle.toLowerCase();
