// Loss recovery for one connection: which segments are lost, what goes again
// and how fast, and when a reduction turns out to have been a mistake.
//
// - Loss detection: RACK (RFC 8985 §6) with SACK — a segment is lost once a
//   segment sent after it was delivered and a reordering window has passed;
//   RFC 6675's IsLost (DupThresh SACKed segments above) when RACK is off; three
//   duplicate ACKs (RFC 5681 §3.2) and NewReno's partial ACKs (RFC 6582)
//   without SACK information.
// - Recovery: entered once per window of data (RFC 6675's RecoveryPoint), the
//   window reduced once by the congestion controller, and sending during it
//   paced by Proportional Rate Reduction (RFC 6937): retransmissions first,
//   then new data, as the ACK clock allows.
// - Tail loss probes (RFC 8985 §7): a segment sent about two RTTs after the
//   last one went unanswered, so a lost tail is repaired by recovery, not an RTO.
// - Undo (RFC 2883 §3, as Linux): when D-SACKs show that every retransmission
//   of an episode was unnecessary, the window comes back and the reordering
//   window widens.
// - RTO (RFC 5681 §3.1, RFC 6675 §5.1): everything not SACKed is lost, the
//   window restarts at one segment and slow start repairs the holes.

import type { Segment } from '../wire/tcp.ts';
import { type CcState, ccOnAck, ccSsthresh, newCcState, noteAckRtt } from './cc.ts';
import type { Connection } from './connection.ts';
import { COUNTER } from './counters.ts';
import { LOST, RETRANS_OUT, RETRANSMITTED, SACKED, type SentQueue } from './sent.ts';
import { seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.ts';
import { updateDeadline } from './timer.ts';

/** Linux's congestion states, as tcpi_ca_state reports them. */
export const CA_OPEN = 0;
export const CA_DISORDER = 1;
export const CA_CWR = 2;
export const CA_RECOVERY = 3;
export const CA_LOSS = 4;

const DUPTHRESH = 3; // RFC 5681 §3.2, RFC 6675 §2
/** RFC 8985 §7.2: the worst-case delayed-ACK time added when one segment is in flight. */
const WC_DEL_ACK = 200;
/**
 * Added to the probe timeout otherwise (Linux's TCP_TIMEOUT_MIN, 2 ms): at
 * sub-millisecond RTTs 2×SRTT is shorter than the time an ACK takes to be
 * produced, and probes would go for tails that were never lost.
 */
const PTO_FLOOR = 2;
export const LOSS_TIMER_RACK = 1;
export const LOSS_TIMER_TLP = 2;

/** What a connection remembers about loss, made at the first sign of it. */
export class Recovery {
  cc: CcState = newCcState();
  /** RFC 6675's RecoveryPoint: recovery ends when this is acknowledged. */
  recoverySeq = 0;
  /** RFC 6937: segments delivered and sent since recovery began; the window (bytes) then. */
  prrDelivered = 0;
  prrOut = 0;
  recoverFs = 1;
  /** Without SACK, bytes credited for duplicate ACKs and not yet acknowledged (RFC 6937 §3). */
  dupCredit = 0;
  /** Undo: the window before the episode, and retransmitted bytes no D-SACK has excused yet. */
  priorCwnd = 0;
  priorSsthresh = 0;
  priorWMax = 0;
  undoBytes = 0;
  undoArmed = false;
  /** RACK (RFC 8985 §6.1): transmit time, order and end, and RTT, of the most recently sent segment delivered. */
  rackXmit = -1;
  rackOrder = -1;
  rackEnd = 0;
  rackRtt = 0;
  /** Highest sequence number delivered (RACK.fack), for reordering detection. */
  fack = 0;
  reordering = false;
  reoMult = 1;
  /** The peer has sent SACK blocks: from then on only they count, not bare duplicate ACKs (RFC 6675 §2). */
  sackSeen = false;
  /** Tail loss probe in flight: the sequence it covers up to (-1: none), and whether it was a retransmission. */
  tlpEnd = -1;
  tlpRetrans = false;
  tlpDsacked = false;
}

/**
 * The ACK covers a tail loss probe (RFC 8985 §7.4, as Linux's tcp_process_tlp_ack):
 * new data, or a D-SACK or a pure duplicate ACK saying the original arrived
 * too, mean no loss; an ACK beyond the probe without either means the probe
 * repaired a real loss, and the window is reduced once.
 */
function tlpAcked(c: Connection, r: Recovery, dup: boolean, flight: number, now: number): void {
  if (!r.tlpRetrans || r.tlpDsacked || dup) {
    r.tlpEnd = -1;
    return;
  }
  if (!seqGt(c.sndUna, r.tlpEnd)) return;
  r.tlpEnd = -1;
  c.ssthresh = ccSsthresh(c, flight);
  c.cwnd = Math.min(c.cwnd, c.ssthresh);
  c.host.count(COUNTER['tail-loss-probes-repaired']);
  c.cc('tlp-loss', now);
}

/** RFC 6675 §4's pipe: bytes the sender thinks are in the network. */
export function pipe(c: Connection): number {
  const flight = seqDiff(c.sndMax, c.sndUna);
  const s = c.sent;
  return s ? flight - s.sacked - s.lost + s.retransOut : flight;
}

/**
 * Reads the SACK option of an ACK (RFC 2018): marks the segments it covers,
 * handles a D-SACK (RFC 2883). Returns the bytes newly SACKed.
 */
export function readSack(c: Connection, seg: Segment, ack: number, now: number): number {
  const s = c.sent;
  let blocks: number[] | null = null;
  for (const o of seg.options) if (o.kind === 'sack') blocks = o.blocks;
  if (!blocks || blocks.length < 2) return 0;
  c.recovery().sackSeen = true;
  let newly = 0;
  for (let b = 0; b + 1 < blocks.length; b += 2) {
    let start = blocks[b];
    const end = blocks[b + 1];
    if (!seqLt(start, end)) continue;
    // RFC 2883 §4: the first block reports a duplicate when it lies below the
    // cumulative ACK or inside the second block.
    if (
      b === 0 &&
      (seqLe(end, ack) || (blocks.length >= 4 && seqGe(start, blocks[2]) && seqLe(end, blocks[3])))
    ) {
      dsack(c, start, end, now);
      continue;
    }
    // Blocks beyond what we sent, or wholly acknowledged, are ignored (RFC 6675 §5).
    if (s === null || seqGt(end, c.sndMax) || seqLe(end, ack)) continue;
    if (seqLt(start, ack)) start = ack;
    for (let i = s.find(start); i < s.count && seqLe(s.end(i), end); i++) {
      const f = s.flags(i);
      if (f & SACKED || seqLt(s.seq(i), start)) continue;
      c.recovery();
      rackDelivered(c, s, i, now);
      s.set(i, SACKED);
      newly += s.len(i);
    }
  }
  return newly;
}

/** A D-SACK: the peer got [start, end) twice. If it was our retransmission, it may not have been needed. */
function dsack(c: Connection, start: number, end: number, now: number): void {
  c.host.count(COUNTER['dsacks-received']);
  const r = c.recovery();
  // RFC 8985 §6.2 step 4: reordering is real; the window to wait for it grows.
  r.reordering = true;
  r.reoMult = Math.min(r.reoMult + 1, 16);
  if (r.tlpEnd !== -1 && r.tlpRetrans) r.tlpDsacked = true;
  if (!r.undoArmed) return;
  r.undoBytes -= seqDiff(end, start);
  if (r.undoBytes <= 0) undo(c, now);
}

/** Every retransmission of the episode was spurious: restore the window (as Linux's tcp_try_undo_dsack). */
function undo(c: Connection, now: number): void {
  const r = c.rec!;
  r.undoArmed = false;
  c.cwnd = Math.max(c.cwnd, r.priorCwnd);
  c.ssthresh = Math.max(c.ssthresh, r.priorSsthresh);
  r.cc.wMax = Math.max(r.cc.wMax, r.priorWMax);
  r.cc.epoch = -1;
  const s = c.sent;
  if (s) for (let i = 0; i < s.count; i++) if (s.flags(i) & LOST) s.clear(i, LOST | RETRANS_OUT);
  if (c.caState >= CA_CWR) c.caState = CA_OPEN;
  c.host.count(COUNTER['recoveries-undone']);
  c.cc('undo', now);
}

/** RACK (RFC 8985 §6.2 steps 1–3): a segment was delivered, by a SACK or a cumulative ACK. */
function rackDelivered(c: Connection, s: SentQueue, i: number, now: number): void {
  const r = c.rec;
  if (!r) return;
  const xmit = s.xmit(i);
  const flags = s.flags(i);
  const end = s.end(i);
  const rtt = now - xmit;
  // An ACK sooner than the minimum RTT after a retransmission is for the original.
  if (flags & RETRANSMITTED && rtt < c.minRtt) return;
  const order = s.order(i);
  if (order > r.rackOrder) {
    r.rackXmit = xmit;
    r.rackOrder = order;
    r.rackEnd = end;
    r.rackRtt = rtt;
  }
  if (!(flags & RETRANSMITTED) && seqLt(end, r.fack)) r.reordering = true;
  r.fack = seqMax(r.fack, end);
}

/**
 * SND.UNA moved to `ack`: forgets the segments it covers. Returns the bytes
 * newly delivered by it: those not SACKed before.
 */
export function ackSent(c: Connection, ack: number, acked: number, now: number): number {
  // No sample unless this ACK gives one (never the previous ACK's, of whatever connection).
  noteAckRtt(-1);
  const s = c.sent;
  if (!s) return acked;
  const r = c.rec;
  let before = 0;
  while (s.count > 0 && seqLe(s.end(0), ack)) {
    const f = s.flags(0);
    if (f & SACKED) before += s.len(0);
    else if (r !== null) rackDelivered(c, s, 0, now);
    // The ACK's RTT sample (HyStart): the newest segment it delivers, if sent once.
    if (!(f & (SACKED | RETRANSMITTED))) noteAckRtt(now - s.xmit(0));
    s.shift();
  }
  if (s.count > 0 && seqLt(s.seq(0), ack)) s.trimFront(ack);
  return acked - before;
}

/** RFC 8985 §6.2 step 4: how long to wait for reordering before a hole counts as lost. */
function reoWnd(c: Connection, r: Recovery, s: SentQueue): number {
  if (!r.reordering && (c.caState >= CA_RECOVERY || s.sackedSegs >= DUPTHRESH)) return 0;
  const minRtt = Number.isFinite(c.minRtt) ? c.minRtt : c.srtt;
  return Math.min((r.reoMult * minRtt) / 4, c.srtt);
}

/** RFC 8985 §6.2 step 5: marks lost what was sent before the last delivered segment, a window ago. */
function rackDetect(c: Connection, now: number): number {
  const r = c.rec;
  const s = c.sent;
  if (!r || !s || r.rackXmit < 0) return 0;
  const reo = reoWnd(c, r, s);
  let lost = 0;
  let wait = 0;
  for (let i = 0; i < s.count; i++) {
    const f = s.flags(i);
    if (f & SACKED || (f & LOST && !(f & RETRANS_OUT))) continue;
    // Only what went out before the most recently sent segment delivered.
    if (s.order(i) >= r.rackOrder) continue;
    const x = s.xmit(i);
    const left = x + r.rackRtt + reo - now;
    if (left <= 0) {
      // A retransmission that is itself lost goes again (LOST stays, it is no longer in flight).
      if (f & RETRANS_OUT) s.clear(i, RETRANS_OUT);
      else s.set(i, LOST);
      lost += s.len(i);
      c.cc('marked-lost', now, s.seq(i), s.end(i));
    } else if (left > wait) wait = left;
  }
  if (wait > 0) armLossTimer(c, now, now + wait, LOSS_TIMER_RACK);
  else if (c.lossTimer === LOSS_TIMER_RACK) stopLossTimer(c, now);
  return lost;
}

/** RFC 6675 §4 IsLost: DupThresh SACKed segments, or more than (DupThresh − 1)·SMSS SACKed bytes, above it. */
function sackDetect(c: Connection, now: number): number {
  const s = c.sent!;
  let segs = 0;
  let bytes = 0;
  let lost = 0;
  for (let i = s.count - 1; i >= 0; i--) {
    const f = s.flags(i);
    if (f & SACKED) {
      segs++;
      bytes += s.len(i);
    } else if (!(f & LOST) && (segs >= DUPTHRESH || bytes > (DUPTHRESH - 1) * c.sndMss)) {
      s.set(i, LOST);
      lost += s.len(i);
      c.cc('marked-lost', now, s.seq(i), s.end(i));
    }
  }
  return lost;
}

/** Marks the first unacknowledged segment lost (three duplicate ACKs; a partial ACK without SACK). */
function markFirstLost(c: Connection, now: number): number {
  const s = c.sent;
  if (!s || s.count === 0) return 0;
  const f = s.flags(0);
  if (f & (SACKED | LOST)) return 0;
  s.set(0, LOST);
  c.cc('marked-lost', now, s.seq(0), s.end(0));
  return s.len(0);
}

function saveUndo(c: Connection, r: Recovery): void {
  r.priorCwnd = c.cwnd;
  r.priorSsthresh = c.ssthresh;
  r.priorWMax = r.cc.wMax;
  r.undoBytes = 0;
  r.undoArmed = true;
}

/** RFC 6675 §5 / RFC 6937 §3: one reduction per window of data; PRR paces what follows. */
function enterRecovery(c: Connection, flight: number, now: number): void {
  const r = c.recovery();
  saveUndo(c, r);
  c.ssthresh = ccSsthresh(c, flight);
  r.recoverySeq = c.sndMax;
  r.prrDelivered = 0;
  r.prrOut = 0;
  // RFC 6937's RecoverFS; as Linux (tcp_init_cwnd_reduction), the window before
  // the reduction: with SACK the flight also counts data already delivered.
  r.recoverFs = Math.max(r.priorCwnd, 1);
  c.caState = CA_RECOVERY;
  c.host.count(COUNTER['fast-retransmits']);
  c.cc('enter-recovery', now);
}

/**
 * RFC 6937's Proportional Rate Reduction, counted in segments as Linux does
 * (tcp_cwnd_reduction): while the pipe is above ssthresh, let out ssthresh /
 * RecoverFS of what is delivered; below it, slow-start back up to ssthresh
 * but no faster than what is delivered (PRR-SSRB; one more segment when
 * SND.UNA advanced and nothing new was found lost). An ACK that delivers
 * nothing changes nothing. `lost`: bytes newly marked lost by this ACK.
 */
function prr(
  c: Connection,
  delivered: number,
  lost: number,
  unaAdvanced: boolean,
  retransmitNow = false,
): void {
  const r = c.rec!;
  const mss = c.sndMss;
  if (delivered <= 0 && !retransmitNow) return;
  const got = Math.ceil(delivered / mss);
  r.prrDelivered += got;
  const inFlight = Math.ceil(pipe(c) / mss);
  const ssthresh = Math.floor(c.ssthresh / mss);
  const recoverFs = Math.max(1, Math.ceil(r.recoverFs / mss));
  const delta = ssthresh - inFlight;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.floor((ssthresh * r.prrDelivered + recoverFs - 1) / recoverFs) - r.prrOut;
  } else {
    sndcnt = Math.max(r.prrDelivered - r.prrOut, got);
    if (unaAdvanced && lost === 0) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  // The fast retransmit itself goes whatever the arithmetic says (RFC 6937 §3, RFC 6675 §5
  // step 4.2), and so does NewReno's retransmission on a partial ACK (RFC 6582 §3.2 step 3).
  sndcnt = Math.max(sndcnt, r.prrOut === 0 || retransmitNow ? 1 : 0);
  c.cwnd = pipe(c) + sndcnt * mss;
}

/**
 * Everything an ACK means for recovery and the window, after SACK blocks were
 * read (`sacked` bytes newly SACKed) and SND.UNA moved (`acked` bytes).
 * `flight` was in flight before it; `dup` says it was a duplicate ACK.
 */
export function afterAck(
  c: Connection,
  acked: number,
  newlyAcked: number,
  sacked: number,
  flight: number,
  dup: boolean,
  now: number,
): void {
  const before = c.cwnd;
  const beforeSsthresh = c.ssthresh;
  const r = c.rec;
  if (r !== null && r.tlpEnd !== -1 && seqGe(c.sndUna, r.tlpEnd))
    tlpAcked(c, r, dup && sacked === 0, flight, now);
  let lost = 0;
  let partial = false;
  if (c.sent && c.sent.count > 0) {
    if (
      dup &&
      c.dupAcks === DUPTHRESH &&
      c.caState < CA_RECOVERY &&
      (!c.sackOk || c.rec === null || !c.rec.sackSeen)
    ) {
      c.recovery();
      lost += markFirstLost(c, now);
    }
    if (!c.sackOk) {
      // RFC 6582 §3.2: a partial ACK in recovery means the next segment is lost too.
      if (acked > 0 && c.caState === CA_RECOVERY && seqLt(c.sndUna, c.rec!.recoverySeq)) {
        lost += markFirstLost(c, now);
        partial = true;
      }
    } else if (c.rec && (acked > 0 || sacked > 0)) {
      lost += c.cfg.rack ? rackDetect(c, now) : sackDetect(c, now);
    }
  }
  // RFC 6937's DeliveredData: what this ACK newly acknowledged or SACKed.
  let delivered = newlyAcked + sacked;
  const rec = c.rec;
  if (!c.sackOk && rec !== null) {
    // RFC 6937 §3: without SACK a duplicate ACK stands for one delivered segment.
    if (dup) {
      delivered = c.sndMss;
      rec.dupCredit += c.sndMss;
    } else if (acked > 0) {
      delivered = Math.max(0, acked - rec.dupCredit);
      rec.dupCredit = Math.max(0, rec.dupCredit - acked);
    }
  }
  // Without SACK, an ACK of exactly the recovery point keeps recovery until
  // something above it is acknowledged (RFC 6582 §4.1's guard against false fast
  // retransmits, as Linux's tcp_try_undo_recovery).
  const ended =
    rec !== null &&
    (c.sackOk || c.caState !== CA_RECOVERY
      ? seqGe(c.sndUna, rec.recoverySeq)
      : seqGt(c.sndUna, rec.recoverySeq));
  if (c.caState >= CA_CWR && acked > 0 && ended) {
    // RFC 6937 §3.1: recovery ends with the window at ssthresh; after an RTO slow start goes on.
    if (c.caState === CA_RECOVERY) c.cwnd = c.ssthresh;
    c.caState = CA_OPEN;
    c.cc('exit-recovery', now);
  } else if (lost > 0 && c.caState < CA_RECOVERY) {
    enterRecovery(c, flight, now);
  }
  if (c.caState === CA_RECOVERY) prr(c, delivered, lost, acked > 0, partial);
  else if (acked > 0) ccOnAck(c, delivered, now);
  if (c.caState === CA_OPEN && (c.dupAcks > 0 || (c.sent !== null && c.sent.sacked > 0)))
    c.caState = CA_DISORDER;
  else if (c.caState === CA_DISORDER && c.dupAcks === 0 && (!c.sent || c.sent.sacked === 0))
    c.caState = CA_OPEN;
  if (c.cwnd !== before || c.ssthresh !== beforeSsthresh) c.cc('cwnd', now);
  if (c.sent && c.sent.count === 0) c.sent = null;
  // RFC 8985 §7.2: each ACK of new data moves the probe timeout on.
  if (acked > 0 || c.lossTimer === LOSS_TIMER_TLP) armLossProbe(c, now);
}

/** RFC 5681 §3.1, RFC 6675 §5.1: the retransmission timer fired with data outstanding. */
export function enterLoss(c: Connection, now: number): void {
  const r = c.recovery();
  if (c.caState !== CA_LOSS) {
    // Repeated timeouts of the same data keep ssthresh (RFC 5681 §3.1, eq. 4's note).
    const flight = seqDiff(c.sndMax, c.sndUna);
    c.ssthresh = c.caState === CA_RECOVERY ? c.ssthresh : ccSsthresh(c, flight);
    r.undoArmed = false;
  }
  c.cwnd = c.sndMss;
  c.caState = CA_LOSS;
  r.recoverySeq = c.sndMax;
  r.tlpEnd = -1;
  r.dupCredit = 0;
  const s = c.sent;
  if (s) {
    // The oldest segment SACKed yet never acknowledged: the peer dropped what it
    // had SACKed (reneging, RFC 2018 §8). Forget every SACK mark, or that data
    // would never go again (as Linux's tcp_timeout_mark_lost).
    if (s.count > 0 && s.flags(0) & SACKED) {
      for (let i = 0; i < s.count; i++) if (s.flags(i) & SACKED) s.clear(i, SACKED);
      c.host.count(COUNTER['sack-reneging']);
    }
    for (let i = 0; i < s.count; i++) {
      const f = s.flags(i);
      if (f & SACKED) continue;
      if (f & RETRANS_OUT) s.clear(i, RETRANS_OUT);
      if (!(f & LOST)) s.set(i, LOST);
    }
  }
  stopLossTimer(c, now);
  c.cc('enter-loss', now);
}

/** RFC 8985 §7.2: arms the probe timeout after new data went out or an ACK came, when it beats the RTO. */
export function armLossProbe(c: Connection, now: number): void {
  if (!c.cfg.rack || !c.sackOk || c.caState !== CA_OPEN || !c.sent || c.sent.count === 0) {
    if (c.lossTimer === LOSS_TIMER_TLP) stopLossTimer(c, now);
    return;
  }
  if (c.rec && c.rec.tlpEnd !== -1) return;
  if (!c.rttSampled) return;
  const flight = seqDiff(c.sndMax, c.sndUna);
  const pto = 2 * c.srtt + (flight <= c.sndMss ? WC_DEL_ACK : PTO_FLOOR);
  // When the RTO would come first, the probe goes in its place (Linux's
  // tcp_schedule_loss_probe): onTimer takes it before the RTO, which it re-arms.
  armLossTimer(c, now, Math.min(now + pto, c.rexmitAt), LOSS_TIMER_TLP);
}

function armLossTimer(c: Connection, now: number, at: number, kind: number): void {
  if (c.lossAt === at && c.lossTimer === kind) return;
  c.lossAt = at;
  c.lossTimer = kind;
  c.timer(kind === LOSS_TIMER_RACK ? 'rack' : 'loss-probe', 'armed', now, at);
  updateDeadline(c);
}

export function stopLossTimer(c: Connection, now: number): void {
  if (c.lossTimer === 0) return;
  c.timer(c.lossTimer === LOSS_TIMER_RACK ? 'rack' : 'loss-probe', 'stopped', now);
  c.lossAt = Infinity;
  c.lossTimer = 0;
  updateDeadline(c);
}

/**
 * The RACK reordering timer or the probe timeout fired. Returns what to do
 * next: 'output' after losses were marked, or 'probe' for a tail loss probe.
 */
export function onLossTimer(c: Connection, now: number): 'output' | 'probe' | 'none' {
  const kind = c.lossTimer;
  c.lossAt = Infinity;
  c.lossTimer = 0;
  if (!c.sent || c.sent.count === 0) return 'none';
  if (kind === LOSS_TIMER_RACK) {
    c.timer('rack', 'fired', now);
    const flight = seqDiff(c.sndMax, c.sndUna);
    if (rackDetect(c, now) === 0) return 'none';
    if (c.caState < CA_RECOVERY) enterRecovery(c, flight, now);
    // As Linux's tcp_rack_reo_timeout: the reduction starts as if one segment was delivered.
    if (c.caState === CA_RECOVERY) prr(c, c.sndMss, 1, false);
    c.cc('cwnd', now);
    return 'output';
  }
  c.timer('loss-probe', 'fired', now);
  if (c.caState !== CA_OPEN || (c.rec !== null && c.rec.tlpEnd !== -1)) return 'none';
  return 'probe';
}

/** A probe went out (RFC 8985 §7.3): remember it until the ACK that covers it. */
export function probeSent(c: Connection, retransmission: boolean): void {
  const r = c.recovery();
  r.tlpEnd = c.sndMax;
  r.tlpRetrans = retransmission;
  r.tlpDsacked = false;
  c.host.count(COUNTER['tail-loss-probes']);
}

/** Bookkeeping for a retransmission of record `i` (undo and PRR count it). */
export function noteRetransmit(c: Connection, s: SentQueue, i: number, now: number): void {
  s.retransmitted(i, now, s.sends++);
  const r = c.rec;
  if (r) {
    if (r.undoArmed) r.undoBytes += s.len(i);
    if (c.caState === CA_RECOVERY) r.prrOut += Math.ceil(s.len(i) / c.sndMss);
  }
}

/** New data went out during recovery (PRR counts it). */
export function noteNewData(c: Connection, len: number): void {
  if (c.caState === CA_RECOVERY && c.rec) c.rec.prrOut += Math.ceil(len / c.sndMss);
}
