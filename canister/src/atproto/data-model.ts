// The atproto data model: JSON form ($link, $bytes, blob objects) <-> in-memory form (CID, Uint8Array),
// and the rules every record and block must satisfy before it is DAG-CBOR encoded.
import { CID } from './cbor.ts';

export class DataModelError extends Error {
  override name = 'DataModelError';
}

/** A blob reference as it appears in the data model. */
export type BlobRef = { $type: 'blob'; ref: CID; mimeType: string; size: number };

const MAX_DEPTH = 128;

/** Converts atproto JSON (e.g. an XRPC request body) to the data model. Throws DataModelError on malformed $link/$bytes. */
export function jsonToData(json: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new DataModelError('value is nested too deeply');
  if (Array.isArray(json)) return json.map((item) => jsonToData(item, depth + 1));
  if (json === null || typeof json !== 'object') return json;
  const obj = json as Record<string, unknown>;
  if ('$link' in obj) {
    if (Object.keys(obj).length !== 1) throw new DataModelError('$link object has extra fields');
    if (typeof obj.$link !== 'string') throw new DataModelError('$link must be a string');
    return parseCidString(obj.$link);
  }
  if ('$bytes' in obj) {
    if (Object.keys(obj).length !== 1) throw new DataModelError('$bytes object has extra fields');
    if (typeof obj.$bytes !== 'string') throw new DataModelError('$bytes must be a string');
    return base64Decode(obj.$bytes);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) out[key] = jsonToData(value, depth + 1);
  return out;
}

/** Converts a data-model value to its atproto JSON form. */
export function dataToJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dataToJson);
  if (value instanceof Uint8Array) return { $bytes: base64Encode(value) };
  const cid = asCid(value);
  if (cid) return { $link: cid.toString() };
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = dataToJson(v);
  return out;
}

/**
 * Checks a top-level data-model object (a record or any block): maps with string keys, strings (well-formed
 * Unicode), safe integers (no floats), booleans, null, bytes, CIDv1 links, arrays; `$type` non-empty string;
 * blob objects well formed. Throws DataModelError naming the offending path.
 */
export function validateDataModel(value: unknown): void {
  if (!isPlainObject(value)) throw new DataModelError('top-level value must be an object');
  checkValue(value, '$', 0);
}

function checkValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new DataModelError(`${path}: nested too deeply`);
  switch (typeof value) {
    case 'boolean':
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new DataModelError(`${path}: string is not well-formed Unicode`);
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new DataModelError(`${path}: numbers must be integers (no floats)`);
      return;
    case 'bigint':
      if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new DataModelError(`${path}: integer out of 64-bit range`);
      return;
    case 'object':
      break;
    default:
      throw new DataModelError(`${path}: ${typeof value} is not a data-model type`);
  }
  if (value === null || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkValue(item, `${path}[${i}]`, depth + 1));
    return;
  }
  const cid = asCid(value);
  if (cid) {
    if (cid.version !== 1) throw new DataModelError(`${path}: CID links must be CIDv1`);
    return;
  }
  if (!isPlainObject(value)) throw new DataModelError(`${path}: unsupported object type`);
  const obj = value as Record<string, unknown>;
  if ('$link' in obj || '$bytes' in obj) throw new DataModelError(`${path}: $link and $bytes are reserved keys`);
  if ('$type' in obj && (typeof obj.$type !== 'string' || obj.$type.length === 0)) {
    throw new DataModelError(`${path}: $type must be a non-empty string`);
  }
  if (obj.$type === 'blob') checkBlob(obj, path);
  for (const [key, v] of Object.entries(obj)) checkValue(v, `${path}.${key}`, depth + 1);
}

function checkBlob(obj: Record<string, unknown>, path: string): void {
  if (!isBlobRef(obj)) throw new DataModelError(`${path}: blob must have ref (CID link), mimeType (string) and size (integer)`);
}

export function isBlobRef(value: unknown): value is BlobRef {
  if (!isPlainObject(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    v.$type === 'blob' &&
    asCid(v.ref) !== null &&
    typeof v.mimeType === 'string' &&
    v.mimeType.length > 0 &&
    Number.isSafeInteger(v.size) &&
    (v.size as number) >= 0
  );
}

/** A CID instance (also from another copy of multiformats), or null. */
export function asCid(value: unknown): CID | null {
  return value !== null && typeof value === 'object' ? (CID.asCID(value) ?? null) : null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function parseCidString(text: string): CID {
  try {
    return CID.parse(text);
  } catch {
    throw new DataModelError(`invalid CID in $link: ${JSON.stringify(text.slice(0, 100))}`);
  }
}

// In /u mode a valid surrogate pair is one code point, so this only matches unpaired surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((ch, i) => [ch, i]));

/** Standard base64 without padding, as atproto JSON uses for $bytes. */
export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += B64[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** Decodes standard base64, padded or not (leftover bits of a final partial group are dropped). */
export function base64Decode(text: string): Uint8Array {
  const body = text.replace(/={1,2}$/, '');
  if (body.length % 4 === 1) throw new DataModelError('invalid base64 length');
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of body) {
    const v = B64_INDEX.get(ch);
    if (v === undefined) throw new DataModelError('invalid base64 character');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** CIDs of blob references in a record (data model: {$type:'blob', ref: CID, mimeType, size}). */
export function blobRefs(value: unknown, out: { cid: CID; mimeType: string; size: number }[] = []): { cid: CID; mimeType: string; size: number }[] {
  if (Array.isArray(value)) {
    for (const v of value) blobRefs(v, out);
  } else if (value && typeof value === 'object' && !(value instanceof Uint8Array) && !(CID.asCID(value))) {
    const o = value as Record<string, unknown>;
    if (o.$type === 'blob' && CID.asCID(o.ref)) {
      out.push({ cid: CID.asCID(o.ref)!, mimeType: String(o.mimeType), size: Number(o.size) });
      return out;
    }
    for (const k in o) blobRefs(o[k], out);
  }
  return out;
}
