// The retransmission timer's value, per RFC 6298: SRTT and RTTVAR from
// samples (never from retransmitted segments: Karn's rule, §3), RTO = SRTT +
// max(G, 4·RTTVAR) clamped to [min, max], doubled on each expiry (§5.5).

export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  rto: number;
  private sampled = false;

  constructor(
    initial: number,
    private readonly min: number,
    private readonly max: number,
    private readonly granularity = 1,
  ) {
    this.rto = initial;
  }

  get hasSample(): boolean {
    return this.sampled;
  }

  sample(r: number): void {
    if (!this.sampled) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.sampled = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.clamp(this.srtt + Math.max(this.granularity, 4 * this.rttvar));
  }

  backoff(): void {
    this.rto = this.clamp(this.rto * 2);
  }

  /** RFC 6298 §5.7: after a SYN timed out and no sample exists, use 3 s for data. */
  resetAfterSynTimeout(): void {
    if (!this.sampled) this.rto = this.clamp(3000);
  }

  private clamp(x: number): number {
    return Math.min(this.max, Math.max(this.min, x));
  }
}
