// Parsing of option values (durations, percentages, record references, principals, ...).
import { Principal } from '@dfinity/principal';
import { usageError } from './errors.ts';

const NS = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n } as const;

/** "90s", "30m", "24h", "7d" (or combinations like "1d12h") -> nanoseconds. */
export function parseDuration(text: string, what = 'duration'): bigint {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw usageError(`${what} must look like 90s, 30m, 24h, 7d or 1d12h, not ${JSON.stringify(text)}`);
  }
  return parts.reduce((sum, p) => sum + BigInt(p[1]!) * NS[p[2] as keyof typeof NS], 0n);
}

/** "50%", "50" or "66.67%" -> basis points (5000, 5000, 6667). */
export function parsePercent(text: string, what: string): number {
  const m = /^(\d{1,3}(?:\.\d{1,2})?)%?$/.exec(text.trim());
  const bps = m ? Math.round(Number(m[1]) * 100) : NaN;
  if (!m || bps > 10_000) throw usageError(`${what} must be a percentage from 0% to 100%, like 50% or 66.67%, not ${JSON.stringify(text)}`);
  return bps;
}

export function parsePositiveInt(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw usageError(`${what} must be a whole number from 1 to ${max}, not ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseId(text: string | undefined, what = 'proposal id'): bigint {
  if (text === undefined) throw usageError(`missing ${what}`);
  if (!/^\d+$/.test(text)) throw usageError(`${what} must be a number, not ${JSON.stringify(text)}`);
  return BigInt(text);
}

export function parsePrincipal(text: string | undefined, what = 'principal'): string {
  if (text === undefined) throw usageError(`missing ${what}`);
  try {
    return Principal.fromText(text).toText();
  } catch {
    throw usageError(`${what} is not a principal: ${JSON.stringify(text)}`);
  }
}

/** "at://did/collection/rkey" or "collection/rkey" -> parts. */
export function parseRecordLocator(text: string | undefined): { collection: string; rkey: string; repo?: string } {
  if (text === undefined) throw usageError('missing record: give at://<did>/<collection>/<rkey> or <collection>/<rkey>');
  const m = /^(?:at:\/\/([^/]+)\/)?([a-zA-Z0-9.-]+)\/([A-Za-z0-9._:~-]+)$/.exec(text);
  if (!m) throw usageError(`not a record reference: ${JSON.stringify(text)} (give at://<did>/<collection>/<rkey> or <collection>/<rkey>)`);
  return { collection: m[2]!, rkey: m[3]!, ...(m[1] ? { repo: m[1] } : {}) };
}

/** A strong reference "at://…/collection/rkey#cid" (the CID may be left out when it can be looked up). */
export function parseStrongRef(text: string, what: string): { uri: string; cid?: string } {
  const [uri, cid, ...rest] = text.split('#');
  if (rest.length || !uri!.startsWith('at://') || uri!.split('/').length !== 5) {
    throw usageError(`${what} must be a record AT-URI, optionally with its CID: at://<did>/<collection>/<rkey>#<cid>`);
  }
  return cid ? { uri: uri!, cid } : { uri: uri! };
}

/** "handle=did:…" for --mention. */
export function parseMention(text: string): { handle: string; did: string } {
  const m = /^@?([^=\s]+)=(did:[a-z]+:\S+)$/.exec(text);
  if (!m) throw usageError(`--mention takes handle=did, like alice.example.com=did:plc:abc…, not ${JSON.stringify(text)}`);
  return { handle: m[1]!.toLowerCase(), did: m[2]! };
}

/** An ISO date/time or a duration from now ("30d") -> nanoseconds since the epoch. */
export function parseExpiry(text: string, nowMs = Date.now()): bigint {
  if (/^\d+[smhd]/.test(text)) return BigInt(nowMs) * 1_000_000n + parseDuration(text, '--expires');
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw usageError(`--expires takes a date (2026-12-31 or 2026-12-31T12:00:00Z) or a duration (30d), not ${JSON.stringify(text)}`);
  return BigInt(ms) * 1_000_000n;
}

/** Narrows `value` to one of `options`. */
export const isOneOf = <T extends string>(options: readonly T[], value: string): value is T => (options as readonly string[]).includes(value);

export const WRITE_OPS = ['create', 'put', 'delete'] as const;
export function parseOps(text: string): ('create' | 'put' | 'delete')[] {
  const ops = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const op of ops) if (!(WRITE_OPS as readonly string[]).includes(op)) throw usageError(`--allow takes create, put and/or delete, not ${JSON.stringify(op)}`);
  if (ops.length === 0) throw usageError('--allow needs at least one of create, put, delete');
  return [...new Set(ops)] as ('create' | 'put' | 'delete')[];
}
