// The Internet checksum (RFC 1071) and the TCP pseudo-header sums for IPv4
// (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1). Sums are kept unfolded as plain
// numbers so the pieces of one checksum can be added before folding.

/** Adds the bytes [start, end) as big-endian 16-bit words to `acc`. */
export function sumBytes(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  // Long runs: 32-bit loads (RFC 1071 §2(B): the sum does not depend on byte
  // order, so little-endian words are summed and the result swapped back).
  if (end - start >= 128 && LITTLE_ENDIAN) return sumWide(bytes, start, end, acc);
  let sum = acc;
  let i = start;
  // Eight bytes a turn (a header is 20–60): a quarter of the loop's overhead.
  for (; i + 8 <= end; i += 8) {
    sum +=
      ((bytes[i] << 8) | bytes[i + 1]) +
      ((bytes[i + 2] << 8) | bytes[i + 3]) +
      ((bytes[i + 4] << 8) | bytes[i + 5]) +
      ((bytes[i + 6] << 8) | bytes[i + 7]);
  }
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  // Fold often enough that the sum stays a small integer for huge inputs.
  return sum > 0x7fffffff ? (sum & 0xffff) + Math.floor(sum / 0x10000) : sum;
}

/** Folds a sum to 16 bits and returns its ones' complement: the checksum field value. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** A running sum folded to 16 bits (end-around carry), not inverted. */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The pseudo-header sum for a transport segment of `length` bytes. */
export function pseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): number {
  let sum = sumBytes(src, 0, src.length);
  sum = sumBytes(dst, 0, dst.length, sum);
  if (src.length === 4) return sum + protocol + length;
  // IPv6: the 32-bit upper-layer length and the next-header value.
  return sum + Math.floor(length / 0x10000) + (length & 0xffff) + protocol;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function sumWide(bytes: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  let sum = 0;
  // Bytes up to a 4-byte boundary of the buffer, one by one (kept in swapped order).
  const lead = (4 - ((bytes.byteOffset + i) & 3)) & 3;
  let odd = false;
  for (let k = 0; k < lead; k++, i++) {
    sum += odd ? bytes[i] << 8 : bytes[i];
    odd = !odd;
  }
  const words = (end - i) >> 2;
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
  let a = 0;
  let b = 0;
  for (let k = 0; k < words; k++) {
    const w = u32[k];
    a += w & 0xffff;
    b += w >>> 16;
    // Keep both small integers: at most 16384 words between folds.
    if ((k & 0x3fff) === 0x3fff) {
      a = (a & 0xffff) + (a >>> 16);
      b = (b & 0xffff) + (b >>> 16);
    }
  }
  i += words << 2;
  // The halves were read little-endian. After an even number of lead bytes that is
  // the swapped order the lead bytes use; after an odd number it is big-endian
  // order already, so they are swapped into line.
  let half = foldSum(a + b);
  if (lead & 1) half = ((half & 0xff) << 8) | (half >>> 8);
  let swapped = sum + half;
  for (; i < end; i++) {
    swapped += odd ? bytes[i] << 8 : bytes[i];
    odd = !odd;
  }
  swapped = foldSum(swapped);
  const be = ((swapped & 0xff) << 8) | (swapped >>> 8);
  return acc + be;
}
