// Measuring, the same way for every figure: fixed batches of operations, the
// rate as operations ÷ elapsed time and as operations ÷ CPU seconds
// (process.cpuUsage, which other processes on the machine disturb far less),
// over several rounds; the median and the spread are reported. Nothing here
// averages per-call reciprocals (a slow call counts for what it cost).

import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';

export interface Rate {
  /** Operations per second of elapsed time, median of rounds. */
  median: number;
  min: number;
  max: number;
  /** Operations per CPU-second (user + system of this process), median of rounds. */
  perCpu: number;
  rounds: number[];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function summarise(rates: number[], perCpu: number[]): Rate {
  return {
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    perCpu: median(perCpu),
    rounds: rates,
  };
}

/**
 * Runs `batch(n)` (which performs n operations) twice to warm up, then
 * `rounds` times. One quarter-size warm-up was not enough: the in-memory bulk
 * transfer ran 1.5, then 2–5, then 5–7 GB/s in its first rounds while V8
 * compiled and the heap grew, and a median of five caught the ramp.
 */
export async function rate(
  rounds: number,
  n: number,
  batch: (n: number) => void | Promise<void>,
): Promise<Rate> {
  await batch(n);
  await batch(n);
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await batch(n);
    const dt = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    rates.push(n / dt);
    cpu.push(n / ((c.user + c.system) / 1e6));
  }
  return summarise(rates, cpu);
}

/** Rates measured by another process (one figure per round), with its own CPU time if known. */
export function external(rates: number[], perCpu?: number[]): Rate {
  return summarise(rates, perCpu ?? rates.map(() => Number.NaN));
}

export const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Memory in use after a full collection: the JavaScript heap and the backing
 * stores of ArrayBuffers outside it. Call `settle()` first: objects a WeakRef
 * was made for live until the current job ends.
 */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * V8's collection pauses on the main thread, as Node reports them ('gc'
 * performance entries). `pausedBetween(t0, t1)` (performance.now() times)
 * sums the pauses that began in that span; entries arrive after the code
 * that caused them has returned to the event loop, so await something (a
 * timer) first. Each call forgets the entries it has seen.
 */
export function gcPauses(): {
  pausedBetween(t0: number, t1: number): Promise<number>;
  stop(): void;
} {
  const seen: { start: number; ms: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) seen.push({ start: e.startTime, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    async pausedBetween(t0, t1) {
      // One timer turn: the observer's entries are delivered by then.
      await new Promise((r) => setTimeout(r, 20));
      let ms = 0;
      for (const e of seen) if (e.start >= t0 && e.start < t1) ms += e.ms;
      seen.length = 0;
      return ms;
    },
    stop: () => obs.disconnect(),
  };
}

export function heap(): number {
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';

export const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** One line of progress on stderr, overwritten. */
export function progress(s: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${s}`);
  else process.stderr.write(`${s}\n`);
}

/** One row of the report: a figure, synack's value, its reference in the same run. */
export interface Row {
  figure: string;
  unit: string;
  synack: Rate | number;
  reference?: Rate | number;
  referenceName?: string;
  /** What the target asks: ratio synack/reference ≥, or an absolute bound. */
  target: string;
  met?: boolean;
  note?: string;
}

/** What `npm run bench -- --json FILE` writes (and bench/readme.ts reads). */
export interface Report {
  date: string;
  machine: string;
  load: string;
  command: string;
  rounds: number;
  rows: Row[];
  scaling: {
    n: number;
    rate: number;
    perCpu: number;
    bytesPerEnd: number;
    /** µs per handshake, and of it V8's collection pauses (absent in reports made before 2026-11-29). */
    usPerHandshake?: number;
    gcUsPerHandshake?: number;
  }[];
  /**
   * Nanoseconds per connection of each step of a handshake, synack's and (in
   * `lean`) the lean engine's (the list is absent in reports made before
   * 2026-11-29, `lean` in the earlier ones of that day).
   */
  steps?: { step: string; ns: number; lean?: number }[];
  tunSkipped: string;
}

/** The middle value of a figure (a rate's median, or the number itself). */
export const middle = (x: Rate | number | undefined): number =>
  x === undefined ? Number.NaN : typeof x === 'number' ? x : x.median;

/** A figure as text: median (min–max; per CPU-second), bytes/s shown as MB/s. */
export function describe(x: Rate | number | undefined, unit: string): string {
  if (x === undefined) return '';
  const f = (v: number) => (unit === 'bytes/s' ? `${fmt(v / 1e6)} MB/s` : fmt(v));
  if (typeof x === 'number') return f(x);
  const cpu = Number.isFinite(x.perCpu) ? `; ${f(x.perCpu)} per CPU-s` : '';
  return `${f(x.median)} (${f(x.min)}–${f(x.max)}${cpu})`;
}
