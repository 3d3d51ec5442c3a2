// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Comparisons use the
// signed difference, which is correct while the two numbers are less than
// 2^31 apart, as they always are within one connection's windows.

export type SeqNum = number;

export function seqAdd(a: SeqNum, n: number): SeqNum {
  return (a + n) >>> 0;
}

/** a - b as a signed 32-bit distance. */
export function seqDiff(a: SeqNum, b: SeqNum): number {
  return (a - b) | 0;
}

export function seqLt(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: SeqNum, b: SeqNum): boolean {
  return ((a - b) | 0) >= 0;
}

/** lo <= x < lo + size, modulo 2^32. */
export function seqInWindow(x: SeqNum, lo: SeqNum, size: number): boolean {
  return (x - lo) >>> 0 < size;
}

export function seqMax(a: SeqNum, b: SeqNum): SeqNum {
  return seqGt(a, b) ? a : b;
}

/**
 * RFC 9293 §3.10.7.4, first check: is a segment of `len` sequence numbers
 * starting at `seq` acceptable for a receive window [rcvNxt, rcvNxt + rcvWnd)?
 */
export function segmentAcceptable(
  seq: SeqNum,
  len: number,
  rcvNxt: SeqNum,
  rcvWnd: number,
): boolean {
  if (len === 0) {
    return rcvWnd === 0 ? seq === rcvNxt : seqInWindow(seq, rcvNxt, rcvWnd);
  }
  if (rcvWnd === 0) return false;
  return seqInWindow(seq, rcvNxt, rcvWnd) || seqInWindow(seqAdd(seq, len - 1), rcvNxt, rcvWnd);
}
