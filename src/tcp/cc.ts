// Congestion control behind one small interface: how the window grows on new
// acknowledgments outside recovery, and where ssthresh goes on a congestion
// event. Slow start is shared, with Appropriate Byte Counting (RFC 3465,
// L = 2 segments) and growth only while the window is what limits the sender
// (RFC 7661's idea, as Linux's tcp_is_cwnd_limited). Two algorithms:
// NewReno's congestion avoidance (RFC 5681, byte counted) and CUBIC (RFC 9438,
// the default, as in Linux). State lives in the connection's recovery record,
// made on first use.

import type { Connection } from './connection.ts';
import { seqGt, seqLt } from './seq.ts';

export type CongestionName = 'cubic' | 'newreno';
export const CONGESTION_NAMES: readonly CongestionName[] = ['cubic', 'newreno'];

/** CUBIC's constants (RFC 9438 §4.1, §4.6): C in segments/s³, β_cubic. */
const C = 0.4;
const BETA = 0.7;
/** ABC's limit (RFC 3465 §2.2): at most two segments of growth per ACK in slow start. */
const ABC_L = 2;

/** Per-connection congestion-control state (allocated with the recovery record). */
export interface CcState {
  /** Bytes acknowledged towards the next segment of growth (ABC in congestion avoidance). */
  bytesAcked: number;
  /** CUBIC: window before the last reduction (segments), its K (s), epoch start (ms, -1: none). */
  wMax: number;
  k: number;
  epoch: number;
  origin: number;
  /** CUBIC: the Reno-friendly estimate (segments) and the window before the last reduction. */
  wEst: number;
  cwndPrior: number;
  /** Fractional growth carried between ACKs (bytes). */
  carry: number;
  /** Linux's arithmetic (linuxCubic): ACKs per segment of growth, and its counters. */
  cnt: number;
  ackCnt: number;
  cwndCnt: number;
  lastCwnd: number;
  lastTime: number;
}

export function newCcState(): CcState {
  return {
    bytesAcked: 0,
    wMax: 0,
    k: 0,
    epoch: -1,
    origin: 0,
    wEst: 0,
    cwndPrior: 0,
    carry: 0,
    cnt: 0,
    ackCnt: 0,
    cwndCnt: 0,
    lastCwnd: 0,
    lastTime: 0,
  };
}

/**
 * Leaving slow start before it overshoots (HyStart): per round trip, the
 * smallest RTT of the round's first ACKs is compared with the round before.
 * RFC 9406 (HyStart++): an increase of more than clamp(RTT/8, 4, 16) ms
 * starts Conservative Slow Start (growth ÷ 4), which returns to slow start if
 * the RTT falls back, and ends slow start after 5 rounds. The linux profile
 * does as Linux's CUBIC (hystart delay detection): from 16 segments on, the
 * same increase over the lowest RTT seen ends slow start at once.
 * Only the first slow start; the state is dropped when it ends.
 */
export interface HyStart {
  windowEnd: number;
  lastRoundMin: number;
  roundMin: number;
  samples: number;
  css: boolean;
  cssBaseline: number;
  cssRounds: number;
}

const HS_SAMPLES = 8;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;
const HS_LOW_WINDOW = 16;

/**
 * The RTT the ACK being processed measured (ms; -1: none): the newest segment
 * it newly acknowledged, if that was sent only once. Set by the ACK processing
 * (recovery.ts ackSent) just before the window is updated, read by HyStart.
 */
let ackRtt = -1;
export function noteAckRtt(rtt: number): void {
  ackRtt = rtt;
}

/** Before slow start grows on an ACK: the divisor of its growth (1 or 4), or 0 when slow start just ended. */
function hystart(c: Connection, now: number): number {
  if (!c.cfg.hystart || c.ssthresh < 0x7fffffff) {
    c.hs = null;
    return 1;
  }
  const rtt = ackRtt;
  const linux = c.cfg.profile.linuxCubic === true;
  // Linux looks only from hystart_low_window (16 segments) on.
  if (linux && c.cwnd < HS_LOW_WINDOW * c.sndMss) return 1;
  let h = c.hs;
  if (h === null) {
    h = c.hs = {
      windowEnd: c.sndNxt,
      lastRoundMin: Infinity,
      roundMin: Infinity,
      samples: 0,
      css: false,
      cssBaseline: Infinity,
      cssRounds: 0,
    };
    if (!linux) return 1;
  } else if (linux ? seqGt(c.sndUna, h.windowEnd) : !seqLt(c.sndUna, h.windowEnd)) {
    // A new round.
    h.lastRoundMin = h.roundMin;
    h.roundMin = Infinity;
    h.samples = 0;
    h.windowEnd = c.sndNxt;
    if (h.css && ++h.cssRounds >= CSS_ROUNDS) return endSlowStart(c, now);
  }
  if (linux) {
    // Linux's hystart_update: the round's lowest RTT, checked from the ninth sample
    // on against the lowest ever plus clamp(it/8, 4, 16) ms.
    if (rtt < 0 || !Number.isFinite(c.minRtt)) return 1;
    if (rtt < h.roundMin) h.roundMin = rtt;
    if (h.samples < HS_SAMPLES) {
      h.samples++;
      return 1;
    }
    const eta = Math.min(16, Math.max(4, c.minRtt / 8));
    return h.roundMin > c.minRtt + eta ? endSlowStart(c, now) : 1;
  }
  if (rtt >= 0 && h.samples < HS_SAMPLES) {
    h.samples++;
    if (rtt < h.roundMin) h.roundMin = rtt;
  }
  if (h.samples < HS_SAMPLES) return h.css ? CSS_GROWTH_DIVISOR : 1;
  if (!h.css) {
    if (!Number.isFinite(h.lastRoundMin)) return 1;
    const eta = Math.min(16, Math.max(4, h.lastRoundMin / 8));
    if (h.roundMin >= h.lastRoundMin + eta) {
      h.css = true;
      h.cssBaseline = h.roundMin;
      h.cssRounds = 0;
      c.cc('hystart-css', now);
    }
  } else if (h.roundMin < h.cssBaseline) {
    // The RTT came back down: the increase was a blip, slow start resumes.
    h.css = false;
    h.cssBaseline = Infinity;
  }
  return h.css ? CSS_GROWTH_DIVISOR : 1;
}

function endSlowStart(c: Connection, now: number): number {
  c.ssthresh = c.cwnd;
  c.hs = null;
  c.cc('hystart-exit', now);
  return 0;
}

/** RFC 6928's initial window: ten segments, within 2 segments and 14,600 bytes' rule. */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}

/**
 * New data after an idle period with nothing in flight (RFC 5681 §4.1: after
 * an RTO's worth of silence the window no longer reflects the path). RFC 5681
 * restarts from at most the initial window; the linux profile halves it per
 * RTO of silence down to that (RFC 2861, tcp_cwnd_restart), keeping 3/4 of
 * the old window as ssthresh. CUBIC's epoch moves past the idle time.
 */
export function afterIdle(c: Connection, idle: number, now: number): void {
  const s = c.rec?.cc;
  if (s && s.epoch >= 0) s.epoch += c.cfg.profile.linuxCubic ? Math.floor(idle / 4) : idle;
  const rto = c.rto;
  if (idle <= rto) return;
  const restart = Math.min(initialWindow(c.sndMss), c.cwnd);
  if (c.cfg.profile.idleHalving) {
    const mss = c.sndMss;
    c.ssthresh = Math.max(c.ssthresh, (c.cwnd >> 1) + (c.cwnd >> 2));
    let cwnd = Math.round(c.cwnd / mss);
    let left = idle;
    while ((left -= rto) > 0 && cwnd * mss > restart) cwnd >>= 1;
    c.cwnd = Math.max(cwnd * mss, restart);
  } else c.cwnd = restart;
  c.cc('cwnd', now);
}

/**
 * Whether the window is what limits the sender (RFC 7661's idea, as Linux's
 * tcp_is_cwnd_limited): it was full at some send in the current window, or,
 * in slow start, less than twice the most ever in flight in it.
 */
function cwndLimited(c: Connection): boolean {
  if (c.cwndLimited) return true;
  return c.cwnd < c.ssthresh && c.cwnd < 2 * c.maxFlight;
}

/**
 * After sending new data (as Linux's tcp_cwnd_validate): remembers, per window
 * of data, whether the window was full and the most that was in flight.
 */
export function validateCwnd(c: Connection, limited: boolean, flight: number): void {
  if (
    c.maxFlight === 0 ||
    !seqLt(c.sndUna, c.cwndUsageSeq) ||
    limited ||
    (!c.cwndLimited && flight > c.maxFlight)
  ) {
    c.cwndLimited = limited;
    c.maxFlight = flight;
    c.cwndUsageSeq = c.sndNxt;
  }
}

/**
 * An ACK of new data outside recovery, `delivered` bytes newly delivered
 * (acknowledged or SACKed by it, not counted before): slow start below
 * ssthresh, then the algorithm's congestion avoidance — only while the window
 * limits the sender.
 */
export function ccOnAck(c: Connection, delivered: number, now: number): void {
  if (!cwndLimited(c)) return;
  const mss = c.sndMss;
  const divisor = c.cwnd < c.ssthresh ? hystart(c, now) : 1;
  if (c.cwnd < c.ssthresh && divisor > 0) {
    // RFC 3465's limit per ACK (L segments); Linux counts every segment delivered.
    const grow = Math.floor(
      Math.min(delivered, (c.cfg.profile.slowStartPerAck ?? ABC_L) * mss) / divisor,
    );
    const room = c.ssthresh - c.cwnd;
    if (grow < room) {
      c.cwnd += grow;
      return;
    }
    c.cwnd = c.ssthresh;
    delivered = grow - room;
    if (delivered <= 0) return;
  }
  const s = c.ccState();
  if (c.congestion === 'newreno') {
    // RFC 5681 §3.1 with byte counting (RFC 3465 §2.1): one segment per window acknowledged.
    s.bytesAcked += delivered;
    while (s.bytesAcked >= c.cwnd) {
      s.bytesAcked -= c.cwnd;
      c.cwnd += mss;
    }
    return;
  }
  if (c.cfg.profile.linuxCubic) cubicLinux(c, s, delivered, now);
  else cubicAvoid(c, s, delivered, now);
}

/**
 * The same curve in Linux's arithmetic (tcp_cubic.c's bictcp_update, written
 * from its description): whole segments, time in jiffies (HZ = 250) and
 * 1/1024 s, the target turned into "ACKed segments per segment of growth"
 * (cnt), the Reno-friendly window counted in whole segments, and the target
 * kept for 1/32 s while cwnd does not change. Its steps are coarser than the
 * RFC's: the linux profile's windows follow the kernel's.
 */
function cubicLinux(c: Connection, s: CcState, delivered: number, now: number): void {
  const mss = c.sndMss;
  const cwnd = Math.max(1, Math.round(c.cwnd / mss));
  const acked = Math.ceil(delivered / mss);
  const jiffies = Math.floor(now / 4);
  s.ackCnt += acked;
  const fresh = !(s.lastCwnd === cwnd && jiffies - s.lastTime <= 250 / 32);
  if (fresh && !(s.epoch >= 0 && jiffies === s.lastTime)) {
    s.lastCwnd = cwnd;
    s.lastTime = jiffies;
    if (s.epoch < 0) {
      s.epoch = jiffies;
      s.ackCnt = acked;
      s.wEst = cwnd;
      if (s.wMax <= cwnd) {
        s.k = 0;
        s.origin = cwnd;
      } else {
        // K in 1/1024 s: cbrt((Wmax − cwnd) / C), C = 410/1024 per s³ in Linux's scale.
        s.k = Math.floor(Math.cbrt((2 ** 40 / 410) * (s.wMax - cwnd)));
        s.origin = s.wMax;
      }
    }
    const delayMs = Number.isFinite(c.minRtt) ? c.minRtt : c.srtt;
    const t = Math.floor(((jiffies - s.epoch + Math.ceil(delayMs / 4)) * 1024) / 250);
    const offs = Math.abs(t - s.k);
    const delta = Math.floor((410 * offs * offs * offs) / 2 ** 40);
    const target = t < s.k ? s.origin - delta : s.origin + delta;
    s.cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
    if (s.wMax === 0 && s.cnt > 20) s.cnt = 20;
  }
  if (fresh || (s.epoch >= 0 && jiffies === s.lastTime)) {
    // Reno-friendly: one segment per cwnd·(8·(1+β)/3/(1−β))/8 ACKed (β = 717/1024).
    const per = Math.floor((cwnd * 15) / 8);
    while (s.ackCnt > per) {
      s.ackCnt -= per;
      s.wEst++;
    }
    if (s.wEst > cwnd) s.cnt = Math.min(s.cnt, Math.floor(cwnd / (s.wEst - cwnd)));
  }
  s.cnt = Math.max(s.cnt, 2);
  // tcp_cong_avoid_ai: one segment per cnt segments ACKed.
  let next = cwnd;
  if (s.cwndCnt >= s.cnt) {
    s.cwndCnt = 0;
    next++;
  }
  s.cwndCnt += acked;
  if (s.cwndCnt >= s.cnt) {
    const d = Math.floor(s.cwndCnt / s.cnt);
    s.cwndCnt -= d * s.cnt;
    next += d;
  }
  if (next !== cwnd) c.cwnd = next * mss;
}

/** RFC 9438 §4.2–4.4: the cubic curve one RTT ahead, never below the Reno-friendly estimate. */
function cubicAvoid(c: Connection, s: CcState, acked: number, now: number): void {
  const mss = c.sndMss;
  const cw = c.cwnd / mss;
  if (s.epoch < 0) {
    s.epoch = now;
    if (cw < s.wMax) {
      s.k = Math.cbrt((s.wMax - cw) / C);
      s.origin = s.wMax;
    } else {
      s.k = 0;
      s.origin = cw;
    }
    s.wEst = cw;
  }
  const rtt = (Number.isFinite(c.minRtt) ? c.minRtt : c.srtt) / 1000;
  const t = (now - s.epoch) / 1000 + rtt;
  let target = s.origin + C * (t - s.k) ** 3;
  // §4.4: at most 1.5 times the window per RTT; never shrink in avoidance.
  target = Math.min(Math.max(target, cw), 1.5 * cw);
  // §4.3: Reno-friendly region, α = 3(1−β)/(1+β) until the prior window is reached.
  const alpha = s.wEst >= s.cwndPrior ? 1 : (3 * (1 - BETA)) / (1 + BETA);
  s.wEst += (alpha * (acked / mss)) / cw;
  if (s.wEst > target) target = s.wEst;
  s.carry += ((target - cw) / cw) * acked;
  const whole = Math.floor(s.carry);
  if (whole > 0) {
    c.cwnd += whole;
    s.carry -= whole;
  }
}

/**
 * A congestion event (loss found by recovery, an RTO, a lost tail probe):
 * the new ssthresh. NewReno halves the window (RFC 5681 eq. 4 halves the
 * flight; with SACK the flight counts SACKed data, so Linux and FreeBSD halve
 * cwnd, as here, never more than the flight); CUBIC keeps β of the window and
 * remembers where it was (RFC 9438 §4.6, §4.7 fast convergence).
 */
export function ccSsthresh(c: Connection, flight: number): number {
  const mss = c.sndMss;
  const s = c.ccState();
  s.bytesAcked = 0;
  s.carry = 0;
  if (c.congestion === 'newreno')
    return Math.max(Math.floor(Math.min(c.cwnd, flight) / 2), 2 * mss);
  if (c.cfg.profile.linuxCubic) {
    // bictcp_recalc_ssthresh, in whole segments with β = 717/1024.
    const cw = Math.round(c.cwnd / mss);
    s.wMax = cw < s.wMax ? Math.floor((cw * (1024 + 717)) / 2048) : cw;
    s.epoch = -1;
    s.cwndCnt = 0;
    return Math.max(Math.floor((cw * 717) / 1024), 2) * mss;
  }
  const cw = c.cwnd / mss;
  s.wMax = cw < s.wMax ? (cw * (1 + BETA)) / 2 : cw;
  s.cwndPrior = cw;
  s.epoch = -1;
  return Math.max(Math.floor(cw * BETA) * mss, 2 * mss);
}
