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

interface Piece {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

export class Reassembly {
  private pieces: Piece[] = [];
  bytes = 0;

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** Holds data (copied) that starts after RCV.NXT; overlaps are trimmed. */
  insert(seq: number, data: Uint8Array, fin: boolean): void {
    let s = seq;
    let d = data;
    const p = this.pieces;
    let i = 0;
    while (i < p.length && seqLt(p[i].seq, s)) i++;
    // Trim against the piece before.
    if (i > 0) {
      const prev = p[i - 1];
      const prevEnd = seqAdd(prev.seq, prev.data.length);
      if (seqGt(prevEnd, s)) {
        const cut = seqDiff(prevEnd, s);
        if (cut >= d.length) {
          if (fin && seqAdd(s, d.length) === prevEnd) prev.fin = true;
          return;
        }
        d = d.subarray(cut);
        s = prevEnd;
      }
    }
    // Pieces wholly covered by the new one go; a partly covered next piece trims the new one.
    const end = seqAdd(s, d.length);
    let f = fin;
    while (i < p.length && seqLe(seqAdd(p[i].seq, p[i].data.length), end)) {
      if (p[i].fin) f = true;
      this.bytes -= p[i].data.length;
      p.splice(i, 1);
    }
    if (i < p.length && seqLt(p[i].seq, end)) {
      d = d.subarray(0, seqDiff(p[i].seq, s));
      f = false;
    }
    if (d.length === 0 && !f) return;
    p.splice(i, 0, { seq: s, data: d.slice(), fin: f });
    this.bytes += d.length;
  }

  /**
   * Takes the pieces that now continue from `rcvNxt`, in order. Calls `take`
   * for each run of bytes; returns true if a FIN follows the last byte taken.
   */
  pull(rcvNxt: number, take: (data: Uint8Array) => void): { next: number; fin: boolean } {
    let next = rcvNxt;
    let fin = false;
    const p = this.pieces;
    while (p.length > 0 && seqLe(p[0].seq, next)) {
      const piece = p.shift()!;
      this.bytes -= piece.data.length;
      const skip = seqDiff(next, piece.seq);
      if (skip < piece.data.length) {
        take(piece.data.subarray(skip));
        next = seqAdd(piece.seq, piece.data.length);
      }
      if (piece.fin && seqAdd(piece.seq, piece.data.length) === next) {
        fin = true;
        p.length = 0;
        break;
      }
    }
    return { next, fin };
  }

  /** SACK blocks (RFC 2018): contiguous held ranges, most recent first is not tracked; lowest first. */
  sackBlocks(max: number): number[] {
    const out: number[] = [];
    const p = this.pieces;
    let i = 0;
    while (i < p.length && out.length < max * 2) {
      const left = p[i].seq;
      let right = seqAdd(left, p[i].data.length);
      i++;
      while (i < p.length && p[i].seq === right) {
        right = seqAdd(p[i].seq, p[i].data.length);
        i++;
      }
      if (right !== left) out.push(left, right);
    }
    return out;
  }
}
