// The one timer queue of a stack: a binary min-heap of (deadline, owner). A
// deadline that moves earlier moves its owner's entry up in place; one that
// moves later leaves the entry where it is, to fire early and be queued again
// (connections push their retransmission deadline later on every ACK, and a
// sift per ACK would cost more than the rare early wake-up). An owner that
// stops needing the queue (a closed connection, a half-open record that
// completed) is taken out at once, so that the heap holds no dead owners.

import type { Timed } from '../tcp/listener.ts';

export class TimerQueue<T extends Timed = Timed> {
  private at: number[] = [];
  private items: T[] = [];

  /** `fire` runs an owner whose deadline came. */
  constructor(private readonly fire: (t: T, now: number) => void) {}

  get size(): number {
    return this.at.length;
  }

  /** Earliest time in the heap (possibly a stale entry), or +Infinity. */
  peek(): number {
    return this.at.length > 0 ? this.at[0] : Infinity;
  }

  /** Call after `t.deadline` changed; true if the earliest time in the queue moved earlier. */
  update(t: T): boolean {
    const d = t.deadline;
    if (d >= t.heapAt) return false;
    const before = this.peek();
    const i = this.liveIndex(t);
    t.heapAt = d;
    if (i < 0) this.push(d, t);
    else this.siftUp(i, d, t);
    return d < before;
  }

  /** Runs every owner whose live entry is due at `now`. */
  run(now: number): void {
    while (this.at.length > 0 && this.at[0] <= now) {
      const when = this.at[0];
      const t = this.pop();
      if (t.heapAt !== when) continue; // stale
      t.heapAt = Infinity;
      if (t.deadline <= now) this.fire(t, now);
      // Re-queue whatever deadline remains (it may be later than this entry was).
      if (t.deadline !== Infinity && t.deadline < t.heapAt) {
        t.heapAt = t.deadline;
        this.push(t.deadline, t);
      }
    }
  }

  private compactAt = 1024;

  /**
   * Takes `t`'s live entry out of the heap: an owner that no longer needs the
   * queue is not kept referenced (and alive) until its entry comes due. False
   * if `t` has no live entry.
   */
  forget(t: T): boolean {
    const i = this.liveIndex(t);
    if (i < 0) return false;
    t.heapAt = Infinity;
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

  /** Where `t`'s live entry is, or -1 (none, or only stale ones). */
  private liveIndex(t: T): number {
    const i = t.heapIndex ?? -1;
    return i >= 0 && i < this.at.length && this.items[i] === t && this.at[i] === t.heapAt ? i : -1;
  }

  /** Places an entry at `i`, noting the index of an owner's live entry. */
  private put(i: number, when: number, t: T): void {
    this.at[i] = when;
    this.items[i] = t;
    if (t.heapAt === when) t.heapIndex = i;
  }

  private push(when: number, t: T): void {
    // An entry whose owner's deadline moved later (or went) stays until it
    // comes due; when the heap has doubled since the last sweep, drop those of
    // owners with no deadline left, so that it stays small.
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
    const at: number[] = [];
    const items: T[] = [];
    for (let i = 0; i < this.at.length; i++) {
      const t = this.items[i];
      if (t.heapAt !== this.at[i]) continue;
      if (t.deadline === Infinity) {
        t.heapAt = Infinity;
        continue;
      }
      at.push(this.at[i]);
      items.push(t);
    }
    this.at = [];
    this.items = [];
    this.compactAt = Infinity;
    for (let i = 0; i < at.length; i++) this.push(at[i], items[i]);
    this.compactAt = Math.max(1024, 2 * this.at.length);
  }

  private pop(): T {
    const at = this.at;
    const items = this.items;
    const top = items[0];
    const lastAt = at.pop()!;
    const lastItem = items.pop()!;
    if (at.length > 0) this.siftDown(0, lastAt, lastItem);
    if (top.heapIndex === 0) top.heapIndex = -1;
    return top;
  }
}
