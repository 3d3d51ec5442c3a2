// Randomness is injected into the engine: a CSPRNG for real use, a seeded
// generator for the simulator and tests, so that a run can be replayed.

export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

/**
 * The platform CSPRNG (WebCrypto's getRandomValues: Node 20 and browsers).
 * Words are drawn 256 at a time: one call into the platform costs about a
 * microsecond, and a connection takes several (timestamp offset, port).
 */
export function cryptoRandom(): Random {
  const c = globalThis.crypto;
  const pool = new Uint32Array(256);
  let next = pool.length;
  return {
    u32() {
      if (next === pool.length) {
        c.getRandomValues(pool);
        next = 0;
      }
      const v = pool[next];
      // Each word is handed out once.
      pool[next++] = 0;
      return v;
    },
    fill(bytes) {
      for (let i = 0; i < bytes.length; i += 65536) {
        c.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
      }
    },
  };
}

/** A deterministic generator (SplitMix32 seeding xoshiro128**): same seed, same stream. */
export function seededRandom(seed: number): Random {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const u32 = () => {
    const r = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return r;
  };
  return {
    u32,
    fill(bytes) {
      for (let i = 0; i < bytes.length; i++) bytes[i] = u32() & 0xff;
    },
  };
}
