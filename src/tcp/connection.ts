// One TCP connection: the TCB and its state machine, following the event
// processing of RFC 9293 §3.10 with RFC 5961's defences, RFC 7323 options,
// RFC 6298 timers and RFC 5681 congestion control. Sans-IO: every entry point
// takes `now` (ms); output goes to the host; the next deadline is a field the
// host's single timer queue reads.

import type { IpAddr } from '../wire/addr.ts';
import type { IcmpErrorKind } from '../wire/icmp.ts';
import { ACK, FIN, RST, type Segment, SYN, type TcpOption, URG } from '../wire/tcp.ts';
import type { Reassembly, SendBuffer } from './buffers.ts';
import {
  type CcState,
  CONGESTION_NAMES,
  type CongestionName,
  type HyStart,
  newCcState,
} from './cc.ts';
import { COUNTER } from './counters.ts';
import { NO_DEADLINE } from './deadline.ts';
import {
  ConnectionRefused,
  ConnectionReset,
  softError,
  type TcpError,
  type TcpErrorCode,
} from './errors.ts';
import { type ConnEvent, EV_CLOSED } from './events.ts';
import {
  acceptTwoWaySyn,
  arriveSynSent,
  enterEstablished,
  openActive,
  openFastOpen,
  openFromHandshake,
} from './handshake.ts';
import { findTimestamp, tsClockAt } from './options.ts';
import {
  advertise,
  NO_CLAMP,
  processText,
  processUrgent,
  rcvWindow,
  read,
  urgentPending,
} from './rcv.ts';
import { pipe, Recovery } from './recovery.ts';
import type { SentQueue } from './sent.ts';
import {
  segmentAcceptable,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
} from './seq.ts';
import {
  challengeAck,
  invalidAckLimited,
  output,
  processAck,
  retransmitOne,
  send,
  sendAbortReset,
  sendAck,
  sendReset,
  sendUrgent,
} from './snd.ts';
import { Tcb } from './tcb.ts';
import {
  armKeepAlive,
  finWait2Orphaned,
  onTimer,
  setKeepAlive,
  stopRexmit,
  updateDeadline,
} from './timer.ts';
import {
  type CcEvent,
  type DropReason,
  type SendReason,
  State,
  type SynOffer,
  type TcpConfig,
  type TimerName,
  type Tracer,
} from './types.ts';

/** Counters a connection bumps on its host. */
export type { Counter } from './counters.ts';
export type { ConnEvent } from './events.ts';

/** What the engine needs from the host it lives in. */
export interface ConnectionHost {
  readonly name: string;
  readonly tracer: Tracer | null;
  transmit(conn: Connection, seg: Segment, why: SendReason, now: number): void;
  deliver(conn: Connection, ev: ConnEvent, now: number): void;
  drop(conn: Connection, seg: Segment, reason: DropReason, now: number): void;
  /** Adds one to a counter: `count(COUNTER['name'])`. */
  count(id: number): void;
  /** RFC 5961 §7: challenge ACKs are rate limited across the host. */
  challengeAckAllowed(now: number): boolean;
  /** `conn.deadline` may have moved earlier. */
  timerChanged(conn: Connection): void;
  /** The connection reached CLOSED and may be forgotten. */
  released(conn: Connection): void;
  /** Received data may be kept as views of the packets it came in (no copy). */
  readonly zeroCopy?: boolean;
  /** TCP payload one segment may carry because the link cuts it into MSS-sized ones (TSO); 0 or absent: one MSS. */
  readonly tsoMax?: number;
  /** The connection entered TIME-WAIT: the host may keep it as a smaller record. */
  timeWaitEntered?(conn: Connection): void;
  /**
   * The application let go of `conn` before it was done (our FIN to deliver,
   * the peer's to wait for): whether the host holds one more such orphan. It
   * forgets it when it is released or enters TIME-WAIT (`orphan` is cleared).
   */
  orphaned?(conn: Connection): boolean;
  /**
   * The connection owes an ACK: the host sends it (`flushAck`) once every
   * segment it is processing now has been processed (RFC 9293 MUST-58/59).
   * A host without batching leaves this out and the ACK goes at once.
   */
  ackLater?(conn: Connection): void;
  /**
   * The application queued data or a FIN: the host sends it (`output`) once
   * the application's turn is over, so what it writes in one turn, and an
   * end() after it, leave as one burst. A host without it sends at once.
   */
  readonly outputLater?: ((conn: Connection) => void) | undefined;
  /** A Fast Open cookie arrived from `conn`'s peer (RFC 7413 §4.1.3: the client caches it). */
  /** A Fast Open attempt was answered: the server's cookie (null: keep the one cached) and MSS. */
  fastOpenCookie?(conn: Connection, cookie: Uint8Array | null, mss: number): void;
}

/** The error code and message an ICMP error becomes for the application. */
function icmpText(
  kind: IcmpErrorKind,
  type: number,
  code: number,
  v6: boolean,
): { code: TcpErrorCode; text: string } {
  const icmp = `ICMP${v6 ? 'v6' : ''} type ${type} code ${code}`;
  switch (kind) {
    case 'unreachable-hard':
      return (!v6 && code === 3) || (v6 && code === 4)
        ? { code: 'ECONNREFUSED', text: `port unreachable (${icmp})` }
        : { code: 'EHOSTUNREACH', text: `destination unreachable (${icmp})` };
    case 'unreachable-soft':
      return !v6 && code === 0
        ? { code: 'ENETUNREACH', text: `network unreachable (${icmp})` }
        : { code: 'EHOSTUNREACH', text: `host unreachable (${icmp})` };
    case 'time-exceeded':
      return { code: 'EHOSTUNREACH', text: `time to live exceeded in transit (${icmp})` };
    default:
      return { code: 'ENOPROTOOPT', text: `parameter problem (${icmp})` };
  }
}

export interface Endpoints {
  localAddr: IpAddr;
  localPort: number;
  remoteAddr: IpAddr;
  remotePort: number;
}

/** What a completed passive handshake hands to its new connection: the listener's half-open record. */
export interface Handshake {
  readonly iss: number;
  readonly irs: number;
  /** The options the peer's SYN offered. */
  readonly offer: SynOffer;
  /** The peer's timestamp on its SYN, or 0. */
  readonly tsRecent: number;
  readonly tsOffset: number;
  /** How often the SYN,ACK's timer sent it again (RFC 6298 §5.7: a timeout). */
  readonly retransmits: number;
  /** When the SYN,ACK the final ACK answers went out, if known, else -1: an RTT sample (RFC 6298 §3, Karn). */
  readonly timedSentAt: number;
}

const EMPTY = new Uint8Array(0);

/**
 * One connection's TCB and its per-state dispatch. The work is split by
 * concern, as gVisor splits its TCP endpoint: `handshake.ts` (opening and
 * SYN-SENT), `rcv.ts` (receive side and window), `snd.ts` (send side, ACK
 * processing), `timer.ts` (timers). Those modules read and write the fields
 * below directly; they are not part of the public API.
 */
export class Connection extends Tcb implements Endpoints {
  #state: State = State.Closed;

  /**
   * The RFC 9293 state. A connection the host swapped for a TIME-WAIT record
   * reads it from the record's fate: CLOSED once TIME-WAIT ended.
   */
  get state(): State {
    // 27 bytes of bytecode: V8 inlines a function that small whatever is left
    // of its inlining budget (State.TimeWait would cost 7 bytes more). It is
    // read everywhere, and a call each time cost more than the read.
    const s = this.#state;
    return s !== 'TIME-WAIT' ? s : this.fateState();
  }

  /** TIME-WAIT, or what the host's record made of it (see `state`). */
  private fateState(): State {
    const fate = this.timeWaitFate;
    return fate === null ? State.TimeWait : fate.state;
  }

  set state(v: State) {
    this.#state = v;
  }
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;

  // The sequence variables (RFC 9293 §3.3.1), flags and rarely used fields are in Tcb (tcb.ts).
  sndWnd = 0;
  maxSndWnd = 0;

  sndMss = 536;
  sndWndScale = 0;
  rcvWndScale = 0;

  // Congestion control (cc.ts), initial window per RFC 6928, and loss recovery (recovery.ts).
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;
  /** As Linux's tcpi_ca_state: 0 open, 1 disorder (SACKs or duplicate ACKs seen), 3 recovery, 4 loss (after an RTO). */
  caState = 0;
  /** @internal The segments in flight; null when nothing is. */
  sent: SentQueue | null = null;
  /** @internal What loss recovery remembers, made at the first sign of loss. */
  rec: Recovery | null = null;
  /** @internal */ maxFlight = 0;
  /** @internal HyStart's state during the first slow start (cc.ts). */
  hs: HyStart | null = null;
  /** @internal When data last went out (ms; -1: never), for the restart after idle. */
  lastSentAt = -1;
  /** @internal */ lossTimer = 0;

  /** @internal When the segment being timed left; in SYN-SENT, when the first SYN did. */
  rttStart = 0;
  synRetransmits = 0;
  /** Retransmissions of the oldest unacknowledged data in a row (the RTO's count, R1/R2). */
  retransmits = 0;

  /** Earliest of the timers, packed (deadline.ts); the host's queue sorts on it. */
  deadline = NO_DEADLINE;
  /** Owned by the host's timer queue: where this connection's entry sits. */
  heapIndex = -1;

  /** @internal */ sendBuf: SendBuffer | null = null;
  /** @internal */ recvChunks: Uint8Array[] | null = null;
  recvQueued = 0;
  /** @internal */ ooo: Reassembly | null = null;
  /** @internal This connection's receive and send buffers (the configured sizes, rounded by some profiles). */
  rcvBuf: number;
  /** @internal */
  sndBuf: number;
  /** @internal Receive-buffer autotuning (rcv.ts): when this round trip's count began, and what the application read in it. */
  tune: { at: number; copied: number } | null = null;
  /** @internal The most window we offer (Linux's rcv_ssthresh); grows with data received. NO_CLAMP: none. */
  rcvClamp = NO_CLAMP;
  /** @internal The length of the oldest unread segment (Linux's window accounting). */
  rcvFirstLen = 0;
  /** @internal Bytes received in order and not yet acknowledged. */
  rcvUnacked = 0;
  /** @internal Largest segment received (RFC 1122 §4.2.3.2's "full-sized"), as Linux's rcv_mss. */
  rcvMss: number;
  /** @internal Segments still acknowledged at once (quick-ack mode at the start). */
  quickAcks: number;
  /** @internal The adaptive ACK delay (ms) and when in-order data last arrived. */
  ato = 0;
  lastDataAt = 0;
  error: TcpError | null = null;
  /** The application-side object (socket or listener) this connection belongs to. */
  owner: unknown = null;

  constructor(
    readonly host: ConnectionHost,
    cfg: TcpConfig,
    readonly id: number,
    ends: Endpoints,
  ) {
    super(cfg);
    this.localAddr = ends.localAddr;
    this.localPort = ends.localPort;
    this.remoteAddr = ends.remoteAddr;
    this.remotePort = ends.remotePort;
    this.noDelay = cfg.noDelay;
    this.keepAlive = cfg.keepAlive;
    this.rcvMss = Math.min(cfg.mss, 536);
    this.rcvBuf = cfg.rcvBuf;
    this.sndBuf = cfg.sndBuf;
    if (cfg.profile.growWindow)
      this.rcvClamp = cfg.profile.synWindow(
        cfg.timestamps,
        false,
        cfg,
        ends.localAddr.length === 16,
      );
    this.quickAcks = cfg.quickAcks;
  }

  // ---- OPEN (RFC 9293 §3.10.1; handshake.ts) ------------------------------

  /** Active OPEN: CLOSED → SYN-SENT, sending SYN with ISS. */
  openActive(
    iss: number,
    tsOffset: number,
    now: number,
    synData?: Uint8Array,
    fastOpen?: Uint8Array,
  ): void {
    openActive(this, iss, tsOffset, now, synData, fastOpen);
  }

  /** Passive OPEN completed by a listener (`peerWindow`: of the completing ACK): the connection starts ESTABLISHED. */
  openFromHandshake(h: Handshake, peerWindow: number, now: number): void {
    openFromHandshake(this, h, peerWindow, now);
  }

  /** A passive open with a valid Fast Open cookie (RFC 7413 §4.2.2). */
  openFastOpen(h: Handshake, peerWindow: number, syn: Segment, now: number): void {
    openFastOpen(this, h, peerWindow, syn, now);
  }

  /** NOT TCP (the simulator's two-way listener): take the SYN's data now and answer SYN,ACK. */
  acceptTwoWaySyn(seg: Segment, now: number): void {
    acceptTwoWaySyn(this, seg, now);
  }

  // ---- SEND, RECEIVE, CLOSE, ABORT (RFC 9293 §3.10.2–§3.10.5) -------------

  /** Queues bytes for sending; returns how many were taken (fewer when the send buffer is full). */
  send(data: Uint8Array, now: number): number {
    return send(this, data, now);
  }

  /** Queues urgent data (SEND with URGENT, RFC 9293 §3.8.5): the urgent pointer marks its end. */
  sendUrgent(data: Uint8Array, now: number): number {
    return sendUrgent(this, data, now);
  }

  /** Urgent bytes not yet read (MUST-33). */
  get urgentPending(): number {
    return urgentPending(this);
  }

  /** Bytes the send buffer still accepts. */
  get sendSpace(): number {
    return this.sndBuf - (this.sendBuf ? this.sendBuf.length : 0);
  }

  /** Bytes written but not yet acknowledged (or not yet sent). */
  get sendQueued(): number {
    return this.sendBuf ? this.sendBuf.length : 0;
  }

  /** Takes up to `max` bytes of in-order data; null when none is queued. */
  read(max: number, now: number): Uint8Array | null {
    return read(this, max, now);
  }

  /**
   * CLOSE: no more data from this side; a FIN follows what was written. With
   * `reading` false the application will not read either (a full close, not a
   * half-close): unread data, or data arriving later, is lost, and the peer is
   * told with RST (RFC 9293 §3.10.4, RFC 2525 §2.17) instead of a FIN.
   */
  close(now: number, reading = true): void {
    if (!reading) {
      this.readClosed = true;
      if (this.recvQueued > 0 && this.state !== State.Closed && this.state !== State.TimeWait) {
        this.host.count(COUNTER['resets-unread-data']);
        this.abort(now);
        return;
      }
      // Left to finish on its own (an orphan), as the host allows: past its
      // bound (Linux's tcp_max_orphans) the connection ends with RST now.
      const s = this.state;
      if (
        !this.orphan &&
        s !== State.Closed &&
        s !== State.SynSent &&
        s !== State.TimeWait &&
        this.host.orphaned?.(this) === false
      ) {
        this.host.count(COUNTER['orphan-overflows']);
        this.abort(now);
        return;
      }
    }
    switch (this.state) {
      case State.SynSent:
        this.release(now, undefined);
        return;
      case State.SynReceived:
      case State.Established:
        this.finQueued = true;
        if (this.state === State.Established) {
          this.setState(State.FinWait1, now);
          this.sendSoon(now);
        }
        return;
      case State.CloseWait:
        this.finQueued = true;
        this.setState(State.LastAck, now);
        this.sendSoon(now);
        return;
      case State.FinWait2:
        // end() earlier, now close(): from here the peer's FIN is waited for a while only.
        if (!reading) finWait2Orphaned(this, now);
        return;
      default:
        return;
    }
  }

  /** ABORT: RST to the peer when synchronized, then CLOSED. */
  /** `error` is what the application is told, if anything (a local abort tells it nothing). */
  abort(now: number, error?: TcpError): void {
    if (this.state === State.Closed) return;
    if (
      this.state === State.SynReceived ||
      (this.synchronized() && this.state !== State.TimeWait)
    ) {
      sendAbortReset(this, now);
    }
    this.release(now, error);
  }

  /** Turns keep-alive on or off (as setsockopt SO_KEEPALIVE); `idle` overrides the configured idle time. */
  setKeepAlive(on: boolean, now: number, idle?: number): void {
    setKeepAlive(this, on, now, idle);
  }

  // ---- SEGMENT ARRIVES (RFC 9293 §3.10.7) ---------------------------------

  onSegment(seg: Segment, now: number): void {
    if (this.keepAlive) this.keepAliveProbes = 0;
    switch (this.state) {
      case State.Closed:
      case State.Listen:
        this.host.drop(this, seg, 'no-connection', now);
        return;
      case State.SynSent:
        arriveSynSent(this, seg, now);
        break;
      default:
        this.arriveSynchronized(seg, now);
    }
    if ((this.state as State) === State.Closed) return;
    if (!output(this, now) && this.ackNeeded) {
      // MUST-58/59: the ACK waits until the host has processed every segment
      // it holds now, so a burst is acknowledged once.
      this.ackDue = true;
      if (this.host.ackLater) this.host.ackLater(this);
      else this.flushAck(now);
    }
    this.ackNeeded = false;
    if (this.keepAlive) armKeepAlive(this, now, this.cfg.keepAliveIdle);
  }

  /** @internal The host's deferred flush (`outputLater`): send what the application queued (nothing once closed: output checks the state). */
  flushOutput(now: number): void {
    output(this, now);
  }

  /** @internal What the application queued goes now, or when the host flushes (`outputLater`). */
  sendSoon(now: number): void {
    if (this.host.outputLater) this.host.outputLater(this);
    else output(this, now);
  }

  /** @internal Sends the ACK this connection owes, unless a segment since carried it. */
  flushAck(now: number): void {
    if (!this.ackDue || this.state === State.Closed) return;
    this.ackDue = false;
    sendAck(this, now, 'ack');
  }

  /**
   * RFC 6191 and RFC 1122 §4.2.2.13: may this SYN reopen the 4-tuple held in
   * TIME-WAIT? Only a plain SYN, and only if it cannot belong to the old
   * connection: a timestamp newer than TS.Recent when the old connection used
   * timestamps and the SYN carries one, else a sequence number above RCV.NXT.
   * Linux (profile.timeWaitSynSeqOrTs) takes either, unless PAWS rejects the
   * SYN's timestamp as older.
   */
  timeWaitAcceptsSyn(seg: Segment): boolean {
    if (this.state !== State.TimeWait) return false;
    if ((seg.flags & (SYN | ACK | RST | FIN)) !== SYN) return false;
    const above = seqGt(seg.seq, this.rcvNxt);
    if (this.tsOk) {
      const ts = findTimestamp(seg);
      if (ts && ts.kind === 'ts') {
        if (!this.cfg.profile.timeWaitSynSeqOrTs) return seqGt(ts.val, this.tsRecent);
        if (seqLt(ts.val, this.tsRecent)) return false;
        return above || seqGt(ts.val, this.tsRecent);
      }
    }
    return above;
  }

  /**
   * @internal RFC 7323 §4.3: an acceptable segment's timestamp becomes
   * TS.Recent if it starts at or before RCV.NXT and is not older.
   */
  takeTsRecent(tsVal: number, seq: number): void {
    if (seqLe(seq, this.rcvNxt) && seqGe(tsVal, this.tsRecent)) this.tsRecent = tsVal;
  }

  /** RFC 9293 §3.10.7.4: the states from SYN-RECEIVED on, step by step. */
  private arriveSynchronized(seg: Segment, now: number): void {
    let f = seg.flags;
    let seq = seg.seq;
    let payload = seg.payload;

    // Simultaneous open: the peer's SYN,ACK in SYN-RECEIVED repeats the SYN we
    // already acknowledged; RFC 9293 Figure 8 accepts it (Linux does likewise).
    let repeatedSyn = false;
    if (
      this.state === State.SynReceived &&
      (f & (SYN | ACK | RST)) === (SYN | ACK) &&
      seq === this.irs &&
      seg.ack === this.sndNxt
    ) {
      f &= ~SYN;
      seq = this.rcvNxt;
      repeatedSyn = true;
    }

    // RFC 7323 §5.3: PAWS, before the sequence check.
    let ts: Extract<TcpOption, { kind: 'ts' }> | undefined;
    if (this.tsOk) {
      ts = findTimestamp(seg) as typeof ts;
      // A pure ACK at RCV.NXT reordered behind a newer one is let through, as
      // Linux's tcp_disordered_ack does: it carries nothing PAWS protects.
      const pureAck = payload.length === 0 && (f & (SYN | FIN | RST)) === 0 && seq === this.rcvNxt;
      // Linux (profile.pawsWindow) lets through a timestamp up to one tick older.
      const win = this.cfg.profile.pawsWindow ?? 0;
      if (ts && !(f & RST) && !pureAck && seqLt(seqAdd(ts.val, win), this.tsRecent)) {
        if (!invalidAckLimited(this, seg, now)) sendAck(this, now, 'dup-ack');
        this.host.drop(this, seg, 'paws', now);
        return;
      }
    }

    // First: sequence number, against the window we advertised. An RST is
    // judged by its sequence number alone, so an exact one counts even when a
    // zero window would refuse its data (MUST-66).
    const wnd = rcvWindow(this);
    const len = payload.length + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
    const acceptable =
      f & RST
        ? seq === this.rcvNxt || seqInWindow(seq, this.rcvNxt, wnd)
        : segmentAcceptable(seq, len, this.rcvNxt, wnd);
    if (!acceptable) {
      if (f & RST) {
        this.host.drop(this, seg, 'rst-out-of-window', now);
      } else if (f & SYN) {
        // RFC 5961 §4: any SYN in a synchronized state gets a challenge ACK.
        challengeAck(this, now);
        this.host.drop(this, seg, 'syn-in-window', now);
      } else {
        // A retransmitted FIN in TIME-WAIT (our ACK was lost) restarts 2×MSL (RFC 9293 §3.10.7.4).
        if (this.state === State.TimeWait && f & FIN && seqAdd(seq, len) === this.rcvNxt)
          this.enterTimeWait(now);
        // At a zero window the data cannot be taken, but its ACK and urgent
        // pointer still count (RFC 9293 §3.10.7.4, MUST-66).
        if (wnd === 0 && seq === this.rcvNxt && f & ACK && this.synchronized()) {
          if (processAck(this, seg, seq, now)) processUrgent(this, seg, seq, now);
          if ((this.state as State) === State.Closed) return;
        }
        // Data wholly below RCV.NXT is a duplicate: D-SACK names it (RFC 2883).
        const dup: [number, number] | undefined =
          len > 0 && seqLe(seqAdd(seq, len), this.rcvNxt) ? [seq, seqAdd(seq, len)] : undefined;
        if (!invalidAckLimited(this, seg, now)) sendAck(this, now, 'dup-ack', dup);
        this.host.drop(this, seg, 'out-of-window', now);
      }
      return;
    }
    if (ts) this.takeTsRecent(ts.val, seq);

    // Second: RST (RFC 5961 §3.2: only an exact match resets).
    if (f & RST) {
      if (seq !== this.rcvNxt) {
        challengeAck(this, now);
        this.host.drop(this, seg, 'rst-not-exact', now);
        return;
      }
      this.host.count(COUNTER['resets-received']);
      switch (this.state) {
        case State.SynReceived:
          // RFC 9293: refused if we opened actively; Linux's tcp_reset says reset.
          this.release(
            now,
            this.passive || this.cfg.profile.linuxQuirks
              ? ConnectionReset.quiet()
              : ConnectionRefused.quiet(),
          );
          return;
        case State.Established:
        case State.FinWait1:
        case State.FinWait2:
        case State.CloseWait:
          this.release(now, ConnectionReset.quiet());
          return;
        case State.TimeWait:
          // RFC 1337's hazard: a reset must not cut TIME-WAIT short. FreeBSD
          // (tcp_twcheck) drops it; RFC 9293 and Linux close.
          if (this.cfg.profile.timeWaitIgnoresRst) {
            this.host.drop(this, seg, 'rst-in-time-wait', now);
            return;
          }
          this.release(now, undefined);
          return;
        default:
          this.release(now, undefined);
          return;
      }
    }

    // Fourth: SYN (RFC 5961 §4 / RFC 9293 §3.10.7.4).
    if (f & SYN) {
      challengeAck(this, now);
      this.host.drop(this, seg, 'syn-in-window', now);
      return;
    }

    // Fifth: ACK.
    if (!(f & ACK)) {
      this.host.drop(this, seg, 'no-ack', now);
      return;
    }
    if (this.state === State.SynReceived) {
      if (seqLe(seg.ack, this.sndUna) || seqGt(seg.ack, this.sndMax)) {
        sendReset(this, seg, now);
        this.host.drop(this, seg, 'unacceptable-ack', now);
        return;
      }
      this.sndWnd = seg.window << this.sndWndScale;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      this.sndUna = seqAdd(this.iss, 1);
      stopRexmit(this, now);
      enterEstablished(this, now);
      // Linux takes the repeated SYN as a duplicate and says so at once (D-SACK).
      if (repeatedSyn && this.cfg.profile.dsack)
        sendAck(this, now, 'dup-ack', [this.irs, seqAdd(this.irs, 1)]);
    }
    if (!processAck(this, seg, seq, now)) return;

    if (this.state === State.FinWait1 && this.finAcked()) {
      this.setState(State.FinWait2, now);
      // The application has closed: the peer's FIN is waited for a while only.
      if (this.readClosed && !finWait2Orphaned(this, now, seg)) return;
    } else if (this.state === State.Closing && this.finAcked()) this.enterTimeWait(now);
    else if (this.state === State.LastAck && this.finAcked()) {
      this.release(now, undefined);
      return;
    }

    // Sixth: URG (urgent data stays inline, RFC 6093). Seventh and eighth: text, FIN.
    if (f & URG) processUrgent(this, seg, seq, now);
    // Trim what lies before RCV.NXT (already received).
    const before = seqDiff(this.rcvNxt, seq);
    let fin = (f & FIN) !== 0;
    if (before > 0) {
      // Linux reports the part already received (tcp_dsack_set on a partial duplicate).
      if (this.cfg.profile.dsack && this.sackOk && before < payload.length)
        this.dsackPending = [seq, this.rcvNxt];
      if (before >= payload.length) {
        if (before > payload.length) fin = false;
        payload = EMPTY;
      } else {
        payload = payload.subarray(before);
      }
      seq = this.rcvNxt;
    }
    processText(this, seq, payload, fin, seg, now);
  }

  // ---- ICMP (RFC 9293 §3.9.2.2, RFC 5927, RFC 1191/8201) ------------------

  /**
   * An ICMP error quoting a segment of this connection (the host matched the
   * 4-tuple). Unless the quoted sequence number is in flight it is ignored, as
   * a blind attack would be (RFC 5927 §4.1); returns whether it was accepted.
   * Hard errors end an opening connection (SHLD-26); everything else is a soft
   * error, reported and survived (MUST-56, RFC 5461); packet-too-big lowers the
   * send MSS (path MTU discovery) and resends what was lost.
   */
  onIcmpError(
    kind: IcmpErrorKind,
    type: number,
    code: number,
    mtu: number,
    seq: number,
    now: number,
  ): boolean {
    const opening = this.state === State.SynSent || this.state === State.SynReceived;
    const inFlight =
      this.state === State.SynSent
        ? seq === this.iss
        : seqLe(this.sndUna, seq) && seqLt(seq, this.sndMax);
    if (!inFlight || this.state === State.Closed || this.state === State.TimeWait) return false;
    this.host.count(COUNTER['icmp-errors-received']);
    const v6 = this.localAddr.length === 16;
    if (kind === 'packet-too-big') {
      // A floor keeps a forged message from shrinking segments to nothing (Linux: min_pmtu 552).
      const floor = v6 ? 1280 : 552;
      const pmtu = Math.max(floor, mtu === 0 ? 576 : mtu);
      const mss = pmtu - (v6 ? 40 : 20) - 20 - (this.tsOk ? 12 : 0);
      if (mss < this.sndMss) {
        this.sndMss = mss;
        this.host.count(COUNTER['pmtu-reductions']);
        if (this.synchronized() && seqLt(this.sndUna, this.sndMax)) retransmitOne(this, now);
      }
      return true;
    }
    const what = icmpText(kind, type, code, v6);
    if (kind === 'unreachable-hard' && opening) {
      this.host.count(COUNTER['connections-timed-out']);
      this.release(now, softError(what.code, what.text));
      return true;
    }
    this.reportSoftError(softError(what.code, what.text), now);
    return true;
  }

  /** @internal A soft error: kept, and reported to the application (MUST-47, SHLD-25). */
  reportSoftError(error: TcpError, now: number): void {
    this.softError = error;
    this.host.count(COUNTER['soft-errors']);
    this.host.deliver(this, { type: 'soft-error', error }, now);
  }

  // ---- Timeouts (RFC 9293 §3.10.8; timer.ts) ------------------------------

  onTimer(now: number): void {
    onTimer(this, now);
  }

  // ---- Shared by the modules -------------------------------------------------

  /** @internal */
  synchronized(): boolean {
    const s = this.state;
    return (
      s !== State.Closed && s !== State.Listen && s !== State.SynSent && s !== State.SynReceived
    );
  }

  /** @internal */
  finAcked(): boolean {
    return this.finSent && seqGt(this.sndUna, this.finSeq);
  }

  /** @internal */
  enterTimeWait(now: number): void {
    stopRexmit(this, now);
    this.persistAt = Infinity;
    this.keepAliveAt = Infinity;
    if (this.state !== State.TimeWait) {
      this.setState(State.TimeWait, now);
      // The application is done with the connection: TIME-WAIT is the stack's own business.
      this.host.deliver(this, EV_CLOSED, now);
    }
    this.timeWaitAt = now + this.cfg.timeWait;
    this.timer('time-wait', 'armed', now, this.timeWaitAt);
    updateDeadline(this);
    this.host.timeWaitEntered?.(this);
  }

  /** @internal The timestamp clock of this connection (RFC 7323 §5.4: offset per connection). */
  tsClock(now: number): number {
    return tsClockAt(now, this.tsOffset);
  }

  /** @internal A segment of this connection with the current ACK and window. */
  mk(seq: number, flags: number, payload: Uint8Array, options: TcpOption[]): Segment {
    if (flags & ACK) {
      // Whatever ACK goes out acknowledges everything received so far.
      this.ackDue = false;
      this.rcvUnacked = 0;
      this.delAckAt = Infinity;
    }
    return {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: flags & ACK ? this.rcvNxt : 0,
      flags,
      window: flags & ACK || !(flags & RST) ? advertise(this) : 0,
      urgent: 0,
      options,
      payload,
    };
  }

  /** @internal */
  transmit(seg: Segment, why: SendReason, now: number): void {
    this.host.transmit(this, seg, why, now);
  }

  /** Receive window (see rcv.ts). */
  rcvWindow(): number {
    return rcvWindow(this);
  }

  /** @internal */
  timer(name: TimerName, action: 'armed' | 'fired' | 'stopped', now: number, at?: number): void {
    const t = this.host.tracer;
    if (t) traceTimer(this, t, name, action, now, at);
  }

  /**
   * Switches the congestion-control algorithm (as TCP_CONGESTION): the window
   * stays, the new algorithm starts from it with fresh state.
   */
  setCongestion(algo: CongestionName, now: number): void {
    if (!CONGESTION_NAMES.includes(algo)) {
      throw new RangeError(
        `congestion control must be one of ${CONGESTION_NAMES.map((n) => JSON.stringify(n)).join(', ')}, got ${JSON.stringify(algo)}`,
      );
    }
    this.congestion = algo;
    if (this.rec !== null) this.rec.cc = newCcState();
    this.cc('cwnd', now);
  }

  /** @internal */
  recovery(): Recovery {
    if (this.rec === null) {
      this.rec = new Recovery();
      // Sequence numbers compare only near each other: start from what is acknowledged.
      this.rec.fack = this.sndUna;
      this.rec.rackEnd = this.sndUna;
      this.rec.recoverySeq = this.sndUna;
    }
    return this.rec;
  }

  /** @internal */
  ccState(): CcState {
    return this.recovery().cc;
  }

  /** @internal A loss-recovery decision or a window change, for the trace. */
  cc(event: CcEvent, now: number, seq?: number, end?: number): void {
    const t = this.host.tracer;
    if (t) traceCc(this, t, event, now, seq, end);
  }

  /** @internal */
  setState(to: State, now: number, why?: string): void {
    const from = this.state;
    this.state = to;
    const t = this.host.tracer;
    if (t) traceState(t, this.host.name, this.id, from, to, now, why);
  }

  /** @internal CLOSED: timers off, buffers gone, the host forgets the connection. */
  release(now: number, error: TcpError | undefined, why?: string): void {
    this.rexmitAt = Infinity;
    this.persistAt = Infinity;
    this.timeWaitAt = Infinity;
    this.keepAliveAt = Infinity;
    this.delAckAt = Infinity;
    this.lossAt = Infinity;
    this.lossTimer = 0;
    this.deadline = NO_DEADLINE;
    this.ackDue = false;
    this.sendBuf = null;
    this.sent = null;
    this.ooo = null;
    if (error) this.error = error;
    this.setState(State.Closed, now, why ?? error?.code);
    // The connection the application (or a script) holds reads CLOSED too.
    const fate = this.timeWaitFate;
    if (fate !== null) fate.state = State.Closed;
    this.host.released(this);
    this.host.deliver(this, error === undefined ? EV_CLOSED : { type: 'closed', error }, now);
  }
}

// The trace's records are built here, apart from the methods that emit them:
// those run on every segment, V8 inlines a method whole (the record's literal
// too) into its callers, and each caller has a budget of what it will inline.

function traceCc(
  c: Connection,
  t: Tracer,
  event: CcEvent,
  now: number,
  seq: number | undefined,
  end: number | undefined,
): void {
  t.emit({
    type: 'cc',
    t: now,
    host: c.host.name,
    conn: c.id,
    event,
    cwnd: c.cwnd,
    mss: c.sndMss,
    ssthresh: c.ssthresh,
    pipe: pipe(c),
    ...(seq === undefined ? {} : { seq, end }),
  });
}

/** A state change (the listener's half-open records report theirs with it too). */
export function traceState(
  t: Tracer,
  host: string,
  conn: number,
  from: State,
  to: State,
  now: number,
  why: string | undefined,
): void {
  t.emit({ type: 'state', t: now, host, conn, from, to, why });
}

function traceTimer(
  c: Connection,
  t: Tracer,
  timer: TimerName,
  action: 'armed' | 'fired' | 'stopped',
  now: number,
  at: number | undefined,
): void {
  t.emit({ type: 'timer', t: now, host: c.host.name, conn: c.id, timer, action, at });
}
