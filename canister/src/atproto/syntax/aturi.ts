import { ensurer, type Ensure } from './error.ts';
import { isValidDid } from './did.ts';
import { isValidHandle } from './handle.ts';
import { isValidNsid } from './nsid.ts';
import { isValidRecordKey } from './recordkey.ts';

export const isValidAtIdentifier = (value: string): boolean =>
  value.startsWith('did:') ? isValidDid(value) : isValidHandle(value);

export function atIdentifierProblem(value: string): string | null {
  return isValidAtIdentifier(value) ? null : `invalid handle or DID: ${JSON.stringify(value.slice(0, 300))}`;
}
export const ensureValidAtIdentifier: Ensure = ensurer(atIdentifierProblem);

/**
 * Strict (Lexicon `at-uri` format) AT-URI: at://AUTHORITY[/COLLECTION[/RKEY]], no query, no fragment,
 * no trailing slash, at most 8 KiB.
 */
export function atUriProblem(uri: string): string | null {
  if (uri.length > 8192) return 'AT-URI is longer than 8192 characters';
  if (!uri.startsWith('at://')) return 'AT-URI must start with "at://"';
  const parts = uri.slice(5).split('/');
  if (parts.length > 3) return 'AT-URI path has more than collection and record key';
  const [authority, collection, rkey] = parts;
  if (!isValidAtIdentifier(authority!)) return `invalid AT-URI authority: ${JSON.stringify(authority!.slice(0, 300))}`;
  if (collection !== undefined && !isValidNsid(collection)) return 'AT-URI collection is not a valid NSID';
  if (rkey !== undefined && !isValidRecordKey(rkey)) return 'AT-URI record key is not valid';
  return null;
}

export const isValidAtUri = (uri: string): boolean => atUriProblem(uri) === null;
export const ensureValidAtUri: Ensure = ensurer(atUriProblem);

/** Splits a strictly valid AT-URI; throws InvalidSyntaxError otherwise. */
export function parseAtUri(uri: string): { authority: string; collection?: string; rkey?: string } {
  ensureValidAtUri(uri);
  const [authority, collection, rkey] = uri.slice(5).split('/');
  return { authority: authority!, ...(collection !== undefined && { collection }), ...(rkey !== undefined && { rkey }) };
}
