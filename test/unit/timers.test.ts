import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../src/stack/clock.ts';
import { TimerQueue } from '../../src/stack/timers.ts';
import { NO_DEADLINE } from '../../src/tcp/deadline.ts';

interface Owner {
  name: number;
  deadline: number;
  heapIndex: number;
}

type Internals = { at: number[]; items: Owner[] };

// Deadlines are packed (deadline.ts): whole milliseconds, NO_DEADLINE for none.
const NONE = NO_DEADLINE;

// Enough owners for heaps several levels deep (an entry taken out of the
// middle may have to move its replacement up), deadlines from a range small
// enough that entries tie.
const OWNERS = 40;
const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      who: fc.integer({ min: 0, max: OWNERS - 1 }),
      at: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(NONE)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('forget' as const),
      who: fc.integer({ min: 0, max: OWNERS - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('run' as const),
      by: fc.integer({ min: 0, max: 20 }),
    }),
  },
);

/** The first way the heap breaks its invariants, or undefined. */
function violation({ at, items }: Internals, owners: Owner[]): string | undefined {
  for (let i = 1; i < at.length; i++)
    if (at[(i - 1) >> 1] > at[i]) return `entry ${i} earlier than its parent`;
  for (let i = 0; i < items.length; i++)
    if (items[i].heapIndex !== i) return `entry ${i} is not at its owner's heapIndex`;
  for (const t of owners) {
    const i = t.heapIndex;
    if (t.deadline !== NONE && i < 0) return `owner ${t.name} has a deadline and no entry`;
    if (i >= 0 && items[i] !== t) return `owner ${t.name}'s heapIndex names another entry`;
    if (t.deadline !== NONE && i >= 0 && at[i] > t.deadline)
      return `owner ${t.name}'s entry is after its deadline`;
  }
  return undefined;
}

describe('TimerQueue', () => {
  it('fires exactly the owners whose deadline came, through any sequence of changes, forgets and runs', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
        const owners: Owner[] = Array.from({ length: OWNERS }, (_, name) => ({
          name,
          deadline: NONE,
          heapIndex: -1,
        }));
        let fired: number[] = [];
        // An owner that fires is done until it is set again (as a connection's timer).
        const q = new TimerQueue<Owner>((t, now) => {
          expect(t.deadline).toBeLessThanOrEqual(now);
          fired.push(t.name);
          t.deadline = NONE;
        });
        const heap = q as unknown as Internals;
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            // A deadline is never set in the past; the stack's clock only moves on.
            owners[o.who].deadline = o.at === NONE ? NONE : Math.max(o.at, now + 1);
            q.update(owners[o.who]);
          } else if (o.kind === 'forget') {
            // As the stack does for a connection that closed: no deadline, no entry.
            owners[o.who].deadline = NONE;
            q.forget(owners[o.who]);
          } else {
            now += o.by;
            fired = [];
            q.run(now);
            const due = owners.filter((t) => t.deadline !== NONE && t.deadline <= now);
            expect(due).toEqual([]);
            // Each owner fired at most once, and only one whose time had come.
            expect(new Set(fired).size).toBe(fired.length);
          }
          // The heap's order holds, every owner with a deadline has an entry at
          // or before it, and every entry sits at its owner's heapIndex.
          const broken = violation(heap, owners);
          if (broken) expect.fail(`${broken} after ${JSON.stringify(o)}`);
        }
        // Whatever is still set fires once its time comes, and nothing else does.
        const pending = owners.filter((t) => t.deadline !== NONE).map((t) => t.name);
        fired = [];
        q.run(now + 1000);
        expect(fired.sort((a, b) => a - b)).toEqual(pending);
      }),
      { numRuns: 200 },
    );
  });

  it('a forgotten owner leaves the heap at once, and one moved earlier keeps a single entry', () => {
    const q = new TimerQueue<Owner>(() => {});
    const heap = q as unknown as Internals;
    const owners: Owner[] = Array.from({ length: 50 }, (_, name) => ({
      name,
      deadline: 100 + name,
      heapIndex: -1,
    }));
    for (const t of owners) q.update(t);
    for (const t of owners) {
      t.deadline -= 60;
      q.update(t);
    }
    expect(heap.at.length).toBe(50);
    for (const t of owners.slice(0, 40)) {
      t.deadline = NONE;
      expect(q.forget(t)).toBe(true);
      expect(q.forget(t)).toBe(false);
    }
    expect(heap.items.map((t) => t.name).sort((a, b) => a - b)).toEqual(
      owners.slice(40).map((t) => t.name),
    );
  });
});

describe('realClock', () => {
  it('waits out a deadline beyond setTimeout’s range instead of waking at once', async () => {
    const clock = realClock();
    let wakes = 0;
    // 30 days: setTimeout alone would fire after 1 ms, and the stack would ask again, and again.
    clock.setWake(performance.now() + 30 * 86_400_000, () => wakes++);
    await new Promise((r) => setTimeout(r, 60));
    expect(wakes).toBe(0);
    // A near deadline replaces it and still wakes.
    const woke = new Promise<number>((r) => clock.setWake(performance.now() + 5, () => r(++wakes)));
    expect(await woke).toBe(1);
    clock.setWake(Number.POSITIVE_INFINITY, () => wakes++);
  });
});
