// The receive side of one connection (RFC 9293 §3.10.7.4 sixth to eighth
// steps, §3.8.6): urgent data, in-order and out-of-order data, the FIN, the
// receive window we advertise (bounded by the buffer, with receiver SWS
// avoidance), when we acknowledge (delayed ACKs), and what the application reads.

import { type Segment, URG } from '../wire/tcp.ts';
import { Reassembly } from './buffers.ts';
import type { Connection } from './connection.ts';
import { COUNTER } from './counters.ts';
import { EV_END, EV_READABLE, EV_URGENT } from './events.ts';
import { seqAdd, seqDiff, seqGt, seqLt } from './seq.ts';
import { sendAbortReset, sendAck } from './snd.ts';
import { updateDeadline } from './timer.ts';
import { State } from './types.ts';

/** Takes up to `max` bytes of in-order data; null when none is queued. */
/**
 * `rcvClamp` when nothing clamps the window: above any window there can be
 * (65535 << 14 bytes), and a small integer, where +Infinity would be a boxed
 * number in every connection (see deadline.ts).
 */
export const NO_CLAMP = 0x3fffffff;

export function read(c: Connection, max: number, now: number): Uint8Array | null {
  const q = c.recvChunks;
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
    for (const chunk of q) n += chunk.length;
    out = new Uint8Array(Math.min(n, max));
    let k = 0;
    while (k < out.length) {
      const chunk = q[0];
      const take = Math.min(chunk.length, out.length - k);
      out.set(chunk.subarray(0, take), k);
      k += take;
      if (take === chunk.length) q.shift();
      else q[0] = chunk.subarray(take);
    }
  }
  const freeBefore = rcvFree(c);
  c.recvQueued -= out.length;
  if (q.length === 0) c.recvChunks = null;
  if (c.rcvBuf < c.cfg.rcvBufMax && !c.cfg.rcvBufLocked) growRcvBuf(c, out.length, now);
  maybeWindowUpdate(c, freeBefore, now);
  return out;
}

/** The period a receiver that has no RTT measured yet (it sent no data) counts its reads over. */
const TUNE_PERIOD_NO_RTT = 100;

/**
 * Dynamic right-sizing (as Linux's tcp_rcv_space_adjust): once a round trip,
 * if the application read more than half the buffer in it, the window was
 * what held the sender back, and the buffer becomes twice what was read (room
 * for the sender to double its rate), up to rcvBufMax and what the window
 * scale can announce. A reader that keeps up is all it takes: data the
 * application does not read never makes the buffer grow.
 */
function growRcvBuf(c: Connection, n: number, now: number): void {
  let t = c.tune;
  if (t === null) {
    t = { at: now, copied: 0 };
    c.tune = t;
  }
  t.copied += n;
  const period = c.rttSampled ? Math.max(1, c.srtt) : TUNE_PERIOD_NO_RTT;
  if (now - t.at < period) return;
  const copied = t.copied;
  t.at = now;
  t.copied = 0;
  if (2 * copied <= c.rcvBuf) return;
  const limit = Math.min(c.cfg.rcvBufMax, 0xffff * 2 ** c.rcvWndScale);
  c.rcvBuf = Math.max(c.rcvBuf, Math.min(limit, 2 * copied));
}

/** Bytes of urgent data not yet read (RFC 9293 §3.8.5, MUST-33): up to the urgent pointer. */
export function urgentPending(c: Connection): number {
  const readSeq = seqAdd(c.rcvNxt, -c.recvQueued);
  return c.rcvUpValid ? Math.max(0, seqDiff(c.rcvUp, readSeq)) : 0;
}

/** Sixth step (RFC 9293 §3.10.7.4, RFC 6093): the urgent pointer points just past the urgent data. */
export function processUrgent(c: Connection, seg: Segment, seq: number, now: number): void {
  if (!(seg.flags & URG) || seg.urgent === 0) return;
  const st = c.state;
  if (st !== State.Established && st !== State.FinWait1 && st !== State.FinWait2) return;
  const up = seqAdd(seq, seg.urgent);
  if (c.rcvUpValid && !seqGt(up, c.rcvUp)) return;
  c.rcvUp = up;
  c.rcvUpValid = true;
  c.host.count(COUNTER['urgent-received']);
  // Urgent data is delivered inline (RFC 6093 §4); the application learns of it at once (MUST-32).
  c.host.deliver(c, EV_URGENT, now);
}

export function processText(
  c: Connection,
  seq: number,
  data: Uint8Array,
  fin: boolean,
  seg: Segment,
  now: number,
): void {
  const st = c.state;
  const open = st === State.Established || st === State.FinWait1 || st === State.FinWait2;
  let payload = data;
  let finHere = fin;
  if (payload.length === 0 && !finHere) return;
  if (!open) {
    if (payload.length > 0) c.host.drop(c, seg, 'data-after-fin', now);
    // A retransmitted FIN in TIME-WAIT is acknowledged and restarts 2MSL (RFC 9293 §3.10.7.4).
    if (st === State.TimeWait && fin) c.enterTimeWait(now);
    // Linux drops new data after the peer's FIN without a word (tcp_rcv_state_process).
    if (c.cfg.profile.linuxQuirks && st !== State.TimeWait && !seqLt(seq, c.rcvNxt)) return;
    c.ackNeeded = true;
    return;
  }
  if (c.readClosed && payload.length > 0) {
    // The application closed and will read nothing more: the data is lost, so
    // the peer is told with RST (RFC 9293 §3.10.4, RFC 2525 §2.17), as Linux does.
    c.host.drop(c, seg, 'data-after-close', now);
    sendAbortReset(c, now);
    c.release(now, undefined);
    return;
  }
  // Accept no more than the window we advertised (RFC 9293 §3.10.7.4: trim the tail).
  const room = seqDiff(c.rcvAdv, seq);
  if (payload.length > room) {
    payload = payload.subarray(0, Math.max(0, room));
    finHere = false;
  }
  if (payload.length > c.rcvMss) c.rcvMss = Math.min(payload.length, c.cfg.mss);
  if (seq === c.rcvNxt) {
    if (payload.length > 0) {
      enqueue(c, payload);
      // Linux's tcp_grow_window: a full-sized segment grows the window clamp by two
      // segments while the buffer's half meant for data has room beyond it.
      if (
        c.cfg.profile.growWindow &&
        payload.length >= c.cfg.mss - (c.tsOk ? 12 : 0) &&
        c.rcvClamp < linuxSpace(c)
      )
        c.rcvClamp = Math.min(c.rcvBuf >> 1, c.rcvClamp + 2 * c.cfg.mss);
    }
    c.rcvNxt = seqAdd(c.rcvNxt, payload.length);
    let gotFin = finHere;
    let filled = 0;
    const hole = c.ooo !== null && !c.ooo.empty;
    if (hole) {
      const ooo = c.ooo!;
      const before = c.recvQueued;
      const r = ooo.pull(c.rcvNxt, (d) => enqueue(c, d));
      c.rcvNxt = r.next;
      filled = c.recvQueued - before;
      gotFin ||= r.fin;
      if (ooo.empty) c.ooo = null;
    }
    if (payload.length > 0 || filled > 0) c.host.deliver(c, EV_READABLE, now);
    // Linux's tcp_fin enters pingpong (no more quick ACKs): data with a FIN is then
    // acknowledged by the delayed-ACK timer.
    const pingpong =
      gotFin &&
      !hole &&
      payload.length > 0 &&
      c.cfg.profile.finPingpong === true &&
      c.state === State.Established;
    if (gotFin) receiveFin(c, now);
    if (pingpong) {
      c.ackNeeded = false;
      c.quickAcks = 0;
      acknowledgeData(c, payload.length, now);
    }
    // RFC 5681 §4.2: a segment that fills (part of) a hole is acknowledged at once.
    else if (hole || gotFin) c.ackNeeded = true;
    else acknowledgeData(c, payload.length, now);
  } else {
    c.ooo ??= new Reassembly(c.cfg.oooMaxSegments);
    const pruned = c.ooo.insert(seq, payload, finHere);
    if (pruned > 0) c.host.drop(c, seg, 'ooo-pruned', now);
    // Out-of-order data: an immediate duplicate ACK (RFC 5681 §4.2, MAY-13) tells the sender.
    c.ackNeeded = true;
  }
}

/**
 * In-order data arrived: acknowledge now, or arm the delayed-ACK timer (RFC
 * 9293 §3.8.6.3, RFC 1122 §4.2.3.2). At once while quick-acking (the first
 * segments of a connection, as Linux), or once more than one full-sized
 * segment is unacknowledged (SHLD-19); otherwise within the ACK delay (MUST-40).
 */
function acknowledgeData(c: Connection, len: number, now: number): void {
  if (len === 0) return;
  c.rcvUnacked += len;
  if (!c.cfg.delayedAck) {
    c.ackNeeded = true;
    return;
  }
  // Adapt the delay to how fast data arrives (in the manner of Linux's ATO).
  const min = c.cfg.ackDelayMin;
  const gap = now - c.lastDataAt;
  c.lastDataAt = now;
  if (c.ato === 0) c.ato = min;
  else if (gap <= c.ato / 2) c.ato = c.ato / 2 + min / 2;
  else if (gap < c.ato) c.ato = Math.min(c.ato / 2 + gap, c.cfg.ackDelayMax);
  if (c.quickAcks > 0) {
    c.quickAcks--;
    c.ackNeeded = true;
    return;
  }
  if (c.rcvUnacked > c.rcvMss) {
    c.ackNeeded = true;
    return;
  }
  if (c.delAckAt === Infinity) {
    const delay = Math.min(Math.max(c.ato, min), c.cfg.ackDelayMax, 500);
    c.delAckAt = now + delay;
    c.timer('delayed-ack', 'armed', now, c.delAckAt);
    updateDeadline(c);
  }
}

export function enqueue(c: Connection, d: Uint8Array): void {
  if (d.length === 0) return;
  if (c.recvQueued === 0) c.rcvFirstLen = d.length;
  c.recvChunks ??= [];
  c.recvChunks.push(c.host.zeroCopy ? d : d.slice());
  c.recvQueued += d.length;
}

function receiveFin(c: Connection, now: number): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finReceived = true;
  c.ackNeeded = true;
  c.host.deliver(c, EV_END, now);
  switch (c.state) {
    case State.Established:
      c.setState(State.CloseWait, now);
      break;
    case State.FinWait1:
      if (c.finAcked()) c.enterTimeWait(now);
      else c.setState(State.Closing, now, 'simultaneous close');
      break;
    case State.FinWait2:
      c.enterTimeWait(now);
      break;
  }
}

/** RCV.WND (RFC 9293 §3.3.1): what we advertised and have not yet received. */
export function rcvWindow(c: Connection): number {
  return Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
}

/** Receive-buffer space not taken by data the application has yet to read. */
function rcvFree(c: Connection): number {
  // Linux: half the buffer is for data, less what unread data costs in memory
  // (its skbs' truesize), and never beyond the window clamp (rcv_ssthresh).
  if (c.cfg.profile.linuxQuirks) return Math.max(0, Math.min(c.rcvClamp, linuxSpace(c)));
  return Math.max(0, Math.min(c.rcvBuf - c.recvQueued, c.rcvClamp));
}

/**
 * Linux's tcp_space() for data that arrived through TUN, as packetdrill and
 * the kernel replay see it: the first unread segment is an skb holding its
 * whole packet plus headroom, in a power-of-two allocation, plus the sk_buff;
 * later segments coalesce into it (tcp_try_coalesce) and cost their length.
 * Fitted to the kernel's windows over TUN (synack script --kernel).
 */
function linuxSpace(c: Connection): number {
  if (c.recvQueued === 0) return c.rcvBuf >> 1;
  const first = Math.max(1, c.rcvFirstLen);
  const packet = first + (c.localAddr.length === 16 ? 60 : 40) + (c.tsOk ? 12 : 0);
  const skb = 2 ** Math.ceil(Math.log2(packet + 128)) + 132;
  return (c.rcvBuf >> 1) - (c.recvQueued - first + skb);
}

/** Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): the right edge moves by at least this much. */
function swsThreshold(c: Connection): number {
  return Math.max(1, Math.min(c.rcvBuf >>> 1, c.rcvMss));
}

/**
 * The window field of a segment we send; moves RCV.ADV, the right edge
 * announced. The edge only moves right, and only by at least the SWS
 * threshold (MUST-39). Scaling rounds up only while the rounded edge stays
 * within the buffer (less than one scale unit over), so the bytes held never
 * exceed the buffer and a window that is full closes (RFC 7323 §2.4).
 */
export function advertise(c: Connection): number {
  const shift = c.rcvWndScale;
  const promised = rcvWindow(c);
  // Once its TIME-WAIT is a record (timewait.ts), a connection answers with the
  // window it last advertised (Linux's tw_rcv_wnd, FreeBSD's last_win):
  // nothing more will arrive, and the record keeps that window, not the
  // buffer it was made from.
  if (c.state === State.TimeWait && c.timeWaitFate !== null)
    return Math.min(0xffff, promised >>> shift);
  const free = rcvFree(c);
  // FreeBSD (tcp_output) offers all the free space, never less than already promised,
  // and keeps receiver SWS avoidance to when it sends a window update; otherwise the
  // edge moves only by the SWS threshold (MUST-39).
  const wnd = c.cfg.profile.bsdBuffers
    ? Math.max(free, promised)
    : free - promised >= swsThreshold(c)
      ? free
      : promised;
  const limit = free + (1 << shift) - 1;
  // FreeBSD shifts the free space down; otherwise round up while the rounded edge stays
  // within the buffer (below), or, in Linux, whenever the offer stands.
  let field = c.cfg.profile.bsdBuffers ? wnd >>> shift : (wnd + (1 << shift) - 1) >>> shift;
  if (field << shift > limit && !(wnd === promised && c.cfg.profile.neverShrinkWindow))
    field = limit >>> shift;
  if (field > 0xffff) field = 0xffff;
  const edge = seqAdd(c.rcvNxt, field << shift);
  if (seqGt(edge, c.rcvAdv)) c.rcvAdv = edge;
  return field;
}

/**
 * After the application read: announce the window when this read opened it
 * by the SWS threshold and the peer's view of it has fallen below half the
 * buffer (RFC 9293 §3.8.6.2.2; as Linux, so that a steady reader does not
 * add an ACK per read).
 */
function maybeWindowUpdate(c: Connection, freeBefore: number, now: number): void {
  if (!c.synchronized() || c.finReceived) return;
  const promised = rcvWindow(c);
  const threshold = swsThreshold(c);
  const free = rcvFree(c);
  // Linux (tcp_cleanup_rbuf): only when the window at least doubles.
  if (c.cfg.profile.linuxQuirks) {
    if (promised * 2 <= c.rcvClamp && free >= 2 * promised && free > 0)
      sendAck(c, now, 'window-update');
    return;
  }
  if (
    free - promised >= threshold &&
    freeBefore - promised < threshold &&
    promised < c.rcvBuf / 2
  ) {
    sendAck(c, now, 'window-update');
  }
}
