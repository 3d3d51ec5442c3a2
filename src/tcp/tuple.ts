// A table keyed by 4-tuple with numeric hashes: no strings are built per
// packet. Collisions chain in a small array, compared field by field.

import { addrEquals, addrHash, type IpAddr } from '../wire/addr.ts';

export interface Tupled {
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;
}

export function tupleHash(la: IpAddr, lp: number, ra: IpAddr, rp: number): number {
  let h = Math.imul(lp * 65536 + rp, 0x85ebca6b);
  h = addrHash(la, h);
  h = addrHash(ra, h);
  // 30 bits: a small integer (Smi) to V8, so a Map key costs no heap number.
  return h & 0x3fffffff;
}

function matches(t: Tupled, la: IpAddr, lp: number, ra: IpAddr, rp: number): boolean {
  return (
    t.localPort === lp &&
    t.remotePort === rp &&
    addrEquals(t.remoteAddr, ra) &&
    addrEquals(t.localAddr, la)
  );
}

const EMPTY = 0;

/**
 * Open addressing with linear probing over a typed array of hashes (a slot
 * holds hash + 1; 0 is empty) and a parallel array of entries: adding and
 * deleting allocate nothing, unlike a Map that rehashes as it shrinks, and
 * equal hashes are told apart by comparing the 4-tuple. A deletion moves the
 * entries after it back (no tombstones): with tombstones, a table that sees
 * connection after connection come and go fills with them, and every lookup
 * of a tuple not present (each new SYN) probed ~8 slots before an empty one.
 */
export class TupleTable<T extends Tupled> {
  private keys = new Int32Array(16);
  private vals: (T | undefined)[] = new Array(16).fill(undefined);
  private mask = 15;
  size = 0;

  get(la: IpAddr, lp: number, ra: IpAddr, rp: number): T | undefined {
    const key = tupleHash(la, lp, ra, rp) + 1;
    const keys = this.keys;
    for (let i = key & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === EMPTY) return undefined;
      if (k === key) {
        const v = this.vals[i]!;
        if (matches(v, la, lp, ra, rp)) return v;
      }
    }
  }

  /** Adds `t`; false if its 4-tuple is already present. */
  add(t: T): boolean {
    if ((this.size + 1) * 4 > this.keys.length * 3) this.rehash();
    const { localAddr: la, localPort: lp, remoteAddr: ra, remotePort: rp } = t;
    const key = tupleHash(la, lp, ra, rp) + 1;
    let i = key & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === EMPTY) break;
      if (k === key && matches(this.vals[i]!, la, lp, ra, rp)) return false;
    }
    this.keys[i] = key;
    this.vals[i] = t;
    this.size++;
    return true;
  }

  delete(t: T): boolean {
    const key = tupleHash(t.localAddr, t.localPort, t.remoteAddr, t.remotePort) + 1;
    for (let i = key & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === EMPTY) return false;
      if (k === key && this.vals[i] === t) {
        this.removeAt(i);
        this.size--;
        return true;
      }
    }
  }

  /**
   * Empties slot `hole`, then moves back each entry of the run after it that
   * may sit there: one whose home slot (hash & mask) is not cyclically within
   * (hole, j]; a lookup for it would otherwise stop at the empty slot first.
   */
  private removeAt(hole: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j];
      if (k === EMPTY) break;
      const home = k & mask;
      // Distances along the probe sequence: from home to j, and from hole to j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        vals[hole] = vals[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    vals[hole] = undefined;
  }

  /**
   * Twice as large, once 3/4 full: while it grows the table is between 3/8 and
   * 3/4 full (12 bytes a slot, so 16–32 bytes an entry), where linear probing
   * over a typed array still finds an entry in a couple of probes.
   */
  private rehash(): void {
    const cap = this.keys.length * 2;
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Int32Array(cap);
    this.vals = new Array(cap).fill(undefined);
    this.mask = cap - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j];
      if (k === EMPTY) continue;
      let i = k & this.mask;
      while (this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.vals[i] = oldVals[j];
    }
  }

  *values(): IterableIterator<T> {
    for (const v of this.vals) if (v !== undefined) yield v;
  }
}
