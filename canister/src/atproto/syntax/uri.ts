import { ensurer, type Ensure } from './error.ts';

// Lexicon `uri` format: any scheme:rest URI without whitespace, up to 8 KiB.
const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;

export function uriProblem(uri: string): string | null {
  if (uri.length > 8192) return 'URI is longer than 8192 characters';
  if (!URI_RE.test(uri)) return `invalid URI: ${JSON.stringify(uri.slice(0, 300))}`;
  return null;
}

export const isValidUri = (uri: string): boolean => uriProblem(uri) === null;
export const ensureValidUri: Ensure = ensurer(uriProblem);
