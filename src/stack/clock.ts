// Where a stack's time comes from. The stack keeps one timer queue and asks
// its clock for a single wake-up at the earliest deadline; a real clock holds
// one setTimeout, a virtual one an entry in the simulator's event queue.

export interface Clock {
  now(): number;
  /** Calls `wake` at (or soon after) time `at`, replacing any earlier request from the same caller. */
  setWake(at: number, wake: () => void): void;
}

/** Wall-clock time in ms from `performance.now()`, waking with one `setTimeout`. */
export function realClock(): Clock {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let pending = Number.POSITIVE_INFINITY;
  return {
    now: () => performance.now(),
    setWake(at, wake) {
      if (at === pending) return;
      if (handle !== undefined) clearTimeout(handle);
      pending = at;
      if (at === Number.POSITIVE_INFINITY) {
        handle = undefined;
        return;
      }
      handle = setTimeout(
        () => {
          handle = undefined;
          pending = Number.POSITIVE_INFINITY;
          wake();
        },
        Math.max(0, at - performance.now()),
      );
      // Timers of an idle stack do not keep a Node process alive.
      (handle as { unref?: () => void }).unref?.();
    },
  };
}
