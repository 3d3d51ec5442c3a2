// SipHash-2-4 (Aumasson and Bernstein, 2012), synchronous, on 32-bit halves so
// it runs anywhere JavaScript does. WebCrypto's HMAC is asynchronous and
// cannot sit on a per-segment path; a keyed PRF for ISNs and SYN cookies can.
// The state lives in local variables and the rounds are written out: this
// runs once per SYN under a flood. The message comes as little-endian 32-bit
// words (byte i of the message is byte i % 4 of word i >> 2): callers write a
// 4-tuple as three or nine words rather than serialising it byte by byte, and
// the hash reads whole words.

/** A 32-bit word with its bytes reversed: how a big-endian field sits in a little-endian message word. */
export function bswap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0;
}

/**
 * SipHash-2-4 of a `len`-byte message given as little-endian 32-bit words in
 * `msg` (bytes past `len` in its last word are ignored), under the 128-bit key
 * given as four little-endian 32-bit words. Writes the 64-bit result into
 * `out` as [lo, hi].
 */
export function siphash24(key: Uint32Array, msg: Uint32Array, len: number, out: Uint32Array): void {
  let v0l = key[0] ^ 0x70736575;
  let v0h = key[1] ^ 0x736f6d65;
  let v1l = key[2] ^ 0x6e646f6d;
  let v1h = key[3] ^ 0x646f7261;
  let v2l = key[0] ^ 0x6e657261;
  let v2h = key[1] ^ 0x6c796765;
  let v3l = key[2] ^ 0x79746573;
  let v3h = key[3] ^ 0x74656462;
  const whole = len - (len % 8);
  let i = 0;
  let ml = 0;
  let mh = 0;
  // Blocks, then the final block (length byte in the top), then finalisation.
  for (let phase = 0; phase < 3; phase++) {
    let rounds = 2;
    if (phase === 0) {
      if (i >= whole) continue;
      ml = msg[i >> 2] | 0;
      mh = msg[(i >> 2) + 1] | 0;
      i += 8;
      phase = -1; // stay in the block phase
    } else if (phase === 1) {
      // The last 0–7 bytes, and the length in the top byte.
      const rest = len - whole;
      const w = whole >> 2;
      ml = rest >= 4 ? msg[w] | 0 : rest === 0 ? 0 : msg[w] & ((1 << (8 * rest)) - 1);
      mh = (len & 0xff) << 24;
      if (rest > 4) mh |= msg[w + 1] & ((1 << (8 * (rest - 4))) - 1);
    } else {
      v2l ^= 0xff;
      rounds = 4;
    }
    if (phase !== 2) {
      v3l ^= ml;
      v3h ^= mh;
    }
    // SipRound on 64-bit words as (high, low) int32 halves: int32 arithmetic stays
    // in registers (values kept as unsigned would be doubles to V8). The carry
    // out of a low-half sum is computed from bit 31 (a full adder's carry), not
    // compared: a comparison is a branch the processor cannot predict, one
    // mispredicted in two, and cost SipHash two thirds of its time under a flood.
    for (let r = 0; r < rounds; r++) {
      let lo: number;
      let t: number;
      // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
      lo = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0;
      v0l = lo;
      t = (v1h << 13) | (v1l >>> 19);
      v1l = (v1l << 13) | (v1h >>> 19);
      v1h = t;
      v1l ^= v0l;
      v1h ^= v0h;
      t = v0l;
      v0l = v0h;
      v0h = t;
      // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
      lo = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0;
      v2l = lo;
      t = (v3h << 16) | (v3l >>> 16);
      v3l = (v3l << 16) | (v3h >>> 16);
      v3h = t;
      v3l ^= v2l;
      v3h ^= v2h;
      // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
      lo = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0;
      v0l = lo;
      t = (v3h << 21) | (v3l >>> 11);
      v3l = (v3l << 21) | (v3h >>> 11);
      v3h = t;
      v3l ^= v0l;
      v3h ^= v0h;
      // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
      lo = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0;
      v2l = lo;
      t = (v1h << 17) | (v1l >>> 15);
      v1l = (v1l << 17) | (v1h >>> 15);
      v1h = t;
      v1l ^= v2l;
      v1h ^= v2h;
      t = v2l;
      v2l = v2h;
      v2h = t;
    }
    if (phase !== 2) {
      v0l ^= ml;
      v0h ^= mh;
    }
  }
  out[0] = v0l ^ v1l ^ v2l ^ v3l;
  out[1] = v0h ^ v1h ^ v2h ^ v3h;
}
