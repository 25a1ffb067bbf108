// SHA-256 whose running state is plain bytes, so hashing a multi-megabyte blob can be spread
// over several canister messages and the state kept in stable memory between them. The block
// function is the canister's interpreter-tuned one (atproto/sha256.ts); tests check this
// against node:crypto.
import { SHA256_IV, sha256Blocks, sha256Finish } from '../atproto/sha256.ts';

export interface Sha256State {
  /** 8 words of chaining value, big-endian (32 bytes). */
  h: Uint8Array;
  /** Bytes not yet forming a full 64-byte block. */
  tail: Uint8Array;
  /** Total bytes fed so far. */
  length: number;
}

function packWords(H: Int32Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const x = H[i];
    out[i * 4] = x >>> 24;
    out[i * 4 + 1] = x >>> 16;
    out[i * 4 + 2] = x >>> 8;
    out[i * 4 + 3] = x;
  }
  return out;
}

function words(state: Sha256State): Int32Array {
  const H = new Int32Array(8);
  const h = state.h;
  for (let i = 0; i < 8; i++) H[i] = (h[i * 4] << 24) | (h[i * 4 + 1] << 16) | (h[i * 4 + 2] << 8) | h[i * 4 + 3];
  return H;
}

export function sha256Init(): Sha256State {
  return { h: packWords(Int32Array.from(SHA256_IV)), tail: new Uint8Array(0), length: 0 };
}

export function sha256Update(state: Sha256State, data: Uint8Array): Sha256State {
  const H = words(state);
  let buf = data;
  if (state.tail.length > 0) {
    buf = new Uint8Array(state.tail.length + data.length);
    buf.set(state.tail);
    buf.set(data, state.tail.length);
  }
  const full = buf.length - (buf.length % 64);
  sha256Blocks(H, buf, 0, full);
  return { h: packWords(H), tail: buf.slice(full), length: state.length + data.length };
}

export function sha256Final(state: Sha256State): Uint8Array {
  return sha256Finish(words(state), state.tail, state.length);
}
