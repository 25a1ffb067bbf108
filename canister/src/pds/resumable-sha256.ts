// SHA-256 whose running state is plain bytes, so hashing a multi-megabyte blob can be spread
// over several canister messages (inside QuickJS, hashing costs ~26 k instructions per byte:
// a 5 MB blob cannot be hashed in one message) and the state kept in stable memory between them.
// Standard FIPS 180-4 algorithm; tests check it against @noble/hashes.

const K = new Uint32Array(64);
const H0 = new Uint32Array(8);
(() => {
  // Constants are the fractional parts of square / cube roots of the first primes.
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const frac = (x: number) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
  for (let i = 0; i < 64; i++) K[i] = frac(Math.cbrt(primes[i]));
  for (let i = 0; i < 8; i++) H0[i] = frac(Math.sqrt(primes[i]));
})();

export interface Sha256State {
  /** 8 words of chaining value, big-endian (32 bytes). */
  h: Uint8Array;
  /** Bytes not yet forming a full 64-byte block. */
  tail: Uint8Array;
  /** Total bytes fed so far. */
  length: number;
}

export function sha256Init(): Sha256State {
  const h = new Uint8Array(32);
  const dv = new DataView(h.buffer);
  for (let i = 0; i < 8; i++) dv.setUint32(i * 4, H0[i]);
  return { h, tail: new Uint8Array(0), length: 0 };
}

const W = new Uint32Array(64);

function compress(H: Uint32Array, block: Uint8Array, off: number) {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = ((block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3]) >>> 0;
  }
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15], b = W[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i] + W[i]) >>> 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) >>> 0;
    h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
  }
  H[0] = (H[0] + a) >>> 0; H[1] = (H[1] + b) >>> 0; H[2] = (H[2] + c) >>> 0; H[3] = (H[3] + d) >>> 0;
  H[4] = (H[4] + e) >>> 0; H[5] = (H[5] + f) >>> 0; H[6] = (H[6] + g) >>> 0; H[7] = (H[7] + h) >>> 0;
}

function words(state: Sha256State): Uint32Array {
  const H = new Uint32Array(8);
  const dv = new DataView(state.h.buffer, state.h.byteOffset, 32);
  for (let i = 0; i < 8; i++) H[i] = dv.getUint32(i * 4);
  return H;
}

function packWords(H: Uint32Array): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) dv.setUint32(i * 4, H[i]);
  return out;
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
  for (let off = 0; off < full; off += 64) compress(H, buf, off);
  return { h: packWords(H), tail: buf.slice(full), length: state.length + data.length };
}

export function sha256Final(state: Sha256State): Uint8Array {
  const bits = state.length * 8;
  const padLen = (state.tail.length < 56 ? 56 : 120) - state.tail.length;
  const pad = new Uint8Array(padLen + 8);
  pad[0] = 0x80;
  const dv = new DataView(pad.buffer);
  dv.setUint32(padLen, Math.floor(bits / 2 ** 32));
  dv.setUint32(padLen + 4, bits >>> 0);
  const done = sha256Update({ ...state, length: 0 }, pad);
  return done.h;
}
