// Record validation for the canister: the Bluesky record lexicons; other collections get data-model checks.
import { BSKY_LEXICONS } from './bsky-lexicons.ts';
import { LexiconSet } from './validator.ts';

export { LexiconSet, RecordValidationError, LexiconDocError, checkLexiconDoc, type LexiconDoc } from './validator.ts';

let bsky: LexiconSet | undefined;

/** The built-in lexicons (built on first use). */
export function bskyLexicons(): LexiconSet {
  return (bsky ??= new LexiconSet(BSKY_LEXICONS));
}

/**
 * Validates a record (data model) written to `collection`, optionally with its record key.
 * Throws RecordValidationError with a message naming the offending field.
 */
export function validateRecord(collection: string, value: unknown, rkey?: string): void {
  bskyLexicons().validateRecord(collection, value, rkey);
}
