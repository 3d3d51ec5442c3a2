// The packet fuzzer at a size CI can afford; `npm run fuzz` runs a million.

import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz/fuzz.ts';

describe('fuzzing the engine with mutated packets', () => {
  it('30,000 broken packets: no throw, bounded memory, every packet accounted for', () => {
    const r = runFuzz(30_000, 1);
    expect(r.packetsIn).toBeGreaterThanOrEqual(30_000);
    expect(r.unaccounted).toBe(0);
    expect(r.maxHeld).toBeLessThan(32768 + 128);
    expect(r.maxHalfOpen).toBeLessThanOrEqual(16);
    expect(r.maxConnections).toBeLessThan(2000);
    // The mutations reach deep: many distinct reasons, segments processed, options parsed in part.
    expect(Object.keys(r.drops).length).toBeGreaterThan(12);
    expect(r.counters['segments-in']).toBeGreaterThan(15_000);
    expect(r.heapGrowth).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
