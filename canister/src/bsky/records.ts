// Records given as atproto JSON text (put_record proposals), checked before anyone votes, and
// previews going back out as atproto JSON.
import { encodeCbor } from '../atproto/cbor.ts';
import { dataToJson, jsonToData } from '../atproto/data-model.ts';
import { validateRecord } from '../atproto/lexicon/index.ts';
import { MAX_RECORD_BYTES, recordWithType } from '../repo/index.ts';
import { RecordInputError } from './types.ts';

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const fail = (message: string): never => {
  throw new RecordInputError(message);
};

/** Parses, converts and validates a record for `collection`; throws RecordInputError with the reason. */
export function parseRecordJson(collection: string, json: string, rkey?: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new RecordInputError(`the record is not valid JSON: ${reason(e)}`);
  }
  const obj = recordWithType(parsed, collection, fail);
  let record: unknown;
  try {
    record = jsonToData(obj);
    validateRecord(collection, record, rkey);
  } catch (e) {
    throw new RecordInputError(`invalid ${collection} record: ${reason(e)}`);
  }
  const size = encodeCbor(record).length;
  if (size > MAX_RECORD_BYTES) throw new RecordInputError(`the record is ${size} bytes; the limit is ${MAX_RECORD_BYTES}`);
  return record;
}

/**
 * Lexicon validation of a record built by governance itself (post, profile); throws RecordInputError.
 * Same validator the canister applies to every write, so a proposal that passes here will not be
 * refused at execution for its shape.
 */
export function ensureValidRecord(collection: string, record: unknown, rkey?: string): void {
  try {
    validateRecord(collection, record, rkey);
  } catch (e) {
    throw new RecordInputError(`invalid ${collection} record: ${reason(e)}`);
  }
}

/** atproto JSON text of a preview value (records with CIDs/bytes, profile patches). */
export function previewJson(value: unknown): string {
  return JSON.stringify(dataToJson(value));
}
