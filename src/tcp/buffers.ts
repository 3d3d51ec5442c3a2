// Byte queues for one connection: the send buffer (bytes from SND.UNA on,
// kept until acknowledged) and the reassembly queue (segments that arrived
// beyond RCV.NXT, held until the gap fills). Both are allocated on first use.

import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.ts';

export class SendBuffer {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  length = 0;

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data.slice());
    this.length += data.length;
  }

  /** `len` bytes starting `offset` bytes after SND.UNA: a view when possible, else a copy. */
  peek(offset: number, len: number): Uint8Array {
    let off = offset + this.head;
    let i = 0;
    while (i < this.chunks.length && off >= this.chunks[i].length) {
      off -= this.chunks[i].length;
      i++;
    }
    const first = this.chunks[i];
    if (off + len <= first.length) return first.subarray(off, off + len);
    const out = new Uint8Array(len);
    let n = 0;
    while (n < len) {
      const c = this.chunks[i++];
      const take = Math.min(c.length - off, len - n);
      out.set(c.subarray(off, off + take), n);
      n += take;
      off = 0;
    }
    return out;
  }

  /** Releases `n` acknowledged bytes from the front. */
  drop(n: number): void {
    let left = Math.min(n, this.length);
    this.length -= left;
    while (left > 0) {
      const avail = this.chunks[0].length - this.head;
      if (left < avail) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** A run of contiguous out-of-order bytes [seq, seq + len); `fin` when a FIN follows it. */
interface Piece {
  seq: number;
  len: number;
  /** Bytes in [0, len); capacity may be larger so that appending is amortised O(1). */
  buf: Uint8Array;
  fin: boolean;
}

/**
 * The reassembly queue: data that arrived beyond RCV.NXT. Held runs never
 * overlap or touch (adjacent arrivals are coalesced into one run), are found
 * by binary search, and are at most `maxPieces`; past that the highest runs
 * are pruned, as Linux prunes its out-of-order queue (RFC 9293 lets a
 * receiver drop out-of-order data; RFC 2018 §8 lets it renege on SACKs).
 * Bytes are bounded by the receive window the connection enforces.
 */
export class Reassembly {
  private pieces: Piece[] = [];
  bytes = 0;
  /** Where the most recent arrival landed: its run is the first SACK block (RFC 2018 §4). */
  private latest = 0;

  constructor(readonly maxPieces = 256) {}

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  get count(): number {
    return this.pieces.length;
  }

  /** Index of the first run that ends at or after `seq` (may touch or overlap it). */
  private find(seq: number): number {
    const p = this.pieces;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLt(seqAdd(p[mid].seq, p[mid].len), seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Holds `data` (copied) that starts after RCV.NXT, merged with the runs it
   * overlaps or touches. Returns the bytes pruned to stay within bounds.
   */
  insert(seq: number, data: Uint8Array, fin: boolean): number {
    if (data.length === 0 && !fin) return 0;
    const p = this.pieces;
    const end = seqAdd(seq, data.length);
    const i = this.find(seq);
    let j = i;
    while (j < p.length && seqLe(p[j].seq, end)) j++;
    this.latest = seq;
    if (i === j) {
      p.splice(i, 0, { seq, len: data.length, buf: data.slice(), fin });
      this.bytes += data.length;
      return this.prune();
    }
    // Merge the new bytes with runs i..j-1 into one run.
    const first = p[i];
    const last = p[j - 1];
    const start = seqLt(seq, first.seq) ? seq : first.seq;
    const lastEnd = seqAdd(last.seq, last.len);
    const stop = seqGt(end, lastEnd) ? end : lastEnd;
    const total = seqDiff(stop, start);
    let run: Piece;
    let cursor: number;
    let k = i;
    if (first.seq === start && first.buf.length >= total) {
      // Common case: appending to the run that starts first, in its spare capacity.
      run = first;
      cursor = seqAdd(first.seq, first.len);
      k = i + 1;
    } else if (first.seq === start) {
      run = {
        seq: start,
        len: first.len,
        buf: new Uint8Array(Math.max(total, first.len * 2)),
        fin: false,
      };
      run.buf.set(first.buf.subarray(0, first.len));
      cursor = seqAdd(first.seq, first.len);
      k = i + 1;
    } else {
      run = { seq: start, len: 0, buf: new Uint8Array(total), fin: false };
      cursor = start;
    }
    for (; k < j; k++) {
      const q = p[k];
      if (seqLt(cursor, q.seq)) {
        run.buf.set(
          data.subarray(seqDiff(cursor, seq), seqDiff(q.seq, seq)),
          seqDiff(cursor, start),
        );
        cursor = q.seq;
      }
      run.buf.set(q.buf.subarray(0, q.len), seqDiff(q.seq, start));
      cursor = seqAdd(q.seq, q.len);
    }
    if (seqLt(cursor, end)) {
      run.buf.set(data.subarray(seqDiff(cursor, seq)), seqDiff(cursor, start));
    }
    this.bytes -= run === first ? first.len : 0;
    for (let m = run === first ? i + 1 : i; m < j; m++) this.bytes -= p[m].len;
    run.len = total;
    this.bytes += total;
    // A FIN counts only where it ends the data.
    run.fin = (last.fin && lastEnd === stop) || (fin && end === stop);
    p.splice(i, j - i, run);
    return this.prune();
  }

  private prune(): number {
    let pruned = 0;
    const p = this.pieces;
    while (p.length > this.maxPieces) {
      const q = p.pop()!;
      pruned += q.len;
      this.bytes -= q.len;
    }
    return pruned;
  }

  /**
   * Takes the runs that now continue from `rcvNxt`, in order. Calls `take`
   * for each run of bytes; returns true if a FIN follows the last byte taken.
   */
  pull(rcvNxt: number, take: (data: Uint8Array) => void): { next: number; fin: boolean } {
    let next = rcvNxt;
    let fin = false;
    const p = this.pieces;
    while (p.length > 0 && seqLe(p[0].seq, next)) {
      const piece = p.shift()!;
      this.bytes -= piece.len;
      const skip = seqDiff(next, piece.seq);
      if (skip < piece.len) {
        take(piece.buf.subarray(skip, piece.len));
        next = seqAdd(piece.seq, piece.len);
      }
      if (piece.fin && seqAdd(piece.seq, piece.len) === next) {
        fin = true;
        p.length = 0;
        this.bytes = 0;
        break;
      }
    }
    return { next, fin };
  }

  /**
   * SACK blocks (RFC 2018 §4): the run holding the latest arrival first, then
   * the others from the lowest. `withFin`: a FIN's sequence number is part of
   * its block, as Linux reports it.
   */
  sackBlocks(max: number, withFin = false): number[] {
    const out: number[] = [];
    const p = this.pieces;
    if (p.length === 0 || max <= 0) return out;
    let first = this.find(this.latest);
    if (first >= p.length || seqGt(p[first].seq, this.latest)) first = 0;
    const span = (q: (typeof p)[number]) => q.len + (withFin && q.fin ? 1 : 0);
    const q0 = p[first];
    if (span(q0) > 0) out.push(q0.seq, seqAdd(q0.seq, span(q0)));
    for (let i = 0; i < p.length && out.length < max * 2; i++) {
      if (i === first || span(p[i]) === 0) continue;
      out.push(p[i].seq, seqAdd(p[i].seq, span(p[i])));
    }
    return out;
  }
}
