// TIME-WAIT as a small record. A connection in TIME-WAIT (RFC 9293 §3.4.2)
// only remembers its 4-tuple, its sequence numbers and timestamps for up to
// 2×MSL; the application is done with it. Between batches of packets the host
// swaps the full connection for this record (about 190 bytes, a connection's
// about 730), and swaps it back for the rare segment that arrives during
// TIME-WAIT, or when its turn comes in the host's TimeWaitQueue — so every
// rule of TIME-WAIT stays in one place, the connection's own code.

import type { IpAddr } from '../wire/addr.ts';
import type { Connection, Endpoints } from './connection.ts';
import { State, type TcpConfig } from './types.ts';

// TimeWaitRecord.bits: the MSS, the flags and the window scales in one small integer.
const MSS_MASK = 0xffff;
const TS_OK = 1 << 16;
const SACK_OK = 1 << 17;
const PASSIVE = 1 << 18;
const SND_WS_SHIFT = 19;
const RCV_WS_SHIFT = 23;

/**
 * The state the application sees of a connection that went into TIME-WAIT:
 * TIME-WAIT until the last connection restored from its records closes.
 * The connection the application holds reads its state here once the host
 * swapped it for a record; records point to this, never to that connection,
 * so that it is garbage as soon as the application lets it go (a WeakRef to
 * it would survive every young collection: V8 clears those only in a full one).
 */
export interface TimeWaitFate {
  state: State;
}

export class TimeWaitRecord implements Endpoints, TimeWaitFate {
  /** When TIME-WAIT ends (the record's place in its TimeWaitQueue). */
  readonly deadline: number;
  /**
   * TIME-WAIT while the record (or a connection restored from it) waits. The
   * first record of a connection is also its fate (TimeWaitFate): the state
   * the application's connection reads, CLOSED once the last connection
   * restored from its records closes — one object less per record than a
   * fate of its own, and a busy server keeps a record per connection it
   * closed first.
   */
  state: State = State.TimeWait;
  /** Shared with the connection the application saw: told when TIME-WAIT ends. */
  readonly fate: TimeWaitFate;
  /** When an ACK last answered an invalid segment; undefined if never (no boxed -Infinity). */
  private invalidAckAt: number | undefined = undefined;
  // Sequence numbers and timestamps as signed 32-bit integers (small integers
  // to V8, not boxed numbers), read back unsigned; the ports share one integer.
  // ISS and IRS are not kept: nothing in TIME-WAIT reads them.
  private sndNxt = 0;
  private rcvNxt = 0;
  private rcvAdv = 0;
  private tsRecent = 0;
  private tsOffset = 0;
  private readonly ports: number;
  private bits = 0;

  constructor(
    readonly cfg: TcpConfig,
    readonly id: number,
    readonly localAddr: IpAddr,
    localPort: number,
    readonly remoteAddr: IpAddr,
    remotePort: number,
    c: Connection,
    /** The fate of an earlier record of this connection; none for its first: this record is it. */
    fate: TimeWaitFate | null,
  ) {
    this.fate = fate ?? this;
    this.ports = (localPort << 16) | remotePort;
    // A whole millisecond, as every deadline (deadline.ts): a small integer to
    // V8, where a fraction would be a heap number of its own, one more object
    // for the young collector to copy for each of the records a busy server keeps.
    this.deadline = c.timeWaitAt;
    this.fill(c);
  }

  /** Takes what TIME-WAIT needs from `c` (this record's connection, TIME-WAIT ending at `deadline`). */
  fill(c: Connection): void {
    this.sndNxt = c.sndNxt | 0;
    this.rcvNxt = c.rcvNxt | 0;
    this.rcvAdv = c.rcvAdv | 0;
    this.tsRecent = c.tsRecent | 0;
    this.tsOffset = c.tsOffset | 0;
    this.bits =
      (c.sndMss & MSS_MASK) |
      (c.tsOk ? TS_OK : 0) |
      (c.sackOk ? SACK_OK : 0) |
      (c.passive ? PASSIVE : 0) |
      (c.sndWndScale << SND_WS_SHIFT) |
      (c.rcvWndScale << RCV_WS_SHIFT);
    const at = c.lastInvalidAckAt;
    this.invalidAckAt = at === -Infinity ? undefined : at;
  }

  get localPort(): number {
    return this.ports >>> 16;
  }

  get remotePort(): number {
    return this.ports & 0xffff;
  }

  get lastInvalidAckAt(): number {
    return this.invalidAckAt ?? -Infinity;
  }

  /** Fills a fresh connection (same id, 4-tuple and configuration) back into TIME-WAIT. */
  restore(c: Connection): void {
    const bits = this.bits;
    const sndNxt = this.sndNxt >>> 0;
    c.state = State.TimeWait;
    c.passive = (bits & PASSIVE) !== 0;
    c.sndUna = sndNxt;
    c.sndNxt = sndNxt;
    c.sndMax = sndNxt;
    c.sndSmall = sndNxt;
    c.finQueued = true;
    c.finSent = true;
    c.finSeq = (sndNxt - 1) >>> 0;
    c.finReceived = true;
    c.rcvNxt = this.rcvNxt;
    c.rcvAdv = this.rcvAdv;
    c.tsRecent = this.tsRecent;
    c.tsOffset = this.tsOffset;
    c.sndMss = bits & MSS_MASK;
    c.tsOk = (bits & TS_OK) !== 0;
    c.sackOk = (bits & SACK_OK) !== 0;
    c.sndWndScale = (bits >>> SND_WS_SHIFT) & 0xf;
    c.rcvWndScale = (bits >>> RCV_WS_SHIFT) & 0xf;
    c.timeWaitAt = this.deadline;
    c.lastInvalidAckAt = this.lastInvalidAckAt;
    c.timeWaitFate = this.fate;
  }
}

/**
 * TIME-WAIT records in the order they end. Every record in one queue lasts
 * the same 2×MSL from when its connection entered TIME-WAIT, so they end in
 * the order they were made (FreeBSD keeps its TIME-WAIT list so): no heap and
 * no timer fields per record. A record that left the host's table (restored
 * to a connection, which then closed or restarted its timer) is passed over
 * when its turn comes; one whose connection went back to TIME-WAIT with the
 * same deadline is filled again in place.
 */
export class TimeWaitQueue {
  private recs: (TimeWaitRecord | undefined)[] = [];
  private head = 0;

  /** `duration`: the 2×MSL (ms) every record of this queue lasts. */
  constructor(readonly duration: number) {}

  /** Appends `rec`; false (nothing added) if it would end before the last one. */
  push(rec: TimeWaitRecord): boolean {
    const n = this.recs.length;
    if (n > this.head && this.recs[n - 1]!.deadline > rec.deadline) return false;
    this.recs.push(rec);
    return true;
  }

  /** When the first record ends (+Infinity if none). */
  get next(): number {
    return this.head < this.recs.length ? this.recs[this.head]!.deadline : Infinity;
  }

  /** The first record, taken out if it is due at `now`. */
  shift(now: number): TimeWaitRecord | undefined {
    if (this.head >= this.recs.length) return undefined;
    const rec = this.recs[this.head]!;
    if (rec.deadline > now) return undefined;
    this.recs[this.head++] = undefined;
    // Drop the taken slots once they are half the array (amortised O(1)).
    if (this.head * 2 >= this.recs.length && this.head >= 64) {
      this.recs = this.recs.slice(this.head);
      this.head = 0;
    }
    return rec;
  }

  get size(): number {
    return this.recs.length - this.head;
  }
}
