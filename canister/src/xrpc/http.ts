// Wire types of the canister's http_request query and small response builders.

export type HttpRequest = { method: string; url: string; headers: [string, string][]; body: Uint8Array };

/**
 * What the gateway hands back to http_request_streaming_callback. All text so it maps to one Candid
 * record: record { kind : text; ref : text; cursor : text; since : text }.
 * kind 'repo': ref = commit CID being exported, cursor = exportRepoChunk cursor, since = rev or ''.
 * kind 'blob': ref = blob CID, cursor = next byte offset (decimal), since = ''.
 * The Candid shape is api/interface.ts `StreamingToken` (xrpc sits below api and cannot import it); main.ts
 * passes values both ways between the two, so a change to either one alone is a type error.
 */
export type StreamingToken = { kind: string; ref: string; cursor: string; since: string };

export type HttpResponse = {
  status_code: number;
  headers: [string, string][];
  body: Uint8Array;
  streaming_token?: StreamingToken;
  upgrade?: boolean;
};

export type StreamingChunk = { body: Uint8Array; token?: StreamingToken };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

export const JSON_TYPE = 'application/json; charset=utf-8';
export const CAR_TYPE = 'application/vnd.ipld.car';

export function jsonResponse(value: unknown, status = 200, headers: [string, string][] = []): HttpResponse {
  return { status_code: status, headers: [['Content-Type', JSON_TYPE], ...headers], body: utf8(JSON.stringify(value)) };
}

export function textResponse(text: string, status = 200): HttpResponse {
  return { status_code: status, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: utf8(text) };
}

export function bytesResponse(body: Uint8Array, contentType: string, extra: [string, string][] = []): HttpResponse {
  return { status_code: 200, headers: [['Content-Type', contentType], ...extra], body };
}

export function headerValue(req: HttpRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of req.headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}
