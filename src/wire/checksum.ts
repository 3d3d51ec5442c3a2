// The Internet checksum (RFC 1071) and the TCP pseudo-header sums for IPv4
// (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1). Sums are kept unfolded as plain
// numbers so the pieces of one checksum can be added before folding.

/** Adds the bytes [start, end) as big-endian 16-bit words to `acc`. */
export function sumBytes(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let sum = acc;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  // Fold often enough that the sum stays a small integer for huge inputs.
  return sum > 0x7fffffff ? (sum & 0xffff) + Math.floor(sum / 0x10000) : sum;
}

/** Folds a sum to 16 bits and returns its ones' complement: the checksum field value. */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
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
