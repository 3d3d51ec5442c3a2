// Virtual time: an event queue ordered by (time, insertion). Time jumps from
// one event to the next; nothing sleeps, so a minute of TCP runs in
// milliseconds, and the same inputs give the same order every run.

import type { Clock } from '../stack/clock.ts';

interface Ev {
  at: number;
  n: number;
  fn: () => void;
  live: boolean;
}

export class VirtualClock implements Clock {
  private t: number;
  private n = 0;
  private heap: Ev[] = [];
  private wakes = new Map<() => void, Ev>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setWake(at: number, wake: () => void): void {
    const old = this.wakes.get(wake);
    if (old) old.live = false;
    if (at === Infinity) {
      this.wakes.delete(wake);
      return;
    }
    const ev = this.push(Math.max(at, this.t), () => {
      this.wakes.delete(wake);
      wake();
    });
    this.wakes.set(wake, ev);
  }

  /** Runs `fn` at time `at` (not before now). */
  schedule(at: number, fn: () => void): void {
    this.push(Math.max(at, this.t), fn);
  }

  /** Time of the next pending event, or +Infinity. */
  next(): number {
    this.prune();
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  /** Runs every event due up to and including `to`, then sets the time to `to`. */
  advance(to: number): void {
    for (;;) {
      this.prune();
      const top = this.heap[0];
      if (!top || top.at > to) break;
      this.pop();
      this.t = top.at;
      top.fn();
    }
    if (to > this.t) this.t = to;
  }

  /** Runs one event (the earliest); false if none is pending before `limit`. */
  runOne(limit = Infinity): boolean {
    this.prune();
    const top = this.heap[0];
    if (!top || top.at > limit) return false;
    this.pop();
    this.t = top.at;
    top.fn();
    return true;
  }

  /** Runs events until none remain or time would pass `limit`. */
  run(limit = Infinity): void {
    while (this.runOne(limit)) {}
  }

  private prune(): void {
    while (this.heap.length > 0 && !this.heap[0].live) this.pop();
  }

  private push(at: number, fn: () => void): Ev {
    const ev: Ev = { at, n: this.n++, fn, live: true };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], ev)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  private pop(): Ev {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r], h[l]) ? r : l;
        if (less(last, h[c])) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    top.live = false;
    return top;
  }
}

function less(a: Ev, b: Ev): boolean {
  return a.at < b.at || (a.at === b.at && a.n < b.n);
}
