// A link that impairs another, in real time: one-way delay and seeded loss,
// random (Bernoulli) or in bursts (Gilbert–Elliott), for each direction. Put
// between a stack and its device, it gives a real peer (the kernel over TUN)
// and synack exactly the same conditions: the loss comparison in
// bench/loss.ts uses it so that either end can be the sender. Browser-safe
// (timers only).

import type { Link } from '../stack/link.ts';
import { seededRandom } from '../tcp/random.ts';

export interface Impairment {
  /** One-way delay, ms. */
  delay: number;
  /** Mean loss probability, 0..1. */
  loss: number;
  /**
   * Mean length of a loss burst in packets (Gilbert–Elliott); 1 or less:
   * independent losses. A burst lives within a flight: a gap of `BURST_GAP`
   * ms between packets ends it (a quiet sender does not keep losing).
   */
  burst?: number;
  seed: number;
}

export interface ImpairedLink extends Link {
  /** Packets dropped and passed in each direction. */
  readonly stats: { outLost: number; outSent: number; inLost: number; inSent: number };
  close(): void;
}

/** Packets further apart than this (ms) are not in the same loss burst. */
export const BURST_GAP = 5;

/**
 * Decides the fate of each packet sent at `now` (ms): true means lost. Two
 * states for bursts: every packet in "bad" is lost; leaving bad has
 * probability 1/burst (the mean burst length), entering it is chosen so that
 * the share of packets lost is `loss`.
 */
export function lossModel(p: Impairment): (now: number) => boolean {
  const rng = seededRandom(p.seed);
  const u = () => rng.u32() / 2 ** 32;
  if (p.loss <= 0) return () => false;
  const burst = p.burst ?? 1;
  if (burst <= 1) return () => u() < p.loss;
  const leave = 1 / burst;
  const enter = (leave * p.loss) / (1 - p.loss);
  let bad = false;
  let last = -Infinity;
  return (now) => {
    if (now - last >= BURST_GAP) bad = false;
    last = now;
    bad = bad ? u() >= leave : u() < enter;
    return bad;
  };
}

/** A FIFO that releases each packet `delay` ms after it entered (those due together in one batch), with one timer. */
function delayLine(delay: number, release: (ps: Uint8Array[]) => void) {
  const due: number[] = [];
  const packets: Uint8Array[] = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const drain = () => {
    timer = null;
    const now = performance.now();
    const batch: Uint8Array[] = [];
    while (head < due.length && due[head] <= now) {
      batch.push(packets[head]);
      packets[head] = undefined as unknown as Uint8Array;
      head++;
    }
    if (head > 1024 && head * 2 > due.length) {
      due.splice(0, head);
      packets.splice(0, head);
      head = 0;
    }
    arm();
    if (batch.length > 0) release(batch);
  };
  const arm = () => {
    if (closed || timer !== null || head >= due.length) return;
    timer = setTimeout(drain, Math.max(0, due[head] - performance.now()));
  };
  return {
    push(p: Uint8Array) {
      if (delay <= 0) {
        release([p]);
        return;
      }
      due.push(performance.now() + delay);
      packets.push(p);
      arm();
    },
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

/** `inner` with `out` applied to what the stack sends and `inbound` to what arrives. */
export function impairLink(inner: Link, out: Impairment, inbound: Impairment): ImpairedLink {
  const stats = { outLost: 0, outSent: 0, inLost: 0, inSent: 0 };
  const loseOut = lossModel(out);
  const loseIn = lossModel(inbound);
  const link: ImpairedLink = {
    onPacket: null,
    onPackets: null,
    stats,
    send(packet) {
      if (loseOut(performance.now())) {
        stats.outLost++;
        return;
      }
      stats.outSent++;
      outLine.push(packet);
    },
    close() {
      outLine.close();
      inLine.close();
    },
  };
  const outLine = delayLine(out.delay, (ps) => {
    for (const p of ps) inner.send(p);
  });
  const inLine = delayLine(inbound.delay, (ps) => {
    if (link.onPackets) link.onPackets(ps);
    else for (const p of ps) link.onPacket?.(p);
  });
  const arrive = (p: Uint8Array) => {
    if (loseIn(performance.now())) {
      stats.inLost++;
      return;
    }
    stats.inSent++;
    inLine.push(p);
  };
  inner.onPacket = arrive;
  inner.onPackets = (ps) => {
    for (const p of ps) arrive(p);
  };
  return link;
}
