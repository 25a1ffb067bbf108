// A small Lexicon validator driven by Lexicon JSON documents: enough of the language for record
// validation (objects, refs, open/closed unions, tokens, strings with formats and length limits,
// integers, booleans, bytes, cid-links, blobs, arrays, unknown). Values are in the data model
// (CID instances, Uint8Array), i.e. after `jsonToData`.
import { asCid, isBlobRef, isPlainObject, validateDataModel, DataModelError } from '../data-model.ts';
import { isValidNsid } from '../syntax/nsid.ts';
import { isValidTid } from '../syntax/tid.ts';
import { isValidRecordKey } from '../syntax/recordkey.ts';
import { isValidDid } from '../syntax/did.ts';
import { isValidHandle } from '../syntax/handle.ts';
import { isValidAtIdentifier, isValidAtUri } from '../syntax/aturi.ts';
import { isValidCid } from '../syntax/cid.ts';
import { isValidDatetime } from '../syntax/datetime.ts';
import { isValidLanguage } from '../syntax/language.ts';
import { isValidUri } from '../syntax/uri.ts';
import { countGraphemes, utf8Length } from './text.ts';

export type LexDef = { type: string; [key: string]: any };
export type LexiconDoc = { lexicon: 1; id: string; defs: Record<string, LexDef>; [key: string]: unknown };

export class RecordValidationError extends Error {
  override name = 'RecordValidationError';
}
export class LexiconDocError extends Error {
  override name = 'LexiconDocError';
}

const FORMATS: Record<string, (s: string) => boolean> = {
  did: isValidDid,
  handle: isValidHandle,
  'at-identifier': isValidAtIdentifier,
  nsid: isValidNsid,
  'at-uri': isValidAtUri,
  cid: isValidCid,
  datetime: isValidDatetime,
  language: isValidLanguage,
  uri: isValidUri,
  tid: isValidTid,
  'record-key': isValidRecordKey,
};

const PRIMARY_TYPES = new Set(['record', 'query', 'procedure', 'subscription', 'permission-set']);
// ref, union and unknown only describe fields; they cannot be named definitions.
const NAMED_TYPES = new Set(['boolean', 'integer', 'string', 'bytes', 'cid-link', 'blob', 'array', 'object', 'token']);

/** Checks the shape of a Lexicon document (the parts this validator relies on). Throws LexiconDocError. */
export function checkLexiconDoc(doc: unknown): asserts doc is LexiconDoc {
  if (!isPlainObject(doc)) throw new LexiconDocError('lexicon document must be an object');
  if (doc.lexicon !== 1) throw new LexiconDocError('lexicon version must be 1');
  if (typeof doc.id !== 'string' || !isValidNsid(doc.id)) throw new LexiconDocError('lexicon id must be a valid NSID');
  if (!isPlainObject(doc.defs)) throw new LexiconDocError('lexicon defs must be an object');
  for (const [name, def] of Object.entries(doc.defs)) {
    const where = `${doc.id}#${name}`;
    if (!isPlainObject(def) || typeof def.type !== 'string') throw new LexiconDocError(`${where}: def must have a type`);
    if (PRIMARY_TYPES.has(def.type)) {
      if (name !== 'main') throw new LexiconDocError(`${where}: ${def.type} must be the main definition`);
    } else if (!NAMED_TYPES.has(def.type)) {
      throw new LexiconDocError(`${where}: ${def.type} cannot be a named definition`);
    }
    if (def.type === 'record') {
      if (typeof def.key !== 'string') throw new LexiconDocError(`${where}: record must declare its key type`);
      if (!isPlainObject(def.record) || def.record.type !== 'object') {
        throw new LexiconDocError(`${where}: record schema must be an object type`);
      }
    }
  }
}

type Ctx = { nsid: string };

/** A set of Lexicon documents that values can be validated against. */
export class LexiconSet {
  readonly #defs = new Map<string, LexDef>();
  readonly #docs = new Set<string>();

  constructor(docs: readonly unknown[] = []) {
    for (const doc of docs) this.add(doc);
  }

  add(doc: unknown): void {
    checkLexiconDoc(doc);
    if (this.#docs.has(doc.id)) throw new LexiconDocError(`duplicate lexicon ${doc.id}`);
    this.#docs.add(doc.id);
    for (const [name, def] of Object.entries(doc.defs)) this.#defs.set(`${doc.id}#${name}`, def);
  }

  has(nsid: string): boolean {
    return this.#docs.has(nsid);
  }

  /**
   * Validates a record value for `collection` (and its record key, when given). Throws RecordValidationError.
   * Collections without a record lexicon here only get data-model checks.
   */
  validateRecord(collection: string, value: unknown, rkey?: string): void {
    if (!isValidNsid(collection)) throw new RecordValidationError(`invalid collection NSID: ${collection}`);
    try {
      validateDataModel(value);
    } catch (err) {
      if (err instanceof DataModelError) throw new RecordValidationError(`Record is not valid data: ${err.message}`);
      throw err;
    }
    const record = value as Record<string, unknown>;
    if (record.$type !== collection) {
      throw new RecordValidationError(`Record/$type must be ${JSON.stringify(collection)}`);
    }
    if (rkey !== undefined && !isValidRecordKey(rkey)) throw new RecordValidationError(`invalid record key: ${rkey}`);
    const def = this.#defs.get(`${collection}#main`);
    if (!def || def.type !== 'record') return;
    if (rkey !== undefined) checkRecordKey(def.key, rkey);
    this.#check(def.record, value, 'Record', { nsid: collection });
  }

  #resolve(ref: string, ctx: Ctx): { id: string; def: LexDef } {
    const id = normalizeRef(ref, ctx.nsid);
    const def = this.#defs.get(id);
    if (!def) throw new RecordValidationError(`lexicon not found: ${id}`);
    return { id, def };
  }

  #check(def: LexDef, value: unknown, path: string, ctx: Ctx): void {
    switch (def.type) {
      case 'boolean':
        if (typeof value !== 'boolean') failAt(path, 'must be a boolean');
        if (def.const !== undefined && value !== def.const) failAt(path, `must be ${def.const}`);
        return;
      case 'integer': {
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) return failAt(path, 'must be an integer');
        if (def.const !== undefined && value !== def.const) failAt(path, `must be ${def.const}`);
        if (def.enum && !def.enum.includes(value)) failAt(path, `must be one of (${def.enum.join('|')})`);
        if (def.minimum !== undefined && value < def.minimum) failAt(path, `can not be less than ${def.minimum}`);
        if (def.maximum !== undefined && value > def.maximum) failAt(path, `can not be greater than ${def.maximum}`);
        return;
      }
      case 'string':
        return checkString(def, value, path);
      case 'bytes': {
        if (!(value instanceof Uint8Array)) return failAt(path, 'must be a byte array');
        if (def.minLength !== undefined && value.length < def.minLength) failAt(path, `must not be smaller than ${def.minLength} bytes`);
        if (def.maxLength !== undefined && value.length > def.maxLength) failAt(path, `must not be larger than ${def.maxLength} bytes`);
        return;
      }
      case 'cid-link':
        if (!asCid(value)) failAt(path, 'must be a CID link');
        return;
      case 'blob': {
        if (!isBlobRef(value)) return failAt(path, 'must be a blob');
        if (def.maxSize !== undefined && value.size > def.maxSize) failAt(path, `blob is larger than ${def.maxSize} bytes`);
        if (def.accept && !def.accept.some((pattern: string) => mimeMatches(pattern, value.mimeType))) {
          failAt(path, `blob mimeType must be one of ${def.accept.join(', ')}`);
        }
        return;
      }
      case 'array': {
        if (!Array.isArray(value)) return failAt(path, 'must be an array');
        if (def.minLength !== undefined && value.length < def.minLength) failAt(path, `must not have fewer than ${def.minLength} elements`);
        if (def.maxLength !== undefined && value.length > def.maxLength) failAt(path, `must not have more than ${def.maxLength} elements`);
        value.forEach((item, i) => this.#check(def.items, item, `${path}/${i}`, ctx));
        return;
      }
      case 'object': {
        if (!isPlainObject(value) || isBlobRef(value)) return failAt(path, 'must be an object');
        const properties: Record<string, LexDef> = def.properties ?? {};
        for (const key of def.required ?? []) {
          if (value[key] === undefined) failAt(path, `must have the property "${key}"`);
        }
        for (const [key, propDef] of Object.entries(properties)) {
          const v = value[key];
          if (v === undefined) continue;
          if (v === null) {
            if (def.nullable?.includes(key)) continue;
            throw new RecordValidationError(`${path}/${key} can not be null`);
          }
          this.#check(propDef, v, `${path}/${key}`, ctx);
        }
        return;
      }
      case 'ref': {
        const { id, def: target } = this.#resolve(def.ref, ctx);
        const targetCtx = { nsid: id.slice(0, id.indexOf('#')) };
        if (target.type === 'token') {
          if (value !== id && value !== id.replace(/#main$/, '')) failAt(path, `must be ${id}`);
          return;
        }
        this.#check(target.type === 'record' ? target.record : target, value, path, targetCtx);
        return;
      }
      case 'union': {
        if (!isPlainObject(value) || isBlobRef(value)) return failAt(path, 'must be an object which includes the "$type" property');
        if (typeof value.$type !== 'string') return failAt(path, 'must be an object which includes the "$type" property');
        // $type is always absolute ("nsid" or "nsid#name"), never relative or "lex:"-prefixed like schema refs.
        const type = value.$type.includes('#') ? value.$type : `${value.$type}#main`;
        const refs: string[] = (def.refs ?? []).map((r: string) => normalizeRef(r, ctx.nsid));
        if (!refs.includes(type)) {
          if (def.closed) failAt(path, `$type must be one of ${refs.join(', ')}`);
          return; // open union: unknown types only need to be valid data
        }
        this.#check({ type: 'ref', ref: type }, value, path, ctx);
        return;
      }
      case 'unknown':
        if (!isPlainObject(value) || isBlobRef(value)) failAt(path, 'must be an object');
        return;
      case 'null':
        if (value !== null) failAt(path, 'must be null');
        return;
      default:
        throw new RecordValidationError(`${path}: unsupported lexicon type ${def.type}`);
    }
  }
}

function failAt(path: string, msg: string): never {
  throw new RecordValidationError(`${path} ${msg}`);
}

function checkString(def: LexDef, value: unknown, path: string): void {
  if (typeof value !== 'string') return failAt(path, 'must be a string');
  if (def.const !== undefined && value !== def.const) failAt(path, `must be ${JSON.stringify(def.const)}`);
  if (def.enum && !def.enum.includes(value)) failAt(path, `must be one of (${def.enum.join('|')})`);
  // Cheap bounds first: UTF-8 length is between the UTF-16 length and 3x it.
  if (def.maxLength !== undefined && value.length * 3 > def.maxLength && utf8Length(value) > def.maxLength) {
    failAt(path, `must not be longer than ${def.maxLength} characters`);
  }
  if (def.minLength !== undefined && utf8Length(value) < def.minLength) failAt(path, `must not be shorter than ${def.minLength} characters`);
  if (def.maxGraphemes !== undefined && value.length > def.maxGraphemes && countGraphemes(value) > def.maxGraphemes) {
    failAt(path, `must not be longer than ${def.maxGraphemes} graphemes`);
  }
  if (def.minGraphemes !== undefined && countGraphemes(value) < def.minGraphemes) {
    failAt(path, `must not be shorter than ${def.minGraphemes} graphemes`);
  }
  if (def.format !== undefined) {
    const check = FORMATS[def.format];
    if (!check) throw new RecordValidationError(`unsupported string format ${def.format}`);
    if (!check(value)) failAt(path, `must be a valid ${def.format}`);
  }
}

function checkRecordKey(keyType: string, rkey: string): void {
  const ok =
    keyType === 'tid' ? isValidTid(rkey)
    : keyType === 'nsid' ? isValidNsid(rkey)
    : keyType === 'any' || keyType === 'record-key' ? true
    : keyType.startsWith('literal:') ? rkey === keyType.slice('literal:'.length)
    : false;
  if (!ok) throw new RecordValidationError(`record key ${JSON.stringify(rkey)} does not match key type ${keyType}`);
}

function mimeMatches(pattern: string, mimeType: string): boolean {
  if (pattern === '*/*') return true;
  if (pattern.endsWith('/*')) return mimeType.startsWith(pattern.slice(0, -1));
  return pattern === mimeType;
}

/** "lex:a.b.c#x", "#x", "a.b.c" -> "a.b.c#x" / "a.b.c#main", relative to the current lexicon. */
export function normalizeRef(ref: string, nsid: string): string {
  const r = ref.startsWith('lex:') ? ref.slice(4) : ref;
  if (r.startsWith('#')) return nsid + r;
  return r.includes('#') ? r : `${r}#main`;
}
