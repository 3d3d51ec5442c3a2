// TIME-WAIT as a small record. A connection in TIME-WAIT (RFC 9293 §3.4.2)
// only remembers its 4-tuple, its sequence numbers and timestamps for up to
// 2×MSL; the application is done with it. Between batches of packets the host
// swaps the full connection for this record (a few hundred bytes less than a
// connection by a factor of five), and swaps it back for the rare segment that
// arrives during TIME-WAIT, or when the timer ends it — so every rule of
// TIME-WAIT stays in one place, the connection's own code.

import type { IpAddr } from '../wire/addr.ts';
import type { Connection, ConnectionHost, Endpoints } from './connection.ts';
import type { Timed } from './listener.ts';
import { State, type TcpConfig } from './types.ts';

const SND_NXT = 0;
const RCV_NXT = 1;
const RCV_ADV = 2;
const TS_RECENT = 3;
const TS_OFFSET = 4;
const ISS = 5;
const IRS = 6;
const SND_MSS = 7;

const TS_OK = 1;
const SACK_OK = 2;
const PASSIVE = 4;

export interface TimeWaitHost extends ConnectionHost {
  timeWaitExpired(rec: TimeWaitRecord, now: number): void;
}

export class TimeWaitRecord implements Timed, Endpoints {
  readonly state = State.TimeWait;
  deadline: number;
  heapAt = Number.POSITIVE_INFINITY;
  /** Sequence numbers and timestamps: one small array, not eight boxed numbers. */
  private readonly n = new Uint32Array(8);
  /** Window scales (4 bits each) and flags. */
  private readonly bits: number;

  constructor(
    private readonly host: TimeWaitHost,
    readonly cfg: TcpConfig,
    readonly id: number,
    readonly localAddr: IpAddr,
    readonly localPort: number,
    readonly remoteAddr: IpAddr,
    readonly remotePort: number,
    c: Connection,
    /** The connection the application saw (kept weakly): told when TIME-WAIT ends. */
    readonly origin: WeakRef<Connection> | null,
  ) {
    const n = this.n;
    n[SND_NXT] = c.sndNxt;
    n[RCV_NXT] = c.rcvNxt;
    n[RCV_ADV] = c.rcvAdv;
    n[TS_RECENT] = c.tsRecent;
    n[TS_OFFSET] = c.tsOffset;
    n[ISS] = c.iss;
    n[IRS] = c.irs;
    n[SND_MSS] = c.sndMss;
    this.bits =
      (c.tsOk ? TS_OK : 0) |
      (c.sackOk ? SACK_OK : 0) |
      (c.passive ? PASSIVE : 0) |
      (c.sndWndScale << 4) |
      (c.rcvWndScale << 8);
    this.deadline = c.timeWaitAt;
    this.lastInvalidAckAt = c.lastInvalidAckAt;
  }

  lastInvalidAckAt: number;

  onTimer(now: number): void {
    this.host.timeWaitExpired(this, now);
  }

  /** Fills a fresh connection (same id, 4-tuple and configuration) back into TIME-WAIT. */
  restore(c: Connection): void {
    const n = this.n;
    c.state = State.TimeWait;
    c.passive = (this.bits & PASSIVE) !== 0;
    c.iss = n[ISS];
    c.irs = n[IRS];
    c.sndUna = n[SND_NXT];
    c.sndNxt = n[SND_NXT];
    c.sndMax = n[SND_NXT];
    c.sndSmall = n[SND_NXT];
    c.finQueued = true;
    c.finSent = true;
    c.finSeq = (n[SND_NXT] - 1) >>> 0;
    c.finReceived = true;
    c.rcvNxt = n[RCV_NXT];
    c.rcvAdv = n[RCV_ADV];
    c.tsRecent = n[TS_RECENT];
    c.tsOffset = n[TS_OFFSET];
    c.sndMss = n[SND_MSS];
    c.tsOk = (this.bits & TS_OK) !== 0;
    c.sackOk = (this.bits & SACK_OK) !== 0;
    c.sndWndScale = (this.bits >> 4) & 0xf;
    c.rcvWndScale = (this.bits >> 8) & 0xf;
    c.timeWaitAt = this.deadline;
    c.lastInvalidAckAt = this.lastInvalidAckAt;
    c.timeWaitOf = this.origin;
  }
}
