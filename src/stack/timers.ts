// The one timer queue of a stack: a binary min-heap of (deadline, owner). A
// deadline that moves earlier moves its owner's entry up in place; one that
// moves later leaves the entry where it is, to fire early and be queued again
// (connections push their retransmission deadline later on every ACK, and a
// sift per ACK would cost more than the rare early wake-up). An owner that
// stops needing the queue (a closed connection, a half-open record that
// completed) is taken out at once, so that the heap holds no dead owners.
// An owner has at most one entry, at its `heapIndex`; deadlines are packed
// (deadline.ts): whole milliseconds, NO_DEADLINE for none.

import { NO_DEADLINE } from '../tcp/deadline.ts';
import type { Timed } from '../tcp/listener.ts';

export class TimerQueue<T extends Timed = Timed> {
  private at: number[] = [];
  private items: T[] = [];

  /** `fire` runs an owner whose deadline came. */
  constructor(private readonly fire: (t: T, now: number) => void) {}

  get size(): number {
    return this.at.length;
  }

  /** Earliest time in the heap (an owner's entry may be earlier than its deadline), or +Infinity. */
  peek(): number {
    return this.at.length > 0 ? this.at[0] : Infinity;
  }

  /** Call after `t.deadline` changed; true if the earliest time in the queue moved earlier. */
  update(t: T): boolean {
    const d = t.deadline;
    if (d === NO_DEADLINE) return false;
    const i = t.heapIndex;
    if (i >= 0 && this.at[i] <= d) return false;
    const before = this.peek();
    if (i >= 0) this.siftUp(i, d, t);
    else this.push(d, t);
    return d < before;
  }

  /** Runs every owner whose deadline came by `now`. */
  run(now: number): void {
    while (this.at.length > 0 && this.at[0] <= now) {
      const t = this.pop();
      if (t.deadline !== NO_DEADLINE && t.deadline <= now) this.fire(t, now);
      // Queue again whatever deadline remains (it may be later than this entry
      // was), unless firing queued it already.
      if (t.deadline !== NO_DEADLINE && t.heapIndex < 0) this.push(t.deadline, t);
    }
  }

  private compactAt = 1024;

  /**
   * Takes `t`'s entry out of the heap: an owner that no longer needs the
   * queue is not kept referenced (and alive) until its entry comes due. False
   * if `t` has no entry.
   */
  forget(t: T): boolean {
    const i = t.heapIndex;
    if (i < 0) return false;
    t.heapIndex = -1;
    const at = this.at;
    const items = this.items;
    const lastAt = at.pop()!;
    const lastItem = items.pop()!;
    if (i < at.length) {
      // The last entry fills the hole: up if it is earlier than the parent, else down.
      if (i > 0 && at[(i - 1) >> 1] > lastAt) this.siftUp(i, lastAt, lastItem);
      else this.siftDown(i, lastAt, lastItem);
    }
    return true;
  }

  /** Places an entry at `i`. */
  private put(i: number, when: number, t: T): void {
    this.at[i] = when;
    this.items[i] = t;
    t.heapIndex = i;
  }

  private push(when: number, t: T): void {
    // An entry whose owner's deadline went stays until it comes due; when the
    // heap has doubled since the last sweep, drop those, so that it stays small.
    if (this.at.length >= this.compactAt) this.compact();
    this.at.push(when);
    this.items.push(t);
    this.siftUp(this.at.length - 1, when, t);
  }

  /** Places (`when`, `t`) at `i` or above it, moving later parents down. */
  private siftUp(i: number, when: number, t: T): void {
    const at = this.at;
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p] <= when) break;
      this.put(i, at[p], items[p]);
      i = p;
    }
    this.put(i, when, t);
  }

  /** Places (`when`, `t`) at `i` or below it, moving earlier children up. */
  private siftDown(i: number, when: number, t: T): void {
    const at = this.at;
    const items = this.items;
    const n = at.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && at[r] < at[l] ? r : l;
      if (at[c] >= when) break;
      this.put(i, at[c], items[c]);
      i = c;
    }
    this.put(i, when, t);
  }

  private compact(): void {
    const at = this.at;
    const items = this.items;
    this.at = [];
    this.items = [];
    this.compactAt = Infinity;
    for (let i = 0; i < at.length; i++) {
      const t = items[i];
      t.heapIndex = -1;
      if (t.deadline !== NO_DEADLINE) this.push(at[i], t);
    }
    this.compactAt = Math.max(1024, 2 * this.at.length);
  }

  private pop(): T {
    const at = this.at;
    const items = this.items;
    const top = items[0];
    top.heapIndex = -1;
    const lastAt = at.pop()!;
    const lastItem = items.pop()!;
    if (at.length > 0) this.siftDown(0, lastAt, lastItem);
    return top;
  }
}
