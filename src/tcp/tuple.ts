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
  return h;
}

function matches(t: Tupled, la: IpAddr, lp: number, ra: IpAddr, rp: number): boolean {
  return (
    t.localPort === lp &&
    t.remotePort === rp &&
    addrEquals(t.remoteAddr, ra) &&
    addrEquals(t.localAddr, la)
  );
}

export class TupleTable<T extends Tupled> {
  private readonly map = new Map<number, T | T[]>();
  size = 0;

  get(la: IpAddr, lp: number, ra: IpAddr, rp: number): T | undefined {
    const e = this.map.get(tupleHash(la, lp, ra, rp));
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return matches(e, la, lp, ra, rp) ? e : undefined;
    for (const t of e) if (matches(t, la, lp, ra, rp)) return t;
    return undefined;
  }

  /** Adds `t`; false if its 4-tuple is already present. */
  add(t: T): boolean {
    const h = tupleHash(t.localAddr, t.localPort, t.remoteAddr, t.remotePort);
    const e = this.map.get(h);
    if (e === undefined) {
      this.map.set(h, t);
    } else if (Array.isArray(e)) {
      if (e.some((x) => matches(x, t.localAddr, t.localPort, t.remoteAddr, t.remotePort)))
        return false;
      e.push(t);
    } else {
      if (matches(e, t.localAddr, t.localPort, t.remoteAddr, t.remotePort)) return false;
      this.map.set(h, [e, t]);
    }
    this.size++;
    return true;
  }

  delete(t: T): boolean {
    const h = tupleHash(t.localAddr, t.localPort, t.remoteAddr, t.remotePort);
    const e = this.map.get(h);
    if (e === undefined) return false;
    if (!Array.isArray(e)) {
      if (e !== t) return false;
      this.map.delete(h);
    } else {
      const i = e.indexOf(t);
      if (i < 0) return false;
      e.splice(i, 1);
      if (e.length === 1) this.map.set(h, e[0]);
    }
    this.size--;
    return true;
  }

  *values(): IterableIterator<T> {
    for (const e of this.map.values()) {
      if (Array.isArray(e)) yield* e;
      else yield e;
    }
  }
}
