// A passive OPEN: the LISTEN state with its SYN queue of small half-open
// records (no buffers, no TCB) and its accept queue of established
// connections. A connection object exists only once the handshake completed.
// Sizing: the accept queue holds `backlog + 1` connections, as Linux's
// (sk_acceptq_is_full: full once it holds more than the backlog); the SYN
// queue `backlog` records (at least one), or in the linux profile `backlog +
// 1` too (inet_csk_reqsk_queue_is_full, Linux 6.18 as the kernel replay
// shows); backlog capped at 4096.

import { type IpAddr, ipv4FromKey, ipv4Key } from '../wire/addr.ts';
import { ACK, FIN, RST, type Segment, SYN, type TcpOption, timestampOptions } from '../wire/tcp.ts';
import { type Connection, type ConnectionHost, type Handshake, traceState } from './connection.ts';
import { COUNTER } from './counters.ts';
import { NO_DEADLINE, packDeadline } from './deadline.ts';
import {
  echoSent,
  findTimestamp,
  rcvWndScaleFor,
  readSynOffer,
  synOffer,
  synOptions,
  synWindow,
  tsClockAt,
  withFastOpen,
} from './options.ts';
import { resetFor } from './reset.ts';
import { segmentAcceptable, seqAdd, seqInWindow, seqLt } from './seq.ts';
import { alwaysAnswered } from './snd.ts';
import { type CookieJar, cookieTsVal, fastOpenCookie, fastOpenCookieValid } from './syncookie.ts';
import { TupleTable } from './tuple.ts';
import { type DropReason, type SendReason, State, type SynOffer, type TcpConfig } from './types.ts';

export const MAX_BACKLOG = 4096;

/** Something with a deadline in the host's single timer queue. */
export interface Timed {
  /** When its earliest timer is due, packed (deadline.ts): whole ms, NO_DEADLINE for none. */
  deadline: number;
  /** Where its entry sits in the host's timer heap, -1 if none (kept by the heap). */
  heapIndex: number;
}

// HalfOpen.bits: what the SYN offered, packed in one small integer.
const MSS_MASK = 0xffff;
const HAS_MSS = 1 << 16;
const WS_SHIFT = 17;
const HAS_WS = 1 << 25;
const SACK_OFFERED = 1 << 26;
const HAS_TS = 1 << 27;
const FO_EXP = 1 << 28;
/** The SYN,ACK's round trip cannot be timed: it went again, or when it went is not known. */
const UNTIMED = 1 << 29;

/**
 * A SYN-RECEIVED connection of a listener: just what the handshake needs, in
 * as few bytes as a JavaScript object allows (a SYN flood without cookies
 * fills the queue with these). The peer's IPv4 address is an integer;
 * sequence numbers are kept as signed 32-bit integers (small integers to V8,
 * not boxed numbers) and read back unsigned; the SYN's options are packed in
 * `bits`, and the offer is rebuilt from them when the connection is made
 * (what both ends use depends only on the offer and the configuration).
 */
export class HalfOpen implements Timed, Handshake {
  /** When the SYN,ACK is sent again, packed (deadline.ts). */
  deadline: number;
  heapIndex = -1;
  retransmits = 0;
  /** A Fast Open cookie our SYN,ACK carries (RFC 7413), if the SYN asked for one. */
  fo: Uint8Array | undefined = undefined;
  /** When the first SYN,ACK went out. */
  readonly sentAt: number;
  /**
   * The peer's address: an IPv4 address as an integer (a flood from many
   * sources would otherwise keep an address object per record), else IPv6's.
   */
  private readonly remote4: number;
  private readonly remote6: IpAddr | null;
  private readonly iss32: number;
  private readonly irs32: number;
  private readonly tsOffset32: number;
  private readonly tsVal32: number;
  private bits: number;

  constructor(
    readonly listener: Listener,
    readonly id: number,
    readonly localAddr: IpAddr,
    readonly localPort: number,
    remoteAddr: IpAddr,
    readonly remotePort: number,
    iss: number,
    irs: number,
    offer: SynOffer,
    readonly peerWindow: number,
    tsOffset: number,
    now: number,
  ) {
    this.deadline = packDeadline(now + listener.cfg.initialRto);
    this.sentAt = now;
    this.remote4 = remoteAddr.length === 4 ? ipv4Key(remoteAddr) : 0;
    this.remote6 = remoteAddr.length === 4 ? null : remoteAddr;
    this.iss32 = iss | 0;
    this.irs32 = irs | 0;
    this.tsOffset32 = tsOffset | 0;
    this.tsVal32 = (offer.tsVal ?? 0) | 0;
    this.bits =
      (offer.mss !== undefined ? HAS_MSS | (offer.mss & MSS_MASK) : 0) |
      (offer.wscale !== undefined ? HAS_WS | ((offer.wscale & 0xff) << WS_SHIFT) : 0) |
      (offer.sackOk ? SACK_OFFERED : 0) |
      (offer.tsVal !== undefined ? HAS_TS : 0) |
      (offer.foExp ? FO_EXP : 0);
  }

  get remoteAddr(): IpAddr {
    return this.remote6 ?? ipv4FromKey(this.remote4);
  }

  get iss(): number {
    return this.iss32 >>> 0;
  }

  get irs(): number {
    return this.irs32 >>> 0;
  }

  get tsOffset(): number {
    return this.tsOffset32 >>> 0;
  }

  /** The options the SYN offered (its Fast Open cookie is not kept: it was dealt with on arrival). */
  get offer(): SynOffer {
    const b = this.bits;
    return synOffer(
      (b & SACK_OFFERED) !== 0,
      b & HAS_MSS ? b & MSS_MASK : undefined,
      b & HAS_WS ? (b >>> WS_SHIFT) & 0xff : undefined,
      b & HAS_TS ? this.tsVal32 >>> 0 : undefined,
      b & FO_EXP ? true : undefined,
    );
  }

  /**
   * When the SYN,ACK the final ACK answers went out, if that is known: -1
   * once it went again or when it went is not known (RFC 6298 §3, Karn).
   */
  get timedSentAt(): number {
    return this.bits & UNTIMED ? -1 : this.sentAt;
  }

  /** The final ACK will give no RTT sample (see timedSentAt). */
  untimed(): void {
    this.bits |= UNTIMED;
  }

  /** Our timestamp clock for this record's segments at `now` (as a connection's tsClock). */
  tsClock(now: number): number {
    return tsClockAt(now, this.tsOffset32);
  }

  /** The window our SYN,ACK offers (unscaled), and so RCV.WND while the record waits. */
  get synWindow(): number {
    return synWindow(this.listener.cfg, this.tsOk, true, this.localAddr.length === 16);
  }

  /** The peer's timestamp on its SYN, or 0. */
  get tsRecent(): number {
    return this.bits & HAS_TS ? this.tsVal32 >>> 0 : 0;
  }

  /** Timestamps are in use (both ends offered them). */
  get tsOk(): boolean {
    return this.listener.cfg.timestamps && (this.bits & HAS_TS) !== 0;
  }

  get foExp(): boolean {
    return (this.bits & FO_EXP) !== 0;
  }

  /** The shift our window is scaled by once established. */
  get rcvWndScale(): number {
    return rcvWndScaleFor(this.listener.cfg, (this.bits & HAS_WS) !== 0);
  }

  onTimer(now: number): void {
    this.listener.halfOpenTimeout(this, now);
  }
}

/** What a listener needs from its host beyond what a connection needs. */
export interface ListenerHost extends Omit<ConnectionHost, 'timerChanged' | 'transmit' | 'drop'> {
  transmitFor(
    local: IpAddr,
    remote: IpAddr,
    conn: number,
    seg: Segment,
    why: SendReason,
    now: number,
    ttl?: number,
    tos?: number,
  ): void;
  dropFor(conn: number, seg: Segment, reason: DropReason, now: number): void;
  timerChanged(t: HalfOpen): void;
  /** The record left the SYN queue: its timer entry goes (it would keep the record alive). */
  timerCancelled(t: HalfOpen): void;
  nextId(): number;
  isn(local: IpAddr, lport: number, remote: IpAddr, rport: number, now: number): number;
  tsOffset(): number;
  /** Creates and registers the connection a completed handshake becomes. */
  adopt(l: Listener, h: HalfOpen): Connection | undefined;
  /** The host's SYN-cookie secrets (one jar per host, as Linux). */
  cookieJar(now: number): CookieJar;
  /** A global limit on RSTs a listener sends for stray ACKs (RFC 5961 §7 in spirit). */
  resetAllowed(now: number): boolean;
}

const EMPTY = new Uint8Array(0);

export class Listener {
  readonly synQueue = new TupleTable<HalfOpen>();
  readonly acceptQueue: Connection[] = [];
  readonly synQueueLimit: number;
  readonly acceptQueueLimit: number;
  closed = false;
  /**
   * NOT TCP — a simulator-only variant for teaching: a listener that treats a
   * SYN as enough (a two-way handshake) and establishes at once, to show what
   * the third segment protects against. Never set on a real stack.
   */
  twoWayHandshake = false;
  /** The application-side object (server) this listener belongs to. */
  owner: { onEstablished(): void } | null = null;

  constructor(
    private readonly host: ListenerHost,
    readonly cfg: TcpConfig,
    readonly id: number,
    readonly localAddr: IpAddr | null,
    readonly localPort: number,
    backlog: number,
  ) {
    const b = Math.min(Math.max(0, Math.floor(backlog)), MAX_BACKLOG);
    this.synQueueLimit = cfg.profile.synQueuePlusOne ? b + 1 : Math.max(1, b);
    this.acceptQueueLimit = b + 1;
  }

  /**
   * RFC 9293 §3.10.7.2 (LISTEN), with SYN-RECEIVED handled on the half-open
   * records. `reopens`: the SND.NXT of the connection in TIME-WAIT this SYN
   * takes the 4-tuple from.
   */
  onSegment(src: IpAddr, dst: IpAddr, seg: Segment, now: number, reopens?: number): void {
    const h = this.synQueue.get(dst, seg.dstPort, src, seg.srcPort);
    if (h) {
      this.halfOpenSegment(h, seg, now);
      return;
    }
    const f = seg.flags;
    if (f & RST) {
      this.host.dropFor(0, seg, 'no-connection', now);
      return;
    }
    if (f & ACK) {
      if (!(f & (SYN | FIN)) && this.cfg.synCookies !== 'off' && this.tryCookie(src, dst, seg, now))
        return;
      // Any other acknowledgment is bad in LISTEN: answer with a reset (rate limited).
      if (this.host.resetAllowed(now)) this.reset(dst, src, 0, seg, now);
      else this.host.count(COUNTER['resets-suppressed']);
      this.host.dropFor(0, seg, 'listener-ack', now);
      return;
    }
    if (!(f & SYN) || f & FIN) {
      this.host.dropFor(0, seg, 'bad-flags', now);
      return;
    }
    this.host.count(COUNTER['syns-received']);
    if (this.acceptQueue.length >= this.acceptQueueLimit) {
      this.host.dropFor(0, seg, 'accept-queue-full', now);
      return;
    }
    // TCP Fast Open (RFC 7413 §4.2.2): a valid cookie lets the SYN's data in now.
    let fo: Uint8Array | undefined;
    // Parsed once, and only when needed (a SYN dropped for a full queue is not parsed).
    let offer: SynOffer | undefined;
    if (this.cfg.fastOpen !== 'off') {
      offer = readSynOffer(seg);
      // Cookie not required (Linux's 0x200): any SYN's data is taken, FO option or not.
      if (this.cfg.fastOpen === 'no-cookie' && seg.payload.length > 0) {
        this.openFastOpen(src, dst, seg, offer, now, reopens);
        return;
      }
      if (offer.fo !== undefined) {
        const jar = this.host.cookieJar(now);
        const valid = this.cfg.fastOpen === 'no-cookie' || fastOpenCookieValid(jar, src, offer.fo);
        if (valid && seg.payload.length > 0) {
          this.openFastOpen(src, dst, seg, offer, now, reopens);
          return;
        }
        if (offer.fo.length > 0 && !valid) this.host.count(COUNTER['fastopen-rejected']);
        if (!valid || offer.fo.length === 0) {
          fo = fastOpenCookie(jar, src);
          this.host.count(COUNTER['fastopen-cookies-sent']);
        }
      }
    }
    const full = this.synQueue.size >= this.synQueueLimit;
    if (full) this.host.count(COUNTER['syn-queue-overflows']);
    if (this.cfg.synCookies === 'always' || (full && this.cfg.synCookies === 'auto')) {
      this.sendCookie(src, dst, seg, offer ?? readSynOffer(seg), now, fo);
      return;
    }
    if (full) {
      this.host.dropFor(0, seg, 'syn-queue-full', now);
      return;
    }
    const id = this.host.nextId();
    const iss = this.iss(src, dst, seg, now, reopens);
    const rec = this.record(
      id,
      src,
      dst,
      seg,
      iss,
      seg.seq,
      offer ?? readSynOffer(seg),
      this.host.tsOffset(),
      now,
    );
    rec.fo = fo;
    this.synQueue.add(rec);
    this.stateEvent(id, State.Listen, State.SynReceived, now);
    // A SYN's data is not accepted before the handshake completes: it is not
    // acknowledged, so the peer sends it again once established.
    if (seg.payload.length > 0 && !this.twoWayHandshake)
      this.host.count(COUNTER['syn-data-ignored']);
    if (this.twoWayHandshake) {
      this.establishTwoWay(rec, seg, now);
      return;
    }
    this.sendSynAck(rec, now);
    this.host.timerChanged(rec);
  }

  /** NOT TCP: see `twoWayHandshake`. The SYN alone opens the connection, data and all. */
  private establishTwoWay(h: HalfOpen, seg: Segment, now: number): void {
    this.dequeue(h);
    // No SYN,ACK has made a round trip: nothing to sample (RFC 6298 §3).
    h.untimed();
    const conn = this.host.adopt(this, h);
    if (!conn) return;
    conn.openFromHandshake(h, seg.window, now);
    this.acceptQueue.push(conn);
    conn.acceptTwoWaySyn(seg, now);
  }

  /** RFC 9293 §3.10.7.4 in SYN-RECEIVED, on the half-open record, step by step. */
  private halfOpenSegment(h: HalfOpen, seg: Segment, now: number): void {
    const f = seg.flags;
    const rcvNxt = seqAdd(h.irs, 1);
    const wnd = h.synWindow;
    if ((f & (SYN | ACK | RST)) === SYN && seg.seq === h.irs) {
      // The peer retransmitted its SYN: our SYN,ACK was lost or is late. Which
      // SYN,ACK the ACK will answer is then unknown: no RTT sample from it
      // (RFC 6298 §3, Karn). Linux also starts the SYN,ACK's timer afresh.
      if (this.answerLimited(h, seg, now)) return;
      this.sendSynAck(h, now);
      h.untimed();
      if (this.cfg.profile.synAckTimerRestart) this.armSynAck(h, now);
      return;
    }
    if (f & RST) {
      // RFC 5961 §3.2 on the half-open record: only an exact match resets.
      if (seg.seq === rcvNxt) {
        this.host.count(COUNTER['resets-received']);
        this.forget(h, now, 'reset');
      } else if (seqInWindow(seg.seq, rcvNxt, wnd)) {
        if (this.host.challengeAckAllowed(now)) {
          this.host.count(COUNTER['challenge-acks-sent']);
          this.answer(h, now, 'challenge-ack');
        } else {
          this.host.count(COUNTER['challenge-acks-suppressed']);
        }
        this.host.dropFor(h.id, seg, 'rst-not-exact', now);
      } else {
        this.host.dropFor(h.id, seg, 'rst-out-of-window', now);
      }
      return;
    }
    if (f & ACK && seg.ack !== seqAdd(h.iss, 1)) {
      // An ACK of something we never sent: a reset (checked first, as Linux's tcp_check_req).
      this.reset(h.localAddr, h.remoteAddr, h.id, seg, now);
      this.host.dropFor(h.id, seg, 'unacceptable-ack', now);
      return;
    }
    // First, the sequence number: the acceptance test of every synchronized
    // state; and PAWS (RFC 7323 §5.3): a timestamp older than the SYN's
    // (TS.Recent) is not acceptable either. Answered, and the record kept.
    const len = seg.payload.length + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
    const acceptable = segmentAcceptable(seg.seq, len, rcvNxt, wnd);
    const ts = h.tsOk ? findTimestamp(seg) : undefined;
    const old = ts !== undefined && ts.kind === 'ts' && seqLt(ts.val, h.tsRecent);
    // Linux (profile.echoChecks): an echo of a TSval no SYN,ACK of ours carried.
    const unsent =
      this.cfg.profile.echoChecks === true &&
      ts !== undefined &&
      ts.kind === 'ts' &&
      !echoSent(ts.ecr, h.tsClock(h.sentAt), h.tsClock(now));
    if (!acceptable || old || unsent) {
      if (!this.answerLimited(h, seg, now)) this.answer(h, now, 'dup-ack');
      this.host.dropFor(h.id, seg, old ? 'paws' : unsent ? 'ts-echo-unsent' : 'out-of-window', now);
      return;
    }
    if (f & SYN) {
      // Fourth, a SYN in the window (not the one this record answers), with or
      // without an ACK: back to LISTEN, as the passive open it is; Linux's
      // tcp_check_req also answers it with a reset (embryonic_reset).
      if (this.cfg.profile.halfOpenAcks) this.reset(h.localAddr, h.remoteAddr, h.id, seg, now);
      this.forget(h, now, 'syn');
      this.host.dropFor(h.id, seg, 'syn-in-window', now);
      return;
    }
    if (!(f & ACK)) {
      this.host.dropFor(h.id, seg, 'no-ack', now);
      return;
    }
    if (this.acceptQueue.length >= this.acceptQueueLimit) {
      // Keep the record: the client's retransmission or data will complete it later.
      this.host.dropFor(h.id, seg, 'accept-queue-full', now);
      return;
    }
    this.dequeue(h);
    const conn = this.host.adopt(this, h);
    if (!conn) return;
    conn.openFromHandshake(h, seg.window, now);
    this.acceptQueue.push(conn);
    if (f === ACK && len === 0 && seg.seq === rcvNxt) {
      // A bare ACK at RCV.NXT, checked above as the connection would check it,
      // has nothing more for it than its timestamp (the window is taken).
      if (ts !== undefined && ts.kind === 'ts') conn.takeTsRecent(ts.val, seg.seq);
      return;
    }
    // The completing ACK may carry data or a FIN: the new connection processes it.
    conn.onSegment(seg, now);
  }

  /**
   * When a record last answered a segment it could not take: only records
   * that did are here (a record stays small), and they leave with it.
   */
  private readonly answeredAt = new WeakMap<HalfOpen, number>();

  /**
   * Whether an answer to `seg` (a retransmitted SYN, an unacceptable segment)
   * must wait: one per invalidAckInterval (500 ms) per record, as a
   * connection's invalidAckLimited (Linux: tcp_oow_rate_limited on the
   * request); a segment with data and no SYN is always answered. Counted.
   */
  private answerLimited(h: HalfOpen, seg: Segment, now: number): boolean {
    if (alwaysAnswered(seg)) return false;
    const last = this.answeredAt.get(h);
    if (last !== undefined && now - last < this.cfg.invalidAckInterval) {
      this.host.count(COUNTER['invalid-acks-suppressed']);
      return true;
    }
    this.answeredAt.set(h, now);
    return false;
  }

  /** Answers a SYN with a cookie SYN,ACK and keeps nothing (RFC 4987 §3.6). */
  private sendCookie(
    src: IpAddr,
    dst: IpAddr,
    seg: Segment,
    offer: SynOffer,
    now: number,
    fo?: Uint8Array,
  ): void {
    if (seg.payload.length > 0) this.host.count(COUNTER['syn-data-ignored']);
    // Without timestamps a cookie cannot carry window scale or SACK: Linux then
    // offers neither (tcp_clear_options), rather than offer what it will forget.
    if (this.cfg.profile.cookieOptionsNeedTs && (offer.tsVal === undefined || !this.cfg.timestamps))
      offer = { mss: offer.mss, sackOk: false };
    const mss = offer.mss ?? (dst.length === 16 ? 1220 : 536);
    const iss = this.host
      .cookieJar(now)
      .make(dst, seg.dstPort, src, seg.srcPort, seg.seq, mss, now);
    const tsVal = cookieTsVal(Math.floor(now) >>> 0, offer);
    const reply: Segment = {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: iss,
      ack: seqAdd(seg.seq, 1),
      flags: SYN | ACK,
      window: synWindow(
        this.cfg,
        offer.tsVal !== undefined && this.cfg.timestamps,
        true,
        dst.length === 16,
      ),
      urgent: 0,
      options:
        fo === undefined && this.host.tracer === null
          ? this.cookieOptions(tsVal, dst.length === 16, offer)
          : withFo(synOptions(this.cfg, tsVal, dst.length === 16, offer), fo, offer.foExp),
      payload: EMPTY,
    };
    this.host.count(COUNTER['cookies-sent']);
    this.host.count(COUNTER['syn-acks-sent']);
    this.cookieEvent(0, 'sent', now);
    this.host.transmitFor(dst, src, 0, reply, 'syn-ack', now, this.cfg.ttl, this.cfg.tos);
  }

  /**
   * The options of a cookie SYN,ACK under a flood: one list per shape of offer
   * (IPv6 or not, which options the SYN offered), made once and reused with
   * this SYN's timestamps written in. Only where nothing keeps the segment
   * (no trace): it is encoded at once and the list is written over next time.
   */
  private cookieOptions(tsVal: number, ipv6: boolean, offer: SynOffer): TcpOption[] {
    const key =
      (ipv6 ? 1 : 0) |
      (offer.wscale !== undefined ? 2 : 0) |
      (offer.sackOk ? 4 : 0) |
      (offer.tsVal !== undefined ? 8 : 0);
    let opts = this.cookieShapes[key];
    if (opts === undefined) {
      opts = synOptions(this.cfg, 0, ipv6, offer);
      this.cookieShapes[key] = opts;
    }
    for (let i = 0; i < opts.length; i++) {
      const o = opts[i];
      if (o.kind === 'ts') {
        o.val = tsVal;
        o.ecr = offer.tsVal ?? 0;
      }
    }
    return opts;
  }

  /** cookieOptions' lists, by shape. */
  private readonly cookieShapes: (TcpOption[] | undefined)[] = [];

  /** An ACK that matches no half-open record may return a cookie; true if it opened a connection. */
  private tryCookie(src: IpAddr, dst: IpAddr, seg: Segment, now: number): boolean {
    const ts = findTimestamp(seg);
    const tsEcr = ts && ts.kind === 'ts' && this.cfg.timestamps ? ts.ecr : undefined;
    const irs = seqAdd(seg.seq, -1);
    const r = this.host
      .cookieJar(now)
      .check(dst, seg.dstPort, src, seg.srcPort, irs, seqAdd(seg.ack, -1), now, tsEcr);
    if (!r.ok) {
      this.host.count(COUNTER['cookies-rejected']);
      this.cookieEvent(0, 'rejected', now, r.reason);
      this.host.dropFor(0, seg, r.reason, now);
      return false;
    }
    if (this.acceptQueue.length >= this.acceptQueueLimit) {
      this.host.dropFor(0, seg, 'accept-queue-full', now);
      return true;
    }
    const offer = r.offer;
    if (ts && ts.kind === 'ts' && tsEcr !== undefined) offer.tsVal = ts.val;
    const id = this.host.nextId();
    const h = this.record(id, src, dst, seg, seqAdd(seg.ack, -1), irs, offer, 0, now);
    h.deadline = NO_DEADLINE;
    // When the SYN,ACK left is not known: no RTT sample from it (RFC 6298 §3).
    h.untimed();
    this.host.count(COUNTER['cookies-accepted']);
    this.cookieEvent(id, 'accepted', now);
    this.stateEvent(id, State.Listen, State.SynReceived, now, 'SYN cookie');
    const conn = this.host.adopt(this, h);
    if (!conn) return true;
    conn.openFromHandshake(h, seg.window, now);
    this.acceptQueue.push(conn);
    conn.onSegment(seg, now);
    return true;
  }

  /**
   * The ISS of a connection this SYN opens. RFC 1122 §4.2.2.13 (1): one
   * reopened from TIME-WAIT (`reopens`: the old SND.NXT) starts above every
   * sequence number the old one used, which the clock-driven ISN need not
   * (the old one may have sent faster than it ticks): Linux's choice, old
   * SND.NXT + 65537, a whole unscaled window past it (tcp_timewait_state_process).
   */
  private iss(src: IpAddr, dst: IpAddr, seg: Segment, now: number, reopens?: number): number {
    if (reopens !== undefined) return seqAdd(reopens, 65537);
    return this.host.isn(dst, seg.dstPort, src, seg.srcPort, now);
  }

  private openFastOpen(
    src: IpAddr,
    dst: IpAddr,
    seg: Segment,
    offer: SynOffer,
    now: number,
    reopens?: number,
  ): void {
    if (this.acceptQueue.length >= this.acceptQueueLimit) {
      this.host.dropFor(0, seg, 'accept-queue-full', now);
      return;
    }
    const h = this.record(
      this.host.nextId(),
      src,
      dst,
      seg,
      this.iss(src, dst, seg, now, reopens),
      seg.seq,
      offer,
      this.host.tsOffset(),
      now,
    );
    h.deadline = NO_DEADLINE;
    const conn = this.host.adopt(this, h);
    if (!conn) return;
    this.host.count(COUNTER['fastopen-accepted']);
    this.host.count(COUNTER['syn-acks-sent']);
    conn.openFastOpen(h, seg.window, seg, now);
    this.acceptQueue.push(conn);
  }

  /** A half-open record for `seg` (a SYN, or the ACK that returned a cookie). */
  private record(
    id: number,
    src: IpAddr,
    dst: IpAddr,
    seg: Segment,
    iss: number,
    irs: number,
    offer: SynOffer,
    tsOffset: number,
    now: number,
  ): HalfOpen {
    // Decoded addresses are shared objects, never views of the packet: kept as they are.
    return new HalfOpen(
      this,
      id,
      dst,
      seg.dstPort,
      src,
      seg.srcPort,
      iss,
      irs,
      offer,
      seg.window,
      tsOffset,
      now,
    );
  }

  private cookieEvent(
    conn: number,
    action: 'sent' | 'accepted' | 'rejected',
    now: number,
    reason?: 'cookie-bad-mac' | 'cookie-expired',
  ): void {
    const t = this.host.tracer;
    if (t) t.emit({ type: 'cookie', t: now, host: this.host.name, conn, action, reason });
  }

  halfOpenTimeout(h: HalfOpen, now: number): void {
    if (this.synQueue.get(h.localAddr, h.localPort, h.remoteAddr, h.remotePort) !== h) return;
    if (h.retransmits >= this.cfg.synAckRetries) {
      this.host.count(COUNTER['connections-timed-out']);
      this.forget(h, now, 'timeout');
      return;
    }
    h.retransmits++;
    this.host.count(COUNTER.retransmits);
    this.sendSynAck(h, now, 'retransmit');
    this.armSynAck(h, now);
  }

  /** The SYN,ACK's retransmission timer: the initial RTO, doubled for each retransmission so far. */
  private armSynAck(h: HalfOpen, now: number): void {
    h.deadline = packDeadline(
      now + Math.min(this.cfg.maxRto, this.cfg.initialRto * 2 ** h.retransmits),
    );
    this.host.timerChanged(h);
  }

  /**
   * The answer to an unacceptable segment in SYN-RECEIVED: our SYN,ACK again
   * (RFC 9293), or, as Linux's request sockets do, a bare ACK (ISS+1).
   */
  private answer(h: HalfOpen, now: number, why: SendReason): void {
    if (!this.cfg.profile.halfOpenAcks) {
      this.sendSynAck(h, now, why === 'dup-ack' ? 'syn-ack' : why);
      return;
    }
    const ts = h.tsOk ? timestampOptions(h.tsClock(now), h.tsRecent) : [];
    const seg: Segment = {
      srcPort: h.localPort,
      dstPort: h.remotePort,
      seq: seqAdd(h.iss, 1),
      ack: seqAdd(h.irs, 1),
      flags: ACK,
      // The SYN,ACK's window, now scaled (rounded down).
      window: h.synWindow >>> h.rcvWndScale,
      urgent: 0,
      options: ts,
      payload: EMPTY,
    };
    this.sendFor(h, seg, why, now);
  }

  private sendSynAck(h: HalfOpen, now: number, why: SendReason = 'syn-ack'): void {
    const tsVal = h.tsClock(now);
    const seg: Segment = {
      srcPort: h.localPort,
      dstPort: h.remotePort,
      seq: h.iss,
      ack: seqAdd(h.irs, 1),
      flags: SYN | ACK,
      window: h.synWindow,
      urgent: 0,
      options: withFo(
        synOptions(this.cfg, tsVal, h.localAddr.length === 16, h.offer),
        h.fo,
        h.foExp,
      ),
      payload: EMPTY,
    };
    this.host.count(COUNTER['syn-acks-sent']);
    this.sendFor(h, seg, why, now);
  }

  /** Sends a segment of a half-open connection, with the listener's TTL and TOS. */
  private sendFor(h: HalfOpen, seg: Segment, why: SendReason, now: number): void {
    this.host.transmitFor(
      h.localAddr,
      h.remoteAddr,
      h.id,
      seg,
      why,
      now,
      this.cfg.ttl,
      this.cfg.tos,
    );
  }

  private reset(local: IpAddr, remote: IpAddr, conn: number, seg: Segment, now: number): void {
    const rst = resetFor(seg);
    if (!rst) return;
    this.host.count(COUNTER['resets-sent']);
    this.host.transmitFor(local, remote, conn, rst, 'reset', now, this.cfg.ttl, this.cfg.tos);
  }

  /** Takes `h` out of the SYN queue and the host's timers. */
  private dequeue(h: HalfOpen): void {
    this.synQueue.delete(h);
    h.deadline = NO_DEADLINE;
    this.host.timerCancelled(h);
  }

  /** Drops a half-open record: the listener is back in LISTEN for that peer. */
  private forget(h: HalfOpen, now: number, why: string): void {
    this.dequeue(h);
    this.stateEvent(h.id, State.SynReceived, State.Listen, now, why);
  }

  /** A half-open record's state change, for the trace (records are not connections). */
  private stateEvent(conn: number, from: State, to: State, now: number, why?: string): void {
    const t = this.host.tracer;
    if (t) traceState(t, this.host.name, conn, from, to, now, why);
  }

  /** Next established connection, or undefined. */
  accept(): Connection | undefined {
    return this.acceptQueue.shift();
  }

  /** Closing a listener forgets its half-open records and resets unaccepted connections (as Linux does). */
  close(now: number): void {
    this.closed = true;
    // In the order they arrived (ids grow), not the table's (which its secret decides).
    const records = [...this.synQueue.values()].sort((a, b) => a.id - b.id);
    for (const h of records) this.forget(h, now, 'listener closed');
    for (const c of this.acceptQueue.splice(0)) c.abort(now);
  }
}

function withFo(
  options: Segment['options'],
  fo: Uint8Array | undefined,
  exp = false,
): Segment['options'] {
  return fo ? withFastOpen(options, fo, exp) : options;
}
