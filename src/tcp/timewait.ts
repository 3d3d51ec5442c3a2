// TIME-WAIT as a small record. A connection in TIME-WAIT (RFC 9293 §3.4.2)
// only remembers its 4-tuple, its sequence numbers and timestamps for up to
// 2×MSL; the application is done with it. Between batches of packets the host
// swaps the full connection for this record (a few hundred bytes less than a
// connection by a factor of five), and swaps it back for the rare segment that
// arrives during TIME-WAIT, or when the timer ends it — so every rule of
// TIME-WAIT stays in one place, the connection's own code.

import type { IpAddr } from '../wire/addr.ts';
import type { Connection, Endpoints } from './connection.ts';
import type { Timed } from './listener.ts';
import { State, type TcpConfig } from './types.ts';

// TimeWaitRecord.bits: the MSS, the flags and the window scales in one small integer.
const MSS_MASK = 0xffff;
const TS_OK = 1 << 16;
const SACK_OK = 1 << 17;
const PASSIVE = 1 << 18;
const SND_WS_SHIFT = 19;
const RCV_WS_SHIFT = 23;

export class TimeWaitRecord implements Timed, Endpoints {
  deadline: number;
  heapAt = Number.POSITIVE_INFINITY;
  heapIndex = -1;
  /** When an ACK last answered an invalid segment; undefined if never (no boxed -Infinity). */
  private readonly invalidAckAt: number | undefined;
  // Sequence numbers and timestamps as signed 32-bit integers (small integers
  // to V8, not boxed numbers), read back unsigned; the ports share one integer.
  // ISS and IRS are not kept: nothing in TIME-WAIT reads them.
  private readonly sndNxt: number;
  private readonly rcvNxt: number;
  private readonly rcvAdv: number;
  private readonly tsRecent: number;
  private readonly tsOffset: number;
  private readonly ports: number;
  private readonly bits: number;

  constructor(
    readonly cfg: TcpConfig,
    readonly id: number,
    readonly localAddr: IpAddr,
    localPort: number,
    readonly remoteAddr: IpAddr,
    remotePort: number,
    c: Connection,
    /** The connection the application saw (kept weakly): told when TIME-WAIT ends. */
    readonly origin: WeakRef<Connection> | null,
  ) {
    this.sndNxt = c.sndNxt | 0;
    this.rcvNxt = c.rcvNxt | 0;
    this.rcvAdv = c.rcvAdv | 0;
    this.tsRecent = c.tsRecent | 0;
    this.tsOffset = c.tsOffset | 0;
    this.ports = (localPort << 16) | remotePort;
    this.bits =
      (c.sndMss & MSS_MASK) |
      (c.tsOk ? TS_OK : 0) |
      (c.sackOk ? SACK_OK : 0) |
      (c.passive ? PASSIVE : 0) |
      (c.sndWndScale << SND_WS_SHIFT) |
      (c.rcvWndScale << RCV_WS_SHIFT);
    this.deadline = c.timeWaitAt;
    const at = c.lastInvalidAckAt;
    this.invalidAckAt = at === Number.NEGATIVE_INFINITY ? undefined : at;
  }

  get state(): State {
    return State.TimeWait;
  }

  get localPort(): number {
    return this.ports >>> 16;
  }

  get remotePort(): number {
    return this.ports & 0xffff;
  }

  get lastInvalidAckAt(): number {
    return this.invalidAckAt ?? Number.NEGATIVE_INFINITY;
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
    c.timeWaitOf = this.origin;
  }
}
