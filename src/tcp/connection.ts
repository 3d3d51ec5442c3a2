// One TCP connection: the TCB and its state machine, following the event
// processing of RFC 9293 §3.10 with RFC 5961's defences, RFC 7323 options,
// RFC 6298 timers and RFC 5681 congestion control. Sans-IO: every entry point
// takes `now` (ms); output goes to the host; the next deadline is a field the
// host's single timer queue reads.

import type { IpAddr } from '../wire/addr.ts';
import { ACK, FIN, PSH, RST, type Segment, SYN, type TcpOption } from '../wire/tcp.ts';
import { Reassembly, SendBuffer } from './buffers.ts';
import { ConnectionRefused, ConnectionReset, ConnectionTimedOut, type TcpError } from './errors.ts';
import {
  findTimestamp,
  type Negotiated,
  negotiate,
  readSynOffer,
  synOptions,
  synWindow,
} from './options.ts';
import { resetFor } from './reset.ts';
import { RtoEstimator } from './rto.ts';
import { segmentAcceptable, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.ts';
import {
  type DropReason,
  type SendReason,
  State,
  type TcpConfig,
  type TimerName,
  type Tracer,
} from './types.ts';

/** What a connection tells its application. */
export type ConnEvent =
  | { type: 'established' }
  | { type: 'readable' }
  | { type: 'end' }
  | { type: 'writable' }
  | { type: 'closed'; error?: TcpError };

/** Counters a connection bumps on its host. */
export type Counter =
  | 'segments-in'
  | 'segments-out'
  | 'retransmits'
  | 'resets-sent'
  | 'resets-received'
  | 'challenge-acks-sent'
  | 'challenge-acks-suppressed'
  | 'active-opens'
  | 'passive-opens'
  | 'syns-received'
  | 'syn-acks-sent'
  | 'syn-data-ignored'
  | 'cookies-sent'
  | 'cookies-accepted'
  | 'cookies-rejected'
  | 'fastopen-cookies-sent'
  | 'fastopen-accepted'
  | 'fastopen-rejected'
  | 'syn-queue-overflows'
  | 'resets-suppressed'
  | 'connections-timed-out'
  | 'zero-window-probes'
  | 'keepalive-probes'
  | 'fast-retransmits';

/** What the engine needs from the host it lives in. */
export interface ConnectionHost {
  readonly name: string;
  readonly tracer: Tracer | null;
  transmit(conn: Connection, seg: Segment, why: SendReason, now: number): void;
  deliver(conn: Connection, ev: ConnEvent, now: number): void;
  drop(conn: Connection, seg: Segment, reason: DropReason, now: number): void;
  count(c: Counter): void;
  /** RFC 5961 §7: challenge ACKs are rate limited across the host. */
  challengeAckAllowed(now: number): boolean;
  /** `conn.deadline` may have moved earlier. */
  timerChanged(conn: Connection): void;
  /** The connection reached CLOSED and may be forgotten. */
  released(conn: Connection): void;
  /** A Fast Open cookie arrived from `conn`'s peer (RFC 7413 §4.1.3: the client caches it). */
  fastOpenCookie?(conn: Connection, cookie: Uint8Array): void;
}

export interface Endpoints {
  localAddr: IpAddr;
  localPort: number;
  remoteAddr: IpAddr;
  remotePort: number;
}

/** What a completed passive handshake hands to its new connection. */
export interface HandshakeResult {
  iss: number;
  irs: number;
  negotiated: Negotiated;
  peerWindow: number;
  tsRecent: number;
  tsOffset: number;
  synRetransmitted: boolean;
}

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: TcpOption[] = [];
const DUPACK_THRESHOLD = 3; // RFC 5681 §3.2
const MAX_PERSIST = 60_000;

function synchronized(s: State): boolean {
  return s !== State.Closed && s !== State.Listen && s !== State.SynSent && s !== State.SynReceived;
}

export class Connection implements Endpoints {
  state: State = State.Closed;
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;
  /** Entered SYN-RECEIVED from LISTEN (a passive open), not from SYN-SENT. */
  passive = false;

  // Send sequence variables (RFC 9293 §3.3.1); sndMax is the highest sent, kept across go-back-N.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  /** End of the last short segment sent (Nagle/Minshall). */
  private sndSmall = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  // Receive sequence variables; rcvAdv is the right edge we have advertised.
  irs = 0;
  rcvNxt = 0;
  rcvAdv = 0;

  sndMss = 536;
  sndWndScale = 0;
  rcvWndScale = 0;
  sackOk = false;
  tsOk = false;
  tsRecent = 0;
  tsOffset = 0;
  noDelay: boolean;

  // Congestion control (RFC 5681), initial window per RFC 6928.
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;

  readonly rto: RtoEstimator;
  private rttTiming = false;
  private rttSeq = 0;
  private rttStart = 0;
  synRetransmits = 0;
  retransmits = 0;
  private persistBackoff = 0;

  /** Earliest of the timers below; the host's queue sorts on it. */
  deadline = Number.POSITIVE_INFINITY;
  /** Owned by the host's timer queue: when this connection's entry is due. */
  heapAt = Number.POSITIVE_INFINITY;
  rexmitAt = Number.POSITIVE_INFINITY;
  persistAt = Number.POSITIVE_INFINITY;
  timeWaitAt = Number.POSITIVE_INFINITY;
  keepAliveAt = Number.POSITIVE_INFINITY;
  private keepAliveProbes = 0;
  keepAlive: boolean;

  private sendBuf: SendBuffer | null = null;
  private recvChunks: Uint8Array[] | null = null;
  recvQueued = 0;
  private ooo: Reassembly | null = null;
  private synData: Uint8Array | null = null;
  /** The application closed its sending side; a FIN follows the data. */
  finQueued = false;
  private finSent = false;
  private finSeq = 0;
  /** A FIN from the peer was accepted in order. */
  finReceived = false;
  private writeBlocked = false;
  private ackNeeded = false;
  error: TcpError | null = null;
  /** The application-side object (socket or listener) this connection belongs to. */
  owner: unknown = null;

  constructor(
    private readonly host: ConnectionHost,
    readonly cfg: TcpConfig,
    readonly id: number,
    ends: Endpoints,
  ) {
    this.localAddr = ends.localAddr;
    this.localPort = ends.localPort;
    this.remoteAddr = ends.remoteAddr;
    this.remotePort = ends.remotePort;
    this.noDelay = cfg.noDelay;
    this.keepAlive = cfg.keepAlive;
    this.keepAliveIdleMs = cfg.keepAliveIdle;
    this.rto = new RtoEstimator(cfg.initialRto, cfg.minRto, cfg.maxRto);
  }

  // ---- OPEN (RFC 9293 §3.10.1) -------------------------------------------

  /** Active OPEN: CLOSED → SYN-SENT, sending SYN with ISS. */
  /** Fast Open on our SYN: `cookie` empty to request one (RFC 7413 §4.1.1). */
  private fastOpen: Uint8Array | null = null;

  openActive(
    iss: number,
    tsOffset: number,
    now: number,
    synData?: Uint8Array,
    fastOpen?: Uint8Array,
  ): void {
    if (fastOpen) this.fastOpen = fastOpen;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndSmall = this.sndNxt;
    this.tsOffset = tsOffset;
    if (synData && synData.length > 0) {
      // Data on the SYN (RFC 9293 allows it; without Fast Open a server must not
      // deliver it early, and acknowledges only the SYN: we then send it again).
      this.sendBuf = new SendBuffer();
      this.sendBuf.push(synData.subarray(0, Math.min(synData.length, 536)));
      this.synDataLen = this.sendBuf.length;
      this.sndNxt = seqAdd(this.sndNxt, this.synDataLen);
    }
    this.sndMax = this.sndNxt;
    this.host.count('active-opens');
    this.setState(State.SynSent, now);
    this.sendSyn(now, 'syn');
    this.armRexmit(now, this.rto.rto);
  }

  /** Bytes of data carried by our SYN (0 normally). */
  private synDataLen = 0;

  /** Passive OPEN completed by a listener: the connection starts ESTABLISHED. */
  openFromHandshake(h: HandshakeResult, now: number): void {
    this.passive = true;
    this.iss = h.iss;
    this.irs = h.irs;
    this.sndUna = seqAdd(h.iss, 1);
    this.sndNxt = this.sndUna;
    this.sndMax = this.sndUna;
    this.sndSmall = this.sndUna;
    this.rcvNxt = seqAdd(h.irs, 1);
    this.applyNegotiated(h.negotiated);
    this.tsRecent = h.tsRecent;
    this.tsOffset = h.tsOffset;
    this.rcvAdv = seqAdd(this.rcvNxt, synWindow(this.cfg, this.tsOk));
    this.sndWnd = h.peerWindow << this.sndWndScale;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = this.rcvNxt;
    this.sndWl2 = this.sndUna;
    if (h.synRetransmitted) this.rto.resetAfterSynTimeout();
    this.host.count('passive-opens');
    this.state = State.SynReceived; // the listener's half-open record already reported LISTEN → SYN-RECEIVED
    this.enterEstablished(now);
  }

  private applyNegotiated(n: Negotiated): void {
    this.sndMss = n.sndMss;
    this.sndWndScale = n.sndWndScale;
    this.rcvWndScale = n.rcvWndScale;
    this.sackOk = n.sackOk;
    this.tsOk = n.tsOk;
    this.cwnd = Math.min(10 * n.sndMss, Math.max(2 * n.sndMss, 14600));
  }

  /**
   * A passive open with Fast Open (RFC 7413 §4.2.2): the SYN carried a valid
   * cookie, so the connection exists at once in SYN-RECEIVED, its data goes to
   * the application now, and the SYN,ACK acknowledges that data.
   */
  openFastOpen(h: HandshakeResult, syn: Segment, now: number): void {
    this.passive = true;
    this.iss = h.iss;
    this.irs = h.irs;
    this.sndUna = h.iss;
    this.sndNxt = seqAdd(h.iss, 1);
    this.sndMax = this.sndNxt;
    this.sndSmall = this.sndNxt;
    this.rcvNxt = seqAdd(h.irs, 1);
    this.applyNegotiated(h.negotiated);
    this.tsRecent = h.tsRecent;
    this.tsOffset = h.tsOffset;
    this.sndWnd = h.peerWindow;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = h.irs;
    this.sndWl2 = h.iss;
    this.host.count('passive-opens');
    this.state = State.Listen;
    this.setState(State.SynReceived, now, 'Fast Open');
    if (syn.payload.length > 0) {
      this.enqueue(syn.payload);
      this.rcvNxt = seqAdd(this.rcvNxt, syn.payload.length);
      this.host.deliver(this, { type: 'readable' }, now);
    }
    this.host.deliver(this, { type: 'established' }, now);
    this.fastOpened = true;
    this.sendSyn(now, 'syn-ack');
    this.armRexmit(now, this.rto.rto);
  }

  /** Opened by Fast Open: the application already has the connection. */
  private fastOpened = false;

  /** NOT TCP (the simulator's two-way listener): take the SYN's data now and answer SYN,ACK. */
  acceptTwoWaySyn(seg: Segment, now: number): void {
    if (seg.payload.length > 0) {
      this.enqueue(seg.payload);
      this.rcvNxt = seqAdd(this.rcvNxt, seg.payload.length);
      this.host.deliver(this, { type: 'readable' }, now);
    }
    const saved = this.state;
    this.state = State.SynReceived;
    this.sendSyn(now, 'syn-ack');
    this.state = saved;
  }

  // ---- SEND, RECEIVE, CLOSE, ABORT (RFC 9293 §3.10.2–§3.10.5) -------------

  /** Queues bytes for sending; returns how many were taken (fewer when the send buffer is full). */
  send(data: Uint8Array, now: number): number {
    if (this.finQueued || this.state === State.Closed) return -1;
    this.sendBuf ??= new SendBuffer();
    const room = this.cfg.sndBuf - this.sendBuf.length;
    const n = Math.min(room, data.length);
    if (n < data.length) this.writeBlocked = true;
    if (n <= 0) return 0;
    this.sendBuf.push(n === data.length ? data : data.subarray(0, n));
    if (synchronized(this.state)) this.output(now);
    return n;
  }

  /** Bytes the send buffer still accepts. */
  get sendSpace(): number {
    return this.cfg.sndBuf - (this.sendBuf ? this.sendBuf.length : 0);
  }

  /** Bytes written but not yet acknowledged (or not yet sent). */
  get sendQueued(): number {
    return this.sendBuf ? this.sendBuf.length : 0;
  }

  /** Takes up to `max` bytes of in-order data; null when none is queued. */
  read(max: number, now: number): Uint8Array | null {
    const q = this.recvChunks;
    if (!q || q.length === 0) return null;
    let out: Uint8Array;
    const first = q[0];
    if (first.length <= max && (q.length === 1 || first.length === max)) {
      out = q.shift()!;
    } else if (first.length > max) {
      out = first.subarray(0, max);
      q[0] = first.subarray(max);
    } else {
      let n = 0;
      for (const c of q) n += c.length;
      out = new Uint8Array(Math.min(n, max));
      let k = 0;
      while (k < out.length) {
        const c = q[0];
        const take = Math.min(c.length, out.length - k);
        out.set(c.subarray(0, take), k);
        k += take;
        if (take === c.length) q.shift();
        else q[0] = c.subarray(take);
      }
    }
    const before = this.rcvWindow();
    this.recvQueued -= out.length;
    if (q.length === 0) this.recvChunks = null;
    this.maybeWindowUpdate(before, now);
    return out;
  }

  /** CLOSE: no more data from this side; a FIN follows what was written. */
  close(now: number): void {
    switch (this.state) {
      case State.SynSent:
        this.release(now, undefined);
        return;
      case State.SynReceived:
      case State.Established:
        this.finQueued = true;
        if (this.state === State.Established) {
          this.setState(State.FinWait1, now);
          this.output(now);
        }
        return;
      case State.CloseWait:
        this.finQueued = true;
        this.setState(State.LastAck, now);
        this.output(now);
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
      (synchronized(this.state) && this.state !== State.TimeWait)
    ) {
      this.transmit(this.mk(this.sndNxt, RST | ACK, EMPTY, NO_OPTIONS), 'reset', now);
      this.host.count('resets-sent');
    }
    this.release(now, error);
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
        this.arriveSynSent(seg, now);
        break;
      default:
        this.arriveSynchronized(seg, now);
    }
    if ((this.state as State) === State.Closed) return;
    if (!this.output(now) && this.ackNeeded) this.sendAck(now, 'ack');
    this.ackNeeded = false;
    if (this.keepAlive) this.armKeepAlive(now, this.cfg.keepAliveIdle);
  }

  /** Turns keep-alive on or off (as setsockopt SO_KEEPALIVE); `idle` overrides the configured idle time. */
  setKeepAlive(on: boolean, now: number, idle?: number): void {
    this.keepAlive = on;
    if (idle !== undefined && idle > 0) this.keepAliveIdleMs = idle;
    this.keepAliveProbes = 0;
    if (on && synchronized(this.state)) this.armKeepAlive(now, this.keepAliveIdleMs);
    else if (!on) {
      this.keepAliveAt = Number.POSITIVE_INFINITY;
      this.updateDeadline();
    }
  }

  private keepAliveIdleMs: number;

  private armKeepAlive(now: number, after: number): void {
    if (!synchronized(this.state) || this.state === State.TimeWait) return;
    this.keepAliveAt = now + (after === this.cfg.keepAliveIdle ? this.keepAliveIdleMs : after);
    this.updateDeadline();
  }

  /** RFC 1122 §4.2.3.6: after an idle period, probe with an old sequence number; no answer at all means the peer is gone. */
  private onKeepAlive(now: number): void {
    if (!synchronized(this.state) || this.state === State.TimeWait) return;
    if (seqLt(this.sndUna, this.sndMax) || this.persistAt !== Number.POSITIVE_INFINITY) {
      // Data in flight: the retransmission (or persist) timer watches the peer.
      this.armKeepAlive(now, this.keepAliveIdleMs);
      return;
    }
    if (this.keepAliveProbes >= this.cfg.keepAliveProbes) {
      this.host.count('connections-timed-out');
      this.release(now, ConnectionTimedOut.quiet());
      return;
    }
    this.keepAliveProbes++;
    this.host.count('keepalive-probes');
    this.transmit(
      this.mk(seqAdd(this.sndUna, -1), ACK, EMPTY, this.ackOptions(now)),
      'keepalive',
      now,
    );
    this.armKeepAlive(now, this.cfg.keepAliveInterval);
  }

  private arriveSynSent(seg: Segment, now: number): void {
    const f = seg.flags;
    // RFC 9293 §3.10.7.3 first: an ACK must acknowledge our SYN.
    const hasAck = (f & ACK) !== 0;
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt))) {
      if (!(f & RST)) this.sendReset(seg, now);
      this.host.drop(this, seg, 'unacceptable-ack', now);
      return;
    }
    if (f & RST) {
      // RFC 5961 §3.2 keeps 9293's rule here: only an RST acknowledging our SYN refuses.
      if (hasAck) {
        this.host.count('resets-received');
        this.release(now, ConnectionRefused.quiet());
      } else {
        this.host.drop(this, seg, 'rst-unacceptable-ack', now);
      }
      return;
    }
    if (!(f & SYN)) {
      this.host.drop(this, seg, 'no-syn', now);
      return;
    }
    const offer = readSynOffer(seg);
    if (offer.fo && offer.fo.length > 0 && this.fastOpen)
      this.host.fastOpenCookie?.(this, offer.fo);
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.applyNegotiated(negotiate(this.cfg, offer, this.localAddr.length === 16));
    if (offer.tsVal !== undefined) this.tsRecent = offer.tsVal;
    this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    if (hasAck) {
      this.sndUna = seqAdd(this.iss, 1);
      if (this.synDataLen > 0) {
        // Whatever of the SYN's data the peer acknowledged is done; the rest goes again.
        const acked = Math.min(this.synDataLen, seqDiff(seg.ack, this.sndUna));
        this.sendBuf!.drop(acked);
        this.sndUna = seg.ack;
        this.sndNxt = this.sndUna;
        this.synDataLen = 0;
      }
      this.sampleRtt(seg.ack, now);
      this.stopRexmit(now);
      if (this.synRetransmits > 0) this.rto.resetAfterSynTimeout();
      this.rcvAdv = this.rcvNxt;
      this.enterEstablished(now);
      // Data after the SYN (RFC 9293 §3.10.7.3: continue at the URG check), and the third segment.
      this.ackNeeded = true;
      this.processText(seqAdd(seg.seq, 1), seg.payload, (f & FIN) !== 0, seg, now);
      return;
    }
    // Simultaneous open: SYN-SENT → SYN-RECEIVED, answer SYN,ACK with the same ISS.
    if (seg.payload.length > 0) this.synData = seg.payload.slice();
    this.setState(State.SynReceived, now, 'simultaneous open');
    this.sendSyn(now, 'syn-ack');
    this.armRexmit(now, this.rto.rto);
  }

  private arriveSynchronized(seg: Segment, now: number): void {
    let f = seg.flags;
    let seq = seg.seq;
    let payload = seg.payload;

    // Simultaneous open: the peer's SYN,ACK in SYN-RECEIVED repeats the SYN we
    // already acknowledged; RFC 9293 Figure 8 accepts it (Linux does likewise).
    if (
      this.state === State.SynReceived &&
      (f & (SYN | ACK | RST)) === (SYN | ACK) &&
      seq === this.irs &&
      seg.ack === this.sndNxt
    ) {
      f &= ~SYN;
      seq = this.rcvNxt;
    }

    // RFC 7323 §5.3: PAWS, before the sequence check.
    let ts: Extract<TcpOption, { kind: 'ts' }> | undefined;
    if (this.tsOk) {
      ts = findTimestamp(seg) as typeof ts;
      // A pure ACK at RCV.NXT reordered behind a newer one is let through, as
      // Linux's tcp_disordered_ack does: it carries nothing PAWS protects.
      const pureAck = payload.length === 0 && (f & (SYN | FIN | RST)) === 0 && seq === this.rcvNxt;
      if (ts && !(f & RST) && !pureAck && seqLt(ts.val, this.tsRecent)) {
        this.sendAck(now, 'dup-ack');
        this.host.drop(this, seg, 'paws', now);
        return;
      }
    }

    // First: sequence number (RFC 9293 §3.10.7.4).
    const wnd = this.rcvWindow();
    const len = payload.length + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
    if (!segmentAcceptable(seq, len, this.rcvNxt, wnd)) {
      if (f & RST) {
        this.host.drop(this, seg, 'rst-out-of-window', now);
      } else if (f & SYN) {
        // RFC 5961 §4: any SYN in a synchronized state gets a challenge ACK.
        this.challengeAck(now);
        this.host.drop(this, seg, 'syn-in-window', now);
      } else {
        // A retransmitted FIN in TIME-WAIT (our ACK was lost) restarts 2×MSL (RFC 9293 §3.10.7.4).
        if (this.state === State.TimeWait && f & FIN && seqAdd(seq, len) === this.rcvNxt)
          this.enterTimeWait(now);
        this.sendAck(now, 'dup-ack');
        this.host.drop(this, seg, 'out-of-window', now);
      }
      return;
    }
    if (ts && seqLe(seq, this.rcvNxt) && seqGe(ts.val, this.tsRecent)) this.tsRecent = ts.val; // RFC 7323 §4.3

    // Second: RST (RFC 5961 §3.2: only an exact match resets).
    if (f & RST) {
      if (seq !== this.rcvNxt) {
        this.challengeAck(now);
        this.host.drop(this, seg, 'rst-not-exact', now);
        return;
      }
      this.host.count('resets-received');
      switch (this.state) {
        case State.SynReceived:
          this.release(now, this.passive ? ConnectionReset.quiet() : ConnectionRefused.quiet());
          return;
        case State.Established:
        case State.FinWait1:
        case State.FinWait2:
        case State.CloseWait:
          this.release(now, ConnectionReset.quiet());
          return;
        default:
          this.release(now, undefined);
          return;
      }
    }

    // Fourth: SYN (RFC 5961 §4 / RFC 9293 §3.10.7.4).
    if (f & SYN) {
      this.challengeAck(now);
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
        this.sendReset(seg, now);
        this.host.drop(this, seg, 'unacceptable-ack', now);
        return;
      }
      this.sndWnd = seg.window << this.sndWndScale;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      this.sndUna = seqAdd(this.iss, 1);
      this.stopRexmit(now);
      this.enterEstablished(now);
    }
    if (!this.processAck(seg, seq, now)) return;

    if (this.state === State.FinWait1 && this.finAcked()) this.setState(State.FinWait2, now);
    else if (this.state === State.Closing && this.finAcked()) this.enterTimeWait(now);
    else if (this.state === State.LastAck && this.finAcked()) {
      this.release(now, undefined);
      return;
    }

    // Sixth (URG) is not supported: urgent data is delivered inline. Seventh and eighth: text, FIN.
    // Trim what lies before RCV.NXT (already received).
    const before = seqDiff(this.rcvNxt, seq);
    let fin = (f & FIN) !== 0;
    if (before > 0) {
      if (before >= payload.length) {
        if (before > payload.length) fin = false;
        payload = EMPTY;
      } else {
        payload = payload.subarray(before);
      }
      seq = this.rcvNxt;
    }
    this.processText(seq, payload, fin, seg, now);
  }

  /** RFC 9293 §3.10.7.4 fifth step for synchronized states; false when the segment is dropped. */
  private processAck(seg: Segment, seq: number, now: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      this.challengeAck(now);
      this.host.drop(this, seg, 'ack-of-unsent', now);
      return false;
    }
    // RFC 5961 §5.2: an ACK older than SND.UNA − MAX.SND.WND is suspect.
    if (seqLt(ack, this.sndUna - this.maxSndWnd)) {
      this.challengeAck(now);
      this.host.drop(this, seg, 'ack-too-old', now);
      return false;
    }
    const oldWnd = this.sndWnd;
    if (seqGt(ack, this.sndUna)) {
      const acked = seqDiff(ack, this.sndUna);
      const buf = this.sendBuf;
      if (buf) {
        const freed = Math.min(acked, buf.length);
        buf.drop(freed);
        if (buf.length === 0) this.sendBuf = null;
      }
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      this.sampleRtt(ack, now);
      this.retransmits = 0;
      this.dupAcks = 0;
      // RFC 5681 §3.1: slow start below ssthresh, else about one MSS per RTT.
      if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, this.sndMss);
      else this.cwnd += Math.max(1, Math.floor((this.sndMss * this.sndMss) / this.cwnd));
      if (this.sndUna === this.sndMax) this.stopRexmit(now);
      else this.armRexmit(now, this.rto.rto, true);
      if (this.writeBlocked && this.sendSpace > 0) {
        this.writeBlocked = false;
        this.host.deliver(this, { type: 'writable' }, now);
      }
    } else if (
      ack === this.sndUna &&
      seg.payload.length === 0 &&
      !(seg.flags & FIN) &&
      seg.window << this.sndWndScale === oldWnd &&
      seqLt(this.sndUna, this.sndMax)
    ) {
      // RFC 5681 §3.2: the third duplicate ACK triggers a fast retransmit.
      if (++this.dupAcks === DUPACK_THRESHOLD) {
        const flight = seqDiff(this.sndMax, this.sndUna);
        this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.sndMss);
        this.cwnd = this.ssthresh;
        this.host.count('fast-retransmits');
        this.retransmitOne(now);
      }
    }
    // Window update (RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 guard against old segments).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = seg.window << this.sndWndScale;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
      if (this.sndWnd > 0 && this.persistAt !== Number.POSITIVE_INFINITY) {
        this.persistAt = Number.POSITIVE_INFINITY;
        this.persistBackoff = 0;
        this.timer('persist', 'stopped', now);
      }
    }
    return true;
  }

  private processText(
    seq: number,
    data: Uint8Array,
    fin: boolean,
    seg: Segment,
    now: number,
  ): void {
    const st = this.state;
    const open = st === State.Established || st === State.FinWait1 || st === State.FinWait2;
    let payload = data;
    let finHere = fin;
    if (payload.length > 0 || finHere) {
      if (!open) {
        if (payload.length > 0) this.host.drop(this, seg, 'data-after-fin', now);
        // A retransmitted FIN in TIME-WAIT is acknowledged and restarts 2MSL (RFC 9293 §3.10.7.4).
        if (st === State.TimeWait && fin) {
          this.enterTimeWait(now);
        }
        this.ackNeeded = true;
        return;
      }
      // Accept no more than the window allows (RFC 9293 §3.10.7.4: trim the tail).
      const room = seqDiff(seqAdd(this.rcvNxt, this.rcvWindow()), seq);
      if (payload.length > room) {
        payload = payload.subarray(0, Math.max(0, room));
        finHere = false;
      }
      if (seq === this.rcvNxt) {
        if (payload.length > 0) this.enqueue(payload);
        this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
        let gotFin = finHere;
        let filled = 0;
        if (this.ooo && !this.ooo.empty) {
          const before = this.recvQueued;
          const r = this.ooo.pull(this.rcvNxt, (d) => this.enqueue(d));
          this.rcvNxt = r.next;
          filled = this.recvQueued - before;
          gotFin ||= r.fin;
          if (this.ooo.empty) this.ooo = null;
        }
        if (payload.length > 0 || filled > 0) this.host.deliver(this, { type: 'readable' }, now);
        if (gotFin) this.receiveFin(now);
      } else {
        this.ooo ??= new Reassembly();
        this.ooo.insert(seq, payload, finHere);
      }
      this.ackNeeded = true;
    }
  }

  private enqueue(d: Uint8Array): void {
    if (d.length === 0) return;
    this.recvChunks ??= [];
    this.recvChunks.push(d.slice());
    this.recvQueued += d.length;
  }

  private receiveFin(now: number): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.finReceived = true;
    this.ackNeeded = true;
    this.host.deliver(this, { type: 'end' }, now);
    switch (this.state) {
      case State.Established:
        this.setState(State.CloseWait, now);
        break;
      case State.FinWait1:
        if (this.finAcked()) this.enterTimeWait(now);
        else this.setState(State.Closing, now, 'simultaneous close');
        break;
      case State.FinWait2:
        this.enterTimeWait(now);
        break;
    }
  }

  private finAcked(): boolean {
    return this.finSent && seqGt(this.sndUna, this.finSeq);
  }

  private enterEstablished(now: number): void {
    this.setState(State.Established, now);
    if (this.keepAlive) this.armKeepAlive(now, this.keepAliveIdleMs);
    if (!this.fastOpened) this.host.deliver(this, { type: 'established' }, now);
    if (this.synData) {
      // Data that rode on a SYN in SYN-SENT is delivered now (RFC 9293 §3.10.7.3).
      const d = this.synData;
      this.synData = null;
      this.enqueue(d);
      this.rcvNxt = seqAdd(this.rcvNxt, d.length);
      this.ackNeeded = true;
      this.host.deliver(this, { type: 'readable' }, now);
    }
    if (this.finQueued) this.setState(State.FinWait1, now);
  }

  private enterTimeWait(now: number): void {
    this.stopRexmit(now);
    this.persistAt = Number.POSITIVE_INFINITY;
    this.keepAliveAt = Number.POSITIVE_INFINITY;
    if (this.state !== State.TimeWait) {
      this.setState(State.TimeWait, now);
      // The application is done with the connection: TIME-WAIT is the stack's own business.
      this.host.deliver(this, { type: 'closed' }, now);
    }
    this.timeWaitAt = now + this.cfg.timeWait;
    this.timer('time-wait', 'armed', now, this.timeWaitAt);
    this.updateDeadline();
  }

  // ---- Output --------------------------------------------------------------

  /** Sends what the windows allow; true if any segment went out. */
  private output(now: number): boolean {
    const st = this.state;
    if (
      st !== State.Established &&
      st !== State.CloseWait &&
      st !== State.FinWait1 &&
      st !== State.Closing &&
      st !== State.LastAck
    ) {
      return false;
    }
    let sent = false;
    for (;;) {
      const off = seqDiff(this.sndNxt, this.sndUna);
      const dataLen = this.sendBuf ? this.sendBuf.length : 0;
      const unsent = dataLen - off;
      const wantFin = this.finQueued && (!this.finSent || seqLe(this.sndNxt, this.finSeq));
      if (unsent <= 0) {
        if (wantFin && unsent === 0) {
          this.sendData(EMPTY, FIN | ACK, now);
          sent = true;
        }
        break;
      }
      const wnd = Math.min(this.sndWnd, this.cwnd);
      const room = wnd - off;
      if (room <= 0 || (this.sndWnd === 0 && off === 0)) {
        if (this.sndWnd === 0 && off === 0 && this.persistAt === Number.POSITIVE_INFINITY) {
          this.armPersist(now);
        }
        break;
      }
      const len = Math.min(unsent, this.sndMss, room);
      // Nagle (RFC 9293 §3.7.4) with Minshall's refinement, as Linux: hold a
      // short segment only while an earlier short segment is unacknowledged.
      const short = len < this.sndMss;
      if (short && len === unsent && !this.noDelay && !wantFin && seqGt(this.sndSmall, this.sndUna))
        break;
      const fin = wantFin && len === unsent;
      const payload = this.sendBuf!.peek(off, len);
      this.sendData(payload, ACK | (len === unsent ? PSH : 0) | (fin ? FIN : 0), now);
      if (short) this.sndSmall = this.sndNxt;
      sent = true;
    }
    return sent;
  }

  private sendData(payload: Uint8Array, flags: number, now: number): void {
    const seq = this.sndNxt;
    const isRetransmit = seqLt(seq, this.sndMax);
    const segLen = payload.length + (flags & FIN ? 1 : 0);
    const seg = this.mk(seq, flags, payload, this.ackOptions(now));
    const why: SendReason = isRetransmit
      ? 'retransmit'
      : flags & FIN && payload.length === 0
        ? 'fin'
        : 'data';
    if (isRetransmit) this.host.count('retransmits');
    this.transmit(seg, why, now);
    if (flags & FIN) {
      this.finSent = true;
      this.finSeq = seqAdd(seq, payload.length);
    }
    this.sndNxt = seqAdd(seq, segLen);
    if (!isRetransmit && !this.rttTiming) {
      this.rttTiming = true;
      this.rttSeq = this.sndNxt;
      this.rttStart = now;
    }
    this.sndMax = seqMax(this.sndMax, this.sndNxt);
    if (this.rexmitAt === Number.POSITIVE_INFINITY) this.armRexmit(now, this.rto.rto);
  }

  private retransmitOne(now: number): void {
    const saved = this.sndNxt;
    this.sndNxt = this.sndUna;
    this.rttTiming = false; // Karn's rule
    const off = 0;
    const dataLen = this.sendBuf ? this.sendBuf.length : 0;
    if (dataLen > 0) {
      const len = Math.min(dataLen, this.sndMss);
      const fin = this.finSent && len === dataLen;
      this.sendData(this.sendBuf!.peek(off, len), ACK | (fin ? FIN : 0), now);
    } else if (this.finSent) {
      this.sendData(EMPTY, FIN | ACK, now);
    }
    this.sndNxt = seqMax(saved, this.sndNxt);
  }

  private sendSyn(now: number, why: 'syn' | 'syn-ack'): void {
    const tsVal = this.tsClock(now);
    let options: TcpOption[];
    if (why === 'syn') {
      options = synOptions(this.cfg, tsVal);
      if (this.fastOpen) options = [...options, { kind: 'fo', cookie: this.fastOpen }];
    } else {
      // The SYN,ACK of a simultaneous open answers the peer's offer.
      options = synOptions(this.cfg, tsVal, {
        mss: this.sndMss,
        wscale: this.sndWndScale || this.rcvWndScale ? this.sndWndScale : undefined,
        sackOk: this.sackOk,
        tsVal: this.tsOk ? this.tsRecent : undefined,
      });
    }
    const flags = why === 'syn' ? SYN : SYN | ACK;
    const payload =
      why === 'syn' && this.synDataLen > 0 ? this.sendBuf!.peek(0, this.synDataLen) : EMPTY;
    const win = synWindow(this.cfg, this.cfg.timestamps);
    const seg: Segment = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: this.iss,
      ack: why === 'syn' ? 0 : this.rcvNxt,
      flags,
      window: win,
      urgent: 0,
      options,
      payload,
    };
    if (why === 'syn-ack') this.rcvAdv = seqAdd(this.rcvNxt, win);
    this.transmit(seg, why, now);
  }

  /** A pure ACK (a SYN,ACK again while our SYN is unacknowledged). */
  private sendAck(now: number, why: SendReason): void {
    if (this.state === State.SynReceived) {
      this.sendSyn(now, 'syn-ack');
      return;
    }
    if (this.state === State.SynSent || this.state === State.Closed) return;
    this.transmit(this.mk(this.sndNxt, ACK, EMPTY, this.ackOptions(now)), why, now);
  }

  /** RFC 5961 §7: a challenge ACK, unless the host's rate limit says no. */
  private challengeAck(now: number): void {
    if (this.host.challengeAckAllowed(now)) {
      this.host.count('challenge-acks-sent');
      this.sendAck(now, 'challenge-ack');
    } else {
      this.host.count('challenge-acks-suppressed');
    }
  }

  private sendReset(seg: Segment, now: number): void {
    const rst = resetFor(seg);
    if (!rst) return;
    this.host.count('resets-sent');
    this.transmit(rst, 'reset', now);
  }

  private ackOptions(now: number): TcpOption[] {
    const sack = this.sackOk && this.ooo && !this.ooo.empty;
    if (!this.tsOk && !sack) return NO_OPTIONS;
    const opts: TcpOption[] = [];
    if (this.tsOk) {
      opts.push(
        { kind: 'nop' },
        { kind: 'nop' },
        { kind: 'ts', val: this.tsClock(now), ecr: this.tsRecent },
      );
    }
    if (sack) {
      const blocks = this.ooo!.sackBlocks(this.tsOk ? 3 : 4);
      if (blocks.length > 0) opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks });
    }
    return opts;
  }

  private tsClock(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  private mk(seq: number, flags: number, payload: Uint8Array, options: TcpOption[]): Segment {
    return {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: flags & ACK ? this.rcvNxt : 0,
      flags,
      window: flags & ACK || !(flags & RST) ? this.advertise() : 0,
      urgent: 0,
      options,
      payload,
    };
  }

  private transmit(seg: Segment, why: SendReason, now: number): void {
    this.host.transmit(this, seg, why, now);
  }

  /** Receive window: free buffer space, never less than what was already promised (no shrinking). */
  rcvWindow(): number {
    const free = Math.max(0, this.cfg.rcvBuf - this.recvQueued);
    const promised = seqDiff(this.rcvAdv, this.rcvNxt);
    return Math.max(promised, free);
  }

  private advertise(): number {
    const wnd = this.rcvWindow();
    // Round up so that scaling never announces less than was promised (RFC 7323 §2.4).
    const field = Math.min((wnd + (1 << this.rcvWndScale) - 1) >>> this.rcvWndScale, 0xffff);
    const edge = seqAdd(this.rcvNxt, field << this.rcvWndScale);
    if (seqGt(edge, this.rcvAdv)) this.rcvAdv = edge;
    return field;
  }

  /** After the application read: announce a window that opened by an MSS or half the buffer (RFC 9293 §3.8.6.2.2). */
  private maybeWindowUpdate(before: number, now: number): void {
    if (!synchronized(this.state) || this.finReceived) return;
    const promised = seqDiff(this.rcvAdv, this.rcvNxt);
    const free = this.cfg.rcvBuf - this.recvQueued;
    const grow = free - promised;
    if (grow >= Math.min(this.cfg.mss, this.cfg.rcvBuf / 2) && before <= promised) {
      this.sendAck(now, 'window-update');
    }
  }

  // ---- Timers --------------------------------------------------------------

  onTimer(now: number): void {
    if (this.timeWaitAt <= now) {
      this.timeWaitAt = Number.POSITIVE_INFINITY;
      this.timer('time-wait', 'fired', now);
      this.release(now, undefined);
      return;
    }
    if (this.rexmitAt <= now) {
      this.rexmitAt = Number.POSITIVE_INFINITY;
      this.timer('retransmit', 'fired', now);
      this.onRetransmitTimeout(now);
      if (this.state === State.Closed) return;
    }
    if (this.keepAliveAt <= now) {
      this.keepAliveAt = Number.POSITIVE_INFINITY;
      this.timer('keepalive', 'fired', now);
      this.onKeepAlive(now);
      if (this.state === State.Closed) return;
    }
    if (this.persistAt <= now) {
      this.persistAt = Number.POSITIVE_INFINITY;
      this.timer('persist', 'fired', now);
      if (this.sndWnd === 0 && this.sendQueued > seqDiff(this.sndNxt, this.sndUna)) {
        // A zero-window probe: an old sequence number, so it carries nothing yet elicits an ACK.
        this.host.count('zero-window-probes');
        this.transmit(
          this.mk(seqAdd(this.sndUna, -1), ACK, EMPTY, this.ackOptions(now)),
          'probe',
          now,
        );
        this.persistBackoff++;
        this.armPersist(now);
      } else {
        this.persistBackoff = 0;
        this.output(now);
      }
    }
    this.updateDeadline();
  }

  private onRetransmitTimeout(now: number): void {
    const st = this.state;
    if (st === State.SynSent || st === State.SynReceived) {
      const limit = st === State.SynSent ? this.cfg.synRetries : this.cfg.synAckRetries;
      if (this.synRetransmits >= limit) {
        this.host.count('connections-timed-out');
        this.release(now, ConnectionTimedOut.quiet());
        return;
      }
      this.synRetransmits++;
      this.rttTiming = false;
      this.rto.backoff();
      this.host.count('retransmits');
      // The same ISS every time (RFC 9293 §3.8.1).
      this.sendSyn(now, st === State.SynSent ? 'syn' : 'syn-ack');
      this.armRexmit(now, this.rto.rto);
      return;
    }
    if (!seqLt(this.sndUna, this.sndMax)) return;
    if (this.retransmits >= this.cfg.dataRetries) {
      this.host.count('connections-timed-out');
      this.release(now, ConnectionTimedOut.quiet());
      return;
    }
    this.retransmits++;
    this.rto.backoff();
    // RFC 5681 §3.1: after a timeout, ssthresh halves the flight and cwnd restarts at one segment.
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.sndMss);
    this.cwnd = this.sndMss;
    this.dupAcks = 0;
    this.retransmitOne(now);
    this.armRexmit(now, this.rto.rto, true);
  }

  private sampleRtt(ack: number, now: number): void {
    if (this.state === State.SynSent) {
      // The SYN is timed when it was sent only once (Karn's rule).
      if (this.synRetransmits === 0) this.rto.sample(now - (this.rexmitAt - this.rto.rto));
      return;
    }
    if (this.rttTiming && seqGe(ack, this.rttSeq)) {
      this.rttTiming = false;
      this.rto.sample(now - this.rttStart);
    }
  }

  private armRexmit(now: number, after: number, restart = false): void {
    if (!restart && this.rexmitAt !== Number.POSITIVE_INFINITY) return;
    this.rexmitAt = now + after;
    this.timer('retransmit', 'armed', now, this.rexmitAt);
    this.updateDeadline();
  }

  private stopRexmit(now: number): void {
    if (this.rexmitAt === Number.POSITIVE_INFINITY) return;
    this.rexmitAt = Number.POSITIVE_INFINITY;
    this.timer('retransmit', 'stopped', now);
    this.updateDeadline();
  }

  private armPersist(now: number): void {
    const after = Math.min(MAX_PERSIST, Math.max(this.rto.rto, 200) * 2 ** this.persistBackoff);
    this.persistAt = now + after;
    this.timer('persist', 'armed', now, this.persistAt);
    this.updateDeadline();
  }

  private updateDeadline(): void {
    const d = Math.min(this.rexmitAt, this.persistAt, this.timeWaitAt, this.keepAliveAt);
    if (d !== this.deadline) {
      this.deadline = d;
      this.host.timerChanged(this);
    }
  }

  private timer(
    name: TimerName,
    action: 'armed' | 'fired' | 'stopped',
    now: number,
    at?: number,
  ): void {
    const t = this.host.tracer;
    if (t)
      t.emit({
        type: 'timer',
        t: now,
        host: this.host.name,
        conn: this.id,
        timer: name,
        action,
        at,
      });
  }

  private setState(to: State, now: number, why?: string): void {
    const from = this.state;
    this.state = to;
    const t = this.host.tracer;
    if (t) t.emit({ type: 'state', t: now, host: this.host.name, conn: this.id, from, to, why });
  }

  private release(now: number, error: TcpError | undefined): void {
    this.rexmitAt = Number.POSITIVE_INFINITY;
    this.persistAt = Number.POSITIVE_INFINITY;
    this.timeWaitAt = Number.POSITIVE_INFINITY;
    this.keepAliveAt = Number.POSITIVE_INFINITY;
    this.deadline = Number.POSITIVE_INFINITY;
    this.sendBuf = null;
    this.ooo = null;
    if (error) this.error = error;
    this.setState(State.Closed, now, error?.code);
    this.host.released(this);
    this.host.deliver(this, { type: 'closed', error }, now);
  }
}
