import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rfc6528Isn } from '../../src/tcp/isn.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import {
  segmentAcceptable,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
} from '../../src/tcp/seq.ts';
import { siphash24 } from '../../src/tcp/siphash.ts';
import { parseAddr } from '../../src/wire/addr.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** A message's bytes `bytes[0, len)` as the little-endian 32-bit words SipHash reads, in `into`. */
function wordsOf(bytes: Uint8Array, len: number, into: Uint32Array): Uint32Array {
  into.fill(0, 0, (len + 3) >> 2);
  for (let i = 0; i < len; i++) into[i >> 2] |= bytes[i] << (8 * (i & 3));
  return into;
}
const dist = fc.integer({ min: 1, max: 0x7fffffff });

describe('sequence arithmetic modulo 2^32 (RFC 9293 §3.4)', () => {
  it('a + d is after a for every a and every 0 < d < 2^31, across the wrap', () => {
    fc.assert(
      fc.property(u32, dist, (a, d) => {
        const b = seqAdd(a, d);
        expect(seqLt(a, b)).toBe(true);
        expect(seqGt(b, a)).toBe(true);
        expect(seqLe(a, b) && !seqGe(a, b)).toBe(true);
        expect(seqDiff(b, a)).toBe(d);
      }),
    );
  });

  it('wraps: 0xffffffff + 1 = 0 and 0 is after 0xffffffff', () => {
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqLt(0xffffffff, 0)).toBe(true);
    expect(seqInWindow(2, 0xfffffffe, 10)).toBe(true);
    expect(seqInWindow(0xfffffffd, 0xfffffffe, 10)).toBe(false);
  });

  it('the four acceptability cases of RFC 9293 §3.10.7.4', () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: -70000, max: 70000 }),
        fc.integer({ min: 0, max: 2000 }),
        (nxt, wnd, off, len) => {
          const seq = seqAdd(nxt, off);
          const inWnd = (x: number) => seqLe(nxt, x) && seqLt(x, seqAdd(nxt, wnd));
          let expected: boolean;
          if (len === 0) expected = wnd === 0 ? seq === nxt : inWnd(seq);
          else expected = wnd === 0 ? false : inWnd(seq) || inWnd(seqAdd(seq, len - 1));
          expect(segmentAcceptable(seq, len, nxt, wnd)).toBe(expected);
        },
      ),
    );
  });
});

describe('SipHash-2-4 and RFC 6528 ISNs', () => {
  it('matches the reference vectors of the SipHash paper', () => {
    const key = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
    const out = new Uint32Array(2);
    const hex = () => out[1].toString(16).padStart(8, '0') + out[0].toString(16).padStart(8, '0');
    const msg = wordsOf(
      Uint8Array.from({ length: 64 }, (_, i) => i),
      64,
      new Uint32Array(16),
    );
    siphash24(key, msg, 0, out);
    expect(hex()).toBe('726fdb47dd0e0e31');
    siphash24(key, msg, 15, out);
    expect(hex()).toBe('a129ca6149be45e5');
    siphash24(key, msg, 8, out);
    expect(hex()).toBe('93f5f5799a932462');
  });

  it('agrees with a 64-bit BigInt SipHash-2-4 for random keys and messages (every carry path)', () => {
    const M = (1n << 64n) - 1n;
    const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M;
    const reference = (k0: bigint, k1: bigint, m: Uint8Array): bigint => {
      let v0 = k0 ^ 0x736f6d6570736575n;
      let v1 = k1 ^ 0x646f72616e646f6dn;
      let v2 = k0 ^ 0x6c7967656e657261n;
      let v3 = k1 ^ 0x7465646279746573n;
      const round = () => {
        v0 = (v0 + v1) & M;
        v1 = rotl(v1, 13n) ^ v0;
        v0 = rotl(v0, 32n);
        v2 = (v2 + v3) & M;
        v3 = rotl(v3, 16n) ^ v2;
        v0 = (v0 + v3) & M;
        v3 = rotl(v3, 21n) ^ v0;
        v2 = (v2 + v1) & M;
        v1 = rotl(v1, 17n) ^ v2;
        v2 = rotl(v2, 32n);
      };
      const word = (i: number, n: number) => {
        let w = 0n;
        for (let j = n - 1; j >= 0; j--) w = (w << 8n) | BigInt(m[i + j]);
        return w;
      };
      const whole = m.length - (m.length % 8);
      const blocks: bigint[] = [];
      for (let i = 0; i < whole; i += 8) blocks.push(word(i, 8));
      blocks.push((BigInt(m.length & 0xff) << 56n) | word(whole, m.length - whole));
      for (const b of blocks) {
        v3 ^= b;
        round();
        round();
        v0 ^= b;
      }
      v2 ^= 0xffn;
      for (let r = 0; r < 4; r++) round();
      return v0 ^ v1 ^ v2 ^ v3;
    };
    fc.assert(
      fc.property(
        fc.array(u32, { minLength: 4, maxLength: 4 }),
        fc.uint8Array({ maxLength: 40 }),
        (k, msg) => {
          const key = Uint32Array.from(k);
          const out = new Uint32Array(2);
          // Bytes past the message in its last word are set: the hash must ignore them.
          const words = wordsOf(msg, msg.length, new Uint32Array(11));
          for (let i = msg.length; i < 4 * ((msg.length + 3) >> 2); i++)
            words[i >> 2] |= 0xff << (8 * (i & 3));
          siphash24(key, words, msg.length, out);
          const k0 = (BigInt(k[1]) << 32n) | BigInt(k[0]);
          const k1 = (BigInt(k[3]) << 32n) | BigInt(k[2]);
          expect((BigInt(out[1]) << 32n) | BigInt(out[0])).toBe(reference(k0, k1, msg));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ISNs move forward with time for one 4-tuple (4 µs ticks) and differ across 4-tuples', () => {
    const gen = new Rfc6528Isn(seededRandom(7));
    const a = parseAddr('198.18.0.1')!;
    const b = parseAddr('198.18.0.2')!;
    const i0 = gen.isn(a, 1000, b, 80, 0);
    const i1 = gen.isn(a, 1000, b, 80, 1);
    expect(seqDiff(i1, i0)).toBe(250);
    expect(gen.isn(a, 1001, b, 80, 0)).not.toBe(i0);
    // A different secret gives a different ISN for the same tuple and time.
    expect(new Rfc6528Isn(seededRandom(8)).isn(a, 1000, b, 80, 0)).not.toBe(i0);
  });

  it('an ISN is F over the 4-tuple as bytes on the wire (addresses, then ports big-endian), for IPv4 and IPv6', () => {
    const addr = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
    );
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(
      fc.property(
        addr,
        port,
        addr,
        port,
        fc.integer({ min: 0, max: 1e9 }),
        (la, lp, ra, rp, now) => {
          fc.pre(la.length === ra.length);
          // The key the generator draws from the same seed.
          const rnd = seededRandom(7);
          const key = Uint32Array.from({ length: 4 }, () => rnd.u32());
          const bytes = Uint8Array.from([...la, ...ra, lp >> 8, lp & 0xff, rp >> 8, rp & 0xff]);
          const out = new Uint32Array(2);
          siphash24(key, wordsOf(bytes, bytes.length, new Uint32Array(9)), bytes.length, out);
          const expected = (Math.floor(now * 250) + out[0]) >>> 0;
          expect(new Rfc6528Isn(seededRandom(7)).isn(la, lp, ra, rp, now)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
