// The timers of one connection (RFC 9293 §3.10.8): retransmission (RFC 6298,
// with Karn's rule), persist (zero-window probes, §3.8.6.1), keep-alive
// (RFC 1122 §4.2.3.6) and TIME-WAIT. They share one deadline, which the host's
// single timer queue reads; nothing here schedules anything itself.

import { formatAddr } from '../wire/addr.ts';
import { ACK, type Segment } from '../wire/tcp.ts';
import type { Connection } from './connection.ts';
import { COUNTER } from './counters.ts';
import { packDeadline } from './deadline.ts';
import { ConnectionTimedOut, softError } from './errors.ts';
import { sendSyn } from './handshake.ts';
import {
  enterLoss,
  LOSS_TIMER_TLP,
  onLossTimer,
  pipe,
  probeSent,
  stopLossTimer,
} from './recovery.ts';
import { rtoBackoff, rttSample } from './rto.ts';
import { SACKED } from './sent.ts';
import { seqAdd, seqDiff, seqGe, seqLt } from './seq.ts';
import {
  ackOptions,
  output,
  retransmitOne,
  retransmitRecord,
  sendAbortReset,
  sendAck,
  sendReset,
} from './snd.ts';
import { State } from './types.ts';

const EMPTY = new Uint8Array(0);
const MAX_PERSIST = 60_000;
/** Linux's tcp_orphan_retries when its sysctl is 0, the default. */
const ORPHAN_RETRIES = 8;

export function onTimer(c: Connection, now: number): void {
  if (c.timeWaitAt <= now) {
    // TIME-WAIT's end, or an orphaned FIN-WAIT-2's (finWait2Orphaned): both let go quietly.
    c.timeWaitAt = Infinity;
    if (c.state === State.FinWait2) {
      c.timer('fin-wait-2', 'fired', now);
      c.host.count(COUNTER['fin-wait-2-timeouts']);
    } else {
      c.timer('time-wait', 'fired', now);
    }
    c.release(now, undefined);
    return;
  }
  if (c.delAckAt <= now) {
    c.delAckAt = Infinity;
    c.timer('delayed-ack', 'fired', now);
    if (c.rcvUnacked > 0 && c.synchronized()) {
      c.host.count(COUNTER['acks-delayed']);
      sendAck(c, now, 'delayed-ack');
    }
  }
  // A tail loss probe due with the RTO goes in its place (and re-arms it).
  if (c.lossAt <= now && c.lossTimer === LOSS_TIMER_TLP && c.lossAt <= c.rexmitAt) {
    if (onLossTimer(c, now) === 'probe') sendProbe(c, now);
  }
  if (c.rexmitAt <= now) {
    c.rexmitAt = Infinity;
    c.timer('retransmit', 'fired', now);
    onRetransmitTimeout(c, now);
    if (c.state === State.Closed) return;
  }
  if (c.lossAt <= now) {
    const next = onLossTimer(c, now);
    if (next === 'output') output(c, now);
    else if (next === 'probe') sendProbe(c, now);
  }
  if (c.keepAliveAt <= now) {
    c.keepAliveAt = Infinity;
    c.timer('keepalive', 'fired', now);
    onKeepAlive(c, now);
    if (c.state === State.Closed) return;
  }
  if (c.persistAt <= now) {
    c.persistAt = Infinity;
    c.timer('persist', 'fired', now);
    if (c.sndWnd === 0 && c.sendQueued > seqDiff(c.sndNxt, c.sndUna)) {
      // Probes nobody answers end the connection after R2 of them (as Linux's
      // tcp_probe_timer); answered ones may go on for ever (MUST-37).
      if (c.probesOut >= c.r2 || (c.readClosed && orphanGivesUp(c))) {
        c.host.count(COUNTER['zero-window-timeouts']);
        c.host.count(COUNTER['connections-timed-out']);
        c.release(now, c.softError ?? ConnectionTimedOut.quiet());
        return;
      }
      c.probesOut++;
      // A zero-window probe: an old sequence number, so it carries nothing yet elicits an ACK.
      c.host.count(COUNTER['zero-window-probes']);
      c.transmit(c.mk(seqAdd(c.sndUna, -1), ACK, EMPTY, ackOptions(c, now)), 'probe', now);
      c.persistBackoff++;
      armPersist(c, now);
    } else {
      // The window opened, or sender SWS avoidance held a short segment back: send it now.
      c.persistBackoff = 0;
      output(c, now, true);
    }
  }
  updateDeadline(c);
}

/**
 * Whether a connection the application has closed stops probing a zero
 * window. Answered probes may go on for ever (MUST-37) while someone holds
 * the socket; once nobody does, a peer that keeps its window shut would hold
 * the connection and its unsent data for ever. As Linux (tcp_probe_timer, for
 * orphans): once the backed-off interval has reached maxRto and at least
 * eight probes have gone.
 */
function orphanGivesUp(c: Connection): boolean {
  return c.persistBackoff >= ORPHAN_RETRIES && probeInterval(c) >= c.cfg.maxRto;
}

/** The zero-window probe interval, backed off and not yet capped (Linux's tcp_probe0_when). */
function probeInterval(c: Connection): number {
  return Math.max(c.rto, 200) * 2 ** c.persistBackoff;
}

/**
 * FIN-WAIT-2 once the application has closed, and so will read nothing more.
 * RFC 9293 sets no timer here, so a peer that acknowledges our FIN and never
 * sends its own would keep the connection for ever; as Linux (tcp_fin_timeout)
 * and FreeBSD (its FIN-WAIT-2 timer) do, it ends after `finTimeout`, and no
 * sooner than 3.5 RTOs (Linux's tcp_fin_time: time for a lost FIN of the
 * peer's to come again), without a word to the peer. The wait uses TIME-WAIT's
 * deadline, as BSD's 2MSL timer serves both; a FIN meanwhile starts TIME-WAIT
 * proper. A negative `finTimeout` (TCP_LINGER2 < 0) skips the wait: RST now,
 * in answer to `acking` (the segment that acknowledged our FIN) if given.
 * Returns false when that ended the connection.
 */
export function finWait2Orphaned(c: Connection, now: number, acking?: Segment): boolean {
  const t = c.finTimeout;
  if (t < 0) {
    if (acking) sendReset(c, acking, now);
    else sendAbortReset(c, now);
    c.release(now, undefined);
    return false;
  }
  c.timeWaitAt = now + Math.max(t, 3.5 * c.rto);
  c.timer('fin-wait-2', 'armed', now, c.timeWaitAt);
  updateDeadline(c);
  return true;
}

function onRetransmitTimeout(c: Connection, now: number): void {
  const st = c.state;
  if (st === State.SynSent || st === State.SynReceived) {
    // Linux counts the linear retransmissions on top of tcp_syn_retries (tcp_write_timeout).
    const limit =
      st === State.SynSent ? c.cfg.synRetries + c.cfg.synLinearTimeouts : c.cfg.synAckRetries;
    if (c.synRetransmits >= limit) {
      c.host.count(COUNTER['connections-timed-out']);
      // An ICMP error seen meanwhile says more than "timed out" (as BSD reports it).
      c.release(now, c.softError ?? ConnectionTimedOut.quiet());
      return;
    }
    c.synRetransmits++;
    if (c.synRetransmits === c.r1) reachedR1(c, now);
    c.rttTiming = false;
    // Linux backs off only after tcp_syn_linear_timeouts retransmissions of a SYN.
    if (st !== State.SynSent || c.synRetransmits > c.cfg.synLinearTimeouts) rtoBackoff(c);
    c.host.count(COUNTER.retransmits);
    // The same ISS every time (RFC 9293 §3.8.1).
    sendSyn(c, now, st === State.SynSent ? 'syn' : 'syn-ack');
    armRexmit(c, now, c.rto);
    return;
  }
  if (!seqLt(c.sndUna, c.sndMax)) return;
  // Once the application has closed, nobody waits on the outcome: Linux gives
  // such a connection tcp_orphan_retries (8, over 100 s from a 200 ms RTO).
  if (c.retransmits >= (c.readClosed ? Math.min(c.r2, ORPHAN_RETRIES) : c.r2)) {
    c.host.count(COUNTER['connections-timed-out']);
    c.release(now, ConnectionTimedOut.quiet());
    return;
  }
  c.retransmits++;
  if (c.retransmits === c.r1) reachedR1(c, now);
  rtoBackoff(c);
  // RFC 5681 §3.1, RFC 6675 §5.1: the window restarts at one segment, everything
  // not SACKed counts as lost and goes again as slow start allows (recovery.ts).
  c.dupAcks = 0;
  enterLoss(c, now);
  retransmitOne(c, now);
  armRexmit(c, now, c.rto, true);
}

/** R1 (RFC 9293 §3.8.3, MUST-20, SHLD-9): tell the application, and keep trying until R2. */
function reachedR1(c: Connection, now: number): void {
  const what = c.state === State.SynSent ? 'SYN' : 'segment';
  const error = softError(
    'ETIMEDOUT',
    `no answer from ${formatAddr(c.remoteAddr)}:${c.remotePort} after ${c.r1} retransmissions of a ${what}; still trying`,
  );
  c.reportSoftError(error, now);
}

/** Turns keep-alive on or off (as setsockopt SO_KEEPALIVE); `idle` overrides the configured idle time. */
export function setKeepAlive(c: Connection, on: boolean, now: number, idle?: number): void {
  c.keepAlive = on;
  if (idle !== undefined && idle > 0) c.keepAliveIdleMs = idle;
  c.keepAliveProbes = 0;
  if (on && c.synchronized()) armKeepAlive(c, now, c.keepAliveIdleMs);
  else if (!on) {
    c.keepAliveAt = Infinity;
    updateDeadline(c);
  }
}

export function armKeepAlive(c: Connection, now: number, after: number): void {
  if (!c.synchronized() || c.state === State.TimeWait) return;
  c.keepAliveAt = now + (after === c.cfg.keepAliveIdle ? c.keepAliveIdleMs : after);
  updateDeadline(c);
}

/** RFC 1122 §4.2.3.6: after an idle period, probe with an old sequence number; no answer at all means the peer is gone. */
function onKeepAlive(c: Connection, now: number): void {
  if (!c.synchronized() || c.state === State.TimeWait) return;
  if (seqLt(c.sndUna, c.sndMax) || c.persistAt !== Infinity) {
    // Data in flight: the retransmission (or persist) timer watches the peer.
    armKeepAlive(c, now, c.keepAliveIdleMs);
    return;
  }
  if (c.keepAliveProbes >= c.keepAliveCount) {
    // The peer is gone or unreachable: say so with RST in case it is only half-gone (as Linux).
    sendAbortReset(c, now);
    c.host.count(COUNTER['connections-timed-out']);
    c.release(now, ConnectionTimedOut.quiet());
    return;
  }
  c.keepAliveProbes++;
  c.host.count(COUNTER['keepalive-probes']);
  c.transmit(c.mk(seqAdd(c.sndUna, -1), ACK, EMPTY, ackOptions(c, now)), 'keepalive', now);
  armKeepAlive(c, now, c.keepAliveIntervalMs);
}

export function sampleRtt(c: Connection, ack: number, now: number): void {
  if (c.state === State.SynSent) {
    // The SYN is timed when it was sent only once (Karn's rule), from when it
    // left (not from its timer, which an unacceptable ACK may have re-armed).
    if (c.synRetransmits === 0) takeSample(c, now - c.rttStart);
    return;
  }
  if (c.rttTiming && seqGe(ack, c.rttSeq)) {
    c.rttTiming = false;
    takeSample(c, now - c.rttStart);
  }
}

function takeSample(c: Connection, r: number): void {
  rttSample(c, r);
  if (r < c.minRtt) c.minRtt = r;
}

/**
 * A tail loss probe (RFC 8985 §7.3): new data if the peer's window takes it,
 * else the last segment again; then the RTO is armed anew.
 */
function sendProbe(c: Connection, now: number): void {
  const s = c.sent;
  if (!s || s.count === 0) return;
  const unsent = (c.sendBuf ? c.sendBuf.length : 0) - seqDiff(c.sndNxt, c.sndUna);
  const fresh = unsent > 0 && seqDiff(c.sndNxt, c.sndUna) < c.sndWnd;
  // Said before it goes, so the trace (and its explanations) read in order.
  c.cc('tlp', now);
  if (fresh) {
    const cwnd = c.cwnd;
    c.cwnd = pipe(c) + c.sndMss;
    output(c, now, true);
    c.cwnd = cwnd;
  } else {
    let i = s.count - 1;
    while (i > 0 && s.flags(i) & SACKED) i--;
    retransmitRecord(c, i, now);
  }
  probeSent(c, !fresh);
  stopLossTimer(c, now);
  armRexmit(c, now, c.rto, true);
}

export function armRexmit(c: Connection, now: number, after: number, restart = false): void {
  if (!restart && c.rexmitAt !== Infinity) return;
  c.rexmitAt = now + after;
  c.timer('retransmit', 'armed', now, c.rexmitAt);
  updateDeadline(c);
}

export function stopRexmit(c: Connection, now: number): void {
  if (c.rexmitAt === Infinity) return;
  c.rexmitAt = Infinity;
  c.timer('retransmit', 'stopped', now);
  updateDeadline(c);
}

export function armPersist(c: Connection, now: number): void {
  const after = Math.min(MAX_PERSIST, probeInterval(c));
  c.persistAt = now + after;
  c.timer('persist', 'armed', now, c.persistAt);
  updateDeadline(c);
}

export function updateDeadline(c: Connection): void {
  const d = packDeadline(
    Math.min(c.rexmitAt, c.persistAt, c.timeWaitAt, c.keepAliveAt, c.delAckAt, c.lossAt),
  );
  if (d !== c.deadline) {
    c.deadline = d;
    c.host.timerChanged(c);
  }
}
