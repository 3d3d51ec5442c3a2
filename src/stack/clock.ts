// Where a stack's time comes from. The stack keeps one timer queue and asks
// its clock for a single wake-up at the earliest deadline; a real clock holds
// one setTimeout, a virtual one an entry in the simulator's event queue.

export interface Clock {
  now(): number;
  /** Calls `wake` at (or soon after) time `at`, replacing any earlier request from the same caller. */
  setWake(at: number, wake: () => void): void;
}

/**
 * The longest delay setTimeout takes (2^31 − 1 ms, 24.8 days); a longer one
 * fires after 1 ms, with a warning. A deadline further away is waited for in
 * steps of this.
 */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/** Wall-clock time in ms from `performance.now()`, waking with one `setTimeout`. */
export function realClock(): Clock {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let pending = Infinity;
  let wakeFn: () => void = () => {};
  // A timeout shorter than the wait (a far deadline) arms the next step instead of waking.
  const arm = (): void => {
    const wait = Math.max(0, pending - performance.now());
    const step = Math.min(wait, MAX_TIMEOUT);
    handle = setTimeout(() => {
      handle = undefined;
      if (step < wait) {
        arm();
        return;
      }
      pending = Infinity;
      wakeFn();
    }, step);
    // Timers of an idle stack do not keep a Node process alive.
    (handle as { unref?: () => void }).unref?.();
  };
  return {
    now: () => performance.now(),
    setWake(at, wake) {
      if (at === pending) return;
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
      pending = at;
      wakeFn = wake;
      if (at !== Infinity) arm();
    },
  };
}
