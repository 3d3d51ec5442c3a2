// SipHash-2-4 (Aumasson and Bernstein, 2012), synchronous, on 32-bit halves so
// it runs anywhere JavaScript does. WebCrypto's HMAC is asynchronous and
// cannot sit on a per-segment path; a keyed PRF for ISNs and SYN cookies can.

const s = new Uint32Array(8); // v0 lo/hi, v1, v2, v3

function add(a: number, b: number): void {
  const lo = s[a] + s[b];
  s[a + 1] = (s[a + 1] + s[b + 1] + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  s[a] = lo >>> 0;
}

function rotl(a: number, r: number): void {
  const lo = s[a];
  const hi = s[a + 1];
  if (r === 32) {
    s[a] = hi;
    s[a + 1] = lo;
  } else if (r < 32) {
    s[a + 1] = (hi << r) | (lo >>> (32 - r));
    s[a] = (lo << r) | (hi >>> (32 - r));
  } else {
    const q = r - 32;
    s[a + 1] = (lo << q) | (hi >>> (32 - q));
    s[a] = (hi << q) | (lo >>> (32 - q));
  }
}

function xor(a: number, b: number): void {
  s[a] ^= s[b];
  s[a + 1] ^= s[b + 1];
}

function round(): void {
  add(0, 2);
  rotl(2, 13);
  xor(2, 0);
  rotl(0, 32);
  add(4, 6);
  rotl(6, 16);
  xor(6, 4);
  add(0, 6);
  rotl(6, 21);
  xor(6, 0);
  add(4, 2);
  rotl(2, 17);
  xor(2, 4);
  rotl(4, 32);
}

function absorb(lo: number, hi: number): void {
  s[6] ^= lo;
  s[7] ^= hi;
  round();
  round();
  s[0] ^= lo;
  s[1] ^= hi;
}

function le32(m: Uint8Array, i: number): number {
  return (m[i] | (m[i + 1] << 8) | (m[i + 2] << 16) | (m[i + 3] << 24)) >>> 0;
}

/**
 * SipHash-2-4 of `msg[0, len)` under the 128-bit key given as four
 * little-endian 32-bit words. Writes the 64-bit result into `out` as [lo, hi].
 */
export function siphash24(key: Uint32Array, msg: Uint8Array, len: number, out: Uint32Array): void {
  s[0] = key[0] ^ 0x70736575;
  s[1] = key[1] ^ 0x736f6d65;
  s[2] = key[2] ^ 0x6e646f6d;
  s[3] = key[3] ^ 0x646f7261;
  s[4] = key[0] ^ 0x6e657261;
  s[5] = key[1] ^ 0x6c796765;
  s[6] = key[2] ^ 0x79746573;
  s[7] = key[3] ^ 0x74656462;
  const whole = len - (len % 8);
  for (let i = 0; i < whole; i += 8) absorb(le32(msg, i), le32(msg, i + 4));
  let lo = 0;
  let hi = (len & 0xff) << 24;
  const rest = len - whole;
  for (let j = 0; j < rest; j++) {
    const byte = msg[whole + j];
    if (j < 4) lo |= byte << (8 * j);
    else hi |= byte << (8 * (j - 4));
  }
  absorb(lo >>> 0, hi >>> 0);
  s[4] ^= 0xff;
  round();
  round();
  round();
  round();
  out[0] = s[0] ^ s[2] ^ s[4] ^ s[6];
  out[1] = s[1] ^ s[3] ^ s[5] ^ s[7];
}
