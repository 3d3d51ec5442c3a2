// The receive side of one connection (RFC 9293 §3.10.7.4 seventh and eighth
// steps, §3.8.6): in-order and out-of-order data, the FIN, the receive window
// we advertise, and what the application reads.

import type { Segment } from '../wire/tcp.ts';
import { Reassembly } from './buffers.ts';
import type { Connection } from './connection.ts';
import { seqAdd, seqDiff, seqGt } from './seq.ts';
import { sendAck } from './snd.ts';
import { State } from './types.ts';

/** Takes up to `max` bytes of in-order data; null when none is queued. */
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
  const before = rcvWindow(c);
  c.recvQueued -= out.length;
  if (q.length === 0) c.recvChunks = null;
  maybeWindowUpdate(c, before, now);
  return out;
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
  if (payload.length > 0 || finHere) {
    if (!open) {
      if (payload.length > 0) c.host.drop(c, seg, 'data-after-fin', now);
      // A retransmitted FIN in TIME-WAIT is acknowledged and restarts 2MSL (RFC 9293 §3.10.7.4).
      if (st === State.TimeWait && fin) {
        c.enterTimeWait(now);
      }
      c.ackNeeded = true;
      return;
    }
    // Accept no more than the window allows (RFC 9293 §3.10.7.4: trim the tail).
    const room = seqDiff(seqAdd(c.rcvNxt, rcvWindow(c)), seq);
    if (payload.length > room) {
      payload = payload.subarray(0, Math.max(0, room));
      finHere = false;
    }
    if (seq === c.rcvNxt) {
      if (payload.length > 0) enqueue(c, payload);
      c.rcvNxt = seqAdd(c.rcvNxt, payload.length);
      let gotFin = finHere;
      let filled = 0;
      if (c.ooo && !c.ooo.empty) {
        const before = c.recvQueued;
        const r = c.ooo.pull(c.rcvNxt, (d) => enqueue(c, d));
        c.rcvNxt = r.next;
        filled = c.recvQueued - before;
        gotFin ||= r.fin;
        if (c.ooo.empty) c.ooo = null;
      }
      if (payload.length > 0 || filled > 0) c.host.deliver(c, { type: 'readable' }, now);
      if (gotFin) receiveFin(c, now);
    } else {
      c.ooo ??= new Reassembly();
      c.ooo.insert(seq, payload, finHere);
    }
    c.ackNeeded = true;
  }
}

export function enqueue(c: Connection, d: Uint8Array): void {
  if (d.length === 0) return;
  c.recvChunks ??= [];
  c.recvChunks.push(d.slice());
  c.recvQueued += d.length;
}

function receiveFin(c: Connection, now: number): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finReceived = true;
  c.ackNeeded = true;
  c.host.deliver(c, { type: 'end' }, now);
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

/** Receive window: free buffer space, never less than what was already promised (no shrinking). */
export function rcvWindow(c: Connection): number {
  const free = Math.max(0, c.cfg.rcvBuf - c.recvQueued);
  const promised = seqDiff(c.rcvAdv, c.rcvNxt);
  return Math.max(promised, free);
}

/** The window field of a segment we send; moves RCV.ADV (the right edge announced). */
export function advertise(c: Connection): number {
  const wnd = rcvWindow(c);
  // Round up so that scaling never announces less than was promised (RFC 7323 §2.4).
  const field = Math.min((wnd + (1 << c.rcvWndScale) - 1) >>> c.rcvWndScale, 0xffff);
  const edge = seqAdd(c.rcvNxt, field << c.rcvWndScale);
  if (seqGt(edge, c.rcvAdv)) c.rcvAdv = edge;
  return field;
}

/** After the application read: announce a window that opened by an MSS or half the buffer (RFC 9293 §3.8.6.2.2). */
function maybeWindowUpdate(c: Connection, before: number, now: number): void {
  if (!c.synchronized() || c.finReceived) return;
  const promised = seqDiff(c.rcvAdv, c.rcvNxt);
  const free = c.cfg.rcvBuf - c.recvQueued;
  const grow = free - promised;
  if (grow >= Math.min(c.cfg.mss, c.cfg.rcvBuf / 2) && before <= promised) {
    sendAck(c, now, 'window-update');
  }
}
