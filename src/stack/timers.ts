// The one timer queue of a stack: a binary min-heap of (deadline, owner) with
// lazy deletion. An owner's live entry is the one whose time equals its
// `heapAt`; a deadline that moves later leaves the old entry to be skipped.

import type { Timed } from '../tcp/listener.ts';

/** What a forgotten entry points to instead of its owner. */
const GONE: Timed = { deadline: Number.POSITIVE_INFINITY, heapAt: Number.POSITIVE_INFINITY };

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
    return this.at.length > 0 ? this.at[0] : Number.POSITIVE_INFINITY;
  }

  /** Call after `t.deadline` changed; true if the earliest time in the queue moved earlier. */
  update(t: T): boolean {
    const d = t.deadline;
    if (d >= t.heapAt) return false;
    t.heapAt = d;
    const before = this.peek();
    this.push(d, t);
    return d < before;
  }

  /** Runs every owner whose live entry is due at `now`. */
  run(now: number): void {
    while (this.at.length > 0 && this.at[0] <= now) {
      const when = this.at[0];
      const t = this.pop();
      if (t.heapAt !== when) continue; // stale
      t.heapAt = Number.POSITIVE_INFINITY;
      if (t.deadline <= now) this.fire(t, now);
      // Re-queue whatever deadline remains (it may be later than this entry was).
      if (t.deadline !== Number.POSITIVE_INFINITY && t.deadline < t.heapAt) {
        t.heapAt = t.deadline;
        this.push(t.deadline, t);
      }
    }
  }

  private compactAt = 1024;

  /**
   * Drops `t`'s live entry at once (lazy deletion would keep `t` referenced
   * until the entry came due): a connection that becomes a TIME-WAIT record
   * leaves the heap and can be collected. False if `t` has no live entry.
   */
  forget(t: T): boolean {
    const i = t.heapIndex ?? -1;
    if (i < 0 || i >= this.at.length || this.items[i] !== t || this.at[i] !== t.heapAt)
      return false;
    // An owner whose heapAt is never a finite time: its entry is stale, skipped and swept.
    this.items[i] = GONE as T;
    t.heapAt = Number.POSITIVE_INFINITY;
    t.heapIndex = -1;
    return true;
  }

  /** Places an entry at `i`, noting the index of an owner's live entry. */
  private put(i: number, when: number, t: T): void {
    this.at[i] = when;
    this.items[i] = t;
    if (t.heapAt === when) t.heapIndex = i;
  }

  private push(when: number, t: T): void {
    // Lazy deletion leaves stale entries; when the heap has doubled since the
    // last sweep, drop them so a stack cycling through connections stays small.
    if (this.at.length >= this.compactAt) this.compact();
    const at = this.at;
    const items = this.items;
    let i = at.length;
    at.push(when);
    items.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p] <= when) break;
      this.put(i, at[p], items[p]);
      i = p;
    }
    this.put(i, when, t);
  }

  private compact(): void {
    const at: number[] = [];
    const items: T[] = [];
    for (let i = 0; i < this.at.length; i++) {
      const t = this.items[i];
      if (t.heapAt !== this.at[i]) continue;
      if (t.deadline === Number.POSITIVE_INFINITY) {
        t.heapAt = Number.POSITIVE_INFINITY;
        continue;
      }
      at.push(this.at[i]);
      items.push(t);
    }
    this.at = [];
    this.items = [];
    this.compactAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < at.length; i++) this.push(at[i], items[i]);
    this.compactAt = Math.max(1024, 2 * this.at.length);
  }

  private pop(): T {
    const at = this.at;
    const items = this.items;
    const top = items[0];
    const lastAt = at.pop()!;
    const lastItem = items.pop()!;
    const n = at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && at[r] < at[l] ? r : l;
        if (at[c] >= lastAt) break;
        this.put(i, at[c], items[c]);
        i = c;
      }
      this.put(i, lastAt, lastItem);
    }
    if (top.heapIndex === 0) top.heapIndex = -1;
    return top;
  }
}
