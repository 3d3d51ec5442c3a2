import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tupled, TupleTable } from '../../src/tcp/tuple.ts';
import { parseAddr } from '../../src/wire/addr.ts';

// Few addresses and ports: far more tuples than the table's first 16 slots,
// so entries share home slots and runs wrap around the end of the array.
const ADDRS = ['198.18.0.1', '198.18.0.2', '2001:db8::1'].map((a) => parseAddr(a)!);

interface Entry extends Tupled {
  readonly name: string;
}

const tuple = fc
  .record({
    la: fc.integer({ min: 0, max: 2 }),
    lp: fc.integer({ min: 1, max: 6 }),
    ra: fc.integer({ min: 0, max: 2 }),
    rp: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ la, lp, ra, rp }) => ({ name: `${la}:${lp}-${ra}:${rp}`, la, lp, ra, rp }));

const op = fc.record({ kind: fc.constantFrom('add', 'delete', 'get'), t: tuple });

describe('TupleTable', () => {
  it('agrees with a Map through any sequence of adds, deletes and lookups', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 400, size: 'max' }), (ops) => {
        const table = new TupleTable<Entry>();
        const model = new Map<string, Entry>();
        for (const { kind, t } of ops) {
          const [la, ra] = [ADDRS[t.la], ADDRS[t.ra]];
          if (kind === 'add') {
            const e: Entry = {
              name: t.name,
              localAddr: la,
              localPort: t.lp,
              remoteAddr: ra,
              remotePort: t.rp,
            };
            expect(table.add(e)).toBe(!model.has(t.name));
            if (!model.has(t.name)) model.set(t.name, e);
          } else if (kind === 'delete') {
            const e = model.get(t.name);
            if (e) {
              expect(table.delete(e)).toBe(true);
              model.delete(t.name);
            }
          }
          // After every step, every tuple is found or not as the model says.
          for (const [name, e] of model)
            expect(table.get(e.localAddr, e.localPort, e.remoteAddr, e.remotePort)?.name).toBe(
              name,
            );
          expect(table.get(la, t.lp, ra, t.rp)).toBe(model.get(t.name));
          expect(table.size).toBe(model.size);
        }
        expect([...table.values()].map((e) => e.name).sort()).toEqual([...model.keys()].sort());
      }),
      { numRuns: 40 },
    );
  });

  it('deletes only the entry it is given, not another with the same tuple', () => {
    const table = new TupleTable<Entry>();
    const mk = (name: string): Entry => ({
      name,
      localAddr: ADDRS[0],
      localPort: 80,
      remoteAddr: ADDRS[1],
      remotePort: 4000,
    });
    const a = mk('a');
    table.add(a);
    expect(table.delete(mk('b'))).toBe(false);
    expect(table.get(ADDRS[0], 80, ADDRS[1], 4000)).toBe(a);
  });
});
