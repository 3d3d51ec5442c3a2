// The send side of one connection: what the application queues, the segments
// the windows allow (Nagle, RFC 9293 §3.7.4), acknowledgments arriving (the
// fifth step of §3.10.7.4, RFC 5681 congestion control, fast retransmit), and
// the ACKs, challenge ACKs and resets we send.

import {
  ACK,
  FIN,
  NOP,
  optionsLength,
  PSH,
  RST,
  type Segment,
  SYN,
  type TcpOption,
  timestampOptions,
  URG,
} from '../wire/tcp.ts';
import { SendBuffer } from './buffers.ts';
import { afterIdle, validateCwnd } from './cc.ts';
import type { Connection } from './connection.ts';
import { COUNTER } from './counters.ts';
import { EV_WRITABLE } from './events.ts';
import { sendSyn } from './handshake.ts';
import {
  ackSent,
  afterAck,
  armLossProbe,
  noteNewData,
  noteRetransmit,
  pipe,
  readSack,
} from './recovery.ts';
import { resetFor } from './reset.ts';
import { FIN_SENT, LOST, PSH_SENT, RETRANS_OUT, SACKED, SentQueue } from './sent.ts';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt, seqMax } from './seq.ts';
import { armPersist, armRexmit, sampleRtt, stopRexmit } from './timer.ts';
import { type SendReason, State } from './types.ts';

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: TcpOption[] = [];

/** Queues bytes for sending; returns how many were taken (fewer when the send buffer is full). */
export function send(c: Connection, data: Uint8Array, now: number): number {
  if (c.finQueued || c.state === State.Closed) return -1;
  c.sendBuf ??= new SendBuffer();
  const room = c.sndBuf - c.sendBuf.length;
  const n = Math.min(room, data.length);
  if (n < data.length) c.writeBlocked = true;
  if (n <= 0) return 0;
  c.sendBuf.push(n === data.length ? data : data.subarray(0, n));
  if (c.synchronized()) c.sendSoon(now);
  return n;
}

/**
 * SEND with the URGENT flag (RFC 9293 §3.8.5, MUST-30/31): queues `data` and
 * marks its end as the urgent pointer; every segment up to there carries URG.
 */
export function sendUrgent(c: Connection, data: Uint8Array, now: number): number {
  if (c.finQueued || c.state === State.Closed) return -1;
  c.sendBuf ??= new SendBuffer();
  const n = Math.min(c.sndBuf - c.sendBuf.length, data.length);
  if (n <= 0) return 0;
  c.sndUp = seqAdd(c.sndUna, c.sendBuf.length + n + (c.state === State.SynSent ? 1 : 0));
  c.sndUpValid = true;
  return send(c, data.subarray(0, n), now);
}

/** RFC 9293 §3.10.7.4 fifth step for synchronized states; false when the segment is dropped. */
export function processAck(c: Connection, seg: Segment, seq: number, now: number): boolean {
  const ack = seg.ack;
  if (seqGt(ack, c.sndMax)) {
    challengeAck(c, now);
    c.host.drop(c, seg, 'ack-of-unsent', now);
    return false;
  }
  // RFC 5961 §5.2: an ACK older than SND.UNA − MAX.SND.WND is suspect.
  if (seqLt(ack, c.sndUna - c.maxSndWnd)) {
    challengeAck(c, now);
    c.host.drop(c, seg, 'ack-too-old', now);
    return false;
  }
  const oldWnd = c.sndWnd;
  const flight = seqDiff(c.sndMax, c.sndUna);
  const sacked = c.sackOk && (c.sent !== null || c.rec !== null) ? readSack(c, seg, ack, now) : 0;
  let acked = 0;
  let newlyAcked = 0;
  let dup = false;
  if (seqGt(ack, c.sndUna)) {
    acked = seqDiff(ack, c.sndUna);
    const buf = c.sendBuf;
    if (buf) {
      const freed = Math.min(acked, buf.length);
      buf.drop(freed);
      if (buf.length === 0) c.sendBuf = null;
    }
    newlyAcked = ackSent(c, ack, acked, now);
    c.sndUna = ack;
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
    if (c.sndUpValid && !seqGt(c.sndUp, ack)) c.sndUpValid = false;
    sampleRtt(c, ack, now);
    c.retransmits = 0;
    c.dupAcks = 0;
    if (c.sndUna === c.sndMax) stopRexmit(c, now);
    else if (c.sent !== null && c.sent.count > 0 && c.sent.flags(0) & SACKED) {
      // The ACK stopped at data the peer had SACKed: it reneged (RFC 2018 §8). The
      // timer fires soon (half an SRTT, at least 10 ms, as Linux's
      // tcp_check_sack_reneging) and the timeout forgets the SACK marks.
      armRexmit(c, now, Math.max(c.srtt / 2, 10), true);
    } else armRexmit(c, now, c.rto, true);
    // The application waits for room: the buffer grows to twice what the congestion
    // and peer's windows let fly (as Linux's tcp_sndbuf_expand), up to sndBufMax.
    if (c.writeBlocked && c.sndBuf < c.cfg.sndBufMax) {
      const want = 2 * Math.min(c.cwnd, Math.max(c.sndWnd, c.sndMss));
      if (want > c.sndBuf) c.sndBuf = Math.min(c.cfg.sndBufMax, want);
    }
    if (c.writeBlocked && c.sendSpace > 0) {
      c.writeBlocked = false;
      c.host.deliver(c, EV_WRITABLE, now);
    }
  } else if (
    ack === c.sndUna &&
    seg.payload.length === 0 &&
    !(seg.flags & FIN) &&
    seg.window << c.sndWndScale === oldWnd &&
    seqLt(c.sndUna, c.sndMax)
  ) {
    // RFC 5681 §2: a duplicate ACK; the third marks the first segment lost (recovery.ts).
    c.dupAcks++;
    dup = true;
  }
  afterAck(c, acked, newlyAcked, sacked, flight, dup, now);
  // The peer answered: unanswered zero-window probes start again from none.
  c.probesOut = 0;
  // Window update (RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 guard against old segments).
  if (seqLt(c.sndWl1, seq) || (c.sndWl1 === seq && seqLe(c.sndWl2, ack))) {
    c.sndWnd = seg.window << c.sndWndScale;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
    if (c.sndWnd > c.maxSndWnd) c.maxSndWnd = c.sndWnd;
    // A zero window answered to our retransmission is a live peer refusing data, not a dead
    // one: the retransmissions act as probes and may go on indefinitely (MUST-35..37) —
    // while the application holds the socket. Once it has closed, R2 ends them (Linux's
    // tcp_retransmit_timer times orphans out here too).
    if (c.sndWnd === 0 && !c.readClosed) c.retransmits = 0;
    if (c.sndWnd > 0 && c.persistAt !== Infinity) {
      c.persistAt = Infinity;
      c.persistBackoff = 0;
      c.timer('persist', 'stopped', now);
    }
  }
  return true;
}

/**
 * Payload that fits one segment with these options: the send MSS less the
 * option bytes beyond the timestamps already taken off it (RFC 9293 §3.7.1,
 * MUST-16: the effective MSS counts every option the segment carries).
 */
export function payloadRoom(c: Connection, options: TcpOption[]): number {
  const opt = (optionsLength(options) + 3) & ~3;
  return Math.max(1, c.sndMss - Math.max(0, opt - (c.tsOk ? 12 : 0)));
}

/**
 * Sends what the windows allow; true if any segment went out. `force` is the
 * SWS override timer firing (RFC 9293 §3.8.6.2.1 case 4).
 */
export function output(c: Connection, now: number, force = false): boolean {
  const st = c.state;
  if (
    st !== State.Established &&
    st !== State.CloseWait &&
    st !== State.FinWait1 &&
    st !== State.Closing &&
    st !== State.LastAck
  ) {
    return false;
  }
  let sent = c.sent !== null && c.sent.lost > c.sent.retransOut && retransmitLost(c, now);
  const chunk = c.cfg.profile.pshPerBurst === true ? gsoChunk(c) : 0;
  let n = 0;
  let fresh = false;
  const hadData =
    (c.sendBuf ? c.sendBuf.length : 0) > seqDiff(c.sndNxt, c.sndUna) || (c.finQueued && !c.finSent);
  for (;;) {
    const off = seqDiff(c.sndNxt, c.sndUna);
    const dataLen = c.sendBuf ? c.sendBuf.length : 0;
    const unsent = dataLen - off;
    const wantFin = c.finQueued && (!c.finSent || seqLe(c.sndNxt, c.finSeq));
    if (unsent <= 0) {
      if (wantFin && unsent === 0) {
        sendData(c, EMPTY, FIN | ACK, now);
        sent = fresh = true;
      }
      break;
    }
    // The peer's window from SND.UNA, and what congestion control lets into the network (RFC 6675's pipe).
    const wndRoom = c.sndWnd - off;
    const room = Math.min(wndRoom, c.cwnd - pipe(c));
    if (room <= 0 || (c.sndWnd === 0 && off === 0)) {
      if (c.sndWnd === 0 && off === 0 && c.persistAt === Infinity) {
        armPersist(c, now);
      }
      break;
    }
    const options = ackOptions(c, now);
    const mss = payloadRoom(c, options);
    let len = Math.min(unsent, mss, room);
    // A link that cuts large segments (TSO) takes up to tsoMax at once: whole
    // segments, unless it is the end of what there is to send.
    const tso = c.host.tsoMax ?? 0;
    if (tso > mss && len === mss) {
      len = Math.min(unsent, room, tso - (tso % mss));
      if (len < unsent) len -= len % mss;
    }
    const short = len < mss;
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1, MUST-38): a short segment the
    // window cuts off goes only if it is at least half the largest window the
    // peer ever offered, or when the override (persist) timer fires.
    if (short && len < unsent && len < c.maxSndWnd / 2 && !force) {
      c.host.count(COUNTER['sws-deferred']);
      if (off === 0 && c.persistAt === Infinity) armPersist(c, now);
      break;
    }
    // Nagle (RFC 9293 §3.7.4) with Minshall's refinement, as Linux: hold a
    // short segment only while an earlier short segment is unacknowledged.
    if (short && len === unsent && !c.noDelay && !wantFin && seqGt(c.sndSmall, c.sndUna)) break;
    const fin = wantFin && len === unsent;
    const payload = c.sendBuf!.peek(off, len);
    // The peer's window stops the burst here when what is left of it cannot take the
    // next segment. (Where cwnd stops it, Linux sends the head of a buffer whose
    // PSH stays with the rest.)
    const left = wndRoom - len;
    const lastOfBurst =
      chunk > 0 &&
      (++n % chunk === 0 ||
        left <= 0 ||
        (left < Math.min(mss, unsent - len) && left < c.maxSndWnd / 2));
    const psh = len === unsent || lastOfBurst ? PSH : 0;
    sendData(c, payload, ACK | psh | (fin ? FIN : 0), now, options);
    if (short) c.sndSmall = c.sndNxt;
    sent = fresh = true;
    force = false;
  }
  if (fresh) armLossProbe(c, now);
  // Only when there was something to send (Linux calls tcp_write_xmit only then).
  if (hadData) {
    // Full: not even one more segment fits (Linux counts whole packets in flight).
    const limited = c.cwnd - pipe(c) < c.sndMss;
    if (fresh || limited) validateCwnd(c, limited, seqDiff(c.sndMax, c.sndUna));
  }
  return sent;
}

/**
 * Retransmits segments marked lost, lowest first, while the congestion window
 * has room (RFC 6675 §5 NextSeg rule 1; PRR sets the window in recovery).
 * True if any went out.
 */
function retransmitLost(c: Connection, now: number): boolean {
  const s = c.sent!;
  let sent = false;
  for (let i = 0; i < s.count; i++) {
    const f = s.flags(i);
    if (!(f & LOST) || f & (SACKED | RETRANS_OUT)) continue;
    const room = c.cwnd - pipe(c);
    if (room < Math.min(s.len(i), c.sndMss)) break;
    retransmitRecord(c, i, now);
    sent = true;
  }
  return sent;
}

/**
 * Sends record `i` of the segments in flight again, as it was (split first if
 * the MSS has shrunk since, RFC 9293 §3.7.1).
 */
export function retransmitRecord(c: Connection, i: number, now: number): void {
  const s = c.sent!;
  const options = ackOptions(c, now);
  const max = payloadRoom(c, options);
  const fin = (s.flags(i) & FIN_SENT) !== 0;
  if (s.len(i) - (fin ? 1 : 0) > max) s.split(i, max);
  const seq = s.seq(i);
  const last = (s.flags(i) & FIN_SENT) !== 0;
  const dataLen = s.len(i) - (last ? 1 : 0);
  const off = seqDiff(seq, c.sndUna);
  const buffered = c.sendBuf ? c.sendBuf.length : 0;
  const payload =
    dataLen > 0 && off >= 0 && off + dataLen <= buffered ? c.sendBuf!.peek(off, dataLen) : EMPTY;
  // Linux resends the segment as it was; BSD pushes when it reaches the end of the buffer.
  const push = c.cfg.profile.linuxQuirks
    ? (s.flags(i) & PSH_SENT) !== 0
    : payload.length > 0 && off + dataLen === buffered;
  const seg = c.mk(seq, ACK | (last ? FIN : 0) | (push ? PSH : 0), payload, options);
  if (c.sndUpValid && seqGt(c.sndUp, seq)) {
    seg.flags |= URG;
    seg.urgent = Math.min(seqDiff(c.sndUp, seq), 0xffff);
  }
  c.rttTiming = false; // Karn's rule
  c.host.count(COUNTER.retransmits);
  c.totalRetrans++;
  noteRetransmit(c, s, i, now);
  c.transmit(seg, 'retransmit', now);
  // Resending the oldest segment restarts its timer (as Linux and FreeBSD do on a fast retransmit).
  armRexmit(c, now, c.rto, i === 0);
}

/**
 * Segments in one of Linux's GSO chunks (tcp_tso_autosize): what the pacing
 * rate — twice cwnd/SRTT in slow start, 1.2 times after — sends in 1/1024 s,
 * at least 2, at most 64 KiB.
 */
function gsoChunk(c: Connection): number {
  const srttS = Math.max(c.srtt, 0.001) / 1000;
  const segs = (c.cwnd < c.ssthresh ? 2 : 1.2) * (c.cwnd / c.sndMss);
  return Math.max(2, Math.min(Math.floor(segs / srttS / 1024), Math.floor(65536 / c.sndMss)));
}

function sendData(
  c: Connection,
  payload: Uint8Array,
  flags: number,
  now: number,
  options = ackOptions(c, now),
): void {
  const seq = c.sndNxt;
  const isRetransmit = seqLt(seq, c.sndMax);
  // The first data after a silence with nothing in flight (RFC 5681 §4.1).
  if (!isRetransmit && c.sndUna === c.sndMax && c.lastSentAt >= 0 && c.caState === 0)
    afterIdle(c, now - c.lastSentAt, now);
  c.lastSentAt = now;
  const segLen = payload.length + (flags & FIN ? 1 : 0);
  const seg = c.mk(seq, flags, payload, options);
  // Urgent data ahead (RFC 9293 §3.8.5, MUST-62): the pointer marks the octet after it.
  if (c.sndUpValid && seqGt(c.sndUp, seq)) {
    seg.flags |= URG;
    seg.urgent = Math.min(seqDiff(c.sndUp, seq), 0xffff);
  }
  const why: SendReason =
    c.synResendEnd !== 0 && seqLt(seq, c.synResendEnd)
      ? 'syn-data-resend'
      : isRetransmit
        ? 'retransmit'
        : flags & FIN && payload.length === 0
          ? 'fin'
          : 'data';
  if (c.synResendEnd !== 0 && !seqLt(seqAdd(seq, payload.length), c.synResendEnd))
    c.synResendEnd = 0;
  if (isRetransmit) {
    c.host.count(COUNTER.retransmits);
    c.totalRetrans++;
  }
  c.transmit(seg, why, now);
  if (flags & FIN) {
    c.finSent = true;
    c.finSeq = seqAdd(seq, payload.length);
  }
  c.sndNxt = seqAdd(seq, segLen);
  // Record what is new in it (data resent after a SYN,ACK took only the SYN is new to the queue).
  if (segLen > 0) {
    if (c.sent === null) {
      c.sent = new SentQueue();
      // Transmission numbers start again: the last segment delivered went out before all of these.
      if (c.rec !== null) c.rec.rackOrder = -1;
    }
    const q = c.sent;
    const from = q.count > 0 ? q.end(q.count - 1) : seq;
    if (seqLt(from, c.sndNxt)) {
      const start = seqLt(from, seq) ? seq : from;
      q.push(
        start,
        seqDiff(c.sndNxt, start),
        now,
        (flags & FIN ? FIN_SENT : 0) | (flags & PSH ? PSH_SENT : 0),
        q.sends++,
      );
    }
  }
  noteNewData(c, segLen);
  if (!isRetransmit && !c.rttTiming) {
    c.rttTiming = true;
    c.rttSeq = c.sndNxt;
    c.rttStart = now;
  }
  c.sndMax = seqMax(c.sndMax, c.sndNxt);
  if (c.rexmitAt === Infinity) armRexmit(c, now, c.rto);
}

/** Sends the first unacknowledged segment again (after an RTO or the third duplicate ACK). */
export function retransmitOne(c: Connection, now: number): void {
  const q = c.sent;
  if (q !== null && q.count > 0 && seqLe(q.seq(0), c.sndUna)) {
    retransmitRecord(c, 0, now);
    return;
  }
  const saved = c.sndNxt;
  c.sndNxt = c.sndUna;
  c.rttTiming = false; // Karn's rule
  const dataLen = c.sendBuf ? c.sendBuf.length : 0;
  if (dataLen > 0) {
    const options = ackOptions(c, now);
    const len = Math.min(dataLen, payloadRoom(c, options));
    const fin = c.finSent && len === dataLen;
    sendData(c, c.sendBuf!.peek(0, len), ACK | (fin ? FIN : 0), now, options);
  } else if (c.finSent) {
    sendData(c, EMPTY, FIN | ACK, now);
  }
  c.sndNxt = seqMax(saved, c.sndNxt);
}

/** ACK options with a D-SACK block first, then the SACK blocks they had (RFC 2883 §4). */
function dsackOptions(c: Connection, options: TcpOption[], dsack: [number, number]): TcpOption[] {
  const prior = options.find((o) => o.kind === 'sack');
  const blocks = [...dsack, ...(prior?.kind === 'sack' ? prior.blocks : [])].slice(
    0,
    2 * (c.tsOk ? 3 : 4),
  );
  const ts = options.find((o) => o.kind === 'ts');
  return [...(ts ? ([NOP, NOP, ts] as TcpOption[]) : []), NOP, NOP, { kind: 'sack', blocks }];
}

/**
 * A pure ACK (a SYN,ACK again while our SYN is unacknowledged). `dsack`: the
 * duplicate it answers, reported first in its SACK option (RFC 2883) when SACK
 * is in use and the profile sends D-SACK.
 */
export function sendAck(
  c: Connection,
  now: number,
  why: SendReason,
  dsack?: [number, number],
): void {
  // Linux answers from SYN-RECEIVED with a bare ACK too (tcp_send_challenge_ack).
  if (c.state === State.SynReceived && !c.cfg.profile.halfOpenAcks) {
    sendSyn(c, now, 'syn-ack');
    return;
  }
  if (c.state === State.SynSent || c.state === State.Closed) return;
  let options = ackOptions(c, now);
  if (dsack && c.sackOk && c.cfg.profile.dsack) options = dsackOptions(c, options, dsack);
  c.transmit(c.mk(c.sndNxt, ACK, EMPTY, options), why, now);
}

/**
 * A segment whose answer is never rate limited: one that occupies sequence
 * space (data or FIN) without a SYN is not part of an ACK loop, and its
 * sender needs the ACK (as Linux's tcp_oow_rate_limited).
 */
export function alwaysAnswered(seg: Segment): boolean {
  return (seg.payload.length > 0 || (seg.flags & FIN) !== 0) && !(seg.flags & SYN);
}

/**
 * RFC 5961 §7 throttling, per connection as Linux's tcp_oow_rate_limited: an
 * ACK answering an invalid segment goes at most once per `invalidAckInterval`
 * (never for a segment alwaysAnswered).
 */
export function invalidAckLimited(c: Connection, seg: Segment, now: number): boolean {
  if (alwaysAnswered(seg)) return false;
  if (now - c.lastInvalidAckAt < c.cfg.invalidAckInterval) {
    c.host.count(COUNTER['invalid-acks-suppressed']);
    return true;
  }
  c.lastInvalidAckAt = now;
  return false;
}

/**
 * RFC 5961 §7: a challenge ACK, unless the host's rate limit says no. (The
 * per-connection limit above is not applied: one side throttling its
 * duplicate ACKs is enough to break a loop between two desynchronised ends.)
 */
export function challengeAck(c: Connection, now: number): void {
  // Linux also holds challenge ACKs to one per 500 ms per socket (tcp_oow_rate_limited).
  if (c.cfg.profile.linuxQuirks && now - c.lastInvalidAckAt < c.cfg.invalidAckInterval) {
    c.host.count(COUNTER['challenge-acks-suppressed']);
    return;
  }
  if (c.cfg.profile.linuxQuirks) c.lastInvalidAckAt = now;
  if (c.host.challengeAckAllowed(now)) {
    c.host.count(COUNTER['challenge-acks-sent']);
    sendAck(c, now, 'challenge-ack');
  } else {
    c.host.count(COUNTER['challenge-acks-suppressed']);
  }
}

export function sendReset(c: Connection, seg: Segment, now: number): void {
  const rst = resetFor(seg);
  if (!rst) return;
  c.host.count(COUNTER['resets-sent']);
  c.transmit(rst, 'reset', now);
}

/** Options of a synchronized segment: timestamps (RFC 7323) and SACK blocks (RFC 2018). */
export function ackOptions(c: Connection, now: number): TcpOption[] {
  if (c.dsackPending) {
    const d = c.dsackPending;
    c.dsackPending = null;
    return dsackOptions(c, ackOptions(c, now), d);
  }
  const sack = c.sackOk && c.ooo && !c.ooo.empty;
  if (!c.tsOk && !sack) return NO_OPTIONS;
  const opts: TcpOption[] = c.tsOk ? timestampOptions(c.tsClock(now), c.tsRecent) : [];
  if (sack) {
    const blocks = c.ooo!.sackBlocks(c.tsOk ? 3 : 4, c.cfg.profile.linuxQuirks === true);
    if (blocks.length > 0) opts.push(NOP, NOP, { kind: 'sack', blocks });
  }
  return opts;
}

/**
 * An RST for the current connection (ABORT). With timestamps in use it carries
 * one (RFC 7323 §3.2: SHOULD be sent in an <RST>; Linux and FreeBSD do), so a
 * peer doing PAWS checks takes it.
 */
export function sendAbortReset(c: Connection, now: number): void {
  const options = c.tsOk ? timestampOptions(c.tsClock(now), c.tsRecent) : NO_OPTIONS;
  c.transmit(c.mk(c.sndNxt, RST | ACK, EMPTY, options), 'reset', now);
  c.host.count(COUNTER['resets-sent']);
}
