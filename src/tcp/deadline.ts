// Timer deadlines as connections and half-open records store them. V8 keeps
// a field holding a number that is not a small integer (a fraction, or
// +Infinity) in a box of its own, one per field per object: each deadline a
// connection keeps, +Infinity until armed and fractional milliseconds once
// armed from `performance.now()`, cost it 16 bytes and one more object for the
// collector to copy. Stored as whole milliseconds, rounded up, with
// NO_DEADLINE for "not armed", they are small integers: a timer fires at most
// 1 ms late (Linux's timers tick by jiffies of 1–10 ms), which no deadline
// here cares about. Past 2^30 ms (12.4 days of a clock) a deadline no longer
// fits a small integer and is boxed again: that costs bytes, never
// correctness.

/** A stored deadline that is not armed: the smallest small integer (no clock reads that far before 0). */
export const NO_DEADLINE = -0x40000000;

/** A deadline (ms, +Infinity when not armed) as stored. */
export function packDeadline(at: number): number {
  return at === Infinity ? NO_DEADLINE : Math.ceil(at);
}

/** A stored deadline as ms, +Infinity when not armed. */
export function unpackDeadline(v: number): number {
  return v === NO_DEADLINE ? Infinity : v;
}
