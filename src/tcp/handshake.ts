// The opening of one connection (RFC 9293 §3.5, §3.10.1, §3.10.7.3): the
// active OPEN, the passive OPEN a listener completes, Fast Open (RFC 7413),
// simultaneous open, the SYN and SYN,ACK we send, and SYN-SENT processing.

import { ACK, FIN, RST, type Segment, SYN, type TcpOption } from '../wire/tcp.ts';
import { SendBuffer } from './buffers.ts';
import { initialWindow } from './cc.ts';
import type { Connection, Handshake } from './connection.ts';
import { COUNTER } from './counters.ts';
import { ConnectionRefused } from './errors.ts';
import { EV_ESTABLISHED, EV_READABLE } from './events.ts';
import {
  defaultMss,
  echoSent,
  findTimestamp,
  negotiate,
  readSynOffer,
  synOptions,
  synWindow,
  withFastOpen,
} from './options.ts';
import { enqueue, processText } from './rcv.ts';
import { rtoAfterSynTimeout, rttSample } from './rto.ts';
import { seqAdd, seqDiff, seqGt, seqLe } from './seq.ts';
import { sendAck, sendReset } from './snd.ts';
import { armKeepAlive, armRexmit, sampleRtt, stopRexmit } from './timer.ts';
import { State, type SynOffer } from './types.ts';

const EMPTY = new Uint8Array(0);

/** Active OPEN: CLOSED → SYN-SENT, sending SYN with ISS. */
export function openActive(
  c: Connection,
  iss: number,
  tsOffset: number,
  now: number,
  synData?: Uint8Array,
  fastOpen?: Uint8Array,
): void {
  if (fastOpen) c.fastOpen = fastOpen;
  c.iss = iss;
  c.sndUna = iss;
  c.sndNxt = seqAdd(iss, 1);
  c.sndSmall = c.sndNxt;
  c.tsOffset = tsOffset;
  if (synData && synData.length > 0) {
    // Data on the SYN (RFC 9293 allows it; without Fast Open a server must not
    // deliver it early, and acknowledges only the SYN: we then send it again).
    c.sendBuf = new SendBuffer();
    c.sendBuf.push(synData);
    c.synDataLen = c.sendBuf.length;
    c.sndNxt = seqAdd(c.sndNxt, c.synDataLen);
  }
  c.sndMax = c.sndNxt;
  // When the first SYN left: the earliest TSval an answer may echo.
  c.rttStart = now;
  c.host.count(COUNTER['active-opens']);
  c.setState(State.SynSent, now);
  sendSyn(c, now, 'syn');
  armRexmit(c, now, c.rto);
}

/** Passive OPEN completed by a listener: the connection starts ESTABLISHED. */
export function openFromHandshake(
  c: Connection,
  h: Handshake,
  peerWindow: number,
  now: number,
): void {
  // Our SYN was acknowledged: everything up to ISS+1 is done.
  adoptHandshake(c, h, seqAdd(h.iss, 1));
  c.rcvAdv = seqAdd(c.rcvNxt, synWindow(c.cfg, c.tsOk, true, c.localAddr.length === 16));
  c.sndWnd = peerWindow << c.sndWndScale;
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = c.rcvNxt;
  c.sndWl2 = c.sndUna;
  if (h.retransmits > 0) rtoAfterSynTimeout(c);
  else if (h.timedSentAt >= 0 && c.cfg.profile.synAckRtt) rttSample(c, now - h.timedSentAt);
  c.host.count(COUNTER['passive-opens']);
  c.state = State.SynReceived; // the listener's half-open record already reported LISTEN → SYN-RECEIVED
  enterEstablished(c, now);
}

/** The TCB of a passive open from its handshake; SND.UNA is `una` (ISS while our SYN is unacknowledged). */
function adoptHandshake(c: Connection, h: Handshake, una: number): void {
  c.passive = true;
  c.iss = h.iss;
  c.irs = h.irs;
  c.sndUna = una;
  c.sndNxt = seqAdd(h.iss, 1);
  c.sndMax = c.sndNxt;
  c.sndSmall = c.sndNxt;
  c.rcvNxt = seqAdd(h.irs, 1);
  takeOffer(c, h.offer);
  if (c.cfg.profile.growWindow)
    c.rcvClamp = c.cfg.profile.synWindow(c.tsOk, true, c.cfg, c.localAddr.length === 16);
  c.tsRecent = h.tsRecent;
  c.tsOffset = h.tsOffset;
}

/** What both ends agreed on (from the peer's offer), and what follows from it: the initial window, buffer sizes. */
function takeOffer(c: Connection, offer: SynOffer): void {
  negotiate(c, c.cfg, offer, c.localAddr.length === 16);
  const mss = c.sndMss;
  c.cwnd = initialWindow(mss);
  if (c.cfg.profile.bsdBuffers) {
    // FreeBSD tcp_mss(): buffers rounded up to whole segments (RFC 9293 leaves sizes to the host).
    const seg = mss + (c.tsOk ? 12 : 0);
    c.rcvBuf = Math.ceil(c.rcvBuf / seg) * seg;
    c.sndBuf = Math.ceil(c.sndBuf / seg) * seg;
  }
}

/**
 * A passive open with Fast Open (RFC 7413 §4.2.2): the SYN carried a valid
 * cookie, so the connection exists at once in SYN-RECEIVED, its data goes to
 * the application now, and the SYN,ACK acknowledges that data.
 */
export function openFastOpen(
  c: Connection,
  h: Handshake,
  peerWindow: number,
  syn: Segment,
  now: number,
): void {
  adoptHandshake(c, h, h.iss);
  c.sndWnd = peerWindow;
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = h.irs;
  c.sndWl2 = h.iss;
  c.host.count(COUNTER['passive-opens']);
  c.state = State.Listen;
  c.setState(State.SynReceived, now, 'Fast Open');
  if (syn.payload.length > 0) {
    enqueue(c, syn.payload);
    c.rcvNxt = seqAdd(c.rcvNxt, syn.payload.length);
    c.host.deliver(c, EV_READABLE, now);
  }
  c.host.deliver(c, EV_ESTABLISHED, now);
  c.fastOpened = true;
  sendSyn(c, now, 'syn-ack');
  armRexmit(c, now, c.rto);
}

/** NOT TCP (the simulator's two-way listener): take the SYN's data now and answer SYN,ACK. */
export function acceptTwoWaySyn(c: Connection, seg: Segment, now: number): void {
  if (seg.payload.length > 0) {
    enqueue(c, seg.payload);
    c.rcvNxt = seqAdd(c.rcvNxt, seg.payload.length);
    c.host.deliver(c, EV_READABLE, now);
  }
  const saved = c.state;
  c.state = State.SynReceived;
  sendSyn(c, now, 'syn-ack');
  c.state = saved;
}

/** RFC 9293 §3.10.7.3: a segment arrives in SYN-SENT. */
export function arriveSynSent(c: Connection, seg: Segment, now: number): void {
  const f = seg.flags;
  // First: an ACK must acknowledge our SYN.
  const hasAck = (f & ACK) !== 0;
  if (hasAck && (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndNxt))) {
    // Linux: our SYN may have met a stale connection's state; unless it was
    // already retransmitted, send it again almost at once (2 jiffies).
    if (c.cfg.profile.synSentQuickRetry && c.synRetransmits === 0) {
      armRexmit(c, now, c.cfg.profile.synSentQuickRetry, true);
    }
    if (!(f & RST)) sendReset(c, seg, now);
    c.host.drop(c, seg, 'unacceptable-ack', now);
    return;
  }
  // Linux (profile.echoChecks): a timestamp echo no SYN of ours carried makes
  // the ACK unacceptable, checked before the RST bit (tcp_rcv_synsent_state_process).
  if (hasAck && c.cfg.profile.echoChecks && c.cfg.timestamps) {
    const ts = findTimestamp(seg);
    if (
      ts !== undefined &&
      ts.kind === 'ts' &&
      !echoSent(ts.ecr, c.tsClock(c.rttStart), c.tsClock(now))
    ) {
      if (!(f & RST)) sendReset(c, seg, now);
      c.host.drop(c, seg, 'ts-echo-unsent', now);
      return;
    }
  }
  if (f & RST) {
    // RFC 5961 §3.2 keeps 9293's rule here: only an RST acknowledging our SYN refuses.
    if (hasAck) {
      c.host.count(COUNTER['resets-received']);
      c.release(now, ConnectionRefused.quiet());
    } else {
      c.host.drop(c, seg, 'rst-unacceptable-ack', now);
    }
    return;
  }
  if (!(f & SYN)) {
    c.host.drop(c, seg, 'no-syn', now);
    return;
  }
  const offer = readSynOffer(seg);
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  takeOffer(c, offer);
  if (offer.tsVal !== undefined) c.tsRecent = offer.tsVal;
  const triedFastOpen = c.fastOpen !== null || c.synDataLen > 0;
  // Cached with the MSS just learned: it sizes the data on the next SYN (RFC 7413 §4.1.3).
  // An unsolicited cookie is not kept; the MSS is, whenever the SYN tried Fast Open.
  if (triedFastOpen) {
    const cookie = c.fastOpen && offer.fo && offer.fo.length > 0 ? offer.fo : null;
    c.host.fastOpenCookie?.(c, cookie, offer.mss ?? defaultMss(c.localAddr.length === 16));
  }
  c.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  if (hasAck) {
    c.sndUna = seqAdd(c.iss, 1);
    if (c.synDataLen > 0) {
      // Whatever of the SYN's data the peer acknowledged is done; the rest goes again.
      const acked = Math.min(c.synDataLen, seqDiff(seg.ack, c.sndUna));
      c.synDataAcked = acked > 0;
      c.sendBuf!.drop(acked);
      c.sndUna = seg.ack;
      c.sndNxt = c.sndUna;
      // What the SYN carried and the peer did not take is sent again at once, and said so.
      if (acked < c.synDataLen) c.synResendEnd = seqAdd(c.sndUna, c.synDataLen - acked);
      c.synDataLen = 0;
    }
    sampleRtt(c, seg.ack, now);
    stopRexmit(c, now);
    if (c.synRetransmits > 0) rtoAfterSynTimeout(c);
    // Our SYN offered this window (unscaled); it is the edge the peer may fill.
    c.rcvAdv = seqAdd(
      c.rcvNxt,
      synWindow(c.cfg, c.cfg.timestamps, false, c.localAddr.length === 16),
    );
    enterEstablished(c, now);
    const text = seg.payload.length > 0 || (f & FIN) !== 0;
    if (text && (triedFastOpen || !c.cfg.profile.linuxQuirks)) {
      // Data after the SYN (RFC 9293 §3.10.7.3: continue at the URG check), and the third segment.
      c.ackNeeded = true;
      processText(c, seqAdd(seg.seq, 1), seg.payload, (f & FIN) !== 0, seg, now);
      return;
    }
    // Linux takes data and a FIN on a SYN,ACK only after a Fast Open SYN
    // (tcp_rcv_fastopen_synack); the ACK of the SYN alone has the peer send them again.
    if (text) c.host.count(COUNTER['syn-data-ignored']);
    // The third segment. What the application queued carries it (onSegment's
    // output); else a bare ACK goes at once, as Linux's tcp_send_ack here: the
    // host's batching (ackLater) waits for more segments to acknowledge in one,
    // and a peer that did not take Fast Open data can have sent none yet.
    if (triedFastOpen || c.finQueued || (c.sendBuf !== null && c.sendBuf.length > 0))
      c.ackNeeded = true;
    else sendAck(c, now, 'ack');
    return;
  }
  // Simultaneous open: SYN-SENT → SYN-RECEIVED, answer SYN,ACK with the same ISS.
  // Linux ignores data on a SYN without ACK here (the peer sends it again).
  if (seg.payload.length > 0 && !c.cfg.profile.linuxQuirks) c.synData = seg.payload.slice();
  c.setState(State.SynReceived, now, 'simultaneous open');
  sendSyn(c, now, 'syn-ack');
  armRexmit(c, now, c.rto);
}

export function enterEstablished(c: Connection, now: number): void {
  c.setState(State.Established, now);
  if (c.cfg.profile.halfWindowMss) {
    const w = c.maxSndWnd;
    const cutoff = w > 536 ? w >> 1 : w;
    if (cutoff > 0 && c.sndMss > cutoff) c.sndMss = Math.max(cutoff, 68 - 20 - (c.tsOk ? 12 : 0));
  }
  // The initial window, as the first point of the trace's window plot.
  c.cc('cwnd', now);
  if (c.keepAlive) armKeepAlive(c, now, c.keepAliveIdleMs);
  if (!c.fastOpened) c.host.deliver(c, EV_ESTABLISHED, now);
  if (c.synData) {
    // Data that rode on a SYN in SYN-SENT is delivered now (RFC 9293 §3.10.7.3).
    const d = c.synData;
    c.synData = null;
    enqueue(c, d);
    c.rcvNxt = seqAdd(c.rcvNxt, d.length);
    c.ackNeeded = true;
    c.host.deliver(c, EV_READABLE, now);
  }
  if (c.finQueued) c.setState(State.FinWait1, now);
}

export function sendSyn(c: Connection, now: number, why: 'syn' | 'syn-ack'): void {
  const tsVal = c.tsClock(now);
  let options: TcpOption[];
  if (why === 'syn') {
    options = synOptions(c.cfg, tsVal, c.localAddr.length === 16);
    if (c.fastOpen) options = withFastOpen(options, c.fastOpen);
  } else if (!c.passive && c.cfg.profile.simultaneousSynAckAsSyn) {
    // Linux builds this SYN,ACK as it built its SYN (tcp_syn_options): every
    // option it offers, whatever the peer's SYN had; the echo is the peer's.
    options = synOptions(c.cfg, tsVal, c.localAddr.length === 16).map((o) =>
      o.kind === 'ts' ? { ...o, ecr: c.tsOk ? c.tsRecent : 0 } : o,
    );
  } else {
    // The SYN,ACK of a simultaneous open answers the peer's offer.
    options = synOptions(c.cfg, tsVal, c.localAddr.length === 16, {
      mss: c.sndMss,
      wscale: c.sndWndScale || c.rcvWndScale ? c.sndWndScale : undefined,
      sackOk: c.sackOk,
      tsVal: c.tsOk ? c.tsRecent : undefined,
    });
  }
  const flags = why === 'syn' ? SYN : SYN | ACK;
  const payload = why === 'syn' && c.synDataLen > 0 ? c.sendBuf!.peek(0, c.synDataLen) : EMPTY;
  const win = synWindow(c.cfg, c.cfg.timestamps, c.passive, c.localAddr.length === 16);
  const seg: Segment = {
    srcPort: c.localPort,
    dstPort: c.remotePort,
    seq: c.iss,
    ack: why === 'syn' ? 0 : c.rcvNxt,
    flags,
    window: win,
    urgent: 0,
    options,
    payload,
  };
  if (why === 'syn-ack') c.rcvAdv = seqAdd(c.rcvNxt, win);
  c.transmit(seg, why, now);
}
