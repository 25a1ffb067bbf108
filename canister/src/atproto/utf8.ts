// UTF-8 for the canister. Azle's TextEncoder/TextDecoder are a pure-JS polyfill that costs
// ~15,000 QuickJS instructions per byte — more than SHA-256 — and every record string crosses
// it several times (Candid text, DAG-CBOR encode/decode, JSON responses). These versions lean on
// the engine's native URI codecs (`encodeURIComponent`/`decodeURIComponent` check UTF-8 exactly
// as WHATWG's fatal mode does: no overlong forms, surrogates or code points past U+10FFFF) and
// fall back to a plain loop only for input that needs replacement characters.

const CHUNK = 4096;

/** Bytes of `s` as a string of char codes 0..255. */
function binaryString(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return out;
}

/** UTF-8 encoding of `s`; lone surrogates become U+FFFD (as TextEncoder does). */
export function utf8Encode(s: string): Uint8Array {
  let bin: string;
  try {
    bin = unescape(encodeURIComponent(s));
  } catch {
    return utf8EncodeLoop(s); // lone surrogate
  }
  const n = bin.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function utf8EncodeLoop(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export class Utf8DecodeError extends TypeError {
  override name = 'TypeError';
}

/**
 * Decodes UTF-8. `fatal` throws on malformed input; otherwise malformed sequences become
 * U+FFFD (WHATWG "maximal subpart" replacement). A leading BOM is dropped unless `keepBom`.
 */
export function utf8Decode(bytes: Uint8Array, fatal = false, keepBom = false): string {
  if (!keepBom && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const bin = binaryString(bytes);
  try {
    return decodeURIComponent(escape(bin));
  } catch {
    if (fatal) throw new Utf8DecodeError('The encoded data was not valid for encoding utf-8');
    return utf8DecodeLoop(bytes);
  }
}

function utf8DecodeLoop(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    // Expected length and the allowed range of the second byte (WHATWG UTF-8 decoder).
    let need = 0, lo = 0x80, hi = 0xbf, cp = 0;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0xf; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 7; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else { out += '\ufffd'; i++; continue; }
    let j = 1;
    for (; j <= need; j++) {
      const d = b[i + j];
      if (d === undefined || d < lo || d > hi) break;
      lo = 0x80; hi = 0xbf;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (j <= need) {
      out += '\ufffd';
      i += j;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

type PolyfillDecoder = { _encoding?: { name: string }; _error_mode?: string; _ignoreBOM?: boolean; _do_not_flush?: boolean };

/**
 * Inside the canister, routes the global TextEncoder/TextDecoder's UTF-8 paths through the
 * functions above (patching the prototype also speeds up instances libraries created at load).
 * Only the pure-JS polyfill is touched (its instances carry `_encoding`); a native codec
 * (Node) is left alone. Streaming decodes and other encodings keep the original code.
 */
export function speedUpTextCodecs(g: typeof globalThis = globalThis): void {
  const TE = g.TextEncoder, TD = g.TextDecoder;
  if (typeof TE !== 'function' || typeof TD !== 'function') return;
  const te = TE.prototype as { encode(s?: string): Uint8Array; __canopyFast?: boolean };
  if (te.__canopyFast || !('_encoding' in new TE())) return;
  const origEncode = te.encode;
  te.encode = function (this: PolyfillDecoder, s?: string, options?: { stream?: boolean }) {
    if (this._do_not_flush || options?.stream) return (origEncode as (s?: string, o?: unknown) => Uint8Array).call(this, s, options);
    return utf8Encode(s === undefined ? '' : String(s));
  };
  te.__canopyFast = true;
  const td = TD.prototype as { decode(input?: unknown, options?: { stream?: boolean }): string };
  const origDecode = td.decode;
  td.decode = function (this: PolyfillDecoder, input?: unknown, options?: { stream?: boolean }) {
    if (this._encoding?.name !== 'UTF-8' || this._do_not_flush || options?.stream) return origDecode.call(this, input, options);
    let bytes: Uint8Array;
    if (input === undefined) bytes = new Uint8Array(0);
    else if (input instanceof Uint8Array) bytes = input;
    else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
    else if (ArrayBuffer.isView(input)) bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    else return origDecode.call(this, input, options);
    return utf8Decode(bytes, this._error_mode === 'fatal', this._ignoreBOM === true);
  };
}
