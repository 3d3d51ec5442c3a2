import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tupled, TupleTable, tupleHash4 } from '../../src/tcp/tuple.ts';
import { ipv4Key, parseAddr } from '../../src/wire/addr.ts';

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
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.array(op, { minLength: 100, maxLength: 400, size: 'max' }),
        (secret, ops) => {
          const table = new TupleTable<Entry>(secret);
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
        },
      ),
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

  it('keys its hash with a secret: tuples chosen to share a slot under one secret spread under another', () => {
    // An attacker who could compute the hash would pick source ports that all
    // start their probe at one slot of a 1,024-slot table, so that each lookup
    // walks a run as long as their number.
    const [server, client] = [ipv4Key(ADDRS[1]), ipv4Key(ADDRS[0])];
    const slot = (secret: number, port: number) =>
      tupleHash4(secret, server, client, (80 << 16) | port) & 1023;
    const chosen: number[] = [];
    for (let port = 1; port < 65536 && chosen.length < 60; port++)
      if (slot(0, port) === slot(0, 1)) chosen.push(port);
    expect(chosen.length).toBe(60);
    expect(new Set(chosen.map((p) => slot(0, p))).size).toBe(1);
    // Under a secret the attacker does not know, they fall into many slots.
    for (const secret of [1, 0x5eed, -123456789])
      expect(new Set(chosen.map((p) => slot(secret, p))).size).toBeGreaterThan(45);
  });

  it('a default table draws its own secret: two tables order the same entries differently', () => {
    const entries: Entry[] = [];
    for (let p = 1; p <= 64; p++)
      entries.push({
        name: String(p),
        localAddr: ADDRS[1],
        localPort: 80,
        remoteAddr: ADDRS[0],
        remotePort: 30000 + p,
      });
    const order = (t: TupleTable<Entry>) => {
      for (const e of entries) t.add(e);
      return [...t.values()].map((e) => e.name).join();
    };
    expect(order(new TupleTable<Entry>(7))).toBe(order(new TupleTable<Entry>(7)));
    expect(order(new TupleTable<Entry>())).not.toBe(order(new TupleTable<Entry>()));
  });
});
