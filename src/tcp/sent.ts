// The segments in flight, in sequence order: one record per segment sent and
// not yet cumulatively acknowledged, with when it last went out and what the
// peer told us of it. It is RFC 6675's scoreboard (SACKed, lost, retransmitted)
// and RFC 8985's transmit times in one place. Records live in a ring of plain
// numbers (no object per segment) and the whole queue goes when nothing is in
// flight, so an idle connection carries none of it.

import { seqAdd, seqDiff, seqLe } from './seq.ts';

/** The peer reported the segment in a SACK block. */
export const SACKED = 1;
/** Considered lost (RACK, RFC 6675's IsLost, three duplicate ACKs, or an RTO). */
export const LOST = 2;
/** Retransmitted at least once (its delivery gives no clean RTT sample). */
export const RETRANSMITTED = 4;
/** A retransmission of it is in flight (RFC 6675's pipe counts it). */
export const RETRANS_OUT = 8;
/** The segment carries our FIN (its last sequence number). */
export const FIN_SENT = 16;
/** The segment went out with PSH. */
export const PSH_SENT = 32;

const STRIDE = 5; // seq, len, xmit time, flags, transmission number

export class SentQueue {
  // Room for one record to begin with: a request's answer is often one
  // segment, and a typed array of up to 64 bytes lives on V8's heap, where a
  // larger one costs a buffer of its own (the queue is made afresh whenever
  // data goes out after a quiet spell). Then 16, doubling as it fills.
  private a = new Float64Array(STRIDE);
  private mask = 0;
  private head = 0;
  count = 0;
  /** The next transmission number. */
  sends = 0;
  /** Sequence space of records the peer has SACKed. */
  sacked = 0;
  /** Sequence space of records marked lost and not SACKed. */
  lost = 0;
  /** Sequence space of lost records whose retransmission is in flight. */
  retransOut = 0;
  /** Records SACKed (segments, for RFC 6675's DupThresh). */
  sackedSegs = 0;

  private at(i: number): number {
    return ((this.head + i) & this.mask) * STRIDE;
  }
  seq(i: number): number {
    return this.a[this.at(i)];
  }
  len(i: number): number {
    return this.a[this.at(i) + 1];
  }
  end(i: number): number {
    const k = this.at(i);
    return seqAdd(this.a[k], this.a[k + 1]);
  }
  xmit(i: number): number {
    return this.a[this.at(i) + 2];
  }
  flags(i: number): number {
    return this.a[this.at(i) + 3];
  }
  /** Transmission order (a counter): tells apart segments sent in the same millisecond. */
  order(i: number): number {
    return this.a[this.at(i) + 4];
  }

  /** A segment sent for the first time: [seq, seq + len) of sequence space; `flags`: FIN_SENT, PSH_SENT. */
  push(seq: number, len: number, now: number, flags: number, order: number): void {
    if (this.count > this.mask) this.grow();
    const k = ((this.head + this.count) & this.mask) * STRIDE;
    this.a[k] = seq >>> 0;
    this.a[k + 1] = len;
    this.a[k + 2] = now;
    this.a[k + 3] = flags;
    this.a[k + 4] = order;
    this.count++;
  }

  /** Sets flag bits of record `i`, keeping the byte counters. */
  set(i: number, bits: number): void {
    const k = this.at(i);
    const before = this.a[k + 3];
    this.account(before, this.a[k + 1], -1);
    let f = before | bits;
    // A SACKed segment is neither lost nor in flight any more.
    if (f & SACKED) f &= ~(LOST | RETRANS_OUT);
    this.a[k + 3] = f;
    this.account(f, this.a[k + 1], 1);
  }

  clear(i: number, bits: number): void {
    const k = this.at(i);
    const before = this.a[k + 3];
    this.account(before, this.a[k + 1], -1);
    this.a[k + 3] = before & ~bits;
    this.account(before & ~bits, this.a[k + 1], 1);
  }

  /** Record `i` went out again now, as transmission number `order`. */
  retransmitted(i: number, now: number, order: number): void {
    this.a[this.at(i) + 2] = now;
    this.a[this.at(i) + 4] = order;
    this.set(i, RETRANSMITTED | RETRANS_OUT);
  }

  private account(f: number, len: number, sign: number): void {
    if (f & SACKED) {
      this.sacked += sign * len;
      this.sackedSegs += sign;
    } else {
      if (f & LOST) this.lost += sign * len;
      if (f & RETRANS_OUT) this.retransOut += sign * len;
    }
  }

  /** Forgets the first record (cumulatively acknowledged). */
  shift(): void {
    const k = this.at(0);
    this.account(this.a[k + 3], this.a[k + 1], -1);
    this.head = (this.head + 1) & this.mask;
    this.count--;
  }

  /** The first record is acknowledged up to `una` (the peer took part of it): keeps the tail. */
  trimFront(una: number): void {
    const k = this.at(0);
    const len = this.a[k + 1];
    const cut = seqDiff(una, this.a[k]);
    this.account(this.a[k + 3], len, -1);
    this.a[k] = una >>> 0;
    this.a[k + 1] = len - cut;
    this.account(this.a[k + 3], len - cut, 1);
  }

  /**
   * Splits record `i` so that it ends `first` sequence numbers after its start
   * (a retransmission after the MSS shrank). Both parts keep its flags.
   */
  split(i: number, first: number): void {
    if (this.count > this.mask) this.grow();
    for (let j = this.count; j > i + 1; j--) {
      const to = this.at(j);
      const from = this.at(j - 1);
      for (let f = 0; f < STRIDE; f++) this.a[to + f] = this.a[from + f];
    }
    this.count++;
    const k = this.at(i);
    const n = this.at(i + 1);
    const flags = this.a[k + 3];
    const len = this.a[k + 1];
    this.account(flags, len, -1);
    this.a[n] = seqAdd(this.a[k], first) >>> 0;
    this.a[n + 1] = len - first;
    this.a[n + 2] = this.a[k + 2];
    this.a[n + 3] = flags;
    this.a[n + 4] = this.a[k + 4];
    this.a[k + 1] = first;
    this.a[k + 3] = flags & ~FIN_SENT;
    this.account(flags & ~FIN_SENT, first, 1);
    this.account(flags, len - first, 1);
  }

  /** The first record whose end is after `seq` (binary search; records are in order). */
  find(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqLe(this.end(mid), seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    // From one record straight to 16: more than one in flight is a flow that goes on.
    const size = this.mask === 0 ? 16 : (this.mask + 1) * 2;
    const b = new Float64Array(size * STRIDE);
    for (let i = 0; i < this.count; i++) {
      const k = this.at(i);
      b.set(this.a.subarray(k, k + STRIDE), i * STRIDE);
    }
    this.a = b;
    this.mask = size - 1;
    this.head = 0;
  }
}
