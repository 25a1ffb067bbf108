// Request-target parsing and typed access to XRPC query parameters. Every malformed value becomes a
// 400 InvalidRequest naming the parameter. No URL/URLSearchParams: the canister's JS runtime may lack them.
import { CID } from '../atproto/cbor.ts';
import type { XrpcDeps } from './deps.ts';
import { invalidRequest } from './errors.ts';

export type Target = { path: string; query: Map<string, string[]> };

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('malformed percent-encoding in query string');
  }
}

export function parseTarget(url: string): Target {
  // The gateway sends origin-form ("/path?q"); tolerate absolute-form too.
  let rest = url;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length) || '/';
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const query = new Map<string, string[]>();
  if (q >= 0) {
    for (const part of rest.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = decodeComponent(eq >= 0 ? part.slice(0, eq) : part);
      const value = decodeComponent(eq >= 0 ? part.slice(eq + 1) : '');
      const list = query.get(key);
      if (list) list.push(value);
      else query.set(key, [value]);
    }
  }
  return { path, query };
}

/** Typed readers over the query map; each throws InvalidRequest with the parameter's name. */
export class Params {
  constructor(
    private readonly query: Map<string, string[]>,
    private readonly deps: XrpcDeps,
  ) {}

  string(name: string): string | undefined {
    const values = this.query.get(name);
    if (!values) return undefined;
    if (values.length > 1) throw invalidRequest(`parameter ${name} must be given once`);
    return values[0];
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw invalidRequest(`missing required parameter: ${name}`);
    return v;
  }

  array(name: string): string[] {
    return this.query.get(name) ?? [];
  }

  private checked(name: string, value: string | undefined, ok: (s: string) => boolean, what: string): string | undefined {
    if (value === undefined) return undefined;
    if (!ok(value)) throw invalidRequest(`parameter ${name} is not a valid ${what}: ${JSON.stringify(value.slice(0, 200))}`);
    return value;
  }

  did(name: string): string {
    return this.checked(name, this.requiredString(name), this.deps.isValidDid, 'DID')!;
  }

  nsid(name: string): string {
    return this.checked(name, this.requiredString(name), this.deps.isValidNsid, 'NSID')!;
  }

  recordKey(name: string): string {
    return this.checked(name, this.requiredString(name), this.deps.isValidRecordKey, 'record key')!;
  }

  handle(name: string): string {
    return this.checked(name, this.requiredString(name), this.deps.isValidHandle, 'handle')!;
  }

  /** at-identifier: a DID or a handle. */
  atIdentifier(name: string): string {
    const v = this.requiredString(name);
    return this.checked(name, v, (s) => (s.startsWith('did:') ? this.deps.isValidDid(s) : this.deps.isValidHandle(s)), 'DID or handle')!;
  }

  optionalTid(name: string): string | undefined {
    return this.checked(name, this.string(name), this.deps.isValidTid, 'TID');
  }

  optionalRecordKey(name: string): string | undefined {
    return this.checked(name, this.string(name), this.deps.isValidRecordKey, 'record key');
  }

  optionalDid(name: string): string | undefined {
    return this.checked(name, this.string(name), this.deps.isValidDid, 'DID');
  }

  optionalCid(name: string): CID | undefined {
    const v = this.string(name);
    return v === undefined ? undefined : parseCid(name, v);
  }

  integer(name: string, min: number, max: number, fallback: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!/^-?[0-9]{1,16}$/.test(v)) throw invalidRequest(`parameter ${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw invalidRequest(`parameter ${name} must be between ${min} and ${max}`);
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw invalidRequest(`parameter ${name} must be true or false`);
  }
}

export function parseCid(name: string, value: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(value);
  } catch {
    throw invalidRequest(`parameter ${name} is not a valid CID: ${JSON.stringify(value.slice(0, 200))}`);
  }
  // Only canonical string forms: re-encoding must give back the input.
  if (cid.toString() !== value) throw invalidRequest(`parameter ${name} is not a canonical CID string`);
  return cid;
}
