// The retransmission timer's value, per RFC 6298: SRTT and RTTVAR from
// samples (never from retransmitted segments: Karn's rule, §3), RTO = SRTT +
// max(G, 4·RTTVAR) clamped to [min, max], doubled on each expiry (§5.5). The
// estimator's state is part of the TCB (tcb.ts), in milliseconds.

import type { TcpConfig } from './types.ts';

/** What the estimator reads and writes of a TCB (times in ms). */
export interface RttState {
  readonly cfg: TcpConfig;
  srtt: number;
  rttvar: number;
  rto: number;
  rttSampled: boolean;
}

/** RFC 6298 §2.2–§2.3: a round-trip time `r` (ms) measured. */
export function rttSample(t: RttState, r: number): void {
  if (!t.rttSampled) {
    t.srtt = r;
    t.rttvar = r / 2;
    t.rttSampled = true;
  } else {
    t.rttvar = 0.75 * t.rttvar + 0.25 * Math.abs(t.srtt - r);
    t.srtt = 0.875 * t.srtt + 0.125 * r;
  }
  // G: the clock's granularity; Linux's rttvar floor works as a granularity of tcp_rto_min.
  const g = t.cfg.profile.minRtoAsGranularity ? t.cfg.minRto : 1;
  t.rto = clamp(t, t.srtt + Math.max(g, 4 * t.rttvar));
}

/** §5.5: the timer expired. */
export function rtoBackoff(t: RttState): void {
  t.rto = clamp(t, t.rto * 2);
}

/** RFC 6298 §5.7: after a SYN timed out and no sample exists, use 3 s for data. */
export function rtoAfterSynTimeout(t: RttState): void {
  if (!t.rttSampled) t.rto = clamp(t, 3000);
}

function clamp(t: RttState, x: number): number {
  return Math.min(t.cfg.maxRto, Math.max(t.cfg.minRto, x));
}
