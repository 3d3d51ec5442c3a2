// The checksum's fast path (32-bit loads for long runs, any alignment) against
// a plain byte-pair sum, on random data, offsets and lengths.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { finishChecksum, sumBytes } from '../../src/wire/checksum.ts';

function naive(b: Uint8Array, s: number, e: number, acc = 0) {
  let sum = acc;
  for (let i = s; i < e; i += 2) sum += (b[i] << 8) | (i + 1 < e ? b[i + 1] : 0);
  return sum;
}
it('the wide sum equals the byte-pair sum for any alignment and length', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000, size: 'max' }),
      fc.nat(7),
      fc.nat(7),
      fc.nat(0xffffff),
      (arr, s0, e0, acc) => {
        const buf = new Uint8Array(arr.length + 16);
        buf.set(arr, 3);
        const view = buf.subarray(s0 % 4);
        const start = s0 % 3,
          end = Math.max(start, view.length - (e0 % 5));
        expect(finishChecksum(sumBytes(view, start, end, acc))).toBe(
          finishChecksum(naive(view, start, end, acc)),
        );
      },
    ),
    { numRuns: 3000 },
  );
});
