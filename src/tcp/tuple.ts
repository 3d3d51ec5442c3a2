// A table keyed by 4-tuple with numeric hashes: no strings are built per
// packet. IPv4 tuples, nearly all of them, are kept as integers beside their
// entries (the remote address, and both ports in one), so a lookup compares
// numbers in typed arrays rather than reading the fields of whatever the table
// holds (connections, TIME-WAIT records, half-open records: to V8 a property
// read across those shapes is a slower, polymorphic one, and a half-open
// record makes its remote address on each read).
//
// The hash is keyed with a secret per table, as Linux keys its connection
// hash (inet_ehashfn): peers choose their ports and addresses, and with a
// hash anyone can compute they could pick tuples that all land in one run of
// slots, making every lookup walk it. Nothing observable depends on the order
// of the slots (the listener forgets its records by arrival when it closes).

import { addrEquals, addrHash, type IpAddr, ipv4Key } from '../wire/addr.ts';
import { cryptoRandom, type Random } from './random.ts';

let secrets: Random | null = null;

/** A secret for a new table, from the platform's CSPRNG. */
function tableSecret(): number {
  if (secrets === null) secrets = cryptoRandom();
  return secrets.u32() | 0;
}

export interface Tupled {
  readonly localAddr: IpAddr;
  readonly localPort: number;
  readonly remoteAddr: IpAddr;
  readonly remotePort: number;
}

export function tupleHash(la: IpAddr, lp: number, ra: IpAddr, rp: number, secret = 0): number {
  let h = Math.imul((lp * 65536 + rp) ^ secret, 0x85ebca6b);
  h = addrHash(la, h);
  h = addrHash(ra, h);
  // 30 bits: a small integer (Smi) to V8, so a Map key costs no heap number.
  return h & 0x3fffffff;
}

/**
 * @internal The hash of an IPv4 tuple from its integers (ipv4Key of each
 * address, ports as local << 16 | remote) under a table's secret.
 */
export function tupleHash4(secret: number, lk: number, rk: number, ports: number): number {
  let h = Math.imul(ports ^ secret, 0x85ebca6b);
  h = Math.imul(h ^ lk, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ rk, 0x9e3779b1);
  return h ^ (h >>> 15);
}

function matches(t: Tupled, la: IpAddr, lp: number, ra: IpAddr, rp: number): boolean {
  return (
    t.localPort === lp &&
    t.remotePort === rp &&
    addrEquals(t.remoteAddr, ra) &&
    addrEquals(t.localAddr, la)
  );
}

/** The local address of an entry whose tuple is IPv4, as its ipv4Key. */
function localKey(t: Tupled): number {
  return ipv4Key(t.localAddr);
}

/**
 * A table of 4-tuples: IPv4 ones in open addressing with linear probing over
 * parallel arrays (entries; remote addresses and ports as integers; a slot is
 * empty when its entry is), the rest in a WideTable made when the first one
 * comes. Adding and deleting allocate nothing, unlike a Map that rehashes as
 * it shrinks. A lookup stops at the first slot whose remote address and ports
 * match, and checks the local address on the entry. A deletion moves the
 * entries after it back (no tombstones): with tombstones, a table that sees
 * connection after connection come and go fills with them, and every lookup
 * of a tuple not present (each new SYN) probed ~8 slots before an empty one.
 */
export class TupleTable<T extends Tupled> {
  private vals: (T | undefined)[] = new Array(16).fill(undefined);
  private remotes = new Int32Array(16);
  private ports = new Int32Array(16);
  private mask = 15;
  private count = 0;
  private wide: WideTable<T> | null = null;

  /** `secret` keys the hash (tests pass one; by default a random one). */
  constructor(private readonly secret = tableSecret()) {}

  get size(): number {
    return this.count + (this.wide === null ? 0 : this.wide.size);
  }

  get(la: IpAddr, lp: number, ra: IpAddr, rp: number): T | undefined {
    if (la.length !== 4 || ra.length !== 4) return this.wide?.get(la, lp, ra, rp);
    const lk = ipv4Key(la);
    const rk = ipv4Key(ra);
    const pp = (lp << 16) | rp;
    const vals = this.vals;
    for (let i = tupleHash4(this.secret, lk, rk, pp) & this.mask; ; i = (i + 1) & this.mask) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (this.ports[i] === pp && this.remotes[i] === rk && localKey(v) === lk) return v;
    }
  }

  /** Adds `t`; false if its 4-tuple is already present. */
  add(t: T): boolean {
    const { localAddr: la, localPort: lp, remoteAddr: ra, remotePort: rp } = t;
    if (la.length !== 4 || ra.length !== 4) return this.addWide(t);
    if ((this.count + 1) * 4 > this.vals.length * 3) this.rehash();
    const lk = ipv4Key(la);
    const rk = ipv4Key(ra);
    const pp = (lp << 16) | rp;
    const vals = this.vals;
    let i = tupleHash4(this.secret, lk, rk, pp) & this.mask;
    for (let v = vals[i]; v !== undefined; v = vals[i]) {
      if (this.ports[i] === pp && this.remotes[i] === rk && localKey(v) === lk) return false;
      i = (i + 1) & this.mask;
    }
    vals[i] = t;
    this.remotes[i] = rk;
    this.ports[i] = pp;
    this.count++;
    return true;
  }

  delete(t: T): boolean {
    if (t.localAddr.length !== 4 || t.remoteAddr.length !== 4) return this.wide?.delete(t) ?? false;
    const vals = this.vals;
    for (let i = this.home(t); ; i = (i + 1) & this.mask) {
      const v = vals[i];
      if (v === undefined) return false;
      if (v === t) {
        this.removeAt(i);
        this.count--;
        return true;
      }
    }
  }

  /** Apart from add (whose IPv4 path V8 should inline): a tuple with an IPv6 side. */
  private addWide(t: T): boolean {
    if (this.wide === null) this.wide = new WideTable<T>(this.secret);
    return this.wide.add(t);
  }

  /** The slot where `t`'s probe sequence starts. */
  private home(t: T): number {
    const pp = (t.localPort << 16) | t.remotePort;
    return tupleHash4(this.secret, localKey(t), ipv4Key(t.remoteAddr), pp) & this.mask;
  }

  /**
   * Empties slot `hole`, then moves back each entry of the run after it that
   * may sit there: one whose home slot is not cyclically within (hole, j]; a
   * lookup for it would otherwise stop at the empty slot first.
   */
  private removeAt(hole: number): void {
    const vals = this.vals;
    const mask = this.mask;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const v = vals[j];
      if (v === undefined) break;
      const home = tupleHash4(this.secret, localKey(v), this.remotes[j], this.ports[j]) & mask;
      // Distances along the probe sequence: from home to j, and from hole to j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        vals[hole] = v;
        this.remotes[hole] = this.remotes[j];
        this.ports[hole] = this.ports[j];
        hole = j;
      }
    }
    vals[hole] = undefined;
  }

  /**
   * Twice as large, once 3/4 full: while it grows the table is between 3/8 and
   * 3/4 full (16 bytes a slot, so 21–43 bytes an entry), where linear probing
   * still finds an entry in a couple of probes.
   */
  private rehash(): void {
    const cap = this.vals.length * 2;
    const oldVals = this.vals;
    const oldRemotes = this.remotes;
    const oldPorts = this.ports;
    this.vals = new Array(cap).fill(undefined);
    this.remotes = new Int32Array(cap);
    this.ports = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldVals.length; j++) {
      const v = oldVals[j];
      if (v === undefined) continue;
      let i = tupleHash4(this.secret, localKey(v), oldRemotes[j], oldPorts[j]) & this.mask;
      while (this.vals[i] !== undefined) i = (i + 1) & this.mask;
      this.vals[i] = v;
      this.remotes[i] = oldRemotes[j];
      this.ports[i] = oldPorts[j];
    }
  }

  *values(): IterableIterator<T> {
    for (const v of this.vals) if (v !== undefined) yield v;
    if (this.wide !== null) yield* this.wide.values();
  }
}

const EMPTY = 0;

/**
 * The tuples that are not IPv4 on both sides, in TupleTable's scheme (linear
 * probing, deletion by moving the run back) over a typed array of hashes (a
 * slot holds hash + 1; 0 is empty) and a parallel array of entries; equal
 * hashes are told apart by comparing the entries' 4-tuples.
 */
class WideTable<T extends Tupled> {
  constructor(private readonly secret: number) {}

  private keys = new Int32Array(16);
  private vals: (T | undefined)[] = new Array(16).fill(undefined);
  private mask = 15;
  size = 0;

  get(la: IpAddr, lp: number, ra: IpAddr, rp: number): T | undefined {
    const key = tupleHash(la, lp, ra, rp, this.secret) + 1;
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
    const key = tupleHash(la, lp, ra, rp, this.secret) + 1;
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
    const key = tupleHash(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, this.secret) + 1;
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
